/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh blockcommit, blockpull, blockjob (docs/snapshot.md): the
 * supervisor starts the job (BlockJobStart) and QEMU runs it; --wait
 * follows it with BlockJobInfo, as virsh does with its job info, pivots
 * or aborts a ready active commit (BlockJobEnd). */
#include <json-c/json.h>
#include <stdlib.h>
#include <time.h>

#include "lib/methods.h"
#include "tools/lvsh-common.h"

static const struct lvsh_command *cmd_find(const char *name);

struct block_args {
        const char *name, *disk, *base, *top;
        bool active, pivot, keep_overlay, wait, verbose, bytes, info, abort, quiet;
        long long bandwidth; /* -1: not given */
};

/* NAME DISK and the options of lvsh COMMAND (those in allowed). */
static int args_parse(const char *command, const char *const *allowed, int argc, char **argv,
                      struct block_args *a, struct lv_error **err)
{
        const struct lvsh_command *cmd = cmd_find(command);
        *a = (struct block_args){.bandwidth = -1};
        static const char *const valued[] = {"--base", "--top", "--bandwidth", NULL};
        const char *pos[2];
        int npos = 0;
        for (int i = 1; i < argc; i++) {
                const char *o = argv[i];
                bool ok = false;
                for (const char *const *p = allowed; *p; p++)
                        ok |= streq(*p, o);
                if (startswith(o, "--") && !ok)
                        return lvsh_usage_error(cmd, err, "unknown option '%s'", o);
                bool has_value = false;
                for (const char *const *p = valued; *p; p++)
                        has_value |= streq(*p, o);
                if (has_value && i + 1 >= argc)
                        return lvsh_usage_error(cmd, err, "%s needs a value", o);
                if (streq(o, "--base"))
                        a->base = argv[++i];
                else if (streq(o, "--top"))
                        a->top = argv[++i];
                else if (streq(o, "--bandwidth")) {
                        char *end;
                        a->bandwidth = strtoll(argv[++i], &end, 10);
                        if (*end || a->bandwidth < 0)
                                return lvsh_usage_error(cmd, err,
                                                        "--bandwidth '%s' is not a "
                                                        "number",
                                                        argv[i]);
                } else if (streq(o, "--active"))
                        a->active = true;
                else if (streq(o, "--pivot"))
                        a->pivot = true;
                else if (streq(o, "--keep-overlay"))
                        a->keep_overlay = true;
                else if (streq(o, "--wait"))
                        a->wait = true;
                else if (streq(o, "--verbose"))
                        a->verbose = true;
                else if (streq(o, "--bytes"))
                        a->bytes = true;
                else if (streq(o, "--info"))
                        a->info = true;
                else if (streq(o, "--abort"))
                        a->abort = true;
                else if (npos < 2)
                        pos[npos++] = o;
                else
                        return lvsh_usage_error(cmd, err, "unexpected argument '%s'", o);
        }
        if (npos != 2)
                return lvsh_usage_error(cmd, err, "expected a domain NAME and a DISK");
        a->name = pos[0];
        a->disk = pos[1];
        return 0;
}

/* As virsh: MiB/s, or bytes/s with --bytes. */
static long long bandwidth_bytes(const struct block_args *a)
{
        return a->bandwidth < 0 ? -1 : a->bytes ? a->bandwidth : a->bandwidth * 1048576LL;
}

static const char *type_title(const char *type)
{
        return streq(type, "pull")            ? "Block Pull"
               : streq(type, "active-commit") ? "Active Block Commit"
                                              : "Block Commit";
}

static int percent(struct json_object *job)
{
        long long cur = 0, end = 0;
        (void)lvsh_json_i64(job, "cur", &cur);
        (void)lvsh_json_i64(job, "end", &end);
        return end > 0 ? (int)(cur * 100 / end) : 0;
}

static int job_info(const char *name, const char *disk, struct json_object **ret,
                    struct lv_error **err)
{
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "disk", json_object_new_string(disk));
        int r = lvsh_call(name, LV_METHOD_BLOCK_JOB_INFO, p, ret, err);
        json_object_put(p);
        return r;
}

static int job_end(const char *name, const char *disk, bool pivot, struct lv_error **err)
{
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "disk", json_object_new_string(disk));
        if (pivot)
                json_object_object_add(p, "pivot", json_object_new_boolean(true));
        int r = lvsh_call(name, LV_METHOD_BLOCK_JOB_END, p, NULL, err);
        json_object_put(p);
        return r;
}

/* Follow the job until it ends (or, an active commit, until it is ready:
 * then pivot, keep the overlay, or leave it mirroring). */
