/*
 * Unit tests of the VMDK reader (src/formats/vmdk.c, vmdk_desc.c): the text
 * descriptor parser, the sparse header parser one field at a time, grain
 * table entries and markers, and small monolithicSparse and streamOptimized
 * images built here in byte arrays, opened from memory and read back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <zlib.h>

#include "formats/vmdk.h"
#include "../support/testsupport.h"

/* ---- the text descriptor ---- */

static imgp_status parse_text(imgp_ctx *ctx, const char *text, vmdk_descriptor *d)
{
    return vmdk_desc_parse(ctx, "test", (const uint8_t *)text, strlen(text), d);
}

static const char qemu_flat[] = "# Disk DescriptorFile\n"
                                "version=1\n"
                                "CID=52fa9c2b\n"
                                "parentCID=ffffffff\n"
                                "createType=\"monolithicFlat\"\n"
                                "\n"
                                "# Extent description\n"
                                "RW 20480 FLAT \"disk-flat.vmdk\" 0\n"
                                "\n"
                                "# The Disk Data Base\n"
                                "#DDB\n"
                                "\n"
                                "ddb.virtualHWVersion = \"4\"\n"
                                "ddb.geometry.cylinders = \"20\"\n"
                                "ddb.adapterType = \"lsilogic\"\n"
                                "ddb.uuid = \"60 00 C2 91 13 fb 32 ae-b1 94 6c 90 7e a7 dc fd\"\n"
                                "ddb.encoding = \"UTF-8\"\n";

static void test_desc_qemu_flat(void **state)
{
    (void)state;
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    vmdk_descriptor d;
    assert_int_equal(parse_text(ctx, qemu_flat, &d), IMGP_OK);
    assert_true(d.has_version && d.version == 1);
    assert_true(d.has_cid && d.cid == 0x52fa9c2b);
    assert_true(d.has_parent_cid && d.parent_cid == VMDK_PARENT_CID_NONE);
    assert_string_equal(d.create_type, "monolithicFlat");
    assert_string_equal(d.adapter_type, "lsilogic");
    assert_string_equal(d.hw_version, "4");
    assert_string_equal(d.uuid, "60 00 C2 91 13 fb 32 ae-b1 94 6c 90 7e a7 dc fd");
    assert_string_equal(d.encoding, "UTF-8");
    assert_null(d.parent_hint);
    assert_int_equal(d.nextents, 1);
    assert_int_equal(d.extents[0].access, VMDK_ACCESS_RW);
    assert_int_equal(d.extents[0].type, VMDK_EXTENT_FLAT);
    assert_int_equal(d.extents[0].sectors, 20480);
    assert_int_equal(d.extents[0].offset, 0);
    assert_int_equal(d.extents[0].line, 8);
    assert_string_equal(d.extents[0].filename, "disk-flat.vmdk");
    assert_int_equal(d.total_sectors, 20480);
    vmdk_desc_free(ctx, &d);
    imgp_ctx_free(ctx);
}

/* Every createType, with the extents each writes. */
static void test_desc_create_types(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        const char *extents;
        size_t nextents;
        vmdk_extent_type first;
        uint64_t total;
    } cases[] = {
        {"monolithicSparse", "RW 20480 SPARSE \"a.vmdk\"\n", 1, VMDK_EXTENT_SPARSE, 20480},
        {"monolithicFlat", "RW 20480 FLAT \"a-flat.vmdk\" 0\n", 1, VMDK_EXTENT_FLAT, 20480},
        {"twoGbMaxExtentSparse", "RW 4192256 SPARSE \"a-s001.vmdk\"\nRW 4192256 SPARSE \"a-s002.vmdk\"\n"
                                 "RW 2048 SPARSE \"a-s003.vmdk\"\n", 3, VMDK_EXTENT_SPARSE, 8386560},
        {"twoGbMaxExtentFlat", "RW 4194304 FLAT \"a-f001.vmdk\" 0\nRW 1024 FLAT \"a-f002.vmdk\" 0\n", 2,
         VMDK_EXTENT_FLAT, 4195328},
        {"streamOptimized", "RW 20480 SPARSE \"a.vmdk\"\n", 1, VMDK_EXTENT_SPARSE, 20480},
        {"vmfs", "RW 20480 VMFS \"a-flat.vmdk\"\n", 1, VMDK_EXTENT_VMFS, 20480},
        {"vmfsThin", "RW 20480 VMFS \"a-flat.vmdk\" 0\n", 1, VMDK_EXTENT_VMFS, 20480},
        {"vmfsSparse", "RW 20480 VMFSSPARSE \"a-delta.vmdk\"\n", 1, VMDK_EXTENT_VMFSSPARSE, 20480},
        {"seSparse", "RW 20480 SESPARSE \"a-sesparse.vmdk\"\n", 1, VMDK_EXTENT_SESPARSE, 20480},
        {"vmfsRawDeviceMap", "RW 20480 VMFSRDM \"a-rdm.vmdk\"\n", 1, VMDK_EXTENT_VMFSRDM, 20480},
        {"custom", "RW 100 FLAT \"a.bin\" 7\nRDONLY 50 ZERO\nNOACCESS 10 SPARSE \"b.vmdk\"\nRW 5 VMFSRAW \"c\"\n", 4,
         VMDK_EXTENT_FLAT, 165},
    };
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[512];
        snprintf(text, sizeof text, "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n"
                 "createType=\"%s\"\n%s", cases[i].type, cases[i].extents);
        vmdk_descriptor d;
        assert_int_equal(parse_text(ctx, text, &d), IMGP_OK);
        assert_string_equal(d.create_type, cases[i].type);
        assert_int_equal(d.nextents, cases[i].nextents);
        assert_int_equal(d.extents[0].type, cases[i].first);
        assert_int_equal(d.total_sectors, cases[i].total);
        vmdk_desc_free(ctx, &d);
    }
    imgp_ctx_free(ctx);
}

