/*
 * Content identification, inside: the view of a device that every probe
 * reads, the probes themselves (content_fs.c: filesystems; content_other.c:
 * swap, volume managers, RAID and encryption), and the helpers that turn
 * on-disk labels and UUIDs into the text blkid prints.
 *
 * A probe is pure: it reads only the head and tail buffers of the view,
 * through a bounded cursor that content_window() hands out, fills a
 * content_result (type, version, label, uuid) and returns a score:
 * IMGP_SCORE_NONE when the device is not its format, IMGP_SCORE_WEAK when
 * the signature is there but what would confirm it lies outside the buffers
 * or is missing, IMGP_SCORE_MAGIC when the signature and the structure
 * around it check out. content.c runs the table and picks the winner.
 */
#ifndef IMGP_CONTENT_H
#define IMGP_CONTENT_H

#include "../core/cursor.h"
#include "volumes.h"

/* The bytes of a device a probe may see: [0, head_len) and [size - tail_len, size). */
typedef struct content_view {
    const uint8_t *head;
    size_t head_len;
    const uint8_t *tail;
    size_t tail_len;
    uint64_t size;       /* of the whole device */
    uint64_t tail_start; /* size - tail_len */
} content_view;

/*
 * A cursor over the device bytes [@p off, @p off + @p len) when they lie
 * wholly inside the head or wholly inside the tail; false (and an empty,
 * bad cursor) when they do not, or the range overflows.
 */
bool content_window(const content_view *v, uint64_t off, size_t len, imgp_cursor *out);

/* True when the @p n bytes at @p off of the cursor's window are @p s (false when they lie outside it). */
static inline bool content_eq(imgp_cursor *c, size_t off, const char *s, size_t n)
{
    const uint8_t *p = imgp_cur_ptr_at(c, off, n);
    return p && memcmp(p, s, n) == 0;
}

/* ---- text: every string a probe sets is NUL-terminated, valid UTF-8 ---- */

/*
 * Set the label from @p n bytes in an 8-bit encoding: up to the first NUL,
 * trailing white space removed (and leading too when @p trim_left), bytes
 * that are not valid UTF-8 or are control characters replaced by U+FFFD,
 * cut at a character boundary to fit.
 */
void content_set_label(content_result *r, const uint8_t *p, size_t n, bool trim_left);
/* (Every setter taking bytes treats NULL as nothing there and sets nothing.) */

/* The same from UTF-16 (@p big_endian or little), @p n bytes; an unpaired surrogate becomes U+FFFD. */
void content_set_label_utf16(content_result *r, const uint8_t *p, size_t n, bool big_endian);

/* Set the UUID from text on disk (LUKS, LDM): up to a NUL, trailing white space removed, sanitised. */
void content_set_uuid_text(content_result *r, const uint8_t *p, size_t n);

/* Set the UUID from 16 bytes, as 8-4-4-4-12 lowercase hex; all zeros set nothing (as blkid). */
void content_set_uuid_bytes(content_result *r, const uint8_t *uuid16);

/* Write @p fmt into the UUID / version field (ASCII). */
void content_set_uuid(content_result *r, const char *fmt, ...) IMGP_PRINTF(2, 3);
void content_set_version(content_result *r, const char *fmt, ...) IMGP_PRINTF(2, 3);

/* True when all @p n bytes at @p p are zero (false for NULL: nothing known). */
bool content_all_zero(const uint8_t *p, size_t n);

/* ---- the probes (content_fs.c, content_other.c) ---- */

typedef int content_probe_fn(const content_view *v, content_result *r);

content_probe_fn content_probe_md;
content_probe_fn content_probe_ldm;
content_probe_fn content_probe_lvm2;
content_probe_fn content_probe_luks;
content_probe_fn content_probe_bitlocker;
content_probe_fn content_probe_vfat;
content_probe_fn content_probe_swap;
content_probe_fn content_probe_xfs;
content_probe_fn content_probe_xfs_log;
content_probe_fn content_probe_ext;
content_probe_fn content_probe_iso9660;
content_probe_fn content_probe_zfs;
content_probe_fn content_probe_ntfs;
content_probe_fn content_probe_squashfs;
content_probe_fn content_probe_btrfs;
content_probe_fn content_probe_exfat;

#endif
