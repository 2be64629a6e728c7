/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host QEMU's CPU offer (qemu/cpu_probe.c) asked of the real
 * qemu-system-x86_64 under TCG, its cache, and what a start refuses with
 * it: an unknown model or feature, a required feature TCG cannot give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "conf/domain.h"
#include "qemu/cpu_probe.h"
#include "util/fileio.h"

#define EMU "/usr/bin/qemu-system-x86_64"

static char rundir[] = "/tmp/lv-qemu-cpu.XXXXXX";

static struct domain_def *guest(const char *cpu)
{
        _cleanup_free_ char *xml = xasprintf("<domain type='qemu'><name>cpu</name>"
                                             "<memory>65536</memory><os><type>hvm</type></os>"
                                             "%s</domain>",
                                             cpu);
        struct domain_def *def = NULL;
        struct lv_error *err = NULL;
        if (domain_parse_string(xml, strlen(xml), "cpu.xml", &def, &err) < 0)
                fail_msg("%s", err->message);
        return def;
}

/* The error of checking CPU against the host's QEMU, NULL when accepted. */
static char *check(const char *cpu)
{
        _cleanup_domain_def_ struct domain_def *def = guest(cpu);
        _cleanup_qemu_cpu_caps_ struct qemu_cpu_caps *caps = NULL;
        struct lv_error *err = NULL;
        if (qemu_cpu_caps_get(EMU, false, &caps, &err) < 0)
                fail_msg("probe: %s", err->message);
        if (qemu_command_cpu_check(def, caps, &err) == 0)
                return NULL;
        char *m = xstrdup(err->message);
        lv_error_free(err);
        return m;
}

static void test_probe_and_cache(void **state)
{
        _cleanup_qemu_cpu_caps_ struct qemu_cpu_caps *caps = NULL;
        struct lv_error *err = NULL;
        assert_int_equal(qemu_cpu_caps_get(EMU, false, &caps, &err), 0);
        assert_true(strv_contains(caps->models, "qemu64"));
        assert_true(strv_contains(caps->models, "Haswell"));
        assert_true(strv_contains(caps->features_on, "pclmulqdq"));
        assert_true(strv_contains(caps->features_off, "vmx")); /* TCG: no nested VMX */
        _cleanup_free_ char *path =
                xasprintf("%s/.qemu-cpu/tcg_usr_bin_qemu-system-x86_64.json", rundir);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        /* the cache answers while the binary is the same: a model written
         * into it is seen without asking QEMU */
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        assert_int_equal(file_read_bounded(path, 1 << 22, &text, &len, &err), 0);
        char *p = strstr(text, "\"models\":[");
        assert_non_null(p);
        _cleanup_free_ char *edited =
                xasprintf("%.*s\"Cached-Only\",%s", (int)(p - text + 10), text, p + 10);
        assert_int_equal(file_write_string(path, edited, &err), 0);
        _cleanup_qemu_cpu_caps_ struct qemu_cpu_caps *again = NULL;
        assert_int_equal(qemu_cpu_caps_get(EMU, false, &again, &err), 0);
        assert_true(strv_contains(again->models, "Cached-Only"));
        /* a cache for another binary (stamp) is asked again */
        char *s = strstr(edited, "\"stamp\":\"");
        assert_non_null(s);
        s[11] = s[11] == '9' ? '8' : '9'; /* the device number, after "2:" */
        assert_int_equal(file_write_string(path, edited, &err), 0);
        _cleanup_qemu_cpu_caps_ struct qemu_cpu_caps *fresh = NULL;
        assert_int_equal(qemu_cpu_caps_get(EMU, false, &fresh, &err), 0);
        assert_false(strv_contains(fresh->models, "Cached-Only"));
        assert_true(strv_contains(fresh->models, "Haswell"));
}

static void test_check(void **state)
{
        char *m = check("<cpu mode='custom'><model>Haswell</model>"
                        "<feature policy='require' name='pclmuldq'/>"
                        "<feature policy='disable' name='lahf_lm'/>"
                        "<feature policy='force' name='x2apic'/></cpu>");
        if (m)
                fail_msg("refused: %s", m);
        /* check='full': the model's features TCG filters out are refused
         * unless the definition disables them */
        m = check("<cpu mode='custom' check='full'><model>Haswell</model></cpu>");
        assert_non_null(m);
        assert_non_null(strstr(m, "CPU model 'Haswell' with check='full': TCG cannot give its "
                                  "features "));
        assert_non_null(strstr(m, "x2apic"));
        free(m);
        m = check("<cpu mode='custom' check='partial'><model>Haswell</model>"
                  "<feature policy='disable' name='pcid'/><feature policy='disable' name='x2apic'/>"
                  "<feature policy='disable' name='tsc-deadline'/><feature policy='disable' "
                  "name='hle'/>"
                  "<feature policy='disable' name='invpcid'/><feature policy='forbid' name='rtm'/>"
                  "</cpu>");
        if (m)
                fail_msg("refused: %s", m);
        m = check("<cpu mode='custom' check='full'><model>qemu64</model></cpu>");
        if (m)
                fail_msg("refused: %s", m);
        m = check("<cpu mode='custom'><model>NoSuchModel</model></cpu>");
        assert_non_null(m);
        assert_non_null(strstr(m, "CPU model 'NoSuchModel' is unknown to " EMU));
        free(m);
        m = check("<cpu mode='custom'><model>qemu64</model>"
                  "<feature policy='disable' name='no-such-feature'/></cpu>");
        assert_non_null(m);
        assert_non_null(strstr(m, "CPU feature 'no-such-feature' is unknown"));
        free(m);
        m = check("<cpu mode='custom'><model>Haswell</model>"
                  "<feature policy='require' name='vmx'/></cpu>");
        assert_non_null(m);
        assert_non_null(strstr(m, "CPU feature 'vmx' is required (policy='require') but TCG "
                                  "cannot give it"));
        free(m);
}

static int setup(void **state)
{
        if (!mkdtemp(rundir))
                return -1;
        setenv("LITEVIRT_RUNDIR", rundir, 1);
        return 0;
}

static int teardown(void **state)
{
        struct lv_error *err = NULL;
        rm_rf(rundir, &err);
        lv_error_free(err);
        return 0;
}

int main(void)
{
        if (access(EMU, X_OK) != 0) {
                printf("1..0 # SKIP %s is not installed\n", EMU);
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_probe_and_cache),
                cmocka_unit_test(test_check),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
