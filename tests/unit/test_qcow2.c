/*
 * Unit tests of the qcow2 reader (src/formats/qcow2.c, qcow2_parse.c):
 * byte-array fixtures of headers, header extensions, L2 entries and snapshot
 * entries with one field broken at a time, each checked for its status and
 * for a message that names the problem; then tiny images built in memory,
 * opened and read through the library, also with every allocation failing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "formats/qcow2.h"
#include "support/testsupport.h"

static imgp_ctx *ctx_new(void)
{
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    assert_non_null(ctx);
    return ctx;
}

/* @p got must be @p want and the message must contain @p needle. */
static void expect_error(imgp_ctx *ctx, imgp_status got, imgp_status want, const char *needle)
{
    const char *msg = imgp_ctx_message(ctx);
    if (got != want || !strstr(msg, needle))
        fail_msg("got %s \"%s\", wanted %s with \"%s\"", imgp_status_name(got), msg, imgp_status_name(want),
                 needle);
}

/* ---- header fixtures: 4 KiB clusters, a 1 MiB disk, one L1 entry ---- */

#define HCB 12
#define HCS 4096u

static void put_v2_header(uint8_t *b)
{
    memset(b, 0, HCS);
    test_put_be32(b, QCOW2_HDR_MAGIC, QCOW2_MAGIC);
    test_put_be32(b, QCOW2_HDR_VERSION, 2);
    test_put_be32(b, QCOW2_HDR_CLUSTER_BITS, HCB);
    test_put_be64(b, QCOW2_HDR_SIZE, 1u << 20);
    test_put_be32(b, QCOW2_HDR_L1_SIZE, 1);
    test_put_be64(b, QCOW2_HDR_L1_TABLE_OFFSET, 3 * HCS);
    test_put_be64(b, QCOW2_HDR_REFCOUNT_TABLE_OFFSET, 1 * HCS);
    test_put_be32(b, QCOW2_HDR_REFCOUNT_TABLE_CLUSTERS, 1);
}

static void put_v3_header(uint8_t *b)
{
    put_v2_header(b);
    test_put_be32(b, QCOW2_HDR_VERSION, 3);
    test_put_be32(b, QCOW2_HDR_REFCOUNT_ORDER, 4);
    test_put_be32(b, QCOW2_HDR_HEADER_LENGTH, 112);
}

/* Put a header extension at @p off; @return the offset after it (padded to 8). */
static size_t put_ext(uint8_t *b, size_t off, uint32_t type, const void *data, uint32_t len)
{
    test_put_be32(b, off + QCOW2_EXT_TYPE, type);
    test_put_be32(b, off + QCOW2_EXT_LENGTH, len);
    if (len)
        memcpy(b + off + QCOW2_EXT_HEADER_SIZE, data, len);
    return off + QCOW2_EXT_HEADER_SIZE + ((len + 7u) & ~7u);
}

static void put_feature(uint8_t *entry, uint8_t type, uint8_t bit, const char *name)
{
    memset(entry, 0, QCOW2_FEATURE_ENTRY_SIZE);
    entry[QCOW2_FEATURE_TYPE] = type;
    entry[QCOW2_FEATURE_BIT] = bit;
    memcpy(entry + QCOW2_FEATURE_NAME, name, strlen(name));
}

/* One header test: a context, a first cluster to break, and what parsing it gives. */
typedef struct hdr_case {
    imgp_ctx *ctx;
    uint8_t b[HCS];
    qcow2_header h;
    qcow2_extensions ext;
} hdr_case;

static int hdr_setup(void **state)
{
    hdr_case *t = calloc(1, sizeof *t);
    if (!t || !(t->ctx = imgp_ctx_new(NULL)))
        return -1;
    put_v3_header(t->b);
    *state = t;
    return 0;
}

static int hdr_teardown(void **state)
{
    hdr_case *t = *state;
    imgp_ctx_free(t->ctx);
    free(t);
    return 0;
}

/* Parse the first cluster t->b; @return the status. */
static imgp_status parse(hdr_case *t)
{
    return qcow2_parse_first_cluster(t->ctx, t->b, HCS, &t->h, &t->ext);
}

static void test_header_valid(void **state)
{
    hdr_case *t = *state;
    uint8_t *b = t->b;

    put_v2_header(b);
    assert_int_equal(parse(t), IMGP_OK);
    assert_int_equal(t->h.version, 2);
    assert_int_equal(t->h.cluster_bits, HCB);
    assert_int_equal(t->h.size, 1u << 20);
    assert_int_equal(t->h.header_length, 72);
    assert_int_equal(t->h.refcount_order, 4);
    assert_int_equal(t->h.incompatible_features, 0);
    assert_int_equal(t->h.compression_type, QCOW2_COMPRESSION_ZLIB);

    put_v3_header(b);
    test_put_be64(b, QCOW2_HDR_COMPATIBLE_FEATURES, QCOW2_COMPAT_LAZY_REFCOUNTS);
    test_put_be64(b, QCOW2_HDR_INCOMPATIBLE_FEATURES, QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT);
    assert_int_equal(parse(t), IMGP_OK);
    assert_int_equal(t->h.version, 3);
    assert_int_equal(t->h.header_length, 112);
    assert_int_equal(t->h.compatible_features, QCOW2_COMPAT_LAZY_REFCOUNTS);
    assert_int_equal(t->h.l1_table_offset, 3 * HCS);

    /* zstd: the field and the feature bit together */
    test_put_be64(b, QCOW2_HDR_INCOMPATIBLE_FEATURES, QCOW2_INCOMPAT_COMPRESSION);
    b[QCOW2_HDR_COMPRESSION_TYPE] = QCOW2_COMPRESSION_ZSTD;
    assert_int_equal(parse(t), IMGP_OK);
    assert_int_equal(t->h.compression_type, QCOW2_COMPRESSION_ZSTD);
}

