/*
 * NTFS directories ([NTFSDOC] "Directories", "$INDEX_ROOT",
 * "$INDEX_ALLOCATION"): a B+ tree of $FILE_NAME keys named $I30, its root
 * resident in the record and its other nodes in index blocks ("INDX", with
 * fixups) of $INDEX_ALLOCATION. readdir walks the tree in order; lookup
 * descends it comparing names through the volume's $UpCase table, as
 * Windows does (the collation of file names: upper-cased UTF-16 units
 * compared as numbers).
 */
#include <stdio.h>

#include "../core/cursor.h"
#include "../core/utf8.h"
#include "ntfs.h"

#define MAX_TREE_DEPTH 32 /* a tree of 64 KiB blocks this deep would index more names than exist */

static const uint8_t i30_name[] = {'$', 0, 'I', 0, '3', 0, '0', 0};

/* ---- parser ---- */

imgp_status ntfs_parse_index_node(imgp_ctx *ctx, const uint8_t *buf, size_t len, size_t node_off,
                                  const char *where, ntfs_index_fn fn, void *arg, bool *stopped)
{
    *stopped = false;
    imgp_cursor c = imgp_cur_init(buf, len);
    uint32_t entries = imgp_cur_le32_at(&c, node_off + NTFS_IH_ENTRIES_OFFSET);
    uint32_t index_len = imgp_cur_le32_at(&c, node_off + NTFS_IH_INDEX_LENGTH);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: %s: node header truncated", where);
    size_t avail = len - node_off;
    if (index_len > avail || entries < NTFS_IH_SIZE || entries > index_len)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: %s: entries at %u..%u, outside the node's %zu bytes", where,
                          entries, index_len, avail);
    imgp_cursor n = imgp_cur_init(buf + node_off, index_len);
    for (size_t off = entries;;) {
        if (index_len - off < NTFS_IE_KEY)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: %s: entry at offset %zu overruns the node (%u bytes) "
                              "before its last entry", where, off, index_len);
        ntfs_index_entry e = {0};
        e.ref = imgp_cur_le64_at(&n, off + NTFS_IE_REF);
        uint16_t elen = imgp_cur_le16_at(&n, off + NTFS_IE_LENGTH);
        uint16_t klen = imgp_cur_le16_at(&n, off + NTFS_IE_KEY_LENGTH);
        e.flags = imgp_cur_le16_at(&n, off + NTFS_IE_FLAGS);
        size_t need = NTFS_IE_KEY + ((e.flags & NTFS_IE_LAST) ? 0 : (size_t)klen) + ((e.flags & NTFS_IE_SUBNODE) ? 8 : 0);
        if (elen % 8 != 0 || elen < need || elen > index_len - off)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: %s: entry at offset %zu has length %u (key %u bytes, %zu "
                              "bytes left)", where, off, elen, klen, index_len - off);
        if (e.flags & NTFS_IE_SUBNODE)
            e.subnode_vcn = imgp_cur_le64_at(&n, off + elen - 8);
        if (!(e.flags & NTFS_IE_LAST)) {
            imgp_cursor k = imgp_cur_init(buf + node_off + off + NTFS_IE_KEY, klen);
            e.file_attributes = imgp_cur_le32_at(&k, NTFS_FN_ATTRIBUTES);
            e.name_len = imgp_cur_u8_at(&k, NTFS_FN_NAME_LENGTH);
            e.name_space = imgp_cur_u8_at(&k, NTFS_FN_NAMESPACE);
            e.name = imgp_cur_ptr_at(&k, NTFS_FN_NAME, (size_t)e.name_len * 2);
            if (!imgp_cur_ok(&k) || e.name_len == 0)
                return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: %s: entry at offset %zu: file name of %u units does "
                                  "not fit its %u-byte key", where, off, e.name_len, klen);
        }
        if (fn(arg, &e)) {
            *stopped = true;
            return IMGP_OK;
        }
        if (e.flags & NTFS_IE_LAST)
            return IMGP_OK;
        off += elen;
    }
}

/* ---- names ---- */

size_t ntfs_utf16_to_utf8(const uint8_t *s, size_t units, char *out, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t cp = (uint32_t)(s[2 * i] | s[2 * i + 1] << 8);
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < units) {
            uint32_t lo = (uint32_t)(s[2 * i + 2] | s[2 * i + 3] << 8);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i++;
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xFFFD;
        if (!imgp_utf8_put(cp, out, cap, &len))
            break;
    }
    if (cap)
        out[len] = '\0';
    return len;
}

