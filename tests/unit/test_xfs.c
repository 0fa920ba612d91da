/*
 * Unit tests of the XFS driver (src/fs/xfs*.c): byte-array fixtures of the
 * superblock, inode core, extent records, bmbt headers, shortform
 * directories and directory data blocks with one field broken at a time,
 * each checked for its status and a message naming the problem; the CRC
 * against a known vector; inode numbers mapped and refused. Then a tiny v5
 * filesystem built in memory (1 KiB blocks, 2 AGs of 64 blocks, 512-byte
 * inodes), mounted and walked through the public API: a shortform root, a
 * block directory, an extents file with a hole and an unwritten extent, a
 * btree-format file, an inline and a remote symlink; then damaged one
 * structure at a time (a bmbt loop, a pointer past agcount, a directory
 * entry overrunning its block, a shortform count past its size, an inode CRC
 * mismatch, a root past agcount), also with every read and every allocation
 * failing in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fs/xfs.h"
#include "support/testsupport.h"

static imgp_ctx *ctx_new(void)
{
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    assert_non_null(ctx);
    return ctx;
}

#define expect_error test_expect_error

/* ---- the filesystem's geometry ---- */

enum {
    BS = 1024,       /* block size */
    BLOCKLOG = 10,
    AGBLOCKS = 64,
    AGBLKLOG = 6,
    AGCOUNT = 2,
    ISIZE = 512,
    INOPBLOG = 1,
    NBLOCKS = AGBLOCKS * AGCOUNT,
};

/* inode number of the inode at AG block @p agbno of AG @p agno, index @p i */
static uint64_t ino_at(uint64_t agno, uint64_t agbno, unsigned i)
{
    return agno << (AGBLKLOG + INOPBLOG) | agbno << INOPBLOG | i;
}

#define ROOT_INO 16 /* AG 0, block 8, index 0 */
#define FILE_INO 18 /* block 9 */
#define LINK_INO 19 /* block 9, index 1 */
#define DIR_INO 20  /* block 10 */
#define BT_INO 21   /* block 10, index 1 */
#define RLINK_INO 22 /* block 11 */

