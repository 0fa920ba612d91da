/*
 * What a device holds, from its superblock alone, named as `blkid -p` names
 * it (TYPE, VERSION, LABEL, UUID); the one exception is an LVM2 physical
 * volume, "lvm2_member" as docs/cli.md and the LVM reader spell it (blkid:
 * "LVM2_member").
 *
 * content_probe() reads the first IMGP_CONTENT_HEAD and the last
 * IMGP_CONTENT_TAIL bytes of a device; content_identify() runs every probe
 * of the table below over those two buffers and keeps the best match.
 *
 * Choosing between matches. Each probe returns a score (content.h). A
 * member of something larger (a RAID array, a volume group, an encrypted
 * volume) wins over any filesystem whatever the scores, because what looks
 * like a filesystem on such a device is the array's or the volume's content
 * showing through: an md 1.0 or 0.90 member keeps its superblock at the end,
 * so its first member's filesystem is visible at offset 0, and the device is
 * still a RAID member (blkid stops at RAID and crypto signatures for the same
 * reason). Among members, and among filesystems, the higher score wins;
 * equal scores go to the row that comes first. The order of the rows is
 * blkid's: md RAID, LVM2, LDM, LUKS, BitLocker, then vfat, swap, xfs, the
 * xfs log, ext, iso9660, zfs, ntfs, squashfs, btrfs, exfat. (blkid itself
 * reports nothing when two filesystems match; we prefer an answer.)
 *
 * Like blkid, devices of 1 KiB or less hold nothing we name, and RAID and
 * volume-manager signatures are not looked for on devices of 1440 KiB or less
 * (floppy-sized: a stale signature there is likelier than an array).
 */
#include <stdio.h>

#include "../core/utf8.h"
#include "content.h"

#define CONTENT_MIN_DEVICE 1024u
#define CONTENT_TINY_DEVICE (1440u * 1024)

typedef struct content_prober {
    const char *finds;       /* the types it can name, for readers of this table */
    content_probe_fn *probe;
    bool member;             /* RAID, volume manager or encryption: wins over any filesystem */
    bool raid;               /* not looked for on floppy-sized devices */
} content_prober;

static const content_prober probers[] = {
    {"linux_raid_member", content_probe_md, true, true},
    {"lvm2_member", content_probe_lvm2, true, true},
    {"LDM", content_probe_ldm, true, true},
    {"crypto_LUKS", content_probe_luks, true, false},
    {"BitLocker", content_probe_bitlocker, true, false},
    {"vfat", content_probe_vfat, false, false},
    {"swap, swsuspend", content_probe_swap, false, false},
    {"xfs", content_probe_xfs, false, false},
    {"xfs_external_log", content_probe_xfs_log, false, false},
    {"ext4dev, ext4, ext3, ext2, jbd", content_probe_ext, false, false},
    {"iso9660", content_probe_iso9660, false, false},
    {"zfs_member", content_probe_zfs, false, false},
    {"ntfs", content_probe_ntfs, false, false},
    {"squashfs, squashfs3", content_probe_squashfs, false, false},
    {"btrfs", content_probe_btrfs, false, false},
    {"exfat", content_probe_exfat, false, false},
};

bool content_window(const content_view *v, uint64_t off, size_t len, imgp_cursor *out)
{
    if (!imgp_range_outside(off, len, v->head_len)) {
        *out = imgp_cur_init(v->head + off, len);
        return true;
    }
    if (off >= v->tail_start && !imgp_range_outside(off - v->tail_start, len, v->tail_len)) {
        *out = imgp_cur_init(v->tail + (off - v->tail_start), len);
        return true;
    }
    *out = imgp_cur_init(NULL, 0);
    out->bad = true;
    return false;
}

