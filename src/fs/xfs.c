/*
 * XFS, read-only: probing and mounting (superblock v4 and v5, features, the
 * log's state), inode numbers to places, inodes v1/v2/v3 and their CRCs, and
 * the driver's stat / read / readlink. Block mapping lives in xfs_bmap.c,
 * directories in xfs_dir.c. Layout: xfs_disk.h.
 */
#include <stdio.h>

#include "../core/cursor.h"
#include "ext4.h" /* ext4_crc32c: the same CRC32c */
#include "xfs.h"

#define META_CACHE_SLOTS 64 /* inode and bmbt blocks */
#define MAX_CSUM_NOTES 8    /* CRC mismatches listed one by one; then one line for the rest */

/* ---- CRCs ("Metadata Checksumming") ---- */

uint32_t xfs_crc(const uint8_t *buf, size_t len, size_t crc_off)
{
    static const uint8_t zero[4];
    uint32_t crc = ext4_crc32c(~0u, buf, crc_off);
    crc = ext4_crc32c(crc, zero, 4);
    crc = ext4_crc32c(crc, buf + crc_off + 4, len - crc_off - 4);
    return ~crc;
}

imgp_status xfs_fail(xfs_fs *fs, imgp_status st, const char *fmt, ...)
{
    char buf[IMGP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return imgp_error(fs->base.ctx, st, "xfs: %s", buf);
}

imgp_status xfs_crc_note(xfs_fs *fs, const char *what, uint64_t where, uint32_t stored, uint32_t computed)
{
    unsigned n = ++fs->csum_notes;
    if (n < MAX_CSUM_NOTES)
        return imgp_fs_note(&fs->base, "xfs: %s %llu: CRC mismatch (stored 0x%08x, computed 0x%08x)", what,
                            (unsigned long long)where, stored, computed);
    if (n == MAX_CSUM_NOTES)
        return imgp_fs_note(&fs->base, "xfs: more CRC mismatches (not listed)");
    return IMGP_OK;
}

/* ---- superblock ("Superblocks") ---- */

static unsigned log2_ceil(uint64_t v)
{
    unsigned l = 0;
    while (l < 64 && (1ull << l) < v)
        l++;
    return l;
}

static imgp_status check_log(imgp_ctx *ctx, const char *field, unsigned log, uint64_t value, unsigned min,
                             unsigned max)
{
    if (log < min || log > max || value != 1ull << log)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: superblock: %s %llu with log2 %u (a power of two, "
                          "2^%u to 2^%u)", field, (unsigned long long)value, log, min, max);
    return IMGP_OK;
}

imgp_status xfs_parse_super(imgp_ctx *ctx, const uint8_t *buf, size_t len, xfs_super *sb)
{
    memset(sb, 0, sizeof *sb);
    if (len < XFS_SB_V5_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: superblock of %zu bytes", len);
    imgp_cursor c = imgp_cur_init(buf, len);
    uint32_t magic = imgp_cur_be32_at(&c, XFS_SB_MAGICNUM);
    if (magic != XFS_SB_MAGIC)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: superblock magic 0x%08x (expected 0x%08x)", magic,
                          XFS_SB_MAGIC);
    sb->blocksize = imgp_cur_be32_at(&c, XFS_SB_BLOCKSIZE);
    sb->dblocks = imgp_cur_be64_at(&c, XFS_SB_DBLOCKS);
    sb->rblocks = imgp_cur_be64_at(&c, XFS_SB_RBLOCKS);
    imgp_cur_bytes_at(&c, XFS_SB_UUID, sb->uuid, 16);
    sb->logstart = imgp_cur_be64_at(&c, XFS_SB_LOGSTART);
    sb->rootino = imgp_cur_be64_at(&c, XFS_SB_ROOTINO);
    sb->agblocks = imgp_cur_be32_at(&c, XFS_SB_AGBLOCKS);
    sb->agcount = imgp_cur_be32_at(&c, XFS_SB_AGCOUNT);
    sb->logblocks = imgp_cur_be32_at(&c, XFS_SB_LOGBLOCKS);
    sb->versionnum = imgp_cur_be16_at(&c, XFS_SB_VERSIONNUM);
    sb->sectsize = imgp_cur_be16_at(&c, XFS_SB_SECTSIZE);
    sb->inodesize = imgp_cur_be16_at(&c, XFS_SB_INODESIZE);
    sb->inopblock = imgp_cur_be16_at(&c, XFS_SB_INOPBLOCK);
    imgp_cur_bytes_at(&c, XFS_SB_FNAME, sb->label, XFS_LABEL_LEN);
    sb->label[XFS_LABEL_LEN] = '\0';
    sb->blocklog = imgp_cur_u8_at(&c, XFS_SB_BLOCKLOG);
    sb->sectlog = imgp_cur_u8_at(&c, XFS_SB_SECTLOG);
    sb->inodelog = imgp_cur_u8_at(&c, XFS_SB_INODELOG);
    sb->inopblog = imgp_cur_u8_at(&c, XFS_SB_INOPBLOG);
    sb->agblklog = imgp_cur_u8_at(&c, XFS_SB_AGBLKLOG);
    sb->inprogress = imgp_cur_u8_at(&c, XFS_SB_INPROGRESS);
    sb->icount = imgp_cur_be64_at(&c, XFS_SB_ICOUNT);
    sb->fdblocks = imgp_cur_be64_at(&c, XFS_SB_FDBLOCKS);
    sb->dirblklog = imgp_cur_u8_at(&c, XFS_SB_DIRBLKLOG);
    sb->version = sb->versionnum & XFS_SB_VERSION_NUMBITS;
    if (sb->versionnum & XFS_SB_VERSION_MOREBITSBIT)
        sb->features2 = imgp_cur_be32_at(&c, XFS_SB_FEATURES2);
    if (sb->version == XFS_SB_VERSION_5) {
        sb->compat = imgp_cur_be32_at(&c, XFS_SB_FEATURES_COMPAT);
        sb->ro_compat = imgp_cur_be32_at(&c, XFS_SB_FEATURES_RO_COMPAT);
        sb->incompat = imgp_cur_be32_at(&c, XFS_SB_FEATURES_INCOMPAT);
        sb->log_incompat = imgp_cur_be32_at(&c, XFS_SB_FEATURES_LOG_INCOMPAT);
        sb->crc = imgp_cur_le32_at(&c, XFS_SB_CRC);
        if (sb->incompat & XFS_SB_FEAT_INCOMPAT_META_UUID)
            imgp_cur_bytes_at(&c, XFS_SB_META_UUID, sb->meta_uuid, 16);
        else
            memcpy(sb->meta_uuid, sb->uuid, 16);
    }
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: superblock truncated");

    if (sb->version != XFS_SB_VERSION_4 && sb->version != XFS_SB_VERSION_5)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "xfs: superblock version %u (imgprobe reads 4 and 5)",
                          sb->version);
    sb->has_crc = sb->version == XFS_SB_VERSION_5;
    sb->has_ftype = sb->has_crc ? (sb->incompat & XFS_SB_FEAT_INCOMPAT_FTYPE) != 0
                                : (sb->features2 & XFS_SB_VERSION2_FTYPE) != 0;
    sb->ascii_ci = (sb->versionnum & XFS_SB_VERSION_BORGBIT) != 0;

    imgp_status st;
    if ((st = check_log(ctx, "sb_blocksize", sb->blocklog, sb->blocksize, XFS_MIN_BLOCKLOG, XFS_MAX_BLOCKLOG)) ||
        (st = check_log(ctx, "sb_sectsize", sb->sectlog, sb->sectsize, XFS_MIN_SECTORLOG, XFS_MAX_SECTORLOG)) ||
        (st = check_log(ctx, "sb_inodesize", sb->inodelog, sb->inodesize, XFS_MIN_INODELOG, XFS_MAX_INODELOG)))
        return st;
    if (sb->inodelog > sb->blocklog || sb->inopblock != 1u << (sb->blocklog - sb->inodelog) ||
        sb->inopblog != sb->blocklog - sb->inodelog)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: superblock: %u inodes of %u bytes per %u-byte block "
                          "(sb_inopblog %u)", sb->inopblock, sb->inodesize, sb->blocksize, sb->inopblog);
    if (sb->has_crc && (sb->inodesize < 512 || sb->sectsize > sb->blocksize))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: v5 superblock with %u-byte inodes and %u-byte sectors "
                          "in %u-byte blocks", sb->inodesize, sb->sectsize, sb->blocksize);
    if (sb->agblocks < 8 || sb->agblklog != log2_ceil(sb->agblocks) || sb->agblklog > 31)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: superblock: sb_agblocks %u with sb_agblklog %u",
                          sb->agblocks, sb->agblklog);
    if (sb->agcount == 0 || sb->dblocks == 0 || sb->dblocks > (uint64_t)sb->agcount * sb->agblocks ||
        sb->dblocks <= (uint64_t)(sb->agcount - 1) * sb->agblocks)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: superblock: sb_dblocks %llu do not make %u AGs of %u "
                          "blocks", (unsigned long long)sb->dblocks, sb->agcount, sb->agblocks);
    if (sb->dblocks > UINT64_MAX >> sb->blocklog)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: superblock: sb_dblocks %llu of %u bytes overflows",
                          (unsigned long long)sb->dblocks, sb->blocksize);
    if (sb->dirblklog > XFS_MAX_BLOCKLOG - sb->blocklog)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: superblock: directory blocks of 2^%u x %u bytes "
                          "(at most 64 KiB)", sb->dirblklog, sb->blocksize);
    sb->dirblksize = sb->blocksize << sb->dirblklog;
    if (sb->rootino == 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: superblock: no root inode");
    return IMGP_OK;
}

