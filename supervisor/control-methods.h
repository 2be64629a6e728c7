/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Between the control socket (control.c: connections, framing, queues)
 * and its methods (control-methods.c: what each call does). */

#include <json-c/json.h>
#include <sys/types.h>

#include "supervisor/supervisor.h"
#include "lib/varlink.h"

enum client_mode {
        CLIENT_CALLS,       /* request/reply */
        CLIENT_EVENTS,      /* streaming lifecycle events (input ignored) */
        CLIENT_CONSOLE,     /* upgraded: raw console bytes both ways */
        CLIENT_WAITING_END, /* a call answered once the guest has ended */
        CLIENT_DEFERRED,    /* a call answered later (control_defer) */
};

enum client_role {
        CLIENT_ROLE_NONE,     /* may not connect */
        CLIENT_ROLE_READONLY, /* queries, stats, events, XML without secrets */
        CLIENT_ROLE_FULL,     /* everything (the socket's group) */
        CLIENT_ROLE_OWNER,    /* everything, and the reserved slots (root, our uid) */
};

struct control_client {
        struct control *ctl;
        int fd;
        struct loop_source *source;
        struct varlink_inbuf in;
        char *out;
        size_t out_len, out_off, out_cap;
        enum client_mode mode;
        bool oneway;            /* the call being handled wants no reply */
        bool spec_name;         /* ... and named the interface LV_IFACE_SPEC: so do its errors */
        bool close_after_flush; /* drop once the queue is written */
        bool dropped;           /* closed; freed at the next callback */
        bool read_closed;       /* the client shut its sending side down */
        pid_t pid;
        uid_t uid;
        enum client_role role;
        struct control_client *next, *prev;
        struct control_deferred *deferred; /* CLIENT_DEFERRED: the call's answer */
        bool resume;                       /* answered: read its pipelined calls */
};

/* Replies; each returns < 0 when the client was dropped meanwhile (then
 * it must not be touched). Oneway calls get nothing. */
int control_reply(struct control_client *cl, struct json_object *params);
int control_reply_continues(struct control_client *cl, struct json_object *params, bool continues);
int control_error(struct control_client *cl, const char *error, struct json_object *params);
int control_error_message(struct control_client *cl, const char *error, const char *message);
struct supervisor *control_client_supervisor(struct control_client *cl);
/* Whether the client's uid may open one more event stream. */
bool control_client_may_stream(struct control_client *cl);

/* For method handlers in other files (control-save.c): a parameter's
 * name and type; every parameter of the call known and of its type, else
 * InvalidParameter (1: the call may go on); one parameter (NULL when
 * absent or null); an lv_error as the varlink error of its code. */
struct param_spec {
        const char *name;
        enum json_type type;
};
int control_params_check(struct control_client *cl, const struct varlink_call *call,
                         const struct param_spec *spec);
struct json_object *control_param(const struct varlink_call *call, const char *name);
int control_invalid_parameter(struct control_client *cl, const char *param);
int control_reply_lv_error(struct control_client *cl, const struct lv_error *e);

/* control-save.c: Save (supervisor/save.c). */
int control_method_save(struct control_client *cl, const struct varlink_call *call);
/* control-snapshot.c: SnapshotCreate (supervisor/snapshot.c). */
int control_method_snapshot_create(struct control_client *cl, const struct varlink_call *call);

/* control-blockjob.c: BlockJobStart, BlockJobInfo, BlockJobEnd,
 * BlockJobSetSpeed (supervisor/blockjob.c). */
int control_m_block_job_start(struct control_client *cl, const struct varlink_call *call);
int control_m_block_job_info(struct control_client *cl, const struct varlink_call *call);
int control_m_block_job_end(struct control_client *cl, const struct varlink_call *call);
int control_m_block_job_set_speed(struct control_client *cl, const struct varlink_call *call);
/* Deferred replies (docs/supervisor.md, "Deferred replies"): a call that
 * waits for the guest (an agent exchange, a device the guest must
 * release, a block job) takes its reply with control_defer() and returns
 * at once; the loop goes on serving every other client. The connection
 * reads no further call until the answer is given (varlink answers in
 * order). The owner answers exactly once, with control_deferred_reply()
 * or control_deferred_error(), which free d. A client that goes away
 * meanwhile gets nothing (the operation finishes all the same). When the
 * guest ends, or the supervisor exits, first, the owner's abort callback
 * is called with the reason and must answer (else the reason is sent). */
struct control_deferred;
typedef void (*control_deferred_abort_fn)(struct control_deferred *d, const char *why, void *data);
struct control_deferred *control_defer(struct control_client *cl, control_deferred_abort_fn abort,
                                       void *data);
struct supervisor *control_deferred_supervisor(const struct control_deferred *d);
void control_deferred_reply(struct control_deferred *d, struct json_object *params);
void control_deferred_error(struct control_deferred *d, const struct lv_error *e);
/* Answer every waiting call: its abort (or the reason as the error). */
void control_deferred_abort_all(struct control *ctl, const char *why);

/* Run one call (control-methods.c); < 0 when the client was dropped. */
int control_dispatch(struct control_client *cl, const struct varlink_call *call);
/* An event message's parameters. */
struct json_object *control_event_json(struct supervisor *sv, const char *event);

/* The reply to an operation that returned r, with e set on failure. */
int control_reply_result(struct control_client *cl, int r, struct lv_error *e);
/* control-hotplug.c */
int control_m_attach_device(struct control_client *cl, const struct varlink_call *call);
int control_m_detach_device(struct control_client *cl, const struct varlink_call *call);
/* control-display.c */
int control_m_screenshot(struct control_client *cl, const struct varlink_call *call);
int control_m_send_key(struct control_client *cl, const struct varlink_call *call);
/* control-vcpu.c */
int control_m_get_vcpus(struct control_client *cl, const struct varlink_call *call);
int control_m_set_vcpus(struct control_client *cl, const struct varlink_call *call);

/* The interface description, embedded at build time from
 * io.litevirt.Guest.varlink. */
extern const char control_interface_description[];

/* control-migparams.c: MigrateSetSpeed, MigrateGetSpeed,
 * MigrateSetMaxDowntime, MigrateGetMaxDowntime. */
int control_migrate_set_speed(struct control_client *cl, const struct varlink_call *call);
int control_migrate_get_speed(struct control_client *cl, const struct varlink_call *call);
int control_migrate_set_max_downtime(struct control_client *cl, const struct varlink_call *call);
int control_migrate_get_max_downtime(struct control_client *cl, const struct varlink_call *call);
/* control-agent.c: AgentCommand */
int control_agent_command(struct control_client *cl, const struct varlink_call *call);
