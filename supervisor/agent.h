/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A QEMU guest agent client (qemu-ga in the guest, reached through the
 * guest's org.qemu.guest_agent.0 channel socket, which QEMU serves).
 *
 * The agent speaks QMP's JSON but sends no greeting, and a reply may be
 * stale (to a client that gave up earlier) or garbled (a command cut off
 * in the guest's buffer). So every exchange connects afresh and first
 * synchronises as libvirt does: a 0xFF byte (qemu-ga resets its parser on
 * it), then guest-sync-delimited with a random id; the agent answers with
 * a 0xFF byte before the reply, and everything before it, and replies
 * with another id, are dropped. Only then is the command sent.
 *
 * One deadline for the whole exchange: a guest whose agent does not run
 * (or has not opened its port) fails with "Guest agent is not
 * responding" once the timeout has passed.
 *
 * An exchange runs on an event loop (agent_exchange_start): the
 * supervisor answers its other calls meanwhile and may cancel it (the
 * guest destroyed). agent_command runs one to its end on a loop of its
 * own. */

#include <stdbool.h>

#include "driver-support/loop.h"
#include "util/error.h"

#define AGENT_DEFAULT_TIMEOUT_S 5
#define AGENT_TIMEOUT_MAX_S     300
#define AGENT_MESSAGE_MAX       (1024 * 1024)

struct json_object;
struct agent_exchange;

/* The exchange is over: r >= 0 with ret the "return" value (a new
 * reference for the callee; NULL without one or without want_reply), or
 * r < 0 with e (the callee's to free). x is freed after the callback
 * returns: the callback must not cancel it. */
typedef void (*agent_done_fn)(struct agent_exchange *x, int r, struct json_object *ret,
                              struct lv_error *e, void *data);

/* Start command (a JSON object {"execute": NAME, "arguments": {...}}) on
 * the agent behind the socket path; done is called once, from the loop.
 * With want_reply the result is the "return" value; an agent error
 * ({"error": {"class", "desc"}}) fails with its description. Without it
 * (guest-shutdown, which never answers) the exchange ends once the agent
 * answered the handshake and the command was sent. Fails at once
 * (nothing started, done never called) for a command that is not one or
 * a socket that cannot be connected to. */
int agent_exchange_start(struct lv_loop *loop, const char *path, struct json_object *command,
                         int timeout_ms, bool want_reply, agent_done_fn done, void *data,
                         struct agent_exchange **ret, struct lv_error **err);
/* End an exchange before its end (done is not called). */
void agent_exchange_cancel(struct agent_exchange *x);
/* The command's name, for messages. */
const char *agent_exchange_name(const struct agent_exchange *x);

/* One exchange to its end (on a loop of its own). */
int agent_command(const char *path, struct json_object *command, int timeout_ms, bool want_reply,
                  struct json_object **ret, struct lv_error **err);
