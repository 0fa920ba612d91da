/*
 * Unit tests of the VHD reader (src/formats/vhd.c): footers, dynamic disk
 * headers and block allocation tables built as byte arrays, sealed with their
 * checksum, then broken one field at a time, each checked for its status and
 * for a message that names the problem; the path decoders; then small dynamic,
 * fixed and differencing disks built in memory (and in files, for parents),
 * opened and read through the library, also with every allocation failing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "formats/vhd.h"
#include "support/testsupport.h"

static imgp_ctx *ctx_new(void)
{
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    assert_non_null(ctx);
    return ctx;
}


static void seal(uint8_t *b, size_t len, size_t checksum_off)
{
    test_put_be32(b, checksum_off, 0);
    test_put_be32(b, checksum_off, vhd_checksum(b, len, checksum_off));
}

/* ---- fixtures: 4 KiB blocks, a disk of 5 blocks and a half, sized by "Current Size" ---- */

#define BLK 4096u
#define BITMAP 512u                 /* 8 sectors: one byte, padded to a sector */
#define NBLK 6u
#define VSIZE (5 * BLK + 1024)      /* 21504 bytes */
#define BAT_AT 1536u
#define LOC_AT 2048u                /* one sector of parent locator data */
#define BLOCKS_AT 2560u
#define IMG_MAX (BLOCKS_AT + NBLK * (BITMAP + BLK) + 512)

static void put_footer(uint8_t *f, uint32_t type, uint64_t size, const char creator[4])
{
    memset(f, 0, VHD_FOOTER_SIZE);
    memcpy(f, "conectix", 8);
    test_put_be32(f, VHD_FOOTER_FEATURES, 2);
    test_put_be32(f, VHD_FOOTER_FORMAT_VERSION, 0x10000);
    test_put_be64(f, VHD_FOOTER_DATA_OFFSET, type == VHD_TYPE_FIXED ? ~0ull : 512);
    memcpy(f + VHD_FOOTER_CREATOR_APP, creator, 4);
    test_put_be16(f, VHD_FOOTER_CREATOR_MAJOR, 6);
    test_put_be16(f, VHD_FOOTER_CREATOR_MINOR, 3);
    test_put_be32(f, VHD_FOOTER_CREATOR_OS, VHD_OS_WINDOWS);
    test_put_be64(f, VHD_FOOTER_ORIGINAL_SIZE, size);
    test_put_be64(f, VHD_FOOTER_CURRENT_SIZE, size);
    test_put_be16(f, VHD_FOOTER_CYLINDERS, 1); /* 1/4/17: 34816 bytes by CHS */
    f[VHD_FOOTER_HEADS] = 4;
    f[VHD_FOOTER_SECTORS] = 17;
    test_put_be32(f, VHD_FOOTER_DISK_TYPE, type);
    for (int i = 0; i < 16; i++)
        f[VHD_FOOTER_UUID + i] = (uint8_t)(0xa0 + i + type);
    seal(f, VHD_FOOTER_SIZE, VHD_FOOTER_CHECKSUM);
}

static void put_dyn_header(uint8_t *h, uint32_t entries, uint32_t block)
{
    memset(h, 0, VHD_DYN_SIZE);
    memcpy(h, "cxsparse", 8);
    test_put_be64(h, VHD_DYN_DATA_OFFSET, ~0ull);
    test_put_be64(h, VHD_DYN_TABLE_OFFSET, BAT_AT);
    test_put_be32(h, VHD_DYN_HEADER_VERSION, 0x10000);
    test_put_be32(h, VHD_DYN_MAX_TABLE_ENTRIES, entries);
    test_put_be32(h, VHD_DYN_BLOCK_SIZE, block);
    seal(h, VHD_DYN_SIZE, VHD_DYN_CHECKSUM);
}

static void put_locator(uint8_t *h, unsigned slot, uint32_t platform, uint32_t len, uint64_t off)
{
    size_t base = VHD_DYN_LOCATORS + slot * VHD_DYN_LOCATOR_SIZE;
    test_put_be32(h, base + VHD_LOC_PLATFORM_CODE, platform);
    test_put_be32(h, base + VHD_LOC_DATA_SPACE, 1);
    test_put_be32(h, base + VHD_LOC_DATA_LENGTH, len);
    test_put_be64(h, base + VHD_LOC_DATA_OFFSET, off);
    seal(h, VHD_DYN_SIZE, VHD_DYN_CHECKSUM);
}

/* ---- footer ---- */

static void test_footer_valid(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t f[VHD_FOOTER_SIZE];
    vhd_footer v;
    put_footer(f, VHD_TYPE_DYNAMIC, VSIZE, "win ");
    assert_int_equal(vhd_footer_parse(ctx, f, sizeof f, 0x1000, 0x10000, &v), IMGP_OK);
    assert_int_equal(v.disk_type, VHD_TYPE_DYNAMIC);
    assert_int_equal(v.data_offset, 512);
    assert_int_equal(v.current_size, VSIZE);
    assert_int_equal(v.virtual_size, VSIZE); /* "win ": Current Size */
    assert_memory_equal(v.creator_app, "win ", 4);
    assert_int_equal(v.creator_major, 6);
    assert_int_equal(v.creator_minor, 3);
    assert_int_equal(v.cylinders, 1);
    assert_int_equal(v.uuid[0], 0xa0 + VHD_TYPE_DYNAMIC);

    /* The 511-byte footer of old Virtual PC: the last reserved byte is gone. */
    assert_int_equal(vhd_footer_parse(ctx, f, VHD_FOOTER_SIZE_OLD, 0x1001, 0x10000, &v), IMGP_OK);
    imgp_ctx_free(ctx);
}

