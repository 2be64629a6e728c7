/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A disk's storage identity: the key its lease is named by (lock.h). */
#include "locking/lock.h"

#include <limits.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "util/fileio.h"

#define DISK_ID_MAX_DEPTH 8 /* loop over a file that is a loop's backing file... */

/* Filesystems whose files are reached from several hosts under one path
 * and whose device number (and fsid) is per client: keyed by the path,
 * as libvirt's lock managers do. Cluster filesystems on a shared block
 * device (GFS2, OCFS2) carry their own fsid and inode numbers, the same
 * on every node: keyed by identity like a local filesystem. */
static bool fs_is_network(long type)
{
        switch ((unsigned long)type) {
        case 0x6969UL:     /* NFS */
        case 0xFF534D42UL: /* CIFS */
        case 0xFE534D42UL: /* SMB2 */
        case 0x517BUL:     /* SMB */
        case 0x00C36400UL: /* Ceph */
        case 0x01021997UL: /* 9p */
        case 0x65735546UL: /* FUSE (GlusterFS, ...) */
        case 0x0BD00BD0UL: /* Lustre */
        case 0x47504653UL: /* GPFS */
                return true;
        default:
                return false;
        }
}

/* A sysfs attribute of the block device, first line, or NULL. */
static char *block_attr(dev_t dev, const char *rel)
{
        _cleanup_free_ char *path =
                xasprintf("/sys/dev/block/%u:%u/%s", major(dev), minor(dev), rel);
        char *data = NULL;
        if (file_read_bounded(path, 4096, &data, NULL, NULL) < 0)
                return NULL;
        data[strcspn(data, "\n")] = '\0';
        if (!*data) {
                free(data);
                return NULL;
        }
        return data;
}

static int file_key(const char *path, const struct stat *st, char **ret, struct lv_error **err)
{
        struct statfs fs;
        if (statfs(path, &fs) < 0)
                return lv_error_set(err, errno, "disk '%s': cannot read its filesystem", path);
        if (fs_is_network(fs.f_type)) {
                *ret = xasprintf("path:%s", path);
                return 0;
        }
        unsigned int fsid[2];
        memcpy(fsid, &fs.f_fsid, sizeof(fsid));
        if (fsid[0] || fsid[1])
                *ret = xasprintf("file:fsid=%08x%08x:ino=%llu", fsid[0], fsid[1],
                                 (unsigned long long)st->st_ino);
        else
                *ret = xasprintf("file:dev=%u:%u:ino=%llu", major(st->st_dev), minor(st->st_dev),
                                 (unsigned long long)st->st_ino);
        return 0;
}

static int path_key(const char *path, int depth, char **ret, struct lv_error **err);

/* A loop device is its backing file. sysfs names the file; the loop's own
 * record (device and inode) proves that the name still is that file. */
static int loop_key(const char *path, dev_t dev, int depth, char **ret, struct lv_error **err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return lv_error_set(err, errno, "disk '%s': cannot open the loop device", path);
        struct loop_info64 info;
        if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0) {
                if (errno == ENXIO) { /* no backing file: nothing to alias */
                        *ret = xasprintf("blk:%u:%u", major(dev), minor(dev));
                        return 0;
                }
                return lv_error_set(err, errno, "disk '%s': cannot read the loop device's status",
                                    path);
        }
        _cleanup_free_ char *backing = block_attr(dev, "loop/backing_file");
        struct stat st;
        if (backing && stat(backing, &st) == 0 && st.st_dev == (dev_t)info.lo_device &&
            st.st_ino == (ino_t)info.lo_inode)
                return path_key(backing, depth + 1, ret, err);
        /* The file is deleted or out of our sight: its device and inode
         * are all that is known of it. */
        *ret = xasprintf("file:dev=%u:%u:ino=%llu", major((dev_t)info.lo_device),
                         minor((dev_t)info.lo_device), (unsigned long long)info.lo_inode);
        return 0;
}

/* Any other block device: its WWN, else its serial (virtio-blk, NVMe),
 * partitions by their disk's and their number; else the device number. */
static int block_key(dev_t dev, char **ret)
{
        _cleanup_free_ char *part = block_attr(dev, "partition");
        const char *prefix = part ? "../" : "";
        static const char *const ids[] = {"wwid", "device/wwid", "serial", "device/serial"};
        for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
                _cleanup_free_ char *rel = xasprintf("%s%s", prefix, ids[i]);
                _cleanup_free_ char *v = block_attr(dev, rel);
                if (!v)
                        continue;
                *ret = part ? xasprintf("blk-id:%s=%s:part=%s", ids[i], v, part)
                            : xasprintf("blk-id:%s=%s", ids[i], v);
                return 0;
        }
        *ret = xasprintf("blk:%u:%u", major(dev), minor(dev));
        return 0;
}

static int path_key(const char *path, int depth, char **ret, struct lv_error **err)
{
        if (depth > DISK_ID_MAX_DEPTH)
                return lv_error_setf(err, ELOOP, "disk '%s': loop devices nested too deep", path);
        struct stat st;
        if (stat(path, &st) < 0)
                return lv_error_set(err, errno, "disk '%s': cannot read it", path);
        if (S_ISBLK(st.st_mode)) {
                _cleanup_free_ char *loop = xasprintf("/sys/dev/block/%u:%u/loop",
                                                      major(st.st_rdev), minor(st.st_rdev));
                if (access(loop, F_OK) == 0)
                        return loop_key(path, st.st_rdev, depth, ret, err);
                return block_key(st.st_rdev, ret);
        }
        return file_key(path, &st, ret, err);
}

int lock_disk_identity(const char *source, char **ret_path, char **ret_key, struct lv_error **err)
{
        _cleanup_free_ char *real = realpath(source, NULL);
        if (!real) {
                if (errno != ENOENT)
                        return lv_error_set(err, errno, "disk '%s': cannot resolve the path",
                                            source);
                if (source[0] != '/')
                        return lv_error_setf(err, EINVAL, "disk '%s': the path is not absolute",
                                             source);
                /* Nothing there yet: known by its path until it exists. */
                *ret_key = xasprintf("path:%s", source);
                *ret_path = xstrdup(source);
                return 0;
        }
        int r = path_key(real, 0, ret_key, err);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(real);
        return 0;
}