/* v5 incompatible features read. NEEDSREPAIR is read and reported. */
#define XFS_INCOMPAT_READ                                                                                        \
    (XFS_SB_FEAT_INCOMPAT_FTYPE | XFS_SB_FEAT_INCOMPAT_SPINODES | XFS_SB_FEAT_INCOMPAT_META_UUID |                \
     XFS_SB_FEAT_INCOMPAT_BIGTIME | XFS_SB_FEAT_INCOMPAT_NEEDSREPAIR | XFS_SB_FEAT_INCOMPAT_NREXT64 |             \
     XFS_SB_FEAT_INCOMPAT_EXCHRANGE | XFS_SB_FEAT_INCOMPAT_PARENT)

static const struct {
    uint32_t bit;
    const char *name;
} incompat_names[] = {
    {XFS_SB_FEAT_INCOMPAT_METADIR, "metadir"},
    {XFS_SB_FEAT_INCOMPAT_ZONED, "zoned"},
};

imgp_status xfs_check_features(imgp_ctx *ctx, const xfs_super *sb)
{
    if (!sb->has_crc) {
        if (!(sb->versionnum & XFS_SB_VERSION_DIRV2BIT))
            return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "xfs: version 1 directories (no DIRV2 bit in "
                              "sb_versionnum 0x%04x) are not read", sb->versionnum);
        if (sb->features2 & XFS_SB_VERSION2_CRCBIT)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: a version 4 superblock with the CRC bit in "
                              "sb_features2 0x%x", sb->features2);
        return IMGP_OK;
    }
    uint32_t unknown = sb->incompat & ~(uint32_t)XFS_INCOMPAT_READ;
    if (!unknown)
        return IMGP_OK;
    uint32_t bit = unknown & -unknown;
    for (size_t i = 0; i < sizeof incompat_names / sizeof incompat_names[0]; i++)
        if (incompat_names[i].bit == bit)
            return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "xfs: incompatible feature '%s' (0x%x) is not read",
                              incompat_names[i].name, (unsigned)bit);
    return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "xfs: unknown incompatible feature 0x%x", (unsigned)bit);
}

