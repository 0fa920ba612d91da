/* Unit tests of src/core/measure.c: the qcow2 layout arithmetic, the zero scan, and devices that fail or lie. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/measure_layout.h"
#include "support/testsupport.h"

#define C QCOW2_OUT_CLUSTER
#define GIB ((uint64_t)1 << 30)

static imgp_ctx *ctx_new(void)
{
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    assert_non_null(ctx);
    return ctx;
}

static uint64_t required(uint64_t size, uint64_t data, uint64_t l2, bool *exact)
{
    imgp_ctx *ctx = ctx_new();
    imgp_measure_counts k = {data, l2};
    uint64_t r = 0;
    bool ex = false;
    assert_int_equal(imgp_measure_qcow2_required(ctx, size, &k, &r, &ex), IMGP_OK);
    if (exact)
        *exact = ex;
    else
        assert_true(ex);
    imgp_ctx_free(ctx);
    return r;
}

/* ---- layout: figures are the sizes of files qemu-img 7.2 convert -O qcow2 wrote ---- */

static void test_layout_empty(void **state)
{
    (void)state;
    /* header, refcount table, refcount block, then the 2-entry L1 as written: 196624 */
    assert_int_equal(required(GIB, 0, 0, NULL), 3 * C + 16);
    assert_int_equal(required(8 * GIB, 0, 0, NULL), 3 * C + 128);
    assert_int_equal(required(0, 0, 0, NULL), 3 * C);
    /* an odd size is rounded up to 512 bytes, then to 512 MiB per L1 entry */
    assert_int_equal(required(512 * (uint64_t)1 << 20 | 1, 0, 0, NULL), 3 * C + 16);
    /* 100 TiB: 204800 L1 entries, 25 clusters of which only the entries are written */
    assert_int_equal(required(100 * 1024 * GIB, 0, 0, NULL), 3 * C + 204800 * 8);
}

static void test_layout_data(void **state)
{
    (void)state;
    /* 1 GiB, one data cluster: header, reftable, refblock, L1, L2, data */
    assert_int_equal(required(GIB, 1, 1, NULL), 6 * C);
    assert_int_equal(required(GIB, 2, 2, NULL), 8 * C);
    /* 8 GiB, 2 x 2100 MiB written: three refcount blocks (at clusters 2, 32776, 65550) */
    assert_int_equal(required(8 * GIB, 67200, 10, NULL), 4405067776u);
    /* 16 TiB of L1 (32768 entries): four L1 clusters before the first L2 */
    assert_int_equal(required(16384 * GIB, 1, 1, NULL), (2 + 4 + 1 + 1 + 1) * C);
}

static void test_layout_refcount_boundaries(void **state)
{
    (void)state;
    /* base B = 2 + L1 + L2 + data; one block covers 32768 clusters, itself included */
    uint64_t size = 4096 * GIB; /* 8192 L1 entries: exactly one L1 cluster */
    /* B = 32767: 32768 clusters, one block */
    assert_int_equal(required(size, 32767 - 2 - 1 - 4, 4, NULL), 32768 * C);
    /* B = 32768: the 32769th cluster needs a second block */
    assert_int_equal(required(size, 32768 - 2 - 1 - 4, 4, NULL), (32768 + 2) * C);
    /* B = 2 * 32767: two blocks fill exactly 65536 clusters */
    assert_int_equal(required(size, 65534 - 2 - 1 - 8, 8, NULL), 65536 * C);
    assert_int_equal(required(size, 65535 - 2 - 1 - 8, 8, NULL), (65535 + 3) * C);
    /* the same two boundaries as qemu-img convert wrote them: a 4 GiB raw whose
     * first 32760 (then 32761) clusters are 0xaa, so 4 L2 tables and B = 32767 (32768) */
    assert_int_equal(required(4 * GIB, 32760, 4, NULL), 2147483648u);
    assert_int_equal(required(4 * GIB, 32761, 4, NULL), 2147614720u);
}

