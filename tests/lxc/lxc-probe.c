/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A static helper copied into the test containers' root filesystem.
 *
 *   lxc-probe syscalls     try calls the seccomp filter denies; print
 *                          "NAME ERRNO" for each (EPERM expected), and
 *                          "getppid ok" as a control
 *   lxc-probe forkbomb N   fork up to N sleeping children; print
 *                          "forked K ERRNO" when fork fails first
 *   lxc-probe memhog MIB   allocate and touch MIB MiB, printing progress
 *   lxc-probe ids          print "uid U gid G groups G1,G2 cwd DIR"
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err_name(int e)
{
        switch (e) {
        case 0:
                return "OK";
        case EPERM:
                return "EPERM";
        case EAGAIN:
                return "EAGAIN";
        case ENOSYS:
                return "ENOSYS";
        case EINVAL:
                return "EINVAL";
        case EFAULT:
                return "EFAULT";
        case ENOENT:
                return "ENOENT";
        case EBADF:
                return "EBADF";
        case ENOMEM:
                return "ENOMEM";
        default:
                return "OTHER";
        }
}

static void try(const char *name, long r)
{
        printf("%s %s\n", name, r < 0 ? err_name(errno) : "OK");
}

static int syscalls(void)
{
        try("init_module", syscall(SYS_init_module, NULL, 0, ""));
        try("finit_module", syscall(SYS_finit_module, -1, "", 0));
        try("delete_module", syscall(SYS_delete_module, "nonexistent_module", 0));
        try("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
        try("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
        try("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
        try("add_key", syscall(SYS_add_key, "user", "x", "y", 1, -3));
        try("bpf", syscall(SYS_bpf, 0, NULL, 0));
        try("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
        try("swapoff", syscall(SYS_swapoff, "/nonexistent"));
        try("getppid", syscall(SYS_getppid));
        return 0;
}

static int forkbomb(long n)
{
        long k = 0;
        setpgid(0, 0); /* kill(0) below must not reach the caller */
        for (; k < n; k++) {
                pid_t p = fork();
                if (p < 0) {
                        printf("forked %ld %s\n", k, err_name(errno));
                        fflush(stdout);
                        kill(0, SIGKILL);
                        return 0;
                }
                if (p == 0) {
                        pause();
                        _exit(0);
                }
        }
        printf("forked %ld OK\n", k);
        fflush(stdout);
        kill(0, SIGKILL);
        return 0;
}

static int memhog(long mib)
{
        for (long i = 1; i <= mib; i++) {
                char *p = malloc(1 << 20);
                if (!p) {
                        printf("malloc failed at %ld MiB\n", i);
                        return 1;
                }
                memset(p, 0x5a, 1 << 20);
                if (i % 16 == 0) {
                        printf("hog %ld MiB\n", i);
                        fflush(stdout);
                }
        }
        printf("hog done %ld MiB\n", mib);
        return 0;
}

static int ids(void)
{
        gid_t groups[64];
        int n = getgroups(64, groups);
        char cwd[512] = "?";
        if (!getcwd(cwd, sizeof cwd))
                strcpy(cwd, "?");
        printf("uid %u gid %u groups ", (unsigned)getuid(), (unsigned)getgid());
        for (int i = 0; i < n; i++)
                printf("%s%u", i ? "," : "", (unsigned)groups[i]);
        printf("%s cwd %s\n", n <= 0 ? "-" : "", cwd);
        return 0;
}

int main(int argc, char **argv)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc >= 2 && !strcmp(argv[1], "syscalls"))
                return syscalls();
        if (argc >= 3 && !strcmp(argv[1], "forkbomb"))
                return forkbomb(atol(argv[2]));
        if (argc >= 3 && !strcmp(argv[1], "memhog"))
                return memhog(atol(argv[2]));
        if (argc >= 2 && !strcmp(argv[1], "ids"))
                return ids();
        fprintf(stderr, "usage: lxc-probe syscalls|forkbomb N|memhog MIB|ids\n");
        return 2;
}