/* ---- inode numbers ("Inode Numbers"): AG number, AG block, index in the block ---- */

bool xfs_fsb_to_block(const xfs_super *sb, uint64_t fsb, uint64_t count, uint64_t *block)
{
    uint64_t agno = fsb >> sb->agblklog, agbno = fsb & ((1ull << sb->agblklog) - 1);
    if (agno >= sb->agcount || imgp_range_outside(agbno, count, sb->agblocks))
        return false;
    *block = agno * sb->agblocks + agbno;
    return !imgp_range_outside(*block, count, sb->dblocks);
}

imgp_status xfs_inode_offset(imgp_ctx *ctx, const xfs_super *sb, uint64_t ino, uint64_t *offset)
{
    unsigned agino_bits = sb->agblklog + sb->inopblog; /* at most 31 + 8 */
    uint64_t agno = ino >> agino_bits;
    uint64_t agbno = (ino >> sb->inopblog) & ((1ull << sb->agblklog) - 1);
    uint64_t index = ino & ((1ull << sb->inopblog) - 1);
    uint64_t block;
    if (ino == 0 || agno >= sb->agcount)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: inode %llu lies in AG %llu, past the %u AGs",
                          (unsigned long long)ino, (unsigned long long)agno, sb->agcount);
    if (!xfs_fsb_to_block(sb, agno << sb->agblklog | agbno, 1, &block))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: inode %llu lies at block %llu of AG %llu, past its end "
                          "(%u blocks an AG, %llu in all)", (unsigned long long)ino, (unsigned long long)agbno,
                          (unsigned long long)agno, sb->agblocks, (unsigned long long)sb->dblocks);
    *offset = (block << sb->blocklog) + (index << sb->inodelog);
    return IMGP_OK;
}

/* ---- inodes ("On-disk Inode") ---- */

/* "Timestamps": seconds and nanoseconds (32 bits each, seconds signed), or
 * with bigtime one 64-bit count of nanoseconds since 1901-12-13. */
static int64_t inode_time(imgp_cursor *c, size_t off, bool bigtime, uint32_t *nsec)
{
    if (bigtime) {
        uint64_t ns = imgp_cur_be64_at(c, off);
        if (nsec)
            *nsec = (uint32_t)(ns % 1000000000u);
        return (int64_t)(ns / 1000000000u) - XFS_BIGTIME_EPOCH_OFFSET;
    }
    if (nsec)
        *nsec = imgp_cur_be32_at(c, off + 4);
    return (int32_t)imgp_cur_be32_at(c, off);
}

