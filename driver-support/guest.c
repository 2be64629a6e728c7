/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a driver asks of the core through struct lv_guest (driver.h). */
#include "driver-support/driver.h"

void guest_status_record(struct lv_guest *g)
{
        if (g->status_record)
                g->status_record(g);
}
