/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Save and restore (docs/save.md): the guest's state as the hypervisor's
 * migration stream in a save image (conf/save_image.h) with its
 * definition, written through a descriptor of ours (the hypervisor never
 * opens a path), and a guest started from one. The managed save of a
 * guest is $LITEVIRT_SAVEDIR/NAME.save; `lvsh start` restores from it and
 * removes it. */
#include <libgen.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "conf/save_image.h"
#include "conf/xml.h"
#include "driver-support/migration_ops.h"
#include "supervisor/supervisor.h"
#include "util/fault.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/paths.h"

/* Large guests to slow disks: the stream's own progress is in domjobinfo. */
#define SAVE_TIMEOUT_S    3600
#define RESTORE_TIMEOUT_S 3600

static const struct lv_migration_ops *save_ops(struct supervisor *sv, struct lv_error **err)
{
        const struct lv_migration_ops *ops = sv->driver->migration;
        if (!ops || !ops->save || !ops->restore) {
                lv_error_setf(err, LV_ERR_UNSUPPORTED,
                              "guest '%s': the %s driver cannot save and restore guests",
                              sv->g.name, sv->driver->name);
                return NULL;
        }
        return ops;
}

static int write_at(int fd, const void *data, size_t len, off_t offset)
{
        const char *p = data;
        while (len > 0) {
                ssize_t n = pwrite(fd, p, len, offset);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t)n;
                offset += n;
        }
        return 0;
}

/* The image being written: a temporary file beside the target, renamed
 * over it once complete, removed on any failure. */
struct save_file {
        char *path;
        char *tmp;
        int fd;
};

static void save_file_clear(struct save_file *f)
{
        if (f->fd >= 0)
                close(f->fd);
        if (f->tmp)
                (void)unlink(f->tmp);
        free(f->tmp);
        free(f->path);
}

/* Header "Part", the definition, the stream's offset. */
static int save_file_create(struct save_file *f, const char *xml, struct save_image_header *h,
                            struct lv_error **err)
{
        _cleanup_free_ char *copy = xstrdup(f->path);
        _cleanup_free_ char *base = xstrdup(f->path);
        f->tmp = xasprintf("%s/.%s.XXXXXX", dirname(copy), basename(base));
        f->fd = mkostemp(f->tmp, O_CLOEXEC);
        if (f->fd < 0) {
                int r = lv_error_set(err, errno, "cannot create '%s'", f->tmp);
                free(TAKE_PTR(f->tmp));
                return r;
        }
        unsigned char hdr[SAVE_IMAGE_HEADER_SIZE];
        save_image_header_format(h, hdr);
        int r = fchmod(f->fd, 0600) < 0 ? -errno : 0;
        if (r >= 0)
                r = write_at(f->fd, hdr, sizeof(hdr), 0);
        if (r >= 0)
                r = write_at(f->fd, xml, h->xml_len, SAVE_IMAGE_HEADER_SIZE);
        if (r >= 0 && ftruncate(f->fd, (off_t)h->stream_offset) < 0)
                r = -errno;
        if (r >= 0 && lseek(f->fd, (off_t)h->stream_offset, SEEK_SET) < 0)
                r = -errno;
        if (r < 0)
                return lv_error_set(err, -r, "writing '%s'", f->tmp);
        return 0;
}

/* After the stream: its length and checksum in the header, "Save" last,
 * and the file renamed over the target. */