imgp_status xfs_parse_inode(imgp_ctx *ctx, const xfs_super *sb, uint64_t ino, const uint8_t *buf, size_t len,
                            xfs_inode *in)
{
    unsigned long long n = (unsigned long long)ino;
    if (len != sb->inodesize || len > sizeof in->raw)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: inode %llu: record of %zu bytes", n, len);
    imgp_cursor c = imgp_cur_init(buf, len);
    memset(in, 0, offsetof(xfs_inode, raw));
    in->ino = ino;
    in->record_size = (uint16_t)len;
    memcpy(in->raw, buf, len);
    uint16_t magic = imgp_cur_be16_at(&c, XFS_DI_MAGIC);
    if (magic != XFS_DINODE_MAGIC)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: inode %llu: magic 0x%04x (expected 0x%04x): not an inode",
                          n, magic, XFS_DINODE_MAGIC);
    in->mode = imgp_cur_be16_at(&c, XFS_DI_MODE);
    in->version = imgp_cur_u8_at(&c, XFS_DI_VERSION);
    in->format = imgp_cur_u8_at(&c, XFS_DI_FORMAT);
    /* v5 filesystems have v3 inodes only; v4 ones v1 and v2 */
    if (sb->has_crc ? in->version != 3 : in->version < 1 || in->version > 2)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: inode %llu: version %u on a version %u filesystem", n,
                          in->version, sb->version);
    in->uid = imgp_cur_be32_at(&c, XFS_DI_UID);
    in->gid = imgp_cur_be32_at(&c, XFS_DI_GID);
    in->nlink = in->version == 1 ? imgp_cur_be16_at(&c, XFS_DI_ONLINK) : imgp_cur_be32_at(&c, XFS_DI_NLINK);
    size_t core = in->version == 3 ? XFS_DI_CORE_V3 : XFS_DI_CORE_V2;
    if (in->version == 3) {
        in->crc = imgp_cur_le32_at(&c, XFS_DI_CRC);
        in->flags2 = imgp_cur_be64_at(&c, XFS_DI_FLAGS2);
    }
    bool bigtime = in->flags2 & XFS_DIFLAG2_BIGTIME;
    in->atime = inode_time(&c, XFS_DI_ATIME, bigtime, NULL);
    in->mtime = inode_time(&c, XFS_DI_MTIME, bigtime, &in->mtime_nsec);
    in->ctime = inode_time(&c, XFS_DI_CTIME, bigtime, NULL);
    in->size = imgp_cur_be64_at(&c, XFS_DI_SIZE);
    in->nblocks = imgp_cur_be64_at(&c, XFS_DI_NBLOCKS);
    in->nextents = in->flags2 & XFS_DIFLAG2_NREXT64 ? imgp_cur_be64_at(&c, XFS_DI_BIG_NEXTENTS)
                                                    : imgp_cur_be32_at(&c, XFS_DI_NEXTENTS);
    uint8_t forkoff = imgp_cur_u8_at(&c, XFS_DI_FORKOFF);
    in->flags = imgp_cur_be16_at(&c, XFS_DI_FLAGS);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: inode %llu: record truncated", n);
    if (in->version == 3) {
        uint64_t self = imgp_cur_be64_at(&c, XFS_DI_INO);
        if (self != ino)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: inode %llu: the record says it is inode %llu", n,
                              (unsigned long long)self);
    }
    if ((size_t)forkoff * 8 > len - core)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: inode %llu: di_forkoff %u puts the attribute fork past "
                          "the %zu-byte record", n, forkoff, len);
    in->fork_off = (uint16_t)core;
    in->fork_len = (uint16_t)(forkoff ? (size_t)forkoff * 8 : len - core);
    if (in->size > INT64_MAX)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: inode %llu: di_size %llu", n,
                          (unsigned long long)in->size);
    return IMGP_OK;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

imgp_status xfs_read_inode(xfs_fs *fs, uint64_t ino, xfs_inode *in)
{
    const xfs_super *sb = &fs->sb;
    uint64_t off = 0;
    imgp_status st = xfs_inode_offset(fs->base.ctx, sb, ino, &off);
    if (st != IMGP_OK)
        return st;
    const uint8_t *p;
    if ((st = xfs_meta_block(fs, off >> sb->blocklog, &p)) != IMGP_OK)
        return imgp_error_prefix(fs->base.ctx, "xfs: inode %llu: ", (unsigned long long)ino);
    const uint8_t *rec = p + (off & (sb->blocksize - 1));
    if (sb->has_crc && !all_zero(rec, sb->inodesize)) {
        /* the CRC first: a damaged record is better reported as such */
        imgp_cursor c = imgp_cur_init(rec, sb->inodesize);
        uint32_t stored = imgp_cur_le32_at(&c, XFS_DI_CRC), crc = xfs_crc(rec, sb->inodesize, XFS_DI_CRC);
        if (stored != crc && (st = xfs_crc_note(fs, "inode", ino, stored, crc)) != IMGP_OK)
            return st;
    }
    return xfs_parse_inode(fs->base.ctx, sb, ino, rec, sb->inodesize, in);
}

