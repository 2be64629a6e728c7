/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QEMU driver's use of qemu/security.c: the guest's uid, the files
 * given to it (and given back on every way the guest ends), its own
 * directory, what the child confines itself to. See docs/security.md,
 * "QEMU".
 *
 * The files given to a guest are on record in $RUNDIR/qemu-labels/NAME.json
 * (uid, gid, QEMU's pid, the files), flock'd by the supervisor while the
 * guest is its own: outside the guest's state directory, which a later
 * `lvsh` removes when supervisor and QEMU both died, so that the next
 * start of any guest finds a record nobody holds, whose QEMU is gone, and
 * gives those files back. */
#include <dirent.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "conf/host_conf.h"
#include "qemu/driver_priv.h"
#include "qemu/image.h"
#include "qemu/security.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/paths.h"

static void label_add(struct qemu_guest *qg, const struct qemu_label *l)
{
        qg->labels = xrealloc(qg->labels, (size_t)(qg->n_labels + 1) * sizeof(*qg->labels));
        qg->labels[qg->n_labels++] = *l;
}

static void labels_restore(const char *name, struct qemu_label *labels, int n, uid_t uid)
{
        for (int i = n - 1; i >= 0; i--) {
                struct lv_error *e = NULL;
                if (qemu_label_restore(&labels[i], uid, &e) < 0) {
                        log_warning("guest '%s': giving back %s: %s", name, labels[i].path,
                                    e->message);
                        lv_error_free(e);
                }
                qemu_label_clear(&labels[i]);
        }
}

static char *records_dir(void)
{
        return xasprintf("%s/qemu-labels", paths_rundir());
}

static struct json_object *labels_to_json(struct qemu_guest *qg)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "uid", json_object_new_int64(qg->cred.uid));
        json_object_object_add(o, "gid", json_object_new_int64(qg->cred.gid));
        json_object_object_add(o, "pid", json_object_new_int(qg->pid));
        struct json_object *arr = json_object_new_array();
        for (int i = 0; i < qg->n_labels; i++)
                json_object_array_add(arr, qemu_label_to_json(&qg->labels[i]));
        json_object_object_add(o, "labels", arr);
        return o;
}

static int labels_from_json(struct qemu_guest *qg, struct json_object *o)
{
        struct json_object *u, *gr, *arr, *p;
        if (!json_object_object_get_ex(o, "uid", &u) || !json_object_object_get_ex(o, "gid", &gr))
                return -EINVAL;
        int64_t uid = json_object_get_int64(u), gid = json_object_get_int64(gr);
        if (uid <= 0 || gid <= 0 || uid > 4294967293LL || gid > 4294967293LL)
                return -EINVAL;
        qg->cred.uid = (uid_t)uid;
        qg->cred.gid = (gid_t)gid;
        if (json_object_object_get_ex(o, "pid", &p))
                qg->pid = json_object_get_int(p);
        if (json_object_object_get_ex(o, "labels", &arr) &&
            json_object_is_type(arr, json_type_array))
                for (size_t i = 0; i < json_object_array_length(arr); i++) {
                        struct qemu_label l;
                        if (qemu_label_from_json(json_object_array_get_idx(arr, i), &l) == 0)
                                label_add(qg, &l);
                }
        return 0;
}

/* Rewrite the record in place (the lock is on this inode). Best effort:
 * logged; it only matters if supervisor and QEMU both die. */
static void record_write(const char *name, struct qemu_guest *qg)
{
        if (qg->record_fd < 0)
                return;
        struct json_object *o = labels_to_json(qg);
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        size_t len = strlen(text);
        if (ftruncate(qg->record_fd, 0) < 0 || pwrite(qg->record_fd, text, len, 0) != (ssize_t)len)
                log_warning("guest '%s': recording the files given to QEMU: %s", name,
                            strerror(errno));
        json_object_put(o);
}

