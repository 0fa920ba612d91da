/*
 * The cpio "newc" parser of the initramfs reader: a state machine fed bytes
 * in pieces of any size (the kernel's own reader in init/initramfs.c works
 * the same way, which is what lets it follow the kernel's rules exactly).
 * Layout in cpio_disk.h; the rules it follows are listed in initramfs.h.
 *
 * States: at an entry boundary (zero padding, or the '0' of a header on a
 * 4-byte boundary), in a header, in the name (and a symlink's target), in the
 * data, in the padding after it. Names and targets are collected into a
 * fixed buffer (both are at most PATH_MAX, longer ones are skipped as the
 * kernel skips them); data is never held, only summed for 070702 archives.
 */
#include <stdio.h>

#include "../core/cursor.h"
#include "initramfs.h"

#define HEX(x) ((unsigned long long)(x))

typedef enum cpio_state {
    ST_BOUNDARY, /* between entries: zeros, a header, or a byte that is not ours */
    ST_HEADER,
    ST_NAME,     /* collecting the padded name (and a symlink's target) */
    ST_DATA,     /* skipping data (or, for an entry the kernel skips, name and data) */
    ST_PAD,      /* skipping the padding after the data */
} cpio_state;

/* What happens to an entry after its header. */
typedef enum entry_kind {
    ENTRY_NAMED,   /* a regular file or an entry without data: read the name, skip the data */
    ENTRY_SYMLINK, /* read the name and the target */
    ENTRY_SKIPPED, /* the kernel skips it whole */
} entry_kind;

struct imgp_cpio_parser {
    imgp_ctx *ctx;
    imgp_cpio_fn fn;
    void *fn_arg;
    imgp_initramfs_info *info;
    uint64_t max_headers, headers, skipped;
    bool stopped;

    /* the segment */
    imgp_compression compression;
    uint64_t image_off;      /* where the segment starts in the image */
    bool archive_pending;    /* the next header starts a new archive */
    unsigned archive;
    uint64_t pos;            /* offset of the next byte, in the segment's terms */
    cpio_state state;

    /* the entry */
    uint64_t entry_off;
    imgp_cpio_header h;
    entry_kind kind;
    uint8_t header[CPIO_HEADER_SIZE];
    size_t header_have;
    size_t collect_len, collect_have;
    uint64_t data_left, pad_left;
    bool summing;
    uint32_t sum;
    /* the padded name, then for a symlink its target and a NUL */
    char collect[CPIO_PATH_MAX + 2 + CPIO_PATH_MAX + 1];
};

/* ---- the header (cpio_disk.h) ---- */

static bool parse_hex8(const uint8_t *p, uint32_t *v)
{
    uint32_t x = 0;
    for (int i = 0; i < CPIO_FIELD_LEN; i++) {
        uint8_t c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return false;
        x = x << 4 | d;
    }
    *v = x;
    return true;
}