/* ---- metadata blocks ---- */

static imgp_status fill_meta(void *arg, uint64_t block, uint8_t *buf)
{
    xfs_fs *fs = arg;
    return imgp_bdev_read(fs->base.bdev, block << fs->sb.blocklog, buf, fs->sb.blocksize);
}

imgp_status xfs_meta_block(xfs_fs *fs, uint64_t block, const uint8_t **out)
{
    if (block >= fs->sb.dblocks)
        return imgp_error(fs->base.ctx, IMGP_ERR_CORRUPT, "block %llu lies past the end of the filesystem "
                          "(%llu blocks)", (unsigned long long)block, (unsigned long long)fs->sb.dblocks);
    return imgp_cache_get(fs->meta, block, fill_meta, fs, out);
}

/* ---- the log ("Journaling Log"): clean or not, never replayed ---- */

/* The cycle number of log basic block @p bb: its first word, or a record
 * header's h_cycle (the header's first word is the magic). */
static imgp_status log_cycle(xfs_fs *fs, uint64_t log_off, uint64_t bb, uint8_t *blk, uint32_t *cycle,
                             bool *header)
{
    imgp_status st = imgp_bdev_read(fs->base.bdev, log_off + bb * XFS_BASIC_BLOCK, blk, XFS_BASIC_BLOCK);
    imgp_cursor c = imgp_cur_init(blk, XFS_BASIC_BLOCK);
    *header = imgp_cur_be32_at(&c, 0) == XLOG_HEADER_MAGIC;
    *cycle = imgp_cur_be32_at(&c, *header ? XLOG_H_CYCLE : 0);
    return st;
}

/*
 * "Log Records" / the kernel's xlog_find_head and xlog_check_unmount_rec:
 * every basic block of the log carries the cycle number of the pass that
 * wrote it, so the head is where the cycle drops (found by bisection). The
 * log is clean when the last record before the head is an unmount record
 * whose tail is itself. Anything else (including what this cannot make
 * sense of) is reported as a log that may hold changes.
 */
static imgp_status log_is_clean(xfs_fs *fs, bool *clean)
{
    const xfs_super *sb = &fs->sb;
    *clean = false;
    uint64_t log_block;
    if (sb->logblocks == 0 || !xfs_fsb_to_block(sb, sb->logstart, sb->logblocks, &log_block))
        return IMGP_OK;
    uint64_t log_off = log_block << sb->blocklog;
    uint64_t nbb = ((uint64_t)sb->logblocks << sb->blocklog) / XFS_BASIC_BLOCK;
    if (imgp_range_outside(log_off, nbb * XFS_BASIC_BLOCK, fs->base.bdev->size))
        return IMGP_OK;
    uint8_t blk[XFS_BASIC_BLOCK];
    uint32_t first, last, cycle;
    bool header;
    imgp_status st;
    if ((st = log_cycle(fs, log_off, 0, blk, &first, &header)) != IMGP_OK ||
        (st = log_cycle(fs, log_off, nbb - 1, blk, &last, &header)) != IMGP_OK)
        return st;
    uint64_t head = nbb; /* the first block not written in the current pass */
    if (last != first) {
        uint64_t lo = 0, hi = nbb - 1; /* cycle(lo) == first, cycle(hi) != first */
        while (hi - lo > 1) {
            uint64_t mid = lo + (hi - lo) / 2;
            if ((st = log_cycle(fs, log_off, mid, blk, &cycle, &header)) != IMGP_OK)
                return st;
            if (cycle == first)
                lo = mid;
            else
                hi = mid;
        }
        head = hi;
    }
    /* back from the head to the last record header */
    uint64_t bb = head;
    for (unsigned i = 0; i < XLOG_MAX_RECORD_BBLOCKS && bb > 0; i++) {
        bb--;
        if ((st = log_cycle(fs, log_off, bb, blk, &cycle, &header)) != IMGP_OK)
            return st;
        if (!header)
            continue;
        imgp_cursor c = imgp_cur_init(blk, XFS_BASIC_BLOCK);
        uint32_t version = imgp_cur_be32_at(&c, XLOG_H_VERSION), size = imgp_cur_be32_at(&c, XLOG_H_SIZE);
        uint32_t data_len = imgp_cur_be32_at(&c, XLOG_H_LEN), ops = imgp_cur_be32_at(&c, XLOG_H_NUM_LOGOPS);
        uint64_t hblocks = 1;
        if ((version & 2) && size > XLOG_HEADER_CYCLE_SIZE)
            hblocks = (size + XLOG_HEADER_CYCLE_SIZE - 1) / XLOG_HEADER_CYCLE_SIZE;
        /* an unmount record is one operation, the last thing before the head */
        uint64_t data_bbs = ((uint64_t)data_len + XFS_BASIC_BLOCK - 1) / XFS_BASIC_BLOCK;
        if (ops != 1 || hblocks + data_bbs != head - bb)
            return IMGP_OK;
        if ((st = imgp_bdev_read(fs->base.bdev, log_off + (bb + hblocks) * XFS_BASIC_BLOCK, blk,
                                 XFS_BASIC_BLOCK)) != IMGP_OK)
            return st;
        *clean = (blk[XLOG_OP_FLAGS] & XLOG_UNMOUNT_TRANS) != 0;
        return IMGP_OK;
    }
    return IMGP_OK;
}