static void test_layout_limits(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint64_t r = 1;
    bool exact = true;
    /* 2 PiB is the most a 64 KiB-cluster qcow2 maps (QCOW_MAX_L1_SIZE) */
    imgp_measure_counts none = {0, 0};
    assert_int_equal(imgp_measure_qcow2_required(ctx, (uint64_t)2048 * 1024 * GIB, &none, &r, &exact), IMGP_OK);
    test_expect_error(ctx, imgp_measure_qcow2_required(ctx, (uint64_t)2048 * 1024 * GIB + 1, &none, &r, &exact),
                      IMGP_ERR_UNSUPPORTED, "at most 2 PiB");
    test_expect_error(ctx, imgp_measure_qcow2_required(ctx, UINT64_MAX, &none, &r, &exact), IMGP_ERR_UNSUPPORTED,
                      "2 PiB");
    /* counts that cannot come from a disk of that size */
    imgp_measure_counts too_many = {16385, 1};
    test_expect_error(ctx, imgp_measure_qcow2_required(ctx, GIB, &too_many, &r, &exact), IMGP_ERR_INVALID_ARG,
                      "do not fit");
    imgp_measure_counts no_l2 = {5, 0};
    test_expect_error(ctx, imgp_measure_qcow2_required(ctx, GIB, &no_l2, &r, &exact), IMGP_ERR_INVALID_ARG,
                      "do not fit");
    imgp_measure_counts l2_only = {0, 1};
    test_expect_error(ctx, imgp_measure_qcow2_required(ctx, GIB, &l2_only, &r, &exact), IMGP_ERR_INVALID_ARG,
                      "do not fit");
    imgp_ctx_free(ctx);

    /* past 16 TiB of output the refcount table moves: an estimate, above the table-less count */
    uint64_t data = (uint64_t)20 * 1024 * GIB / C, l2 = data / QCOW2_OUT_L2_ENTRIES;
    uint64_t est = required(20 * 1024 * GIB, data, l2, &exact);
    assert_false(exact);
    uint64_t base = 2 + 5 + l2 + data;
    assert_true(est > (base + base / 32767) * C);
    assert_true(est < (base + base / 32767 + 64) * C);
}

