/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control socket: a varlink server on $RUNDIR/NAME/control.sock.
 * Many clients at once, each with a bounded input buffer (one message of
 * at most VARLINK_MESSAGE_MAX bytes) and a bounded output queue; a client
 * that sends garbage gets an error, one that overflows a buffer or stops
 * reading is dropped. Nothing a client does blocks the loop. */
#include <grp.h>
#include <malloc.h>
#include <json-c/json.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "config.h"
#include "supervisor/control-methods.h"
#include "supervisor/supervisor.h"
#include "lib/methods.h"
#include "lib/varlink.h"
#include "util/log.h"

/* Connections: CONTROL_CLIENTS_MAX for everyone, and CONTROL_CLIENTS_RESERVED
 * more that only root and the supervisor's own uid may take, so its owner
 * is always served. Any other uid holds at most CONTROL_CLIENTS_PER_UID
 * connections; every uid (root's too) at most CONTROL_EVENTS_PER_UID event
 * streams, so that streams, which are never evicted, cannot fill the table
 * for good. */
#define CONTROL_CLIENTS_MAX      256
#define CONTROL_CLIENTS_RESERVED 16
#define CONTROL_CLIENTS_PER_UID  128
#define CONTROL_EVENTS_PER_UID   32
/* Unsent bytes a client may hold: a console or event stream at most
 * CONTROL_OUTPUT_MAX (then it is dropped); a call connection is not read
 * any further while more than CONTROL_OUTPUT_PAUSE wait (back-pressure:
 * a client that pipelines calls without reading replies stops itself). */
#define CONTROL_OUTPUT_MAX   (2 * 1024 * 1024)
#define CONTROL_OUTPUT_PAUSE (64 * 1024)
/* While accept() finds no free descriptor (EMFILE, ENFILE), accepting
 * pauses until a client leaves or this long. */
#define CONTROL_ACCEPT_RETRY_USEC (200 * 1000)

struct control {
        struct supervisor *sv;
        int fd;
        char *path;
        struct loop_source *source;
        struct control_client *clients;
        struct control_client *graveyard; /* dropped, freed later */
        int n_clients;
        bool has_group;
        gid_t group;
        bool has_ro_group;
        gid_t ro_group;
        struct loop_source *accept_timer; /* accepting paused: out of fds */
        bool accept_paused;
        struct control_deferred *deferred; /* calls answered later, newest first */
        struct loop_source *resume_timer;  /* reads the calls behind an answered one */
};

struct control_deferred {
        struct control *ctl;
        struct control_client *cl; /* NULL once the client has gone */
        bool oneway, spec_name;    /* of the call */
        control_deferred_abort_fn abort;
        void *data;
        struct control_deferred *next, *prev;
};

static void accept_resume(struct control *ctl);

static void client_destroy(struct control_client *cl)
{
        varlink_inbuf_clear(&cl->in);
        free(cl->out);
        free(cl);
}

/* Clients dropped earlier: nothing on the stack points to them any more
 * once a new callback starts. */
static void graveyard_empty(struct control *ctl)
{
        /* a call that dispatches the loop while it waits (a job) is
         * further up the stack, with its client: free later */
        if (loop_nested(ctl->sv->loop))
                return;
        bool freed = ctl->graveyard != NULL;
        while (ctl->graveyard) {
                struct control_client *cl = ctl->graveyard;
                ctl->graveyard = cl->next;
                client_destroy(cl);
        }
        /* Many clients came and went: give their memory back. */
        if (freed && ctl->n_clients == 0)
                malloc_trim(0);
}

/* Close the connection now; the memory goes at the next callback, so a
 * caller further up the stack may still look at cl->dropped. */
void control_client_drop(struct control_client *cl, const char *why)
{
        if (cl->dropped)
                return;
        struct control *ctl = cl->ctl;
        log_debug("control client %d (pid %d) dropped: %s", cl->fd, (int)cl->pid, why);
        cl->dropped = true;
        if (cl->prev)
                cl->prev->next = cl->next;
        else
                ctl->clients = cl->next;
        if (cl->next)
                cl->next->prev = cl->prev;
        ctl->n_clients--;
        if (cl->mode == CLIENT_CONSOLE)
                log_info("console detached (client pid %d)", (int)cl->pid);
        console_detach(ctl->sv, cl);
        if (cl->deferred)
                cl->deferred->cl = NULL; /* its answer goes nowhere */
        cl->deferred = NULL;
        loop_source_free(cl->source);
        cl->source = NULL;
        close(cl->fd);
        cl->fd = -1;
        cl->prev = NULL;
        cl->next = ctl->graveyard;
        ctl->graveyard = cl;
        accept_resume(ctl); /* a descriptor is free again */
}

