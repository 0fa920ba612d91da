/*
 * Windows registry hives (regf), read-only. The layout is in regf_disk.h,
 * from Maxim Suhanov's "Windows registry file format specification"; the
 * section names quoted below are its headings.
 *
 * Opening checks the base block, then walks every hive bin once and marks
 * each allocated cell's start in a bitmap (one bit per 4 bytes of hive bins
 * data). Every cell offset read from the hive afterwards goes through
 * cell_at(), which refuses one that is not the start of an allocated cell,
 * so records are only ever parsed inside cells whose bounds were checked at
 * open. Lists are bounded by their cell, counts by IMGP_LIMIT_DIR_ENTRIES,
 * big data by the hive's own size; an index root may hold only leaves
 * ("Index root", Notes, 1), and a subkey must record its lister as parent and
 * may not be the root, which rules out cycles in the key tree.
 */
#include "regf.h"

#include <stdio.h>

#include "../core/cursor.h"
#include "../core/utf8.h"
#include "regf_disk.h"

#define REGF_MAX_NOTES 8
/* UTF-8 of the longest name (65535 bytes of Latin-1, two bytes each) and a NUL. */
#define REGF_NAME_BUF (2u * 65535u + 2u)

struct imgp_regf {
    imgp_ctx *ctx;
    const uint8_t *data; /* the whole file */
    size_t len;
    uint8_t *owned;      /* data, when imgp_regf_open_file read it */
    const uint8_t *bins; /* data + REGF_BASE_SIZE */
    uint32_t bins_size;
    uint32_t root;
    uint8_t *cell_map;   /* bit (off / 4): an allocated cell starts at bins + off */
    uint8_t *listed;     /* bit (off / 4): a subkey already seen in the lists each_child checks */
    imgp_regf_info info;
    char file_name[3 * REGF_BASE_FILE_NAME_LEN / 2 + 1];
    char *notes[REGF_MAX_NOTES];
    char *name_buf;      /* REGF_NAME_BUF bytes: names handed out */
    uint8_t *scratch;    /* big data reassembled */
    size_t scratch_cap;
};

/* File offset of cell offset @p off, for messages. */
static uint64_t file_off(uint32_t off) { return (uint64_t)off + REGF_BASE_SIZE; }

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void note(imgp_regf *h, const char *fmt, ...) IMGP_PRINTF(2, 3);
static void note(imgp_regf *h, const char *fmt, ...)
{
    if (h->info.nnotes >= REGF_MAX_NOTES)
        return;
    char msg[IMGP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *copy = imgp_strdup(h->ctx, msg);
    if (copy)
        h->notes[h->info.nnotes++] = copy;
}

/* ---- text ---- */

const char *regf_type_name(uint32_t type, char buf[16])
{
    static const char *const names[] = {
        "REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN",
        "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTOR",
        "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD",
    };
    if (type < sizeof names / sizeof names[0])
        return names[type];
    snprintf(buf, 16, "type 0x%x", (unsigned)type);
    return buf;
}

bool regf_utf16_to_utf8(const uint8_t *p, size_t nbytes, bool stop_at_nul, char *out, size_t cap, size_t *outlen)
{
    size_t n = 0, units = nbytes / 2;
    bool fits = cap > 0;
    for (size_t i = 0; i < units && fits; i++) {
        uint32_t c = le16(p + 2 * i);
        if (c == 0 && stop_at_nul)
            break;
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units) {
            uint32_t lo = le16(p + 2 * i + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i++;
            }
        }
        if (c >= 0xD800 && c <= 0xDFFF)
            c = 0xFFFD; /* unpaired */
        fits = imgp_utf8_put(c, out, cap, &n);
    }
    if (cap > 0)
        out[n] = '\0';
    if (outlen)
        *outlen = n;
    return fits;
}

/* Latin-1 (a "compressed" name) to UTF-8; false when it does not fit. */
static bool latin1_to_utf8(const uint8_t *p, size_t nbytes, char *out, size_t cap, size_t *outlen)
{
    size_t n = 0;
    bool fits = cap > 0;
    for (size_t i = 0; i < nbytes && fits; i++)
        fits = imgp_utf8_put(p[i], out, cap, &n);
    if (cap > 0)
        out[n] = '\0';
    if (outlen)
        *outlen = n;
    return fits;
}

/* Next code point of UTF-8 @p s (@p len bytes) at *@p i; malformed bytes give U+FFFD, one at a time. */
static uint32_t utf8_next(const char *s, size_t len, size_t *i)
{
    const uint8_t *u = (const uint8_t *)s;
    uint8_t b = u[*i];
    size_t need;
    uint32_t c;
    if (b < 0x80) {
        (*i)++;
        return b;
    } else if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        c = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        c = b & 0x07;
    } else {
        (*i)++;
        return 0xFFFD;
    }
    if (need > len - *i - 1) {
        (*i)++;
        return 0xFFFD;
    }
    for (size_t k = 1; k <= need; k++) {
        if ((u[*i + k] & 0xC0) != 0x80) {
            (*i)++;
            return 0xFFFD;
        }
        c = c << 6 | (u[*i + k] & 0x3F);
    }
    *i += need + 1;
    return c;
}

/* Upper case as Windows has it, for ASCII and Latin-1 only (see regf.h). */
static uint32_t fold(uint32_t c)
{
    if (c >= 'a' && c <= 'z')
        return c - 32;
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7)
        return c - 32;
    if (c == 0xFF)
        return 0x178;
    return c;
}

bool regf_name_equal(const uint8_t *name, size_t len, bool latin1, const char *q, size_t qlen)
{
    size_t i = 0, j = 0;
    size_t step = latin1 ? 1 : 2;
    while (i + step <= len && j < qlen) {
        uint32_t c;
        if (latin1) {
            c = name[i++];
        } else {
            c = le16(name + i);
            i += 2;
            if (c >= 0xD800 && c <= 0xDBFF && i + 2 <= len) {
                uint32_t lo = le16(name + i);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                    i += 2;
                }
            }
            if (c >= 0xD800 && c <= 0xDFFF)
                c = 0xFFFD;
        }
        if (fold(c) != fold(utf8_next(q, qlen, &j)))
            return false;
    }
    return i + step > len && j == qlen;
}

/* ---- parsers ---- */

uint32_t regf_checksum(const uint8_t *buf)
{
    uint32_t c = 0;
    for (size_t i = 0; i < REGF_BASE_CHECKSUM; i += 4)
        c ^= le32(buf + i);
    if (c == 0xFFFFFFFFu)
        c = 0xFFFFFFFEu;
    if (c == 0)
        c = 1;
    return c;
}

