/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network supervisor's control socket: varlink on
 * $NETRUNDIR/NAME/control.sock, interface io.litevirt.Network
 * (GetInfo, GetLeases, Update, Stop). Replies are small; a client that sends
 * more than one message's worth, garbage, or does not read is dropped. Only root (the socket is
 * 0600) talks to it. */
#include <json-c/json.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "network/control.h"
#include "lib/varlink.h"
#include "util/fileio.h"
#include "util/log.h"

#define IFACE "io.litevirt.Network"

struct netctl_client {
        struct netctl *ctl;
        int fd;
        struct loop_source *src;
        struct varlink_inbuf in;
        struct netctl_client *next;
};

static void client_free(struct netctl_client *cl)
{
        for (struct netctl_client **p = &cl->ctl->clients; *p; p = &(*p)->next)
                if (*p == cl) {
                        *p = cl->next;
                        break;
                }
        loop_source_free(cl->src);
        close(cl->fd);
        varlink_inbuf_clear(&cl->in);
        free(cl);
}

static void send_msg(struct netctl_client *cl, char *msg, size_t len)
{
        size_t off = 0;
        while (off < len) {
                ssize_t n = send(cl->fd, msg + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break; /* a client that does not read loses its reply */
                off += (size_t)n;
        }
        free(msg);
}

static void reply(struct netctl_client *cl, struct json_object *params)
{
        size_t len;
        char *msg = varlink_reply_format(params, false, &len);
        send_msg(cl, msg, len);
        json_object_put(params);
}

static void reply_error(struct netctl_client *cl, const char *error, const char *message)
{
        size_t len = 0;
        char *msg = varlink_error_format_message(error, message, &len);
        send_msg(cl, msg, len);
}

static struct json_object *leases_json(const struct netctl *ctl)
{
        struct json_object *arr = json_object_new_array();
        _cleanup_free_ char *path = xasprintf("%s/%s.leases", ctl->statedir, ctl->def->name);
        _cleanup_free_ char *data = NULL;
        _cleanup_error_ struct lv_error *e = NULL;
        if (file_read_bounded(path, 4 * 1024 * 1024, &data, NULL, &e) < 0)
                return arr;
        struct network_lease *l = NULL;
        size_t n = 0;
        network_leases_parse(data, &l, &n);
        for (size_t i = 0; i < n; i++) {
                struct json_object *o = json_object_new_object();
                bool v6 = strchr(l[i].ip, ':') != NULL;
                int prefix = 0;
                for (int k = 0; k < ctl->def->n_ips; k++)
                        if (ctl->def->ips[k].ipv6 == v6)
                                prefix = network_ip_prefix(&ctl->def->ips[k]);
                json_object_object_add(o, "expirytime", json_object_new_int64(l[i].expiry));
                json_object_object_add(o, "type", json_object_new_string(v6 ? "ipv6" : "ipv4"));
                if (l[i].mac)
                        json_object_object_add(o, "mac", json_object_new_string(l[i].mac));
                json_object_object_add(o, "ipaddr", json_object_new_string(l[i].ip));
                json_object_object_add(o, "prefix", json_object_new_int(prefix));
                if (l[i].hostname)
                        json_object_object_add(o, "hostname",
                                               json_object_new_string(l[i].hostname));
                if (l[i].clientid)
                        json_object_object_add(o, "clientid",
                                               json_object_new_string(l[i].clientid));
                json_object_array_add(arr, o);
        }
        network_leases_free(l, n);
        return arr;
}

static const char *str_param(const struct varlink_call *call, const char *key)
{
        struct json_object *v;
        return json_object_object_get_ex(call->parameters, key, &v) &&
                               json_object_is_type(v, json_type_string)
                       ? json_object_get_string(v)
                       : NULL;
}

/* Update {command, section, xml, parentIndex?}: net-update --live */
static void update(struct netctl_client *cl, const struct varlink_call *call)
{
        const char *command = str_param(call, "command"), *section = str_param(call, "section"),
                   *xml = str_param(call, "xml");
        struct json_object *v;
        int parent_index = -1;
        if (json_object_object_get_ex(call->parameters, "parentIndex", &v)) {
                if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < -1 ||
                    json_object_get_int64(v) > 1024) {
                        reply_error(cl, "org.varlink.service.InvalidParameter", "parentIndex");
                        return;
                }
                parent_index = json_object_get_int(v);
        }
        const char *missing = !command ? "command" : !section ? "section" : !xml ? "xml" : NULL;
        if (missing) {
                reply_error(cl, "org.varlink.service.InvalidParameter", missing);
                return;
        }
        _cleanup_error_ struct lv_error *e = NULL;
        if (cl->ctl->update(cl->ctl, command, section, xml, parent_index, &e) < 0)
                reply_error(cl, IFACE ".Failed", e->message);
        else
                reply(cl, json_object_new_object());
}

