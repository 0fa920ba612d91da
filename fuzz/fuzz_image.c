/*
 * libFuzzer harness over the image readers: open the input as an image and
 * check what a reader promises, not only that it survives.
 *
 * Compiled once per target: with -DFUZZ_FORMAT="qcow2" (or "vhd", "vmdk") the
 * format is forced, so every input reaches that reader's open; without it
 * (target "probe") the format is detected by content first, as `imgprobe info`
 * does. The same source replays committed inputs without libFuzzer (replay.c).
 *
 * Invariants checked on every input (abort() when one breaks):
 *  - every failing call returns a status other than OK, within the enum, and
 *    leaves a non-empty message whose status is the one returned;
 *  - a readable image has a device whose size is info.virtual_size;
 *  - imgp_bdev_status() walked from 0 tiles the device: each run non-empty,
 *    inside what was asked, consecutive, ending at the size (bounded walk);
 *  - ranges reported ZERO or UNALLOCATED read back as zeros (bounded sample);
 *  - reads of a bounded sample succeed or fail with a message; a range read
 *    whole equals the same range read in two pieces;
 *  - a raw image's device is its input, byte for byte;
 *  - reads and status queries past the end are IMGP_ERR_OUT_OF_RANGE;
 *  - everything allocated through the context is freed by imgp_image_close().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness_support.h"
#include "imgprobe/imgprobe.h"

#ifdef FUZZ_FORMAT
static const char *const forced_format = FUZZ_FORMAT;
#else
static const char *const forced_format = NULL;
#endif

/* Bounds that keep one run fast whatever the input claims. */
enum {
    MAX_STATUS_CALLS = 4096,   /* status calls in the tiling walk */
    MAX_ZERO_CHECKS = 8,       /* ZERO/UNALLOCATED runs read back */
    ZERO_CHECK_BYTES = 64 * 1024,
    HEAD_READ_BYTES = 1 << 20, /* the first MiB is read whole */
    DERIVED_READS = 4,         /* reads at offsets taken from the input */
    DERIVED_READ_MAX = 96 * 1024,
};

/* Live bytes the context may hold before its allocator says no: the reader
 * must then fail with IMGP_ERR_NOMEM and a message, not crash. Above the
 * lowered limits below, so a reader within its limits never meets it. */
#define ALLOC_BUDGET ((size_t)256 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- an allocator that counts, so leaks and runaway memory show without LSan ---- */

/* Not harness_support.h's fuzz_counting_allocator, which counts blocks only:
 * this one counts live bytes too and refuses past ALLOC_BUDGET. */

typedef struct alloc_stats {
    size_t live; /* bytes currently allocated */
    size_t blocks;
} alloc_stats;

/* Each block carries its size in front, padded to keep malloc's alignment. */
typedef union block_header {
    size_t size;
    max_align_t align;
} block_header;

static void *budget_alloc(void *opaque, size_t size)
{
    alloc_stats *s = opaque;
    if (size > ALLOC_BUDGET - s->live || size > SIZE_MAX - sizeof(block_header))
        return NULL;
    block_header *h = malloc(sizeof *h + size);
    if (!h)
        return NULL;
    h->size = size;
    s->live += size;
    s->blocks++;
    return h + 1;
}

static void budget_free(void *opaque, void *ptr)
{
    alloc_stats *s = opaque;
    if (!ptr)
        return;
    block_header *h = (block_header *)ptr - 1;
    CHECK(s->live >= h->size && s->blocks > 0, "freed more than was allocated");
    s->live -= h->size;
    s->blocks--;
    free(h);
}

static void *budget_realloc(void *opaque, void *ptr, size_t size)
{
    alloc_stats *s = opaque;
    CHECK(size > 0, "realloc(p, 0) is never called (core.h)");
    if (!ptr)
        return budget_alloc(opaque, size);
    block_header *h = (block_header *)ptr - 1;
    size_t old = h->size;
    if ((size > old && size - old > ALLOC_BUDGET - s->live) || size > SIZE_MAX - sizeof *h)
        return NULL;
    block_header *n = realloc(h, sizeof *n + size);
    if (!n)
        return NULL;
    n->size = size;
    s->live = s->live - old + size;
    return n + 1;
}

/* ---- checks ---- */