static void test_desc_mixed_extents(void **state)
{
    (void)state;
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    vmdk_descriptor d;
    assert_int_equal(parse_text(ctx, "createType = custom\n"
                                     "  RW 100 FLAT \"with space.bin\" 7   \n"
                                     "RDONLY\t50\tZERO\n"
                                     "NOACCESS 10 SPARSE \"b.vmdk\"\n"
                                     "parentFileNameHint=\"../base.vmdk\"\n"
                                     "ddb.encoding = \"UTF-8\"\nencoding=\"windows-1252\"\n",
                                &d),
                     IMGP_OK);
    assert_string_equal(d.create_type, "custom");
    assert_string_equal(d.parent_hint, "../base.vmdk");
    assert_string_equal(d.encoding, "windows-1252"); /* the top-level key, whatever the order */
    assert_int_equal(d.nextents, 3);
    assert_string_equal(d.extents[0].filename, "with space.bin");
    assert_int_equal(d.extents[0].offset, 7);
    assert_int_equal(d.extents[1].access, VMDK_ACCESS_RDONLY);
    assert_int_equal(d.extents[1].type, VMDK_EXTENT_ZERO);
    assert_null(d.extents[1].filename);
    assert_int_equal(d.extents[2].access, VMDK_ACCESS_NOACCESS);
    assert_false(d.has_cid);
    vmdk_desc_free(ctx, &d);
    imgp_ctx_free(ctx);
}

static void test_desc_crlf_and_padding(void **state)
{
    (void)state;
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    /* CRLF line endings and the NUL padding of an embedded descriptor area */
    uint8_t buf[1024];
    memset(buf, 0, sizeof buf);
    const char *text = "# Disk DescriptorFile\r\nCID=1234abcd\r\ncreateType=\"twoGbMaxExtentSparse\"\r\n"
                       "RW 8 SPARSE \"x-s001.vmdk\"\r\nddb.adapterType = \"ide\"\r\n";
    memcpy(buf, text, strlen(text));
    vmdk_descriptor d;
    assert_int_equal(vmdk_desc_parse(ctx, "test", buf, sizeof buf, &d), IMGP_OK);
    assert_int_equal(d.cid, 0x1234abcd);
    assert_string_equal(d.create_type, "twoGbMaxExtentSparse");
    assert_string_equal(d.extents[0].filename, "x-s001.vmdk");
    assert_string_equal(d.adapter_type, "ide");
    vmdk_desc_free(ctx, &d);
    /* empty text: nothing, and no error */
    assert_int_equal(vmdk_desc_parse(ctx, "test", buf + 1000, 0, &d), IMGP_OK);
    assert_int_equal(d.nextents, 0);
    imgp_ctx_free(ctx);
}

/* Broken descriptors: the status, and a word the message must contain. */
static void test_desc_broken(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        imgp_status st;
        const char *says;
    } cases[] = {
        {"createType=\"monolithicFlat\n", IMGP_ERR_CORRUPT, "unterminated quote"},
        {"RW 10 FLAT \"x.bin 0\n", IMGP_ERR_CORRUPT, "unterminated quote"},
        {"RW 18446744073709551616 FLAT \"x\" 0\n", IMGP_ERR_CORRUPT, "not a number"},
        {"RW 36028797018963968 FLAT \"x\" 0\n", IMGP_ERR_CORRUPT, "overflow"},
        {"RW 36028797018963967 FLAT \"x\" 0\nRW 1 FLAT \"y\" 0\n", IMGP_ERR_CORRUPT, "more than 2^64 bytes"},
        {"RW 8 FLAT \"x\" 36028797018963967\n", IMGP_ERR_CORRUPT, "offset"},
        {"RW 8 FLOPPY \"x\"\n", IMGP_ERR_UNSUPPORTED, "unknown extent type 'FLOPPY'"},
        {"RW 0 FLAT \"x\" 0\n", IMGP_ERR_CORRUPT, "0 sectors"},
        {"RW 8 SPARSE\n", IMGP_ERR_CORRUPT, "without a quoted file name"},
        {"RW 8 SPARSE \"\"\n", IMGP_ERR_CORRUPT, "empty extent file name"},
        {"RW 8 SPARSE \"x\" 0\n", IMGP_ERR_CORRUPT, "unexpected '0'"},
        {"RW 8 FLAT \"x\" 0 junk\n", IMGP_ERR_CORRUPT, "after the offset"},
        {"RW -8 FLAT \"x\" 0\n", IMGP_ERR_CORRUPT, "sector count"},
        {"CID=12345678\nCID=12345678\n", IMGP_ERR_CORRUPT, "second time"},
        {"createType=\"a\"\ncreateType=\"b\"\n", IMGP_ERR_CORRUPT, "second time"},
        {"CID=xyz\n", IMGP_ERR_CORRUPT, "hex"},
        {"CID=123456789\n", IMGP_ERR_CORRUPT, "hex"},
        {"version=one\n", IMGP_ERR_CORRUPT, "version"},
        {"just some words\n", IMGP_ERR_CORRUPT, "neither"},
        {"= value\n", IMGP_ERR_CORRUPT, "bad key"},
        {"createType=\"a\" b\n", IMGP_ERR_CORRUPT, "after the closing quote"},
        {"createType=a\"b\n", IMGP_ERR_CORRUPT, "stray quote"},
        {"CID=1\x1b[2J\n", IMGP_ERR_CORRUPT, "control byte 0x1b"},
        {"CID=1\rversion=1\n", IMGP_ERR_CORRUPT, "control byte 0x0d"},
    };
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        vmdk_descriptor d;
        imgp_status st = parse_text(ctx, cases[i].text, &d);
        if (st != cases[i].st || !strstr(imgp_ctx_message(ctx), cases[i].says))
            fail_msg("case %zu '%s': %s: %s", i, cases[i].text, imgp_status_name(st), imgp_ctx_message(ctx));
        assert_int_equal(d.nextents, 0);
        assert_null(d.create_type);
    }
    imgp_ctx_free(ctx);
}