static void test_footer_virtual_size_rule(void **state)
{
    (void)state;
    static const struct {
        const char *creator;
        bool max_geometry;
        uint64_t want;
    } cases[] = {
        {"win ", false, VSIZE}, {"qem2", false, VSIZE}, {"d2v ", false, VSIZE}, {"CTXS", false, VSIZE},
        {"tap\0", false, VSIZE}, {"vpc ", false, 34816}, {"qemu", false, 34816}, {"d2v\0", false, 34816},
        {"wa\0\0", false, 34816}, {"vpc ", true, VSIZE}, {"d2v\0", true, VSIZE},
    };
    imgp_ctx *ctx = ctx_new();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t f[VHD_FOOTER_SIZE];
        vhd_footer v;
        put_footer(f, VHD_TYPE_FIXED, VSIZE + 100, cases[i].creator); /* rounded down to sectors */
        if (cases[i].max_geometry) {
            test_put_be16(f, VHD_FOOTER_CYLINDERS, 65535);
            f[VHD_FOOTER_HEADS] = 16;
            f[VHD_FOOTER_SECTORS] = 255;
            seal(f, VHD_FOOTER_SIZE, VHD_FOOTER_CHECKSUM);
        }
        assert_int_equal(vhd_footer_parse(ctx, f, sizeof f, 0, 1u << 20, &v), IMGP_OK);
        if (v.virtual_size != cases[i].want)
            fail_msg("case %zu: virtual size %llu, want %llu", i, (unsigned long long)v.virtual_size,
                     (unsigned long long)cases[i].want);
    }
    imgp_ctx_free(ctx);
}

static void test_footer_broken(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t f[VHD_FOOTER_SIZE];
    vhd_footer v;

    put_footer(f, VHD_TYPE_DYNAMIC, VSIZE, "win ");
    f[0] = 'C';
    test_expect_error(ctx, vhd_footer_parse(ctx, f, sizeof f, 0x200, 0x10000, &v), IMGP_ERR_CORRUPT,
                 "no footer cookie \"conectix\" at 0x200");

    put_footer(f, VHD_TYPE_DYNAMIC, VSIZE, "win ");
    f[VHD_FOOTER_CURRENT_SIZE + 7] ^= 1; /* data changed, checksum not */
    test_expect_error(ctx, vhd_footer_parse(ctx, f, sizeof f, 0x200, 0x10000, &v), IMGP_ERR_CORRUPT,
                 "vhd: footer checksum 0x");
    assert_non_null(strstr(imgp_ctx_message(ctx), "does not match computed 0x"));

    put_footer(f, 5, VSIZE, "win ");
    test_expect_error(ctx, vhd_footer_parse(ctx, f, sizeof f, 0x200, 0x10000, &v), IMGP_ERR_UNSUPPORTED,
                 "disk type 5");
    put_footer(f, 0, VSIZE, "win ");
    test_expect_error(ctx, vhd_footer_parse(ctx, f, sizeof f, 0x200, 0x10000, &v), IMGP_ERR_UNSUPPORTED,
                 "disk type 0");

    /* The dynamic header (1024 bytes at Data Offset) must fit in the file. */
    put_footer(f, VHD_TYPE_DYNAMIC, VSIZE, "win ");
    test_put_be64(f, VHD_FOOTER_DATA_OFFSET, 0x10000 - 1023);
    seal(f, VHD_FOOTER_SIZE, VHD_FOOTER_CHECKSUM);
    test_expect_error(ctx, vhd_footer_parse(ctx, f, sizeof f, 0x200, 0x10000, &v), IMGP_ERR_CORRUPT,
                 "dynamic disk header at 0xfc01 lies past the end of the file (size 0x10000)");
    test_put_be64(f, VHD_FOOTER_DATA_OFFSET, ~0ull);
    seal(f, VHD_FOOTER_SIZE, VHD_FOOTER_CHECKSUM);
    test_expect_error(ctx, vhd_footer_parse(ctx, f, sizeof f, 0x200, 0x10000, &v), IMGP_ERR_CORRUPT, "past the end");
    /* ... which a fixed disk does not have. */
    put_footer(f, VHD_TYPE_FIXED, VSIZE, "win ");
    assert_int_equal(vhd_footer_parse(ctx, f, sizeof f, 0x200, 0x10000, &v), IMGP_OK);

    /* Over 2040 GiB: qemu refuses it, and so do we. */
    put_footer(f, VHD_TYPE_FIXED, (VHD_MAX_SECTORS + 1) * 512, "win ");
    test_expect_error(ctx, vhd_footer_parse(ctx, f, sizeof f, 0x200, 0x10000, &v), IMGP_ERR_UNSUPPORTED, "2040 GiB");

    test_expect_error(ctx, vhd_footer_parse(ctx, f, 100, 0, 0x10000, &v), IMGP_ERR_INVALID_ARG, "512 or 511");
    imgp_ctx_free(ctx);
}

/* ---- dynamic disk header ---- */

#define FILE_SIZE 0x10000u

static imgp_status parse_hdr(imgp_ctx *ctx, const uint8_t *h, bool differencing, vhd_dyn_header *out)
{
    return vhd_dyn_header_parse(ctx, h, VHD_DYN_SIZE, 512, VSIZE, FILE_SIZE, differencing, out);
}

static void test_dyn_header_valid(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t h[VHD_DYN_SIZE];
    vhd_dyn_header d;
    put_dyn_header(h, NBLK, BLK);
    assert_int_equal(parse_hdr(ctx, h, false, &d), IMGP_OK);
    assert_int_equal(d.table_offset, BAT_AT);
    assert_int_equal(d.block_size, BLK);
    assert_int_equal(d.bitmap_size, 512);
    assert_int_equal(d.blocks, NBLK);

    /* Bitmap sizes: one bit a sector, rounded up to whole sectors. */
    static const uint32_t sizes[][2] = {{512, 512}, {2u << 20, 512}, {4u << 20, 1024}, {256u << 20, 65536}};
    for (size_t i = 0; i < 4; i++) {
        put_dyn_header(h, 0xffff, sizes[i][0]);
        assert_int_equal(vhd_dyn_header_parse(ctx, h, VHD_DYN_SIZE, 512, VSIZE, 1u << 20, false, &d), IMGP_OK);
        assert_int_equal(d.bitmap_size, sizes[i][1]);
    }

    /* More table entries than the size needs, all inside the file: fine. */
    put_dyn_header(h, 100, BLK);
    assert_int_equal(parse_hdr(ctx, h, false, &d), IMGP_OK);
    assert_int_equal(d.blocks, NBLK);
    imgp_ctx_free(ctx);
}

