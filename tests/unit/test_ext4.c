/*
 * Unit tests of the ext2/3/4 driver (src/fs/ext4*.c): byte-array fixtures of
 * the superblock, group descriptors, inodes, extent nodes and directory
 * blocks with one field broken at a time, each checked for its status and a
 * message naming the problem; the checksums against known vectors; then a
 * tiny filesystem built in memory, mounted and walked through the public
 * API, and damaged one structure at a time (extent trees deeper than 5 or
 * looping, blocks past the end, rec_len 0, inodes outside any group, too many
 * entries, a damaged primary superblock, checksum mismatches), also with
 * every read and every allocation failing in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fs/ext4.h"
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
    if (got != want)
        fail_msg("status %s, want %s (%s)", imgp_status_name(got), imgp_status_name(want), imgp_ctx_message(ctx));
    if (needle && !strstr(imgp_ctx_message(ctx), needle))
        fail_msg("message '%s' lacks '%s'", imgp_ctx_message(ctx), needle);
}

/* ---- superblock ---- */

/* 1 KiB blocks, one group of 128 blocks and 32 inodes of 256 bytes. */
static void make_super(uint8_t *sb)
{
    memset(sb, 0, EXT4_SB_SIZE);
    test_put_le32(sb, EXT4_SB_INODES_COUNT, 32);
    test_put_le32(sb, EXT4_SB_BLOCKS_COUNT_LO, 128);
    test_put_le32(sb, EXT4_SB_FREE_BLOCKS_COUNT_LO, 100);
    test_put_le32(sb, EXT4_SB_FIRST_DATA_BLOCK, 1);
    test_put_le32(sb, EXT4_SB_BLOCKS_PER_GROUP, 8192);
    test_put_le32(sb, EXT4_SB_CLUSTERS_PER_GROUP, 8192);
    test_put_le32(sb, EXT4_SB_INODES_PER_GROUP, 32);
    test_put_le16(sb, EXT4_SB_MAGIC, EXT4_MAGIC);
    test_put_le16(sb, EXT4_SB_STATE, EXT4_STATE_VALID);
    test_put_le32(sb, EXT4_SB_REV_LEVEL, 1);
    test_put_le32(sb, EXT4_SB_FIRST_INO, 11);
    test_put_le16(sb, EXT4_SB_INODE_SIZE, 256);
    test_put_le32(sb, EXT4_SB_FEATURE_INCOMPAT, EXT4_INCOMPAT_FILETYPE | EXT4_INCOMPAT_EXTENTS);
    test_put_le32(sb, EXT4_SB_FEATURE_RO_COMPAT, EXT4_RO_COMPAT_SPARSE_SUPER);
    for (int i = 0; i < 16; i++)
        sb[EXT4_SB_UUID + i] = (uint8_t)(0x10 + i);
    memcpy(sb + EXT4_SB_VOLUME_NAME, "unit", 4);
}

static imgp_status parse_super(imgp_ctx *ctx, const uint8_t *sb, ext4_super *out)
{
    return ext4_parse_super(ctx, sb, EXT4_SB_SIZE, out);
}

static void test_super_valid(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t b[EXT4_SB_SIZE];
    ext4_super sb;
    make_super(b);
    assert_int_equal(parse_super(ctx, b, &sb), IMGP_OK);
    assert_int_equal(sb.block_size, 1024);
    assert_int_equal(sb.group_count, 1);
    assert_int_equal(sb.desc_size, 32);
    assert_int_equal(sb.desc_per_block, 32);
    assert_int_equal(sb.inode_size, 256);
    assert_string_equal(sb.label, "unit");
    /* revision 0: 128-byte inodes whatever s_inode_size says */
    test_put_le32(b, EXT4_SB_REV_LEVEL, 0);
    test_put_le16(b, EXT4_SB_INODE_SIZE, 3);
    assert_int_equal(parse_super(ctx, b, &sb), IMGP_OK);
    assert_int_equal(sb.inode_size, 128);
    /* 64bit: the high halves count, 64-byte descriptors */
    make_super(b);
    test_put_le32(b, EXT4_SB_FEATURE_INCOMPAT, EXT4_INCOMPAT_64BIT | EXT4_INCOMPAT_EXTENTS);
    test_put_le16(b, EXT4_SB_DESC_SIZE, 64);
    test_put_le32(b, EXT4_SB_BLOCKS_COUNT_HI, 1);
    test_put_le32(b, EXT4_SB_INODES_COUNT, 32);
    assert_int_equal(parse_super(ctx, b, &sb), IMGP_OK);
    assert_int_equal(sb.blocks_count, (1ull << 32) + 128);
    assert_int_equal(sb.desc_size, 64);
    assert_int_equal(sb.group_count, ((1ull << 32) + 127 - 1) / 8192 + 1);
    /* bigalloc: 16 blocks a cluster */
    make_super(b);
    test_put_le32(b, EXT4_SB_FEATURE_RO_COMPAT, EXT4_RO_COMPAT_BIGALLOC);
    test_put_le32(b, EXT4_SB_LOG_CLUSTER_SIZE, 4);
    test_put_le32(b, EXT4_SB_CLUSTERS_PER_GROUP, 512);
    assert_int_equal(parse_super(ctx, b, &sb), IMGP_OK);
    assert_int_equal(sb.log_cluster_blocks, 4);
    imgp_ctx_free(ctx);
}

