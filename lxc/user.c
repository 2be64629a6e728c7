/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* <inituser>/<initgroup>: names are looked up in the container's own
 * /etc/passwd and /etc/group (read after pivot_root; the host's NSS is
 * never asked), numbers are taken as they are. */
#include "lxc/lxc.h"

#include <limits.h>

#include "util/fileio.h"

#define LXC_DB_MAX (4 * 1024 * 1024)

static bool parse_id(const char *s, unsigned *ret)
{
        if (!s || !*s || *s == '-' || *s == '+')
                return false;
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || *end || v >= UINT_MAX)
                return false;
        *ret = (unsigned)v;
        return true;
}

/* Split a colon-separated line into at most n fields (in place). */
static int split(char *line, char **f, int n)
{
        int i = 0;
        f[i++] = line;
        for (char *p = line; *p && i < n; p++)
                if (*p == ':') {
                        *p = '\0';
                        f[i++] = p + 1;
                }
        return i;
}

/* Call fn for each well-formed line of a colon file; stop when it returns
 * non-zero and return that. Malformed lines are skipped. */
static int db_each(const char *path, int nfields, int (*fn)(char **f, void *data), void *data,
                   struct lv_error **err)
{
        _cleanup_free_ char *s = NULL;
        int r = file_read_bounded(path, LXC_DB_MAX, &s, NULL, err);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[8];
                if (*line == '#' || split(line, f, nfields) != nfields)
                        continue;
                r = fn(f, data);
                if (r != 0)
                        return r;
        }
        return 0;
}

struct pw_query {
        const char *name; /* by name, or */
        unsigned uid;     /* by uid when name is NULL */
        unsigned ret_uid, ret_gid;
        char *home;
};

static int pw_match(char **f, void *data)
{
        struct pw_query *q = data;
        unsigned uid, gid;
        if (!parse_id(f[2], &uid) || !parse_id(f[3], &gid))
                return 0;
        if (q->name ? !streq(f[0], q->name) : uid != q->uid)
                return 0;
        q->ret_uid = uid;
        q->ret_gid = gid;
        q->home = xstrdup(*f[5] ? f[5] : "/");
        return 1;
}

struct gr_query {
        const char *name;
        unsigned ret_gid;
        const char *member; /* collect groups listing this user */
        gid_t *groups;
        int n_groups;
};

static int gr_match(char **f, void *data)
{
        struct gr_query *q = data;
        unsigned gid;
        if (!parse_id(f[2], &gid))
                return 0;
        if (q->member) {
                _cleanup_free_ char *list = xstrdup(f[3]);
                char *save = NULL;
                for (char *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save))
                        if (streq(m, q->member) && q->n_groups < 64) {
                                q->groups = xrealloc(q->groups,
                                                     sizeof(gid_t) * (size_t)(q->n_groups + 1));
                                q->groups[q->n_groups++] = gid;
                        }
                return 0;
        }
        if (!streq(f[0], q->name))
                return 0;
        q->ret_gid = gid;
        return 1;
}

void lxc_user_clear(struct lxc_user *u)
{
        free(u->home);
        free(u->groups);
        *u = (struct lxc_user){0};
}

int lxc_user_resolve(const char *user, const char *group, struct lxc_user *ret,
                     struct lv_error **err)
{
        struct lxc_user u = {.uid = 0, .gid = 0};
        unsigned id;
        bool have_gid = false;
        int r;

        struct pw_query pq = {0};
        if (!user || parse_id(user, &id)) {
                pq.uid = user ? id : 0;
                u.uid = pq.uid;
                /* A number need not be in /etc/passwd; use it when it is. */
                struct lv_error *e = NULL;
                if (db_each("/etc/passwd", 7, pw_match, &pq, &e) == 1) {
                        u.gid = pq.ret_gid;
                        have_gid = true;
                }
                lv_error_free(e);
        } else {
                pq.name = user;
                r = db_each("/etc/passwd", 7, pw_match, &pq, err);
                if (r < 0)
                        return lv_error_prefix(err, "<inituser> '%s'", user);
                if (r == 0)
                        return lv_error_setf(err, ENOENT,
                                             "<inituser> '%s': no such user in the container's "
                                             "/etc/passwd",
                                             user);
                u.uid = pq.ret_uid;
                u.gid = pq.ret_gid;
                have_gid = true;
                struct gr_query gm = {.member = user};
                struct lv_error *e = NULL;
                (void)db_each("/etc/group", 4, gr_match, &gm, &e);
                lv_error_free(e);
                u.groups = gm.groups;
                u.n_groups = gm.n_groups;
        }
        u.home = pq.home ? pq.home : xstrdup("/");

        if (group) {
                if (parse_id(group, &id)) {
                        u.gid = id;
                } else {
                        struct gr_query gq = {.name = group};
                        r = db_each("/etc/group", 4, gr_match, &gq, err);
                        if (r <= 0) {
                                lxc_user_clear(&u);
                                if (r < 0)
                                        return lv_error_prefix(err, "<initgroup> '%s'", group);
                                return lv_error_setf(err, ENOENT,
                                                     "<initgroup> '%s': no such group in the "
                                                     "container's /etc/group",
                                                     group);
                        }
                        u.gid = gq.ret_gid;
                }
        } else if (!have_gid) {
                u.gid = 0;
        }
        *ret = u;
        return 0;
}
