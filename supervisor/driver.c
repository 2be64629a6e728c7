/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Picking the driver for a definition. supervisor/meson.build defines
 * HAVE_<X>_DRIVER for each driver folder that builds one (a weak
 * reference would not pull the driver out of its static library). */
#include "supervisor/supervisor.h"

#ifdef HAVE_LXC_DRIVER
#define LXC_DRIVER (&lxc_driver)
#else
#define LXC_DRIVER NULL
#endif
#ifdef HAVE_QEMU_DRIVER
extern const struct lv_driver qemu_driver;
#define QEMU_DRIVER (&qemu_driver)
#else
#define QEMU_DRIVER NULL
#endif
#ifdef HAVE_XEN_DRIVER
extern const struct lv_driver xen_driver;
#define XEN_DRIVER (&xen_driver)
#else
#define XEN_DRIVER NULL
#endif

const struct lv_driver *driver_for_type(enum domain_type type, struct lv_error **err)
{
        const struct lv_driver *d = NULL;
        switch (type) {
        case DOMAIN_TYPE_LXC:
                d = LXC_DRIVER;
                break;
        case DOMAIN_TYPE_QEMU:
        case DOMAIN_TYPE_KVM:
                d = QEMU_DRIVER;
                break;
        case DOMAIN_TYPE_XEN:
                d = XEN_DRIVER;
                break;
        case DOMAIN_TYPE_LAST:
                break;
        }
        if (!d) {
                const char *name = domain_type_to_string(type);
                lv_error_setf(err, LV_ERR_UNSUPPORTED,
                              "litevirt was built without the driver for domain type '%s'",
                              name ? name : "unknown");
        }
        return d;
}
