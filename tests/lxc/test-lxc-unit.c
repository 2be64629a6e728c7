/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the LXC driver's pure parts: the capability drop set for
 * each <capabilities> policy, and <idmap> validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lxc/lxc.h"

#define BIT(c) (UINT64_C(1) << (c))
enum {
        CHOWN = 0,
        SYS_MODULE = 16,
        SYS_RAWIO = 17,
        SYS_ADMIN = 21,
        SYS_BOOT = 22,
        SYS_TIME = 25,
        MKNOD = 27
};

static uint64_t drop_for(enum domain_caps_policy policy, bool has, struct domain_cap *caps, int n)
{
        struct domain_def def = {0};
        def.features.has_caps = has;
        def.features.caps_policy = policy;
        def.features.caps = caps;
        def.features.n_caps = n;
        uint64_t drop = 0;
        struct lv_error *err = NULL;
        assert_int_equal(lxc_caps_compute(&def, &drop, &err), 0);
        return drop;
}

static void test_caps_default(void **state)
{
        uint64_t d = drop_for(DOMAIN_CAPS_POLICY_DEFAULT, false, NULL, 0);
        assert_true(d & BIT(SYS_MODULE));
        assert_true(d & BIT(SYS_TIME));
        assert_true(d & BIT(SYS_RAWIO));
        assert_true(d & BIT(MKNOD));
        assert_false(d & BIT(SYS_ADMIN));
        assert_false(d & BIT(SYS_BOOT)); /* reboot(2) only ends the pid namespace */
        struct domain_cap caps[] = {{"sys_module", true}, {"chown", false}};
        d = drop_for(DOMAIN_CAPS_POLICY_DEFAULT, true, caps, 2);
        assert_false(d & BIT(SYS_MODULE));
        assert_true(d & BIT(CHOWN));
        assert_true(d & BIT(SYS_TIME));
}

static void test_caps_allow_deny(void **state)
{
        struct domain_cap off[] = {{"sys_admin", false}};
        assert_true(drop_for(DOMAIN_CAPS_POLICY_ALLOW, true, off, 1) == BIT(SYS_ADMIN));
        assert_true(drop_for(DOMAIN_CAPS_POLICY_ALLOW, true, NULL, 0) == 0);
        struct domain_cap on[] = {{"chown", true}};
        assert_true(drop_for(DOMAIN_CAPS_POLICY_DENY, true, on, 1) == ~BIT(CHOWN));
}

static void test_caps_unknown(void **state)
{
        struct domain_def def = {0};
        struct domain_cap caps[] = {{"sys_everything", true}};
        def.features.has_caps = true;
        def.features.caps = caps;
        def.features.n_caps = 1;
        uint64_t drop = 42;
        struct lv_error *err = NULL;
        assert_int_equal(lxc_caps_compute(&def, &drop, &err), -EINVAL);
        assert_string_equal(err->message,
                            "<features><capabilities>: unknown capability 'sys_everything'");
        assert_true(drop == 42); /* untouched on failure */
        lv_error_free(err);
}

static void expect_idmap(struct domain_idmap *u, int nu, struct domain_idmap *g, int ng,
                         const char *msg)
{
        struct domain_def def = {0};
        def.uidmap = u;
        def.n_uidmap = nu;
        def.gidmap = g;
        def.n_gidmap = ng;
        struct lv_error *err = NULL;
        int r = lxc_idmap_validate(&def, &err);
        if (!msg) {
                assert_int_equal(r, 0);
                return;
        }
        assert_true(r < 0);
        assert_non_null(err);
        assert_string_equal(err->message, msg);
        lv_error_free(err);
}

static void test_idmap(void **state)
{
        struct domain_idmap ok[] = {{0, 100000, 65536}};
        expect_idmap(NULL, 0, NULL, 0, NULL);
        expect_idmap(ok, 1, ok, 1, NULL);
        expect_idmap(ok, 1, NULL, 0, "<idmap>: both <uid> and <gid> mappings are needed");
        struct domain_idmap zero[] = {{0, 100000, 0}};
        expect_idmap(zero, 1, ok, 1, "<idmap><uid start='0'>: count is 0");
        struct domain_idmap overlap[] = {{0, 100000, 100}, {50, 300000, 10}};
        expect_idmap(overlap, 2, ok, 1, "<idmap><uid start='50'>: overlaps start='0'");
        struct domain_idmap tover[] = {{0, 100000, 100}, {500, 100050, 10}};
        expect_idmap(ok, 1, tover, 2, "<idmap><gid target='100050'>: overlaps target='100000'");
        struct domain_idmap noroot[] = {{1, 100000, 10}};
        expect_idmap(noroot, 1, ok, 1, "<idmap>: uid 0 of the container is not mapped");
        struct domain_idmap wrap[] = {{0, 4294967000u, 65536}};
        expect_idmap(wrap, 1, ok, 1, "<idmap><uid start='0'>: range beyond 4294967295");
        assert_true(lxc_idmap_has(ok, 1, 5));
        assert_false(lxc_idmap_has(ok, 1, 65536));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_caps_default),
                cmocka_unit_test(test_caps_allow_deny),
                cmocka_unit_test(test_caps_unknown),
                cmocka_unit_test(test_idmap),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
