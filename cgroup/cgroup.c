/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest cgroups, v1 and v2 (see cgroup.h and docs/lxc.md). */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/clock.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CGROUP_FILE_MAX (1024 * 1024)
/* How long removal and freezing wait for the kernel. */
#define CGROUP_WAIT_MS 10000

const char *cgroup_root(void)
{
        const char *r = getenv("LITEVIRT_CGROUP_ROOT");
        return r && *r ? r : "/sys/fs/cgroup";
}

const char *cgroup_mode_to_string(enum cgroup_mode mode)
{
        switch (mode) {
        case CGROUP_MODE_LEGACY:
                return "legacy";
        case CGROUP_MODE_HYBRID:
                return "hybrid";
        case CGROUP_MODE_UNIFIED:
                return "unified";
        }
        return "unknown";
}

static long fs_type(const char *path)
{
        struct statfs sf;
        if (statfs(path, &sf) < 0)
                return -errno;
        return (long)sf.f_type;
}

int cgroup_detect_mode(enum cgroup_mode *ret, struct lv_error **err)
{
        const char *root = cgroup_root();
        long t = fs_type(root);
        if (t < 0)
                return lv_error_set(err, (int)-t, "cgroups: cannot statfs '%s'", root);
        if (t == CGROUP2_SUPER_MAGIC) {
                *ret = CGROUP_MODE_UNIFIED;
                return 0;
        }
        if (t != TMPFS_MAGIC)
                return lv_error_setf(err, ENOTSUP,
                                     "cgroups: '%s' is neither tmpfs nor cgroup2 (type 0x%lx)",
                                     root, (unsigned long)t);
        _cleanup_free_ char *unified = xasprintf("%s/unified", root);
        *ret = fs_type(unified) == CGROUP2_SUPER_MAGIC ? CGROUP_MODE_HYBRID : CGROUP_MODE_LEGACY;
        return 0;
}

/* ---- small file helpers ---- */

static int cg_write(const char *dir, const char *file, const char *value, struct lv_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
        return file_write_string(path, value, err);
}

static int cg_read(const char *dir, const char *file, char **ret, struct lv_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
        return file_read_bounded(path, CGROUP_FILE_MAX, ret, NULL, err);
}

static bool cg_has(const char *dir, const char *file)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
        return access(path, F_OK) == 0;
}

static int cg_read_u64(const char *dir, const char *file, uint64_t *ret, struct lv_error **err)
{
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dir, file, &s, err);
        if (r < 0)
                return r;
        if (startswith(s, "max")) {
                *ret = UINT64_MAX;
                return 0;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s)
                return lv_error_setf(err, EBADMSG, "cgroup file '%s/%s': not a number", dir, file);
        *ret = v;
        return 0;
}

/* "key value" lines (cpu.stat, cgroup.events, memory.stat). */
static int cg_read_key(const char *dir, const char *file, const char *key, uint64_t *ret,
                       struct lv_error **err)
{
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dir, file, &s, err);
        if (r < 0)
                return r;
        size_t kl = strlen(key);
        for (char *line = s; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
                        *ret = strtoull(line + kl + 1, NULL, 10);
                        return 0;
                }
                line = nl ? nl + 1 : NULL;
        }
        return lv_error_setf(err, ENOENT, "cgroup file '%s/%s': no key '%s'", dir, file, key);
}

