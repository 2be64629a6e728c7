/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The save image's header (conf/save_image.h). */
#include "conf/save_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/domain.h"
#include "util/sha256.h"

#define HASH_CHUNK (1024 * 1024)

static void put_u32(unsigned char *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
        uint32_t v = 0;
        for (int i = 3; i >= 0; i--)
                v = (v << 8) | p[i];
        return v;
}

static uint64_t get_u64(const unsigned char *p)
{
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = (v << 8) | p[i];
        return v;
}

uint64_t save_image_stream_offset(uint32_t xml_len)
{
        uint64_t end = SAVE_IMAGE_HEADER_SIZE + (uint64_t)xml_len;
        return (end + SAVE_IMAGE_ALIGN - 1) / SAVE_IMAGE_ALIGN * SAVE_IMAGE_ALIGN;
}

void save_image_header_format(const struct save_image_header *h,
                              unsigned char out[SAVE_IMAGE_HEADER_SIZE])
{
        memset(out, 0, SAVE_IMAGE_HEADER_SIZE);
        memcpy(out, h->complete ? SAVE_IMAGE_MAGIC : SAVE_IMAGE_MAGIC_PART, 16);
        put_u32(out + 16, h->version);
        put_u32(out + 20, h->xml_len);
        put_u32(out + 24, h->flags);
        put_u64(out + 32, h->stream_offset);
        put_u64(out + 40, h->stream_len);
        memcpy(out + 48, h->sha256, 32);
}

int save_image_header_parse(const unsigned char in[SAVE_IMAGE_HEADER_SIZE], uint64_t file_size,
                            const char *path, struct save_image_header *ret, struct lv_error **err)
{
        struct save_image_header h = {0};
        if (file_size < SAVE_IMAGE_HEADER_SIZE)
                return lv_error_setf(err, EINVAL,
                                     "save image '%s' is truncated: %llu bytes, shorter than "
                                     "its header",
                                     path, (unsigned long long)file_size);
        if (!memcmp(in, SAVE_IMAGE_MAGIC_PART, 16))
                return lv_error_setf(err, EINVAL,
                                     "save image '%s' is incomplete: the save did not finish",
                                     path);
        if (memcmp(in, SAVE_IMAGE_MAGIC, 16) != 0)
                return lv_error_setf(err, EINVAL, "'%s' is not a litevirt save image", path);
        h.complete = true;
        h.version = get_u32(in + 16);
        h.xml_len = get_u32(in + 20);
        h.flags = get_u32(in + 24);
        h.stream_offset = get_u64(in + 32);
        h.stream_len = get_u64(in + 40);
        memcpy(h.sha256, in + 48, 32);
        if (h.version != SAVE_IMAGE_VERSION)
                return lv_error_setf(err, EINVAL,
                                     "save image '%s' has version %u; this litevirt reads "
                                     "version %d",
                                     path, h.version, SAVE_IMAGE_VERSION);
        bool zero = get_u32(in + 28) == 0 && (h.flags & ~SAVE_IMAGE_FLAGS) == 0;
        for (size_t i = 80; i < SAVE_IMAGE_HEADER_SIZE; i++)
                zero = zero && in[i] == 0;
        if (!zero)
                return lv_error_setf(err, EINVAL,
                                     "save image '%s' is damaged: unknown bits in its header",
                                     path);
        if (h.xml_len == 0 || h.xml_len > DOMAIN_XML_MAX_BYTES ||
            h.stream_offset != save_image_stream_offset(h.xml_len))
                return lv_error_setf(err, EINVAL,
                                     "save image '%s' is damaged: definition length %u, stream "
                                     "offset %llu",
                                     path, h.xml_len, (unsigned long long)h.stream_offset);
        if (h.stream_len == 0 || h.stream_offset + h.stream_len < h.stream_offset)
                return lv_error_setf(err, EINVAL, "save image '%s' is damaged: stream length %llu",
                                     path, (unsigned long long)h.stream_len);
        uint64_t want = h.stream_offset + h.stream_len;
        if (file_size < want)
                return lv_error_setf(err, EINVAL,
                                     "save image '%s' is truncated: %llu of %llu bytes", path,
                                     (unsigned long long)file_size, (unsigned long long)want);
        if (file_size > want)
                return lv_error_setf(err, EINVAL,
                                     "save image '%s' is damaged: %llu bytes after its stream",
                                     path, (unsigned long long)(file_size - want));
        *ret = h;
        return 0;
}

int save_image_hash(int fd, uint64_t offset, uint64_t len, unsigned char out[32],
                    struct lv_error **err)
{
        _cleanup_free_ unsigned char *buf = xmalloc(HASH_CHUNK);
        struct sha256_ctx c;
        sha256_init(&c);
        while (len > 0) {
                size_t want = len < HASH_CHUNK ? (size_t)len : HASH_CHUNK;
                ssize_t n = pread(fd, buf, want, (off_t)offset);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return lv_error_set(err, errno, "reading the stream");
                if (n == 0)
                        return lv_error_setf(err, EIO, "the stream ends %llu bytes early",
                                             (unsigned long long)len);
                sha256_update(&c, buf, (size_t)n);
                offset += (uint64_t)n;
                len -= (uint64_t)n;
        }
        sha256_final(&c, out);
        return 0;
}

static int read_at(int fd, void *buf, size_t len, uint64_t offset)
{
        size_t done = 0;
        while (done < len) {
                ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(offset + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                done += (size_t)n;
        }
        return 0;
}

int save_image_open(const char *path, bool verify, int *ret_fd, struct save_image_header *ret,
                    char **ret_xml, struct lv_error **err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return lv_error_set(err, errno, "save image '%s'", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return lv_error_set(err, errno, "save image '%s'", path);
        if (!S_ISREG(st.st_mode))
                return lv_error_setf(err, EINVAL, "save image '%s' is not a regular file", path);
        unsigned char hdr[SAVE_IMAGE_HEADER_SIZE] = {0};
        size_t have = (uint64_t)st.st_size < sizeof(hdr) ? (size_t)st.st_size : sizeof(hdr);
        int r = read_at(fd, hdr, have, 0);
        if (r < 0)
                return lv_error_set(err, -r, "save image '%s'", path);
        struct save_image_header h;
        if ((r = save_image_header_parse(hdr, (uint64_t)st.st_size, path, &h, err)) < 0)
                return r;
        _cleanup_free_ char *xml = xmalloc((size_t)h.xml_len + 1);
        if ((r = read_at(fd, xml, h.xml_len, SAVE_IMAGE_HEADER_SIZE)) < 0)
                return lv_error_set(err, -r, "save image '%s'", path);
        xml[h.xml_len] = '\0';
        if (strlen(xml) != h.xml_len)
                return lv_error_setf(err, EINVAL,
                                     "save image '%s' is damaged: a NUL byte in its definition",
                                     path);
        if (verify) {
                unsigned char sum[32];
                if ((r = save_image_hash(fd, h.stream_offset, h.stream_len, sum, err)) < 0)
                        return lv_error_prefix(err, "save image '%s'", path);
                if (memcmp(sum, h.sha256, sizeof(sum)) != 0)
                        return lv_error_setf(err, EINVAL,
                                             "save image '%s' is damaged: the checksum of its "
                                             "stream does not match",
                                             path);
        }
        if (ret_fd) {
                if (lseek(fd, (off_t)h.stream_offset, SEEK_SET) < 0)
                        return lv_error_set(err, errno, "save image '%s'", path);
                *ret_fd = TAKE_FD(fd);
        }
        *ret = h;
        *ret_xml = TAKE_PTR(xml);
        return 0;
}
