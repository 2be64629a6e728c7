/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where a lower layer hands the undo of each thing it has just made,
 * without knowing who keeps it: a driver passes its guest's undo stack
 * (guest_undo_sink() in driver-support/driver.h), which runs fn(data) in
 * reverse order when the start fails or the guest has stopped, then
 * free_data(data) (may be NULL). */
struct undo_sink {
        void (*push)(void *ctx, const char *what, void (*fn)(void *data), void *data,
                     void (*free_data)(void *data));
        void *ctx;
};

static inline void undo_sink_push(const struct undo_sink *s, const char *what,
                                  void (*fn)(void *data), void *data, void (*free_data)(void *data))
{
        s->push(s->ctx, what, fn, data, free_data);
}
