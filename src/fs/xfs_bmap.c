/*
 * XFS: a data fork's logical blocks to disk blocks ("Data Extents", "B+tree
 * Extent List"). An extents-format fork holds its records in the inode; a
 * btree-format fork holds the root of a B+tree of long-format blocks whose
 * leaves hold the records. A mapping answers with a run: where a stretch of
 * logical blocks lies, or that it reads as zeros (a hole, an unwritten
 * extent), so a large read becomes a few device reads.
 */
#include <stdio.h>

#include "../core/cursor.h"
#include "xfs.h"

#define LOGICAL_BLOCKS (1ull << XFS_BMBT_STARTOFF_BITS) /* past them a file is a hole */

void xfs_parse_extent(const uint8_t *rec, xfs_extent *ext)
{
    imgp_cursor c = imgp_cur_init(rec, XFS_BMBT_REC_SIZE);
    uint64_t l0 = imgp_cur_be64_at(&c, 0), l1 = imgp_cur_be64_at(&c, 8);
    ext->unwritten = (l0 >> 63) != 0;
    ext->startoff = (l0 & ~(1ull << 63)) >> 9;
    ext->startblock = (l0 & 0x1ffu) << 43 | l1 >> XFS_BMBT_BLOCKCOUNT_BITS;
    ext->blockcount = (uint32_t)(l1 & ((1u << XFS_BMBT_BLOCKCOUNT_BITS) - 1));
}

imgp_status xfs_parse_bmbt_header(imgp_ctx *ctx, const uint8_t *buf, size_t len, bool root, bool crc,
                                  const char *where, xfs_btree_header *h)
{
    imgp_cursor c = imgp_cur_init(buf, len);
    size_t hdr = root ? XFS_BMDR_SIZE : crc ? XFS_BTREE_LBLOCK_CRC_LEN : XFS_BTREE_LBLOCK_LEN;
    if (len < hdr + XFS_BMBT_REC_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: %zu bytes, too small for an extent B+tree block",
                          where, len);
    if (root) {
        h->level = imgp_cur_be16_at(&c, XFS_BMDR_LEVEL);
        h->numrecs = imgp_cur_be16_at(&c, XFS_BMDR_NUMRECS);
    } else {
        uint32_t magic = imgp_cur_be32_at(&c, XFS_BTREE_MAGIC), want = crc ? XFS_BMAP_CRC_MAGIC : XFS_BMAP_MAGIC;
        if (magic != want)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: magic 0x%08x (expected 0x%08x)", where, magic, want);
        h->level = imgp_cur_be16_at(&c, XFS_BTREE_LEVEL);
        h->numrecs = imgp_cur_be16_at(&c, XFS_BTREE_NUMRECS);
    }
    h->hdr_len = (uint16_t)hdr;
    /* a record and a key with its pointer take 16 bytes alike */
    size_t room = (len - hdr) / XFS_BMBT_REC_SIZE;
    h->maxrecs = (uint16_t)imgp_min_u64(room, UINT16_MAX);
    if (root && h->level == 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: a B+tree root of level 0", where);
    if (h->level >= XFS_BM_MAXLEVELS)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: B+tree level %u (at most %u)", where, h->level,
                          XFS_BM_MAXLEVELS - 1);
    if (h->numrecs == 0 || h->numrecs > h->maxrecs)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: %u records, room for 1 to %u", where, h->numrecs,
                          h->maxrecs);
    return IMGP_OK;
}

static void set_run(xfs_run *run, uint64_t block, uint64_t len, bool zero)
{
    run->block = block;
    run->len = len;
    run->zero = zero;
}

/* The last of @p n sorted 64-bit keys of @p stride bytes (their first field,
 * shifted right by @p shift) that is at most @p lblk, or -1. */
static long last_at_most(const uint8_t *keys, size_t n, size_t stride, unsigned shift, uint64_t lblk)
{
    long lo = 0, hi = (long)n - 1, found = -1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        imgp_cursor c = imgp_cur_init(keys + (size_t)mid * stride, 8);
        uint64_t key = (imgp_cur_be64_at(&c, 0) & ~(1ull << 63)) >> shift;
        if (key <= lblk) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found;
}