static int job_wait(const struct block_args *a, const char *what, struct lv_error **err)
{
        bool ending = false;
        for (;;) {
                struct json_object *o = NULL, *job, *ended;
                int r = job_info(a->name, a->disk, &o, err);
                if (r < 0)
                        return r;
                if (json_object_object_get_ex(o, "job", &job)) {
                        const char *type = lvsh_json_str(job, "type", "");
                        struct json_object *v;
                        bool ready = json_object_object_get_ex(job, "ready", &v) &&
                                     json_object_get_boolean(v);
                        if (a->verbose)
                                printf("\r%s: [%3d %%]", type_title(type),
                                       ready ? 100 : percent(job));
                        fflush(stdout);
                        json_object_put(o);
                        if (ready && !ending) {
                                if (!a->pivot && !a->keep_overlay) {
                                        printf("%sNow in synchronized phase\n",
                                               a->verbose ? "\n" : "");
                                        return 0;
                                }
                                if ((r = job_end(a->name, a->disk, a->pivot, err)) < 0)
                                        return r;
                                ending = true;
                        }
                        struct timespec ts = {0, 100 * 1000 * 1000};
                        nanosleep(&ts, NULL);
                        continue;
                }
                const char *error = json_object_object_get_ex(o, "ended", &ended)
                                            ? lvsh_json_str(ended, "error", NULL)
                                            : NULL;
                if (a->verbose)
                        printf("\n");
                if (error) {
                        r = lv_error_setf(err, EIO, "%s failed: %s", what, error);
                        json_object_put(o);
                        return r;
                }
                json_object_put(o);
                if (!a->quiet)
                        printf("\n%s\n", a->pivot          ? "Successfully pivoted"
                                         : a->keep_overlay ? "Commit complete, overlay image kept"
                                         : streq(what, "Pull") ? "Pull complete"
                                                               : "Commit complete");
                return 0;
        }
}

static int job_start(const struct block_args *a, const char *kind, struct lv_error **err)
{
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "disk", json_object_new_string(a->disk));
        json_object_object_add(p, "kind", json_object_new_string(kind));
        if (a->base)
                json_object_object_add(p, "base", json_object_new_string(a->base));
        if (a->top)
                json_object_object_add(p, "top", json_object_new_string(a->top));
        if (a->active)
                json_object_object_add(p, "active", json_object_new_boolean(true));
        if (bandwidth_bytes(a) > 0)
                json_object_object_add(p, "bandwidth", json_object_new_int64(bandwidth_bytes(a)));
        int r = lvsh_call(a->name, LV_METHOD_BLOCK_JOB_START, p, NULL, err);
        json_object_put(p);
        return r;
}

/* Start it, and follow it with --wait. */
static int job_run(const struct block_args *a, const char *kind, struct lv_error **err)
{
        bool pull = streq(kind, "pull");
        int r;
        if ((r = job_start(a, kind, err)) < 0 ||
            (a->wait && (r = job_wait(a, pull ? "Pull" : "Commit", err)) < 0))
                return lv_error_prefix(err, "Failed to %s disk '%s' of domain '%s'\nerror",
                                       pull ? "pull into" : "commit", a->disk, a->name);
        if (!a->wait)
                printf("%s started\n", pull ? "Block Pull" : "Block Commit");
        return 0;
}

int lvsh_block_commit_run(const char *name, const char *disk, const char *top, const char *base,
                          struct lv_error **err)
{
        const struct block_args a = {.name = name,
                                     .disk = disk,
                                     .top = top,
                                     .base = base,
                                     .active = !top,
                                     .pivot = !top,
                                     .wait = true,
                                     .quiet = true,
                                     .bandwidth = -1};
        int r = job_start(&a, "commit", err);
        return r < 0 ? r : job_wait(&a, "Commit", err);
}

static int cmd_blockcommit(int argc, char **argv, struct lv_error **err)
{
        static const char *const allowed[] = {
                "--base", "--top",     "--active",    "--pivot", "--keep-overlay",
                "--wait", "--verbose", "--bandwidth", "--bytes", NULL};
        struct block_args a;
        int r = args_parse("blockcommit", allowed, argc, argv, &a, err);
        if (r < 0)
                return r;
        if ((a.pivot || a.keep_overlay) && !a.active)
                return lvsh_usage_error(cmd_find("blockcommit"), err,
                                        "--pivot and --keep-overlay need --active");
        if (a.pivot && a.keep_overlay)
                return lvsh_usage_error(cmd_find("blockcommit"), err,
                                        "--pivot and --keep-overlay exclude each other");
        a.wait |= a.pivot || a.keep_overlay; /* as virsh */
        return job_run(&a, "commit", err);
}

