/*
 * ext4: a file's logical blocks to physical ones, through an extent tree
 * (ifork.rst "Extent Tree") or the ext2/3 block map (ifork.rst
 * "Direct/Indirect Block Addressing", blockmap.rst), and reading the data so
 * mapped. A mapping answers with a run: where a stretch of logical blocks
 * lies, or that it reads as zeros (a hole, an uninitialised extent), so a
 * large read becomes a few device reads.
 */
#include <stdio.h>

#include "../core/cursor.h"
#include "ext4.h"

/* Logical block numbers are 32 bits in both schemes; past them a file is a hole. */
#define LOGICAL_BLOCKS (1ull << 32)

imgp_status ext4_parse_extent_header(imgp_ctx *ctx, const uint8_t *buf, size_t len, unsigned max_depth,
                                     const char *where, ext4_extent_header *eh)
{
    if (len < EXT4_EH_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: %s: %zu bytes, shorter than an extent header", where, len);
    imgp_cursor c = imgp_cur_init(buf, len);
    uint16_t magic = imgp_cur_le16_at(&c, EXT4_EH_MAGIC);
    eh->entries = imgp_cur_le16_at(&c, EXT4_EH_ENTRIES);
    eh->max = imgp_cur_le16_at(&c, EXT4_EH_MAX);
    eh->depth = imgp_cur_le16_at(&c, EXT4_EH_DEPTH);
    if (magic != EXT4_EXTENT_MAGIC)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: %s: extent header magic 0x%04x (expected 0x%04x)", where,
                          magic, EXT4_EXTENT_MAGIC);
    if (eh->max == 0 || eh->max > (len - EXT4_EH_SIZE) / EXT4_EXTENT_ENTRY_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: %s: eh_max %u entries do not fit in %zu bytes", where,
                          eh->max, len);
    if (eh->entries > eh->max)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: %s: eh_entries %u exceeds eh_max %u", where, eh->entries,
                          eh->max);
    if (eh->depth > max_depth)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: %s: extent tree depth %u exceeds %u", where, eh->depth,
                          max_depth);
    return IMGP_OK;
}

static void set_run(ext4_run *run, uint64_t pblk, uint64_t len, bool zero)
{
    run->pblk = pblk;
    run->len = len;
    run->zero = zero;
}

/*
 * The last of a node's @p entries whose first logical block (ei_block in an
 * index, ee_block in a leaf: both at offset 0) is at most @p lblk, or -1.
 * Entries are sorted by it; *end becomes the first block of the next entry
 * when that is nearer, so a hole after the entry found knows where it ends.
 */
static int entry_covering(const uint8_t *node, size_t len, uint16_t entries, uint64_t lblk, uint64_t *end)
{
    imgp_cursor c = imgp_cur_init(node, len);
    int found = -1;
    for (uint16_t i = 0; i < entries; i++) {
        uint32_t first = imgp_cur_le32_at(&c, EXT4_EH_SIZE + (size_t)i * EXT4_EXTENT_ENTRY_SIZE);
        if (first > lblk) {
            *end = imgp_min_u64(*end, first);
            break;
        }
        found = i;
    }
    return found;
}

/*
 * Descend from the root in i_block to the leaf covering @p lblk. Each level
 * must be exactly one less deep than its parent, so a node that points back
 * up the tree (a loop) is caught at once, and the walk ends after at most
 * EXT4_EXTENT_MAX_DEPTH reads.
 */
