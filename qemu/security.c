/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QEMU's uid, DAC labels and confinement. See qemu/security.h. */
#include "qemu/security.h"

#include <grp.h>
#include <json-c/json.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "conf/host_conf.h"
#include "qemu/ports.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/paths.h"

/* ---- the uid ---- */

static char *uids_dir(void)
{
        return xasprintf("%s/qemu-uids", paths_rundir());
}

static int probe_grandchild(void *arg)
{
        (void)arg;
        return 0;
}

/* The probe (a CLONE_VM|CLONE_VFORK child: it shares our memory while we
 * wait, so raw syscalls only, no glibc state changed): 0 when it could
 * fork as uid n with RLIMIT_NPROC 2, 1 when that failed with EAGAIN. */
static int probe_child(void *arg)
{
        const unsigned long n = *(const unsigned long *)arg;
        struct rlimit two = {2, 2};
        if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, n, n, n) < 0 ||
            syscall(SYS_setresuid, n, n, n) < 0 ||
            syscall(SYS_prlimit64, 0, RLIMIT_NPROC, &two, NULL) < 0)
                return 3;
        char stack[4096] __attribute__((aligned(16)));
        pid_t c = clone(probe_grandchild, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD,
                        NULL);
        if (c < 0)
                return errno == EAGAIN ? 1 : 3;
        while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
                ;
        return 0;
}

/* 1 when a process runs with n as its real uid: a QEMU whose supervisor
 * died (its lease went with it), or one of another litevirt instance with
 * other lease files, still owns its uid. O(1) whatever the number of
 * processes on the host (a /proc scan cost 2-3 ms at 130 processes): the
 * kernel counts the tasks of each real uid for RLIMIT_NPROC. A probe child
 * takes uid n (dropping every capability, so the limit applies to it) with
 * RLIMIT_NPROC 2 and forks: the fork fails (EAGAIN) exactly when another
 * task of uid n exists besides the probe. QEMU runs with uid n as its real
 * uid and in the host's user namespace (the count is per user namespace).
 * vfork-like children: no page tables copied, each runs at once on our
 * CPU while its parent waits (~0.1 ms against ~1 ms for two fork()s); their
 * stacks are small arrays on ours (a 64 KiB one cost ~30 KiB of resident
 * supervisor stack). */
static int uid_busy(unsigned long n, const void *arg, struct lv_error **err)
{
        (void)arg;
        char stack[16384] __attribute__((aligned(16)));
        pid_t pid = clone(probe_child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &n);
        if (pid < 0)
                return lv_error_set(err, errno, "QEMU uid %lu: clone", n);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return lv_error_set(err, errno, "QEMU uid %lu: waitpid", n);
        if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
                return lv_error_setf(err, LV_ERR_INTERNAL,
                                     "QEMU uid %lu: cannot check whether a process uses it", n);
        return WEXITSTATUS(status);
}

int qemu_cred_take(const unsigned char uuid[16], struct qemu_cred *ret, struct lv_error **err)
{
        _cleanup_free_ char *dir = uids_dir();
        struct host_conf hc;
        host_conf_init(&hc);
        int r = host_conf_load(NULL, &hc, err);
        if (r < 0)
                goto out;
        if (hc.qemu_user) {
                struct passwd pw, *res = NULL;
                char buf[4096];
                errno = getpwnam_r(hc.qemu_user, &pw, buf, sizeof(buf), &res);
                if (!res) {
                        r = lv_error_setf(err, errno ? errno : ENOENT,
                                          "qemu_user '%s' (host.conf): no such user", hc.qemu_user);
                        goto out;
                }
                if (pw.pw_uid == 0 || pw.pw_gid == 0) {
                        r = lv_error_setf(err, EPERM, "qemu_user '%s' (host.conf) is root",
                                          hc.qemu_user);
                        goto out;
                }
                *ret = (struct qemu_cred){pw.pw_uid, pw.pw_gid, -1};
                goto out;
        }
        /* The search starts at a place given by the guest's uuid, not at
         * the range's start: a guest mostly gets the same uid each time
         * and the first one tried is free, instead of one lease (and one
         * uid_busy probe for each uid a process of another holder still
         * has) per uid below it, which grew with the guests running. */
        unsigned long h = 0;
        for (int i = 0; i < 16; i++)
                h = h * 131 + uuid[i];
        unsigned long uid, first = hc.qemu_uid_min + h % (hc.qemu_uid_max - hc.qemu_uid_min + 1UL);
        int fd = -1;
        r = lease_reserve(dir, "QEMU uid", hc.qemu_uid_min, hc.qemu_uid_max, first, uid_busy, NULL,
                          &uid, &fd, err);
        if (r < 0)
                goto out;
        *ret = (struct qemu_cred){(uid_t)uid, (gid_t)uid, fd};
out:
        host_conf_clear(&hc);
        return r;
}

