/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh's conversion commands, as virsh has them:
 *   domxml-from-native xen-xl FILE     xl.cfg → domain XML
 *   domxml-to-native xen-xl FILE.xml   domain XML → xl.cfg
 *   domxml-to-native qemu-argv FILE.xml   domain XML → QEMU command line
 *                                      (lvsh-guests.c)
 * Built as an empty-handed stub (a clear error) with -Dxen=disabled. */
#include "conf/xml.h"
#include "tools/lvsh.h"
#include "util/fileio.h"
#if LV_WITH_XEN
#include "xen/xlcfg.h"
#endif

static const struct lvsh_command *cmd_find(const char *name);

static int check_args(const char *name, int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = cmd_find(name);
        for (int i = 1; i < argc; i++)
                if (startswith(argv[i], "--"))
                        return lvsh_usage_error(cmd, err, "unknown option '%s'", argv[i]);
        if (argc != 3)
                return lvsh_usage_error(cmd, err, "expected FORMAT and FILE");
        if (!streq(argv[1], "xen-xl"))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "format '%s' is not supported (supported: xen-xl%s)", argv[1],
                                     streq(name, "domxml-to-native") ? ", qemu-argv" : "");
#if !LV_WITH_XEN
        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                             "litevirt was built without Xen support (-Dxen=disabled)");
#endif
        return 0;
}

static int cmd_from_native(int argc, char **argv, struct lv_error **err)
{
        int r = check_args("domxml-from-native", argc, argv, err);
        if (r < 0)
                return r;
#if LV_WITH_XEN
        _cleanup_free_ char *text = NULL;
        size_t len;
        if ((r = file_read_bounded(argv[2], XLCFG_MAX_BYTES, &text, &len, err)) < 0)
                return r;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if ((r = xen_xlcfg_parse(text, len, argv[2], &def, err)) < 0)
                return r;
        if ((r = domain_validate(def, err)) < 0)
                return lv_error_prefix(err, "%s", argv[2]);
        _cleanup_free_ char *xml = domain_format(def);
        fputs(xml, stdout);
#endif
        return 0;
}

static int cmd_to_native(int argc, char **argv, struct lv_error **err)
{
        if (argc == 3 && streq(argv[1], "qemu-argv") && !startswith(argv[2], "--"))
                return lvsh_domxml_to_qemu_argv(argv[2], err);
        int r = check_args("domxml-to-native", argc, argv, err);
        if (r < 0)
                return r;
#if LV_WITH_XEN
        const struct conf_xml_ops *xml = conf_xml(err);
        if (!xml)
                return -ENOENT;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if ((r = xml->domain_parse_file(argv[2], &def, err)) < 0)
                return r;
        _cleanup_free_ char *cfg = NULL;
        if ((r = xen_xlcfg_format(def, &cfg, err)) < 0)
                return r;
        fputs(cfg, stdout);
#endif
        return 0;
}

const struct lvsh_command lvsh_xen_commands[] = {
        {"domxml-from-native", "FORMAT FILE", "convert a native guest configuration to domain XML",
         "    FORMAT is xen-xl: FILE is a Xen xl.cfg. Every key must be understood:\n"
         "    xl ignores misspelt keys, lvsh names them as errors.",
         cmd_from_native},
        {"domxml-to-native", "FORMAT FILE", "convert domain XML to a native guest configuration",
         "    FORMAT is xen-xl: prints the xl.cfg the Xen driver runs the guest with.\n"
         "    Anything xl.cfg cannot express is refused, naming it. FORMAT qemu-argv:\n"
         "    the QEMU command line the QEMU driver would run (tap fds and autoport\n"
         "    ports are placeholders, decided when the guest starts).",
         cmd_to_native},
        {0},
};

static const struct lvsh_command *cmd_find(const char *name)
{
        for (const struct lvsh_command *c = lvsh_xen_commands; c->name; c++)
                if (streq(c->name, name))
                        return c;
        return NULL;
}