/* One field broken at a time. */
static void test_super_broken(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t b[EXT4_SB_SIZE];
    ext4_super sb;
    static const struct {
        size_t off;
        unsigned size;
        uint32_t value;
        imgp_status want;
        const char *needle;
    } cases[] = {
        {EXT4_SB_MAGIC, 2, 0xEF54, IMGP_ERR_CORRUPT, "magic 0xef54"},
        {EXT4_SB_LOG_BLOCK_SIZE, 4, 7, IMGP_ERR_CORRUPT, "s_log_block_size 7"},
        {EXT4_SB_INODE_SIZE, 2, 100, IMGP_ERR_CORRUPT, "s_inode_size 100"},
        {EXT4_SB_INODE_SIZE, 2, 2048, IMGP_ERR_CORRUPT, "s_inode_size 2048"},
        {EXT4_SB_INODE_SIZE, 2, 384, IMGP_ERR_CORRUPT, "s_inode_size 384"},
        {EXT4_SB_BLOCKS_PER_GROUP, 4, 0, IMGP_ERR_CORRUPT, "s_blocks_per_group 0"},
        {EXT4_SB_BLOCKS_PER_GROUP, 4, 8193, IMGP_ERR_CORRUPT, "s_blocks_per_group 8193"},
        {EXT4_SB_INODES_PER_GROUP, 4, 0, IMGP_ERR_CORRUPT, "s_inodes_per_group 0"},
        {EXT4_SB_INODES_PER_GROUP, 4, 8193, IMGP_ERR_CORRUPT, "s_inodes_per_group 8193"},
        {EXT4_SB_INODES_COUNT, 4, 33, IMGP_ERR_CORRUPT, "s_inodes_count 33"},
        {EXT4_SB_FIRST_DATA_BLOCK, 4, 2, IMGP_ERR_CORRUPT, "s_first_data_block 2"},
        {EXT4_SB_BLOCKS_COUNT_LO, 4, 1, IMGP_ERR_CORRUPT, "s_first_data_block 1 with 1 blocks"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_super(b);
        if (cases[i].size == 2)
            test_put_le16(b, cases[i].off, (uint16_t)cases[i].value);
        else
            test_put_le32(b, cases[i].off, cases[i].value);
        expect_error(ctx, parse_super(ctx, b, &sb), cases[i].want, cases[i].needle);
    }
    /* a short buffer */
    make_super(b);
    expect_error(ctx, ext4_parse_super(ctx, b, 512, &sb), IMGP_ERR_CORRUPT, "superblock of 512 bytes");
    /* inodes larger than imgprobe reads, though valid with 4 KiB blocks */
    make_super(b);
    test_put_le32(b, EXT4_SB_LOG_BLOCK_SIZE, 2);
    test_put_le32(b, EXT4_SB_FIRST_DATA_BLOCK, 0);
    test_put_le16(b, EXT4_SB_INODE_SIZE, 2048);
    expect_error(ctx, parse_super(ctx, b, &sb), IMGP_ERR_UNSUPPORTED, "inodes of 2048 bytes");
    /* 64bit descriptors of a size that is not a power of two from 64 to 1024 */
    for (unsigned ds = 0; ds <= 2048; ds += 16) {
        make_super(b);
        test_put_le32(b, EXT4_SB_FEATURE_INCOMPAT, EXT4_INCOMPAT_64BIT);
        test_put_le16(b, EXT4_SB_DESC_SIZE, (uint16_t)ds);
        imgp_status st = parse_super(ctx, b, &sb);
        if (ds >= 64 && ds <= 1024 && (ds & (ds - 1)) == 0)
            assert_int_equal(st, IMGP_OK);
        else
            expect_error(ctx, st, IMGP_ERR_CORRUPT, "s_desc_size");
    }
    /* bigalloc: a cluster smaller than the block, or groups that do not add up */
    make_super(b);
    test_put_le32(b, EXT4_SB_FEATURE_RO_COMPAT, EXT4_RO_COMPAT_BIGALLOC);
    test_put_le32(b, EXT4_SB_LOG_BLOCK_SIZE, 2);
    test_put_le32(b, EXT4_SB_FIRST_DATA_BLOCK, 0);
    test_put_le32(b, EXT4_SB_LOG_CLUSTER_SIZE, 1);
    expect_error(ctx, parse_super(ctx, b, &sb), IMGP_ERR_CORRUPT, "s_log_cluster_size 1");
    test_put_le32(b, EXT4_SB_LOG_CLUSTER_SIZE, 4);
    test_put_le32(b, EXT4_SB_CLUSTERS_PER_GROUP, 100);
    expect_error(ctx, parse_super(ctx, b, &sb), IMGP_ERR_CORRUPT, "s_clusters_per_group 100");
    /* meta_bg starting past the descriptor blocks */
    make_super(b);
    test_put_le32(b, EXT4_SB_FEATURE_INCOMPAT, EXT4_INCOMPAT_META_BG);
    test_put_le32(b, EXT4_SB_FIRST_META_BG, 2);
    expect_error(ctx, parse_super(ctx, b, &sb), IMGP_ERR_CORRUPT, "s_first_meta_bg 2");
    /* blocks that would overflow a byte offset */
    make_super(b);
    test_put_le32(b, EXT4_SB_FEATURE_INCOMPAT, EXT4_INCOMPAT_64BIT);
    test_put_le16(b, EXT4_SB_DESC_SIZE, 64);
    test_put_le32(b, EXT4_SB_BLOCKS_COUNT_HI, 0xffffffffu);
    test_put_le32(b, EXT4_SB_LOG_BLOCK_SIZE, 6);
    test_put_le32(b, EXT4_SB_FIRST_DATA_BLOCK, 0);
    expect_error(ctx, parse_super(ctx, b, &sb), IMGP_ERR_CORRUPT, "overflows");
    imgp_ctx_free(ctx);
}

/* A group count that would need gigabytes of descriptors is refused by the table limit. */
static void test_super_group_limit(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t b[EXT4_SB_SIZE];
    ext4_super sb;
    make_super(b);
    test_put_le32(b, EXT4_SB_FEATURE_INCOMPAT, EXT4_INCOMPAT_64BIT);
    test_put_le16(b, EXT4_SB_DESC_SIZE, 1024);
    test_put_le32(b, EXT4_SB_BLOCKS_COUNT_HI, 0x1000);     /* 2^44 blocks */
    test_put_le32(b, EXT4_SB_BLOCKS_PER_GROUP, 8);         /* 2^41 groups of 1 KiB descriptors */
    expect_error(ctx, parse_super(ctx, b, &sb), IMGP_ERR_CORRUPT, "block groups"); /* more than 2^32 groups */
    test_put_le32(b, EXT4_SB_BLOCKS_COUNT_HI, 0);
    test_put_le32(b, EXT4_SB_BLOCKS_COUNT_LO, 0xfffffff0u); /* 2^29 groups: 512 GiB of descriptors */
    expect_error(ctx, parse_super(ctx, b, &sb), IMGP_ERR_LIMIT, "bytes of group descriptors");
    /* the limit is the context's */
    make_super(b);
    test_put_le32(b, EXT4_SB_BLOCKS_COUNT_LO, 8192 * 40);
    test_put_le32(b, EXT4_SB_INODES_COUNT, 32);
    assert_int_equal(parse_super(ctx, b, &sb), IMGP_OK); /* 40 groups x 32 bytes */
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_TABLE_BYTES, 1024), IMGP_OK);
    expect_error(ctx, parse_super(ctx, b, &sb), IMGP_ERR_LIMIT, "(limit 1024)");
    imgp_ctx_free(ctx);
}

static void test_features(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    ext4_super sb = {0};
    sb.incompat = EXT4_INCOMPAT_FILETYPE | EXT4_INCOMPAT_RECOVER | EXT4_INCOMPAT_META_BG | EXT4_INCOMPAT_EXTENTS |
                  EXT4_INCOMPAT_64BIT | EXT4_INCOMPAT_MMP | EXT4_INCOMPAT_FLEX_BG | EXT4_INCOMPAT_EA_INODE |
                  EXT4_INCOMPAT_CSUM_SEED | EXT4_INCOMPAT_LARGEDIR | EXT4_INCOMPAT_INLINE_DATA |
                  EXT4_INCOMPAT_ENCRYPT | EXT4_INCOMPAT_CASEFOLD;
    sb.ro_compat = 0xffffffffu; /* read-only compatible features never stop a read-only reader */
    assert_int_equal(ext4_check_features(ctx, &sb), IMGP_OK);
    sb.incompat |= EXT4_INCOMPAT_DIRDATA;
    expect_error(ctx, ext4_check_features(ctx, &sb), IMGP_ERR_UNSUPPORTED, "'dirdata' (0x1000)");
    sb.incompat = EXT4_INCOMPAT_COMPRESSION;
    expect_error(ctx, ext4_check_features(ctx, &sb), IMGP_ERR_UNSUPPORTED, "'compression'");
    sb.incompat = EXT4_INCOMPAT_JOURNAL_DEV;
    expect_error(ctx, ext4_check_features(ctx, &sb), IMGP_ERR_UNSUPPORTED, "journal_dev");
    sb.incompat = 0x40000000u;
    expect_error(ctx, ext4_check_features(ctx, &sb), IMGP_ERR_UNSUPPORTED, "unknown incompatible feature 0x40000000");
    imgp_ctx_free(ctx);
}

/* ---- checksums ---- */

static void test_checksums(void **state)
{
    (void)state;
    /* the check values of CRC-32C and CRC-16/ARC over "123456789" */
    assert_int_equal(~ext4_crc32c(~0u, "123456789", 9), 0xE3069283u);
    assert_int_equal(ext4_crc16(0, "123456789", 9), 0xBB3Du);
    assert_int_equal(ext4_crc32c(123, "", 0), 123);
}

/* ---- group descriptors ---- */

static void test_group_desc(void **state)
{
    (void)state;
    uint8_t d[64] = {0};
    test_put_le32(d, EXT4_BG_INODE_TABLE_LO, 0x1234);
    test_put_le32(d, EXT4_BG_INODE_TABLE_HI, 0x5);
    test_put_le16(d, EXT4_BG_FLAGS, EXT4_BG_INODE_UNINIT);
    test_put_le16(d, EXT4_BG_CHECKSUM, 0xBEEF);
    ext4_group g;
    ext4_parse_group_desc(d, 32, false, &g);
    assert_int_equal(g.inode_table, 0x1234);
    assert_int_equal(g.flags, EXT4_BG_INODE_UNINIT);
    assert_int_equal(g.checksum, 0xBEEF);
    ext4_parse_group_desc(d, 64, true, &g);
    assert_int_equal(g.inode_table, 0x500001234ull);
    ext4_parse_group_desc(d, 64, false, &g); /* without 64bit the high half is not there */
    assert_int_equal(g.inode_table, 0x1234);
    ext4_parse_group_desc(d, 32, true, &g);  /* nor in a 32-byte descriptor */
    assert_int_equal(g.inode_table, 0x1234);

    /* the checksum covers the group number and every byte but its own field */
    ext4_super sb = {0};
    sb.desc_size = 64;
    sb.ro_compat = EXT4_RO_COMPAT_METADATA_CSUM;
    uint16_t c0 = ext4_group_desc_csum(&sb, 7, 0, d);
    assert_int_not_equal(c0, ext4_group_desc_csum(&sb, 7, 1, d));
    assert_int_not_equal(c0, ext4_group_desc_csum(&sb, 8, 0, d));
    test_put_le16(d, EXT4_BG_CHECKSUM, 0x1111);
    assert_int_equal(c0, ext4_group_desc_csum(&sb, 7, 0, d));
    d[63] ^= 1;
    assert_int_not_equal(c0, ext4_group_desc_csum(&sb, 7, 0, d));
    sb.ro_compat = EXT4_RO_COMPAT_GDT_CSUM; /* crc16 over the UUID instead of the seed */
    uint16_t c16 = ext4_group_desc_csum(&sb, 7, 0, d);
    assert_int_equal(c16, ext4_group_desc_csum(&sb, 99, 0, d));
    sb.uuid[0] = 1;
    assert_int_not_equal(c16, ext4_group_desc_csum(&sb, 7, 0, d));
}