/* UTF-8 to UTF-16 units; false when the name is not valid UTF-8 or longer than @p cap units. */
static bool utf8_to_utf16(const char *name, size_t len, uint16_t *out, size_t cap, size_t *units)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        unsigned char b = s[i];
        size_t k = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
        if (k == 0 || k > len - i)
            return false;
        uint32_t cp = k == 1 ? b : b & (0x7Fu >> k);
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3Fu);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k;
        if (cp >= 0x10000) {
            if (cap - n < 2)
                return false;
            out[n++] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
            out[n++] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
        } else {
            if (n == cap)
                return false;
            out[n++] = (uint16_t)cp;
        }
    }
    *units = n;
    return true;
}

uint16_t ntfs_upcase_builtin(uint16_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 0xE0 && c <= 0xFE && c != 0xF7) || (c >= 0x3B1 && c <= 0x3CB && c != 0x3C2) ||
        (c >= 0x430 && c <= 0x44F))
        return (uint16_t)(c - 0x20);
    if (c >= 0x450 && c <= 0x45F)
        return (uint16_t)(c - 0x50);
    if (c == 0xFF)
        return 0x178;
    if ((c >= 0x100 && c <= 0x137 && c != 0x130 && c != 0x131) || (c >= 0x14A && c <= 0x177))
        return (uint16_t)(c & ~1u);
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return c & 1u ? c : (uint16_t)(c - 1);
    return c;
}

/* Compare a name (@p a, host units) with an entry's (@p b, UTF-16LE) as the
 * file-name collation does: upper-cased, unit by unit, then by length. */
static int collate(const ntfs_fs *fs, const uint16_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    for (size_t i = 0; i < n; i++) {
        uint16_t x = fs->upcase[a[i]], y = fs->upcase[(uint16_t)(b[2 * i] | b[2 * i + 1] << 8)];
        if (x != y)
            return x < y ? -1 : 1;
    }
    return alen < blen ? -1 : alen > blen;
}

static bool exact(const uint16_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (a[i] != (uint16_t)(b[2 * i] | b[2 * i + 1] << 8))
            return false;
    return true;
}

/* ---- the tree ---- */

typedef struct tree {
    ntfs_fs *fs;
    uint64_t dir;
    ntfs_stream alloc;       /* $INDEX_ALLOCATION:$I30, when there is one */
    bool has_alloc;
    uint32_t block_size;
    unsigned vcn_shift;      /* index block VCNs count clusters, or 512-byte units for blocks smaller than one */
    uint64_t blocks_left;    /* visits allowed: as many as the allocation holds blocks */
    unsigned depth;
    /* what to do with each entry: readdir or lookup */
    int (*visit)(struct tree *t, const ntfs_index_entry *e, bool *descend);
    imgp_status err;
    /* readdir */
    imgp_readdir_fn fn;
    void *arg;
    uint64_t count, limit;
    char name[3 * 255 + 1];
    /* lookup */
    const uint16_t *want;
    size_t want_len;
    bool found, found_exact, found_dos, done;
    uint64_t found_ref, dos_ref;
} tree;

static imgp_status walk_node(tree *t, const uint8_t *buf, size_t len, size_t node_off, const char *where);

/* Read index block @p vcn and walk it. */
static imgp_status walk_block(tree *t, uint64_t vcn)
{
    ntfs_fs *fs = t->fs;
    unsigned long long dir = (unsigned long long)t->dir;
    if (!t->has_alloc)
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "directory record %llu: an index entry points to block %llu, but "
                         "there is no $INDEX_ALLOCATION", dir, (unsigned long long)vcn);
    if (t->blocks_left == 0 || t->depth >= MAX_TREE_DEPTH)
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "directory record %llu: the index tree visits block %llu once too "
                         "often or too deep (a loop?)", dir, (unsigned long long)vcn);
    t->blocks_left--;
    uint64_t off = vcn << t->vcn_shift;
    if (vcn > UINT64_MAX >> t->vcn_shift || imgp_range_outside(off, t->block_size, t->alloc.size))
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "directory record %llu: index block %llu lies past the end of "
                         "$INDEX_ALLOCATION (%llu bytes)", dir, (unsigned long long)vcn,
                         (unsigned long long)t->alloc.size);
    uint8_t *buf = imgp_alloc(fs->base.ctx, t->block_size);
    if (!buf)
        return IMGP_ERR_NOMEM;
    char where[96];
    snprintf(where, sizeof where, "directory record %llu, index block %llu", dir, (unsigned long long)vcn);
    imgp_status st = ntfs_stream_read(fs, t->dir, &t->alloc, off, buf, t->block_size);
    if (st == IMGP_OK)
        st = ntfs_apply_fixups(fs->base.ctx, buf, t->block_size, "INDX", where);
    if (st == IMGP_OK) {
        imgp_cursor c = imgp_cur_init(buf, t->block_size);
        uint64_t self = imgp_cur_le64_at(&c, NTFS_IB_VCN);
        if (self != vcn)
            st = ntfs_fail(fs, IMGP_ERR_CORRUPT, "%s says it is block %llu", where, (unsigned long long)self);
    }
    if (st == IMGP_OK) {
        t->depth++;
        st = walk_node(t, buf, t->block_size, NTFS_IB_NODE, where);
        t->depth--;
    }
    imgp_free(fs->base.ctx, buf);
    return st;
}

