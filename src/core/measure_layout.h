/*
 * Internal to measure.c, exposed for unit tests: the size of the qcow2 file
 * qemu-img 7.2 writes, from the counts the scan gathers. Pure arithmetic.
 */
#ifndef IMGP_MEASURE_LAYOUT_H
#define IMGP_MEASURE_LAYOUT_H

#include "internal.h"
#include "imgprobe/measure.h"

/* The output format qemu-img convert -O qcow2 picks by default (qcow2 spec, "Header"). */
#define QCOW2_OUT_CLUSTER_BITS 16u
#define QCOW2_OUT_CLUSTER ((uint64_t)1 << QCOW2_OUT_CLUSTER_BITS)
#define QCOW2_OUT_L2_ENTRIES (QCOW2_OUT_CLUSTER / 8)               /* 8-byte L2 entries: one table maps 512 MiB */
#define QCOW2_OUT_REFCOUNTS_PER_BLOCK (QCOW2_OUT_CLUSTER * 8 / 16) /* refcount_order 4: 16-bit refcounts */
#define QCOW2_OUT_REFTABLE_ENTRIES (QCOW2_OUT_CLUSTER / 8)         /* refcount blocks one table cluster lists */
/* qemu's QCOW_MAX_L1_SIZE (32 MiB of L1 entries): with 64 KiB clusters, 2 PiB of virtual disk. */
#define QCOW2_OUT_MAX_L1_ENTRIES ((uint64_t)(32u << 20) / 8)

/* What the scan found: clusters with a non-zero byte, and the L2 tables mapping them. */
typedef struct imgp_measure_counts {
    uint64_t data_clusters;
    uint64_t l2_tables; /* 512 MiB regions of the virtual disk holding at least one data cluster */
} imgp_measure_counts;

/*
 * Bytes of the file qemu-img convert -O qcow2 writes for a disk of
 * @p virtual_size bytes with @p counts. *exact is false past 16 TiB of output,
 * where qemu reallocates its refcount table (the figure is then an estimate
 * on the high side). IMGP_ERR_UNSUPPORTED when qcow2 cannot hold the disk.
 */
imgp_status imgp_measure_qcow2_required(imgp_ctx *ctx, uint64_t virtual_size, const imgp_measure_counts *counts,
                                        uint64_t *required, bool *exact);

/* qemu-img measure's "fully allocated size" for a disk of @p virtual_size bytes (at most 2 PiB). */
uint64_t imgp_measure_qcow2_fully_allocated(uint64_t virtual_size);

/* True when the @p n bytes at @p p are all zero. */
bool imgp_measure_all_zero(const uint8_t *p, size_t n);

#endif
