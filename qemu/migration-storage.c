/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QEMU's part of storage migration (--copy-storage-all/-inc), as libvirt
 * does it: the destination's QEMU, waiting for the stream, serves each
 * copied disk over NBD (nbd-server-start + block-export-add, writable);
 * the source's QEMU mirrors each disk into that export (blockdev-add of
 * an NBD client node + blockdev-mirror) until the copies are in step,
 * the memory migration runs, and with the CPUs stopped at the
 * switch-over block-job-cancel completes each mirror without switching
 * to the copy (the source keeps its image), then the NBD nodes go.
 * QEMU's JOB_STATUS_CHANGE events say when to look at query-jobs. */
#include "qemu/migration-storage.h"
#include "qemu/migration.h"
#include "qemu/driver_priv.h"

#include <json-c/json.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "conf/host_conf.h"
#include "driver-support/loop.h"
#include "qemu/ports.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "util/log.h"

#define STORAGE_CMD_TIMEOUT_MS 10000
/* The mirrors' last writes after the CPUs stopped, and a cancel. */
#define STORAGE_END_TIMEOUT_MS 60000

static struct qemu_migration *storage_mig(struct lv_guest *g)
{
        struct qemu_guest *qg = g->driver_data;
        return qg ? &qg->mig : NULL;
}

void qemu_migration_job_event(struct qemu_migration *m)
{
        m->job_events++;
}

/* The disk's format node, as qemu/command.c names it (libvirt numbers
 * block nodes from the last disk down). */
static void node_format(const struct lv_guest *g, int index, char *buf, size_t n)
{
        snprintf(buf, n, "libvirt-%d-format", g->def->n_disks - index);
}

static const char *disk_target(const struct lv_guest *g, const struct lv_migration_disk *d)
{
        return g->def->disks[d->index].target_dev;
}

static const char *jget_str(struct json_object *o, const char *key)
{
        struct json_object *v;
        return o && json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static long long jget_ll(struct json_object *o, const char *key)
{
        struct json_object *v;
        return o && json_object_object_get_ex(o, key, &v) ? (long long)json_object_get_int64(v)
                                                          : -1;
}

/* query-block's "inserted" object of the disk's format node (borrowed
 * from *list, which the caller puts), NULL when QEMU has no such node. */
static struct json_object *block_inserted(struct json_object *list, const char *node)
{
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < n; i++) {
                struct json_object *ins = NULL;
                json_object_object_get_ex(json_object_array_get_idx(list, i), "inserted", &ins);
                if (ins && streq(jget_str(ins, "node-name"), node))
                        return ins;
        }
        return NULL;
}

int qemu_migration_storage_info(struct lv_guest *g, struct lv_migration_disk *disks, int n,
                                struct lv_error **err)
{
        struct qmp *q = qemu_migration_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        struct json_object *list = NULL;
        int r = qmp_call(q, "query-block", NULL, STORAGE_CMD_TIMEOUT_MS, &list, err);
        for (int i = 0; r >= 0 && i < n; i++) {
                char node[48];
                node_format(g, disks[i].index, node, sizeof(node));
                struct json_object *img = NULL, *bimg = NULL;
                struct json_object *ins = block_inserted(list, node);
                json_object_object_get_ex(ins, "image", &img);
                long long size = jget_ll(img, "virtual-size");
                if (size < 0) {
                        r = lv_error_setf(err, ENOENT, "guest '%s': disk '%s': QEMU has no image",
                                          g->name, disk_target(g, &disks[i]));
                        break;
                }
                disks[i].size = (unsigned long long)size;
                snprintf(disks[i].format, sizeof(disks[i].format), "%s",
                         jget_str(img, "format") ? jget_str(img, "format") : "raw");
                const char *backing = jget_str(img, "backing-filename");
                disks[i].backing = xstrdup_null(backing);
                json_object_object_get_ex(img, "backing-image", &bimg);
                snprintf(disks[i].backing_format, sizeof(disks[i].backing_format), "%s",
                         jget_str(bimg, "format") ? jget_str(bimg, "format") : "");
        }
        json_object_put(list);
        return r;
}

