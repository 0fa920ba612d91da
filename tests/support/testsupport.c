#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "testsupport.h"

typedef struct failing_bdev {
    imgp_bdev base;
    imgp_bdev *lower;
    unsigned fail_at, count;
    unsigned *reads;
} failing_bdev;

static imgp_status failing_read(imgp_bdev *bd, uint64_t off, void *buf, size_t len)
{
    failing_bdev *f = (failing_bdev *)bd;
    f->count++;
    if (f->reads)
        *f->reads = f->count;
    if (f->fail_at && f->count >= f->fail_at)
        return imgp_error(bd->ctx, IMGP_ERR_IO, "injected failure of read %u", f->count);
    return imgp_bdev_read(f->lower, off, buf, len);
}

static imgp_status failing_status(imgp_bdev *bd, uint64_t off, uint64_t len, imgp_extent_kind *kind,
                                  uint64_t *run)
{
    return imgp_bdev_status(((failing_bdev *)bd)->lower, off, len, kind, run);
}

static void failing_close(imgp_bdev *bd)
{
    imgp_free(bd->ctx, bd->name);
    imgp_free(bd->ctx, bd);
}

static const imgp_bdev_ops failing_ops = {
    .kind = "failing", .read = failing_read, .status = failing_status, .close = failing_close};

imgp_status test_bdev_failing(imgp_ctx *ctx, imgp_bdev *lower, unsigned fail_at, unsigned *reads,
                              imgp_bdev **out)
{
    failing_bdev *f = imgp_calloc(ctx, 1, sizeof *f);
    if (!f)
        return IMGP_ERR_NOMEM;
    f->lower = lower;
    f->fail_at = fail_at;
    f->reads = reads;
    f->base.ops = &failing_ops;
    f->base.ctx = ctx;
    f->base.size = lower->size;
    f->base.sector_size = lower->sector_size;
    f->base.name = imgp_strdup(ctx, "failing");
    if (!f->base.name) {
        imgp_free(ctx, f);
        return IMGP_ERR_NOMEM;
    }
    *out = &f->base;
    return IMGP_OK;
}

static unsigned alloc_fail_at, alloc_count;

static void *fa_alloc(void *o, size_t n)
{
    (void)o;
    if (alloc_fail_at && ++alloc_count >= alloc_fail_at)
        return NULL;
    if (!alloc_fail_at)
        alloc_count++;
    return malloc(n);
}

static void *fa_realloc(void *o, void *p, size_t n)
{
    (void)o;
    if (alloc_fail_at && ++alloc_count >= alloc_fail_at)
        return NULL;
    if (!alloc_fail_at)
        alloc_count++;
    return realloc(p, n);
}

static void fa_free(void *o, void *p)
{
    (void)o;
    free(p);
}

imgp_ctx *test_ctx_failing_alloc(unsigned fail_at)
{
    /* the context itself is allocated with the real allocator */
    imgp_allocator a = {fa_alloc, fa_realloc, fa_free, NULL};
    alloc_fail_at = 0;
    imgp_ctx *ctx = imgp_ctx_new(&a);
    alloc_fail_at = fail_at;
    alloc_count = 0;
    return ctx;
}

unsigned test_alloc_count(void) { return alloc_count; }

void test_put_be16(uint8_t *p, size_t off, uint16_t v) { p[off] = (uint8_t)(v >> 8); p[off + 1] = (uint8_t)v; }
void test_put_be32(uint8_t *p, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[off + (size_t)i] = (uint8_t)(v >> (24 - 8 * i));
}
void test_put_be64(uint8_t *p, size_t off, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[off + (size_t)i] = (uint8_t)(v >> (56 - 8 * i));
}
void test_put_le16(uint8_t *p, size_t off, uint16_t v) { p[off] = (uint8_t)v; p[off + 1] = (uint8_t)(v >> 8); }
void test_put_le32(uint8_t *p, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}
void test_put_le64(uint8_t *p, size_t off, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

void test_expect_error(imgp_ctx *ctx, imgp_status got, imgp_status want, const char *needle)
{
    const char *msg = imgp_ctx_message(ctx);
    if (got != want || !strstr(msg, needle))
        fail_msg("got %s \"%s\", wanted %s with \"%s\"", imgp_status_name(got), msg, imgp_status_name(want),
                 needle);
}

imgp_status test_image_open_memory(imgp_ctx *ctx, const void *buf, size_t len, const char *name, imgp_image **out)
{
    imgp_source *src;
    *out = NULL;
    imgp_status st = imgp_source_open_memory(ctx, buf, len, name, &src);
    return st == IMGP_OK ? imgp_image_open_source(ctx, src, NULL, out) : st;
}

const char *test_image_prop(const imgp_image *img, const char *key)
{
    const imgp_image_info *in = imgp_image_get_info(img);
    for (size_t i = 0; i < in->nprops; i++)
        if (strcmp(in->props[i].key, key) == 0)
            return in->props[i].value;
    return NULL;
}
