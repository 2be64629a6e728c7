/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/golden.h"

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
