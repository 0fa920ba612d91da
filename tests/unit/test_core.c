/* Unit tests of src/core: context, cursor, cache, sources, block devices, format detection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/cache.h"
#include "core/cursor.h"
#include "formats/format.h"
#include "support/testsupport.h"

static imgp_ctx *ctx_new(void)
{
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    assert_non_null(ctx);
    return ctx;
}

/* ---- context ---- */

static void test_status_names(void **state)
{
    (void)state;
    for (int s = 0; s < IMGP_STATUS_COUNT_; s++)
        assert_string_not_equal(imgp_status_name((imgp_status)s), "unknown status");
    assert_string_equal(imgp_status_name((imgp_status)999), "unknown status");
    assert_string_equal(imgp_status_name(IMGP_ERR_CORRUPT), "corrupt");
}

static void test_limits(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    for (int l = 0; l < IMGP_LIMIT_COUNT_; l++) {
        assert_non_null(imgp_limit_name((imgp_limit)l));
        assert_true(imgp_limit_default((imgp_limit)l) > 0);
        assert_int_equal(imgp_ctx_limit(ctx, (imgp_limit)l), imgp_limit_default((imgp_limit)l));
    }
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_CHAIN_DEPTH, 3), IMGP_OK);
    assert_int_equal(imgp_ctx_limit(ctx, IMGP_LIMIT_CHAIN_DEPTH), 3);
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_CHAIN_DEPTH, 0), IMGP_ERR_INVALID_ARG);
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_COUNT_, 5), IMGP_ERR_INVALID_ARG);
    assert_null(imgp_limit_name(IMGP_LIMIT_COUNT_));
    imgp_ctx_free(ctx);
}

static void test_error_messages(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    assert_string_equal(imgp_ctx_message(ctx), "");
    assert_int_equal(imgp_error(ctx, IMGP_ERR_CORRUPT, "L2 table at 0x%x", 0x8a0000), IMGP_ERR_CORRUPT);
    assert_int_equal(imgp_ctx_status(ctx), IMGP_ERR_CORRUPT);
    assert_int_equal(imgp_error_prefix(ctx, "backing file '%s': ", "b.img"), IMGP_ERR_CORRUPT);
    assert_string_equal(imgp_ctx_message(ctx), "backing file 'b.img': L2 table at 0x8a0000");
    /* a prefix longer than the message buffer truncates, never overflows */
    char big[2 * IMGP_MSG_MAX];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    imgp_error_prefix(ctx, "%s", big);
    assert_int_equal(strlen(imgp_ctx_message(ctx)), IMGP_MSG_MAX - 1);
    imgp_ctx_clear(ctx);
    assert_int_equal(imgp_ctx_status(ctx), IMGP_OK);
    imgp_ctx_free(ctx);
}

static void test_alloc_overflow(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    assert_null(imgp_calloc(ctx, SIZE_MAX / 2, 3));
    assert_int_equal(imgp_ctx_status(ctx), IMGP_ERR_NOMEM);
    imgp_ctx_free(ctx);
    imgp_allocator half = {0};
    assert_null(imgp_ctx_new(&half));
}

/* ---- cursor ---- */

static void test_cursor_endianness(void **state)
{
    (void)state;
    const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88};
    imgp_cursor c = imgp_cur_init(b, sizeof b);
    assert_int_equal(imgp_cur_be16_at(&c, 0), 0x0102);
    assert_int_equal(imgp_cur_le16_at(&c, 0), 0x0201);
    assert_int_equal(imgp_cur_be32_at(&c, 4), 0x05060788u);
    assert_int_equal(imgp_cur_le32_at(&c, 4), 0x88070605u);
    assert_true(imgp_cur_be64(&c) == 0x0102030405060788ull);
    assert_int_equal(c.pos, 8);
    c.pos = 0;
    assert_true(imgp_cur_le64(&c) == 0x8807060504030201ull);
    assert_true(imgp_cur_ok(&c));
}

