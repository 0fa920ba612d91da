/*
 * Measure: the size of the qcow2 file `qemu-img convert -O qcow2` writes.
 *
 * Two halves: a scan that counts the 64 KiB clusters of the virtual disk that
 * hold a non-zero byte (and the 512 MiB regions, one L2 table each, that hold
 * such a cluster), and arithmetic that lays out the qcow2 file around them as
 * qemu 7.2 does (measure_layout.h).
 *
 * Why "non-zero byte" decides: qemu-img convert (qemu-img.c, convert_iteration
 * and is_allocated_sectors_min) does not write runs the source reports as zero
 * or unallocated, since a new qcow2 reads as zeros, and it tests the data it
 * reads for zeros too, skipping zero runs of 4 KiB or more (the -S default),
 * aligned to 4 KiB. A 64 KiB output cluster is 4 KiB-aligned, so it is
 * allocated exactly when some byte of it is non-zero.
 */
#include "measure_layout.h"

/* Bytes read at once from a DATA run: big enough to read at memory speed, small enough for the RSS goal. */
#define MEASURE_CHUNK ((size_t)4 << 20)

static uint64_t div_round_up(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

/*
 * How qemu lays out the new file (block/qcow2.c qcow2_co_create, then
 * qcow2_co_truncate; block/qcow2-refcount.c alloc_clusters_noref and
 * alloc_refcount_block), clusters in this order, each allocated at the first
 * free cluster so that the file has no holes:
 *   0 the header, 1 the refcount table, 2 the first refcount block;
 *   3.. the L1 table (ceil(size / 512 MiB) 8-byte entries), allocated by the
 *       truncate to the virtual size; only its entries are written, so when
 *       nothing follows, the file ends inside its last cluster;
 *   then, in the order convert writes the disk, data clusters and each L2
 *       table before the first data cluster it maps; and one refcount block
 *       as soon as a cluster is allocated in a 2 GiB (32768-cluster) range of
 *       the file that has none, placed right after that cluster, in the range
 *       it describes.
 * So the file holds B = 2 + L1 clusters + L2 tables + data clusters, plus R
 * refcount blocks with R = ceil((B + R) / 32768), the least such R being
 * ceil(B / 32767). One refcount table cluster lists 8192 blocks (16 TiB of
 * file); beyond that qemu moves the table to a bigger one, which this does not
 * model: the figure is then an estimate from above.
 */
imgp_status imgp_measure_qcow2_required(imgp_ctx *ctx, uint64_t virtual_size, const imgp_measure_counts *counts,
                                        uint64_t *required, bool *exact)
{
    const uint64_t region = QCOW2_OUT_CLUSTER * QCOW2_OUT_L2_ENTRIES;
    if (div_round_up(virtual_size, region) > QCOW2_OUT_MAX_L1_ENTRIES)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED,
                          "measure: a qcow2 image with 64 KiB clusters holds at most 2 PiB; this disk has %llu bytes",
                          (unsigned long long)virtual_size);
    /* qemu-img create rounds the size up to whole 512-byte sectors (cannot overflow: at most 2 PiB here) */
    uint64_t size = div_round_up(virtual_size, 512) * 512;
    uint64_t l1_entries = div_round_up(size, region);
    uint64_t max_clusters = div_round_up(size, QCOW2_OUT_CLUSTER);
    if (counts->data_clusters > max_clusters || counts->l2_tables > l1_entries ||
        (counts->data_clusters > 0) != (counts->l2_tables > 0))
        return imgp_error(ctx, IMGP_ERR_INVALID_ARG,
                          "measure: %llu data clusters in %llu L2 tables do not fit a disk of %llu bytes",
                          (unsigned long long)counts->data_clusters, (unsigned long long)counts->l2_tables,
                          (unsigned long long)virtual_size);
    *exact = true;
    if (counts->data_clusters == 0) {
        *required = 3 * QCOW2_OUT_CLUSTER + l1_entries * 8;
        return IMGP_OK;
    }
    uint64_t l1_clusters = div_round_up(l1_entries * 8, QCOW2_OUT_CLUSTER);
    uint64_t base = 2 + l1_clusters + counts->l2_tables + counts->data_clusters;
    uint64_t refblocks = div_round_up(base, QCOW2_OUT_REFCOUNTS_PER_BLOCK - 1);
    if (refblocks > QCOW2_OUT_REFTABLE_ENTRIES) {
        /* The table moves (alloc_refcount_block grows it by half each time,
         * freeing the old one): count three times the last table's size and
         * the blocks that cover them. */
        *exact = false;
        base += 3 * div_round_up(refblocks + refblocks / 2, QCOW2_OUT_REFTABLE_ENTRIES);
        refblocks = div_round_up(base, QCOW2_OUT_REFCOUNTS_PER_BLOCK - 1);
    }
    *required = (base + refblocks) * QCOW2_OUT_CLUSTER;
    return IMGP_OK;
}

