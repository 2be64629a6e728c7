/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* UEFI firmware of QEMU guests: which OVMF build and NVRAM a definition
 * gets (pure; qemu/command.h, qemu_firmware_resolve). */
#include "qemu/command_priv.h"

/* Debian's ovmf package: each code build with the variable store it
 * starts from */
static const struct {
        const char *code, *vars;
} ovmf_pairs[] = {
        {"OVMF_CODE_4M.ms.fd", "OVMF_VARS_4M.ms.fd"},
        {"OVMF_CODE_4M.secboot.fd", "OVMF_VARS_4M.fd"},
        {"OVMF_CODE_4M.snakeoil.fd", "OVMF_VARS_4M.snakeoil.fd"},
        {"OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"},
        {"OVMF_CODE.ms.fd", "OVMF_VARS.ms.fd"},
        {"OVMF_CODE.secboot.fd", "OVMF_VARS.fd"},
        {"OVMF_CODE.fd", "OVMF_VARS.fd"},
};

static const char *ovmf_template(const char *code)
{
        const char *slash = strrchr(code, '/');
        if (!slash || (size_t)(slash - code) != strlen(QEMU_OVMF_DIR) ||
            !startswith(code, QEMU_OVMF_DIR))
                return NULL;
        for (size_t i = 0; i < ARRAY_SIZE(ovmf_pairs); i++)
                if (streq(slash + 1, ovmf_pairs[i].code))
                        return ovmf_pairs[i].vars;
        return NULL;
}

void qcmd_firmware_clear(struct qcmd_firmware *fw)
{
        free(fw->code);
        free(fw->nvram);
        free(fw->nvram_template);
        *fw = (struct qcmd_firmware){0};
}

int qcmd_firmware(const struct domain_def *def, const char *nvram_dir, struct qcmd_firmware *ret,
                  struct lv_error **err)
{
        const struct domain_os *os = &def->os;
        struct qcmd_firmware fw = {0};
        bool efi = streq_ptr(os->firmware, "efi");
        *ret = fw;
        if (streq_ptr(os->firmware, "bios") && (os->nvram || os->nvram_template))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': firmware type 'bios' does not support nvram "
                                     "(libvirt refuses it too)",
                                     def->name);
        if (efi && !os->loader && os->loader_secure == DOMAIN_TRISTATE_OFF)
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': loader attribute secure='no' with firmware "
                                     "autoselection: use <firmware><feature enabled='no' "
                                     "name='secure-boot'/> (libvirt refuses it too)",
                                     def->name);
        if (!efi && !streq_ptr(os->loader_type, "pflash"))
                return 0;
        if (streq_ptr(os->loader_type, "rom"))
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': <os firmware='efi'> with a rom <loader>: UEFI "
                                     "is loaded as pflash",
                                     def->name);
        const char *m = os->machine ? os->machine : "pc";
        bool q35 = streq(m, "q35") || startswith(m, "pc-q35-");
        const char *vars = NULL;
        fw.pflash = true;
        if (!os->loader) {
                if (os->fw_secure_boot == DOMAIN_TRISTATE_ON && !q35)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': Secure Boot needs machine q35 (its "
                                             "firmware runs in SMM)",
                                             def->name);
                bool sb = q35 && os->fw_secure_boot != DOMAIN_TRISTATE_OFF;
                if (!sb && os->fw_enrolled_keys == DOMAIN_TRISTATE_ON)
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': enrolled keys need Secure Boot",
                                             def->name);
                bool enrolled = sb && os->fw_enrolled_keys != DOMAIN_TRISTATE_OFF;
                const char *code = enrolled ? "OVMF_CODE_4M.ms.fd"
                                   : sb     ? "OVMF_CODE_4M.secboot.fd"
                                            : "OVMF_CODE_4M.fd";
                fw.code = xasprintf("%s/%s", QEMU_OVMF_DIR, code);
                fw.secure = sb;
        } else {
                fw.code = xstrdup(os->loader);
                fw.secure = os->loader_secure == DOMAIN_TRISTATE_ON;
        }
        vars = ovmf_template(fw.code);
        fw.readonly = os->loader_readonly != DOMAIN_TRISTATE_OFF;
        if (os->nvram_template)
                fw.nvram_template = xstrdup(os->nvram_template);
        else if (vars)
                fw.nvram_template = xasprintf("%s/%s", QEMU_OVMF_DIR, vars);
        if (fw.readonly) {
                if (!os->nvram && !fw.nvram_template) {
                        qcmd_firmware_clear(&fw);
                        return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                             "guest '%s': loader '%s': no variable store "
                                             "template is known for it: give <nvram "
                                             "template=...>",
                                             def->name, os->loader);
                }
                fw.nvram = os->nvram ? xstrdup(os->nvram)
                                     : xasprintf("%s/%s_VARS.fd", nvram_dir, def->name);
        }
        if (fw.secure && !q35) {
                qcmd_firmware_clear(&fw);
                return lv_error_setf(err, LV_ERR_UNSUPPORTED,
                                     "guest '%s': a secure loader needs machine q35 (SMM)",
                                     def->name);
        }
        *ret = fw;
        return 0;
}

int qemu_firmware_resolve(struct domain_def *def, const char *nvram_dir, struct lv_error **err)
{
        struct qcmd_firmware fw;
        int r = qcmd_firmware(def, nvram_dir, &fw, err);
        if (r < 0 || !fw.pflash)
                return r;
        struct domain_os *os = &def->os;
        free(os->loader);
        os->loader = TAKE_PTR(fw.code);
        free(os->loader_type);
        os->loader_type = xstrdup("pflash");
        os->loader_readonly = fw.readonly ? DOMAIN_TRISTATE_ON : DOMAIN_TRISTATE_OFF;
        os->loader_secure = fw.secure ? DOMAIN_TRISTATE_ON : DOMAIN_TRISTATE_OFF;
        free(os->nvram);
        os->nvram = TAKE_PTR(fw.nvram);
        free(os->nvram_template);
        os->nvram_template = TAKE_PTR(fw.nvram_template);
        qcmd_firmware_clear(&fw);
        return 0;
}