int qemu_cred_retake(uid_t uid, gid_t gid, struct qemu_cred *ret, struct lv_error **err)
{
        struct host_conf hc;
        host_conf_init(&hc);
        int r = host_conf_load(NULL, &hc, err);
        bool ranged = r == 0 && !hc.qemu_user && uid >= hc.qemu_uid_min && uid <= hc.qemu_uid_max;
        host_conf_clear(&hc);
        if (r < 0)
                return r;
        int fd = -1;
        _cleanup_free_ char *dir = uids_dir();
        if (ranged && (r = lease_reserve_exact(dir, "QEMU uid", uid, NULL, NULL, &fd, err)) < 0)
                return r;
        *ret = (struct qemu_cred){uid, gid, fd};
        return 0;
}

void qemu_cred_release(struct qemu_cred *c)
{
        if (c->lease_fd >= 0)
                close(c->lease_fd);
        c->lease_fd = -1;
}

/* ---- DAC labels ---- */

#define XATTR_DAC      "trusted.litevirt.dac"     /* "UID:GID:MODE(octal)" before us */
#define XATTR_DAC_REF  "trusted.litevirt.dac_ref" /* guests using the file */
#define XATTR_ACL_PREF "trusted.litevirt.acl."    /* + UID: guests of that uid using it */

static bool no_xattrs(int e)
{
        return e == ENOTSUP || e == EOPNOTSUPP;
}