static imgp_status map_extents(ext4_fs *fs, const ext4_inode *in, uint64_t lblk, ext4_run *run)
{
    imgp_ctx *ctx = fs->base.ctx;
    unsigned long long ino = (unsigned long long)in->ino;
    char where[80];
    snprintf(where, sizeof where, "inode %llu extent root", ino);
    ext4_extent_header eh;
    imgp_status st = ext4_parse_extent_header(ctx, in->block, sizeof in->block, EXT4_EXTENT_MAX_DEPTH, where, &eh);
    if (st != IMGP_OK)
        return st;
    uint64_t limit = imgp_ctx_limit(ctx, IMGP_LIMIT_EXTENT_DEPTH);
    if (eh.depth > limit)
        return ext4_fail(fs, IMGP_ERR_LIMIT, "inode %llu: extent tree depth %u exceeds the limit %llu", ino,
                         eh.depth, (unsigned long long)limit);
    const uint8_t *node = in->block;
    size_t node_len = sizeof in->block;
    uint64_t end = LOGICAL_BLOCKS; /* the first logical block past what this node covers */

    while (eh.depth > 0) {
        int i = entry_covering(node, node_len, eh.entries, lblk, &end);
        if (i < 0) { /* before the first index: a hole up to it */
            set_run(run, 0, end - lblk, true);
            return IMGP_OK;
        }
        imgp_cursor c = imgp_cur_init(node, node_len);
        size_t e = EXT4_EH_SIZE + (size_t)i * EXT4_EXTENT_ENTRY_SIZE;
        uint64_t child = imgp_cur_le32_at(&c, e + EXT4_EI_LEAF_LO) |
                         (uint64_t)imgp_cur_le16_at(&c, e + EXT4_EI_LEAF_HI) << 32;
        if (child >= fs->sb.blocks_count)
            return ext4_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: extent index at depth %u points to block %llu, "
                             "past the end of the filesystem (%llu blocks)", ino, eh.depth,
                             (unsigned long long)child, (unsigned long long)fs->sb.blocks_count);
        if ((st = ext4_meta_block(fs, child, &node)) != IMGP_OK)
            return imgp_error_prefix(ctx, "ext4: inode %llu: extent node at block %llu: ", ino,
                                     (unsigned long long)child);
        node_len = fs->sb.block_size;
        snprintf(where, sizeof where, "inode %llu extent node at block %llu", ino, (unsigned long long)child);
        ext4_extent_header ch;
        if ((st = ext4_parse_extent_header(ctx, node, node_len, EXT4_EXTENT_MAX_DEPTH, where, &ch)) != IMGP_OK)
            return st;
        if (ch.depth + 1u != eh.depth)
            return ext4_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: extent node at block %llu has depth %u under a "
                             "node of depth %u (a loop in the extent tree?)", ino, (unsigned long long)child,
                             ch.depth, eh.depth);
        eh = ch;
    }

    int i = entry_covering(node, node_len, eh.entries, lblk, &end);
    imgp_cursor c = imgp_cur_init(node, node_len);
    size_t e = EXT4_EH_SIZE + (size_t)(i < 0 ? 0 : i) * EXT4_EXTENT_ENTRY_SIZE;
    uint32_t first = imgp_cur_le32_at(&c, e + EXT4_EE_BLOCK);
    uint16_t raw_len = imgp_cur_le16_at(&c, e + EXT4_EE_LEN);
    bool uninit = raw_len > EXT4_EXT_INIT_MAX_LEN;
    uint64_t len = uninit ? raw_len - EXT4_EXT_INIT_MAX_LEN : raw_len;
    uint64_t start = imgp_cur_le32_at(&c, e + EXT4_EE_START_LO) |
                     (uint64_t)imgp_cur_le16_at(&c, e + EXT4_EE_START_HI) << 32;
    if (i < 0 || lblk - first >= len) { /* between extents: a hole up to the next */
        set_run(run, 0, end - lblk, true);
        return IMGP_OK;
    }
    if (imgp_range_outside(start, len, fs->sb.blocks_count))
        return ext4_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: extent of logical blocks %u+%llu maps to blocks "
                         "%llu+%llu, past the end of the filesystem (%llu blocks)", ino, first,
                         (unsigned long long)len, (unsigned long long)start, (unsigned long long)len,
                         (unsigned long long)fs->sb.blocks_count);
    uint64_t skip = lblk - first;
    set_run(run, start + skip, len - skip, uninit);
    return IMGP_OK;
}

/*
 * The block map: i_block[0..11] point at data, [12] at a block of pointers,
 * [13] at a block of such blocks, [14] one level more. A zero pointer is a
 * hole as large as everything beneath it.
 */