static void test_cursor_bounds_are_sticky(void **state)
{
    (void)state;
    const uint8_t b[6] = {1, 2, 3, 4, 5, 6};
    imgp_cursor c = imgp_cur_init(b, sizeof b);
    assert_int_equal(imgp_cur_be32(&c), 0x01020304);
    assert_int_equal(imgp_cur_be32(&c), 0); /* only 2 bytes left */
    assert_false(imgp_cur_ok(&c));
    assert_int_equal(c.pos, 4);             /* a failed read does not move */
    assert_int_equal(imgp_cur_be16(&c), 0x0506); /* still readable, still bad */
    assert_false(imgp_cur_ok(&c));

    c = imgp_cur_init(b, sizeof b);
    assert_int_equal(imgp_cur_u8_at(&c, SIZE_MAX), 0);
    assert_false(imgp_cur_ok(&c));
    c = imgp_cur_init(b, sizeof b);
    assert_null(imgp_cur_ptr_at(&c, 2, SIZE_MAX - 1)); /* off + n would wrap */
    c = imgp_cur_init(b, sizeof b);
    imgp_cur_seek(&c, 7);
    assert_false(imgp_cur_ok(&c));
    c = imgp_cur_init(b, sizeof b);
    imgp_cur_skip(&c, 6);
    assert_true(imgp_cur_ok(&c));
    assert_int_equal(imgp_cur_remaining(&c), 0);
    uint8_t out[4] = {9, 9, 9, 9};
    imgp_cur_bytes(&c, out, 4);
    assert_false(imgp_cur_ok(&c));
    assert_int_equal(out[0] | out[1] | out[2] | out[3], 0); /* zero-filled on failure */
}

static void test_cursor_sub(void **state)
{
    (void)state;
    const uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    imgp_cursor c = imgp_cur_init(b, sizeof b);
    imgp_cur_skip(&c, 2);
    imgp_cursor s = imgp_cur_sub(&c, 4);
    assert_true(imgp_cur_ok(&s));
    assert_int_equal(s.len, 4);
    assert_int_equal(imgp_cur_u8_at(&s, 0), 3);
    assert_int_equal(imgp_cur_u8_at(&s, 4), 0);
    assert_false(imgp_cur_ok(&s));
    assert_int_equal(c.pos, 6);
    s = imgp_cur_sub(&c, 3);
    assert_false(imgp_cur_ok(&s));
    assert_false(imgp_cur_ok(&c));
}

/* ---- cache ---- */

static unsigned fills;

static imgp_status fill_key(void *arg, uint64_t key, uint8_t *buf)
{
    (void)arg;
    fills++;
    if (key == 666)
        return IMGP_ERR_IO;
    memset(buf, (int)(key & 0xff), 16);
    return IMGP_OK;
}

static void test_cache_lru(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    imgp_cache *c;
    const uint8_t *p;
    assert_int_equal(imgp_cache_new(ctx, 16, 2, &c), IMGP_OK);
    fills = 0;
    assert_int_equal(imgp_cache_get(c, 1, fill_key, NULL, &p), IMGP_OK);
    assert_int_equal(p[0], 1);
    assert_int_equal(imgp_cache_get(c, 2, fill_key, NULL, &p), IMGP_OK);
    assert_int_equal(imgp_cache_get(c, 1, fill_key, NULL, &p), IMGP_OK); /* hit */
    assert_int_equal(fills, 2);
    assert_int_equal(imgp_cache_get(c, 3, fill_key, NULL, &p), IMGP_OK); /* evicts 2, the least recent */
    assert_int_equal(imgp_cache_get(c, 1, fill_key, NULL, &p), IMGP_OK);
    assert_int_equal(fills, 3);
    assert_int_equal(imgp_cache_get(c, 2, fill_key, NULL, &p), IMGP_OK);
    assert_int_equal(fills, 4);
    assert_int_equal(p[15], 2);
    /* a failed fill caches nothing */
    assert_int_equal(imgp_cache_get(c, 666, fill_key, NULL, &p), IMGP_ERR_IO);
    assert_int_equal(imgp_cache_get(c, 666, fill_key, NULL, &p), IMGP_ERR_IO);
    assert_int_equal(fills, 6);
    imgp_cache_free(c);
    imgp_ctx_free(ctx);
}

static void test_cache_limits(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    imgp_cache *c;
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_TABLE_BYTES, 4096);
    assert_int_equal(imgp_cache_new(ctx, 8192, 4, &c), IMGP_ERR_LIMIT);
    assert_null(c);
    assert_non_null(strstr(imgp_ctx_message(ctx), "8192"));
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_CACHE_BYTES, 4096);
    assert_int_equal(imgp_cache_new(ctx, 4096, 1000, &c), IMGP_OK); /* shrunk to one slot */
    imgp_cache_free(c);
    imgp_ctx_free(ctx);
}

/* ---- sources and devices ---- */

