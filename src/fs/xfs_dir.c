/*
 * XFS directories ("Directories"). A small directory lives in its inode
 * (shortform); every larger one keeps its entries in data blocks at the start
 * of its data fork, below XFS_DIR2_LEAF_OFFSET: one block holding entries and
 * their hash index (a block directory), or data blocks with the hash index
 * in leaf blocks, a da-btree of node blocks, and free-space blocks beyond
 * that offset (leaf, node and btree-format directories). Listing reads the
 * data blocks only, in order, which is all of every form; lookups compare
 * names over the same walk (exactly, or without ASCII case on an ascii-ci
 * filesystem).
 */
#include <stdio.h>

#include "../core/cursor.h"
#include "xfs.h"

static imgp_ftype dirent_type(uint8_t ft)
{
    switch (ft) {
    case XFS_DIR3_FT_REG_FILE: return IMGP_FT_REG;
    case XFS_DIR3_FT_DIR: return IMGP_FT_DIR;
    case XFS_DIR3_FT_CHRDEV: return IMGP_FT_CHR;
    case XFS_DIR3_FT_BLKDEV: return IMGP_FT_BLK;
    case XFS_DIR3_FT_FIFO: return IMGP_FT_FIFO;
    case XFS_DIR3_FT_SOCK: return IMGP_FT_SOCK;
    case XFS_DIR3_FT_SYMLINK: return IMGP_FT_SYMLINK;
    default: return IMGP_FT_UNKNOWN;
    }
}

/* "Short Form Directories": a header (count, i8count, the parent), then
 * entries of a name, the file type with ftype, and a 4- or 8-byte inode
 * number (8 when i8count is not zero). */
imgp_status xfs_parse_sf_dir(imgp_ctx *ctx, const uint8_t *buf, size_t len, bool ftype, const char *where,
                             imgp_readdir_fn fn, void *arg, bool *stopped)
{
    *stopped = false;
    imgp_cursor c = imgp_cur_init(buf, len);
    uint8_t count = imgp_cur_u8_at(&c, XFS_DIR2_SF_COUNT), i8count = imgp_cur_u8_at(&c, XFS_DIR2_SF_I8COUNT);
    size_t isize = i8count ? 8 : 4, off = XFS_DIR2_SF_PARENT + isize;
    if (!imgp_cur_ok(&c) || len < off)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: %zu bytes, shorter than a shortform header", where, len);
    if (i8count > count)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: i8count %u exceeds count %u", where, i8count, count);
    for (unsigned i = 0; i < count; i++) {
        uint8_t namelen = imgp_cur_u8_at(&c, off);
        size_t size = XFS_DIR2_SF_ENTRY_NAME + (size_t)namelen + (ftype ? 1 : 0) + isize;
        if (!imgp_cur_ok(&c) || size > len - off)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: entry %u of %u at offset %zu overruns the %zu-byte "
                              "directory (count exceeds its size)", where, i, count, off, len);
        if (namelen == 0)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: entry %u at offset %zu has an empty name", where, i,
                              off);
        size_t at = off + XFS_DIR2_SF_ENTRY_NAME + namelen;
        uint8_t ft = ftype ? imgp_cur_u8_at(&c, at++) : 0;
        uint64_t ino = isize == 8 ? imgp_cur_be64_at(&c, at) : imgp_cur_be32_at(&c, at);
        imgp_dirent e = {ino, dirent_type(ft), (const char *)buf + off + XFS_DIR2_SF_ENTRY_NAME, namelen};
        if (fn(arg, &e)) {
            *stopped = true;
            return IMGP_OK;
        }
        off += size;
    }
    return IMGP_OK;
}

/* "Block Directories" / "Leaf Directories": a header with the three largest
 * free spaces, then entries and unused spans, 8-byte aligned; a block
 * directory's block ends with its hash index and a tail counting it. */
