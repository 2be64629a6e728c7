/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh's definition commands: define, undefine, dumpxml, validate, list,
 * domuuid, domname. Definitions are $GUESTDIR/NAME.xml, written atomically
 * in litevirt's normalised form. */
#include <ctype.h>
#include <sys/stat.h>

#include "conf/domain_json.h"
#include "conf/xml.h"
#include "litevirt/litevirt.h"
#include "qemu/command.h"
#include "tools/lvsh-common.h"
#include "tools/lvsh-list.h"
#include "util/autostart.h"
#include "util/fileio.h"
#include "util/paths.h"

int lvsh_domain_parse_file(const char *path, struct domain_def **ret, struct lv_error **err)
{
        const struct conf_xml_ops *xml = conf_xml(err);
        if (!xml)
                return -ENOENT;
        return xml->domain_parse_file(path, ret, err);
}

/* Positional arguments and --flags (lvsh_args_split). */
static int args_split(const struct lvsh_command *cmd, int argc, char **argv,
                      const char *const *flags, bool *set, const char **pos, int npos_max,
                      int *npos, struct lv_error **err)
{
        return lvsh_args_split(cmd, argc, argv, flags, set, pos, npos_max, npos, err);
}

static const struct lvsh_command *cmd_find(const char *name);

/* The uuid of a guest other than the one being defined, cheaply: for a
 * running guest with no stored definition its running model's (read from
 * the model's first bytes); for a stored definition its <uuid> element's
 * text, found in the file without parsing
 * the XML (define compares every other guest's uuid: a full parse of
 * each made define, and each define+start, grow with the number of
 * guests; docs/performance.md, "Scale"). Files with a comment or CDATA
 * (where a <uuid> might hide), more or less than one <uuid>, or an
 * unparsable one are parsed in full. 1: found, 0: no uuid seen (an
 * unreadable definition owns none we can see). */
static int stored_uuid(const char *name, unsigned char uuid[16])
{
        _cleanup_free_ char *path = paths_guest_xml(name);
        _cleanup_free_ char *text = NULL;
        if (access(path, F_OK) < 0) {
                /* running, not stored (transient): its running model's
                 * first bytes (conf/domain_json.h) */
                _cleanup_free_ char *running = paths_state_file(name, "definition.json");
                if (domain_json_peek_uuid(running, uuid))
                        return 1;
        } else if (file_read_bounded(path, 4 << 20, &text, NULL, NULL) == 0 &&
                   !strstr(text, "<!--") && !strstr(text, "<![CDATA[")) {
                char *a = strstr(text, "<uuid>");
                char *b = a ? strstr(a, "</uuid>") : NULL;
                if (b && !strstr(a + 1, "<uuid>") && !strstr(a + 1, "<uuid ")) {
                        a += strlen("<uuid>");
                        while (a < b && isspace((unsigned char)*a))
                                a++;
                        while (b > a && isspace((unsigned char)b[-1]))
                                b--;
                        *b = '\0';
                        if (domain_uuid_parse(a, uuid) == 0)
                                return 1;
                }
        }
        _cleanup_domain_def_ struct domain_def *old = NULL;
        _cleanup_error_ struct lv_error *lerr = NULL;
        if (lvsh_guest_load(name, &old, &lerr) < 0)
                return 0;
        memcpy(uuid, old->uuid, 16);
        return 1;
}

int lvsh_domain_check_unique(const struct domain_def *def, struct lv_error **err)
{
        int r;
        _cleanup_strv_free_ char **names = NULL;
        if ((r = lvsh_guest_names(&names, err)) < 0)
                return r;
        char uuid[37];
        domain_uuid_format(def->uuid, uuid);
        for (char **n = names; *n; n++) {
                unsigned char old_uuid[16];
                if (streq(*n, def->name)) {
                        /* the guest redefined: its stored definition in full */
                        _cleanup_domain_def_ struct domain_def *old = NULL;
                        _cleanup_error_ struct lv_error *lerr = NULL;
                        if (lvsh_guest_load(*n, &old, &lerr) < 0)
                                continue;
                        memcpy(old_uuid, old->uuid, 16);
                } else if (stored_uuid(*n, old_uuid) == 0) {
                        continue; /* an unreadable definition owns no uuid we can see */
                }
                bool same_uuid = memcmp(old_uuid, def->uuid, 16) == 0;
                if (streq(*n, def->name) && !same_uuid) {
                        char ou[37];
                        domain_uuid_format(old_uuid, ou);
                        return lv_error_setf(err, LV_ERR_EXISTS,
                                             "domain '%s' already exists with uuid %s", def->name,
                                             ou);
                }
                if (!streq(*n, def->name) && same_uuid)
                        return lv_error_setf(err, LV_ERR_EXISTS,
                                             "domain '%s' is already defined with uuid %s", *n,
                                             uuid);
        }
        return 0;
}

