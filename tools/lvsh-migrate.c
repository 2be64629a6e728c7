/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh migrate: live migration through the guest's supervisor
 * (docs/migration.md). */
#include <json-c/json.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "tools/lvsh-common.h"
#include "tools/lvsh-list.h"
#include "tools/lvsh.h"
#include "lib/methods.h"

extern char **environ;

static long long jll(struct json_object *o, const char *key)
{
        struct json_object *v;
        return o && json_object_object_get_ex(o, key, &v) ? (long long)json_object_get_int64(v)
                                                          : -1;
}

/* The last completed job of a guest whose supervisor is gone (the
 * migration source): its supervisor's record of how it ended. */
static struct json_object *job_completed_recorded(const char *name)
{
        struct json_object *o = lvsh_guest_ended(name), *job = NULL;
        if (o && json_object_object_get_ex(o, "job", &job) &&
            json_object_is_type(job, json_type_object))
                job = json_object_get(job);
        else
                job = NULL;
        json_object_put(o);
        return job;
}

/* The guest's job (JobInfo; completed: the last completed one), NULL on
 * error. */
static struct json_object *job_info_ex(const char *name, bool completed, struct lv_error **err)
{
        lv_conn *c = NULL;
        if (lvsh_connect(name, &c, err) < 0) {
                struct json_object *job = completed ? job_completed_recorded(name) : NULL;
                if (job)
                        lv_error_freep(err);
                return job;
        }
        struct json_object *reply = NULL, *job = NULL;
        lv_client_error *ce = NULL;
        struct json_object *params = NULL;
        if (completed) {
                params = json_object_new_object();
                json_object_object_add(params, "completed", json_object_new_boolean(true));
        }
        int r = lv_call(c, LV_METHOD_JOB_INFO, params, &reply, &ce);
        json_object_put(params);
        if (r < 0)
                lvsh_error_from_client(err, ce);
        else if (reply && json_object_object_get_ex(reply, "job", &job))
                job = json_object_get(job);
        lv_disconnect(c);
        json_object_put(reply);
        return job;
}

static struct json_object *job_info(const char *name, struct lv_error **err)
{
        return job_info_ex(name, false, err);
}

/* --verbose: a child prints virsh's progress line until it is killed. */
static _noreturn_ void progress_child(const char *name)
{
        for (;;) {
                struct json_object *job = job_info(name, NULL);
                long long total = jll(job, "data_total"), rem = jll(job, "data_remaining");
                if (total > 0 && rem >= 0)
                        fprintf(stderr, "\rMigration: [%3d %%]",
                                (int)((total - rem) * 100 / total));
                json_object_put(job);
                usleep(200 * 1000);
        }
}

/* --offline --persistent: the definition of a guest that does not run,
 * through a one-shot litevirt-supervisor --migrate-offline (the source
 * side of the exchange; no guest, no state). Its error becomes ours. */