static void test_desc_nul_bytes(void **state)
{
    (void)state;
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    static const uint8_t text[] = "CID=1\n\0version=1\n";
    vmdk_descriptor d;
    assert_int_equal(vmdk_desc_parse(ctx, "test", text, sizeof text - 1, &d), IMGP_ERR_CORRUPT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "NUL byte at offset 6"));
    imgp_ctx_free(ctx);
}

static void test_desc_limits(void **state)
{
    (void)state;
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    /* 100,000 extents: a clean limit error, the default limit being 4096 */
    size_t n = 100000, len = 0;
    char *text = malloc(n * 16 + 64);
    assert_non_null(text);
    len += (size_t)sprintf(text, "createType=\"custom\"\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "RW 1 ZERO\n");
    vmdk_descriptor d;
    assert_int_equal(vmdk_desc_parse(ctx, "test", (const uint8_t *)text, len, &d), IMGP_ERR_LIMIT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "more than 4096 extents"));
    assert_int_equal(d.nextents, 0);
    /* exactly at the limit is fine */
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_EXTENTS, 3), IMGP_OK);
    assert_int_equal(parse_text(ctx, "RW 1 ZERO\nRW 1 ZERO\nRW 1 ZERO\n", &d), IMGP_OK);
    assert_int_equal(d.nextents, 3);
    vmdk_desc_free(ctx, &d);
    /* the text itself is bounded */
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_DESCRIPTOR_BYTES, 100), IMGP_OK);
    assert_int_equal(vmdk_desc_parse(ctx, "test", (const uint8_t *)text, 101, &d), IMGP_ERR_LIMIT);
    free(text);
    imgp_ctx_free(ctx);
}

static void test_desc_alloc_failures(void **state)
{
    (void)state;
    for (unsigned n = 1; n < 1000; n++) {
        imgp_ctx *ctx = test_ctx_failing_alloc(n);
        vmdk_descriptor d;
        imgp_status st = parse_text(ctx, qemu_flat, &d);
        if (st == IMGP_OK) {
            vmdk_desc_free(ctx, &d);
            imgp_ctx_free(ctx);
            return;
        }
        assert_int_equal(st, IMGP_ERR_NOMEM);
        assert_int_equal(d.nextents, 0);
        imgp_ctx_free(ctx);
    }
    fail_msg("the parse never succeeded");
}

/* ---- the sparse header ---- */

/* Put a sparse header into @p p: @p capacity sectors, grains of 8 sectors,
 * 4 entries a table, descriptor at 1 (2 sectors), RGD at 3, GD at 6. */
static void put_header(uint8_t *p, uint64_t capacity)
{
    memset(p, 0, VMDK_HDR_SIZE);
    memcpy(p, "KDMV", 4);
    test_put_le32(p, VMDK_HDR_VERSION, 1);
    test_put_le32(p, VMDK_HDR_FLAGS, VMDK_FLAG_NEWLINE_TEST | VMDK_FLAG_REDUNDANT_GT);
    test_put_le64(p, VMDK_HDR_CAPACITY, capacity);
    test_put_le64(p, VMDK_HDR_GRAIN_SIZE, 8);
    test_put_le64(p, VMDK_HDR_DESC_OFFSET, 1);
    test_put_le64(p, VMDK_HDR_DESC_SIZE, 2);
    test_put_le32(p, VMDK_HDR_GTES_PER_GT, 4);
    test_put_le64(p, VMDK_HDR_RGD_OFFSET, 3);
    test_put_le64(p, VMDK_HDR_GD_OFFSET, 6);
    test_put_le64(p, VMDK_HDR_OVERHEAD, 16);
    memcpy(p + VMDK_HDR_NEWLINE_CHECK, "\n \r\n", 4);
}

#define FILE_SIZE (40u * 512)

static imgp_status parse_header(imgp_ctx *ctx, const uint8_t *p, vmdk_sparse_header *h)
{
    return vmdk_sparse_header_parse(ctx, "test", p, VMDK_HDR_SIZE, FILE_SIZE, false, h);
}

static void test_header_valid(void **state)
{
    (void)state;
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    uint8_t p[VMDK_HDR_SIZE];
    put_header(p, 64);
    vmdk_sparse_header h;
    assert_int_equal(parse_header(ctx, p, &h), IMGP_OK);
    assert_int_equal(h.capacity, 64);
    assert_int_equal(h.grain_sectors, 8);
    assert_int_equal(h.grain_shift, 12);
    assert_int_equal(h.gtes_per_gt, 4);
    assert_int_equal(h.gd_entries, 2);
    assert_int_equal(h.gd_offset, 6);
    assert_false(h.compressed);
    /* 65 sectors need a third grain table */
    put_header(p, 65);
    assert_int_equal(parse_header(ctx, p, &h), IMGP_OK);
    assert_int_equal(h.gd_entries, 3);
    /* version 3, stream flags, deflate, grain directory at the end */
    put_header(p, 64);
    test_put_le32(p, VMDK_HDR_VERSION, 3);
    test_put_le32(p, VMDK_HDR_FLAGS, VMDK_FLAG_NEWLINE_TEST | VMDK_FLAG_COMPRESSED | VMDK_FLAG_MARKERS);
    test_put_le16(p, VMDK_HDR_COMPRESS_ALGORITHM, 1);
    test_put_le64(p, VMDK_HDR_GD_OFFSET, VMDK_GD_AT_END);
    assert_int_equal(parse_header(ctx, p, &h), IMGP_OK);
    assert_true(h.compressed && h.markers);
    /* ... which the footer itself may not say */
    assert_int_equal(vmdk_sparse_header_parse(ctx, "test", p, VMDK_HDR_SIZE, FILE_SIZE, true, &h), IMGP_ERR_CORRUPT);
    /* grain size 1 sector; no descriptor */
    put_header(p, 64);
    test_put_le64(p, VMDK_HDR_GRAIN_SIZE, 1);
    test_put_le64(p, VMDK_HDR_DESC_OFFSET, 0);
    assert_int_equal(parse_header(ctx, p, &h), IMGP_OK);
    assert_int_equal(h.grain_shift, 9);
    assert_int_equal(h.gd_entries, 16);
    imgp_ctx_free(ctx);
}