imgp_status imgp_cpio_header_parse(imgp_ctx *ctx, const uint8_t *buf, size_t len, const char *where,
                                   imgp_cpio_header *out)
{
    memset(out, 0, sizeof *out);
    imgp_cursor c = imgp_cur_init(buf, len);
    const uint8_t *magic = imgp_cur_ptr_at(&c, CPIO_OFF_MAGIC, CPIO_MAGIC_LEN);
    if (!magic)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "%s: %zu bytes, a header needs %d", where, len, CPIO_HEADER_SIZE);
    if (memcmp(magic, CPIO_MAGIC_ODC, CPIO_MAGIC_LEN) == 0 || (magic[0] == 0xc7 && magic[1] == 0x71) ||
        (magic[0] == 0x71 && magic[1] == 0xc7))
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED,
                          "%s: an old (%s) cpio archive; the kernel reads only newc (cpio -H newc)", where,
                          magic[0] == '0' ? "odc 070707" : "binary");
    bool newc = memcmp(magic, CPIO_MAGIC_NEWC, CPIO_MAGIC_LEN) == 0;
    if (!newc && memcmp(magic, CPIO_MAGIC_NEWC_CRC, CPIO_MAGIC_LEN) != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "%s: no cpio magic (bytes %02x %02x %02x %02x %02x %02x)", where,
                          magic[0], magic[1], magic[2], magic[3], magic[4], magic[5]);
    out->has_checksum = !newc;

    static const struct {
        size_t off;
        const char *name;
        size_t field;
    } fields[CPIO_FIELDS] = {
        {CPIO_OFF_INO, "c_ino", offsetof(imgp_cpio_header, ino)},
        {CPIO_OFF_MODE, "c_mode", offsetof(imgp_cpio_header, mode)},
        {CPIO_OFF_UID, "c_uid", offsetof(imgp_cpio_header, uid)},
        {CPIO_OFF_GID, "c_gid", offsetof(imgp_cpio_header, gid)},
        {CPIO_OFF_NLINK, "c_nlink", offsetof(imgp_cpio_header, nlink)},
        {CPIO_OFF_MTIME, "c_mtime", offsetof(imgp_cpio_header, mtime)},
        {CPIO_OFF_FILESIZE, "c_filesize", offsetof(imgp_cpio_header, filesize)},
        {CPIO_OFF_DEVMAJOR, "c_maj", offsetof(imgp_cpio_header, devmajor)},
        {CPIO_OFF_DEVMINOR, "c_min", offsetof(imgp_cpio_header, devminor)},
        {CPIO_OFF_RDEVMAJOR, "c_rmaj", offsetof(imgp_cpio_header, rdevmajor)},
        {CPIO_OFF_RDEVMINOR, "c_rmin", offsetof(imgp_cpio_header, rdevminor)},
        {CPIO_OFF_NAMESIZE, "c_namesize", offsetof(imgp_cpio_header, namesize)},
        {CPIO_OFF_CHECK, "c_chksum", offsetof(imgp_cpio_header, check)},
    };
    for (size_t i = 0; i < CPIO_FIELDS; i++) {
        const uint8_t *p = imgp_cur_ptr_at(&c, fields[i].off, CPIO_FIELD_LEN);
        uint32_t v;
        if (!p)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "%s: %zu bytes, a header needs %d", where, len,
                              CPIO_HEADER_SIZE);
        if (!parse_hex8(p, &v)) {
            char text[CPIO_FIELD_LEN + 1];
            for (int k = 0; k < CPIO_FIELD_LEN; k++)
                text[k] = p[k] >= 0x20 && p[k] < 0x7f ? (char)p[k] : '?';
            text[CPIO_FIELD_LEN] = '\0';
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "%s: %s \"%s\" is not 8 hexadecimal digits", where,
                              fields[i].name, text);
        }
        memcpy((char *)out + fields[i].field, &v, sizeof v);
    }
    return IMGP_OK;
}

/* ---- the parser ---- */

/* "cpio header at 0x200" or "cpio header at offset 0x200 of the gzip archive at 0x1e00". */
static void describe(const imgp_cpio_parser *p, const char *what, uint64_t off, char *out, size_t cap)
{
    if (p->compression == IMGP_COMP_NONE)
        snprintf(out, cap, "%s at 0x%llx", what, HEX(off));
    else
        snprintf(out, cap, "%s at offset 0x%llx of the %s archive at 0x%llx", what, HEX(off),
                 imgp_compression_name(p->compression), HEX(p->image_off));
}

/* The name as the kernel sees it (up to its first NUL) without leading "/" and "./". */
static const char *clean_name(const char *name, size_t *len)
{
    for (;;) {
        if (name[0] == '/')
            name++;
        else if (name[0] == '.' && name[1] == '/')
            name += 2;
        else
            break;
    }
    *len = strlen(name);
    return name;
}

/* After an entry's data: padding to the next 4-byte boundary, then the next entry. */
static void enter_padding(imgp_cpio_parser *p)
{
    p->pad_left = (CPIO_ALIGN - p->pos % CPIO_ALIGN) % CPIO_ALIGN;
    p->state = p->pad_left ? ST_PAD : ST_BOUNDARY;
}

