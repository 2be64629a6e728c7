/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device access for cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program,
 * generated from the same rules the v1 devices controller takes ("c 1:3
 * rwm", "c 136:* rwm"), attached to the guest's cgroup2 directory. The
 * kernel runs it on every open/mknod of a device node by a process of the
 * cgroup (also in hybrid mode, where it adds to the v1 controller). It
 * stays attached until the cgroup is removed. */
#include "cgroup.h"

#include <linux/bpf.h>
#include <sys/syscall.h>

#include "util/log.h"

/* At most this many rules (each is at most 8 instructions). */
#define DEVICE_RULES_MAX 64

struct dev_rule {
        int type;     /* BPF_DEVCG_DEV_CHAR / _BLOCK, 0 = any */
        long major;   /* -1 = any */
        long minor;   /* -1 = any */
        unsigned acc; /* BPF_DEVCG_ACC_* */
};

static int parse_num(const char *s, long *ret, const char **end)
{
        if (*s == '*') {
                *ret = -1;
                *end = s + 1;
                return 0;
        }
        char *e;
        errno = 0;
        long v = strtol(s, &e, 10);
        if (errno || e == s || v < 0 || v > 0xfffff)
                return -EINVAL;
        *ret = v;
        *end = e;
        return 0;
}

/* "c 1:3 rwm", "b 8:* r", "a" */
static int rule_parse(const char *s, struct dev_rule *r, struct lv_error **err)
{
        *r = (struct dev_rule){.major = -1,
                               .minor = -1,
                               .acc = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ |
                                      BPF_DEVCG_ACC_WRITE};
        if (streq(s, "a"))
                return 0;
        const char *p = s;
        if (*p == 'c')
                r->type = BPF_DEVCG_DEV_CHAR;
        else if (*p == 'b')
                r->type = BPF_DEVCG_DEV_BLOCK;
        else if (*p != 'a')
                goto bad;
        if (*++p != ' ')
                goto bad;
        p++;
        if (parse_num(p, &r->major, &p) < 0 || *p++ != ':' || parse_num(p, &r->minor, &p) < 0)
                goto bad;
        if (*p == ' ') {
                r->acc = 0;
                for (p++; *p; p++) {
                        if (*p == 'r')
                                r->acc |= BPF_DEVCG_ACC_READ;
                        else if (*p == 'w')
                                r->acc |= BPF_DEVCG_ACC_WRITE;
                        else if (*p == 'm')
                                r->acc |= BPF_DEVCG_ACC_MKNOD;
                        else
                                goto bad;
                }
        } else if (*p) {
                goto bad;
        }
        return 0;
bad:
        return lv_error_setf(err, EINVAL, "device rule '%s': malformed", s);
}

#define INSN(c, d, s, o, i)                                                                        \
        ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

/* The program: load type (r2), access (r3), major (r4), minor (r5) from
 * struct bpf_cgroup_dev_ctx; each rule is a block that jumps to the next
 * on a mismatch and returns 1 (allow) when it matches; the end returns 0. */
static size_t program_build(const struct dev_rule *rules, size_t n, struct bpf_insn *out)
{
        size_t k = 0;
        out[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0);
        out[k++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
        out[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0);
        out[k++] = INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
        out[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0);
        out[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0);
        for (size_t i = 0; i < n; i++) {
                const struct dev_rule *r = &rules[i];
                bool all_acc =
                        r->acc == (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE);
                int len = 2 + (r->type ? 1 : 0) + (all_acc ? 0 : 3) + (r->major >= 0 ? 1 : 0) +
                          (r->minor >= 0 ? 1 : 0);
                int j = 0;
#define SKIP (len - j - 1)
                if (r->type) {
                        out[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, SKIP, r->type);
                        j++;
                }
                if (!all_acc) {
                        /* Some of the requested access is not granted. */
                        out[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
                        j++;
                        out[k++] = INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0,
                                        (int)(~r->acc & 7));
                        j++;
                        out[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, SKIP, 0);
                        j++;
                }
                if (r->major >= 0) {
                        out[k++] =
                                INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, SKIP, (int)r->major);
                        j++;
                }
                if (r->minor >= 0) {
                        out[k++] =
                                INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, SKIP, (int)r->minor);
                        j++;
                }
#undef SKIP
                out[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
                out[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        }
        out[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
        out[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return k;
}

int cgroup_devices_bpf_attach(const char *dir, const char *const *rules_text, struct lv_error **err)
{
        struct dev_rule rules[DEVICE_RULES_MAX];
        size_t n = 0;
        for (const char *const *t = rules_text; *t; t++) {
                if (n == DEVICE_RULES_MAX)
                        return lv_error_setf(err, E2BIG, "cgroup '%s': more than %d device rules",
                                             dir, DEVICE_RULES_MAX);
                int r = rule_parse(*t, &rules[n++], err);
                if (r < 0)
                        return r;
        }
        struct bpf_insn insns[6 + DEVICE_RULES_MAX * 8 + 2];
        size_t cnt = program_build(rules, n, insns);

        union bpf_attr load = {0};
        load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        load.insns = (uint64_t)(uintptr_t)insns;
        load.insn_cnt = (uint32_t)cnt;
        load.license = (uint64_t)(uintptr_t) "GPL";
        _cleanup_close_ int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
        if (prog < 0) {
                int e = errno;
                /* Once more with the verifier's log, for the debug log. */
                _cleanup_free_ char *log = xcalloc(1, 65536);
                load.log_buf = (uint64_t)(uintptr_t)log;
                load.log_size = 65536;
                load.log_level = 1;
                int again = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
                if (again >= 0)
                        close(again);
                log_debug("cgroup device program rejected: %s", log);
                return lv_error_set(err, e, "cgroup '%s': loading the device BPF program", dir);
        }
        _cleanup_close_ int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg < 0)
                return lv_error_set(err, errno, "cannot open cgroup '%s'", dir);
        union bpf_attr attach = {0};
        attach.target_fd = (uint32_t)cg;
        attach.attach_bpf_fd = (uint32_t)prog;
        attach.attach_type = BPF_CGROUP_DEVICE;
        attach.attach_flags = BPF_F_ALLOW_MULTI;
        if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) < 0)
                return lv_error_set(err, errno, "cgroup '%s': attaching the device BPF program",
                                    dir);
        return 0;
}
