/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* CLOCK_MONOTONIC, for deadlines and durations (never wall-clock time). */
uint64_t clock_now_us(void);
long long clock_now_ms(void);
/* CLOCK_REALTIME in milliseconds since the epoch: for timestamps other
 * hosts read (a migration cookie's <statistics>), never for durations. */
unsigned long long clock_epoch_ms(void);
