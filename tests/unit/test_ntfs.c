/*
 * Unit tests of the NTFS driver (src/fs/ntfs*.c): byte-array fixtures of
 * the boot sector, update-sequence fixups, MFT record headers, attributes,
 * data runs, index nodes and LZNT1 streams with one field broken at a time,
 * each checked for its status and a message naming the problem; then a tiny
 * volume built in memory (512-byte clusters, 1 KiB records), mounted and
 * walked through the public API: a resident file, a directory whose index
 * has a block in $INDEX_ALLOCATION, a non-resident file with a hole and an
 * initialised size, a file whose $DATA lies in an extension record
 * ($ATTRIBUTE_LIST), symbolic links and a junction with their targets
 * translated, a WOF file refused; and damaged one structure at a time (torn
 * records, an attribute list naming a foreign record, an index block that
 * points to itself, a destroyed boot sector with its backup), also with
 * every read and every allocation failing in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fs/ntfs.h"
#include "support/testsupport.h"

static imgp_ctx *ctx_new(void)
{
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    assert_non_null(ctx);
    return ctx;
}

/* ---- boot sector ---- */

static void make_boot(uint8_t *b, uint64_t sectors)
{
    memset(b, 0, NTFS_BOOT_SIZE);
    memcpy(b + NTFS_BOOT_OEM_ID, NTFS_OEM, 8);
    test_put_le16(b, NTFS_BOOT_BYTES_PER_SECTOR, 512);
    b[NTFS_BOOT_SECTORS_PER_CLUSTER] = 1;
    b[NTFS_BOOT_MEDIA] = 0xF8;
    test_put_le64(b, NTFS_BOOT_TOTAL_SECTORS, sectors);
    test_put_le64(b, NTFS_BOOT_MFT_LCN, 16);
    test_put_le64(b, NTFS_BOOT_MFTMIRR_LCN, 2);
    b[NTFS_BOOT_CLUSTERS_PER_RECORD] = (uint8_t)-10; /* 1 KiB */
    b[NTFS_BOOT_CLUSTERS_PER_INDEX] = 2;             /* 1 KiB */
    test_put_le64(b, NTFS_BOOT_SERIAL, 0x1122334455667788ull);
    test_put_le16(b, NTFS_BOOT_SIGNATURE, NTFS_BOOT_MAGIC);
}

static void test_boot(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t b[NTFS_BOOT_SIZE];
    ntfs_boot bt;
    make_boot(b, 256);
    assert_int_equal(ntfs_parse_boot(ctx, b, sizeof b, &bt), IMGP_OK);
    assert_int_equal(bt.cluster_size, 512);
    assert_int_equal(bt.cluster_shift, 9);
    assert_int_equal(bt.record_size, 1024);
    assert_int_equal(bt.index_block_size, 1024);
    assert_int_equal(bt.total_clusters, 256);
    assert_int_equal(bt.mft_lcn, 16);

    /* the large-cluster encoding: 0xF4 is 2^12 sectors, 2 MiB with 512-byte sectors */
    make_boot(b, 1ull << 24);
    b[NTFS_BOOT_SECTORS_PER_CLUSTER] = 0xF4;
    b[NTFS_BOOT_CLUSTERS_PER_INDEX] = (uint8_t)-12; /* 4 KiB index blocks, smaller than a cluster */
    assert_int_equal(ntfs_parse_boot(ctx, b, sizeof b, &bt), IMGP_OK);
    assert_int_equal(bt.cluster_size, 2u << 20);
    assert_int_equal(bt.cluster_shift, 21);
    assert_int_equal(bt.total_clusters, 1u << 12);
    b[NTFS_BOOT_SECTORS_PER_CLUSTER] = 0xF3; /* 2^13: not an encoding Windows uses */
    test_expect_error(ctx, ntfs_parse_boot(ctx, b, sizeof b, &bt), IMGP_ERR_CORRUPT, "sectors per cluster 0xf3");
    b[NTFS_BOOT_SECTORS_PER_CLUSTER] = 0xF4;
    test_put_le16(b, NTFS_BOOT_BYTES_PER_SECTOR, 1024); /* 4 MiB: more than Windows makes */
    test_expect_error(ctx, ntfs_parse_boot(ctx, b, sizeof b, &bt), IMGP_ERR_CORRUPT, "clusters of 4194304 bytes");
    /* records of 2 clusters of 4 KiB */
    make_boot(b, 1 << 16);
    b[NTFS_BOOT_SECTORS_PER_CLUSTER] = 8;
    b[NTFS_BOOT_CLUSTERS_PER_RECORD] = 2;
    b[NTFS_BOOT_CLUSTERS_PER_INDEX] = 1;
    assert_int_equal(ntfs_parse_boot(ctx, b, sizeof b, &bt), IMGP_OK);
    assert_int_equal(bt.record_size, 8192);

    struct {
        size_t off;
        unsigned width;
        uint64_t value;
        const char *needle;
    } cases[] = {
        {NTFS_BOOT_OEM_ID, 1, 'X', "OEM identifier"},
        {NTFS_BOOT_BYTES_PER_SECTOR, 2, 0, "0 bytes per sector"},
        {NTFS_BOOT_BYTES_PER_SECTOR, 2, 520, "520 bytes per sector"},
        {NTFS_BOOT_BYTES_PER_SECTOR, 2, 8192, "8192 bytes per sector"},
        {NTFS_BOOT_SECTORS_PER_CLUSTER, 1, 0, "sectors per cluster 0x00"},
        {NTFS_BOOT_SECTORS_PER_CLUSTER, 1, 3, "sectors per cluster 0x03"},
        {NTFS_BOOT_SECTORS_PER_CLUSTER, 1, 0x81, "sectors per cluster 0x81"},
        {NTFS_BOOT_CLUSTERS_PER_RECORD, 1, 0, "clusters per MFT record 0"},
        {NTFS_BOOT_CLUSTERS_PER_RECORD, 1, 3, "clusters per MFT record 3"},
        {NTFS_BOOT_CLUSTERS_PER_RECORD, 1, (uint8_t)-8, "clusters per MFT record -8"},
        {NTFS_BOOT_CLUSTERS_PER_RECORD, 1, (uint8_t)-40, "clusters per MFT record -40"},
        {NTFS_BOOT_CLUSTERS_PER_INDEX, 1, (uint8_t)-17, "clusters per index block -17"},
        {NTFS_BOOT_TOTAL_SECTORS, 8, 0, "0 sectors"},
        {NTFS_BOOT_TOTAL_SECTORS, 8, UINT64_MAX, "sectors"},
        {NTFS_BOOT_MFT_LCN, 8, 256, "$MFT at cluster 256"},
        {NTFS_BOOT_MFTMIRR_LCN, 8, 1000, "$MFTMirr 1000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_boot(b, 256);
        if (cases[i].width == 1)
            b[cases[i].off] = (uint8_t)cases[i].value;
        else if (cases[i].width == 2)
            test_put_le16(b, cases[i].off, (uint16_t)cases[i].value);
        else
            test_put_le64(b, cases[i].off, cases[i].value);
        test_expect_error(ctx, ntfs_parse_boot(ctx, b, sizeof b, &bt), IMGP_ERR_CORRUPT, cases[i].needle);
    }
    make_boot(b, 256);
    test_expect_error(ctx, ntfs_parse_boot(ctx, b, 100, &bt), IMGP_ERR_CORRUPT, "OEM");
    /* probe: the OEM id and the 0xAA55 signature */
    assert_int_equal(imgp_fs_ntfs.probe(b, sizeof b, 1 << 20), IMGP_SCORE_MAGIC);
    b[NTFS_BOOT_SIGNATURE] = 0;
    assert_int_equal(imgp_fs_ntfs.probe(b, sizeof b, 1 << 20), IMGP_SCORE_WEAK);
    b[NTFS_BOOT_OEM_ID] = 'X';
    assert_int_equal(imgp_fs_ntfs.probe(b, sizeof b, 1 << 20), IMGP_SCORE_NONE);
    assert_int_equal(imgp_fs_ntfs.probe(b, 10, 1 << 20), IMGP_SCORE_NONE);
    imgp_ctx_free(ctx);
}

/* ---- records, fixups, attributes ---- */

#define REC 4096u
#define USA_OFS 0x30u
#define FIRST_ATTR 0x48u /* after the update sequence array of 9 entries */

/* A record under construction: the header, then attributes appended. */
typedef struct rec {
    uint8_t b[REC];
    size_t used;
} rec;

static void rec_init(rec *r, uint16_t flags, uint64_t base)
{
    memset(r->b, 0, REC);
    memcpy(r->b, "FILE", 4);
    test_put_le16(r->b, NTFS_MULTI_USA_OFS, USA_OFS);
    test_put_le16(r->b, NTFS_MULTI_USA_COUNT, REC / NTFS_FIXUP_STRIDE + 1);
    test_put_le16(r->b, NTFS_REC_SEQUENCE, 1);
    test_put_le16(r->b, NTFS_REC_LINK_COUNT, 1);
    test_put_le16(r->b, NTFS_REC_ATTRS_OFFSET, FIRST_ATTR);
    test_put_le16(r->b, NTFS_REC_FLAGS, flags);
    test_put_le32(r->b, NTFS_REC_BYTES_ALLOCATED, REC);
    test_put_le64(r->b, NTFS_REC_BASE_REF, base);
    r->used = FIRST_ATTR;
}

static const uint8_t *u16(const char *ascii, uint8_t *out)
{
    size_t n = strlen(ascii);
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = (uint8_t)ascii[i];
        out[2 * i + 1] = 0;
    }
    return out;
}

