/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test-only LD_PRELOAD library: a fixed fake Xen host for `xl`, as
 * libvirt's own Xen tests do (tests/libxlmock.c). With it, xl opens a
 * "hypervisor" and xenstore that answer the host queries it makes before
 * parsing a config, so `xl -N create -q FILE.cfg` (dry run) parses the
 * config with Xen's real parser and prints the libxl JSON. Nothing here
 * can create a domain: every other hypercall still fails.
 *
 * Environment:
 *   FAKEXEN_XL_CONF  file xl reads instead of /etc/xen/xl.conf (xl has no
 *                    option for its global config), so tests run with an
 *                    empty one whatever the host has;
 * and uuid_generate() returns a fixed UUID, so a config without 'uuid'
 * gives the same JSON on every run. */
/* fopen and fopen64 are both defined here: no large-file renaming */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>
#include <xenstore.h>

#define FAKE_HANDLE ((void *)0x1)

/* ---- hypervisor and xenstore handles ---- */

xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
                                unsigned open_flags)
{
        return FAKE_HANDLE;
}

int xc_interface_close(xc_interface *xch)
{
        return 0;
}

struct xs_handle *xs_open(unsigned long flags)
{
        return FAKE_HANDLE;
}

void xs_close(struct xs_handle *xsh)
{
}

/* ---- host queries: 4 CPUs, 4 GiB, x86_64 with HVM and HAP ---- */

int xc_physinfo(xc_interface *xch, xc_physinfo_t *info)
{
        memset(info, 0, sizeof(*info));
        info->threads_per_core = 1;
        info->cores_per_socket = 4;
        info->nr_cpus = 4;
        info->max_cpu_id = 3;
        info->nr_nodes = 1;
        info->max_node_id = 0;
        info->cpu_khz = 2000000;
        info->total_pages = 1048576;
        info->free_pages = 524288;
        info->capabilities = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_pv |
                             XEN_SYSCTL_PHYSCAP_hap | XEN_SYSCTL_PHYSCAP_shadow;
        return 0;
}

long xc_sharing_freed_pages(xc_interface *xch)
{
        return 0;
}

long xc_sharing_used_frames(xc_interface *xch)
{
        return 0;
}

int xc_version(xc_interface *xch, int cmd, void *arg)
{
        switch (cmd) {
        case XENVER_version:
                return (4 << 16) | 17;
        case XENVER_extraversion:
                memset(arg, 0, sizeof(xen_extraversion_t));
                strcpy(arg, ".0-fake");
                return 0;
        case XENVER_compile_info:
                memset(arg, 0, sizeof(xen_compile_info_t));
                return 0;
        case XENVER_capabilities:
                memset(arg, 0, sizeof(xen_capabilities_info_t));
                strcpy(arg, "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64");
                return 0;
        case XENVER_changeset:
                memset(arg, 0, sizeof(xen_changeset_info_t));
                strcpy(arg, "fake");
                return 0;
        case XENVER_platform_parameters:
                memset(arg, 0, sizeof(xen_platform_parameters_t));
                return 0;
        case XENVER_pagesize:
                return 4096;
        case XENVER_commandline:
                memset(arg, 0, sizeof(xen_commandline_t));
                return 0;
        default:
                return -1;
        }
}

/* ---- deterministic output ---- */

void uuid_generate(unsigned char out[16]);
void uuid_generate(unsigned char out[16])
{
        static const unsigned char fixed[16] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00,
                                                0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
        memcpy(out, fixed, 16);
}

/* ---- xl's global config ---- */

static const char *redirect(const char *path)
{
        const char *conf = getenv("FAKEXEN_XL_CONF");
        if (conf && path && strcmp(path, "/etc/xen/xl.conf") == 0)
                return conf;
        return path;
}

FILE *fopen(const char *path, const char *mode)
{
        static FILE *(*real)(const char *, const char *);
        if (!real)
                real = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
        return real(redirect(path), mode);
}

FILE *fopen64(const char *path, const char *mode)
{
        static FILE *(*real)(const char *, const char *);
        if (!real)
                real = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen64");
        return real(redirect(path), mode);
}