static void sleep_ms(unsigned ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* ---- hierarchy discovery ---- */

static void hier_clear(struct cgroup_hier *h)
{
        free(h->controllers);
        free(h->dir);
        free(h->attach_dir);
}

void cgroup_free(struct cgroup *cg)
{
        if (!cg)
                return;
        for (int i = 0; i < cg->n_hier; i++)
                hier_clear(&cg->hier[i]);
        free(cg->hier);
        free(cg->name);
        free(cg->rel_path);
        free(cg);
}

static bool has_controller(const char *list, const char *ctrl)
{
        size_t n = strlen(ctrl);
        for (const char *p = list; p && *p;) {
                const char *c = strchr(p, ',');
                size_t len = c ? (size_t)(c - p) : strlen(p);
                if (len == n && strncmp(p, ctrl, n) == 0)
                        return true;
                p = c ? c + 1 : NULL;
        }
        return false;
}

const char *cgroup_guest_dir(const struct cgroup *cg, const char *controller)
{
        for (int i = 0; cg && i < cg->n_hier; i++) {
                const struct cgroup_hier *h = &cg->hier[i];
                if (*controller == '\0' ? h->v2
                                        : (!h->v2 && has_controller(h->controllers, controller)))
                        return h->dir;
        }
        return NULL;
}

/* The mount point of a v1 hierarchy: systemd mounts "cpu,cpuacct" at
 * /sys/fs/cgroup/cpu,cpuacct (with a symlink per controller). */
static char *v1_mount_dir(const char *controllers)
{
        _cleanup_free_ char *dir = xasprintf("%s/%s", cgroup_root(), controllers);
        if (fs_type(dir) == CGROUP_SUPER_MAGIC)
                return TAKE_PTR(dir);
        _cleanup_free_ char *first = xstrdup(controllers);
        char *comma = strchr(first, ',');
        if (comma)
                *comma = '\0';
        free(dir);
        dir = xasprintf("%s/%s", cgroup_root(), first);
        if (fs_type(dir) == CGROUP_SUPER_MAGIC)
                return TAKE_PTR(dir);
        return NULL;
}

/* Fill cg->hier with the guest's directory in every hierarchy, from the
 * supervisor's own cgroups (/proc/self/cgroup), without creating anything. */
static int cgroup_plan(const char *guest_name, struct cgroup **ret, struct lv_error **err)
{
        if (!guest_name || !*guest_name || strchr(guest_name, '/') || guest_name[0] == '.')
                return lv_error_setf(err, EINVAL, "cgroups: invalid guest name '%s'",
                                     guest_name ? guest_name : "");
        enum cgroup_mode mode;
        int r = cgroup_detect_mode(&mode, err);
        if (r < 0)
                return r;

        _cleanup_free_ char *self = NULL;
        r = file_read_bounded("/proc/self/cgroup", 64 * 1024, &self, NULL, err);
        if (r < 0)
                return lv_error_prefix(err, "cgroups");

        _cleanup_cgroup_ struct cgroup *cg = xcalloc(1, sizeof(*cg));
        cg->mode = mode;
        cg->name = xasprintf("litevirt-%s", guest_name);

        char *save = NULL;
        for (char *line = strtok_r(self, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                /* ID:controllers:path */
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c1 || !c2 || c2[1] != '/')
                        return lv_error_setf(err, EBADMSG,
                                             "cgroups: /proc/self/cgroup: malformed line '%s'",
                                             line);
                *c1 = *c2 = '\0';
                const char *ctrls = c1 + 1, *path = c2 + 1;
                if (streq(path, "/"))
                        path = "";
                /* A supervisor that moved itself into its leaf still
                 * places guests beside it (see move_self_to_leaf). */
                _cleanup_free_ char *path_copy = NULL;
                size_t pl = strlen(path), ll = strlen("/" CGROUP_SUPERVISOR_LEAF);
                if (pl >= ll && streq(path + pl - ll, "/" CGROUP_SUPERVISOR_LEAF)) {
                        path_copy = xstrndup(path, pl - ll);
                        path = path_copy;
                }
                _cleanup_free_ char *mnt = NULL;
                bool v2 = false;
                if (streq(line, "0") && *ctrls == '\0') {
                        if (mode == CGROUP_MODE_LEGACY)
                                continue;
                        v2 = true;
                        mnt = mode == CGROUP_MODE_UNIFIED ? xstrdup(cgroup_root())
                                                          : xasprintf("%s/unified", cgroup_root());
                } else {
                        if (*ctrls == '\0' || mode == CGROUP_MODE_UNIFIED)
                                continue;
                        /* Named hierarchies (name=systemd) carry no
                         * controller, but a guest running systemd needs
                         * its own place there too. */
                        mnt = v1_mount_dir(startswith(ctrls, "name=") ? ctrls + 5 : ctrls);
                        if (!mnt) {
                                log_debug("cgroups: hierarchy '%s' is not mounted, skipped", ctrls);
                                continue;
                        }
                }
                cg->hier = xrealloc(cg->hier, sizeof(*cg->hier) * (size_t)(cg->n_hier + 1));
                struct cgroup_hier *h = &cg->hier[cg->n_hier++];
                *h = (struct cgroup_hier){0};
                h->controllers = xstrdup(ctrls);
                h->v2 = v2;
                h->dir = xasprintf("%s%s/%s", mnt, path, cg->name);
                if ((v2 && mode == CGROUP_MODE_UNIFIED) || (!v2 && has_controller(ctrls, "memory")))
                        cg->rel_path = xasprintf("%s/%s", path, cg->name);
        }
        if (cg->n_hier == 0)
                return lv_error_setf(err, ENOENT, "cgroups: no cgroup hierarchy found under '%s'",
                                     cgroup_root());
        if (!cg->rel_path) {
                const char *d = cg->hier[0].dir;
                cg->rel_path = xstrdup(d);
        }
        *ret = TAKE_PTR(cg);
        return 0;
}

/* ---- removal ---- */

static int read_pids(const char *dir, pid_t **ret, size_t *ret_n, struct lv_error **err)
{
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dir, "cgroup.procs", &s, err);
        if (r < 0)
                return r;
        pid_t *v = NULL;
        size_t n = 0;
        for (char *p = s; *p;) {
                char *end;
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (pid > 0) {
                        v = xrealloc(v, sizeof(*v) * (n + 1));
                        v[n++] = (pid_t)pid;
                }
                p = end;
                while (*p == '\n')
                        p++;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Wait until no process is left in dir (v2: cgroup.events says
 * "populated 0", waking on POLLPRI; v1: cgroup.procs is empty). */
static int wait_empty(const char *dir, bool v2, struct lv_error **err)
{
        uint64_t deadline = (uint64_t)clock_now_ms() + CGROUP_WAIT_MS;
        _cleanup_free_ char *events = xasprintf("%s/cgroup.events", dir);
        _cleanup_close_ int efd = v2 ? open(events, O_RDONLY | O_CLOEXEC) : -1;
        for (;;) {
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                struct lv_error *e = NULL;
                if (read_pids(dir, &pids, &n, &e) < 0) {
                        bool gone = e->code == ENOENT;
                        lv_error_free(e);
                        if (gone)
                                return 0;
                        return lv_error_setf(err, EIO, "cgroup '%s': cannot list processes", dir);
                }
                if (n == 0)
                        return 0;
                uint64_t now = (uint64_t)clock_now_ms();
                if (now >= deadline)
                        return lv_error_setf(err, EBUSY,
                                             "cgroup '%s': %zu process(es) still running after "
                                             "SIGKILL",
                                             dir, n);
                if (efd >= 0) {
                        struct pollfd pfd = {.fd = efd, .events = POLLPRI};
                        char buf[256];
                        (void)pread(efd, buf, sizeof buf, 0);
                        (void)poll(&pfd, 1, 50);
                } else {
                        sleep_ms(2);
                }
        }
}

static void kill_pids(const char *dir)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        struct lv_error *e = NULL;
        if (read_pids(dir, &pids, &n, &e) < 0) {
                lv_error_free(e);
                return;
        }
        for (size_t i = 0; i < n; i++)
                (void)kill(pids[i], SIGKILL);
}

/* Empty and remove the sub-cgroups a guest made inside its own (a
 * container with CAP_SYS_ADMIN may mount its cgroups writable), depth
 * first. */
static int remove_children(const char *dir, bool v2, struct lv_error **err)
{
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0
                                       : lv_error_set(err, errno, "cannot list cgroup '%s'", dir);
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
                r = remove_children(sub, v2, err);
                if (r == 0) {
                        kill_pids(sub);
                        r = wait_empty(sub, v2, err);
                }
                if (r == 0 && rmdir(sub) < 0 && errno != ENOENT)
                        r = lv_error_set(err, errno, "cannot remove cgroup '%s'", sub);
        }
        closedir(d);
        return r;
}

