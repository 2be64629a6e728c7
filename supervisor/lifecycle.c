/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lifecycle table (see lifecycle.h). */
#include "supervisor/lifecycle.h"

struct transition {
        bool valid;
        enum guest_state state;
        int reason;
};

#define T(s, r)                                                                                    \
        {                                                                                          \
                true, GUEST_STATE_##s, r                                                           \
        }

/* Which events each state accepts. An absent entry is an invalid event. */
static const struct transition table[GUEST_STATE_LAST][GUEST_EVENT_LAST] = {
        [GUEST_STATE_SHUTOFF] =
                {
                        [GUEST_EVENT_START] = T(STARTING, REASON_PAUSED_STARTING_UP),
                },
        [GUEST_STATE_STARTING] =
                {
                        [GUEST_EVENT_STARTED] = T(RUNNING, REASON_RUNNING_BOOTED),
                        [GUEST_EVENT_STARTED_CRASHED] = T(RUNNING, REASON_RUNNING_CRASHED),
                        [GUEST_EVENT_STARTED_MIGRATED] = T(PAUSED, REASON_PAUSED_MIGRATION),
                        [GUEST_EVENT_STARTED_RESTORED] = T(RUNNING, REASON_RUNNING_RESTORED),
                        [GUEST_EVENT_START_FAILED] = T(SHUTOFF, REASON_SHUTOFF_FAILED),
                        [GUEST_EVENT_ENDED_SHUTDOWN] = T(SHUTOFF, REASON_SHUTOFF_SHUTDOWN),
                        [GUEST_EVENT_ENDED_DESTROYED] = T(SHUTOFF, REASON_SHUTOFF_DESTROYED),
                        [GUEST_EVENT_ENDED_CRASHED] = T(SHUTOFF, REASON_SHUTOFF_CRASHED),
                },
        [GUEST_STATE_RUNNING] =
                {
                        /* its init exited non-zero right after the start */
                        [GUEST_EVENT_START_FAILED] = T(SHUTOFF, REASON_SHUTOFF_FAILED),
                        [GUEST_EVENT_SUSPEND] = T(PAUSED, REASON_PAUSED_USER),
                        [GUEST_EVENT_SHUTDOWN] = T(SHUTDOWN, REASON_SHUTDOWN_USER),
                        [GUEST_EVENT_RESTART] = T(STARTING, REASON_PAUSED_STARTING_UP),
                        [GUEST_EVENT_ENDED_SHUTDOWN] = T(SHUTOFF, REASON_SHUTOFF_SHUTDOWN),
                        [GUEST_EVENT_ENDED_DESTROYED] = T(SHUTOFF, REASON_SHUTOFF_DESTROYED),
                        [GUEST_EVENT_ENDED_MIGRATED] = T(SHUTOFF, REASON_SHUTOFF_MIGRATED),
                        [GUEST_EVENT_ENDED_SAVED] = T(SHUTOFF, REASON_SHUTOFF_SAVED),
                        [GUEST_EVENT_ENDED_CRASHED] = T(SHUTOFF, REASON_SHUTOFF_CRASHED),
                        [GUEST_EVENT_CRASH_PRESERVED] = T(CRASHED, REASON_UNKNOWN),
                        [GUEST_EVENT_POSTCOPY_FAILED] = T(PAUSED, REASON_PAUSED_POSTCOPY_FAILED),
                },
        [GUEST_STATE_PAUSED] =
                {
                        [GUEST_EVENT_RESUME] = T(RUNNING, REASON_RUNNING_UNPAUSED),
                        [GUEST_EVENT_INCOMING_RUN] = T(RUNNING, REASON_RUNNING_MIGRATED),
                        [GUEST_EVENT_INCOMING_PAUSED] = T(PAUSED, REASON_PAUSED_USER),
                        [GUEST_EVENT_RESTART] = T(STARTING, REASON_PAUSED_STARTING_UP),
                        [GUEST_EVENT_ENDED_SHUTDOWN] = T(SHUTOFF, REASON_SHUTOFF_SHUTDOWN),
                        [GUEST_EVENT_ENDED_DESTROYED] = T(SHUTOFF, REASON_SHUTOFF_DESTROYED),
                        [GUEST_EVENT_ENDED_MIGRATED] = T(SHUTOFF, REASON_SHUTOFF_MIGRATED),
                        [GUEST_EVENT_ENDED_SAVED] = T(SHUTOFF, REASON_SHUTOFF_SAVED),
                        [GUEST_EVENT_ENDED_CRASHED] = T(SHUTOFF, REASON_SHUTOFF_CRASHED),
                        [GUEST_EVENT_CRASH_PRESERVED] = T(CRASHED, REASON_UNKNOWN),
                        [GUEST_EVENT_POSTCOPY_FAILED] = T(PAUSED, REASON_PAUSED_POSTCOPY_FAILED),
                },
        [GUEST_STATE_SHUTDOWN] =
                {
                        [GUEST_EVENT_RESTART] = T(STARTING, REASON_PAUSED_STARTING_UP),
                        [GUEST_EVENT_ENDED_SHUTDOWN] = T(SHUTOFF, REASON_SHUTOFF_SHUTDOWN),
                        [GUEST_EVENT_ENDED_DESTROYED] = T(SHUTOFF, REASON_SHUTOFF_DESTROYED),
                        [GUEST_EVENT_ENDED_CRASHED] = T(SHUTOFF, REASON_SHUTOFF_CRASHED),
                        [GUEST_EVENT_CRASH_PRESERVED] = T(CRASHED, REASON_UNKNOWN),
                },
        [GUEST_STATE_CRASHED] =
                {
                        [GUEST_EVENT_RESTART] = T(STARTING, REASON_PAUSED_STARTING_UP),
                        [GUEST_EVENT_ENDED_DESTROYED] = T(SHUTOFF, REASON_SHUTOFF_DESTROYED),
                },
};