void lvsh_domain_prepare(struct domain_def *def)
{
        _cleanup_error_ struct lv_error *e = NULL;
        (void)qemu_definition_prepare(def, &e);
}

int lvsh_domain_store(const char *file, struct domain_def *def, struct lv_error **err)
{
        int r;
        lvsh_domain_prepare(def);
        if ((r = lvsh_domain_check_unique(def, err)) < 0)
                return lv_error_prefix(err, "Failed to define domain from %s\nerror", file);
        _cleanup_free_ char *xml = domain_format(def);
        _cleanup_free_ char *path = paths_guest_xml(def->name);
        if ((r = mkdir_p(paths_guestdir(), 0755, err)) < 0 ||
            (r = file_write_atomic(path, xml, strlen(xml), 0600, err)) < 0)
                return lv_error_prefix(err, "Failed to define domain from %s\nerror", file);
        /* The model of the stored file, for the supervisor's next start
         * (conf/domain_json.h): best effort. */
        struct stat st;
        _cleanup_domain_def_ struct domain_def *stored = NULL;
        if (stat(path, &st) == 0 && lvsh_domain_parse_file(path, &stored, NULL) >= 0) {
                _cleanup_free_ char *cache = paths_model_cache(def->name);
                (void)domain_json_cache_write(cache, &st, stored);
        }
        return 0;
}

/* ---- define ---- */

static int cmd_define(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"--validate", NULL};
        bool set[1] = {false}; /* litevirt always validates */
        const char *pos[1];
        int npos, r;
        if ((r = args_split(cmd_find("define"), argc, argv, flags, set, pos, 1, &npos, err)) < 0)
                return r;
        if (npos != 1)
                return lvsh_usage_error(cmd_find("define"), err, "expected a FILE");
        const char *file = pos[0];
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if ((r = lvsh_domain_parse_file(file, &def, err)) < 0)
                return lv_error_prefix(err, "Failed to define domain from %s\nerror", file);
        if ((r = lvsh_domain_store(file, def, err)) < 0)
                return r;
        printf("Domain '%s' defined from %s\n\n", def->name, file);
        return 0;
}

/* ---- undefine ---- */

/* A QEMU guest's UEFI variable store (its <nvram>, else the one litevirt
 * makes at its first start), or NULL for a guest without UEFI. */
static char *guest_nvram(const char *xml_path)
{
        _cleanup_domain_def_ struct domain_def *def = NULL;
        _cleanup_error_ struct lv_error *e = NULL;
        if (lvsh_domain_parse_file(xml_path, &def, &e) < 0 ||
            (def->type != DOMAIN_TYPE_QEMU && def->type != DOMAIN_TYPE_KVM))
                return NULL;
        if (def->os.nvram)
                return xstrdup(def->os.nvram);
        if (!streq_ptr(def->os.firmware, "efi") && !streq_ptr(def->os.loader_type, "pflash"))
                return NULL;
        return xasprintf("%s/%s_VARS.fd", paths_nvramdir(), def->name);
}

