/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Disk images outside a running QEMU (qemu/image.c): a qcow2 overlay made
 * with qemu-img, and the files a qcow2 image's backing chain names. Used
 * by the driver (snapshots, confinement) and by lvsh (snapshot-revert). */

#include <stdbool.h>

#include "util/error.h"

/* qemu-img create -f qcow2 -F FMT -b BACKING OVERLAY: with size > 0 as
 * `-u ... SIZE` (BACKING not opened: a running QEMU holds it), with 0 the
 * size is BACKING's. qemu-img's own words on failure. */
int qemu_image_overlay_create(const char *overlay, const char *backing, const char *fmt,
                              unsigned long long size, struct lv_error **err);

/* qemu-img commit: OVERLAY's data written into the image right under it
 * (OVERLAY left as it was: -d). Neither may be in use. */
int qemu_image_commit(const char *overlay, struct lv_error **err);
/* qemu-img rebase -u: IMAGE's header names BACKING (format FMT) as its
 * backing file; no data is read or written. */
int qemu_image_rebase_unsafe(const char *image, const char *backing, const char *fmt,
                             struct lv_error **err);

/* The files under IMAGE in its backing chain, nearest first, read from
 * each qcow2 header (relative names resolved against the image's
 * directory): a NULL-terminated list, empty for a raw image or a qcow2
 * without a backing file. At most 64 levels; a file that cannot be read
 * ends the list there (QEMU names it when it opens the chain). */
char **qemu_image_backing_chain(const char *image);

/* Whether path is a qcow2 image (its magic), else it is taken for raw. */
bool qemu_image_is_qcow2(const char *path);
