/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one notion of a guest's autostart (docs/supervisor.md, "Autostart").
 * On a host booted with systemd it is litevirt@NAME.service being enabled
 * (`systemctl enable` links it into multi-user.target.wants); elsewhere the
 * link $CONFDIR/autostart/NAME.xml (as libvirt keeps it), which the boot-time
 * starter packaging/litevirt-guests reads. `lvsh autostart`, `lvsh dominfo`,
 * `lvsh list --autostart` and the supervisor's Info all use these. */

#include <stdbool.h>

#include "util/error.h"

/* systemd is PID 1 (sd_booted(3): /run/systemd/system exists);
 * $LITEVIRT_SYSTEMD_DIR, when set, stands for /run/systemd/system (tests). */
bool autostart_systemd(void);
bool autostart_enabled(const char *name);
/* Enable or disable. On systemd runs `systemctl enable|disable --quiet
 * litevirt@NAME.service` (a name systemd would have to escape is refused). */
int autostart_set(const char *name, bool enable, struct lv_error **err);