static size_t client_queued(const struct control_client *cl)
{
        return cl->out_len - cl->out_off;
}

static uint32_t client_events(const struct control_client *cl)
{
        uint32_t ev = 0;
        if (cl->out_len > cl->out_off)
                ev |= EPOLLOUT;
        if (!cl->read_closed && !cl->close_after_flush && cl->mode != CLIENT_WAITING_END &&
            cl->mode != CLIENT_DEFERRED &&
            !(cl->mode == CLIENT_CALLS && client_queued(cl) > CONTROL_OUTPUT_PAUSE))
                ev |= EPOLLIN;
        return ev;
}

/* Write what is queued. -EPIPE etc. when the client is gone (not freed). */
static int client_flush(struct control_client *cl)
{
        while (cl->out_len > cl->out_off) {
                ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0)
                        return -errno;
                cl->out_off += (size_t)n;
        }
        if (cl->out_off == cl->out_len) {
                cl->out_off = cl->out_len = 0;
                /* a burst's buffer is not kept for an idle client */
                if (cl->out_cap > CONTROL_OUTPUT_PAUSE) {
                        free(cl->out);
                        cl->out = NULL;
                        cl->out_cap = 0;
                }
        }
        return 0;
}

/* Queue bytes and try to send them. On failure the client is dropped and
 * the error returned: the caller must not touch cl afterwards. */
static int client_send(struct control_client *cl, const char *data, size_t n)
{
        if (cl->dropped)
                return -EPIPE;
        if (cl->out_len - cl->out_off + n > CONTROL_OUTPUT_MAX) {
                control_client_drop(cl, "output queue full (client does not read)");
                return -ENOBUFS;
        }
        if (cl->out_off > 0 && cl->out_off == cl->out_len)
                cl->out_off = cl->out_len = 0;
        if (cl->out_len + n > cl->out_cap) {
                if (cl->out_off > 0) {
                        memmove(cl->out, cl->out + cl->out_off, cl->out_len - cl->out_off);
                        cl->out_len -= cl->out_off;
                        cl->out_off = 0;
                }
                if (cl->out_len + n > cl->out_cap) {
                        cl->out_cap = cl->out_len + n + 4096;
                        cl->out = xrealloc(cl->out, cl->out_cap);
                }
        }
        memcpy(cl->out + cl->out_len, data, n);
        cl->out_len += n;
        int r = client_flush(cl);
        if (r < 0) {
                control_client_drop(cl, strerror(-r));
                return r;
        }
        if (loop_source_set_events(cl->source, client_events(cl), NULL) < 0) {
                control_client_drop(cl, "cannot watch");
                return -EIO;
        }
        return 0;
}

int control_client_send_raw(struct control_client *cl, const char *data, size_t n)
{
        return client_send(cl, data, n);
}

static int client_send_message(struct control_client *cl, char *msg, size_t len)
{
        int r = client_send(cl, msg, len);
        free(msg);
        return r;
}

int control_reply(struct control_client *cl, struct json_object *params)
{
        if (cl->oneway)
                return 0;
        size_t len;
        char *msg = varlink_reply_format(params, false, &len);
        return client_send_message(cl, msg, len);
}

int control_reply_continues(struct control_client *cl, struct json_object *params, bool continues)
{
        size_t len;
        char *msg = varlink_reply_format(params, continues, &len);
        return client_send_message(cl, msg, len);
}

/* The interface's error under the name the call used (LV_IFACE_SPEC). */
static char *error_name(struct control_client *cl, const char *error)
{
        if (cl->spec_name && startswith(error, LV_IFACE "."))
                return xasprintf(LV_IFACE_SPEC ".%s", error + strlen(LV_IFACE "."));
        return xstrdup(error);
}

int control_error(struct control_client *cl, const char *error, struct json_object *params)
{
        if (cl->oneway)
                return 0;
        size_t len;
        _cleanup_free_ char *name = error_name(cl, error);
        char *msg = varlink_error_format(name, params, &len);
        return client_send_message(cl, msg, len);
}

