/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The undo stack of a guest's set-up (see driver.h). */
#include "supervisor/driver.h"
#include "util/log.h"

void guest_undo_push(struct lv_guest *g, const char *what, guest_undo_fn fn, void *data,
                     void (*free_data)(void *data))
{
        g->undo = xrealloc(g->undo, (size_t)(g->n_undo + 1) * sizeof(*g->undo));
        g->undo[g->n_undo++] = (struct guest_undo){
                .fn = fn,
                .data = data,
                .free_data = free_data,
                .what = what,
        };
}

void guest_undo_run(struct lv_guest *g)
{
        while (g->n_undo > 0) {
                struct guest_undo *u = &g->undo[--g->n_undo];
                log_debug("undo: %s", u->what ? u->what : "(unnamed step)");
                if (u->fn)
                        u->fn(g, u->data);
                if (u->free_data)
                        u->free_data(u->data);
        }
        free(g->undo);
        g->undo = NULL;
}