static void test_header_broken_fields(void **state)
{
    hdr_case *t = *state;
    uint8_t *b = t->b;

    put_v3_header(b);
    b[3] = 0xfc;
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "bad magic 0x514649fc");

    put_v3_header(b);
    test_put_be32(b, QCOW2_HDR_VERSION, 1);
    expect_error(t->ctx, parse(t), IMGP_ERR_UNSUPPORTED, "version 1");
    test_put_be32(b, QCOW2_HDR_VERSION, 4);
    expect_error(t->ctx, parse(t), IMGP_ERR_UNSUPPORTED, "unsupported version 4");

    static const uint32_t bad_bits[] = {0, 8, 22, 40, 0xffffffffu};
    for (size_t i = 0; i < sizeof bad_bits / sizeof bad_bits[0]; i++) {
        char needle[40];
        snprintf(needle, sizeof needle, "cluster_bits %u", bad_bits[i]);
        put_v3_header(b);
        test_put_be32(b, QCOW2_HDR_CLUSTER_BITS, bad_bits[i]);
        expect_error(t->ctx, parse(t), IMGP_ERR_UNSUPPORTED, needle);
    }

    put_v3_header(b);
    test_put_be32(b, QCOW2_HDR_HEADER_LENGTH, 100);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "header_length 100 is below");
    test_put_be32(b, QCOW2_HDR_HEADER_LENGTH, HCS + 8);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "header_length 4104 exceeds the cluster size");
    /* a header longer than what was read */
    put_v3_header(b);
    test_put_be32(b, QCOW2_HDR_HEADER_LENGTH, 200);
    expect_error(t->ctx, qcow2_parse_header(t->ctx, b, 150, &t->h), IMGP_ERR_CORRUPT, "header_length 200 reaches past");
    expect_error(t->ctx, qcow2_parse_header(t->ctx, b, 60, &t->h), IMGP_ERR_CORRUPT, "header needs 72 bytes");

    put_v3_header(b);
    test_put_be32(b, QCOW2_HDR_REFCOUNT_ORDER, 7);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "refcount_order 7");

    put_v3_header(b);
    test_put_be32(b, QCOW2_HDR_CRYPT_METHOD, 3);
    expect_error(t->ctx, parse(t), IMGP_ERR_UNSUPPORTED, "crypt_method 3");

    /* the L1 table must cover the virtual size: 4 KiB clusters map 2 MiB per L1 entry */
    put_v3_header(b);
    test_put_be64(b, QCOW2_HDR_SIZE, (2u << 20) + 1);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "L1 table of 1 entries is too small");
    test_put_be32(b, QCOW2_HDR_L1_SIZE, 2);
    assert_int_equal(parse(t), IMGP_OK);
    /* extended L2 entries map half as much per table */
    put_v3_header(b);
    test_put_be32(b, QCOW2_HDR_CLUSTER_BITS, 14);
    test_put_be64(b, QCOW2_HDR_SIZE, 32u << 20);
    assert_int_equal(qcow2_parse_header(t->ctx, b, HCS, &t->h), IMGP_OK);
    test_put_be64(b, QCOW2_HDR_INCOMPATIBLE_FEATURES, QCOW2_INCOMPAT_EXTENDED_L2);
    expect_error(t->ctx, qcow2_parse_header(t->ctx, b, HCS, &t->h), IMGP_ERR_CORRUPT, "needs 2");

    put_v3_header(b);
    test_put_be64(b, QCOW2_HDR_SIZE, (1ull << 63) + 512);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "above 2^63");

    put_v3_header(b);
    test_put_be32(b, QCOW2_HDR_L1_SIZE, 1u << 20); /* 8 MiB */
    assert_int_equal(imgp_ctx_set_limit(t->ctx, IMGP_LIMIT_TABLE_BYTES, 1u << 20), IMGP_OK);
    expect_error(t->ctx, parse(t), IMGP_ERR_LIMIT, "exceeds the table limit");
}

static void test_header_backing_name(void **state)
{
    hdr_case *t = *state;
    uint8_t *b = t->b;

    put_v3_header(b);
    test_put_be64(b, QCOW2_HDR_BACKING_FILE_OFFSET, 0x200);
    test_put_be32(b, QCOW2_HDR_BACKING_FILE_SIZE, 8);
    memcpy(b + 0x200, "base.img", 8);
    assert_int_equal(parse(t), IMGP_OK);
    assert_int_equal(t->h.backing_file_offset, 0x200);

    /* past the buffer given, then past the first cluster */
    expect_error(t->ctx, qcow2_parse_header(t->ctx, b, 0x204, &t->h), IMGP_ERR_CORRUPT,
                 "backing file name at 0x200 (8 bytes) lies outside");
    test_put_be64(b, QCOW2_HDR_BACKING_FILE_OFFSET, HCS - 4);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "backing file name at 0xffc");
    test_put_be64(b, QCOW2_HDR_BACKING_FILE_OFFSET, 0xffffffffffffff00ull);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "lies outside the first cluster");
    test_put_be64(b, QCOW2_HDR_BACKING_FILE_OFFSET, 0x200);
    test_put_be32(b, QCOW2_HDR_BACKING_FILE_SIZE, 1024);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "1024 bytes is longer than 1023");
}

static void test_extensions(void **state)
{
    hdr_case *t = *state;
    uint8_t *b = t->b;
    uint8_t table[2 * QCOW2_FEATURE_ENTRY_SIZE];
    put_feature(table, QCOW2_FEATURE_TYPE_INCOMPATIBLE, 0, "dirty bit");
    put_feature(table + QCOW2_FEATURE_ENTRY_SIZE, QCOW2_FEATURE_TYPE_COMPATIBLE, 0, "lazy refcounts");

    put_v3_header(b);
    size_t off = put_ext(b, 112, 0x12345678, "unknown", 7);
    off = put_ext(b, off, QCOW2_EXT_BACKING_FORMAT, "qcow2", 5);
    off = put_ext(b, off, QCOW2_EXT_FEATURE_TABLE, table, sizeof table);
    off = put_ext(b, off, QCOW2_EXT_BITMAPS, "\0\0\0\1\0\0\0\0", 8);
    put_ext(b, off, QCOW2_EXT_END, NULL, 0);
    assert_int_equal(parse(t), IMGP_OK);
    assert_int_equal(t->ext.backing_format_len, 5);
    assert_memory_equal(t->ext.backing_format, "qcow2", 5);
    assert_int_equal(t->ext.feature_count, 2);
    assert_int_equal(t->ext.unknown_count, 1);
    assert_true(t->ext.has_bitmaps);
    assert_null(t->ext.data_file);
    char name[QCOW2_FEATURE_NAME_SIZE + 1];
    assert_true(qcow2_feature_name(&t->ext, QCOW2_FEATURE_TYPE_COMPATIBLE, 0, name));
    assert_string_equal(name, "lazy refcounts");
    assert_false(qcow2_feature_name(&t->ext, QCOW2_FEATURE_TYPE_AUTOCLEAR, 0, name));

    /* nothing after the end marker is read */
    put_v3_header(b);
    off = put_ext(b, 112, QCOW2_EXT_END, NULL, 0);
    put_ext(b, off, QCOW2_EXT_BACKING_FORMAT, "qcow2", 5);
    assert_int_equal(parse(t), IMGP_OK);
    assert_null(t->ext.backing_format);

    /* a length running past the end of the first cluster */
    put_v3_header(b);
    test_put_be32(b, 112, 0x12345678);
    test_put_be32(b, 116, HCS);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT,
                 "header extension 0x12345678 at 0x70 has length 4096, past the end");
    test_put_be32(b, 116, 0xffffffffu);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "has length 4294967295");

    /* ... or past the backing file name, which ends the extension area */
    put_v3_header(b);
    test_put_be64(b, QCOW2_HDR_BACKING_FILE_OFFSET, 0x100);
    test_put_be32(b, QCOW2_HDR_BACKING_FILE_SIZE, 4);
    memcpy(b + 0x100, "base", 4);
    put_ext(b, 112, QCOW2_EXT_BACKING_FORMAT, "raw", 3);
    test_put_be32(b, 116, 0x100 - 112 - 8 + 1);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "past the end of the extension area (0x100)");
    /* an extension header that does not fit before it */
    put_v3_header(b);
    test_put_be64(b, QCOW2_HDR_BACKING_FILE_OFFSET, 116);
    test_put_be32(b, QCOW2_HDR_BACKING_FILE_SIZE, 4);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "header extension at 0x70 does not fit");

    /* a backing format that is not a name, and a second one */
    put_v3_header(b);
    put_ext(b, 112, QCOW2_EXT_BACKING_FORMAT, "a-very-long-format", 18);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "18 bytes is not a format name");
    put_v3_header(b);
    put_ext(b, 112, QCOW2_EXT_BACKING_FORMAT, "ra\0w", 4);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "not a format name");
    put_v3_header(b);
    off = put_ext(b, 112, QCOW2_EXT_BACKING_FORMAT, "raw", 3);
    put_ext(b, off, QCOW2_EXT_BACKING_FORMAT, "qcow2", 5);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "second backing format header extension at 0x80");

    /* the encryption header pointer belongs to LUKS only, and has 16 bytes */
    uint8_t crypto[16] = {0};
    put_v3_header(b);
    put_ext(b, 112, QCOW2_EXT_CRYPTO_HEADER, crypto, 16);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "with crypt_method 0");
    test_put_be32(b, QCOW2_HDR_CRYPT_METHOD, QCOW2_CRYPT_LUKS);
    assert_int_equal(parse(t), IMGP_OK);
    assert_true(t->ext.has_crypto_header);
    put_ext(b, 112, QCOW2_EXT_CRYPTO_HEADER, crypto, 8);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "has length 8 (expected 16)");
}