/* One field broken at a time. */
static void test_header_broken(void **state)
{
    (void)state;
    static const struct {
        size_t off;
        int width; /* 1, 2, 4, 8 bytes */
        uint64_t value;
        imgp_status st;
        const char *says;
    } cases[] = {
        {0, 4, 0x4b444d57, IMGP_ERR_CORRUPT, "magic"},
        {VMDK_HDR_VERSION, 4, 4, IMGP_ERR_UNSUPPORTED, "version 4"},
        {VMDK_HDR_VERSION, 4, 0, IMGP_ERR_UNSUPPORTED, "version 0"},
        {VMDK_HDR_GRAIN_SIZE, 8, 0, IMGP_ERR_CORRUPT, "not a power of two"},
        {VMDK_HDR_GRAIN_SIZE, 8, 24, IMGP_ERR_CORRUPT, "not a power of two"},
        {VMDK_HDR_GRAIN_SIZE, 8, UINT64_C(1) << 22, IMGP_ERR_UNSUPPORTED, "exceeds 1 GiB"},
        {VMDK_HDR_GRAIN_SIZE, 8, UINT64_C(1) << 63, IMGP_ERR_UNSUPPORTED, "exceeds 1 GiB"},
        {VMDK_HDR_GTES_PER_GT, 4, 0, IMGP_ERR_CORRUPT, "0 entries"},
        {VMDK_HDR_GTES_PER_GT, 4, 0xffffffff, IMGP_ERR_UNSUPPORTED, "grain tables of 4294967295"},
        {VMDK_HDR_CAPACITY, 8, UINT64_MAX, IMGP_ERR_CORRUPT, "overflows"},
        {VMDK_HDR_CAPACITY, 8, UINT64_C(1) << 40, IMGP_ERR_LIMIT, "table limit"},
        {VMDK_HDR_COMPRESS_ALGORITHM, 2, 2, IMGP_ERR_UNSUPPORTED, "compression algorithm 2"},
        {VMDK_HDR_DESC_OFFSET, 8, 39, IMGP_ERR_CORRUPT, "descriptor at sector 39"},
        {VMDK_HDR_DESC_OFFSET, 8, UINT64_MAX, IMGP_ERR_CORRUPT, "past the end"},
        {VMDK_HDR_DESC_SIZE, 8, 0, IMGP_ERR_CORRUPT, "size 0"},
        {VMDK_HDR_DESC_SIZE, 8, UINT64_MAX, IMGP_ERR_LIMIT, "descriptor limit"},
        {VMDK_HDR_FLAGS, 4, VMDK_FLAG_NEWLINE_TEST, IMGP_OK, ""}, /* no RGD: the GD alone must do */
        {VMDK_HDR_OVERHEAD, 8, 41, IMGP_ERR_CORRUPT, "truncated"},
        {VMDK_HDR_NEWLINE_CHECK + 2, 1, '\n', IMGP_ERR_CORRUPT, "text-mode"},
    };
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t p[VMDK_HDR_SIZE];
        put_header(p, 64);
        switch (cases[i].width) {
        case 1: p[cases[i].off] = (uint8_t)cases[i].value; break;
        case 2: test_put_le16(p, cases[i].off, (uint16_t)cases[i].value); break;
        case 4: test_put_le32(p, cases[i].off, (uint32_t)cases[i].value); break;
        default: test_put_le64(p, cases[i].off, cases[i].value); break;
        }
        vmdk_sparse_header h;
        imgp_status st = parse_header(ctx, p, &h);
        if (st != cases[i].st || (st != IMGP_OK && !strstr(imgp_ctx_message(ctx), cases[i].says)))
            fail_msg("case %zu: %s: %s", i, imgp_status_name(st), imgp_ctx_message(ctx));
    }
    imgp_ctx_free(ctx);
}

/* The grain directory: outside the file is an error unless the redundant one is inside. */
static void test_header_gd_location(void **state)
{
    (void)state;
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    uint8_t p[VMDK_HDR_SIZE];
    vmdk_sparse_header h;
    put_header(p, 64);
    test_put_le64(p, VMDK_HDR_GD_OFFSET, 40); /* past the end ... */
    assert_int_equal(parse_header(ctx, p, &h), IMGP_OK); /* ... but the redundant one stands in */
    test_put_le32(p, VMDK_HDR_FLAGS, VMDK_FLAG_NEWLINE_TEST);
    assert_int_equal(parse_header(ctx, p, &h), IMGP_ERR_CORRUPT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "grain directory at sector 40"));
    test_put_le64(p, VMDK_HDR_GD_OFFSET, 0);
    assert_int_equal(parse_header(ctx, p, &h), IMGP_ERR_CORRUPT);
    test_put_le64(p, VMDK_HDR_GD_OFFSET, UINT64_MAX - 1);
    assert_int_equal(parse_header(ctx, p, &h), IMGP_ERR_CORRUPT);
    /* truncated buffer */
    put_header(p, 64);
    assert_int_equal(vmdk_sparse_header_parse(ctx, "test", p, 78, FILE_SIZE, false, &h), IMGP_ERR_CORRUPT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "truncated"));
    imgp_ctx_free(ctx);
}

