/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QEMU driver's vCPUs: lvsh vcpuinfo (QMP query-cpus-fast names each
 * vCPU's thread; the host CPU it last ran on and its CPU time come from
 * /proc, its affinity from sched_getaffinity) and setvcpus --live
 * (query-hotpluggable-cpus: device_add of the next free slot, device_del
 * of the last one added, which the guest must then release). */
#include <sched.h>

#include "qemu/driver_priv.h"
#include "util/fileio.h"
#include "util/log.h"

/* state, CPU time (ns) and last CPU of a thread, from its stat line */
static int thread_stat(pid_t pid, int tid, char *state, unsigned long long *ns, int *cpu,
                       struct lv_error **err)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/task/%d/stat", (int)pid, tid);
        _cleanup_free_ char *data = NULL;
        int r = file_read_bounded(path, 4096, &data, NULL, err);
        if (r < 0)
                return r;
        /* after the command name's ')' (it may hold blanks): field 3 on */
        const char *p = strrchr(data, ')');
        unsigned long long utime = 0, stime = 0;
        if (!p || sscanf(p + 2,
                         "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
                         "%*d %*d %*u %*u %*d %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u %*u "
                         "%*u %*d %d",
                         state, &utime, &stime, cpu) != 4)
                return lv_error_setf(err, EPROTO, "'%s' does not parse", path);
        long hz = sysconf(_SC_CLK_TCK);
        *ns = (utime + stime) * (1000000000ULL / (unsigned long long)(hz > 0 ? hz : 100));
        return 0;
}

int qemu_vcpus_info(struct lv_guest *g, struct json_object *out, struct lv_error **err)
{
        struct qmp *q = qemu_guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        struct json_object *cpus = NULL, *v;
        int r = qmp_call(q, "query-cpus-fast", NULL, QEMU_CMD_TIMEOUT_MS, &cpus, err);
        if (r < 0)
                return lv_error_prefix(err, "vcpuinfo");
        for (size_t i = 0; i < json_object_array_length(cpus); i++) {
                struct json_object *c = json_object_array_get_idx(cpus, i);
                if (!json_object_object_get_ex(c, "thread-id", &v))
                        continue;
                int tid = json_object_get_int(v);
                int index = json_object_object_get_ex(c, "cpu-index", &v) ? json_object_get_int(v)
                                                                          : (int)i;
                char state = '?';
                unsigned long long ns = 0;
                int cpu = -1;
                if ((r = thread_stat(g->pid, tid, &state, &ns, &cpu, err)) < 0)
                        break;
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "vcpu", json_object_new_int(index));
                json_object_object_add(o, "thread", json_object_new_int(tid));
                json_object_object_add(o, "cpu", json_object_new_int(cpu));
                /* libvirt: a vCPU QEMU has is running (its thread may sleep) */
                json_object_object_add(o, "state", json_object_new_string("running"));
                json_object_object_add(o, "cpu_time_ns", json_object_new_int64((int64_t)ns));
                cpu_set_t set;
                struct json_object *aff = json_object_new_array();
                if (sched_getaffinity(tid, sizeof(set), &set) == 0) {
                        for (int k = 0; k < CPU_SETSIZE; k++)
                                if (CPU_ISSET(k, &set))
                                        json_object_array_add(aff, json_object_new_int(k));
                }
                json_object_object_add(o, "affinity", aff);
                json_object_array_add(out, o);
        }
        json_object_put(cpus);
        return r < 0 ? lv_error_prefix(err, "vcpuinfo") : 0;
}

/* The slots of query-hotpluggable-cpus in the order of their ids
 * (socket, core, thread): QEMU lists them the other way round. */
static long long slot_key(struct json_object *slot)
{
        struct json_object *props, *v;
        long long key = 0;
        static const char *const ids[] = {"socket-id", "die-id", "core-id", "thread-id"};
        json_object_object_get_ex(slot, "props", &props);
        for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
                key = key * 4096 + (props && json_object_object_get_ex(props, ids[i], &v)
                                            ? json_object_get_int(v)
                                            : 0);
        return key;
}

static int slot_cmp(const void *a, const void *b)
{
        long long ka = slot_key(*(struct json_object *const *)a),
                  kb = slot_key(*(struct json_object *const *)b);
        return ka < kb ? -1 : ka > kb;
}

