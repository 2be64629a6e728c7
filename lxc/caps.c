/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Capabilities of the container's init, with libcap-ng (the only file
 * that speaks its conventions). See docs/lxc.md for the default drop set.
 *
 *   policy='default'  drop the default set, except those turned on;
 *                     also drop those turned off
 *   policy='allow'    keep everything except those turned off
 *   policy='deny'     drop everything except those turned on
 *
 * A dropped capability leaves every set (effective, permitted,
 * inheritable, ambient) and the bounding set, so neither init nor
 * anything it execs can regain it. */
#include "lxc/lxc.h"

#include <cap-ng.h>
#include <sys/prctl.h>

/* libvirt's LXC default (lxcContainerDropCapabilities) plus sys_rawio.
 * sys_boot is kept: reboot(2) in a PID namespace only ends that
 * namespace's init, which the driver maps to a guest reboot/poweroff. */
const char *const lxc_caps_default_drop[] = {
        "sys_module",    "sys_time",  "sys_rawio",    "mknod",
        "audit_control", "mac_admin", "mac_override", NULL,
};

static int last_cap(void)
{
        static int last = -1;
        if (last < 0) {
                char buf[16] = "";
                _cleanup_close_ int fd =
                        open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
                if (fd >= 0 && read(fd, buf, sizeof buf - 1) > 0)
                        last = atoi(buf);
                if (last <= 0 || last > 63)
                        last = CAP_LAST_CAP;
        }
        return last;
}

static int cap_from_name(const char *name, struct lv_error **err)
{
        int c = name ? capng_name_to_capability(name) : -1;
        if (c < 0 || c > 63)
                return lv_error_setf(err, EINVAL,
                                     "<features><capabilities>: unknown capability '%s'",
                                     name ? name : "");
        return c;
}

int lxc_caps_compute(const struct domain_def *def, uint64_t *ret_drop, struct lv_error **err)
{
        const struct domain_features *f = &def->features;
        enum domain_caps_policy policy = f->has_caps ? f->caps_policy : DOMAIN_CAPS_POLICY_DEFAULT;
        uint64_t on = 0, off = 0, drop = 0;

        for (int i = 0; i < f->n_caps; i++) {
                int c = cap_from_name(f->caps[i].name, err);
                if (c < 0)
                        return c;
                if (f->caps[i].on)
                        on |= UINT64_C(1) << c;
                else
                        off |= UINT64_C(1) << c;
        }
        switch (policy) {
        case DOMAIN_CAPS_POLICY_DEFAULT:
                for (const char *const *n = lxc_caps_default_drop; *n; n++) {
                        int c = cap_from_name(*n, err);
                        if (c < 0)
                                return c;
                        drop |= UINT64_C(1) << c;
                }
                drop = (drop & ~on) | off;
                break;
        case DOMAIN_CAPS_POLICY_ALLOW:
                drop = off;
                break;
        case DOMAIN_CAPS_POLICY_DENY:
                drop = ~on;
                break;
        default:
                return lv_error_setf(err, EINVAL, "<features><capabilities>: unknown policy %d",
                                     (int)policy);
        }
        *ret_drop = drop;
        return 0;
}

static int caps_error(struct lv_error **err, int r, const char *what)
{
        /* libcap-ng returns -1..-n without errno for its own failures. */
        return lv_error_set(err, errno ? errno : EPERM, "capabilities: %s (libcap-ng: %d)", what,
                            r);
}

int lxc_caps_drop_bounding(uint64_t drop, struct lv_error **err)
{
        capng_clear(CAPNG_SELECT_BOTH);
        if (capng_get_caps_process() < 0)
                return lv_error_set(err, errno, "capabilities: reading the process's capabilities");
        for (int c = 0; c <= last_cap(); c++)
                if (drop & (UINT64_C(1) << c))
                        (void)capng_update(CAPNG_DROP, CAPNG_BOUNDING_SET, (unsigned)c);
        errno = 0;
        int r = capng_apply(CAPNG_SELECT_BOUNDS);
        if (r < 0)
                return caps_error(err, r, "dropping from the bounding set");
        return 0;
}

int lxc_caps_drop_process(uint64_t drop, struct lv_error **err)
{
        capng_clear(CAPNG_SELECT_BOTH);
        if (capng_get_caps_process() < 0)
                return lv_error_set(err, errno, "capabilities: reading the process's capabilities");
        for (int c = 0; c <= last_cap(); c++)
                if (drop & (UINT64_C(1) << c))
                        (void)capng_update(CAPNG_DROP,
                                           CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE,
                                           (unsigned)c);
        errno = 0;
        int r = capng_apply(CAPNG_SELECT_CAPS);
        if (r < 0)
                return caps_error(err, r, "dropping capabilities");
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return lv_error_set(err, errno, "capabilities: clearing the ambient set");
        return 0;
}
