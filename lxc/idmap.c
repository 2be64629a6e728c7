/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* <idmap>: the container's user namespace mappings, written by the
 * supervisor (root in the parent namespace) into /proc/PID/uid_map and
 * gid_map while the child waits. As root with CAP_SETGID the parent may
 * write gid_map with setgroups left at "allow", so setgroups(2) keeps
 * working inside the container (needed by init systems and login). */
#include "lxc/lxc.h"

#include "util/fileio.h"
#include "util/strbuf.h"

/* The kernel accepts at most 340 lines per map. */
#define LXC_IDMAP_MAX 340

bool lxc_idmap_has(const struct domain_idmap *map, int n, unsigned id)
{
        for (int i = 0; i < n; i++)
                if (id >= map[i].start && id - map[i].start < map[i].count)
                        return true;
        return false;
}

static int validate_one(const char *what, const struct domain_idmap *map, int n,
                        struct lv_error **err)
{
        if (n > LXC_IDMAP_MAX)
                return lv_error_setf(err, EINVAL, "<idmap>: too many <%s> entries (%d, at most %d)",
                                     what, n, LXC_IDMAP_MAX);
        for (int i = 0; i < n; i++) {
                const struct domain_idmap *m = &map[i];
                if (m->count == 0)
                        return lv_error_setf(err, EINVAL, "<idmap><%s start='%u'>: count is 0",
                                             what, m->start);
                if ((uint64_t)m->start + m->count > UINT32_MAX ||
                    (uint64_t)m->target + m->count > UINT32_MAX)
                        return lv_error_setf(err, EINVAL,
                                             "<idmap><%s start='%u'>: range beyond 4294967295",
                                             what, m->start);
                for (int j = 0; j < i; j++) {
                        const struct domain_idmap *o = &map[j];
                        if (m->start < o->start + o->count && o->start < m->start + m->count)
                                return lv_error_setf(err, EINVAL,
                                                     "<idmap><%s start='%u'>: overlaps start='%u'",
                                                     what, m->start, o->start);
                        if (m->target < o->target + o->count && o->target < m->target + m->count)
                                return lv_error_setf(
                                        err, EINVAL,
                                        "<idmap><%s target='%u'>: overlaps target='%u'", what,
                                        m->target, o->target);
                }
        }
        return 0;
}

int lxc_idmap_validate(const struct domain_def *def, struct lv_error **err)
{
        if (def->n_uidmap == 0 && def->n_gidmap == 0)
                return 0;
        if (def->n_uidmap == 0 || def->n_gidmap == 0)
                return lv_error_setf(err, EINVAL,
                                     "<idmap>: both <uid> and <gid> mappings are needed");
        int r = validate_one("uid", def->uidmap, def->n_uidmap, err);
        if (r == 0)
                r = validate_one("gid", def->gidmap, def->n_gidmap, err);
        if (r == 0 && !lxc_idmap_has(def->uidmap, def->n_uidmap, 0))
                r = lv_error_setf(err, EINVAL, "<idmap>: uid 0 of the container is not mapped");
        if (r == 0 && !lxc_idmap_has(def->gidmap, def->n_gidmap, 0))
                r = lv_error_setf(err, EINVAL, "<idmap>: gid 0 of the container is not mapped");
        return r;
}

static int write_map(pid_t pid, const char *file, const struct domain_idmap *map, int n,
                     struct lv_error **err)
{
        _cleanup_strbuf_ struct strbuf sb = {0};
        for (int i = 0; i < n; i++)
                strbuf_printf(&sb, "%u %u %u\n", map[i].start, map[i].target, map[i].count);
        _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return lv_error_set(err, errno, "writing the id map: cannot open '%s'", path);
        /* The kernel wants the whole map in one write. */
        ssize_t w = write(fd, sb.buf, sb.len);
        if (w < 0)
                return lv_error_set(err, errno, "writing the id map '%s'", path);
        if ((size_t)w != sb.len)
                return lv_error_setf(err, EIO, "writing the id map '%s': short write", path);
        return 0;
}

int lxc_idmap_write(pid_t pid, const struct domain_def *def, struct lv_error **err)
{
        int r = write_map(pid, "uid_map", def->uidmap, def->n_uidmap, err);
        if (r == 0)
                r = write_map(pid, "gid_map", def->gidmap, def->n_gidmap, err);
        return r;
}
