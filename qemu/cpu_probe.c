/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Asking the host's QEMU which CPU models and features it offers
 * (qemu/cpu_probe.h), with a per-host cache. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu/cpu_probe.h"
#include "qemu/qmp.h"
#include "util/fileio.h"
#include "util/paths.h"

#define PROBE_TIMEOUT_MS 30000 /* QEMU's start on a loaded host */

static char *binary_stamp(const char *emulator, struct lv_error **err)
{
        struct stat st;
        if (stat(emulator, &st) < 0)
                return lv_error_set(err, errno, "emulator '%s'", emulator), NULL;
        /* the cache format's version first: a cache of an older one is
         * asked again */
        return xasprintf("2:%llu:%llu:%lld:%lld.%09ld", (unsigned long long)st.st_dev,
                         (unsigned long long)st.st_ino, (long long)st.st_size,
                         (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static char *cache_path(const char *emulator, bool kvm)
{
        _cleanup_free_ char *flat = xstrdup(emulator);
        for (char *p = flat; *p; p++)
                if (*p == '/')
                        *p = '_';
        return xasprintf("%s/.qemu-cpu/%s%s.json", paths_rundir(), kvm ? "kvm" : "tcg", flat);
}

static char **json_strv(struct json_object *arr)
{
        char **v = NULL;
        strv_push(&v, NULL); /* an empty list, not NULL */
        size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
        for (size_t i = 0; i < n; i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
                if (s)
                        strv_push(&v, xstrdup(s));
        }
        return v;
}

static struct json_object *strv_json(char *const *v)
{
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; v && v[i]; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

/* The cache's answer when it is for this very binary. */
static struct qemu_cpu_caps *cache_read(const char *path, const char *emulator, const char *stamp)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct lv_error *e = NULL;
        if (file_read_bounded(path, 1 << 22, &text, &len, &e) < 0) {
                lv_error_free(e);
                return NULL;
        }
        struct json_object *o = json_tokener_parse(text), *v;
        if (!o)
                return NULL;
        struct qemu_cpu_caps *caps = NULL;
        if (json_object_object_get_ex(o, "stamp", &v) &&
            streq_ptr(json_object_get_string(v), stamp)) {
                caps = xcalloc(1, sizeof(*caps));
                caps->emulator = xstrdup(emulator);
                json_object_object_get_ex(o, "models", &v);
                caps->models = json_strv(v);
                json_object_object_get_ex(o, "unavailable", &v);
                caps->unavailable = json_strv(v);
                json_object_object_get_ex(o, "on", &v);
                caps->features_on = json_strv(v);
                json_object_object_get_ex(o, "off", &v);
                caps->features_off = json_strv(v);
        }
        json_object_put(o);
        return caps;
}

static int cache_write(const char *path, const char *stamp, const struct qemu_cpu_caps *caps,
                       struct lv_error **err)
{
        _cleanup_free_ char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
        if (mkdir_p(dir, 0755, err) < 0)
                return -1;
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "stamp", json_object_new_string(stamp));
        json_object_object_add(o, "models", strv_json(caps->models));
        json_object_object_add(o, "unavailable", strv_json(caps->unavailable));
        json_object_object_add(o, "on", strv_json(caps->features_on));
        json_object_object_add(o, "off", strv_json(caps->features_off));
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        int r = file_write_replace(path, text, strlen(text), 0644, err);
        json_object_put(o);
        return r;
}

/* Reap QEMU: it quits on 'quit' or when its monitor closes; killed when
 * it has not after 5 s. */
static void reap(pid_t pid)
{
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd >= 0) {
                struct pollfd p = {.fd = pidfd, .events = POLLIN};
                int r;
                do
                        r = poll(&p, 1, 5000);
                while (r < 0 && errno == EINTR);
                if (r == 0)
                        kill(pid, SIGKILL);
                close(pidfd);
        } else {
                kill(pid, SIGKILL);
        }
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

static int ask_qemu(const char *emulator, bool kvm, struct qemu_cpu_caps *caps,
                    struct lv_error **err)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return lv_error_set(err, errno, "socketpair for QEMU's CPU probe");
        const char *argv[] = {
                emulator,      "-machine", "none", "-accel",          kvm ? "kvm" : "tcg",
                "-nodefaults", "-display", "none", "-no-user-config", "-qmp",
                "stdio",       NULL};
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(sv[0]);
                close(sv[1]);
                return lv_error_set(err, e, "fork for QEMU's CPU probe");
        }
        if (pid == 0) {
                int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0 || nul < 0 || dup2(nul, 2) < 0)
                        _exit(127);
                execv(emulator, (char *const *)argv);
                _exit(127);
        }
        close(sv[1]);
        _cleanup_qmp_ struct qmp *q = NULL;
        struct json_object *defs = NULL, *exp = NULL;
        int r = qmp_open_fd(sv[0], "QEMU's CPU probe", PROBE_TIMEOUT_MS, &q, err);
        if (r >= 0)
                r = qmp_call(q, "query-cpu-definitions", NULL, PROBE_TIMEOUT_MS, &defs, err);
        if (r >= 0)
                r = qmp_call_json(q, "query-cpu-model-expansion",
                                  "{\"type\":\"full\",\"model\":{\"name\":\"max\"}}",
                                  PROBE_TIMEOUT_MS, &exp, err);
        if (q)
                qmp_call(q, "quit", NULL, PROBE_TIMEOUT_MS, NULL, NULL);
        qmp_free(TAKE_PTR(q));
        reap(pid);
        if (r < 0) {
                lv_error_prefix(err, "asking %s (-accel %s) for its CPU models", emulator,
                                kvm ? "kvm" : "tcg");
                json_object_put(defs);
                json_object_put(exp);
                return -1;
        }
        strv_push(&caps->models, NULL);
        strv_push(&caps->unavailable, NULL);
        strv_push(&caps->features_on, NULL);
        strv_push(&caps->features_off, NULL);
        size_t n = json_object_is_type(defs, json_type_array) ? json_object_array_length(defs) : 0;
        for (size_t i = 0; i < n; i++) {
                struct json_object *d = json_object_array_get_idx(defs, i), *name, *un;
                if (!json_object_object_get_ex(d, "name", &name))
                        continue;
                strv_push(&caps->models, xstrdup(json_object_get_string(name)));
                _cleanup_strv_free_ char **u = NULL;
                if (json_object_object_get_ex(d, "unavailable-features", &un))
                        u = json_strv(un);
                strv_push(&caps->unavailable, strv_join(u, ","));
        }
        struct json_object *model, *props;
        if (json_object_object_get_ex(exp, "model", &model) &&
            json_object_object_get_ex(model, "props", &props)) {
                json_object_object_foreach(props, key, val)
                {
                        if (json_object_is_type(val, json_type_boolean))
                                strv_push(json_object_get_boolean(val) ? &caps->features_on
                                                                       : &caps->features_off,
                                          xstrdup(key));
                }
        }
        json_object_put(defs);
        json_object_put(exp);
        return 0;
}

int qemu_cpu_caps_get(const char *emulator, bool kvm, struct qemu_cpu_caps **ret,
                      struct lv_error **err)
{
        _cleanup_free_ char *stamp = binary_stamp(emulator, err);
        if (!stamp)
                return -1;
        _cleanup_free_ char *path = cache_path(emulator, kvm);
        struct qemu_cpu_caps *caps = cache_read(path, emulator, stamp);
        if (caps) {
                *ret = caps;
                return 0;
        }
        caps = xcalloc(1, sizeof(*caps));
        caps->emulator = xstrdup(emulator);
        if (ask_qemu(emulator, kvm, caps, err) < 0) {
                qemu_cpu_caps_free(caps);
                return -1;
        }
        /* a cache that cannot be written only costs the next start a probe */
        struct lv_error *e = NULL;
        if (cache_write(path, stamp, caps, &e) < 0)
                lv_error_free(e);
        *ret = caps;
        return 0;
}