/* Append a resident attribute. */
static void add_resident(rec *r, uint32_t type, const char *name, const void *value, uint32_t len)
{
    uint8_t *a = r->b + r->used;
    size_t nlen = name ? strlen(name) : 0;
    size_t voff = (NTFS_ATTR_RESIDENT_HEADER + 2 * nlen + 7) & ~(size_t)7;
    size_t alen = (voff + len + 7) & ~(size_t)7;
    assert_true(r->used + alen + 8 <= REC);
    test_put_le32(a, NTFS_ATTR_TYPE, type);
    test_put_le32(a, NTFS_ATTR_LENGTH, (uint32_t)alen);
    a[NTFS_ATTR_NAME_LENGTH] = (uint8_t)nlen;
    test_put_le16(a, NTFS_ATTR_NAME_OFFSET, NTFS_ATTR_RESIDENT_HEADER);
    if (name)
        u16(name, a + NTFS_ATTR_RESIDENT_HEADER);
    test_put_le32(a, NTFS_ATTR_VALUE_LENGTH, len);
    test_put_le16(a, NTFS_ATTR_VALUE_OFFSET, (uint16_t)voff);
    memcpy(a + voff, value, len);
    r->used += alen;
}

/* Append a non-resident attribute with @p runs (terminator included). */
static void add_nonresident(rec *r, uint32_t type, const char *name, uint64_t start_vcn, uint64_t last_vcn,
                            const uint8_t *runs, size_t runs_len, uint64_t size, uint64_t init, uint16_t flags)
{
    uint8_t *a = r->b + r->used;
    size_t nlen = name ? strlen(name) : 0;
    size_t roff = (NTFS_ATTR_NON_RESIDENT_HEADER + 2 * nlen + 7) & ~(size_t)7;
    size_t alen = (roff + runs_len + 7) & ~(size_t)7;
    assert_true(r->used + alen + 8 <= REC);
    test_put_le32(a, NTFS_ATTR_TYPE, type);
    test_put_le32(a, NTFS_ATTR_LENGTH, (uint32_t)alen);
    a[NTFS_ATTR_NON_RESIDENT] = 1;
    a[NTFS_ATTR_NAME_LENGTH] = (uint8_t)nlen;
    test_put_le16(a, NTFS_ATTR_NAME_OFFSET, NTFS_ATTR_NON_RESIDENT_HEADER);
    if (name)
        u16(name, a + NTFS_ATTR_NON_RESIDENT_HEADER);
    test_put_le16(a, NTFS_ATTR_FLAGS, flags);
    test_put_le64(a, NTFS_ATTR_START_VCN, start_vcn);
    test_put_le64(a, NTFS_ATTR_LAST_VCN, last_vcn);
    test_put_le16(a, NTFS_ATTR_RUNS_OFFSET, (uint16_t)roff);
    test_put_le64(a, NTFS_ATTR_ALLOCATED_SIZE, (last_vcn + 1) * 512);
    test_put_le64(a, NTFS_ATTR_DATA_SIZE, size);
    test_put_le64(a, NTFS_ATTR_INITIALIZED_SIZE, init);
    memcpy(a + roff, runs, runs_len);
    r->used += alen;
}

/* End the attributes and protect the record with fixups (USN 0x0001). */
static void rec_finish(rec *r, uint8_t *dst)
{
    test_put_le32(r->b, r->used, NTFS_ATTR_END);
    test_put_le32(r->b, NTFS_REC_BYTES_IN_USE, (uint32_t)(r->used + 8));
    memcpy(dst, r->b, REC);
    test_put_le16(dst, USA_OFS, 1);
    for (unsigned i = 0; i < REC / NTFS_FIXUP_STRIDE; i++) {
        size_t end = (i + 1) * NTFS_FIXUP_STRIDE - 2;
        dst[USA_OFS + 2 + 2 * i] = dst[end];
        dst[USA_OFS + 3 + 2 * i] = dst[end + 1];
        test_put_le16(dst, end, 1);
    }
}

static void test_fixups(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    rec r;
    uint8_t b[REC];
    rec_init(&r, NTFS_REC_IN_USE, 0);
    r.b[510] = 0xAB;
    r.b[1023] = 0xCD;
    rec_finish(&r, b);
    assert_int_equal(b[510], 1);
    assert_int_equal(ntfs_apply_fixups(ctx, b, REC, "FILE", "MFT record 7"), IMGP_OK);
    assert_int_equal(b[510], 0xAB);
    assert_int_equal(b[1023], 0xCD);

    rec_finish(&r, b);
    b[1022] = 9;
    test_expect_error(ctx, ntfs_apply_fixups(ctx, b, REC, "FILE", "MFT record 7"), IMGP_ERR_CORRUPT,
                      "MFT record 7: sector 1 ends in 0900, not the update sequence number 0100");
    rec_finish(&r, b);
    memcpy(b, "BAAD", 4);
    test_expect_error(ctx, ntfs_apply_fixups(ctx, b, REC, "FILE", "MFT record 7"), IMGP_ERR_CORRUPT, "BAAD");
    rec_finish(&r, b);
    test_expect_error(ctx, ntfs_apply_fixups(ctx, b, REC, "INDX", "index block"), IMGP_ERR_CORRUPT, "not 'INDX'");
    rec_finish(&r, b);
    test_put_le16(b, NTFS_MULTI_USA_COUNT, 2);
    test_expect_error(ctx, ntfs_apply_fixups(ctx, b, REC, "FILE", "r"), IMGP_ERR_CORRUPT, "update sequence array");
    rec_finish(&r, b);
    test_put_le16(b, NTFS_MULTI_USA_OFS, 508);
    test_expect_error(ctx, ntfs_apply_fixups(ctx, b, REC, "FILE", "r"), IMGP_ERR_CORRUPT, "at offset 508");
    rec_finish(&r, b);
    test_expect_error(ctx, ntfs_apply_fixups(ctx, b, 1000, "FILE", "r"), IMGP_ERR_CORRUPT, "not a multiple of 512");
    imgp_ctx_free(ctx);
}