/* A child running argv, waited for; its stderr (a line) in the error. */
static int run_tool(char *const argv[], struct lv_error **err)
{
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return lv_error_set(err, errno, "pipe");
        pid_t pid = fork();
        if (pid < 0) {
                close(pfd[0]);
                close(pfd[1]);
                return lv_error_set(err, errno, "fork");
        }
        if (pid == 0) {
                (void)dup2(pfd[1], 2);
                int null = open("/dev/null", O_RDWR);
                if (null >= 0)
                        (void)dup2(null, 1);
                execvp(argv[0], argv);
                fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(pfd[1]);
        char buf[512];
        size_t len = 0;
        ssize_t k;
        while ((k = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) > 0 && len < sizeof(buf) - 1)
                len += (size_t)k;
        close(pfd[0]);
        buf[len] = 0;
        buf[strcspn(buf, "\n")] = 0;
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return lv_error_setf(err, EIO, "%s failed: %s", argv[0], *buf ? buf : "?");
        return 0;
}

int qemu_migration_storage_create(const struct lv_migration_disk *d, const char *path,
                                  struct lv_error **err)
{
        if (streq(d->format, "raw")) {
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0 || ftruncate(fd, (off_t)d->size) < 0 || fsync(fd) < 0)
                        return lv_error_set(err, errno, "creating '%s'", path);
                return 0;
        }
        if (!streq(d->format, "qcow2"))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "cannot create an image of format '%s' (raw or qcow2)",
                                     d->format);
        char size[32];
        snprintf(size, sizeof(size), "%llu", d->size);
        char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", NULL,
                        NULL,       NULL,     NULL, NULL, NULL,    NULL};
        int i = 5;
        if (d->backing) {
                argv[i++] = "-b";
                argv[i++] = d->backing;
                if (*d->backing_format) {
                        argv[i++] = "-F";
                        argv[i++] = (char *)d->backing_format;
                }
        }
        argv[i++] = (char *)path;
        argv[i] = size;
        int r = run_tool(argv, err);
        if (r >= 0 && chmod(path, 0600) < 0)
                r = lv_error_set(err, errno, "chmod '%s'", path);
        return r < 0 ? lv_error_prefix(err, "creating '%s'", path) : 0;
}

static void undo_nbd_port(struct lv_guest *g, void *data)
{
        struct qemu_migration *m = data;
        ports_release(&m->nbd_port);
}