int cgroup_guest_destroy(struct cgroup *cg, struct lv_error **err)
{
        if (!cg)
                return 0;
        /* Tasks frozen by the v1 freezer do not die from SIGKILL: thaw. */
        const char *fz = cgroup_guest_dir(cg, "freezer");
        if (fz && access(fz, F_OK) == 0)
                (void)cg_write(fz, "freezer.state", "THAWED", NULL);

        /* cgroup.kill waits for an RCU grace period (~10 ms). A guest in
         * its own PID namespace is usually empty by now (its init was
         * reaped, the kernel killed the rest): kill only when a process
         * is still listed, e.g. one moved in from outside. */
        const char *v2 = cgroup_guest_dir(cg, "");
        bool killed = false;
        if (v2 && cg_has(v2, "cgroup.kill")) {
                _cleanup_free_ pid_t *left = NULL;
                size_t n_left = 0;
                struct lv_error *e = NULL;
                if (read_pids(v2, &left, &n_left, &e) < 0) {
                        lv_error_free(e);
                        n_left = 1; /* unknown: kill as if populated */
                }
                if (n_left > 0)
                        killed = cg_write(v2, "cgroup.kill", "1", NULL) == 0;
        }

        int ret = 0;
        for (int pass = 0; pass < 3; pass++) {
                ret = 0;
                for (int i = 0; i < cg->n_hier; i++) {
                        struct cgroup_hier *h = &cg->hier[i];
                        if (access(h->dir, F_OK) < 0)
                                continue;
                        int r = remove_children(h->dir, h->v2, err);
                        if (r < 0)
                                return r;
                        if (!killed || pass > 0)
                                kill_pids(h->dir);
                        r = wait_empty(h->dir, h->v2, err);
                        if (r < 0)
                                return r;
                        if (rmdir(h->dir) < 0 && errno != ENOENT) {
                                if (errno == EBUSY && pass < 2) {
                                        ret = -EBUSY;
                                        continue;
                                }
                                return lv_error_set(err, errno, "cannot remove cgroup '%s'",
                                                    h->dir);
                        }
                }
                if (ret == 0)
                        break;
                sleep_ms(5);
        }
        return 0;
}

int cgroup_guest_cleanup_stale(const char *guest_name, struct lv_error **err)
{
        _cleanup_cgroup_ struct cgroup *cg = NULL;
        int r = cgroup_plan(guest_name, &cg, err);
        if (r < 0)
                return r;
        bool any = false;
        for (int i = 0; i < cg->n_hier; i++)
                any |= access(cg->hier[i].dir, F_OK) == 0;
        if (!any)
                return 0;
        log_info("removing stale cgroup %s", cg->rel_path);
        return cgroup_guest_destroy(cg, err);
}

/* ---- limits ---- */

static int write_u64(const char *dir, const char *file, unsigned long long v, struct lv_error **err)
{
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", v);
        return cg_write(dir, file, buf, err);
}

static int copy_parent(const char *dir, const char *file, struct lv_error **err)
{
        _cleanup_free_ char *parent = xstrdup(dir);
        *strrchr(parent, '/') = '\0';
        _cleanup_free_ char *v = NULL;
        int r = cg_read(parent, file, &v, err);
        if (r < 0)
                return r;
        v[strcspn(v, "\n")] = '\0';
        if (!*v)
                return lv_error_setf(err, ENOSPC, "cgroup '%s': parent's %s is empty", dir, file);
        return cg_write(dir, file, v, err);
}

static const char *def_cpuset(const struct domain_def *def)
{
        return def->vcpu_cpuset; /* <vcpu cpuset='...'> */
}

/* cgroup v1 cpu.shares (2..262144) to v2 cpu.weight (1..10000), as
 * systemd and libvirt convert. */
static unsigned long long shares_to_weight(unsigned long long shares)
{
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        return 1 + ((shares - 2) * 9999) / 262142;
}

