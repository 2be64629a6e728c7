/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh save, restore, save-image-dumpxml, managedsave, managedsave-remove
 * (docs/save.md): the supervisor writes the image (Save), a new
 * supervisor starts a guest from one (--restore, --managed-save). */
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>

#include "conf/save_image.h"
#include "conf/xml.h"
#include "litevirt/litevirt.h"
#include "tools/lvsh-common.h"
#include "tools/lvsh-list.h"
#include "util/paths.h"
#include "lib/methods.h"

/* A save may take long (the stream of a large guest to a slow disk). */
#define SAVE_CALL_TIMEOUT_MS (3600 * 1000)

static const struct lvsh_command *cmd_find(const char *name);

/* FILE as an absolute path (its directory must exist), as the
 * supervisor, running from "/", needs it. */
static int path_absolute(const char *file, char **ret, struct lv_error **err)
{
        _cleanup_free_ char *d = xstrdup(file), *b = xstrdup(file);
        char dir[PATH_MAX];
        if (!realpath(dirname(d), dir))
                return lv_error_set(err, errno, "'%s'", file);
        const char *base = basename(b);
        if (!*base || streq(base, ".") || streq(base, "..") || streq(base, "/"))
                return lv_error_setf(err, EINVAL, "'%s' is not a file name", file);
        *ret = xasprintf("%s/%s", streq(dir, "/") ? "" : dir, base);
        return 0;
}

/* npos positional arguments (what: how the usage error names them) and,
 * with state, --running / --paused: *ret_running 1, 0, or -1 without. */
static int args_parse(const char *cmdname, int argc, char **argv, bool state, const char **pos,
                      int npos, const char *what, int *ret_running, struct lv_error **err)
{
        static const char *const flags[] = {"--running", "--paused", NULL};
        bool set[2] = {false};
        int n;
        const struct lvsh_command *cmd = cmd_find(cmdname);
        int r = lvsh_args_split(cmd, argc, argv, state ? flags : NULL, set, pos, npos, &n, err);
        if (r < 0)
                return r;
        if (n != npos)
                return lvsh_usage_error(cmd, err, "expected %s", what);
        if (set[0] && set[1])
                return lvsh_usage_error(cmd, err, "--running and --paused exclude each other");
        if (ret_running)
                *ret_running = set[0] ? 1 : set[1] ? 0 : -1;
        return 0;
}

/* Save (file, or the managed save) and wait for the guest's end. */
static int save_call(const char *name, const char *file, int running, struct lv_error **err)
{
        lv_conn *c = NULL;
        int r = lvsh_connect(name, &c, err);
        if (r < 0)
                return r;
        struct json_object *p = json_object_new_object();
        if (file)
                json_object_object_add(p, "file", json_object_new_string(file));
        else
                json_object_object_add(p, "managed", json_object_new_boolean(true));
        if (running >= 0)
                json_object_object_add(p, running ? "running" : "paused",
                                       json_object_new_boolean(true));
        lv_client_error *ce = NULL;
        lv_conn_set_timeout(c, SAVE_CALL_TIMEOUT_MS);
        r = lv_call(c, LV_METHOD_SAVE, p, NULL, &ce);
        json_object_put(p);
        if (r >= 0) /* so that `lvsh start` right after finds it gone */
                lvsh_wait_supervisor_gone(c);
        lv_disconnect(c);
        return r < 0 ? lvsh_error_from_client(err, ce) : 0;
}

static int cmd_save(int argc, char **argv, struct lv_error **err)
{
        const char *pos[2];
        int running;
        int r = args_parse("save", argc, argv, true, pos, 2, "a domain NAME and a FILE", &running,
                           err);
        if (r < 0)
                return r;
        _cleanup_free_ char *file = NULL;
        if ((r = path_absolute(pos[1], &file, err)) < 0 ||
            (r = save_call(pos[0], file, running, err)) < 0)
                return lv_error_prefix(err, "Failed to save domain '%s' to %s\nerror", pos[0],
                                       pos[1]);
        printf("\nDomain '%s' saved to %s\n\n", pos[0], pos[1]);
        return 0;
}

/* The image's header and definition (not its stream's checksum: the
 * supervisor checks that before it starts anything). */
int lvsh_save_image_read(const char *file, struct domain_def **ret_def, char **ret_xml,
                         struct lv_error **err)
{
        struct save_image_header h;
        _cleanup_free_ char *xml = NULL;
        int r = save_image_open(file, false, NULL, &h, &xml, err);
        if (r < 0)
                return r;
        if (ret_def) {
                const struct conf_xml_ops *x = conf_xml(err);
                if (!x)
                        return -ENOENT;
                if ((r = x->domain_parse_string(xml, h.xml_len, file, ret_def, err)) < 0)
                        return lv_error_prefix(err, "save image '%s'", file);
        }
        if (ret_xml)
                *ret_xml = TAKE_PTR(xml);
        return 0;
}