int control_error_message(struct control_client *cl, const char *error, const char *message)
{
        if (cl->oneway)
                return 0;
        size_t len;
        _cleanup_free_ char *name = error_name(cl, error);
        char *msg = varlink_error_format_message(name, message, &len);
        return client_send_message(cl, msg, len);
}

struct supervisor *control_client_supervisor(struct control_client *cl)
{
        return cl->ctl->sv;
}

static int client_process(struct control_client *cl);

/* ---- deferred replies (control-methods.h) ---- */

struct control_deferred *control_defer(struct control_client *cl, control_deferred_abort_fn abort,
                                       void *data)
{
        struct control *ctl = cl->ctl;
        struct control_deferred *d = xcalloc(1, sizeof(*d));
        *d = (struct control_deferred){.ctl = ctl,
                                       .cl = cl,
                                       .oneway = cl->oneway,
                                       .spec_name = cl->spec_name,
                                       .abort = abort,
                                       .data = data,
                                       .next = ctl->deferred};
        if (d->next)
                d->next->prev = d;
        ctl->deferred = d;
        cl->deferred = d;
        cl->mode = CLIENT_DEFERRED;
        if (loop_source_set_events(cl->source, client_events(cl), NULL) < 0)
                control_client_drop(cl, "cannot watch");
        return d;
}

struct supervisor *control_deferred_supervisor(const struct control_deferred *d)
{
        return d->ctl->sv;
}

/* Forget d; its client (NULL when gone) ready to take the answer. */
static struct control_client *deferred_end(struct control_deferred *d)
{
        struct control *ctl = d->ctl;
        if (d->prev)
                d->prev->next = d->next;
        else
                ctl->deferred = d->next;
        if (d->next)
                d->next->prev = d->prev;
        struct control_client *cl = d->cl;
        if (cl) {
                cl->deferred = NULL;
                cl->mode = CLIENT_CALLS;
                cl->oneway = d->oneway;
                cl->spec_name = d->spec_name;
        }
        free(d);
        return cl;
}

/* After the answer: the calls the client sent meanwhile are read from
 * the loop (not from inside whatever callback answered). */
static void deferred_resume(struct control_client *cl)
{
        if (cl->dropped)
                return;
        cl->oneway = false;
        cl->resume = true;
        if (loop_timer_set(cl->ctl->resume_timer, 1, NULL) < 0)
                control_client_drop(cl, "cannot resume");
}

void control_deferred_reply(struct control_deferred *d, struct json_object *params)
{
        struct control_client *cl = deferred_end(d);
        if (cl && control_reply(cl, params) == 0)
                deferred_resume(cl);
}

void control_deferred_error(struct control_deferred *d, const struct lv_error *e)
{
        struct control_client *cl = deferred_end(d);
        if (cl && control_reply_lv_error(cl, e) == 0)
                deferred_resume(cl);
}

/* Every call still waiting is told why it cannot be answered as asked:
 * its owner's abort first (it releases what the call holds), else the
 * reason itself. */
void control_deferred_abort_all(struct control *ctl, const char *why)
{
        while (ctl->deferred) {
                struct control_deferred *d = ctl->deferred;
                if (d->abort)
                        d->abort(d, why, d->data);
                if (ctl->deferred == d) {
                        _cleanup_error_ struct lv_error *e = NULL;
                        lv_error_setf(&e, LV_ERR_STATE, "%s", why);
                        control_deferred_error(d, e);
                }
        }
}

static int on_resume_timer(struct loop_source *s, void *data)
{
        struct control *ctl = data;
        graveyard_empty(ctl);
        for (;;) {
                struct control_client *cl = ctl->clients;
                while (cl && !cl->resume)
                        cl = cl->next;
                if (!cl)
                        return 0;
                cl->resume = false;
                if (cl->mode == CLIENT_CALLS && client_process(cl) == 0 && !cl->dropped &&
                    loop_source_set_events(cl->source, client_events(cl), NULL) < 0)
                        control_client_drop(cl, "cannot watch");
        }
}

/* Handle the messages held in the input buffer. Returns < 0 when the
 * client was dropped. */
