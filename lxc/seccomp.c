/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's seccomp filter, with libseccomp (the only file that
 * speaks its conventions). Compiled in the supervisor before clone, loaded
 * by the child just before it gives up its privileges and execs init, as
 * crun does. Denied calls fail with EPERM; everything else is allowed.
 * docs/lxc.md explains each entry and what is deliberately not here. */
#include "lxc/lxc.h"

#include <seccomp.h>
#include <sys/mount.h>

const char *const lxc_seccomp_denied[] = {
        /* kernel modules */
        "init_module",
        "finit_module",
        "delete_module",
        "create_module",
        "query_module",
        "get_kernel_syms",
        /* replacing the kernel */
        "kexec_load",
        "kexec_file_load",
        /* escaping bind mounts through file handles */
        "open_by_handle_at",
        /* the kernel keyring is not namespaced */
        "add_key",
        "keyctl",
        "request_key",
        /* kernel-wide facilities, not namespaced */
        "bpf",
        "perf_event_open",
        "lookup_dcookie",
        "userfaultfd",
        "swapon",
        "swapoff",
        "acct",
        "nfsservctl",
        "uselib",
        "_sysctl",
        /* raw port I/O */
        "iopl",
        "ioperm",
        "vm86",
        "vm86old",
        NULL,
};

static int scmp_error(struct lv_error **err, int r, const char *what)
{
        /* libseccomp returns negative errno values. */
        return lv_error_set(err, r < 0 ? -r : EINVAL, "seccomp: %s", what);
}

void lxc_seccomp_free(void *ctx)
{
        if (ctx)
                seccomp_release((scmp_filter_ctx)ctx);
}

/* A container with read-only filesystems (<readonly/>) may not make a
 * mount writable again: its root holds CAP_SYS_ADMIN in its mount
 * namespace, where the driver made those mounts, so the kernel does not
 * lock their flags (it only locks what a namespace copied from a more
 * privileged one). mount(2) with MS_REMOUNT but without MS_RDONLY fails
 * with EPERM (making something read-only, and new mounts, still work);
 * mount_setattr(2) fails with ENOSYS, so tools fall back to mount(2). */
bool lxc_seccomp_denies_remounts(const struct domain_def *def)
{
        bool readonly = false;
        for (int i = 0; i < def->n_filesystems; i++)
                readonly |= def->filesystems[i].readonly;
        return readonly;
}

static int deny_writable_remounts(const struct domain_def *def, scmp_filter_ctx ctx,
                                  struct lv_error **err)
{
        if (!lxc_seccomp_denies_remounts(def))
                return 0;
        int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mount), 1,
                                 SCMP_A3(SCMP_CMP_MASKED_EQ, MS_REMOUNT | MS_RDONLY, MS_REMOUNT));
        if (r < 0)
                return scmp_error(err, r, "denying writable remounts");
        int nr = seccomp_syscall_resolve_name("mount_setattr");
        if (nr != __NR_SCMP_ERROR && (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0)) < 0)
                return scmp_error(err, r, "denying mount_setattr");
        return 0;
}

int lxc_seccomp_build(const struct domain_def *def, void **ret_ctx, struct lv_error **err)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return lv_error_setf(err, ENOMEM, "seccomp: cannot create a filter");
        int r;
        /* The child loads the filter while it still holds CAP_SYS_ADMIN in
         * its namespace, so no_new_privs is not needed (and would stop
         * set-uid programs inside the container). */
        if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0) {
                seccomp_release(ctx);
                return scmp_error(err, r, "clearing no_new_privs");
        }
        /* Calls from other ABIs of this CPU get the same rules; foreign
         * ABIs not listed are killed (libseccomp's bad-arch action). */
        if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
                static const uint32_t extra[] = {SCMP_ARCH_X86, SCMP_ARCH_X32};
                for (size_t i = 0; i < ARRAY_SIZE(extra); i++) {
                        r = seccomp_arch_add(ctx, extra[i]);
                        if (r < 0 && r != -EEXIST) {
                                seccomp_release(ctx);
                                return scmp_error(err, r, "adding the x86/x32 ABIs");
                        }
                }
        } else if (seccomp_arch_native() == SCMP_ARCH_AARCH64) {
                r = seccomp_arch_add(ctx, SCMP_ARCH_ARM);
                if (r < 0 && r != -EEXIST) {
                        seccomp_release(ctx);
                        return scmp_error(err, r, "adding the arm ABI");
                }
        }
        for (const char *const *name = lxc_seccomp_denied; *name; name++) {
                int nr = seccomp_syscall_resolve_name(*name);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not a call of this libseccomp/CPU */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
                if (r < 0) {
                        seccomp_release(ctx);
                        _cleanup_free_ char *what = xasprintf("denying %s", *name);
                        return scmp_error(err, r, what);
                }
        }
        if ((r = deny_writable_remounts(def, ctx, err)) < 0) {
                seccomp_release(ctx);
                return r;
        }
        *ret_ctx = ctx;
        return 0;
}

int lxc_seccomp_load(void *ctx, struct lv_error **err)
{
        int r = seccomp_load((scmp_filter_ctx)ctx);
        if (r < 0)
                return scmp_error(err, r, "loading the filter");
        return 0;
}
