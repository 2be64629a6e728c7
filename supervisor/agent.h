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
 * Synchronous, with one deadline for the whole exchange: a guest whose
 * agent does not run (or has not opened its port) fails with "Guest
 * agent is not responding" once the timeout has passed. */

#include <stdbool.h>

#include "util/error.h"

#define AGENT_DEFAULT_TIMEOUT_S 5
#define AGENT_TIMEOUT_MAX_S     300
#define AGENT_MESSAGE_MAX       (1024 * 1024)

struct json_object;

/* Run command (a JSON object {"execute": NAME, "arguments": {...}}) on
 * the agent behind the socket path. With want_reply, *ret gets the
 * "return" value (a new reference; may be NULL for none); an agent error
 * ({"error": {"class", "desc"}}) fails with its description. Without it
 * (guest-shutdown, which never answers) the call returns once the agent
 * answered the handshake and the command was sent. */
int agent_command(const char *path, struct json_object *command, int timeout_ms, bool want_reply,
                  struct json_object **ret, struct lv_error **err);