static void test_features(void **state)
{
    hdr_case *t = *state;
    uint8_t *b = t->b;
    uint8_t table[2 * QCOW2_FEATURE_ENTRY_SIZE];

    /* an unknown incompatible bit: by number, then by the name the table gives it */
    put_v3_header(b);
    test_put_be64(b, QCOW2_HDR_INCOMPATIBLE_FEATURES, 1u << 5);
    expect_error(t->ctx, parse(t), IMGP_ERR_UNSUPPORTED, "incompatible feature bit 5");
    put_feature(table, QCOW2_FEATURE_TYPE_COMPATIBLE, 5, "not this one");
    put_feature(table + QCOW2_FEATURE_ENTRY_SIZE, QCOW2_FEATURE_TYPE_INCOMPATIBLE, 5, "time travel");
    put_ext(b, 112, QCOW2_EXT_FEATURE_TABLE, table, sizeof table);
    expect_error(t->ctx, parse(t), IMGP_ERR_UNSUPPORTED, "incompatible feature bit 5 \"time travel\"");
    test_put_be64(b, QCOW2_HDR_INCOMPATIBLE_FEATURES, (1u << 5) | (1ull << 63) | QCOW2_INCOMPAT_DIRTY);
    expect_error(t->ctx, parse(t), IMGP_ERR_UNSUPPORTED, "bits 5 \"time travel\", 63");

    /* compression type: field and bit must agree, and name a known method */
    put_v3_header(b);
    test_put_be64(b, QCOW2_HDR_INCOMPATIBLE_FEATURES, QCOW2_INCOMPAT_COMPRESSION);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT,
                 "compression type feature bit is set but compression_type is 0");
    test_put_be32(b, QCOW2_HDR_HEADER_LENGTH, 104); /* the field is absent */
    b[QCOW2_HDR_COMPRESSION_TYPE] = QCOW2_COMPRESSION_ZSTD;
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "header too short for it");
    put_v3_header(b);
    b[QCOW2_HDR_COMPRESSION_TYPE] = QCOW2_COMPRESSION_ZSTD;
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "compression_type 1 without");
    test_put_be64(b, QCOW2_HDR_INCOMPATIBLE_FEATURES, QCOW2_INCOMPAT_COMPRESSION);
    b[QCOW2_HDR_COMPRESSION_TYPE] = 2;
    expect_error(t->ctx, parse(t), IMGP_ERR_UNSUPPORTED, "unknown compression_type 2");

    /* extended L2 entries need 16 KiB clusters */
    put_v3_header(b);
    test_put_be64(b, QCOW2_HDR_INCOMPATIBLE_FEATURES, QCOW2_INCOMPAT_EXTENDED_L2);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "extended L2 entries need cluster_bits >= 14");

    /* the external data file must be named; data file raw needs one */
    put_v3_header(b);
    test_put_be64(b, QCOW2_HDR_INCOMPATIBLE_FEATURES, QCOW2_INCOMPAT_DATA_FILE);
    expect_error(t->ctx, parse(t), IMGP_ERR_UNSUPPORTED, "does not name it");
    put_ext(b, 112, QCOW2_EXT_DATA_FILE, "disk.data", 9);
    assert_int_equal(parse(t), IMGP_OK);
    assert_int_equal(t->ext.data_file_len, 9);
    assert_memory_equal(t->ext.data_file, "disk.data", 9);
    put_v3_header(b);
    test_put_be64(b, QCOW2_HDR_AUTOCLEAR_FEATURES, QCOW2_AUTOCLEAR_DATA_FILE_RAW);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "data file raw) is set without");
    put_v3_header(b);
    put_ext(b, 112, QCOW2_EXT_DATA_FILE, "", 0);
    expect_error(t->ctx, parse(t), IMGP_ERR_CORRUPT, "is not a file name");
}

static void test_layout(void **state)
{
    hdr_case *t = *state;
    uint8_t *b = t->b;
    put_v3_header(b);
    assert_int_equal(qcow2_parse_header(t->ctx, b, HCS, &t->h), IMGP_OK);
    assert_int_equal(qcow2_check_layout(t->ctx, &t->h, 4 * HCS), IMGP_OK);
    expect_error(t->ctx, qcow2_check_layout(t->ctx, &t->h, 3 * HCS + 4), IMGP_ERR_CORRUPT,
                 "L1 table at 0x3000 (8 bytes) lies past the end of the file (size 0x3004)");

    t->h.l1_table_offset = 3 * HCS + 8;
    expect_error(t->ctx, qcow2_check_layout(t->ctx, &t->h, 4 * HCS), IMGP_ERR_CORRUPT,
                 "L1 table at 0x3008 is not aligned to the cluster size (0x1000)");
    t->h.l1_table_offset = 3 * HCS;
    t->h.refcount_table_offset = 0x8000000000000000ull;
    expect_error(t->ctx, qcow2_check_layout(t->ctx, &t->h, 4 * HCS), IMGP_ERR_CORRUPT,
                 "refcount table at 0x8000000000000000");
    t->h.refcount_table_offset = HCS;
    t->h.refcount_table_clusters = 0;
    expect_error(t->ctx, qcow2_check_layout(t->ctx, &t->h, 4 * HCS), IMGP_ERR_CORRUPT, "no refcount table");
    t->h.refcount_table_clusters = 1;
    t->h.nb_snapshots = 1000;
    t->h.snapshots_offset = 2 * HCS;
    expect_error(t->ctx, qcow2_check_layout(t->ctx, &t->h, 4 * HCS), IMGP_ERR_CORRUPT, "snapshot table at 0x2000");
    t->h.snapshots_offset = 2 * HCS + 512;
    expect_error(t->ctx, qcow2_check_layout(t->ctx, &t->h, 1 << 20), IMGP_ERR_CORRUPT,
                 "snapshot table at 0x2200 is not aligned");
}

/* ---- L2 entries ---- */

static void geometry(qcow2_geometry *g, unsigned version, unsigned cluster_bits, uint64_t incompat, uint64_t data_size)
{
    qcow2_header h = {0};
    h.version = version;
    h.cluster_bits = cluster_bits;
    h.incompatible_features = incompat;
    qcow2_geometry_init(g, &h, data_size);
}

