/*
 * ext4 directories (directory.rst): blocks of ext4_dir_entry_2 records,
 * read linearly. An htree directory reads the same way: its index blocks
 * look like empty entries to a linear reader, which the format promises
 * ("Hash Tree Directories"). Inline directories (inlinedata.rst) keep their
 * entries in i_block and the "system.data" attribute. Lookups compare names
 * exactly, or case-insensitively in a casefold directory.
 */
#include <stdio.h>

#include "../core/cursor.h"
#include "ext4.h"

#define DIR_READ_BYTES (64u * 1024) /* directory blocks read at a time from a contiguous run */
#define MIN_REC_LEN 12u             /* an entry with a 1- to 4-byte name, the smallest there is */

static imgp_ftype dirent_type(uint8_t ft)
{
    switch (ft) {
    case EXT4_FT_REG_FILE: return IMGP_FT_REG;
    case EXT4_FT_DIR: return IMGP_FT_DIR;
    case EXT4_FT_CHRDEV: return IMGP_FT_CHR;
    case EXT4_FT_BLKDEV: return IMGP_FT_BLK;
    case EXT4_FT_FIFO: return IMGP_FT_FIFO;
    case EXT4_FT_SOCK: return IMGP_FT_SOCK;
    case EXT4_FT_SYMLINK: return IMGP_FT_SYMLINK;
    default: return IMGP_FT_UNKNOWN;
    }
}

/* directory.rst: rec_len is 16 bits; in 64 KiB blocks 65535 or 0 stands for
 * 65536 and the two low bits carry bits 16-17 (the kernel's
 * ext4_rec_len_from_disk). Smaller blocks take it as it is. */
static size_t rec_len_from_disk(uint16_t v, size_t block_len)
{
    if (block_len < 65536)
        return v;
    if (v == 65535 || v == 0)
        return 65536;
    return (size_t)(v & 65532u) | ((size_t)(v & 3u) << 16);
}

imgp_status ext4_parse_dir_block(imgp_ctx *ctx, const uint8_t *buf, size_t len, bool filetype,
                                 const char *where, imgp_readdir_fn fn, void *arg, bool *stopped)
{
    *stopped = false;
    imgp_cursor c = imgp_cur_init(buf, len);
    for (size_t off = 0; off < len;) {
        if (len - off < EXT4_DE_HEADER)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: %s: entry at offset %zu: %zu bytes left, fewer than "
                              "an entry header", where, off, len - off);
        uint32_t ino = imgp_cur_le32_at(&c, off + EXT4_DE_INODE);
        uint16_t raw = imgp_cur_le16_at(&c, off + EXT4_DE_REC_LEN);
        uint8_t name_len = imgp_cur_u8_at(&c, off + EXT4_DE_NAME_LEN);
        uint8_t ft = imgp_cur_u8_at(&c, off + EXT4_DE_FILE_TYPE);
        size_t rec_len = rec_len_from_disk(raw, len);
        if (rec_len == 0)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: %s: entry at offset %zu has rec_len 0", where, off);
        if (rec_len < MIN_REC_LEN || rec_len % 4)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: %s: entry at offset %zu has rec_len %zu (at least %u, "
                              "a multiple of 4)", where, off, rec_len, MIN_REC_LEN);
        if (rec_len > len - off)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: %s: entry at offset %zu has rec_len %zu, overrunning "
                              "the %zu-byte block", where, off, rec_len, len);
        if ((size_t)name_len + EXT4_DE_HEADER > rec_len)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ext4: %s: entry at offset %zu: name_len %u does not fit "
                              "rec_len %zu", where, off, name_len, rec_len);
        if (ino != 0 && name_len != 0) {
            imgp_dirent e = {ino, filetype ? dirent_type(ft) : IMGP_FT_UNKNOWN,
                             (const char *)buf + off + EXT4_DE_NAME, name_len};
            if (fn(arg, &e)) {
                *stopped = true;
                return IMGP_OK;
            }
        }
        off += rec_len;
    }
    return IMGP_OK;
}

