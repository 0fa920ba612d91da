/*
 * Unit tests of the LVM2 reader (src/partition/lvm.c, lvm_meta.c, lvm_vg.c):
 * the label, PV header and metadata area header on byte arrays with one
 * field broken at a time (CRCs computed here, checked against zlib's CRC-32);
 * the text parser on good and broken texts; the volume group model; and
 * whole scans over a disk in memory whose linear and striped LVs are read
 * back byte for byte, also with every allocation failing in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <zlib.h>

#include "partition/lvm.h"
#include "support/testsupport.h"

static imgp_ctx *ctx_new(void)
{
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    assert_non_null(ctx);
    return ctx;
}

/* lvm2's CRC from zlib's: zlib inverts before and after, lvm2 does neither. */
static uint32_t crc_oracle(uint32_t init, const uint8_t *buf, size_t len)
{
    return ~(uint32_t)crc32(~init & 0xffffffffu, buf, (uInt)len) & 0xffffffffu;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint8_t rng_byte(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint8_t)(rng_state >> 24);
}

static void test_crc(void **state)
{
    (void)state;
    uint8_t buf[700];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = rng_byte();
    for (size_t len = 0; len <= sizeof buf; len += 7)
        assert_int_equal(lvm_crc(LVM_INITIAL_CRC, buf, len), crc_oracle(LVM_INITIAL_CRC, buf, len));
    /* continuing a CRC over a second piece equals the CRC of both (the wrapped metadata text) */
    assert_int_equal(lvm_crc(lvm_crc(LVM_INITIAL_CRC, buf, 100), buf + 100, 300),
                     lvm_crc(LVM_INITIAL_CRC, buf, 400));
}

static void test_uuid_format(void **state)
{
    (void)state;
    char out[LVM_UUID_STR_LEN + 1];
    lvm_uuid_format("JwTjYfysidhOQfbYWTd4L13kw5BtUsRW", out);
    assert_string_equal(out, "JwTjYf-ysid-hOQf-bYWT-d4L1-3kw5-BtUsRW");
}

/* ---- the label ---- */

#define UUID0 "AAAAAAbbbbCCCCddddEEEEffffGGGGGG"
#define UUID0_DASHED "AAAAAA-bbbb-CCCC-dddd-EEEE-ffff-GGGGGG"
#define UUID1 "HHHHHHiiiiJJJJkkkkLLLLmmmmNNNNNN"

static void seal_label(uint8_t *sec)
{
    test_put_le32(sec, LVM_LABEL_CRC_XL, crc_oracle(LVM_INITIAL_CRC, sec + 20, 492));
}

/* A label in sector @p sector of @p head (2048 bytes): one data area, two metadata areas. */
static void put_label(uint8_t *head, unsigned sector, const char *uuid, uint64_t dev_size, uint64_t pe_start,
                      uint64_t mda_off, uint64_t mda_size)
{
    uint8_t *sec = head + sector * 512;
    memset(sec, 0, 512);
    memcpy(sec, "LABELONE", 8);
    test_put_le64(sec, 8, sector);
    test_put_le32(sec, 20, 32);
    memcpy(sec + 24, "LVM2 001", 8);
    memcpy(sec + 32, uuid, 32);
    test_put_le64(sec, 64, dev_size);
    test_put_le64(sec, 72, pe_start); /* data area: offset, size 0 */
    test_put_le64(sec, 80, 0);
    /* 88: end of data areas */
    test_put_le64(sec, 104, mda_off);
    test_put_le64(sec, 112, mda_size);
    test_put_le64(sec, 120, dev_size - mda_size);
    test_put_le64(sec, 128, mda_size);
    /* 136: end of metadata areas */
    seal_label(sec);
}

static void test_label_good(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t head[2048] = {0};
    lvm_label l;
    for (unsigned s = 0; s < 4; s++) {
        memset(head, 0, sizeof head);
        put_label(head, s, UUID0, 1 << 20, 65536, 4096, 61440);
        assert_int_equal(lvm_label_parse(ctx, head, sizeof head, &l), IMGP_OK);
        assert_int_equal(l.sector, s);
        assert_string_equal(l.pv_uuid, UUID0);
        assert_int_equal(l.device_size, 1 << 20);
        assert_int_equal(l.ndata, 1);
        assert_int_equal(l.data[0].offset, 65536);
        assert_int_equal(l.nmeta, 2);
        assert_int_equal(l.meta[0].offset, 4096);
        assert_int_equal(l.meta[0].size, 61440);
        assert_int_equal(l.meta[1].offset, (1 << 20) - 61440);
    }
    /* too short to hold sector 1: not found */
    assert_int_equal(lvm_label_parse(ctx, head, 511, &l), IMGP_ERR_NOT_FOUND);
    memset(head, 0, sizeof head);
    assert_int_equal(lvm_label_parse(ctx, head, sizeof head, &l), IMGP_ERR_NOT_FOUND);
    imgp_ctx_free(ctx);
}

/* Break one thing of a good label in sector 1; expect @p want and a message containing @p msg. */
static void expect_label(imgp_ctx *ctx, uint8_t *head, bool reseal, imgp_status want, const char *msg)
{
    lvm_label l;
    if (reseal)
        seal_label(head + 512);
    assert_int_equal(lvm_label_parse(ctx, head, 2048, &l), want);
    if (!strstr(imgp_ctx_message(ctx), msg))
        fail_msg("message '%s' lacks '%s'", imgp_ctx_message(ctx), msg);
}

static void test_label_broken(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t head[2048] = {0};

    put_label(head, 1, UUID0, 1 << 20, 65536, 4096, 61440);
    test_put_le64(head + 512, 8, 2); /* says sector 2 */
    expect_label(ctx, head, true, IMGP_ERR_CORRUPT, "belongs in sector 2");

    put_label(head, 1, UUID0, 1 << 20, 65536, 4096, 61440);
    head[512 + 300] ^= 1; /* a bit flipped under the CRC */
    expect_label(ctx, head, false, IMGP_ERR_CORRUPT, "checksum");

    put_label(head, 1, UUID0, 1 << 20, 65536, 4096, 61440);
    memcpy(head + 512 + 24, "LVM1 001", 8);
    expect_label(ctx, head, true, IMGP_ERR_UNSUPPORTED, "type 'LVM1 001'");

    put_label(head, 1, UUID0, 1 << 20, 65536, 4096, 61440);
    test_put_le32(head + 512, 20, 480); /* the PV header would not fit */
    expect_label(ctx, head, true, IMGP_ERR_CORRUPT, "PV header offset 480");

    put_label(head, 1, UUID0, 1 << 20, 65536, 4096, 61440);
    head[512 + 40] = '-';
    expect_label(ctx, head, true, IMGP_ERR_CORRUPT, "PV UUID");

    /* a PV header so near the end that its data area list has no room for its zero entry */
    put_label(head, 1, UUID0, 1 << 20, 65536, 4096, 61440);
    memcpy(head + 512 + 472, UUID0, 32);
    test_put_le32(head + 512, 20, 472);
    expect_label(ctx, head, true, IMGP_ERR_CORRUPT, "the data area list runs past the sector");
    /* a metadata area list without its zero entry */
    put_label(head, 1, UUID0, 1 << 20, 65536, 4096, 61440);
    memcpy(head + 512 + 400, UUID0, 32);
    test_put_le32(head + 512, 20, 400);
    test_put_le64(head + 512, 440, 65536); /* a data area */
    test_put_le64(head + 512, 448, 0);
    test_put_le64(head + 512, 456, 0);     /* the end of the data areas */
    test_put_le64(head + 512, 464, 0);
    test_put_le64(head + 512, 472, 4096);  /* two metadata areas, then the end of the sector */
    test_put_le64(head + 512, 480, 512);
    test_put_le64(head + 512, 488, 8192);
    test_put_le64(head + 512, 496, 512);
    expect_label(ctx, head, true, IMGP_ERR_CORRUPT, "the metadata area list runs past the sector");

    /* nine data areas */
    put_label(head, 1, UUID0, 1 << 20, 65536, 4096, 61440);
    for (size_t i = 0; i < 9; i++)
        test_put_le64(head + 512, 72 + 16 * i, 65536 + i);
    test_put_le64(head + 512, 72 + 16 * 9, 0);
    expect_label(ctx, head, true, IMGP_ERR_CORRUPT, "more than 8 data areas");

    /* a broken label in sector 0 does not hide a good one in sector 2 */
    memset(head, 0, sizeof head);
    put_label(head, 0, UUID1, 1 << 20, 65536, 4096, 61440);
    head[100] ^= 1;
    put_label(head, 2, UUID0, 1 << 20, 65536, 4096, 61440);
    lvm_label l;
    assert_int_equal(lvm_label_parse(ctx, head, sizeof head, &l), IMGP_OK);
    assert_int_equal(l.sector, 2);
    assert_string_equal(l.pv_uuid, UUID0);
    /* two broken labels: the first one's problem is reported */
    head[2 * 512 + 100] ^= 1;
    test_put_le64(head, 8, 3);
    seal_label(head);
    assert_int_equal(lvm_label_parse(ctx, head, sizeof head, &l), IMGP_ERR_CORRUPT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "sector 0 says it belongs in sector 3"));
    imgp_ctx_free(ctx);
}

