/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt 9.0's qemuxml2argv vectors ($LV_LIBVIRT_TESTS/tests/qemuxml2argvdata,
 * scripts/fetch-libvirt-tests.sh): every NAME.xml that has libvirt's
 * NAME.x86_64-latest.args is parsed and built by litevirt and classified:
 *   identical  the same options as libvirt's command line
 *   equal      the same device topology (driver, bus, addr, id of every -device)
 *              and the same -smp (and -cpu for a TCG guest's <cpu>); the
 *              other options that differ are named
 *   refused    litevirt refuses it; its message names the element
 *   wrong      accepted, but the device topology, -smp or -cpu differs
 * No vector may be wrong, and the results must equal
 * tests/data/qemu/libvirt-vectors.txt (LV_TEST_REGENERATE=1 rewrites it),
 * so a vector that moves from identical/equal to refused fails the test. */
#include <dirent.h>

#include <json-c/json.h>

#include "conf/domain.h"
#include "qemu/command.h"
#include "tests/lib/golden.h"
#include "tests/lib/libvirt-tests.h"
#include "tests/qemu/qemu-helpers.h"
#include "util/fileio.h"
#include "util/strbuf.h"

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "driver bus=B addr=A id=I" of a -device value, JSON (libvirt 9, litevirt) or
 * key=value. */
static char *device_topology(const char *value)
{
        const char *driver = NULL, *bus = NULL, *addr = NULL, *id = NULL;
        struct json_object *obj = NULL, *v;
        _cleanup_strv_free_ char **kv = NULL;
        if (value[0] == '{') {
                obj = json_tokener_parse(value);
                if (!obj)
                        return xasprintf("unparsable %s", value);
                if (json_object_object_get_ex(obj, "driver", &v))
                        driver = json_object_get_string(v);
                if (json_object_object_get_ex(obj, "bus", &v))
                        bus = json_object_get_string(v);
                if (json_object_object_get_ex(obj, "addr", &v))
                        addr = json_object_get_string(v);
                if (json_object_object_get_ex(obj, "id", &v))
                        id = json_object_get_string(v);
        } else {
                _cleanup_free_ char *copy = xstrdup(value);
                char *save = NULL;
                for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                        strv_push(&kv, xstrdup(t));
                for (size_t i = 0; kv && kv[i]; i++) {
                        if (i == 0 && !strchr(kv[i], '='))
                                driver = kv[i];
                        else if (startswith(kv[i], "driver="))
                                driver = kv[i] + 7;
                        else if (startswith(kv[i], "bus="))
                                bus = kv[i] + 4;
                        else if (startswith(kv[i], "addr="))
                                addr = kv[i] + 5;
                        else if (startswith(kv[i], "id="))
                                id = kv[i] + 3;
                }
        }
        char *r = xasprintf("%s bus=%s addr=%s id=%s", driver ? driver : "?", bus ? bus : "-",
                            addr ? addr : "-", id ? id : "-");
        if (obj)
                json_object_put(obj);
        return r;
}

/* The sorted device topology of a command line. */
static char **topology(char *const *argv)
{
        char **out = NULL;
        for (size_t i = 1; argv[i]; i++)
                if (streq(argv[i], "-device") && argv[i + 1])
                        strv_push(&out, device_topology(argv[++i]));
        if (!out)
                strv_push(&out, xstrdup("(no devices)"));
        qsort(out, strv_length(out), sizeof(char *), cmp_str);
        return out;
}

/* The names of the options whose values differ (not -device), sorted. */
static void differing_options(char *const *a, char *const *b, struct strbuf *res)
{
        _cleanup_strv_free_ char **la = NULL, **lb = NULL, **names = NULL;
        char *const *v[2] = {a, b};
        char ***l[2] = {&la, &lb};
        for (int k = 0; k < 2; k++)
                for (size_t i = 1; v[k][i]; i++) {
                        if (v[k][i][0] != '-' || streq(v[k][i], "-device"))
                                continue;
                        bool has_value = v[k][i + 1] && v[k][i + 1][0] != '-';
                        strv_push(l[k], xasprintf("%s %s", v[k][i], has_value ? v[k][i + 1] : ""));
                }
        for (int k = 0; k < 2; k++)
                for (size_t i = 0; (*l[k])[i]; i++) {
                        char **other = *l[1 - k];
                        bool found = false;
                        for (size_t j = 0; other && other[j] && !found; j++)
                                found = streq(other[j], (*l[k])[i]);
                        if (found)
                                continue;
                        _cleanup_free_ char *name = xstrndup((*l[k])[i], strcspn((*l[k])[i], " "));
                        bool dup = false;
                        for (size_t j = 0; names && names[j] && !dup; j++)
                                dup = streq(names[j], name);
                        if (!dup)
                                strv_push(&names, TAKE_PTR(name));
                }
        if (!names) {
                strbuf_append(res, "identical");
                return;
        }
        qsort(names, strv_length(names), sizeof(char *), cmp_str);
        strbuf_append(res, "equal topology; options differ:");
        for (size_t i = 0; names[i]; i++)
                strbuf_printf(res, " %s", names[i]);
}

/* Lines of a that are not in b (both sorted), as " SIGN line". */
static void list_missing(char *const *a, char *const *b, const char *sign, struct strbuf *res)
{
        size_t j = 0;
        for (size_t i = 0; a[i]; i++) {
                while (b[j] && strcmp(b[j], a[i]) < 0)
                        j++;
                if (b[j] && streq(b[j], a[i]))
                        j++;
                else
                        strbuf_printf(res, "; %s %s", sign, a[i]);
        }
}

/* Whether two command lines give the same devices; the differences are
 * appended to res. */
static bool same_topology(char *const *ours, char *const *theirs, struct strbuf *res)
{
        _cleanup_strv_free_ char **t_ours = topology(ours);
        _cleanup_strv_free_ char **t_theirs = topology(theirs);
        bool same = strv_length(t_ours) == strv_length(t_theirs);
        for (size_t i = 0; same && t_ours[i]; i++)
                same = streq(t_ours[i], t_theirs[i]);
        if (!same) {
                strbuf_append(res, "wrong: device topology differs");
                list_missing(t_theirs, t_ours, "only libvirt:", res);
                list_missing(t_ours, t_theirs, "only litevirt:", res);
                strbuf_append(res, "\n");
        }
        return same;
}

/* The value of option OPT on a command line, NULL when absent. */
static const char *option_value(char *const *argv, const char *opt)
{
        for (size_t i = 1; argv[i]; i++)
                if (streq(argv[i], opt))
                        return argv[i + 1];
        return NULL;
}

/* -smp always, and -cpu for a TCG guest with a <cpu>, <apic eoi> or
 * <pvspinlock>, must be libvirt's (a KVM guest's -cpu depends on the
 * host CPU libvirt's test fakes). */
static bool same_cpu(const struct domain_def *def, char *const *ours, char *const *theirs,
                     struct strbuf *res)
{
        bool cpu = def->type == DOMAIN_TYPE_QEMU &&
                   (def->cpu.mode || def->features.apic_eoi || def->features.pvspinlock);
        const char *opts[] = {"-smp", cpu ? "-cpu" : NULL};
        for (size_t i = 0; i < ARRAY_SIZE(opts) && opts[i]; i++) {
                const char *a = option_value(ours, opts[i]), *b = option_value(theirs, opts[i]);
                if (!streq_ptr(a, b)) {
                        strbuf_printf(res, "wrong: %s %s, libvirt: %s\n", opts[i], a ? a : "(none)",
                                      b ? b : "(none)");
                        return false;
                }
        }
        return true;
}

/* The definition as litevirt stores it builds the command line OURS of
 * the definition as given (qt_prepared_builds_same). */
static bool prepared_builds_same(const char *text, const char *shown, char *const *ours,
                                 struct strbuf *res)
{
        _cleanup_free_ char *why = NULL;
        if (qt_prepared_builds_same(text, shown, "/run/litevirt/qmp.sock", true, ours, &why))
                return true;
        strbuf_printf(res, "wrong: %s\n", why);
        return false;
}

enum result { RES_IDENTICAL, RES_EQUAL, RES_REFUSED, RES_WRONG, N_RES };
static const char *const result_names[N_RES] = {"identical", "equal", "refused", "wrong"};

/* XML (shown as SHOWN) built by litevirt against libvirt's command line
 * ARGS, or its refusal ERRPATH where libvirt refuses XML. */
static enum result classify_argv(const char *xml, const char *shown, const char *args,
                                 const char *errpath, struct strbuf *res)
{
        _cleanup_free_ char *text = NULL, *theirs_text = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        size_t len = 0;
        if (file_read_bounded(xml, DOMAIN_XML_MAX_BYTES, &text, &len, &err) < 0 ||
            domain_parse_string(text, len, shown, &def, &err) < 0) {
                strbuf_printf(res, "refused: %s\n", err->message);
                return RES_REFUSED;
        }
        _cleanup_strv_free_ char **ours = NULL;
        if (qt_command_build_libvirt(def, "/run/litevirt/qmp.sock", &ours, &err) < 0) {
                strbuf_printf(res, "refused: %s\n", err->message);
                return RES_REFUSED;
        }
        if (file_read_bounded(args, 1 << 20, &theirs_text, &len, &err) < 0) {
                /* libvirt refuses it */
                _cleanup_free_ char *why = NULL;
                lv_error_free(TAKE_PTR(err));
                if (file_read_bounded(errpath, 1 << 16, &why, &len, &err) < 0) {
                        strbuf_printf(res, "wrong: %s\n", err->message);
                        return RES_WRONG;
                }
                why[strcspn(why, "\n")] = '\0';
                strbuf_printf(res, "wrong: accepted, libvirt refuses it: %s\n", why);
                return RES_WRONG;
        }
        _cleanup_strv_free_ char **theirs = qt_split_libvirt_args(theirs_text);
        if (!same_topology(ours, theirs, res) || !same_cpu(def, ours, theirs, res) ||
            !prepared_builds_same(text, shown, ours, res))
                return RES_WRONG;
        size_t before = res->len;
        differing_options(ours, theirs, res);
        enum result r = streq(res->buf + before, "identical") ? RES_IDENTICAL : RES_EQUAL;
        strbuf_append(res, "\n");
        return r;
}

static enum result classify(const char *dir, const char *name, struct strbuf *res)
{
        _cleanup_free_ char *xml = xasprintf("%s/%s.xml", dir, name);
        _cleanup_free_ char *args = xasprintf("%s/%s.x86_64-latest.args", dir, name);
        _cleanup_free_ char *errpath = xasprintf("%s/%s.x86_64-latest.err", dir, name);
        _cleanup_free_ char *shown = xasprintf("%s.xml", name);
        strbuf_printf(res, "%s: ", name);
        return classify_argv(xml, shown, args, errpath, res);
}

/* Defining the stored definition again stores it unchanged. */
static bool prepare_is_stable(const char *stored, const char *shown, struct strbuf *res)
{
        _cleanup_error_ struct lv_error *err = NULL;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if (domain_parse_string(stored, strlen(stored), shown, &def, &err) < 0) {
                strbuf_printf(res, "wrong: the stored definition does not parse: %s\n",
                              err->message);
                return false;
        }
        if (qemu_definition_prepare(def, &err) < 0)
                lv_error_free(TAKE_PTR(err));
        _cleanup_free_ char *again = domain_format(def);
        if (streq(again, stored))
                return true;
        _cleanup_free_ char *names = libvirt_tests_xml_diff(again, stored);
        strbuf_printf(res, "wrong: defined again, the stored definition changes (%s)\n", names);
        return false;
}

/* The one normalisation before comparing byte for byte: libvirt writes
 * the versioned machine type its QEMU resolves an alias to
 * (machine='pc-q35-7.2' for 'q35', 'pc-i440fx-7.2' for 'pc'), litevirt
 * keeps the alias (its command line passes it to QEMU as given). */
static void normalise_machine(char **xml, const struct domain_def *def)
{
        const char *alias = def->os.machine;
        const char *prefix = streq_ptr(alias, "q35")  ? "machine='pc-q35-"
                             : streq_ptr(alias, "pc") ? "machine='pc-i440fx-"
                                                      : NULL;
        char *p = prefix ? strstr(*xml, prefix) : NULL;
        char *end = p ? strchr(p + strlen(prefix), '\'') : NULL;
        if (!end)
                return;
        *p = '\0';
        char *n = xasprintf("%smachine='%s%s", *xml, alias, end);
        free(*xml);
        *xml = n;
}

static int parse_file(const char *path, const char *shown, struct domain_def **ret,
                      struct lv_error **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (file_read_bounded(path, DOMAIN_XML_MAX_BYTES, &text, &len, err) < 0)
                return -1;
        return domain_parse_string(text, len, shown, ret, err);
}

/* INPATH (shown as SHOWN) defined by litevirt: the definition it stores
 * against libvirt's define-time form OUTPATH (shown as OUT). Where the
 * models differ (libvirt writes its defaults: addresses, controllers, ...),
 * litevirt must build the same devices from both. */
static enum result classify_define(const char *inpath, const char *shown, const char *outpath,
                                   const char *out, struct strbuf *res)
{
        _cleanup_error_ struct lv_error *err = NULL;
        _cleanup_domain_def_ struct domain_def *def = NULL, *odef = NULL;
        if (parse_file(inpath, shown, &def, &err) < 0) {
                strbuf_printf(res, "refused: %s\n", err->message);
                return RES_REFUSED;
        }
        /* what lvsh define stores: the definition as given where the
         * builder refuses it (it fails at start, as before) */
        if (qemu_definition_prepare(def, &err) < 0)
                lv_error_free(TAKE_PTR(err));
        _cleanup_free_ char *ours = domain_format(def);
        _cleanup_free_ char *theirs = NULL;
        size_t len;
        if (file_read_bounded(outpath, DOMAIN_XML_MAX_BYTES, &theirs, &len, &err) < 0) {
                strbuf_printf(res, "wrong: %s\n", err->message);
                return RES_WRONG;
        }
        if (!prepare_is_stable(ours, shown, res))
                return RES_WRONG;
        normalise_machine(&theirs, def);
        if (streq(ours, theirs)) {
                strbuf_append(res, "identical\n");
                return RES_IDENTICAL;
        }
        if (parse_file(outpath, out, &odef, &err) < 0) {
                strbuf_printf(res, "refused: libvirt's output: %s\n", err->message);
                return RES_REFUSED;
        }
        _cleanup_free_ char *otext = domain_format(odef);
        _cleanup_free_ char *names = libvirt_tests_xml_diff(ours, otext);
        if (domain_def_equal(def, odef)) {
                strbuf_printf(res, "equal: same model, formatted differently\n");
                return RES_EQUAL;
        }
        _cleanup_strv_free_ char **a_ours = NULL, **a_theirs = NULL;
        if (qt_command_build_libvirt(def, "/run/litevirt/qmp.sock", &a_ours, &err) < 0) {
                strbuf_printf(res, "refused: %s\n", err->message);
                return RES_REFUSED;
        }
        if (qt_command_build_libvirt(odef, "/run/litevirt/qmp.sock", &a_theirs, &err) < 0) {
                strbuf_printf(res, "refused: libvirt's output: %s\n", err->message);
                return RES_REFUSED;
        }
        if (!same_topology(a_ours, a_theirs, res))
                return RES_WRONG;
        strbuf_printf(res, "equal: libvirt writes its defaults (%s), same devices\n", names);
        return RES_EQUAL;
}

/* qemuxml2xmloutdata/OUT (libvirt's define-time form of
 * qemuxml2argvdata/IN.xml): litevirt's formatted definition against it. */
static enum result classify_xml2xml(const char *indir, const char *outdir, const char *out,
                                    struct strbuf *res)
{
        /* NAME.xml, NAME.x86_64-latest.xml, NAME.x86_64-7.0.0.xml,
         * NAME-active.xml, NAME-inactive.xml */
        _cleanup_free_ char *base = xstrndup(out, strlen(out) - 4);
        _cleanup_free_ char *inpath = NULL;
        for (;;) {
                free(inpath);
                inpath = xasprintf("%s/%s.xml", indir, base);
                if (access(inpath, F_OK) == 0)
                        break;
                size_t n = strlen(base);
                char *dot = strrchr(base, '.');
                if (n > 7 && streq(base + n - 7, "-active"))
                        base[n - 7] = '\0';
                else if (n > 9 && streq(base + n - 9, "-inactive"))
                        base[n - 9] = '\0';
                else if (dot)
                        *dot = '\0';
                else
                        break;
        }
        strbuf_printf(res, "%s: ", out);
        _cleanup_free_ char *shown = xasprintf("%s.xml", base);
        _cleanup_free_ char *outpath = xasprintf("%s/%s", outdir, out);
        if (access(inpath, F_OK) != 0) {
                strbuf_printf(res, "refused: no input %s.xml in qemuxml2argvdata\n", base);
                return RES_REFUSED;
        }
        return classify_define(inpath, shown, outpath, out, res);
}

static char **list_dir(const char *dir, const char *suffix, bool strip)
{
        char **names = NULL;
        DIR *d = opendir(dir);
        if (!d)
                return NULL;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name), sl = strlen(suffix);
                if (n > sl && streq(de->d_name + n - sl, suffix))
                        strv_push(&names,
                                  strip ? xstrndup(de->d_name, n - sl) : xstrdup(de->d_name));
        }
        closedir(d);
        if (names)
                qsort(names, strv_length(names), sizeof(char *), cmp_str);
        return names;
}