int qemu_migration_storage_export(struct lv_guest *g, const struct lv_migration_disk *disks, int n,
                                  int *ret_port, struct lv_error **err)
{
        struct qmp *q = qemu_migration_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        struct qemu_migration *m = storage_mig(g);
        struct host_conf hc;
        host_conf_init(&hc);
        int r = host_conf_load(NULL, &hc, err);
        _cleanup_free_ char *dir = ports_dir();
        if (r >= 0)
                r = mkdir_p(dir, 0755, err);
        if (r >= 0 && m->nbd_port.lock_fd < 0)
                r = ports_reserve(dir, "NBD", hc.migration_port_min, hc.migration_port_max,
                                  hc.migration_address, &m->nbd_port, err);
        if (r >= 0 && !m->nbd_port_undo) {
                guest_undo_push(g, "NBD port", undo_nbd_port, m, NULL);
                m->nbd_port_undo = true;
        }
        if (r >= 0) {
                _cleanup_free_ char *a = xasprintf(
                        "{\"addr\":{\"type\":\"inet\",\"data\":{\"host\":\"%s\",\"port\":\"%d\"}}}",
                        hc.migration_address ? hc.migration_address : "0.0.0.0", m->nbd_port.port);
                r = qmp_call_json(q, "nbd-server-start", a, STORAGE_CMD_TIMEOUT_MS, NULL, err);
                if (r < 0)
                        lv_error_prefix(err, "guest '%s': NBD server on port %d", g->name,
                                        m->nbd_port.port);
        }
        host_conf_clear(&hc);
        struct json_object *list = NULL;
        if (r >= 0)
                r = qmp_call(q, "query-block", NULL, STORAGE_CMD_TIMEOUT_MS, &list, err);
        for (int i = 0; r >= 0 && i < n; i++) {
                const char *target = disk_target(g, &disks[i]);
                char node[48];
                node_format(g, disks[i].index, node, sizeof(node));
                struct json_object *img = NULL;
                json_object_object_get_ex(block_inserted(list, node), "image", &img);
                long long size = jget_ll(img, "virtual-size");
                if (size >= 0 && (unsigned long long)size < disks[i].size) {
                        r = lv_error_setf(err, ENOSPC,
                                          "guest '%s': disk '%s' ('%s') has %lld bytes here, the "
                                          "source's has %llu",
                                          g->name, target, g->def->disks[disks[i].index].source,
                                          size, disks[i].size);
                        break;
                }
                struct json_object *a = json_object_new_object();
                json_object_object_add(a, "type", json_object_new_string("nbd"));
                _cleanup_free_ char *id = xasprintf("migrate-%s", target);
                json_object_object_add(a, "id", json_object_new_string(id));
                json_object_object_add(a, "node-name", json_object_new_string(node));
                json_object_object_add(a, "writable", json_object_new_boolean(true));
                json_object_object_add(a, "name", json_object_new_string(target));
                r = qmp_call(q, "block-export-add", a, STORAGE_CMD_TIMEOUT_MS, NULL, err);
                if (r < 0)
                        lv_error_prefix(err, "guest '%s': exporting disk '%s'", g->name, target);
        }
        json_object_put(list);
        if (r < 0) {
                (void)qmp_call(q, "nbd-server-stop", NULL, STORAGE_CMD_TIMEOUT_MS, NULL, NULL);
                ports_release(&m->nbd_port);
                return r;
        }
        *ret_port = m->nbd_port.port;
        return 0;
}

void qemu_migration_storage_unexport(struct lv_guest *g, const struct lv_migration_disk *disks,
                                     int n)
{
        struct qmp *q = qemu_migration_qmp(g, NULL);
        struct qemu_migration *m = storage_mig(g);
        if (!q || !m)
                return;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *a =
                        xasprintf("{\"id\":\"migrate-%s\"}", disk_target(g, &disks[i]));
                (void)qmp_call_json(q, "block-export-del", a, STORAGE_CMD_TIMEOUT_MS, NULL, NULL);
        }
        (void)qmp_call(q, "nbd-server-stop", NULL, STORAGE_CMD_TIMEOUT_MS, NULL, NULL);
        ports_release(&m->nbd_port);
}

/* The migration's block jobs ("migrate-TARGET") as query-jobs has them. */
struct jobs_state {
        int n_ready, n_concluded, n_jobs;
        unsigned long long current, total;
        char error[256];
};

static int jobs_query(struct qmp *q, struct jobs_state *st, struct lv_error **err)
{
        *st = (struct jobs_state){0};
        struct json_object *list = NULL;
        int r = qmp_call(q, "query-jobs", NULL, STORAGE_CMD_TIMEOUT_MS, &list, err);
        if (r < 0)
                return r;
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < n; i++) {
                struct json_object *j = json_object_array_get_idx(list, i);
                const char *id = jget_str(j, "id"), *status = jget_str(j, "status");
                if (!id || !startswith(id, "migrate-"))
                        continue;
                st->n_jobs++;
                st->n_ready += streq(status, "ready");
                st->n_concluded += streq(status, "concluded") || streq(status, "null");
                long long cur = jget_ll(j, "current-progress"), tot = jget_ll(j, "total-progress");
                st->current += cur > 0 ? (unsigned long long)cur : 0;
                st->total += tot > 0 ? (unsigned long long)tot : 0;
                const char *e = jget_str(j, "error");
                if (e && !*st->error)
                        snprintf(st->error, sizeof(st->error), "disk '%s': %s",
                                 id + strlen("migrate-"), e);
        }
        json_object_put(list);
        return 0;
}

