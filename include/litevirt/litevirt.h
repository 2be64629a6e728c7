/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* liblitevirt: the client of litevirt's per-guest supervisors. Each running
 * guest has a supervisor answering varlink (JSON + NUL) on
 * $LITEVIRT_RUNDIR/NAME/control.sock (default /run/litevirt); see
 * docs/protocol.md and io.litevirt.Guest.varlink. Every function that can
 * fail returns a negative errno and sets *err (when err is not NULL),
 * which the caller frees with lv_client_error_free(). */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

typedef struct lv_conn lv_conn;

typedef struct lv_client_error {
        int code;      /* negative errno */
        char *error;   /* varlink error name, e.g. "io.litevirt.Guest.InvalidState";
                          NULL for a local failure (connect, timeout, ...) */
        char *message; /* human-readable, names the guest and the reason */
} lv_client_error;
void lv_client_error_free(lv_client_error *e);

/* Default time a call may take before it fails with -ETIMEDOUT. */
#define LV_CALL_TIMEOUT_MS 30000
/* The longest reply accepted. */
#define LV_REPLY_MAX (4 * 1024 * 1024)

/* Connect to guest NAME's supervisor. No supervisor: -ENOENT with error
 * "io.litevirt.Guest.NoSuchGuest". */
int lv_connect(const char *name, lv_conn **ret, lv_client_error **err);
int lv_connect_path(const char *socket_path, lv_conn **ret, lv_client_error **err);
void lv_disconnect(lv_conn *c);
/* Milliseconds per call (-1: wait forever). */
void lv_conn_set_timeout(lv_conn *c, int timeout_ms);
int lv_conn_fd(const lv_conn *c);

/* One call and its reply. params may be NULL; *ret_reply (may be NULL)
 * gets the reply's parameters object (a new reference). A varlink error
 * reply is returned as a negative errno with err->error set. */
int lv_call(lv_conn *c, const char *method, struct json_object *params,
            struct json_object **ret_reply, lv_client_error **err);
/* Streams: send a call with "more": true, then read replies until
 * *ret_continues is false (or the connection ends: -ECONNRESET). */
int lv_call_more(lv_conn *c, const char *method, struct json_object *params, lv_client_error **err);
int lv_read_reply(lv_conn *c, struct json_object **ret_reply, bool *ret_continues,
                  lv_client_error **err);
/* After an upgrade (Console), bytes that arrived behind the last reply;
 * returns how many were copied (they are removed from the connection). */
size_t lv_conn_take_buffered(lv_conn *c, char *buf, size_t max);

/* Guests that have a supervisor (a state directory in $LITEVIRT_RUNDIR
 * whose lock is held), sorted by name, NULL-terminated. State left by a
 * supervisor that died is cleaned on the way (see lv_guest_cleanup_stale).
 * A state directory the caller may not open is asked about over its
 * control socket; -EACCES when that is refused too. */
int lv_guest_list(char ***ret_names, lv_client_error **err);
void lv_strv_free(char **names);

/* The state of a guest read cheaply from its status file (no round trip
 * to the supervisor). -ENOENT when the guest has no live supervisor. A
 * caller that may not read the state directory (a member of the control
 * socket's groups) gets it from the supervisor (Info); -EACCES ("permission
 * denied") when that is refused too. */
typedef struct lv_guest_status {
        char state[16];  /* running, paused, shutdown, shutoff, crashed, starting */
        char reason[32]; /* booted, user, ... (virsh's words) */
        pid_t supervisor_pid;
        pid_t pid; /* the hypervisor process (container init, qemu) */
} lv_guest_status;
int lv_guest_status_read(const char *name, lv_guest_status *ret, lv_client_error **err);
/* The reason when the guest's process (QEMU) outlived its supervisor
 * (SIGKILL, crash) and still runs: state is the one last recorded
 * (running, paused), supervisor_pid is 0, pid the verified process (same
 * pid and start time as recorded). `lvsh start` reattaches a supervisor. */
#define LV_GUEST_REASON_UNSUPERVISED "unsupervised"
static inline bool lv_guest_status_unsupervised(const lv_guest_status *s)
{
        return s->supervisor_pid <= 0 && strcmp(s->reason, LV_GUEST_REASON_UNSUPERVISED) == 0;
}

/* When guest NAME's state directory was left by a supervisor that died
 * (SIGKILL, crash): remove its state directory and the guest's (empty)
 * cgroups recorded in status.json. Returns 1 when something was cleaned,
 * 0 when there was nothing stale (no directory, or a live supervisor), and
 * -EBUSY when the guest's process outlived its supervisor and still runs
 * (nothing is removed then). */
int lv_guest_cleanup_stale(const char *name, lv_client_error **err);

/* The start time of a process (field 22 of /proc/PID/stat), 0 if gone:
 * with the pid, it identifies a process across pid reuse. */
unsigned long long lv_proc_starttime(pid_t pid);

#ifdef __cplusplus
}
#endif