/* Every entry of directory @p in, "." and ".." included, in on-disk order. */
static imgp_status walk_dir(ext4_fs *fs, const ext4_inode *in, imgp_readdir_fn fn, void *arg)
{
    imgp_ctx *ctx = fs->base.ctx;
    unsigned long long ino = (unsigned long long)in->ino;
    bool filetype = fs->sb.incompat & EXT4_INCOMPAT_FILETYPE;
    char where[96];
    bool stopped = false;
    imgp_status st;

    if (in->flags & EXT4_INLINE_DATA_FL) {
        /* i_block: the parent's inode number, then entries; then more in the attribute */
        snprintf(where, sizeof where, "directory inode %llu, inline entries in i_block", ino);
        st = ext4_parse_dir_block(ctx, in->block + EXT4_INLINE_DOTDOT_SIZE,
                                  EXT4_I_BLOCK_LEN - EXT4_INLINE_DOTDOT_SIZE, filetype, where, fn, arg, &stopped);
        size_t ea_len;
        const uint8_t *ea = ext4_inline_ea(in, &ea_len);
        if (st != IMGP_OK || stopped || !ea || ea_len == 0)
            return st;
        snprintf(where, sizeof where, "directory inode %llu, inline entries in system.data", ino);
        return ext4_parse_dir_block(ctx, ea, ea_len, filetype, where, fn, arg, &stopped);
    }

    const unsigned log = fs->sb.log_block_size;
    const size_t bs = fs->sb.block_size;
    uint64_t nblocks = (in->size >> log) + ((in->size & (bs - 1)) != 0);
    size_t chunk = bs > DIR_READ_BYTES ? bs : DIR_READ_BYTES;
    /* A directory block holds at least one entry, so a directory has no more
     * blocks than entries: bound the blocks read and the mappings asked (an
     * extent tree can map one block at many places) by the entry limit. */
    uint64_t budget = imgp_ctx_limit(ctx, IMGP_LIMIT_DIR_ENTRIES);
    uint8_t *buf = imgp_alloc(ctx, chunk);
    if (!buf)
        return IMGP_ERR_NOMEM;
    st = IMGP_OK;
    for (uint64_t lblk = 0; lblk < nblocks && st == IMGP_OK && !stopped;) {
        ext4_run run;
        if (budget-- == 0) {
            st = ext4_fail(fs, IMGP_ERR_LIMIT, "directory inode %llu: more than %llu blocks to read",
                           ino, (unsigned long long)imgp_ctx_limit(ctx, IMGP_LIMIT_DIR_ENTRIES));
            break;
        }
        if ((st = ext4_map(fs, in, lblk, &run)) != IMGP_OK)
            break;
        uint64_t count = imgp_min_u64(imgp_min_u64(run.len, nblocks - lblk), chunk / bs);
        if (run.zero) { /* a hole: nothing listed there */
            lblk += imgp_min_u64(run.len, nblocks - lblk);
            continue;
        }
        count = imgp_min_u64(count, budget + 1);
        budget -= count - 1;
        st = imgp_bdev_read(fs->base.bdev, run.pblk << log, buf, (size_t)count * bs);
        if (st != IMGP_OK) {
            imgp_error_prefix(ctx, "ext4: directory inode %llu, block %llu: ", ino, (unsigned long long)lblk);
            break;
        }
        for (uint64_t i = 0; i < count && st == IMGP_OK && !stopped; i++) {
            snprintf(where, sizeof where, "directory inode %llu, block %llu (filesystem block %llu)", ino,
                     (unsigned long long)(lblk + i), (unsigned long long)(run.pblk + i));
            st = ext4_parse_dir_block(ctx, buf + i * bs, bs, filetype, where, fn, arg, &stopped);
        }
        lblk += count;
    }
    imgp_free(ctx, buf);
    return st;
}

/* A listing or a lookup: the shared lister (dots left out, entries counted
 * against IMGP_LIMIT_DIR_ENTRIES) and, for lookups, the name wanted. */
typedef struct list_arg {
    imgp_fs_lister list;
    const char *name;
    size_t name_len;
    bool casefold, found;
    imgp_ino ino;
} list_arg;

static imgp_status walk_counted(ext4_fs *fs, const ext4_inode *dir, list_arg *l)
{
    l->list.limit = imgp_ctx_limit(fs->base.ctx, IMGP_LIMIT_DIR_ENTRIES);
    imgp_status st = walk_dir(fs, dir, imgp_fs_list_entry, &l->list);
    if (st == IMGP_OK && l->list.over)
        st = ext4_fail(fs, IMGP_ERR_LIMIT, "directory inode %llu has more than %llu entries",
                       (unsigned long long)dir->ino, (unsigned long long)l->list.limit);
    return st;
}

