/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The save image's header (conf/save_image.h): format and parse round
 * trip, and every refusal with its message (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conf/save_image.h"

static struct save_image_header sample(void)
{
        struct save_image_header h = {
                .complete = true, .version = 1, .xml_len = 300, .flags = SAVE_IMAGE_FLAG_RUNNING};
        h.stream_offset = save_image_stream_offset(h.xml_len);
        h.stream_len = 1000;
        for (int i = 0; i < 32; i++)
                h.sha256[i] = (unsigned char)(i * 7);
        return h;
}

static void test_round_trip(void **state)
{
        struct save_image_header h = sample(), back;
        unsigned char buf[SAVE_IMAGE_HEADER_SIZE];
        save_image_header_format(&h, buf);
        assert_memory_equal(buf, "LitevirtQemuSave", 16);
        assert_int_equal(buf[20], 300 & 0xff); /* little-endian */
        assert_int_equal(buf[21], 300 >> 8);
        assert_int_equal(h.stream_offset, 4096);
        assert_int_equal(save_image_stream_offset(4096 - 128), 4096);
        assert_int_equal(save_image_stream_offset(4096 - 127), 8192);
        struct lv_error *e = NULL;
        assert_int_equal(save_image_header_parse(buf, 4096 + 1000, "f", &back, &e), 0);
        assert_true(back.complete);
        assert_int_equal(back.xml_len, 300);
        assert_int_equal(back.flags, SAVE_IMAGE_FLAG_RUNNING);
        assert_int_equal(back.stream_offset, 4096);
        assert_int_equal(back.stream_len, 1000);
        assert_memory_equal(back.sha256, h.sha256, 32);
}

/* Bit 1: the guest's RAM carries the pad; an image without it (every
 * older one) is read as none. */
static void test_ram_pad_flag(void **state)
{
        for (uint32_t flags = 0; flags <= SAVE_IMAGE_FLAGS; flags++) {
                struct save_image_header h = sample(), back;
                h.flags = flags;
                unsigned char buf[SAVE_IMAGE_HEADER_SIZE];
                save_image_header_format(&h, buf);
                assert_int_equal(buf[24], flags);
                struct lv_error *e = NULL;
                assert_int_equal(save_image_header_parse(buf, 4096 + 1000, "f", &back, &e), 0);
                assert_int_equal(back.flags, flags);
                assert_int_equal((back.flags & SAVE_IMAGE_FLAG_RAM_PAD) != 0, (flags & 2) != 0);
        }
}

/* The header changed by change(), parsed as a file of size bytes. */
static void refused(void (*change)(unsigned char *), uint64_t size, const char *message)
{
        struct save_image_header h = sample(), back;
        unsigned char buf[SAVE_IMAGE_HEADER_SIZE];
        save_image_header_format(&h, buf);
        if (change)
                change(buf);
        struct lv_error *e = NULL;
        assert_true(save_image_header_parse(buf, size, "/x/f.save", &back, &e) < 0);
        assert_non_null(e);
        if (!strstr(e->message, message))
                fail_msg("'%s' does not say '%s'", e->message, message);
        lv_error_free(e);
}

static void part(unsigned char *b)
{
        memcpy(b, SAVE_IMAGE_MAGIC_PART, 16);
}
static void foreign(unsigned char *b)
{
        memcpy(b, "LibvirtQemudSave", 16);
}
static void version2(unsigned char *b)
{
        b[16] = 2;
}
static void flag_bit(unsigned char *b)
{
        b[24] |= 4;
}
static void reserved(unsigned char *b)
{
        b[100] = 1;
}
static void xml_len_zero(unsigned char *b)
{
        memset(b + 20, 0, 4);
}
static void offset_off(unsigned char *b)
{
        b[33] = 0x20; /* 8192 */
}
static void stream_zero(unsigned char *b)
{
        memset(b + 40, 0, 8);
}

static void test_refusals(void **state)
{
        refused(NULL, 64, "'/x/f.save' is truncated: 64 bytes, shorter than its header");
        refused(part, 5096, "is incomplete: the save did not finish");
        refused(foreign, 5096, "'/x/f.save' is not a litevirt save image");
        refused(version2, 5096, "has version 2; this litevirt reads version 1");
        refused(flag_bit, 5096, "is damaged: unknown bits in its header");
        refused(reserved, 5096, "is damaged: unknown bits in its header");
        refused(xml_len_zero, 5096, "is damaged: definition length 0");
        refused(offset_off, 5096, "is damaged: definition length 300, stream offset 8192");
        refused(stream_zero, 5096, "is damaged: stream length 0");
        refused(NULL, 5095, "is truncated: 5095 of 5096 bytes");
        refused(NULL, 5097, "is damaged: 1 bytes after its stream");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_ram_pad_flag),
                cmocka_unit_test(test_refusals),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
