/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lvsh migrate: live migration through the guest's supervisor
 * (docs/migration.md). */
#include <json-c/json.h>
#include <poll.h>

#include "tools/lvsh-domain.h"
#include "tools/lvsh.h"

static int cmd_migrate(int argc, char **argv, struct lv_error **err)
{
        const struct lvsh_command *cmd = lvsh_find_command("migrate");
        static const char *const flags[] = {"live", "persistent", "undefinesource",
                                            "verbose", "p2p", NULL};
        static const char *const valued[] = {"timeout", NULL};
        bool set[5] = {0};
        const char *values[1] = {NULL};
        /* NAME DEST-TRANSPORT: the options parser takes one positional
         * argument, so the transport (last) is taken off first. */
        if (argc < 3)
                return lvsh_usage_error(cmd, err, "a domain name and a destination transport "
                                                  "command are required");
        const char *transport = argv[argc - 1];
        const char *name = NULL;
        int r = lvsh_args_parse(cmd, argc - 1, argv, flags, set, valued, values, &name, err);
        if (r < 0)
                return r;
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "transport", json_object_new_string(transport));
        json_object_object_add(p, "live", json_object_new_boolean(set[0]));
        json_object_object_add(p, "persistent", json_object_new_boolean(set[1]));
        json_object_object_add(p, "undefinesource", json_object_new_boolean(set[2]));
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
        lv_conn *c = NULL;
        r = lvsh_connect(name, &c, err);
        if (r < 0) {
                json_object_put(p);
                return r;
        }
        lv_conn_set_timeout(c, -1); /* the job has its own timeout */
        struct json_object *reply = NULL;
        lv_client_error *ce = NULL;
        r = lv_call(c, "io.litevirt.Guest.Migrate", p, &reply, &ce);
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

const struct lvsh_command lvsh_migrate_commands[] = {
        { "migrate", "[--live] [--persistent] [--undefinesource] [--timeout N] NAME DEST-TRANSPORT",
          "migrate a running guest to another host",
          "    DEST-TRANSPORT is a command whose stdin/stdout reach the destination's\n"
          "    supervisor, e.g. 'ssh HOST litevirt-supervisor --incoming'. The guest\n"
          "    keeps running during the copy (always live; --live is accepted as\n"
          "    virsh users type it). --persistent defines it on the destination,\n"
          "    --undefinesource removes the definition here. On failure the guest\n"
          "    keeps running here.",
          cmd_migrate },
        {},
};
