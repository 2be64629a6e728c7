/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the network values a domain definition hands to netns/
 * before anything is made (MAC, link names, addresses with prefix and
 * peer, routes). Each input line is "KIND VALUE..." and goes through the
 * same checks netns_guest_check uses. Every refusal must carry a message;
 * an accepted MAC must format back to itself (lower case). No netlink. */
#include <stdint.h>

#include "netns/netns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int r, struct lv_error *err)
{
        if (r < 0 && (!err || !err->message || !*err->message))
                abort();
        if (r >= 0 && err)
                abort();
        lv_error_free(err);
}

static void one_line(char *line)
{
        char *save = NULL;
        char *kind = strtok_r(line, " ", &save);
        char *a = strtok_r(NULL, " ", &save);
        char *b = strtok_r(NULL, " ", &save);
        char *c = strtok_r(NULL, " ", &save);
        struct lv_error *err = NULL;
        if (!kind)
                return;
        if (streq(kind, "mac")) {
                unsigned char mac[NETNS_MAC_LEN];
                int r = netns_mac_parse(a, mac, &err);
                check(r, err);
                if (r == 0) {
                        char s[NETNS_MAC_STRLEN];
                        netns_mac_format(mac, s);
                        if (strcasecmp(s, a) != 0 || (mac[0] & 1))
                                abort();
                }
        } else if (streq(kind, "name")) {
                int r = netns_ifname_check(a, &err);
                check(r, err);
                if (r == 0 && (strlen(a) >= IFNAMSIZ || strchr(a, '/')))
                        abort();
        } else if (streq(kind, "addr")) {
                int family = 0;
                int r = netns_addr_validate(a, b ? atoi(b) : -1, c, &family, &err);
                check(r, err);
                if (r >= 0 && ((family == AF_INET && r > 32) || r > 128))
                        abort();
        } else if (streq(kind, "route")) {
                struct netns_route rt = {.prefix = b ? atoi(b) : -1, .metric = -1};
                snprintf(rt.dst, sizeof(rt.dst), "%s", a ? a : "");
                snprintf(rt.gateway, sizeof(rt.gateway), "%s", c ? c : "");
                int r = netns_route_validate(&rt, &err);
                check(r, err);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 65536)
                return 0;
        char *buf = xmalloc(size + 1);
        memcpy(buf, data, size);
        buf[size] = '\0';
        char *save = NULL;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                one_line(line);
        free(buf);
        return 0;
}