/* ---- the metadata area header and the text's place ---- */

static void seal_mda(uint8_t *h) { test_put_le32(h, 0, crc_oracle(LVM_INITIAL_CRC, h + 4, 508)); }

static void put_mda_header(uint8_t *h, uint64_t start, uint64_t size, uint64_t text_off, uint64_t text_size,
                           uint32_t text_crc, uint32_t flags)
{
    memset(h, 0, 512);
    memcpy(h + 4, " LVM2 x[5A%r0N*>", 16);
    test_put_le32(h, 20, 1);
    test_put_le64(h, 24, start);
    test_put_le64(h, 32, size);
    test_put_le64(h, 40, text_off);
    test_put_le64(h, 48, text_size);
    test_put_le32(h, 56, text_crc);
    test_put_le32(h, 60, flags);
    seal_mda(h);
}

static void expect_mda(imgp_ctx *ctx, uint8_t *h, bool reseal, imgp_status want, const char *msg)
{
    lvm_mda_header m;
    if (reseal)
        seal_mda(h);
    assert_int_equal(lvm_mda_header_parse(ctx, h, 512, 4096, &m), want);
    if (!strstr(imgp_ctx_message(ctx), msg))
        fail_msg("message '%s' lacks '%s'", imgp_ctx_message(ctx), msg);
}

static void test_mda_header(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t h[512];
    lvm_mda_header m;
    put_mda_header(h, 4096, 61440, 512, 1000, 0x12345678, 0);
    assert_int_equal(lvm_mda_header_parse(ctx, h, sizeof h, 4096, &m), IMGP_OK);
    assert_int_equal(m.start, 4096);
    assert_int_equal(m.size, 61440);
    assert_int_equal(m.text.offset, 512);
    assert_int_equal(m.text.size, 1000);
    assert_int_equal(m.text.checksum, 0x12345678);
    assert_int_equal(lvm_mda_header_parse(ctx, h, 511, 4096, &m), IMGP_ERR_CORRUPT);

    h[5] = 'X';
    expect_mda(ctx, h, true, IMGP_ERR_CORRUPT, "no magic");
    put_mda_header(h, 4096, 61440, 512, 1000, 0x12345678, 0);
    h[200] = 1;
    expect_mda(ctx, h, false, IMGP_ERR_CORRUPT, "checksum");
    put_mda_header(h, 4096, 61440, 512, 1000, 0x12345678, 0);
    test_put_le32(h, 20, 2);
    expect_mda(ctx, h, true, IMGP_ERR_UNSUPPORTED, "version 2");
    put_mda_header(h, 8192, 61440, 512, 1000, 0x12345678, 0);
    expect_mda(ctx, h, false, IMGP_ERR_CORRUPT, "says it is at 0x2000");
    put_mda_header(h, 4096, 511, 512, 1000, 0x12345678, 0);
    expect_mda(ctx, h, false, IMGP_ERR_CORRUPT, "smaller than its header");
    imgp_ctx_free(ctx);
}

static imgp_status span_of(imgp_ctx *ctx, uint64_t size, uint64_t off, uint64_t len, uint32_t flags,
                           uint64_t limit, lvm_text_span *sp)
{
    lvm_mda_header h = {.start = 4096, .size = size, .text = {off, len, 0, flags}};
    return lvm_text_span_get(ctx, &h, limit, sp);
}

static void test_text_span(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    lvm_text_span sp;
    assert_int_equal(span_of(ctx, 61440, 2048, 1449, 0, 1 << 20, &sp), IMGP_OK);
    assert_int_equal(sp.off1, 2048);
    assert_int_equal(sp.len1, 1449);
    assert_int_equal(sp.len2, 0);
    /* the ring: 100 bytes at the end of the area, the rest just after the header */
    assert_int_equal(span_of(ctx, 61440, 61340, 1000, 0, 1 << 20, &sp), IMGP_OK);
    assert_int_equal(sp.off1, 61340);
    assert_int_equal(sp.len1, 100);
    assert_int_equal(sp.off2, 512);
    assert_int_equal(sp.len2, 900);
    /* exactly to the end: no wrap */
    assert_int_equal(span_of(ctx, 61440, 60440, 1000, 0, 1 << 20, &sp), IMGP_OK);
    assert_int_equal(sp.len2, 0);
    /* no metadata, or an area marked ignored */
    assert_int_equal(span_of(ctx, 61440, 0, 0, 0, 1 << 20, &sp), IMGP_ERR_NOT_FOUND);
    assert_int_equal(span_of(ctx, 61440, 2048, 1449, LVM_RLOCN_IGNORED, 1 << 20, &sp), IMGP_ERR_NOT_FOUND);
    /* outside the ring */
    assert_int_equal(span_of(ctx, 61440, 100, 1000, 0, 1 << 20, &sp), IMGP_ERR_CORRUPT);
    assert_int_equal(span_of(ctx, 61440, 61440, 1000, 0, 1 << 20, &sp), IMGP_ERR_CORRUPT);
    assert_int_equal(span_of(ctx, 61440, 512, 61440 - 511, 0, 1 << 20, &sp), IMGP_ERR_CORRUPT);
    assert_int_equal(span_of(ctx, 61440, 512, 0, 0, 1 << 20, &sp), IMGP_ERR_CORRUPT);
    /* a ring of 2^64 bytes: consistent, and refused by the limit */
    assert_int_equal(span_of(ctx, UINT64_MAX, UINT64_MAX - 10, UINT64_MAX - 600, 0, 16u << 20, &sp),
                     IMGP_ERR_LIMIT);
    /* 1 GiB of text in a 2 GiB area: over the limit, refused before anything is read */
    assert_int_equal(span_of(ctx, 2ull << 30, 512, 1ull << 30, 0, 16u << 20, &sp), IMGP_ERR_LIMIT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "limit"));
    imgp_ctx_free(ctx);
}

/* ---- the text parser ---- */

static const char sample_text[] =
    "vg0 {\n"
    "id = \"PcTCeP-TmkT-5YcZ-ZYJP-P2yh-UfOc-7rPi47\"\n"
    "seqno = 2\n"
    "status = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\n"
    "flags = []\n"
    "extent_size = 2048\n"
    "physical_volumes {\n"
    "\n"
    "pv0 {\n"
    "id = \"JwTjYf-ysid-hOQf-bYWT-d4L1-3kw5-BtUsRW\"\n"
    "device = \"/dev/loop0\"\t# a hint only\n"
    "pe_start = 2048\n"
    "pe_count = 9\n"
    "}\n"
    "}\n"
    "}\n"
    "# Generated by LVM2 version 2.03.16(2) (2022-05-18): Wed Nov 25 01:44:51 2026\n"
    "contents = \"Text Format Volume Group\"\n"
    "version = 1\n"
    "description = \"Write from lvcreate --config 'filter=[ \\\"a|^/dev/loop0$|\\\" ]' \\\\ x\\n\"\n"
    "neg = -42\n"
    "ratio = 1.50\n"
    "quoted = 'single \\ \"quoted\"'\n"
    "bare = word\n"
    "mixed = [ 1, \"two\" 3.0 , bare ]\n"
    "\"quoted key\" = 7\n"
    "creation_time = 1795571091\t# Wed Nov 25 01:44:51 2026\n";