imgp_status regf_parse_base(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint64_t file_len, regf_base *b)
{
    memset(b, 0, sizeof *b);
    if (len < 4 || memcmp(buf, REGF_SIGNATURE, 4) != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "regf: no 'regf' signature at offset 0");
    if (len < REGF_BASE_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "regf: file of %zu bytes is shorter than the base block (%u)", len,
                          REGF_BASE_SIZE);
    imgp_cursor c = imgp_cur_init(buf, REGF_BASE_SIZE);
    b->seq_primary = imgp_cur_le32_at(&c, REGF_BASE_SEQ_PRIMARY);
    b->seq_secondary = imgp_cur_le32_at(&c, REGF_BASE_SEQ_SECONDARY);
    b->last_written = imgp_cur_le64_at(&c, REGF_BASE_LAST_WRITTEN);
    b->major = imgp_cur_le32_at(&c, REGF_BASE_MAJOR);
    b->minor = imgp_cur_le32_at(&c, REGF_BASE_MINOR);
    b->file_type = imgp_cur_le32_at(&c, REGF_BASE_FILE_TYPE);
    b->file_format = imgp_cur_le32_at(&c, REGF_BASE_FILE_FORMAT);
    b->root = imgp_cur_le32_at(&c, REGF_BASE_ROOT_CELL);
    b->bins_size = imgp_cur_le32_at(&c, REGF_BASE_BINS_SIZE);
    b->checksum = imgp_cur_le32_at(&c, REGF_BASE_CHECKSUM);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "regf: base block unreadable");
    b->computed = regf_checksum(buf);

    if (b->file_type != REGF_FILE_TYPE_PRIMARY)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED,
                          "regf: base block file type %u: a transaction log, not a primary hive file", b->file_type);
    if (b->major != REGF_MAJOR || b->minor < REGF_MINOR_MIN || b->minor > REGF_MINOR_MAX)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "regf: hive version %u.%u is not supported (1.%u to 1.%u are)",
                          b->major, b->minor, REGF_MINOR_MIN, REGF_MINOR_MAX);
    if (b->file_format != REGF_FILE_FORMAT_DIRECT)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "regf: base block file format %u is not supported (1 is)",
                          b->file_format);
    if (b->bins_size == 0 || b->bins_size % REGF_BIN_ALIGN != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "regf: hive bins data size 0x%x is not a positive multiple of 4096",
                          b->bins_size);
    if (file_len < REGF_BASE_SIZE || b->bins_size > file_len - REGF_BASE_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "regf: hive bins data of 0x%x bytes runs past the end of the file (size 0x%llx)",
                          b->bins_size, (unsigned long long)file_len);
    return IMGP_OK;
}

/* The name of @p len bytes at @p off of the record in @p c (a @p what at file offset @p at). */
static imgp_status record_name(imgp_ctx *ctx, imgp_cursor *c, size_t off, uint16_t len, bool latin1,
                               const char *what, uint64_t at, const uint8_t **name)
{
    *name = imgp_cur_ptr_at(c, off, len);
    if (!*name)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "regf: %s at 0x%llx: name of %u bytes runs past its cell (%zu bytes)",
                          what, (unsigned long long)at, len, c->len);
    if (!latin1 && len % 2 != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "regf: %s at 0x%llx: UTF-16 name of odd length %u", what,
                          (unsigned long long)at, len);
    return IMGP_OK;
}

imgp_status regf_parse_nk(imgp_ctx *ctx, const uint8_t *cell, size_t len, uint64_t at, regf_nk *nk)
{
    memset(nk, 0, sizeof *nk);
    imgp_cursor c = imgp_cur_init(cell, len);
    const uint8_t *sig = imgp_cur_ptr_at(&c, REGF_NK_SIGNATURE, 2);
    if (!sig || sig[0] != 'n' || sig[1] != 'k')
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "regf: cell at 0x%llx is not a key node", (unsigned long long)at);
    nk->flags = imgp_cur_le16_at(&c, REGF_NK_FLAGS);
    nk->last_written = imgp_cur_le64_at(&c, REGF_NK_LAST_WRITTEN);
    nk->parent = imgp_cur_le32_at(&c, REGF_NK_PARENT);
    nk->subkey_count = imgp_cur_le32_at(&c, REGF_NK_SUBKEY_COUNT);
    nk->subkey_list = imgp_cur_le32_at(&c, REGF_NK_SUBKEY_LIST);
    nk->value_count = imgp_cur_le32_at(&c, REGF_NK_VALUE_COUNT);
    nk->value_list = imgp_cur_le32_at(&c, REGF_NK_VALUE_LIST);
    nk->class_off = imgp_cur_le32_at(&c, REGF_NK_CLASS);
    nk->name_len = imgp_cur_le16_at(&c, REGF_NK_NAME_LEN);
    nk->class_len = imgp_cur_le16_at(&c, REGF_NK_CLASS_LEN);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "regf: key node at 0x%llx: cell of %zu bytes is too short (%u)",
                          (unsigned long long)at, len, REGF_NK_NAME);
    nk->name_latin1 = (nk->flags & REGF_KEY_COMP_NAME) != 0;
    return record_name(ctx, &c, REGF_NK_NAME, nk->name_len, nk->name_latin1, "key node", at, &nk->name);
}

imgp_status regf_parse_vk(imgp_ctx *ctx, const uint8_t *cell, size_t len, uint64_t at, regf_vk *vk)
{
    memset(vk, 0, sizeof *vk);
    imgp_cursor c = imgp_cur_init(cell, len);
    const uint8_t *sig = imgp_cur_ptr_at(&c, REGF_VK_SIGNATURE, 2);
    if (!sig || sig[0] != 'v' || sig[1] != 'k')
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "regf: cell at 0x%llx is not a key value", (unsigned long long)at);
    vk->name_len = imgp_cur_le16_at(&c, REGF_VK_NAME_LEN);
    uint32_t size = imgp_cur_le32_at(&c, REGF_VK_DATA_SIZE);
    vk->data_off = imgp_cur_le32_at(&c, REGF_VK_DATA_OFFSET);
    vk->inline_bytes = imgp_cur_ptr_at(&c, REGF_VK_DATA_OFFSET, 4);
    vk->type = imgp_cur_le32_at(&c, REGF_VK_TYPE);
    uint16_t flags = imgp_cur_le16_at(&c, REGF_VK_FLAGS);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "regf: key value at 0x%llx: cell of %zu bytes is too short (%u)",
                          (unsigned long long)at, len, REGF_VK_NAME);
    vk->inline_data = (size & REGF_VK_DATA_INLINE) != 0;
    vk->data_size = size & ~REGF_VK_DATA_INLINE;
    if (vk->inline_data && vk->data_size > REGF_VK_INLINE_MAX)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "regf: key value at 0x%llx: %u bytes of data stored inline (at most 4 fit)",
                          (unsigned long long)at, vk->data_size);
    vk->name_latin1 = (flags & REGF_VALUE_COMP_NAME) != 0;
    return record_name(ctx, &c, REGF_VK_NAME, vk->name_len, vk->name_latin1, "key value", at, &vk->name);
}