/* Open and lock NAME's record: 1 locked (*ret_fd), 0 held by another, <0 error. */
static int record_open(const char *name, int *ret_fd, struct lv_error **err)
{
        _cleanup_free_ char *dir = records_dir();
        int r = mkdir_p(dir, 0700, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = xasprintf("%s/%s.json", dir, name);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return lv_error_set(err, errno, "'%s'", path);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 0 : lv_error_set(err, errno, "'%s': flock", path);
        *ret_fd = TAKE_FD(fd);
        return 1;
}

static int record_read(int fd, struct qemu_guest *qg)
{
        char buf[65536];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
                return n == 0 ? 0 : -errno;
        buf[n] = '\0';
        struct json_object *o = json_tokener_parse(buf);
        int r = o ? labels_from_json(qg, o) : -EINVAL;
        json_object_put(o);
        return r;
}

static void record_remove(const char *name, struct qemu_guest *qg)
{
        if (qg->record_fd < 0)
                return;
        _cleanup_free_ char *dir = records_dir();
        _cleanup_free_ char *path = xasprintf("%s/%s.json", dir, name);
        unlink(path); /* while locked: nobody reads it meanwhile */
        close(qg->record_fd);
        qg->record_fd = -1;
}

/* Records nobody holds whose QEMU is gone: give their files back. A
 * record whose QEMU still runs waits for its reattach. */
static void sweep_records(void)
{
        _cleanup_free_ char *dir = records_dir();
        DIR *d = opendir(dir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (len <= 5 || !streq(de->d_name + len - 5, ".json"))
                        continue;
                _cleanup_free_ char *name = xstrndup(de->d_name, len - 5);
                struct qemu_guest stale = {.record_fd = -1};
                if (record_open(name, &stale.record_fd, NULL) <= 0)
                        continue;
                int r = record_read(stale.record_fd, &stale);
                if (r == 0 && !(stale.pid > 0 && qemu_process_is_guest(stale.pid, name))) {
                        if (stale.n_labels > 0)
                                log_warning("giving back the files of guest '%s' (uid %u), whose "
                                            "supervisor and QEMU died",
                                            name, (unsigned)stale.cred.uid);
                        labels_restore(name, stale.labels, stale.n_labels, stale.cred.uid);
                        record_remove(name, &stale);
                } else if (r < 0) {
                        log_warning("%s/%s: malformed, left alone", dir, de->d_name);
                }
                free(stale.labels);
                if (stale.record_fd >= 0)
                        close(stale.record_fd);
        }
        closedir(d);
}

/* Has QEMU ended? When we killed it (a failed start), give it a moment. */
static bool qemu_gone(struct qemu_guest *qg)
{
        if (qg->label_pidfd < 0)
                return true;
        struct pollfd p = {qg->label_pidfd, POLLIN, 0};
        return poll(&p, 1, qg->reattached ? 0 : 10000) == 1;
}

static void undo_labels(struct lv_guest *g, void *data)
{
        struct qemu_guest *qg = data;
        if (!qemu_gone(qg)) {
                /* a failed reattach: QEMU runs on with its files */
                log_warning("guest '%s': QEMU %d still runs: its files stay its own", g->name,
                            (int)qg->pid);
        } else {
                labels_restore(g->name, qg->labels, qg->n_labels, qg->cred.uid);
                record_remove(g->name, qg);
        }
        if (qg->record_fd >= 0)
                close(qg->record_fd);
        qg->record_fd = -1;
        free(qg->labels);
        qg->labels = NULL;
        qg->n_labels = 0;
        if (qg->label_pidfd >= 0)
                close(qg->label_pidfd);
        qg->label_pidfd = -1;
}

static void undo_cred(struct lv_guest *g, void *data)
{
        struct qemu_guest *qg = data;
        qemu_cred_release(&qg->cred);
}

static void undo_home(struct lv_guest *g, void *data)
{
        struct qemu_guest *qg = data;
        if (!qemu_gone(qg))
                return;
        _cleanup_free_ char *home = paths_state_file(g->name, "qemu");
        struct lv_error *e = NULL;
        if (rm_rf(home, &e) < 0) {
                log_warning("guest '%s': %s", g->name, e->message);
                lv_error_free(e);
        }
}

static int grant(struct lv_guest *g, struct qemu_guest *qg, const char *path,
                 enum qemu_label_kind kind, struct lv_error **err)
{
        struct qemu_label l = {0};
        int r = qemu_label_grant(path, kind, qg->cred.uid, qg->cred.gid, &l, err);
        if (r < 0)
                return r; /* the core names the guest */
        if (l.path) {
                label_add(qg, &l);
                record_write(g->name, qg);
        }
        return 0;
}

static enum qemu_label_kind disk_kind(const struct domain_disk *d)
{
        if (d->readonly || d->device == DOMAIN_DISK_DEVICE_CDROM)
                return QEMU_LABEL_READ;
        return d->shareable ? QEMU_LABEL_SHARE : QEMU_LABEL_OWN;
}

int qemu_confine_prepare(struct lv_guest *g, struct qemu_guest *qg, struct lv_error **err)
{
        const struct domain_def *def = g->def;
        qg->label_pidfd = -1;
        qg->record_fd = -1;
        qg->cred.lease_fd = -1;
        sweep_records();
        int r = qemu_cred_take(def->uuid, &qg->cred, err);
        if (r < 0)
                return r;
        guest_undo_push(g, "QEMU uid", undo_cred, qg, NULL);
        log_info("QEMU runs as uid %u gid %u", (unsigned)qg->cred.uid, (unsigned)qg->cred.gid);

        _cleanup_free_ char *home = paths_state_file(g->name, "qemu");
        (void)rm_rf(home, NULL);
        if (mkdir(home, 0700) < 0 || chown(home, qg->cred.uid, qg->cred.gid) < 0)
                return lv_error_set(err, errno, "QEMU's directory '%s'", home);
        guest_undo_push(g, "QEMU's directory", undo_home, qg, NULL);

        /* before the process: runs after it is gone */
        if ((r = record_open(g->name, &qg->record_fd, err)) <= 0)
                return r < 0 ? r : lv_error_setf(err, EBUSY, "its label record is held");
        guest_undo_push(g, "files given to QEMU", undo_labels, qg, NULL);
        record_write(g->name, qg);
        const char *boot[] = {def->os.kernel, def->os.initrd, def->os.loader};
        for (size_t i = 0; i < ARRAY_SIZE(boot); i++)
                if (boot[i] && (r = grant(g, qg, boot[i], QEMU_LABEL_READ, err)) < 0)
                        return r;
        for (int i = 0; i < def->n_disks; i++) {
                const struct domain_disk *d = &def->disks[i];
                if (d->source && (r = grant(g, qg, d->source, disk_kind(d), err)) < 0)
                        return r;
                /* an overlay's image: QEMU opens it read-only by itself */
                if (d->backing_source &&
                    (r = grant(g, qg, d->backing_source, QEMU_LABEL_READ, err)) < 0)
                        return r;
                /* and the images under it (the model keeps one level) */
                _cleanup_strv_free_ char **chain =
                        d->backing_source ? qemu_image_backing_chain(d->backing_source) : NULL;
                for (char **b = chain; b && *b; b++)
                        if ((r = grant(g, qg, *b, QEMU_LABEL_READ, err)) < 0)
                                return r;
        }
        /* UEFI variables: QEMU writes them */
        if (def->os.nvram && (r = grant(g, qg, def->os.nvram, QEMU_LABEL_OWN, err)) < 0)
                return r;
        return 0;
}

int qemu_confine_grant_overlay(struct lv_guest *g, struct qemu_guest *qg, const char *path,
                               struct lv_error **err)
{
        return grant(g, qg, path, QEMU_LABEL_OWN, err);
}

int qemu_confine_grant_read(struct lv_guest *g, struct qemu_guest *qg, const char *path,
                            struct lv_error **err)
{
        return grant(g, qg, path, QEMU_LABEL_READ, err);
}

void qemu_confine_forget_overlay(struct lv_guest *g, struct qemu_guest *qg, const char *path)
{
        for (int i = 0; i < qg->n_labels; i++) {
                if (!streq(qg->labels[i].path, path))
                        continue;
                labels_restore(g->name, &qg->labels[i], 1, qg->cred.uid); /* and clears it */
                qg->labels[i] = qg->labels[--qg->n_labels];
                record_write(g->name, qg);
                return;
        }
}

void qemu_confine_spawned(struct lv_guest *g, struct qemu_guest *qg, int pidfd)
{
        qg->label_pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
        record_write(g->name, qg); /* with QEMU's pid, before it may run */
}

int qemu_confine_build(struct lv_guest *g, struct qemu_guest *qg, struct qemu_confine *ret)
{
        const struct domain_def *def = g->def;
        struct stat st;
        struct qemu_confine c = {
                .uid = qg->cred.uid,
                .gid = qg->cred.gid,
                .kvm_gid = (gid_t)-1,
                .home = paths_state_file(g->name, "qemu"),
        };
        if (def->type == DOMAIN_TYPE_KVM && stat("/dev/kvm", &st) == 0 && st.st_gid != 0)
                c.kvm_gid = st.st_gid;
        const char *boot[] = {def->os.kernel, def->os.initrd, def->os.loader};
        for (size_t i = 0; i < ARRAY_SIZE(boot); i++)
                if (boot[i])
                        strv_push(&c.readable, xstrdup(boot[i]));
        for (int i = 0; i < def->n_disks; i++) {
                const char *s = def->disks[i].source;
                if (def->disks[i].backing_source) {
                        strv_push(&c.readable, xstrdup(def->disks[i].backing_source));
                        char **chain = qemu_image_backing_chain(def->disks[i].backing_source);
                        for (char **b = chain; *b; b++)
                                strv_push(&c.readable, *b);
                        free(chain);
                }
                if (!s)
                        continue;
                if (disk_kind(&def->disks[i]) == QEMU_LABEL_READ)
                        strv_push(&c.readable, xstrdup(s));
                else if (stat(s, &st) == 0 && S_ISREG(st.st_mode))
                        strv_push(&c.writable, xstrdup(s)); /* device nodes: /dev is private */
        }
        if (def->os.nvram)
                strv_push(&c.writable, xstrdup(def->os.nvram));
        struct host_conf hc;
        host_conf_init(&hc);
        struct lv_error *e = NULL;
        if (host_conf_load(NULL, &hc, &e) < 0)
                lv_error_free(e); /* the start read it already */
        const char *masked[] = {paths_confdir(), paths_guestdir(), paths_logdir(), hc.lockspace_dir,
                                paths_rundir()};
        for (size_t i = 0; i < ARRAY_SIZE(masked); i++)
                if (masked[i])
                        strv_push(&c.masked, xstrdup(masked[i]));
        host_conf_clear(&hc);
        c.env = qemu_confine_env(c.home);
        *ret = c;
        return 0;
}

void qemu_confine_clear(struct qemu_confine *c)
{
        free((char *)c->home);
        strv_free(c->writable);
        strv_free(c->readable);
        strv_free(c->masked);
        strv_free(c->env);
        *c = (struct qemu_confine){0};
}

void qemu_confine_to_json(struct qemu_guest *qg, struct json_object *o)
{
        json_object_object_add(o, "uid", json_object_new_int64(qg->cred.uid));
        json_object_object_add(o, "gid", json_object_new_int64(qg->cred.gid));
}

int qemu_confine_reattach(struct lv_guest *g, struct qemu_guest *qg, int pidfd,
                          struct lv_error **err)
{
        qg->label_pidfd = -1;
        qg->cred.lease_fd = -1;
        qg->record_fd = -1;
        qg->reattached = true;
        int r = record_open(g->name, &qg->record_fd, err);
        if (r == 0)
                r = lv_error_setf(err, EBUSY, "guest '%s': its label record is held", g->name);
        if (r < 0)
                return lv_error_prefix(err, "cannot reattach");
        pid_t pid = qg->pid;
        if ((r = record_read(qg->record_fd, qg)) < 0 || qg->pid != pid) {
                close(qg->record_fd);
                qg->record_fd = -1;
                return lv_error_setf(err, EINVAL,
                                     "cannot reattach: the label record of guest '%s' does not "
                                     "name QEMU %d",
                                     g->name, (int)pid);
        }
        qg->label_pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
        guest_undo_push(g, "files given to QEMU", undo_labels, qg, NULL);
        /* QEMU holds its uid: nobody else takes it meanwhile (uid_busy) */
        if ((r = qemu_cred_retake(qg->cred.uid, qg->cred.gid, &qg->cred, err)) < 0)
                return lv_error_prefix(err, "cannot reattach");
        guest_undo_push(g, "QEMU uid", undo_cred, qg, NULL);
        guest_undo_push(g, "QEMU's directory", undo_home, qg, NULL);
        return 0;
}