static void test_l2_standard(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    qcow2_geometry g;
    qcow2_mapping m;
    geometry(&g, 3, 16, 0, 1u << 20);
    assert_int_equal(g.l2_bits, 13);
    assert_int_equal(g.subclusters, 1);

    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0, 0, 0, &m), IMGP_OK);
    assert_false(m.compressed);
    assert_int_equal(m.data_mask, 0);
    assert_int_equal(m.zero_mask, 0);

    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0x30000, QCOW2_L2_COPIED | 0x50000, 0, &m), IMGP_OK);
    assert_int_equal(m.data_mask, 1);
    assert_int_equal(m.host_offset, 0x50000);
    /* bit 63 is only a hint: a shared cluster reads the same */
    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0x30000, 0x50000, 0, &m), IMGP_OK);
    assert_int_equal(m.data_mask, 1);

    /* zero clusters, plain and preallocated (never read, so past the end is fine) */
    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0, QCOW2_L2_ZERO, 0, &m), IMGP_OK);
    assert_int_equal(m.zero_mask, 1);
    assert_int_equal(m.data_mask, 0);
    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0, QCOW2_L2_ZERO | 0x7770000, 0, &m), IMGP_OK);
    assert_int_equal(m.zero_mask, 1);
    expect_error(ctx, qcow2_decode_l2_entry(ctx, &g, 0x20000, QCOW2_L2_ZERO | 0x10200, 0, &m), IMGP_ERR_CORRUPT,
                 "guest offset 0x20000: host offset 0x10200 is not aligned");

    /* misaligned and past the end, naming both offsets */
    expect_error(ctx, qcow2_decode_l2_entry(ctx, &g, 0x40000, QCOW2_L2_COPIED | 0x50200, 0, &m), IMGP_ERR_CORRUPT,
                 "L2 entry for guest offset 0x40000: host offset 0x50200 is not aligned to the cluster size");
    expect_error(ctx, qcow2_decode_l2_entry(ctx, &g, 0x40000, QCOW2_L2_COPIED | 0x100000, 0, &m), IMGP_ERR_CORRUPT,
                 "guest offset 0x40000: host offset 0x100000 lies past the end of the file (size 0x100000)");

    /* version 2 has no zero flag */
    geometry(&g, 2, 16, 0, 1u << 20);
    expect_error(ctx, qcow2_decode_l2_entry(ctx, &g, 0x10000, QCOW2_L2_ZERO, 0, &m), IMGP_ERR_CORRUPT,
                 "guest offset 0x10000 has the zero flag, which version 2 images do not have");
    imgp_ctx_free(ctx);
}

static void test_l2_compressed(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    qcow2_geometry g;
    qcow2_mapping m;
    geometry(&g, 3, 16, 0, 1u << 20);
    /* 64 KiB clusters: x = 62 - 8 = 54; 3 sectors from 0x12345 */
    uint64_t entry = QCOW2_L2_COMPRESSED | 2ull << 54 | 0x12345;
    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0, entry, 0, &m), IMGP_OK);
    assert_true(m.compressed);
    assert_int_equal(m.host_offset, 0x12345);
    assert_int_equal(m.compressed_size, 3 * 512 - 0x145);
    /* the most sectors the field holds: 256, spanning two clusters */
    entry = QCOW2_L2_COMPRESSED | 255ull << 54 | 0x10000;
    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0, entry, 0, &m), IMGP_OK);
    assert_int_equal(m.compressed_size, 2 * 65536);

    expect_error(ctx, qcow2_decode_l2_entry(ctx, &g, 0x70000, QCOW2_L2_COMPRESSED | 0x100001, 0, &m),
                 IMGP_ERR_CORRUPT,
                 "compressed cluster at guest offset 0x70000: host offset 0x100001 lies past the end");

    /* 512-byte clusters: the offset field reaches bit 60, above 2^56 it must be 0 */
    geometry(&g, 3, 9, 0, 1u << 20);
    expect_error(ctx, qcow2_decode_l2_entry(ctx, &g, 0x200, QCOW2_L2_COMPRESSED | 1ull << 57, 0, &m),
                 IMGP_ERR_CORRUPT, "host offset 0x200000000000000 is beyond 2^56");

    /* extended L2 entries: the bitmap of a compressed cluster is reserved */
    geometry(&g, 3, 16, QCOW2_INCOMPAT_EXTENDED_L2, 1u << 20);
    entry = QCOW2_L2_COMPRESSED | 0x20000;
    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0, entry, 0, &m), IMGP_OK);
    assert_true(m.compressed);
    expect_error(ctx, qcow2_decode_l2_entry(ctx, &g, 0x10000, entry, 1, &m), IMGP_ERR_CORRUPT,
                 "compressed cluster at guest offset 0x10000 has subcluster bitmap 0x0000000000000001");

    /* no compressed clusters in an external data file */
    geometry(&g, 3, 16, QCOW2_INCOMPAT_DATA_FILE, 1u << 20);
    expect_error(ctx, qcow2_decode_l2_entry(ctx, &g, 0, QCOW2_L2_COMPRESSED | 0x20000, 0, &m), IMGP_ERR_CORRUPT,
                 "with an external data file");
    imgp_ctx_free(ctx);
}

static void test_l2_extended(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    qcow2_geometry g;
    qcow2_mapping m;
    geometry(&g, 3, 16, QCOW2_INCOMPAT_EXTENDED_L2, 1u << 20);
    assert_int_equal(g.l2_entry_size, 16);
    assert_int_equal(g.l2_bits, 12);
    assert_int_equal(g.subclusters, 32);
    assert_int_equal(g.subcluster_bits, 11);

    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0, QCOW2_L2_COPIED | 0x30000, 0xff0000000000ffffull, &m),
                     IMGP_OK);
    assert_int_equal(m.data_mask, 0x0000ffff);
    assert_int_equal(m.zero_mask, 0xff000000);
    assert_int_equal(m.host_offset, 0x30000);
    /* the zero flag of standard entries means nothing here */
    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0, QCOW2_L2_ZERO, 0, &m), IMGP_OK);
    assert_int_equal(m.zero_mask, 0);
    /* unallocated clusters may read as zeros, subcluster by subcluster */
    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0, 0, 0x0000000300000000ull, &m), IMGP_OK);
    assert_int_equal(m.zero_mask, 3);
    assert_int_equal(m.data_mask, 0);
    /* an allocated cluster whose subclusters are all unallocated has nothing to check past the end */
    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0, 0x7000000, 0, &m), IMGP_OK);

    expect_error(ctx, qcow2_decode_l2_entry(ctx, &g, 0x50000, 0, 1, &m), IMGP_ERR_CORRUPT,
                 "guest offset 0x50000 has no host cluster but allocated subclusters (bitmap 0x0000000000000001)");
    expect_error(ctx, qcow2_decode_l2_entry(ctx, &g, 0x50000, 0x30000, 0x0000000100000001ull, &m), IMGP_ERR_CORRUPT,
                 "subclusters both allocated and zero (bitmap 0x0000000100000001)");
    expect_error(ctx, qcow2_decode_l2_entry(ctx, &g, 0x50000, 0x7000000, 0x80000000ull, &m), IMGP_ERR_CORRUPT,
                 "host offset 0x7000000 lies past the end");
    imgp_ctx_free(ctx);
}

