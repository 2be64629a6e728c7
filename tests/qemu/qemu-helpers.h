/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared by the QEMU tests: temp dirs, spawning and reaping real
 * qemu-system-x86_64 processes. Everything a helper creates is removed by
 * the matching cleanup, also when a test fails. */

#include <sys/types.h>

#include "conf/domain.h"
#include "qemu/command.h"
#include "qemu/qmp.h"

#define QT_SKIP 77

/* The emulator, or NULL when it is not installed. */
const char *qt_qemu_binary(void);
/* mkdtemp under /tmp; aborts on failure. */
char *qt_tmpdir(const char *tag);
void qt_rmrf(const char *path);
/* fork+exec argv with stdout/stderr to log (NULL: /dev/null); new process
 * group so that it gets no terminal signals. */
pid_t qt_spawn(char *const *argv, const char *log);
/* SIGKILL and reap (no-op for pid <= 0). */
void qt_kill(pid_t pid);
/* Wait (bounded) for the process to exit by itself; 0 when it did, with
 * *status; -ETIMEDOUT otherwise. */
int qt_wait_exit(pid_t pid, int timeout_ms, int *status);
/* Connect to QEMU's QMP socket; fails early when the process died. */
int qt_qmp_connect(const char *path, pid_t pid, struct qmp **ret, struct lv_error **err);
/* Run a command, return its exit status (-1 when it could not run). */
int qt_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The test guest (tests/qemu/build-guest.sh): fills kernel/initrd paths or
 * returns QT_SKIP. */
int qt_test_guest(char **kernel, char **initrd);
/* Split libvirt's .args text (a shell command line: VAR=x ... /usr/bin/qemu
 * -opt 'quoted' \<newline> ...) into argv, dropping the environment. */
char **qt_split_libvirt_args(const char *text);
#define QT_MAX_GRAPHICS QEMU_PREVIEW_MAX_GRAPHICS
/* The ports of the first QT_MAX_GRAPHICS <graphics>: the definition's, and
 * for autoport VNC 5900 + i, SPICE 5910 + i. */
void qt_graphics_ports(const struct domain_def *def, struct qemu_graphics_ports *ports);
/* litevirt's command line for def with the host side fixed (the golden
 * tests): tap fds 100 + i for bridge/network interfaces, autoport VNC
 * 5900 + i, SPICE 5910 + i, QMP at qmp_path. */
/* The definition TEXT (shown as SHOWN) as lvsh define stores it
 * (qemu_definition_prepare) builds, with qt_command_build_fixed (with
 * spice_tls: qt_command_build_libvirt), the command line OURS of the definition as given: the same
 * options, devices and places but what libvirt's implicit <audio id='1'> adds (its -audiodev, VNC's
 * audiodev=). Else false and *why says how not. */
bool qt_prepared_builds_same(const char *text, const char *shown, const char *qmp_path,
                             bool spice_tls, char *const *ours, char **why);
int qt_command_build_fixed(const struct domain_def *def, const char *qmp_path, char ***ret_argv,
                           struct lv_error **err);
/* The same with SPICE TLS on, as libvirt's test suite has it (its vectors). */
int qt_command_build_libvirt(const struct domain_def *def, const char *qmp_path, char ***ret_argv,
                             struct lv_error **err);
