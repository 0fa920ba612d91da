/*
 * The bounded cursor: the only way a parser touches on-disk bytes.
 *
 * Reads are big- or little-endian, assembled from bytes (no casts, no
 * signed-shift UB), and never go past the end: a read that would sets the
 * sticky `bad` flag and returns 0, so a parser does a run of reads and checks
 * imgp_cur_ok() once after it. Reads at an absolute offset (`_at`) do not move
 * the position; sequential reads do.
 */
#ifndef IMGP_CURSOR_H
#define IMGP_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct imgp_cursor {
    const uint8_t *base;
    size_t len;
    size_t pos;
    bool bad;
} imgp_cursor;

static inline imgp_cursor imgp_cur_init(const void *buf, size_t len)
{
    imgp_cursor c = {(const uint8_t *)buf, len, 0, false};
    return c;
}

static inline bool imgp_cur_ok(const imgp_cursor *c) { return !c->bad; }
static inline size_t imgp_cur_remaining(const imgp_cursor *c) { return c->len - c->pos; }

/* Pointer to @p n bytes at @p off, or NULL (and bad) when they do not fit. */
static inline const uint8_t *imgp_cur_ptr_at(imgp_cursor *c, size_t off, size_t n)
{
    if (off > c->len || n > c->len - off) {
        c->bad = true;
        return NULL;
    }
    return c->base + off;
}

static inline uint8_t imgp_cur_u8_at(imgp_cursor *c, size_t off)
{
    const uint8_t *p = imgp_cur_ptr_at(c, off, 1);
    return p ? p[0] : 0;
}

static inline uint16_t imgp_cur_le16_at(imgp_cursor *c, size_t off)
{
    const uint8_t *p = imgp_cur_ptr_at(c, off, 2);
    return p ? (uint16_t)(p[0] | (uint16_t)p[1] << 8) : 0;
}

static inline uint16_t imgp_cur_be16_at(imgp_cursor *c, size_t off)
{
    const uint8_t *p = imgp_cur_ptr_at(c, off, 2);
    return p ? (uint16_t)((uint16_t)p[0] << 8 | p[1]) : 0;
}

static inline uint32_t imgp_cur_le32_at(imgp_cursor *c, size_t off)
{
    const uint8_t *p = imgp_cur_ptr_at(c, off, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

static inline uint32_t imgp_cur_be32_at(imgp_cursor *c, size_t off)
{
    const uint8_t *p = imgp_cur_ptr_at(c, off, 4);
    return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3] : 0;
}

static inline uint64_t imgp_cur_le64_at(imgp_cursor *c, size_t off)
{
    const uint8_t *p = imgp_cur_ptr_at(c, off, 8);
    if (!p)
        return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline uint64_t imgp_cur_be64_at(imgp_cursor *c, size_t off)
{
    const uint8_t *p = imgp_cur_ptr_at(c, off, 8);
    if (!p)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Copy @p n bytes at @p off into @p dst (zeros and bad when they do not fit). */
static inline void imgp_cur_bytes_at(imgp_cursor *c, size_t off, void *dst, size_t n)
{
    const uint8_t *p = imgp_cur_ptr_at(c, off, n);
    if (p)
        memcpy(dst, p, n);
    else
        memset(dst, 0, n);
}

/* Sequential reads: advance the position by the size read. */
#define IMGP_CUR_SEQ_(name, type, size)                                                  \
    static inline type imgp_cur_##name(imgp_cursor *c)                                    \
    {                                                                                     \
        type v = imgp_cur_##name##_at(c, c->pos);                                         \
        if (!c->bad)                                                                      \
            c->pos += (size);                                                             \
        return v;                                                                         \
    }
IMGP_CUR_SEQ_(u8, uint8_t, 1)
IMGP_CUR_SEQ_(le16, uint16_t, 2)
IMGP_CUR_SEQ_(be16, uint16_t, 2)
IMGP_CUR_SEQ_(le32, uint32_t, 4)
IMGP_CUR_SEQ_(be32, uint32_t, 4)
IMGP_CUR_SEQ_(le64, uint64_t, 8)
IMGP_CUR_SEQ_(be64, uint64_t, 8)
#undef IMGP_CUR_SEQ_

static inline void imgp_cur_bytes(imgp_cursor *c, void *dst, size_t n)
{
    imgp_cur_bytes_at(c, c->pos, dst, n);
    if (!c->bad)
        c->pos += n;
}

static inline void imgp_cur_skip(imgp_cursor *c, size_t n)
{
    if (imgp_cur_ptr_at(c, c->pos, n))
        c->pos += n;
}

static inline void imgp_cur_seek(imgp_cursor *c, size_t pos)
{
    if (pos > c->len)
        c->bad = true;
    else
        c->pos = pos;
}

/* A cursor over the next @p n bytes, advancing this one past them. */
static inline imgp_cursor imgp_cur_sub(imgp_cursor *c, size_t n)
{
    const uint8_t *p = imgp_cur_ptr_at(c, c->pos, n);
    imgp_cursor s = imgp_cur_init(p ? p : c->base, p ? n : 0);
    if (p)
        c->pos += n;
    else
        s.bad = true;
    return s;
}

#endif