static int xattr_get(int fd, const char *name, char *buf, size_t size)
{
        ssize_t n = fgetxattr(fd, name, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

static int xattr_set(int fd, const char *name, const char *fmt, ...) _printf_(3, 4);
static int xattr_set(int fd, const char *name, const char *fmt, ...)
{
        char buf[64];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return fsetxattr(fd, name, buf, strlen(buf), 0) < 0 ? -errno : 0;
}

/* POSIX ACLs as the kernel stores them (system.posix_acl_access). */
#define ACL_VERSION   2
#define ACL_USER_OBJ  0x01
#define ACL_USER      0x02
#define ACL_GROUP_OBJ 0x04
#define ACL_GROUP     0x08
#define ACL_MASK      0x10
#define ACL_OTHER     0x20
#define ACL_NO_ID     0xffffffffU
#define ACL_MAX       64

struct acl_entry {
        uint16_t tag, perm;
        uint32_t id;
} __attribute__((packed));

struct acl {
        int n;
        struct acl_entry e[ACL_MAX];
};

static int acl_read(int fd, mode_t mode, struct acl *a)
{
        unsigned char buf[4 + ACL_MAX * 8];
        ssize_t n = fgetxattr(fd, "system.posix_acl_access", buf, sizeof(buf));
        a->n = 0;
        if (n < 0 && errno != ENODATA)
                return -errno;
        if (n < 0) { /* the mode as an ACL */
                a->e[a->n++] = (struct acl_entry){ACL_USER_OBJ, (mode >> 6) & 7, ACL_NO_ID};
                a->e[a->n++] = (struct acl_entry){ACL_GROUP_OBJ, (mode >> 3) & 7, ACL_NO_ID};
                a->e[a->n++] = (struct acl_entry){ACL_OTHER, mode & 7, ACL_NO_ID};
                return 0;
        }
        uint32_t version;
        memcpy(&version, buf, 4);
        if (n < 4 || (n - 4) % 8 || version != ACL_VERSION)
                return -EINVAL;
        a->n = (int)(n - 4) / 8;
        memcpy(a->e, buf + 4, (size_t)a->n * 8);
        return 0;
}

static int acl_cmp(const void *x, const void *y)
{
        const struct acl_entry *a = x, *b = y;
        if (a->tag != b->tag)
                return a->tag < b->tag ? -1 : 1;
        return a->id < b->id ? -1 : a->id > b->id;
}

static int acl_write(int fd, struct acl *a)
{
        qsort(a->e, (size_t)a->n, sizeof(a->e[0]), acl_cmp);
        unsigned char buf[4 + ACL_MAX * 8];
        uint32_t version = ACL_VERSION;
        memcpy(buf, &version, 4);
        memcpy(buf + 4, a->e, (size_t)a->n * 8);
        return fsetxattr(fd, "system.posix_acl_access", buf, 4 + (size_t)a->n * 8, 0) < 0 ? -errno
                                                                                          : 0;
}

static struct acl_entry *acl_find(struct acl *a, uint16_t tag, uint32_t id)
{
        for (int i = 0; i < a->n; i++)
                if (a->e[i].tag == tag && (id == ACL_NO_ID || a->e[i].id == id))
                        return &a->e[i];
        return NULL;
}

static void acl_remove(struct acl *a, struct acl_entry *e)
{
        int i = (int)(e - a->e);
        memmove(&a->e[i], &a->e[i + 1], (size_t)(a->n - i - 1) * sizeof(*e));
        a->n--;
}

static int label_open(const char *path, struct stat *st, struct lv_error **err)
{
        /* fd-based from here on: what we change is what we looked at */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return lv_error_set(err, errno, "'%s'", path);
        if (fstat(fd, st) < 0) {
                int r = lv_error_set(err, errno, "'%s'", path);
                close(fd);
                return r;
        }
        if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode)) {
                close(fd);
                return lv_error_setf(err, EINVAL,
                                     "'%s' is neither a regular file nor a block device", path);
        }
        return fd;
}

/* The mask as setfacl computes it: the group class's union. */
static void acl_mask_update(struct acl *a)
{
        struct acl_entry *mask = acl_find(a, ACL_MASK, ACL_NO_ID);
        uint16_t perm = acl_find(a, ACL_GROUP_OBJ, ACL_NO_ID)->perm;
        bool named = false;
        for (int i = 0; i < a->n; i++)
                if (a->e[i].tag == ACL_USER || a->e[i].tag == ACL_GROUP) {
                        perm |= a->e[i].perm;
                        named = true;
                }
        if (!named) { /* a minimal ACL: the kernel turns it back into the mode */
                if (mask)
                        acl_remove(a, mask);
        } else if (mask) {
                mask->perm = perm;
        } else {
                a->e[a->n++] = (struct acl_entry){ACL_MASK, perm, ACL_NO_ID};
        }
}

/* An ACL entry u:UID:perm, counted in trusted.litevirt.acl.UID. */
static int acl_entry_add(int fd, const char *path, const struct stat *st, uint16_t perm, uid_t uid,
                         struct lv_error **err)
{
        char name[64], buf[64];
        snprintf(name, sizeof(name), XATTR_ACL_PREF "%u", (unsigned)uid);
        struct acl a;
        int r = acl_read(fd, st->st_mode, &a);
        if (r < 0)
                goto fail;
        struct acl_entry *e = acl_find(&a, ACL_USER, uid);
        int refs = 0;
        if (e && xattr_get(fd, name, buf, sizeof(buf)) == 0 && sscanf(buf, "%d", &refs) == 1 &&
            (e->perm & perm) == perm) { /* ours, from another guest with this uid */
                r = xattr_set(fd, name, "%d", refs + 1);
                return r < 0 ? lv_error_set(err, -r, "'%s': %s", path, name) : 1;
        }
        if (e && (e->perm & perm) == perm)
                return 0; /* the administrator's own entry */
        if (e || a.n + 2 > ACL_MAX)
                return lv_error_setf(err, EEXIST,
                                     "'%s': its ACL already has an entry for uid %u without the "
                                     "access QEMU needs (or is full)",
                                     path, (unsigned)uid);
        if ((r = xattr_set(fd, name, "1")) < 0)
                goto fail;
        a.e[a.n++] = (struct acl_entry){ACL_USER, perm, uid};
        acl_mask_update(&a);
        if ((r = acl_write(fd, &a)) < 0) {
                (void)fremovexattr(fd, name);
                goto fail;
        }
        return 1;
fail:
        if (no_xattrs(-r))
                return lv_error_setf(err, -r,
                                     "'%s': cannot grant uid %u %s access: its file system has no "
                                     "ACLs or xattrs (make it %s by all users)",
                                     path, (unsigned)uid, perm & 2 ? "read-write" : "read",
                                     perm & 2 ? "writable" : "readable");
        return lv_error_set(err, -r, "'%s': granting uid %u access (ACL)", path, (unsigned)uid);
}