imgp_status regf_parse_list(imgp_ctx *ctx, const uint8_t *cell, size_t len, uint64_t at, regf_list *l)
{
    memset(l, 0, sizeof *l);
    imgp_cursor c = imgp_cur_init(cell, len);
    const uint8_t *sig = imgp_cur_ptr_at(&c, REGF_LIST_SIGNATURE, 2);
    l->count = imgp_cur_le16_at(&c, REGF_LIST_COUNT);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "regf: subkey list at 0x%llx: cell of %zu bytes is too short",
                          (unsigned long long)at, len);
    if (sig[1] == 'i' && (sig[0] == 'l' || sig[0] == 'r'))
        l->elem_size = 4; /* "Index leaf", "Index root": offsets */
    else if (sig[0] == 'l' && (sig[1] == 'f' || sig[1] == 'h'))
        l->elem_size = 8; /* "Fast leaf", "Hash leaf": offset and a hint or hash */
    else
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "regf: cell at 0x%llx is not a subkey list (signature %02x %02x, not li, lf, lh or ri)",
                          (unsigned long long)at, sig[0], sig[1]);
    l->kind[0] = (char)sig[0];
    l->kind[1] = (char)sig[1];
    l->kind[2] = '\0';
    l->elems = imgp_cur_ptr_at(&c, REGF_LIST_ELEMENTS, (size_t)l->count * l->elem_size);
    if (!l->elems)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "regf: %s list at 0x%llx: %u elements of %u bytes run past its cell (%zu bytes)", l->kind,
                          (unsigned long long)at, l->count, l->elem_size, len);
    return IMGP_OK;
}

/* ---- cells ---- */

static bool cell_mapped(const imgp_regf *h, uint32_t off)
{
    return off % REGF_CELL_ALIGN == 0 && off < h->bins_size &&
           (h->cell_map[off / REGF_CELL_ALIGN / 8] >> (off / REGF_CELL_ALIGN % 8) & 1);
}

/*
 * The data of the allocated cell at cell offset @p off, referenced as @p what
 * by the record at file offset @p from. Its bounds were checked at open.
 */
static imgp_status cell_at(imgp_regf *h, uint32_t off, const char *what, uint64_t from, const uint8_t **data,
                           size_t *len)
{
    if (off == REGF_NO_CELL)
        return imgp_error(h->ctx, IMGP_ERR_CORRUPT, "regf: %s at 0x%llx points nowhere (0xffffffff)", what,
                          (unsigned long long)from);
    if (!cell_mapped(h, off))
        return imgp_error(h->ctx, IMGP_ERR_CORRUPT,
                          "regf: %s at 0x%llx points to 0x%llx, which is not the start of an allocated cell", what,
                          (unsigned long long)from, (unsigned long long)file_off(off));
    uint32_t size = 0u - le32(h->bins + off); /* negative when allocated */
    *data = h->bins + off + REGF_CELL_HEADER;
    *len = size - REGF_CELL_HEADER;
    return IMGP_OK;
}

/*
 * Check the header of the hive bin at cell offset @p bin ("Hive bin"), @p b
 * its REGF_BIN_HEADER_SIZE bytes, in hive bins data of @p bins_size bytes;
 * *@p size is the bin's size.
 */
static imgp_status check_bin(imgp_ctx *ctx, const uint8_t *b, uint32_t bin, uint32_t bins_size, uint32_t *size)
{
    imgp_cursor c = imgp_cur_init(b, REGF_BIN_HEADER_SIZE);
    const uint8_t *sig = imgp_cur_ptr_at(&c, REGF_BIN_SIGNATURE, 4);
    uint32_t bin_off = imgp_cur_le32_at(&c, REGF_BIN_OFFSET);
    *size = imgp_cur_le32_at(&c, REGF_BIN_SIZE);
    if (!imgp_cur_ok(&c) || memcmp(sig, "hbin", 4) != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "regf: no 'hbin' signature at 0x%llx (hive bins end at 0x%llx)",
                          (unsigned long long)file_off(bin), (unsigned long long)file_off(bins_size));
    if (bin_off != bin)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "regf: hive bin at 0x%llx records offset 0x%x, not 0x%x",
                          (unsigned long long)file_off(bin), bin_off, bin);
    if (*size < REGF_BIN_ALIGN || *size % REGF_BIN_ALIGN != 0 || *size > bins_size - bin)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "regf: hive bin at 0x%llx has size 0x%x (a multiple of 4096 up to 0x%x expected)",
                          (unsigned long long)file_off(bin), *size, bins_size - bin);
    return IMGP_OK;
}

/* Walk the hive bins ("Hive bin", "Cell") and mark every allocated cell. */
static imgp_status map_cells(imgp_regf *h)
{
    h->cell_map = imgp_calloc(h->ctx, (size_t)h->bins_size / REGF_CELL_ALIGN / 8 + 1, 1);
    h->listed = imgp_calloc(h->ctx, (size_t)h->bins_size / REGF_CELL_ALIGN / 8 + 1, 1);
    if (!h->cell_map || !h->listed)
        return imgp_ctx_status(h->ctx);
    for (uint32_t bin = 0; bin < h->bins_size;) {
        uint32_t bin_size;
        imgp_status st = check_bin(h->ctx, h->bins + bin, bin, h->bins_size, &bin_size);
        if (st != IMGP_OK)
            return st;
        uint32_t end = bin + bin_size;
        for (uint32_t cell = bin + REGF_BIN_HEADER_SIZE; cell < end;) {
            uint32_t raw = le32(h->bins + cell);
            bool allocated = raw & 0x80000000u;
            uint32_t size = allocated ? 0u - raw : raw;
            if (size < REGF_CELL_MIN || size % REGF_CELL_ALIGN != 0 || size > end - cell)
                return imgp_error(h->ctx, IMGP_ERR_CORRUPT,
                                  "regf: cell at 0x%llx has size %u (its hive bin ends at 0x%llx)",
                                  (unsigned long long)file_off(cell), size, (unsigned long long)file_off(end));
            if (allocated)
                h->cell_map[cell / REGF_CELL_ALIGN / 8] |= (uint8_t)(1u << (cell / REGF_CELL_ALIGN % 8));
            cell += size;
        }
        bin = end;
    }
    return IMGP_OK;
}

/* ---- keys ---- */

/* The key node at cell offset @p key, which a caller passed. */
static imgp_status key_node(imgp_regf *h, imgp_regf_key key, regf_nk *nk)
{
    const uint8_t *c;
    size_t len;
    if (!cell_mapped(h, key))
        return imgp_error(h->ctx, IMGP_ERR_INVALID_ARG, "regf: key 0x%x is not a cell of this hive", key);
    cell_at(h, key, "key", 0, &c, &len);
    return regf_parse_nk(h->ctx, c, len, file_off(key), nk);
}