static const uint8_t UUID[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static void make_super(uint8_t *sb, bool v5)
{
    memset(sb, 0, 512);
    test_put_be32(sb, XFS_SB_MAGICNUM, XFS_SB_MAGIC);
    test_put_be32(sb, XFS_SB_BLOCKSIZE, BS);
    test_put_be64(sb, XFS_SB_DBLOCKS, NBLOCKS);
    memcpy(sb + XFS_SB_UUID, UUID, 16);
    test_put_be64(sb, XFS_SB_ROOTINO, ROOT_INO);
    test_put_be32(sb, XFS_SB_AGBLOCKS, AGBLOCKS);
    test_put_be32(sb, XFS_SB_AGCOUNT, AGCOUNT);
    test_put_be16(sb, XFS_SB_VERSIONNUM,
                  (v5 ? XFS_SB_VERSION_5 : XFS_SB_VERSION_4) | XFS_SB_VERSION_NLINKBIT | XFS_SB_VERSION_DIRV2BIT |
                      XFS_SB_VERSION_MOREBITSBIT);
    test_put_be16(sb, XFS_SB_SECTSIZE, 512);
    test_put_be16(sb, XFS_SB_INODESIZE, ISIZE);
    test_put_be16(sb, XFS_SB_INOPBLOCK, BS / ISIZE);
    memcpy(sb + XFS_SB_FNAME, "unit", 4);
    sb[XFS_SB_BLOCKLOG] = BLOCKLOG;
    sb[XFS_SB_SECTLOG] = 9;
    sb[XFS_SB_INODELOG] = 9;
    sb[XFS_SB_INOPBLOG] = INOPBLOG;
    sb[XFS_SB_AGBLKLOG] = AGBLKLOG;
    test_put_be64(sb, XFS_SB_FDBLOCKS, 100);
    test_put_be32(sb, XFS_SB_FEATURES2, XFS_SB_VERSION2_FTYPE | (v5 ? XFS_SB_VERSION2_CRCBIT : 0));
    if (v5) {
        test_put_be32(sb, XFS_SB_FEATURES_INCOMPAT, XFS_SB_FEAT_INCOMPAT_FTYPE | XFS_SB_FEAT_INCOMPAT_BIGTIME);
        test_put_le32(sb, XFS_SB_CRC, xfs_crc(sb, 512, XFS_SB_CRC));
    }
}

static void test_super(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t b[512];
    xfs_super sb;
    for (int v5 = 0; v5 < 2; v5++) {
        make_super(b, v5);
        assert_int_equal(xfs_parse_super(ctx, b, sizeof b, &sb), IMGP_OK);
        assert_int_equal(xfs_check_features(ctx, &sb), IMGP_OK);
        assert_int_equal(sb.version, v5 ? 5 : 4);
        assert_int_equal(sb.has_crc, v5);
        assert_true(sb.has_ftype);
        assert_int_equal(sb.dirblksize, BS);
        assert_string_equal(sb.label, "unit");
    }
    static const struct {
        size_t off;
        unsigned width;
        uint64_t value;
        imgp_status st;
        const char *needle;
    } cases[] = {
        {XFS_SB_MAGICNUM, 4, 0x58465343, IMGP_ERR_CORRUPT, "magic 0x58465343"},
        {XFS_SB_BLOCKSIZE, 4, 2048, IMGP_ERR_CORRUPT, "sb_blocksize 2048 with log2 10"},
        {XFS_SB_BLOCKLOG, 1, 17, IMGP_ERR_CORRUPT, "sb_blocksize"},
        {XFS_SB_SECTSIZE, 2, 100, IMGP_ERR_CORRUPT, "sb_sectsize 100"},
        {XFS_SB_INODESIZE, 2, 256, IMGP_ERR_CORRUPT, "sb_inodesize 256 with log2 9"},
        {XFS_SB_INOPBLOCK, 2, 4, IMGP_ERR_CORRUPT, "4 inodes of 512 bytes"},
        {XFS_SB_AGBLKLOG, 1, 7, IMGP_ERR_CORRUPT, "sb_agblocks 64 with sb_agblklog 7"},
        {XFS_SB_AGCOUNT, 4, 0, IMGP_ERR_CORRUPT, "do not make 0 AGs"},
        {XFS_SB_AGCOUNT, 4, 3, IMGP_ERR_CORRUPT, "do not make 3 AGs"},
        {XFS_SB_DBLOCKS, 8, 129, IMGP_ERR_CORRUPT, "sb_dblocks 129"},
        {XFS_SB_DIRBLKLOG, 1, 7, IMGP_ERR_CORRUPT, "directory blocks of 2^7"},
        {XFS_SB_ROOTINO, 8, 0, IMGP_ERR_CORRUPT, "no root inode"},
        {XFS_SB_VERSIONNUM, 2, 3, IMGP_ERR_UNSUPPORTED, "version 3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_super(b, true);
        switch (cases[i].width) {
        case 1: b[cases[i].off] = (uint8_t)cases[i].value; break;
        case 2: test_put_be16(b, cases[i].off, (uint16_t)cases[i].value); break;
        case 4: test_put_be32(b, cases[i].off, (uint32_t)cases[i].value); break;
        default: test_put_be64(b, cases[i].off, cases[i].value); break;
        }
        expect_error(ctx, xfs_parse_super(ctx, b, sizeof b, &sb), cases[i].st, cases[i].needle);
    }
    make_super(b, true);
    expect_error(ctx, xfs_parse_super(ctx, b, 100, &sb), IMGP_ERR_CORRUPT, "superblock of 100 bytes");
    imgp_ctx_free(ctx);
}

static void test_features(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t b[512];
    xfs_super sb;
    make_super(b, true);
    test_put_be32(b, XFS_SB_FEATURES_INCOMPAT, XFS_SB_FEAT_INCOMPAT_FTYPE | XFS_SB_FEAT_INCOMPAT_SPINODES |
                                                   XFS_SB_FEAT_INCOMPAT_NREXT64 | XFS_SB_FEAT_INCOMPAT_NEEDSREPAIR);
    test_put_be32(b, XFS_SB_FEATURES_RO_COMPAT, 0xffffffffu); /* read-only compatible: all read */
    assert_int_equal(xfs_parse_super(ctx, b, sizeof b, &sb), IMGP_OK);
    assert_int_equal(xfs_check_features(ctx, &sb), IMGP_OK);
    test_put_be32(b, XFS_SB_FEATURES_INCOMPAT, XFS_SB_FEAT_INCOMPAT_FTYPE | XFS_SB_FEAT_INCOMPAT_METADIR);
    assert_int_equal(xfs_parse_super(ctx, b, sizeof b, &sb), IMGP_OK);
    expect_error(ctx, xfs_check_features(ctx, &sb), IMGP_ERR_UNSUPPORTED, "incompatible feature 'metadir' (0x100)");
    test_put_be32(b, XFS_SB_FEATURES_INCOMPAT, 0x10000u);
    assert_int_equal(xfs_parse_super(ctx, b, sizeof b, &sb), IMGP_OK);
    expect_error(ctx, xfs_check_features(ctx, &sb), IMGP_ERR_UNSUPPORTED, "unknown incompatible feature 0x10000");
    make_super(b, false);
    test_put_be16(b, XFS_SB_VERSIONNUM, XFS_SB_VERSION_4 | XFS_SB_VERSION_NLINKBIT);
    assert_int_equal(xfs_parse_super(ctx, b, sizeof b, &sb), IMGP_OK);
    expect_error(ctx, xfs_check_features(ctx, &sb), IMGP_ERR_UNSUPPORTED, "version 1 directories");
    imgp_ctx_free(ctx);
}

static void test_crc(void **state)
{
    (void)state;
    /* crc32c("123456789\0\0\0\0") = 0x55a059d9: the CRC field counts as zeros */
    uint8_t b[13] = "123456789";
    memset(b + 9, 0xab, 4);
    assert_int_equal(xfs_crc(b, sizeof b, 9), 0x55a059d9u);
    uint8_t c[13] = "1234";
    memcpy(c + 8, "56789", 5);
    assert_int_not_equal(xfs_crc(c, sizeof c, 4), 0x55a059d9u);
}

static void test_inode_numbers(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t b[512];
    xfs_super sb;
    make_super(b, true);
    test_put_be64(b, XFS_SB_DBLOCKS, NBLOCKS - 10); /* the last AG is 10 blocks short */
    assert_int_equal(xfs_parse_super(ctx, b, sizeof b, &sb), IMGP_OK);
    uint64_t off;
    assert_int_equal(xfs_inode_offset(ctx, &sb, ROOT_INO, &off), IMGP_OK);
    assert_int_equal(off, 8 * BS);
    assert_int_equal(xfs_inode_offset(ctx, &sb, ino_at(1, 3, 1), &off), IMGP_OK);
    assert_int_equal(off, (AGBLOCKS + 3) * BS + ISIZE);
    expect_error(ctx, xfs_inode_offset(ctx, &sb, 0, &off), IMGP_ERR_CORRUPT, "inode 0");
    expect_error(ctx, xfs_inode_offset(ctx, &sb, ino_at(2, 0, 0), &off), IMGP_ERR_CORRUPT,
                 "lies in AG 2, past the 2 AGs");
    expect_error(ctx, xfs_inode_offset(ctx, &sb, ino_at(1, 60, 0), &off), IMGP_ERR_CORRUPT,
                 "block 60 of AG 1, past its end");
    expect_error(ctx, xfs_inode_offset(ctx, &sb, UINT64_MAX, &off), IMGP_ERR_CORRUPT, "past the 2 AGs");
    uint64_t blk;
    assert_true(xfs_fsb_to_block(&sb, 1u << AGBLKLOG | 5, 2, &blk));
    assert_int_equal(blk, AGBLOCKS + 5);
    assert_false(xfs_fsb_to_block(&sb, 2u << AGBLKLOG, 1, &blk));   /* AG 2 */
    assert_false(xfs_fsb_to_block(&sb, 63, 2, &blk));               /* crosses the AG's end */
    assert_false(xfs_fsb_to_block(&sb, 1u << AGBLKLOG | 60, 1, &blk)); /* past dblocks */
    imgp_ctx_free(ctx);
}

/* ---- inodes ---- */

static void put_inode(uint8_t *rec, uint64_t ino, uint16_t mode, uint8_t format, uint64_t size, uint32_t nextents)
{
    memset(rec, 0, ISIZE);
    test_put_be16(rec, XFS_DI_MAGIC, XFS_DINODE_MAGIC);
    test_put_be16(rec, XFS_DI_MODE, mode);
    rec[XFS_DI_VERSION] = 3;
    rec[XFS_DI_FORMAT] = format;
    test_put_be32(rec, XFS_DI_NLINK, 1);
    test_put_be32(rec, XFS_DI_UID, 1000);
    test_put_be64(rec, XFS_DI_SIZE, size);
    test_put_be32(rec, XFS_DI_NEXTENTS, nextents);
    test_put_be32(rec, XFS_DI_MTIME, 1700000000);
    test_put_be32(rec, XFS_DI_MTIME + 4, 123);
    test_put_be64(rec, XFS_DI_INO, ino);
    memcpy(rec + XFS_DI_UUID, UUID, 16);
}

static void seal_inode(uint8_t *rec) { test_put_le32(rec, XFS_DI_CRC, xfs_crc(rec, ISIZE, XFS_DI_CRC)); }

static void test_inode(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t sbb[512], rec[ISIZE];
    xfs_super sb;
    xfs_inode in;
    make_super(sbb, true);
    assert_int_equal(xfs_parse_super(ctx, sbb, sizeof sbb, &sb), IMGP_OK);
    put_inode(rec, 99, 0100644, XFS_DINODE_FMT_EXTENTS, 5000, 2);
    assert_int_equal(xfs_parse_inode(ctx, &sb, 99, rec, ISIZE, &in), IMGP_OK);
    assert_int_equal(in.mode, 0100644);
    assert_int_equal(in.size, 5000);
    assert_int_equal(in.nextents, 2);
    assert_int_equal(in.mtime, 1700000000);
    assert_int_equal(in.mtime_nsec, 123);
    assert_int_equal(in.fork_off, XFS_DI_CORE_V3);
    assert_int_equal(in.fork_len, ISIZE - XFS_DI_CORE_V3);
    /* bigtime: nanoseconds since 1901-12-13T20:45:52Z */
    test_put_be64(rec, XFS_DI_FLAGS2, XFS_DIFLAG2_BIGTIME | XFS_DIFLAG2_NREXT64);
    test_put_be64(rec, XFS_DI_MTIME, (uint64_t)(2147483648ll + 1700000000ll) * 1000000000u + 5);
    test_put_be64(rec, XFS_DI_BIG_NEXTENTS, 1ull << 40);
    rec[XFS_DI_FORKOFF] = 10;
    assert_int_equal(xfs_parse_inode(ctx, &sb, 99, rec, ISIZE, &in), IMGP_OK);
    assert_int_equal(in.mtime, 1700000000);
    assert_int_equal(in.mtime_nsec, 5);
    assert_int_equal(in.nextents, 1ull << 40);
    assert_int_equal(in.fork_len, 80);

    put_inode(rec, 99, 0100644, 2, 0, 0);
    rec[XFS_DI_FORKOFF] = 50; /* 400 bytes: past the 336 after the core */
    expect_error(ctx, xfs_parse_inode(ctx, &sb, 99, rec, ISIZE, &in), IMGP_ERR_CORRUPT, "di_forkoff 50");
    put_inode(rec, 99, 0100644, 2, 0, 0);
    expect_error(ctx, xfs_parse_inode(ctx, &sb, 98, rec, ISIZE, &in), IMGP_ERR_CORRUPT, "says it is inode 99");
    rec[XFS_DI_VERSION] = 2;
    expect_error(ctx, xfs_parse_inode(ctx, &sb, 99, rec, ISIZE, &in), IMGP_ERR_CORRUPT, "version 2 on a version 5");
    put_inode(rec, 99, 0100644, 2, 1ull << 63, 0);
    expect_error(ctx, xfs_parse_inode(ctx, &sb, 99, rec, ISIZE, &in), IMGP_ERR_CORRUPT, "di_size");
    put_inode(rec, 99, 0100644, 2, 0, 0);
    test_put_be16(rec, XFS_DI_MAGIC, 0);
    expect_error(ctx, xfs_parse_inode(ctx, &sb, 99, rec, ISIZE, &in), IMGP_ERR_CORRUPT, "not an inode");
    expect_error(ctx, xfs_parse_inode(ctx, &sb, 99, rec, 256, &in), IMGP_ERR_CORRUPT, "record of 256 bytes");

    /* a v1 inode on a v4 filesystem: the 16-bit link count */
    make_super(sbb, false);
    assert_int_equal(xfs_parse_super(ctx, sbb, sizeof sbb, &sb), IMGP_OK);
    put_inode(rec, 99, 040755, 1, 6, 0);
    rec[XFS_DI_VERSION] = 1;
    test_put_be16(rec, XFS_DI_ONLINK, 7);
    assert_int_equal(xfs_parse_inode(ctx, &sb, 99, rec, ISIZE, &in), IMGP_OK);
    assert_int_equal(in.nlink, 7);
    assert_int_equal(in.fork_off, XFS_DI_CORE_V2);
    imgp_ctx_free(ctx);
}

/* ---- extents and bmbt blocks ---- */

static void put_extent(uint8_t *p, uint64_t startoff, uint64_t startblock, uint32_t count, bool unwritten)
{
    uint64_t l0 = (unwritten ? 1ull << 63 : 0) | startoff << 9 | startblock >> 43;
    uint64_t l1 = startblock << 21 | count;
    test_put_be64(p, 0, l0);
    test_put_be64(p, 8, l1);
}

static void test_extent(void **state)
{
    (void)state;
    uint8_t r[16];
    xfs_extent e;
    put_extent(r, (1ull << 54) - 1, (1ull << 52) - 1, (1u << 21) - 1, true);
    xfs_parse_extent(r, &e);
    assert_int_equal(e.startoff, (1ull << 54) - 1);
    assert_int_equal(e.startblock, (1ull << 52) - 1);
    assert_int_equal(e.blockcount, (1u << 21) - 1);
    assert_true(e.unwritten);
    put_extent(r, 5, 0x123456789ull, 7, false);
    xfs_parse_extent(r, &e);
    assert_int_equal(e.startoff, 5);
    assert_int_equal(e.startblock, 0x123456789ull);
    assert_int_equal(e.blockcount, 7);
    assert_false(e.unwritten);
}

static void test_bmbt_header(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t b[BS] = {0};
    xfs_btree_header h;
    test_put_be32(b, 0, XFS_BMAP_CRC_MAGIC);
    test_put_be16(b, XFS_BTREE_LEVEL, 0);
    test_put_be16(b, XFS_BTREE_NUMRECS, 3);
    assert_int_equal(xfs_parse_bmbt_header(ctx, b, BS, false, true, "blk", &h), IMGP_OK);
    assert_int_equal(h.hdr_len, XFS_BTREE_LBLOCK_CRC_LEN);
    assert_int_equal(h.maxrecs, (BS - 72) / 16);
    expect_error(ctx, xfs_parse_bmbt_header(ctx, b, BS, false, false, "blk", &h), IMGP_ERR_CORRUPT,
                 "blk: magic 0x424d4133 (expected 0x424d4150)");
    test_put_be16(b, XFS_BTREE_NUMRECS, 60);
    expect_error(ctx, xfs_parse_bmbt_header(ctx, b, BS, false, true, "blk", &h), IMGP_ERR_CORRUPT,
                 "60 records, room for 1 to 59");
    test_put_be16(b, XFS_BTREE_NUMRECS, 0);
    expect_error(ctx, xfs_parse_bmbt_header(ctx, b, BS, false, true, "blk", &h), IMGP_ERR_CORRUPT, "0 records");
    test_put_be16(b, XFS_BTREE_NUMRECS, 1);
    test_put_be16(b, XFS_BTREE_LEVEL, 9);
    expect_error(ctx, xfs_parse_bmbt_header(ctx, b, BS, false, true, "blk", &h), IMGP_ERR_CORRUPT, "level 9");
    /* the root in the inode */
    uint8_t r[80] = {0};
    test_put_be16(r, XFS_BMDR_LEVEL, 1);
    test_put_be16(r, XFS_BMDR_NUMRECS, 4);
    assert_int_equal(xfs_parse_bmbt_header(ctx, r, sizeof r, true, true, "root", &h), IMGP_OK);
    assert_int_equal(h.maxrecs, 4);
    test_put_be16(r, XFS_BMDR_LEVEL, 0);
    expect_error(ctx, xfs_parse_bmbt_header(ctx, r, sizeof r, true, true, "root", &h), IMGP_ERR_CORRUPT, "level 0");
    expect_error(ctx, xfs_parse_bmbt_header(ctx, r, 10, true, true, "root", &h), IMGP_ERR_CORRUPT, "too small");
    imgp_ctx_free(ctx);
}

/* ---- directories ---- */

typedef struct seen {
    char names[16][64];
    imgp_ino inos[16];
    imgp_ftype types[16];
    int n;
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
    return 0;
}

/* A shortform directory with @p i8 8-byte inode numbers: "file" and "link". */
static size_t make_sf(uint8_t *b, bool i8)
{
    size_t isz = i8 ? 8 : 4, off = 2 + isz;
    b[0] = 2;
    b[1] = i8 ? 2 : 0;
    memset(b + 2, 0, isz);
    static const char *names[] = {"file", "link"};
    static const uint64_t inos[] = {FILE_INO, LINK_INO};
    static const uint8_t types[] = {XFS_DIR3_FT_REG_FILE, XFS_DIR3_FT_SYMLINK};
    for (int i = 0; i < 2; i++) {
        b[off] = 4;
        test_put_be16(b, off + 1, 0);
        memcpy(b + off + 3, names[i], 4);
        b[off + 7] = types[i];
        if (i8)
            test_put_be64(b, off + 8, inos[i]);
        else
            test_put_be32(b, off + 8, (uint32_t)inos[i]);
        off += 8 + isz;
    }
    return off;
}

static void test_sf_dir(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t b[64];
    bool stopped;
    for (int i8 = 0; i8 < 2; i8++) {
        seen s = {0};
        size_t len = make_sf(b, i8);
        assert_int_equal(xfs_parse_sf_dir(ctx, b, len, true, "sf", see, &s, &stopped), IMGP_OK);
        assert_int_equal(s.n, 2);
        assert_string_equal(s.names[1], "link");
        assert_int_equal(s.inos[1], LINK_INO);
        assert_int_equal(s.types[1], IMGP_FT_SYMLINK);
        /* without ftype the same bytes read differently: the count then overruns */
        s.n = 0;
        expect_error(ctx, xfs_parse_sf_dir(ctx, b, len - 2, true, "sf", see, &s, &stopped), IMGP_ERR_CORRUPT,
                     "entry 1 of 2");
    }
    size_t len = make_sf(b, false);
    seen s = {0};
    b[0] = 3;
    expect_error(ctx, xfs_parse_sf_dir(ctx, b, len, true, "sf", see, &s, &stopped), IMGP_ERR_CORRUPT,
                 "count exceeds its size");
    b[0] = 2;
    b[6] = 0;
    expect_error(ctx, xfs_parse_sf_dir(ctx, b, len, true, "sf", see, &s, &stopped), IMGP_ERR_CORRUPT, "empty name");
    make_sf(b, false);
    b[1] = 3;
    expect_error(ctx, xfs_parse_sf_dir(ctx, b, len, true, "sf", see, &s, &stopped), IMGP_ERR_CORRUPT,
                 "i8count 3 exceeds count 2");
    expect_error(ctx, xfs_parse_sf_dir(ctx, b, 3, true, "sf", see, &s, &stopped), IMGP_ERR_CORRUPT, "shortform header");
    imgp_ctx_free(ctx);
}

/* A v5 directory block (XDB3) of BS bytes: ".", "..", "a" and a free span, and its hash index of 3. */
static void make_dir_block(uint8_t *b, uint64_t self, uint64_t parent)
{
    memset(b, 0, BS);
    test_put_be32(b, 0, XFS_DIR3_BLOCK_MAGIC);
    size_t off = XFS_DIR3_DATA_HDR;
    static const char *names[] = {".", "..", "a"};
    uint64_t inos[] = {self, parent, FILE_INO};
    for (int i = 0; i < 3; i++) {
        size_t nl = strlen(names[i]);
        test_put_be64(b, off, inos[i]);
        b[off + 8] = (uint8_t)nl;
        memcpy(b + off + 9, names[i], nl);
        b[off + 9 + nl] = i < 2 ? XFS_DIR3_FT_DIR : XFS_DIR3_FT_REG_FILE;
        test_put_be16(b, off + 10 + nl, (uint16_t)off);
        off += 16;
    }
    size_t end = BS - XFS_DIR2_BLOCK_TAIL - 3 * XFS_DIR2_LEAF_ENTRY;
    test_put_be16(b, off, XFS_DIR2_DATA_FREE_TAG);
    test_put_be16(b, off + 2, (uint16_t)(end - off));
    test_put_be16(b, XFS_DIR3_BESTFREE_OFFSET, (uint16_t)off);
    test_put_be16(b, XFS_DIR3_BESTFREE_OFFSET + 2, (uint16_t)(end - off));
    test_put_be32(b, BS - XFS_DIR2_BLOCK_TAIL, 3);
    test_put_le32(b, XFS_DIR3_CRC, xfs_crc(b, BS, XFS_DIR3_CRC));
}

/* The hash index grows to end the entries right after "a", whose name then claims 250 bytes. */
static void overrun_entry(uint8_t *b)
{
    test_put_be32(b, BS - XFS_DIR2_BLOCK_TAIL, (BS - XFS_DIR2_BLOCK_TAIL - 112) / XFS_DIR2_LEAF_ENTRY);
    test_put_be16(b, XFS_DIR3_BESTFREE_OFFSET + 2, 0);
    b[XFS_DIR3_DATA_HDR + 32 + 8] = 250;
}

static void test_dir_block(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t b[BS];
    bool stopped;
    seen s = {0};
    make_dir_block(b, DIR_INO, ROOT_INO);
    assert_int_equal(xfs_parse_dir_block(ctx, b, BS, true, true, "db", see, &s, &stopped), IMGP_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.names[2], "a");
    assert_int_equal(s.types[2], IMGP_FT_REG);
    /* as a data block of a leaf directory (no tail): the free span runs to the end */
    test_put_be32(b, 0, XFS_DIR3_DATA_MAGIC);
    test_put_be16(b, XFS_DIR3_DATA_HDR + 48 + 2, BS - XFS_DIR3_DATA_HDR - 48);
    s.n = 0;
    assert_int_equal(xfs_parse_dir_block(ctx, b, BS, true, true, "db", see, &s, &stopped), IMGP_OK);
    assert_int_equal(s.n, 3);

    make_dir_block(b, DIR_INO, ROOT_INO);
    expect_error(ctx, xfs_parse_dir_block(ctx, b, BS, false, true, "db", see, &s, &stopped), IMGP_ERR_CORRUPT,
                 "db: magic 0x58444233");
    test_put_be32(b, BS - XFS_DIR2_BLOCK_TAIL, 200);
    expect_error(ctx, xfs_parse_dir_block(ctx, b, BS, true, true, "db", see, &s, &stopped), IMGP_ERR_CORRUPT,
                 "counts 200 hash entries");
    make_dir_block(b, DIR_INO, ROOT_INO);
    test_put_be16(b, XFS_DIR3_BESTFREE_OFFSET, BS - 8);
    expect_error(ctx, xfs_parse_dir_block(ctx, b, BS, true, true, "db", see, &s, &stopped), IMGP_ERR_CORRUPT,
                 "bestfree[0]");
    make_dir_block(b, DIR_INO, ROOT_INO);
    overrun_entry(b);
    expect_error(ctx, xfs_parse_dir_block(ctx, b, BS, true, true, "db", see, &s, &stopped), IMGP_ERR_CORRUPT,
                 "entry at offset 96 with a name of 250 bytes overruns the 112 bytes");
    make_dir_block(b, DIR_INO, ROOT_INO);
    test_put_be16(b, XFS_DIR3_DATA_HDR + 48 + 2, 12);
    expect_error(ctx, xfs_parse_dir_block(ctx, b, BS, true, true, "db", see, &s, &stopped), IMGP_ERR_CORRUPT,
                 "unused span at offset 112 of 12 bytes");
    imgp_ctx_free(ctx);
}

/* ---- a whole filesystem in memory ---- */

typedef struct image {
    uint8_t *b;
    size_t size;
} image;

static uint8_t *blk(image *im, uint64_t block) { return im->b + block * BS; }
static uint8_t *inode_rec(image *im, uint64_t ino)
{
    uint64_t agno = ino >> (AGBLKLOG + INOPBLOG), agbno = (ino >> INOPBLOG) & (AGBLOCKS - 1);
    return blk(im, agno * AGBLOCKS + agbno) + (ino & 1) * ISIZE;
}

#define FILE_DATA 20   /* disk blocks of the extents file */
#define DIR_BLOCK 30   /* the block directory's block */
#define BT_LEAF 69     /* AG 1, block 5: the btree file's leaf */
#define BT_DATA 70     /* AG 1, block 6 */
#define RLINK_BLOCK 40 /* the remote symlink */

static const char LONG_TARGET[] = "a-remote-symlink-target-longer-than-the-inode-fork-holds-"
                                  "0123456789012345678901234567890123456789012345678901234567890123456789"
                                  "0123456789012345678901234567890123456789012345678901234567890123456789"
                                  "0123456789012345678901234567890123456789012345678901234567890123456789"
                                  "0123456789012345678901234567890123456789012345678901234567890123456789";

static void seal_all(image *im)
{
    for (uint64_t ino = ROOT_INO; ino <= RLINK_INO; ino++)
        seal_inode(inode_rec(im, ino));
    test_put_le32(blk(im, DIR_BLOCK), XFS_DIR3_CRC, xfs_crc(blk(im, DIR_BLOCK), BS, XFS_DIR3_CRC));
    test_put_le32(im->b, XFS_SB_CRC, xfs_crc(im->b, 512, XFS_SB_CRC));
}

static image make_image(void)
{
    image im = {calloc(NBLOCKS, BS), (size_t)NBLOCKS * BS};
    assert_non_null(im.b);
    make_super(im.b, true);

    /* root: shortform, "file", "link", "dir", "bt", "rlink" */
    uint8_t *r = inode_rec(&im, ROOT_INO);
    uint8_t sf[128];
    size_t len = make_sf(sf, false);
    static const char *more[] = {"dir", "bt", "rlink"};
    static const uint32_t more_inos[] = {DIR_INO, BT_INO, RLINK_INO};
    static const uint8_t more_types[] = {XFS_DIR3_FT_DIR, XFS_DIR3_FT_REG_FILE, XFS_DIR3_FT_SYMLINK};
    for (int i = 0; i < 3; i++) {
        size_t nl = strlen(more[i]);
        sf[len] = (uint8_t)nl;
        test_put_be16(sf, len + 1, 0);
        memcpy(sf + len + 3, more[i], nl);
        sf[len + 3 + nl] = more_types[i];
        test_put_be32(sf, len + 4 + nl, more_inos[i]);
        len += 8 + nl;
    }
    sf[0] = 5;
    put_inode(r, ROOT_INO, 040755, XFS_DINODE_FMT_LOCAL, len, 0);
    memcpy(r + XFS_DI_CORE_V3, sf, len);

    /* file: 4 blocks; block 0 data, 1 a hole, 2 unwritten, 3 data (size ends mid-block) */
    r = inode_rec(&im, FILE_INO);
    put_inode(r, FILE_INO, 0100644, XFS_DINODE_FMT_EXTENTS, 3 * BS + 100, 3);
    put_extent(r + XFS_DI_CORE_V3, 0, FILE_DATA, 1, false);
    put_extent(r + XFS_DI_CORE_V3 + 16, 2, FILE_DATA + 1, 1, true);
    put_extent(r + XFS_DI_CORE_V3 + 32, 3, FILE_DATA + 2, 1, false);
    memset(blk(&im, FILE_DATA), 'A', BS);
    memset(blk(&im, FILE_DATA + 1), 'U', BS);
    memset(blk(&im, FILE_DATA + 2), 'D', BS);

    r = inode_rec(&im, LINK_INO);
    put_inode(r, LINK_INO, 0120777, XFS_DINODE_FMT_LOCAL, 6, 0);
    memcpy(r + XFS_DI_CORE_V3, "target", 6);

    r = inode_rec(&im, DIR_INO);
    put_inode(r, DIR_INO, 040755, XFS_DINODE_FMT_EXTENTS, BS, 1);
    put_extent(r + XFS_DI_CORE_V3, 0, DIR_BLOCK, 1, false);
    make_dir_block(blk(&im, DIR_BLOCK), DIR_INO, ROOT_INO);

    /* bt: a btree root of level 1 pointing at one leaf of one extent */
    r = inode_rec(&im, BT_INO);
    put_inode(r, BT_INO, 0100600, XFS_DINODE_FMT_BTREE, BS, 1);
    uint8_t *root = r + XFS_DI_CORE_V3;
    size_t maxrecs = (ISIZE - XFS_DI_CORE_V3 - XFS_BMDR_SIZE) / 16;
    test_put_be16(root, XFS_BMDR_LEVEL, 1);
    test_put_be16(root, XFS_BMDR_NUMRECS, 1);
    test_put_be64(root, XFS_BMDR_SIZE, 0);
    test_put_be64(root, XFS_BMDR_SIZE + maxrecs * 8, 1u << AGBLKLOG | 5);
    uint8_t *leaf = blk(&im, BT_LEAF);
    test_put_be32(leaf, 0, XFS_BMAP_CRC_MAGIC);
    test_put_be16(leaf, XFS_BTREE_LEVEL, 0);
    test_put_be16(leaf, XFS_BTREE_NUMRECS, 1);
    put_extent(leaf + XFS_BTREE_LBLOCK_CRC_LEN, 0, 1u << AGBLKLOG | 6, 1, false);
    memset(blk(&im, BT_DATA), 'B', BS);

    /* rlink: a remote symlink with its v5 header */
    r = inode_rec(&im, RLINK_INO);
    size_t tl = sizeof LONG_TARGET - 1;
    put_inode(r, RLINK_INO, 0120777, XFS_DINODE_FMT_EXTENTS, tl, 1);
    put_extent(r + XFS_DI_CORE_V3, 0, RLINK_BLOCK, 1, false);
    uint8_t *sl = blk(&im, RLINK_BLOCK);
    test_put_be32(sl, 0, XFS_SYMLINK_MAGIC);
    test_put_be32(sl, XFS_SL_OFFSET, 0);
    test_put_be32(sl, XFS_SL_BYTES, (uint32_t)tl);
    memcpy(sl + XFS_SYMLINK_HDR, LONG_TARGET, tl);

    seal_all(&im);
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

static bool has_note(const imgp_fs *fs, const char *needle)
{
    const imgp_fs_info *in = imgp_fs_get_info(fs);
    for (size_t i = 0; i < in->nnotes; i++)
        if (strstr(in->notes[i], needle))
            return true;
    return false;
}

static void test_fs_walk(void **state)
{
    (void)state;
    image im = make_image();
    mounted m;
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    const imgp_fs_info *info = imgp_fs_get_info(m.fs);
    assert_string_equal(info->type, "xfs");
    assert_string_equal(info->label, "unit");
    assert_string_equal(info->uuid, "01020304-0506-0708-090a-0b0c0d0e0f10");
    assert_int_equal(info->root, ROOT_INO);
    assert_int_equal(info->total_bytes, NBLOCKS * BS);
    /* the only note: the log lies elsewhere (sb_logstart 0) */
    assert_int_equal(info->nnotes, 1);
    assert_true(has_note(m.fs, "log is on another device"));

    seen s = {0};
    assert_int_equal(imgp_fs_readdir(m.fs, ROOT_INO, see, &s), IMGP_OK);
    assert_int_equal(s.n, 5);
    assert_string_equal(s.names[0], "file");
    assert_string_equal(s.names[4], "rlink");
    s.n = 0;
    assert_int_equal(imgp_fs_readdir(m.fs, DIR_INO, see, &s), IMGP_OK);
    assert_int_equal(s.n, 1); /* "." and ".." left out */
    assert_string_equal(s.names[0], "a");
    imgp_ino ino;
    assert_int_equal(imgp_fs_lookup_name(m.fs, ROOT_INO, "bt", 2, &ino), IMGP_OK);
    assert_int_equal(ino, BT_INO);
    expect_error(m.ctx, imgp_fs_lookup_name(m.fs, ROOT_INO, "BT", 2, &ino), IMGP_ERR_NOT_FOUND, "'BT' not found");

    imgp_stat st;
    assert_int_equal(imgp_fs_stat(m.fs, FILE_INO, &st), IMGP_OK);
    assert_int_equal(st.type, IMGP_FT_REG);
    assert_int_equal(st.size, 3 * BS + 100);
    assert_int_equal(st.uid, 1000);
    assert_int_equal(st.mtime, 1700000000);
    uint8_t buf[4 * BS];
    size_t got;
    assert_int_equal(imgp_fs_read(m.fs, FILE_INO, 0, buf, sizeof buf, &got), IMGP_OK);
    assert_int_equal(got, 3 * BS + 100);
    assert_int_equal(buf[0], 'A');
    assert_int_equal(buf[BS - 1], 'A');
    assert_int_equal(buf[BS], 0);         /* hole */
    assert_int_equal(buf[2 * BS + 5], 0); /* unwritten */
    assert_int_equal(buf[3 * BS], 'D');
    assert_int_equal(imgp_fs_read(m.fs, FILE_INO, BS - 2, buf, 4, &got), IMGP_OK);
    assert_memory_equal(buf, "AA\0\0", 4);
    assert_int_equal(imgp_fs_read(m.fs, BT_INO, 0, buf, BS, &got), IMGP_OK);
    assert_int_equal(got, BS);
    assert_int_equal(buf[BS - 1], 'B');

    char target[1100];
    assert_int_equal(imgp_fs_readlink(m.fs, LINK_INO, target, sizeof target), IMGP_OK);
    assert_string_equal(target, "target");
    assert_int_equal(imgp_fs_readlink(m.fs, RLINK_INO, target, sizeof target), IMGP_OK);
    assert_string_equal(target, LONG_TARGET);
    assert_int_equal(imgp_fs_stat(m.fs, LINK_INO, &st), IMGP_OK);
    assert_true(st.flags & IMGP_STAT_INLINE);
    unmount_image(&m);
    free(im.b);
}

/* Mount a fresh image after @p damage, then call @p op; expect @p want and @p needle. */
typedef void (*damage_fn)(image *im);
typedef imgp_status (*op_fn)(mounted *m);

static imgp_status op_read_bt(mounted *m)
{
    uint8_t buf[BS];
    size_t got;
    return imgp_fs_read(m->fs, BT_INO, 0, buf, sizeof buf, &got);
}
static imgp_status op_list_dir(mounted *m)
{
    seen s = {0};
    return imgp_fs_readdir(m->fs, DIR_INO, see, &s);
}
static imgp_status op_read_rlink(mounted *m)
{
    char t[1100];
    return imgp_fs_readlink(m->fs, RLINK_INO, t, sizeof t);
}

static void bt_loop(image *im) { test_put_be16(blk(im, BT_LEAF), XFS_BTREE_LEVEL, 1); }
static void bt_past_agcount(image *im)
{
    uint8_t *root = inode_rec(im, BT_INO) + XFS_DI_CORE_V3;
    test_put_be64(root, XFS_BMDR_SIZE + (ISIZE - XFS_DI_CORE_V3 - XFS_BMDR_SIZE) / 16 * 8, 5u << AGBLKLOG);
}
static void bt_too_deep(image *im) { test_put_be16(inode_rec(im, BT_INO) + XFS_DI_CORE_V3, XFS_BMDR_LEVEL, 9); }
static void dir_overrun(image *im) { overrun_entry(blk(im, DIR_BLOCK)); }
static void sf_count(image *im) { inode_rec(im, ROOT_INO)[XFS_DI_CORE_V3] = 9; }
static void root_past_agcount(image *im) { test_put_be64(im->b, XFS_SB_ROOTINO, ino_at(7, 8, 0)); }
static void extent_past_ag(image *im)
{
    put_extent(inode_rec(im, RLINK_INO) + XFS_DI_CORE_V3, 0, 63, 2, false);
}
static void rlink_header(image *im) { test_put_be32(blk(im, RLINK_BLOCK), 0, 0x78787878); }
static void too_many_extents(image *im) { test_put_be32(inode_rec(im, RLINK_INO), XFS_DI_NEXTENTS, 22); }

static void test_fs_damage(void **state)
{
    (void)state;
    static const struct {
        damage_fn damage;
        op_fn op;
        imgp_status want;
        const char *needle;
    } cases[] = {
        {bt_loop, op_read_bt, IMGP_ERR_CORRUPT, "has level 1 under a block of level 1 (a loop"},
        {bt_past_agcount, op_read_bt, IMGP_ERR_CORRUPT, "pointer at level 1 to filesystem block 320"},
        {bt_too_deep, op_read_bt, IMGP_ERR_CORRUPT, "B+tree level 9"},
        {dir_overrun, op_list_dir, IMGP_ERR_CORRUPT, "directory inode 20, data block 0: entry at offset 96"},
        {root_past_agcount, NULL, IMGP_ERR_CORRUPT, "inode 912 lies in AG 7, past the 2 AGs"},
        {extent_past_ag, op_read_rlink, IMGP_ERR_CORRUPT, "outside its AG or the filesystem"},
        {rlink_header, op_read_rlink, IMGP_ERR_CORRUPT, "header magic 0x78787878"},
        {too_many_extents, op_read_rlink, IMGP_ERR_CORRUPT, "22 extents do not fit"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        image im = make_image();
        cases[i].damage(&im);
        seal_all(&im);
        mounted m;
        imgp_status st = mount_image(&im, &m);
        if (cases[i].op && st == IMGP_OK)
            st = cases[i].op(&m);
        expect_error(m.ctx, st, cases[i].want, cases[i].needle);
        unmount_image(&m);
        free(im.b);
    }
    /* a shortform count past the directory's size */
    image im = make_image();
    sf_count(&im);
    seal_all(&im);
    mounted m;
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    seen s = {0};
    expect_error(m.ctx, imgp_fs_readdir(m.fs, ROOT_INO, see, &s), IMGP_ERR_CORRUPT, "count exceeds its size");
    unmount_image(&m);
    free(im.b);
}

static void test_fs_notes(void **state)
{
    (void)state;
    /* an inode CRC mismatch: noted, not fatal */
    image im = make_image();
    inode_rec(&im, FILE_INO)[XFS_DI_GEN] ^= 1;
    mounted m;
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    imgp_stat st;
    assert_int_equal(imgp_fs_stat(m.fs, FILE_INO, &st), IMGP_OK);
    assert_true(has_note(m.fs, "xfs: inode 18: CRC mismatch"));
    unmount_image(&m);
    /* a superblock CRC mismatch; a directory block's */
    im.b[XFS_SB_FDBLOCKS + 7] ^= 1;
    blk(&im, DIR_BLOCK)[XFS_DIR3_DATA_HDR + 9] = 'x';
    assert_int_equal(mount_image(&im, &m), IMGP_OK);
    assert_true(has_note(m.fs, "superblock of AG 0: CRC mismatch"));
    seen s = {0};
    assert_int_equal(imgp_fs_readdir(m.fs, DIR_INO, see, &s), IMGP_OK);
    assert_true(has_note(m.fs, "directory inode 20, data block 0: CRC mismatch"));
    unmount_image(&m);
    free(im.b);
}

static void test_fs_failures(void **state)
{
    (void)state;
    image im = make_image();
    for (unsigned fail_at = 1;; fail_at++) {
        imgp_ctx *ctx = ctx_new();
        imgp_bdev *mem, *bd;
        unsigned reads = 0;
        assert_int_equal(imgp_bdev_open_memory(ctx, im.b, im.size, "mem", &mem), IMGP_OK);
        assert_int_equal(test_bdev_failing(ctx, mem, fail_at, &reads, &bd), IMGP_OK);
        imgp_fs *fs = NULL;
        imgp_status st = imgp_fs_mount(ctx, bd, NULL, &fs);
        seen s = {0};
        uint8_t buf[BS];
        size_t got;
        if (st == IMGP_OK)
            st = imgp_fs_readdir(fs, DIR_INO, see, &s);
        if (st == IMGP_OK)
            st = imgp_fs_read(fs, BT_INO, 0, buf, sizeof buf, &got);
        if (st == IMGP_OK)
            st = imgp_fs_read(fs, FILE_INO, 0, buf, sizeof buf, &got);
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
        char t[1100];
        if (st == IMGP_OK)
            st = imgp_fs_readdir(fs, DIR_INO, see, &s);
        if (st == IMGP_OK)
            st = imgp_fs_readlink(fs, RLINK_INO, t, sizeof t);
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
        cmocka_unit_test(test_super),
        cmocka_unit_test(test_features),
        cmocka_unit_test(test_crc),
        cmocka_unit_test(test_inode_numbers),
        cmocka_unit_test(test_inode),
        cmocka_unit_test(test_extent),
        cmocka_unit_test(test_bmbt_header),
        cmocka_unit_test(test_sf_dir),
        cmocka_unit_test(test_dir_block),
        cmocka_unit_test(test_fs_walk),
        cmocka_unit_test(test_fs_damage),
        cmocka_unit_test(test_fs_notes),
        cmocka_unit_test(test_fs_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
