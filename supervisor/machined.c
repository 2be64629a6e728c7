/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Registration of the running guest with systemd-machined, so that
 * `machinectl list` and `machinectl status NAME` show it as they show
 * nspawn's and libvirt's guests (docs/supervisor.md "machined").
 *
 * RegisterMachineWithNetwork (not CreateMachine): the guest's processes
 * already live in the supervisor's cgroup subtree (below litevirt@NAME.service
 * with Delegate=yes), so machined only records the machine and the unit
 * it finds the leader in; UnregisterMachine when the guest's process ends
 * (an undo of the start), which, unlike TerminateMachine, kills nothing.
 *
 * The D-Bus client is sd-bus from libsystemd, loaded with dlopen here only:
 * on a host not booted with systemd, or without machined installed, the
 * supervisor neither loads nor maps it (its memory does not grow), and a
 * registration that fails is a warning, never a failed start. The few
 * sd-bus calls are declared here (their ABI is stable, sd-bus(3)) so the
 * build needs no libsystemd-dev. */
#include <dlfcn.h>
#include <malloc.h>
#include <net/if.h>
#include <sys/stat.h>

#include "supervisor/supervisor.h"
#include "util/log.h"

#define LIBSYSTEMD     "libsystemd.so.0"
#define MACHINED_DEST  "org.freedesktop.machine1"
#define MACHINED_PATH  "/org/freedesktop/machine1"
#define MACHINED_IFACE "org.freedesktop.machine1.Manager"
/* A call that machined does not answer within this does not hold up the
 * guest's start (or its end) any longer. */
#define MACHINED_TIMEOUT_USEC (5ULL * 1000000ULL)

/* sd-bus(3): opaque objects and the error structure (SD_BUS_ERROR_NULL). */
typedef struct sd_bus sd_bus;
typedef struct sd_bus_message sd_bus_message;
typedef struct {
        const char *name;
        const char *message;
        int _need_free;
} sd_bus_error;

static struct {
        void *handle;
        int (*open_system)(sd_bus **ret);
        sd_bus *(*flush_close_unref)(sd_bus *bus);
        int (*message_new_method_call)(sd_bus *bus, sd_bus_message **m, const char *dest,
                                       const char *path, const char *iface, const char *member);
        int (*message_append)(sd_bus_message *m, const char *types, ...);
        int (*message_append_array)(sd_bus_message *m, char type, const void *ptr, size_t size);
        int (*call)(sd_bus *bus, sd_bus_message *m, uint64_t usec, sd_bus_error *ret_error,
                    sd_bus_message **reply);
        sd_bus_message *(*message_unref)(sd_bus_message *m);
        void (*error_free)(sd_bus_error *e);
} sdbus;

static bool path_exists(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0;
}

/* machined can answer: the host runs systemd (sd_booted(3)), has a system
 * bus, and machined runs or D-Bus can start it; $LITEVIRT_MACHINED=0 turns
 * the registration off. Checked before libsystemd is loaded. */
static bool machined_present(void)
{
        const char *env = getenv("LITEVIRT_MACHINED");
        if (env && streq(env, "0"))
                return false; /* turned off (docs/supervisor.md) */
        return path_exists("/run/systemd/system") && path_exists("/run/dbus/system_bus_socket") &&
               (path_exists("/run/systemd/machines") ||
                path_exists("/usr/share/dbus-1/system-services/org.freedesktop.machine1.service"));
}

static int sdbus_load(struct lv_error **err)
{
        void *h = dlopen(LIBSYSTEMD, RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return lv_error_setf(err, ENOENT, "cannot load %s: %s", LIBSYSTEMD, dlerror());
        struct {
                const char *name;
                void **fn;
        } syms[] = {
                {"sd_bus_open_system", (void **)&sdbus.open_system},
                {"sd_bus_flush_close_unref", (void **)&sdbus.flush_close_unref},
                {"sd_bus_message_new_method_call", (void **)&sdbus.message_new_method_call},
                {"sd_bus_message_append", (void **)&sdbus.message_append},
                {"sd_bus_message_append_array", (void **)&sdbus.message_append_array},
                {"sd_bus_call", (void **)&sdbus.call},
                {"sd_bus_message_unref", (void **)&sdbus.message_unref},
                {"sd_bus_error_free", (void **)&sdbus.error_free},
        };
        for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
                *syms[i].fn = dlsym(h, syms[i].name);
                if (!*syms[i].fn) {
                        dlclose(h);
                        return lv_error_setf(err, ENOSYS, "%s has no %s", LIBSYSTEMD, syms[i].name);
                }
        }
        sdbus.handle = h;
        return 0;
}

/* Loaded for each call and unloaded after it, as the XML module is after
 * the parse: what it relocated and allocated would otherwise stay in every
 * supervisor for the guest's life (docs/supervisor.md "machined"). */
static void sdbus_unload(void)
{
        if (sdbus.handle)
                dlclose(sdbus.handle);
        memset(&sdbus, 0, sizeof(sdbus));
        malloc_trim(0);
}