/* Name @p name (@p len bytes on disk) as UTF-8 in the hive's name buffer (always fits). */
static const char *name_utf8(imgp_regf *h, const uint8_t *name, size_t len, bool latin1, size_t *outlen)
{
    if (latin1)
        latin1_to_utf8(name, len, h->name_buf, REGF_NAME_BUF, outlen);
    else
        regf_utf16_to_utf8(name, len, false, h->name_buf, REGF_NAME_BUF, outlen);
    return h->name_buf;
}

typedef int (*child_fn)(imgp_regf *h, void *arg, uint32_t child, const regf_nk *nk);

/*
 * Visit the subkeys in the subkey list at @p list_off of key @p key (a leaf,
 * or an index root of leaves), checking each, counting them into *@p total,
 * and passing each to @p fn when there is one.
 */
static imgp_status walk_leaves(imgp_regf *h, imgp_regf_key key, uint32_t list_off, uint64_t *total,
                               child_fn fn, void *arg, bool *stopped)
{
    const uint8_t *c;
    size_t len;
    regf_list root, leaf;
    imgp_status st = cell_at(h, list_off, "subkey list of the key node", file_off(key), &c, &len);
    if (st == IMGP_OK)
        st = regf_parse_list(h->ctx, c, len, file_off(list_off), &root);
    if (st != IMGP_OK)
        return st;
    size_t nleaves = root.kind[0] == 'r' ? root.count : 1;
    for (size_t i = 0; i < nleaves && !*stopped; i++) {
        uint32_t leaf_off = list_off;
        if (root.kind[0] == 'r') {
            leaf_off = le32(root.elems + 4 * i);
            st = cell_at(h, leaf_off, "index root", file_off(list_off), &c, &len);
            if (st == IMGP_OK)
                st = regf_parse_list(h->ctx, c, len, file_off(leaf_off), &leaf);
            if (st != IMGP_OK)
                return st;
            if (leaf.kind[0] == 'r') /* "Index root", Notes, 1: no index root in an index root */
                return imgp_error(h->ctx, IMGP_ERR_CORRUPT,
                                  "regf: index root at 0x%llx names another index root at 0x%llx",
                                  (unsigned long long)file_off(list_off), (unsigned long long)file_off(leaf_off));
        } else {
            leaf = root;
        }
        *total += leaf.count;
        for (size_t j = 0; j < leaf.count && !*stopped; j++) {
            uint32_t child = le32(leaf.elems + (size_t)leaf.elem_size * j);
            regf_nk nk;
            st = cell_at(h, child, "subkey list", file_off(leaf_off), &c, &len);
            if (st == IMGP_OK)
                st = regf_parse_nk(h->ctx, c, len, file_off(child), &nk);
            if (st != IMGP_OK)
                return st;
            /* A key whose subkey is the root, or a key that another lists as its own, would make the tree a graph. */
            if (child == h->root || nk.parent != key)
                return imgp_error(h->ctx, IMGP_ERR_CORRUPT,
                                  "regf: key node at 0x%llx lists subkey 0x%llx, whose parent is 0x%llx%s",
                                  (unsigned long long)file_off(key), (unsigned long long)file_off(child),
                                  (unsigned long long)file_off(nk.parent), child == h->root ? " (the root)" : "");
            if (fn && fn(h, arg, child, &nk))
                *stopped = true;
        }
    }
    return IMGP_OK;
}

/* Refuse @p count @p what (subkeys, values) of key @p key over IMGP_LIMIT_DIR_ENTRIES. */
static imgp_status check_count(imgp_regf *h, imgp_regf_key key, uint32_t count, const char *what)
{
    uint64_t limit = imgp_ctx_limit(h->ctx, IMGP_LIMIT_DIR_ENTRIES);
    if (count > limit)
        return imgp_error(h->ctx, IMGP_ERR_LIMIT, "regf: key node at 0x%llx has %u %s (limit dir_entries %llu)",
                          (unsigned long long)file_off(key), count, what, (unsigned long long)limit);
    return IMGP_OK;
}

/*
 * The checking pass marks each subkey in h->listed and stops at one listed
 * twice: the parent check rules out cycles, not a key that its own lists
 * name twice, and each such level would double a walk of the tree.
 */
static int mark_listed(imgp_regf *h, void *arg, uint32_t child, const regf_nk *nk)
{
    (void)nk;
    uint32_t bit = child / REGF_CELL_ALIGN;
    if (h->listed[bit / 8] >> (bit % 8) & 1) {
        *(uint32_t *)arg = child;
        return 1;
    }
    h->listed[bit / 8] |= (uint8_t)(1u << (bit % 8));
    return 0;
}

/* Clear what mark_listed set (the same walk: every entry it marked comes before any it did not reach). */
static int unmark_listed(imgp_regf *h, void *arg, uint32_t child, const regf_nk *nk)
{
    (void)arg, (void)nk;
    uint32_t bit = child / REGF_CELL_ALIGN;
    h->listed[bit / 8] &= (uint8_t)~(1u << (bit % 8));
    return 0;
}

/* Visit the subkeys of @p key: all counted and checked (against the key node too) before the first is visited. */
static imgp_status each_child(imgp_regf *h, imgp_regf_key key, child_fn fn, void *arg)
{
    regf_nk nk;
    imgp_status st = key_node(h, key, &nk);
    if (st != IMGP_OK || nk.subkey_count == 0)
        return st;
    st = check_count(h, key, nk.subkey_count, "subkeys");
    if (st != IMGP_OK)
        return st;
    uint64_t total = 0;
    bool stopped = false;
    uint32_t twice = 0;
    st = walk_leaves(h, key, nk.subkey_list, &total, mark_listed, &twice, &stopped);
    uint64_t ignored = 0;
    bool unmark_stopped = false;
    imgp_status unmark = walk_leaves(h, key, nk.subkey_list, &ignored, unmark_listed, NULL, &unmark_stopped);
    (void)unmark; /* its error, if any, is past what was marked: st or the duplicate says it */
    if (st != IMGP_OK)
        return st;
    if (stopped)
        return imgp_error(h->ctx, IMGP_ERR_CORRUPT, "regf: key node at 0x%llx lists subkey 0x%llx twice",
                          (unsigned long long)file_off(key), (unsigned long long)file_off(twice));
    if (total != nk.subkey_count)
        return imgp_error(h->ctx, IMGP_ERR_CORRUPT,
                          "regf: key node at 0x%llx counts %u subkeys, but its subkey lists hold %llu",
                          (unsigned long long)file_off(key), nk.subkey_count, (unsigned long long)total);
    total = 0;
    return walk_leaves(h, key, nk.subkey_list, &total, fn, arg, &stopped);
}

typedef struct subkeys_arg {
    int (*fn)(void *arg, imgp_regf_key child, const char *name);
    void *arg;
} subkeys_arg;