/* ---- the driver ---- */

static int xfs_probe(const uint8_t *head, size_t len, uint64_t size)
{
    (void)size;
    imgp_cursor c = imgp_cur_init(head, len);
    uint32_t magic = imgp_cur_be32_at(&c, XFS_SB_MAGICNUM), bs = imgp_cur_be32_at(&c, XFS_SB_BLOCKSIZE);
    unsigned version = imgp_cur_be16_at(&c, XFS_SB_VERSIONNUM) & XFS_SB_VERSION_NUMBITS;
    if (!imgp_cur_ok(&c) || magic != XFS_SB_MAGIC || !imgp_is_pow2(bs) || bs < 512 || bs > 65536 ||
        version < 1 || version > 5)
        return IMGP_SCORE_NONE;
    return IMGP_SCORE_MAGIC;
}

static imgp_status xfs_stat(imgp_fs *f, imgp_ino ino, imgp_stat *st)
{
    xfs_fs *fs = (xfs_fs *)f;
    xfs_inode in;
    imgp_status s = xfs_read_inode(fs, ino, &in);
    if (s != IMGP_OK)
        return s;
    st->type = imgp_fs_mode_type(in.mode);
    if (st->type == IMGP_FT_UNKNOWN)
        return xfs_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: mode 0%o has no file type%s", (unsigned long long)ino,
                        (unsigned)in.mode, in.mode == 0 ? " (not in use)" : "");
    st->ino = ino;
    st->mode = in.mode & 07777u;
    st->nlink = in.nlink;
    st->uid = in.uid;
    st->gid = in.gid;
    st->size = in.size;
    st->atime = in.atime;
    st->mtime = in.mtime;
    st->ctime = in.ctime;
    st->mtime_nsec = in.mtime_nsec;
    if (st->type == IMGP_FT_CHR || st->type == IMGP_FT_BLK) {
        /* xfs_dinode_get_rdev: 14 bits of major, 18 of minor; Linux keeps 9 bits of the major */
        imgp_cursor c = imgp_cur_init(in.raw + in.fork_off, in.fork_len);
        uint32_t dev = imgp_cur_be32_at(&c, 0);
        st->rdev_major = (dev >> XFS_DEV_MINOR_BITS) & 0x1ffu;
        st->rdev_minor = dev & ((1u << XFS_DEV_MINOR_BITS) - 1);
    }
    if (in.format == XFS_DINODE_FMT_LOCAL)
        st->flags |= IMGP_STAT_INLINE;
    return IMGP_OK;
}

/* The bytes of a local-format fork: di_size of them must fit it. */
static imgp_status local_data(xfs_fs *fs, const xfs_inode *in, const uint8_t **data)
{
    if (in->size > in->fork_len)
        return xfs_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: %llu bytes of local data in a %u-byte fork",
                        (unsigned long long)in->ino, (unsigned long long)in->size, in->fork_len);
    *data = in->raw + in->fork_off;
    return IMGP_OK;
}

static imgp_status read_data(xfs_fs *fs, const xfs_inode *in, uint64_t off, uint8_t *buf, size_t len)
{
    unsigned long long ino = (unsigned long long)in->ino;
    if (in->flags & XFS_DIFLAG_REALTIME)
        return xfs_fail(fs, IMGP_ERR_UNSUPPORTED, "inode %llu keeps its data on the realtime device, which "
                        "imgprobe does not read", ino);
    switch (in->format) {
    case XFS_DINODE_FMT_LOCAL: {
        const uint8_t *data = NULL;
        imgp_status st = local_data(fs, in, &data);
        if (st == IMGP_OK)
            memcpy(buf, data + off, len); /* [off, off + len) lies within di_size */
        return st;
    }
    case XFS_DINODE_FMT_EXTENTS:
    case XFS_DINODE_FMT_BTREE:
        return xfs_read_mapped(fs, in, off, buf, len);
    default:
        return xfs_fail(fs, IMGP_ERR_CORRUPT, "inode %llu: data fork format %u for a file", ino, in->format);
    }
}

