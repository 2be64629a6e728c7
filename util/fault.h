/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Fault injection for tests (docs/robustness.md): fault_point("NAME")
 * kills the calling process with SIGKILL when the environment variable
 * LITEVIRT_FAULT equals NAME, so a test can stop a supervisor at an exact
 * step of its work (e.g. "lxc-after-cgroup") and check what is left.
 * LITEVIRT_FAULT=NAME:stop stops the process there (SIGSTOP) instead; it
 * goes on when sent SIGCONT. LITEVIRT_FAULT=NAME:fail makes fault_point
 * return -EIO: the caller then fails as the point says (an injected error,
 * a child killed). Otherwise it returns 0. Always compiled in; the
 * environment is read once, at the first call.
 */

int fault_point(const char *name);
