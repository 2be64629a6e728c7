/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>

#include "config.h"
#include "conf/xml.h"

#define MODULE_NAME "litevirt-xml.so"

/* Looked for, in order: $LITEVIRT_MODULE_DIR, next to the running binary
 * (an uninstalled build tree), the installed module directory. */

static const struct conf_xml_ops *ops;
static void *handle;

void conf_xml_unload(void)
{
        if (handle)
                dlclose(handle);
        handle = NULL;
        ops = NULL;
}

const struct conf_xml_ops *conf_xml(struct lv_error **err)
{
        if (ops)
                return ops;

        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        const char *env = getenv("LITEVIRT_MODULE_DIR");
        const char *dirs[3];
        int ndirs = 0;
        if (env && *env)
                dirs[ndirs++] = env;
        if (n > 0) {
                exe[n] = '\0';
                dirs[ndirs++] = dirname(exe);
        }
        dirs[ndirs++] = LV_MODULEDIR;

        const char *last_error = "not found";
        for (int i = 0; i < ndirs; i++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", dirs[i], MODULE_NAME);
                if (access(path, R_OK) < 0)
                        continue;
                void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
                if (!h) {
                        last_error = dlerror();
                        continue;
                }
                const struct conf_xml_ops *o = dlsym(h, "lv_conf_xml_ops");
                if (!o) {
                        last_error = "symbol lv_conf_xml_ops missing";
                        dlclose(h);
                        continue;
                }
                ops = o;
                handle = h;
                return ops;
        }
        lv_error_setf(err, ENOENT, "cannot load the XML module '%s' (looked in %s%s%s): %s",
                      MODULE_NAME, env && *env ? "$LITEVIRT_MODULE_DIR, " : "",
                      "the binary's directory, ", LV_MODULEDIR, last_error);
        return NULL;
}