static lvm_meta *parse_ok(imgp_ctx *ctx, const char *text, size_t len)
{
    lvm_meta *m = NULL;
    imgp_status st = lvm_meta_parse(ctx, text, len, &m);
    if (st != IMGP_OK)
        fail_msg("parse failed: %s", imgp_ctx_message(ctx));
    assert_non_null(m);
    return m;
}

static void test_meta_good(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    /* with the NUL lvm2 writes after the text */
    lvm_meta *m = parse_ok(ctx, sample_text, sizeof sample_text);
    const lvm_meta_node *root = lvm_meta_root(m);
    assert_int_equal(root->kind, LVM_META_SECTION);
    const lvm_meta_node *vg = root->child;
    assert_string_equal(vg->key, "vg0");
    assert_int_equal(vg->kind, LVM_META_SECTION);
    assert_int_equal(vg->line, 1);
    assert_int_equal(lvm_meta_get(vg, "seqno")->num, 2);
    const lvm_meta_node *st = lvm_meta_get(vg, "status");
    assert_int_equal(st->kind, LVM_META_ARRAY);
    assert_int_equal(st->nchildren, 3);
    assert_string_equal(st->child->next->str, "READ");
    assert_null(st->child->key);
    assert_int_equal(lvm_meta_get(vg, "flags")->nchildren, 0);
    const lvm_meta_node *pv0 = lvm_meta_get(lvm_meta_get(vg, "physical_volumes"), "pv0");
    assert_non_null(pv0);
    assert_int_equal(pv0->line, 9);
    assert_string_equal(lvm_meta_get(pv0, "device")->str, "/dev/loop0");
    assert_int_equal(lvm_meta_get(pv0, "pe_count")->num, 9);

    assert_string_equal(lvm_meta_get(root, "description")->str,
                        "Write from lvcreate --config 'filter=[ \"a|^/dev/loop0$|\" ]' \\ x\\n");
    assert_int_equal(lvm_meta_get(root, "neg")->num, -42);
    assert_int_equal(lvm_meta_get(root, "ratio")->kind, LVM_META_FLOAT);
    assert_string_equal(lvm_meta_get(root, "ratio")->str, "1.50");
    assert_string_equal(lvm_meta_get(root, "quoted")->str, "single \\ \"quoted\"");
    assert_string_equal(lvm_meta_get(root, "bare")->str, "word");
    const lvm_meta_node *mixed = lvm_meta_get(root, "mixed");
    assert_int_equal(mixed->nchildren, 4);
    assert_int_equal(mixed->child->kind, LVM_META_INT);
    assert_int_equal(mixed->child->next->kind, LVM_META_STRING);
    assert_int_equal(mixed->child->next->next->kind, LVM_META_FLOAT);
    assert_string_equal(mixed->child->next->next->next->str, "bare");
    assert_int_equal(lvm_meta_get(root, "quoted key")->num, 7);
    assert_int_equal(lvm_meta_get(root, "creation_time")->num, 1795571091);
    assert_null(lvm_meta_get(root, "absent"));
    assert_null(lvm_meta_get(lvm_meta_get(root, "neg"), "x")); /* not a section */
    lvm_meta_free(m);

    /* numbers as strtoll(.., 0) reads them; the extremes; duplicates: the first is found */
    static const char nums[] = "a = 010\nb = -9223372036854775808\nc = 9223372036854775807\nd = +5\n"
                               "a = 3\ncreation_time = 99999999999999999999\n.5x = 1\n";
    m = parse_ok(ctx, nums, sizeof nums - 1);
    root = lvm_meta_root(m);
    assert_int_equal(lvm_meta_get(root, "a")->num, 8);
    assert_true(lvm_meta_get(root, "b")->num == INT64_MIN);
    assert_true(lvm_meta_get(root, "c")->num == INT64_MAX);
    assert_int_equal(lvm_meta_get(root, "d")->num, 5);
    /* an older lvm2 could write a creation_time that does not fit: read past, as lvm2 does */
    assert_int_equal(lvm_meta_get(root, "creation_time")->num, 0);
    assert_int_equal(lvm_meta_get(root, ".5x")->num, 1); /* a name may start with anything */
    assert_int_equal(lvm_meta_node_count(m), 7);
    lvm_meta_free(m);

    m = parse_ok(ctx, "", 0);
    assert_null(lvm_meta_root(m)->child);
    lvm_meta_free(m);
    m = parse_ok(ctx, "# only a comment", 16);
    assert_int_equal(lvm_meta_node_count(m), 0);
    lvm_meta_free(m);
    imgp_ctx_free(ctx);
}

static void expect_meta(imgp_ctx *ctx, const char *text, size_t len, imgp_status want, const char *msg)
{
    lvm_meta *m = (lvm_meta *)1;
    imgp_status st = lvm_meta_parse(ctx, text, len, &m);
    if (st != want)
        fail_msg("'%.40s': status %s, not %s (%s)", text, imgp_status_name(st), imgp_status_name(want),
                 imgp_ctx_message(ctx));
    assert_null(m);
    if (!strstr(imgp_ctx_message(ctx), msg))
        fail_msg("'%.40s': message '%s' lacks '%s'", text, imgp_ctx_message(ctx), msg);
}
#define EXPECT_META(ctx, lit, st, msg) expect_meta(ctx, lit, sizeof lit - 1, st, msg)

static void test_meta_broken(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    EXPECT_META(ctx, "a = \"unterminated\n\n", IMGP_ERR_CORRUPT, "line 1: unterminated string");
    EXPECT_META(ctx, "a = \"ends in a backslash\\\"", IMGP_ERR_CORRUPT, "unterminated string");
    EXPECT_META(ctx, "a = 'unterminated", IMGP_ERR_CORRUPT, "unterminated string");
    EXPECT_META(ctx, "vg {\n a = 1\n", IMGP_ERR_CORRUPT, "line 1: section 'vg' is not closed");
    EXPECT_META(ctx, "vg {\n}\n}\n", IMGP_ERR_CORRUPT, "line 3: '}' without a section");
    EXPECT_META(ctx, "a = [ 1, 2\n", IMGP_ERR_CORRUPT, "unterminated array");
    EXPECT_META(ctx, "a = [ [ 1 ] ]", IMGP_ERR_CORRUPT, "arrays do not nest");
    EXPECT_META(ctx, "a = [ 1,, 2 ]", IMGP_ERR_CORRUPT, "expected a value");
    EXPECT_META(ctx, "a = ", IMGP_ERR_CORRUPT, "expected a value");
    EXPECT_META(ctx, "a = }", IMGP_ERR_CORRUPT, "expected a value");
    EXPECT_META(ctx, "a\nb = 1", IMGP_ERR_CORRUPT, "line 1: expected '=' or '{'");
    EXPECT_META(ctx, "= 1", IMGP_ERR_CORRUPT, "expected a name");
    EXPECT_META(ctx, "\"\" = 1", IMGP_ERR_CORRUPT, "empty name");
    EXPECT_META(ctx, "a = 99999999999999999999", IMGP_ERR_CORRUPT, "integer out of range");
    EXPECT_META(ctx, "a = -9223372036854775809", IMGP_ERR_CORRUPT, "integer out of range");
    EXPECT_META(ctx, "a = 12abc", IMGP_ERR_CORRUPT, "malformed number");
    EXPECT_META(ctx, "a = 1.2.3", IMGP_ERR_CORRUPT, "malformed number");
    EXPECT_META(ctx, "a = 09", IMGP_ERR_CORRUPT, "malformed integer");
    EXPECT_META(ctx, "a = -", IMGP_ERR_CORRUPT, "without digits");
    EXPECT_META(ctx, "a = 1\n\nb = \"x\0y\"", IMGP_ERR_CORRUPT, "line 3: NUL byte at offset 13");
    EXPECT_META(ctx, "a = \x01", IMGP_ERR_CORRUPT, "not text (byte 0x01");
    EXPECT_META(ctx, "a = \x7f", IMGP_ERR_CORRUPT, "not text (byte 0x7f");

    /* 10,000 nested sections: refused at the depth bound, without recursing that deep */
    size_t n = 10000;
    char *deep = malloc(n * 4 + 1);
    assert_non_null(deep);
    for (size_t i = 0; i < n; i++)
        memcpy(deep + i * 2, "a{", 2);
    for (size_t i = 0; i < n; i++)
        deep[n * 2 + i] = '}';
    expect_meta(ctx, deep, n * 3, IMGP_ERR_LIMIT, "sections nest deeper than 32");
    /* and at the bound itself, accepted */
    size_t d = LVM_META_MAX_DEPTH;
    memcpy(deep + d * 2, deep + n * 2, d);
    lvm_meta *m = parse_ok(ctx, deep, d * 3);
    assert_int_equal(lvm_meta_node_count(m), d);
    lvm_meta_free(m);
    /* 10,000 nested arrays */
    memset(deep, '[', n);
    expect_meta(ctx, deep, n, IMGP_ERR_CORRUPT, "expected a name");
    memcpy(deep, "a = ", 4);
    expect_meta(ctx, deep, n, IMGP_ERR_CORRUPT, "arrays do not nest");
    free(deep);

    /* more nodes than the bound */
    size_t count = LVM_META_MAX_NODES + 1;
    char *wide = malloc(count * 2 + 8);
    assert_non_null(wide);
    memcpy(wide, "a = [", 5);
    for (size_t i = 0; i < count; i++)
        memcpy(wide + 5 + i * 2, "0,", 2);
    wide[5 + count * 2] = ']';
    expect_meta(ctx, wide, 6 + count * 2, IMGP_ERR_LIMIT, "more than");
    free(wide);
    imgp_ctx_free(ctx);
}