/* Map @p lblk through @p n extent records; @p end bounds what they cover. */
static imgp_status map_records(xfs_fs *fs, const xfs_inode *in, const uint8_t *recs, size_t n, uint64_t lblk,
                               uint64_t end, xfs_run *run)
{
    unsigned long long ino = (unsigned long long)in->ino;
    long i = last_at_most(recs, n, XFS_BMBT_REC_SIZE, 9, lblk);
    xfs_extent e;
    if (i < 0) { /* before the first extent: a hole up to it */
        xfs_parse_extent(recs, &e);
        set_run(run, 0, imgp_min_u64(end, e.startoff) - lblk, true);
        return IMGP_OK;
    }
    xfs_parse_extent(recs + (size_t)i * XFS_BMBT_REC_SIZE, &e);
    if (lblk - e.startoff >= e.blockcount) { /* between extents: a hole up to the next */
        uint64_t next = end;
        if ((size_t)i + 1 < n) {
            xfs_extent f;
            xfs_parse_extent(recs + ((size_t)i + 1) * XFS_BMBT_REC_SIZE, &f);
            next = imgp_min_u64(next, f.startoff);
        }
        if (next <= lblk)
            return xfs_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: extent records out of order at logical block %llu",
                            ino, (unsigned long long)lblk);
        set_run(run, 0, next - lblk, true);
        return IMGP_OK;
    }
    uint64_t block;
    if (!xfs_fsb_to_block(&fs->sb, e.startblock, e.blockcount, &block))
        return xfs_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: extent of logical blocks %llu+%u maps to filesystem "
                        "block %llu (AG %llu), outside its AG or the filesystem (%u AGs of %u blocks)", ino,
                        (unsigned long long)e.startoff, e.blockcount, (unsigned long long)e.startblock,
                        (unsigned long long)(e.startblock >> fs->sb.agblklog), fs->sb.agcount, fs->sb.agblocks);
    uint64_t skip = lblk - e.startoff;
    set_run(run, block + skip, e.blockcount - skip, e.unwritten);
    return IMGP_OK;
}

/*
 * Descend from the root in the inode to the leaf covering @p lblk. Each
 * level must be exactly one less than its parent's, so a block that points
 * back up the tree (a loop) is caught at once and the walk ends after at
 * most XFS_BM_MAXLEVELS reads.
 */