static void total(struct strbuf *res, const char *family, size_t n, const int *count)
{
        strbuf_printf(res, "total %s: %zu vectors:", family, n);
        for (int r = 0; r < N_RES; r++)
                strbuf_printf(res, " %d %s", count[r], result_names[r]);
        strbuf_append(res, "\n");
        printf("# %s: %zu vectors:", family, n);
        for (int r = 0; r < N_RES; r++)
                printf(" %d %s", count[r], result_names[r]);
        printf("\n");
}

/* The corpus scripts/make-virt-install-corpus.sh made (in the repository,
 * no libvirt needed): for every guest NAME, NAME.xml (virt-install
 * --print-xml) defined against NAME.dump.xml (virsh dumpxml), and NAME.xml
 * and NAME.dump.xml built against NAME.args (virsh domxml-to-native
 * qemu-argv NAME.xml). The results must equal GOLDEN; returns the number of
 * failures. */
static int virt_install_corpus(const char *dir, const char *golden)
{
        _cleanup_strv_free_ char **names = list_dir(dir, ".args", true);
        _cleanup_strv_free_ char **refused = list_dir(dir, ".args.err", true);
        for (size_t i = 0; refused && refused[i]; i++)
                strv_push(&names, TAKE_PTR(refused[i]));
        if (!names) {
                fprintf(stderr, "FAIL %s: no guests\n", dir);
                return 1;
        }
        qsort(names, strv_length(names), sizeof(char *), cmp_str);
        _cleanup_strbuf_ struct strbuf res = {0};
        int count[3][N_RES] = {{0}};
        strbuf_append(&res, "# virt-install corpus (scripts/make-virt-install-corpus.sh): NAME.xml "
                            "defined against NAME.dump.xml (virsh dumpxml); NAME.xml and "
                            "NAME.dump.xml built against NAME.args (virsh domxml-to-native)\n");
        for (size_t i = 0; names[i]; i++) {
                const char *n = names[i];
                _cleanup_free_ char *xml = xasprintf("%s/%s.xml", dir, n);
                _cleanup_free_ char *dump = xasprintf("%s/%s.dump.xml", dir, n);
                _cleanup_free_ char *args = xasprintf("%s/%s.args", dir, n);
                _cleanup_free_ char *errpath = xasprintf("%s/%s.args.err", dir, n);
                _cleanup_free_ char *shown = xasprintf("%s.xml", n);
                _cleanup_free_ char *dshown = xasprintf("%s.dump.xml", n);
                strbuf_printf(&res, "%s define: ", shown);
                count[0][classify_define(xml, shown, dump, dshown, &res)]++;
                strbuf_printf(&res, "%s argv: ", shown);
                count[1][classify_argv(xml, shown, args, errpath, &res)]++;
                strbuf_printf(&res, "%s argv: ", dshown);
                count[2][classify_argv(dump, dshown, args, errpath, &res)]++;
        }
        size_t n = strv_length(names);
        total(&res, "virt-install NAME.xml define", n, count[0]);
        total(&res, "virt-install NAME.xml argv", n, count[1]);
        total(&res, "virt-install NAME.dump.xml argv", n, count[2]);
        int failures = 0;
        _cleanup_free_ char *want = golden_read(golden);
        if (!streq(want, res.buf)) {
                if (golden_regenerate()) {
                        golden_write(golden, res.buf);
                } else {
                        fprintf(stderr, "FAIL results differ from %s; got:\n%s", golden, res.buf);
                        failures++;
                }
        }
        int wrong = count[0][RES_WRONG] + count[1][RES_WRONG] + count[2][RES_WRONG];
        if (wrong) {
                fprintf(stderr, "FAIL %d virt-install guest(s) accepted unlike libvirt\n", wrong);
                failures++;
        }
        return failures;
}