/* ---- the volume group model ---- */

/* Metadata of a VG "vg0" with PVs pv0 (UUID0) and pv1 (UUID1), 32 extents of 8 sectors each,
 * data at sector 128; @p lvs is the logical_volumes section's body. */
static char *vg_text(int seqno, const char *lvs)
{
    static const char fmt[] =
        "vg0 {\n"
        "id = \"VVVVVV-gggg-0000-1111-2222-3333-444444\"\n"
        "seqno = %d\n"
        "format = \"lvm2\"\n"
        "status = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\n"
        "flags = []\n"
        "extent_size = 8\n"
        "max_lv = 0\nmax_pv = 0\nmetadata_copies = 0\n\n"
        "physical_volumes {\n\n"
        "pv0 {\nid = \"AAAAAA-bbbb-CCCC-dddd-EEEE-ffff-GGGGGG\"\ndevice = \"/dev/sda1\"\n\n"
        "status = [\"ALLOCATABLE\"]\nflags = []\ndev_size = 384\npe_start = 128\npe_count = 32\n}\n\n"
        "pv1 {\nid = \"HHHHHH-iiii-JJJJ-kkkk-LLLL-mmmm-NNNNNN\"\ndevice = \"/dev/sda2\"\n\n"
        "status = [\"ALLOCATABLE\"]\nflags = []\ndev_size = 384\npe_start = 128\npe_count = 32\n}\n}\n\n"
        "logical_volumes {\n%s}\n\n}\n"
        "# Generated by LVM2 version 2.03.16(2) (2022-05-18): Tue Nov 14 22:13:20 2023\n\n"
        "contents = \"Text Format Volume Group\"\nversion = 1\n\n"
        "description = \"Write from lvcreate -n \\\"lin\\\" vg0.\"\n\n"
        "creation_host = \"host\"\t# Linux host 6.1.0 #1 SMP x86_64\n"
        "creation_time = 1700000000\t# Tue Nov 14 22:13:20 2023\n";
    size_t len = sizeof fmt + strlen(lvs) + 32;
    char *s = malloc(len);
    assert_non_null(s);
    snprintf(s, len, fmt, seqno, lvs);
    return s;
}

#define LV_HEAD(name, nsegs) \
    name " {\nid = \"" name "id-0000-1111-2222-3333-4444-555555\"\nstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\n" \
         "flags = []\ncreation_time = 1700000000\ncreation_host = \"host\"\nsegment_count = " #nsegs "\n\n"
#define SEG_LINEAR(n, start, count, pv, pe)                                                                \
    "segment" #n " {\nstart_extent = " #start "\nextent_count = " #count "\n\ntype = \"striped\"\n"         \
    "stripe_count = 1\n\nstripes = [\n\"" pv "\", " #pe "\n]\n}\n"

/* lin: 40 extents, 24 on pv0 then 16 on pv1 (written in the other order); str: 8 extents in
 * two stripes of 2-sector chunks, pv0 from extent 24 and pv1 from extent 16. */
static const char lvs_main[] =
    LV_HEAD("lin", 2) SEG_LINEAR(2, 24, 16, "pv1", 0) SEG_LINEAR(1, 0, 24, "pv0", 0) "}\n"
    LV_HEAD("str", 1)
    "segment1 {\nstart_extent = 0\nextent_count = 8\n\ntype = \"striped\"\nstripe_count = 2\nstripe_size = 2\n\n"
    "stripes = [\n\"pv0\", 24,\n\"pv1\", 16\n]\n}\n}\n";

static lvm_vg *vg_ok(imgp_ctx *ctx, const char *lvs, lvm_meta **m)
{
    char *text = vg_text(3, lvs);
    *m = parse_ok(ctx, text, strlen(text) + 1);
    free(text);
    lvm_vg *vg = NULL;
    if (lvm_vg_from_meta(ctx, *m, &vg) != IMGP_OK)
        fail_msg("vg: %s", imgp_ctx_message(ctx));
    return vg;
}

static void test_vg_model(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    lvm_meta *m;
    lvm_vg *vg = vg_ok(ctx, lvs_main, &m);
    assert_string_equal(vg->name, "vg0");
    assert_int_equal(vg->seqno, 3);
    assert_int_equal(vg->extent_size, 8);
    assert_int_equal(vg->npvs, 2);
    assert_string_equal(vg->pvs[1].name, "pv1");
    assert_string_equal(vg->pvs[1].uuid, UUID1);
    assert_int_equal(vg->pvs[0].pe_start, 128);
    assert_int_equal(vg->pvs[0].pe_count, 32);
    assert_int_equal(vg->nlvs, 2);
    const lvm_lv *lin = &vg->lvs[0], *str = &vg->lvs[1];
    assert_string_equal(lin->name, "lin");
    assert_string_equal(lin->id, "linid-0000-1111-2222-3333-4444-555555");
    assert_true(lin->visible);
    assert_null(lin->unreadable);
    assert_string_equal(lin->type, "linear");
    assert_int_equal(lin->extents, 40);
    assert_int_equal(lin->size, 40 * 4096);
    assert_int_equal(lin->nsegs, 2);
    assert_int_equal(lin->segs[0].start_extent, 0); /* sorted */
    assert_int_equal(lin->segs[0].stripes[0].pv, 0);
    assert_int_equal(lin->segs[1].stripes[0].pv, 1);
    assert_string_equal(str->type, "striped");
    assert_int_equal(str->segs[0].stripe_count, 2);
    assert_int_equal(str->segs[0].stripe_size, 2);
    assert_int_equal(str->segs[0].stripes[1].pe, 16);
    assert_null(str->unreadable);
    lvm_vg_free(ctx, vg);
    lvm_meta_free(m);
    imgp_ctx_free(ctx);
}

/* One LV "x" with the segment body @p seg must be unreadable with @p reason in its reason. */
static void expect_lv(imgp_ctx *ctx, const char *lvs, const char *name, const char *reason)
{
    lvm_meta *m;
    lvm_vg *vg = vg_ok(ctx, lvs, &m);
    const lvm_lv *lv = NULL;
    for (size_t i = 0; i < vg->nlvs; i++)
        if (strcmp(vg->lvs[i].name, name) == 0 && (!lv || vg->lvs[i].unreadable))
            lv = &vg->lvs[i];
    assert_non_null(lv);
    if (!reason && lv->unreadable)
        fail_msg("%s: unreadable: %s", name, lv->unreadable);
    if (reason && (!lv->unreadable || !strstr(lv->unreadable, reason)))
        fail_msg("%s: reason '%s' lacks '%s'", name, lv->unreadable ? lv->unreadable : "(none)", reason);
    lvm_vg_free(ctx, vg);
    lvm_meta_free(m);
}

