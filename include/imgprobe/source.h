/*
 * Byte sources: where an image's bytes come from (a local file today; an HTTP
 * range reader later). Format readers see only this interface, so a new kind
 * of source needs no change to them.
 *
 * A source is a driver struct whose first member is struct imgp_source, like
 * SQLite's sqlite3_file. The front doors below check every range before the
 * driver runs; drivers may assume [off, off + len) lies inside the source.
 */
#ifndef IMGPROBE_SOURCE_H
#define IMGPROBE_SOURCE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct imgp_source imgp_source;

typedef struct imgp_source_ops {
    const char *kind; /* "file", "memory", ... */

    /* Read exactly @p len bytes at @p off, which lie inside the source.
     * A short read is an error (IMGP_ERR_IO with the cause). */
    imgp_status (*read)(imgp_source *src, uint64_t off, void *buf, size_t len);

    /* Optional. Describe the run starting at @p off (inside the source, at
     * most @p len bytes): *is_data false for a hole that reads as zeros.
     * *run is set to its length, 1 <= *run <= len. Absent: all data. */
    imgp_status (*extent)(imgp_source *src, uint64_t off, uint64_t len,
                          bool *is_data, uint64_t *run);

    /* Optional. Open the source that @p name designates relative to this one
     * (a backing file beside a file, a URL relative to a URL). Absent: such
     * references cannot be followed (IMGP_ERR_UNSUPPORTED). */
    imgp_status (*open_related)(imgp_source *src, const char *name, imgp_source **out);

    /* Release everything, including the struct itself. */
    void (*close)(imgp_source *src);
} imgp_source_ops;

struct imgp_source {
    const imgp_source_ops *ops;
    imgp_ctx *ctx;
    uint64_t size;      /* bytes readable */
    uint64_t allocated; /* bytes it takes on its storage (st_blocks for a file) */
    char *name;         /* for messages: the path or URL as given; owned */
    char *identity;     /* equal for two opens of the same object ("file:dev:ino"),
                           used to detect loops in chains; owned */
};

/**
 * Open a local file read-only (O_RDONLY; it is never written).
 * @param out  receives the source; close it with imgp_source_close().
 * @return IMGP_ERR_NOT_FOUND when it does not exist, IMGP_ERR_IO otherwise.
 */
IMGP_API imgp_status imgp_source_open_file(imgp_ctx *ctx, const char *path, imgp_source **out);

/**
 * A source over a caller's buffer, which must outlive the source (not copied).
 * For fuzzing, tests and embedders that already hold the image in memory.
 * @param name  used in messages; copied.
 */
IMGP_API imgp_status imgp_source_open_memory(imgp_ctx *ctx, const void *buf, size_t len,
                                             const char *name, imgp_source **out);

/**
 * Read @p len bytes at @p off. The whole range must lie inside the source;
 * otherwise IMGP_ERR_OUT_OF_RANGE with a message naming @p what ("qcow2 L2
 * table") and the numbers.
 */
IMGP_API imgp_status imgp_source_read(imgp_source *src, uint64_t off, void *buf, size_t len,
                                      const char *what);

/**
 * Like imgp_source_read(), but the part of the range past the end of the
 * source reads as zeros (@p off itself must not lie past the end). For
 * structures a writer may leave unpadded at the end of a file.
 */
IMGP_API imgp_status imgp_source_read_zfill(imgp_source *src, uint64_t off, void *buf, size_t len,
                                            const char *what);

/** Describe the run at @p off (see imgp_source_ops.extent); len is clamped to the source. */
IMGP_API imgp_status imgp_source_extent(imgp_source *src, uint64_t off, uint64_t len,
                                        bool *is_data, uint64_t *run);

/** Open @p name relative to @p src (see imgp_source_ops.open_related). */
IMGP_API imgp_status imgp_source_open_related(imgp_source *src, const char *name,
                                              imgp_source **out);

/** Close a source. NULL is a no-op. */
IMGP_API void imgp_source_close(imgp_source *src);

#ifdef __cplusplus
}
#endif
#endif