static void test_dyn_header_broken(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t h[VHD_DYN_SIZE];
    vhd_dyn_header d;

    put_dyn_header(h, NBLK, BLK);
    h[1] = 'X';
    test_expect_error(ctx, parse_hdr(ctx, h, false, &d), IMGP_ERR_CORRUPT, "no dynamic disk header cookie");

    put_dyn_header(h, NBLK, BLK);
    h[VHD_DYN_PARENT_NAME + 100] = 1;
    test_expect_error(ctx, parse_hdr(ctx, h, false, &d), IMGP_ERR_CORRUPT, "dynamic disk header checksum 0x");

    static const uint32_t bad_sizes[] = {0, 256, 3 * 512, 4097};
    for (size_t i = 0; i < 4; i++) {
        put_dyn_header(h, 0xffff, bad_sizes[i]);
        test_expect_error(ctx, parse_hdr(ctx, h, false, &d), IMGP_ERR_CORRUPT, "is not a power of two");
    }
    put_dyn_header(h, NBLK, 1u << 31);
    test_expect_error(ctx, parse_hdr(ctx, h, false, &d), IMGP_ERR_UNSUPPORTED, "block size 2147483648 exceeds");
    put_dyn_header(h, NBLK, 512u << 20);
    test_expect_error(ctx, parse_hdr(ctx, h, false, &d), IMGP_ERR_UNSUPPORTED, "exceeds");

    put_dyn_header(h, NBLK - 1, BLK);
    test_expect_error(ctx, parse_hdr(ctx, h, false, &d), IMGP_ERR_CORRUPT,
                 "max table entries 5 with 4096-byte blocks cannot map the virtual size of 21504 bytes (6 blocks)");

    /* afl5.img: Max Table Entries 1073741825; the table cannot be in the file. */
    put_dyn_header(h, 1073741825, BLK);
    test_expect_error(ctx, parse_hdr(ctx, h, false, &d), IMGP_ERR_CORRUPT,
                 "block allocation table at 0x600 (1073741825 entries, 0x100000004 bytes) lies past the end");
    put_dyn_header(h, 0xffffffffu, BLK);
    test_expect_error(ctx, parse_hdr(ctx, h, false, &d), IMGP_ERR_CORRUPT, "lies past the end");

    put_dyn_header(h, NBLK, BLK);
    test_put_be64(h, VHD_DYN_TABLE_OFFSET, FILE_SIZE - 4 * NBLK + 1);
    seal(h, VHD_DYN_SIZE, VHD_DYN_CHECKSUM);
    test_expect_error(ctx, parse_hdr(ctx, h, false, &d), IMGP_ERR_CORRUPT, "block allocation table at 0xffe9");
    test_put_be64(h, VHD_DYN_TABLE_OFFSET, ~0ull);
    seal(h, VHD_DYN_SIZE, VHD_DYN_CHECKSUM);
    test_expect_error(ctx, parse_hdr(ctx, h, false, &d), IMGP_ERR_CORRUPT, "lies past the end");

    test_expect_error(ctx, vhd_dyn_header_parse(ctx, h, 1000, 512, VSIZE, FILE_SIZE, false, &d), IMGP_ERR_CORRUPT,
                 "truncated");
    imgp_ctx_free(ctx);
}

static void test_dyn_header_locators(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t h[VHD_DYN_SIZE];
    vhd_dyn_header d;

    put_dyn_header(h, NBLK, BLK);
    put_locator(h, 0, VHD_PLATFORM_W2KU, 40, LOC_AT);
    put_locator(h, 1, VHD_PLATFORM_W2RU, 20, LOC_AT + 256);
    assert_int_equal(parse_hdr(ctx, h, true, &d), IMGP_OK);
    assert_int_equal(d.locators[1].platform, VHD_PLATFORM_W2RU);
    assert_int_equal(d.locators[1].data_length, 20);
    assert_int_equal(d.locators[1].data_offset, LOC_AT + 256);

    put_locator(h, 2, VHD_PLATFORM_W2RU, 20, FILE_SIZE - 19);
    test_expect_error(ctx, parse_hdr(ctx, h, true, &d), IMGP_ERR_CORRUPT,
                 "parent locator 2 (W2ru) at 0xffed (20 bytes) lies past the end of the file (size 0x10000)");
    /* A dynamic disk has no parent: its locator slots are not read. */
    assert_int_equal(parse_hdr(ctx, h, false, &d), IMGP_OK);

    put_locator(h, 2, VHD_PLATFORM_MACX, 20, ~0ull);
    test_expect_error(ctx, parse_hdr(ctx, h, true, &d), IMGP_ERR_CORRUPT,
                      "parent locator 2 (MacX) at 0xffffffffffffffff");
    put_locator(h, 2, VHD_PLATFORM_W2KU, VHD_MAX_LOCATOR_BYTES + 1, LOC_AT);
    test_expect_error(ctx, parse_hdr(ctx, h, true, &d), IMGP_ERR_CORRUPT, "parent locator 2 (W2ku) of 65537 bytes");
    /* An empty slot says nothing, whatever its offset. */
    put_locator(h, 2, VHD_PLATFORM_NONE, 20, ~0ull);
    assert_int_equal(parse_hdr(ctx, h, true, &d), IMGP_OK);
    put_locator(h, 2, 0x01020304, 20, ~0ull);
    test_expect_error(ctx, parse_hdr(ctx, h, true, &d), IMGP_ERR_CORRUPT, "parent locator 2 (\\x01\\x02\\x03\\x04)");
    imgp_ctx_free(ctx);
}

/* ---- block allocation table ---- */

