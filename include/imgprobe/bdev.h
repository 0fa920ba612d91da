/*
 * Block devices: a virtual disk, a partition, a logical volume. Format readers,
 * partition slices and LVM volumes are all block devices, so a filesystem
 * mounts the same way on any of them.
 *
 * A driver struct has struct imgp_bdev as its first member. The front door
 * imgp_bdev_read() checks the range once; drivers may assume it is inside
 * the device and non-empty.
 */
#ifndef IMGPROBE_BDEV_H
#define IMGPROBE_BDEV_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct imgp_bdev imgp_bdev;

/* What a range of a device holds, as far as its metadata tells without reading it. */
typedef enum imgp_extent_kind {
    IMGP_EXTENT_DATA = 0,        /* allocated: may hold any bytes */
    IMGP_EXTENT_ZERO = 1,        /* allocated or marked as zeros: reads as zeros */
    IMGP_EXTENT_UNALLOCATED = 2, /* allocated nowhere in the chain: reads as zeros */
} imgp_extent_kind;

typedef struct imgp_bdev_ops {
    const char *kind; /* "qcow2", "raw", "slice"... */

    /* Read @p len > 0 bytes at @p off, a range inside the device. Holes read as zeros. */
    imgp_status (*read)(imgp_bdev *bd, uint64_t off, void *buf, size_t len);

    /* Optional. The kind of the run starting at @p off, inside the device, and
     * its length: 1 <= *run <= len. May say DATA for anything it cannot tell
     * cheaply. Absent: the whole device is DATA. */
    imgp_status (*status)(imgp_bdev *bd, uint64_t off, uint64_t len,
                          imgp_extent_kind *kind, uint64_t *run);

    /* Release the device and what it owns, including the struct itself. */
    void (*close)(imgp_bdev *bd);
} imgp_bdev_ops;

struct imgp_bdev {
    const imgp_bdev_ops *ops;
    imgp_ctx *ctx;
    uint64_t size;        /* bytes */
    uint32_t sector_size; /* logical sector size: 512 unless the layer knows better */
    char *name;           /* for messages ("disk.qcow2", "disk.qcow2 p1"); owned */
};

/**
 * Read @p len bytes at @p off. A range reaching past the end of the device is
 * IMGP_ERR_OUT_OF_RANGE (with the numbers in the message); len 0 is a no-op.
 */
IMGP_API imgp_status imgp_bdev_read(imgp_bdev *bd, uint64_t off, void *buf, size_t len);

/**
 * The kind of the run at @p off and its length (at most @p len, clamped to the
 * device; @p off must be inside it). A driver answer that breaks the contract
 * (empty run, run past the request, unknown kind) is IMGP_ERR_CORRUPT, never
 * passed on.
 */
IMGP_API imgp_status imgp_bdev_status(imgp_bdev *bd, uint64_t off, uint64_t len,
                                      imgp_extent_kind *kind, uint64_t *run);

/** Close a device. NULL is a no-op. */
IMGP_API void imgp_bdev_close(imgp_bdev *bd);

/**
 * A device over a caller's buffer (not copied; must outlive the device).
 * Reports every range as DATA. For tests and embedders.
 */
IMGP_API imgp_status imgp_bdev_open_memory(imgp_ctx *ctx, const void *buf, size_t len,
                                           const char *name, imgp_bdev **out);

#ifdef __cplusplus
}
#endif
#endif