static int acl_grant(int fd, const char *path, const struct stat *st, uint16_t perm, uid_t uid,
                     struct lv_error **err)
{
        if ((st->st_mode & perm) == perm)
                return 0; /* every user has it already */
        return acl_entry_add(fd, path, st, perm, uid, err);
}

static int acl_restore(int fd, const char *path, uid_t uid, struct lv_error **err)
{
        char name[64], buf[64];
        snprintf(name, sizeof(name), XATTR_ACL_PREF "%u", (unsigned)uid);
        int refs = 0, r = xattr_get(fd, name, buf, sizeof(buf));
        if (r < 0 || sscanf(buf, "%d", &refs) != 1)
                return lv_error_set(err, r < 0 ? -r : EINVAL, "'%s': %s", path, name);
        if (refs > 1)
                return xattr_set(fd, name, "%d", refs - 1) < 0
                               ? lv_error_set(err, errno, "'%s': %s", path, name)
                               : 0;
        struct stat st;
        struct acl a;
        if (fstat(fd, &st) < 0 || (r = acl_read(fd, st.st_mode, &a)) < 0)
                return lv_error_set(err, r < 0 ? -r : errno, "'%s': reading its ACL", path);
        struct acl_entry *e = acl_find(&a, ACL_USER, uid);
        if (e)
                acl_remove(&a, e);
        acl_mask_update(&a);
        if ((r = acl_write(fd, &a)) < 0)
                return lv_error_set(err, -r, "'%s': restoring its ACL", path);
        (void)fremovexattr(fd, name);
        return 0;
}

/* Another uid that uses the file through an entry of ours, or 0. */
static uid_t acl_other_user(int fd, uid_t not )
{
        struct stat st;
        struct acl a;
        if (fstat(fd, &st) < 0 || acl_read(fd, st.st_mode, &a) < 0)
                return 0;
        for (int i = 0; i < a.n; i++) {
                char name[64], buf[32];
                snprintf(name, sizeof(name), XATTR_ACL_PREF "%u", a.e[i].id);
                if (a.e[i].tag == ACL_USER &&
                    a.e[i].id != not &&xattr_get(fd, name, buf, sizeof(buf)) == 0)
                        return a.e[i].id;
        }
        return 0;
}

/* A writable disk is its guest's alone, except while a migration on shared
 * storage runs two QEMUs: the newest owns it, the others keep read-write
 * access through an ACL entry (QEMU reopens its images by path, e.g.
 * read-only at the switch-over). */