static void test_bat(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t h[VHD_DYN_SIZE], raw[4 * NBLK];
    vhd_dyn_header d;
    uint32_t bat[NBLK];
    put_dyn_header(h, NBLK, BLK);
    assert_int_equal(parse_hdr(ctx, h, false, &d), IMGP_OK);
    for (unsigned i = 0; i < NBLK; i++)
        test_put_be32(raw, 4 * i, i % 2 ? VHD_BAT_UNUSED : (BLOCKS_AT / 512) + 9 * i);
    assert_int_equal(vhd_bat_parse(ctx, raw, sizeof raw, NBLK, &d, FILE_SIZE, bat), IMGP_OK);
    assert_int_equal(bat[0], BLOCKS_AT / 512);
    assert_int_equal(bat[1], VHD_BAT_UNUSED);
    assert_int_equal(bat[4], BLOCKS_AT / 512 + 36);

    /* In place, as the reader converts it. */
    uint32_t inplace[NBLK];
    memcpy(inplace, raw, sizeof raw);
    assert_int_equal(vhd_bat_parse(ctx, (const uint8_t *)inplace, sizeof raw, NBLK, &d, FILE_SIZE, inplace), IMGP_OK);
    assert_memory_equal(inplace, bat, sizeof bat);

    /* A block whose bitmap and data do not fit: one sector later than the last that does. */
    test_put_be32(raw, 4 * 3, (FILE_SIZE - BITMAP - BLK) / 512 + 1);
    test_expect_error(ctx, vhd_bat_parse(ctx, raw, sizeof raw, NBLK, &d, FILE_SIZE, bat), IMGP_ERR_CORRUPT,
                 "block 3 at 0xf000 (bitmap and data, 0x1200 bytes) lies past the end of the file (size 0x10000)");
    test_put_be32(raw, 4 * 3, 0xfffffffe);
    test_expect_error(ctx, vhd_bat_parse(ctx, raw, sizeof raw, NBLK, &d, FILE_SIZE, bat), IMGP_ERR_CORRUPT, "block 3");
    test_put_be32(raw, 4 * 3, (FILE_SIZE - BITMAP - BLK) / 512);
    assert_int_equal(vhd_bat_parse(ctx, raw, sizeof raw, NBLK, &d, FILE_SIZE, bat), IMGP_OK);

    test_expect_error(ctx, vhd_bat_parse(ctx, raw, sizeof raw - 1, NBLK, &d, FILE_SIZE, bat), IMGP_ERR_CORRUPT,
                 "holds no entry 5");
    imgp_ctx_free(ctx);
}

/* ---- names ---- */

static void test_utf16(void **state)
{
    (void)state;
    char out[32];
    static const uint8_t be[] = {0, 'a', 0, 0xe9, 0x20, 0xac, 0xd8, 0x3d, 0xde, 0x00, 0, 0, 0, 'x'};
    assert_true(vhd_utf16_to_utf8(be, sizeof be, true, out, sizeof out));
    assert_string_equal(out, "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"); /* stops at the NUL */
    static const uint8_t le[] = {'C', 0, ':', 0, '\\', 0, 'x', 0};
    assert_true(vhd_utf16_to_utf8(le, sizeof le, false, out, sizeof out));
    assert_string_equal(out, "C:\\x");
    static const uint8_t odd[] = {'a', 0, 'b'};
    assert_true(vhd_utf16_to_utf8(odd, sizeof odd, false, out, sizeof out));
    assert_string_equal(out, "a");

    static const uint8_t lone_high[] = {0x3d, 0xd8, 'a', 0};
    assert_false(vhd_utf16_to_utf8(lone_high, sizeof lone_high, false, out, sizeof out));
    static const uint8_t high_at_end[] = {'a', 0, 0x3d, 0xd8};
    assert_false(vhd_utf16_to_utf8(high_at_end, sizeof high_at_end, false, out, sizeof out));
    static const uint8_t lone_low[] = {0x00, 0xde};
    assert_false(vhd_utf16_to_utf8(lone_low, sizeof lone_low, false, out, sizeof out));
    assert_false(vhd_utf16_to_utf8(le, sizeof le, false, out, 4)); /* "C:\x" needs 5 */
    assert_true(vhd_utf16_to_utf8(le, sizeof le, false, out, 5));
    assert_false(vhd_utf16_to_utf8(le, sizeof le, false, out, 0));
}

static size_t utf16le(const char *s, uint8_t *out)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = (uint8_t)s[i];
        out[2 * i + 1] = 0;
    }
    return 2 * n;
}

static void test_locator_path(void **state)
{
    (void)state;
    uint8_t data[256];
    char out[128];
    size_t n = utf16le(".\\dir\\parent.vhd", data);
    assert_true(vhd_locator_path(VHD_PLATFORM_W2RU, data, n, out, sizeof out));
    assert_string_equal(out, "dir/parent.vhd");
    n = utf16le("..\\base.vhd", data);
    assert_true(vhd_locator_path(VHD_PLATFORM_W2RU, data, n, out, sizeof out));
    assert_string_equal(out, "../base.vhd");
    n = utf16le("C:\\VMs\\base.vhd", data);
    assert_true(vhd_locator_path(VHD_PLATFORM_W2KU, data, n, out, sizeof out));
    assert_string_equal(out, "C:/VMs/base.vhd");
    n = utf16le(".\\", data);
    assert_false(vhd_locator_path(VHD_PLATFORM_W2RU, data, n, out, sizeof out)); /* names nothing */
    assert_false(vhd_locator_path(VHD_PLATFORM_WI2K, data, n, out, sizeof out));
    assert_false(vhd_locator_path(VHD_PLATFORM_MAC, data, n, out, sizeof out));

    static const char *const urls[][2] = {
        {"file://localhost/Users/me/My%20VMs/base.vhd", "/Users/me/My VMs/base.vhd"},
        {"file:///srv/base.vhd", "/srv/base.vhd"},
        {"/plain/path.vhd", "/plain/path.vhd"},
        {"file://localhost/%c3%a9t%C3%A9.vhd", "/\xc3\xa9t\xc3\xa9.vhd"},
    };
    for (size_t i = 0; i < 4; i++) {
        assert_true(vhd_locator_path(VHD_PLATFORM_MACX, (const uint8_t *)urls[i][0], strlen(urls[i][0]), out,
                                     sizeof out));
        assert_string_equal(out, urls[i][1]);
    }
    static const char *const bad_urls[] = {"file://localhost/a%2", "file://localhost/a%zz", "file:///a%00b",
                                           "file://localhost"};
    for (size_t i = 0; i < 4; i++)
        assert_false(vhd_locator_path(VHD_PLATFORM_MACX, (const uint8_t *)bad_urls[i], strlen(bad_urls[i]), out,
                                      sizeof out));
    const char *longer = "file:///0123456789";
    assert_false(vhd_locator_path(VHD_PLATFORM_MACX, (const uint8_t *)longer, strlen(longer), out, 8));
}

