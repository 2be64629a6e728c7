/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io.litevirt.Guest.AgentCommand: one command to the QEMU guest agent
 * (agent.h) of a running guest. lvsh builds the agent commands of
 * qemu-agent-command, guestinfo, domfsinfo, domfsfreeze, domfsthaw,
 * domifaddr --source agent, shutdown --mode agent, set-user-password and
 * domtime on it.
 *
 * The exchange runs on the event loop with the call's reply deferred
 * (control_defer): the supervisor answers every other call meanwhile, for
 * up to the call's timeout (5 s unless given); destroying the guest ends
 * the call with an error saying so. */
#include <json-c/json.h>

#include "supervisor/agent.h"
#include "supervisor/control-methods.h"
#include "util/log.h"

struct agent_call {
        struct supervisor *sv;
        struct agent_exchange *x;
        struct control_deferred *d;
};

static void agent_call_done(struct agent_exchange *x, int r, struct json_object *ret,
                            struct lv_error *e, void *data)
{
        struct agent_call *c = data;
        if (r < 0) {
                lv_error_prefix(&e, "domain '%s'", c->sv->g.name);
                log_info("guest agent: %s", e->message);
                control_deferred_error(c->d, e);
                lv_error_free(e);
        } else {
                struct json_object *o = json_object_new_object();
                if (ret)
                        json_object_object_add(o, "result", ret);
                control_deferred_reply(c->d, o);
                json_object_put(o);
        }
        free(c);
}

/* The guest is destroyed or ended, or the supervisor exits. */
static void agent_call_abort(struct control_deferred *d, const char *why, void *data)
{
        struct agent_call *c = data;
        _cleanup_error_ struct lv_error *e = NULL;
        lv_error_setf(&e, LV_ERR_STATE, "%s: guest agent command '%s' abandoned", why,
                      agent_exchange_name(c->x));
        log_info("guest agent: %s", e->message);
        agent_exchange_cancel(c->x);
        free(c);
        control_deferred_error(d, e);
}

int control_agent_command(struct control_client *cl, const struct varlink_call *call)
{
        static const struct param_spec spec[] = {{"command", json_type_string},
                                                 {"timeout", json_type_int},
                                                 {"noreply", json_type_boolean},
                                                 {NULL, 0}};
        struct supervisor *sv = control_client_supervisor(cl);
        int r = control_params_check(cl, call, spec);
        if (r <= 0)
                return r;
        struct json_object *c = control_param(call, "command"), *t = control_param(call, "timeout"),
                           *nr = control_param(call, "noreply");
        if (!c)
                return control_invalid_parameter(cl, "command");
        int timeout_s = AGENT_DEFAULT_TIMEOUT_S;
        if (t) {
                int64_t v = json_object_get_int64(t);
                if (v <= 0 || v > AGENT_TIMEOUT_MAX_S)
                        return control_invalid_parameter(cl, "timeout");
                timeout_s = (int)v;
        }
        _cleanup_error_ struct lv_error *e = NULL;
        const struct domain_channel *ch = domain_guest_agent_channel(sv->g.def);
        if (sv->g.state != GUEST_STATE_RUNNING) {
                lv_error_setf(&e, LV_ERR_STATE,
                              "Requested operation is not valid: domain '%s' is not running",
                              sv->g.name);
                return control_reply_lv_error(cl, e);
        }
        if (!ch || !ch->source_path) {
                lv_error_setf(&e, LV_ERR_UNSUPPORTED,
                              "argument unsupported: QEMU guest agent is not configured "
                              "(domain '%s' has no <channel type='unix'> with target name '%s')",
                              sv->g.name, DOMAIN_CHANNEL_GUEST_AGENT);
                return control_reply_lv_error(cl, e);
        }
        struct json_object *cmd = json_tokener_parse(json_object_get_string(c));
        if (!cmd || !json_object_is_type(cmd, json_type_object)) {
                json_object_put(cmd);
                return control_invalid_parameter(cl, "command");
        }
        bool want_reply = !(nr && json_object_get_boolean(nr));
        struct agent_call *ac = xcalloc(1, sizeof(*ac));
        ac->sv = sv;
        r = agent_exchange_start(sv->loop, ch->source_path, cmd, timeout_s * 1000, want_reply,
                                 agent_call_done, ac, &ac->x, &e);
        json_object_put(cmd);
        if (r < 0) {
                free(ac);
                lv_error_prefix(&e, "domain '%s'", sv->g.name);
                log_info("guest agent: %s", e->message);
                return control_reply_lv_error(cl, e);
        }
        log_info("guest agent: '%s' started (timeout %d s), the reply deferred",
                 agent_exchange_name(ac->x), timeout_s);
        ac->d = control_defer(cl, agent_call_abort, ac);
        return 0;
}