static void test_record_and_attrs(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    rec r;
    rec_init(&r, NTFS_REC_IN_USE, 0);
    add_resident(&r, NTFS_AT_DATA, "ads", "value", 5);
    static const uint8_t runs[] = {0x11, 0x04, 0x30, 0x01, 0x02, 0x21, 0x03, 0x10, 0x00, 0x00};
    add_nonresident(&r, NTFS_AT_DATA, NULL, 0, 9, runs, sizeof runs, 5000, 4000, 0);
    test_put_le32(r.b, r.used, NTFS_ATTR_END);
    test_put_le32(r.b, NTFS_REC_BYTES_IN_USE, (uint32_t)(r.used + 8));
    ntfs_record h;
    assert_int_equal(ntfs_parse_record(ctx, r.b, REC, 3, &h), IMGP_OK);
    const uint32_t in_use = h.bytes_in_use;
    assert_int_equal(h.attrs_offset, FIRST_ATTR);
    size_t off = h.attrs_offset;
    ntfs_attr a;
    bool end;
    assert_int_equal(ntfs_parse_attr(ctx, r.b, h.bytes_in_use, 3, &off, &a, &end), IMGP_OK);
    assert_false(end);
    assert_true(a.resident);
    assert_int_equal(a.name_len, 3);
    assert_int_equal(a.value_len, 5);
    assert_memory_equal(a.value, "value", 5);
    assert_int_equal(ntfs_parse_attr(ctx, r.b, h.bytes_in_use, 3, &off, &a, &end), IMGP_OK);
    assert_false(a.resident);
    assert_int_equal(a.data_size, 5000);
    assert_int_equal(a.initialized_size, 4000);
    assert_int_equal(a.last_vcn, 9);

    /* data runs: 4 clusters at 0x30, 1 hole... (0x01 0x02: a sparse run of 2), 3 at 0x30 + 0x10 */
    ntfs_runlist rl = {0};
    assert_int_equal(ntfs_decode_runs(ctx, &a, 256, 100, &rl), IMGP_OK);
    assert_int_equal(rl.n, 3);
    assert_int_equal(rl.runs[0].lcn, 0x30);
    assert_int_equal(rl.runs[0].len, 4);
    assert_int_equal(rl.runs[1].lcn, NTFS_LCN_HOLE);
    assert_int_equal(rl.runs[1].vcn, 4);
    assert_int_equal(rl.runs[2].lcn, 0x40);
    assert_int_equal(rl.runs[2].vcn, 6);
    assert_ptr_equal(ntfs_runlist_find(&rl, 7), &rl.runs[2]);
    assert_ptr_equal(ntfs_runlist_find(&rl, 5), &rl.runs[1]);
    assert_null(ntfs_runlist_find(&rl, 9));
    ntfs_runlist_free(ctx, &rl);
    test_expect_error(ctx, ntfs_decode_runs(ctx, &a, 0x42, 100, &rl), IMGP_ERR_CORRUPT,
                      "clusters 64..+3 lie outside the volume (66 clusters)");
    ntfs_runlist_free(ctx, &rl);
    test_expect_error(ctx, ntfs_decode_runs(ctx, &a, 256, 2, &rl), IMGP_ERR_LIMIT, "more than 2 data runs");
    ntfs_runlist_free(ctx, &rl);

    /* broken runs, one at a time */
    struct {
        uint8_t runs[8];
        size_t len;
        uint64_t last_vcn;
        const char *needle;
    } bad[] = {
        {{0x11, 0x04, 0x30}, 3, 3, "without their terminator"},
        {{0x09, 0, 0, 0, 0, 0, 0, 0}, 8, 3, "data run header 0x09"},
        {{0x10, 0x00}, 2, 3, "data run header 0x10"},
        {{0x11, 0x08, 0x30, 0x00}, 4, 3, "goes past the extent's last vcn 3"},
        {{0x11, 0x00, 0x30, 0x00}, 4, 3, "data run of 0 clusters"},
        {{0x11, 0x02, 0xF0, 0x00}, 4, 3, "clusters -16..+2"},
        {{0x31, 0x02, 0x30}, 3, 3, "overruns"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ntfs_attr x = a;
        x.runs = bad[i].runs;
        x.runs_len = bad[i].len;
        x.last_vcn = bad[i].last_vcn;
        test_expect_error(ctx, ntfs_decode_runs(ctx, &x, 256, 100, &rl), IMGP_ERR_CORRUPT, bad[i].needle);
        ntfs_runlist_free(ctx, &rl);
    }
    ntfs_attr later = a;
    later.start_vcn = 5;
    test_expect_error(ctx, ntfs_decode_runs(ctx, &later, 256, 100, &rl), IMGP_ERR_CORRUPT,
                      "extent starts at vcn 5, the extents before it end at 0");

    /* broken record headers */
    uint8_t b[REC];
    memcpy(b, r.b, REC);
    test_put_le32(b, NTFS_REC_BYTES_ALLOCATED, 8192);
    test_expect_error(ctx, ntfs_parse_record(ctx, b, REC, 3, &h), IMGP_ERR_CORRUPT, "allocated size 8192");
    memcpy(b, r.b, REC);
    test_put_le32(b, NTFS_REC_BYTES_IN_USE, 5000);
    test_expect_error(ctx, ntfs_parse_record(ctx, b, REC, 3, &h), IMGP_ERR_CORRUPT, "5000 bytes in use");
    memcpy(b, r.b, REC);
    test_put_le16(b, NTFS_REC_ATTRS_OFFSET, 0x10);
    test_expect_error(ctx, ntfs_parse_record(ctx, b, REC, 3, &h), IMGP_ERR_CORRUPT, "first attribute at offset 16");
    test_expect_error(ctx, ntfs_parse_record(ctx, b, 20, 3, &h), IMGP_ERR_CORRUPT, "truncated header");

    /* broken attribute headers */
    size_t first = FIRST_ATTR;
    struct {
        size_t off;
        unsigned width;
        uint32_t value;
        const char *needle;
    } attrs[] = {
        {NTFS_ATTR_LENGTH, 4, 0, "has length 0"},
        {NTFS_ATTR_LENGTH, 4, 33, "has length 33"},
        {NTFS_ATTR_LENGTH, 4, 4096, "has length 4096"},
        {NTFS_ATTR_NAME_LENGTH, 1, 200, "name of 200 units"},
        {NTFS_ATTR_VALUE_LENGTH, 4, 1000, "value of 1000 bytes"},
        {NTFS_ATTR_VALUE_OFFSET, 2, 0xFFFF, "at offset 65535"},
        {NTFS_ATTR_NON_RESIDENT, 1, 1, "less than its 64-byte header"},
    };
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        memcpy(b, r.b, REC);
        if (attrs[i].width == 1)
            b[first + attrs[i].off] = (uint8_t)attrs[i].value;
        else if (attrs[i].width == 2)
            test_put_le16(b, first + attrs[i].off, (uint16_t)attrs[i].value);
        else
            test_put_le32(b, first + attrs[i].off, attrs[i].value);
        off = first;
        test_expect_error(ctx, ntfs_parse_attr(ctx, b, in_use, 3, &off, &a, &end), IMGP_ERR_CORRUPT,
                          attrs[i].needle);
    }
    size_t second = first + (size_t)(r.b[first + NTFS_ATTR_LENGTH]);
    memcpy(b, r.b, REC);
    test_put_le16(b, second + NTFS_ATTR_RUNS_OFFSET, 0x20);
    off = second;
    test_expect_error(ctx, ntfs_parse_attr(ctx, b, in_use, 3, &off, &a, &end), IMGP_ERR_CORRUPT,
                      "data runs at offset 32");
    memcpy(b, r.b, REC);
    test_put_le64(b, second + NTFS_ATTR_START_VCN, 20);
    off = second;
    test_expect_error(ctx, ntfs_parse_attr(ctx, b, in_use, 3, &off, &a, &end), IMGP_ERR_CORRUPT,
                      "maps vcn 20..9");
    off = in_use - 2;
    test_expect_error(ctx, ntfs_parse_attr(ctx, r.b, in_use, 3, &off, &a, &end), IMGP_ERR_CORRUPT,
                      "runs past");
    imgp_ctx_free(ctx);
}

/* ---- index nodes ---- */

/* An index entry for @p name -> record @p ref, optionally with a subnode; returns its length. */
static size_t put_entry(uint8_t *p, const char *name, uint64_t ref, uint8_t ns, uint32_t fattr, bool sub,
                        uint64_t vcn, bool last)
{
    size_t nlen = name ? strlen(name) : 0;
    size_t klen = last ? 0 : NTFS_FN_NAME + 2 * nlen;
    size_t len = (NTFS_IE_KEY + klen + 7) & ~(size_t)7;
    if (sub)
        len += 8;
    memset(p, 0, len);
    test_put_le64(p, NTFS_IE_REF, ref | (uint64_t)1 << 48);
    test_put_le16(p, NTFS_IE_LENGTH, (uint16_t)len);
    test_put_le16(p, NTFS_IE_KEY_LENGTH, (uint16_t)klen);
    test_put_le16(p, NTFS_IE_FLAGS, (uint16_t)((sub ? NTFS_IE_SUBNODE : 0) | (last ? NTFS_IE_LAST : 0)));
    if (!last) {
        uint8_t *k = p + NTFS_IE_KEY;
        test_put_le64(k, NTFS_FN_PARENT, 5);
        test_put_le32(k, NTFS_FN_ATTRIBUTES, fattr);
        k[NTFS_FN_NAME_LENGTH] = (uint8_t)nlen;
        k[NTFS_FN_NAMESPACE] = ns;
        u16(name, k + NTFS_FN_NAME);
    }
    if (sub)
        test_put_le64(p, len - 8, vcn);
    return len;
}

typedef struct entries {
    char names[16][64];
    uint64_t refs[16], vcns[16];
    size_t n;
} entries;

static int collect_entry(void *arg, const ntfs_index_entry *e)
{
    entries *s = arg;
    if (s->n < 16) {
        if (e->name)
            ntfs_utf16_to_utf8(e->name, e->name_len, s->names[s->n], 64);
        else
            strcpy(s->names[s->n], "(last)");
        s->refs[s->n] = NTFS_REF_RECORD(e->ref);
        s->vcns[s->n] = e->subnode_vcn;
        s->n++;
    }
    return 0;
}