/* A call failed: it must say so with a status in the enum and a message about
 * it. harness_support.h's check_failure() plus a check that @p st is a
 * failure, every check labelled with the call (this harness checks many). */
static void check_failed_call(imgp_ctx *ctx, imgp_status st, const char *what)
{
    CHECK(st != IMGP_OK, what);
    CHECK((unsigned)st < IMGP_STATUS_COUNT_, what);
    CHECK(imgp_ctx_message(ctx)[0] != '\0', what);
    CHECK(imgp_ctx_status(ctx) == st, what);
}

/* Touch every string of the info so that ASan sees a dangling or unterminated one. */
static size_t info_string_bytes(const imgp_image_info *info)
{
    size_t n = strlen(info->format);
    if (info->unreadable_reason)
        n += strlen(info->unreadable_reason);
    if (info->compression)
        n += strlen(info->compression);
    if (info->backing_file)
        n += strlen(info->backing_file);
    if (info->backing_format)
        n += strlen(info->backing_format);
    CHECK(info->nsnapshots == 0 || info->snapshots, "snapshot count without snapshots");
    for (size_t i = 0; i < info->nsnapshots; i++)
        n += strlen(info->snapshots[i].id) + strlen(info->snapshots[i].name);
    CHECK(info->nprops == 0 || info->props, "property count without properties");
    for (size_t i = 0; i < info->nprops; i++)
        n += strlen(info->props[i].key) + strlen(info->props[i].value);
    return n;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return false;
    return true;
}

/* What the device must hold when the format says so: a raw image is its input. */
typedef struct oracle {
    const uint8_t *data; /* the device's bytes, or NULL when unknown */
    size_t size;
} oracle;

/* Read [off, off + len); on failure check the report. @return true when read. */
static bool read_range(imgp_ctx *ctx, imgp_bdev *bd, const oracle *o, uint64_t off, uint8_t *buf, size_t len)
{
    imgp_ctx_clear(ctx);
    imgp_status st = imgp_bdev_read(bd, off, buf, len);
    if (st != IMGP_OK) {
        check_failed_call(ctx, st, "imgp_bdev_read failed");
        return false;
    }
    if (o->data) {
        CHECK(off <= o->size && len <= o->size - off, "read succeeded outside the known content");
        CHECK(memcmp(buf, o->data + off, len) == 0, "read differs from the known content");
    }
    return true;
}

typedef struct zero_run {
    uint64_t off, len;
} zero_run;

/* Walk imgp_bdev_status from 0; remember up to MAX_ZERO_CHECKS runs said to read as zeros. */
static size_t walk_status(imgp_ctx *ctx, imgp_bdev *bd, zero_run *zero_runs)
{
    size_t nzero = 0;
    uint64_t off = 0;
    for (unsigned calls = 0; off < bd->size && calls < MAX_STATUS_CALLS; calls++) {
        imgp_extent_kind kind;
        uint64_t run = 0;
        imgp_ctx_clear(ctx);
        imgp_status st = imgp_bdev_status(bd, off, bd->size - off, &kind, &run);
        if (st != IMGP_OK) {
            check_failed_call(ctx, st, "imgp_bdev_status failed");
            return nzero;
        }
        CHECK(run > 0, "status run is empty");
        CHECK(run <= bd->size - off, "status run reaches past the end of the device");
        CHECK(kind == IMGP_EXTENT_DATA || kind == IMGP_EXTENT_ZERO || kind == IMGP_EXTENT_UNALLOCATED,
              "status kind unknown");
        if (kind != IMGP_EXTENT_DATA && nzero < MAX_ZERO_CHECKS)
            zero_runs[nzero++] = (zero_run){off, run};
        off += run; /* runs are consecutive by construction: the next query starts here */
    }
    CHECK(off <= bd->size, "status runs overshoot the device");
    return nzero;
}

/* A run said to read as zeros does, at its start and at its end. */
static void check_zero_run(imgp_ctx *ctx, imgp_bdev *bd, const oracle *o, zero_run r, uint8_t *buf)
{
    size_t n = (size_t)(r.len < ZERO_CHECK_BYTES ? r.len : ZERO_CHECK_BYTES);
    if (read_range(ctx, bd, o, r.off, buf, n))
        CHECK(all_zero(buf, n), "a ZERO/UNALLOCATED run does not read as zeros (start)");
    if (r.len > n && read_range(ctx, bd, o, r.off + r.len - n, buf, n))
        CHECK(all_zero(buf, n), "a ZERO/UNALLOCATED run does not read as zeros (end)");
}