int lifecycle_next(enum guest_state state, enum guest_event event, enum guest_state *ret_state,
                   int *ret_reason)
{
        if ((unsigned)state >= GUEST_STATE_LAST || (unsigned)event >= GUEST_EVENT_LAST)
                return -EINVAL;
        const struct transition *t = &table[state][event];
        if (!t->valid)
                return -EINVAL;
        *ret_state = t->state;
        *ret_reason = t->reason;
        return 0;
}

static const char *const state_names[GUEST_STATE_LAST] = {
        [GUEST_STATE_SHUTOFF] = "shut off",     [GUEST_STATE_STARTING] = "paused",
        [GUEST_STATE_RUNNING] = "running",      [GUEST_STATE_PAUSED] = "paused",
        [GUEST_STATE_SHUTDOWN] = "in shutdown", [GUEST_STATE_CRASHED] = "crashed",
};

static const char *const state_ids[GUEST_STATE_LAST] = {
        [GUEST_STATE_SHUTOFF] = "shutoff",   [GUEST_STATE_STARTING] = "starting",
        [GUEST_STATE_RUNNING] = "running",   [GUEST_STATE_PAUSED] = "paused",
        [GUEST_STATE_SHUTDOWN] = "shutdown", [GUEST_STATE_CRASHED] = "crashed",
};

const char *guest_state_to_string(enum guest_state s)
{
        return (unsigned)s < GUEST_STATE_LAST ? state_names[s] : "no state";
}

const char *guest_state_to_id(enum guest_state s)
{
        return (unsigned)s < GUEST_STATE_LAST ? state_ids[s] : "unknown";
}

int guest_state_from_id(const char *s)
{
        for (int i = 0; i < GUEST_STATE_LAST; i++)
                if (streq(state_ids[i], s))
                        return i;
        return -1;
}