static imgp_status map_btree(xfs_fs *fs, const xfs_inode *in, uint64_t lblk, xfs_run *run)
{
    imgp_ctx *ctx = fs->base.ctx;
    const xfs_super *sb = &fs->sb;
    unsigned long long ino = (unsigned long long)in->ino;
    char where[96];
    snprintf(where, sizeof where, "inode %llu extent B+tree root", ino);
    const uint8_t *node = in->raw + in->fork_off;
    size_t node_len = in->fork_len;
    xfs_btree_header h;
    imgp_status st = xfs_parse_bmbt_header(ctx, node, node_len, true, sb->has_crc, where, &h);
    if (st != IMGP_OK)
        return st;
    uint64_t limit = imgp_ctx_limit(ctx, IMGP_LIMIT_EXTENT_DEPTH);
    if (h.level > limit)
        return xfs_fail(fs, IMGP_ERR_LIMIT, "inode %llu: extent B+tree of level %u exceeds the limit %llu", ino,
                        h.level, (unsigned long long)limit);
    uint64_t end = LOGICAL_BLOCKS;
    while (h.level > 0) {
        const uint8_t *keys = node + h.hdr_len;
        long i = last_at_most(keys, h.numrecs, XFS_BMBT_KEY_SIZE, 0, lblk);
        imgp_cursor c = imgp_cur_init(node, node_len);
        if (i < 0) { /* before the first key: a hole up to it */
            uint64_t first = imgp_cur_be64_at(&c, h.hdr_len);
            set_run(run, 0, imgp_min_u64(end, first) - lblk, true);
            return IMGP_OK;
        }
        if ((size_t)i + 1 < h.numrecs)
            end = imgp_min_u64(end, imgp_cur_be64_at(&c, h.hdr_len + ((size_t)i + 1) * XFS_BMBT_KEY_SIZE));
        if (end <= lblk)
            return xfs_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: extent B+tree keys out of order at level %u",
                            ino, h.level);
        uint64_t fsb = imgp_cur_be64_at(&c, h.hdr_len + (size_t)h.maxrecs * XFS_BMBT_KEY_SIZE +
                                                (size_t)i * XFS_BMBT_PTR_SIZE);
        uint64_t block;
        if (!xfs_fsb_to_block(sb, fsb, 1, &block))
            return xfs_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: extent B+tree pointer at level %u to filesystem "
                            "block %llu, outside the filesystem (%u AGs of %u blocks)", ino, h.level,
                            (unsigned long long)fsb, sb->agcount, sb->agblocks);
        if ((st = xfs_meta_block(fs, block, &node)) != IMGP_OK)
            return imgp_error_prefix(ctx, "xfs: inode %llu: extent B+tree block %llu: ", ino,
                                     (unsigned long long)block);
        node_len = sb->blocksize;
        snprintf(where, sizeof where, "inode %llu extent B+tree block %llu", ino, (unsigned long long)block);
        xfs_btree_header ch;
        if ((st = xfs_parse_bmbt_header(ctx, node, node_len, false, sb->has_crc, where, &ch)) != IMGP_OK)
            return st;
        if (ch.level + 1u != h.level)
            return xfs_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: extent B+tree block %llu has level %u under a "
                            "block of level %u (a loop in the tree?)", ino, (unsigned long long)block, ch.level,
                            h.level);
        h = ch;
    }
    return map_records(fs, in, node + h.hdr_len, h.numrecs, lblk, end, run);
}

imgp_status xfs_map(xfs_fs *fs, const xfs_inode *in, uint64_t lblk, xfs_run *run)
{
    if (lblk >= LOGICAL_BLOCKS) {
        set_run(run, 0, 1, true);
        return IMGP_OK;
    }
    if (in->format == XFS_DINODE_FMT_BTREE)
        return map_btree(fs, in, lblk, run);
    if (in->format != XFS_DINODE_FMT_EXTENTS)
        return xfs_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: data fork format %u where extents were expected",
                        (unsigned long long)in->ino, in->format);
    if (in->nextents > in->fork_len / XFS_BMBT_REC_SIZE)
        return xfs_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: %llu extents do not fit its %u-byte data fork",
                        (unsigned long long)in->ino, (unsigned long long)in->nextents, in->fork_len);
    if (in->nextents == 0) {
        set_run(run, 0, LOGICAL_BLOCKS - lblk, true);
        return IMGP_OK;
    }
    return map_records(fs, in, in->raw + in->fork_off, (size_t)in->nextents, lblk, LOGICAL_BLOCKS, run);
}

imgp_status xfs_read_mapped(xfs_fs *fs, const xfs_inode *in, uint64_t off, uint8_t *buf, size_t len)
{
    const unsigned log = fs->sb.blocklog;
    while (len > 0) {
        uint64_t lblk = off >> log, within = off & (fs->sb.blocksize - 1);
        xfs_run run;
        imgp_status st = xfs_map(fs, in, lblk, &run);
        if (st != IMGP_OK)
            return st;
        /* at most 2^32 blocks of at most 2^16 bytes at a time: no overflow */
        size_t n = (size_t)imgp_min_u64(len, (imgp_min_u64(run.len, 1ull << 32) << log) - within);
        if (run.zero) {
            memset(buf, 0, n);
        } else if ((st = imgp_bdev_read(fs->base.bdev, (run.block << log) + within, buf, n)) != IMGP_OK) {
            return imgp_error_prefix(fs->base.ctx, "xfs: inode %llu, logical block %llu: ",
                                     (unsigned long long)in->ino, (unsigned long long)lblk);
        }
        buf += n;
        off += n;
        len -= n;
    }
    return IMGP_OK;
}