int main(void)
{
        const char *src = getenv("LV_SOURCE_ROOT");
        if (!src) {
                fprintf(stderr, "LV_SOURCE_ROOT is not set\n");
                return 1;
        }
        _cleanup_free_ char *corpus = xasprintf("%s/tests/data/virt-install", src);
        _cleanup_free_ char *corpus_golden = xasprintf("%s/results.txt", corpus);
        int corpus_failures = virt_install_corpus(corpus, corpus_golden);
        bool skip, skip2;
        _cleanup_free_ char *dir = libvirt_tests_dir("qemuxml2argvdata", &skip);
        _cleanup_free_ char *outdir = libvirt_tests_dir("qemuxml2xmloutdata", &skip2);
        if (!dir || !outdir)
                return corpus_failures ? 1 : skip && skip2 ? QT_SKIP : 1;
        /* x86_64: NAME.x86_64-latest.args, or .err where libvirt refuses
         * NAME.xml (litevirt must refuse it too) */
        _cleanup_strv_free_ char **names = list_dir(dir, ".x86_64-latest.args", true);
        _cleanup_strv_free_ char **refused = list_dir(dir, ".x86_64-latest.err", true);
        for (size_t i = 0; refused && refused[i]; i++)
                strv_push(&names, TAKE_PTR(refused[i]));
        qsort(names, strv_length(names), sizeof(char *), cmp_str);
        _cleanup_strv_free_ char **outs = list_dir(outdir, ".xml", false);
        if (!names || !outs) {
                fprintf(stderr, "%s, %s: no vectors\n", dir, outdir);
                return 1;
        }

        _cleanup_strbuf_ struct strbuf res = {0};
        int count[N_RES] = {0}, count2[N_RES] = {0};
        strbuf_append(&res, "# qemuxml2argvdata: NAME.xml against NAME.x86_64-latest.args "
                            "(.err: libvirt refuses it)\n");
        for (size_t i = 0; names[i]; i++)
                count[classify(dir, names[i], &res)]++;
        strbuf_append(&res, "# qemuxml2xmloutdata: against the definition litevirt stores\n");
        for (size_t i = 0; outs[i]; i++)
                count2[classify_xml2xml(dir, outdir, outs[i], &res)]++;
        total(&res, "qemuxml2argvdata", strv_length(names), count);
        total(&res, "qemuxml2xmloutdata", strv_length(outs), count2);

        int failures = corpus_failures;
        _cleanup_free_ char *golden = xasprintf("%s/tests/data/qemu/libvirt-vectors.txt", src);
        _cleanup_free_ char *want = golden_read(golden);
        if (!streq(want, res.buf)) {
                if (golden_regenerate()) {
                        golden_write(golden, res.buf);
                } else {
                        fprintf(stderr, "FAIL results differ from %s; got:\n%s", golden, res.buf);
                        failures++;
                }
        }
        if (count[RES_WRONG] + count2[RES_WRONG]) {
                fprintf(stderr, "FAIL %d vector(s) accepted with a result unlike libvirt's\n",
                        count[RES_WRONG] + count2[RES_WRONG]);
                failures++;
        }
        return failures ? 1 : 0;
}