static void test_l2_external_data(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    qcow2_geometry g;
    qcow2_mapping m;
    geometry(&g, 3, 16, QCOW2_INCOMPAT_DATA_FILE, 1u << 20);
    /* offset 0 with bit 63 is the first cluster of the data file */
    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0, QCOW2_L2_COPIED, 0, &m), IMGP_OK);
    assert_int_equal(m.data_mask, 1);
    assert_int_equal(m.host_offset, 0);
    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0, 0, 0, &m), IMGP_OK);
    assert_int_equal(m.data_mask, 0);
    assert_int_equal(qcow2_decode_l2_entry(ctx, &g, 0x20000, QCOW2_L2_COPIED | 0x20000, 0, &m), IMGP_OK);
    expect_error(ctx, qcow2_decode_l2_entry(ctx, &g, 0x20000, QCOW2_L2_COPIED | 0x30000, 0, &m), IMGP_ERR_CORRUPT,
                 "guest offset 0x20000: host offset 0x30000 in the external data file differs");
    expect_error(ctx, qcow2_decode_l2_entry(ctx, &g, 0x100000, QCOW2_L2_COPIED | 0x100000, 0, &m),
                 IMGP_ERR_CORRUPT, "past the end of the external data file (size 0x100000)");
    imgp_ctx_free(ctx);
}

/* ---- snapshot table entries ---- */

static size_t put_snapshot(uint8_t *e, uint32_t extra, const char *id, const char *name)
{
    memset(e, 0, 256);
    test_put_be64(e, QCOW2_SN_L1_TABLE_OFFSET, 0x30000);
    test_put_be32(e, QCOW2_SN_L1_SIZE, 2);
    test_put_be16(e, QCOW2_SN_ID_SIZE, (uint16_t)strlen(id));
    test_put_be16(e, QCOW2_SN_NAME_SIZE, (uint16_t)strlen(name));
    test_put_be32(e, QCOW2_SN_DATE_SEC, 1700000000);
    test_put_be32(e, QCOW2_SN_DATE_NSEC, 123);
    test_put_be64(e, QCOW2_SN_VM_CLOCK_NSEC, 5000000000ull);
    test_put_be32(e, QCOW2_SN_VM_STATE_SIZE, 77);
    test_put_be32(e, QCOW2_SN_EXTRA_DATA_SIZE, extra);
    if (extra >= 16) {
        test_put_be64(e, QCOW2_SN_EXTRA_VM_STATE_SIZE, 1ull << 33);
        test_put_be64(e, QCOW2_SN_EXTRA_DISK_SIZE, 1u << 20);
    }
    memcpy(e + QCOW2_SN_FIXED_SIZE + extra, id, strlen(id));
    memcpy(e + QCOW2_SN_FIXED_SIZE + extra + strlen(id), name, strlen(name));
    return QCOW2_SN_FIXED_SIZE + extra + strlen(id) + strlen(name);
}

static void test_snapshot_entries(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t e[256];
    qcow2_snapshot_entry s;
    size_t n, len = put_snapshot(e, 16, "1", "before upgrade");
    assert_int_equal(qcow2_snapshot_entry_length(ctx, e, QCOW2_SN_FIXED_SIZE, &n), IMGP_OK);
    assert_int_equal(n, len);
    assert_int_equal(qcow2_parse_snapshot_entry(ctx, e, n, &s), IMGP_OK);
    assert_int_equal(s.l1_table_offset, 0x30000);
    assert_int_equal(s.date_sec, 1700000000);
    assert_int_equal(s.date_nsec, 123);
    assert_int_equal(s.vm_clock_nsec, 5000000000ull);
    assert_int_equal(s.vm_state_size, 1ull << 33); /* the 64-bit field replaces the 32-bit one */
    assert_int_equal(s.disk_size, 1u << 20);
    assert_int_equal(s.id_len, 1);
    assert_memory_equal(s.id, "1", 1);
    assert_memory_equal(s.name, "before upgrade", 14);

    /* version 2 entries without extra data */
    len = put_snapshot(e, 0, "7", "x");
    assert_int_equal(qcow2_parse_snapshot_entry(ctx, e, len, &s), IMGP_OK);
    assert_int_equal(s.vm_state_size, 77);
    assert_int_equal(s.disk_size, 0);

    expect_error(ctx, qcow2_parse_snapshot_entry(ctx, e, len - 1, &s), IMGP_ERR_CORRUPT,
                 "entry of 42 bytes, 41 given");
    expect_error(ctx, qcow2_snapshot_entry_length(ctx, e, 39, &n), IMGP_ERR_CORRUPT, "needs 40 bytes, 39 given");
    test_put_be32(e, QCOW2_SN_EXTRA_DATA_SIZE, 1025);
    expect_error(ctx, qcow2_snapshot_entry_length(ctx, e, 40, &n), IMGP_ERR_CORRUPT, "1025 bytes of extra data");
    imgp_ctx_free(ctx);
}

/* ---- tiny images built in memory ----
 *
 * 512-byte clusters (16 KiB with extended L2 entries), 64 KiB disk:
 *   cluster 0 header, 1 L1 table, 2 refcount table, 3 L2 table,
 *   4 and 5 data A and B (host-contiguous), 6 compressed data D,
 *   7 data C, 8 snapshot table.
 * Guest: [0,512) A, [512,1024) B, [1024,1536) zero cluster,
 *   [1536,2048) D (compressed), [2048,2560) C, the rest unallocated.
 */

typedef struct fixture {
    uint8_t *buf;
    size_t len;
    size_t cs;
    uint8_t expect[65536]; /* the guest disk */
} fixture;

#define IMG_SIZE 65536u

static uint8_t *cl(fixture *f, size_t n) { return f->buf + n * f->cs; }

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