/* ---- images in memory ---- */

/* Guest byte @p off of a disk whose blocks are filled with @p seed. */
static uint8_t pattern(uint64_t off, uint8_t seed) { return (uint8_t)((off >> 9) * 13 + (off & 511) + seed); }

typedef struct disk_spec {
    uint32_t type;
    uint8_t seed;
    uint32_t allocated;       /* bit i: block i is allocated */
    const uint8_t *bitmaps;   /* NBLK x 1 bitmap byte; NULL: all sectors set */
    const uint8_t *parent_uuid;
    const char *w2ru;         /* NULL: no locator */
    const char *parent_name;  /* ASCII, written as UTF-16BE; NULL: none */
} disk_spec;

/* Build a disk of the fixtures' geometry into @p img (IMG_MAX bytes). @return its size. */
static size_t build_disk(uint8_t *img, const disk_spec *s)
{
    memset(img, 0, IMG_MAX);
    if (s->type == VHD_TYPE_FIXED) {
        for (uint64_t o = 0; o < VSIZE; o++)
            img[o] = pattern(o, s->seed);
        put_footer(img + VSIZE, VHD_TYPE_FIXED, VSIZE, "win ");
        return VSIZE + VHD_FOOTER_SIZE;
    }
    uint8_t *h = img + 512;
    put_footer(img, s->type, VSIZE, "win ");
    put_dyn_header(h, NBLK, BLK);
    if (s->parent_uuid) {
        memcpy(h + VHD_DYN_PARENT_UUID, s->parent_uuid, 16);
        seal(h, VHD_DYN_SIZE, VHD_DYN_CHECKSUM);
    }
    if (s->w2ru)
        put_locator(h, 3, VHD_PLATFORM_W2RU, (uint32_t)utf16le(s->w2ru, img + LOC_AT), LOC_AT);
    if (s->parent_name) {
        for (size_t i = 0; s->parent_name[i]; i++)
            h[VHD_DYN_PARENT_NAME + 2 * i + 1] = (uint8_t)s->parent_name[i];
        seal(h, VHD_DYN_SIZE, VHD_DYN_CHECKSUM);
    }
    size_t pos = BLOCKS_AT;
    for (unsigned b = 0; b < NBLK; b++) {
        if (!(s->allocated >> b & 1)) {
            test_put_be32(img, BAT_AT + 4 * b, VHD_BAT_UNUSED);
            continue;
        }
        test_put_be32(img, BAT_AT + 4 * b, (uint32_t)(pos / 512));
        memset(img + pos, 0, BITMAP);
        img[pos] = s->bitmaps ? s->bitmaps[b] : 0xff;
        for (unsigned i = 0; i < BLK; i++)
            img[pos + BITMAP + i] = pattern((uint64_t)b * BLK + i, s->seed);
        pos += BITMAP + BLK;
    }
    for (unsigned b = NBLK; b < (LOC_AT - BAT_AT) / 4; b++)
        test_put_be32(img, BAT_AT + 4 * b, VHD_BAT_UNUSED);
    memcpy(img + pos, img, VHD_FOOTER_SIZE);
    return pos + VHD_FOOTER_SIZE;
}

static imgp_status open_memory(imgp_ctx *ctx, const uint8_t *img, size_t len, imgp_image **out)
{
    return test_image_open_memory(ctx, img, len, "mem.vhd", out);
}

/* Every status run of @p bd, as "kind:length " pairs. */
static void status_runs(imgp_bdev *bd, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (uint64_t off = 0; off < bd->size;) {
        imgp_extent_kind kind;
        uint64_t run;
        assert_int_equal(imgp_bdev_status(bd, off, bd->size - off, &kind, &run), IMGP_OK);
        o += (size_t)snprintf(out + o, len - o, "%c%llu ", "DZU"[kind], (unsigned long long)run);
        off += run;
    }
}

