/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The undo stack of a guest's set-up (see driver.h). */
#include "driver-support/driver.h"
#include "util/log.h"

void guest_undo_push(struct lv_guest *g, const char *what, guest_undo_fn fn, void *data,
                     void (*free_data)(void *data))
{
        g->undo = xrealloc(g->undo, (size_t)(g->n_undo + 1) * sizeof(*g->undo));
        g->undo[g->n_undo++] = (struct guest_undo){
                .fn = fn,
                .data = data,
                .free_data = free_data,
                .what = xstrdup_null(what),
        };
}

static void sink_push(void *ctx, const char *what, void (*fn)(void *data), void *data,
                      void (*free_data)(void *data))
{
        struct lv_guest *g = ctx;
        guest_undo_push(g, what, NULL, data, free_data);
        g->undo[g->n_undo - 1].fn_data = fn;
}

struct undo_sink guest_undo_sink(struct lv_guest *g)
{
        return (struct undo_sink){.push = sink_push, .ctx = g};
}

void guest_undo_run(struct lv_guest *g)
{
        while (g->n_undo > 0) {
                struct guest_undo *u = &g->undo[--g->n_undo];
                log_debug("undo: %s", u->what ? u->what : "(unnamed step)");
                if (u->fn)
                        u->fn(g, u->data);
                if (u->fn_data)
                        u->fn_data(u->data);
                if (u->free_data)
                        u->free_data(u->data);
                free(u->what);
        }
        free(g->undo);
        g->undo = NULL;
}