static void test_memory_source_front_door(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t buf[100];
    for (int i = 0; i < 100; i++)
        buf[i] = (uint8_t)i;
    imgp_source *s;
    assert_int_equal(imgp_source_open_memory(ctx, buf, sizeof buf, "mem", &s), IMGP_OK);
    uint8_t out[16];
    assert_int_equal(imgp_source_read(s, 90, out, 10, "tail"), IMGP_OK);
    assert_int_equal(out[9], 99);
    assert_int_equal(imgp_source_read(s, 95, out, 10, "thing table"), IMGP_ERR_OUT_OF_RANGE);
    assert_non_null(strstr(imgp_ctx_message(ctx), "thing table at 0x5f"));
    assert_int_equal(imgp_source_read(s, UINT64_MAX, out, 2, "x"), IMGP_ERR_OUT_OF_RANGE);
    memset(out, 0xee, sizeof out);
    assert_int_equal(imgp_source_read_zfill(s, 96, out, 8, "y"), IMGP_OK);
    assert_int_equal(out[3], 99);
    assert_int_equal(out[4] | out[7], 0);
    assert_int_equal(imgp_source_read_zfill(s, 100, out, 8, "y"), IMGP_ERR_OUT_OF_RANGE);
    imgp_source *rel;
    assert_int_equal(imgp_source_open_related(s, "other", &rel), IMGP_ERR_UNSUPPORTED);
    imgp_source_close(s);
    imgp_ctx_free(ctx);
}

static void test_file_source_holes(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    char path[] = "/tmp/imgp-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    /* 1 MiB hole, 4 KiB data, then a hole up to 4 MiB */
    assert_int_equal(pwrite(fd, "data", 4, 1 << 20), 4);
    assert_int_equal(ftruncate(fd, 4 << 20), 0);
    close(fd);

    imgp_source *s;
    assert_int_equal(imgp_source_open_file(ctx, path, &s), IMGP_OK);
    assert_int_equal(s->size, 4 << 20);
    bool data;
    uint64_t run, total = 0, data_bytes = 0;
    for (uint64_t off = 0; off < s->size; off += run) {
        assert_int_equal(imgp_source_extent(s, off, s->size - off, &data, &run), IMGP_OK);
        assert_true(run > 0);
        total += run;
        if (data)
            data_bytes += run;
    }
    assert_int_equal(total, 4 << 20);
    /* some filesystems cannot report holes: then everything is data */
    assert_true(data_bytes >= 4096 && (data_bytes <= 65536 || data_bytes == (4 << 20)));
    uint8_t b[4];
    assert_int_equal(imgp_source_read(s, 1 << 20, b, 4, "data"), IMGP_OK);
    assert_memory_equal(b, "data", 4);
    imgp_source_close(s);
    unlink(path);

    assert_int_equal(imgp_source_open_file(ctx, path, &s), IMGP_ERR_NOT_FOUND);
    assert_null(s);
    assert_int_equal(imgp_source_open_file(ctx, "/tmp", &s), IMGP_ERR_INVALID_ARG);
    imgp_ctx_free(ctx);
}

static imgp_status lying_status(imgp_bdev *bd, uint64_t off, uint64_t len, imgp_extent_kind *kind, uint64_t *run)
{
    (void)bd;
    (void)off;
    *kind = IMGP_EXTENT_DATA;
    *run = len + 1; /* past the request */
    return IMGP_OK;
}

static void test_bdev_front_door(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    uint8_t buf[4096] = {0};
    imgp_bdev *bd;
    assert_int_equal(imgp_bdev_open_memory(ctx, buf, sizeof buf, "mem", &bd), IMGP_OK);
    uint8_t out[512];
    assert_int_equal(imgp_bdev_read(bd, 3584, out, 512), IMGP_OK);
    assert_int_equal(imgp_bdev_read(bd, 3585, out, 512), IMGP_ERR_OUT_OF_RANGE);
    assert_int_equal(imgp_bdev_read(bd, UINT64_MAX - 10, out, 512), IMGP_ERR_OUT_OF_RANGE);
    assert_int_equal(imgp_bdev_read(bd, 5000, out, 0), IMGP_OK);
    imgp_extent_kind kind;
    uint64_t run;
    assert_int_equal(imgp_bdev_status(bd, 100, UINT64_MAX, &kind, &run), IMGP_OK);
    assert_int_equal(kind, IMGP_EXTENT_DATA);
    assert_int_equal(run, 4096 - 100);
    assert_int_equal(imgp_bdev_status(bd, 4096, 1, &kind, &run), IMGP_ERR_OUT_OF_RANGE);

    /* a driver whose status lies is caught at the front door */
    imgp_bdev_ops lying = *bd->ops;
    lying.status = lying_status;
    const imgp_bdev_ops *orig = bd->ops;
    bd->ops = &lying;
    assert_int_equal(imgp_bdev_status(bd, 0, 10, &kind, &run), IMGP_ERR_CORRUPT);
    bd->ops = orig;

    imgp_bdev *f;
    unsigned reads = 0;
    assert_int_equal(test_bdev_failing(ctx, bd, 2, &reads, &f), IMGP_OK);
    assert_int_equal(imgp_bdev_read(f, 0, out, 10), IMGP_OK);
    assert_int_equal(imgp_bdev_read(f, 0, out, 10), IMGP_ERR_IO);
    assert_int_equal(reads, 2);
    imgp_bdev_close(f);
    imgp_bdev_close(bd);
    imgp_ctx_free(ctx);
}