/* Compress one cluster of @p src into @p dst (raw deflate, 4 KiB window, as qemu); @return its size. */
static size_t deflate_cluster(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (uint8_t *)src;
    zs.avail_in = (uInt)n;
    zs.next_out = dst;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t out = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static void build_image(fixture *f, bool zstd)
{
    f->cs = 512;
    f->len = 9 * f->cs;
    f->buf = calloc(1, f->len);
    assert_non_null(f->buf);
    memset(f->expect, 0, sizeof f->expect);
    uint8_t *h = cl(f, 0);
    test_put_be32(h, QCOW2_HDR_MAGIC, QCOW2_MAGIC);
    test_put_be32(h, QCOW2_HDR_VERSION, 3);
    test_put_be32(h, QCOW2_HDR_CLUSTER_BITS, 9);
    test_put_be64(h, QCOW2_HDR_SIZE, IMG_SIZE);
    test_put_be32(h, QCOW2_HDR_L1_SIZE, 2); /* 64 entries of 512 bytes per L2 table: 32 KiB each */
    test_put_be64(h, QCOW2_HDR_L1_TABLE_OFFSET, 1 * f->cs);
    test_put_be64(h, QCOW2_HDR_REFCOUNT_TABLE_OFFSET, 2 * f->cs);
    test_put_be32(h, QCOW2_HDR_REFCOUNT_TABLE_CLUSTERS, 1);
    test_put_be32(h, QCOW2_HDR_NB_SNAPSHOTS, 1);
    test_put_be64(h, QCOW2_HDR_SNAPSHOTS_OFFSET, 8 * f->cs);
    test_put_be32(h, QCOW2_HDR_REFCOUNT_ORDER, 4);
    test_put_be32(h, QCOW2_HDR_HEADER_LENGTH, 112);
    if (zstd) {
        test_put_be64(h, QCOW2_HDR_INCOMPATIBLE_FEATURES, QCOW2_INCOMPAT_COMPRESSION);
        h[QCOW2_HDR_COMPRESSION_TYPE] = QCOW2_COMPRESSION_ZSTD;
    }
    test_put_be64(cl(f, 1), 0, QCOW2_L2_COPIED | 3 * f->cs); /* L1[1] = 0: the second half is unallocated */

    uint8_t *l2 = cl(f, 3);
    fill_pattern(cl(f, 4), f->cs, 1);
    fill_pattern(cl(f, 5), f->cs, 2);
    fill_pattern(cl(f, 7), f->cs, 3);
    test_put_be64(l2, 0, QCOW2_L2_COPIED | 4 * f->cs);
    test_put_be64(l2, 8, QCOW2_L2_COPIED | 5 * f->cs);
    test_put_be64(l2, 16, QCOW2_L2_ZERO);
    test_put_be64(l2, 32, QCOW2_L2_COPIED | 7 * f->cs);
    memcpy(f->expect, cl(f, 4), 2 * f->cs);
    memcpy(f->expect + 2048, cl(f, 7), f->cs);

    /* the compressed cluster: starts 100 bytes into cluster 6 and may run to the end of the file */
    uint8_t plain[512], packed[1024];
    memset(plain, 'q', sizeof plain);
    memcpy(plain, "compressed cluster", 18);
    memcpy(f->expect + 1536, plain, sizeof plain);
    size_t n = zstd ? ZSTD_compress(packed, sizeof packed, plain, sizeof plain, 3)
                    : deflate_cluster(plain, sizeof plain, packed, sizeof packed);
    assert_false(zstd && ZSTD_isError(n));
    assert_true(n < 400);
    uint64_t host = 6 * f->cs + 100;
    memcpy(f->buf + host, packed, n);
    /* 512-byte clusters: x = 62 - 1 = 61; one more sector than the one holding the offset */
    test_put_be64(l2, 24, QCOW2_L2_COMPRESSED | 1ull << 61 | host);

    uint8_t *sn = cl(f, 8);
    test_put_be64(sn, QCOW2_SN_L1_TABLE_OFFSET, 1 * f->cs);
    test_put_be32(sn, QCOW2_SN_L1_SIZE, 2);
    test_put_be16(sn, QCOW2_SN_ID_SIZE, 1);
    test_put_be16(sn, QCOW2_SN_NAME_SIZE, 5);
    test_put_be32(sn, QCOW2_SN_DATE_SEC, 1600000000);
    test_put_be32(sn, QCOW2_SN_EXTRA_DATA_SIZE, 16);
    test_put_be64(sn, QCOW2_SN_EXTRA_DISK_SIZE, IMG_SIZE);
    memcpy(sn + 56, "1first", 6);
}

static imgp_status open_fixture(imgp_ctx *ctx, const fixture *f, imgp_image **img)
{
    imgp_source *src;
    *img = NULL;
    imgp_status st = imgp_source_open_memory(ctx, f->buf, f->len, "tiny.qcow2", &src);
    if (st == IMGP_OK)
        st = imgp_image_open_source(ctx, src, NULL, img);
    return st;
}

static const char *prop(const imgp_image_info *in, const char *key)
{
    for (size_t i = 0; i < in->nprops; i++)
        if (strcmp(in->props[i].key, key) == 0)
            return in->props[i].value;
    return NULL;
}

static void read_and_compare(imgp_bdev *bd, const fixture *f)
{
    static uint8_t got[IMG_SIZE];
    assert_int_equal(imgp_bdev_read(bd, 0, got, IMG_SIZE), IMGP_OK);
    assert_memory_equal(got, f->expect, IMG_SIZE);
    /* odd ranges across cluster, compressed and table boundaries */
    static const struct {
        uint64_t off;
        size_t len;
    } ranges[] = {{1, 1}, {500, 1100}, {1535, 2}, {1600, 1000}, {32767, 2}, {65535, 1}, {0, 2560}};
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        memset(got, 0xee, ranges[i].len);
        assert_int_equal(imgp_bdev_read(bd, ranges[i].off, got, ranges[i].len), IMGP_OK);
        assert_memory_equal(got, f->expect + ranges[i].off, ranges[i].len);
    }
}

static void expect_status(imgp_bdev *bd, uint64_t off, imgp_extent_kind kind, uint64_t run)
{
    imgp_extent_kind k;
    uint64_t r;
    assert_int_equal(imgp_bdev_status(bd, off, bd->size - off, &k, &r), IMGP_OK);
    if (k != kind || r != run)
        fail_msg("status at 0x%llx: kind %d run %llu, wanted kind %d run %llu", (unsigned long long)off, k,
                 (unsigned long long)r, kind, (unsigned long long)run);
}

static void test_image_read(void **state)
{
    (void)state;
    for (int zstd = 0; zstd <= 1; zstd++) {
        imgp_ctx *ctx = ctx_new();
        static fixture f;
        build_image(&f, zstd);
        imgp_image *img;
        assert_int_equal(open_fixture(ctx, &f, &img), IMGP_OK);
        const imgp_image_info *in = imgp_image_get_info(img);
        assert_string_equal(in->format, "qcow2");
        assert_true(in->readable);
        assert_int_equal(in->virtual_size, IMG_SIZE);
        assert_int_equal(in->cluster_size, 512);
        assert_string_equal(in->compression, zstd ? "zstd" : "zlib");
        assert_null(in->backing_file);
        assert_false(in->dirty);
        assert_string_equal(prop(in, "compat"), "1.1");
        assert_string_equal(prop(in, "compression type"), zstd ? "zstd" : "zlib");
        assert_string_equal(prop(in, "refcount bits"), "16");
        assert_string_equal(prop(in, "extended l2"), "false");
        assert_int_equal(in->nsnapshots, 1);
        assert_string_equal(in->snapshots[0].id, "1");
        assert_string_equal(in->snapshots[0].name, "first");
        assert_int_equal(in->snapshots[0].disk_size, IMG_SIZE);
        assert_int_equal(in->snapshots[0].date_sec, 1600000000);

        imgp_bdev *bd;
        assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
        assert_int_equal(bd->size, IMG_SIZE);
        read_and_compare(bd, &f);
        /* data (compressed or not) joins up; zeros and unallocated ranges are told apart */
        expect_status(bd, 0, IMGP_EXTENT_DATA, 1024);
        expect_status(bd, 700, IMGP_EXTENT_DATA, 324);
        expect_status(bd, 1024, IMGP_EXTENT_ZERO, 512);
        expect_status(bd, 1536, IMGP_EXTENT_DATA, 1024);
        expect_status(bd, 2560, IMGP_EXTENT_UNALLOCATED, IMG_SIZE - 2560);
        expect_status(bd, 40000, IMGP_EXTENT_UNALLOCATED, IMG_SIZE - 40000);
        imgp_image_close(img);
        imgp_ctx_free(ctx);
        free(f.buf);
    }
}

