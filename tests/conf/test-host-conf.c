/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* host.conf tests as data: tests/data/hostconf/NAME.conf with NAME.err
 * (expected error) or NAME.out (the resulting settings). Plus the defaults
 * and a missing file. LV_TEST_REGENERATE=1 rewrites NAME.out. */
#include <dirent.h>

#include "conf/domain.h"
#include "conf/host_conf.h"
#include "util/fileio.h"
#include "tests/lib/golden.h"
#include "util/strbuf.h"

static int failures, checks;

static char *dump(const struct host_conf *c)
{
        struct strbuf b = {0};
        char u[37] = "(none)";
        if (c->has_host_uuid)
                domain_uuid_format(c->host_uuid, u);
        strbuf_printf(&b, "host_uuid=%s\nhostname=%s\n", u, c->hostname ? c->hostname : "(none)");
        strbuf_printf(&b, "vnc_ports=%d-%d\nspice_ports=%d-%d\nmigration_ports=%d-%d\n",
                      c->vnc_port_min, c->vnc_port_max, c->spice_port_min, c->spice_port_max,
                      c->migration_port_min, c->migration_port_max);
        strbuf_printf(&b, "migration_address=%s\ncgroup_parent=%s\nlockspace_dir=%s\n",
                      c->migration_address ? c->migration_address : "(none)",
                      c->cgroup_parent ? c->cgroup_parent : "(none)",
                      c->lockspace_dir ? c->lockspace_dir : "(none)");
        strbuf_printf(&b, "socket_group=%s\nshutdown_timeout=%u\n",
                      c->socket_group ? c->socket_group : "(none)", c->shutdown_timeout);
        strbuf_printf(&b, "qemu_uids=%u-%u\nqemu_user=%s\n", c->qemu_uid_min, c->qemu_uid_max,
                      c->qemu_user ? c->qemu_user : "(none)");
        strbuf_printf(&b, "migrate_tls_dir=%s\nmigrate_tls_x509_verify=%d\n",
                      host_conf_migrate_tls_dir(c), c->migrate_tls_x509_verify);
        strbuf_printf(&b, "spice_tls=%d\nspice_tls_x509_cert_dir=%s\n", c->spice_tls,
                      c->spice_tls_x509_cert_dir ? c->spice_tls_x509_cert_dir : "(unset)");
        return strbuf_steal(&b);
}

#define CHECK(cond, ...)                                                                           \
        do {                                                                                       \
                checks++;                                                                          \
                if (!(cond)) {                                                                     \
                        failures++;                                                                \
                        printf("not ok - ");                                                       \
                        printf(__VA_ARGS__);                                                       \
                        printf("\n");                                                              \
                } else {                                                                           \
                        printf("ok - ");                                                           \
                        printf(__VA_ARGS__);                                                       \
                        printf("\n");                                                              \
                }                                                                                  \
        } while (0)

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
        const char *src = getenv("LV_SOURCE_ROOT");
        bool regen = getenv("LV_TEST_REGENERATE") && streq(getenv("LV_TEST_REGENERATE"), "1");
        if (!src)
                return 1;
        _cleanup_free_ char *dir = xasprintf("%s/tests/data/hostconf", src);

        /* defaults, and a missing file is the defaults */
        struct host_conf c;
        host_conf_init(&c);
        _cleanup_error_ struct lv_error *err = NULL;
        int r = host_conf_load("/nonexistent/host.conf", &c, &err);
        CHECK(r == 0 && c.vnc_port_min == 5900 && c.vnc_port_max == 65535 &&
                      c.spice_port_min == 5900 && c.migration_port_min == 49152 &&
                      c.migration_port_max == 49215 && c.shutdown_timeout == 300 &&
                      c.qemu_uid_min == 400000 && c.qemu_uid_max == 400999 && !c.qemu_user &&
                      !c.has_host_uuid && !c.hostname,
              "missing file gives the defaults");
        host_conf_clear(&c);

        DIR *d = opendir(dir);
        if (!d) {
                printf("not ok - cannot open %s\n", dir);
                return 1;
        }
        char **names = xcalloc(1, sizeof(char *));
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l > 5 && streq(e->d_name + l - 5, ".conf")) {
                        strv_push(&names, xstrndup(e->d_name, l - 5));
                        n++;
                }
        }
        closedir(d);
        qsort(names, n, sizeof(char *), name_cmp);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = xasprintf("%s/%s.conf", dir, names[i]);
                _cleanup_free_ char *errpath = xasprintf("%s/%s.err", dir, names[i]);
                _cleanup_free_ char *outpath = xasprintf("%s/%s.out", dir, names[i]);
                _cleanup_free_ char *label = xasprintf("%s.conf", names[i]);
                _cleanup_free_ char *text = golden_read(path);
                _cleanup_free_ char *want_err = golden_read(errpath);
                _cleanup_error_ struct lv_error *perr = NULL;
                host_conf_init(&c);
                _cleanup_free_ char *before = dump(&c);
                r = host_conf_parse(text, strlen(text), label, &c, &perr);
                _cleanup_free_ char *after = dump(&c);
                if (want_err) {
                        _cleanup_free_ char *got = r < 0 ? xasprintf("%s\n", perr->message) : NULL;
                        if (got && regen && !streq(got, want_err)) {
                                _cleanup_error_ struct lv_error *werr = NULL;
                                file_write_atomic(errpath, got, strlen(got), 0644, &werr);
                                free(want_err);
                                want_err = xstrdup(got);
                        }
                        CHECK(r < 0 && streq(got, want_err), "%s: refused with %s", label,
                              got ? got : "(accepted)\n");
                        CHECK(streq(before, after), "%s: settings left as they were", label);
                } else {
                        _cleanup_free_ char *want = golden_read(outpath);
                        if (r == 0 && regen && !streq(want, after)) {
                                _cleanup_error_ struct lv_error *werr = NULL;
                                file_write_atomic(outpath, after, strlen(after), 0644, &werr);
                                free(want);
                                want = xstrdup(after);
                        }
                        CHECK(r == 0 && streq(want, after), "%s: parsed%s%s", label,
                              r < 0 ? ": " : "", r < 0 ? perr->message : "");
                }
                host_conf_clear(&c);
        }
        strv_free(names);
        printf("# %d checks, %d failed\n", checks, failures);
        return failures ? 1 : 0;
}
