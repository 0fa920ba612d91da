/*
 * What the partition-table tests (test_mbr.c, test_gpt.c) share: scanning a
 * byte array as a disk, finding partitions and notes in the result, and
 * running a scan with every allocation and every read failing in turn.
 * Include after <cmocka.h>.
 */
#ifndef IMGP_PARTITION_FIXTURE_H
#define IMGP_PARTITION_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "partition/volumes.h"
#include "support/testsupport.h"

typedef struct scanned {
    imgp_ctx *ctx;
    imgp_bdev *disk;
    imgp_volumes *vols;
    const imgp_volume_info *info;
} scanned;

/* Scan @p len bytes of @p buf as a disk (a memory device: sector size 512). */
static inline void scan_bytes(scanned *s, const uint8_t *buf, size_t len)
{
    s->ctx = imgp_ctx_new(NULL);
    assert_non_null(s->ctx);
    assert_int_equal(imgp_bdev_open_memory(s->ctx, buf, len, "disk", &s->disk), IMGP_OK);
    imgp_status st = imgp_volumes_scan(s->ctx, s->disk, &s->vols);
    if (st != IMGP_OK)
        fail_msg("scan failed: %s", imgp_ctx_message(s->ctx));
    s->info = imgp_volumes_get_info(s->vols);
}

static inline void scan_free(scanned *s)
{
    imgp_volumes_free(s->vols);
    imgp_bdev_close(s->disk);
    imgp_ctx_free(s->ctx);
}

/* Print what the scan found, for a failing test's log. */
static inline void scan_print(const scanned *s)
{
    const imgp_volume_info *in = s->info;
    printf("# scheme %s, sector size %u, disk id %s\n", in->scheme, in->sector_size, in->disk_id ? in->disk_id : "-");
    for (size_t i = 0; i < in->npartitions; i++) {
        const imgp_partition *p = &in->partitions[i];
        printf("#   %s: %llu +%llu type %s%s\n", p->index, (unsigned long long)p->start, (unsigned long long)p->size,
               p->type ? p->type : "-", p->unreadable ? " (unreadable)" : "");
    }
    for (size_t i = 0; i < in->nnotes; i++)
        printf("#   note %d: %s\n", (int)in->notes[i].level, in->notes[i].message);
}

/* The partition numbered @p index; fails the test when there is none. */
static inline const imgp_partition *part(const scanned *s, const char *index)
{
    for (size_t i = 0; i < s->info->npartitions; i++)
        if (strcmp(s->info->partitions[i].index, index) == 0)
            return &s->info->partitions[i];
    scan_print(s);
    fail_msg("no partition %s", index);
    static const imgp_partition none = {.index = "none"};
    return &none; /* not reached: fail_msg() leaves the test */
}

/* The indexes of all partitions, space-separated, in table order. */
static inline const char *indexes(const scanned *s)
{
    static char buf[4096];
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s->info->npartitions && o < sizeof buf; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? " " : "", s->info->partitions[i].index);
    return buf;
}

/* How many notes of @p level contain @p text. */
static inline size_t notes_with(const scanned *s, imgp_note_level level, const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < s->info->nnotes; i++)
        n += s->info->notes[i].level == level && strstr(s->info->notes[i].message, text) != NULL;
    return n;
}

static inline void assert_note(const scanned *s, imgp_note_level level, const char *text)
{
    if (notes_with(s, level, text) == 0) {
        scan_print(s);
        fail_msg("no note of level %d with \"%s\"", (int)level, text);
    }
}

static inline void assert_no_notes(const scanned *s)
{
    if (s->info->nnotes) {
        scan_print(s);
        fail_msg("%zu unexpected notes", s->info->nnotes);
    }
}

/* Partition @p p reads as the disk's bytes at its start and at its end. */
static inline void assert_reads_through(const scanned *s, const uint8_t *disk, const imgp_partition *p)
{
    uint8_t b[512];
    assert_non_null(p->bdev);
    assert_int_equal(p->bdev->size, p->size);
    size_t n = p->size < sizeof b ? (size_t)p->size : sizeof b;
    assert_int_equal(imgp_bdev_read(p->bdev, 0, b, n), IMGP_OK);
    assert_memory_equal(b, disk + p->start, n);
    assert_int_equal(imgp_bdev_read(p->bdev, p->size - n, b, n), IMGP_OK);
    assert_memory_equal(b, disk + p->start + p->size - n, n);
    (void)s;
}

/*
 * Scan @p buf with the n-th allocation failing, for n = 1, 2... until a scan
 * makes no failing allocation, then with the n-th read of the disk failing
 * likewise. Each run must fail cleanly (a status and a message) or succeed;
 * ASan's leak check sees anything left behind.
 */
static inline void scan_with_failures(const uint8_t *buf, size_t len)
{
    for (unsigned n = 1;; n++) {
        imgp_ctx *ctx = test_ctx_failing_alloc(n);
        assert_non_null(ctx);
        imgp_bdev *disk = NULL;
        imgp_volumes *vols = NULL;
        imgp_status st = imgp_bdev_open_memory(ctx, buf, len, "disk", &disk);
        if (st == IMGP_OK)
            st = imgp_volumes_scan(ctx, disk, &vols);
        bool done = test_alloc_count() < n; /* the n-th allocation was never made */
        if (st != IMGP_OK) {
            assert_int_equal(st, IMGP_ERR_NOMEM);
            assert_null(vols);
        }
        assert_true(done == (st == IMGP_OK)); /* a failed allocation is never swallowed */
        imgp_volumes_free(vols);
        imgp_bdev_close(disk);
        imgp_ctx_free(ctx);
        if (done)
            break;
        assert_true(n < 100000);
    }
    for (unsigned n = 1;; n++) {
        imgp_ctx *ctx = imgp_ctx_new(NULL);
        assert_non_null(ctx);
        imgp_bdev *mem, *disk;
        unsigned reads = 0;
        assert_int_equal(imgp_bdev_open_memory(ctx, buf, len, "disk", &mem), IMGP_OK);
        assert_int_equal(test_bdev_failing(ctx, mem, n, &reads, &disk), IMGP_OK);
        imgp_volumes *vols = NULL;
        imgp_status st = imgp_volumes_scan(ctx, disk, &vols);
        if (st != IMGP_OK) {
            assert_null(vols);
            assert_true(imgp_ctx_message(ctx)[0] != '\0');
        }
        imgp_volumes_free(vols);
        imgp_bdev_close(disk);
        imgp_bdev_close(mem);
        imgp_ctx_free(ctx);
        if (reads < n)
            break;
        assert_true(n < 100000);
    }
}

#endif