static int migrate_offline(const char *name, const char *transport, bool undefine,
                           struct lv_error **err)
{
        if (!lvsh_guest_exists(name))
                return lv_error_setf(err, LV_ERR_NO_DOMAIN, "failed to get domain '%s'", name);
        lv_guest_status st;
        if (lv_guest_status_read(name, &st, NULL) == 0)
                return lv_error_setf(err, LV_ERR_STATE,
                                     "Requested operation is not valid: domain '%s' is running: "
                                     "--offline migrates the definition of a shut off guest",
                                     name);
        lvsh_environment_absolute();
        _cleanup_free_ char *path = lvsh_binary_path("litevirt-supervisor", "LITEVIRT_SUPERVISOR");
        int ep[2];
        if (pipe2(ep, O_CLOEXEC) < 0)
                return lv_error_set(err, errno, "pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
        char *args[] = {path,
                        (char *)"--migrate-offline",
                        (char *)transport,
                        undefine ? (char *)"--undefinesource" : (char *)name,
                        undefine ? (char *)name : NULL,
                        NULL};
        pid_t pid;
        int r = posix_spawn(&pid, path, &fa, NULL, args, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(ep[1]);
        if (r != 0) {
                close(ep[0]);
                return lv_error_set(err, r, "cannot run '%s'", path);
        }
        char buf[4096];
        size_t n = 0;
        ssize_t k;
        while (n < sizeof(buf) - 1 &&
               ((k = read(ep[0], buf + n, sizeof(buf) - 1 - n)) > 0 || (k < 0 && errno == EINTR)))
                n += k > 0 ? (size_t)k : 0;
        close(ep[0]);
        buf[n] = '\0';
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        const char *msg = startswith(buf, "error: ") ? buf + strlen("error: ") : buf;
        return lv_error_setf(err, EIO, "%s", *msg ? msg : "the offline migration failed");
}

static int cmd_migrate(int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command("migrate");
        static const char *const flags[] = {"live",
                                            "persistent",
                                            "undefinesource",
                                            "verbose",
                                            "p2p",
                                            "tunnelled",
                                            "suspend",
                                            "copy-storage-all",
                                            "copy-storage-inc",
                                            "postcopy",
                                            "auto-converge",
                                            "offline",
                                            "tls",
                                            NULL};
        static const char *const valued[] = {"timeout", "bandwidth", "graphicsuri", NULL};
        bool set[13] = {0};
        const char *values[3] = {NULL, NULL, NULL};
        /* NAME DEST-TRANSPORT: the options parser takes one positional
         * argument, so the transport (last) is taken off first. */
        if (argc < 3)
                return lvsh_usage_error(cmd, err,
                                        "a domain name and a destination transport "
                                        "command are required");
        const char *transport = argv[argc - 1];
        const char *name = NULL;
        int r = lvsh_args_parse(cmd, argc - 1, argv, flags, set, valued, values, &name, err);
        if (r < 0)
                return r;
        if (set[11]) { /* --offline: libvirt's rules */
                if (!set[1])
                        return lvsh_usage_error(cmd, err, "--offline requires --persistent");
                if (set[0] || set[3] || set[5] || set[6] || set[7] || set[8] || set[9] || set[10] ||
                    set[12] || values[0] || values[1] || values[2])
                        return lvsh_usage_error(cmd, err,
                                                "--offline moves the definition only: "
                                                "--live, --verbose, --tunnelled, --suspend, the "
                                                "storage, post-copy and auto-converge options, "
                                                "--tls, --timeout, --bandwidth and --graphicsuri "
                                                "do not apply");
                r = migrate_offline(name, transport, set[2], err);
                if (r < 0)
                        return lv_error_prefix(err, "Failed to migrate domain '%s'\nerror", name);
                printf("\n");
                return 0;
        }
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "transport", json_object_new_string(transport));
        json_object_object_add(p, "live", json_object_new_boolean(set[0]));
        json_object_object_add(p, "persistent", json_object_new_boolean(set[1]));
        json_object_object_add(p, "undefinesource", json_object_new_boolean(set[2]));
        if (set[5])
                json_object_object_add(p, "tunnelled", json_object_new_boolean(true));
        if (set[6])
                json_object_object_add(p, "suspend", json_object_new_boolean(true));
        if (values[2])
                json_object_object_add(p, "graphicsuri", json_object_new_string(values[2]));
        if (set[7] && set[8]) {
                json_object_put(p);
                return lvsh_usage_error(cmd, err,
                                        "--copy-storage-all and --copy-storage-inc exclude each "
                                        "other");
        }
        if (set[9])
                json_object_object_add(p, "postcopy", json_object_new_boolean(true));
        if (set[10])
                json_object_object_add(p, "auto_converge", json_object_new_boolean(true));
        if (set[12])
                json_object_object_add(p, "tls", json_object_new_boolean(true));
        if (set[7] || set[8])
                json_object_object_add(p, "copy_storage",
                                       json_object_new_string(set[7] ? "all" : "inc"));
        if (values[0]) {
                char *end;
                long t = strtol(values[0], &end, 10);
                if (*end || t <= 0 || t > 24 * 3600) {
                        json_object_put(p);
                        return lvsh_usage_error(cmd, err, "--timeout '%s': not a number of seconds",
                                                values[0]);
                }
                json_object_object_add(p, "timeout", json_object_new_int((int)t));
        }
        if (values[1]) {
                char *end;
                long b = strtol(values[1], &end, 10);
                if (*end || b <= 0 || b > 1000000) {
                        json_object_put(p);
                        return lvsh_usage_error(cmd, err, "--bandwidth '%s': not a number of MiB/s",
                                                values[1]);
                }
                json_object_object_add(p, "bandwidth", json_object_new_int((int)b));
        }
        lv_conn *c = NULL;
        r = lvsh_connect(name, &c, err);
        if (r < 0) {
                json_object_put(p);
                return r;
        }
        lv_conn_set_timeout(c, -1); /* the job has its own timeout */
        struct json_object *reply = NULL;
        lv_client_error *ce = NULL;
        pid_t progress = -1;
        if (set[3]) {
                fflush(stderr);
                progress = fork();
                if (progress == 0)
                        progress_child(name);
        }
        r = lv_call(c, LV_METHOD_MIGRATE, p, &reply, &ce);
        if (progress > 0) {
                kill(progress, SIGKILL);
                while (waitpid(progress, NULL, 0) < 0 && errno == EINTR)
                        ;
                fprintf(stderr, r >= 0 ? "\rMigration: [100 %%]\n" : "\n");
        }
        if (r >= 0) {
                /* The local copy is ending: return once its supervisor is
                 * gone (the connection closes), so that the guest is in
                 * exactly one place when we do. Bounded. */
                int fd = lv_conn_fd(c);
                char buf[256];
                for (int i = 0; i < 300; i++) {
                        struct pollfd pfd = {.fd = fd, .events = POLLIN};
                        if (poll(&pfd, 1, 100) > 0 && read(fd, buf, sizeof(buf)) <= 0)
                                break;
                }
        }
        lv_disconnect(c);
        json_object_put(p);
        if (r < 0) {
                r = lvsh_error_from_client(err, ce);
                return lv_error_prefix(err, "Failed to migrate domain '%s'\nerror", name);
        }
        struct json_object *v;
        if (reply && json_object_object_get_ex(reply, "summary", &v))
                printf("%s\n", json_object_get_string(v));
        printf("\n");
        json_object_put(reply);
        return 0;
}

static void print_size(const char *label, long long bytes)
{
        if (bytes >= 0)
                printf("%-17s %.3f MiB\n", label, (double)bytes / 1048576.0);
}

static void print_num(const char *label, long long v, const char *unit)
{
        if (v >= 0)
                printf("%-17s %-12lld %s\n", label, v, unit);
}

static int cmd_domjobinfo(int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command("domjobinfo");
        static const char *const flags[] = {"completed", NULL};
        bool set[1] = {false};
        const char *name = NULL;
        int r = lvsh_args_parse(cmd, argc, argv, flags, set, NULL, NULL, &name, err);
        if (r < 0)
                return r;
        struct json_object *job = job_info_ex(name, set[0], err);
        if (!job)
                return err && *err ? -EIO : lv_error_setf(err, EIO, "no job information");
        struct json_object *v;
        const char *type =
                json_object_object_get_ex(job, "type", &v) ? json_object_get_string(v) : "none";
        if (streq(type, "none")) {
                printf("%-17s %s\n\n", "Job type:", "None");
                json_object_put(job);
                return 0;
        }
        printf("%-17s %s\n", "Job type:",
               streq(type, "completed") ? "Completed"
               : streq(type, "bounded") ? "Bounded"
                                        : "Unbounded");
        const char *op =
                json_object_object_get_ex(job, "operation", &v) ? json_object_get_string(v) : "";
        printf("%-17s %s\n", "Operation:",
               streq(op, "incoming migration") ? "Incoming migration"
               : streq(op, "save")             ? "Save"
               : streq(op, "block commit")     ? "Block commit"
               : streq(op, "block pull")       ? "Block pull"
                                               : "Outgoing migration");
        print_num("Time elapsed:", jll(job, "time_elapsed"), "ms");
        if (jll(job, "data_total") >= 0) {
                print_size("Data processed:", jll(job, "data_processed"));
                print_size("Data remaining:", jll(job, "data_remaining"));
                print_size("Data total:", jll(job, "data_total"));
                print_size("Memory processed:", jll(job, "data_processed"));
                print_size("Memory remaining:", jll(job, "data_remaining"));
                print_size("Memory total:", jll(job, "data_total"));
                long long bps = jll(job, "memory_bps");
                if (bps >= 0)
                        printf("%-17s %.3f MiB/s\n", "Memory bandwidth:", (double)bps / 1048576.0);
                print_num("Dirty rate:", jll(job, "memory_dirty_rate"), "pages/s");
                print_num("Page size:", jll(job, "memory_page_size"), "bytes");
                print_num("Iteration:", jll(job, "memory_iteration"), "");
                print_num("Constant pages:", jll(job, "memory_constant"), "");
                print_num("Normal pages:", jll(job, "memory_normal"), "");
                print_size("Normal data:", jll(job, "memory_normal_bytes"));
                print_num("Expected downtime:", jll(job, "expected_downtime"), "ms");
                print_num("Total downtime:", jll(job, "downtime"), "ms");
                print_num("Setup time:", jll(job, "setup_time"), "ms");
        }
        if (jll(job, "disk_total") >= 0) {
                print_size("File processed:", jll(job, "disk_processed"));
                print_size("File remaining:", jll(job, "disk_remaining"));
                print_size("File total:", jll(job, "disk_total"));
        }
        printf("\n");
        json_object_put(job);
        return 0;
}

/* COMMAND NAME: method (no parameters, no result) on the guest's job. */
static int job_command(const char *command, const char *method, const char *what, int argc,
                       char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command(command);
        const char *name = NULL;
        int r = lvsh_args_parse(cmd, argc, argv, NULL, NULL, NULL, NULL, &name, err);
        if (r < 0)
                return r;
        lv_conn *c = NULL;
        if ((r = lvsh_connect(name, &c, err)) < 0)
                return r;
        struct json_object *reply = NULL;
        lv_client_error *ce = NULL;
        r = lv_call(c, method, NULL, &reply, &ce);
        lv_disconnect(c);
        json_object_put(reply);
        if (r < 0) {
                r = lvsh_error_from_client(err, ce);
                return lv_error_prefix(err, "Failed to %s domain '%s'\nerror", what, name);
        }
        return 0;
}

static int cmd_domjobabort(int argc, char **argv, struct lv_error **err)
{
        return job_command("domjobabort", LV_METHOD_JOB_ABORT, "abort the job of", argc, argv, err);
}

static int cmd_migrate_postcopy(int argc, char **argv, struct lv_error **err)
{
        return job_command("migrate-postcopy", LV_METHOD_MIGRATE_POSTCOPY,
                           "switch to post-copy the migration of", argc, argv, err);
}

const struct lvsh_command lvsh_migrate_commands[] = {
        {"domjobinfo", "NAME [--completed]", "domain job information",
         "    The running job (a live migration): time elapsed, data processed,\n"
         "    remaining and total, bandwidth, expected downtime, as virsh shows them.\n"
         "    --completed: the last completed migration (also on a source whose\n"
         "    copy of the guest has ended), with its total downtime.",
         cmd_domjobinfo},
        {"domjobabort", "NAME", "abort the domain's job",
         "    Cancels a migration in flight: the guest keeps running here with its\n"
         "    disk leases; nothing stays on the destination.",
         cmd_domjobabort},
        {"migrate",
         "[--live] [--persistent] [--undefinesource] [--timeout N] [--bandwidth MiB/s] [--verbose] "
         "[--tunnelled] [--suspend] [--graphicsuri URI] [--copy-storage-all|--copy-storage-inc] "
         "[--postcopy] [--auto-converge] [--tls] [--offline --persistent] "
         "NAME DEST-TRANSPORT",
         "migrate a running guest to another host",
         "    DEST-TRANSPORT is a command whose stdin/stdout reach the destination's\n"
         "    supervisor, e.g. 'ssh HOST litevirt-supervisor --incoming'. The guest\n"
         "    keeps running during the copy (always live; --live is accepted as\n"
         "    virsh users type it). --persistent defines it on the destination,\n"
         "    --undefinesource removes the definition here. On failure the guest\n"
         "    keeps running here. --bandwidth caps QEMU's stream; --verbose shows\n"
         "    progress (lvsh domjobinfo from another shell shows more). --tunnelled\n"
         "    sends QEMU's stream through DEST-TRANSPORT (no port opened there).\n"
         "    --suspend leaves the guest paused on the destination, as a guest\n"
         "    paused here stays paused there. --graphicsuri spice://HOST[:PORT][?tlsPort=N]\n"
         "    says where SPICE clients reconnect (default: the destination's\n"
         "    graphics address, a wildcard one replaced by its migration address).\n"
         "    --copy-storage-all copies the writable disks to the destination (no\n"
         "    shared storage; a missing image is made there), --copy-storage-inc\n"
         "    only their top layer (the destination has the backing files).\n"
         "    --postcopy lets lvsh migrate-postcopy switch to post-copy;\n"
         "    --auto-converge slows the guest's CPUs until the copy converges.\n"
         "    --tls encrypts QEMU's stream (TLS with the certificates of host.conf's\n"
         "    migrate_tls_x509_cert_dir on both hosts, libvirt's /etc/pki/qemu layout).\n"
         "    --timeout N suspends the guest after N seconds so that the migration\n"
         "    converges. --offline --persistent defines a shut off guest there\n"
         "    (its definition only).",
         cmd_migrate},
        {"migrate-postcopy", "NAME", "switch a migration to post-copy",
         "    The guest of a running `lvsh migrate --postcopy` runs on the destination\n"
         "    at once; the rest of its memory follows as it touches it. If the link\n"
         "    breaks before the last page, the guest is lost on both hosts unless\n"
         "    recovered: both show 'paused (post-copy failed)'.",
         cmd_migrate_postcopy},
        {},
};
