/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Who QEMU runs as and what it may touch (docs/security.md, "QEMU"):
 *  - its uid: one per running guest from host.conf's qemu_uid_min..max
 *    (a lease, DIR/UID.lock, like the port leases, plus a check that no
 *    process runs with that uid), or host.conf's qemu_user;
 *  - DAC labels, as libvirt's dynamic_ownership: the files the guest needs
 *    are given to its uid at start and given back at its end, the original
 *    owner and mode remembered in the file's trusted.litevirt.* xattrs with
 *    a reference count;
 *  - the confinement of the QEMU child before exec: read-only host mount
 *    namespace with litevirt's state masked, no capabilities, no_new_privs,
 *    explicit rlimits, a clean environment. */

#include <stdbool.h>
#include <sys/types.h>

#include "util/error.h"

struct json_object;

/* How a file is given to the guest's uid. */
enum qemu_label_kind {
        QEMU_LABEL_OWN,  /* the guest's alone (a writable disk): chown uid:gid, mode 0600 */
        QEMU_LABEL_READ, /* read-only, maybe shared (kernel, initrd, read-only disk): ACL u:UID:r */
        QEMU_LABEL_SHARE, /* writable and shared (<shareable/>): ACL u:UID:rw */
};

/* A file given to the guest's uid, to give back at its end. */
struct qemu_label {
        char *path;
        enum qemu_label_kind kind;
        /* the file system refused xattrs: the original is kept here (and in
         * the label record, qemu/confine.c), with no reference count */
        bool in_state;
        uid_t orig_uid;
        gid_t orig_gid;
        mode_t orig_mode;
};

struct qemu_cred {
        uid_t uid;
        gid_t gid;
        int lease_fd; /* the uid's lease, -1 with qemu_user */
};

/* The uid for a starting guest: qemu_user, else the first free one of the
 * range (no lease holder and no process with that real uid) from a place
 * given by the guest's uuid on (see qemu_cred_take in security.c). */
int qemu_cred_take(const unsigned char uuid[16], struct qemu_cred *ret, struct lv_error **err);
/* Re-take a running guest's uid on reattach (its QEMU runs with it). */
int qemu_cred_retake(uid_t uid, gid_t gid, struct qemu_cred *ret, struct lv_error **err);
void qemu_cred_release(struct qemu_cred *c);

/* Give path to uid/gid as kind. *ret is filled when something was changed
 * (ret->path NULL when nothing had to be: e.g. already readable by all). */
int qemu_label_grant(const char *path, enum qemu_label_kind kind, uid_t uid, gid_t gid,
                     struct qemu_label *ret, struct lv_error **err);
/* Give it back (the last user restores the original owner, mode, ACL). */
int qemu_label_restore(const struct qemu_label *l, uid_t uid, struct lv_error **err);
void qemu_label_clear(struct qemu_label *l);
/* As JSON for the label record (qemu/confine.c), and back. */
struct json_object *qemu_label_to_json(const struct qemu_label *l);
int qemu_label_from_json(struct json_object *o, struct qemu_label *ret);

/* What the QEMU child sets up before exec (built in the parent). */
struct qemu_confine {
        uid_t uid;
        gid_t gid;
        gid_t kvm_gid;    /* supplementary group for /dev/kvm, or (gid_t)-1 */
        const char *home; /* $RUNDIR/NAME/qemu, the guest's own directory */
        char **writable;  /* files that stay writable in the read-only view */
        char **readable;  /* files QEMU must be able to read (checked as uid) */
        char **masked;    /* litevirt's directories, hidden under an empty tmpfs */
        char **env;       /* QEMU's whole environment */
};

/* The environment QEMU gets (LC_ALL, PATH, HOME and XDG_* in home). */
char **qemu_confine_env(const char *home);
/* In the child, in its own mount namespace: make the host read-only,
 * mask litevirt's state, drop to the guest's uid with no capabilities.
 * On failure a message goes to stderr (QEMU's log) and -1 is returned. */
int qemu_confine_child(const struct qemu_confine *c);