static int apply_v1(const struct domain_def *def, const struct cgroup_hier *h,
                    const char *const *devices_allow, struct lv_error **err)
{
        const char *d = h->dir;
        int r = 0;
        if (has_controller(h->controllers, "cpuset")) {
                /* An empty cpuset.cpus/mems makes attaching fail: inherit. */
                r = copy_parent(d, "cpuset.mems", err);
                if (r == 0)
                        r = def_cpuset(def) ? cg_write(d, "cpuset.cpus", def_cpuset(def), err)
                                            : copy_parent(d, "cpuset.cpus", err);
                if (r < 0)
                        return r;
        }
        if (has_controller(h->controllers, "memory")) {
                unsigned long long hard =
                        def->memtune.hard_limit ? def->memtune.hard_limit : def->memory_kib;
                if (hard && (r = write_u64(d, "memory.limit_in_bytes", hard * 1024, err)) < 0)
                        return r;
                if (def->memtune.soft_limit &&
                    (r = write_u64(d, "memory.soft_limit_in_bytes", def->memtune.soft_limit * 1024,
                                   err)) < 0)
                        return r;
                if (def->memtune.swap_hard_limit) {
                        if (!cg_has(d, "memory.memsw.limit_in_bytes"))
                                return lv_error_setf(err, ENOTSUP,
                                                     "cgroup '%s': swap_hard_limit needs swap "
                                                     "accounting (memory.memsw.*), which this host "
                                                     "lacks",
                                                     d);
                        r = write_u64(d, "memory.memsw.limit_in_bytes",
                                      def->memtune.swap_hard_limit * 1024, err);
                        if (r < 0)
                                return r;
                }
        }
        if (has_controller(h->controllers, "cpu") && def->has_cputune) {
                if (def->cputune.shares &&
                    (r = write_u64(d, "cpu.shares", def->cputune.shares, err)) < 0)
                        return r;
                if (def->cputune.period &&
                    (r = write_u64(d, "cpu.cfs_period_us", def->cputune.period, err)) < 0)
                        return r;
                if (def->cputune.quota) {
                        char buf[32];
                        snprintf(buf, sizeof buf, "%lld", def->cputune.quota);
                        if ((r = cg_write(d, "cpu.cfs_quota_us", buf, err)) < 0)
                                return r;
                }
        }
        if (has_controller(h->controllers, "pids") &&
            (r = write_u64(d, "pids.max", CGROUP_DEFAULT_PIDS_MAX, err)) < 0)
                return r;
        if (has_controller(h->controllers, "blkio") && def->has_blkiotune &&
            def->blkiotune.weight) {
                const char *f = cg_has(d, "blkio.weight")       ? "blkio.weight"
                                : cg_has(d, "blkio.bfq.weight") ? "blkio.bfq.weight"
                                                                : NULL;
                if (!f)
                        return lv_error_setf(err, ENOTSUP,
                                             "cgroup '%s': <blkiotune><weight> is not supported "
                                             "by this host (no blkio.weight, no blkio.bfq.weight: "
                                             "the block I/O scheduler has no weights)",
                                             d);
                if ((r = write_u64(d, f, def->blkiotune.weight, err)) < 0)
                        return r;
        }
        if (has_controller(h->controllers, "devices") && devices_allow) {
                if ((r = cg_write(d, "devices.deny", "a", err)) < 0)
                        return r;
                for (const char *const *rule = devices_allow; *rule; rule++)
                        if ((r = cg_write(d, "devices.allow", *rule, err)) < 0)
                                return r;
        }
        return 0;
}

static int need_v2_file(const char *dir, const char *file, const char *what, struct lv_error **err)
{
        if (cg_has(dir, file))
                return 0;
        return lv_error_setf(err, ENOTSUP,
                             "cgroup '%s': %s needs the cgroup2 file '%s' (controller not "
                             "delegated to the supervisor's cgroup?)",
                             dir, what, file);
}

static int move_self_to_leaf(const char *parent, struct lv_error **err)
{
        _cleanup_free_ char *leaf = xasprintf("%s/%s", parent, CGROUP_SUPERVISOR_LEAF);
        if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
                return lv_error_set(err, errno, "cannot create cgroup '%s'", leaf);
        char pid[32];
        snprintf(pid, sizeof pid, "%d", (int)getpid());
        int r = cg_write(leaf, "cgroup.procs", pid, err);
        if (r == 0)
                log_info("cgroups: moved the supervisor into %s so that %s can enable "
                         "controllers for its guest",
                         leaf, parent);
        return r;
}

