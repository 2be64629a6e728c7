/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host identity: source order, machine-id formatting, bogus SMBIOS values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "conf/domain.h"
#include "conf/hostid.h"
#include "util/fileio.h"

static char tmpdir[] = "/tmp/lv-test-hostid.XXXXXX";
static char *mid_path, *smbios_path, *missing_path;

static void put(const char *path, const char *text)
{
        assert_int_equal(file_write_atomic(path, text, strlen(text), 0644, NULL), 0);
}

static bool bogus(const char *s)
{
        unsigned char u[16];
        assert_int_equal(domain_uuid_parse(s, u), 0);
        return hostid_uuid_is_bogus(u);
}

static void test_bogus(void **state)
{
        assert_true(bogus("00000000-0000-0000-0000-000000000000"));
        assert_true(bogus("ffffffff-ffff-ffff-ffff-ffffffffffff"));
        assert_true(bogus("FEFEFEFE-FEFE-FEFE-FEFE-FEFEFEFEFEFE"));
        assert_true(bogus("58585858-5858-5858-5858-585858585858"));
        assert_true(bogus("03000200-0400-0500-0006-000700080009"));
        assert_true(bogus("00020003-0004-0005-0006-000700080009"));
        assert_true(bogus("56F49712-FFFF-FFFF-FFFF-FFFFFFFFFFFF"));
        assert_true(bogus("12345678-0000-0000-0000-000000000000"));
        assert_true(bogus("12341234-1234-1234-1234-123412341234"));
        assert_true(bogus("890E2D14-CACD-45D1-AE66-BC80E8BFEB0F"));
        assert_false(bogus("4a802f00-4cba-5df6-9679-a08c4c5b577f"));
        assert_false(bogus("8b3f4dc4-6a8e-5f9b-94a5-4c35babd8d95"));
}

static void test_machine_id_parse(void **state)
{
        unsigned char u[16];
        char s[37];
        assert_int_equal(hostid_machine_id_parse("3d1219c7c4c5404aaa1f6d2a48adfda4\n", u), 0);
        domain_uuid_format(u, s);
        assert_string_equal(s, "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4");
        assert_int_equal(hostid_machine_id_parse("3d1219c7c4c5404aaa1f6d2a48adfda4", u), 0);
        assert_int_equal(hostid_machine_id_parse("3d1219c7c4c5404aaa1f6d2a48adfda", u), -EINVAL);
        assert_int_equal(hostid_machine_id_parse("3d1219c7-c4c5-404a-aa1f-6d2a48adfda4", u),
                         -EINVAL);
        assert_int_equal(hostid_machine_id_parse("uninitialized\n", u), -EINVAL);
        assert_int_equal(hostid_machine_id_parse("", u), -EINVAL);
}

static void test_configured_wins(void **state)
{
        put(mid_path, "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
        struct hostid_paths p = {mid_path, smbios_path};
        struct host_identity id = {0};
        _cleanup_error_ struct lv_error *err = NULL;
        assert_int_equal(
                hostid_resolve("4A802F00-4CBA-5DF6-9679-A08C4C5B577F", "hosta", &p, &id, &err), 0);
        assert_string_equal(id.uuid, "4a802f00-4cba-5df6-9679-a08c4c5b577f");
        assert_string_equal(id.hostname, "hosta");
        assert_int_equal(id.source, HOSTID_SOURCE_CONFIG);
        host_identity_clear(&id);

        /* A configured placeholder is an error, not silently replaced. */
        assert_true(hostid_resolve("00000000-0000-0000-0000-000000000000", NULL, &p, &id, &err) <
                    0);
        assert_non_null(strstr(err->message, "placeholder"));
        assert_null(id.hostname);
        lv_error_freep(&err);
        assert_true(hostid_resolve("not-a-uuid", NULL, &p, &id, &err) < 0);
        assert_string_equal(err->message, "host_uuid 'not-a-uuid' is not a UUID");
}

static void test_machine_id_then_smbios(void **state)
{
        struct host_identity id = {0};
        _cleanup_error_ struct lv_error *err = NULL;
        put(mid_path, "3d1219c7c4c5404aaa1f6d2a48adfda4\n");
        put(smbios_path, "8B3F4DC4-6A8E-5F9B-94A5-4C35BABD8D95\n");
        struct hostid_paths p = {mid_path, smbios_path};
        assert_int_equal(hostid_resolve(NULL, NULL, &p, &id, &err), 0);
        assert_string_equal(id.uuid, "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4");
        assert_int_equal(id.source, HOSTID_SOURCE_MACHINE_ID);
        char host[256];
        assert_int_equal(gethostname(host, sizeof(host)), 0);
        assert_string_equal(id.hostname, host);
        host_identity_clear(&id);

        /* No machine-id: SMBIOS. */
        p.machine_id = missing_path;
        assert_int_equal(hostid_resolve(NULL, NULL, &p, &id, &err), 0);
        assert_string_equal(id.uuid, "8b3f4dc4-6a8e-5f9b-94a5-4c35babd8d95");
        assert_int_equal(id.source, HOSTID_SOURCE_SMBIOS);
        host_identity_clear(&id);

        /* Empty machine-id (first boot) and a placeholder SMBIOS UUID:
         * nothing usable, and the message says why for each. */
        put(mid_path, "\n");
        p.machine_id = mid_path;
        put(smbios_path, "03000200-0400-0500-0006-000700080009\n");
        assert_true(hostid_resolve(NULL, NULL, &p, &id, &err) < 0);
        assert_null(id.hostname);
        _cleanup_free_ char *want = xasprintf(
                "cannot determine the host UUID (set host_uuid in host.conf); '%s' does not "
                "hold a UUID; '%s' holds the placeholder UUID "
                "03000200-0400-0500-0006-000700080009",
                mid_path, smbios_path);
        assert_string_equal(err->message, want);
}

int main(void)
{
        if (!mkdtemp(tmpdir))
                return 1;
        mid_path = xasprintf("%s/machine-id", tmpdir);
        smbios_path = xasprintf("%s/product_uuid", tmpdir);
        missing_path = xasprintf("%s/missing", tmpdir);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bogus),
                cmocka_unit_test(test_machine_id_parse),
                cmocka_unit_test(test_configured_wins),
                cmocka_unit_test(test_machine_id_then_smbios),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        rm_rf(tmpdir, NULL);
        free(mid_path);
        free(smbios_path);
        free(missing_path);
        return r;
}