static void test_gte_and_marker(void **state)
{
    (void)state;
    uint64_t sector = 99;
    assert_int_equal(vmdk_gte_decode(0, &sector), VMDK_GRAIN_UNALLOCATED);
    assert_int_equal(sector, 0);
    assert_int_equal(vmdk_gte_decode(1, &sector), VMDK_GRAIN_ZEROED);
    assert_int_equal(vmdk_gte_decode(2, &sector), VMDK_GRAIN_DATA);
    assert_int_equal(sector, 2);
    assert_int_equal(vmdk_gte_decode(0xffffffff, &sector), VMDK_GRAIN_DATA);
    assert_int_equal(sector, 0xffffffff);

    uint8_t m[16] = {0};
    vmdk_marker mk;
    test_put_le64(m, 0, 0x1234);
    test_put_le32(m, 8, 77);
    test_put_le32(m, 12, VMDK_MARKER_FOOTER);
    assert_true(vmdk_marker_parse(m, 16, &mk));
    assert_true(mk.val == 0x1234 && mk.size == 77 && mk.type == VMDK_MARKER_FOOTER);
    assert_true(vmdk_marker_parse(m, 12, &mk)); /* a grain marker: no type */
    assert_int_equal(mk.type, 0);
    assert_false(vmdk_marker_parse(m, 11, &mk));
}

/* ---- a tiny monolithicSparse image ----
 * 64 sectors (32 KiB), grains of 8 sectors (4 KiB), 4 entries a table:
 * grain 0 'A' at sector 16, grain 1 'B' at 24 (contiguous), grain 2 zeroed
 * (GTE 1), grain 3 unallocated, grain 4 'C' at 32, grains 5-7 unallocated.
 * Tables at 4, 5 (redundant) and 7, 8 (primary).
 */
#define TINY_SECTORS 64u
#define GRAIN 4096u

static const char tiny_desc[] = "# Disk DescriptorFile\nversion=1\nCID=0000abcd\nparentCID=ffffffff\n"
                                "createType=\"monolithicSparse\"\nRW 64 SPARSE \"tiny.vmdk\"\n"
                                "ddb.adapterType = \"lsilogic\"\n";

static void build_tiny(uint8_t *img, uint8_t *expect)
{
    memset(img, 0, FILE_SIZE);
    put_header(img, TINY_SECTORS);
    memcpy(img + 512, tiny_desc, strlen(tiny_desc));
    uint32_t gts[2][2] = {{4, 5}, {7, 8}};
    uint64_t gd_at[2] = {3, 6};
    for (int copy = 0; copy < 2; copy++) {
        uint8_t *gd = img + gd_at[copy] * 512;
        test_put_le32(gd, 0, gts[copy][0]);
        test_put_le32(gd, 4, gts[copy][1]);
        uint8_t *gt0 = img + gts[copy][0] * 512, *gt1 = img + gts[copy][1] * 512;
        test_put_le32(gt0, 0, 16);
        test_put_le32(gt0, 4, 24);
        test_put_le32(gt0, 8, VMDK_GTE_ZEROED);
        test_put_le32(gt1, 0, 32);
    }
    memset(img + 16 * 512, 'A', GRAIN);
    memset(img + 24 * 512, 'B', GRAIN);
    memset(img + 32 * 512, 'C', GRAIN);
    memset(expect, 0, TINY_SECTORS * 512);
    memset(expect, 'A', GRAIN);
    memset(expect + GRAIN, 'B', GRAIN);
    memset(expect + 4 * GRAIN, 'C', GRAIN);
}

static imgp_status open_mem(imgp_ctx *ctx, const uint8_t *buf, size_t len, imgp_image **img)
{
    imgp_source *src;
    *img = NULL;
    imgp_status st = imgp_source_open_memory(ctx, buf, len, "tiny.vmdk", &src);
    return st == IMGP_OK ? imgp_image_open_source(ctx, src, NULL, img) : st;
}

static const char *prop(const imgp_image *img, const char *key)
{
    const imgp_image_info *in = imgp_image_get_info(img);
    for (size_t i = 0; i < in->nprops; i++)
        if (strcmp(in->props[i].key, key) == 0)
            return in->props[i].value;
    return NULL;
}

static void test_tiny_sparse(void **state)
{
    (void)state;
    static uint8_t file[FILE_SIZE], expect[TINY_SECTORS * 512], got[TINY_SECTORS * 512];
    build_tiny(file, expect);
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    imgp_image *img;
    assert_int_equal(open_mem(ctx, file, sizeof file, &img), IMGP_OK);
    const imgp_image_info *in = imgp_image_get_info(img);
    assert_string_equal(in->format, "vmdk");
    assert_true(in->readable);
    assert_int_equal(in->virtual_size, TINY_SECTORS * 512);
    assert_int_equal(in->cluster_size, GRAIN);
    assert_null(in->compression);
    assert_false(in->dirty);
    assert_string_equal(prop(img, "create type"), "monolithicSparse");
    assert_string_equal(prop(img, "adapter type"), "lsilogic");
    assert_string_equal(prop(img, "cid"), "0000abcd");
    assert_string_equal(prop(img, "extents"), "1");
    assert_null(prop(img, "grain directory"));

    imgp_bdev *bd;
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    assert_int_equal(bd->size, sizeof got);
    assert_int_equal(imgp_bdev_read(bd, 0, got, sizeof got), IMGP_OK);
    assert_memory_equal(got, expect, sizeof got);
    /* unaligned, across grains of every kind */
    for (size_t off = 0; off < sizeof got; off += 1531) {
        size_t len = sizeof got - off < 9000 ? sizeof got - off : 9000;
        memset(got, 0x5a, len);
        assert_int_equal(imgp_bdev_read(bd, off, got, len), IMGP_OK);
        assert_memory_equal(got, expect + off, len);
    }
    /* status: DATA [0,8K) (two grains), ZERO [8K,12K), UNALLOCATED [12K,16K), DATA, UNALLOCATED to the end */
    static const struct {
        uint64_t off, run;
        imgp_extent_kind kind;
    } runs[] = {{0, 8192, IMGP_EXTENT_DATA},
                {8192, 4096, IMGP_EXTENT_ZERO},
                {12288, 4096, IMGP_EXTENT_UNALLOCATED},
                {16384, 4096, IMGP_EXTENT_DATA},
                {20480, 12288, IMGP_EXTENT_UNALLOCATED}};
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        imgp_extent_kind kind;
        uint64_t run;
        assert_int_equal(imgp_bdev_status(bd, runs[i].off, bd->size - runs[i].off, &kind, &run), IMGP_OK);
        assert_int_equal(kind, runs[i].kind);
        assert_int_equal(run, runs[i].run);
    }
    imgp_extent_kind kind;
    uint64_t run;
    assert_int_equal(imgp_bdev_status(bd, 100, 50, &kind, &run), IMGP_OK);
    assert_int_equal(run, 50);
    imgp_image_close(img);
    imgp_ctx_free(ctx);
}

