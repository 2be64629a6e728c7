/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The supervisor's job: its one long-running operation at a time
 * (libvirt's async job). A job has a kind, a phase and the kind's own
 * state; which control calls are answered while it runs is a property of
 * each call (the mask in control-methods.c's methods[] table), so the
 * control socket needs to know no job by name. */

#include <stdbool.h>

#include "util/error.h"

enum job_kind {
        JOB_NONE,
        JOB_MIGRATION_OUT, /* migration.c, source */
        JOB_MIGRATION_IN,  /* migration.c, destination (--incoming) */
        JOB_SHUTDOWN,      /* a shutdown waiting for the guest, with its timeout */
        JOB_SAVE,          /* save.c: the guest's state to a save image */
        JOB_RESTORE,       /* save.c: the guest's state loaded from one */
        JOB_KIND_LAST
};

/* Bit of a kind, for the masks of methods[]. */
#define JOB_MASK(kind) (1u << (kind))
#define JOB_MASK_ANY   (~0u)

struct supervisor_job {
        enum job_kind kind;
        const char *phase;  /* the kind's words: "prepare", "perform", ... */
        long long start_ms; /* clock_now_ms() */
        void *data;         /* the kind's own state, or NULL */
};

struct supervisor;

/* Start a job; EBUSY (LV_ERR_STATE) while another one runs. */
int supervisor_job_begin(struct supervisor *sv, enum job_kind kind, const char *phase, void *data,
                         struct lv_error **err);
void supervisor_job_set_phase(struct supervisor *sv, const char *phase);
/* End the job of that kind (nothing when another kind runs). */
void supervisor_job_end(struct supervisor *sv, enum job_kind kind);
/* What the guest is doing, for messages: "migrating", "shutting down". */
const char *job_kind_doing(enum job_kind kind);