static int client_process(struct control_client *cl)
{
        while (!cl->dropped && cl->mode == CLIENT_CALLS && !cl->close_after_flush &&
               client_queued(cl) <= CONTROL_OUTPUT_PAUSE) {
                const char *msg;
                size_t len;
                int r = varlink_inbuf_next(&cl->in, &msg, &len);
                if (r == 0)
                        return 0;
                if (r == -EMSGSIZE) {
                        cl->oneway = false;
                        r = control_error_message(cl, "io.litevirt.Guest.MessageTooLong",
                                                  "message longer than 65536 bytes: closing the "
                                                  "connection");
                        if (r < 0)
                                return r;
                        log_debug("control client %d: message too long, dropping it", cl->fd);
                        cl->close_after_flush = true;
                        if (cl->out_len == cl->out_off) {
                                control_client_drop(cl, "message too long");
                                return -EMSGSIZE;
                        }
                        return loop_source_set_events(cl->source, client_events(cl), NULL);
                }
                struct varlink_call call = {0};
                _cleanup_error_ struct lv_error *e = NULL;
                if (varlink_call_parse(msg, len, &call, &e) < 0) {
                        cl->oneway = false;
                        r = control_error_message(cl, "io.litevirt.Guest.ProtocolError",
                                                  e->message);
                        if (r < 0)
                                return r;
                        continue;
                }
                cl->oneway = call.oneway;
                r = control_dispatch(cl, &call);
                varlink_call_clear(&call);
                if (r < 0)
                        return r;
                cl->oneway = false;
        }
        if (!cl->dropped && cl->mode == CLIENT_CALLS && !varlink_inbuf_pending(&cl->in))
                varlink_inbuf_clear(&cl->in); /* idle: no buffer held */
        if (!cl->dropped && cl->mode == CLIENT_CONSOLE) {
                /* Bytes behind the Console call are the first raw input. */
                const char *msg;
                size_t len;
                if (varlink_inbuf_next(&cl->in, &msg, &len) == 1)
                        cl->in.consumed = 0;
                size_t n = cl->in.len - cl->in.consumed;
                if (n > 0)
                        console_input(cl->ctl->sv, cl->in.data + cl->in.consumed, n);
                varlink_inbuf_clear(&cl->in);
        }
        return 0;
}

static int on_client(struct loop_source *s, int fd, uint32_t revents, void *data)
{
        struct control_client *cl = data;
        graveyard_empty(cl->ctl);
        if (revents & EPOLLOUT) {
                int r = client_flush(cl);
                if (r < 0) {
                        control_client_drop(cl, strerror(-r));
                        return 0;
                }
                if (cl->close_after_flush && cl->out_len == cl->out_off) {
                        control_client_drop(cl, "done");
                        return 0;
                }
                /* Back-pressure released: the calls read meanwhile. */
                if (cl->mode == CLIENT_CALLS && client_process(cl) < 0)
                        return 0;
                if (!cl->dropped &&
                    loop_source_set_events(cl->source, client_events(cl), NULL) < 0) {
                        control_client_drop(cl, "cannot watch");
                        return 0;
                }
                if (cl->dropped)
                        return 0;
        }
        if (revents & EPOLLIN) {
                ssize_t n;
                if (cl->mode == CLIENT_CALLS) {
                        size_t space;
                        char *p = varlink_inbuf_space(&cl->in, &space);
                        n = space ? recv(fd, p, space, MSG_DONTWAIT) : 0;
                        if (n > 0) {
                                varlink_inbuf_commit(&cl->in, (size_t)n);
                                if (client_process(cl) == 0 && !cl->dropped)
                                        (void)loop_source_set_events(cl->source, client_events(cl),
                                                                     NULL);
                                return 0;
                        }
                } else {
                        char buf[4096];
                        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                        if (n > 0) {
                                if (cl->mode == CLIENT_CONSOLE)
                                        console_input(cl->ctl->sv, buf, (size_t)n);
                                /* Events: input is ignored. */
                                return 0;
                        }
                }
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n < 0 || cl->mode == CLIENT_CONSOLE ||
                    (cl->mode == CLIENT_CALLS && cl->out_len == cl->out_off)) {
                        control_client_drop(cl, n < 0 ? strerror(errno) : "disconnected");
                        return 0;
                }
                /* Half-closed: the client has said all it will say but
                 * still reads (replies queued, events streaming). */
                cl->read_closed = true;
                if (cl->mode == CLIENT_CALLS)
                        cl->close_after_flush = true;
                if (loop_source_set_events(cl->source, client_events(cl), NULL) < 0)
                        control_client_drop(cl, "cannot watch");
                return 0;
        }
        if (revents & (EPOLLHUP | EPOLLERR))
                control_client_drop(cl, "hung up");
        return 0;
}