static void test_index_node(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t b[512] = {0};
    size_t off = NTFS_IH_SIZE;
    off += put_entry(b + off, "alpha", 20, NTFS_NS_WIN32, 0, false, 0, false);
    off += put_entry(b + off, "beta", 21, NTFS_NS_POSIX, 0, true, 7, false);
    off += put_entry(b + off, NULL, 0, 0, 0, true, 9, true);
    test_put_le32(b, NTFS_IH_ENTRIES_OFFSET, NTFS_IH_SIZE);
    test_put_le32(b, NTFS_IH_INDEX_LENGTH, (uint32_t)off);
    test_put_le32(b, NTFS_IH_ALLOCATED, (uint32_t)off);
    entries s = {0};
    bool stopped;
    assert_int_equal(ntfs_parse_index_node(ctx, b, sizeof b, 0, "node", collect_entry, &s, &stopped), IMGP_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.names[0], "alpha");
    assert_int_equal(s.refs[1], 21);
    assert_int_equal(s.vcns[1], 7);
    assert_string_equal(s.names[2], "(last)");
    assert_int_equal(s.vcns[2], 9);

    uint8_t c[512];
    memcpy(c, b, sizeof c);
    test_put_le32(c, NTFS_IH_INDEX_LENGTH, 600);
    test_expect_error(ctx, ntfs_parse_index_node(ctx, c, sizeof c, 0, "node X", collect_entry, &s, &stopped),
                      IMGP_ERR_CORRUPT, "node X: entries at 16..600");
    memcpy(c, b, sizeof c);
    test_put_le32(c, NTFS_IH_ENTRIES_OFFSET, 4);
    test_expect_error(ctx, ntfs_parse_index_node(ctx, c, sizeof c, 0, "n", collect_entry, &s, &stopped),
                      IMGP_ERR_CORRUPT, "entries at 4..");
    memcpy(c, b, sizeof c);
    test_put_le16(c, NTFS_IH_SIZE + NTFS_IE_LENGTH, 12);
    test_expect_error(ctx, ntfs_parse_index_node(ctx, c, sizeof c, 0, "n", collect_entry, &s, &stopped),
                      IMGP_ERR_CORRUPT, "has length 12");
    memcpy(c, b, sizeof c);
    c[NTFS_IH_SIZE + NTFS_IE_KEY + NTFS_FN_NAME_LENGTH] = 100;
    test_expect_error(ctx, ntfs_parse_index_node(ctx, c, sizeof c, 0, "n", collect_entry, &s, &stopped),
                      IMGP_ERR_CORRUPT, "file name of 100 units");
    memcpy(c, b, sizeof c);
    test_put_le16(c, NTFS_IH_SIZE + NTFS_IE_FLAGS, 0); /* no last entry before the end */
    test_put_le32(c, NTFS_IH_INDEX_LENGTH, NTFS_IH_SIZE + 40);
    test_expect_error(ctx, ntfs_parse_index_node(ctx, c, sizeof c, 0, "n", collect_entry, &s, &stopped),
                      IMGP_ERR_CORRUPT, "has length 96 (key 76 bytes, 40 bytes left)");
    test_expect_error(ctx, ntfs_parse_index_node(ctx, b, 6, 0, "n", collect_entry, &s, &stopped),
                      IMGP_ERR_CORRUPT, "node header truncated");
    imgp_ctx_free(ctx);
}

/* ---- LZNT1 ---- */

static void test_lznt1(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    /* "abcabcabcabc" + "X": literals a b c, then a back-reference 3 back of
     * length 9 (at position 3: 12-bit length field), then literal X */
    uint8_t src[] = {0, 0, 0x08, 'a', 'b', 'c', 0x06, 0x20, 'X', 0, 0};
    size_t body = sizeof src - 4;
    test_put_le16(src, 0, (uint16_t)(NTFS_LZNT1_COMPRESSED | 0x3000 | (body - 1)));
    uint8_t dst[32];
    size_t got;
    assert_int_equal(ntfs_lznt1_decompress(ctx, src, sizeof src, dst, sizeof dst, &got), IMGP_OK);
    assert_int_equal(got, 13);
    assert_memory_equal(dst, "abcabcabcabcX", 13);
    assert_int_equal(dst[13], 0);
    /* a stored chunk */
    uint8_t stored[2 + 5] = {0, 0, 'h', 'e', 'l', 'l', 'o'};
    test_put_le16(stored, 0, 0x3000 | 4);
    assert_int_equal(ntfs_lznt1_decompress(ctx, stored, sizeof stored, dst, sizeof dst, &got), IMGP_OK);
    assert_int_equal(got, 5);
    assert_memory_equal(dst, "hello", 5);
    /* a back-reference before the start of the chunk */
    uint8_t far[] = {0, 0, 0x01, 0x00, 0x50};
    test_put_le16(far, 0, (uint16_t)(NTFS_LZNT1_COMPRESSED | 0x3000 | 2));
    test_expect_error(ctx, ntfs_lznt1_decompress(ctx, far, sizeof far, dst, sizeof dst, &got), IMGP_ERR_CORRUPT,
                      "back-reference");
    /* a chunk longer than the data */
    test_put_le16(stored, 0, 0x3000 | 100);
    test_expect_error(ctx, ntfs_lznt1_decompress(ctx, stored, sizeof stored, dst, sizeof dst, &got),
                      IMGP_ERR_CORRUPT, "overruns");
    /* a back-reference cut short */
    uint8_t cut[] = {0, 0, 0x01, 0x00};
    test_put_le16(cut, 0, (uint16_t)(NTFS_LZNT1_COMPRESSED | 0x3000 | 1));
    test_expect_error(ctx, ntfs_lznt1_decompress(ctx, cut, sizeof cut, dst, sizeof dst, &got), IMGP_ERR_CORRUPT,
                      "cut short");
    imgp_ctx_free(ctx);
}

/* ---- a volume in memory ----
 * 512-byte sectors and clusters, 512 clusters. $MFT: 24 records of 4 KiB,
 * 0..11 at cluster 16, 12..23 at cluster 400 (mapped by an extent in
 * extension record 11). Data at clusters 300 to 311.
 *   0 $MFT, 3 $Volume, 5 root, 10 $UpCase (absent: the built-in table)
 *   16 "file" (resident)    17 "Dir" (index root + one index block at 64)
 *   18 "link" symlink       19 "Dir/inner" (non-resident, hole, init size)
 *   20 "split" ($DATA in extension record 21)   22 "junction"   23 "wof"
 */
#define VOL_CLUSTERS 512u
#define VOL_SIZE (VOL_CLUSTERS * 512u + 512u) /* and the backup boot sector */
#define MFT_LCN 16u
#define MFT_RECORDS 24u

typedef struct volume {
    uint8_t *b;
} volume;

/* $MFT in two runs: records 0..11 at cluster 16, records 12..23 at cluster 400 */
#define MFT2_LCN 400u
static uint8_t *record_at(volume *v, unsigned n)
{
    return n < 12 ? v->b + MFT_LCN * 512 + n * REC : v->b + MFT2_LCN * 512 + (n - 12) * REC;
}

static void put_si(rec *r, uint32_t fattr)
{
    uint8_t si[0x48] = {0};
    test_put_le64(si, NTFS_SI_MODIFICATION, 116444736000000000ull + 1700000000ull * 10000000ull + 1234500);
    test_put_le64(si, NTFS_SI_MFT_CHANGE, 116444736000000000ull);
    test_put_le64(si, NTFS_SI_ACCESS, 116444736000000000ull - 10000000ull * 86400); /* 1969-12-31 */
    test_put_le32(si, NTFS_SI_ATTRIBUTES, fattr);
    add_resident(r, NTFS_AT_STANDARD_INFORMATION, NULL, si, sizeof si);
}

static void put_fn(rec *r, const char *name, uint8_t ns)
{
    uint8_t fn[NTFS_FN_NAME + 128] = {0};
    test_put_le64(fn, NTFS_FN_PARENT, 5);
    fn[NTFS_FN_NAME_LENGTH] = (uint8_t)strlen(name);
    fn[NTFS_FN_NAMESPACE] = ns;
    u16(name, fn + NTFS_FN_NAME);
    add_resident(r, NTFS_AT_FILE_NAME, NULL, fn, NTFS_FN_NAME + 2 * (uint32_t)strlen(name));
}