/* Wait for QEMU's next job event (or slice_ms): with the guest's event
 * loop running (the control socket answers), or reading QEMU's monitor
 * only (the switch-over). */
static int jobs_wait_event(struct lv_guest *g, struct qmp *q, bool use_loop, int slice_ms,
                           struct lv_error **err)
{
        struct qemu_migration *m = storage_mig(g);
        unsigned seen = m->job_events;
        long long until = clock_now_ms() + slice_ms;
        while (m->job_events == seen) {
                long long left = until - clock_now_ms();
                if (left <= 0)
                        return 0;
                if (use_loop && g->loop) {
                        int k = loop_dispatch(g->loop, (int)left);
                        if (k < 0 && k != -EINTR)
                                return lv_error_set(err, -k, "event loop");
                } else if (qemu_migration_qmp_read(q, (int)left, err) < 0) {
                        return -EIO;
                }
                if (qemu_migration_qmp(g, NULL) != q || qmp_is_closed(q))
                        return lv_error_setf(err, ECONNRESET, "QEMU ended during the disk copy");
                m = storage_mig(g);
        }
        return 0;
}

int qemu_migration_storage_mirror(struct lv_guest *g, const struct lv_migration_disk *disks, int n,
                                  const char *host, int port, bool incremental, int timeout_s,
                                  const bool *aborted, struct lv_error **err)
{
        struct qmp *q = qemu_migration_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        int r = 0;
        for (int i = 0; r >= 0 && i < n; i++) {
                const char *target = disk_target(g, &disks[i]);
                char node[48];
                node_format(g, disks[i].index, node, sizeof(node));
                _cleanup_free_ char *nbd_node = xasprintf("migration-%s-storage", target);
                struct json_object *srv = json_object_new_object();
                json_object_object_add(srv, "type", json_object_new_string("inet"));
                json_object_object_add(srv, "host", json_object_new_string(host));
                _cleanup_free_ char *ps = xasprintf("%d", port);
                json_object_object_add(srv, "port", json_object_new_string(ps));
                struct json_object *a = json_object_new_object();
                json_object_object_add(a, "driver", json_object_new_string("nbd"));
                json_object_object_add(a, "node-name", json_object_new_string(nbd_node));
                json_object_object_add(a, "server", srv);
                json_object_object_add(a, "export", json_object_new_string(target));
                r = qmp_call(q, "blockdev-add", a, STORAGE_CMD_TIMEOUT_MS, NULL, err);
                if (r < 0) {
                        lv_error_prefix(err,
                                        "disk '%s': connecting to the destination's NBD "
                                        "server %s:%d",
                                        target, host, port);
                        break;
                }
                _cleanup_free_ char *id = xasprintf("migrate-%s", target);
                a = json_object_new_object();
                json_object_object_add(a, "job-id", json_object_new_string(id));
                json_object_object_add(a, "device", json_object_new_string(node));
                json_object_object_add(a, "target", json_object_new_string(nbd_node));
                json_object_object_add(a, "sync",
                                       json_object_new_string(incremental ? "top" : "full"));
                json_object_object_add(a, "auto-dismiss", json_object_new_boolean(false));
                r = qmp_call(q, "blockdev-mirror", a, STORAGE_CMD_TIMEOUT_MS, NULL, err);
                if (r < 0)
                        lv_error_prefix(err, "disk '%s': mirror", target);
        }
        long long deadline = clock_now_ms() + (long long)timeout_s * 1000;
        struct jobs_state st = {0};
        while (r >= 0) {
                if ((r = jobs_query(q, &st, err)) < 0)
                        break;
                if (*st.error || st.n_concluded > 0) {
                        r = lv_error_setf(err, EIO, "copying the disks: %s",
                                          *st.error ? st.error : "a mirror ended");
                        break;
                }
                if (st.n_ready == n)
                        break;
                if (*aborted) {
                        r = lv_error_setf(err, ECANCELED, "migration job: canceled by client");
                        break;
                }
                if (clock_now_ms() >= deadline) {
                        r = lv_error_setf(err, ETIMEDOUT,
                                          "copying the disks did not finish in time (%llu of "
                                          "%llu bytes)",
                                          st.current, st.total);
                        break;
                }
                r = jobs_wait_event(g, q, true, 200, err);
        }
        if (r >= 0)
                log_info("migration: %d disk(s) copied (%llu bytes), mirrored from now on", n,
                         st.total);
        return r;
}

