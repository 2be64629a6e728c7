/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest discovery and virsh's `list` table. */
#include <dirent.h>
#include <signal.h>

#include "conf/domain_json.h"
#include "conf/xml.h"
#include "litevirt/litevirt.h"
#include "tools/lvsh-common.h"
#include "tools/lvsh-list.h"
#include "util/fileio.h"
#include "util/paths.h"

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

bool lvsh_name_is_safe(const char *name)
{
        return name && *name && !strchr(name, '/') && !streq(name, ".") && !streq(name, "..") &&
               strlen(name) <= DOMAIN_NAME_MAX;
}

int lvsh_guest_names(char ***ret, struct lv_error **err)
{
        return lvsh_xml_names(paths_guestdir(), ret, err);
}

int lvsh_xml_names(const char *dir, char ***ret, struct lv_error **err)
{
        _cleanup_strv_free_ char **names = xcalloc(1, sizeof(char *));
        DIR *d = opendir(dir);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = TAKE_PTR(names);
                        return 0;
                }
                return lv_error_set(err, errno, "cannot open the definitions directory '%s'", dir);
        }
        struct dirent *e;
        size_t n = 0;
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".xml") != 0)
                        continue;
                strv_push(&names, xstrndup(e->d_name, l - 4));
                n++;
        }
        closedir(d);
        /* Running guests without a stored definition (transient: migrated
         * in, undefined while running) are guests too, until they end. */
        const char *rundir = paths_rundir();
        d = opendir(rundir);
        while (d && (e = readdir(d))) {
                if (e->d_name[0] == '.' || e->d_type != DT_DIR || strv_contains(names, e->d_name))
                        continue;
                lv_guest_status st;
                if (!lvsh_name_is_safe(e->d_name) || lv_guest_status_read(e->d_name, &st, NULL) < 0)
                        continue;
                strv_push(&names, xstrdup(e->d_name));
                n++;
        }
        if (d)
                closedir(d);
        qsort(names, n, sizeof(char *), name_cmp);
        *ret = TAKE_PTR(names);
        return 0;
}

int lvsh_guest_load_running(const char *name, struct domain_def **ret, struct lv_error **err)
{
        lv_guest_status st;
        if (!lvsh_name_is_safe(name) || lv_guest_status_read(name, &st, NULL) < 0)
                return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'", name);
        _cleanup_free_ char *path = paths_state_file(name, "definition.json");
        _cleanup_domain_def_ struct domain_def *def = NULL;
        int r = domain_json_read_file(path, &def, err);
        if (r < 0)
                return lv_error_prefix(err, "domain '%s': running definition", name);
        if (!streq(def->name, name))
                return lv_error_setf(err, LV_ERR_INVALID_XML,
                                     "domain '%s': running definition %s names '%s'", name, path,
                                     def->name);
        *ret = TAKE_PTR(def);
        return 0;
}

bool lvsh_guest_exists(const char *name)
{
        _cleanup_free_ char *path = NULL;
        lv_guest_status st;
        return lvsh_name_is_safe(name) && (access((path = paths_guest_xml(name)), F_OK) == 0 ||
                                           lv_guest_status_read(name, &st, NULL) == 0);
}

int lvsh_guest_load(const char *name, struct domain_def **ret, struct lv_error **err)
{
        if (!lvsh_name_is_safe(name))
                return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'", name);
        _cleanup_free_ char *path = paths_guest_xml(name);
        if (access(path, F_OK) < 0)
                return lvsh_guest_load_running(name, ret, err);
        const struct conf_xml_ops *xml = conf_xml(err);
        if (!xml)
                return -ENOENT;
        _cleanup_domain_def_ struct domain_def *def = NULL;
        int r = xml->domain_parse_file(path, &def, err);
        if (r < 0)
                return lv_error_prefix(err, "domain '%s': stored definition", name);
        if (!streq(def->name, name))
                return lv_error_setf(err, LV_ERR_INVALID_XML,
                                     "domain '%s': stored definition %s names '%s'", name, path,
                                     def->name);
        *ret = TAKE_PTR(def);
        return 0;
}

int lvsh_guest_probe(const char *name, pid_t *ret_pid, struct lv_error **err)
{
        /* A guest runs when its state directory's lock is held by a
         * supervisor (liblitevirt); state left by a supervisor that died is
         * cleaned on the way. A caller who may not know gets an error. */
        lv_guest_status st;
        lv_client_error *ce = NULL;
        if (!lvsh_name_is_safe(name))
                return 0;
        int r = lv_guest_status_read(name, &st, &ce);
        if (r == -EACCES)
                return lvsh_error_from_client(err, ce);
        lv_client_error_free(ce);
        if (r < 0)
                return 0;
        if (ret_pid && lv_guest_status_unsupervised(&st)) {
                *ret_pid = st.pid; /* no supervisor: QEMU's pid is the id */
        } else if (ret_pid) {
                *ret_pid = st.supervisor_pid;
                _cleanup_free_ char *path = paths_state_file(name, "supervisor.pid");
                _cleanup_free_ char *data = NULL;
                if (st.supervisor_pid <= 0 && file_read_bounded(path, 64, &data, NULL, NULL) == 0)
                        *ret_pid = (pid_t)atoi(data);
        }
        return 1;
}

bool lvsh_guest_running(const char *name, pid_t *ret_pid)
{
        return lvsh_guest_probe(name, ret_pid, NULL) > 0;
}

void lvsh_list_print(FILE *f, const struct lvsh_list_row *rows, size_t n, bool names_only)
{
        if (names_only) {
                for (size_t i = 0; i < n; i++)
                        fprintf(f, "%s\n", rows[i].name);
                /* virsh ends the list with an empty line */
                fprintf(f, "\n");
                return;
        }
        int w[3] = {2, 4, 5}; /* "Id", "Name", "State" */
        for (size_t i = 0; i < n; i++) {
                const char *cells[3] = {rows[i].id, rows[i].name, rows[i].state};
                for (int c = 0; c < 3; c++)
                        if ((int)strlen(cells[c]) > w[c])
                                w[c] = (int)strlen(cells[c]);
        }
        fprintf(f, " %-*s   %-*s   %s\n", w[0], "Id", w[1], "Name", "State");
        for (int i = 0; i < w[0] + w[1] + w[2] + 9; i++)
                fputc('-', f);
        fputc('\n', f);
        for (size_t i = 0; i < n; i++)
                fprintf(f, " %-*s   %-*s   %s\n", w[0], rows[i].id, w[1], rows[i].name,
                        rows[i].state);
        fprintf(f, "\n");
}

/* virsh's vshTable: " cell" then padding to the column's width + 2 (not
 * after the last), a dash line of (width + 3) per column. */
void lvsh_table_print(FILE *f, const char *const *cells, size_t ncols, size_t nrows)
{
        size_t w[16] = {0};
        for (size_t r = 0; r < nrows; r++)
                for (size_t c = 0; c < ncols; c++)
                        if (strlen(cells[r * ncols + c]) > w[c])
                                w[c] = strlen(cells[r * ncols + c]);
        for (size_t r = 0; r < nrows; r++) {
                for (size_t c = 0; c < ncols; c++) {
                        const char *s = cells[r * ncols + c];
                        fprintf(f, " %s", s);
                        if (c + 1 < ncols)
                                fprintf(f, "%*s", (int)(w[c] - strlen(s) + 2), "");
                }
                fputc('\n', f);
                if (r == 0) {
                        for (size_t c = 0; c < ncols; c++)
                                for (size_t k = 0; k < w[c] + 3; k++)
                                        fputc('-', f);
                        fputc('\n', f);
                }
        }
}