static int node_entry(void *arg, const ntfs_index_entry *e)
{
    tree *t = arg;
    bool descend = false;
    int stop = t->visit(t, e, &descend);
    /* readdir: the child first (its names sort before this entry's), then the entry */
    if (descend && (e->flags & NTFS_IE_SUBNODE)) {
        t->err = walk_block(t, e->subnode_vcn);
        if (t->err != IMGP_OK || t->done)
            return 1;
    }
    return stop;
}

static imgp_status walk_node(tree *t, const uint8_t *buf, size_t len, size_t node_off, const char *where)
{
    bool stopped;
    t->err = IMGP_OK;
    imgp_status st = ntfs_parse_index_node(t->fs->base.ctx, buf, len, node_off, where, node_entry, t, &stopped);
    return st != IMGP_OK ? st : t->err;
}

/* Open directory @p dir's $I30 index and walk it from the root. */
static imgp_status walk_tree(ntfs_fs *fs, uint64_t dir, tree *t)
{
    ntfs_inode in;
    imgp_status st = ntfs_inode_load(fs, dir, &in);
    if (st != IMGP_OK) {
        ntfs_inode_free(fs, &in);
        return st;
    }
    t->fs = fs;
    t->dir = dir;
    unsigned long long d = (unsigned long long)dir;
    const ntfs_attr *root = ntfs_inode_find(&in, NTFS_AT_INDEX_ROOT, i30_name, 4);
    if (!root || !root->resident) {
        st = ntfs_fail(fs, IMGP_ERR_CORRUPT, "directory record %llu has no resident $INDEX_ROOT:$I30", d);
        goto out;
    }
    imgp_cursor c = imgp_cur_init(root->value, root->value_len);
    uint32_t type = imgp_cur_le32_at(&c, NTFS_IR_TYPE), collation = imgp_cur_le32_at(&c, NTFS_IR_COLLATION);
    t->block_size = imgp_cur_le32_at(&c, NTFS_IR_BLOCK_SIZE);
    if (!imgp_cur_ok(&c) || type != NTFS_AT_FILE_NAME || collation != NTFS_COLLATION_FILE_NAME) {
        st = ntfs_fail(fs, IMGP_ERR_CORRUPT, "directory record %llu: $INDEX_ROOT indexes attribute 0x%x with "
                       "collation %u, not file names", d, type, collation);
        goto out;
    }
    t->has_alloc = ntfs_inode_find(&in, NTFS_AT_INDEX_ALLOCATION, i30_name, 4) != NULL;
    if (t->has_alloc) {
        if (!imgp_is_pow2(t->block_size) || t->block_size < NTFS_MIN_INDEX_BLOCK ||
            t->block_size > NTFS_MAX_INDEX_BLOCK || t->block_size % NTFS_FIXUP_STRIDE) {
            st = ntfs_fail(fs, IMGP_ERR_CORRUPT, "directory record %llu: index blocks of %u bytes", d, t->block_size);
            goto out;
        }
        if ((st = ntfs_stream_open(fs, &in, NTFS_AT_INDEX_ALLOCATION, i30_name, 4, &t->alloc)) != IMGP_OK)
            goto out;
        t->vcn_shift = t->block_size >= fs->boot.cluster_size ? fs->boot.cluster_shift : 9;
        t->blocks_left = t->alloc.size / t->block_size;
    }
    char where[64];
    snprintf(where, sizeof where, "directory record %llu, $INDEX_ROOT", d);
    st = walk_node(t, root->value, root->value_len, NTFS_IR_NODE, where);
out:
    ntfs_stream_free(fs, &t->alloc);
    ntfs_inode_free(fs, &in);
    return st;
}

/* ---- readdir ---- */

static imgp_ftype entry_type(const ntfs_index_entry *e)
{
    if (e->file_attributes & NTFS_FILE_ATTR_REPARSE_POINT)
        return IMGP_FT_UNKNOWN; /* a symlink, junction or other reparse point: stat says */
    return (e->file_attributes & NTFS_FILE_ATTR_DIRECTORY_INDEX) ? IMGP_FT_DIR : IMGP_FT_REG;
}

