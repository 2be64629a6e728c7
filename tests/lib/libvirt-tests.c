/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/libvirt-tests.h"

#include <sys/stat.h>

#include "util/fileio.h"
#include "util/strbuf.h"

char *libvirt_tests_dir(const char *family, bool *ret_skip)
{
        const char *top = getenv("LV_LIBVIRT_TESTS");
        bool skip = streq(getenv("LV_LIBVIRT_TESTS_SKIP"), "1");
        *ret_skip = false;
        if (!top || !*top) {
                fprintf(stderr, "LV_LIBVIRT_TESTS is not set (meson sets it: -Dlibvirt_tests)\n");
                return NULL;
        }
        char *dir = xasprintf("%s/tests/%s", top, family);
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
                return dir;
        if (skip) {
                fprintf(stderr,
                        "skip: libvirt's test data %s is missing (LV_LIBVIRT_TESTS_SKIP=1)\n", dir);
                *ret_skip = true;
        } else {
                fprintf(stderr,
                        "libvirt's test data %s is missing: fetch it with "
                        "scripts/fetch-libvirt-tests.sh %s (or set LV_LIBVIRT_TESTS_SKIP=1 to "
                        "skip these tests)\n",
                        dir, top);
        }
        free(dir);
        return NULL;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The trimmed lines of a document, closing tags left out, sorted. */
static char **xml_lines(const char *doc)
{
        char **v = xcalloc(1, sizeof(char *));
        for (const char *p = doc; *p;) {
                size_t len = strcspn(p, "\n");
                size_t skip = strspn(p, " \t");
                if (skip < len && !startswith(p + skip, "</"))
                        strv_push(&v, xstrndup(p + skip, len - skip));
                p += len;
                if (*p)
                        p++;
        }
        qsort(v, strv_length(v), sizeof(char *), cmp_str);
        return v;
}

static void add_name(char ***names, char sign, const char *line)
{
        const char *s = line[0] == '<' ? line + 1 : line;
        size_t n = line[0] == '<' ? strcspn(s, " />") : 0;
        char *name = n ? xasprintf("%c%.*s", sign, (int)n, s) : xasprintf("%ctext", sign);
        for (size_t i = 0; (*names)[i]; i++)
                if (streq((*names)[i], name)) {
                        free(name);
                        return;
                }
        strv_push(names, name);
}

char *libvirt_tests_xml_diff(const char *ours, const char *theirs)
{
        _cleanup_strv_free_ char **a = xml_lines(ours);
        _cleanup_strv_free_ char **b = xml_lines(theirs);
        _cleanup_strv_free_ char **names = xcalloc(1, sizeof(char *));
        size_t i = 0, j = 0;
        while (a[i] || b[j]) {
                int c = !a[i] ? 1 : !b[j] ? -1 : strcmp(a[i], b[j]);
                if (c == 0) {
                        i++, j++;
                } else if (c < 0) {
                        add_name(&names, '-', a[i++]);
                } else {
                        add_name(&names, '+', b[j++]);
                }
        }
        qsort(names, strv_length(names), sizeof(char *), cmp_str);
        _cleanup_strbuf_ struct strbuf sb = {0};
        strbuf_append(&sb, "");
        for (size_t k = 0; names[k]; k++)
                strbuf_printf(&sb, "%s%s", k ? " " : "", names[k]);
        return strbuf_steal(&sb);
}
