/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh edit (virsh's edit loop: the definition in $VISUAL/$EDITOR,
 * validated on save, re-opened on failure, nothing stored until valid)
 * and lvsh create (a transient guest: its supervisor runs it with the
 * given definition, nothing is stored). */
#include <sys/wait.h>

#include "conf/domain.h"
#include "conf/domain_json.h"
#include "tools/lvsh-common.h"
#include "tools/lvsh-list.h"
#include "util/fileio.h"

#define EDIT_MAX_BYTES (4u << 20)

/* A private temporary file holding text ($TMPDIR/lvshXXXXXX.xml, 0600). */
int lvsh_temp_write(const char *text, char **ret_path, struct lv_error **err)
{
        const char *dir = getenv("TMPDIR");
        _cleanup_free_ char *path = xasprintf("%s/lvshXXXXXX.xml", dir && *dir ? dir : "/tmp");
        _cleanup_close_ int fd = mkostemps(path, 4, O_CLOEXEC);
        if (fd < 0)
                return lv_error_set(err, errno, "creating a temporary file '%s'", path);
        int r = fd_write_all(fd, text, strlen(text), 0);
        if (r < 0) {
                (void)unlink(path);
                return lv_error_set(err, -r, "writing '%s'", path);
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

void lvsh_temp_removep(char **path)
{
        if (*path)
                (void)unlink(*path);
        free(*path);
}

/* $VISUAL, $EDITOR or vi on path, through the shell (an editor may come
 * with options, "emacs -nw"), on our terminal. */
static int editor_run(const char *path, struct lv_error **err)
{
        const char *editor = getenv("VISUAL");
        if (!editor || !*editor)
                editor = getenv("EDITOR");
        if (!editor || !*editor)
                editor = "vi";
        _cleanup_free_ char *script = xasprintf("%s \"$1\"", editor);
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                return lv_error_set(err, errno, "forking to run the editor '%s'", editor);
        if (pid == 0) {
                execl("/bin/sh", "sh", "-c", script, "sh", path, (char *)NULL);
                _exit(127);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFSIGNALED(status))
                return lv_error_setf(err, EIO, "editor '%s %s' was killed by signal %d", editor,
                                     path, WTERMSIG(status));
        return lv_error_setf(err, EIO, "editor '%s %s' failed with exit status %d", editor, path,
                             WEXITSTATUS(status));
}

/* virsh's question after a failed save, on a terminal only. The answer:
 * 'y' edit again, 'n' give up, 'f' try to store the same text again;
 * -1 when there is no terminal to ask. */
static int ask_reedit(const char *msg, const struct lv_error *e)
{
        if (!isatty(STDIN_FILENO))
                return -1;
        fflush(stdout);
        fprintf(stderr, "error: %s\n", e->message);
        for (;;) {
                printf("%s Try again? [y,n,f,?]: ", msg);
                fflush(stdout);
                char line[64];
                if (!fgets(line, sizeof line, stdin))
                        return 'n';
                int c = line[0];
                if (c == 'y' || c == 'n' || c == 'f')
                        return c;
                printf("y - yes, start editor again\n"
                       "n - no, throw away my changes\n"
                       "f - force, try to redefine again\n"
                       "? - print this help\n");
        }
}

int lvsh_edit_loop(const struct lvsh_edit_ops *ops, const char *name, struct lv_error **err)
{
        _cleanup_free_ char *doc = NULL;
        int r = ops->source(name, &doc, err);
        if (r < 0)
                return r;
        _cleanup_(lvsh_temp_removep) char *tmp = NULL;
        if ((r = lvsh_temp_write(doc, &tmp, err)) < 0)
                return r;
        for (bool edit = true;;) {
                if (edit && (r = editor_run(tmp, err)) < 0)
                        return r;
                edit = true;
                _cleanup_free_ char *edited = NULL;
                size_t len;
                if ((r = file_read_bounded(tmp, EDIT_MAX_BYTES, &edited, &len, err)) < 0)
                        return r;
                if (streq(doc, edited)) {
                        printf("%s '%s' XML configuration not changed.\n\n", ops->noun, name);
                        return 0;
                }
                /* Did the definition change under us while it was being
                 * edited (another edit, a define)? */
                _cleanup_free_ char *now = NULL;
                _cleanup_error_ struct lv_error *e = NULL;
                const char *msg = "Failed.";
                if (ops->source(name, &now, &e) < 0 || !streq(now, doc)) {
                        msg = "The XML configuration was changed by another user.";
                        if (!e)
                                lv_error_setf(&e, LV_ERR_STATE,
                                              "%s '%s' was redefined while being edited",
                                              ops->noun_lower, name);
                }
                _cleanup_free_ char *stored = NULL;
                if (!e && ops->store(tmp, &stored, &e) >= 0) {
                        printf("%s '%s' XML configuration edited.\n\n", ops->noun, stored);
                        return 0;
                }
                int c = ask_reedit(msg, e);
                if (c == 'y')
                        continue;
                if (c == 'f') {
                        edit = false;
                        if (now) { /* force: the text edited is stored as it is */
                                free(doc);
                                doc = TAKE_PTR(now);
                        }
                        continue;
                }
                /* 'n', or no terminal to ask: nothing was stored */
                *err = TAKE_PTR(e);
                return lv_error_prefix(err, "%s\nerror", msg);
        }
}

/* The definition edit starts from: the stored one (a transient guest's
 * running one), with its secrets (virsh edit's --security-info). */
static int edit_source(const char *name, char **ret, struct lv_error **err)
{
        _cleanup_domain_def_ struct domain_def *def = NULL;
        int r = lvsh_guest_load(name, &def, err);
        if (r < 0)
                return r;
        *ret = domain_format_flags(def, 0);
        return 0;
}

static int domain_store(const char *file, char **ret_name, struct lv_error **err)
{
        _cleanup_domain_def_ struct domain_def *def = NULL;
        int r = lvsh_domain_parse_file(file, &def, err);
        if (r >= 0 && (r = lvsh_domain_store(file, def, err)) >= 0)
                *ret_name = xstrdup(def->name);
        return r;
}

static int cmd_edit(int argc, char **argv, struct lv_error **err)
{
        static const struct lvsh_edit_ops ops = {"Domain", "domain", edit_source, domain_store};
        const char *name;
        int r = lvsh_args_parse(lvsh_find_command("edit"), argc, argv, NULL, NULL, NULL, NULL,
                                &name, err);
        return r < 0 ? r : lvsh_edit_loop(&ops, name, err);
}

/* ---- create ---- */

static int cmd_create(int argc, char **argv, struct lv_error **err)
{
        static const char *const flags[] = {"paused", "console", "validate", NULL};
        bool set[3] = {false};
        const char *file;
        int r = lvsh_args_parse(lvsh_find_command("create"), argc, argv, flags, set, NULL, NULL,
                                &file, err);
        if (r < 0)
                return r;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        if ((r = lvsh_domain_parse_file(file, &def, err)) < 0)
                return lv_error_prefix(err, "Failed to create domain from %s\nerror", file);
        if (lvsh_guest_running(def->name, NULL))
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Failed to create domain from %s\nerror: operation failed: "
                                     "domain '%s' is already active",
                                     file, def->name);
        if ((r = lvsh_domain_check_unique(def, err)) < 0)
                return lv_error_prefix(err, "Failed to create domain from %s\nerror", file);
        /* The supervisor runs what we validated (FILE may be a pipe, or
         * change meanwhile), from a file of ours it is done with once it
         * reports: the model as JSON (conf/domain_json.h), which it reads
         * without parsing the XML again (docs/performance.md), in the
         * define-time form. */
        lvsh_domain_prepare(def);
        _cleanup_free_ char *json = domain_to_json(def);
        _cleanup_(lvsh_temp_removep) char *tmp = NULL;
        if ((r = lvsh_temp_write(json, &tmp, err)) < 0)
                return lv_error_prefix(err, "Failed to create domain from %s\nerror", file);
        const char *opts[] = {"--definition", tmp, set[0] ? "--paused" : NULL, NULL};
        _cleanup_free_ char *what = xasprintf("Failed to create domain from %s", file);
        if ((r = lvsh_supervisor_start(def->name, opts, what, err)) < 0)
                return r;
        printf("Domain '%s' created from %s\n\n", def->name, file);
        if (set[1]) {
                fflush(stdout);
                char *cargv[] = {"console", def->name, NULL};
                return lvsh_cmd_console(2, cargv, err);
        }
        return 0;
}

const struct lvsh_command lvsh_edit_commands[] = {
        {"edit", "NAME", "edit XML configuration for a domain",
         "    Opens the domain's stored definition (a transient domain's running\n"
         "    one) in $VISUAL, $EDITOR or vi. The saved file is validated and\n"
         "    stored; nothing is stored until it is valid. On a terminal a failure\n"
         "    asks (as virsh): y edits again, n throws the changes away, f tries to\n"
         "    store the same text again; without a terminal it fails. A running\n"
         "    domain keeps its running definition until it is started again.",
         cmd_edit},
        {"create", "FILE [--paused] [--console] [--validate]", "create a domain from an XML file",
         "    Starts a transient domain from FILE: it runs with that definition\n"
         "    and leaves no stored definition when it ends. --paused starts it\n"
         "    with its CPUs stopped (resume runs them); --console attaches to its\n"
         "    console. The definition is always validated (--validate is\n"
         "    accepted). A name or UUID of another domain is refused.",
         cmd_create},
        {0},
};