static int save_file_complete(struct save_file *f, struct save_image_header *h,
                              struct lv_error **err)
{
        struct stat st;
        if (fstat(f->fd, &st) < 0)
                return lv_error_set(err, errno, "'%s'", f->tmp);
        if ((uint64_t)st.st_size <= h->stream_offset)
                return lv_error_setf(err, EIO, "'%s': the hypervisor wrote no stream", f->tmp);
        h->stream_len = (uint64_t)st.st_size - h->stream_offset;
        int r = save_image_hash(f->fd, h->stream_offset, h->stream_len, h->sha256, err);
        if (r < 0)
                return lv_error_prefix(err, "'%s'", f->tmp);
        /* the stream on disk before the header says it is complete */
        if (fsync(f->fd) < 0)
                return lv_error_set(err, errno, "writing '%s'", f->tmp);
        h->complete = true;
        unsigned char hdr[SAVE_IMAGE_HEADER_SIZE];
        save_image_header_format(h, hdr);
        if ((r = write_at(f->fd, hdr, sizeof(hdr), 0)) < 0 || (fsync(f->fd) < 0 && (r = -errno)))
                return lv_error_set(err, -r, "writing '%s'", f->tmp);
        if (rename(f->tmp, f->path) < 0)
                return lv_error_set(err, errno, "renaming '%s' to '%s'", f->tmp, f->path);
        free(TAKE_PTR(f->tmp));
        _cleanup_free_ char *copy = xstrdup(f->path);
        _cleanup_close_ int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void)fsync(dfd);
        return 0;
}

static int save_image_write(struct supervisor *sv, struct save_file *f, bool running,
                            struct lv_error **err);

int supervisor_guest_save(struct supervisor *sv, const char *path, bool managed, int running,
                          struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        if (g->state != GUEST_STATE_RUNNING && g->state != GUEST_STATE_PAUSED)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: guest '%s' is %s", g->name,
                                     guest_state_to_string(g->state));
        if (!save_ops(sv, err))
                return -EOPNOTSUPP;
        _cleanup_(save_file_clear) struct save_file f = {.fd = -1};
        if (managed) {
                _cleanup_free_ char *stored = paths_guest_xml(g->name);
                if (access(stored, F_OK) < 0)
                        return lv_error_setf(err, LV_ERR_STATE,
                                             "Requested operation is not valid: cannot do "
                                             "managed save for transient guest '%s'",
                                             g->name);
                int r = mkdir_p(paths_savedir(), 0700, err);
                if (r < 0)
                        return r;
                f.path = paths_managed_save(g->name);
        } else {
                if (!path || path[0] != '/')
                        return lv_error_setf(err, EINVAL, "save file '%s' is not an absolute path",
                                             path ? path : "");
                f.path = xstrdup(path);
        }
        bool was_running = g->state == GUEST_STATE_RUNNING;
        int r = supervisor_job_begin(sv, JOB_SAVE, "perform", NULL, err);
        if (r < 0)
                return r;
        log_info("saving the guest to '%s'%s", f.path, managed ? " (managed save)" : "");
        /* As libvirt: the CPUs stop first, so the stream is one pass. */
        if (was_running)
                r = sv->driver->suspend(g, err);
        if (r >= 0)
                r = save_image_write(sv, &f, running < 0 ? was_running : running, err);
        supervisor_job_end(sv, JOB_SAVE);
        if (r < 0) {
                lv_error_prefix(err, "guest '%s': saving to '%s'", g->name, f.path);
                log_error("%s", (*err)->message);
                /* The guest goes on as before; the partial file is gone. */
                _cleanup_error_ struct lv_error *re = NULL;
                if (was_running && g->pid > 0 && sv->driver->resume(g, &re) < 0)
                        log_warning("resuming after the failed save: %s", re->message);
                return r;
        }
        return 0;
}

int supervisor_save_image_write(struct supervisor *sv, const char *path, bool running,
                                struct lv_error **err)
{
        _cleanup_(save_file_clear) struct save_file f = {.path = xstrdup(path), .fd = -1};
        return save_image_write(sv, &f, running, err);
}