/* [NTFSDOC] "Filename namespaces": a file with a long name and a distinct
 * 8.3 name has two entries; the DOS one is not listed. The root lists itself
 * as "."; the metadata files ($MFT...) are hidden as ntfsls hides them. */
static bool listed(const ntfs_index_entry *e)
{
    if (e->name_space == NTFS_NS_DOS)
        return false;
    if (e->name_len == 1 && e->name[0] == '.' && e->name[1] == 0)
        return false;
    return !(NTFS_REF_RECORD(e->ref) < NTFS_FIRST_USER_RECORD && e->name[0] == '$' && e->name[1] == 0);
}

static int visit_list(tree *t, const ntfs_index_entry *e, bool *descend)
{
    *descend = true;
    if (e->flags & NTFS_IE_LAST)
        return 0;
    /* node_entry descends before this entry is passed on: the child's names sort first */
    if (e->flags & NTFS_IE_SUBNODE) {
        t->err = walk_block(t, e->subnode_vcn);
        *descend = false;
        if (t->err != IMGP_OK || t->done)
            return 1;
    }
    if (!listed(e))
        return 0;
    if (++t->count > t->limit) {
        t->err = ntfs_fail(t->fs, IMGP_ERR_LIMIT, "directory record %llu has more than %llu entries",
                           (unsigned long long)t->dir, (unsigned long long)t->limit);
        return 1;
    }
    size_t n = ntfs_utf16_to_utf8(e->name, e->name_len, t->name, sizeof t->name);
    imgp_dirent d = {NTFS_REF_RECORD(e->ref), entry_type(e), t->name, n};
    if (t->fn(t->arg, &d)) {
        t->done = true;
        return 1;
    }
    return 0;
}

imgp_status ntfs_readdir(imgp_fs *f, imgp_ino dir, imgp_readdir_fn fn, void *arg)
{
    ntfs_fs *fs = (ntfs_fs *)f;
    tree t = {.visit = visit_list, .fn = fn, .arg = arg, .limit = imgp_ctx_limit(f->ctx, IMGP_LIMIT_DIR_ENTRIES)};
    return walk_tree(fs, dir, &t);
}

/* ---- lookup ---- */

/* Descend towards the name: into the child of the first entry that sorts
 * after it, and into the children of entries equal to it without case (a
 * POSIX name may differ from another only in case: both are compared). An
 * exact match wins over one equal without case, and a long name over an
 * 8.3 short name (which Windows resolves too: "PROGRA~1" in a registry value). */
static int visit_find(tree *t, const ntfs_index_entry *e, bool *descend)
{
    if (e->flags & NTFS_IE_LAST) {
        *descend = true;
        return 1;
    }
    int c = collate(t->fs, t->want, t->want_len, e->name, e->name_len);
    if (c < 0) {
        *descend = true;
        return 1;
    }
    if (c > 0)
        return 0;
    if (e->flags & NTFS_IE_SUBNODE) {
        t->err = walk_block(t, e->subnode_vcn);
        if (t->err != IMGP_OK || t->done)
            return 1;
    }
    if (e->name_space == NTFS_NS_DOS) {
        if (!t->found_dos) {
            t->found_dos = true;
            t->dos_ref = e->ref;
        }
        return 0;
    }
    if (exact(t->want, t->want_len, e->name, e->name_len)) {
        t->found = t->found_exact = t->done = true;
        t->found_ref = e->ref;
        return 1;
    }
    if (!t->found) {
        t->found = true;
        t->found_ref = e->ref;
    }
    return 0;
}

imgp_status ntfs_lookup(imgp_fs *f, imgp_ino dir, const char *name, size_t len, imgp_ino *out)
{
    ntfs_fs *fs = (ntfs_fs *)f;
    uint16_t want[255];
    tree t = {.visit = visit_find, .want = want};
    imgp_status st = IMGP_OK;
    if (utf8_to_utf16(name, len, want, 255, &t.want_len) && t.want_len > 0)
        st = walk_tree(fs, dir, &t);
    if (st != IMGP_OK)
        return st;
    if (!t.found && t.found_dos) {
        t.found = true;
        t.found_ref = t.dos_ref;
    }
    if (!t.found)
        return ntfs_fail(fs, IMGP_ERR_NOT_FOUND, "'%.*s' not found in directory record %llu",
                         (int)imgp_min_u64(len, 255), name, (unsigned long long)dir);
    *out = NTFS_REF_RECORD(t.found_ref);
    return IMGP_OK;
}