static bool peer_in_group(int fd, const struct ucred *uc, gid_t group)
{
        if (uc->gid == group)
                return true;
        gid_t groups[256];
        socklen_t len = sizeof(groups);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
                return false;
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (groups[i] == group)
                        return true;
        return false;
}

/* What a peer may do: root and the supervisor's own uid everything (and
 * they are "privileged": the reserved slots are theirs), the socket's
 * group everything, the read-only group only queries; others nothing. */
static enum client_role peer_role(struct control *ctl, int fd, struct ucred *uc)
{
        socklen_t len = sizeof(*uc);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, uc, &len) < 0)
                return CLIENT_ROLE_NONE;
        if (uc->uid == 0 || uc->uid == geteuid())
                return CLIENT_ROLE_OWNER;
        if (ctl->has_group && peer_in_group(fd, uc, ctl->group))
                return CLIENT_ROLE_FULL;
        if (ctl->has_ro_group && peer_in_group(fd, uc, ctl->ro_group))
                return CLIENT_ROLE_READONLY;
        return CLIENT_ROLE_NONE;
}

/* The oldest client that waits for nothing (a call connection with no
 * reply queued: idle, or never sent a thing), of uid `uid` or (uid -1)
 * anyone's: it makes room, so connections opened and left never lock
 * anyone out. */
static bool client_evict_idle(struct control *ctl, uid_t uid, const char *why)
{
        struct control_client *victim = NULL;
        for (struct control_client *cl = ctl->clients; cl; cl = cl->next)
                if (cl->mode == CLIENT_CALLS && cl->out_len == cl->out_off &&
                    (uid == (uid_t)-1 || cl->uid == uid))
                        victim = cl; /* the list is newest first */
        if (victim)
                control_client_drop(victim, why);
        return victim != NULL;
}

static int clients_of(struct control *ctl, uid_t uid, enum client_mode mode, bool any_mode)
{
        int n = 0;
        for (struct control_client *cl = ctl->clients; cl; cl = cl->next)
                n += cl->uid == uid && (any_mode || cl->mode == mode);
        return n;
}

bool control_client_may_stream(struct control_client *cl)
{
        return clients_of(cl->ctl, cl->uid, CLIENT_EVENTS, false) < CONTROL_EVENTS_PER_UID;
}

/* Room for one more client of this peer: its per-uid share, then the
 * common table (the reserved slots for the owner). NULL, or why not. */
static const char *client_room(struct control *ctl, const struct ucred *uc, bool privileged)
{
        if (!privileged &&
            clients_of(ctl, uc->uid, CLIENT_CALLS, true) >= CONTROL_CLIENTS_PER_UID &&
            !client_evict_idle(ctl, uc->uid, "oldest idle client of its uid, at the uid's limit"))
                return "too many connections from this uid";
        if (ctl->n_clients >= CONTROL_CLIENTS_MAX)
                (void)client_evict_idle(ctl, (uid_t)-1, "oldest idle client, at the client limit");
        int limit = CONTROL_CLIENTS_MAX + (privileged ? CONTROL_CLIENTS_RESERVED : 0);
        if (ctl->n_clients >= limit)
                return "too many clients";
        return NULL;
}

