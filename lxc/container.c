/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cloned child: the only code that runs inside the container's new
 * namespaces before init. It builds the filesystem tree while the
 * supervisor finishes the outside set-up (id maps first, then cgroups
 * and network, each waited for where needed), takes the console, drops
 * privileges and execs init as PID 1. Any error is sent back to the
 * supervisor (errno + message) before _exit. */
#include "lxc/lxc.h"

#include <grp.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>

#include "util/strbuf.h"

/* Bring up the loopback of the new network namespace. */
static int loopback_up(struct lv_error **err)
{
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return lv_error_set(err, errno, "bringing up 'lo': socket");
        struct ifreq ifr = {0};
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return lv_error_set(err, errno, "bringing up 'lo'");
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return lv_error_set(err, errno, "bringing up 'lo'");
        return 0;
}

static int take_console(int fd, struct lv_error **err)
{
        if (setsid() < 0)
                return lv_error_set(err, errno, "console: setsid");
        if (ioctl(fd, TIOCSCTTY, 0) < 0)
                return lv_error_set(err, errno, "console: making the pty the controlling terminal");
        for (int i = 0; i < 3; i++)
                if (dup2(fd, i) < 0)
                        return lv_error_set(err, errno, "console: dup2");
        if (fd > 2)
                close(fd);
        return 0;
}

static void env_set(char ***env, const char *name, const char *value)
{
        size_t nl = strlen(name);
        for (char **e = *env; e && *e; e++)
                if (strncmp(*e, name, nl) == 0 && (*e)[nl] == '=') {
                        free(*e);
                        *e = xasprintf("%s=%s", name, value);
                        return;
                }
        strv_push(env, xasprintf("%s=%s", name, value));
}

static char **build_env(const struct domain_def *def, const struct lxc_user *u)
{
        char **env = NULL;
        char uuid[37];
        domain_uuid_format(def->uuid, uuid);
        env_set(&env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env_set(&env, "TERM", "linux");
        env_set(&env, "HOME", u->home ? u->home : "/");
        /* as libvirt's LXC driver: distribution tools (systemd-detect-virt,
         * ...) know "lxc-libvirt" */
        env_set(&env, "container", "lxc-libvirt");
        env_set(&env, "container_uuid", uuid);
        env_set(&env, "LIBVIRT_LXC_UUID", uuid);
        env_set(&env, "LIBVIRT_LXC_NAME", def->name);
        env_set(&env, "LITEVIRT_NAME", def->name);
        for (int i = 0; i < def->os.n_initenv; i++)
                env_set(&env, def->os.initenv[i].name,
                        def->os.initenv[i].value ? def->os.initenv[i].value : "");
        return env;
}

static char **build_argv(const struct domain_def *def)
{
        char **argv = NULL;
        strv_push(&argv, xstrdup(def->os.init ? def->os.init : "/sbin/init"));
        for (char **a = def->os.initargs; a && *a; a++)
                strv_push(&argv, xstrdup(*a));
        return argv;
}

static int become_user(const struct lxc_user *u, struct lv_error **err)
{
        if (setgroups((size_t)u->n_groups, u->groups) < 0)
                return lv_error_set(err, errno, "setting the supplementary groups");
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return lv_error_set(err, errno, "changing to group %u", (unsigned)u->gid);
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return lv_error_set(err, errno, "changing to user %u", (unsigned)u->uid);
        return 0;
}

static int container_setup(const struct lxc_child *c, struct lv_error **err)
{
        const struct domain_def *def = c->def;
        int r;

        /* Inside a new user namespace the process starts unmapped: wait
         * for the maps, then become the container's root. */
        if (c->userns) {
                if ((r = lxc_sync_wait(c->sync_fd, LXC_SYNC_MAPPED)) < 0)
                        return lv_error_set(err, -r, "waiting for the id maps");
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        return lv_error_set(err, errno, "becoming root of the user namespace");
                if (setgroups(0, NULL) < 0)
                        return lv_error_set(err, errno, "clearing supplementary groups");
        }
        if (sethostname(def->name, strlen(def->name)) < 0)
                return lv_error_set(err, errno, "setting the hostname '%s'", def->name);
        if ((r = loopback_up(err)) < 0)
                return r;
        /* The filesystem tree is built while the supervisor moves us into
         * the guest's cgroups (an RCU grace period) and sets up the
         * network: GO says both are done. */
        enum cgroup_mode cg_mode;
        if ((r = lxc_mounts_setup(c, &cg_mode, err)) < 0)
                return r;
        if ((r = lxc_sync_wait(c->sync_fd, LXC_SYNC_GO)) < 0)
                return lv_error_set(err, -r, "waiting for the cgroups and the network");
        /* The cgroup namespace starts here, after the supervisor moved us
         * into the guest's cgroup: the guest sees that cgroup as its root. */
        if (unshare(CLONE_NEWCGROUP) < 0)
                return lv_error_set(err, errno, "creating the cgroup namespace");
        if ((r = lxc_mounts_finish(c, cg_mode, err)) < 0)
                return r;
        if ((r = take_console(c->console_fd, err)) < 0)
                return r;

        struct lxc_user u = {0};
        if ((r = lxc_user_resolve(def->os.inituser, def->os.initgroup, &u, err)) < 0)
                return r;
        const char *dir = def->os.initdir ? def->os.initdir : "/";
        if (chdir(dir) < 0) {
                lxc_user_clear(&u);
                return lv_error_set(err, errno, "<initdir> '%s'", dir);
        }
        _cleanup_strv_free_ char **argv = build_argv(def);
        _cleanup_strv_free_ char **env = build_env(def, &u);

        /* Privileges, in the order that keeps each step possible: bounding
         * set (needs CAP_SETPCAP), seccomp (loaded while CAP_SYS_ADMIN is
         * held, so no no_new_privs), the user, then the process's sets. */
        r = lxc_caps_drop_bounding(c->caps_drop, err);
        if (r == 0)
                r = lxc_seccomp_load(c->seccomp, err);
        if (r == 0)
                r = become_user(&u, err);
        lxc_user_clear(&u);
        if (r < 0)
                return r;
        if ((r = lxc_caps_drop_process(c->caps_drop, err)) < 0)
                return r;

        /* Changing credentials cleared it: the container must not outlive
         * its supervisor (docs/lxc.md). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                return lv_error_set(err, errno, "setting the parent-death signal");
        execve(argv[0], argv, env);
        return lv_error_set(err, errno, "executing init '%s'", argv[0]);
}

void lxc_container_main(const struct lxc_child *c)
{
        /* Until exec, the child dies with the supervisor. */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        /* Default signal handling for init (the supervisor blocks some). */
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        signal(s, SIG_DFL);

        /* No descriptor of the supervisor survives exec (the console was
         * dup'ed onto 0-2 by then; dup2 clears close-on-exec). */
        (void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);

        struct lv_error *err = NULL;
        int failed = 0;
        int r = cgroup_entry_enter(c->cgroup, &failed);
        if (r < 0)
                lv_error_set(&err, -r, "entering the guest's cgroup (hierarchy %d)", failed);
        else
                (void)container_setup(c, &err);
        lxc_sync_send_error(c->sync_fd, err);
        _exit(1);
}
