/*
 * imgprobe core: status codes, the context object, limits and the allocator.
 *
 * Every function that can fail returns an imgp_status and records a one-line
 * message with context on the imgp_ctx it was given ("qcow2: L2 table at
 * 0x8a0000 lies past the end of the file (size 0x7f0000)"). The library never
 * prints. A context is not thread-safe: use one per thread.
 */
#ifndef IMGPROBE_CORE_H
#define IMGPROBE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define IMGP_API __attribute__((visibility("default")))
#define IMGP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define IMGP_API
#define IMGP_PRINTF(f, a)
#endif

/* Stable status codes: values never change, new ones are only appended. */
typedef enum imgp_status {
    IMGP_OK = 0,
    IMGP_ERR_INVALID_ARG = 1,  /* the caller passed something unusable */
    IMGP_ERR_NOMEM = 2,        /* an allocation failed */
    IMGP_ERR_IO = 3,           /* the host could not read (errno in the message) */
    IMGP_ERR_CORRUPT = 4,      /* on-disk data is malformed or inconsistent */
    IMGP_ERR_UNSUPPORTED = 5,  /* well-formed, but a feature imgprobe does not read */
    IMGP_ERR_LIMIT = 6,        /* a limit of the context was exceeded */
    IMGP_ERR_NOT_FOUND = 7,    /* a file, path or format that does not exist */
    IMGP_ERR_AMBIGUOUS = 8,    /* two probes claimed the same input equally */
    IMGP_ERR_OUT_OF_RANGE = 9, /* a read or structure lies outside its device */
    IMGP_STATUS_COUNT_
} imgp_status;

/** @return a short constant name for @p st ("corrupt", "limit"...), never NULL. */
IMGP_API const char *imgp_status_name(imgp_status st);

/*
 * Optional allocator. All three functions are required when one is given;
 * realloc(p, 0) is never called. @p opaque is passed back unchanged.
 */
typedef struct imgp_allocator {
    void *(*alloc)(void *opaque, size_t size);
    void *(*realloc)(void *opaque, void *ptr, size_t size);
    void (*free)(void *opaque, void *ptr);
    void *opaque;
} imgp_allocator;

/*
 * Limits that bound the time and memory a hostile image can cost.
 * Values are counts or bytes; see imgp_limit_default() for the defaults.
 */
typedef enum imgp_limit {
    IMGP_LIMIT_TABLE_BYTES = 0,    /* one metadata table held in memory (L1, BAT, grain directory) */
    IMGP_LIMIT_CACHE_BYTES = 1,    /* read cache of one image layer */
    IMGP_LIMIT_CHAIN_DEPTH = 2,    /* backing / parent chain length */
    IMGP_LIMIT_SYMLINK_HOPS = 3,   /* symlinks followed in one lookup */
    IMGP_LIMIT_DIR_ENTRIES = 4,    /* entries read from one directory */
    IMGP_LIMIT_EXTENT_DEPTH = 5,   /* extent / btree depth */
    IMGP_LIMIT_LVM_METADATA = 6,   /* bytes of LVM text metadata */
    IMGP_LIMIT_CPIO_ENTRIES = 7,   /* entries read from one cpio archive */
    IMGP_LIMIT_DECOMPRESSED = 8,   /* bytes one decompression may produce */
    IMGP_LIMIT_DESCRIPTOR_BYTES = 9, /* text descriptors (VMDK) */
    IMGP_LIMIT_EXTENTS = 10,       /* extents of one image (VMDK) */
    IMGP_LIMIT_SNAPSHOTS = 11,     /* internal snapshots listed */
    IMGP_LIMIT_HIVE_BYTES = 12,    /* one registry hive held in memory */
    IMGP_LIMIT_COUNT_
} imgp_limit;

typedef struct imgp_ctx imgp_ctx;

/**
 * Create a context.
 * @param alloc  allocator to use for everything made through this context, or
 *               NULL for malloc/realloc/free. Copied; need not outlive the call.
 * @return the context, or NULL when even that allocation failed.
 */
IMGP_API imgp_ctx *imgp_ctx_new(const imgp_allocator *alloc);

/** Free a context. Everything opened through it must be closed first. NULL is a no-op. */
IMGP_API void imgp_ctx_free(imgp_ctx *ctx);

/** @return the message of the last error recorded, or "" when none. Owned by the context. */
IMGP_API const char *imgp_ctx_message(const imgp_ctx *ctx);

/** @return the status of the last error recorded, IMGP_OK when none. */
IMGP_API imgp_status imgp_ctx_status(const imgp_ctx *ctx);

/** Forget the last error. */
IMGP_API void imgp_ctx_clear(imgp_ctx *ctx);

/** @return the value of @p which in force on @p ctx (the default unless set). */
IMGP_API uint64_t imgp_ctx_limit(const imgp_ctx *ctx, imgp_limit which);

/** @return the built-in default of @p which, 0 for an unknown limit. */
IMGP_API uint64_t imgp_limit_default(imgp_limit which);

/** @return the name of @p which ("table_bytes"...), or NULL for an unknown limit. */
IMGP_API const char *imgp_limit_name(imgp_limit which);

/**
 * Set a limit. @return IMGP_ERR_INVALID_ARG for an unknown limit or a value of 0.
 */
IMGP_API imgp_status imgp_ctx_set_limit(imgp_ctx *ctx, imgp_limit which, uint64_t value);

#ifdef __cplusplus
}
#endif
#endif