static void refuse(int cfd, const char *error, const char *message)
{
        size_t len;
        _cleanup_free_ char *m = varlink_error_format_message(error, message, &len);
        (void)send(cfd, m, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(cfd);
}

static int on_accept_timer(struct loop_source *s, void *data)
{
        accept_resume(data);
        return 0;
}

static void accept_resume(struct control *ctl)
{
        if (!ctl->accept_paused)
                return;
        ctl->accept_paused = false;
        (void)loop_timer_set(ctl->accept_timer, 0, NULL);
        (void)loop_source_set_events(ctl->source, EPOLLIN, NULL);
}

/* Out of descriptors: the pending connection stays in the backlog, and
 * the listening socket would wake the loop at once again (a busy loop).
 * Stop watching it until a client leaves or a moment passed. */
static void accept_pause(struct control *ctl, int e)
{
        if (ctl->accept_paused)
                return;
        log_warning("control: cannot accept a client: %s (accepting paused)", strerror(e));
        if (loop_source_set_events(ctl->source, 0, NULL) < 0)
                return;
        ctl->accept_paused = true;
        if (ctl->accept_timer)
                (void)loop_timer_set(ctl->accept_timer, CONTROL_ACCEPT_RETRY_USEC, NULL);
}

static int on_accept(struct loop_source *s, int fd, uint32_t revents, void *data)
{
        struct control *ctl = data;
        graveyard_empty(ctl);
        for (int i = 0; i < 16; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (cfd < 0) {
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                            errno == ENOMEM)
                                accept_pause(ctl, errno);
                        return 0; /* EAGAIN, or a client gone already */
                }
                struct ucred uc = {0};
                enum client_role role = peer_role(ctl, cfd, &uc);
                if (role == CLIENT_ROLE_NONE) {
                        refuse(cfd, LV_ERROR_PERMISSION_DENIED,
                               "permission denied: uid not allowed on this control socket");
                        log_warning("control: refused a client (uid %d, pid %d)", (int)uc.uid,
                                    (int)uc.pid);
                        continue;
                }
                const char *full = client_room(ctl, &uc, role == CLIENT_ROLE_OWNER);
                if (full) {
                        refuse(cfd, LV_ERROR_FAILED, full);
                        log_warning("control: refused a client (uid %d, pid %d): %s", (int)uc.uid,
                                    (int)uc.pid, full);
                        continue;
                }
                struct control_client *cl = xcalloc(1, sizeof(*cl));
                cl->ctl = ctl;
                cl->fd = cfd;
                cl->pid = uc.pid;
                cl->uid = uc.uid;
                cl->role = role;
                cl->in.max = VARLINK_MESSAGE_MAX;
                _cleanup_error_ struct lv_error *e = NULL;
                if (loop_add_io(ctl->sv->loop, cfd, EPOLLIN, on_client, cl, &cl->source, &e) < 0) {
                        log_warning("control: %s", e->message);
                        close(cfd);
                        free(cl);
                        continue;
                }
                cl->next = ctl->clients;
                if (cl->next)
                        cl->next->prev = cl;
                ctl->clients = cl;
                ctl->n_clients++;
        }
        return 0;
}

static int group_parse(const char *s, gid_t *ret, struct lv_error **err)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (*s && !*end && !errno && v < (gid_t)-1) {
                *ret = (gid_t)v;
                return 0;
        }
        struct group *gr = getgrnam(s);
        if (!gr)
                return lv_error_setf(err, ENOENT, "control socket group '%s' does not exist", s);
        *ret = gr->gr_gid;
        return 0;
}

static void control_broadcast_event(void *data, enum guest_event event);
static void control_guest_ended(void *data);

/* The socket's groups: $LITEVIRT_CONTROL_GROUP / host.conf socket_group
 * (full access) and $LITEVIRT_CONTROL_READONLY_GROUP / socket_readonly_group. */
static int control_groups(struct supervisor *sv, bool *ret_has, gid_t *ret_group, bool *ret_has_ro,
                          gid_t *ret_ro, struct lv_error **err)
{
        const char *gname = getenv("LITEVIRT_CONTROL_GROUP");
        if (!gname || !*gname)
                gname = sv->socket_group;
        const char *ro_name = getenv("LITEVIRT_CONTROL_READONLY_GROUP");
        if (!ro_name || !*ro_name)
                ro_name = sv->socket_readonly_group;
        *ret_has = gname && *gname;
        *ret_has_ro = ro_name && *ro_name;
        int r;
        if (*ret_has && (r = group_parse(gname, ret_group, err)) < 0)
                return r;
        if (*ret_has_ro && (r = group_parse(ro_name, ret_ro, err)) < 0)
                return r;
        return 0;
}

int control_statedir_mode(struct supervisor *sv, mode_t *ret_mode, gid_t *ret_group,
                          struct lv_error **err)
{
        bool has_group, has_ro;
        gid_t group = 0, ro = 0;
        int r = control_groups(sv, &has_group, &group, &has_ro, &ro, err);
        if (r < 0)
                return r;
        /* Only search permission: its files are the owner's (status.json
         * 0600) and a socket needs write permission to be connected to. */
        *ret_mode = has_ro ? 0711 : has_group ? 0710 : 0700;
        *ret_group = has_group ? group : (gid_t)-1;
        return 0;
}