imgp_status xfs_parse_dir_block(imgp_ctx *ctx, const uint8_t *buf, size_t len, bool crc, bool ftype,
                                const char *where, imgp_readdir_fn fn, void *arg, bool *stopped)
{
    *stopped = false;
    imgp_cursor c = imgp_cur_init(buf, len);
    uint32_t magic = imgp_cur_be32_at(&c, 0);
    uint32_t block_magic = crc ? XFS_DIR3_BLOCK_MAGIC : XFS_DIR2_BLOCK_MAGIC;
    uint32_t data_magic = crc ? XFS_DIR3_DATA_MAGIC : XFS_DIR2_DATA_MAGIC;
    size_t hdr = crc ? XFS_DIR3_DATA_HDR : XFS_DIR2_DATA_HDR;
    if (!imgp_cur_ok(&c) || len < hdr + XFS_DIR2_BLOCK_TAIL)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: %zu bytes, too small for a directory block", where, len);
    if (magic != block_magic && magic != data_magic)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: magic 0x%08x (expected 0x%08x or 0x%08x)", where, magic,
                          block_magic, data_magic);
    size_t end = len;
    if (magic == block_magic) {
        uint32_t count = imgp_cur_be32_at(&c, len - XFS_DIR2_BLOCK_TAIL);
        if (count > (len - hdr - XFS_DIR2_BLOCK_TAIL) / XFS_DIR2_LEAF_ENTRY)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: block tail counts %u hash entries, more than the "
                              "%zu-byte block holds", where, count, len);
        end = len - XFS_DIR2_BLOCK_TAIL - (size_t)count * XFS_DIR2_LEAF_ENTRY;
    }
    size_t bestfree = crc ? XFS_DIR3_BESTFREE_OFFSET : XFS_DIR2_BESTFREE_OFFSET;
    for (size_t k = 0; k < XFS_DIR2_DATA_FD_COUNT; k++) {
        uint16_t o = imgp_cur_be16_at(&c, bestfree + 4 * k), l = imgp_cur_be16_at(&c, bestfree + 4 * k + 2);
        if (l != 0 && (o < hdr || imgp_range_outside(o, l, end)))
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: bestfree[%zu] at offset %u of %u bytes overruns the "
                              "entries (%zu to %zu)", where, k, o, l, hdr, end);
    }
    for (size_t off = hdr; off < end;) {
        if (end - off < XFS_DIR2_DATA_UNUSED_MIN)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: %zu bytes left at offset %zu, too few for an entry",
                              where, end - off, off);
        if (imgp_cur_be16_at(&c, off) == XFS_DIR2_DATA_FREE_TAG) {
            uint16_t ulen = imgp_cur_be16_at(&c, off + 2);
            if (ulen < XFS_DIR2_DATA_UNUSED_MIN || ulen % XFS_DIR2_DATA_ALIGN || ulen > end - off)
                return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: unused span at offset %zu of %u bytes (a "
                                  "multiple of 8 within the %zu bytes of entries)", where, off, ulen, end);
            off += ulen;
            continue;
        }
        uint64_t ino = imgp_cur_be64_at(&c, off);
        uint8_t namelen = imgp_cur_u8_at(&c, off + 8);
        size_t size = (8 + 1 + (size_t)namelen + (ftype ? 1 : 0) + 2 + XFS_DIR2_DATA_ALIGN - 1) &
                      ~(size_t)(XFS_DIR2_DATA_ALIGN - 1);
        if (namelen == 0 || size > end - off)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "xfs: %s: entry at offset %zu with a name of %u bytes overruns "
                              "the %zu bytes of entries", where, off, namelen, end);
        uint8_t ft = ftype ? imgp_cur_u8_at(&c, off + 9 + namelen) : 0;
        imgp_dirent e = {ino, dirent_type(ft), (const char *)buf + off + 9, namelen};
        if (fn(arg, &e)) {
            *stopped = true;
            return IMGP_OK;
        }
        off += size;
    }
    return IMGP_OK;
}