static int cmd_blockpull(int argc, char **argv, struct lv_error **err)
{
        static const char *const allowed[] = {"--base",      "--wait",  "--verbose",
                                              "--bandwidth", "--bytes", NULL};
        struct block_args a;
        int r = args_parse("blockpull", allowed, argc, argv, &a, err);
        if (r < 0)
                return r;
        return job_run(&a, "pull", err);
}

static int cmd_blockjob(int argc, char **argv, struct lv_error **err)
{
        static const char *const allowed[] = {"--info",      "--abort", "--pivot",
                                              "--bandwidth", "--bytes", NULL};
        struct block_args a;
        int r = args_parse("blockjob", allowed, argc, argv, &a, err);
        if (r < 0)
                return r;
        if ((int)a.abort + (int)a.pivot + (int)(a.bandwidth >= 0) + (int)a.info > 1)
                return lvsh_usage_error(cmd_find("blockjob"), err,
                                        "--info, --abort, --pivot and --bandwidth exclude each "
                                        "other");
        if (a.abort || a.pivot) {
                if ((r = job_end(a.name, a.disk, a.pivot, err)) < 0)
                        return lv_error_prefix(err, "Failed to %s the block job on '%s'\nerror",
                                               a.pivot ? "pivot" : "abort", a.disk);
                return 0;
        }
        if (a.bandwidth >= 0) {
                struct json_object *p = json_object_new_object();
                json_object_object_add(p, "disk", json_object_new_string(a.disk));
                json_object_object_add(p, "bandwidth", json_object_new_int64(bandwidth_bytes(&a)));
                r = lvsh_call(a.name, LV_METHOD_BLOCK_JOB_SET_SPEED, p, NULL, err);
                json_object_put(p);
                return r;
        }
        struct json_object *o = NULL, *job;
        if ((r = job_info(a.name, a.disk, &o, err)) < 0)
                return r;
        if (!json_object_object_get_ex(o, "job", &job)) {
                printf("No current block job for %s\n", a.disk);
                json_object_put(o);
                return 0;
        }
        long long bw = 0;
        (void)lvsh_json_i64(job, "bandwidth", &bw);
        struct json_object *v;
        bool ready = json_object_object_get_ex(job, "ready", &v) && json_object_get_boolean(v);
        printf("%s: [%3d %%]", type_title(lvsh_json_str(job, "type", "")),
               ready ? 100 : percent(job));
        if (bw > 0)
                printf("    Bandwidth limit: %lld bytes/s (%.3f MiB/s)", bw,
                       (double)bw / 1048576.0);
        printf("\n");
        json_object_put(o);
        return 0;
}

const struct lvsh_command lvsh_blockjob_commands[] = {
        {"blockcommit",
         "NAME DISK [--top IMAGE] [--base IMAGE] [--active] [--pivot|--keep-overlay] [--wait] "
         "[--verbose] [--bandwidth N] [--bytes]",
         "Start a block commit operation.",
         "    Merges the images from --top (default: the active layer, which\n"
         "    needs --active) down into --base (default: the deepest image) of\n"
         "    DISK's chain; images are named by their paths. A commit of the\n"
         "    active layer becomes ready once the base has everything; --pivot\n"
         "    then moves the guest onto the base (the overlay is given back),\n"
         "    --keep-overlay ends the job leaving it on its overlay; both wait.\n"
         "    --wait follows the job (--verbose: its progress). --bandwidth in\n"
         "    MiB/s (--bytes: bytes/s). The definitions follow the chain.",
         cmd_blockcommit},
        {"blockpull", "NAME DISK [--base IMAGE] [--wait] [--verbose] [--bandwidth N] [--bytes]",
         "Populate a disk from its backing image.",
         "    Copies the data of the images above --base (default: all) into\n"
         "    DISK's active layer, which is then over --base (or stands alone).",
         cmd_blockpull},
        {"blockjob", "NAME DISK [--info|--abort|--pivot|--bandwidth N [--bytes]]",
         "Manage active block operations",
         "    --info (the default): the job's kind and progress; --abort ends it\n"
         "    (the chain stays as it was); --pivot completes a ready active\n"
         "    commit; --bandwidth changes its limit (MiB/s, --bytes: bytes/s).",
         cmd_blockjob},
        {0},
};

static const struct lvsh_command *cmd_find(const char *name)
{
        for (const struct lvsh_command *c = lvsh_blockjob_commands; c->name; c++)
                if (streq(c->name, name))
                        return c;
        return NULL;
}
