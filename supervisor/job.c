/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The supervisor's job (job.h). */
#include "supervisor/job.h"

#include "supervisor/supervisor.h"
#include "util/clock.h"
#include "util/log.h"

static const char *const doing[JOB_KIND_LAST] = {
        [JOB_NONE] = "idle",
        [JOB_MIGRATION_OUT] = "migrating",
        [JOB_MIGRATION_IN] = "migrating",
        [JOB_SHUTDOWN] = "shutting down",
        [JOB_SAVE] = "saving",
        [JOB_RESTORE] = "restoring",
};

const char *job_kind_doing(enum job_kind kind)
{
        return kind < JOB_KIND_LAST ? doing[kind] : "busy";
}

int supervisor_job_begin(struct supervisor *sv, enum job_kind kind, const char *phase, void *data,
                         struct lv_error **err)
{
        if (sv->job.kind != JOB_NONE)
                return lv_error_setf(err, LV_ERR_STATE, "guest '%s' is %s", sv->g.name,
                                     job_kind_doing(sv->job.kind));
        sv->job = (struct supervisor_job){
                .kind = kind, .phase = phase, .start_ms = clock_now_ms(), .data = data};
        log_debug("job: %s (%s)", job_kind_doing(kind), phase ? phase : "");
        return 0;
}

void supervisor_job_set_phase(struct supervisor *sv, const char *phase)
{
        sv->job.phase = phase;
}

void supervisor_job_end(struct supervisor *sv, enum job_kind kind)
{
        if (sv->job.kind != kind)
                return;
        log_debug("job: %s ended", job_kind_doing(kind));
        sv->job = (struct supervisor_job){.kind = JOB_NONE};
}
