/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Taps via /dev/net/tun: TUNSETIFF creates the device in the caller's
 * current network namespace and hands back its queue fd. State, MAC,
 * alias and bridge are then set over netlink like for any link. */
#include "netns/netns.h"

#include <linux/if_tun.h>
#include <sys/ioctl.h>

int netns_tap_create(const char *name, unsigned flags, char ret_name[IFNAMSIZ], int *ret_fd,
                     struct lv_error **err)
{
        if (!name || !*name || strlen(name) >= IFNAMSIZ)
                return lv_error_setf(err, EINVAL, "invalid tap name '%s'", name ? name : "");
        /* "%d" is the kernel's numbering template; anything else must be a
         * valid interface name */
        if (!strstr(name, "%d")) {
                int r = netns_ifname_check(name, err);
                if (r < 0)
                        return r;
        }
        _cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return lv_error_set(err, errno, "creating tap '%s': opening /dev/net/tun", name);

        struct ifreq ifr = {0};
        unsigned short tun_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
        if (flags & NETNS_TAP_VNET_HDR)
                tun_flags |= IFF_VNET_HDR;
        ifr.ifr_flags = (short)tun_flags; /* IFF_TUN_EXCL is the sign bit */
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
                if (errno == EBUSY || errno == EEXIST)
                        return lv_error_setf(err, EEXIST,
                                             "creating tap '%s': a link of that name already "
                                             "exists",
                                             name);
                return lv_error_set(err, errno, "creating tap '%s'", name);
        }
        if ((flags & NETNS_TAP_PERSIST) && ioctl(fd, TUNSETPERSIST, 1) < 0)
                return lv_error_set(err, errno, "making tap '%s' persistent", ifr.ifr_name);
        snprintf(ret_name, IFNAMSIZ, "%s", ifr.ifr_name);
        *ret_fd = TAKE_FD(fd);
        return 0;
}