static int cmd_restore(int argc, char **argv, struct lv_error **err)
{
        const char *pos[1];
        int running;
        int r = args_parse("restore", argc, argv, true, pos, 1, "a FILE", &running, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *what = xasprintf("Failed to restore domain from %s", pos[0]);
        _cleanup_free_ char *file = NULL;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if ((r = path_absolute(pos[0], &file, err)) < 0 ||
            (r = lvsh_save_image_read(file, &def, NULL, err)) < 0)
                return lv_error_prefix(err, "%s\nerror", what);
        lv_guest_status st;
        if (lv_guest_status_read(def->name, &st, NULL) == 0)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "%s\nerror: Requested operation is not valid: domain '%s' "
                                     "is already running",
                                     what, def->name);
        const char *extra[] = {"--restore", file,
                               running > 0    ? "--running"
                               : running == 0 ? "--paused"
                                              : NULL,
                               NULL};
        if ((r = lvsh_supervisor_start(def->name, extra, what, err)) < 0)
                return r;
        printf("Domain restored from %s\n\n", pos[0]);
        return 0;
}

static int cmd_save_image_dumpxml(int argc, char **argv, struct lv_error **err)
{
        const char *pos[1];
        int r = args_parse("save-image-dumpxml", argc, argv, false, pos, 1, "a FILE", NULL, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *xml = NULL;
        if ((r = lvsh_save_image_read(pos[0], NULL, &xml, err)) < 0)
                return r;
        fputs(xml, stdout);
        if (*xml && xml[strlen(xml) - 1] != '\n')
                putchar('\n');
        return 0;
}

bool lvsh_managed_save_exists(const char *name)
{
        if (!lvsh_name_is_safe(name))
                return false;
        _cleanup_free_ char *path = paths_managed_save(name);
        return access(path, F_OK) == 0;
}

int lvsh_managed_save_start(const char *name, bool force_boot, struct lv_error **err)
{
        if (!lvsh_managed_save_exists(name))
                return 0;
        _cleanup_free_ char *path = paths_managed_save(name);
        if (force_boot) {
                if (unlink(path) < 0 && errno != ENOENT)
                        return lv_error_set(err, errno,
                                            "Failed to start domain '%s'\nerror: removing the "
                                            "managed save '%s'",
                                            name, path);
                return 0;
        }
        _cleanup_free_ char *what = xasprintf(
                "Failed to start domain '%s' from its managed save %s (lvsh start --force-boot "
                "or managedsave-remove discards it)",
                name, path);
        const char *extra[] = {"--managed-save", NULL};
        int r = lvsh_supervisor_start(name, extra, what, err);
        return r < 0 ? r : 1;
}

static int cmd_managedsave(int argc, char **argv, struct lv_error **err)
{
        const char *pos[1];
        int running;
        int r = args_parse("managedsave", argc, argv, true, pos, 1, "a domain NAME", &running, err);
        if (r < 0)
                return r;
        if ((r = save_call(pos[0], NULL, running, err)) < 0)
                return lv_error_prefix(err, "Failed to save domain '%s' state\nerror", pos[0]);
        printf("\nDomain '%s' state saved by litevirt\n\n", pos[0]);
        return 0;
}

static int cmd_managedsave_remove(int argc, char **argv, struct lv_error **err)
{
        const char *pos[1];
        int r = args_parse("managedsave-remove", argc, argv, false, pos, 1, "a domain NAME", NULL,
                           err);
        if (r < 0)
                return r;
        const char *name = pos[0];
        if (!lvsh_guest_exists(name))
                return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'", name);
        if (!lvsh_managed_save_exists(name)) {
                printf("Domain '%s' has no manage save image; removal skipped\n", name);
                return 0;
        }
        _cleanup_free_ char *path = paths_managed_save(name);
        if (unlink(path) < 0)
                return lv_error_set(err, errno,
                                    "Failed to remove managed save image for domain '%s'\nerror: "
                                    "'%s'",
                                    name, path);
        printf("Removed managedsave image for domain '%s'\n", name);
        return 0;
}

const struct lvsh_command lvsh_save_commands[] = {
        {"save", "NAME FILE [--running|--paused]", "save a domain state to a file",
         "    Writes the guest's memory and device state (QEMU's migration stream,\n"
         "    through a descriptor of the supervisor's) with its definition to FILE\n"
         "    (mode 0600; a temporary file renamed once complete), then ends the\n"
         "    guest: 'shut off (saved)'. On failure (a full disk, ...) the guest goes\n"
         "    on as before and no file is left. --running / --paused: the state\n"
         "    restore leaves it in (default: as it is now). Format: docs/save.md.",
         cmd_save},
        {"restore", "FILE [--running|--paused]", "restore a domain from a saved state in a file",
         "    Starts the guest saved in FILE where it was. The image is checked\n"
         "    first (header, length, checksum of the stream): a damaged or\n"
         "    truncated one is refused and nothing is started. A definition stored\n"
         "    under the guest's name must have the image's UUID.",
         cmd_restore},
        {"save-image-dumpxml", "FILE", "saved state domain information in XML",
         "    Prints the definition stored in a save image.", cmd_save_image_dumpxml},
        {"managedsave", "NAME [--running|--paused]", "managed save of a domain state",
         "    Saves a persistent guest to $LITEVIRT_SAVEDIR/NAME.save (default\n"
         "    /var/lib/litevirt/save) and ends it; 'lvsh start NAME' resumes it from\n"
         "    there and removes the image. dominfo shows 'Managed save: yes'.",
         cmd_managedsave},
        {"managedsave-remove", "NAME", "remove managed save of a domain",
         "    Discards NAME's managed save: the next start boots afresh.", cmd_managedsave_remove},
        {0},
};

static const struct lvsh_command *cmd_find(const char *name)
{
        for (const struct lvsh_command *c = lvsh_save_commands; c->name; c++)
                if (streq(c->name, name))
                        return c;
        return NULL;
}