static void test_dynamic_in_memory(void **state)
{
    (void)state;
    static uint8_t img[IMG_MAX], want[VSIZE], got[VSIZE];
    disk_spec s = {.type = VHD_TYPE_DYNAMIC, .seed = 7, .allocated = 1u << 0 | 1u << 2 | 1u << 5};
    size_t len = build_disk(img, &s);
    for (uint64_t o = 0; o < VSIZE; o++)
        want[o] = s.allocated >> (o / BLK) & 1 ? pattern(o, s.seed) : 0;

    imgp_ctx *ctx = ctx_new();
    imgp_image *im;
    imgp_bdev *bd;
    assert_int_equal(open_memory(ctx, img, len, &im), IMGP_OK);
    const imgp_image_info *in = imgp_image_get_info(im);
    assert_string_equal(in->format, "vhd");
    assert_int_equal(in->virtual_size, VSIZE);
    assert_int_equal(in->cluster_size, BLK);
    assert_string_equal(test_image_prop(im, "subformat"), "dynamic");
    assert_string_equal(test_image_prop(im, "creator app"), "win ");
    assert_string_equal(test_image_prop(im, "creator version"), "6.3");
    assert_string_equal(test_image_prop(im, "creator host os"), "Wi2k (Windows)");
    assert_string_equal(test_image_prop(im, "disk geometry"), "1/4/17");
    assert_string_equal(test_image_prop(im, "uuid"), "a3a4a5a6-a7a8-a9aa-abac-adaeafb0b1b2");
    assert_null(test_image_prop(im, "footer"));
    assert_int_equal(imgp_image_bdev(im, &bd), IMGP_OK);
    assert_int_equal(bd->size, VSIZE);
    assert_int_equal(imgp_bdev_read(bd, 0, got, VSIZE), IMGP_OK);
    assert_memory_equal(got, want, VSIZE);
    /* unaligned pieces across block boundaries */
    for (uint64_t off = 1; off < VSIZE; off += 1531) {
        size_t n = (size_t)imgp_min_u64(5000, VSIZE - off);
        assert_int_equal(imgp_bdev_read(bd, off, got, n), IMGP_OK);
        assert_memory_equal(got, want + off, n);
    }
    char runs[256];
    status_runs(bd, runs, sizeof runs);
    assert_string_equal(runs, "D4096 U4096 D4096 U8192 D1024 ");
    imgp_image_close(im);

    /* A clear bitmap changes nothing: qemu reads a dynamic disk's blocks whole. */
    static const uint8_t clear[NBLK] = {0};
    s.bitmaps = clear;
    len = build_disk(img, &s);
    assert_int_equal(open_memory(ctx, img, len, &im), IMGP_OK);
    assert_int_equal(imgp_image_bdev(im, &bd), IMGP_OK);
    assert_int_equal(imgp_bdev_read(bd, 0, got, VSIZE), IMGP_OK);
    assert_memory_equal(got, want, VSIZE);
    imgp_image_close(im);

    /* The end footer damaged: the copy at 0 stands in, and says so. */
    img[len - 1 - 100] ^= 0x55;
    img[len - 512 + VHD_FOOTER_CHECKSUM] ^= 1;
    assert_int_equal(open_memory(ctx, img, len, &im), IMGP_OK);
    assert_non_null(strstr(test_image_prop(im, "footer"), "damaged"));
    assert_int_equal(imgp_image_bdev(im, &bd), IMGP_OK);
    assert_int_equal(imgp_bdev_read(bd, 0, got, VSIZE), IMGP_OK);
    assert_memory_equal(got, want, VSIZE);
    imgp_image_close(im);
    /* ... and missing (the file cut short by the footer) */
    assert_int_equal(open_memory(ctx, img, len - 512, &im), IMGP_OK);
    assert_non_null(strstr(test_image_prop(im, "footer"), "missing"));
    imgp_image_close(im);
    /* ... both damaged: refused with the end one's checksums */
    img[VHD_FOOTER_CHECKSUM] ^= 1;
    test_expect_error(ctx, open_memory(ctx, img, len, &im), IMGP_ERR_CORRUPT, "vhd: footer checksum");
    assert_non_null(strstr(imgp_ctx_message(ctx), "(footer at 0x"));
    assert_null(im);
    imgp_ctx_free(ctx);
}

static void test_fixed_in_memory(void **state)
{
    (void)state;
    static uint8_t img[IMG_MAX], got[VSIZE];
    disk_spec s = {.type = VHD_TYPE_FIXED, .seed = 3};
    size_t len = build_disk(img, &s);
    imgp_ctx *ctx = ctx_new();
    imgp_image *im;
    imgp_bdev *bd;
    assert_int_equal(open_memory(ctx, img, len, &im), IMGP_OK);
    assert_string_equal(test_image_prop(im, "subformat"), "fixed");
    assert_int_equal(imgp_image_get_info(im)->cluster_size, 0);
    assert_int_equal(imgp_image_bdev(im, &bd), IMGP_OK);
    assert_int_equal(imgp_bdev_read(bd, 0, got, VSIZE), IMGP_OK);
    assert_memory_equal(got, img, VSIZE);
    char runs[64];
    status_runs(bd, runs, sizeof runs);
    assert_string_equal(runs, "D21504 ");
    imgp_image_close(im);

    /* A disk of a saved virtual machine says so. */
    img[VSIZE + VHD_FOOTER_SAVED_STATE] = 1;
    seal(img + VSIZE, VHD_FOOTER_SIZE, VHD_FOOTER_CHECKSUM);
    assert_int_equal(open_memory(ctx, img, len, &im), IMGP_OK);
    assert_string_equal(test_image_prop(im, "saved state"), "yes");
    imgp_image_close(im);
    img[VSIZE + VHD_FOOTER_SAVED_STATE] = 0;
    seal(img + VSIZE, VHD_FOOTER_SIZE, VHD_FOOTER_CHECKSUM);

    /* Old Virtual PC: the footer is 511 bytes (its last reserved byte gone). */
    assert_int_equal(open_memory(ctx, img, len - 1, &im), IMGP_OK);
    assert_int_equal(imgp_image_get_info(im)->virtual_size, VSIZE);
    imgp_image_close(im);

    /* More disk than data before the footer. */
    put_footer(img + VSIZE - 512, VHD_TYPE_FIXED, VSIZE, "win ");
    test_expect_error(ctx, open_memory(ctx, img, VSIZE, &im), IMGP_ERR_CORRUPT,
                 "fixed disk of 21504 bytes, but only 20992 bytes of data precede its footer");

    /* A fixed disk has no copy at 0 to fall back on. */
    len = build_disk(img, &s);
    put_footer(img, VHD_TYPE_FIXED, VSIZE, "win ");
    img[VSIZE + VHD_FOOTER_CHECKSUM] ^= 1;
    test_expect_error(ctx, open_memory(ctx, img, len, &im), IMGP_ERR_CORRUPT, "footer checksum");
    imgp_ctx_free(ctx);
}