/* The slots, sorted; *present: how many hold a vCPU. */
static int slots_get(struct qmp *q, struct json_object **ret, struct json_object ***slots,
                     size_t *n, unsigned *present, struct lv_error **err)
{
        int r = qmp_call(q, "query-hotpluggable-cpus", NULL, QEMU_CMD_TIMEOUT_MS, ret, err);
        if (r < 0)
                return r;
        *n = json_object_array_length(*ret);
        *slots = xcalloc(*n + 1, sizeof(**slots));
        *present = 0;
        for (size_t i = 0; i < *n; i++) {
                (*slots)[i] = json_object_array_get_idx(*ret, i);
                *present += json_object_object_get_ex((*slots)[i], "qom-path", NULL);
        }
        qsort(*slots, *n, sizeof(**slots), slot_cmp);
        return 0;
}

static int vcpu_plug(struct qmp *q, struct json_object *slot, size_t index, struct lv_error **err)
{
        struct json_object *props, *v, *a = json_object_new_object();
        json_object_object_get_ex(slot, "type", &v);
        json_object_object_add(a, "driver", json_object_new_string(json_object_get_string(v)));
        _cleanup_free_ char *id = xasprintf("vcpu%zu", index);
        json_object_object_add(a, "id", json_object_new_string(id));
        if (json_object_object_get_ex(slot, "props", &props)) {
                json_object_object_foreach(props, key, val)
                {
                        json_object_object_add(a, key, json_object_get(val));
                }
        }
        return qmp_call(q, "device_add", a, QEMU_CMD_TIMEOUT_MS, NULL, err);
}

int qemu_vcpus_set(struct lv_guest *g, unsigned n, struct lv_error **err)
{
        struct qmp *q = qemu_guest_qmp(g, err);
        if (!q)
                return -ENOTCONN;
        struct json_object *ret = NULL, *v;
        _cleanup_free_ struct json_object **slots = NULL;
        size_t nslots = 0;
        unsigned present = 0;
        int r = slots_get(q, &ret, &slots, &nslots, &present, err);
        if (r < 0)
                return lv_error_prefix(err, "setvcpus");
        /* QEMU 7.2 under TCG dies (SIGSEGV) on a vCPU device_add, into
         * any slot, once a vCPU was unplugged (measured: docs/qemu.md):
         * refused rather than losing the guest */
        struct qemu_guest *qg = g->driver_data;
        if (present < n && qg->vcpu_unplugged && g->def->type != DOMAIN_TYPE_KVM) {
                json_object_put(ret);
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "setvcpus: a vCPU of this TCG guest was unplugged, and "
                                     "QEMU then crashes on any vCPU hot-plug; set the count "
                                     "with --config and restart the guest");
        }
        /* plug into the first free slots, unplug from the last taken */
        for (size_t i = 0; r >= 0 && present < n && i < nslots; i++)
                if (!json_object_object_get_ex(slots[i], "qom-path", NULL) &&
                    (r = vcpu_plug(q, slots[i], i, err)) >= 0) {
                        present++;
                        qemu_vcpu_record(g->def, (unsigned)i, true);
                }
        for (size_t i = nslots; r >= 0 && present > n && i-- > 0;) {
                if (!json_object_object_get_ex(slots[i], "qom-path", &v))
                        continue;
                const char *path = json_object_get_string(v);
                /* only what device_add plugged (peripheral/ID) can go again */
                if (!startswith(path, "/machine/peripheral/")) {
                        r = lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                          "vCPU %zu was there at the start and can't be "
                                          "unplugged",
                                          i);
                        break;
                }
                struct json_object *a = json_object_new_object();
                json_object_object_add(
                        a, "id", json_object_new_string(path + strlen("/machine/peripheral/")));
                if ((r = qmp_call(q, "device_del", a, QEMU_CMD_TIMEOUT_MS, NULL, err)) >= 0) {
                        present--;
                        if (!qg->vcpu_unplugged) {
                                qg->vcpu_unplugged = true;
                                _cleanup_error_ struct lv_error *e = NULL;
                                if (qemu_write_info(g, qg, &e) < 0)
                                        log_warning("%s", e->message);
                        }
                }
        }
        json_object_put(ret);
        /* an unplug is done when the guest lets the vCPU go: QEMU's
         * DEVICE_DELETED (g->vcpu_released, qemu/hotplug.c) */
        return r < 0 ? lv_error_prefix(err, "setvcpus") : 0;
}