static int own_grant(int fd, const char *path, const struct stat *st, uid_t uid, gid_t gid,
                     struct qemu_label *ret, struct lv_error **err)
{
        char buf[64];
        int refs = 0, r = xattr_get(fd, XATTR_DAC, buf, sizeof(buf));
        if (r == 0) { /* in use by another guest */
                char rb[32];
                if (xattr_get(fd, XATTR_DAC_REF, rb, sizeof(rb)) == 0)
                        refs = atoi(rb);
                if (st->st_uid != uid) {
                        if ((r = acl_entry_add(fd, path, st, 6, st->st_uid, err)) < 0)
                                return r;
                        /* no chmod: with an ACL it would set the mask */
                        if (fchown(fd, uid, gid) < 0)
                                return lv_error_set(err, errno, "'%s': giving it to uid %u", path,
                                                    (unsigned)uid);
                }
                if ((r = xattr_set(fd, XATTR_DAC_REF, "%d", refs + 1)) < 0)
                        return lv_error_set(err, -r, "'%s': " XATTR_DAC_REF, path);
                return 1;
        }
        if (r == -ENODATA) {
                r = xattr_set(fd, XATTR_DAC, "%u:%u:%o", (unsigned)st->st_uid, (unsigned)st->st_gid,
                              (unsigned)(st->st_mode & 07777));
                if (r == 0)
                        r = xattr_set(fd, XATTR_DAC_REF, "1");
        }
        if (r < 0 && !no_xattrs(-r))
                return lv_error_set(err, -r, "'%s': remembering its owner", path);
        ret->in_state = r < 0; /* no xattrs here: the guest's state remembers */
        ret->orig_uid = st->st_uid;
        ret->orig_gid = st->st_gid;
        ret->orig_mode = st->st_mode & 07777;
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, 0600) < 0)
                return lv_error_set(err, errno, "'%s': giving it to uid %u", path, (unsigned)uid);
        return 1;
}

static int own_restore(int fd, const struct qemu_label *l, uid_t uid, struct lv_error **err)
{
        uid_t ou = l->orig_uid;
        gid_t og = l->orig_gid;
        mode_t om = l->orig_mode;
        if (!l->in_state) {
                char buf[64], rb[32];
                int r = xattr_get(fd, XATTR_DAC, buf, sizeof(buf));
                if (r < 0)
                        return lv_error_set(err, -r, "'%s': its original owner (" XATTR_DAC ")",
                                            l->path);
                int refs = xattr_get(fd, XATTR_DAC_REF, rb, sizeof(rb)) == 0 ? atoi(rb) : 1;
                if (refs > 1) { /* another guest still uses it */
                        struct stat st;
                        uid_t other;
                        if (fstat(fd, &st) == 0 && st.st_uid == uid &&
                            (other = acl_other_user(fd, uid)) != 0) {
                                /* it is theirs now (their gid is their uid's number) */
                                if (fchown(fd, other, other) < 0)
                                        return lv_error_set(err, errno, "'%s': giving it to uid %u",
                                                            l->path, (unsigned)other);
                                r = acl_restore(fd, l->path, other, err);
                        } else if (fstat(fd, &st) == 0 && st.st_uid != uid) {
                                r = acl_restore(fd, l->path, uid, err);
                        }
                        if (r < 0)
                                return r;
                        return xattr_set(fd, XATTR_DAC_REF, "%d", refs - 1) < 0
                                       ? lv_error_set(err, errno, "'%s': " XATTR_DAC_REF, l->path)
                                       : 0;
                }
                unsigned u, g, m;
                if (sscanf(buf, "%u:%u:%o", &u, &g, &m) != 3)
                        return lv_error_setf(err, EINVAL, "'%s': " XATTR_DAC " '%s' is malformed",
                                             l->path, buf);
                ou = u, og = g, om = m;
                (void)fremovexattr(fd, XATTR_DAC_REF);
                (void)fremovexattr(fd, XATTR_DAC);
        }
        if (fchown(fd, ou, og) < 0 || fchmod(fd, om) < 0)
                return lv_error_set(err, errno, "'%s': giving it back to %u:%u", l->path,
                                    (unsigned)ou, (unsigned)og);
        return 0;
}

int qemu_label_grant(const char *path, enum qemu_label_kind kind, uid_t uid, gid_t gid,
                     struct qemu_label *ret, struct lv_error **err)
{
        struct stat st;
        int fd = label_open(path, &st, err);
        if (fd < 0)
                return fd;
        struct qemu_label l = {.kind = kind};
        int r;
        if (kind == QEMU_LABEL_OWN)
                r = own_grant(fd, path, &st, uid, gid, &l, err);
        else
                r = acl_grant(fd, path, &st, kind == QEMU_LABEL_READ ? 4 : 6, uid, err);
        close(fd);
        if (r > 0) {
                l.path = xstrdup(path);
                *ret = l;
        }
        return r < 0 ? r : 0;
}

