/* The context: status names, error recording, limits and allocation. */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

static const char *const status_names[IMGP_STATUS_COUNT_] = {
    [IMGP_OK] = "ok",
    [IMGP_ERR_INVALID_ARG] = "invalid argument",
    [IMGP_ERR_NOMEM] = "out of memory",
    [IMGP_ERR_IO] = "I/O error",
    [IMGP_ERR_CORRUPT] = "corrupt",
    [IMGP_ERR_UNSUPPORTED] = "unsupported",
    [IMGP_ERR_LIMIT] = "limit exceeded",
    [IMGP_ERR_NOT_FOUND] = "not found",
    [IMGP_ERR_AMBIGUOUS] = "ambiguous",
    [IMGP_ERR_OUT_OF_RANGE] = "out of range",
};

const char *imgp_status_name(imgp_status st)
{
    if ((unsigned)st < IMGP_STATUS_COUNT_ && status_names[st])
        return status_names[st];
    return "unknown status";
}

static const struct {
    const char *name;
    uint64_t value;
} limit_defaults[IMGP_LIMIT_COUNT_] = {
    [IMGP_LIMIT_TABLE_BYTES] = {"table_bytes", 64u << 20},       /* a 32 MiB L1 maps 2 EiB at 64 KiB */
    [IMGP_LIMIT_CACHE_BYTES] = {"cache_bytes", 8u << 20},
    [IMGP_LIMIT_CHAIN_DEPTH] = {"chain_depth", 16},
    [IMGP_LIMIT_SYMLINK_HOPS] = {"symlink_hops", 40},            /* as Linux's MAXSYMLINKS */
    [IMGP_LIMIT_DIR_ENTRIES] = {"dir_entries", 1000000},
    [IMGP_LIMIT_EXTENT_DEPTH] = {"extent_depth", 8},
    [IMGP_LIMIT_LVM_METADATA] = {"lvm_metadata", 16u << 20},
    [IMGP_LIMIT_CPIO_ENTRIES] = {"cpio_entries", 200000},
    [IMGP_LIMIT_DECOMPRESSED] = {"decompressed", 512u << 20},
    [IMGP_LIMIT_DESCRIPTOR_BYTES] = {"descriptor_bytes", 1u << 20},
    [IMGP_LIMIT_EXTENTS] = {"extents", 4096},
    [IMGP_LIMIT_SNAPSHOTS] = {"snapshots", 65536},               /* QCOW_MAX_SNAPSHOTS */
    [IMGP_LIMIT_HIVE_BYTES] = {"hive_bytes", 192u << 20},        /* a hive and a value of it, within 256 MiB */
};

uint64_t imgp_limit_default(imgp_limit which)
{
    return (unsigned)which < IMGP_LIMIT_COUNT_ ? limit_defaults[which].value : 0;
}

const char *imgp_limit_name(imgp_limit which)
{
    return (unsigned)which < IMGP_LIMIT_COUNT_ ? limit_defaults[which].name : NULL;
}

static void *libc_alloc(void *opaque, size_t size) { (void)opaque; return malloc(size); }
static void *libc_realloc(void *opaque, void *p, size_t size) { (void)opaque; return realloc(p, size); }
static void libc_free(void *opaque, void *p) { (void)opaque; free(p); }

imgp_ctx *imgp_ctx_new(const imgp_allocator *alloc)
{
    imgp_allocator a = {libc_alloc, libc_realloc, libc_free, NULL};
    if (alloc) {
        if (!alloc->alloc || !alloc->realloc || !alloc->free)
            return NULL;
        a = *alloc;
    }
    imgp_ctx *ctx = a.alloc(a.opaque, sizeof *ctx);
    if (!ctx)
        return NULL;
    memset(ctx, 0, sizeof *ctx);
    ctx->alloc = a;
    for (int i = 0; i < IMGP_LIMIT_COUNT_; i++)
        ctx->limits[i] = limit_defaults[i].value;
    return ctx;
}

void imgp_ctx_free(imgp_ctx *ctx)
{
    if (ctx)
        ctx->alloc.free(ctx->alloc.opaque, ctx);
}

const char *imgp_ctx_message(const imgp_ctx *ctx) { return ctx->message; }
imgp_status imgp_ctx_status(const imgp_ctx *ctx) { return ctx->status; }

void imgp_ctx_clear(imgp_ctx *ctx)
{
    ctx->status = IMGP_OK;
    ctx->message[0] = '\0';
}

uint64_t imgp_ctx_limit(const imgp_ctx *ctx, imgp_limit which)
{
    return (unsigned)which < IMGP_LIMIT_COUNT_ ? ctx->limits[which] : 0;
}

imgp_status imgp_ctx_set_limit(imgp_ctx *ctx, imgp_limit which, uint64_t value)
{
    if ((unsigned)which >= IMGP_LIMIT_COUNT_)
        return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "unknown limit %d", (int)which);
    if (value == 0)
        return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "limit %s cannot be 0", limit_defaults[which].name);
    ctx->limits[which] = value;
    return IMGP_OK;
}

imgp_status imgp_error(imgp_ctx *ctx, imgp_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
    va_end(ap);
    ctx->status = st;
    return st;
}

imgp_status imgp_error_prefix(imgp_ctx *ctx, const char *fmt, ...)
{
    char prefix[IMGP_MSG_MAX], old[IMGP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, ctx->message, sizeof old);
    size_t n = strlen(prefix);
    memcpy(ctx->message, prefix, n);
    size_t room = sizeof ctx->message - 1 - n;
    size_t m = strnlen(old, room);
    memcpy(ctx->message + n, old, m);
    ctx->message[n + m] = '\0';
    return ctx->status;
}

void *imgp_alloc(imgp_ctx *ctx, size_t size)
{
    void *p = ctx->alloc.alloc(ctx->alloc.opaque, size ? size : 1);
    if (!p) {
        ctx->alloc_failures++;
        imgp_error(ctx, IMGP_ERR_NOMEM, "out of memory allocating %zu bytes", size);
    }
    return p;
}

void *imgp_calloc(imgp_ctx *ctx, size_t n, size_t size)
{
    size_t total;
    if (imgp_mul_overflow(n, size, &total)) {
        imgp_error(ctx, IMGP_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    void *p = imgp_alloc(ctx, total);
    if (p)
        memset(p, 0, total);
    return p;
}

void *imgp_realloc(imgp_ctx *ctx, void *ptr, size_t size)
{
    void *p = ctx->alloc.realloc(ctx->alloc.opaque, ptr, size ? size : 1);
    if (!p) {
        ctx->alloc_failures++;
        imgp_error(ctx, IMGP_ERR_NOMEM, "out of memory growing a buffer to %zu bytes", size);
    }
    return p;
}

void imgp_free(imgp_ctx *ctx, void *ptr)
{
    if (ptr)
        ctx->alloc.free(ctx->alloc.opaque, ptr);
}

char *imgp_strndup(imgp_ctx *ctx, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = imgp_alloc(ctx, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

char *imgp_strdup(imgp_ctx *ctx, const char *s)
{
    return imgp_strndup(ctx, s, strlen(s));
}

char *imgp_asprintf(imgp_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        imgp_error(ctx, IMGP_ERR_INVALID_ARG, "bad format string");
        return NULL;
    }
    char *p = imgp_alloc(ctx, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
