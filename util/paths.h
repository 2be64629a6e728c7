/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where litevirt keeps things. Each is taken from the environment when set
 * (so tests run in temporary directories), else the built-in default:
 *   LITEVIRT_CONFDIR   /etc/litevirt          (host.conf)
 *   LITEVIRT_GUESTDIR  $CONFDIR/guests        (NAME.xml definitions)
 *   LITEVIRT_RUNDIR    /run/litevirt          (NAME/ state directories)
 *   LITEVIRT_LOGDIR    /var/log/litevirt      (NAME.log, kept after the guest stops)
 *   LITEVIRT_NETWORKDIR $CONFDIR/networks     (NAME.xml network definitions,
 *                                             autostart/NAME links)
 *   LITEVIRT_NETRUNDIR /run/litevirt-net      (NAME/ running networks; not under
 *                                             RUNDIR, where every directory is a guest)
 * The returned strings are static; do not free. */
const char *paths_confdir(void);
const char *paths_guestdir(void);
const char *paths_rundir(void);
const char *paths_logdir(void);
/* Newly allocated: $GUESTDIR/NAME.xml, $RUNDIR/NAME, $RUNDIR/NAME/FILE */
char *paths_guest_xml(const char *name);
char *paths_state_dir(const char *name);
/* How the guest last ended, kept once its state directory is gone
 * (RUNDIR/.ended/NAME: {"state":"shutoff","reason":"migrated"}). */
char *paths_guest_ended(const char *name);
char *paths_state_file(const char *name, const char *file);
/* $RUNDIR/.models/NAME.json: the model of NAME's stored definition, kept
 * so that a start need not parse the XML (conf/domain_json.h). */
char *paths_model_cache(const char *name);
const char *paths_networkdir(void);
const char *paths_netrundir(void);
/* Newly allocated: $NETWORKDIR/NAME.xml, $NETRUNDIR/NAME, $NETRUNDIR/NAME/FILE */
char *paths_network_xml(const char *name);
char *paths_network_state_dir(const char *name);
char *paths_network_state_file(const char *name, const char *file);
/* Newly allocated: $LOGDIR/NAME.log */
char *paths_guest_log(const char *name);
/* Newly allocated: $LOGDIR/NAME.console.log (what the guest's console printed) */
char *paths_guest_console_log(const char *name);
/* LITEVIRT_SAVEDIR (/var/lib/litevirt/save): managed save images; newly
 * allocated: $SAVEDIR/NAME.save (lvsh managedsave, docs/save.md). */
const char *paths_savedir(void);
char *paths_managed_save(const char *name);
/* $LITEVIRT_NVRAMDIR, default /var/lib/litevirt/nvram: the QEMU guests'
 * UEFI variable stores (NAME_VARS.fd) */
const char *paths_nvramdir(void);

/* Newly allocated: $GUESTDIR/NAME.snapshots, a guest's snapshot metadata
 * (SNAP.json) and full snapshots' memory (SNAP.mem) (docs/snapshot.md). */
char *paths_snapshot_dir(const char *name);
/* Newly allocated, as libvirt names external snapshots' overlays: the
 * image's name with its extension replaced by SUFFIX, beside it
 * (/v/disk.qcow2 -> /v/disk.SUFFIX). */
char *paths_snapshot_overlay(const char *image, const char *suffix);
