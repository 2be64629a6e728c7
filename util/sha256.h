/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* SHA-256 (FIPS 180-4), for naming things by content (disk leases). Not
 * constant-time: do not use it for secrets. */
struct sha256_ctx {
        uint32_t h[8];
        uint64_t len; /* bytes hashed so far */
        unsigned char block[64];
        size_t fill;
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, unsigned char out[32]);
/* One call: lower-case hex digest of data, NUL-terminated. */
void sha256_hex(const void *data, size_t len, char out[65]);