static void dispatch(struct netctl_client *cl, const struct varlink_call *call)
{
        struct netctl *ctl = cl->ctl;
        if (streq(call->method, IFACE ".GetInfo")) {
                char uuid[37];
                domain_uuid_format(ctl->def->uuid, uuid);
                struct json_object *p = json_object_new_object();
                json_object_object_add(p, "name", json_object_new_string(ctl->def->name));
                json_object_object_add(p, "uuid", json_object_new_string(uuid));
                if (ctl->def->bridge)
                        json_object_object_add(p, "bridge",
                                               json_object_new_string(ctl->def->bridge));
                json_object_object_add(p, "pid", json_object_new_int(getpid()));
                json_object_object_add(p, "dnsmasq_pid", json_object_new_int(*ctl->dnsmasq_pid));
                reply(cl, p);
        } else if (streq(call->method, IFACE ".GetLeases")) {
                struct json_object *p = json_object_new_object();
                json_object_object_add(p, "leases", leases_json(ctl));
                reply(cl, p);
        } else if (streq(call->method, IFACE ".Update")) {
                update(cl, call);
        } else if (streq(call->method, IFACE ".Stop")) {
                log_info("stop requested over the control socket");
                ctl->stop(ctl);
                reply(cl, json_object_new_object());
        } else {
                struct json_object *p = json_object_new_object();
                json_object_object_add(p, "method", json_object_new_string(call->method));
                size_t len = 0;
                char *msg = varlink_error_format("org.varlink.service.MethodNotFound", p, &len);
                send_msg(cl, msg, len);
                json_object_put(p);
        }
}

static int on_client(struct loop_source *s, int fd, uint32_t revents, void *data)
{
        struct netctl_client *cl = data;
        size_t space;
        char *p = varlink_inbuf_space(&cl->in, &space);
        ssize_t n = space ? read(fd, p, space) : -1;
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                client_free(cl);
                return 0;
        }
        varlink_inbuf_commit(&cl->in, (size_t)n);
        const char *msg;
        size_t len;
        int r;
        while ((r = varlink_inbuf_next(&cl->in, &msg, &len)) == 1) {
                struct varlink_call call = {0};
                _cleanup_error_ struct lv_error *e = NULL;
                if (varlink_call_parse(msg, len, &call, &e) < 0) {
                        reply_error(cl, "org.varlink.service.InvalidParameter", e->message);
                        client_free(cl);
                        return 0;
                }
                dispatch(cl, &call);
                varlink_call_clear(&call);
        }
        if (r < 0)
                client_free(cl);
        return 0;
}

static int on_accept(struct loop_source *s, int fd, uint32_t revents, void *data)
{
        struct netctl *ctl = data;
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0)
                return 0;
        struct netctl_client *cl = xcalloc(1, sizeof(*cl));
        cl->ctl = ctl;
        cl->fd = cfd;
        _cleanup_error_ struct lv_error *e = NULL;
        if (loop_add_io(ctl->loop, cfd, EPOLLIN, on_client, cl, &cl->src, &e) < 0) {
                log_warning("control client: %s", e->message);
                close(cfd);
                free(cl);
                return 0;
        }
        cl->next = ctl->clients;
        ctl->clients = cl;
        return 0;
}

int netctl_open(struct netctl *ctl, struct lv_error **err)
{
        _cleanup_free_ char *path = xasprintf("%s/control.sock", ctl->statedir);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return lv_error_setf(err, ENAMETOOLONG, "control socket path '%s' is too long",
                                     path);
        strcpy(sa.sun_path, path);
        (void)unlink(path);
        ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (ctl->fd < 0)
                return lv_error_set(err, errno, "cannot create a socket");
        mode_t old = umask(0177);
        int r = bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        if (r < 0 || listen(ctl->fd, 16) < 0)
                return lv_error_set(err, errno, "listening on '%s'", path);
        return loop_add_io(ctl->loop, ctl->fd, EPOLLIN, on_accept, ctl, &ctl->src, err);
}

void netctl_close(struct netctl *ctl)
{
        while (ctl->clients)
                client_free(ctl->clients);
        loop_source_free(ctl->src);
        ctl->src = NULL;
        if (ctl->fd >= 0)
                close(ctl->fd);
        ctl->fd = -1;
}