bool content_all_zero(const uint8_t *p, size_t n)
{
    if (!p)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* ---- text ---- */

/* The longest on-disk string turned into text (a ZFS pool name may be long; labels are shorter). */
#define TEXT_MAX_CHARS 1024u
#define REPLACEMENT_CHAR 0xFFFDu

typedef struct text_chars {
    uint32_t c[TEXT_MAX_CHARS];
    size_t n;
} text_chars;

/* Decode one UTF-8 sequence from @p p (@p n > 0 bytes); U+FFFD and one byte for anything invalid. */
static uint32_t utf8_decode(const uint8_t *p, size_t n, size_t *used)
{
    *used = 1;
    if (p[0] < 0x80)
        return p[0];
    size_t len = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 0;
    if (len == 0 || p[0] > 0xF4 || len > n)
        return REPLACEMENT_CHAR;
    uint32_t c = p[0] & (0x7Fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return REPLACEMENT_CHAR;
        c = c << 6 | (p[i] & 0x3Fu);
    }
    static const uint32_t shortest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < shortest[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return REPLACEMENT_CHAR; /* overlong, out of range, or a surrogate */
    *used = len;
    return c;
}

static void chars_from_bytes(text_chars *t, const uint8_t *p, size_t n)
{
    t->n = 0;
    for (size_t i = 0; i < n && p[i] && t->n < TEXT_MAX_CHARS;) {
        size_t used;
        t->c[t->n++] = utf8_decode(p + i, n - i, &used);
        i += used;
    }
}

static void chars_from_utf16(text_chars *t, const uint8_t *p, size_t n, bool big_endian)
{
    t->n = 0;
    for (size_t i = 0; i + 1 < n && t->n < TEXT_MAX_CHARS; i += 2) {
        uint32_t c = big_endian ? (uint32_t)p[i] << 8 | p[i + 1] : (uint32_t)p[i + 1] << 8 | p[i];
        if (c == 0)
            break;
        if (c >= 0xD800 && c <= 0xDBFF && i + 3 < n) {
            uint32_t lo = big_endian ? (uint32_t)p[i + 2] << 8 | p[i + 3] : (uint32_t)p[i + 3] << 8 | p[i + 2];
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            }
        }
        if (c >= 0xD800 && c <= 0xDFFF)
            c = REPLACEMENT_CHAR; /* unpaired surrogate */
        t->c[t->n++] = c;
    }
}

/* blkid trims with isspace() in the C locale. */
static bool is_space(uint32_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Encode @p t into @p dst (@p cap > 0 bytes), trimmed; a character that does not fit ends the text. */
static void chars_to_text(const text_chars *t, bool trim_left, char *dst, size_t cap)
{
    size_t first = 0, end = t->n, len = 0;
    while (end > first && is_space(t->c[end - 1]))
        end--;
    while (trim_left && first < end && is_space(t->c[first]))
        first++;
    for (size_t i = first; i < end; i++) {
        uint32_t c = t->c[i];
        if (c < 0x20 || c == 0x7F)
            c = REPLACEMENT_CHAR; /* keep control characters out of reports */
        if (!imgp_utf8_put(c, dst, cap, &len))
            break;
    }
    dst[len] = '\0';
}

void content_set_label(content_result *r, const uint8_t *p, size_t n, bool trim_left)
{
    text_chars t;
    if (!p)
        return;
    chars_from_bytes(&t, p, n);
    chars_to_text(&t, trim_left, r->label, sizeof r->label);
}

void content_set_label_utf16(content_result *r, const uint8_t *p, size_t n, bool big_endian)
{
    text_chars t;
    if (!p)
        return;
    chars_from_utf16(&t, p, n, big_endian);
    chars_to_text(&t, false, r->label, sizeof r->label);
}

void content_set_uuid_text(content_result *r, const uint8_t *p, size_t n)
{
    text_chars t;
    if (!p)
        return;
    chars_from_bytes(&t, p, n);
    chars_to_text(&t, false, r->uuid, sizeof r->uuid);
}

void content_set_uuid_bytes(content_result *r, const uint8_t *u)
{
    if (!u || content_all_zero(u, 16))
        return;
    content_set_uuid(r, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
                     u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

void content_set_uuid(content_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->uuid, sizeof r->uuid, fmt, ap);
    va_end(ap);
}

void content_set_version(content_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->version, sizeof r->version, fmt, ap);
    va_end(ap);
}

/* ---- choosing ---- */

static void result_clear(content_result *r)
{
    memset(r, 0, sizeof *r);
    r->type = "unknown";
}

void content_identify(const uint8_t *head, size_t head_len, const uint8_t *tail, size_t tail_len, uint64_t size,
                      content_result *out)
{
    result_clear(out);
    /* Buffers longer than the device would claim bytes it does not have: never look past it. */
    content_view v = {
        .head = head,
        .head_len = head ? (size_t)imgp_min_u64(head_len, size) : 0,
        .tail = tail,
        .tail_len = tail ? (size_t)imgp_min_u64(tail_len, size) : 0,
        .size = size,
    };
    v.tail_start = size - v.tail_len;
    if (size <= CONTENT_MIN_DEVICE)
        return;

    int best_score = IMGP_SCORE_NONE;
    bool best_member = false;
    for (size_t i = 0; i < sizeof probers / sizeof probers[0]; i++) {
        const content_prober *p = &probers[i];
        if (p->raid && size <= CONTENT_TINY_DEVICE)
            continue;
        if (best_member && !p->member)
            continue; /* no filesystem can beat a member */
        content_result cand;
        memset(&cand, 0, sizeof cand);
        int score = p->probe(&v, &cand);
        if (score <= IMGP_SCORE_NONE || !cand.type)
            continue;
        if ((p->member && !best_member) || score > best_score) {
            *out = cand;
            best_score = score;
            best_member = p->member;
        }
    }
}

imgp_status content_probe(imgp_bdev *bd, content_result *out)
{
    result_clear(out);
    size_t head_len = (size_t)imgp_min_u64(bd->size, IMGP_CONTENT_HEAD);
    size_t tail_len = (size_t)imgp_min_u64(bd->size, IMGP_CONTENT_TAIL);
    if (bd->size <= CONTENT_MIN_DEVICE)
        return IMGP_OK;
    uint8_t *head = imgp_alloc(bd->ctx, head_len);
    if (!head)
        return IMGP_ERR_NOMEM;
    imgp_status st = imgp_bdev_read(bd, 0, head, head_len);
    uint8_t *tail = NULL;
    if (st == IMGP_OK && bd->size == head_len) {
        /* the head is the whole device: the tail is its end */
        content_identify(head, head_len, head + (head_len - tail_len), tail_len, bd->size, out);
    } else if (st == IMGP_OK) {
        tail = imgp_alloc(bd->ctx, tail_len);
        st = tail ? imgp_bdev_read(bd, bd->size - tail_len, tail, tail_len) : IMGP_ERR_NOMEM;
        if (st == IMGP_OK)
            content_identify(head, head_len, tail, tail_len, bd->size, out);
    }
    imgp_free(bd->ctx, tail);
    imgp_free(bd->ctx, head);
    return st;
}