#define SEG_STRIPED(count, stripes, size, list)                                                            \
    "segment1 {\nstart_extent = 0\nextent_count = " #count "\ntype = \"striped\"\nstripe_count = " #stripes \
    "\nstripe_size = " #size "\nstripes = [ " list " ]\n}\n}\n"

static void test_vg_lv_problems(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    expect_lv(ctx, LV_HEAD("x", 1) SEG_STRIPED(4, 0, 2, "\"pv0\", 0"), "x", "stripe_count");
    expect_lv(ctx, LV_HEAD("x", 1) SEG_STRIPED(4, 1000, 2, "\"pv0\", 0"), "x", "stripe_count");
    expect_lv(ctx, LV_HEAD("x", 1) SEG_STRIPED(4, 2, 2, "\"pv0\", 0"), "x", "pairs");
    expect_lv(ctx, LV_HEAD("x", 1) SEG_STRIPED(4, 2, 2, "\"pv0\", 0, 3, \"pv1\""), "x", "not a (PV name, extent)");
    expect_lv(ctx, LV_HEAD("x", 1) SEG_STRIPED(4, 2, 2, "\"pv0\", 0, \"pv9\", 0"), "x", "'pv9'");
    expect_lv(ctx, LV_HEAD("x", 1) SEG_STRIPED(4, 2, 0, "\"pv0\", 0, \"pv1\", 0"), "x", "stripe_size");
    expect_lv(ctx, LV_HEAD("x", 1) SEG_STRIPED(5, 2, 2, "\"pv0\", 0, \"pv1\", 0"), "x", "do not divide");
    expect_lv(ctx, LV_HEAD("x", 1) SEG_STRIPED(4, 2, 3, "\"pv0\", 0, \"pv1\", 0"), "x", "whole number");
    expect_lv(ctx, LV_HEAD("x", 1) SEG_STRIPED(4, 2, 2, "\"pv0\", 31, \"pv1\", 0"), "x", "past its 32 extents");
    expect_lv(ctx, LV_HEAD("x", 1) SEG_STRIPED(4, 2, 2, "\"pv0\", -1, \"pv1\", 0"), "x", "not a (PV name");
    expect_lv(ctx, LV_HEAD("x", 1) SEG_LINEAR(1, 0, 33, "pv0", 0) "}\n", "x", "past its 32 extents");
    expect_lv(ctx, LV_HEAD("x", 1) SEG_LINEAR(1, 0, 1, "pv0", 9223372036854775807) "}\n", "x", "past its");
    expect_lv(ctx, LV_HEAD("x", 2) SEG_LINEAR(1, 0, 4, "pv0", 0) SEG_LINEAR(2, 5, 4, "pv0", 4) "}\n", "x",
              "gap or overlap at extent 4");
    expect_lv(ctx, LV_HEAD("x", 2) SEG_LINEAR(1, 0, 4, "pv0", 0) SEG_LINEAR(2, 2, 4, "pv0", 4) "}\n", "x",
              "gap or overlap");
    expect_lv(ctx, LV_HEAD("x", 3) SEG_LINEAR(1, 0, 4, "pv0", 0) "}\n", "x", "segment_count says 3");
    expect_lv(ctx, LV_HEAD("x", 0) "}\n", "x", "no segments");
    expect_lv(ctx, LV_HEAD("x", 1) "segment1 {\nstart_extent = 0\ntype = \"striped\"\n}\n}\n", "x",
              "lacks start_extent");
    expect_lv(ctx, LV_HEAD("x", 1) SEG_LINEAR(1, 0, 4, "pv0", 0) "}\n" LV_HEAD("x", 1) SEG_LINEAR(1, 0, 4, "pv1", 0)
              "}\n", "x", "same name");
    expect_lv(ctx, LV_HEAD("a/b", 1) SEG_LINEAR(1, 0, 4, "pv0", 0) "}\n", "a/b", "not one lvm2 accepts");
    expect_lv(ctx, LV_HEAD("-x", 1) SEG_LINEAR(1, 0, 4, "pv0", 0) "}\n", "-x", "not one lvm2 accepts");
    /* segment types that are listed, not read */
    expect_lv(ctx, LV_HEAD("x", 1) "segment1 {\nstart_extent = 0\nextent_count = 256\ntype = \"thin\"\n"
              "thin_pool = \"pool\"\ntransaction_id = 1\ndevice_id = 1\n}\n}\n", "x", "thin (a thin volume)");
    expect_lv(ctx, LV_HEAD("x", 1) "segment1 {\nstart_extent = 0\nextent_count = 4\ntype = \"raid1\"\n}\n}\n", "x",
              "a RAID volume");
    expect_lv(ctx, LV_HEAD("x", 1) "segment1 {\nstart_extent = 0\nextent_count = 4\ntype = \"newfangled\"\n}\n}\n",
              "x", "segment type newfangled is not read");
    /* a snapshot's copy-on-write store is not a volume of its own; its origin is */
    static const char snap[] = LV_HEAD("origin", 1) SEG_LINEAR(1, 0, 4, "pv0", 0) "}\n"
        LV_HEAD("cow", 1) SEG_LINEAR(1, 0, 2, "pv1", 0) "}\n"
        "snapshot0 {\nid = \"s\"\nstatus = [\"READ\"]\nsegment_count = 1\nsegment1 {\nstart_extent = 0\n"
        "extent_count = 4\ntype = \"snapshot\"\nchunk_size = 8\norigin = \"origin\"\ncow_store = \"cow\"\n}\n}\n";
    expect_lv(ctx, snap, "cow", "copy-on-write store of snapshot snapshot0 of origin");
    expect_lv(ctx, snap, "origin", NULL);
    expect_lv(ctx, snap, "snapshot0", "a snapshot");

    /* a hidden sub-volume keeps its stored name and is not VISIBLE */
    lvm_meta *m;
    lvm_vg *vg = vg_ok(ctx, "lvol0_pmspare {\nid = \"p\"\nstatus = [\"READ\", \"WRITE\"]\nsegment_count = 1\n"
                            SEG_LINEAR(1, 0, 1, "pv0", 0) "}\n", &m);
    assert_string_equal(vg->lvs[0].name, "lvol0_pmspare");
    assert_false(vg->lvs[0].visible);
    assert_null(vg->lvs[0].unreadable);
    lvm_vg_free(ctx, vg);
    lvm_meta_free(m);
    imgp_ctx_free(ctx);
}

static void expect_vg(imgp_ctx *ctx, const char *text, imgp_status want, const char *msg)
{
    lvm_meta *m = parse_ok(ctx, text, strlen(text));
    lvm_vg *vg = (lvm_vg *)1;
    assert_int_equal(lvm_vg_from_meta(ctx, m, &vg), want);
    assert_null(vg);
    if (!strstr(imgp_ctx_message(ctx), msg))
        fail_msg("message '%s' lacks '%s'", imgp_ctx_message(ctx), msg);
    lvm_meta_free(m);
}

#define PV_OK "pv0 {\nid = \"" UUID0 "\"\npe_start = 128\npe_count = 32\n}\n"

