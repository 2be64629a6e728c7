/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The names of io.litevirt.Guest's methods and errors, in one place: the
 * supervisor's methods[] table (supervisor/control-methods.c), the
 * client library and lvsh use these, never string literals of their own.
 * The interface itself is supervisor/io.litevirt.Guest.varlink. */

#define LV_IFACE "io.litevirt.Guest"

#define LV_METHOD_INFO       LV_IFACE ".Info"
#define LV_METHOD_STATE      LV_IFACE ".State"
#define LV_METHOD_SHUTDOWN   LV_IFACE ".Shutdown"
#define LV_METHOD_DESTROY    LV_IFACE ".Destroy"
#define LV_METHOD_REBOOT     LV_IFACE ".Reboot"
#define LV_METHOD_SUSPEND    LV_IFACE ".Suspend"
#define LV_METHOD_RESUME     LV_IFACE ".Resume"
#define LV_METHOD_SET_MEMORY LV_IFACE ".SetMemory"
#define LV_METHOD_STATS      LV_IFACE ".Stats"
#define LV_METHOD_GET_XML    LV_IFACE ".GetXML"
#define LV_METHOD_MIGRATE    LV_IFACE ".Migrate"
#define LV_METHOD_JOB_INFO   LV_IFACE ".JobInfo"
#define LV_METHOD_JOB_ABORT  LV_IFACE ".JobAbort"
#define LV_METHOD_CONSOLE    LV_IFACE ".Console"
#define LV_METHOD_EVENTS     LV_IFACE ".Events"
#define LV_METHOD_SAVE       LV_IFACE ".Save"
#define LV_METHOD_AGENT      LV_IFACE ".AgentCommand"
#define LV_METHOD_SNAPSHOT   LV_IFACE ".SnapshotCreate"

#define LV_METHOD_MIGRATE_POSTCOPY LV_IFACE ".MigratePostcopy"
/* the migration parameters (supervisor/control-migparams.c) */
#define LV_METHOD_MIGRATE_SET_SPEED        LV_IFACE ".MigrateSetSpeed"
#define LV_METHOD_MIGRATE_GET_SPEED        LV_IFACE ".MigrateGetSpeed"
#define LV_METHOD_MIGRATE_SET_MAX_DOWNTIME LV_IFACE ".MigrateSetMaxDowntime"
#define LV_METHOD_MIGRATE_GET_MAX_DOWNTIME LV_IFACE ".MigrateGetMaxDowntime"
#define LV_METHOD_ATTACH_DEVICE            LV_IFACE ".AttachDevice"
#define LV_METHOD_DETACH_DEVICE            LV_IFACE ".DetachDevice"
#define LV_METHOD_SCREENSHOT               LV_IFACE ".Screenshot"
#define LV_METHOD_SEND_KEY                 LV_IFACE ".SendKey"
#define LV_METHOD_GET_VCPUS                LV_IFACE ".GetVcpus"
#define LV_METHOD_SET_VCPUS                LV_IFACE ".SetVcpus"
#define LV_METHOD_BLOCK_JOB_START          LV_IFACE ".BlockJobStart"
#define LV_METHOD_BLOCK_JOB_INFO           LV_IFACE ".BlockJobInfo"
#define LV_METHOD_BLOCK_JOB_END            LV_IFACE ".BlockJobEnd"
#define LV_METHOD_BLOCK_JOB_SET_SPEED      LV_IFACE ".BlockJobSetSpeed"

#define LV_ERROR_NO_SUCH_GUEST     LV_IFACE ".NoSuchGuest"
#define LV_ERROR_INVALID_STATE     LV_IFACE ".InvalidState"
#define LV_ERROR_PERMISSION_DENIED LV_IFACE ".PermissionDenied"
#define LV_ERROR_NOT_SUPPORTED     LV_IFACE ".NotSupported"
#define LV_ERROR_CONSOLE_BUSY      LV_IFACE ".ConsoleBusy"
#define LV_ERROR_NO_CONSOLE        LV_IFACE ".NoConsole"
#define LV_ERROR_FAILED            LV_IFACE ".Failed"

/* The same interface under the name the varlink grammar allows (lower
 * case: `[a-z]([-]*[a-z0-9])*(\.[a-z0-9]([-]*[a-z0-9])*)+`, as varlink-go's
 * and python-varlink's parsers and generators take it): the supervisor
 * answers its methods too, and io.litevirt.guest.varlink is installed for
 * generators (docs/protocol.md). */
#define LV_IFACE_SPEC "io.litevirt.guest"
