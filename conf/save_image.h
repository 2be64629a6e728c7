/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The save image of `lvsh save` / `managedsave` (docs/save.md): a header
 * with the guest's definition, then the hypervisor's migration stream.
 *
 *   offset size
 *      0    16  magic "LitevirtQemuSave" ("LitevirtQemuPart" while written)
 *     16     4  version (1), little-endian as every number here
 *     20     4  length of the definition (XML, no NUL)
 *     24     4  flags: bit 0 the guest ran when saved (restore resumes it),
 *                   bit 1 the guest's RAM carries the driver's pad (QEMU's
 *                   TCG pad, lv_guest.ram_pad): restored with it; images
 *                   of litevirt before the pad lack it (restored without)
 *     28     4  0
 *     32     8  offset of the stream (the header, the XML, padding to 4 KiB)
 *     40     8  length of the stream
 *     48    32  SHA-256 of the stream
 *     80    48  0
 *    128        the definition, then zeros up to the stream
 *
 * The complete header is written last (after the stream and an fsync), so
 * a file cut short by a crash still says "Part"; a truncated or damaged
 * one fails the length or checksum test before anything is started. */

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define SAVE_IMAGE_MAGIC        "LitevirtQemuSave"
#define SAVE_IMAGE_MAGIC_PART   "LitevirtQemuPart"
#define SAVE_IMAGE_VERSION      1
#define SAVE_IMAGE_HEADER_SIZE  128
#define SAVE_IMAGE_ALIGN        4096
#define SAVE_IMAGE_FLAG_RUNNING 1u
#define SAVE_IMAGE_FLAG_RAM_PAD 2u
#define SAVE_IMAGE_FLAGS        (SAVE_IMAGE_FLAG_RUNNING | SAVE_IMAGE_FLAG_RAM_PAD)

struct save_image_header {
        bool complete; /* "Save", not "Part" */
        uint32_t version;
        uint32_t xml_len;
        uint32_t flags;
        uint64_t stream_offset;
        uint64_t stream_len;
        unsigned char sha256[32];
};

/* The stream's offset for a definition of xml_len bytes. */
uint64_t save_image_stream_offset(uint32_t xml_len);
/* Pure: the 128 bytes of h. */
void save_image_header_format(const struct save_image_header *h,
                              unsigned char out[SAVE_IMAGE_HEADER_SIZE]);
/* Pure: the header of a file of file_size bytes named path (for
 * messages); every field checked. */
int save_image_header_parse(const unsigned char in[SAVE_IMAGE_HEADER_SIZE], uint64_t file_size,
                            const char *path, struct save_image_header *ret, struct lv_error **err);

/* Open path (read-only) and read its header and definition (*ret_xml,
 * NUL-terminated); with verify, also the whole stream against its
 * checksum. *ret_fd is left at the stream's offset. */
int save_image_open(const char *path, bool verify, int *ret_fd, struct save_image_header *ret,
                    char **ret_xml, struct lv_error **err);
/* The SHA-256 of len bytes of fd from offset (pread). */
int save_image_hash(int fd, uint64_t offset, uint64_t len, unsigned char out[32],
                    struct lv_error **err);
