/*
 * Measure: the size of the file that `qemu-img convert -O qcow2` (qemu 7.2,
 * default options: 64 KiB clusters, 16-bit refcounts, compat 1.1, no
 * compression, no preallocation) writes for a virtual disk, without writing it.
 *
 * qemu-img convert leaves out of the new image every run of zeros, whether the
 * source says it is zero or the bytes read are zero, so an output cluster is
 * allocated exactly when its 64 KiB of the virtual disk hold a non-zero byte.
 * imgp_measure() counts those clusters (reading only what the device's status
 * calls DATA) and adds the qcow2 metadata qemu lays out around them: header,
 * refcount table, refcount blocks, L1 table and L2 tables.
 */
#ifndef IMGPROBE_MEASURE_H
#define IMGPROBE_MEASURE_H

#include "bdev.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The output image's cluster size: qemu-img's default. */
#define IMGP_MEASURE_CLUSTER_SIZE 65536u

typedef struct imgp_measure_result {
    uint64_t virtual_size;         /* bytes of the device measured */
    uint64_t required_size;        /* bytes of the file `qemu-img convert -O qcow2` writes (exact when exact) */
    uint64_t fully_allocated_size; /* as `qemu-img measure -O qcow2` computes it: every cluster allocated */
    uint64_t data_clusters;        /* 64 KiB clusters that hold a non-zero byte (or, for a bound, may) */
    uint64_t bytes_scanned;        /* bytes read and tested for zero */
    bool exact;                    /* false: an upper bound from status alone */
} imgp_measure_result;

/*
 * Progress of imgp_measure(): @p done of @p total bytes of the virtual disk
 * dealt with (holes count as done when skipped). Called at least once per
 * status run and once per chunk read (at most a few MiB apart), and once with
 * done == total at the end. A non-zero return cancels the scan.
 */
typedef int (*imgp_measure_progress_fn)(void *arg, uint64_t done, uint64_t total);

/**
 * The cheap upper bound: every cluster that a DATA run of @p bd's status
 * touches counts as written; nothing is read. out->exact is true only when
 * the status shows no DATA at all (then the bound is the answer).
 * @return IMGP_OK, or an error (a status answer that breaks its contract is
 *         IMGP_ERR_CORRUPT); on error *out is zeroed, never a partial figure.
 */
IMGP_API imgp_status imgp_measure_bound(imgp_ctx *ctx, imgp_bdev *bd, imgp_measure_result *out);

/**
 * The exact figure: DATA runs are read (in chunks of a few MiB, one buffer
 * for the whole scan) and each 64 KiB cluster tested for a non-zero byte;
 * ZERO and UNALLOCATED runs are skipped without reading.
 * @param fn   progress callback, or NULL. A non-zero return stops the scan
 *             with IMGP_ERR_INVALID_ARG and the message "measure: cancelled ...".
 * @return IMGP_OK, or the error of the status or read that failed; on error
 *         *out is zeroed, never a partial figure.
 */
IMGP_API imgp_status imgp_measure(imgp_ctx *ctx, imgp_bdev *bd, imgp_measure_progress_fn fn, void *arg,
                                  imgp_measure_result *out);

#ifdef __cplusplus
}
#endif
#endif