static int apply_v2(const struct domain_def *def, const struct cgroup_hier *h,
                    struct lv_error **err)
{
        const char *d = h->dir;
        int r;
        /* Enable what the parent offers for the guest's cgroup. */
        _cleanup_free_ char *parent = xstrdup(d);
        *strrchr(parent, '/') = '\0';
        _cleanup_free_ char *avail = NULL;
        bool moved = false;
        if (cg_read(parent, "cgroup.controllers", &avail, NULL) == 0) {
                static const char *const want[] = {"cpu",  "cpuset", "memory",
                                                   "pids", "io",     "hugetlb"};
                for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
                        _cleanup_free_ char *list = xstrdup(avail);
                        bool have = false;
                        for (char *s = NULL, *t = strtok_r(list, " \n", &s); t;
                             t = strtok_r(NULL, " \n", &s))
                                have |= streq(t, want[i]);
                        if (!have)
                                continue;
                        _cleanup_free_ char *plus = xasprintf("+%s", want[i]);
                        struct lv_error *e = NULL;
                        r = cg_write(parent, "cgroup.subtree_control", plus, &e);
                        if (r == -EBUSY && !moved) {
                                /* "No internal processes": the supervisor
                                 * sits in the cgroup it delegates from (a
                                 * systemd unit with Delegate=yes). Move it
                                 * into a leaf of its own subtree. */
                                moved = true;
                                lv_error_freep(&e);
                                if (move_self_to_leaf(parent, &e) == 0)
                                        r = cg_write(parent, "cgroup.subtree_control", plus, &e);
                        }
                        if (r < 0) {
                                log_debug("cgroups: %s", e->message);
                                lv_error_free(e);
                        }
                }
        }
        if (h->v2 && def_cpuset(def)) {
                if ((r = need_v2_file(d, "cpuset.cpus", "a cpuset", err)) < 0 ||
                    (r = cg_write(d, "cpuset.cpus", def_cpuset(def), err)) < 0)
                        return r;
        }
        unsigned long long hard =
                def->memtune.hard_limit ? def->memtune.hard_limit : def->memory_kib;
        if (hard && (def->memtune.hard_limit || cg_has(d, "memory.max"))) {
                if ((r = need_v2_file(d, "memory.max", "<memtune><hard_limit>", err)) < 0 ||
                    (r = write_u64(d, "memory.max", hard * 1024, err)) < 0)
                        return r;
        }
        if (def->memtune.soft_limit &&
            ((r = need_v2_file(d, "memory.high", "<soft_limit>", err)) < 0 ||
             (r = write_u64(d, "memory.high", def->memtune.soft_limit * 1024, err)) < 0))
                return r;
        if (def->memtune.swap_hard_limit) {
                /* libvirt's swap_hard_limit is memory + swap; v2 counts swap alone. */
                unsigned long long swap = def->memtune.swap_hard_limit > hard
                                                  ? def->memtune.swap_hard_limit - hard
                                                  : 0;
                if ((r = need_v2_file(d, "memory.swap.max", "<swap_hard_limit>", err)) < 0 ||
                    (r = write_u64(d, "memory.swap.max", swap * 1024, err)) < 0)
                        return r;
        }
        if (def->has_cputune && def->cputune.shares &&
            ((r = need_v2_file(d, "cpu.weight", "<shares>", err)) < 0 ||
             (r = write_u64(d, "cpu.weight", shares_to_weight(def->cputune.shares), err)) < 0))
                return r;
        if (def->has_cputune && (def->cputune.quota || def->cputune.period)) {
                char buf[64];
                unsigned long long period = def->cputune.period ? def->cputune.period : 100000;
                if (def->cputune.quota > 0)
                        snprintf(buf, sizeof buf, "%lld %llu", def->cputune.quota, period);
                else
                        snprintf(buf, sizeof buf, "max %llu", period);
                if ((r = need_v2_file(d, "cpu.max", "<quota>/<period>", err)) < 0 ||
                    (r = cg_write(d, "cpu.max", buf, err)) < 0)
                        return r;
        }
        if (cg_has(d, "pids.max") &&
            (r = write_u64(d, "pids.max", CGROUP_DEFAULT_PIDS_MAX, err)) < 0)
                return r;
        if (def->has_blkiotune && def->blkiotune.weight) {
                const char *f = cg_has(d, "io.weight")       ? "io.weight"
                                : cg_has(d, "io.bfq.weight") ? "io.bfq.weight"
                                                             : NULL;
                if (!f)
                        return lv_error_setf(err, ENOTSUP,
                                             "cgroup '%s': <blkiotune><weight> is not supported "
                                             "here (no io.weight, no io.bfq.weight)",
                                             d);
                if ((r = write_u64(d, f, def->blkiotune.weight, err)) < 0)
                        return r;
        }
        return 0;
}

/* Whether limits of ctrl can be applied: the guest has a cgroup in a v1
 * hierarchy with ctrl, or (unified mode: limits are written to cgroup2
 * only there) its cgroup2 parent offers the v2 controller v2ctrl. */