static int cmd_undefine(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"--nvram", "--keep-nvram", "--snapshots-metadata",
                                            "--managed-save", NULL};
        bool set[4] = {false, false, false, false};
        const char *pos[1];
        int npos, r;
        if ((r = args_split(cmd_find("undefine"), argc, argv, flags, set, pos, 1, &npos, err)) < 0)
                return r;
        if (set[0] && set[1])
                return lvsh_usage_error(cmd_find("undefine"), err,
                                        "--nvram and --keep-nvram exclude each other");
        if (npos != 1)
                return lvsh_usage_error(cmd_find("undefine"), err, "expected a domain NAME");
        const char *name = pos[0];
        _cleanup_free_ char *path = NULL;
        if (!lvsh_name_is_safe(name) || access((path = paths_guest_xml(name)), F_OK) < 0) {
                if (lvsh_guest_running(name, NULL))
                        return lv_error_setf(err, LV_ERR_STATE,
                                             "Failed to undefine domain '%s'\nerror: Requested "
                                             "operation is not valid: cannot undefine transient "
                                             "domain",
                                             name);
                return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'", name);
        }
        /* As virsh: a guest's NVRAM goes with --nvram, stays with
         * --keep-nvram; without either its definition stays too */
        _cleanup_free_ char *nvram = guest_nvram(path);
        if (nvram && access(nvram, F_OK) < 0)
                free(TAKE_PTR(nvram));
        if (nvram && !set[0] && !set[1])
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Failed to undefine domain '%s'\nerror: Requested operation "
                                     "is not valid: cannot undefine domain with nvram (%s): use "
                                     "--nvram or --keep-nvram",
                                     name, nvram);
        /* As libvirt: snapshots and a managed save go only when asked
         * for; all is checked before anything is removed */
        int nsnap = lvsh_snapshot_count(name);
        if (nsnap > 0 && !set[2])
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Failed to undefine domain '%s'\nerror: Requested operation "
                                     "is not valid: cannot delete %s domain with %d snapshots "
                                     "(--snapshots-metadata removes them)",
                                     name, lvsh_guest_running(name, NULL) ? "running" : "inactive",
                                     nsnap);
        bool saved = lvsh_managed_save_exists(name);
        if (saved && !set[3])
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Failed to undefine domain '%s'\nerror: Requested operation "
                                     "is not valid: Refusing to undefine while domain managed "
                                     "save image exists (--managed-save removes it)",
                                     name);
        _cleanup_free_ char *save = paths_managed_save(name);
        if (saved && unlink(save) < 0 && errno != ENOENT)
                return lv_error_set(err, errno,
                                    "Failed to undefine domain '%s'\nerror: Failed to remove "
                                    "domain managed save image '%s'",
                                    name, save);
        if (nsnap > 0 && (r = lvsh_snapshot_metadata_remove(name, err)) < 0)
                return lv_error_prefix(err,
                                       "Failed to undefine domain '%s'\nerror: removing its "
                                       "snapshots' metadata",
                                       name);
        /* As libvirt: a running guest keeps running, transient now (its
         * supervisor keeps the definition it runs with), and is gone once
         * it ends. */
        if (unlink(path) < 0)
                return lv_error_set(err, errno,
                                    "Failed to undefine domain '%s'\nerror: removing '%s'", name,
                                    path);
        _cleanup_free_ char *cache = paths_model_cache(name);
        (void)unlink(cache);
        /* how its last run ended: a guest defined again under this name
         * must not show it (domstate --reason) */
        _cleanup_free_ char *ended = paths_guest_ended(name);
        (void)unlink(ended);
        if (nvram && set[0] && unlink(nvram) < 0 && errno != ENOENT)
                return lv_error_set(err, errno,
                                    "Domain '%s' has been undefined, but its NVRAM '%s' was not "
                                    "removed",
                                    name, nvram);
        printf("Domain '%s' has been undefined\n\n", name);
        return 0;
}

/* ---- dumpxml ---- */

/* A running guest's XML: the definition it runs with (kept by its
 * supervisor in its state directory), which may differ from the stored
 * one or exist without it (transient), with the live values its driver
 * put there (ports, host-side links, aliases, ptys) as virsh shows them.
 * NULL when there is none. */
static char *live_xml(const char *name, unsigned flags)
{
        _cleanup_domain_def_ struct domain_def *def = NULL;
        _cleanup_error_ struct lv_error *e = NULL;
        if (lvsh_guest_load_running(name, &def, &e) < 0)
                return NULL;
        return domain_format_flags(def, flags);
}

static int cmd_dumpxml(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"--inactive", "--security-info", NULL};
        bool set[2] = {false, false};
        const char *pos[1];
        int npos, r;
        if ((r = args_split(cmd_find("dumpxml"), argc, argv, flags, set, pos, 1, &npos, err)) < 0)
                return r;
        if (npos != 1)
                return lvsh_usage_error(cmd_find("dumpxml"), err, "expected a domain NAME");
        unsigned fmt = set[1] ? 0 : DOMAIN_FORMAT_HIDE_SECRETS;
        if (!set[0] && lvsh_guest_running(pos[0], NULL)) {
                _cleanup_free_ char *live = live_xml(pos[0], fmt | DOMAIN_FORMAT_LIVE);
                if (live) {
                        fputs(live, stdout);
                        return 0;
                }
        }
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if ((r = lvsh_guest_load(pos[0], &def, err)) < 0)
                return r;
        _cleanup_free_ char *xml = domain_format_flags(def, fmt);
        fputs(xml, stdout);
        return 0;
}

/* ---- validate ---- */

