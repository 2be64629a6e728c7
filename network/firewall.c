/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A network's firewall: one nftables table of litevirt's own per network
 * (inet family, named after the bridge), loaded and deleted as a whole
 * with the `nft` tool. Rules litevirt did not make are never touched.
 * The ruleset is built as text (pure, golden-tested). */
#include <arpa/inet.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>

#include "network/network.h"
#include "util/strbuf.h"

char *network_nft_table(const struct network_def *def)
{
        char *t = xasprintf("litevirt_%s", def->bridge ? def->bridge : def->name);
        for (char *p = t; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
                        *p = '_';
        return t;
}

/* "192.168.122.0/24" from the <ip> (host bits cleared). */
static char *ip_subnet(const struct network_ip *ip)
{
        int prefix = network_ip_prefix(ip), family = ip->ipv6 ? AF_INET6 : AF_INET;
        unsigned char a[16] = {0};
        char out[INET6_ADDRSTRLEN];
        if (inet_pton(family, ip->address, a) != 1)
                return xstrdup(ip->address);
        for (int bit = prefix; bit < (ip->ipv6 ? 128 : 32); bit++)
                a[bit / 8] &= (unsigned char)~(0x80 >> (bit % 8));
        inet_ntop(family, a, out, sizeof(out));
        return xasprintf("%s/%d", out, prefix);
}

char *network_nft_ruleset(const struct network_def *def)
{
        if (def->forward == NETWORK_FORWARD_OPEN || def->forward == NETWORK_FORWARD_BRIDGE)
                return NULL;
        _cleanup_free_ char *table = network_nft_table(def);
        _cleanup_free_ char *in_dev =
                def->forward_dev ? xasprintf(" iifname \"%s\"", def->forward_dev) : xstrdup("");
        _cleanup_free_ char *out_dev =
                def->forward_dev ? xasprintf(" oifname \"%s\"", def->forward_dev) : xstrdup("");
        const char *br = def->bridge;
        struct strbuf sb = {0}, nat = {0};
        strbuf_printf(&sb,
                      "table inet %s {\n"
                      "\tchain forward {\n"
                      "\t\ttype filter hook forward priority filter; policy accept;\n"
                      "\t\tiifname \"%s\" oifname \"%s\" accept\n",
                      table, br, br);
        for (int i = 0; i < def->n_ips && def->forward != NETWORK_FORWARD_NONE; i++) {
                const struct network_ip *ip = &def->ips[i];
                _cleanup_free_ char *net = ip_subnet(ip);
                const char *fam = ip->ipv6 ? "ip6" : "ip";
                /* out of the network: from its subnet only */
                strbuf_printf(&sb, "\t\tiifname \"%s\"%s %s saddr %s accept\n", br, out_dev, fam,
                              net);
                /* into the network: NAT lets in only replies (IPv6 is routed, as libvirt) */
                if (def->forward == NETWORK_FORWARD_NAT && !ip->ipv6) {
                        strbuf_printf(&sb,
                                      "\t\toifname \"%s\"%s %s daddr %s ct state "
                                      "established,related accept\n",
                                      br, in_dev, fam, net);
                        strbuf_printf(&nat,
                                      "\t\tip saddr %s ip daddr 224.0.0.0/24 return\n"
                                      "\t\tip saddr %s ip daddr 255.255.255.255 return\n",
                                      net, net);
                        if (def->nat_port_start)
                                strbuf_printf(&nat,
                                              "\t\tip saddr %s ip daddr != %s%s meta l4proto { "
                                              "tcp, udp } masquerade to :%u-%u\n",
                                              net, net, out_dev, def->nat_port_start,
                                              def->nat_port_end);
                        else
                                strbuf_printf(&nat,
                                              "\t\tip saddr %s ip daddr != %s%s meta l4proto { "
                                              "tcp, udp } masquerade to :1024-65535\n",
                                              net, net, out_dev);
                        strbuf_printf(&nat, "\t\tip saddr %s ip daddr != %s%s masquerade\n", net,
                                      net, out_dev);
                } else {
                        strbuf_printf(&sb, "\t\toifname \"%s\"%s %s daddr %s accept\n", br, in_dev,
                                      fam, net);
                }
        }
        strbuf_printf(&sb, "\t\tiifname \"%s\" reject\n\t\toifname \"%s\" reject\n\t}\n", br, br);
        if (nat.len) {
                strbuf_append(&sb,
                              "\tchain postrouting {\n"
                              "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
                strbuf_append(&sb, nat.buf);
                strbuf_append(&sb, "\t}\n");
        }
        strbuf_reset(&nat);
        strbuf_append(&sb, "}\n");
        return strbuf_steal(&sb);
}

/* Run `nft ARGS` with input on its stdin; its stderr becomes the error. */
static int nft_run(char *const *argv, const char *input, struct lv_error **err)
{
        int in[2], errp[2];
        if (pipe2(in, O_CLOEXEC) < 0)
                return lv_error_set(err, errno, "cannot create a pipe");
        if (pipe2(errp, O_CLOEXEC) < 0) {
                int e = errno;
                close(in[0]);
                close(in[1]);
                return lv_error_set(err, e, "cannot create a pipe");
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
        pid_t pid;
        const char *nft = getenv("LITEVIRT_NFT");
        int r = posix_spawnp(&pid, nft && *nft ? nft : "nft", &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        close(errp[1]);
        if (r != 0) {
                close(in[1]);
                close(errp[0]);
                return lv_error_set(err, r, "cannot run 'nft'");
        }
        size_t len = input ? strlen(input) : 0, off = 0;
        while (off < len) {
                ssize_t w = write(in[1], input + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        break;
                off += (size_t)w;
        }
        close(in[1]);
        char msg[4096];
        size_t mlen = 0;
        for (;;) {
                ssize_t n = read(errp[0], msg + mlen, sizeof(msg) - 1 - mlen);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                mlen += (size_t)n;
                if (mlen == sizeof(msg) - 1)
                        break;
        }
        close(errp[0]);
        msg[mlen] = '\0';
        while (mlen > 0 && (msg[mlen - 1] == '\n' || msg[mlen - 1] == ' '))
                msg[--mlen] = '\0';
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        return lv_error_setf(err, EIO, "nft %s failed: %s", argv[1], mlen ? msg : "(no message)");
}

int network_nft_apply(const char *script, struct lv_error **err)
{
        char *argv[] = {"nft", "-f", "-", NULL};
        return nft_run(argv, script, err);
}

int network_nft_delete(const char *table, struct lv_error **err)
{
        _cleanup_error_ struct lv_error *e = NULL;
        char *argv[] = {"nft", "delete", "table", "inet", (char *)table, NULL};
        int r = nft_run(argv, NULL, &e);
        if (r < 0 && e && strstr(e->message, "No such file or directory"))
                return 0;
        if (r < 0 && err && !*err)
                *err = TAKE_PTR(e);
        return r;
}