/* The libsystemd convention (negative errno, sd_bus_error) translated
 * once, here. */
static int sdbus_error(int r, sd_bus_error *e, const char *what, struct lv_error **err)
{
        if (e->name)
                return lv_error_setf(err, -r ?: EIO, "%s: %s (%s)", what,
                                     e->message ?: "no message", e->name);
        return lv_error_set(err, -r, "%s", what);
}

/* Call MEMBER of machined's manager: build(m) appends the arguments. */
static int machined_call(const char *member, int (*build)(sd_bus_message *m, void *data),
                         void *data, struct lv_error **err)
{
        int r = sdbus_load(err);
        if (r < 0)
                return r;
        sd_bus *bus = NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error e = {0};
        _cleanup_free_ char *what = xasprintf("machined %s", member);
        if ((r = sdbus.open_system(&bus)) < 0)
                r = lv_error_set(err, -r, "cannot connect to the system bus");
        else if ((r = sdbus.message_new_method_call(bus, &m, MACHINED_DEST, MACHINED_PATH,
                                                    MACHINED_IFACE, member)) < 0 ||
                 (r = build(m, data)) < 0)
                r = lv_error_set(err, -r, "%s: cannot build the call", what);
        else if ((r = sdbus.call(bus, m, MACHINED_TIMEOUT_USEC, &e, &reply)) < 0)
                r = sdbus_error(r, &e, what, err);
        sdbus.error_free(&e);
        if (reply)
                sdbus.message_unref(reply);
        if (m)
                sdbus.message_unref(m);
        if (bus)
                sdbus.flush_close_unref(bus);
        sdbus_unload();
        return r < 0 ? r : 0;
}

struct machine_args {
        const char *name;
        const unsigned char *uuid;
        const char *class;
        uint32_t leader;
        const char *root;
        int32_t ifindices[16];
        size_t n_ifindices;
};

static int build_register(sd_bus_message *m, void *data)
{
        struct machine_args *a = data;
        int r = sdbus.message_append(m, "s", a->name);
        if (r >= 0)
                r = sdbus.message_append_array(m, 'y', a->uuid, 16);
        if (r >= 0)
                r = sdbus.message_append(m, "ssus", "litevirt", a->class, a->leader, a->root);
        if (r >= 0)
                r = sdbus.message_append_array(m, 'i', a->ifindices,
                                               a->n_ifindices * sizeof(int32_t));
        return r;
}

static int build_unregister(sd_bus_message *m, void *data)
{
        return sdbus.message_append(m, "s", (const char *)data);
}

static void machine_unregister(struct lv_guest *g, void *data)
{
        _cleanup_error_ struct lv_error *e = NULL;
        if (machined_call("UnregisterMachine", build_unregister, (void *)g->name, &e) < 0)
                log_warning("guest '%s': %s", g->name, e->message);
        else
                log_info("unregistered from systemd-machined");
}

void supervisor_machine_register(struct supervisor *sv)
{
        struct lv_guest *g = &sv->g;
        if (!machined_present()) {
                log_debug("systemd-machined is not available: the guest is not registered");
                return;
        }
        const struct domain_def *def = g->def;
        const struct domain_fs *root = domain_root_fs(def);
        struct machine_args a = {
                .name = g->name,
                .uuid = def->uuid,
                .class = def->type == DOMAIN_TYPE_LXC ? "container" : "vm",
                .leader = (uint32_t)g->pid,
                .root = def->type == DOMAIN_TYPE_LXC && root && root->source ? root->source : "",
        };
        /* The host side of each interface the guest has (veth, tap). */
        for (int i = 0; i < def->n_nets && a.n_ifindices < ARRAY_SIZE(a.ifindices); i++) {
                unsigned idx =
                        def->nets[i].target_dev ? if_nametoindex(def->nets[i].target_dev) : 0;
                if (idx > 0)
                        a.ifindices[a.n_ifindices++] = (int32_t)idx;
        }
        _cleanup_error_ struct lv_error *e = NULL;
        int r = machined_call("RegisterMachineWithNetwork", build_register, &a, &e);
        if (r < 0 && strstr(e->message, "(org.freedesktop.machine1.MachineExists)")) {
                /* Left by a supervisor of this guest that died (we hold the
                 * guest's lock: no other one runs): ours now. */
                log_info("replacing the machine '%s' a previous supervisor registered", g->name);
                lv_error_freep(&e);
                r = machined_call("UnregisterMachine", build_unregister, (void *)g->name, &e);
                if (r >= 0)
                        r = machined_call("RegisterMachineWithNetwork", build_register, &a, &e);
        }
        if (r < 0) {
                log_warning("guest '%s' not registered with systemd-machined: %s", g->name,
                            e->message);
                return;
        }
        log_info("registered with systemd-machined as '%s' (class %s, leader %d)", g->name, a.class,
                 (int)g->pid);
        guest_undo_push(g, "machined registration", machine_unregister, NULL, NULL);
}