static void test_probe(void **state)
{
    (void)state;
    static uint8_t img[IMG_MAX];
    imgp_ctx *ctx = ctx_new();
    const imgp_format *fmt;
    imgp_source *src;
    disk_spec s = {.type = VHD_TYPE_DYNAMIC, .allocated = 1};
    size_t len = build_disk(img, &s);
    /* the whole disk, the footer copy only, a 511-byte footer at the end */
    static const size_t cut[][2] = {{0, 0}, {0, 512}, {0, 1}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = cut[i][1] == 512 ? 1536 : len - cut[i][1];
        assert_int_equal(imgp_source_open_memory(ctx, img + cut[i][0], n, "probe", &src), IMGP_OK);
        assert_int_equal(imgp_format_detect(ctx, src, &fmt), IMGP_OK);
        assert_string_equal(fmt->name, "vhd");
        imgp_source_close(src);
    }
    /* A fixed disk whose guest data starts like a dynamic disk: the end footer decides. */
    s.type = VHD_TYPE_FIXED;
    len = build_disk(img, &s);
    put_footer(img, VHD_TYPE_DYNAMIC, VSIZE, "win ");
    imgp_image *im;
    assert_int_equal(open_memory(ctx, img, len, &im), IMGP_OK);
    assert_string_equal(test_image_prop(im, "subformat"), "fixed");
    imgp_image_close(im);
    /* A fixed disk of an ISO 9660 guest: the checksummed footer outranks the head's magic. */
    static uint8_t iso[40960 + VHD_FOOTER_SIZE];
    memcpy(iso + 0x8001, "CD001", 5);
    put_footer(iso + 40960, VHD_TYPE_FIXED, 40960, "win ");
    assert_int_equal(imgp_source_open_memory(ctx, iso, sizeof iso, "probe", &src), IMGP_OK);
    assert_int_equal(imgp_format_detect(ctx, src, &fmt), IMGP_OK);
    assert_string_equal(fmt->name, "vhd");
    imgp_source_close(src);
    /* Nothing of a VHD: not ours. */
    memset(img, 0, 4096);
    assert_int_equal(imgp_source_open_memory(ctx, img, 4096, "probe", &src), IMGP_OK);
    assert_int_equal(imgp_format_detect(ctx, src, &fmt), IMGP_OK);
    assert_string_not_equal(fmt->name, "vhd");
    imgp_source_close(src);
    imgp_ctx_free(ctx);
}

static void test_dynamic_header_problems(void **state)
{
    (void)state;
    static uint8_t img[IMG_MAX];
    imgp_ctx *ctx = ctx_new();
    imgp_image *im;
    disk_spec s = {.type = VHD_TYPE_DYNAMIC, .allocated = 1u << 5};
    size_t len = build_disk(img, &s);

    /* The table limit applies to the entries the virtual size needs. */
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_TABLE_BYTES, 4 * NBLK - 1), IMGP_OK);
    test_expect_error(ctx, open_memory(ctx, img, len, &im), IMGP_ERR_LIMIT,
                 "block allocation table of 6 entries (24 bytes) exceeds the table limit (23 bytes)");
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_TABLE_BYTES, 4 * NBLK), IMGP_OK);
    assert_int_equal(open_memory(ctx, img, len, &im), IMGP_OK);
    imgp_image_close(im);
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_TABLE_BYTES, imgp_limit_default(IMGP_LIMIT_TABLE_BYTES)),
                     IMGP_OK);

    /* The last block cut short. */
    test_expect_error(ctx, open_memory(ctx, img, len - 513, &im), IMGP_ERR_CORRUPT, "block 5 at 0xa00");

    /* A differencing disk in memory cannot look for its parent. */
    s.type = VHD_TYPE_DIFFERENCING;
    s.parent_name = "parent.vhd";
    len = build_disk(img, &s);
    test_expect_error(ctx, open_memory(ctx, img, len, &im), IMGP_ERR_UNSUPPORTED, "vhd: parent 'parent.vhd': ");
    s.parent_name = NULL;
    len = build_disk(img, &s);
    test_expect_error(ctx, open_memory(ctx, img, len, &im), IMGP_ERR_CORRUPT, "names no parent");
    imgp_ctx_free(ctx);
}

/* ---- differencing disks, in files ---- */

typedef struct chain_files {
    char dir[64];
    char parent[96], child[96];
    uint8_t want[VSIZE];
} chain_files;

