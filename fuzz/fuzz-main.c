/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Standalone driver for builds without libFuzzer (gcc): feeds every file
 * of the given corpus directories (or the given files) to the target once,
 * so the seed and regression corpus runs in every build. */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

#include "util/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
        _cleanup_free_ char *data = NULL;
        _cleanup_error_ struct lv_error *err = NULL;
        size_t len = 0;
        if (file_read_bounded(path, 16 * 1024 * 1024, &data, &len, &err) < 0) {
                fprintf(stderr, "%s\n", err->message);
                return -1;
        }
        /* a private copy of exactly len bytes, so ASan sees overreads */
        uint8_t *copy = xmalloc(len ? len : 1);
        memcpy(copy, data, len);
        LLVMFuzzerTestOneInput(copy, len);
        free(copy);
        return 0;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
        int n = 0;
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (argv[i][0] == '-')
                        continue; /* libFuzzer options, e.g. -runs=N */
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (run_file(argv[i]) < 0)
                                return 1;
                        n++;
                        continue;
                }
                DIR *d = opendir(argv[i]);
                if (!d)
                        return 1;
                char **names = xcalloc(1, sizeof(char *));
                size_t k = 0;
                struct dirent *e;
                while ((e = readdir(d)))
                        if (e->d_name[0] != '.') {
                                strv_push(&names, xstrdup(e->d_name));
                                k++;
                        }
                closedir(d);
                qsort(names, k, sizeof(char *), name_cmp);
                for (size_t j = 0; j < k; j++) {
                        _cleanup_free_ char *p = xasprintf("%s/%s", argv[i], names[j]);
                        if (run_file(p) < 0) {
                                strv_free(names);
                                return 1;
                        }
                        n++;
                }
                strv_free(names);
        }
        printf("%d inputs run\n", n);
        return n > 0 ? 0 : 77;
}