/*
 * qemu-img measure's "fully allocated size" (block/qcow2.c qcow2_measure and
 * qcow2_calc_prealloc_size): the disk rounded up to whole clusters, a header
 * cluster, L2 tables for every cluster, an L1 table in whole clusters, and
 * the refcount blocks and table clusters for all of those, found by iterating
 * to a fixed point (qcow2_refcount_metadata_size).
 */
uint64_t imgp_measure_qcow2_fully_allocated(uint64_t virtual_size)
{
    const uint64_t c = QCOW2_OUT_CLUSTER;
    uint64_t aligned = div_round_up(virtual_size, c) * c;
    uint64_t l2_entries = div_round_up(aligned / c, QCOW2_OUT_L2_ENTRIES) * QCOW2_OUT_L2_ENTRIES;
    uint64_t l1_entries = div_round_up(l2_entries * 8 / c, c / 8) * (c / 8);
    uint64_t meta = c + l2_entries * 8 + l1_entries * 8;
    uint64_t clusters = (meta + aligned) / c;
    uint64_t blocks = 0, table = 0, n = 0, last;
    do {
        last = n;
        blocks = div_round_up(clusters + table + blocks, QCOW2_OUT_REFCOUNTS_PER_BLOCK);
        table = div_round_up(blocks, QCOW2_OUT_REFTABLE_ENTRIES);
        n = clusters + blocks + table;
    } while (n != last);
    return meta + aligned + (blocks + table) * c;
}

bool imgp_measure_all_zero(const uint8_t *p, size_t n)
{
    /* glibc's memcmp runs at memory speed; a static zero cluster costs no RSS until read. */
    static const uint8_t zero[QCOW2_OUT_CLUSTER];
    while (n > 0) {
        size_t k = n < sizeof zero ? n : sizeof zero;
        if (memcmp(p, zero, k) != 0)
            return false;
        p += k;
        n -= k;
    }
    return true;
}

/* The counts gathered so far. Clusters arrive in increasing order. */
typedef struct scan_state {
    imgp_measure_counts counts;
    uint64_t next_cluster; /* clusters below this one are already decided */
    uint64_t next_region;  /* regions below this one already have their L2 table counted */
} scan_state;

/* Count clusters [first, last] as written (those already counted once are not counted again). */
static void count_clusters(scan_state *s, uint64_t first, uint64_t last)
{
    first = imgp_max_u64(first, s->next_cluster);
    if (first > last)
        return;
    s->counts.data_clusters += last - first + 1;
    s->next_cluster = last + 1;
    uint64_t first_region = imgp_max_u64(first / QCOW2_OUT_L2_ENTRIES, s->next_region);
    uint64_t last_region = last / QCOW2_OUT_L2_ENTRIES;
    if (first_region <= last_region) {
        s->counts.l2_tables += last_region - first_region + 1;
        s->next_region = last_region + 1;
    }
}

/* Test the @p len bytes read at @p off cluster by cluster; a cluster found non-zero is not looked at further. */
static void scan_buffer(scan_state *s, uint64_t off, const uint8_t *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint64_t pos = off + i;
        uint64_t cluster = pos >> QCOW2_OUT_CLUSTER_BITS;
        size_t piece = (size_t)imgp_min_u64(len - i, QCOW2_OUT_CLUSTER - (pos & (QCOW2_OUT_CLUSTER - 1)));
        if (cluster >= s->next_cluster && !imgp_measure_all_zero(buf + i, piece))
            count_clusters(s, cluster, cluster);
        i += piece;
    }
}

/* An error of the device, recorded on its own context: make sure @p ctx carries it too. */
static imgp_status device_error(imgp_ctx *ctx, imgp_bdev *bd, imgp_status st)
{
    if (bd->ctx != ctx)
        return imgp_error(ctx, st, "%s", imgp_ctx_message(bd->ctx));
    return st;
}

