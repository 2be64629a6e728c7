/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "qemu/command.h"

/* What EMULATOR offers guest CPUs under TCG (kvm: KVM): asked of QEMU
 * itself (-machine none, QMP query-cpu-definitions and
 * query-cpu-model-expansion of 'max'), as libvirt probes its
 * capabilities, and cached in $RUNDIR/.qemu-cpu/ while the binary is the
 * same file (device, inode, size, mtime), so QEMU runs once per host
 * boot. */
int qemu_cpu_caps_get(const char *emulator, bool kvm, struct qemu_cpu_caps **ret,
                      struct lv_error **err);
