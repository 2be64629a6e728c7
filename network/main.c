/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* litevirt-network: the supervisor of one running virtual network.
 *   litevirt-network [--ready-fd N] [--definition FILE] NAME
 *                                          make the network, detach, run
 *                                          (FILE: a transient network's)
 *   litevirt-network --cleanup NAME        remove what a dead one left
 * One process per network, no central daemon (docs/network.md): it takes
 * the network's lock, makes the bridge, the nftables table and dnsmasq
 * (its child), answers io.litevirt.Network on its control socket, and on
 * SIGTERM, Stop, or dnsmasq's death removes everything it made. A sibling
 * of litevirt-supervisor rather than a mode of it: it needs none of the
 * guest drivers (seccomp, cap-ng, QMP, Xen), so it maps less and starts
 * faster; it shares their libraries (netns/, the loop, varlink). */
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "conf/xml.h"
#include "network/control.h"
#include "network/setup.h"
#include "util/daemon.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/paths.h"

struct netsup {
        struct lv_loop *loop;
        struct network_run run;
        struct netctl ctl;
        struct loop_source *sig_term, *sig_int, *dnsmasq_src;
        int exit_code;
        int log_fd; /* dnsmasq's output (also after a restart) */
};

/* The definition: the file given (net-create: a transient network), else
 * the stored one, else the running copy a transient network's supervisor
 * left in its state directory (--cleanup after it died). */
static int load_def(const char *name, const char *file, struct network_def **ret,
                    struct lv_error **err)
{
        const struct conf_xml_ops *xml = conf_xml(err);
        if (!xml)
                return -ENOENT;
        _cleanup_free_ char *stored = paths_network_xml(name);
        _cleanup_free_ char *running = paths_network_state_file(name, NETWORK_RUNNING_XML);
        const char *path = file                         ? file
                           : access(stored, F_OK) == 0  ? stored
                           : access(running, F_OK) == 0 ? running
                                                        : NULL;
        if (!path)
                return lv_error_setf(err, ENOENT, "network '%s' is not defined (no '%s')", name,
                                     stored);
        int r = xml->network_parse_file(path, ret, err);
        conf_xml_unload(); /* a long-running process keeps no libxml2 */
        if (r == 0 && !streq((*ret)->name, name)) {
                r = lv_error_setf(err, EINVAL, "'%s' defines network '%s', not '%s'", path,
                                  (*ret)->name, name);
                network_def_free(TAKE_PTR(*ret));
        }
        return r;
}

/* The lock of the state directory: held for the supervisor's lifetime. */
static int lock_take(const char *name, const char *statedir, int *ret_fd, struct lv_error **err)
{
        int r = mkdir_p(statedir, 0755, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = xasprintf("%s/lock", statedir);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return lv_error_set(err, errno, "network '%s': opening '%s'", name, path);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK)
                        return lv_error_setf(err, LV_ERR_STATE,
                                             "network '%s': Requested operation is not valid: "
                                             "network is already active",
                                             name);
                return lv_error_set(err, errno, "network '%s': locking '%s'", name, path);
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static void state_dir_remove(const char *statedir)
{
        _cleanup_free_ char *lock = xasprintf("%s/lock", statedir);
        (void)unlink(lock);
        (void)rmdir(statedir);
}

static int on_signal(struct loop_source *s, const struct signalfd_siginfo *si, void *data)
{
        struct netsup *ns = data;
        log_info("signal %u: stopping", si->ssi_signo);
        loop_exit(ns->loop, 0);
        return 0;
}

static int on_dnsmasq_exit(struct loop_source *s, int pidfd, void *data)
{
        struct netsup *ns = data;
        siginfo_t si = {0};
        (void)waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG);
        log_error("dnsmasq (pid %d) exited (%s %d): stopping the network", (int)ns->run.dnsmasq_pid,
                  si.si_code == CLD_EXITED ? "status" : "signal", si.si_status);
        close(ns->run.dnsmasq_pidfd);
        ns->run.dnsmasq_pidfd = -1;
        ns->run.dnsmasq_pid = 0;
        ns->exit_code = 1;
        loop_exit(ns->loop, 1);
        return 0;
}

static void on_stop(struct netctl *ctl)
{
        struct netsup *ns = (struct netsup *)((char *)ctl - offsetof(struct netsup, ctl));
        loop_exit(ns->loop, 0);
}

static int on_update(struct netctl *ctl, const char *command, const char *section, const char *xml,
                     int parent_index, struct lv_error **err)
{
        struct netsup *ns = (struct netsup *)((char *)ctl - offsetof(struct netsup, ctl));
        int cmd = network_update_command_from_string(command, err);
        if (cmd < 0)
                return -EINVAL;
        int sec = network_update_section_from_string(section, err);
        if (sec < 0)
                return -EINVAL;
        const struct conf_xml_ops *x = conf_xml(err);
        if (!x)
                return -ENOENT;
        struct network_update u = {.section = -1};
        int r = x->network_update_parse_string(sec, cmd, xml, strlen(xml), &u, err);
        conf_xml_unload(); /* as after the definition: no libxml2 kept */
        if (r < 0)
                return r;
        bool restart = false;
        r = network_run_update(&ns->run, cmd, parent_index, &u, &restart, err);
        network_update_clear(&u);
        if (r < 0 || !restart)
                return r;
        /* dnsmasq's configuration changed: the old one's end is ours */
        loop_source_free(ns->dnsmasq_src);
        ns->dnsmasq_src = NULL;
        if ((r = network_run_dnsmasq_restart(&ns->run, ns->log_fd, err)) < 0 ||
            (r = loop_add_pidfd(ns->loop, ns->run.dnsmasq_pidfd, on_dnsmasq_exit, ns,
                                &ns->dnsmasq_src, err)) < 0) {
                /* a network without its dnsmasq is not one: stop it */
                log_error("net-update: dnsmasq did not restart: %s", (*err)->message);
                ns->exit_code = 1;
                loop_exit(ns->loop, 1);
        }
        return r;
}

static void report(int *fd, const char *msg)
{
        if (*fd < 0)
                return;
        size_t len = strlen(msg), off = 0;
        while (off < len) {
                ssize_t w = write(*fd, msg + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        break;
                off += (size_t)w;
        }
        close(*fd);
        *fd = -1;
}

static int log_open(const char *name, int *ret_fd, struct lv_error **err)
{
        _cleanup_free_ char *dir = xasprintf("%s/networks", paths_logdir());
        _cleanup_free_ char *path = xasprintf("%s/%s.log", dir, name);
        int r = mkdir_p(dir, 0700, err);
        if (r < 0 || (r = log_open_file(path, err)) < 0)
                return r;
        /* dnsmasq's own output goes to the same file, and so does our
         * stderr (detached, it was /dev/null): a sanitizer's report too */
        *ret_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
        if (*ret_fd >= 0)
                (void)dup2(*ret_fd, 2);
        return 0;
}

static int run(struct netsup *ns, int *ready_fd, int log_fd, struct lv_error **err)
{
        int r;
        ns->log_fd = log_fd;
        if ((r = loop_new(&ns->loop, err)) < 0 ||
            (r = loop_add_signal(ns->loop, SIGTERM, on_signal, ns, &ns->sig_term, err)) < 0 ||
            (r = loop_add_signal(ns->loop, SIGINT, on_signal, ns, &ns->sig_int, err)) < 0)
                return r;
        if ((r = network_run_setup(&ns->run, log_fd, err)) < 0)
                return r;
        if (ns->run.dnsmasq_pidfd >= 0 &&
            (r = loop_add_pidfd(ns->loop, ns->run.dnsmasq_pidfd, on_dnsmasq_exit, ns,
                                &ns->dnsmasq_src, err)) < 0)
                return r;
        ns->ctl = (struct netctl){.loop = ns->loop,
                                  .def = ns->run.def,
                                  .statedir = ns->run.statedir,
                                  .dnsmasq_pid = &ns->run.dnsmasq_pid,
                                  .stop = on_stop,
                                  .update = on_update,
                                  .fd = -1};
        if ((r = netctl_open(&ns->ctl, err)) < 0)
                return r;
        log_info("network '%s' started on bridge '%s'", ns->run.def->name, ns->run.def->bridge);
        report(ready_fd, "ok");
        r = loop_run(ns->loop);
        return r < 0 ? lv_error_set(err, -r, "event loop") : 0;
}

static void usage(FILE *f)
{
        fprintf(f, "Usage: litevirt-network [--ready-fd N] [--definition FILE] NAME\n"
                   "       litevirt-network --cleanup NAME\n");
}

int main(int argc, char **argv)
{
        enum { OPT_READY_FD = 256, OPT_CLEANUP, OPT_DEFINITION };
        static const struct option opts[] = {
                {"ready-fd", required_argument, NULL, OPT_READY_FD},
                {"cleanup", no_argument, NULL, OPT_CLEANUP},
                {"definition", required_argument, NULL, OPT_DEFINITION},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0}};
        int ready_fd = -1, c;
        bool cleanup = false;
        const char *definition = NULL;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == OPT_READY_FD) {
                        char *end;
                        long fd = strtol(optarg, &end, 10);
                        if (*end || fd < 3 || fcntl((int)fd, F_GETFD) < 0) {
                                fprintf(stderr,
                                        "error: --ready-fd '%s': not an open file "
                                        "descriptor\n",
                                        optarg);
                                return 2;
                        }
                        ready_fd = (int)fd;
                        (void)fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
                } else if (c == OPT_CLEANUP) {
                        cleanup = true;
                } else if (c == OPT_DEFINITION) {
                        definition = optarg;
                } else {
                        usage(c == 'h' ? stdout : stderr);
                        return c == 'h' ? 0 : 2;
                }
        }
        if (optind + 1 != argc) {
                usage(stderr);
                return 2;
        }
        const char *name = argv[optind];
        log_set_ident(name);
        _cleanup_error_ struct lv_error *err = NULL;
        _cleanup_network_def_ struct network_def *def = NULL;
        _cleanup_free_ char *statedir = paths_network_state_dir(name);
        _cleanup_close_ int lock_fd = -1;
        _cleanup_close_ int log_fd = -1;
        struct netsup ns = {.run = {.statedir = statedir, .dnsmasq_pidfd = -1}};
        int r = load_def(name, cleanup ? NULL : definition, &def, &err);
        if (r == 0)
                r = lock_take(name, statedir, &lock_fd, &err);
        if (r == 0) {
                ns.run.def = def;
                /* a dead supervisor's leftovers go first */
                r = network_run_cleanup_stale(def, statedir, &err);
        }
        if (r == 0 && cleanup) {
                state_dir_remove(statedir);
                return 0;
        }
        if (r == 0 && ready_fd >= 0)
                r = daemon_detach(&err);
        if (r == 0)
                r = log_open(name, &log_fd, &err);
        if (r == 0) {
                r = run(&ns, &ready_fd, log_fd, &err);
                netctl_close(&ns.ctl);
                loop_source_free(ns.dnsmasq_src);
                ns.dnsmasq_src = NULL;
                network_run_teardown(&ns.run);
                loop_source_free(ns.sig_term);
                loop_source_free(ns.sig_int);
                loop_free(ns.loop);
                state_dir_remove(statedir);
                log_info("network '%s' stopped", name);
        } else if (lock_fd >= 0) {
                state_dir_remove(statedir);
        }
        if (r < 0) {
                log_error("%s", err ? err->message : strerror(-r));
                report(&ready_fd, err ? err->message : strerror(-r));
                if (ready_fd >= 0 || !isatty(2))
                        fprintf(stderr, "error: %s\n", err ? err->message : strerror(-r));
                return 1;
        }
        return ns.exit_code;
}