static void test_vg_broken(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    expect_vg(ctx, "contents = \"Text Format Volume Group\"\n", IMGP_ERR_CORRUPT, "no volume group section");
    expect_vg(ctx, "vg { physical_volumes { " PV_OK " } }", IMGP_ERR_CORRUPT, "no valid extent_size");
    expect_vg(ctx, "\"v/g\" { extent_size = 8 physical_volumes { " PV_OK " } }", IMGP_ERR_CORRUPT,
              "name is not one lvm2 accepts");
    expect_vg(ctx, "vg { extent_size = 0 physical_volumes { " PV_OK " } }", IMGP_ERR_CORRUPT, "extent_size");
    expect_vg(ctx, "vg { extent_size = -8 physical_volumes { " PV_OK " } }", IMGP_ERR_CORRUPT, "extent_size");
    expect_vg(ctx, "vg { extent_size = 36028797018963968 physical_volumes { " PV_OK " } }", IMGP_ERR_CORRUPT,
              "extent_size");
    expect_vg(ctx, "vg { extent_size = 8 }", IMGP_ERR_CORRUPT, "no physical_volumes");
    expect_vg(ctx, "vg { extent_size = 8 physical_volumes = 1 }", IMGP_ERR_CORRUPT, "no physical_volumes");
    expect_vg(ctx, "vg { extent_size = 8 physical_volumes { pv0 { pe_start = 1 pe_count = 1 } } }",
              IMGP_ERR_CORRUPT, "pv0 has no valid id");
    expect_vg(ctx, "vg { extent_size = 8 physical_volumes { pv0 { id = \"short\" pe_start = 1 pe_count = 1 } } }",
              IMGP_ERR_CORRUPT, "pv0 has no valid id");
    expect_vg(ctx, "vg { extent_size = 8 physical_volumes { pv0 { id = \"" UUID0 "x\" pe_start = 1 pe_count = 1 } } }",
              IMGP_ERR_CORRUPT, "no valid id");
    expect_vg(ctx, "vg { extent_size = 8 physical_volumes { pv0 { id = \"" UUID0 "\" pe_start = 1 } } }",
              IMGP_ERR_CORRUPT, "lacks pe_start or pe_count");
    /* sizes that overflow */
    expect_vg(ctx, "vg { extent_size = 8 physical_volumes { pv0 { id = \"" UUID0
              "\" pe_start = 36028797018963968 pe_count = 1 } } }", IMGP_ERR_CORRUPT, "overflow");
    expect_vg(ctx, "vg { extent_size = 4194304 physical_volumes { pv0 { id = \"" UUID0
              "\" pe_start = 8 pe_count = 9223372036854775807 } } }", IMGP_ERR_CORRUPT, "overflow");

    /* an LV whose bytes would overflow: listed, not read */
    static const char big[] = "vg { extent_size = 4194304 physical_volumes { " PV_OK " } logical_volumes { x { "
                              "segment1 { start_extent = 0 extent_count = 9223372036854775807 type = \"zero\" } } } }";
    lvm_meta *m = parse_ok(ctx, big, sizeof big - 1);
    lvm_vg *vg;
    assert_int_equal(lvm_vg_from_meta(ctx, m, &vg), IMGP_OK);
    assert_non_null(strstr(vg->lvs[0].unreadable, "overflow"));
    assert_int_equal(vg->lvs[0].size, 0);
    lvm_vg_free(ctx, vg);
    lvm_meta_free(m);
    imgp_ctx_free(ctx);
}

/* ---- whole scans over a disk in memory ---- */

enum {
    EXTENT = 4096,            /* extent_size = 8 sectors */
    PV_DATA = 65536,          /* pe_start = 128 sectors */
    PV_EXTENTS = 32,
    PV_SIZE = PV_DATA + PV_EXTENTS * EXTENT,
    MDA_OFF = 4096,
    MDA_SIZE = PV_DATA - MDA_OFF,
    PV0_AT = 65536,           /* partition 1 */
    PV1_AT = PV0_AT + PV_SIZE, /* partition 2 */
    DISK_SIZE = PV1_AT + PV_SIZE,
    LIN_SIZE = 40 * EXTENT,
    STR_SIZE = 8 * EXTENT,
    CHUNK = 1024,             /* stripe_size = 2 sectors */
};

typedef struct fixture {
    uint8_t disk[DISK_SIZE];
    uint8_t lin[LIN_SIZE], str[STR_SIZE];
} fixture;

/* A PV at @p pv of the disk: label in sector 1, one metadata area holding @p text (or none)
 * whose text starts at @p text_off of the area (0: just after the header). */
static void put_pv(uint8_t *pv, const char *uuid, const char *text, uint64_t text_off)
{
    uint8_t head[2048] = {0};
    put_label(head, 1, uuid, PV_SIZE, PV_DATA, MDA_OFF, MDA_SIZE);
    test_put_le64(head + 512, 120, 0); /* one metadata area only */
    test_put_le64(head + 512, 128, 0);
    seal_label(head + 512);
    memcpy(pv, head, sizeof head);
    uint8_t *mda = pv + MDA_OFF;
    if (!text) {
        put_mda_header(mda, MDA_OFF, MDA_SIZE, 0, 0, 0, 0);
        return;
    }
    size_t len = strlen(text) + 1;
    text_off = text_off ? text_off : 512;
    /* the ring: what does not fit before the end continues after the header */
    size_t first = len < MDA_SIZE - text_off ? len : MDA_SIZE - text_off;
    memcpy(mda + text_off, text, first);
    memcpy(mda + 512, text + first, len - first);
    put_mda_header(mda, MDA_OFF, MDA_SIZE, text_off, len, crc_oracle(LVM_INITIAL_CRC, (const uint8_t *)text, len),
                   0);
}

/* The disk of lvs_main: both PVs, random data in their extents, and the LVs' bytes as the
 * metadata lays them out, worked out here extent by extent and chunk by chunk. */
static void make_fixture(fixture *f, int seqno0, int seqno1, uint64_t text_off)
{
    memset(f->disk, 0, sizeof f->disk);
    char *text0 = vg_text(seqno0, lvs_main), *text1 = vg_text(seqno1, lvs_main);
    put_pv(f->disk + PV0_AT, UUID0, text0, text_off);
    put_pv(f->disk + PV1_AT, UUID1, text1, 0);
    free(text0);
    free(text1);
    for (size_t i = 0; i < PV_EXTENTS * EXTENT; i++) {
        f->disk[PV0_AT + PV_DATA + i] = rng_byte();
        f->disk[PV1_AT + PV_DATA + i] = rng_byte();
    }
    const uint8_t *pv0 = f->disk + PV0_AT + PV_DATA, *pv1 = f->disk + PV1_AT + PV_DATA;
    memcpy(f->lin, pv0, 24 * EXTENT);
    memcpy(f->lin + 24 * EXTENT, pv1, 16 * EXTENT);
    /* the striped LV: chunks alternate between the PVs, each PV's chunks in order */
    size_t next[2] = {24 * EXTENT, 16 * EXTENT};
    for (size_t c = 0; c < STR_SIZE / CHUNK; c++) {
        const uint8_t *pv = c % 2 ? pv1 : pv0;
        memcpy(f->str + c * CHUNK, pv + next[c % 2], CHUNK);
        next[c % 2] += CHUNK;
    }
}

/* A volume set over @p disk with partitions 1 and 2 (of @p p2_size bytes) where the PVs are, as a
 * table scan leaves it; no partitions when @p p2_size is 0. */
static imgp_status vols_new(imgp_ctx *ctx, imgp_bdev *disk, uint64_t p2_size, imgp_volumes **out)
{
    bool partitions = p2_size > 0;
    imgp_volumes *v = imgp_calloc(ctx, 1, sizeof *v);
    *out = v;
    if (!v)
        return IMGP_ERR_NOMEM;
    v->ctx = ctx;
    v->disk = disk;
    v->info.scheme = partitions ? "mbr" : "none";
    v->info.sector_size = 512;
    v->info.disk = (imgp_partition){.index = "disk", .size = disk->size, .bdev = disk};
    if (!partitions)
        return IMGP_OK;
    imgp_status st = vol_add_slice(v, &(imgp_partition){.index = "1", .start = PV0_AT, .size = PV_SIZE, .type = "0x8e"});
    if (st == IMGP_OK)
        st = vol_add_slice(v, &(imgp_partition){.index = "2", .start = PV1_AT, .size = p2_size, .type = "0x8e"});
    return st;
}

/* The partition or LV @p index; the test fails when there is none. */
static const imgp_partition *find_part(const imgp_volume_info *info, const char *index)
{
    for (size_t i = 0; i < info->npartitions; i++)
        if (strcmp(info->partitions[i].index, index) == 0)
            return &info->partitions[i];
    fail_msg("no partition %s", index);
    abort();
}

static bool has_note(const imgp_volume_info *info, imgp_note_level level, const char *text)
{
    for (size_t i = 0; i < info->nnotes; i++)
        if (info->notes[i].level == level && strstr(info->notes[i].message, text))
            return true;
    return false;
}

/* Read all of @p bd in pieces of @p step bytes and compare with @p want. */
static void read_back(imgp_bdev *bd, const uint8_t *want, size_t size, size_t step)
{
    assert_int_equal(bd->size, size);
    uint8_t *got = malloc(size);
    assert_non_null(got);
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        if (imgp_bdev_read(bd, off, got + off, n) != IMGP_OK)
            fail_msg("read at %zu: %s", off, imgp_ctx_message(bd->ctx));
    }
    assert_memory_equal(got, want, size);
    free(got);
}