/* The header is complete: decide what the entry is (the kernel's do_header()). */
static imgp_status start_entry(imgp_cpio_parser *p)
{
    char where[160];
    describe(p, "cpio header", p->entry_off, where, sizeof where);
    if (p->headers >= p->max_headers)
        return imgp_error(p->ctx, IMGP_ERR_LIMIT, "%s: more than %llu cpio entries (limit cpio_entries)", where,
                          HEX(p->max_headers));
    p->headers++;
    imgp_status st = imgp_cpio_header_parse(p->ctx, p->header, sizeof p->header, where, &p->h);
    if (st != IMGP_OK)
        return st;
    if (p->archive_pending) {
        imgp_initramfs_info *info = p->info;
        p->archive = info->narchives;
        if (info->narchives < IMGP_INITRAMFS_ARCHIVES_LISTED)
            info->compression[info->narchives] = imgp_compression_name(p->compression);
        info->narchives++;
        p->archive_pending = false;
    }
    uint32_t type = p->h.mode & CPIO_S_IFMT;
    uint64_t name_span = imgp_cpio_name_span(p->h.namesize);
    p->summing = false;
    p->sum = 0;
    if (p->h.namesize == 0 || p->h.namesize > CPIO_PATH_MAX || (type == CPIO_S_IFLNK && p->h.filesize > CPIO_PATH_MAX) ||
        (type != CPIO_S_IFREG && type != CPIO_S_IFLNK && p->h.filesize != 0)) {
        p->kind = ENTRY_SKIPPED;
        p->skipped++;
        p->data_left = name_span + p->h.filesize;
        p->state = ST_DATA;
        return IMGP_OK;
    }
    p->kind = type == CPIO_S_IFLNK ? ENTRY_SYMLINK : ENTRY_NAMED;
    p->collect_len = (size_t)name_span + (p->kind == ENTRY_SYMLINK ? p->h.filesize : 0);
    p->collect_have = 0;
    p->data_left = p->kind == ENTRY_SYMLINK ? 0 : p->h.filesize;
    p->summing = p->h.has_checksum && type == CPIO_S_IFREG;
    p->state = ST_NAME;
    return IMGP_OK;
}