/* Broken structures found at open or at read. */
static void test_tiny_sparse_broken(void **state)
{
    (void)state;
    static uint8_t file[FILE_SIZE], expect[TINY_SECTORS * 512], got[GRAIN];
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    imgp_image *img;
    imgp_bdev *bd;

    /* the primary directory names a table past the end: the redundant one stands in */
    build_tiny(file, expect);
    test_put_le32(file, 6 * 512 + 4, 4000);
    assert_int_equal(open_mem(ctx, file, sizeof file, &img), IMGP_OK);
    assert_non_null(prop(img, "grain directory"));
    assert_non_null(strstr(prop(img, "grain directory"), "redundant copy at sector 3"));
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    assert_int_equal(imgp_bdev_read(bd, 4 * GRAIN, got, GRAIN), IMGP_OK);
    assert_memory_equal(got, expect + 4 * GRAIN, GRAIN);
    imgp_image_close(img);
    /* ... unless it is broken too: the primary's fault is reported */
    test_put_le32(file, 3 * 512, 5000);
    assert_int_equal(open_mem(ctx, file, sizeof file, &img), IMGP_ERR_CORRUPT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "vmdk: grain directory entry 1 points to a grain table at sector 4000"));
    /* ... or flagged absent */
    build_tiny(file, expect);
    test_put_le32(file, 6 * 512 + 4, 4000);
    test_put_le32(file, VMDK_HDR_FLAGS, VMDK_FLAG_NEWLINE_TEST);
    assert_int_equal(open_mem(ctx, file, sizeof file, &img), IMGP_ERR_CORRUPT);

    /* a grain table entry past the end of the file: a clean error when read */
    build_tiny(file, expect);
    test_put_le32(file, 8 * 512, 39);
    test_put_le32(file, 5 * 512, 39);
    assert_int_equal(open_mem(ctx, file, sizeof file, &img), IMGP_OK);
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    assert_int_equal(imgp_bdev_read(bd, 0, got, GRAIN), IMGP_OK);
    assert_int_equal(imgp_bdev_read(bd, 4 * GRAIN, got, GRAIN), IMGP_ERR_CORRUPT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "grain table entry for grain 4 points to sector 39, past the end"));
    imgp_image_close(img);

    /* a broken embedded descriptor */
    build_tiny(file, expect);
    memcpy(file + 512, "createType=\"x", 13);
    assert_int_equal(open_mem(ctx, file, sizeof file, &img), IMGP_ERR_CORRUPT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "vmdk: embedded descriptor line 1: unterminated quote"));

    /* unclean shutdown shows as dirty; a file shorter than a header is corrupt */
    build_tiny(file, expect);
    file[VMDK_HDR_UNCLEAN] = 1;
    assert_int_equal(open_mem(ctx, file, sizeof file, &img), IMGP_OK);
    assert_true(imgp_image_get_info(img)->dirty);
    imgp_image_close(img);
    assert_int_equal(open_mem(ctx, file, 100, &img), IMGP_ERR_CORRUPT);
    imgp_ctx_free(ctx);
}

/* Every allocation of open, read and status fails in turn: NOMEM, never a
 * crash or a leak, until the image reads as @p expect (@p size bytes). */
static void open_read_failing_each_alloc(const uint8_t *file, size_t len, const uint8_t *expect, size_t size)
{
    uint8_t *got = malloc(size);
    assert_non_null(got);
    for (unsigned n = 1; n < 2000; n++) {
        imgp_ctx *ctx = test_ctx_failing_alloc(n);
        imgp_image *img;
        imgp_bdev *bd = NULL;
        imgp_extent_kind kind;
        uint64_t run;
        imgp_status st = open_mem(ctx, file, len, &img);
        if (st == IMGP_OK)
            st = imgp_image_bdev(img, &bd);
        if (st == IMGP_OK)
            st = imgp_bdev_read(bd, 0, got, size);
        if (st == IMGP_OK)
            st = imgp_bdev_status(bd, 0, bd->size, &kind, &run);
        imgp_image_close(img);
        imgp_ctx_free(ctx);
        if (st == IMGP_OK) {
            assert_true(n > 1); /* something was allocated, and failed, on the way */
            assert_memory_equal(got, expect, size);
            free(got);
            return;
        }
        assert_int_equal(st, IMGP_ERR_NOMEM);
    }
    fail_msg("the open never succeeded");
}

static void test_tiny_sparse_alloc_failures(void **state)
{
    (void)state;
    static uint8_t file[FILE_SIZE], expect[TINY_SECTORS * 512];
    build_tiny(file, expect);
    open_read_failing_each_alloc(file, sizeof file, expect, sizeof expect);
}

/* ---- a tiny streamOptimized image, grain directory through the footer ----
 * 32 sectors, grains of 8 sectors, 4 entries a table (one table): grain 1
 * and grain 3 compressed, the others unallocated.
 */