/* The guest's CPUs are stopped: its definition and state to f->path. */
static int save_image_write(struct supervisor *sv, struct save_file *f, bool running,
                            struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        const struct lv_migration_ops *ops = save_ops(sv, err);
        if (!ops)
                return -EOPNOTSUPP;
        /* Everything the guest runs with, passwords too (as libvirt's
         * save image): the file is 0600. */
        _cleanup_free_ char *xml = domain_format_flags(g->def, 0);
        if (!xml)
                return lv_error_setf(err, LV_ERR_INTERNAL, "guest '%s': formatting its definition",
                                     g->name);
        struct save_image_header h = {
                .version = SAVE_IMAGE_VERSION,
                .xml_len = (uint32_t)strlen(xml),
                .flags = (running ? SAVE_IMAGE_FLAG_RUNNING : 0) |
                         (g->ram_pad ? SAVE_IMAGE_FLAG_RAM_PAD : 0),
        };
        h.stream_offset = save_image_stream_offset(h.xml_len);
        int r = save_file_create(f, xml, &h, err);
        if (r < 0)
                return r;
        r = ops->save(g, f->fd, SAVE_TIMEOUT_S, err);
        if (r >= 0 && fault_point("save-after-stream") < 0)
                r = lv_error_setf(err, EIO, "failure injected after the stream (test)");
        if (r >= 0)
                r = save_file_complete(f, &h, err);
        if (r < 0)
                return r;
        log_info("saved to '%s': %llu bytes of state", f->path,
                 (unsigned long long)(h.stream_offset + h.stream_len));
        return 0;
}

/* ---- restore ---- */

struct save_restore {
        char *path;
        bool managed; /* removed once loaded */
        int running;  /* -1: as the image says */
        int fd;       /* at the stream's offset */
        pid_t hasher; /* checks the stream's checksum meanwhile, or -1 */
        struct save_image_header h;
        struct lv_incoming incoming; /* sv->g.incoming until loaded */
};

void supervisor_restore_free(struct save_restore *rs)
{
        if (!rs)
                return;
        if (rs->hasher > 0) {
                kill(rs->hasher, SIGKILL);
                (void)waitpid(rs->hasher, NULL, 0);
        }
        if (rs->fd >= 0)
                close(rs->fd);
        free(rs->path);
        free(rs);
}

/* virsh restore --xml: the guest of the image with another definition
 * (snapshot-revert: the same guest on new overlays); its name and UUID
 * must be the image's. */
static int definition_replace(const struct conf_xml_ops *x, const char *file, const char *image,
                              struct domain_def **def, struct lv_error **err)
{
        _cleanup_free_ char *xml = NULL;
        size_t len = 0;
        int r = file_read_bounded(file, 1 << 20, &xml, &len, err);
        if (r < 0)
                return r;
        _cleanup_domain_def_ struct domain_def *other = NULL;
        if ((r = x->domain_parse_string(xml, len, file, &other, err)) < 0)
                return r;
        if (!streq(other->name, (*def)->name) || memcmp(other->uuid, (*def)->uuid, 16) != 0)
                return lv_error_setf(err, EINVAL,
                                     "definition '%s' is not of the guest in save image '%s' "
                                     "('%s', another name or UUID)",
                                     file, image, (*def)->name);
        domain_def_free(*def);
        *def = TAKE_PTR(other);
        return 0;
}

int supervisor_restore_begin(struct supervisor *sv, const char *path, const char *name,
                             const char *definition, int running, struct save_restore **ret,
                             struct lv_error **err)
{
        struct save_restore *rs = xcalloc(1, sizeof(*rs));
        rs->fd = -1;
        rs->hasher = -1;
        rs->running = running;
        rs->managed = !path;
        rs->path = path ? xstrdup(path) : paths_managed_save(name);
        *ret = rs;
        _cleanup_free_ char *xml = NULL;
        /* the checksum: supervisor_restore_verify, while QEMU starts */
        int r = save_image_open(rs->path, false, &rs->fd, &rs->h, &xml, err);
        if (r < 0)
                return r;
        const struct conf_xml_ops *x = conf_xml(err);
        if (!x)
                return -ENOENT;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        r = x->domain_parse_string(xml, rs->h.xml_len, rs->path, &def, err);
        if (r < 0)
                return lv_error_prefix(err, "save image '%s'", rs->path);
        if (name && !streq(name, def->name))
                return lv_error_setf(err, EINVAL, "save image '%s' holds guest '%s', not '%s'",
                                     rs->path, def->name, name);
        if (definition && (r = definition_replace(x, definition, rs->path, &def, err)) < 0)
                return r;
        if ((r = supervisor_definition_check_stored(x, def, err)) < 0)
                return r;
        /* the hypervisor starts waiting for the stream (driver.h) */
        rs->incoming = (struct lv_incoming){
                .transport = LV_INCOMING_TCP,
                .tunnel_fd = -1,
                /* the RAM the saved guest ran with (none: an older image) */
                .ram_pad = (rs->h.flags & SAVE_IMAGE_FLAG_RAM_PAD) != 0,
        };
        sv->g.def = TAKE_PTR(def);
        sv->g.name = sv->g.def->name;
        sv->g.incoming = &rs->incoming;
        sv->restoring = true;
        log_set_ident(sv->g.name);
        return 0;
}