int qemu_migration_storage_progress(struct lv_guest *g, unsigned long long *processed,
                                    unsigned long long *total, struct lv_error **err)
{
        struct qmp *q = qemu_migration_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        struct jobs_state st;
        int r = jobs_query(q, &st, err);
        if (r >= 0) {
                *processed = st.current;
                *total = st.total;
        }
        return r;
}

int qemu_migration_storage_mirror_end(struct lv_guest *g, const struct lv_migration_disk *disks,
                                      int n, bool complete, struct lv_error **err)
{
        struct qmp *q = qemu_migration_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        int r = 0;
        for (int i = 0; i < n; i++) {
                /* A ready mirror cancelled (not forced) first writes what
                 * it has not copied, then ends without switching over. */
                _cleanup_free_ char *a =
                        xasprintf("{\"device\":\"migrate-%s\",\"force\":%s}",
                                  disk_target(g, &disks[i]), complete ? "false" : "true");
                _cleanup_error_ struct lv_error *ce = NULL;
                if (qmp_call_json(q, "block-job-cancel", a, STORAGE_CMD_TIMEOUT_MS, NULL, &ce) <
                            0 &&
                    complete && r >= 0) {
                        r = lv_error_setf(err, EIO, "disk '%s': ending the mirror: %s",
                                          disk_target(g, &disks[i]), ce->message);
                }
        }
        long long deadline = clock_now_ms() + STORAGE_END_TIMEOUT_MS;
        struct jobs_state st = {0};
        while (r >= 0) {
                _cleanup_error_ struct lv_error *qe = NULL;
                if (jobs_query(q, &st, &qe) < 0 || st.n_concluded == st.n_jobs)
                        break;
                if (clock_now_ms() >= deadline) {
                        r = lv_error_setf(err, ETIMEDOUT,
                                          "the disks' mirrors did not end in time (%llu of "
                                          "%llu bytes)",
                                          st.current, st.total);
                        break;
                }
                if (jobs_wait_event(g, q, false, 200, &qe) < 0)
                        break;
        }
        if (r >= 0 && complete && *st.error)
                r = lv_error_setf(err, EIO, "copying the disks: %s", st.error);
        for (int i = 0; qemu_migration_qmp(g, NULL) == q && i < n; i++) {
                const char *target = disk_target(g, &disks[i]);
                _cleanup_free_ char *a = xasprintf("{\"id\":\"migrate-%s\"}", target);
                (void)qmp_call_json(q, "job-dismiss", a, STORAGE_CMD_TIMEOUT_MS, NULL, NULL);
                free(a);
                a = xasprintf("{\"node-name\":\"migration-%s-storage\"}", target);
                (void)qmp_call_json(q, "blockdev-del", a, STORAGE_CMD_TIMEOUT_MS, NULL, NULL);
        }
        if (r >= 0 && complete)
                log_info("migration: disk mirrors completed");
        return r;
}