static void put_index_root(rec *r, const uint8_t *ents, size_t len, bool large)
{
    uint8_t v[2048] = {0};
    assert_true(len <= sizeof v - NTFS_IR_NODE - NTFS_IH_SIZE);
    test_put_le32(v, NTFS_IR_TYPE, NTFS_AT_FILE_NAME);
    test_put_le32(v, NTFS_IR_COLLATION, NTFS_COLLATION_FILE_NAME);
    test_put_le32(v, NTFS_IR_BLOCK_SIZE, 1024);
    v[NTFS_IR_CLUSTERS_PER_BLOCK] = 2;
    test_put_le32(v, NTFS_IR_NODE + NTFS_IH_ENTRIES_OFFSET, NTFS_IH_SIZE);
    test_put_le32(v, NTFS_IR_NODE + NTFS_IH_INDEX_LENGTH, (uint32_t)(NTFS_IH_SIZE + len));
    test_put_le32(v, NTFS_IR_NODE + NTFS_IH_ALLOCATED, (uint32_t)(NTFS_IH_SIZE + len));
    v[NTFS_IR_NODE + NTFS_IH_FLAGS] = large;
    memcpy(v + NTFS_IR_NODE + NTFS_IH_SIZE, ents, len);
    add_resident(r, NTFS_AT_INDEX_ROOT, "$I30", v, (uint32_t)(NTFS_IR_NODE + NTFS_IH_SIZE + len));
}

static void put_reparse(rec *r, uint32_t tag, const char *target, uint32_t flags)
{
    uint8_t v[256] = {0};
    size_t n = strlen(target), hdr = tag == NTFS_TAG_SYMLINK ? NTFS_RP_SYMLINK_PATHS : NTFS_RP_MOUNT_POINT_PATHS;
    test_put_le32(v, NTFS_RP_TAG, tag);
    test_put_le16(v, NTFS_RP_DATA_LENGTH, (uint16_t)(hdr + 4 * n));
    uint8_t *d = v + NTFS_RP_DATA;
    test_put_le16(d, NTFS_RP_SUBST_LENGTH, (uint16_t)(2 * n));
    test_put_le16(d, NTFS_RP_PRINT_OFFSET, (uint16_t)(2 * n));
    test_put_le16(d, NTFS_RP_PRINT_LENGTH, (uint16_t)(2 * n));
    if (tag == NTFS_TAG_SYMLINK)
        test_put_le32(d, NTFS_RP_SYMLINK_FLAGS, flags);
    u16(target, d + hdr);
    u16(target, d + hdr + 2 * n);
    add_resident(r, NTFS_AT_REPARSE_POINT, NULL, v, (uint32_t)(NTFS_RP_DATA + hdr + 4 * n));
}

static volume make_volume(void)
{
    volume v = {calloc(1, VOL_SIZE)};
    assert_non_null(v.b);
    make_boot(v.b, VOL_CLUSTERS);
    v.b[NTFS_BOOT_CLUSTERS_PER_RECORD] = (uint8_t)-12;
    memcpy(v.b + VOL_SIZE - 512, v.b, 512); /* the backup */
    rec r;
    uint8_t ent[2048];
    size_t n;

    /* $MFT: its first extent (vcn 0..95) in record 0, the second (96..191,
     * at cluster 400) in extension record 11, which its attribute list names */
    rec_init(&r, NTFS_REC_IN_USE, 0);
    put_si(&r, 0);
    uint8_t mal[2 * 32] = {0};
    test_put_le32(mal, NTFS_AL_TYPE, NTFS_AT_DATA);
    test_put_le16(mal, NTFS_AL_LENGTH, 32);
    test_put_le64(mal, NTFS_AL_REF, 0);
    test_put_le32(mal + 32, NTFS_AL_TYPE, NTFS_AT_DATA);
    test_put_le16(mal + 32, NTFS_AL_LENGTH, 32);
    test_put_le64(mal + 32, NTFS_AL_START_VCN, 96);
    test_put_le64(mal + 32, NTFS_AL_REF, 11);
    add_resident(&r, NTFS_AT_ATTRIBUTE_LIST, NULL, mal, sizeof mal);
    static const uint8_t mft_runs[] = {0x11, 96, MFT_LCN, 0};
    add_nonresident(&r, NTFS_AT_DATA, NULL, 0, 95, mft_runs, sizeof mft_runs, MFT_RECORDS * REC, MFT_RECORDS * REC, 0);
    rec_finish(&r, record_at(&v, 0));
    rec_init(&r, NTFS_REC_IN_USE, 1ull << 48); /* base: record 0, sequence 1 */
    static const uint8_t mft_runs2[] = {0x21, 96, 0x90, 0x01, 0}; /* cluster 400: each extent counts from 0 */
    add_nonresident(&r, NTFS_AT_DATA, NULL, 96, 191, mft_runs2, sizeof mft_runs2, 0, 0, 0);
    rec_finish(&r, record_at(&v, 11));

    rec_init(&r, NTFS_REC_IN_USE, 0); /* $Volume */
    uint8_t label[8];
    add_resident(&r, NTFS_AT_VOLUME_NAME, NULL, u16("unit", label), 8);
    uint8_t vi[NTFS_VI_SIZE] = {0};
    vi[NTFS_VI_MAJOR] = 3;
    vi[NTFS_VI_MINOR] = 1;
    add_resident(&r, NTFS_AT_VOLUME_INFORMATION, NULL, vi, sizeof vi);
    rec_finish(&r, record_at(&v, 3));

    rec_init(&r, NTFS_REC_IN_USE | NTFS_REC_DIRECTORY, 0); /* root: sorted as upper case */
    put_si(&r, 0);
    put_fn(&r, ".", NTFS_NS_WIN32_DOS);
    n = 0;
    n += put_entry(ent + n, "$MFT", 0, NTFS_NS_WIN32_DOS, 0, false, 0, false);
    n += put_entry(ent + n, ".", 5, NTFS_NS_WIN32_DOS, NTFS_FILE_ATTR_DIRECTORY_INDEX, false, 0, false);
    n += put_entry(ent + n, "Dir", 17, NTFS_NS_WIN32, NTFS_FILE_ATTR_DIRECTORY_INDEX, false, 0, false);
    n += put_entry(ent + n, "file", 16, NTFS_NS_POSIX, 0, false, 0, false);
    n += put_entry(ent + n, "junction", 22, NTFS_NS_WIN32, NTFS_FILE_ATTR_REPARSE_POINT, false, 0, false);
    n += put_entry(ent + n, "JUNCTI~1", 22, NTFS_NS_DOS, NTFS_FILE_ATTR_REPARSE_POINT, false, 0, false);
    n += put_entry(ent + n, "link", 18, NTFS_NS_WIN32_DOS, NTFS_FILE_ATTR_REPARSE_POINT, false, 0, false);
    n += put_entry(ent + n, "split", 20, NTFS_NS_WIN32_DOS, 0, false, 0, false);
    n += put_entry(ent + n, "wof", 23, NTFS_NS_WIN32_DOS, 0, false, 0, false);
    n += put_entry(ent + n, NULL, 0, 0, 0, false, 0, true);
    put_index_root(&r, ent, n, false);
    rec_finish(&r, record_at(&v, 5));

    rec_init(&r, NTFS_REC_IN_USE, 0);
    put_si(&r, NTFS_FILE_ATTR_READONLY);
    put_fn(&r, "file", NTFS_NS_POSIX);
    add_resident(&r, NTFS_AT_DATA, NULL, "hello\n", 6);
    add_resident(&r, NTFS_AT_DATA, "named", "not this", 8);
    rec_finish(&r, record_at(&v, 16));

    rec_init(&r, NTFS_REC_IN_USE | NTFS_REC_DIRECTORY, 0); /* Dir: root -> index block 0 (cluster 300) holding "inner" */
    put_si(&r, 0);
    put_fn(&r, "Dir", NTFS_NS_WIN32);
    n = put_entry(ent, NULL, 0, 0, 0, true, 0, true);
    put_index_root(&r, ent, n, true);
    static const uint8_t dir_runs[] = {0x21, 2, 0x2C, 0x01, 0}; /* cluster 300 */
    add_nonresident(&r, NTFS_AT_INDEX_ALLOCATION, "$I30", 0, 1, dir_runs, sizeof dir_runs, 1024, 1024, 0);
    rec_finish(&r, record_at(&v, 17));
    /* the index block (1 KiB): "INDX" with fixups */
    rec blk;
    memset(blk.b, 0, 1024);
    memcpy(blk.b, "INDX", 4);
    test_put_le16(blk.b, NTFS_MULTI_USA_OFS, 0x28);
    test_put_le16(blk.b, NTFS_MULTI_USA_COUNT, 3);
    test_put_le64(blk.b, NTFS_IB_VCN, 0);
    n = 0x40 - NTFS_IB_NODE;
    size_t e0 = NTFS_IB_NODE + n;
    n += put_entry(blk.b + e0, "inner", 19, NTFS_NS_WIN32_DOS, 0, false, 0, false);
    n += put_entry(blk.b + NTFS_IB_NODE + n, NULL, 0, 0, 0, false, 0, true);
    test_put_le32(blk.b, NTFS_IB_NODE + NTFS_IH_ENTRIES_OFFSET, 0x40 - NTFS_IB_NODE);
    test_put_le32(blk.b, NTFS_IB_NODE + NTFS_IH_INDEX_LENGTH, (uint32_t)n);
    test_put_le32(blk.b, NTFS_IB_NODE + NTFS_IH_ALLOCATED, 1024 - NTFS_IB_NODE);
    uint8_t *ib = v.b + 300 * 512;
    memcpy(ib, blk.b, 1024);
    test_put_le16(ib, 0x28, 1);
    for (unsigned i = 0; i < 2; i++) {
        ib[0x2A + 2 * i] = ib[(i + 1) * 512 - 2];
        ib[0x2B + 2 * i] = ib[(i + 1) * 512 - 1];
        test_put_le16(ib, (i + 1) * 512 - 2, 1);
    }

    rec_init(&r, NTFS_REC_IN_USE, 0); /* link -> \??\C:\file */
    put_si(&r, 0);
    put_fn(&r, "link", NTFS_NS_WIN32_DOS);
    put_reparse(&r, NTFS_TAG_SYMLINK, "\\??\\C:\\file", 0);
    rec_finish(&r, record_at(&v, 18));

    rec_init(&r, NTFS_REC_IN_USE, 0); /* inner: cluster 310, then a hole of 2; 1536 bytes, 1000 initialised */
    put_si(&r, 0);
    put_fn(&r, "inner", NTFS_NS_WIN32_DOS);
    static const uint8_t inner_runs[] = {0x21, 1, 0x36, 0x01, 0x01, 2, 0}; /* cluster 310 */
    add_nonresident(&r, NTFS_AT_DATA, NULL, 0, 2, inner_runs, sizeof inner_runs, 1536, 1000, NTFS_ATTR_SPARSE);
    rec_finish(&r, record_at(&v, 19));
    memset(v.b + 310 * 512, 'i', 512);

    rec_init(&r, NTFS_REC_IN_USE, 0); /* split: its $DATA in record 21, named by the attribute list */
    put_si(&r, 0);
    uint8_t al[2 * 32] = {0};
    test_put_le32(al, NTFS_AL_TYPE, NTFS_AT_STANDARD_INFORMATION);
    test_put_le16(al, NTFS_AL_LENGTH, 32);
    test_put_le64(al, NTFS_AL_REF, 20);
    test_put_le32(al + 32, NTFS_AL_TYPE, NTFS_AT_DATA);
    test_put_le16(al + 32, NTFS_AL_LENGTH, 32);
    test_put_le64(al + 32, NTFS_AL_REF, 21);
    add_resident(&r, NTFS_AT_ATTRIBUTE_LIST, NULL, al, sizeof al);
    put_fn(&r, "split", NTFS_NS_WIN32_DOS);
    put_fn(&r, "SPLIT2", NTFS_NS_WIN32); /* a second link */
    rec_finish(&r, record_at(&v, 20));
    rec_init(&r, NTFS_REC_IN_USE, 20);
    static const uint8_t split_runs[] = {0x21, 1, 0x37, 0x01, 0}; /* cluster 311 */
    add_nonresident(&r, NTFS_AT_DATA, NULL, 0, 0, split_runs, sizeof split_runs, 300, 300, 0);
    rec_finish(&r, record_at(&v, 21));
    memset(v.b + 311 * 512, 's', 512);

    rec_init(&r, NTFS_REC_IN_USE | NTFS_REC_DIRECTORY, 0); /* junction -> \??\C:\Dir */
    put_si(&r, 0);
    put_fn(&r, "junction", NTFS_NS_WIN32);
    put_fn(&r, "JUNCTI~1", NTFS_NS_DOS);
    n = put_entry(ent, NULL, 0, 0, 0, false, 0, true);
    put_index_root(&r, ent, n, false);
    put_reparse(&r, NTFS_TAG_MOUNT_POINT, "\\??\\C:\\Dir", 0);
    rec_finish(&r, record_at(&v, 22));

    rec_init(&r, NTFS_REC_IN_USE, 0); /* wof: WOF-compressed (LZX) */
    put_si(&r, NTFS_FILE_ATTR_REPARSE_POINT);
    put_fn(&r, "wof", NTFS_NS_WIN32_DOS);
    uint8_t wof[NTFS_RP_DATA + 16] = {0};
    test_put_le32(wof, NTFS_RP_TAG, NTFS_TAG_WOF);
    test_put_le16(wof, NTFS_RP_DATA_LENGTH, 16);
    test_put_le32(wof, NTFS_RP_DATA + NTFS_WOF_VERSION, 1);
    test_put_le32(wof, NTFS_RP_DATA + NTFS_WOF_PROVIDER, NTFS_WOF_PROVIDER_FILE);
    test_put_le32(wof, NTFS_RP_DATA + NTFS_WOF_FP_VERSION, 1);
    test_put_le32(wof, NTFS_RP_DATA + NTFS_WOF_ALGORITHM, 1);
    add_resident(&r, NTFS_AT_REPARSE_POINT, NULL, wof, sizeof wof);
    add_resident(&r, NTFS_AT_DATA, NULL, "", 0);
    rec_finish(&r, record_at(&v, 23));
    return v;
}