static imgp_status map_indirect(ext4_fs *fs, const ext4_inode *in, uint64_t lblk, ext4_run *run)
{
    unsigned long long ino = (unsigned long long)in->ino;
    const unsigned per_log = fs->sb.log_block_size - 2; /* log2 of pointers per block */
    imgp_cursor ic = imgp_cur_init(in->block, sizeof in->block);
    const uint8_t *table = in->block; /* the pointers at the current level */
    size_t table_len = EXT4_N_DIRECT * 4;
    uint64_t slot = lblk;             /* index into table */
    unsigned level = 0;               /* levels of indirection still below table's entries */

    if (lblk >= EXT4_N_DIRECT) {
        uint64_t rest = lblk - EXT4_N_DIRECT;
        for (level = 1; level <= 3; level++) {
            uint64_t span = 1ull << (per_log * level);
            if (rest < span)
                break;
            rest -= span;
        }
        if (level > 3) {
            set_run(run, 0, LOGICAL_BLOCKS > lblk ? LOGICAL_BLOCKS - lblk : 1, true);
            return IMGP_OK;
        }
        uint64_t ptr = imgp_cur_le32_at(&ic, (EXT4_IND_BLOCK + level - 1) * 4);
        /* walk down: at each level the pointer covers per^level blocks */
        for (; level > 0; level--) {
            uint64_t span = 1ull << (per_log * level);
            if (ptr == 0) {
                set_run(run, 0, span - rest, true);
                return IMGP_OK;
            }
            if (ptr >= fs->sb.blocks_count)
                return ext4_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: indirect block %llu (for logical block %llu) "
                                 "lies past the end of the filesystem (%llu blocks)", ino, (unsigned long long)ptr,
                                 (unsigned long long)lblk, (unsigned long long)fs->sb.blocks_count);
            imgp_status st = ext4_meta_block(fs, ptr, &table);
            if (st != IMGP_OK)
                return imgp_error_prefix(fs->base.ctx, "ext4: inode %llu: indirect block %llu: ", ino,
                                         (unsigned long long)ptr);
            table_len = fs->sb.block_size;
            uint64_t sub = span >> per_log;
            slot = rest / sub;
            rest %= sub;
            if (level > 1) {
                imgp_cursor c = imgp_cur_init(table, table_len);
                ptr = imgp_cur_le32_at(&c, slot * 4);
            }
        }
    }

    /* table holds data block pointers: extend the run while they stay
     * consecutive (or zero) within this table */
    imgp_cursor c = imgp_cur_init(table, table_len);
    uint64_t n = table_len / 4;
    uint64_t pblk = imgp_cur_le32_at(&c, slot * 4), len = 1;
    while (slot + len < n) {
        uint64_t next = imgp_cur_le32_at(&c, (slot + len) * 4);
        if (pblk == 0 ? next != 0 : next != pblk + len)
            break;
        len++;
    }
    if (pblk == 0) {
        set_run(run, 0, len, true);
        return IMGP_OK;
    }
    if (imgp_range_outside(pblk, len, fs->sb.blocks_count))
        return ext4_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: logical block %llu maps to block %llu, past the end "
                         "of the filesystem (%llu blocks)", ino, (unsigned long long)lblk,
                         (unsigned long long)(pblk >= fs->sb.blocks_count ? pblk : fs->sb.blocks_count),
                         (unsigned long long)fs->sb.blocks_count);
    set_run(run, pblk, len, false);
    return IMGP_OK;
}

imgp_status ext4_map(ext4_fs *fs, const ext4_inode *in, uint64_t lblk, ext4_run *run)
{
    if (lblk >= LOGICAL_BLOCKS) {
        set_run(run, 0, LOGICAL_BLOCKS, true);
        return IMGP_OK;
    }
    return in->flags & EXT4_EXTENTS_FL ? map_extents(fs, in, lblk, run) : map_indirect(fs, in, lblk, run);
}

imgp_status ext4_read_mapped(ext4_fs *fs, const ext4_inode *in, uint64_t off, uint8_t *buf, size_t len)
{
    const unsigned log = fs->sb.log_block_size;
    while (len > 0) {
        uint64_t lblk = off >> log, within = off & (fs->sb.block_size - 1);
        ext4_run run;
        imgp_status st = ext4_map(fs, in, lblk, &run);
        if (st != IMGP_OK)
            return st;
        /* run.len <= 2^32 blocks of at most 2^16 bytes: no overflow */
        size_t n = (size_t)imgp_min_u64(len, (run.len << log) - within);
        if (run.zero) {
            memset(buf, 0, n);
        } else if ((st = imgp_bdev_read(fs->base.bdev, (run.pblk << log) + within, buf, n)) != IMGP_OK) {
            return imgp_error_prefix(fs->base.ctx, "ext4: inode %llu, logical block %llu: ",
                                     (unsigned long long)in->ino, (unsigned long long)lblk);
        }
        buf += n;
        off += n;
        len -= n;
    }
    return IMGP_OK;
}