static imgp_status xfs_read(imgp_fs *f, imgp_ino ino, uint64_t off, void *buf, size_t len)
{
    xfs_fs *fs = (xfs_fs *)f;
    xfs_inode in;
    imgp_status st = xfs_read_inode(fs, ino, &in);
    return st != IMGP_OK ? st : read_data(fs, &in, off, buf, len);
}

/*
 * "Symbolic Links": a short target in the inode (local format), a longer one
 * in blocks; on v5 each block starts with a header naming the owner, the
 * byte offset and the bytes it holds.
 */
static imgp_status read_remote_link(xfs_fs *fs, const xfs_inode *in, char *buf, size_t len)
{
    const xfs_super *sb = &fs->sb;
    unsigned long long ino = (unsigned long long)in->ino;
    size_t per_block = sb->has_crc ? sb->blocksize - XFS_SYMLINK_HDR : sb->blocksize;
    uint8_t *blk = imgp_alloc(fs->base.ctx, sb->blocksize);
    if (!blk)
        return IMGP_ERR_NOMEM;
    imgp_status st = IMGP_OK;
    size_t done = 0;
    for (uint64_t lblk = 0; done < len && st == IMGP_OK; lblk++) {
        if ((st = xfs_read_mapped(fs, in, lblk << sb->blocklog, blk, sb->blocksize)) != IMGP_OK)
            break;
        size_t n = (size_t)imgp_min_u64(len - done, per_block);
        const uint8_t *src = blk;
        if (sb->has_crc) {
            imgp_cursor c = imgp_cur_init(blk, sb->blocksize);
            uint32_t magic = imgp_cur_be32_at(&c, 0), offset = imgp_cur_be32_at(&c, XFS_SL_OFFSET);
            uint32_t bytes = imgp_cur_be32_at(&c, XFS_SL_BYTES);
            if (magic != XFS_SYMLINK_MAGIC || offset != done || bytes < n) {
                st = xfs_fail(fs, IMGP_ERR_CORRUPT, "symlink inode %llu, block %llu: header magic 0x%08x, "
                              "offset %u, %u bytes (expected 0x%08x, %zu, %zu)", ino, (unsigned long long)lblk,
                              magic, offset, bytes, XFS_SYMLINK_MAGIC, done, n);
                break;
            }
            src += XFS_SYMLINK_HDR;
        }
        memcpy(buf + done, src, n);
        done += n;
    }
    imgp_free(fs->base.ctx, blk);
    return st;
}

static imgp_status xfs_readlink(imgp_fs *f, imgp_ino ino, char *buf, size_t cap)
{
    xfs_fs *fs = (xfs_fs *)f;
    xfs_inode in;
    imgp_status st = xfs_read_inode(fs, ino, &in);
    if (st != IMGP_OK)
        return st;
    if (in.size > XFS_SYMLINK_MAXLEN)
        return xfs_fail(fs, IMGP_ERR_CORRUPT, "symlink inode %llu: target of %llu bytes (at most %u)",
                        (unsigned long long)ino, (unsigned long long)in.size, XFS_SYMLINK_MAXLEN);
    size_t len = (size_t)imgp_min_u64(in.size, cap - 1);
    if (in.format == XFS_DINODE_FMT_LOCAL) {
        const uint8_t *data = NULL;
        if ((st = local_data(fs, &in, &data)) != IMGP_OK)
            return st;
        memcpy(buf, data, len);
    } else if (in.format == XFS_DINODE_FMT_EXTENTS || in.format == XFS_DINODE_FMT_BTREE) {
        if ((st = read_remote_link(fs, &in, buf, len)) != IMGP_OK)
            return st;
    } else {
        return xfs_fail(fs, IMGP_ERR_CORRUPT, "symlink inode %llu: data fork format %u", (unsigned long long)ino,
                        in.format);
    }
    buf[len] = '\0';
    return IMGP_OK;
}

static void xfs_unmount(imgp_fs *f)
{
    xfs_fs *fs = (xfs_fs *)f;
    imgp_ctx *ctx = f->ctx;
    imgp_cache_free(fs->meta);
    imgp_fs_release(f);
    imgp_free(ctx, fs);
}

