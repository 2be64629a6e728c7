/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Golden data: tests/data/qemu/NAME.xml → NAME.args (the command line) or
 * NAME.err (the refusal). LV_TEST_REGENERATE=1 rewrites the expected files.
 * The host-dependent inputs are fixed: QMP socket /run/litevirt/NAME/qmp.sock,
 * tap fds 100 + i for bridge/network interfaces, autoport VNC 5900 + i,
 * SPICE 5910 + i. */
#include <dirent.h>

#include "conf/domain.h"
#include "qemu/command.h"
#include "tests/qemu/qemu-helpers.h"
#include "util/fileio.h"

static int failures;

static int compare_or_write(const char *path, const char *got, bool regen)
{
        if (regen) {
                struct lv_error *err = NULL;
                if (file_write_atomic(path, got, strlen(got), 0644, &err) < 0) {
                        fprintf(stderr, "%s\n", err->message);
                        lv_error_free(err);
                        return -1;
                }
                return 0;
        }
        char *want = NULL;
        size_t len;
        struct lv_error *err = NULL;
        if (file_read_bounded(path, 1 << 20, &want, &len, &err) < 0) {
                fprintf(stderr, "FAIL %s: %s\n", path, err->message);
                lv_error_free(err);
                return -1;
        }
        int r = 0;
        if (!streq(want, got)) {
                fprintf(stderr, "FAIL %s differs; got:\n%s\n", path, got);
                r = -1;
        }
        free(want);
        return r;
}

static void test_one(const char *dir, const char *name, bool regen)
{
        _cleanup_free_ char *xml = xasprintf("%s/%s.xml", dir, name);
        _cleanup_free_ char *args_path = xasprintf("%s/%s.args", dir, name);
        _cleanup_free_ char *err_path = xasprintf("%s/%s.err", dir, name);
        struct lv_error *err = NULL;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        char *got = NULL;
        const char *expect_path;

        /* Parse under the file's own name so expected errors do not depend
         * on where the tree is checked out. */
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ char *shown = xasprintf("%s.xml", name);
        size_t len = 0;
        if (file_read_bounded(xml, DOMAIN_XML_MAX_BYTES, &text, &len, &err) < 0 ||
            domain_parse_string(text, len, shown, &def, &err) < 0) {
                got = xasprintf("parse: %s\n", err->message);
                expect_path = err_path;
        } else {
                _cleanup_free_ char *qmp = xasprintf("/run/litevirt/%s/qmp.sock", def->name);
                _cleanup_strv_free_ char **argv = NULL;
                if (qt_command_build_fixed(def, qmp, &argv, &err) < 0) {
                        got = xasprintf("%s\n", err->message);
                        expect_path = err_path;
                } else {
                        got = qemu_command_format(argv);
                        expect_path = args_path;
                        /* the definition lvsh define stores builds it too */
                        _cleanup_free_ char *why = NULL;
                        if (!qt_prepared_builds_same(text, shown, qmp, false, argv, &why)) {
                                fprintf(stderr, "FAIL %s: %s\n", name, why);
                                failures++;
                        }
                }
        }
        /* exactly one of .args / .err may exist */
        const char *other = expect_path == args_path ? err_path : args_path;
        if (!regen && access(other, F_OK) == 0) {
                fprintf(stderr, "FAIL %s: expected %s, but the result is %s\n", name, other,
                        expect_path);
                fprintf(stderr, "%s", got);
                failures++;
        } else if (compare_or_write(expect_path, got, regen) < 0) {
                failures++;
        } else {
                if (regen)
                        unlink(other);
                fprintf(stderr, "ok   %s\n", name);
        }
        free(got);
        lv_error_free(err);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
        const char *src = getenv("LV_SOURCE_ROOT");
        if (!src) {
                fprintf(stderr, "LV_SOURCE_ROOT not set\n");
                return 1;
        }
        bool regen = streq(getenv("LV_TEST_REGENERATE"), "1");
        _cleanup_free_ char *dir = xasprintf("%s/tests/data/qemu", src);
        DIR *d = opendir(dir);
        if (!d) {
                perror(dir);
                return 1;
        }
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (n > 4 && streq(de->d_name + n - 4, ".xml"))
                        strv_push(&names, xstrndup(de->d_name, n - 4));
        }
        closedir(d);
        size_t n = strv_length(names);
        if (n == 0) {
                fprintf(stderr, "no test data in %s\n", dir);
                return 1;
        }
        qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++)
                test_one(dir, names[i], regen);

        /* the builder is pure: the same definition twice gives the same line */
        fprintf(stderr, "%d of %zu failed\n", failures, n);
        return failures ? 1 : 0;
}