/* Every entry of directory @p in ("." and ".." included in data blocks). */
static imgp_status walk_dir(xfs_fs *fs, const xfs_inode *in, imgp_readdir_fn fn, void *arg)
{
    imgp_ctx *ctx = fs->base.ctx;
    const xfs_super *sb = &fs->sb;
    unsigned long long ino = (unsigned long long)in->ino;
    char where[112];
    bool stopped = false;

    if (in->format == XFS_DINODE_FMT_LOCAL) {
        if (in->size > in->fork_len)
            return xfs_fail(fs, IMGP_ERR_CORRUPT, "directory inode %llu: shortform size %llu exceeds its %u-byte "
                            "data fork", ino, (unsigned long long)in->size, in->fork_len);
        snprintf(where, sizeof where, "directory inode %llu (shortform)", ino);
        return xfs_parse_sf_dir(ctx, in->raw + in->fork_off, (size_t)in->size, sb->has_ftype, where, fn, arg,
                                &stopped);
    }
    if (in->format != XFS_DINODE_FMT_EXTENTS && in->format != XFS_DINODE_FMT_BTREE)
        return xfs_fail(fs, IMGP_ERR_CORRUPT, "directory inode %llu: data fork format %u", ino, in->format);

    const size_t dbs = sb->dirblksize;
    uint64_t data_bytes = imgp_min_u64(in->size, XFS_DIR2_LEAF_OFFSET);
    uint64_t ndb = (data_bytes + dbs - 1) / dbs;
    /* A data block holds at least one entry or unused span: bound the blocks
     * read (and the mappings asked) by the entry limit. */
    uint64_t budget = imgp_ctx_limit(ctx, IMGP_LIMIT_DIR_ENTRIES);
    uint8_t *buf = imgp_alloc(ctx, dbs);
    if (!buf)
        return IMGP_ERR_NOMEM;
    imgp_status st = IMGP_OK;
    for (uint64_t d = 0; d < ndb && st == IMGP_OK && !stopped;) {
        if (budget-- == 0) {
            st = xfs_fail(fs, IMGP_ERR_LIMIT, "directory inode %llu: more than %llu blocks to read", ino,
                          (unsigned long long)imgp_ctx_limit(ctx, IMGP_LIMIT_DIR_ENTRIES));
            break;
        }
        uint64_t lblk = d << sb->dirblklog;
        xfs_run run;
        if ((st = xfs_map(fs, in, lblk, &run)) != IMGP_OK)
            break;
        if (run.zero) { /* a hole (data blocks emptied and freed): nothing listed there */
            uint64_t per = 1ull << sb->dirblklog;
            d = (lblk + run.len + per - 1) >> sb->dirblklog;
            continue;
        }
        if ((st = xfs_read_mapped(fs, in, d * dbs, buf, dbs)) != IMGP_OK)
            break;
        if (sb->has_crc) {
            imgp_cursor c = imgp_cur_init(buf, dbs);
            uint32_t stored = imgp_cur_le32_at(&c, XFS_DIR3_CRC), crc = xfs_crc(buf, dbs, XFS_DIR3_CRC);
            snprintf(where, sizeof where, "directory inode %llu, data block", ino);
            if (stored != crc && (st = xfs_crc_note(fs, where, d, stored, crc)) != IMGP_OK)
                break;
        }
        snprintf(where, sizeof where, "directory inode %llu, data block %llu", ino, (unsigned long long)d);
        st = xfs_parse_dir_block(ctx, buf, dbs, sb->has_crc, sb->has_ftype, where, fn, arg, &stopped);
        d++;
    }
    imgp_free(ctx, buf);
    return st;
}

/* Every entry but "." and "..", counted against IMGP_LIMIT_DIR_ENTRIES. */
static imgp_status walk_counted(xfs_fs *fs, imgp_ino dir, imgp_readdir_fn fn, void *arg)
{
    xfs_inode in;
    imgp_status st = xfs_read_inode(fs, dir, &in);
    if (st != IMGP_OK)
        return st;
    imgp_fs_lister l = {.fn = fn, .arg = arg, .limit = imgp_ctx_limit(fs->base.ctx, IMGP_LIMIT_DIR_ENTRIES)};
    st = walk_dir(fs, &in, imgp_fs_list_entry, &l);
    if (st == IMGP_OK && l.over)
        st = xfs_fail(fs, IMGP_ERR_LIMIT, "directory inode %llu has more than %llu entries",
                      (unsigned long long)dir, (unsigned long long)l.limit);
    return st;
}

imgp_status xfs_readdir(imgp_fs *f, imgp_ino dir, imgp_readdir_fn fn, void *arg)
{
    return walk_counted((xfs_fs *)f, dir, fn, arg);
}

/* A name looked up: exactly, or without ASCII case on an ascii-ci filesystem. */
typedef struct match_arg {
    const char *name;
    size_t name_len;
    bool ascii_ci, found;
    imgp_ino ino;
} match_arg;

static unsigned char ascii_lower(unsigned char ch) { return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch + 32) : ch; }

static int match_entry(void *arg, const imgp_dirent *e)
{
    match_arg *l = arg;
    if (e->name_len != l->name_len)
        return 0;
    for (size_t i = 0; i < e->name_len; i++) {
        unsigned char a = (unsigned char)e->name[i], b = (unsigned char)l->name[i];
        if (a != b && (!l->ascii_ci || ascii_lower(a) != ascii_lower(b)))
            return 0;
    }
    l->found = true;
    l->ino = e->ino;
    return 1;
}

imgp_status xfs_lookup(imgp_fs *f, imgp_ino dir, const char *name, size_t len, imgp_ino *out)
{
    xfs_fs *fs = (xfs_fs *)f;
    match_arg l = {.name = name, .name_len = len, .ascii_ci = fs->sb.ascii_ci};
    imgp_status st = walk_counted(fs, dir, match_entry, &l);
    if (st != IMGP_OK)
        return st;
    if (!l.found)
        return xfs_fail(fs, IMGP_ERR_NOT_FOUND, "'%.*s' not found in directory inode %llu",
                        (int)imgp_min_u64(len, 255), name, (unsigned long long)dir);
    *out = l.ino;
    return IMGP_OK;
}