static void test_fully_allocated(void **state)
{
    (void)state;
    /* qemu-img measure -O qcow2 --size SIZE, "fully allocated size" */
    static const struct {
        uint64_t size, fully;
    } cases[] = {
        {0, 196608},
        {1, 393216},
        {512, 393216},
        {65536, 393216},
        {GIB, 1074135040},
        {1000000000, 1000407040},
        {8 * GIB, 8591507456u},
        {100 * GIB, 107390828544u},
        {500 * GIB, 536953094144u},
        {2048 * GIB, 2199359062016u},
        {17408 * GIB, 18694550454272u},
        {1024 * 1024 * GIB, 1126071731945472u},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(imgp_measure_qcow2_fully_allocated(cases[i].size), cases[i].fully);
}

static void test_all_zero(void **state)
{
    (void)state;
    size_t n = 3 * C + 7;
    uint8_t *b = calloc(1, n);
    assert_non_null(b);
    assert_true(imgp_measure_all_zero(b, n));
    assert_true(imgp_measure_all_zero(b, 0));
    for (size_t at = 0; at < n; at += 4099) {
        b[at] = 0x80;
        assert_false(imgp_measure_all_zero(b, n));
        assert_true(imgp_measure_all_zero(b, at));
        assert_true(imgp_measure_all_zero(b + at + 1, n - at - 1));
        b[at] = 0;
    }
    b[n - 1] = 1;
    assert_false(imgp_measure_all_zero(b, n));
    free(b);
}

/* ---- a scripted device: status runs as given, content zero but for chosen bytes ---- */

typedef struct run {
    uint64_t len;
    imgp_extent_kind kind;
} run;

typedef struct script_bdev {
    imgp_bdev base;
    const run *runs;
    size_t nruns;
    const uint64_t *nonzero; /* offsets of 0xff bytes, in increasing order */
    size_t nnonzero;
    uint64_t bytes_read;
    int lie; /* 1: a run longer than asked; 2: an unknown kind; 3: a read error past 6 MiB */
} script_bdev;

static imgp_status script_read(imgp_bdev *bd, uint64_t off, void *buf, size_t len)
{
    script_bdev *s = (script_bdev *)bd;
    if (s->lie == 3 && off + len > (6u << 20))
        return imgp_error(bd->ctx, IMGP_ERR_IO, "%s: read at 0x%llx failed", bd->name, (unsigned long long)off);
    memset(buf, 0, len);
    for (size_t i = 0; i < s->nnonzero; i++)
        if (s->nonzero[i] >= off && s->nonzero[i] - off < len)
            ((uint8_t *)buf)[s->nonzero[i] - off] = 0xff;
    s->bytes_read += len;
    return IMGP_OK;
}

static imgp_status script_status(imgp_bdev *bd, uint64_t off, uint64_t len, imgp_extent_kind *kind, uint64_t *n)
{
    script_bdev *s = (script_bdev *)bd;
    uint64_t at = 0;
    for (size_t i = 0; i < s->nruns; i++) {
        if (off < at + s->runs[i].len) {
            *kind = s->runs[i].kind;
            *n = imgp_min_u64(at + s->runs[i].len - off, len);
            if (s->lie == 1)
                *n = len + 4096;
            if (s->lie == 2)
                *kind = (imgp_extent_kind)7;
            return IMGP_OK;
        }
        at += s->runs[i].len;
    }
    fail_msg("status asked at 0x%llx past the script", (unsigned long long)off);
    return IMGP_ERR_INVALID_ARG;
}

static void script_close(imgp_bdev *bd) { (void)bd; }

static const imgp_bdev_ops script_ops = {
    .kind = "script", .read = script_read, .status = script_status, .close = script_close};

static script_bdev script(imgp_ctx *ctx, const run *runs, size_t nruns, const uint64_t *nonzero, size_t nnonzero)
{
    script_bdev s = {.base = {.ops = &script_ops, .ctx = ctx, .sector_size = 512, .name = "scripted"},
                     .runs = runs, .nruns = nruns, .nonzero = nonzero, .nnonzero = nnonzero};
    for (size_t i = 0; i < nruns; i++)
        s.base.size += runs[i].len;
    return s;
}

#define MIB ((uint64_t)1 << 20)

static void test_scan_counts_nonzero_clusters(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    /* 3 GiB: data in region 0, a zero run, data across the 512 MiB boundary, unallocated, a short data tail */
    static const run runs[] = {
        {8 * MIB, IMGP_EXTENT_DATA},
        {500 * MIB, IMGP_EXTENT_ZERO},
        {8 * MIB, IMGP_EXTENT_DATA}, /* [508 MiB, 516 MiB): crosses into region 1 */
        {GIB, IMGP_EXTENT_UNALLOCATED},
        {GIB + 508 * MIB - 1000, IMGP_EXTENT_DATA},
        {1000, IMGP_EXTENT_DATA}, /* the disk ends inside a cluster */
    };
    static const uint64_t nz[] = {
        0,                      /* cluster 0, first byte */
        C - 1,                  /* cluster 0 again: not counted twice */
        2 * C - 1,              /* cluster 1, last byte */
        5 * MIB + 3,            /* cluster 80 */
        509 * MIB,              /* region 0 */
        512 * MIB,              /* region 1, first byte */
        3 * GIB - 1,            /* the very last byte: region 5, a partial cluster */
    };
    script_bdev s = script(ctx, runs, 6, nz, 7);
    assert_int_equal(s.base.size, 3 * GIB);
    uint64_t data_bytes = 16 * MIB + GIB + 508 * MIB;

    imgp_measure_result r;
    assert_int_equal(imgp_measure(ctx, &s.base, NULL, NULL, &r), IMGP_OK);
    assert_true(r.exact);
    assert_int_equal(r.virtual_size, 3 * GIB);
    assert_int_equal(r.data_clusters, 6);
    /* 3 L2 tables (regions 0, 1 and 5 hold data), one L1 cluster of 6 entries */
    assert_int_equal(r.required_size, (2 + 1 + 3 + 6 + 1) * C);
    assert_int_equal(r.fully_allocated_size, imgp_measure_qcow2_fully_allocated(3 * GIB));
    /* zero and unallocated runs are never read; clusters already counted are not read again */
    assert_int_equal(r.bytes_scanned, data_bytes);
    assert_int_equal(s.bytes_read, r.bytes_scanned);

    /* the bound counts every cluster a DATA run touches, reading nothing */
    s.bytes_read = 0;
    assert_int_equal(imgp_measure_bound(ctx, &s.base, &r), IMGP_OK);
    assert_false(r.exact);
    assert_int_equal(s.bytes_read, 0);
    assert_int_equal(r.bytes_scanned, 0);
    assert_int_equal(r.data_clusters, data_bytes / C);
    /* regions 0 and 1 ([0, 516 MiB)), then 3, 4 and 5 ([1540 MiB, 3 GiB)) */
    imgp_measure_counts k = {data_bytes / C, 5};
    uint64_t want;
    bool exact;
    assert_int_equal(imgp_measure_qcow2_required(ctx, 3 * GIB, &k, &want, &exact), IMGP_OK);
    assert_int_equal(r.required_size, want);
    imgp_ctx_free(ctx);
}

static void test_bound_without_data_is_exact(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    static const run runs[] = {{GIB, IMGP_EXTENT_ZERO}, {GIB, IMGP_EXTENT_UNALLOCATED}};
    static const uint64_t nz[] = {5}; /* status says zero: never read, so never seen */
    script_bdev s = script(ctx, runs, 2, nz, 1);
    imgp_measure_result r;
    assert_int_equal(imgp_measure_bound(ctx, &s.base, &r), IMGP_OK);
    assert_true(r.exact);
    assert_int_equal(r.data_clusters, 0);
    assert_int_equal(r.required_size, 3 * C + 4 * 8);
    assert_int_equal(imgp_measure(ctx, &s.base, NULL, NULL, &r), IMGP_OK);
    assert_int_equal(r.required_size, 3 * C + 4 * 8);
    assert_int_equal(s.bytes_read, 0);
    imgp_ctx_free(ctx);
}

/* Over memory: the whole device is DATA, so everything is read. */
static void test_scan_memory(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    size_t n = 9 * MIB + 512; /* three chunks, a partial last cluster */
    uint8_t *buf = calloc(1, n);
    assert_non_null(buf);
    imgp_bdev *bd;
    assert_int_equal(imgp_bdev_open_memory(ctx, buf, n, "mem", &bd), IMGP_OK);
    imgp_measure_result r;
    assert_int_equal(imgp_measure(ctx, bd, NULL, NULL, &r), IMGP_OK);
    assert_int_equal(r.data_clusters, 0);
    assert_int_equal(r.bytes_scanned, n);
    assert_int_equal(r.required_size, 3 * C + 8);
    /* a byte on each side of every chunk boundary, and in the partial last cluster */
    buf[4 * MIB - 1] = 1;
    buf[4 * MIB] = 1;
    buf[8 * MIB - 1] = 1;
    buf[n - 1] = 1;
    assert_int_equal(imgp_measure(ctx, bd, NULL, NULL, &r), IMGP_OK);
    assert_int_equal(r.data_clusters, 4);
    assert_int_equal(r.required_size, (2 + 1 + 1 + 4 + 1) * C);
    assert_int_equal(r.bytes_scanned, n);
    imgp_bdev_close(bd);
    free(buf);
    imgp_ctx_free(ctx);
}

typedef struct progress_log {
    uint64_t last, total;
    unsigned calls;
    unsigned cancel_at; /* 0: never */
} progress_log;

static int log_progress(void *arg, uint64_t done, uint64_t total)
{
    progress_log *p = arg;
    assert_true(done >= p->last);
    assert_true(done <= total);
    p->last = done;
    p->total = total;
    p->calls++;
    return p->cancel_at && p->calls >= p->cancel_at;
}

static void test_progress_and_cancel(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    static const run runs[] = {{12 * MIB, IMGP_EXTENT_DATA}, {GIB, IMGP_EXTENT_ZERO}, {4 * MIB, IMGP_EXTENT_DATA}};
    static const uint64_t nz[] = {MIB, GIB + 13 * MIB};
    script_bdev s = script(ctx, runs, 3, nz, 2);
    progress_log p = {0};
    imgp_measure_result r;
    assert_int_equal(imgp_measure(ctx, &s.base, log_progress, &p, &r), IMGP_OK);
    assert_int_equal(p.last, s.base.size);
    assert_int_equal(p.total, s.base.size);
    assert_true(p.calls >= 5);
    assert_int_equal(r.data_clusters, 2);

    progress_log q = {.cancel_at = 2};
    test_expect_error(ctx, imgp_measure(ctx, &s.base, log_progress, &q, &r), IMGP_ERR_INVALID_ARG, "cancelled");
    assert_int_equal(r.required_size, 0);
    assert_int_equal(r.data_clusters, 0);
    imgp_ctx_free(ctx);
}

/* ---- devices that fail or lie: an error, never a number ---- */

static void expect_no_figure(const imgp_measure_result *r)
{
    imgp_measure_result zero;
    memset(&zero, 0, sizeof zero);
    assert_memory_equal(r, &zero, sizeof zero);
}

static void test_status_lies(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    static const run runs[] = {{MIB, IMGP_EXTENT_ZERO}, {MIB, IMGP_EXTENT_DATA}};
    static const uint64_t nz[] = {MIB + 5};
    imgp_measure_result r;
    for (int lie = 1; lie <= 2; lie++) {
        script_bdev s = script(ctx, runs, 2, nz, 1);
        s.lie = lie;
        memset(&r, 0xa5, sizeof r);
        test_expect_error(ctx, imgp_measure(ctx, &s.base, NULL, NULL, &r), IMGP_ERR_CORRUPT, "status at 0x0");
        expect_no_figure(&r);
        memset(&r, 0xa5, sizeof r);
        test_expect_error(ctx, imgp_measure_bound(ctx, &s.base, &r), IMGP_ERR_CORRUPT, "scripted: status");
        expect_no_figure(&r);
    }
    imgp_ctx_free(ctx);
}

static void test_read_error_midway(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    static const run runs[] = {{16 * MIB, IMGP_EXTENT_DATA}};
    static const uint64_t nz[] = {7};
    script_bdev s = script(ctx, runs, 1, nz, 1);
    s.lie = 3;
    imgp_measure_result r;
    memset(&r, 0xa5, sizeof r);
    test_expect_error(ctx, imgp_measure(ctx, &s.base, NULL, NULL, &r), IMGP_ERR_IO, "read at 0x400000 failed");
    expect_no_figure(&r);

    /* the failing device of tests/support over memory: the 2nd of 3 reads fails */
    size_t n = 9 * MIB;
    uint8_t *buf = calloc(1, n);
    assert_non_null(buf);
    imgp_bdev *mem, *bad;
    assert_int_equal(imgp_bdev_open_memory(ctx, buf, n, "mem", &mem), IMGP_OK);
    unsigned reads = 0;
    assert_int_equal(test_bdev_failing(ctx, mem, 2, &reads, &bad), IMGP_OK);
    memset(&r, 0xa5, sizeof r);
    test_expect_error(ctx, imgp_measure(ctx, bad, NULL, NULL, &r), IMGP_ERR_IO, "injected failure of read 2");
    expect_no_figure(&r);
    assert_int_equal(reads, 2);
    imgp_bdev_close(bad);
    imgp_bdev_close(mem);
    free(buf);
    imgp_ctx_free(ctx);
}

/* A device opened on another context: its error still reaches the caller's context. */
static void test_error_on_other_context(void **state)
{
    (void)state;
    imgp_ctx *dev_ctx = ctx_new(), *ctx = ctx_new();
    static const run runs[] = {{16 * MIB, IMGP_EXTENT_DATA}};
    script_bdev s = script(dev_ctx, runs, 1, NULL, 0);
    s.lie = 3;
    imgp_measure_result r;
    test_expect_error(ctx, imgp_measure(ctx, &s.base, NULL, NULL, &r), IMGP_ERR_IO, "read at 0x400000 failed");
    imgp_ctx_free(ctx);
    imgp_ctx_free(dev_ctx);
}

static void test_allocation_failure(void **state)
{
    (void)state;
    imgp_ctx *ctx = test_ctx_failing_alloc(1);
    assert_non_null(ctx);
    static const run runs[] = {{MIB, IMGP_EXTENT_DATA}};
    script_bdev s = script(ctx, runs, 1, NULL, 0);
    imgp_measure_result r;
    memset(&r, 0xa5, sizeof r);
    test_expect_error(ctx, imgp_measure(ctx, &s.base, NULL, NULL, &r), IMGP_ERR_NOMEM, "4194304");
    expect_no_figure(&r);
    /* the bound allocates nothing */
    assert_int_equal(imgp_measure_bound(ctx, &s.base, &r), IMGP_OK);
    imgp_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_empty),
        cmocka_unit_test(test_layout_data),
        cmocka_unit_test(test_layout_refcount_boundaries),
        cmocka_unit_test(test_layout_limits),
        cmocka_unit_test(test_fully_allocated),
        cmocka_unit_test(test_all_zero),
        cmocka_unit_test(test_scan_counts_nonzero_clusters),
        cmocka_unit_test(test_bound_without_data_is_exact),
        cmocka_unit_test(test_scan_memory),
        cmocka_unit_test(test_progress_and_cancel),
        cmocka_unit_test(test_status_lies),
        cmocka_unit_test(test_read_error_midway),
        cmocka_unit_test(test_error_on_other_context),
        cmocka_unit_test(test_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