static imgp_status cancelled(imgp_ctx *ctx, imgp_bdev *bd, uint64_t off)
{
    return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "measure: cancelled at 0x%llx of %s (size 0x%llx)",
                      (unsigned long long)off, bd->name, (unsigned long long)bd->size);
}

/*
 * Walk @p bd by status. With @p buf NULL, every cluster a DATA run touches
 * counts (the bound); otherwise DATA runs are read into @p buf
 * (MEASURE_CHUNK bytes) and tested.
 */
static imgp_status walk(imgp_ctx *ctx, imgp_bdev *bd, uint8_t *buf, imgp_measure_progress_fn fn, void *arg,
                        scan_state *s, uint64_t *scanned)
{
    uint64_t off = 0;
    while (off < bd->size) {
        imgp_extent_kind kind;
        uint64_t run;
        imgp_status st = imgp_bdev_status(bd, off, bd->size - off, &kind, &run);
        if (st != IMGP_OK)
            return device_error(ctx, bd, st);
        /* imgp_bdev_status() already refuses these; a wrong count must never come out of here */
        if (run == 0 || run > bd->size - off)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "measure: %s: status at 0x%llx answered %llu bytes",
                              bd->name, (unsigned long long)off, (unsigned long long)run);
        uint64_t end = off + run;
        if (kind == IMGP_EXTENT_DATA && !buf) {
            count_clusters(s, off >> QCOW2_OUT_CLUSTER_BITS, (end - 1) >> QCOW2_OUT_CLUSTER_BITS);
            off = end;
            continue;
        }
        if (kind != IMGP_EXTENT_DATA) {
            off = end;
            if (fn && fn(arg, off, bd->size) != 0)
                return cancelled(ctx, bd, off);
            continue;
        }
        while (off < end) {
            /* The rest of a cluster already found non-zero need not be read. */
            if ((off >> QCOW2_OUT_CLUSTER_BITS) < s->next_cluster) {
                off = imgp_min_u64(end, s->next_cluster << QCOW2_OUT_CLUSTER_BITS);
                continue;
            }
            size_t n = (size_t)imgp_min_u64(end - off, MEASURE_CHUNK);
            if ((st = imgp_bdev_read(bd, off, buf, n)) != IMGP_OK)
                return device_error(ctx, bd, st);
            scan_buffer(s, off, buf, n);
            *scanned += n;
            off += n;
            if (fn && fn(arg, off, bd->size) != 0)
                return cancelled(ctx, bd, off);
        }
    }
    return IMGP_OK;
}

static imgp_status measure(imgp_ctx *ctx, imgp_bdev *bd, bool read_data, imgp_measure_progress_fn fn, void *arg,
                           imgp_measure_result *out)
{
    memset(out, 0, sizeof *out);
    if (!bd)
        return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "measure: no device");
    uint8_t *buf = NULL;
    if (read_data && !(buf = imgp_alloc(ctx, MEASURE_CHUNK)))
        return IMGP_ERR_NOMEM;
    scan_state s = {{0, 0}, 0, 0};
    uint64_t scanned = 0;
    imgp_status st = walk(ctx, bd, buf, fn, arg, &s, &scanned);
    imgp_free(ctx, buf);
    if (st != IMGP_OK)
        return st;
    imgp_measure_result r = {.virtual_size = bd->size, .data_clusters = s.counts.data_clusters,
                             .bytes_scanned = scanned};
    if ((st = imgp_measure_qcow2_required(ctx, bd->size, &s.counts, &r.required_size, &r.exact)) != IMGP_OK)
        return st;
    r.fully_allocated_size = imgp_measure_qcow2_fully_allocated(bd->size);
    /* a bound over a disk with no DATA at all is the answer */
    if (!read_data && s.counts.data_clusters > 0)
        r.exact = false;
    if (fn && fn(arg, bd->size, bd->size) != 0)
        return cancelled(ctx, bd, bd->size);
    *out = r;
    return IMGP_OK;
}

imgp_status imgp_measure_bound(imgp_ctx *ctx, imgp_bdev *bd, imgp_measure_result *out)
{
    return measure(ctx, bd, false, NULL, NULL, out);
}

imgp_status imgp_measure(imgp_ctx *ctx, imgp_bdev *bd, imgp_measure_progress_fn fn, void *arg,
                         imgp_measure_result *out)
{
    return measure(ctx, bd, true, fn, arg, out);
}