typedef struct seen {
    char names[32][64];
    imgp_ino inos[32];
    imgp_ftype types[32];
    size_t n;
} seen;

static int see(void *arg, const imgp_dirent *e)
{
    seen *s = arg;
    if (s->n < 32) {
        snprintf(s->names[s->n], 64, "%.*s", (int)e->name_len, e->name);
        s->inos[s->n] = e->ino;
        s->types[s->n] = e->type;
        s->n++;
    }
    return 0;
}

static imgp_fs *mount_mem(imgp_ctx *ctx, const uint8_t *b, imgp_bdev **bd)
{
    assert_int_equal(imgp_bdev_open_memory(ctx, b, VOL_SIZE, "mem", bd), IMGP_OK);
    imgp_fs *fs = NULL;
    imgp_status st = imgp_fs_mount(ctx, *bd, NULL, &fs);
    if (st != IMGP_OK)
        fail_msg("mount: %s", imgp_ctx_message(ctx));
    return fs;
}

static void test_fs_walk(void **state)
{
    (void)state;
    volume v = make_volume();
    imgp_ctx *ctx = ctx_new();
    imgp_bdev *bd;
    imgp_fs *fs = mount_mem(ctx, v.b, &bd);
    const imgp_fs_info *info = imgp_fs_get_info(fs);
    assert_string_equal(info->type, "ntfs");
    assert_string_equal(info->label, "unit");
    assert_string_equal(info->uuid, "1122334455667788");
    assert_true(info->case_insensitive);
    assert_int_equal(info->root, 5);
    assert_int_equal(info->block_size, 512);
    assert_int_equal(info->nnotes, 1); /* no $UpCase in record 10 */
    assert_non_null(strstr(info->notes[0], "$UpCase unusable"));

    seen s = {0};
    assert_int_equal(imgp_fs_readdir(fs, 5, see, &s), IMGP_OK);
    assert_int_equal(s.n, 6); /* not $MFT, ".", nor the DOS name */
    const char *want[] = {"Dir", "file", "junction", "link", "split", "wof"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(s.names[i], want[i]);
    assert_int_equal(s.types[0], IMGP_FT_DIR);
    assert_int_equal(s.types[1], IMGP_FT_REG);
    assert_int_equal(s.types[3], IMGP_FT_UNKNOWN);

    imgp_ino ino;
    assert_int_equal(imgp_fs_lookup_name(fs, 5, "FILE", 4, &ino), IMGP_OK);
    assert_int_equal(ino, 16);
    assert_int_equal(imgp_fs_lookup_name(fs, 5, "dir", 3, &ino), IMGP_OK);
    assert_int_equal(ino, 17);
    assert_int_equal(imgp_fs_lookup_name(fs, 5, "juncti~1", 8, &ino), IMGP_OK);
    assert_int_equal(ino, 22);
    test_expect_error(ctx, imgp_fs_lookup_name(fs, 5, "fil", 3, &ino), IMGP_ERR_NOT_FOUND, "'fil' not found");
    test_expect_error(ctx, imgp_fs_lookup_name(fs, 5, "\xff", 1, &ino), IMGP_ERR_NOT_FOUND, "not found");

    imgp_stat st;
    assert_int_equal(imgp_fs_stat(fs, 16, &st), IMGP_OK);
    assert_int_equal(st.type, IMGP_FT_REG);
    assert_int_equal(st.size, 6);
    assert_int_equal(st.mode, 0444); /* read-only */
    assert_int_equal(st.mtime, 1700000000);
    assert_int_equal(st.mtime_nsec, 123450000);
    assert_int_equal(st.ctime, 0);
    assert_int_equal(st.atime, -86400);
    assert_true(st.flags & IMGP_STAT_INLINE);
    char buf[2048];
    size_t got;
    assert_int_equal(imgp_fs_read(fs, 16, 0, buf, sizeof buf, &got), IMGP_OK);
    assert_int_equal(got, 6);
    assert_memory_equal(buf, "hello\n", 6);

    /* the index block */
    memset(&s, 0, sizeof s);
    assert_int_equal(imgp_fs_readdir(fs, 17, see, &s), IMGP_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.names[0], "inner");
    assert_int_equal(imgp_fs_lookup_name(fs, 17, "INNER", 5, &ino), IMGP_OK);
    assert_int_equal(ino, 19);
    assert_int_equal(imgp_fs_stat(fs, 19, &st), IMGP_OK);
    assert_int_equal(st.size, 1536);
    assert_int_equal(imgp_fs_read(fs, 19, 0, buf, sizeof buf, &got), IMGP_OK);
    assert_int_equal(got, 1536);
    for (size_t i = 0; i < 1536; i++)
        if (buf[i] != (i < 512 ? 'i' : 0))
            fail_msg("byte %zu of inner is %d", i, buf[i]);
    assert_int_equal(imgp_fs_read(fs, 19, 500, buf, 20, &got), IMGP_OK);
    assert_memory_equal(buf, "iiiiiiiiiiii\0\0\0\0\0\0\0\0", 20);

    /* $DATA in an extension record; two names */
    assert_int_equal(imgp_fs_stat(fs, 20, &st), IMGP_OK);
    assert_int_equal(st.size, 300);
    assert_int_equal(st.nlink, 2);
    assert_int_equal(imgp_fs_read(fs, 20, 0, buf, sizeof buf, &got), IMGP_OK);
    assert_int_equal(got, 300);
    assert_int_equal(buf[299], 's');

    /* links */
    assert_int_equal(imgp_fs_stat(fs, 18, &st), IMGP_OK);
    assert_int_equal(st.type, IMGP_FT_SYMLINK);
    assert_int_equal(st.size, 5);
    assert_int_equal(imgp_fs_readlink(fs, 18, buf, sizeof buf), IMGP_OK);
    assert_string_equal(buf, "/file");
    assert_int_equal(imgp_fs_stat(fs, 22, &st), IMGP_OK);
    assert_int_equal(st.type, IMGP_FT_SYMLINK);
    assert_int_equal(st.nlink, 1);
    assert_int_equal(imgp_fs_readlink(fs, 22, buf, sizeof buf), IMGP_OK);
    assert_string_equal(buf, "/Dir");
    imgp_view *view;
    imgp_node node;
    assert_int_equal(imgp_view_new(ctx, fs, &view), IMGP_OK);
    assert_int_equal(imgp_view_lookup(view, "/JUNCTION/Inner", 0, &node), IMGP_OK);
    assert_int_equal(node.ino, 19);
    assert_int_equal(imgp_view_lookup(view, "/link", 0, &node), IMGP_OK);
    assert_int_equal(node.ino, 16);
    imgp_view_free(view);

    /* WOF: recognised, refused by name */
    assert_int_equal(imgp_fs_stat(fs, 23, &st), IMGP_OK);
    assert_true(st.flags & IMGP_STAT_REPARSE);
    assert_true(st.flags & IMGP_STAT_COMPRESSED);
    imgp_fs_unmount(fs);
    imgp_bdev_close(bd);
    imgp_ctx_free(ctx);
    free(v.b);
}

/* Reparse targets: how each form is translated. */
static void test_fs_link_targets(void **state)
{
    (void)state;
    struct {
        uint32_t tag, flags;
        const char *target, *want;
    } cases[] = {
        {NTFS_TAG_SYMLINK, 0, "\\??\\C:\\a\\b", "/a/b"},
        {NTFS_TAG_SYMLINK, 0, "\\??\\c:\\", "/"},
        {NTFS_TAG_SYMLINK, 0, "\\??\\C:", "/"},
        {NTFS_TAG_SYMLINK, 0, "C:\\x", "/x"},
        {NTFS_TAG_SYMLINK, 0, "\\x\\y", "/x/y"},
        {NTFS_TAG_SYMLINK, 1, "..\\up\\f", "../up/f"},
        {NTFS_TAG_SYMLINK, 0, "\\??\\D:\\data", "\\??\\D:\\data"},
        {NTFS_TAG_MOUNT_POINT, 0, "\\??\\Volume{01234567-89ab}\\", "\\??\\Volume{01234567-89ab}\\"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        volume v = make_volume();
        rec r;
        rec_init(&r, NTFS_REC_IN_USE, 0);
        put_si(&r, 0);
        put_fn(&r, "link", NTFS_NS_WIN32_DOS);
        put_reparse(&r, cases[i].tag, cases[i].target, cases[i].flags);
        rec_finish(&r, record_at(&v, 18));
        imgp_ctx *ctx = ctx_new();
        imgp_bdev *bd;
        imgp_fs *fs = mount_mem(ctx, v.b, &bd);
        char buf[256];
        imgp_stat st;
        assert_int_equal(imgp_fs_stat(fs, 18, &st), IMGP_OK);
        assert_int_equal(st.size, strlen(cases[i].want));
        assert_int_equal(imgp_fs_readlink(fs, 18, buf, sizeof buf), IMGP_OK);
        assert_string_equal(buf, cases[i].want);
        imgp_fs_unmount(fs);
        imgp_bdev_close(bd);
        imgp_ctx_free(ctx);
        free(v.b);
    }
}

static void test_fs_wof_refused(void **state)
{
    (void)state;
    volume v = make_volume();
    rec r;
    rec_init(&r, NTFS_REC_IN_USE, 0); /* give wof a size, so that a read reaches the driver */
    put_si(&r, NTFS_FILE_ATTR_REPARSE_POINT);
    put_fn(&r, "wof", NTFS_NS_WIN32_DOS);
    uint8_t wof[NTFS_RP_DATA + 16] = {0};
    test_put_le32(wof, NTFS_RP_TAG, NTFS_TAG_WOF);
    test_put_le16(wof, NTFS_RP_DATA_LENGTH, 16);
    test_put_le32(wof, NTFS_RP_DATA + NTFS_WOF_PROVIDER, NTFS_WOF_PROVIDER_FILE);
    test_put_le32(wof, NTFS_RP_DATA + NTFS_WOF_ALGORITHM, 1);
    add_resident(&r, NTFS_AT_REPARSE_POINT, NULL, wof, sizeof wof);
    static const uint8_t hole[] = {0x01, 4, 0};
    add_nonresident(&r, NTFS_AT_DATA, NULL, 0, 3, hole, sizeof hole, 2000, 0, NTFS_ATTR_SPARSE);
    rec_finish(&r, record_at(&v, 23));
    imgp_ctx *ctx = ctx_new();
    imgp_bdev *bd;
    imgp_fs *fs = mount_mem(ctx, v.b, &bd);
    char buf[64];
    size_t got;
    test_expect_error(ctx, imgp_fs_read(fs, 23, 0, buf, sizeof buf, &got), IMGP_ERR_UNSUPPORTED,
                      "MFT record 23 is compressed by Windows (WOF/CompactOS, LZX in its WofCompressedData stream)");
    imgp_fs_unmount(fs);
    imgp_bdev_close(bd);
    imgp_ctx_free(ctx);
    free(v.b);
}

/* Damage one structure of a fresh volume; the mount or a walk must say so. */
static void test_fs_damage(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    imgp_ino ino;
    imgp_bdev *bd;
    imgp_fs *fs = NULL;
    imgp_stat st;
    seen s = {0};
    char buf[64];
    size_t got;

    /* a torn root record: the mount fails naming it */
    volume v = make_volume();
    record_at(&v, 5)[1022] = 0x77;
    assert_int_equal(imgp_bdev_open_memory(ctx, v.b, VOL_SIZE, "mem", &bd), IMGP_OK);
    test_expect_error(ctx, imgp_fs_mount(ctx, bd, NULL, &fs), IMGP_ERR_CORRUPT,
                      "ntfs: MFT record 5: sector 1 ends in 7700, not the update sequence number 0100");
    assert_null(fs);
    imgp_bdev_close(bd);
    free(v.b);

    /* the boot sector destroyed: the backup, with a note */
    v = make_volume();
    memset(v.b, 0, 512);
    fs = mount_mem(ctx, v.b, &bd);
    const imgp_fs_info *info = imgp_fs_get_info(fs);
    assert_int_equal(info->nnotes, 2);
    assert_non_null(strstr(info->notes[0], "primary boot sector unusable (boot sector: no 'NTFS    ' OEM"));
    imgp_fs_unmount(fs);
    memset(v.b + VOL_SIZE - 512, 0, 512);
    test_expect_error(ctx, imgp_fs_mount(ctx, bd, "ntfs", &fs), IMGP_ERR_CORRUPT, "and no backup boot sector");
    imgp_bdev_close(bd);
    free(v.b);

    /* an attribute list naming a record that is not one of the file's */
    v = make_volume();
    rec r;
    rec_init(&r, NTFS_REC_IN_USE, 0);
    put_si(&r, 0);
    uint8_t al[32] = {0};
    test_put_le32(al, NTFS_AL_TYPE, NTFS_AT_DATA);
    test_put_le16(al, NTFS_AL_LENGTH, 32);
    test_put_le64(al, NTFS_AL_REF, 16);
    add_resident(&r, NTFS_AT_ATTRIBUTE_LIST, NULL, al, sizeof al);
    rec_finish(&r, record_at(&v, 20));
    fs = mount_mem(ctx, v.b, &bd);
    test_expect_error(ctx, imgp_fs_stat(fs, 20, &st), IMGP_ERR_CORRUPT,
                      "its attribute list names record 16, which is not one of its extension records");
    imgp_fs_unmount(fs);
    imgp_bdev_close(bd);
    /* an extension record with an attribute list of its own (a loop) */
    rec_init(&r, NTFS_REC_IN_USE, 20);
    test_put_le64(al, NTFS_AL_REF, 20);
    add_resident(&r, NTFS_AT_ATTRIBUTE_LIST, NULL, al, sizeof al);
    rec_finish(&r, record_at(&v, 16));
    fs = mount_mem(ctx, v.b, &bd);
    test_expect_error(ctx, imgp_fs_stat(fs, 20, &st), IMGP_ERR_CORRUPT,
                      "extension record 16 holds an attribute list of its own");
    /* and an extension record is not a file */
    test_expect_error(ctx, imgp_fs_stat(fs, 16, &st), IMGP_ERR_CORRUPT, "is an extension record of record 20");
    test_expect_error(ctx, imgp_fs_stat(fs, 9, &st), IMGP_ERR_CORRUPT, "MFT record 9: magic 00000000");
    test_expect_error(ctx, imgp_fs_stat(fs, 24, &st), IMGP_ERR_CORRUPT, "past the end of $MFT (24 records)");
    test_expect_error(ctx, imgp_fs_stat(fs, 11, &st), IMGP_ERR_CORRUPT, "MFT record 11 is an extension record of record 0");
    imgp_fs_unmount(fs);
    imgp_bdev_close(bd);
    free(v.b);

    /* an index block whose entry points to itself */
    v = make_volume();
    uint8_t *ib = v.b + 300 * 512;
    /* the block's last entry becomes a subnode pointing to block 0 */
    size_t first = 0x40, flen = (size_t)(ib[first + NTFS_IE_LENGTH] | ib[first + NTFS_IE_LENGTH + 1] << 8);
    size_t last = first + flen;
    test_put_le16(ib, last + NTFS_IE_LENGTH, 24);
    test_put_le16(ib, last + NTFS_IE_FLAGS, NTFS_IE_SUBNODE | NTFS_IE_LAST);
    test_put_le64(ib, last + 16, 0);
    test_put_le32(ib, NTFS_IB_NODE + NTFS_IH_INDEX_LENGTH, (uint32_t)(last + 24 - NTFS_IB_NODE));
    fs = mount_mem(ctx, v.b, &bd);
    memset(&s, 0, sizeof s);
    test_expect_error(ctx, imgp_fs_readdir(fs, 17, see, &s), IMGP_ERR_CORRUPT,
                      "the index tree visits block 0 once too often or too deep (a loop?)");
    test_expect_error(ctx, imgp_fs_lookup_name(fs, 17, "zzz", 3, &ino), IMGP_ERR_CORRUPT, "a loop?");
    imgp_fs_unmount(fs);
    imgp_bdev_close(bd);
    /* ... whose VCN field says another block */
    test_put_le64(ib, NTFS_IB_VCN, 5);
    fs = mount_mem(ctx, v.b, &bd);
    test_expect_error(ctx, imgp_fs_readdir(fs, 17, see, &s), IMGP_ERR_CORRUPT, "index block 0 says it is block 5");
    imgp_fs_unmount(fs);
    imgp_bdev_close(bd);
    free(v.b);

    /* a data run outside the volume */
    v = make_volume();
    rec_init(&r, NTFS_REC_IN_USE, 0);
    put_si(&r, 0);
    static const uint8_t far_runs[] = {0x21, 1, 0x00, 0x10, 0};
    add_nonresident(&r, NTFS_AT_DATA, NULL, 0, 0, far_runs, sizeof far_runs, 100, 100, 0);
    rec_finish(&r, record_at(&v, 19));
    fs = mount_mem(ctx, v.b, &bd);
    test_expect_error(ctx, imgp_fs_read(fs, 19, 0, buf, sizeof buf, &got), IMGP_ERR_CORRUPT,
                      "clusters 4096..+1 lie outside the volume (512 clusters)");
    imgp_fs_unmount(fs);
    imgp_bdev_close(bd);
    free(v.b);

    /* too many entries */
    v = make_volume();
    fs = mount_mem(ctx, v.b, &bd);
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_DIR_ENTRIES, 3), IMGP_OK);
    test_expect_error(ctx, imgp_fs_readdir(fs, 5, see, &s), IMGP_ERR_LIMIT,
                      "directory record 5 has more than 3 entries");
    imgp_fs_unmount(fs);
    imgp_bdev_close(bd);
    free(v.b);
    imgp_ctx_free(ctx);
}

