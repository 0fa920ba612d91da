/*
 * Internal to libimgprobe: the context's innards, error recording, allocation
 * and checked arithmetic. Never installed.
 */
#ifndef IMGP_INTERNAL_H
#define IMGP_INTERNAL_H

#include <stdarg.h>
#include <string.h>

#include "imgprobe/imgprobe.h"

#define IMGP_MSG_MAX 512

struct imgp_ctx {
    imgp_allocator alloc;
    imgp_status status;
    char message[IMGP_MSG_MAX];
    uint64_t limits[IMGP_LIMIT_COUNT_];
    /* allocations the allocator refused; imgp_ctx_clear keeps the count, so
     * that a caller going on past failures (inspection) sees it lost nothing */
    uint64_t alloc_failures;
};

/**
 * Record an error on @p ctx, replacing any earlier one.
 * @return @p st, so that callers can write `return imgp_error(ctx, ...)`.
 */
imgp_status imgp_error(imgp_ctx *ctx, imgp_status st, const char *fmt, ...) IMGP_PRINTF(3, 4);

/**
 * Put context in front of the recorded message ("backing file 'a.img': " + old).
 * @return the recorded status, so that `return imgp_error_prefix(ctx, ...)` passes it on.
 */
imgp_status imgp_error_prefix(imgp_ctx *ctx, const char *fmt, ...) IMGP_PRINTF(2, 3);

/* Allocation through the context's allocator. Failures record IMGP_ERR_NOMEM
 * with the size and return NULL. imgp_calloc checks n * size for overflow. */
void *imgp_alloc(imgp_ctx *ctx, size_t size);
void *imgp_calloc(imgp_ctx *ctx, size_t n, size_t size);
void *imgp_realloc(imgp_ctx *ctx, void *ptr, size_t size);
void imgp_free(imgp_ctx *ctx, void *ptr);
char *imgp_strdup(imgp_ctx *ctx, const char *s);
char *imgp_strndup(imgp_ctx *ctx, const char *s, size_t n);
char *imgp_asprintf(imgp_ctx *ctx, const char *fmt, ...) IMGP_PRINTF(2, 3);

/* Checked arithmetic: true when the result overflowed (and *r is unusable). */
#define imgp_add_overflow(a, b, r) __builtin_add_overflow((a), (b), (r))
#define imgp_mul_overflow(a, b, r) __builtin_mul_overflow((a), (b), (r))

/* True when [off, off + len) does not fit inside [0, limit), written so that it cannot overflow. */
static inline bool imgp_range_outside(uint64_t off, uint64_t len, uint64_t limit)
{
    return off > limit || len > limit - off;
}

static inline uint64_t imgp_min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t imgp_max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* Probe scores (formats, partition schemes, filesystems): how sure a probe is
 * that the input is its own. The highest wins; a tie is refused. */
enum {
    IMGP_SCORE_NONE = 0,
    IMGP_SCORE_FALLBACK = 1, /* raw: anything */
    IMGP_SCORE_WEAK = 25,    /* a plausible signature in a weak place */
    IMGP_SCORE_MAGIC = 100,  /* the magic where it belongs */
};

/* True when @p x is a power of two (and not 0). */
static inline bool imgp_is_pow2(uint64_t x) { return x && !(x & (x - 1)); }

#endif
