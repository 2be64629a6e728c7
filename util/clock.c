/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "clock.h"

#include <time.h>

uint64_t clock_now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

long long clock_now_ms(void)
{
        return (long long)(clock_now_us() / 1000);
}

unsigned long long clock_epoch_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000;
}
