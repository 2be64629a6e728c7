/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conf/domain_json.c: every definition that parses survives
 * to_json → from_json unchanged (domain_def_equal, and the same formatted
 * XML, and the same JSON again): every XML of tests/data/domain and every
 * libvirt vector ($LV_LIBVIRT_TESTS/tests/..., scripts/fetch-libvirt-tests.sh)
 * that litevirt accepts. Then
 * hostile JSON: malformed, truncated, oversized, unknown members, wrong
 * types, enums and numbers out of range — each refused with a message
 * naming the member. */
#include <dirent.h>

#include "conf/domain_json.h"
#include "conf/xml.h"
#include "tests/lib/libvirt-tests.h"
#include "util/fileio.h"

static int failures, checks;

#define FAIL(...)                                                                                  \
        do {                                                                                       \
                failures++;                                                                        \
                printf("not ok - ");                                                               \
                printf(__VA_ARGS__);                                                               \
                printf("\n");                                                                      \
        } while (0)

static void round_trip(const char *path)
{
        _cleanup_error_ struct lv_error *err = NULL;
        _cleanup_free_ char *data = NULL;
        size_t len;
        if (file_read_bounded(path, 4 * 1024 * 1024, &data, &len, &err) < 0) {
                FAIL("%s: %s", path, err->message);
                return;
        }
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if (conf_xml(&err)->domain_parse_string(data, len, path, &def, &err) < 0)
                return; /* refused: domain-data checks the message */
        checks++;
        _cleanup_free_ char *j1 = domain_to_json(def);
        _cleanup_domain_def_ struct domain_def *back = NULL;
        if (domain_from_json(j1, strlen(j1), &back, &err) < 0) {
                FAIL("%s: from_json(to_json(x)): %s", path, err->message);
                return;
        }
        _cleanup_free_ char *x1 = domain_format(def);
        _cleanup_free_ char *x2 = domain_format(back);
        _cleanup_free_ char *j2 = domain_to_json(back);
        if (!domain_def_equal(def, back))
                FAIL("%s: from_json(to_json(x)) differs from x", path);
        else if (!streq(x1, x2))
                FAIL("%s: from_json(to_json(x)) formats differently:\n%s\n----\n%s", path, x1, x2);
        else if (!streq(j1, j2))
                FAIL("%s: to_json not stable:\n%s\n----\n%s", path, j1, j2);
        else if (domain_validate(back, &err) < 0)
                FAIL("%s: the rebuilt model does not validate: %s", path, err->message);
}

static void round_trip_dir(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d) {
                printf("# %s: not found, skipped\n", dir);
                return;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l < 5 || !streq(e->d_name + l - 4, ".xml"))
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, e->d_name);
                round_trip(p);
        }
        closedir(d);
}

/* json refused, and the message contains want */
static void refused(const char *json, const char *want)
{
        _cleanup_error_ struct lv_error *err = NULL;
        struct domain_def *def = (struct domain_def *)&checks; /* must stay untouched */
        struct domain_def *before = def;
        checks++;
        int r = domain_from_json(json, strlen(json), &def, &err);
        if (r >= 0) {
                FAIL("accepted: %s", json);
                if (def != before)
                        domain_def_free(def);
                return;
        }
        if (def != before)
                FAIL("ret touched on failure: %s", json);
        if (!err || !strstr(err->message, want))
                FAIL("%s: message '%s' lacks '%s'", json, err ? err->message : "(none)", want);
        else
                printf("ok - refused: %s\n", err->message);
}