/* FNV-1a over the input's size, first and last KiB: offsets that change with
 * the input, reproducibly, without hashing a whole large input every run. */
static uint64_t input_hash(const uint8_t *data, size_t size)
{
    uint64_t h = 0xcbf29ce484222325u ^ size;
    size_t edge = size < 1024 ? size : 1024;
    for (size_t i = 0; i < edge; i++)
        h = (h ^ data[i]) * 0x100000001b3u;
    for (size_t i = size - edge; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3u;
    return h;
}

static uint64_t next_random(uint64_t *state)
{
    /* splitmix64 */
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* The same range read whole and in two pieces gives the same bytes. */
static void check_split_read(imgp_ctx *ctx, imgp_bdev *bd, const oracle *o, uint64_t off, size_t len, size_t cut,
                             uint8_t *whole, uint8_t *pieces)
{
    if (!read_range(ctx, bd, o, off, whole, len))
        return;
    if (!read_range(ctx, bd, o, off, pieces, cut) || !read_range(ctx, bd, o, off + cut, pieces + cut, len - cut))
        return;
    CHECK(memcmp(whole, pieces, len) == 0, "a range read whole differs from the same range read in two pieces");
}

static void check_reads(imgp_ctx *ctx, imgp_bdev *bd, const oracle *o, const uint8_t *data, size_t size,
                        uint8_t *buf, uint8_t *buf2)
{
    uint64_t dev = bd->size;

    /* The first MiB, and the last sector. */
    if (dev > 0) {
        read_range(ctx, bd, o, 0, buf, (size_t)(dev < HEAD_READ_BYTES ? dev : HEAD_READ_BYTES));
        size_t tail = (size_t)(dev < 512 ? dev : 512);
        read_range(ctx, bd, o, dev - tail, buf, tail);
    }

    /* A few ranges at offsets, lengths and cut points the input chooses. */
    uint64_t rnd = input_hash(data, size);
    for (int i = 0; i < DERIVED_READS && dev > 0; i++) {
        uint64_t off = next_random(&rnd) % dev;
        if (i & 1)
            off &= ~(uint64_t)511; /* sector-aligned half the time */
        uint64_t room = dev - off;
        size_t len = (size_t)(next_random(&rnd) % DERIVED_READ_MAX) + 1;
        if (len > room)
            len = (size_t)room;
        size_t cut = (size_t)(next_random(&rnd) % len);
        if (cut == 0)
            cut = len / 2;
        if (cut == 0) {
            read_range(ctx, bd, o, off, buf, len);
            continue;
        }
        check_split_read(ctx, bd, o, off, len, cut, buf, buf2);
    }

    /* Past the end: the front door refuses, whatever the driver. */
    imgp_status st;
    imgp_ctx_clear(ctx);
    st = imgp_bdev_read(bd, dev, buf, 1);
    CHECK(st == IMGP_ERR_OUT_OF_RANGE, "a read at the end of the device is not OUT_OF_RANGE");
    check_failed_call(ctx, st, "read at the end");
    if (dev > 0) {
        imgp_ctx_clear(ctx);
        st = imgp_bdev_read(bd, dev - 1, buf, 2);
        CHECK(st == IMGP_ERR_OUT_OF_RANGE, "a read across the end of the device is not OUT_OF_RANGE");
        check_failed_call(ctx, st, "read across the end");
    }
    imgp_ctx_clear(ctx);
    st = imgp_bdev_read(bd, UINT64_MAX, buf, 16);
    CHECK(st == IMGP_ERR_OUT_OF_RANGE, "a read at offset 2^64-1 is not OUT_OF_RANGE");
    check_failed_call(ctx, st, "read at 2^64-1");
    imgp_extent_kind kind;
    uint64_t run;
    imgp_ctx_clear(ctx);
    st = imgp_bdev_status(bd, dev, 1, &kind, &run);
    CHECK(st == IMGP_ERR_OUT_OF_RANGE, "a status query at the end of the device is not OUT_OF_RANGE");
    check_failed_call(ctx, st, "status at the end");
}

static void check_image(imgp_ctx *ctx, imgp_image *img, const uint8_t *data, size_t size)
{
    const imgp_image_info *info = imgp_image_get_info(img);
    CHECK(info != NULL, "image without info");
    (void)info_string_bytes(info);
#ifdef FUZZ_FORMAT
    CHECK(strcmp(info->format, FUZZ_FORMAT) == 0, "a forced format opened as another");
#endif

    imgp_bdev *bd = NULL;
    imgp_ctx_clear(ctx);
    imgp_status st = imgp_image_bdev(img, &bd);
    if (!info->readable) {
        CHECK(info->unreadable_reason != NULL, "unreadable image without a reason");
        CHECK(st == IMGP_ERR_UNSUPPORTED, "unreadable image whose device is not UNSUPPORTED");
        check_failed_call(ctx, st, "device of an unreadable image");
        return;
    }
    CHECK(st == IMGP_OK && bd != NULL, "readable image without a device");
    CHECK(bd->size == info->virtual_size, "device size differs from info.virtual_size");
    CHECK(bd->name != NULL && bd->ops != NULL && bd->ctx == ctx, "device not filled in");

    /* A raw image's device is the input itself, byte for byte. */
    oracle o = {NULL, 0};
    if (strcmp(info->format, "raw") == 0) {
        CHECK(bd->size == size, "a raw device's size differs from its input");
        o = (oracle){data, size};
    }

    /* Allocated once: a per-run malloc of a MiB costs more than the run under ASan. */
    static uint8_t *buf, *buf2;
    if (!buf)
        buf = malloc(HEAD_READ_BYTES);
    if (!buf2)
        buf2 = malloc(DERIVED_READ_MAX);
    if (!buf || !buf2)
        return;
    zero_run zero_runs[MAX_ZERO_CHECKS];
    size_t nzero = walk_status(ctx, bd, zero_runs);
    for (size_t i = 0; i < nzero; i++)
        check_zero_run(ctx, bd, &o, zero_runs[i], buf);
    check_reads(ctx, bd, &o, data, size, buf, buf2);
}

/*
 * Limits lowered so that one run stays fast and small whatever the input
 * claims. The cache is smaller still: an input of at most a few hundred KiB
 * holds only a few tables, and a small cache makes them evict each other
 * (the paths worth fuzzing) instead of zeroing megabytes of slots per run.
 */
static void lower_limits(imgp_ctx *ctx)
{
    static const struct {
        imgp_limit which;
        uint64_t value;
    } limits[] = {
        {IMGP_LIMIT_TABLE_BYTES, 16u << 20},
        {IMGP_LIMIT_CACHE_BYTES, 256u << 10},
        {IMGP_LIMIT_CHAIN_DEPTH, 4},
        {IMGP_LIMIT_DECOMPRESSED, 64u << 20},
        {IMGP_LIMIT_DESCRIPTOR_BYTES, 64u << 10},
        {IMGP_LIMIT_EXTENTS, 64},
        {IMGP_LIMIT_SNAPSHOTS, 1024},
    };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        CHECK(imgp_ctx_set_limit(ctx, limits[i].which, limits[i].value) == IMGP_OK, "setting a limit");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    alloc_stats stats = {0, 0};
    imgp_allocator allocator = {budget_alloc, budget_realloc, budget_free, &stats};
    imgp_ctx *ctx = imgp_ctx_new(&allocator);
    if (!ctx)
        return 0;
    lower_limits(ctx);

    imgp_source *src = NULL;
    imgp_status st = imgp_source_open_memory(ctx, data, size, "fuzz-input", &src);
    if (st == IMGP_OK) {
        imgp_image *img = NULL;
        imgp_ctx_clear(ctx);
        st = imgp_image_open_source(ctx, src, forced_format, &img); /* takes src, also on failure */
        if (st == IMGP_OK) {
            CHECK(img != NULL, "open succeeded without an image");
            check_image(ctx, img, data, size);
            imgp_image_close(img);
        } else {
            check_failed_call(ctx, st, "imgp_image_open_source failed");
            CHECK(img == NULL, "failed open left an image");
        }
    } else {
        check_failed_call(ctx, st, "imgp_source_open_memory failed");
    }

    /* Only the context itself is left. */
    CHECK(stats.blocks == 1, "allocations through the context leaked");
    imgp_ctx_free(ctx);
    CHECK(stats.live == 0 && stats.blocks == 0, "allocations through the context leaked");
    return 0;
}