/* ---- images ---- */

static void test_image_raw_fallback(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    static uint8_t disk[8192];
    for (size_t i = 0; i < sizeof disk; i++)
        disk[i] = (uint8_t)(i * 7);
    imgp_source *s;
    imgp_image *img;
    assert_int_equal(imgp_source_open_memory(ctx, disk, sizeof disk, "disk", &s), IMGP_OK);
    assert_int_equal(imgp_image_open_source(ctx, s, NULL, &img), IMGP_OK);
    const imgp_image_info *in = imgp_image_get_info(img);
    assert_string_equal(in->format, "raw");
    assert_true(in->readable);
    assert_int_equal(in->virtual_size, sizeof disk);
    imgp_bdev *bd;
    assert_int_equal(imgp_image_bdev(img, &bd), IMGP_OK);
    uint8_t out[16];
    assert_int_equal(imgp_bdev_read(bd, 8000, out, 16), IMGP_OK);
    assert_memory_equal(out, disk + 8000, 16);
    assert_null(imgp_image_backing(img));
    imgp_image_close(img);

    assert_int_equal(imgp_source_open_memory(ctx, disk, sizeof disk, "disk", &s), IMGP_OK);
    assert_int_equal(imgp_image_open_source(ctx, s, "no-such-format", &img), IMGP_ERR_INVALID_ARG);
    assert_null(img);
    assert_false(imgp_format_known("no-such-format"));
    assert_true(imgp_format_known("raw"));
    imgp_ctx_free(ctx);
}

static void test_image_empty_source(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    imgp_source *s;
    imgp_image *img;
    assert_int_equal(imgp_source_open_memory(ctx, NULL, 0, "empty", &s), IMGP_OK);
    assert_int_equal(imgp_image_open_source(ctx, s, NULL, &img), IMGP_OK);
    assert_int_equal(imgp_image_get_info(img)->virtual_size, 0);
    imgp_image_close(img);
    imgp_ctx_free(ctx);
}

static void test_image_alloc_failures(void **state)
{
    (void)state;
    static uint8_t disk[4096];
    /* every allocation of the open path fails in turn: a clean error each time, no leak */
    for (unsigned n = 1; n < 200; n++) {
        imgp_ctx *ctx = test_ctx_failing_alloc(n);
        imgp_source *s;
        imgp_image *img = NULL;
        imgp_status st = imgp_source_open_memory(ctx, disk, sizeof disk, "disk", &s);
        if (st == IMGP_OK)
            st = imgp_image_open_source(ctx, s, NULL, &img);
        if (st == IMGP_OK) {
            imgp_image_close(img);
            imgp_ctx_free(ctx);
            return; /* past the last allocation */
        }
        assert_int_equal(st, IMGP_ERR_NOMEM);
        assert_null(img);
        imgp_ctx_free(ctx);
    }
    fail_msg("open never succeeded");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_alloc_overflow),
        cmocka_unit_test(test_cursor_endianness),
        cmocka_unit_test(test_cursor_bounds_are_sticky),
        cmocka_unit_test(test_cursor_sub),
        cmocka_unit_test(test_cache_lru),
        cmocka_unit_test(test_cache_limits),
        cmocka_unit_test(test_memory_source_front_door),
        cmocka_unit_test(test_file_source_holes),
        cmocka_unit_test(test_bdev_front_door),
        cmocka_unit_test(test_image_raw_fallback),
        cmocka_unit_test(test_image_empty_source),
        cmocka_unit_test(test_image_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