int qemu_label_restore(const struct qemu_label *l, uid_t uid, struct lv_error **err)
{
        if (!l->path)
                return 0;
        struct stat st;
        int fd = label_open(l->path, &st, err);
        if (fd < 0)
                return fd;
        int r = l->kind == QEMU_LABEL_OWN ? own_restore(fd, l, uid, err)
                                          : acl_restore(fd, l->path, uid, err);
        close(fd);
        return r;
}

void qemu_label_clear(struct qemu_label *l)
{
        free(l->path);
        *l = (struct qemu_label){0};
}

static const char *const label_kinds[] = {"own", "read", "share"};

struct json_object *qemu_label_to_json(const struct qemu_label *l)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(l->path));
        json_object_object_add(o, "kind", json_object_new_string(label_kinds[l->kind]));
        if (l->in_state) {
                char buf[64];
                snprintf(buf, sizeof(buf), "%u:%u:%o", (unsigned)l->orig_uid, (unsigned)l->orig_gid,
                         (unsigned)l->orig_mode);
                json_object_object_add(o, "original", json_object_new_string(buf));
        }
        return o;
}

int qemu_label_from_json(struct json_object *o, struct qemu_label *ret)
{
        struct json_object *p, *k, *orig;
        if (!json_object_object_get_ex(o, "path", &p) || !json_object_object_get_ex(o, "kind", &k))
                return -EINVAL;
        struct qemu_label l = {0};
        int kind = -1;
        for (size_t i = 0; i < ARRAY_SIZE(label_kinds); i++)
                if (streq(json_object_get_string(k), label_kinds[i]))
                        kind = (int)i;
        if (kind < 0 || json_object_get_string(p)[0] != '/')
                return -EINVAL;
        l.kind = (enum qemu_label_kind)kind;
        if (json_object_object_get_ex(o, "original", &orig)) {
                unsigned u, g, m;
                if (sscanf(json_object_get_string(orig), "%u:%u:%o", &u, &g, &m) != 3)
                        return -EINVAL;
                l.in_state = true;
                l.orig_uid = u, l.orig_gid = g, l.orig_mode = m;
        }
        l.path = xstrdup(json_object_get_string(p));
        *ret = l;
        return 0;
}

/* ---- the child ---- */

char **qemu_confine_env(const char *home)
{
        char **env = NULL;
        strv_push(&env, xstrdup("LC_ALL=C"));
        strv_push(&env,
                  xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
        strv_push(&env, xasprintf("HOME=%s", home));
        strv_push(&env, xasprintf("XDG_DATA_HOME=%s/.local/share", home));
        strv_push(&env, xasprintf("XDG_CACHE_HOME=%s/.cache", home));
        strv_push(&env, xasprintf("XDG_CONFIG_HOME=%s/.config", home));
        return env;
}

#define FAIL(...)                                                                                  \
        do {                                                                                       \
                dprintf(2, "litevirt: " __VA_ARGS__);                                              \
                return -1;                                                                         \
        } while (0)

static int set_rdonly(const char *path, bool rdonly, unsigned flags)
{
        struct mount_attr attr = {0};
        if (rdonly)
                attr.attr_set = MOUNT_ATTR_RDONLY;
        else
                attr.attr_clr = MOUNT_ATTR_RDONLY;
        return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof(attr));
}

/* path (a file or directory) writable again in the read-only view */
static int bind_writable(const char *src, const char *dst)
{
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0 || set_rdonly(dst, false, 0) < 0)
                FAIL("making '%s' writable for QEMU: %s\n", dst, strerror(errno));
        return 0;
}

