/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The guest's lifecycle as a [state][event] table: which events are valid
 * in which state, the state they lead to and the reason recorded (reasons
 * as virsh names them: "running (booted)", "shut off (destroyed)").
 * lifecycle_next() is pure; supervisor_transition() (guest.c) applies it. */

#include "driver-support/driver.h"

enum guest_event {
        GUEST_EVENT_START,            /* start requested */
        GUEST_EVENT_STARTED,          /* driver->start succeeded */
        GUEST_EVENT_STARTED_CRASHED,  /* restarted after a crash (on_crash=restart) */
        GUEST_EVENT_STARTED_MIGRATED, /* driver->start succeeded for an incoming migration:
                                       * paused, waiting for the stream */
        GUEST_EVENT_START_FAILED,     /* driver->start failed, or the guest's process exited
                                       * non-zero right after it (guest.c) */
        GUEST_EVENT_SUSPEND,
        GUEST_EVENT_RESUME,
        GUEST_EVENT_SHUTDOWN,        /* graceful shutdown requested */
        GUEST_EVENT_RESTART,         /* reboot/crash handled by starting again */
        GUEST_EVENT_ENDED_SHUTDOWN,  /* the guest powered off */
        GUEST_EVENT_ENDED_DESTROYED, /* killed on request (destroy, timeout) */
        GUEST_EVENT_ENDED_CRASHED,   /* crashed, on_crash=destroy */
        GUEST_EVENT_CRASH_PRESERVED, /* crashed, on_crash=preserve */
        GUEST_EVENT_ENDED_MIGRATED,  /* the local copy ended: it runs on another host */
        /* driver->start succeeded for a restore (save.c) */
        GUEST_EVENT_STARTED_RESTORED,
        /* the guest's state is in a save image (save.c) */
        GUEST_EVENT_ENDED_SAVED,
        GUEST_EVENT_POSTCOPY_FAILED, /* a post-copy migration broke: neither copy is whole */
        GUEST_EVENT_INCOMING_RUN,    /* the incoming migration's guest resumed here */
        GUEST_EVENT_INCOMING_PAUSED, /* it arrived paused (paused on the source, --suspend) */
        GUEST_EVENT_LAST
};

/* Reasons, per state, numbered as libvirt's virDomain*Reason enums. */
enum { REASON_UNKNOWN = 0 };
enum {
        REASON_RUNNING_BOOTED = 1,
        REASON_RUNNING_MIGRATED = 2,
        REASON_RUNNING_RESTORED = 3,
        REASON_RUNNING_UNPAUSED = 5,
        REASON_RUNNING_CRASHED = 9,
};
enum {
        REASON_PAUSED_USER = 1,
        REASON_PAUSED_MIGRATION = 2,
        REASON_PAUSED_STARTING_UP = 11,
        REASON_PAUSED_POSTCOPY_FAILED = 13,
};
enum { REASON_SHUTDOWN_USER = 1 };
enum {
        REASON_SHUTOFF_SHUTDOWN = 1,
        REASON_SHUTOFF_DESTROYED = 2,
        REASON_SHUTOFF_CRASHED = 3,
        REASON_SHUTOFF_MIGRATED = 4,
        REASON_SHUTOFF_SAVED = 5,
        REASON_SHUTOFF_FAILED = 6,
};
enum { REASON_CRASHED_PANICKED = 1 };

/* How the hypervisor process ended, as driver->exited() reports it. */
enum guest_exit { GUEST_EXIT_POWEROFF, GUEST_EXIT_REBOOT, GUEST_EXIT_CRASH };

/* 0 with the new state and reason, or -EINVAL when the event is not valid
 * in that state. */
int lifecycle_next(enum guest_state state, enum guest_event event, enum guest_state *ret_state,
                   int *ret_reason);

/* virsh's words: "running", "paused", "in shutdown", "shut off", "crashed".
 * GUEST_STATE_STARTING is shown as virsh shows a guest that is being
 * started: "paused" (reason "starting up"). */
const char *guest_state_to_string(enum guest_state s);
/* The machine name used in the protocol: "running", "paused", "shutdown",
 * "shutoff", "crashed", "starting". */
const char *guest_state_to_id(enum guest_state s);
int guest_state_from_id(const char *s);
/* libvirt's virDomainState number (for domstats state.state). */
int guest_state_to_libvirt(enum guest_state s);
const char *guest_reason_to_string(enum guest_state s, int reason);
const char *guest_event_to_string(enum guest_event e);
