/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "util/error.h"

struct json_object;

/* The DHCP leases of an active network, from its supervisor: an array of
 * {expirytime, type, mac, ipaddr, prefix, hostname, clientid} (a new
 * reference). "network 'NAME' is not active" when it does not run. */
int lvsh_network_leases(const char *name, struct json_object **ret, struct lv_error **err);
