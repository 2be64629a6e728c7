/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The supervisor core against a fake driver (struct lv_driver +
 * struct lv_migration_ops), as libvirt's test driver: no root, no QEMU, no
 * LXC. The fake's guest is a real child process (pause()), watched by the
 * core's pidfd as any guest; what the fake does on shutdown, and how its
 * migration goes, is set per test. Checked: the lifecycle with the events
 * the observer hook sees and the undo stack, a shutdown whose timeout
 * destroys the guest (the supervisor's job meanwhile), a crash loop that
 * ends after the restart burst, a migration that fails after the
 * switch-over rolling back (the guest resumed here), and deferred replies
 * on the control socket (a DetachDevice waiting for the guest while other
 * clients are answered, the calls behind it answered in order after it,
 * its timeout, a client that hangs up meanwhile, Destroy ending it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "supervisor/migration.h"
#include "supervisor/supervisor.h"
#include "util/clock.h"
#include "util/fileio.h"
#include "lib/methods.h"

static char tmpdir[] = "/tmp/lv-test-fake.XXXXXX";

/* ---- the fake driver ---- */

static struct fake {
        int starts, undos, suspends, resumes, shutdowns, destroys;
        bool ignore_shutdown; /* the guest does not react to shutdown */
        bool crash_at_once;   /* the guest crashes as soon as it starts */
        bool migrate_fails;   /* fail after the switch-over */
        bool switchover_ran;
        int detaches;     /* disk_detach requests (the guest answers when the test says) */
        char events[256]; /* what the observer saw, "started,suspended,..." */
} fake;

static void fake_undo(struct lv_guest *g, void *data)
{
        fake.undos++;
}

static int fake_start(struct lv_guest *g, struct lv_error **err)
{
        fake.starts++;
        pid_t pid = fork();
        if (pid < 0)
                return lv_error_set(err, errno, "fork");
        if (pid == 0) {
                /* never outlives the test, even one that failed midway */
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() == 1 || fake.crash_at_once)
                        raise(SIGKILL); /* a crash: neither SIGHUP nor SIGINT */
                for (;;)
                        pause();
        }
        g->pid = pid;
        g->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (g->pidfd < 0)
                return lv_error_set(err, errno, "pidfd_open");
        guest_undo_push(g, "fake guest", fake_undo, NULL, NULL);
        return 0;
}

static int fake_signal(struct lv_guest *g, int sig)
{
        return syscall(SYS_pidfd_send_signal, g->pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

static int fake_shutdown(struct lv_guest *g, struct lv_error **err)
{
        fake.shutdowns++;
        /* SIGINT: what a container's init that powers off ends with */
        return fake.ignore_shutdown ? 0 : fake_signal(g, SIGINT);
}

static int fake_destroy(struct lv_guest *g, struct lv_error **err)
{
        fake.destroys++;
        return fake_signal(g, SIGKILL);
}

static int fake_suspend(struct lv_guest *g, struct lv_error **err)
{
        fake.suspends++;
        return fake_signal(g, SIGSTOP);
}

static int fake_resume(struct lv_guest *g, struct lv_error **err)
{
        fake.resumes++;
        return fake_signal(g, SIGCONT);
}

static int fake_migrate(struct lv_guest *g, const char *uri, int timeout_s,
                        unsigned long bandwidth_mib,
                        int (*switchover)(void *data, struct lv_error **err), void *data,
                        struct cookie_stats *stats, struct lv_error **err)
{
        (void)fake_signal(g, SIGSTOP); /* the CPUs stop for the last pass */
        int r = switchover(data, err);
        fake.switchover_ran = r >= 0;
        if (r >= 0 && fake.migrate_fails)
                r = lv_error_setf(err, EIO, "fake stream broken after the switch-over");
        return r;
}

static int fake_is_paused(struct lv_guest *g, bool *ret, struct lv_error **err)
{
        *ret = fake.suspends == 0; /* stopped by migrate, not by the user */
        return 0;
}

static const struct lv_migration_ops fake_migration = {
        .migrate = fake_migrate,
        .is_paused = fake_is_paused,
};

static int fake_disk_detach(struct lv_guest *g, int i, struct lv_error **err)
{
        fake.detaches++;
        return 0;
}

static const struct lv_driver fake_driver = {
        .name = "fake",
        .start = fake_start,
        .shutdown = fake_shutdown,
        .destroy = fake_destroy,
        .suspend = fake_suspend,
        .resume = fake_resume,
        .migration = &fake_migration,
        .disk_detach = fake_disk_detach,
};

/* ---- a supervisor around it ---- */

static void on_event(void *data, enum guest_event event)
{
        size_t n = strlen(fake.events);
        snprintf(fake.events + n, sizeof(fake.events) - n, "%s%s", n ? "," : "",
                 guest_event_to_string(event));
}

static void sv_init(struct supervisor *sv, enum domain_lifecycle on_crash)
{
        memset(&fake, 0, sizeof(fake));
        struct domain_def *def = xcalloc(1, sizeof(*def));
        def->name = xstrdup("fake1");
        def->on_crash = on_crash;
        for (int i = 0; i < 16; i++)
                def->uuid[i] = (unsigned char)(0x10 + i);
        *sv = (struct supervisor){
                .g = {.def = def, .name = def->name, .pidfd = -1, .console_fd = -1},
                .driver = &fake_driver,
                .dir_fd = -1,
                .ready_fd = -1,
                .shutdown_timeout_usec = SUPERVISOR_SHUTDOWN_TIMEOUT_USEC,
                .observer = {.event = on_event},
        };
        assert_int_equal(loop_new(&sv->loop, NULL), 0);
        sv->g.loop = sv->loop;
}

static void sv_clear(struct supervisor *sv)
{
        loop_source_free(sv->shutdown_timer);
        loop_source_free(sv->pidfd_source);
        loop_free(sv->loop);
        domain_def_free(sv->g.def);
        free(sv->g.undo);
}

/* Run the loop until the guest has ended for good (bounded). */
static void run_until_end(struct supervisor *sv)
{
        long long deadline = clock_now_ms() + 10000;
        while (!loop_exiting(sv->loop) && clock_now_ms() < deadline)
                assert_true(loop_dispatch(sv->loop, 100) >= 0);
        assert_true(loop_exiting(sv->loop));
}

static void test_lifecycle(void **state)
{
        struct supervisor sv;
        sv_init(&sv, DOMAIN_LIFECYCLE_DESTROY);
        struct lv_error *err = NULL;
        assert_int_equal(supervisor_guest_start(&sv, &err), 0);
        assert_int_equal(sv.g.state, GUEST_STATE_RUNNING);
        assert_true(sv.g.pid > 0);
        assert_int_equal(supervisor_guest_suspend(&sv, &err), 0);
        assert_int_equal(sv.g.state, GUEST_STATE_PAUSED);
        /* paused: not suspended twice, not shut down */
        assert_true(supervisor_guest_suspend(&sv, &err) < 0);
        assert_int_equal(err->code, LV_ERR_STATE);
        lv_error_freep(&err);
        assert_int_equal(supervisor_guest_resume(&sv, &err), 0);
        assert_int_equal(supervisor_guest_destroy(&sv, &err), 0);
        run_until_end(&sv);
        assert_int_equal(sv.g.state, GUEST_STATE_SHUTOFF);
        assert_int_equal(sv.g.pid, 0);
        assert_int_equal(fake.undos, 1); /* the start's undo ran at the end */
        assert_int_equal(fake.suspends, 1);
        assert_int_equal(fake.resumes, 1);
        assert_string_equal(fake.events, "start,started,suspended,resumed,stopped-destroyed");
        sv_clear(&sv);
}

static void test_shutdown_timeout(void **state)
{
        struct supervisor sv;
        sv_init(&sv, DOMAIN_LIFECYCLE_DESTROY);
        fake.ignore_shutdown = true;
        struct lv_error *err = NULL;
        assert_int_equal(supervisor_guest_start(&sv, &err), 0);
        long long t0 = clock_now_ms();
        assert_int_equal(supervisor_guest_shutdown(&sv, 300 * 1000, &err), 0);
        assert_int_equal(sv.g.state, GUEST_STATE_SHUTDOWN);
        assert_int_equal(sv.job.kind, JOB_SHUTDOWN); /* the supervisor's job */
        run_until_end(&sv);
        assert_true(clock_now_ms() - t0 >= 290);
        assert_int_equal(fake.shutdowns, 1);
        assert_int_equal(fake.destroys, 1); /* by the timeout */
        assert_int_equal(sv.g.state, GUEST_STATE_SHUTOFF);
        assert_int_equal(sv.job.kind, JOB_NONE);
        assert_int_equal(fake.undos, 1);

        /* a guest that does shut down: no destroy, no timeout */
        sv_clear(&sv);
        sv_init(&sv, DOMAIN_LIFECYCLE_DESTROY);
        assert_int_equal(supervisor_guest_start(&sv, &err), 0);
        t0 = clock_now_ms();
        assert_int_equal(supervisor_guest_shutdown(&sv, 5000 * 1000, &err), 0);
        run_until_end(&sv);
        assert_true(clock_now_ms() - t0 < 4000);
        assert_int_equal(fake.destroys, 0);
        assert_int_equal(sv.g.state, GUEST_STATE_SHUTOFF);
        sv_clear(&sv);
}

static void test_restart_burst(void **state)
{
        struct supervisor sv;
        sv_init(&sv, DOMAIN_LIFECYCLE_RESTART);
        fake.crash_at_once = true;
        struct lv_error *err = NULL;
        assert_int_equal(supervisor_guest_start(&sv, &err), 0);
        run_until_end(&sv);
        /* the first start and 5 restarts (guest.c's burst), then it ends */
        assert_int_equal(fake.starts, 6);
        assert_int_equal(fake.undos, 6);
        assert_int_equal(sv.g.state, GUEST_STATE_SHUTOFF);
        assert_int_equal(sv.g.state_reason, REASON_SHUTOFF_CRASHED);
        sv_clear(&sv);
}

/* The destination: a script that answers Prepare as a destination on
 * another host would (its cookie names it), then waits for the abort. */
static char *fake_destination(const char *name, const char *uuid)
{
        _cleanup_free_ char *script = xasprintf("%s/destination.sh", tmpdir);
        _cleanup_free_ char *text = xasprintf(
                "#!/bin/bash\n"
                "IFS= read -r -d '' prepare || exit 1\n"
                "printf '%%s\\0' '{\"phase\":\"prepare\",\"ok\":true,\"uri\":\"tcp:127.0.0.1:9\","
                "\"cookie\":\"<qemu-migration><name>%s</name><uuid>%s</uuid>"
                "<hostname>elsewhere</hostname>"
                "<hostuuid>8b3f4dc4-6a8e-5f9b-94a5-4c35babd8d95</hostuuid>"
                "</qemu-migration>\"}'\n"
                "IFS= read -r -d '' abort\n",
                name, uuid);
        assert_int_equal(file_write_atomic(script, text, strlen(text), 0700, NULL), 0);
        return xasprintf("bash %s", script);
}

static void test_migration_rollback(void **state)
{
        struct supervisor sv;
        sv_init(&sv, DOMAIN_LIFECYCLE_DESTROY);
        fake.migrate_fails = true;
        struct lv_error *err = NULL;
        assert_int_equal(supervisor_guest_start(&sv, &err), 0);
        char uuid[37];
        domain_uuid_format(sv.g.def->uuid, uuid);
        _cleanup_free_ char *transport = fake_destination(sv.g.name, uuid);
        struct migration_params p = {.transport = transport, .timeout_s = 10};
        char *summary = NULL;
        int r = migration_source_run(&sv, &p, &summary, &err);
        assert_true(r < 0);
        assert_null(summary);
        assert_non_null(strstr(err->message, "cannot migrate guest 'fake1'"));
        assert_non_null(strstr(err->message, "fake stream broken after the switch-over"));
        lv_error_freep(&err);
        /* rolled back: the switch-over had run, the guest was resumed here,
         * the job is over */
        assert_true(fake.switchover_ran);
        assert_int_equal(fake.resumes, 1);
        assert_int_equal(sv.g.state, GUEST_STATE_RUNNING);
        assert_int_equal(sv.job.kind, JOB_NONE);
        assert_int_equal(supervisor_guest_destroy(&sv, &err), 0);
        run_until_end(&sv);
        sv_clear(&sv);
}

/* ---- deferred replies over the control socket ---- */

struct client {
        int fd;
        char buf[65536];
        size_t len;
};

static void client_open(struct client *c, const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        c->len = 0;
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(c->fd >= 0);
        assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

static void client_send(struct client *c, const char *method, const char *params)
{
        _cleanup_free_ char *m = xasprintf("{\"method\":\"%s\",\"parameters\":%s}", method, params);
        assert_int_equal(send(c->fd, m, strlen(m) + 1, MSG_NOSIGNAL), (ssize_t)strlen(m) + 1);
}

/* The next reply to c, the supervisor's loop dispatched meanwhile; NULL
 * when none came within max_ms. */
static char *client_reply(struct supervisor *sv, struct client *c, int max_ms)
{
        long long deadline = clock_now_ms() + max_ms;
        for (;;) {
                char *end = memchr(c->buf, '\0', c->len);
                if (end) {
                        char *r = xstrndup(c->buf, (size_t)(end - c->buf));
                        c->len -= (size_t)(end + 1 - c->buf);
                        memmove(c->buf, end + 1, c->len);
                        return r;
                }
                if (clock_now_ms() > deadline)
                        return NULL;
                assert_true(loop_dispatch(sv->loop, 20) >= 0);
                ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
                if (n > 0)
                        c->len += (size_t)n;
        }
}

static void disk_add(struct domain_def *def, const char *target)
{
        struct domain_disk d = {.type = DOMAIN_DISK_FILE,
                                .device = DOMAIN_DISK_DEVICE_DISK,
                                .source = xasprintf("%s/%s.img", tmpdir, target),
                                .target_dev = xstrdup(target),
                                .bus = DOMAIN_DISK_BUS_VIRTIO};
        domain_disk_add_take(def, &d);
}

static void assert_contains(char *text, const char *part)
{
        if (!text || !strstr(text, part))
                fail_msg("expected '%s' in: %s", part, text ? text : "(no reply)");
        free(text);
}

static void test_deferred_replies(void **state)
{
        struct supervisor sv;
        sv_init(&sv, DOMAIN_LIFECYCLE_DESTROY);
        sv.g.disk_released = supervisor_disk_released;
        disk_add(sv.g.def, "vdb");
        disk_add(sv.g.def, "vdc");
        struct lv_error *err = NULL;
        assert_int_equal(supervisor_guest_start(&sv, &err), 0);
        _cleanup_free_ char *path = xasprintf("%s/control.sock", tmpdir);
        assert_int_equal(control_new(&sv, path, &sv.control, &err), 0);
        struct client a, b, c;
        client_open(&a, path);
        client_open(&b, path);

        /* a: a detach the guest has not answered, and a call behind it */
        client_send(&a, LV_METHOD_DETACH_DEVICE, "{\"target\":\"vdb\",\"timeout_ms\":60000}");
        client_send(&a, LV_METHOD_STATE, "{}");
        /* b is answered meanwhile; a waits */
        client_send(&b, LV_METHOD_STATE, "{}");
        assert_contains(client_reply(&sv, &b, 5000), "\"state\":\"running\"");
        assert_int_equal(fake.detaches, 1);
        assert_null(client_reply(&sv, &a, 200));
        /* the guest lets go: a's two replies, in order */
        supervisor_disk_released(&sv.g, "vdb");
        char *r = client_reply(&sv, &a, 5000);
        assert_non_null(r);
        assert_null(strstr(r, "error"));
        free(r);
        assert_contains(client_reply(&sv, &a, 5000), "\"state\":\"running\"");
        assert_true(domain_disk_find(sv.g.def, "vdb") < 0);

        /* a guest that does not let go in time */
        client_send(&a, LV_METHOD_DETACH_DEVICE, "{\"target\":\"vdc\",\"timeout_ms\":200}");
        assert_contains(client_reply(&sv, &a, 5000), "did not release disk 'vdc' within 200 ms");
        assert_true(domain_disk_find(sv.g.def, "vdc") >= 0);

        /* a client that hangs up while its call waits: the others go on */
        client_open(&c, path);
        client_send(&c, LV_METHOD_DETACH_DEVICE, "{\"target\":\"vdc\",\"timeout_ms\":60000}");
        while (fake.detaches < 3)
                assert_true(loop_dispatch(sv.loop, 20) >= 0);
        close(c.fd);
        client_send(&b, LV_METHOD_STATE, "{}");
        assert_contains(client_reply(&sv, &b, 5000), "\"state\":\"running\"");

        /* Destroy ends a waiting call with the reason */
        client_send(&a, LV_METHOD_DETACH_DEVICE, "{\"target\":\"vdc\",\"timeout_ms\":60000}");
        while (fake.detaches < 4)
                assert_true(loop_dispatch(sv.loop, 20) >= 0);
        client_send(&b, LV_METHOD_DESTROY, "{}");
        assert_contains(client_reply(&sv, &a, 5000),
                        "domain 'fake1' is being destroyed before it released disk 'vdc'");
        run_until_end(&sv);
        assert_null(sv.detach_waits);
        close(a.fd);
        close(b.fd);
        control_free(sv.control);
        sv_clear(&sv);
}

int main(void)
{
        if (!mkdtemp(tmpdir))
                return 1;
        /* everything litevirt would touch, in the temporary directory */
        _cleanup_free_ char *conf = xasprintf("%s/conf", tmpdir);
        _cleanup_free_ char *run = xasprintf("%s/run", tmpdir);
        _cleanup_free_ char *hostconf = xasprintf("%s/host.conf", conf);
        /* the disks' leases (test_deferred_replies) in there too */
        _cleanup_free_ char *hc = xasprintf("host_uuid = 0b6f1c1e-3f5a-4d57-9a0e-2b8d4c6e7f10\n"
                                            "lockspace_dir = %s/lockspace\n",
                                            tmpdir);
        if (mkdir_p(conf, 0755, NULL) < 0 ||
            file_write_atomic(hostconf, hc, strlen(hc), 0644, NULL) < 0)
                return 1;
        setenv("LITEVIRT_CONFDIR", conf, 1);
        setenv("LITEVIRT_RUNDIR", run, 1);
        setenv("LITEVIRT_GUESTDIR", tmpdir, 1);
        setenv("LITEVIRT_LOGDIR", tmpdir, 1);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lifecycle),        cmocka_unit_test(test_shutdown_timeout),
                cmocka_unit_test(test_restart_burst),    cmocka_unit_test(test_migration_rollback),
                cmocka_unit_test(test_deferred_replies),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        rm_rf(tmpdir, NULL);
        return r;
}
