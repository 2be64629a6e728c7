/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh domxml-to-native qemu-argv FILE (virsh's command): the QEMU command
 * line litevirt would run FILE's guest with. The format dispatch is in
 * lvsh-xen.c, where domxml-to-native lives. */
#include "conf/host_conf.h"
#include "conf/xml.h"
#include "qemu/command.h"
#include "tools/lvsh.h"
#include "util/paths.h"

int lvsh_domxml_to_qemu_argv(const char *file, struct lv_error **err)
{
        const struct conf_xml_ops *xml = conf_xml(err);
        if (!xml)
                return -ENOENT;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        int r = xml->domain_parse_file(file, &def, err);
        if (r < 0)
                return r;
        /* what the QEMU driver decides at start: its state directory's
         * monitor and channel sockets, the NVRAM; taps and autoport ports
         * are placeholders (qemu/command.h) */
        _cleanup_free_ char *dir = paths_state_dir(def->name);
        _cleanup_free_ char *qmp = paths_state_file(def->name, "qmp.sock");
        if ((r = qemu_firmware_resolve(def, paths_nvramdir(), err)) < 0)
                return r;
        /* SPICE TLS as the host's configuration has it */
        struct host_conf hc;
        host_conf_init(&hc);
        if ((r = host_conf_load(NULL, &hc, err)) < 0) {
                host_conf_clear(&hc);
                return r;
        }
        _cleanup_strv_free_ char **argv = NULL;
        r = qemu_command_build_preview(def, qmp, NULL, dir,
                                       hc.spice_tls ? host_conf_spice_tls_dir(&hc) : NULL, &argv,
                                       err);
        host_conf_clear(&hc);
        if (r < 0)
                return r;
        if (argv[0][0] != '/') {
                free(argv[0]);
                argv[0] = xstrdup("/usr/bin/qemu-system-x86_64");
        }
        _cleanup_free_ char *text = qemu_command_format(argv);
        fputs(text, stdout);
        return 0;
}