static int cmd_validate(int argc, char **argv, struct lv_error **err)
{
        const char *pos[1];
        int npos, r;
        if ((r = args_split(cmd_find("validate"), argc, argv, NULL, NULL, pos, 1, &npos, err)) < 0)
                return r;
        if (npos != 1)
                return lvsh_usage_error(cmd_find("validate"), err, "expected a FILE");
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if ((r = lvsh_domain_parse_file(pos[0], &def, err)) < 0)
                return r;
        printf("%s validates\n", pos[0]);
        return 0;
}

/* ---- list ---- */

/* A running guest's state in virsh's words, as domstate says them
 * (paused, in shutdown, crashed); anything else, starting included, is
 * running. */
static const char *list_state(const char *name)
{
        static const char *const map[][2] = {
                {"paused", "paused"},
                {"shutdown", "in shutdown"},
                {"crashed", "crashed"},
        };
        lv_guest_status st;
        if (lv_guest_status_read(name, &st, NULL) < 0)
                return "running";
        bool orphan = lv_guest_status_unsupervised(&st);
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (streq(map[i][0], st.state))
                        return orphan && streq(st.state, "paused") ? "paused (unsupervised)"
                                                                   : map[i][1];
        /* its supervisor died: `lvsh start` reattaches one */
        return orphan ? "running (unsupervised)" : "running";
}

static int cmd_list(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"--all",       "--inactive",     "--name", "--uuid",
                                            "--autostart", "--no-autostart", NULL};
        bool set[6] = {false};
        const char *pos[1];
        int npos, r;
        if ((r = args_split(cmd_find("list"), argc, argv, flags, set, pos, 0, &npos, err)) < 0)
                return r;
        bool all = set[0], inactive = set[1], names_only = set[2], uuids = set[3];
        bool only_autostart = set[4], no_autostart = set[5];
        _cleanup_strv_free_ char **names = NULL;
        if ((r = lvsh_guest_names(&names, err)) < 0)
                return r;
        size_t n = strv_length(names), k = 0;
        struct lvsh_list_row *rows = xcalloc(n ? n : 1, sizeof(*rows));
        char **ids = xcalloc(n ? n : 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                pid_t pid = 0;
                r = lvsh_guest_probe(names[i], &pid, err);
                if (r < 0) {
                        for (size_t j = 0; j < k; j++)
                                free(ids[j]);
                        free(ids);
                        free(rows);
                        return r;
                }
                bool running = r > 0;
                if ((running && inactive) || (!running && !all && !inactive))
                        continue;
                if ((only_autostart || no_autostart) &&
                    autostart_enabled(names[i]) != only_autostart)
                        continue;
                ids[k] = running ? xasprintf("%d", (int)pid) : xstrdup("-");
                rows[k].id = ids[k];
                rows[k].name = names[i];
                rows[k].state = running ? list_state(names[i]) : "shut off";
                k++;
        }
        if (uuids) {
                for (size_t i = 0; i < k; i++) {
                        _cleanup_domain_def_ struct domain_def *def = NULL;
                        _cleanup_error_ struct lv_error *lerr = NULL;
                        char u[37];
                        if (lvsh_guest_load(rows[i].name, &def, &lerr) < 0)
                                continue;
                        domain_uuid_format(def->uuid, u);
                        printf("%s\n", u);
                }
                printf("\n");
        } else {
                lvsh_list_print(stdout, rows, k, names_only);
        }
        for (size_t i = 0; i < k; i++)
                free(ids[i]);
        free(ids);
        free(rows);
        return 0;
}

static int cmd_autostart(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"--disable", NULL};
        bool set[1] = {false};
        const char *pos[1];
        int npos, r;
        if ((r = args_split(cmd_find("autostart"), argc, argv, flags, set, pos, 1, &npos, err)) < 0)
                return r;
        if (npos != 1)
                return lvsh_usage_error(cmd_find("autostart"), err, "expected a domain NAME");
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if ((r = lvsh_guest_load(pos[0], &def, err)) < 0)
                return r;
        if ((r = autostart_set(def->name, !set[0], err)) < 0)
                return lv_error_prefix(err, "Failed to %s autostart of domain '%s'\nerror",
                                       set[0] ? "unmark" : "mark", def->name);
        printf(set[0] ? "Domain '%s' unmarked as autostarted\n\n"
                      : "Domain '%s' marked as autostarted\n\n",
               def->name);
        return 0;
}

/* ---- domuuid / domname ---- */