static size_t build_stream(uint8_t *img, size_t cap, uint8_t *expect, bool bad_lba)
{
    memset(img, 0, cap);
    memset(expect, 0, 32 * 512);
    put_header(img, 32);
    test_put_le32(img, VMDK_HDR_VERSION, 3);
    test_put_le32(img, VMDK_HDR_FLAGS, VMDK_FLAG_NEWLINE_TEST | VMDK_FLAG_COMPRESSED | VMDK_FLAG_MARKERS);
    test_put_le16(img, VMDK_HDR_COMPRESS_ALGORITHM, 1);
    test_put_le64(img, VMDK_HDR_GD_OFFSET, VMDK_GD_AT_END);
    test_put_le64(img, VMDK_HDR_RGD_OFFSET, 0);
    test_put_le64(img, VMDK_HDR_OVERHEAD, 3);
    const char *desc = "createType=\"streamOptimized\"\nRW 32 SPARSE \"s.vmdk\"\n";
    memcpy(img + 512, desc, strlen(desc));
    uint64_t sector = 3;
    uint32_t gte[4] = {0};
    for (unsigned g = 1; g < 4; g += 2) {
        uint8_t plain[GRAIN];
        for (size_t i = 0; i < GRAIN; i++)
            plain[i] = (uint8_t)(i * (g + 1) + i / 512);
        memcpy(expect + g * GRAIN, plain, GRAIN);
        uLongf clen = (uLongf)(cap - sector * 512 - 12);
        assert_int_equal(compress2(img + sector * 512 + 12, &clen, plain, GRAIN, 9), Z_OK);
        test_put_le64(img, sector * 512, bad_lba ? 1 : g * 8);
        test_put_le32(img, sector * 512 + 8, (uint32_t)clen);
        gte[g] = (uint32_t)sector;
        sector += (12 + clen + 511) / 512;
    }
    /* grain table marker, table; directory marker, directory */
    test_put_le64(img, sector * 512, 1);
    test_put_le32(img, sector * 512 + 12, VMDK_MARKER_GT);
    sector++;
    uint64_t gt = sector;
    for (size_t i = 0; i < 4; i++)
        test_put_le32(img, gt * 512 + 4 * i, gte[i]);
    sector++;
    test_put_le64(img, sector * 512, 1);
    test_put_le32(img, sector * 512 + 12, VMDK_MARKER_GD);
    sector++;
    uint64_t gd = sector;
    test_put_le32(img, gd * 512, (uint32_t)gt);
    sector++;
    /* footer marker, footer (the header with the directory's place), end of stream */
    test_put_le64(img, sector * 512, 1);
    test_put_le32(img, sector * 512 + 12, VMDK_MARKER_FOOTER);
    sector++;
    memcpy(img + sector * 512, img, 512);
    test_put_le64(img + sector * 512, VMDK_HDR_GD_OFFSET, gd);
    sector += 2; /* the end-of-stream marker is all zeros */
    assert_true(sector * 512 <= cap);
    return (size_t)sector * 512;
}

static void test_tiny_stream(void **state)
{
    (void)state;
    static uint8_t file[64 * 512], expect[32 * 512], got[32 * 512];
    size_t len = build_stream(file, sizeof file, expect, false);
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    imgp_image *img;
    assert_int_equal(open_mem(ctx, file, len, &img), IMGP_OK);
    const imgp_image_info *in = imgp_image_get_info(img);
    assert_string_equal(in->compression, "zlib");
    assert_string_equal(prop(img, "create type"), "streamOptimized");
    imgp_bdev *bd;
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    assert_int_equal(imgp_bdev_read(bd, 0, got, sizeof got), IMGP_OK);
    assert_memory_equal(got, expect, sizeof got);
    assert_int_equal(imgp_bdev_read(bd, GRAIN + 100, got, 50), IMGP_OK); /* from the cached grain */
    assert_memory_equal(got, expect + GRAIN + 100, 50);
    imgp_extent_kind kind;
    uint64_t run;
    assert_int_equal(imgp_bdev_status(bd, GRAIN, bd->size - GRAIN, &kind, &run), IMGP_OK);
    assert_int_equal(kind, IMGP_EXTENT_DATA);
    assert_int_equal(run, GRAIN);
    imgp_image_close(img);

    /* broken: a marker's lba that is not its grain's; a footer gone */
    len = build_stream(file, sizeof file, expect, true);
    assert_int_equal(open_mem(ctx, file, len, &img), IMGP_OK);
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    assert_int_equal(imgp_bdev_read(bd, GRAIN, got, 10), IMGP_ERR_CORRUPT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "says lba 1"));
    imgp_image_close(img);
    len = build_stream(file, sizeof file, expect, false);
    memset(file + len - 3 * 512, 0, 512);
    assert_int_equal(open_mem(ctx, file, len, &img), IMGP_ERR_CORRUPT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "no footer marker"));
    /* a compressed stream cut short, or inflating to more than a grain */
    len = build_stream(file, sizeof file, expect, false);
    uint32_t clen = (uint32_t)file[3 * 512 + 8] | (uint32_t)file[3 * 512 + 9] << 8;
    test_put_le32(file, 3 * 512 + 8, clen / 2);
    assert_int_equal(open_mem(ctx, file, len, &img), IMGP_OK);
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    assert_int_equal(imgp_bdev_read(bd, GRAIN, got, 10), IMGP_ERR_CORRUPT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "truncated"));
    imgp_image_close(img);
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_DECOMPRESSED, 1024), IMGP_OK);
    assert_int_equal(open_mem(ctx, file, len, &img), IMGP_ERR_LIMIT);
    imgp_ctx_free(ctx);
}

static void test_tiny_stream_alloc_failures(void **state)
{
    (void)state;
    static uint8_t file[64 * 512], expect[32 * 512];
    size_t len = build_stream(file, sizeof file, expect, false);
    open_read_failing_each_alloc(file, len, expect, sizeof expect);
}

/* ---- detection, and what is recognised but not read ---- */