/* The scan tests' state: a context and a fixture. */
typedef struct scan_test {
    imgp_ctx *ctx;
    fixture *f;
} scan_test;

static int scan_setup(void **state)
{
    scan_test *t = malloc(sizeof *t);
    assert_non_null(t);
    t->ctx = ctx_new();
    t->f = malloc(sizeof *t->f);
    assert_non_null(t->f);
    make_fixture(t->f, 3, 3, 0);
    *state = t;
    return 0;
}

static int scan_teardown(void **state)
{
    scan_test *t = *state;
    imgp_ctx_free(t->ctx);
    free(t->f);
    free(t);
    return 0;
}

/* A scan of the first @p disk_size bytes of the fixture's disk, partition 2 being @p p2_size bytes. */
typedef struct scanned {
    imgp_bdev *disk;
    imgp_volumes *v;
    const imgp_volume_info *info;
} scanned;

static void scan_open(scan_test *t, size_t disk_size, uint64_t p2_size, scanned *s)
{
    assert_int_equal(imgp_bdev_open_memory(t->ctx, t->f->disk, disk_size, "mem", &s->disk), IMGP_OK);
    assert_int_equal(vols_new(t->ctx, s->disk, p2_size, &s->v), IMGP_OK);
    assert_int_equal(lvm_scan(s->v), IMGP_OK);
    s->info = imgp_volumes_get_info(s->v);
}

static void scan_close(scanned *s)
{
    imgp_volumes_free(s->v);
    imgp_bdev_close(s->disk);
}

/* Scan the fixture's two partitions; expect a note at @p level containing @p text. */
static void expect_scan_note(scan_test *t, imgp_note_level level, const char *text)
{
    scanned s;
    scan_open(t, DISK_SIZE, PV_SIZE, &s);
    if (!has_note(s.info, level, text))
        fail_msg("no note '%s' (%zu notes, first '%s')", text, s.info->nnotes,
                 s.info->nnotes ? s.info->notes[0].message : "");
    scan_close(&s);
}

static void test_scan_linear_and_striped(void **state)
{
    scan_test *t = *state;
    scanned s;
    scan_open(t, DISK_SIZE, PV_SIZE, &s);
    const imgp_volume_info *info = s.info;
    if (info->nnotes)
        fail_msg("note: %s", info->notes[0].message);
    assert_int_equal(info->npartitions, 4);
    /* the PVs are named lvm2_member when the content probe has not named them */
    assert_string_equal(info->partitions[0].content.type, "lvm2_member");
    assert_string_equal(info->partitions[0].content.uuid, UUID0_DASHED);

    const imgp_partition *lin = find_part(info, "vg0/lin"), *str = find_part(info, "vg0/str");
    assert_true(lin->is_logical_volume);
    assert_int_equal(lin->start, 0);
    assert_int_equal(lin->size, LIN_SIZE);
    assert_string_equal(lin->type, "linear");
    assert_string_equal(lin->name, "lin");
    assert_string_equal(lin->uuid, "linid-0000-1111-2222-3333-4444-555555");
    assert_string_equal(lin->type_name, "LVM logical volume");
    assert_null(lin->unreadable);
    assert_string_equal(str->type, "striped");
    assert_int_equal(str->size, STR_SIZE);

    /* whole, then in pieces that cross extent, segment and chunk boundaries */
    read_back(lin->bdev, t->f->lin, LIN_SIZE, LIN_SIZE);
    read_back(lin->bdev, t->f->lin, LIN_SIZE, 3000);
    read_back(str->bdev, t->f->str, STR_SIZE, STR_SIZE);
    read_back(str->bdev, t->f->str, STR_SIZE, 700);
    uint8_t b[2];
    assert_int_equal(imgp_bdev_read(lin->bdev, 24 * EXTENT - 1, b, 2), IMGP_OK);
    assert_memory_equal(b, t->f->lin + 24 * EXTENT - 1, 2);

    /* status passes through, a chunk at a time on a striped LV */
    imgp_extent_kind kind;
    uint64_t run;
    assert_int_equal(imgp_bdev_status(str->bdev, 100, STR_SIZE, &kind, &run), IMGP_OK);
    assert_int_equal(kind, IMGP_EXTENT_DATA);
    assert_int_equal(run, CHUNK - 100);
    assert_int_equal(imgp_bdev_status(lin->bdev, 0, LIN_SIZE, &kind, &run), IMGP_OK);
    assert_int_equal(run, 24 * EXTENT);
    scan_close(&s);
}

static void test_scan_metadata_copies(void **state)
{
    scan_test *t = *state;
    fixture *f = t->f;
    scanned s;

    /* PV0's text wraps around the end of its metadata area */
    make_fixture(f, 3, 3, MDA_SIZE - 700);
    scan_open(t, DISK_SIZE, PV_SIZE, &s);
    assert_int_equal(s.info->nnotes, 0);
    read_back(find_part(s.info, "vg0/lin")->bdev, f->lin, LIN_SIZE, LIN_SIZE);
    scan_close(&s);

    /* the newer copy (PV1, seqno 7) is used, and the older is noted */
    make_fixture(f, 5, 7, 0);
    scan_open(t, DISK_SIZE, PV_SIZE, &s);
    assert_true(has_note(s.info, IMGP_NOTE_INFO,
                         "partition 1 holds older metadata (seqno 5) than partition 2 (seqno 7)"));
    read_back(find_part(s.info, "vg0/str")->bdev, f->str, STR_SIZE, STR_SIZE);
    scan_close(&s);

    /* a damaged copy is noted and the other used */
    make_fixture(f, 3, 3, 0);
    f->disk[PV0_AT + MDA_OFF + 512 + 10] ^= 0x20;
    scan_open(t, DISK_SIZE, PV_SIZE, &s);
    assert_true(has_note(s.info, IMGP_NOTE_WARNING,
                         "partition 1: metadata area 1: metadata text at 0x1200: checksum"));
    read_back(find_part(s.info, "vg0/lin")->bdev, f->lin, LIN_SIZE, LIN_SIZE);
    scan_close(&s);

    /* a wiped metadata area header */
    make_fixture(f, 3, 3, 0);
    memset(f->disk + PV1_AT + MDA_OFF, 0, 512);
    expect_scan_note(t, IMGP_NOTE_WARNING,
                     "partition 2: metadata area 1: lvm2 metadata area header at 0x1000: no magic");

    /* text that is not text */
    make_fixture(f, 3, 3, 0);
    put_pv(f->disk + PV1_AT, UUID1, "vg0 {\x01}", 0);
    expect_scan_note(t, IMGP_NOTE_WARNING, "partition 2: metadata area 1: lvm2 metadata: line 1: not text");

    /* a metadata area that reaches past the device */
    make_fixture(f, 3, 3, 0);
    test_put_le64(f->disk + PV1_AT + 512, 112, PV_SIZE);
    seal_label(f->disk + PV1_AT + 512);
    expect_scan_note(t, IMGP_NOTE_WARNING,
                     "partition 2: metadata area 1 (196608 bytes at 0x1000) does not fit");

    /* a label with a bad checksum */
    make_fixture(f, 3, 3, 0);
    f->disk[PV1_AT + 512 + 300] ^= 1;
    expect_scan_note(t, IMGP_NOTE_WARNING, "partition 2: LVM2 label: lvm2 label in sector 1: checksum");

    /* the same PV UUID twice */
    make_fixture(f, 3, 3, 0);
    put_pv(f->disk + PV1_AT, UUID0, NULL, 0);
    expect_scan_note(t, IMGP_NOTE_WARNING,
                     "partition 1 and partition 2 carry the same PV UUID " UUID0_DASHED);
}