static void hostile(void)
{
        refused("", "malformed");
        refused("{\"name\":\"a\"", "malformed");
        refused("{\"name\":\"a\"} x", "malformed");
        refused("[]", "not an object");
        refused("{\"nmae\":\"a\"}", "member 'nmae': unknown member");
        refused("{\"name\":3}", "member 'name': not a string");
        refused("{\"type\":99}", "member 'type': not a known value");
        refused("{\"type\":-1}", "member 'type': not a known value");
        refused("{\"on_crash\":\"destroy\"}", "member 'on_crash'");
        refused("{\"vcpus\":-1}", "member 'vcpus': not an unsigned int");
        refused("{\"vcpus\":4294967296}", "member 'vcpus'");
        refused("{\"memory_kib\":-5}", "member 'memory_kib': not an unsigned number");
        refused("{\"uuid\":\"nope\"}", "member 'uuid': not a UUID");
        refused("{\"os\":{\"boot\":[0,1,2,3,0]}}", "member 'os.boot': too many entries");
        refused("{\"os\":{\"boot\":[7]}}", "member 'os.boot'");
        refused("{\"os\":{\"initargs\":[\"a\",1]}}", "member 'os.initargs'");
        refused("{\"nets\":[{\"type\":0,\"ips\":[{\"prefix\":\"x\"}]}]}",
                "member 'nets[0].ips[0].prefix': not an int");
        refused("{\"nets\":[{\"mac\":\"a\"},{\"bogus\":1}]}", "member 'nets[1].bogus'");
        refused("{\"name\":\"a\\u0000b\"}", "NUL");
        refused("{\"disks\":{}}", "member 'disks': not an array");
        /* nested deeper than any model */
        _cleanup_free_ char *deep = xcalloc(1, 200);
        for (int i = 0; i < 60; i++)
                strcat(deep, "[");
        refused(deep, "malformed");
        /* oversized: refused unread */
        size_t big = DOMAIN_JSON_MAX_BYTES + 1;
        _cleanup_free_ char *huge = xmalloc(big + 1);
        memset(huge, ' ', big);
        huge[big] = '\0';
        refused(huge, "more than");
}

/* domain_json_read_file (a running guest's definition.json): the model
 * back from a file, validated; a bad file is an error naming it. */
static void read_file(const char *dir)
{
        _cleanup_free_ char *xmlpath = xasprintf("%s/lxc-full.xml", dir);
        _cleanup_free_ char *json = xasprintf("/tmp/lv-test-domain-json-%d.json", (int)getpid());
        _cleanup_error_ struct lv_error *err = NULL;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if (conf_xml(&err)->domain_parse_file(xmlpath, &def, &err) < 0) {
                FAIL("%s: %s", xmlpath, err->message);
                return;
        }
        _cleanup_free_ char *text = domain_to_json(def);
        _cleanup_domain_def_ struct domain_def *back = NULL;
        checks++;
        if (file_write_atomic(json, text, strlen(text), 0600, &err) < 0 ||
            domain_json_read_file(json, &back, &err) < 0)
                FAIL("domain_json_read_file: %s", err->message);
        else if (!domain_def_equal(def, back))
                FAIL("domain_json_read_file: the model read back differs");
        lv_error_freep(&err);
        checks++;
        struct domain_def *none = NULL;
        if (file_write_atomic(json, text, strlen(text) / 2, 0600, &err) < 0 ||
            domain_json_read_file(json, &none, &err) >= 0 || none)
                FAIL("domain_json_read_file: a cut-off file was accepted");
        else if (!strstr(err->message, json))
                FAIL("domain_json_read_file: the error does not name the file: %s", err->message);
        (void)unlink(json);
}

int main(void)
{
        const char *src = getenv("LV_SOURCE_ROOT");
        _cleanup_free_ char *data = xasprintf("%s/tests/data/domain", src ? src : ".");
        round_trip_dir(data);
        int local = checks;
        static const char *const sets[] = {"lxcxml2xmldata",       "lxcxml2xmloutdata",
                                           "genericxml2xmlindata", "genericxml2xmloutdata",
                                           "qemuxml2argvdata",     "qemuxml2xmloutdata",
                                           "xlconfigdata",         "libxlxml2domconfigdata"};
        bool skip = false;
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
                _cleanup_free_ char *d = libvirt_tests_dir(sets[i], &skip);
                if (!d && !skip)
                        FAIL("libvirt's %s is missing", sets[i]);
                if (d)
                        round_trip_dir(d);
        }
        printf("# round trips: %d from tests/data/domain, %d from libvirt's vectors\n", local,
               checks - local);
        if (local == 0)
                FAIL("no definition of tests/data/domain round-tripped");
        hostile();
        read_file(data);
        printf("# %d checks, %d failures\n", checks, failures);
        return failures ? 1 : 0;
}