static int subkey_to_user(imgp_regf *h, void *arg, uint32_t child, const regf_nk *nk)
{
    subkeys_arg *a = arg;
    return a->fn(a->arg, child, name_utf8(h, nk->name, nk->name_len, nk->name_latin1, NULL));
}

imgp_status imgp_regf_subkeys(imgp_regf *h, imgp_regf_key key,
                              int (*fn)(void *arg, imgp_regf_key child, const char *name), void *arg)
{
    subkeys_arg a = {fn, arg};
    return each_child(h, key, subkey_to_user, &a);
}

typedef struct find_arg {
    const char *name;
    size_t len;
    uint32_t found;
} find_arg;

static int match_child(imgp_regf *h, void *arg, uint32_t child, const regf_nk *nk)
{
    (void)h;
    find_arg *f = arg;
    if (!regf_name_equal(nk->name, nk->name_len, nk->name_latin1, f->name, f->len))
        return 0;
    f->found = child;
    return 1;
}

imgp_status imgp_regf_lookup(imgp_regf *h, imgp_regf_key from, const char *path, imgp_regf_key *out)
{
    imgp_regf_key cur = from;
    regf_nk nk;
    imgp_status st = key_node(h, cur, &nk);
    if (st != IMGP_OK)
        return st;
    for (const char *p = path; *p;) {
        if (*p == '\\') {
            p++;
            continue;
        }
        size_t n = strcspn(p, "\\");
        find_arg f = {p, n, REGF_NO_CELL};
        st = each_child(h, cur, match_child, &f);
        if (st != IMGP_OK)
            return st;
        if (f.found == REGF_NO_CELL)
            return imgp_error(h->ctx, IMGP_ERR_NOT_FOUND, "regf: no key '%.*s' in '%.*s'", (int)n, p,
                              (int)(p - path), path);
        cur = f.found;
        p += n;
    }
    *out = cur;
    return IMGP_OK;
}

imgp_status imgp_regf_get_key_info(imgp_regf *h, imgp_regf_key key, imgp_regf_key_info *info)
{
    regf_nk nk;
    memset(info, 0, sizeof *info);
    imgp_status st = key_node(h, key, &nk);
    if (st != IMGP_OK)
        return st;
    info->name = name_utf8(h, nk.name, nk.name_len, nk.name_latin1, &info->name_len);
    info->flags = nk.flags;
    info->last_written = nk.last_written;
    info->subkeys = nk.subkey_count;
    info->values = nk.value_count;
    info->parent = nk.parent;
    info->has_class = nk.class_len > 0 && nk.class_off != REGF_NO_CELL;
    return IMGP_OK;
}

imgp_status imgp_regf_key_name(imgp_regf *h, imgp_regf_key key, char *buf, size_t cap)
{
    imgp_regf_key_info info;
    imgp_status st = imgp_regf_get_key_info(h, key, &info);
    if (st != IMGP_OK)
        return st;
    if (info.name_len >= cap)
        return imgp_error(h->ctx, IMGP_ERR_LIMIT, "regf: name of key 0x%llx (%zu bytes) does not fit in %zu",
                          (unsigned long long)file_off(key), info.name_len, cap);
    memcpy(buf, info.name, info.name_len + 1);
    return IMGP_OK;
}

imgp_status imgp_regf_key_class(imgp_regf *h, imgp_regf_key key, char *buf, size_t cap)
{
    regf_nk nk;
    imgp_status st = key_node(h, key, &nk);
    if (st != IMGP_OK)
        return st;
    if (cap == 0)
        return imgp_error(h->ctx, IMGP_ERR_LIMIT, "regf: no room for a class name");
    buf[0] = '\0';
    if (nk.class_len == 0 || nk.class_off == REGF_NO_CELL)
        return IMGP_OK;
    const uint8_t *c;
    size_t len;
    st = cell_at(h, nk.class_off, "class name of the key node", file_off(key), &c, &len);
    if (st != IMGP_OK)
        return st;
    if (nk.class_len > len)
        return imgp_error(h->ctx, IMGP_ERR_CORRUPT,
                          "regf: key node at 0x%llx: class name of %u bytes does not fit its cell at 0x%llx (%zu bytes)",
                          (unsigned long long)file_off(key), nk.class_len, (unsigned long long)file_off(nk.class_off),
                          len);
    if (!regf_utf16_to_utf8(c, nk.class_len, false, buf, cap, NULL))
        return imgp_error(h->ctx, IMGP_ERR_LIMIT, "regf: class name of key 0x%llx does not fit in %zu bytes",
                          (unsigned long long)file_off(key), cap);
    return IMGP_OK;
}

/* ---- values ---- */

/* Reassemble big data ("Big data") of @p size bytes from the db record in cell data @p db (@p dblen bytes). */
static imgp_status big_data(imgp_regf *h, const uint8_t *db, size_t dblen, uint32_t db_off, uint32_t size,
                            const uint8_t **data)
{
    uint64_t at = file_off(db_off);
    if (h->info.minor < REGF_MINOR_BIG_DATA)
        return imgp_error(h->ctx, IMGP_ERR_CORRUPT, "regf: big data record at 0x%llx in a version 1.%u hive (1.4 on)",
                          (unsigned long long)at, h->info.minor);
    if (dblen < REGF_DB_SIZE)
        return imgp_error(h->ctx, IMGP_ERR_CORRUPT, "regf: big data record at 0x%llx: cell too short",
                          (unsigned long long)at);
    if (size > h->bins_size)
        return imgp_error(h->ctx, IMGP_ERR_CORRUPT, "regf: big data record at 0x%llx for %u bytes, more than the hive",
                          (unsigned long long)at, size);
    uint32_t count = le16(db + REGF_DB_SEGMENT_COUNT);
    uint32_t list_off = le32(db + REGF_DB_SEGMENT_LIST);
    uint32_t needed = size / REGF_DB_SEGMENT_MAX + (size % REGF_DB_SEGMENT_MAX != 0);
    if (count < needed)
        return imgp_error(h->ctx, IMGP_ERR_CORRUPT,
                          "regf: big data record at 0x%llx has %u segments for %u bytes (%u needed)",
                          (unsigned long long)at, count, size, needed);
    const uint8_t *list;
    size_t list_len;
    imgp_status st = cell_at(h, list_off, "big data record", at, &list, &list_len);
    if (st != IMGP_OK)
        return st;
    if ((size_t)count > list_len / 4)
        return imgp_error(h->ctx, IMGP_ERR_CORRUPT,
                          "regf: segment list at 0x%llx: %u segments do not fit its cell (%zu bytes)",
                          (unsigned long long)file_off(list_off), count, list_len);
    /* the hive and its reassembled value share the hive's limit */
    uint64_t limit = imgp_ctx_limit(h->ctx, IMGP_LIMIT_HIVE_BYTES);
    if (h->scratch_cap < size && (uint64_t)h->len + size > limit)
        return imgp_error(h->ctx, IMGP_ERR_LIMIT,
                          "regf: big data record at 0x%llx for %u bytes: with the hive's %zu, over the limit "
                          "hive_bytes (%llu)",
                          (unsigned long long)at, size, h->len, (unsigned long long)limit);
    if (h->scratch_cap < size) {
        uint8_t *p = imgp_realloc(h->ctx, h->scratch, size);
        if (!p)
            return imgp_ctx_status(h->ctx);
        h->scratch = p;
        h->scratch_cap = size;
    }
    uint32_t done = 0;
    for (uint32_t i = 0; i < needed; i++) {
        uint32_t seg_off = le32(list + 4 * (size_t)i);
        const uint8_t *seg = NULL;
        size_t seg_len = 0;
        st = cell_at(h, seg_off, "segment list", file_off(list_off), &seg, &seg_len);
        if (st != IMGP_OK)
            return st;
        uint32_t take = size - done < REGF_DB_SEGMENT_MAX ? size - done : REGF_DB_SEGMENT_MAX;
        if (seg_len < take)
            return imgp_error(h->ctx, IMGP_ERR_CORRUPT,
                              "regf: data segment %u at 0x%llx holds %zu bytes, not %u", i,
                              (unsigned long long)file_off(seg_off), seg_len, take);
        memcpy(h->scratch + done, seg, take);
        done += take;
    }
    *data = h->scratch;
    return IMGP_OK;
}