int control_new(struct supervisor *sv, const char *path, struct control **ret,
                struct lv_error **err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return lv_error_setf(err, ENAMETOOLONG, "control socket path '%s' is too long",
                                     path);
        strcpy(sa.sun_path, path);
        gid_t group = 0, ro_group = 0;
        bool has_group, has_ro_group;
        int r = control_groups(sv, &has_group, &group, &has_ro_group, &ro_group, err);
        if (r < 0)
                return r;

        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return lv_error_set(err, errno, "cannot create the control socket");
        (void)unlink(path);
        mode_t old = umask(0177);
        r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        if (r < 0)
                return lv_error_set(err, errno, "cannot bind the control socket '%s'", path);
        /* With a read-only group too, anyone may connect: the peer check
         * decides (and answers PermissionDenied). */
        if (has_group && (chown(path, (uid_t)-1, group) < 0 || chmod(path, 0660) < 0))
                return lv_error_set(err, errno, "cannot give control socket '%s' to group %u", path,
                                    (unsigned)group);
        if (has_ro_group && chmod(path, 0666) < 0)
                return lv_error_set(err, errno, "cannot open control socket '%s' to group %u", path,
                                    (unsigned)ro_group);
        if (listen(fd, 128) < 0)
                return lv_error_set(err, errno, "cannot listen on '%s'", path);

        struct control *ctl = xcalloc(1, sizeof(*ctl));
        ctl->sv = sv;
        ctl->path = xstrdup(path);
        ctl->has_group = has_group;
        ctl->group = group;
        ctl->has_ro_group = has_ro_group;
        ctl->ro_group = ro_group;
        r = loop_add_io(sv->loop, fd, EPOLLIN, on_accept, ctl, &ctl->source, err);
        if (r == 0 &&
            (r = loop_add_timer(sv->loop, 0, on_accept_timer, ctl, &ctl->accept_timer, err)) < 0)
                loop_source_free(ctl->source);
        if (r == 0 &&
            (r = loop_add_timer(sv->loop, 0, on_resume_timer, ctl, &ctl->resume_timer, err)) < 0) {
                loop_source_free(ctl->accept_timer);
                loop_source_free(ctl->source);
        }
        if (r < 0) {
                free(ctl->path);
                free(ctl);
                return r;
        }
        ctl->fd = TAKE_FD(fd);
        sv->observer = (struct supervisor_observer){
                .event = control_broadcast_event, .ended = control_guest_ended, .data = ctl};
        *ret = ctl;
        return 0;
}

void control_free(struct control *ctl)
{
        if (!ctl)
                return;
        if (ctl->sv->observer.data == ctl)
                ctl->sv->observer = (struct supervisor_observer){0};
        control_deferred_abort_all(ctl, "the supervisor is exiting");
        while (ctl->clients) {
                (void)client_flush(ctl->clients);
                control_client_drop(ctl->clients, "supervisor exiting");
        }
        graveyard_empty(ctl);
        loop_source_free(ctl->resume_timer);
        loop_source_free(ctl->accept_timer);
        loop_source_free(ctl->source);
        close(ctl->fd);
        free(ctl->path);
        free(ctl);
}

/* The supervisor's observer (see struct supervisor_observer). */
static void control_broadcast_event(void *data, enum guest_event event)
{
        struct control *ctl = data;
        struct supervisor *sv = ctl->sv;
        bool last = sv->g.state == GUEST_STATE_SHUTOFF;
        struct json_object *p = NULL;
        for (struct control_client *cl = ctl->clients, *next; cl; cl = next) {
                next = cl->next;
                if (cl->mode != CLIENT_EVENTS)
                        continue;
                if (!p)
                        p = control_event_json(sv, guest_event_to_string(event));
                if (control_reply_continues(cl, p, !last) < 0)
                        continue;
                if (last) {
                        cl->close_after_flush = true;
                        (void)loop_source_set_events(cl->source, client_events(cl), NULL);
                }
        }
        json_object_put(p);
}

static void control_guest_ended(void *data)
{
        struct control *ctl = data;
        _cleanup_free_ char *why = xasprintf("domain '%s' has ended", ctl->sv->g.name);
        control_deferred_abort_all(ctl, why);
        for (struct control_client *cl = ctl->clients, *next; cl; cl = next) {
                next = cl->next;
                if (cl->mode != CLIENT_WAITING_END)
                        continue;
                cl->mode = CLIENT_CALLS;
                if (control_reply(cl, NULL) < 0)
                        continue;
                cl->close_after_flush = true;
                (void)loop_source_set_events(cl->source, client_events(cl), NULL);
        }
}