/* The stream's SHA-256, in a child: 0 it matches, 1 it does not, 2 it
 * could not be read. */
int supervisor_restore_verify(struct save_restore *rs, struct lv_error **err)
{
        pid_t pid = fork();
        if (pid < 0)
                return lv_error_set(err, errno, "fork");
        if (pid == 0) {
                unsigned char sum[32];
                if (save_image_hash(rs->fd, rs->h.stream_offset, rs->h.stream_len, sum, NULL) < 0)
                        _exit(2);
                _exit(memcmp(sum, rs->h.sha256, sizeof(sum)) ? 1 : 0);
        }
        rs->hasher = pid;
        return 0;
}

static int verify_result(struct save_restore *rs, struct lv_error **err)
{
        int status = 0;
        pid_t pid = rs->hasher;
        rs->hasher = -1;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return lv_error_set(err, errno, "save image '%s': checking it", rs->path);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
                return lv_error_setf(err, EINVAL,
                                     "save image '%s' is damaged: the checksum of its stream does "
                                     "not match",
                                     rs->path);
        return lv_error_setf(err, EIO, "save image '%s': its stream could not be read", rs->path);
}

int supervisor_restore_finish(struct supervisor *sv, struct save_restore *rs, struct lv_error **err)
{
        struct lv_guest *g = &sv->g;
        const struct lv_migration_ops *ops = save_ops(sv, err);
        if (!ops)
                return -EOPNOTSUPP;
        int r = supervisor_job_begin(sv, JOB_RESTORE, "perform", rs, err);
        if (r < 0)
                return r;
        log_info("restoring the guest from '%s'", rs->path);
        r = ops->restore(g, rs->fd, RESTORE_TIMEOUT_S, err);
        if (r < 0)
                lv_error_prefix(err, "guest '%s': restoring from '%s'", g->name, rs->path);
        /* loaded, never run: a stream that is not the one saved ends here */
        if (rs->hasher > 0) {
                _cleanup_error_ struct lv_error *ve = NULL;
                int v = verify_result(rs, &ve);
                if (v < 0) { /* the cause of a failed load too */
                        lv_error_freep(err);
                        *err = TAKE_PTR(ve);
                        r = v;
                }
        }
        /* Its disks are the guest's from here on: as for any start (fresh
         * leases: the saved guest released its own when it ended). */
        g->incoming = NULL;
        if (r >= 0)
                r = supervisor_leases_acquire(sv, NULL, err);
        supervisor_job_end(sv, JOB_RESTORE);
        if (r < 0)
                return r;
        /* A managed save is used once: the guest runs on from it. */
        if (rs->managed && unlink(rs->path) < 0 && errno != ENOENT)
                log_warning("removing the managed save '%s': %s", rs->path, strerror(errno));
        bool run = rs->running < 0 ? (rs->h.flags & SAVE_IMAGE_FLAG_RUNNING) != 0 : rs->running > 0;
        r = run ? sv->driver->resume(g, err) : supervisor_transition(sv, GUEST_EVENT_SUSPEND, err);
        if (r < 0)
                return r;
        log_info("restored from '%s'%s", rs->path, run ? "" : " (paused)");
        return 0;
}