/* The data of key value @p vk at file offset @p at ("Data size"). */
static imgp_status value_data(imgp_regf *h, const regf_vk *vk, uint64_t at, const uint8_t **data, size_t *len)
{
    *data = vk->inline_bytes;
    *len = vk->data_size;
    if (vk->inline_data || vk->data_size == 0)
        return IMGP_OK;
    const uint8_t *c;
    size_t clen;
    imgp_status st = cell_at(h, vk->data_off, "data of the key value", at, &c, &clen);
    if (st != IMGP_OK)
        return st;
    if (vk->data_size <= clen) {
        *data = c;
        return IMGP_OK;
    }
    /* Too big for its cell: big data, when it is ("Big data"). Whatever fits its cell is plain data, as hivex
     * writes even large values in one cell. */
    if (vk->data_size > REGF_DB_SEGMENT_MAX && clen >= 2 && c[0] == 'd' && c[1] == 'b')
        return big_data(h, c, clen, vk->data_off, vk->data_size, data);
    return imgp_error(h->ctx, IMGP_ERR_CORRUPT,
                      "regf: key value at 0x%llx: %u bytes of data do not fit its data cell at 0x%llx (%zu bytes)",
                      (unsigned long long)at, vk->data_size, (unsigned long long)file_off(vk->data_off), clen);
}

typedef int (*vk_fn)(imgp_regf *h, void *arg, const regf_vk *vk, uint64_t at, imgp_status *st);

/* Visit the key values of @p key, in list order. */
static imgp_status each_vk(imgp_regf *h, imgp_regf_key key, vk_fn fn, void *arg)
{
    regf_nk nk;
    imgp_status st = key_node(h, key, &nk);
    if (st != IMGP_OK || nk.value_count == 0)
        return st;
    st = check_count(h, key, nk.value_count, "values");
    if (st != IMGP_OK)
        return st;
    const uint8_t *list;
    size_t list_len;
    st = cell_at(h, nk.value_list, "value list of the key node", file_off(key), &list, &list_len);
    if (st != IMGP_OK)
        return st;
    if (nk.value_count > list_len / 4)
        return imgp_error(h->ctx, IMGP_ERR_CORRUPT,
                          "regf: key node at 0x%llx counts %u values, but its value list at 0x%llx holds %zu",
                          (unsigned long long)file_off(key), nk.value_count,
                          (unsigned long long)file_off(nk.value_list), list_len / 4);
    for (uint32_t i = 0; i < nk.value_count; i++) {
        uint32_t off = le32(list + 4 * (size_t)i);
        const uint8_t *c;
        size_t len;
        regf_vk vk;
        st = cell_at(h, off, "value list", file_off(nk.value_list), &c, &len);
        if (st == IMGP_OK)
            st = regf_parse_vk(h->ctx, c, len, file_off(off), &vk);
        if (st != IMGP_OK)
            return st;
        if (fn(h, arg, &vk, file_off(off), &st))
            return st;
    }
    return IMGP_OK;
}

/* Fill @p v from @p vk: its name in the name buffer, its data. */
static imgp_status make_value(imgp_regf *h, const regf_vk *vk, uint64_t at, imgp_regf_value *v)
{
    v->type = vk->type;
    imgp_status st = value_data(h, vk, at, &v->data, &v->len);
    if (st != IMGP_OK)
        return st;
    v->name = name_utf8(h, vk->name, vk->name_len, vk->name_latin1, &v->name_len);
    return IMGP_OK;
}

typedef struct values_arg {
    int (*fn)(void *arg, const imgp_regf_value *v);
    void *arg;
} values_arg;

static int value_to_user(imgp_regf *h, void *arg, const regf_vk *vk, uint64_t at, imgp_status *st)
{
    values_arg *a = arg;
    imgp_regf_value v;
    *st = make_value(h, vk, at, &v);
    if (*st != IMGP_OK)
        return 1;
    return a->fn(a->arg, &v) != 0;
}

imgp_status imgp_regf_values(imgp_regf *h, imgp_regf_key key, int (*fn)(void *arg, const imgp_regf_value *v),
                             void *arg)
{
    values_arg a = {fn, arg};
    return each_vk(h, key, value_to_user, &a);
}

typedef struct value_find {
    const char *name;
    imgp_regf_value *out;
    bool found;
} value_find;

static int match_value(imgp_regf *h, void *arg, const regf_vk *vk, uint64_t at, imgp_status *st)
{
    value_find *f = arg;
    if (!regf_name_equal(vk->name, vk->name_len, vk->name_latin1, f->name, strlen(f->name)))
        return 0;
    f->found = true;
    *st = make_value(h, vk, at, f->out);
    return 1;
}

imgp_status imgp_regf_get_value(imgp_regf *h, imgp_regf_key key, const char *name, imgp_regf_value *out)
{
    memset(out, 0, sizeof *out);
    value_find f = {name, out, false};
    imgp_status st = each_vk(h, key, match_value, &f);
    if (st != IMGP_OK)
        return st;
    if (!f.found)
        return imgp_error(h->ctx, IMGP_ERR_NOT_FOUND, "regf: no value '%s' in key 0x%llx", name,
                          (unsigned long long)file_off(key));
    return IMGP_OK;
}

static imgp_status wrong_type(imgp_regf *h, const char *name, const imgp_regf_value *v, const char *wanted)
{
    char buf[16];
    return imgp_error(h->ctx, IMGP_ERR_UNSUPPORTED, "regf: value '%s' is %s of %zu bytes, not %s", name,
                      regf_type_name(v->type, buf), v->len, wanted);
}