/* Every read failing in turn, then every allocation: an error, never a crash or a leak. */
static void test_fs_failures(void **state)
{
    (void)state;
    volume v = make_volume();
    for (unsigned fail_at = 1;; fail_at++) {
        imgp_ctx *ctx = ctx_new();
        imgp_bdev *mem, *bd;
        unsigned reads = 0;
        assert_int_equal(imgp_bdev_open_memory(ctx, v.b, VOL_SIZE, "mem", &mem), IMGP_OK);
        assert_int_equal(test_bdev_failing(ctx, mem, fail_at, &reads, &bd), IMGP_OK);
        imgp_fs *fs = NULL;
        imgp_status st = imgp_fs_mount(ctx, bd, NULL, &fs);
        seen s = {0};
        uint8_t buf[2048];
        size_t got;
        if (st == IMGP_OK)
            st = imgp_fs_readdir(fs, 17, see, &s);
        if (st == IMGP_OK)
            st = imgp_fs_read(fs, 19, 0, buf, sizeof buf, &got);
        if (st == IMGP_OK)
            st = imgp_fs_read(fs, 20, 0, buf, sizeof buf, &got);
        bool done = reads < fail_at;
        if (!done) {
            assert_int_not_equal(st, IMGP_OK);
            assert_true(imgp_ctx_message(ctx)[0] != '\0');
        } else {
            assert_int_equal(st, IMGP_OK);
        }
        imgp_fs_unmount(fs);
        imgp_bdev_close(bd);
        imgp_bdev_close(mem);
        imgp_ctx_free(ctx);
        if (done)
            break;
    }
    for (unsigned fail_at = 1;; fail_at++) {
        imgp_ctx *ctx = test_ctx_failing_alloc(fail_at);
        assert_non_null(ctx);
        imgp_bdev *bd;
        if (imgp_bdev_open_memory(ctx, v.b, VOL_SIZE, "mem", &bd) != IMGP_OK) {
            imgp_ctx_free(ctx);
            continue;
        }
        imgp_fs *fs = NULL;
        imgp_status st = imgp_fs_mount(ctx, bd, NULL, &fs);
        seen s = {0};
        uint8_t buf[2048];
        size_t got;
        if (st == IMGP_OK)
            st = imgp_fs_readdir(fs, 5, see, &s);
        if (st == IMGP_OK)
            st = imgp_fs_readdir(fs, 17, see, &s);
        if (st == IMGP_OK)
            st = imgp_fs_read(fs, 20, 0, buf, sizeof buf, &got);
        unsigned made = test_alloc_count();
        imgp_fs_unmount(fs);
        imgp_bdev_close(bd);
        imgp_ctx_free(ctx);
        if (st == IMGP_OK && made < fail_at)
            break;
        assert_int_not_equal(st, IMGP_OK);
    }
    free(v.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boot),
        cmocka_unit_test(test_fixups),
        cmocka_unit_test(test_record_and_attrs),
        cmocka_unit_test(test_index_node),
        cmocka_unit_test(test_lznt1),
        cmocka_unit_test(test_fs_walk),
        cmocka_unit_test(test_fs_link_targets),
        cmocka_unit_test(test_fs_wof_refused),
        cmocka_unit_test(test_fs_damage),
        cmocka_unit_test(test_fs_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