static imgp_status load_super(xfs_fs *fs)
{
    imgp_ctx *ctx = fs->base.ctx;
    imgp_bdev *bd = fs->base.bdev;
    uint8_t buf[1u << XFS_MAX_SECTORLOG];
    if (bd->size < XFS_BASIC_BLOCK)
        return xfs_fail(fs, IMGP_ERR_CORRUPT, "a device of %llu bytes is too small to hold a superblock",
                        (unsigned long long)bd->size);
    imgp_status st = imgp_bdev_read(bd, 0, buf, XFS_BASIC_BLOCK);
    if (st != IMGP_OK || (st = xfs_parse_super(ctx, buf, XFS_BASIC_BLOCK, &fs->sb)) != IMGP_OK ||
        (st = xfs_check_features(ctx, &fs->sb)) != IMGP_OK)
        return st;
    if (!fs->sb.has_crc)
        return IMGP_OK;
    /* the CRC covers the superblock's sector */
    size_t sect = fs->sb.sectsize;
    if (bd->size < sect)
        return xfs_fail(fs, IMGP_ERR_CORRUPT, "a device of %llu bytes is shorter than the superblock's %zu-byte "
                        "sector", (unsigned long long)bd->size, sect);
    if (sect > XFS_BASIC_BLOCK && (st = imgp_bdev_read(bd, 0, buf, sect)) != IMGP_OK)
        return st;
    uint32_t crc = xfs_crc(buf, sect, XFS_SB_CRC);
    return crc == fs->sb.crc ? IMGP_OK : xfs_crc_note(fs, "superblock of AG", 0, fs->sb.crc, crc);
}

static imgp_status mount_notes(xfs_fs *fs)
{
    const xfs_super *sb = &fs->sb;
    imgp_status st = IMGP_OK;
    if (sb->incompat & XFS_SB_FEAT_INCOMPAT_NEEDSREPAIR)
        st = imgp_fs_note(&fs->base, "xfs: the filesystem is marked as needing xfs_repair");
    if (st == IMGP_OK && sb->inprogress)
        st = imgp_fs_note(&fs->base, "xfs: mkfs.xfs did not finish (sb_inprogress set)");
    uint64_t bytes = sb->dblocks << sb->blocklog;
    if (st == IMGP_OK && bytes > fs->base.bdev->size)
        st = imgp_fs_note(&fs->base, "xfs: the filesystem has %llu bytes but its device %llu (truncated?)",
                          (unsigned long long)bytes, (unsigned long long)fs->base.bdev->size);
    if (st == IMGP_OK && sb->logstart == 0) {
        st = imgp_fs_note(&fs->base, "xfs: the log is on another device: whether it holds changes is not known");
    } else if (st == IMGP_OK) {
        bool clean;
        if ((st = log_is_clean(fs, &clean)) == IMGP_OK && !clean)
            st = imgp_fs_note(&fs->base, "xfs: the log is dirty and is not replayed: the latest changes may be "
                              "missing");
    }
    return st;
}

static imgp_status mount_fs(xfs_fs *fs)
{
    imgp_ctx *ctx = fs->base.ctx;
    imgp_status st = load_super(fs);
    if (st == IMGP_OK)
        st = imgp_cache_new(ctx, fs->sb.blocksize, META_CACHE_SLOTS, &fs->meta);
    if (st == IMGP_OK)
        st = mount_notes(fs);
    if (st != IMGP_OK)
        return st;

    const xfs_super *sb = &fs->sb;
    const uint8_t *u = sb->uuid;
    snprintf(fs->uuid, sizeof fs->uuid,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
             u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    imgp_fs_info *info = &fs->base.info;
    info->type = "xfs";
    info->label = sb->label[0] ? sb->label : NULL;
    info->uuid = fs->uuid;
    info->block_size = sb->blocksize;
    info->total_bytes = sb->dblocks << sb->blocklog;
    info->free_bytes = imgp_min_u64(sb->fdblocks, sb->dblocks) << sb->blocklog;
    info->case_insensitive = sb->ascii_ci;
    info->root = sb->rootino;

    xfs_inode root;
    if ((st = xfs_read_inode(fs, sb->rootino, &root)) != IMGP_OK)
        return st;
    if (imgp_fs_mode_type(root.mode) != IMGP_FT_DIR)
        return xfs_fail(fs, IMGP_ERR_CORRUPT, "root inode %llu is not a directory (mode 0%o)",
                        (unsigned long long)sb->rootino, (unsigned)root.mode);
    return IMGP_OK;
}

static imgp_status xfs_mount(imgp_ctx *ctx, imgp_bdev *bd, imgp_fs **out)
{
    xfs_fs *fs = imgp_calloc(ctx, 1, sizeof *fs);
    if (!fs)
        return IMGP_ERR_NOMEM;
    fs->base.drv = &imgp_fs_xfs;
    fs->base.ctx = ctx;
    fs->base.bdev = bd;
    imgp_status st = mount_fs(fs);
    if (st != IMGP_OK) {
        xfs_unmount(&fs->base);
        return st;
    }
    *out = &fs->base;
    return IMGP_OK;
}

const imgp_fs_driver imgp_fs_xfs = {
    .name = "xfs",
    .probe = xfs_probe,
    .mount = xfs_mount,
    .stat = xfs_stat,
    .readdir = xfs_readdir,
    .read = xfs_read,
    .readlink = xfs_readlink,
    .lookup = xfs_lookup,
    .unmount = xfs_unmount,
};