static bool has_place(const struct cgroup *cg, const char *ctrl, const char *v2ctrl)
{
        if (cgroup_guest_dir(cg, ctrl))
                return true;
        const char *v2 = cgroup_guest_dir(cg, "");
        if (!v2 || cg->mode != CGROUP_MODE_UNIFIED)
                return false;
        /* The guest's directory is not made yet: what the parent offers. */
        _cleanup_free_ char *parent = xstrdup(v2);
        *strrchr(parent, '/') = '\0';
        _cleanup_free_ char *avail = NULL;
        if (cg_read(parent, "cgroup.controllers", &avail, NULL) < 0)
                return false;
        size_t n = strlen(v2ctrl);
        for (const char *p = avail; (p = strstr(p, v2ctrl)); p += n)
                if ((p == avail || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
                        return true;
        return false;
}

int cgroup_check_needs(const struct domain_def *def, const char *const *devices_allow,
                       const struct cgroup *cg, struct lv_error **err)
{
        static const char missing[] = "guest '%s' (cgroup '%s'): %s needs the %s controller, "
                                      "which no writable cgroup hierarchy of the supervisor "
                                      "offers (not mounted, read-only, or not delegated)";
        const char *where = cgroup_guest_dir(cg, "") ?: (cg->n_hier ? cg->hier[0].dir : "-");
        if ((def->memtune.hard_limit || def->memtune.soft_limit || def->memtune.swap_hard_limit) &&
            !has_place(cg, "memory", "memory"))
                return lv_error_setf(err, ENOTSUP, missing, def->name, where, "<memtune>",
                                     "memory");
        if (def->memory_kib && !has_place(cg, "memory", "memory"))
                log_warning("cgroups: no writable memory controller here: <memory> of guest '%s' "
                            "is not enforced by a cgroup limit",
                            def->name);
        if (def_cpuset(def) && !has_place(cg, "cpuset", "cpuset"))
                return lv_error_setf(err, ENOTSUP, missing, def->name, where, "<vcpu cpuset>",
                                     "cpuset");
        if (def->has_cputune &&
            (def->cputune.shares || def->cputune.quota || def->cputune.period) &&
            !has_place(cg, "cpu", "cpu"))
                return lv_error_setf(err, ENOTSUP, missing, def->name, where, "<cputune>", "cpu");
        if (def->has_blkiotune && def->blkiotune.weight && !has_place(cg, "blkio", "io"))
                return lv_error_setf(err, ENOTSUP, missing, def->name, where, "<blkiotune>",
                                     "blkio/io");
        /* Device rules: the v1 controller, else a BPF program on the
         * cgroup2 directory. Neither (or bpf(2) refused, cgroup_guest_create)
         * is a second line lost: the container's /dev holds only the
         * allowed nodes and it has no CAP_MKNOD by default. */
        if (devices_allow && !cgroup_guest_dir(cg, "devices") && !cgroup_guest_dir(cg, ""))
                log_warning("cgroups: neither a writable v1 devices controller nor a cgroup2 "
                            "tree here: guest '%s' runs without a device cgroup",
                            def->name);
        if (!has_place(cg, "pids", "pids"))
                log_warning("cgroups: no writable pids controller here: guest '%s' runs without "
                            "pids.max",
                            def->name);
        return 0;
}

int cgroup_guest_create(const struct domain_def *def, const char *const *devices_allow,
                        struct cgroup **ret, struct lv_error **err)
{
        _cleanup_cgroup_ struct cgroup *cg = NULL;
        int r = cgroup_plan(def->name, &cg, err);
        if (r < 0)
                return r;

        /* We hold the guest's lock: an existing directory is a leftover of
         * a supervisor that was killed. */
        r = cgroup_guest_cleanup_stale(def->name, err);
        if (r < 0)
                return lv_error_prefix(err, "removing stale cgroup");

        /* A hierarchy the supervisor may not write (mounted read-only, as
         * systemd-nspawn mounts the v1 controllers; not delegated) is left
         * out with a warning; cgroup_check_needs then refuses the guest
         * only if its definition needs a controller that is gone. */
        int created = 0;
        for (int i = 0; i < cg->n_hier; i++) {
                struct cgroup_hier *h = &cg->hier[i];
                if (mkdir(h->dir, 0755) == 0) {
                        cg->hier[created++] = *h;
                        continue;
                }
                if (errno != EROFS && errno != EACCES && errno != EPERM) {
                        r = lv_error_set(err, errno, "cannot create cgroup '%s'", h->dir);
                        for (int j = i; j < cg->n_hier; j++)
                                hier_clear(&cg->hier[j]);
                        cg->n_hier = created;
                        break;
                }
                log_warning("cgroups: hierarchy '%s' is not writable here (%s: %s): guest '%s' "
                            "has no cgroup in it",
                            *h->controllers ? h->controllers : "cgroup2", h->dir, strerror(errno),
                            def->name);
                hier_clear(h);
        }
        if (r == 0) {
                cg->n_hier = created;
                r = cgroup_check_needs(def, devices_allow, cg, err);
        }
        for (int i = 0; r == 0 && i < cg->n_hier; i++) {
                struct cgroup_hier *h = &cg->hier[i];
                if (h->v2 && cg->mode == CGROUP_MODE_UNIFIED)
                        r = apply_v2(def, h, err);
                else if (!h->v2)
                        r = apply_v1(def, h, devices_allow, err);
                if (r == 0 && h->v2 && devices_allow) {
                        /* The only device control of a unified host; in
                         * hybrid mode a second line behind v1's. */
                        struct lv_error *e = NULL;
                        r = cgroup_devices_bpf_attach(h->dir, devices_allow, &e);
                        if (r < 0 && cg->mode == CGROUP_MODE_HYBRID &&
                            cgroup_guest_dir(cg, "devices")) {
                                log_warning("%s (the v1 devices controller still applies)",
                                            e->message);
                                r = 0;
                        } else if (r == -EPERM && !cgroup_guest_dir(cg, "devices")) {
                                /* bpf(2) refused to us (systemd-nspawn's
                                 * seccomp filter does) and no v1 devices
                                 * controller: see cgroup_check_needs. */
                                log_warning("%s: guest '%s' runs without a device cgroup "
                                            "(docs/lxc.md, cgroups)",
                                            e->message, def->name);
                                r = 0;
                        } else if (r < 0 && err && !*err) {
                                *err = TAKE_PTR(e);
                        }
                        lv_error_free(e);
                }
        }
        if (r < 0) {
                (void)cgroup_guest_destroy(cg, NULL);
                return r;
        }
        *ret = TAKE_PTR(cg);
        return 0;
}

int cgroup_guest_delegate(struct cgroup *cg, struct lv_error **err)
{
        for (int i = 0; i < cg->n_hier; i++) {
                struct cgroup_hier *h = &cg->hier[i];
                if (h->attach_dir || (!h->v2 && !startswith(h->controllers, "name=")))
                        continue;
                _cleanup_free_ char *d = xasprintf("%s/%s", h->dir, CGROUP_PAYLOAD);
                if (mkdir(d, 0755) < 0)
                        return lv_error_set(err, errno, "cannot create cgroup '%s'", d);
                h->attach_dir = TAKE_PTR(d);
        }
        return 0;
}

int cgroup_entry_open(const struct cgroup *cg, struct cgroup_entry *e, struct lv_error **err)
{
        e->tasks_fds = xcalloc((size_t)cg->n_hier, sizeof(int));
        for (int i = 0; i < cg->n_hier; i++) {
                const struct cgroup_hier *h = &cg->hier[i];
                const char *dir = h->attach_dir ? h->attach_dir : h->dir;
                _cleanup_free_ char *path =
                        xasprintf("%s/%s", dir, h->v2 ? "cgroup.procs" : "tasks");
                int fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        return lv_error_set(err, errno, "opening '%s'", path);
                if (!h->v2) {
                        e->tasks_fds[e->n_tasks++] = fd;
                        continue;
                }
                e->v2_procs_fd = fd;
                if ((e->v2_dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                        return lv_error_set(err, errno, "opening '%s'", dir);
        }
        return 0;
}

long cgroup_entry_clone(struct cgroup_entry *e, struct clone_args *args)
{
        if (e->v2_dir_fd >= 0) {
                struct clone_args into = *args;
                into.flags |= CLONE_INTO_CGROUP;
                into.cgroup = (uint64_t)e->v2_dir_fd;
                e->v2_placed = true;
                long pid = syscall(SYS_clone3, &into, sizeof into);
                if (pid >= 0 || (errno != EINVAL && errno != E2BIG && errno != EOPNOTSUPP &&
                                 errno != EBUSY && errno != EACCES && errno != EPERM))
                        return pid;
                log_debug("cgroups: CLONE_INTO_CGROUP refused (%s): entering by cgroup.procs",
                          strerror(errno));
        }
        e->v2_placed = false;
        return syscall(SYS_clone3, args, sizeof *args);
}

int cgroup_entry_enter(const struct cgroup_entry *e, int *failed)
{
        for (int i = 0; i < e->n_tasks; i++) {
                if (write(e->tasks_fds[i], "0", 1) != 1) {
                        *failed = i;
                        return -errno;
                }
        }
        if (e->v2_procs_fd >= 0 && !e->v2_placed && write(e->v2_procs_fd, "0", 1) != 1) {
                *failed = e->n_tasks;
                return -errno;
        }
        return 0;
}

void cgroup_entry_close(struct cgroup_entry *e)
{
        for (int i = 0; i < e->n_tasks; i++)
                close(e->tasks_fds[i]);
        free(e->tasks_fds);
        e->tasks_fds = NULL;
        e->n_tasks = 0;
        if (e->v2_dir_fd >= 0)
                close(e->v2_dir_fd);
        if (e->v2_procs_fd >= 0)
                close(e->v2_procs_fd);
        e->v2_dir_fd = e->v2_procs_fd = -1;
}

int cgroup_guest_count_procs(struct cgroup *cg, unsigned *ret, struct lv_error **err)
{
        const char *d = cgroup_guest_dir(cg, "");
        if (!d)
                d = cgroup_guest_dir(cg, "pids");
        if (!d)
                d = cg->n_hier ? cg->hier[0].dir : NULL;
        if (!d)
                return lv_error_setf(err, ENOENT, "cgroup %s: no hierarchy", cg->name);
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = read_pids(d, &pids, &n, err);
        if (r < 0)
                return r;
        *ret = (unsigned)n;
        return 0;
}

/* ---- freezer ---- */

static int v2_wait_frozen(const char *dir, bool want, struct lv_error **err)
{
        _cleanup_free_ char *events = xasprintf("%s/cgroup.events", dir);
        _cleanup_close_ int fd = open(events, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return lv_error_set(err, errno, "cannot open '%s'", events);
        uint64_t deadline = (uint64_t)clock_now_ms() + CGROUP_WAIT_MS;
        for (;;) {
                uint64_t v = 0;
                int r = cg_read_key(dir, "cgroup.events", "frozen", &v, err);
                if (r < 0)
                        return r;
                if ((v == 1) == want)
                        return 0;
                uint64_t now = (uint64_t)clock_now_ms();
                if (now >= deadline)
                        return lv_error_setf(err, ETIMEDOUT, "cgroup '%s': not %s after %d ms", dir,
                                             want ? "frozen" : "thawed", CGROUP_WAIT_MS);
                struct pollfd pfd = {.fd = fd, .events = POLLPRI};
                char buf[256];
                (void)pread(fd, buf, sizeof buf, 0);
                (void)poll(&pfd, 1, (int)(deadline - now));
        }
}

static int v1_freezer_set(const char *dir, const char *state, struct lv_error **err)
{
        int r = cg_write(dir, "freezer.state", state, err);
        if (r < 0)
                return r;
        /* The v1 freezer has no notification: read until the state shows. */
        uint64_t deadline = (uint64_t)clock_now_ms() + CGROUP_WAIT_MS;
        for (;;) {
                _cleanup_free_ char *cur = NULL;
                if ((r = cg_read(dir, "freezer.state", &cur, err)) < 0)
                        return r;
                if (startswith(cur, state))
                        return 0;
                if ((uint64_t)clock_now_ms() >= deadline)
                        return lv_error_setf(err, ETIMEDOUT, "cgroup '%s': freezer.state not %s",
                                             dir, state);
                /* FREEZING: write again, as the kernel documentation advises. */
                if ((r = cg_write(dir, "freezer.state", state, err)) < 0)
                        return r;
                sleep_ms(1);
        }
}

static int freeze_set(struct cgroup *cg, bool frozen, struct lv_error **err)
{
        const char *v2 = cgroup_guest_dir(cg, "");
        if (v2 && cg_has(v2, "cgroup.freeze")) {
                int r = cg_write(v2, "cgroup.freeze", frozen ? "1" : "0", err);
                if (r < 0)
                        return r;
                return v2_wait_frozen(v2, frozen, err);
        }
        const char *v1 = cgroup_guest_dir(cg, "freezer");
        if (v1)
                return v1_freezer_set(v1, frozen ? "FROZEN" : "THAWED", err);
        return lv_error_setf(err, ENOTSUP,
                             "cgroup %s: no freezer (neither cgroup.freeze nor the "
                             "v1 freezer controller)",
                             cg->name);
}

int cgroup_guest_freeze(struct cgroup *cg, struct lv_error **err)
{
        return freeze_set(cg, true, err);
}

int cgroup_guest_thaw(struct cgroup *cg, struct lv_error **err)
{
        return freeze_set(cg, false, err);
}

int cgroup_guest_set_memory(struct cgroup *cg, unsigned long long kib, struct lv_error **err)
{
        const char *d = cgroup_guest_dir(cg, "memory");
        if (d)
                return write_u64(d, "memory.limit_in_bytes", kib * 1024, err);
        d = cgroup_guest_dir(cg, "");
        if (d && cg_has(d, "memory.max"))
                return write_u64(d, "memory.max", kib * 1024, err);
        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                             "cgroup %s: no memory controller (neither v1 memory nor "
                             "cgroup2 memory.max)",
                             cg->name);
}

/* ---- statistics ---- */

int cgroup_guest_stats(struct cgroup *cg, struct cgroup_stats *ret, struct lv_error **err)
{
        struct cgroup_stats st = {
                .cpu_time_ns = UINT64_MAX,
                .memory_limit = UINT64_MAX,
                .pids_max = UINT64_MAX,
        };
        const char *v2 = cgroup_guest_dir(cg, "");
        const char *d;
        int r;
        if ((d = cgroup_guest_dir(cg, "cpuacct"))) {
                if ((r = cg_read_u64(d, "cpuacct.usage", &st.cpu_time_ns, err)) < 0)
                        return r;
        } else if (v2) {
                uint64_t us = 0;
                if ((r = cg_read_key(v2, "cpu.stat", "usage_usec", &us, err)) < 0)
                        return r;
                st.cpu_time_ns = us * 1000;
        }
        if ((d = cgroup_guest_dir(cg, "memory"))) {
                if ((r = cg_read_u64(d, "memory.usage_in_bytes", &st.memory_bytes, err)) < 0 ||
                    (r = cg_read_u64(d, "memory.limit_in_bytes", &st.memory_limit, err)) < 0)
                        return r;
        } else if (v2 && cg_has(v2, "memory.current")) {
                if ((r = cg_read_u64(v2, "memory.current", &st.memory_bytes, err)) < 0 ||
                    (r = cg_read_u64(v2, "memory.max", &st.memory_limit, err)) < 0)
                        return r;
        }
        st.oom_kills = UINT64_MAX;
        if ((d = cgroup_guest_dir(cg, "memory")))
                (void)cg_read_key(d, "memory.oom_control", "oom_kill", &st.oom_kills, NULL);
        else if (v2 && cg_has(v2, "memory.events"))
                (void)cg_read_key(v2, "memory.events", "oom_kill", &st.oom_kills, NULL);
        d = cgroup_guest_dir(cg, "pids");
        if (!d && v2 && cg_has(v2, "pids.current"))
                d = v2;
        if (d) {
                if ((r = cg_read_u64(d, "pids.current", &st.pids_current, err)) < 0 ||
                    (r = cg_read_u64(d, "pids.max", &st.pids_max, err)) < 0)
                        return r;
        }
        *ret = st;
        return 0;
}

/* ---- OOM notification ---- */

int cgroup_guest_oom_watch(struct cgroup *cg, int *ret_fd, uint32_t *ret_events,
                           struct lv_error **err)
{
        const char *d = cgroup_guest_dir(cg, "memory");
        if (d) {
                _cleanup_free_ char *ctl = xasprintf("%s/memory.oom_control", d);
                _cleanup_close_ int ofd = open(ctl, O_RDONLY | O_CLOEXEC);
                if (ofd < 0)
                        return lv_error_set(err, errno, "cgroup file '%s'", ctl);
                _cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (efd < 0)
                        return lv_error_set(err, errno, "cgroup %s: eventfd", cg->name);
                _cleanup_free_ char *ec = xasprintf("%s/cgroup.event_control", d);
                _cleanup_free_ char *line = xasprintf("%d %d", efd, ofd);
                int r = file_write_string(ec, line, err);
                if (r < 0)
                        return r;
                *ret_fd = TAKE_FD(efd);
                *ret_events = EPOLLIN;
                return 0;
        }
        const char *v2 = cgroup_guest_dir(cg, "");
        if (v2 && cg_has(v2, "memory.events")) {
                _cleanup_free_ char *ev = xasprintf("%s/memory.events", v2);
                int fd = open(ev, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return lv_error_set(err, errno, "cgroup file '%s'", ev);
                *ret_fd = fd;
                *ret_events = EPOLLPRI;
                return 0;
        }
        return lv_error_setf(err, LV_ERR_UNSUPPORTED, "cgroup %s: no memory controller", cg->name);
}

int cgroup_guest_oom_ack(struct cgroup *cg, int fd, uint64_t *ret_kills, struct lv_error **err)
{
        const char *d = cgroup_guest_dir(cg, "memory");
        if (d) {
                uint64_t n;
                (void)!read(fd, &n, sizeof n); /* the eventfd's counter */
                return cg_read_key(d, "memory.oom_control", "oom_kill", ret_kills, err);
        }
        /* kernfs: reading from the start re-arms the notification */
        char buf[512];
        (void)!pread(fd, buf, sizeof buf, 0);
        return cg_read_key(cgroup_guest_dir(cg, ""), "memory.events", "oom_kill", ret_kills, err);
}