int guest_state_to_libvirt(enum guest_state s)
{
        /* VIR_DOMAIN_NOSTATE 0, RUNNING 1, BLOCKED 2, PAUSED 3, SHUTDOWN 4,
         * SHUTOFF 5, CRASHED 6 */
        static const int map[GUEST_STATE_LAST] = {
                [GUEST_STATE_SHUTOFF] = 5, [GUEST_STATE_STARTING] = 3, [GUEST_STATE_RUNNING] = 1,
                [GUEST_STATE_PAUSED] = 3,  [GUEST_STATE_SHUTDOWN] = 4, [GUEST_STATE_CRASHED] = 6,
        };
        return (unsigned)s < GUEST_STATE_LAST ? map[s] : 0;
}

static const char *pick(const char *const *names, size_t n, int reason)
{
        if (reason < 0 || (size_t)reason >= n || !names[reason])
                return "unknown";
        return names[reason];
}

const char *guest_reason_to_string(enum guest_state s, int reason)
{
        static const char *const running[] = {
                "unknown",       "booted",   "migrated",           "restored",
                "from snapshot", "unpaused", "migration canceled", "save canceled",
                "event wakeup",  "crashed",  "post-copy",
        };
        static const char *const paused[] = {
                "unknown",       "user",
                "migrating",     "saving",
                "dumping",       "I/O error",
                "watchdog",      "from snapshot",
                "shutting down", "creating snapshot",
                "crashed",       "starting up",
                "post-copy",     "post-copy failed",
        };
        static const char *const shutdown[] = {"unknown", "user"};
        static const char *const shutoff[] = {
                "unknown", "shutdown", "destroyed",     "crashed", "migrated",
                "saved",   "failed",   "from snapshot", "daemon",
        };
        static const char *const crashed[] = {"unknown", "panicked"};
        switch (s) {
        case GUEST_STATE_RUNNING:
                return pick(running, ARRAY_SIZE(running), reason);
        case GUEST_STATE_STARTING:
        case GUEST_STATE_PAUSED:
                return pick(paused, ARRAY_SIZE(paused), reason);
        case GUEST_STATE_SHUTDOWN:
                return pick(shutdown, ARRAY_SIZE(shutdown), reason);
        case GUEST_STATE_SHUTOFF:
                return pick(shutoff, ARRAY_SIZE(shutoff), reason);
        case GUEST_STATE_CRASHED:
                return pick(crashed, ARRAY_SIZE(crashed), reason);
        case GUEST_STATE_LAST:
                break;
        }
        return "unknown";
}

const char *guest_event_to_string(enum guest_event e)
{
        static const char *const names[GUEST_EVENT_LAST] = {
                [GUEST_EVENT_START] = "start",
                [GUEST_EVENT_STARTED] = "started",
                [GUEST_EVENT_STARTED_CRASHED] = "started-after-crash",
                [GUEST_EVENT_STARTED_MIGRATED] = "started-incoming",
                [GUEST_EVENT_START_FAILED] = "start-failed",
                [GUEST_EVENT_SUSPEND] = "suspended",
                [GUEST_EVENT_RESUME] = "resumed",
                [GUEST_EVENT_SHUTDOWN] = "shutdown-requested",
                [GUEST_EVENT_RESTART] = "restarting",
                [GUEST_EVENT_ENDED_SHUTDOWN] = "stopped-shutdown",
                [GUEST_EVENT_ENDED_DESTROYED] = "stopped-destroyed",
                [GUEST_EVENT_ENDED_CRASHED] = "stopped-crashed",
                [GUEST_EVENT_CRASH_PRESERVED] = "crashed",
                [GUEST_EVENT_ENDED_MIGRATED] = "stopped-migrated",
                [GUEST_EVENT_STARTED_RESTORED] = "started-restored",
                [GUEST_EVENT_ENDED_SAVED] = "stopped-saved",
                [GUEST_EVENT_POSTCOPY_FAILED] = "suspended-postcopy-failed",
                [GUEST_EVENT_INCOMING_RUN] = "resumed-migrated",
                [GUEST_EVENT_INCOMING_PAUSED] = "arrived-paused",
        };
        return (unsigned)e < GUEST_EVENT_LAST ? names[e] : "unknown";
}