imgp_status imgp_regf_get_string(imgp_regf *h, imgp_regf_key key, const char *name, char *buf, size_t cap)
{
    imgp_regf_value v;
    imgp_status st = imgp_regf_get_value(h, key, name, &v);
    if (st != IMGP_OK)
        return st;
    if (v.type != IMGP_REG_SZ && v.type != IMGP_REG_EXPAND_SZ)
        return wrong_type(h, name, &v, "a string");
    if (!regf_utf16_to_utf8(v.data, v.len, true, buf, cap, NULL))
        return imgp_error(h->ctx, IMGP_ERR_LIMIT, "regf: string value '%s' does not fit in %zu bytes", name, cap);
    return IMGP_OK;
}

imgp_status imgp_regf_get_dword(imgp_regf *h, imgp_regf_key key, const char *name, uint32_t *out)
{
    imgp_regf_value v;
    imgp_status st = imgp_regf_get_value(h, key, name, &v);
    if (st != IMGP_OK)
        return st;
    if (v.len != 4 || (v.type != IMGP_REG_DWORD && v.type != IMGP_REG_DWORD_BIG_ENDIAN))
        return wrong_type(h, name, &v, "a 4-byte DWORD");
    *out = v.type == IMGP_REG_DWORD ? le32(v.data)
                                    : (uint32_t)v.data[0] << 24 | (uint32_t)v.data[1] << 16 |
                                          (uint32_t)v.data[2] << 8 | v.data[3];
    return IMGP_OK;
}

imgp_status imgp_regf_get_qword(imgp_regf *h, imgp_regf_key key, const char *name, uint64_t *out)
{
    imgp_regf_value v;
    imgp_status st = imgp_regf_get_value(h, key, name, &v);
    if (st != IMGP_OK)
        return st;
    if (v.type == IMGP_REG_QWORD && v.len == 8) {
        *out = (uint64_t)le32(v.data + 4) << 32 | le32(v.data);
        return IMGP_OK;
    }
    uint32_t d;
    if (v.len == 4 && (v.type == IMGP_REG_DWORD || v.type == IMGP_REG_DWORD_BIG_ENDIAN)) {
        st = imgp_regf_get_dword(h, key, name, &d);
        *out = d;
        return st;
    }
    return wrong_type(h, name, &v, "an 8-byte QWORD");
}

imgp_status imgp_regf_get_multi_sz(imgp_regf *h, imgp_regf_key key, const char *name,
                                   int (*fn)(void *arg, const char *s), void *arg)
{
    imgp_regf_value v;
    imgp_status st = imgp_regf_get_value(h, key, name, &v);
    if (st != IMGP_OK)
        return st;
    if (v.type != IMGP_REG_MULTI_SZ)
        return wrong_type(h, name, &v, "REG_MULTI_SZ");
    /* The callback may call into the hive, which reuses the scratch buffer: keep the data apart. */
    uint8_t *own = NULL;
    if (v.data == h->scratch && v.len > 0) {
        own = h->scratch;
        h->scratch = NULL;
        h->scratch_cap = 0;
    }
    char *str = imgp_alloc(h->ctx, REGF_NAME_BUF);
    if (!str) {
        imgp_free(h->ctx, own);
        return imgp_ctx_status(h->ctx);
    }
    size_t units = v.len / 2;
    for (size_t i = 0; i < units;) {
        size_t end = i;
        while (end < units && le16(v.data + 2 * end) != 0)
            end++;
        if (end == i) /* an empty string ends the list */
            break;
        if (!regf_utf16_to_utf8(v.data + 2 * i, 2 * (end - i), false, str, REGF_NAME_BUF, NULL)) {
            st = imgp_error(h->ctx, IMGP_ERR_LIMIT, "regf: a string of value '%s' is over %u bytes", name,
                            REGF_NAME_BUF - 1);
            break;
        }
        if (fn(arg, str))
            break;
        i = end + 1;
    }
    imgp_free(h->ctx, str);
    imgp_free(h->ctx, own);
    return st;
}

/* ---- the hive ---- */

const imgp_regf_info *imgp_regf_get_info(const imgp_regf *h) { return &h->info; }
bool imgp_regf_dirty(const imgp_regf *h) { return h->info.dirty; }
imgp_regf_key imgp_regf_root(const imgp_regf *h) { return h->root; }

void imgp_regf_close(imgp_regf *h)
{
    if (!h)
        return;
    imgp_ctx *ctx = h->ctx;
    for (size_t i = 0; i < h->info.nnotes; i++)
        imgp_free(ctx, h->notes[i]);
    imgp_free(ctx, h->cell_map);
    imgp_free(ctx, h->listed);
    imgp_free(ctx, h->name_buf);
    imgp_free(ctx, h->scratch);
    imgp_free(ctx, h->owned);
    imgp_free(ctx, h);
}

/* Open the hive in @p data (@p len bytes, held while it is open), read from a file of @p file_len bytes. */
static imgp_status open_hive(imgp_ctx *ctx, const uint8_t *data, size_t len, uint64_t file_len, imgp_regf **out)
{
    *out = NULL;
    regf_base b;
    imgp_status st = regf_parse_base(ctx, data, len, len, &b);
    if (st != IMGP_OK)
        return st;
    imgp_regf *h = imgp_calloc(ctx, 1, sizeof *h);
    if (!h)
        return imgp_ctx_status(ctx);
    h->ctx = ctx;
    h->data = data;
    h->len = len;
    h->bins = data + REGF_BASE_SIZE;
    h->bins_size = b.bins_size;
    h->root = b.root;
    h->info.major = b.major;
    h->info.minor = b.minor;
    h->info.seq_primary = b.seq_primary;
    h->info.seq_secondary = b.seq_secondary;
    h->info.checksum_ok = b.checksum == b.computed;
    h->info.dirty = b.seq_primary != b.seq_secondary || !h->info.checksum_ok;
    h->info.last_written = b.last_written;
    h->info.bins_size = b.bins_size;
    h->info.notes = (const char *const *)h->notes;
    regf_utf16_to_utf8(data + REGF_BASE_FILE_NAME, REGF_BASE_FILE_NAME_LEN, true, h->file_name, sizeof h->file_name,
                       NULL);
    h->info.file_name = h->file_name;

    h->name_buf = imgp_alloc(ctx, REGF_NAME_BUF);
    st = h->name_buf ? map_cells(h) : imgp_ctx_status(ctx);
    if (st == IMGP_OK) {
        const uint8_t *c;
        size_t clen;
        regf_nk nk;
        st = cell_at(h, h->root, "root cell offset of the base block", 0, &c, &clen);
        if (st == IMGP_OK)
            st = regf_parse_nk(ctx, c, clen, file_off(h->root), &nk);
    }
    if (st != IMGP_OK) {
        imgp_regf_close(h);
        return st;
    }
    if (b.seq_primary != b.seq_secondary)
        note(h, "regf: hive is dirty (sequence numbers %u and %u differ): changes still in its transaction logs are "
                "not applied", b.seq_primary, b.seq_secondary);
    if (!h->info.checksum_ok)
        note(h, "regf: base block checksum 0x%08x does not match the computed 0x%08x", b.checksum, b.computed);
    uint64_t rest = file_len - REGF_BASE_SIZE - b.bins_size;
    if (rest % REGF_BIN_ALIGN != 0)
        note(h, "regf: %llu bytes after the hive bins data (not a whole number of 4 KiB pages) are ignored",
             (unsigned long long)rest);
    *out = h;
    return IMGP_OK;
}