static void test_image_every_allocation_fails(void **state)
{
    (void)state;
    static fixture f;
    build_image(&f, false);
    for (unsigned n = 1; n < 1000; n++) {
        imgp_ctx *ctx = test_ctx_failing_alloc(n);
        imgp_image *img;
        imgp_bdev *bd = NULL;
        static uint8_t got[IMG_SIZE];
        imgp_status st = open_fixture(ctx, &f, &img);
        if (st == IMGP_OK)
            st = imgp_image_bdev(img, &bd);
        if (st == IMGP_OK)
            st = imgp_bdev_read(bd, 0, got, IMG_SIZE);
        if (st == IMGP_OK) {
            assert_memory_equal(got, f.expect, IMG_SIZE);
            imgp_image_close(img);
            imgp_ctx_free(ctx);
            free(f.buf);
            return; /* past the last allocation */
        }
        if (st != IMGP_ERR_NOMEM)
            fail_msg("allocation %u failing gave %s: %s", n, imgp_status_name(st), imgp_ctx_message(ctx));
        imgp_image_close(img);
        imgp_ctx_free(ctx);
    }
    fail_msg("the image never opened");
}

static void test_image_broken(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    static fixture f;
    imgp_image *img;
    imgp_bdev *bd;
    uint8_t got[1024];

    /* a compressed cluster that does not decompress names both offsets */
    build_image(&f, false);
    memset(f.buf + 6 * 512 + 100, 0xff, 16);
    assert_int_equal(open_fixture(ctx, &f, &img), IMGP_OK);
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    assert_int_equal(imgp_bdev_read(bd, 0, got, 1024), IMGP_OK);
    expect_error(ctx, imgp_bdev_read(bd, 1536, got, 16), IMGP_ERR_CORRUPT,
                 "tiny.qcow2: qcow2: compressed cluster at guest offset 0x600 (host offset 0xc64");
    assert_non_null(strstr(imgp_ctx_message(ctx), "does not decompress"));
    imgp_image_close(img);
    free(f.buf);

    /* a deflate stream shorter than a cluster */
    build_image(&f, false);
    uint8_t half[256], packed[512];
    memset(half, 'q', sizeof half);
    size_t n = deflate_cluster(half, sizeof half, packed, sizeof packed);
    memcpy(f.buf + 6 * 512 + 100, packed, n);
    assert_int_equal(open_fixture(ctx, &f, &img), IMGP_OK);
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    expect_error(ctx, imgp_bdev_read(bd, 1536, got, 16), IMGP_ERR_CORRUPT, "ends before a whole cluster");
    imgp_image_close(img);
    free(f.buf);

    /* an L2 table past the end of the file */
    build_image(&f, false);
    test_put_be64(cl(&f, 1), 0, QCOW2_L2_COPIED | 64 * 512);
    assert_int_equal(open_fixture(ctx, &f, &img), IMGP_OK);
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    expect_error(ctx, imgp_bdev_read(bd, 100, got, 16), IMGP_ERR_CORRUPT,
                 "L2 table at 0x8000 (guest offset 0x64) lies past the end of the file (size 0x1200)");
    imgp_extent_kind kind;
    uint64_t run;
    expect_error(ctx, imgp_bdev_status(bd, 0, 1024, &kind, &run), IMGP_ERR_CORRUPT, "L2 table at 0x8000");
    imgp_image_close(img);
    free(f.buf);

    /* an L2 entry past the end of the file */
    build_image(&f, false);
    test_put_be64(cl(&f, 3), 40, QCOW2_L2_COPIED | 0x100000);
    assert_int_equal(open_fixture(ctx, &f, &img), IMGP_OK);
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    expect_error(ctx, imgp_bdev_read(bd, 2560, got, 16), IMGP_ERR_CORRUPT,
                 "guest offset 0xa00: host offset 0x100000 lies past the end of the file (size 0x1200)");
    imgp_image_close(img);
    free(f.buf);

    /* an unknown incompatible bit refuses the open */
    build_image(&f, false);
    test_put_be64(cl(&f, 0), QCOW2_HDR_INCOMPATIBLE_FEATURES, 1u << 9);
    expect_error(ctx, open_fixture(ctx, &f, &img), IMGP_ERR_UNSUPPORTED, "incompatible feature bit 9");
    assert_null(img);
    free(f.buf);

    /* a snapshot table entry past the end of the file */
    build_image(&f, false);
    test_put_be32(cl(&f, 0), QCOW2_HDR_NB_SNAPSHOTS, 2);
    test_put_be16(cl(&f, 8), QCOW2_SN_NAME_SIZE, 450); /* entry 1 would start at 0x1200 */
    expect_error(ctx, open_fixture(ctx, &f, &img), IMGP_ERR_CORRUPT,
                 "snapshot table entry 1 at 0x1200 lies past the end of the file (size 0x1200)");
    test_put_be32(cl(&f, 0), QCOW2_HDR_NB_SNAPSHOTS, 1);
    test_put_be16(cl(&f, 8), QCOW2_SN_NAME_SIZE, 500);
    expect_error(ctx, open_fixture(ctx, &f, &img), IMGP_ERR_CORRUPT, "snapshot table entry 0 at 0x1000 (557 bytes)");
    test_put_be16(cl(&f, 8), QCOW2_SN_NAME_SIZE, 5);
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_SNAPSHOTS, 1), IMGP_OK);
    test_put_be32(cl(&f, 0), QCOW2_HDR_NB_SNAPSHOTS, 2);
    expect_error(ctx, open_fixture(ctx, &f, &img), IMGP_ERR_LIMIT, "2 internal snapshots exceed the limit of 1");
    free(f.buf);

    /* a backing file the source cannot open (a memory source has no directory) */
    build_image(&f, false);
    test_put_be64(cl(&f, 0), QCOW2_HDR_BACKING_FILE_OFFSET, 0x100);
    test_put_be32(cl(&f, 0), QCOW2_HDR_BACKING_FILE_SIZE, 9);
    memcpy(cl(&f, 0) + 0x100, "base.qcow", 9);
    expect_error(ctx, open_fixture(ctx, &f, &img), IMGP_ERR_UNSUPPORTED, "backing file 'base.qcow'");
    free(f.buf);

    /* a file shorter than a header */
    build_image(&f, false);
    f.len = 60;
    expect_error(ctx, open_fixture(ctx, &f, &img), IMGP_ERR_CORRUPT, "fewer than a header");
    free(f.buf);
    imgp_ctx_free(ctx);
}