/* ---- inodes ---- */

static void make_inode(uint8_t *r, size_t len)
{
    memset(r, 0, len);
    test_put_le16(r, EXT4_I_MODE, 0100644);
    test_put_le16(r, EXT4_I_UID, 0x0001);
    test_put_le16(r, EXT4_I_UID_HIGH, 0x0002);
    test_put_le16(r, EXT4_I_GID, 0x0003);
    test_put_le16(r, EXT4_I_GID_HIGH, 0x0004);
    test_put_le32(r, EXT4_I_SIZE_LO, 0x89abcdefu);
    test_put_le32(r, EXT4_I_SIZE_HIGH, 0x1);
    test_put_le32(r, EXT4_I_MTIME, 0xffffffffu); /* -1: 1969 unless the epoch bits say otherwise */
    test_put_le16(r, EXT4_I_LINKS_COUNT, 3);
    test_put_le32(r, EXT4_I_FLAGS, EXT4_EXTENTS_FL);
    test_put_le32(r, EXT4_I_GENERATION, 77);
    test_put_le16(r, EXT4_I_CHECKSUM_LO, 0x2222);
    if (len > 128) {
        test_put_le16(r, EXT4_I_EXTRA_ISIZE, 32);
        test_put_le16(r, EXT4_I_CHECKSUM_HI, 0x1111);
        test_put_le32(r, EXT4_I_MTIME_EXTRA, 1u | 500u << 2); /* epoch +1, 500 ns */
    }
}

static void test_inode(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t r[EXT4_MAX_INODE_SIZE + 1];
    ext4_inode in;
    make_inode(r, 256);
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 256, false, &in), IMGP_OK);
    assert_int_equal(in.mode, 0100644);
    assert_int_equal(in.uid, 0x20001);
    assert_int_equal(in.gid, 0x40003);
    assert_int_equal(in.size, 0x189abcdefull);
    assert_int_equal(in.links, 3);
    assert_int_equal(in.generation, 77);
    assert_int_equal(in.mtime, (int64_t)-1 + (1ll << 32));
    assert_int_equal(in.mtime_nsec, 500);
    assert_true(in.checksum_hi);
    assert_int_equal(in.checksum, 0x11112222u);
    /* the Hurd: i_osd2 holds no checksum */
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 256, true, &in), IMGP_OK);
    assert_int_equal(in.uid, 0x20001);
    assert_int_equal(in.checksum, 0);
    assert_false(in.checksum_hi);
    /* 128-byte records: nothing past 128 is read */
    make_inode(r, 128);
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 128, false, &in), IMGP_OK);
    assert_int_equal(in.mtime, -1);
    assert_false(in.checksum_hi);
    assert_int_equal(in.checksum, 0x2222);
    /* i_extra_isize: too large for the record, or not a multiple of 4 */
    make_inode(r, 256);
    test_put_le16(r, EXT4_I_EXTRA_ISIZE, 132);
    expect_error(ctx, ext4_parse_inode(ctx, 12, r, 256, false, &in), IMGP_ERR_CORRUPT,
                 "inode 12: i_extra_isize 132");
    test_put_le16(r, EXT4_I_EXTRA_ISIZE, 6);
    expect_error(ctx, ext4_parse_inode(ctx, 12, r, 256, false, &in), IMGP_ERR_CORRUPT, "i_extra_isize 6");
    test_put_le16(r, EXT4_I_EXTRA_ISIZE, 0); /* an extra size of 0: no checksum_hi, no extra times */
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 256, false, &in), IMGP_OK);
    assert_false(in.checksum_hi);
    assert_int_equal(in.mtime, -1);
    /* record sizes out of range */
    expect_error(ctx, ext4_parse_inode(ctx, 12, r, 64, false, &in), IMGP_ERR_CORRUPT, "record of 64 bytes");
    expect_error(ctx, ext4_parse_inode(ctx, 12, r, EXT4_MAX_INODE_SIZE + 1, false, &in), IMGP_ERR_CORRUPT,
                 "record of 1025 bytes");

    /* the inode checksum: its own fields do not count, everything else does */
    make_inode(r, 256);
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 256, false, &in), IMGP_OK);
    uint32_t c = ext4_inode_csum(5, &in);
    test_put_le16(r, EXT4_I_CHECKSUM_LO, 0);
    test_put_le16(r, EXT4_I_CHECKSUM_HI, 0);
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 256, false, &in), IMGP_OK);
    assert_int_equal(ext4_inode_csum(5, &in), c);
    r[255] ^= 1;
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 256, false, &in), IMGP_OK);
    assert_int_not_equal(ext4_inode_csum(5, &in), c);
    assert_int_equal(ext4_parse_inode(ctx, 13, r, 256, false, &in), IMGP_OK);
    assert_int_not_equal(ext4_inode_csum(5, &in), c);
    imgp_ctx_free(ctx);
}

/* "system.data" in the inode body, after i_extra_isize */
static size_t put_inline_ea(uint8_t *r, size_t len, const char *name, uint8_t index, const void *value,
                            uint16_t value_size)
{
    size_t start = 128 + 32, first = start + 4;
    test_put_le32(r, start, EXT4_XATTR_MAGIC);
    size_t nlen = strlen(name);
    r[first + EXT4_XE_NAME_LEN] = (uint8_t)nlen;
    r[first + EXT4_XE_NAME_INDEX] = index;
    uint16_t value_offs = (uint16_t)(len - first - ((value_size + 3u) & ~3u));
    test_put_le16(r, first + EXT4_XE_VALUE_OFFS, value_offs);
    test_put_le32(r, first + EXT4_XE_VALUE_SIZE, value_size);
    memcpy(r + first + EXT4_XE_NAME, name, nlen);
    memcpy(r + first + value_offs, value, value_size);
    return first + value_offs;
}

static void test_inline_ea(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t r[256];
    ext4_inode in;
    size_t len;
    make_inode(r, 256);
    size_t at = put_inline_ea(r, 256, "data", EXT4_XATTR_INDEX_SYSTEM, "0123456789", 10);
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 256, false, &in), IMGP_OK);
    const uint8_t *v = ext4_inline_ea(&in, &len);
    assert_non_null(v);
    assert_int_equal(len, 10);
    assert_memory_equal(v, "0123456789", 10);
    assert_ptr_equal(v, in.raw + at);
    /* not system.data: another index, another name */
    make_inode(r, 256);
    put_inline_ea(r, 256, "data", 1, "x", 1);
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 256, false, &in), IMGP_OK);
    assert_null(ext4_inline_ea(&in, &len));
    make_inode(r, 256);
    put_inline_ea(r, 256, "date", EXT4_XATTR_INDEX_SYSTEM, "x", 1);
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 256, false, &in), IMGP_OK);
    assert_null(ext4_inline_ea(&in, &len));
    /* a value past the record */
    make_inode(r, 256);
    put_inline_ea(r, 256, "data", EXT4_XATTR_INDEX_SYSTEM, "x", 1);
    test_put_le32(r, 128 + 32 + 4 + EXT4_XE_VALUE_SIZE, 1000);
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 256, false, &in), IMGP_OK);
    assert_null(ext4_inline_ea(&in, &len));
    /* no magic; a 128-byte record has no room */
    make_inode(r, 256);
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 256, false, &in), IMGP_OK);
    assert_null(ext4_inline_ea(&in, &len));
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 128, false, &in), IMGP_OK);
    assert_null(ext4_inline_ea(&in, &len));
    /* a name running off the record */
    make_inode(r, 256);
    put_inline_ea(r, 256, "data", EXT4_XATTR_INDEX_SYSTEM, "x", 1);
    r[128 + 32 + 4 + EXT4_XE_NAME_LEN] = 200;
    assert_int_equal(ext4_parse_inode(ctx, 12, r, 256, false, &in), IMGP_OK);
    assert_null(ext4_inline_ea(&in, &len));
    imgp_ctx_free(ctx);
}