/* The name (and target) are in: list the entry (the kernel's do_name() and do_symlink()). */
static imgp_status finish_name(imgp_cpio_parser *p)
{
    char *name = p->collect;
    if (name[p->h.namesize - 1] != '\0') {
        char where[160], shown[65];
        describe(p, "cpio entry", p->entry_off, where, sizeof where);
        size_t n = strnlen(name, p->h.namesize < 64 ? p->h.namesize : 64);
        for (size_t i = 0; i < n; i++) /* the message stays one printable line */
            shown[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
        shown[n] = '\0';
        return imgp_error(p->ctx, IMGP_ERR_CORRUPT, "%s: the name (c_namesize %u) does not end with a NUL: \"%s%s\"",
                          where, (unsigned)p->h.namesize, shown, n == 64 ? "..." : "");
    }
    if (p->data_left)
        p->state = ST_DATA;
    else
        enter_padding(p);
    if (strcmp(name, CPIO_TRAILER) == 0) {
        /* the end of an archive: whatever follows starts the next one */
        p->archive_pending = true;
        return IMGP_OK;
    }
    imgp_cpio_entry e = {0};
    e.name = clean_name(name, &e.name_len);
    if (e.name_len == 0 || strcmp(e.name, ".") == 0)
        return IMGP_OK; /* the root itself */
    e.mode = p->h.mode;
    e.size = p->h.filesize;
    e.archive = p->archive;
    if (p->kind == ENTRY_SYMLINK) {
        char *target = p->collect + imgp_cpio_name_span(p->h.namesize);
        target[p->h.filesize] = '\0';
        e.link_target = target;
        e.link_len = strlen(target);
    }
    p->info->entries++;
    if (p->fn(p->fn_arg, &e) != 0)
        p->stopped = true;
    return IMGP_OK;
}

static imgp_status finish_data(imgp_cpio_parser *p)
{
    enter_padding(p);
    if (p->summing && p->sum != p->h.check) {
        char where[160];
        describe(p, "cpio entry", p->entry_off, where, sizeof where);
        return imgp_error(p->ctx, IMGP_ERR_CORRUPT, "%s (\"%s\"): the data's checksum is 0x%08x, c_chksum says 0x%08x",
                          where, p->collect, (unsigned)p->sum, (unsigned)p->h.check);
    }
    return IMGP_OK;
}

/* The number of zero bytes @p buf starts with (at most @p len). */
static size_t zero_run(const uint8_t *buf, size_t len)
{
    static const uint8_t zeros[4096];
    size_t n = 0;
    while (len - n >= sizeof zeros && memcmp(buf + n, zeros, sizeof zeros) == 0)
        n += sizeof zeros;
    while (n < len && buf[n] == 0)
        n++;
    return n;
}

imgp_status imgp_cpio_feed(imgp_cpio_parser *p, const uint8_t *buf, size_t len, size_t *used)
{
    size_t i = 0;
    imgp_status st = IMGP_OK;
    while (i < len && !p->stopped && st == IMGP_OK) {
        size_t n;
        switch (p->state) {
        case ST_BOUNDARY:
            if (buf[i] == 0) {
                /* padding between archives; a run at once, as a decompression
                 * bomb is mostly zeros (up to IMGP_LIMIT_DECOMPRESSED of them) */
                n = zero_run(buf + i, len - i);
                i += n;
                p->pos += n;
            } else if (buf[i] == '0' && p->pos % CPIO_ALIGN == 0) {
                p->state = ST_HEADER;
                p->header_have = 0;
                p->entry_off = p->pos;
            } else {
                *used = i;
                return IMGP_OK;
            }
            break;
        case ST_HEADER:
            n = imgp_min_u64(CPIO_HEADER_SIZE - p->header_have, len - i);
            memcpy(p->header + p->header_have, buf + i, n);
            p->header_have += n;
            i += n;
            p->pos += n;
            if (p->header_have == CPIO_HEADER_SIZE)
                st = start_entry(p);
            break;
        case ST_NAME:
            n = imgp_min_u64(p->collect_len - p->collect_have, len - i);
            memcpy(p->collect + p->collect_have, buf + i, n);
            p->collect_have += n;
            i += n;
            p->pos += n;
            if (p->collect_have == p->collect_len)
                st = finish_name(p);
            break;
        case ST_DATA:
            n = imgp_min_u64(p->data_left, len - i);
            if (p->summing)
                for (size_t k = 0; k < n; k++)
                    p->sum += buf[i + k];
            p->data_left -= n;
            i += n;
            p->pos += n;
            if (p->data_left == 0)
                st = finish_data(p);
            break;
        case ST_PAD:
            n = imgp_min_u64(p->pad_left, len - i);
            p->pad_left -= n;
            i += n;
            p->pos += n;
            if (p->pad_left == 0)
                p->state = ST_BOUNDARY;
            break;
        }
    }
    *used = i;
    return st;
}

imgp_status imgp_cpio_segment_end(imgp_cpio_parser *p)
{
    if (p->state == ST_BOUNDARY || p->stopped)
        return IMGP_OK;
    char where[160];
    describe(p, "cpio entry", p->entry_off, where, sizeof where);
    static const char *const parts[] = {"", "header", "name", "data", "padding"};
    return imgp_error(p->ctx, IMGP_ERR_CORRUPT, "%s: the %s ends inside the entry's %s (at 0x%llx)", where,
                      p->compression == IMGP_COMP_NONE ? "image" : "decompressed data", parts[p->state],
                      HEX(p->pos));
}

void imgp_cpio_segment_begin(imgp_cpio_parser *p, imgp_compression compression, uint64_t image_off)
{
    p->compression = compression;
    p->image_off = image_off;
    p->pos = compression == IMGP_COMP_NONE ? image_off : 0;
    p->state = ST_BOUNDARY;
    p->archive_pending = true;
}

bool imgp_cpio_stopped(const imgp_cpio_parser *p) { return p->stopped; }
uint64_t imgp_cpio_skipped(const imgp_cpio_parser *p) { return p->skipped; }
uint64_t imgp_cpio_offset(const imgp_cpio_parser *p) { return p->pos; }

imgp_status imgp_cpio_parser_new(imgp_ctx *ctx, imgp_cpio_fn fn, void *fn_arg, imgp_initramfs_info *info,
                                 imgp_cpio_parser **out)
{
    imgp_cpio_parser *p = imgp_calloc(ctx, 1, sizeof *p);
    *out = p;
    if (!p)
        return IMGP_ERR_NOMEM;
    p->ctx = ctx;
    p->fn = fn;
    p->fn_arg = fn_arg;
    p->info = info;
    p->max_headers = imgp_ctx_limit(ctx, IMGP_LIMIT_CPIO_ENTRIES);
    p->compression = IMGP_COMP_NONE;
    return IMGP_OK;
}

void imgp_cpio_parser_free(imgp_cpio_parser *p)
{
    if (p)
        imgp_free(p->ctx, p);
}