static int cmd_domuuid(int argc, char **argv, struct lv_error **err)
{
        const char *pos[1];
        int npos, r;
        if ((r = args_split(cmd_find("domuuid"), argc, argv, NULL, NULL, pos, 1, &npos, err)) < 0)
                return r;
        if (npos != 1)
                return lvsh_usage_error(cmd_find("domuuid"), err, "expected a domain NAME");
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if ((r = lvsh_guest_load(pos[0], &def, err)) < 0)
                return r;
        char u[37];
        domain_uuid_format(def->uuid, u);
        printf("%s\n\n", u);
        return 0;
}

static int cmd_domname(int argc, char **argv, struct lv_error **err)
{
        const char *pos[1];
        int npos, r;
        unsigned char want[16];
        if ((r = args_split(cmd_find("domname"), argc, argv, NULL, NULL, pos, 1, &npos, err)) < 0)
                return r;
        if (npos != 1)
                return lvsh_usage_error(cmd_find("domname"), err, "expected a domain UUID");
        if (domain_uuid_parse(pos[0], want) < 0)
                return lv_error_setf(err, LV_ERR_NO_DOMAIN,
                                     "failed to get domain '%s': not a valid UUID", pos[0]);
        _cleanup_strv_free_ char **names = NULL;
        if ((r = lvsh_guest_names(&names, err)) < 0)
                return r;
        for (char **n = names; *n; n++) {
                _cleanup_domain_def_ struct domain_def *def = NULL;
                _cleanup_error_ struct lv_error *lerr = NULL;
                if (lvsh_guest_load(*n, &def, &lerr) < 0)
                        continue;
                if (memcmp(def->uuid, want, 16) == 0) {
                        printf("%s\n\n", def->name);
                        return 0;
                }
        }
        return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'", pos[0]);
}

const struct lvsh_command lvsh_define_commands[] = {
        {"define", "FILE [--validate]", "define (but don't start) a domain from an XML file",
         "    Validates FILE and stores it as the definition of the domain it names.\n"
         "    A domain of the same name and UUID is redefined; a name or UUID that\n"
         "    belongs to another domain is refused. A failed define leaves the old\n"
         "    definition untouched. The definition is always validated (virsh's\n"
         "    --validate, against the schema, is accepted and means nothing more).",
         cmd_define},
        {"undefine", "NAME [--nvram] [--keep-nvram] [--snapshots-metadata] [--managed-save]",
         "undefine a domain",
         "    Removes the stored definition. A running domain keeps running, as a\n"
         "    transient one, and is gone once it stops (as virsh). A UEFI guest's\n"
         "    NVRAM (its variable store) is removed with --nvram and kept with\n"
         "    --keep-nvram; without either, a guest that has one is not undefined.\n"
         "    A guest with snapshots is undefined only with --snapshots-metadata\n"
         "    (which removes their metadata and memory images, not the overlays),\n"
         "    one with a managed save only with --managed-save (which removes it).",
         cmd_undefine},
        {"dumpxml", "NAME [--inactive] [--security-info]", "domain information in XML",
         "    A running guest's live definition (the one it runs with); --inactive\n"
         "    the stored one (a transient guest has only the live one). Graphics\n"
         "    passwords only with --security-info.",
         cmd_dumpxml},
        {"validate", "FILE", "validate a domain XML file without defining it", NULL, cmd_validate},
        {"list", "[--all] [--inactive] [--autostart] [--no-autostart] [--name] [--uuid]",
         "list domains",
         "    Without options, running domains; --all adds shut off ones;\n"
         "    --inactive shows only shut off ones; --autostart and --no-autostart\n"
         "    keep only domains with (without) autostart; --name and --uuid print\n"
         "    only names or UUIDs.",
         cmd_list},
        {"autostart", "[--disable] NAME", "autostart a domain when the host boots",
         "    On a host running systemd, enables (--disable: disables)\n"
         "    litevirt@NAME.service, so systemd starts the guest at boot and shuts\n"
         "    it down with the host. Elsewhere marks it in $LITEVIRT_CONFDIR/autostart\n"
         "    for the boot-time starter (litevirt-guests start). Shown by dominfo\n"
         "    and list --autostart.",
         cmd_autostart},
        {"domuuid", "NAME", "convert a domain name to its UUID", NULL, cmd_domuuid},
        {"domname", "UUID", "convert a domain UUID to its name", NULL, cmd_domname},
        {0},
};

static const struct lvsh_command *cmd_find(const char *name)
{
        for (const struct lvsh_command *c = lvsh_define_commands; c->name; c++)
                if (streq(c->name, name))
                        return c;
        abort();
}