static void write_file(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Bitmap bytes of the child: block 0 sectors 1 and 5, block 2 all, block 4 none, block 5 sector 0. */
static const uint8_t child_bitmaps[NBLK] = {0x44, 0, 0xff, 0, 0x00, 0x80};

/* Write a parent (blocks 0, 1 and 3) and a child naming it by @p w2ru / @p name. */
static void make_chain(chain_files *c, const char *w2ru, const char *name, bool wrong_uuid)
{
    static uint8_t img[IMG_MAX];
    snprintf(c->dir, sizeof c->dir, "%s", "/tmp/test_vhd.XXXXXX");
    assert_non_null(mkdtemp(c->dir));
    snprintf(c->parent, sizeof c->parent, "%s/parent.vhd", c->dir);
    snprintf(c->child, sizeof c->child, "%s/child.vhd", c->dir);
    disk_spec p = {.type = VHD_TYPE_DYNAMIC, .seed = 1, .allocated = 1u << 0 | 1u << 1 | 1u << 3};
    write_file(c->parent, img, build_disk(img, &p));
    uint8_t puuid[16];
    memcpy(puuid, img + VHD_FOOTER_UUID, 16);
    puuid[15] ^= wrong_uuid;
    disk_spec s = {.type = VHD_TYPE_DIFFERENCING, .seed = 0x80, .allocated = 1u << 0 | 1u << 2 | 1u << 4 | 1u << 5,
                   .bitmaps = child_bitmaps, .parent_uuid = puuid, .w2ru = w2ru, .parent_name = name};
    write_file(c->child, img, build_disk(img, &s));
    for (uint64_t o = 0; o < VSIZE; o++) {
        unsigned b = (unsigned)(o / BLK), sector = (unsigned)(o % BLK / 512);
        bool in_child = (s.allocated >> b & 1) && (child_bitmaps[b] & (0x80 >> sector));
        c->want[o] = in_child ? pattern(o, s.seed) : (p.allocated >> b & 1) ? pattern(o, p.seed) : 0;
    }
}

static void remove_chain(chain_files *c)
{
    unlink(c->child);
    unlink(c->parent);
    rmdir(c->dir);
}

static void test_differencing(void **state)
{
    (void)state;
    static chain_files c;
    static uint8_t got[VSIZE];
    make_chain(&c, ".\\parent.vhd", "C:\\VMs\\parent.vhd", false);
    imgp_ctx *ctx = ctx_new();
    imgp_image *im;
    imgp_bdev *bd;
    assert_int_equal(imgp_image_open(ctx, c.child, NULL, &im), IMGP_OK);
    const imgp_image_info *in = imgp_image_get_info(im);
    assert_string_equal(in->backing_file, "parent.vhd");
    assert_string_equal(in->backing_format, "vhd");
    assert_string_equal(test_image_prop(im, "subformat"), "differencing");
    assert_string_equal(test_image_prop(im, "parent named by"), "W2ru");
    assert_non_null(imgp_image_backing(im));
    assert_int_equal(imgp_image_bdev(im, &bd), IMGP_OK);
    assert_int_equal(imgp_bdev_read(bd, 0, got, VSIZE), IMGP_OK);
    assert_memory_equal(got, c.want, VSIZE);
    for (uint64_t off = 3; off < VSIZE; off += 700) {
        size_t n = (size_t)imgp_min_u64(1300, VSIZE - off);
        assert_int_equal(imgp_bdev_read(bd, off, got, n), IMGP_OK);
        assert_memory_equal(got, c.want + off, n);
    }
    /* block 0: sector 0 parent, 1 child, 2-4 parent, 5 child, 6-7 parent (all parent DATA);
     * block 1 parent DATA; block 2 child; block 3 parent DATA; block 4 allocated, all parent
     * (unallocated there); block 5 sector 0 child, then parent's nothing. */
    char runs[256];
    status_runs(bd, runs, sizeof runs);
    assert_string_equal(runs, "D16384 U4096 D512 U512 ");
    imgp_image_close(im);
    imgp_ctx_free(ctx);
    remove_chain(&c);

    /* Only the unicode name, an absolute Windows path: its file name beside the child. */
    make_chain(&c, NULL, "C:\\VMs\\parent.vhd", false);
    ctx = ctx_new();
    assert_int_equal(imgp_image_open(ctx, c.child, NULL, &im), IMGP_OK);
    assert_string_equal(test_image_prop(im, "parent named by"), "parent unicode name");
    imgp_image_close(im);
    imgp_ctx_free(ctx);
    remove_chain(&c);
}

static void test_differencing_problems(void **state)
{
    (void)state;
    static chain_files c;
    imgp_ctx *ctx = ctx_new();
    imgp_image *im;

    /* A parent not found: the image opens, unreadable, and names what it lacks. */
    make_chain(&c, "elsewhere.vhd", "gone.vhd", false);
    assert_int_equal(imgp_image_open(ctx, c.child, NULL, &im), IMGP_OK);
    const imgp_image_info *in = imgp_image_get_info(im);
    assert_false(in->readable);
    assert_string_equal(in->backing_file, "elsewhere.vhd");
    assert_non_null(strstr(in->unreadable_reason,
                           "parent not found: tried 'elsewhere.vhd' (W2ru), 'gone.vhd' (parent unicode name)"));
    assert_null(imgp_image_backing(im));
    imgp_bdev *bd;
    test_expect_error(ctx, imgp_image_bdev(im, &bd), IMGP_ERR_UNSUPPORTED, "vhd image: parent not found");
    imgp_image_close(im);
    remove_chain(&c);

    make_chain(&c, ".\\parent.vhd", NULL, true);
    test_expect_error(ctx, imgp_image_open(ctx, c.child, NULL, &im), IMGP_ERR_CORRUPT,
                 "vhd: parent 'parent.vhd' has unique id a3a4a5a6-a7a8-a9aa-abac-adaeafb0b1b2, but the "
                 "differencing disk");
    assert_non_null(strstr(imgp_ctx_message(ctx), "names parent a3a4a5a6-a7a8-a9aa-abac-adaeafb0b1b3"));
    remove_chain(&c);

    /* A parent locator that names the child itself. */
    make_chain(&c, ".\\child.vhd", NULL, false);
    test_expect_error(ctx, imgp_image_open(ctx, c.child, NULL, &im), IMGP_ERR_CORRUPT, "loops back");
    remove_chain(&c);

    imgp_ctx_free(ctx);
}

/* ---- every allocation failing in turn ---- */

static void open_with_failing_alloc(const char *path, const uint8_t *img, size_t len)
{
    for (unsigned n = 1; n < 1000; n++) {
        imgp_ctx *ctx = test_ctx_failing_alloc(n);
        imgp_image *im = NULL;
        imgp_status st;
        if (path) {
            st = imgp_image_open(ctx, path, NULL, &im);
        } else {
            imgp_source *src;
            st = imgp_source_open_memory(ctx, img, len, "mem.vhd", &src);
            if (st == IMGP_OK)
                st = imgp_image_open_source(ctx, src, NULL, &im);
        }
        if (st == IMGP_OK) {
            imgp_bdev *bd;
            uint8_t buf[VSIZE];
            assert_int_equal(imgp_image_bdev(im, &bd), IMGP_OK);
            st = imgp_bdev_read(bd, 0, buf, VSIZE);
            imgp_image_close(im);
            imgp_ctx_free(ctx);
            if (st == IMGP_OK)
                return; /* past the last allocation */
            assert_int_equal(st, IMGP_ERR_NOMEM);
            continue;
        }
        if (st != IMGP_ERR_NOMEM)
            fail_msg("allocation %u: %s \"%s\"", n, imgp_status_name(st), imgp_ctx_message(ctx));
        assert_null(im);
        imgp_ctx_free(ctx);
    }
    fail_msg("open never succeeded");
}

static void test_failing_alloc(void **state)
{
    (void)state;
    static uint8_t img[IMG_MAX];
    disk_spec s = {.type = VHD_TYPE_DYNAMIC, .seed = 9, .allocated = 0x25};
    open_with_failing_alloc(NULL, img, build_disk(img, &s));
    s.type = VHD_TYPE_FIXED;
    open_with_failing_alloc(NULL, img, build_disk(img, &s));
    static chain_files c;
    make_chain(&c, ".\\parent.vhd", "parent.vhd", false);
    open_with_failing_alloc(c.child, NULL, 0);
    remove_chain(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_footer_valid),
        cmocka_unit_test(test_footer_virtual_size_rule),
        cmocka_unit_test(test_footer_broken),
        cmocka_unit_test(test_dyn_header_valid),
        cmocka_unit_test(test_dyn_header_broken),
        cmocka_unit_test(test_dyn_header_locators),
        cmocka_unit_test(test_bat),
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_locator_path),
        cmocka_unit_test(test_dynamic_in_memory),
        cmocka_unit_test(test_fixed_in_memory),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_dynamic_header_problems),
        cmocka_unit_test(test_differencing),
        cmocka_unit_test(test_differencing_problems),
        cmocka_unit_test(test_failing_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