static void test_probe_and_unread(void **state)
{
    (void)state;
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    imgp_image *img;
    /* a descriptor: detected, but a memory source cannot open its extent file */
    assert_int_equal(open_mem(ctx, (const uint8_t *)qemu_flat, strlen(qemu_flat), &img), IMGP_ERR_UNSUPPORTED);
    assert_non_null(strstr(imgp_ctx_message(ctx), "vmdk: extent file 'disk-flat.vmdk'"));
    /* without the signature line, createType= at the start of a line will do */
    const char *bare = "createType=\"monolithicFlat\"\nRW 1 ZERO\n";
    assert_int_equal(open_mem(ctx, (const uint8_t *)bare, strlen(bare), &img), IMGP_OK);
    assert_string_equal(imgp_image_get_info(img)->format, "vmdk");
    assert_int_equal(imgp_image_get_info(img)->virtual_size, 512);
    imgp_image_close(img);
    /* an extent file named outside the descriptor's directory is refused */
    const char *escape = "createType=\"vmfs\"\nRW 8 VMFS \"../../dev/sda\"\n";
    assert_int_equal(open_mem(ctx, (const uint8_t *)escape, strlen(escape), &img), IMGP_ERR_UNSUPPORTED);
    assert_non_null(strstr(imgp_ctx_message(ctx), "not a name beside the descriptor"));
    const char *absolute = "createType=\"vmfs\"\nRW 8 VMFS \"/dev/sda\"\n";
    assert_int_equal(open_mem(ctx, (const uint8_t *)absolute, strlen(absolute), &img), IMGP_ERR_UNSUPPORTED);

    /* ESX 2 COWD: recognised, not read, with its size */
    uint8_t cowd[512] = "COWD";
    test_put_le32(cowd, 4, 1);
    test_put_le32(cowd, VMDK_COWD_NUM_SECTORS, 2048);
    assert_int_equal(open_mem(ctx, cowd, sizeof cowd, &img), IMGP_OK);
    const imgp_image_info *in = imgp_image_get_info(img);
    assert_string_equal(in->format, "vmdk");
    assert_false(in->readable);
    assert_non_null(strstr(in->unreadable_reason, "COWD"));
    assert_int_equal(in->virtual_size, 2048 * 512);
    imgp_bdev *bd;
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_ERR_UNSUPPORTED);
    imgp_image_close(img);
    /* seSparse likewise */
    uint8_t se[512] = {0};
    test_put_le64(se, 0, VMDK_SESPARSE_MAGIC);
    test_put_le64(se, VMDK_SESPARSE_VERSION_OFF, VMDK_SESPARSE_VERSION);
    test_put_le64(se, VMDK_SESPARSE_CAPACITY, 4096);
    assert_int_equal(open_mem(ctx, se, sizeof se, &img), IMGP_OK);
    assert_false(imgp_image_get_info(img)->readable);
    assert_non_null(strstr(imgp_image_get_info(img)->unreadable_reason, "seSparse"));
    assert_int_equal(imgp_image_get_info(img)->virtual_size, 4096 * 512);
    imgp_image_close(img);
    /* refused createTypes and extents: recognised, not read, and info says why */
    static const struct {
        const char *text, *says;
    } refused[] = {
        {"createType=\"fullDevice\"\nRW 8 FLAT \"/dev/sdb\" 0\n", "physical device"},
        {"createType=\"vmfsRawDeviceMap\"\nRW 8 VMFSRDM \"x-rdm.vmdk\"\n", "raw device mapping"},
        {"createType=\"custom\"\nRW 4 ZERO\nNOACCESS 4 FLAT \"x\" 0\n", "extent 2 (descriptor line 3) is NOACCESS"},
        {"createType=\"seSparse\"\nRW 8 SESPARSE \"x-sesparse.vmdk\"\n", "seSparse"},
        {"createType=\"somethingNew\"\nRW 8 ZERO\n", "createType 'somethingNew'"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        assert_int_equal(open_mem(ctx, (const uint8_t *)refused[i].text, strlen(refused[i].text), &img), IMGP_OK);
        in = imgp_image_get_info(img);
        assert_false(in->readable);
        if (!strstr(in->unreadable_reason, refused[i].says))
            fail_msg("case %zu: %s", i, in->unreadable_reason);
        assert_int_equal(in->virtual_size, 8 * 512);
        assert_int_equal(imgp_image_bdev(img, &bd), IMGP_ERR_UNSUPPORTED);
        imgp_image_close(img);
    }
    /* a descriptor without createType or extents */
    const char *no_type = "# Disk DescriptorFile\nRW 8 ZERO\n";
    assert_int_equal(open_mem(ctx, (const uint8_t *)no_type, strlen(no_type), &img), IMGP_ERR_CORRUPT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "no createType"));
    const char *no_extents = "# Disk DescriptorFile\ncreateType=\"monolithicFlat\"\n";
    assert_int_equal(open_mem(ctx, (const uint8_t *)no_extents, strlen(no_extents), &img), IMGP_ERR_CORRUPT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "no extents"));
    imgp_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_desc_qemu_flat),
        cmocka_unit_test(test_desc_create_types),
        cmocka_unit_test(test_desc_mixed_extents),
        cmocka_unit_test(test_desc_crlf_and_padding),
        cmocka_unit_test(test_desc_broken),
        cmocka_unit_test(test_desc_nul_bytes),
        cmocka_unit_test(test_desc_limits),
        cmocka_unit_test(test_desc_alloc_failures),
        cmocka_unit_test(test_header_valid),
        cmocka_unit_test(test_header_broken),
        cmocka_unit_test(test_header_gd_location),
        cmocka_unit_test(test_gte_and_marker),
        cmocka_unit_test(test_tiny_sparse),
        cmocka_unit_test(test_tiny_sparse_broken),
        cmocka_unit_test(test_tiny_sparse_alloc_failures),
        cmocka_unit_test(test_tiny_stream),
        cmocka_unit_test(test_tiny_stream_alloc_failures),
        cmocka_unit_test(test_probe_and_unread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