static void test_image_flags(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    static fixture f;
    imgp_image *img;
    imgp_bdev *bd;

    /* dirty and corrupt: reported, and still read for inspection */
    build_image(&f, false);
    test_put_be64(cl(&f, 0), QCOW2_HDR_INCOMPATIBLE_FEATURES, QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT);
    assert_int_equal(open_fixture(ctx, &f, &img), IMGP_OK);
    const imgp_image_info *in = imgp_image_get_info(img);
    assert_true(in->dirty);
    assert_true(in->corrupt);
    assert_string_equal(prop(in, "corrupt"), "true");
    assert_non_null(strstr(prop(in, "note"), "read for inspection only"));
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    read_and_compare(bd, &f);
    imgp_image_close(img);
    free(f.buf);

    /* encrypted: recognised, listed, never read */
    static const char *const methods[] = {"AES", "LUKS"};
    for (uint32_t method = QCOW2_CRYPT_AES; method <= QCOW2_CRYPT_LUKS; method++) {
        build_image(&f, false);
        test_put_be32(cl(&f, 0), QCOW2_HDR_CRYPT_METHOD, method);
        if (method == QCOW2_CRYPT_LUKS) {
            uint8_t crypto[16] = {0};
            test_put_be64(crypto, 0, 4 * 512);
            test_put_be64(crypto, 8, 512);
            put_ext(cl(&f, 0), 112, QCOW2_EXT_CRYPTO_HEADER, crypto, 16);
        }
        assert_int_equal(open_fixture(ctx, &f, &img), IMGP_OK);
        in = imgp_image_get_info(img);
        assert_true(in->encrypted);
        assert_false(in->readable);
        assert_int_equal(in->virtual_size, IMG_SIZE);
        assert_int_equal(in->nsnapshots, 1);
        char needle[64];
        snprintf(needle, sizeof needle, "encrypted (%s) qcow2 images are not supported", methods[method - 1]);
        assert_string_equal(in->unreadable_reason, needle);
        expect_error(ctx, imgp_image_bdev(img, &bd), IMGP_ERR_UNSUPPORTED, needle);
        assert_null(bd);
        imgp_image_close(img);
        free(f.buf);
    }

    /* version 2: no v3 properties; the probe leaves version 1 to the qcow reader */
    build_image(&f, false);
    test_put_be32(cl(&f, 0), QCOW2_HDR_VERSION, 2);
    test_put_be64(cl(&f, 3), 16, 0); /* v2 has no zero flag: make the zero cluster unallocated */
    assert_int_equal(open_fixture(ctx, &f, &img), IMGP_OK);
    in = imgp_image_get_info(img);
    assert_string_equal(prop(in, "compat"), "0.10");
    assert_null(prop(in, "extended l2"));
    assert_null(prop(in, "lazy refcounts"));
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    read_and_compare(bd, &f);
    imgp_image_close(img);
    test_put_be32(cl(&f, 0), QCOW2_HDR_VERSION, 1);
    assert_int_equal(open_fixture(ctx, &f, &img), IMGP_OK);
    assert_string_equal(imgp_image_get_info(img)->format, "qcow");
    imgp_image_close(img);
    free(f.buf);
    imgp_ctx_free(ctx);
}

/* Extended L2 entries: 16 KiB clusters of 32 subclusters of 512 bytes. */
static void test_image_extended_l2(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    const size_t cs = 16384;
    size_t len = 6 * cs;
    uint8_t *buf = calloc(1, len);
    assert_non_null(buf);
    test_put_be32(buf, QCOW2_HDR_MAGIC, QCOW2_MAGIC);
    test_put_be32(buf, QCOW2_HDR_VERSION, 3);
    test_put_be32(buf, QCOW2_HDR_CLUSTER_BITS, 14);
    test_put_be64(buf, QCOW2_HDR_SIZE, 256 * 1024);
    test_put_be32(buf, QCOW2_HDR_L1_SIZE, 1);
    test_put_be64(buf, QCOW2_HDR_L1_TABLE_OFFSET, cs);
    test_put_be64(buf, QCOW2_HDR_REFCOUNT_TABLE_OFFSET, 2 * cs);
    test_put_be32(buf, QCOW2_HDR_REFCOUNT_TABLE_CLUSTERS, 1);
    test_put_be64(buf, QCOW2_HDR_INCOMPATIBLE_FEATURES, QCOW2_INCOMPAT_EXTENDED_L2);
    test_put_be32(buf, QCOW2_HDR_REFCOUNT_ORDER, 4);
    test_put_be32(buf, QCOW2_HDR_HEADER_LENGTH, 112);
    test_put_be64(buf + cs, 0, QCOW2_L2_COPIED | 3 * cs);
    /* cluster 0: subclusters 0-15 data, 16-23 zero, 24-31 unallocated; cluster 1: all data */
    test_put_be64(buf + 3 * cs, 0, QCOW2_L2_COPIED | 4 * cs);
    test_put_be64(buf + 3 * cs, 8, 0x00ff00000000ffffull);
    test_put_be64(buf + 3 * cs, 16, QCOW2_L2_COPIED | 5 * cs);
    test_put_be64(buf + 3 * cs, 24, 0x00000000ffffffffull);
    fill_pattern(buf + 4 * cs, cs, 5);
    fill_pattern(buf + 5 * cs, cs, 6);
    static uint8_t expect[256 * 1024], got[256 * 1024];
    memset(expect, 0, sizeof expect);
    memcpy(expect, buf + 4 * cs, 8192); /* the rest of cluster 4 holds bytes that must not show */
    memcpy(expect + cs, buf + 5 * cs, cs);

    imgp_source *src;
    imgp_image *img;
    imgp_bdev *bd;
    assert_int_equal(imgp_source_open_memory(ctx, buf, len, "el2.qcow2", &src), IMGP_OK);
    assert_int_equal(imgp_image_open_source(ctx, src, "qcow2", &img), IMGP_OK);
    assert_string_equal(prop(imgp_image_get_info(img), "extended l2"), "true");
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    assert_int_equal(imgp_bdev_read(bd, 0, got, sizeof got), IMGP_OK);
    assert_memory_equal(got, expect, sizeof got);
    assert_int_equal(imgp_bdev_read(bd, 8000, got, 9000), IMGP_OK);
    assert_memory_equal(got, expect + 8000, 9000);
    expect_status(bd, 0, IMGP_EXTENT_DATA, 8192);
    expect_status(bd, 8192, IMGP_EXTENT_ZERO, 4096);
    expect_status(bd, 12288, IMGP_EXTENT_UNALLOCATED, 4096);
    expect_status(bd, 16384, IMGP_EXTENT_DATA, 16384);
    expect_status(bd, 32768, IMGP_EXTENT_UNALLOCATED, 256 * 1024 - 32768);
    imgp_image_close(img);

    /* allocated and zero at once is refused, naming the guest offset */
    test_put_be64(buf + 3 * cs, 24, 0x00000001ffffffffull);
    assert_int_equal(imgp_source_open_memory(ctx, buf, len, "el2.qcow2", &src), IMGP_OK);
    assert_int_equal(imgp_image_open_source(ctx, src, "qcow2", &img), IMGP_OK);
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    expect_error(ctx, imgp_bdev_read(bd, 0, got, sizeof got), IMGP_ERR_CORRUPT,
                 "guest offset 0x4000 has subclusters both allocated and zero");
    imgp_image_close(img);
    free(buf);
    imgp_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_header_valid, hdr_setup, hdr_teardown),
        cmocka_unit_test_setup_teardown(test_header_broken_fields, hdr_setup, hdr_teardown),
        cmocka_unit_test_setup_teardown(test_header_backing_name, hdr_setup, hdr_teardown),
        cmocka_unit_test_setup_teardown(test_extensions, hdr_setup, hdr_teardown),
        cmocka_unit_test_setup_teardown(test_features, hdr_setup, hdr_teardown),
        cmocka_unit_test_setup_teardown(test_layout, hdr_setup, hdr_teardown),
        cmocka_unit_test(test_l2_standard),
        cmocka_unit_test(test_l2_compressed),
        cmocka_unit_test(test_l2_extended),
        cmocka_unit_test(test_l2_external_data),
        cmocka_unit_test(test_snapshot_entries),
        cmocka_unit_test(test_image_read),
        cmocka_unit_test(test_image_every_allocation_fails),
        cmocka_unit_test(test_image_broken),
        cmocka_unit_test(test_image_flags),
        cmocka_unit_test(test_image_extended_l2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