static int confine_mounts(const struct qemu_confine *c)
{
        /* the guest's own directory, reachable after the state is masked */
        _cleanup_close_ int home = open(c->home, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (home < 0)
                FAIL("'%s': %s\n", c->home, strerror(errno));
        if (set_rdonly("/", true, AT_RECURSIVE) < 0)
                FAIL("making the host read-only for QEMU: %s\n", strerror(errno));
        for (char **m = c->masked; m && *m; m++) {
                struct stat st;
                if (stat(*m, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                if (mount("tmpfs", *m, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "mode=0755,size=16k") < 0)
                        FAIL("hiding '%s' from QEMU: %s\n", *m, strerror(errno));
                if (!startswith(c->home, *m) || c->home[strlen(*m)] != '/')
                        goto seal;
                /* the guest's own directory, at its path, inside the mask */
                struct lv_error *e = NULL;
                if (mkdir_p(c->home, 0755, &e) < 0) {
                        dprintf(2, "litevirt: %s\n", e->message);
                        lv_error_free(e);
                        return -1;
                }
                char src[64];
                snprintf(src, sizeof(src), "/proc/self/fd/%d", home);
                if (bind_writable(src, c->home) < 0)
                        return -1;
        seal:
                if (mount(NULL, *m, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          NULL) < 0)
                        FAIL("sealing '%s': %s\n", *m, strerror(errno));
        }
        for (char **w = c->writable; w && *w; w++)
                if (bind_writable(*w, *w) < 0)
                        return -1;
        return 0;
}

static int confine_rlimits(void)
{
        static const struct {
                int resource;
                rlim_t value;
        } limits[] = {
                {RLIMIT_CORE, 0},                /* dump-guest-core=off, and no host cores */
                {RLIMIT_NOFILE, 8192},           /* disks, taps, VNC clients, migration */
                {RLIMIT_NPROC, 4096},            /* counts threads of the guest's uid */
                {RLIMIT_MEMLOCK, 64 * 1024},     /* -overcommit mem-lock=off */
                {RLIMIT_STACK, 8 * 1024 * 1024}, /* glibc's default thread stack */
                {RLIMIT_FSIZE, RLIM_INFINITY},   /* disk images */
                {RLIMIT_AS, RLIM_INFINITY},      /* guest RAM; the cgroup limits memory */
                {RLIMIT_DATA, RLIM_INFINITY},
                {RLIMIT_CPU, RLIM_INFINITY},
                {RLIMIT_MSGQUEUE, 0},
                {RLIMIT_NICE, 0},
                {RLIMIT_RTPRIO, 0},
        };
        for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
                struct rlimit rl = {limits[i].value, limits[i].value};
                if (setrlimit(limits[i].resource, &rl) < 0)
                        FAIL("rlimit %d: %s\n", limits[i].resource, strerror(errno));
        }
        return 0;
}

static int confine_creds(const struct qemu_confine *c)
{
        gid_t groups[1] = {c->kvm_gid};
        if (setgroups(c->kvm_gid != (gid_t)-1 ? 1 : 0, groups) < 0 ||
            setresgid(c->gid, c->gid, c->gid) < 0)
                FAIL("setting QEMU's groups (gid %u): %s\n", (unsigned)c->gid, strerror(errno));
        for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                        FAIL("dropping capability %d: %s\n", cap, strerror(errno));
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
            prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                FAIL("clearing capabilities: %s\n", strerror(errno));
        if (setresuid(c->uid, c->uid, c->uid) < 0)
                FAIL("setting QEMU's uid %u: %s\n", (unsigned)c->uid, strerror(errno));
        /* the uid change emptied the permitted and effective sets; the
         * inheritable one goes explicitly */
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[2] = {{0}};
        if (syscall(SYS_capset, &h, d) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                FAIL("dropping capabilities: %s\n", strerror(errno));
        return 0;
}

int qemu_confine_child(const struct qemu_confine *c)
{
        if (confine_mounts(c) < 0 || confine_rlimits() < 0 || confine_creds(c) < 0)
                return -1;
        for (char **p = c->readable; p && *p; p++)
                if (access(*p, R_OK) < 0)
                        FAIL("QEMU (uid %u) cannot read '%s': %s (each directory above it must "
                             "be searchable by that uid)\n",
                             (unsigned)c->uid, *p, strerror(errno));
        for (char **p = c->writable; p && *p; p++)
                if (access(*p, R_OK | W_OK) < 0)
                        FAIL("QEMU (uid %u) cannot write '%s': %s\n", (unsigned)c->uid, *p,
                             strerror(errno));
        return 0;
}