/* ---- extent nodes ---- */

static void put_extent_header(uint8_t *p, uint16_t entries, uint16_t max, uint16_t depth)
{
    test_put_le16(p, EXT4_EH_MAGIC, EXT4_EXTENT_MAGIC);
    test_put_le16(p, EXT4_EH_ENTRIES, entries);
    test_put_le16(p, EXT4_EH_MAX, max);
    test_put_le16(p, EXT4_EH_DEPTH, depth);
}

static void test_extent_header(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t n[60] = {0};
    ext4_extent_header eh;
    put_extent_header(n, 2, 4, 1);
    assert_int_equal(ext4_parse_extent_header(ctx, n, 60, 5, "here", &eh), IMGP_OK);
    assert_int_equal(eh.entries, 2);
    assert_int_equal(eh.max, 4);
    assert_int_equal(eh.depth, 1);
    test_put_le16(n, EXT4_EH_MAGIC, 0xF30B);
    expect_error(ctx, ext4_parse_extent_header(ctx, n, 60, 5, "here", &eh), IMGP_ERR_CORRUPT,
                 "here: extent header magic 0xf30b");
    put_extent_header(n, 2, 5, 1); /* 5 entries do not fit in 60 bytes */
    expect_error(ctx, ext4_parse_extent_header(ctx, n, 60, 5, "here", &eh), IMGP_ERR_CORRUPT, "eh_max 5");
    put_extent_header(n, 0, 0, 0);
    expect_error(ctx, ext4_parse_extent_header(ctx, n, 60, 5, "here", &eh), IMGP_ERR_CORRUPT, "eh_max 0");
    put_extent_header(n, 5, 4, 0);
    expect_error(ctx, ext4_parse_extent_header(ctx, n, 60, 5, "here", &eh), IMGP_ERR_CORRUPT,
                 "eh_entries 5 exceeds eh_max 4");
    put_extent_header(n, 1, 4, 6);
    expect_error(ctx, ext4_parse_extent_header(ctx, n, 60, 5, "here", &eh), IMGP_ERR_CORRUPT,
                 "extent tree depth 6 exceeds 5");
    expect_error(ctx, ext4_parse_extent_header(ctx, n, 11, 5, "here", &eh), IMGP_ERR_CORRUPT,
                 "here: 11 bytes, shorter than an extent header");
    imgp_ctx_free(ctx);
}

/* ---- directory blocks ---- */

typedef struct seen {
    char names[16][64];
    imgp_ino inos[16];
    imgp_ftype types[16];
    int n, stop_after;
} seen;