imgp_status ext4_readdir(imgp_fs *f, imgp_ino dir, imgp_readdir_fn fn, void *arg)
{
    ext4_fs *fs = (ext4_fs *)f;
    list_arg l = {.list = {.fn = fn, .arg = arg}};
    ext4_inode in;
    imgp_status st = ext4_read_inode(fs, dir, &in);
    return st != IMGP_OK ? st : walk_counted(fs, &in, &l);
}

/* ---- lookup ---- */

/*
 * Casefolding, simplified: the kernel folds with the full Unicode tables
 * (utf8-12.1, NFD normalisation); this folds the letters of ASCII, Latin-1,
 * Latin Extended-A, basic Greek and basic Cyrillic, and compares the rest
 * exactly. A name that is not valid UTF-8 is compared byte for byte, as the
 * kernel does when it cannot decode one.
 */
static uint32_t fold(uint32_t cp)
{
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) || (cp >= 0x391 && cp <= 0x3AB) ||
        (cp >= 0x410 && cp <= 0x42F))
        return cp + 0x20;
    if (cp >= 0x400 && cp <= 0x40F)
        return cp + 0x50;
    if (cp == 0x178)
        return 0xFF;
    if (cp == 0x3C2) /* final sigma folds to sigma */
        return 0x3C3;
    if (cp == 0x17F)
        return 's';
    /* Latin Extended-A pairs upper/lower case as even/odd code points, except
     * where the run shifts by one (U+0139..U+0148, U+0179..U+017E) */
    if ((cp >= 0x100 && cp <= 0x137 && cp != 0x130 && cp != 0x131) || (cp >= 0x14A && cp <= 0x177))
        return cp | 1u;
    if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
        return cp & 1u ? cp + 1 : cp;
    return cp;
}

/* Decode the code point at *i; false when the bytes there are not UTF-8. */
static bool utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
    unsigned char b = s[*i];
    size_t n = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || n > len - *i)
        return false;
    uint32_t v = n == 1 ? b : b & (0x7Fu >> n);
    for (size_t k = 1; k < n; k++) {
        if ((s[*i + k] & 0xC0) != 0x80)
            return false;
        v = v << 6 | (s[*i + k] & 0x3Fu);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return false;
    *i += n;
    *cp = v;
    return true;
}

bool ext4_casefold_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    size_t i = 0, j = 0;
    while (i < alen && j < blen) {
        uint32_t ca, cb;
        if (!utf8_next(x, alen, &i, &ca) || !utf8_next(y, blen, &j, &cb))
            return alen == blen && memcmp(a, b, alen) == 0;
        if (fold(ca) != fold(cb))
            return false;
    }
    return i == alen && j == blen;
}

static int match_entry(void *arg, const imgp_dirent *e)
{
    list_arg *l = arg;
    bool same = l->casefold ? ext4_casefold_equal(e->name, e->name_len, l->name, l->name_len)
                            : e->name_len == l->name_len && memcmp(e->name, l->name, l->name_len) == 0;
    if (!same)
        return 0;
    l->found = true;
    l->ino = e->ino;
    return 1;
}

imgp_status ext4_lookup(imgp_fs *f, imgp_ino dir, const char *name, size_t len, imgp_ino *out)
{
    ext4_fs *fs = (ext4_fs *)f;
    list_arg l = {.list = {.fn = match_entry}, .name = name, .name_len = len};
    l.list.arg = &l;
    ext4_inode in;
    imgp_status st = ext4_read_inode(fs, dir, &in);
    if (st != IMGP_OK)
        return st;
    l.casefold = (fs->sb.incompat & EXT4_INCOMPAT_CASEFOLD) && (in.flags & EXT4_CASEFOLD_FL);
    if ((st = walk_counted(fs, &in, &l)) != IMGP_OK)
        return st;
    if (!l.found)
        return ext4_fail(fs, IMGP_ERR_NOT_FOUND, "'%.*s' not found in directory inode %llu",
                         (int)imgp_min_u64(len, EXT4_NAME_LEN), name, (unsigned long long)dir);
    *out = l.ino;
    return IMGP_OK;
}
