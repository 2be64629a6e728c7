/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/golden.h"

#include <dirent.h>

#include "util/fileio.h"

char *golden_read(const char *path)
{
        _cleanup_error_ struct lv_error *err = NULL;
        char *data = NULL;
        if (file_read_bounded(path, 4 * 1024 * 1024, &data, NULL, &err) < 0)
                return NULL;
        return data;
}

void golden_write(const char *path, const char *data)
{
        _cleanup_error_ struct lv_error *err = NULL;
        if (file_write_atomic(path, data, strlen(data), 0644, &err) < 0) {
                fprintf(stderr, "%s\n", err->message);
                exit(1);
        }
        printf("# regenerated %s\n", path);
}

bool golden_regenerate(void)
{
        return streq(getenv("LV_TEST_REGENERATE"), "1");
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

char **golden_list_xml(const char *dir)
{
        char **v = xcalloc(1, sizeof(char *));
        DIR *d = opendir(dir);
        if (!d)
                return v;
        struct dirent *e;
        size_t n = 0;
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l < 5 || strcmp(e->d_name + l - 4, ".xml") != 0 ||
                    (l > 8 && strcmp(e->d_name + l - 8, ".out.xml") == 0))
                        continue;
                strv_push(&v, xstrdup(e->d_name));
                n++;
        }
        closedir(d);
        qsort(v, n, sizeof(char *), name_cmp);
        return v;
}