static int see(void *arg, const imgp_dirent *e)
{
    seen *s = arg;
    if (s->n < 16) {
        snprintf(s->names[s->n], sizeof s->names[0], "%.*s", (int)e->name_len, e->name);
        s->inos[s->n] = e->ino;
        s->types[s->n] = e->type;
    }
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static size_t put_dirent(uint8_t *b, size_t off, uint32_t ino, uint16_t rec_len, const char *name, uint8_t ft)
{
    test_put_le32(b, off + EXT4_DE_INODE, ino);
    test_put_le16(b, off + EXT4_DE_REC_LEN, rec_len);
    b[off + EXT4_DE_NAME_LEN] = (uint8_t)strlen(name);
    b[off + EXT4_DE_FILE_TYPE] = ft;
    memcpy(b + off + EXT4_DE_NAME, name, strlen(name));
    return off + rec_len;
}

/* ".", "..", "file", an unused entry, "sub", and a metadata_csum tail */
static void make_dir_block(uint8_t *b)
{
    memset(b, 0, 1024);
    size_t off = put_dirent(b, 0, 2, 12, ".", EXT4_FT_DIR);
    off = put_dirent(b, off, 2, 12, "..", EXT4_FT_DIR);
    off = put_dirent(b, off, 12, 16, "file", EXT4_FT_REG_FILE);
    off = put_dirent(b, off, 0, 20, "gone", EXT4_FT_REG_FILE);
    off = put_dirent(b, off, 14, (uint16_t)(1024 - 12 - off), "sub", EXT4_FT_DIR);
    put_dirent(b, off, 0, 12, "", 0xDE);
}

static void test_dir_block(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t b[1024];
    bool stopped;
    seen s = {0};
    make_dir_block(b);
    assert_int_equal(ext4_parse_dir_block(ctx, b, 1024, true, "dir", see, &s, &stopped), IMGP_OK);
    assert_false(stopped);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.names[2], "file");
    assert_int_equal(s.inos[2], 12);
    assert_int_equal(s.types[2], IMGP_FT_REG);
    assert_string_equal(s.names[3], "sub");
    assert_int_equal(s.types[3], IMGP_FT_DIR);
    /* without the filetype feature the type is unknown */
    memset(&s, 0, sizeof s);
    assert_int_equal(ext4_parse_dir_block(ctx, b, 1024, false, "dir", see, &s, &stopped), IMGP_OK);
    assert_int_equal(s.types[2], IMGP_FT_UNKNOWN);
    /* the callback stops the walk */
    memset(&s, 0, sizeof s);
    s.stop_after = 3;
    assert_int_equal(ext4_parse_dir_block(ctx, b, 1024, true, "dir", see, &s, &stopped), IMGP_OK);
    assert_true(stopped);
    assert_int_equal(s.n, 3);

    /* rec_len broken at the "file" entry (offset 24) */
    static const struct {
        uint16_t rec_len;
        const char *needle;
    } cases[] = {
        {0, "dir: entry at offset 24 has rec_len 0"},
        {8, "rec_len 8 (at least 12"},
        {18, "rec_len 18 (at least 12, a multiple of 4)"},
        {1004, "rec_len 1004, overrunning the 1024-byte block"},
        {0xfffc, "overrunning"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_dir_block(b);
        test_put_le16(b, 24 + EXT4_DE_REC_LEN, cases[i].rec_len);
        memset(&s, 0, sizeof s);
        expect_error(ctx, ext4_parse_dir_block(ctx, b, 1024, true, "dir", see, &s, &stopped), IMGP_ERR_CORRUPT,
                     cases[i].needle);
    }
    /* a name longer than its record */
    make_dir_block(b);
    b[24 + EXT4_DE_NAME_LEN] = 9;
    expect_error(ctx, ext4_parse_dir_block(ctx, b, 1024, true, "dir", see, &s, &stopped), IMGP_ERR_CORRUPT,
                 "name_len 9 does not fit rec_len 16");
    /* fewer than 8 bytes left at the end */
    make_dir_block(b);
    expect_error(ctx, ext4_parse_dir_block(ctx, b, 1020, true, "dir", see, &s, &stopped), IMGP_ERR_CORRUPT,
                 "overrunning");
    expect_error(ctx, ext4_parse_dir_block(ctx, b, 28, true, "dir", see, &s, &stopped), IMGP_ERR_CORRUPT,
                 "4 bytes left");
    /* 64 KiB blocks: a rec_len of 65535 or 0 is the whole block */
    uint8_t *big = calloc(1, 65536);
    assert_non_null(big);
    put_dirent(big, 0, 5, 0, "all", EXT4_FT_REG_FILE);
    memset(&s, 0, sizeof s);
    assert_int_equal(ext4_parse_dir_block(ctx, big, 65536, true, "big", see, &s, &stopped), IMGP_OK);
    assert_int_equal(s.n, 1);
    test_put_le16(big, EXT4_DE_REC_LEN, 65535);
    assert_int_equal(ext4_parse_dir_block(ctx, big, 65536, true, "big", see, &s, &stopped), IMGP_OK);
    free(big);
    imgp_ctx_free(ctx);
}

static void test_casefold(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        bool equal;
    } cases[] = {
        {"README", "readme", true},
        {"Ünïcödé", "üNÏCÖDÉ", true},
        {"ŁÓDŹ", "łódź", true},
        {"ΟΔΥΣΣΕΥΣ", "οδυσσευς", true},
        {"ΟΔΥΣΣΕΥΣ", "οδυσσευσ", true},
        {"КИРИЛЛИЦА Ё", "кириллица ё", true},
        {"Ÿ", "ÿ", true},
        {"abc", "abd", false},
        {"abc", "abcd", false},
        {"×", "÷", false},
        {"\xff\xfe", "\xff\xfe", true},  /* not UTF-8: compared byte for byte */
        {"A\xff", "a\xff", false},
        {"\xc0\xaf", "/", false},        /* overlong */
        {"", "", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (ext4_casefold_equal(cases[i].a, strlen(cases[i].a), cases[i].b, strlen(cases[i].b)) != cases[i].equal)
            fail_msg("'%s' vs '%s': expected %s", cases[i].a, cases[i].b, cases[i].equal ? "equal" : "different");
}

/* ---- a tiny filesystem in memory ----
 *
 * 1 KiB blocks; group 0 = blocks 1..8192; a second group when @p groups is 2
 * (with the backup superblock and descriptors at 8193/8194, sparse_super).
 *   block 1 superblock, 2 descriptors, 5..12 the inode table (32 x 256 bytes),
 *   20 the root directory, 21..23 "file" (3000 bytes), 24 "sub", 25 and 27 "ind"
 *   (a block map with a hole), 30.. spare blocks for extent trees.
 * Inodes: 2 root, 11 lost+found-less; 12 file, 13 link (fast), 14 sub,
 * 15 ind, 16 dev (8,1), 17 slow (a symlink in block 26), 18 inline file.
 */
enum { BS = 1024, ITABLE = 5, ROOT_BLK = 20, FILE_BLK = 21, SUB_BLK = 24, IND_BLK = 25, SLOW_BLK = 26 };

typedef struct image {
    uint8_t *b;
    size_t size;
    uint32_t groups;
    bool csum;
} image;

static uint8_t *blk(image *im, uint64_t n) { return im->b + n * BS; }
static uint8_t *inode_rec(image *im, uint32_t ino) { return blk(im, ITABLE) + (size_t)(ino - 1) * 256; }

static void put_inode(image *im, uint32_t ino, uint16_t mode, uint64_t size, uint16_t links, uint32_t flags)
{
    uint8_t *r = inode_rec(im, ino);
    memset(r, 0, 256);
    test_put_le16(r, EXT4_I_MODE, mode);
    test_put_le32(r, EXT4_I_SIZE_LO, (uint32_t)size);
    test_put_le32(r, EXT4_I_SIZE_HIGH, (uint32_t)(size >> 32));
    test_put_le16(r, EXT4_I_LINKS_COUNT, links);
    test_put_le32(r, EXT4_I_FLAGS, flags);
    test_put_le32(r, EXT4_I_MTIME, 1700000000u);
    test_put_le16(r, EXT4_I_EXTRA_ISIZE, 32);
}

/* An extent root in i_block with one leaf extent. */
static void put_extent_root(image *im, uint32_t ino, uint32_t lblk, uint16_t len, uint64_t start)
{
    uint8_t *ib = inode_rec(im, ino) + EXT4_I_BLOCK;
    put_extent_header(ib, 1, 4, 0);
    test_put_le32(ib, 12 + EXT4_EE_BLOCK, lblk);
    test_put_le16(ib, 12 + EXT4_EE_LEN, len);
    test_put_le16(ib, 12 + EXT4_EE_START_HI, (uint16_t)(start >> 32));
    test_put_le32(ib, 12 + EXT4_EE_START_LO, (uint32_t)start);
}

/* An extent root in i_block of depth 1 with one index, to @p child. */
static uint8_t *put_index_root(image *im, uint32_t ino, uint64_t child)
{
    uint8_t *ib = inode_rec(im, ino) + EXT4_I_BLOCK;
    memset(ib, 0, EXT4_I_BLOCK_LEN);
    put_extent_header(ib, 1, 4, 1);
    test_put_le32(ib, 12 + EXT4_EI_LEAF_LO, (uint32_t)child);
    test_put_le16(ib, 12 + EXT4_EI_LEAF_HI, (uint16_t)(child >> 32));
    return ib;
}

/* Recompute the checksums the image has (after a test changed something). */
static void seal(image *im)
{
    if (!im->csum)
        return;
    uint8_t *sb = blk(im, 1);
    uint32_t seed = ext4_crc32c(~0u, sb + EXT4_SB_UUID, 16);
    for (uint32_t g = 0; g < im->groups; g++) {
        uint8_t *d = blk(im, 2) + g * 32;
        ext4_super s = {0};
        s.desc_size = 32;
        s.ro_compat = EXT4_RO_COMPAT_METADATA_CSUM;
        test_put_le16(d, EXT4_BG_CHECKSUM, ext4_group_desc_csum(&s, seed, g, d));
    }
    for (uint32_t ino = 1; ino <= 32; ino++) {
        uint8_t *r = inode_rec(im, ino);
        ext4_inode in;
        imgp_ctx *ctx = ctx_new();
        assert_int_equal(ext4_parse_inode(ctx, ino, r, 256, false, &in), IMGP_OK);
        imgp_ctx_free(ctx);
        uint32_t c = ext4_inode_csum(seed, &in);
        test_put_le16(r, EXT4_I_CHECKSUM_LO, (uint16_t)c);
        test_put_le16(r, EXT4_I_CHECKSUM_HI, (uint16_t)(c >> 16));
    }
    test_put_le32(sb, EXT4_SB_CHECKSUM, ext4_crc32c(~0u, sb, EXT4_SB_CHECKSUM));
}

/* Group 1's backups of the superblock and the descriptors (sparse_super keeps them there). */
static void put_backup(image *im)
{
    uint8_t *b = blk(im, 8193);
    memcpy(b, blk(im, 1), BS);
    test_put_le16(b, EXT4_SB_BLOCK_GROUP_NR, 1);
    test_put_le32(b, EXT4_SB_CHECKSUM, ext4_crc32c(~0u, b, EXT4_SB_CHECKSUM));
    memcpy(blk(im, 8194), blk(im, 2), BS);
}

static image make_image(uint32_t groups, bool csum)
{
    image im = {0};
    im.groups = groups;
    im.csum = csum;
    uint64_t blocks = groups == 1 ? 128 : 8192 + 200;
    im.size = (size_t)blocks * BS;
    im.b = calloc(1, im.size);
    assert_non_null(im.b);
    uint8_t *sb = blk(&im, 1);
    make_super(sb);
    test_put_le32(sb, EXT4_SB_BLOCKS_COUNT_LO, (uint32_t)blocks);
    test_put_le32(sb, EXT4_SB_INODES_COUNT, 32 * groups);
    if (csum)
        test_put_le32(sb, EXT4_SB_FEATURE_RO_COMPAT, EXT4_RO_COMPAT_SPARSE_SUPER | EXT4_RO_COMPAT_METADATA_CSUM);
    sb[EXT4_SB_CHECKSUM_TYPE] = EXT4_CHECKSUM_CRC32C;
    for (uint32_t g = 0; g < groups; g++)
        test_put_le32(blk(&im, 2) + g * 32, EXT4_BG_INODE_TABLE_LO, g == 0 ? ITABLE : 8192 + 10);

    /* the root: ".", "..", file, link, sub, ind, dev, slow, inline */
    put_inode(&im, 2, 040755, BS, 3, EXT4_EXTENTS_FL);
    put_extent_root(&im, 2, 0, 1, ROOT_BLK);
    uint8_t *d = blk(&im, ROOT_BLK);
    size_t off = put_dirent(d, 0, 2, 12, ".", EXT4_FT_DIR);
    off = put_dirent(d, off, 2, 12, "..", EXT4_FT_DIR);
    off = put_dirent(d, off, 12, 12, "file", EXT4_FT_REG_FILE);
    off = put_dirent(d, off, 13, 12, "link", EXT4_FT_SYMLINK);
    off = put_dirent(d, off, 14, 12, "sub", EXT4_FT_DIR);
    off = put_dirent(d, off, 15, 12, "ind", EXT4_FT_REG_FILE);
    off = put_dirent(d, off, 16, 12, "dev", EXT4_FT_CHRDEV);
    off = put_dirent(d, off, 17, 12, "slow", EXT4_FT_SYMLINK);
    put_dirent(d, off, 18, (uint16_t)(BS - off), "inline", EXT4_FT_REG_FILE);

    put_inode(&im, 12, 0100644, 3000, 1, EXT4_EXTENTS_FL);
    put_extent_root(&im, 12, 0, 3, FILE_BLK);
    for (size_t i = 0; i < 3000; i++)
        blk(&im, FILE_BLK)[i] = (uint8_t)(i * 7);

    put_inode(&im, 13, 0120777, 4, 1, 0);
    memcpy(inode_rec(&im, 13) + EXT4_I_BLOCK, "file", 4);

    put_inode(&im, 14, 040700, BS, 2, EXT4_EXTENTS_FL);
    put_extent_root(&im, 14, 0, 1, SUB_BLK);
    off = put_dirent(blk(&im, SUB_BLK), 0, 14, 12, ".", EXT4_FT_DIR);
    put_dirent(blk(&im, SUB_BLK), off, 2, BS - 12, "..", EXT4_FT_DIR);

    /* a block map: block 0 at IND_BLK, block 1 a hole, block 2 at IND_BLK + 2 */
    put_inode(&im, 15, 0100600, 3 * BS, 1, 0);
    test_put_le32(inode_rec(&im, 15), EXT4_I_BLOCK + 0, IND_BLK);
    test_put_le32(inode_rec(&im, 15), EXT4_I_BLOCK + 8, IND_BLK + 2);
    memset(blk(&im, IND_BLK), 'a', BS);
    memset(blk(&im, IND_BLK + 2), 'c', BS);

    put_inode(&im, 16, 020644, 0, 1, 0);
    test_put_le32(inode_rec(&im, 16), EXT4_I_BLOCK + 4, 8u << 8 | 1u); /* new encoding: major 8, minor 1 */

    put_inode(&im, 17, 0120777, 80, 1, EXT4_EXTENTS_FL);
    put_extent_root(&im, 17, 0, 1, SLOW_BLK);
    memset(blk(&im, SLOW_BLK), 'z', 80);

    put_inode(&im, 18, 0100644, 70, 1, EXT4_INLINE_DATA_FL);
    memset(inode_rec(&im, 18) + EXT4_I_BLOCK, 'i', 60);
    put_inline_ea(inode_rec(&im, 18), 256, "data", EXT4_XATTR_INDEX_SYSTEM, "0123456789", 10);

    seal(&im);
    if (groups == 2)
        put_backup(&im);
    return im;
}

typedef struct mounted {
    imgp_ctx *ctx;
    imgp_bdev *bd;
    imgp_fs *fs;
} mounted;

static imgp_status mount_image(image *im, mounted *m)
{
    m->ctx = ctx_new();
    assert_int_equal(imgp_bdev_open_memory(m->ctx, im->b, im->size, "mem", &m->bd), IMGP_OK);
    m->fs = NULL;
    return imgp_fs_mount(m->ctx, m->bd, NULL, &m->fs);
}

static void unmount_image(mounted *m)
{
    imgp_fs_unmount(m->fs);
    imgp_bdev_close(m->bd);
    imgp_ctx_free(m->ctx);
}

static void test_fs_walk(void **state)
{
    (void)state;
    for (int csum = 0; csum <= 1; csum++) {
        image im = make_image(1, csum);
        mounted m;
        assert_int_equal(mount_image(&im, &m), IMGP_OK);
        const imgp_fs_info *info = imgp_fs_get_info(m.fs);
        assert_string_equal(info->type, "ext4"); /* extents make it ext4 */
        assert_string_equal(info->label, "unit");
        assert_string_equal(info->uuid, "10111213-1415-1617-1819-1a1b1c1d1e1f");
        assert_int_equal(info->block_size, 1024);
        assert_int_equal(info->total_bytes, 128 * 1024);
        assert_int_equal(info->free_bytes, 100 * 1024);
        assert_int_equal(info->root, 2);
        assert_int_equal(info->nnotes, 0);

        seen s = {0};
        assert_int_equal(imgp_fs_readdir(m.fs, 2, see, &s), IMGP_OK);
        assert_int_equal(s.n, 7); /* "." and ".." are not passed */
        assert_string_equal(s.names[0], "file");
        assert_string_equal(s.names[6], "inline");

        imgp_stat st;
        assert_int_equal(imgp_fs_stat(m.fs, 12, &st), IMGP_OK);
        assert_int_equal(st.type, IMGP_FT_REG);
        assert_int_equal(st.mode, 0644);
        assert_int_equal(st.size, 3000);
        assert_int_equal(st.mtime, 1700000000);
        uint8_t buf[4096];
        size_t got;
        assert_int_equal(imgp_fs_read(m.fs, 12, 0, buf, sizeof buf, &got), IMGP_OK);
        assert_int_equal(got, 3000);
        assert_memory_equal(buf, blk(&im, FILE_BLK), 3000);
        assert_int_equal(imgp_fs_read(m.fs, 12, 1000, buf, 100, &got), IMGP_OK);
        assert_memory_equal(buf, blk(&im, FILE_BLK) + 1000, 100);

        char target[128];
        assert_int_equal(imgp_fs_readlink(m.fs, 13, target, sizeof target), IMGP_OK);
        assert_string_equal(target, "file");
        assert_int_equal(imgp_fs_readlink(m.fs, 17, target, sizeof target), IMGP_OK);
        assert_int_equal(strlen(target), 80);
        assert_int_equal(target[79], 'z');

        /* a block map with a hole */
        assert_int_equal(imgp_fs_read(m.fs, 15, 0, buf, 3 * BS, &got), IMGP_OK);
        assert_int_equal(got, 3 * BS);
        assert_int_equal(buf[0], 'a');
        assert_int_equal(buf[BS], 0);
        assert_int_equal(buf[2 * BS - 1], 0);
        assert_int_equal(buf[2 * BS], 'c');

        assert_int_equal(imgp_fs_stat(m.fs, 16, &st), IMGP_OK);
        assert_int_equal(st.type, IMGP_FT_CHR);
        assert_int_equal(st.rdev_major, 8);
        assert_int_equal(st.rdev_minor, 1);

        /* inline data: 60 bytes in i_block, 10 in system.data */
        assert_int_equal(imgp_fs_stat(m.fs, 18, &st), IMGP_OK);
        assert_true(st.flags & IMGP_STAT_INLINE);
        assert_int_equal(imgp_fs_read(m.fs, 18, 0, buf, sizeof buf, &got), IMGP_OK);
        assert_int_equal(got, 70);
        assert_int_equal(buf[59], 'i');
        assert_memory_equal(buf + 60, "0123456789", 10);
        assert_int_equal(imgp_fs_read(m.fs, 18, 58, buf, 4, &got), IMGP_OK);
        assert_memory_equal(buf, "ii01", 4);

        imgp_ino ino;
        assert_int_equal(imgp_fs_lookup_name(m.fs, 2, "sub", 3, &ino), IMGP_OK);
        assert_int_equal(ino, 14);
        expect_error(m.ctx, imgp_fs_lookup_name(m.fs, 2, "SUB", 3, &ino), IMGP_ERR_NOT_FOUND,
                     "'SUB' not found in directory inode 2");
        expect_error(m.ctx, imgp_fs_lookup_name(m.fs, 2, "..", 2, &ino), IMGP_ERR_NOT_FOUND, "not found");
        s.n = 0;
        assert_int_equal(imgp_fs_readdir(m.fs, 14, see, &s), IMGP_OK);
        assert_int_equal(s.n, 0);
        unmount_image(&m);
        free(im.b);
    }
}

/* Damage one structure; the walk must give a clear error naming it. */
static void test_fs_damage(void **state)
{
    (void)state;
    image im;
    mounted m;
    uint8_t buf[4096];
    size_t got;
    imgp_stat sb;
    imgp_status st;
    seen s = {0};

    /* an extent tree deeper than 5 */
    im = make_image(1, false);
    test_put_le16(inode_rec(&im, 12) + EXT4_I_BLOCK, EXT4_EH_DEPTH, 6);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    expect_error(m.ctx, imgp_fs_read(m.fs, 12, 0, buf, 10, &got), IMGP_ERR_CORRUPT,
                 "inode 12 extent root: extent tree depth 6 exceeds 5");
    unmount_image(&m);
    free(im.b);

    /* ... and deeper than the context allows */
    im = make_image(1, false);
    test_put_le16(inode_rec(&im, 12) + EXT4_I_BLOCK, EXT4_EH_DEPTH, 3);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    assert_int_equal(imgp_ctx_set_limit(m.ctx, IMGP_LIMIT_EXTENT_DEPTH, 2), IMGP_OK);
    expect_error(m.ctx, imgp_fs_read(m.fs, 12, 0, buf, 10, &got), IMGP_ERR_LIMIT, "depth 3 exceeds the limit 2");
    unmount_image(&m);
    free(im.b);

    /* an extent tree that loops: an index node pointing at itself */
    im = make_image(1, false);
    put_index_root(&im, 12, 30);
    put_extent_header(blk(&im, 30), 1, 84, 1);
    test_put_le32(blk(&im, 30), 12 + EXT4_EI_BLOCK, 0);
    test_put_le32(blk(&im, 30), 12 + EXT4_EI_LEAF_LO, 30);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    expect_error(m.ctx, imgp_fs_read(m.fs, 12, 0, buf, 10, &got), IMGP_ERR_CORRUPT,
                 "inode 12: extent node at block 30 has depth 1 under a node of depth 1 (a loop");
    unmount_image(&m);
    free(im.b);

    /* a two-level tree that is sound: index -> leaf at 31 -> data; past the leaf, a hole */
    im = make_image(1, false);
    uint8_t *ib = put_index_root(&im, 12, 31);
    put_extent_header(blk(&im, 31), 1, 84, 0);
    test_put_le16(blk(&im, 31), 12 + EXT4_EE_LEN, 2);
    test_put_le32(blk(&im, 31), 12 + EXT4_EE_START_LO, FILE_BLK);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    assert_int_equal(imgp_fs_read(m.fs, 12, 0, buf, 3000, &got), IMGP_OK);
    assert_memory_equal(buf, blk(&im, FILE_BLK), 2048);
    assert_int_equal(buf[2048], 0);
    assert_int_equal(buf[2999], 0);
    unmount_image(&m);
    /* an uninitialised extent reads as zeros */
    test_put_le16(blk(&im, 31), 12 + EXT4_EE_LEN, 32768 + 2);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    assert_int_equal(imgp_fs_read(m.fs, 12, 0, buf, 3000, &got), IMGP_OK);
    assert_int_equal(buf[5], 0);
    unmount_image(&m);
    /* an index past the end of the filesystem */
    test_put_le32(ib, 12 + EXT4_EI_LEAF_LO, 5000);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    expect_error(m.ctx, imgp_fs_read(m.fs, 12, 0, buf, 10, &got), IMGP_ERR_CORRUPT,
                 "inode 12: extent index at depth 1 points to block 5000, past the end of the filesystem "
                 "(128 blocks)");
    unmount_image(&m);
    free(im.b);

    /* a data extent past the end of the filesystem */
    im = make_image(1, false);
    put_extent_root(&im, 12, 0, 3, 127);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    expect_error(m.ctx, imgp_fs_read(m.fs, 12, 0, buf, 10, &got), IMGP_ERR_CORRUPT,
                 "inode 12: extent of logical blocks 0+3 maps to blocks 127+3, past the end");
    unmount_image(&m);
    free(im.b);

    /* a block map pointer past the end, and an indirect block past the end */
    im = make_image(1, false);
    test_put_le32(inode_rec(&im, 15), EXT4_I_BLOCK + 8, 999);
    test_put_le32(inode_rec(&im, 15), EXT4_I_BLOCK + 4 * EXT4_IND_BLOCK, 998);
    test_put_le32(inode_rec(&im, 15), EXT4_I_SIZE_LO, 20 * BS);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    expect_error(m.ctx, imgp_fs_read(m.fs, 15, 0, buf, 3 * BS, &got), IMGP_ERR_CORRUPT,
                 "inode 15: logical block 2 maps to block 999, past the end");
    expect_error(m.ctx, imgp_fs_read(m.fs, 15, 12 * BS, buf, 10, &got), IMGP_ERR_CORRUPT,
                 "inode 15: indirect block 998 (for logical block 12) lies past the end");
    unmount_image(&m);
    free(im.b);

    /* rec_len 0 in the root directory */
    im = make_image(1, false);
    test_put_le16(blk(&im, ROOT_BLK), 24 + EXT4_DE_REC_LEN, 0);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    expect_error(m.ctx, imgp_fs_readdir(m.fs, 2, see, &s), IMGP_ERR_CORRUPT,
                 "directory inode 2, block 0 (filesystem block 20): entry at offset 24 has rec_len 0");
    unmount_image(&m);
    free(im.b);

    /* an entry naming an inode outside any group; inode 0 itself */
    im = make_image(1, false);
    test_put_le32(blk(&im, ROOT_BLK), 24 + EXT4_DE_INODE, 999);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    imgp_ino ino;
    assert_int_equal(imgp_fs_lookup_name(m.fs, 2, "file", 4, &ino), IMGP_OK);
    assert_int_equal(ino, 999);
    expect_error(m.ctx, imgp_fs_stat(m.fs, ino, &sb), IMGP_ERR_CORRUPT,
                 "inode 999 is outside any group (the filesystem has 32 inodes)");
    expect_error(m.ctx, imgp_fs_stat(m.fs, 0, &sb), IMGP_ERR_CORRUPT, "inode 0 is outside any group");
    /* an inode with no type */
    expect_error(m.ctx, imgp_fs_stat(m.fs, 20, &sb), IMGP_ERR_CORRUPT, "inode 20: mode 00 has no file type");
    unmount_image(&m);
    free(im.b);

    /* more entries than the context allows */
    im = make_image(1, false);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    assert_int_equal(imgp_ctx_set_limit(m.ctx, IMGP_LIMIT_DIR_ENTRIES, 3), IMGP_OK);
    expect_error(m.ctx, imgp_fs_readdir(m.fs, 2, see, &s), IMGP_ERR_LIMIT,
                 "directory inode 2 has more than 3 entries");
    expect_error(m.ctx, imgp_fs_lookup_name(m.fs, 2, "inline", 6, &ino), IMGP_ERR_LIMIT, "more than 3 entries");
    unmount_image(&m);
    free(im.b);

    /* a directory of many blocks without entries: bounded by the entry limit too */
    im = make_image(1, false);
    put_inode(&im, 14, 040700, 10 * BS, 2, EXT4_EXTENTS_FL);
    put_extent_root(&im, 14, 0, 10, 40);
    for (int i = 0; i < 10; i++)
        put_dirent(blk(&im, 40 + (uint64_t)i), 0, 0, BS, "", 0);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    s.n = 0;
    assert_int_equal(imgp_fs_readdir(m.fs, 14, see, &s), IMGP_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(imgp_ctx_set_limit(m.ctx, IMGP_LIMIT_DIR_ENTRIES, 5), IMGP_OK);
    expect_error(m.ctx, imgp_fs_readdir(m.fs, 14, see, &s), IMGP_ERR_LIMIT,
                 "directory inode 14: more than 5 blocks to read");
    unmount_image(&m);
    free(im.b);

    /* an inode table outside the filesystem; an uninitialised one */
    im = make_image(1, false);
    test_put_le32(blk(&im, 2), EXT4_BG_INODE_TABLE_LO, 40000);
    st = mount_image(&im, &m);
    expect_error(m.ctx, st, IMGP_ERR_CORRUPT,
                 "inode 2: group 0's inode table at block 40000 lies outside the filesystem (128 blocks)");
    unmount_image(&m);
    free(im.b);
    im = make_image(1, true);
    test_put_le16(blk(&im, 2), EXT4_BG_FLAGS, EXT4_BG_INODE_UNINIT);
    seal(&im);
    st = mount_image(&im, &m);
    expect_error(m.ctx, st, IMGP_ERR_CORRUPT, "inode 2 is not in use");
    unmount_image(&m);
    free(im.b);

    /* the root that is not a directory */
    im = make_image(1, false);
    test_put_le16(inode_rec(&im, 2), EXT4_I_MODE, 0100644);
    st = mount_image(&im, &m);
    expect_error(m.ctx, st, IMGP_ERR_CORRUPT, "root inode 2 is not a directory");
    unmount_image(&m);
    free(im.b);

    /* inline data that claims more than the inode stores */
    im = make_image(1, false);
    test_put_le32(inode_rec(&im, 18), EXT4_I_SIZE_LO, 200);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    expect_error(m.ctx, imgp_fs_read(m.fs, 18, 0, buf, 200, &got), IMGP_ERR_CORRUPT,
                 "inode 18: 200 bytes of inline data, 70 stored in the inode");
    unmount_image(&m);
    free(im.b);

    /* an unknown incompatible feature */
    im = make_image(1, false);
    test_put_le32(blk(&im, 1), EXT4_SB_FEATURE_INCOMPAT, EXT4_INCOMPAT_EXTENTS | EXT4_INCOMPAT_DIRDATA);
    st = mount_image(&im, &m);
    expect_error(m.ctx, st, IMGP_ERR_UNSUPPORTED, "'dirdata'");
    unmount_image(&m);
    free(im.b);
}

static bool has_note(const imgp_fs *fs, const char *needle)
{
    const imgp_fs_info *info = imgp_fs_get_info(fs);
    for (size_t i = 0; i < info->nnotes; i++)
        if (strstr(info->notes[i], needle))
            return true;
    return false;
}

/* Checksum mismatches are noted, not refused; a damaged primary superblock
 * gives way to group 1's backup; a journal needing recovery is noted. */
static void test_fs_notes(void **state)
{
    (void)state;
    mounted m;
    image im = make_image(1, true);
    inode_rec(&im, 12)[200] ^= 1;        /* inode 12's checksum no longer matches */
    blk(&im, 2)[EXT4_BG_FREE_BLOCKS_LO] ^= 1; /* nor group 0's descriptor */
    blk(&im, 1)[EXT4_SB_VOLUME_NAME] = 'U';   /* nor the superblock */
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    imgp_stat st;
    assert_int_equal(imgp_fs_stat(m.fs, 12, &st), IMGP_OK);
    assert_true(has_note(m.fs, "inode 12: checksum"));
    assert_true(has_note(m.fs, "descriptor of group 0: checksum"));
    assert_true(has_note(m.fs, "superblock of group 0: checksum"));
    assert_false(has_note(m.fs, "inode 13"));
    /* many mismatches: a few listed, then one line */
    for (uint32_t i = 13; i <= 18; i++)
        inode_rec(&im, i)[200] ^= 1;
    for (uint32_t i = 13; i <= 18; i++)
        assert_int_equal(imgp_fs_stat(m.fs, i, &st), IMGP_OK);
    assert_true(has_note(m.fs, "further checksum mismatches not listed"));
    assert_int_equal(imgp_fs_get_info(m.fs)->nnotes, 9);
    unmount_image(&m);
    free(im.b);

    /* the primary superblock damaged: group 1's copy is read */
    im = make_image(2, true);
    test_put_le32(blk(&im, 1), EXT4_SB_INODES_PER_GROUP, 0);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    assert_true(has_note(m.fs, "primary superblock unusable (s_inodes_per_group 0"));
    assert_true(has_note(m.fs, "read the backup in group 1 (block 8193)"));
    seen s = {0};
    assert_int_equal(imgp_fs_readdir(m.fs, 2, see, &s), IMGP_OK);
    assert_int_equal(s.n, 7);
    unmount_image(&m);
    /* ... and with no backup either: the primary's error */
    memset(blk(&im, 8193), 0, BS);
    imgp_status ms = mount_image(&im, &m);
    expect_error(m.ctx, ms, IMGP_ERR_CORRUPT,
                 "s_inodes_per_group 0 (1 to 8192) (and no backup superblock found)");
    unmount_image(&m);
    free(im.b);

    /* needs_recovery and errors */
    im = make_image(1, false);
    test_put_le32(blk(&im, 1), EXT4_SB_FEATURE_INCOMPAT,
                  EXT4_INCOMPAT_FILETYPE | EXT4_INCOMPAT_EXTENTS | EXT4_INCOMPAT_RECOVER);
    test_put_le16(blk(&im, 1), EXT4_SB_STATE, EXT4_STATE_ERRORS);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    assert_true(has_note(m.fs, "the journal needs recovery and is not replayed"));
    assert_true(has_note(m.fs, "marked as having errors"));
    unmount_image(&m);
    /* a device shorter than the filesystem */
    m.ctx = ctx_new();
    assert_int_equal(imgp_bdev_open_memory(m.ctx, im.b, 100 * BS, "short", &m.bd), IMGP_OK);
    assert_int_equal(imgp_fs_mount(m.ctx, m.bd, "ext4", &m.fs), IMGP_OK);
    assert_true(has_note(m.fs, "has 131072 bytes but its device 102400 (truncated?)"));
    unmount_image(&m);
    free(im.b);
}

/* Casefold directories compare names without case; others do not. Encrypted files are refused. */
static void test_fs_casefold_encrypt(void **state)
{
    (void)state;
    image im = make_image(1, false);
    test_put_le32(blk(&im, 1), EXT4_SB_FEATURE_INCOMPAT,
                  EXT4_INCOMPAT_FILETYPE | EXT4_INCOMPAT_EXTENTS | EXT4_INCOMPAT_CASEFOLD | EXT4_INCOMPAT_ENCRYPT);
    test_put_le32(inode_rec(&im, 2), EXT4_I_FLAGS, EXT4_EXTENTS_FL | EXT4_CASEFOLD_FL);
    test_put_le32(inode_rec(&im, 12), EXT4_I_FLAGS, EXT4_EXTENTS_FL | EXT4_ENCRYPT_FL);
    mounted m;
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    imgp_ino ino;
    assert_int_equal(imgp_fs_lookup_name(m.fs, 2, "SuB", 3, &ino), IMGP_OK);
    assert_int_equal(ino, 14);
    expect_error(m.ctx, imgp_fs_lookup_name(m.fs, 14, "..", 2, &ino), IMGP_ERR_NOT_FOUND, "not found");
    imgp_stat st;
    assert_int_equal(imgp_fs_stat(m.fs, 12, &st), IMGP_OK);
    assert_true(st.flags & IMGP_STAT_ENCRYPTED);
    uint8_t buf[16];
    size_t got;
    expect_error(m.ctx, imgp_fs_read(m.fs, 12, 0, buf, sizeof buf, &got), IMGP_ERR_UNSUPPORTED,
                 "inode 12 is encrypted");
    unmount_image(&m);
    /* without the feature the flag means nothing */
    test_put_le32(blk(&im, 1), EXT4_SB_FEATURE_INCOMPAT, EXT4_INCOMPAT_FILETYPE | EXT4_INCOMPAT_EXTENTS);
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    expect_error(m.ctx, imgp_fs_lookup_name(m.fs, 2, "SuB", 3, &ino), IMGP_ERR_NOT_FOUND, "'SuB' not found");
    unmount_image(&m);
    free(im.b);
}

/* Every read failing in turn, then every allocation: a status and a message, never a crash or a leak. */
static void test_fs_failures(void **state)
{
    (void)state;
    image im = make_image(1, true);
    for (unsigned fail_at = 1;; fail_at++) {
        imgp_ctx *ctx = ctx_new();
        imgp_bdev *mem, *bd;
        unsigned reads = 0;
        assert_int_equal(imgp_bdev_open_memory(ctx, im.b, im.size, "mem", &mem), IMGP_OK);
        assert_int_equal(test_bdev_failing(ctx, mem, fail_at, &reads, &bd), IMGP_OK);
        imgp_fs *fs = NULL;
        imgp_status st = imgp_fs_mount(ctx, bd, NULL, &fs);
        seen s = {0};
        uint8_t buf[4096];
        size_t got;
        if (st == IMGP_OK)
            st = imgp_fs_readdir(fs, 2, see, &s);
        if (st == IMGP_OK)
            st = imgp_fs_read(fs, 12, 0, buf, sizeof buf, &got);
        if (st == IMGP_OK)
            st = imgp_fs_read(fs, 15, 0, buf, sizeof buf, &got);
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
        if (imgp_bdev_open_memory(ctx, im.b, im.size, "mem", &bd) != IMGP_OK) {
            imgp_ctx_free(ctx);
            continue;
        }
        imgp_fs *fs = NULL;
        imgp_status st = imgp_fs_mount(ctx, bd, NULL, &fs);
        seen s = {0};
        if (st == IMGP_OK)
            st = imgp_fs_readdir(fs, 2, see, &s);
        bool reached = test_alloc_count() >= fail_at;
        imgp_fs_unmount(fs);
        imgp_bdev_close(bd);
        imgp_ctx_free(ctx);
        if (st == IMGP_ERR_NOMEM)
            continue;
        assert_int_equal(st, IMGP_OK);
        if (!reached)
            break;
    }
    free(im.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_super_valid),
        cmocka_unit_test(test_super_broken),
        cmocka_unit_test(test_super_group_limit),
        cmocka_unit_test(test_features),
        cmocka_unit_test(test_checksums),
        cmocka_unit_test(test_group_desc),
        cmocka_unit_test(test_inode),
        cmocka_unit_test(test_inline_ea),
        cmocka_unit_test(test_extent_header),
        cmocka_unit_test(test_dir_block),
        cmocka_unit_test(test_casefold),
        cmocka_unit_test(test_fs_walk),
        cmocka_unit_test(test_fs_damage),
        cmocka_unit_test(test_fs_notes),
        cmocka_unit_test(test_fs_casefold_encrypt),
        cmocka_unit_test(test_fs_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