imgp_status imgp_regf_open(imgp_ctx *ctx, const uint8_t *data, size_t len, imgp_regf **out)
{
    *out = NULL;
    uint64_t limit = imgp_ctx_limit(ctx, IMGP_LIMIT_HIVE_BYTES);
    if (len > limit)
        return imgp_error(ctx, IMGP_ERR_LIMIT, "regf: hive of %zu bytes is over the limit hive_bytes (%llu)", len,
                          (unsigned long long)limit);
    return open_hive(ctx, data, len, len, out);
}

/* All @p len bytes at @p off of hive file @p ino (@p file_len bytes long). */
static imgp_status read_exact(imgp_ctx *ctx, imgp_fs *fs, imgp_ino ino, uint64_t file_len, uint64_t off, uint8_t *buf,
                              size_t len)
{
    for (size_t done = 0; done < len;) {
        size_t got = 0;
        imgp_status st = imgp_fs_read(fs, ino, off + done, buf + done, len - done, &got);
        if (st != IMGP_OK)
            return st;
        if (got == 0)
            return imgp_error(ctx, IMGP_ERR_IO, "regf: hive file ended at %llu of its %llu bytes",
                              (unsigned long long)(off + done), (unsigned long long)file_len);
        done += got;
    }
    return IMGP_OK;
}

/* The first buffer read_bins allocates; it doubles from there. */
#define REGF_READ_FIRST (1u << 20)

/* Grow *@p buf (*@p cap bytes) to hold @p want bytes: twice as many, or @p want, at most the hive's @p need. */
static imgp_status grow(imgp_ctx *ctx, uint8_t **buf, size_t *cap, size_t want, size_t need)
{
    if (*cap >= want)
        return IMGP_OK;
    size_t n = *cap > need / 2 ? need : 2 * *cap;
    if (n < want)
        n = want;
    uint8_t *p = imgp_realloc(ctx, *buf, n);
    if (!p)
        return imgp_ctx_status(ctx);
    *buf = p;
    *cap = n;
    return IMGP_OK;
}

/*
 * Read the hive bins of file @p ino after base block @p head into *@p out
 * (REGF_BASE_SIZE + @p b->bins_size bytes). Every bin header read is checked
 * before anything more is read, and each read takes what is held to twice
 * as much (at least to the next header, at most the hive): a base block that
 * claims more bins than the file holds (zeros in a sparse file, say) stops
 * at the first bad header, having read and held at most about twice what
 * came before it, not what it claimed; a real hive of N bins takes about
 * log2(N) reads.
 */
static imgp_status read_bins(imgp_ctx *ctx, imgp_fs *fs, imgp_ino ino, uint64_t file_len, const regf_base *b,
                             const uint8_t *head, uint8_t **out)
{
    size_t need = REGF_BASE_SIZE + (size_t)b->bins_size;
    size_t cap = need < REGF_READ_FIRST ? need : REGF_READ_FIRST;
    size_t have = REGF_BASE_SIZE; /* bytes of buf read */
    uint8_t *buf = imgp_alloc(ctx, cap);
    if (!buf)
        return imgp_ctx_status(ctx);
    memcpy(buf, head, REGF_BASE_SIZE);
    imgp_status st = IMGP_OK;
    uint32_t bin = 0; /* the first bin whose header is not checked yet */
    while (st == IMGP_OK && have < need) {
        size_t next = REGF_BASE_SIZE + (size_t)bin + REGF_BIN_HEADER_SIZE; /* the end of its header */
        if (bin < b->bins_size && next <= have) {
            uint32_t size;
            st = check_bin(ctx, buf + next - REGF_BIN_HEADER_SIZE, bin, b->bins_size, &size);
            if (st == IMGP_OK)
                bin += size; /* at most bins_size: check_bin saw to it */
            continue;
        }
        /* after the last bin, the rest of its body */
        size_t want = need;
        if (bin < b->bins_size && have < need / 2)
            want = 2 * have > next ? 2 * have : next;
        st = grow(ctx, &buf, &cap, want, need);
        if (st == IMGP_OK)
            st = read_exact(ctx, fs, ino, file_len, have, buf + have, want - have);
        have = want;
    }
    if (st != IMGP_OK) {
        imgp_free(ctx, buf);
        return st;
    }
    *out = buf;
    return IMGP_OK;
}

imgp_status imgp_regf_open_file(imgp_ctx *ctx, imgp_fs *fs, imgp_ino ino, imgp_regf **out)
{
    *out = NULL;
    imgp_stat sb;
    imgp_status st = imgp_fs_stat(fs, ino, &sb);
    if (st != IMGP_OK)
        return st;
    if (sb.type != IMGP_FT_REG)
        return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "regf: inode %llu is not a regular file",
                          (unsigned long long)ino);
    uint8_t head[REGF_BASE_SIZE];
    size_t head_len = sb.size < REGF_BASE_SIZE ? (size_t)sb.size : REGF_BASE_SIZE;
    regf_base b;
    st = read_exact(ctx, fs, ino, sb.size, 0, head, head_len);
    if (st == IMGP_OK)
        st = regf_parse_base(ctx, head, head_len, sb.size, &b);
    if (st != IMGP_OK)
        return st;
    /* what the hive is (anything after its bins is not read), against the limit before a byte is held */
    uint64_t need = REGF_BASE_SIZE + (uint64_t)b.bins_size;
    uint64_t limit = imgp_ctx_limit(ctx, IMGP_LIMIT_HIVE_BYTES);
    if (need > limit || need > SIZE_MAX)
        return imgp_error(ctx, IMGP_ERR_LIMIT,
                          "regf: hive of %llu bytes (its base block and hive bins) is over the limit hive_bytes (%llu)",
                          (unsigned long long)need, (unsigned long long)limit);
    uint8_t *buf = NULL;
    st = read_bins(ctx, fs, ino, sb.size, &b, head, &buf);
    if (st != IMGP_OK)
        return st;
    st = open_hive(ctx, buf, (size_t)need, sb.size, out);
    if (st != IMGP_OK) {
        imgp_free(ctx, buf);
        return st;
    }
    (*out)->owned = buf;
    return IMGP_OK;
}