static void test_scan_missing_pv(void **state)
{
    scan_test *t = *state;
    scanned s;
    memset(t->f->disk + PV1_AT, 0, PV_DATA); /* PV1's label and metadata gone */
    scan_open(t, DISK_SIZE, PV_SIZE, &s);
    assert_true(has_note(s.info, IMGP_NOTE_WARNING,
                         "volume group vg0: physical volume pv1 (UUID HHHHHH-iiii-JJJJ-kkkk-LLLL-mmmm-NNNNNN) is "
                         "not on this disk"));
    for (int i = 0; i < 2; i++) {
        const imgp_partition *p = find_part(s.info, i ? "vg0/str" : "vg0/lin");
        assert_null(p->bdev);
        assert_non_null(strstr(p->unreadable, "needs physical volume pv1"));
        assert_int_equal(p->size, i ? STR_SIZE : LIN_SIZE);
    }
    scan_close(&s);

    /* partition 2 cut short inside PV1's extents: 18 of its 32 are left, so the striped LV
     * (extents 16..19) cannot be read; the linear LV (extents 0..15) can */
    make_fixture(t->f, 3, 3, 0);
    scan_open(t, DISK_SIZE, PV_SIZE - 14 * EXTENT, &s);
    assert_true(has_note(s.info, IMGP_NOTE_WARNING,
                         "physical volume pv1 on partition 2: its extents end at byte 196608, past the end of the "
                         "device (139264 bytes)"));
    assert_string_equal(find_part(s.info, "vg0/str")->unreadable,
                        "extents 16..+4 of pv1 lie past the end of partition 2 (139264 bytes)");
    read_back(find_part(s.info, "vg0/lin")->bdev, t->f->lin, LIN_SIZE, LIN_SIZE);
    scan_close(&s);
}

static void test_scan_whole_disk(void **state)
{
    scan_test *t = *state;
    scanned s;
    /* PV0 alone on a disk without a table: "root" lies on it, the others need pv1 */
    char *text = vg_text(3, LV_HEAD("root", 1) SEG_LINEAR(1, 0, 24, "pv0", 0) "}\n" LV_HEAD("other", 1)
                            SEG_LINEAR(1, 0, 1, "pv1", 0) "}\n");
    memmove(t->f->disk, t->f->disk + PV0_AT, PV_SIZE);
    put_pv(t->f->disk, UUID0, text, 0);
    free(text);
    scan_open(t, PV_SIZE, 0, &s);
    assert_string_equal(s.info->disk.content.type, "lvm2_member");
    assert_int_equal(s.info->npartitions, 2);
    assert_true(has_note(s.info, IMGP_NOTE_WARNING, "pv1"));
    read_back(find_part(s.info, "vg0/root")->bdev, t->f->lin, 24 * EXTENT, 5000); /* lin begins on pv0 too */
    assert_null(find_part(s.info, "vg0/other")->bdev);
    scan_close(&s);

    /* two LVs of one name: "vg0/root" names the first only */
    text = vg_text(3, LV_HEAD("root", 1) SEG_LINEAR(1, 0, 24, "pv0", 0) "}\n" LV_HEAD("root", 1)
                          SEG_LINEAR(1, 0, 1, "pv0", 0) "}\n");
    put_pv(t->f->disk, UUID0, text, 0);
    free(text);
    scan_open(t, PV_SIZE, 0, &s);
    assert_int_equal(s.info->npartitions, 1);
    assert_int_equal(find_part(s.info, "vg0/root")->size, 24 * EXTENT);
    assert_true(has_note(s.info, IMGP_NOTE_WARNING, "is not listed: an earlier logical volume has the same name"));
    scan_close(&s);

    /* an orphan PV (no metadata) is named but makes no VG */
    memset(t->f->disk, 0, sizeof t->f->disk);
    put_pv(t->f->disk, UUID0, NULL, 0);
    scan_open(t, PV_SIZE, 0, &s);
    assert_string_equal(s.info->disk.content.type, "lvm2_member");
    assert_int_equal(s.info->npartitions, 0);
    assert_int_equal(s.info->nnotes, 0);
    scan_close(&s);
}

/* The whole scan with the n-th allocation failing, for every n: NOMEM or success, no leak. */
static void test_scan_alloc_failures(void **state)
{
    const fixture *f = ((scan_test *)*state)->f;
    for (unsigned n = 1; n < 100000; n++) {
        imgp_ctx *ctx = test_ctx_failing_alloc(n);
        imgp_bdev *disk = NULL;
        imgp_volumes *v = NULL;
        imgp_status st = imgp_bdev_open_memory(ctx, f->disk, sizeof f->disk, "mem", &disk);
        if (st == IMGP_OK)
            st = vols_new(ctx, disk, PV_SIZE, &v);
        if (st == IMGP_OK)
            st = lvm_scan(v);
        if (st == IMGP_OK) {
            const imgp_volume_info *info = imgp_volumes_get_info(v);
            assert_int_equal(info->npartitions, 4);
            read_back(find_part(info, "vg0/str")->bdev, f->str, STR_SIZE, STR_SIZE);
        } else {
            assert_int_equal(st, IMGP_ERR_NOMEM);
        }
        imgp_volumes_free(v);
        imgp_bdev_close(disk);
        imgp_ctx_free(ctx);
        if (st == IMGP_OK)
            return;
    }
    fail_msg("the scan never succeeded");
}

/* The text parser and the model alone, every allocation failing in turn. */
static void test_meta_alloc_failures(void **state)
{
    (void)state;
    char *text = vg_text(1, lvs_main);
    for (unsigned n = 1; n < 100000; n++) {
        imgp_ctx *ctx = test_ctx_failing_alloc(n);
        lvm_meta *m = NULL;
        lvm_vg *vg = NULL;
        imgp_status st = lvm_meta_parse(ctx, text, strlen(text), &m);
        if (st == IMGP_OK)
            st = lvm_vg_from_meta(ctx, m, &vg);
        lvm_vg_free(ctx, vg);
        lvm_meta_free(m);
        imgp_ctx_free(ctx);
        if (st == IMGP_OK) {
            free(text);
            return;
        }
        assert_int_equal(st, IMGP_ERR_NOMEM);
    }
    fail_msg("never succeeded");
}

/* A read of a PV that fails is the LV's read failing, with the LV named. */
static void test_lv_read_failure(void **state)
{
    imgp_ctx *ctx = ((scan_test *)*state)->ctx;
    const fixture *f = ((scan_test *)*state)->f;
    imgp_bdev *mem, *disk;
    assert_int_equal(imgp_bdev_open_memory(ctx, f->disk, sizeof f->disk, "mem", &mem), IMGP_OK);
    unsigned reads = 0;
    /* enough reads for the scan (labels, headers, texts), then failures */
    assert_int_equal(test_bdev_failing(ctx, mem, 7, &reads, &disk), IMGP_OK);
    imgp_volumes *v;
    assert_int_equal(vols_new(ctx, disk, PV_SIZE, &v), IMGP_OK);
    assert_int_equal(lvm_scan(v), IMGP_OK);
    assert_int_equal(reads, 6);
    const imgp_partition *lin = find_part(imgp_volumes_get_info(v), "vg0/lin");
    uint8_t b[16];
    assert_int_equal(imgp_bdev_read(lin->bdev, 0, b, sizeof b), IMGP_ERR_IO);
    assert_non_null(strstr(imgp_ctx_message(ctx), "vg0/lin: injected failure"));
    imgp_volumes_free(v);
    imgp_bdev_close(disk);
    imgp_bdev_close(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc),
        cmocka_unit_test(test_uuid_format),
        cmocka_unit_test(test_label_good),
        cmocka_unit_test(test_label_broken),
        cmocka_unit_test(test_mda_header),
        cmocka_unit_test(test_text_span),
        cmocka_unit_test(test_meta_good),
        cmocka_unit_test(test_meta_broken),
        cmocka_unit_test(test_vg_model),
        cmocka_unit_test(test_vg_lv_problems),
        cmocka_unit_test(test_vg_broken),
        cmocka_unit_test_setup_teardown(test_scan_linear_and_striped, scan_setup, scan_teardown),
        cmocka_unit_test_setup_teardown(test_scan_metadata_copies, scan_setup, scan_teardown),
        cmocka_unit_test_setup_teardown(test_scan_missing_pv, scan_setup, scan_teardown),
        cmocka_unit_test_setup_teardown(test_scan_whole_disk, scan_setup, scan_teardown),
        cmocka_unit_test_setup_teardown(test_scan_alloc_failures, scan_setup, scan_teardown),
        cmocka_unit_test(test_meta_alloc_failures),
        cmocka_unit_test_setup_teardown(test_lv_read_failure, scan_setup, scan_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
