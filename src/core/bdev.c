/* Block devices: the checked front doors and a device over memory. */
#include "internal.h"

imgp_status imgp_bdev_read(imgp_bdev *bd, uint64_t off, void *buf, size_t len)
{
    if (len == 0)
        return IMGP_OK;
    if (imgp_range_outside(off, len, bd->size))
        return imgp_error(bd->ctx, IMGP_ERR_OUT_OF_RANGE,
                          "read of %zu bytes at 0x%llx lies past the end of %s (size 0x%llx)", len,
                          (unsigned long long)off, bd->name, (unsigned long long)bd->size);
    return bd->ops->read(bd, off, buf, len);
}

imgp_status imgp_bdev_status(imgp_bdev *bd, uint64_t off, uint64_t len, imgp_extent_kind *kind, uint64_t *run)
{
    if (off >= bd->size || len == 0)
        return imgp_error(bd->ctx, IMGP_ERR_OUT_OF_RANGE, "status query at 0x%llx outside %s (size 0x%llx)",
                          (unsigned long long)off, bd->name, (unsigned long long)bd->size);
    len = imgp_min_u64(len, bd->size - off);
    if (!bd->ops->status) {
        *kind = IMGP_EXTENT_DATA;
        *run = len;
        return IMGP_OK;
    }
    imgp_status st = bd->ops->status(bd, off, len, kind, run);
    if (st != IMGP_OK)
        return st;
    if (*run == 0 || *run > len || (unsigned)*kind > IMGP_EXTENT_UNALLOCATED)
        return imgp_error(bd->ctx, IMGP_ERR_CORRUPT,
                          "%s: status at 0x%llx answered kind %u for %llu bytes of a %llu-byte request",
                          bd->name, (unsigned long long)off, (unsigned)*kind, (unsigned long long)*run,
                          (unsigned long long)len);
    return IMGP_OK;
}

void imgp_bdev_close(imgp_bdev *bd)
{
    if (bd)
        bd->ops->close(bd);
}

typedef struct mem_bdev {
    imgp_bdev base;
    const uint8_t *buf;
} mem_bdev;

static imgp_status mem_read(imgp_bdev *bd, uint64_t off, void *buf, size_t len)
{
    memcpy(buf, ((mem_bdev *)bd)->buf + off, len);
    return IMGP_OK;
}

static void mem_close(imgp_bdev *bd)
{
    imgp_free(bd->ctx, bd->name);
    imgp_free(bd->ctx, bd);
}

static const imgp_bdev_ops mem_ops = {.kind = "memory", .read = mem_read, .close = mem_close};

imgp_status imgp_bdev_open_memory(imgp_ctx *ctx, const void *buf, size_t len, const char *name, imgp_bdev **out)
{
    *out = NULL;
    if (!buf && len)
        return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "memory device without a buffer");
    mem_bdev *m = imgp_calloc(ctx, 1, sizeof *m);
    if (!m)
        return IMGP_ERR_NOMEM;
    m->buf = buf;
    m->base.ops = &mem_ops;
    m->base.ctx = ctx;
    m->base.size = len;
    m->base.sector_size = 512;
    m->base.name = imgp_strdup(ctx, name ? name : "memory");
    if (!m->base.name) {
        imgp_free(ctx, m);
        return IMGP_ERR_NOMEM;
    }
    *out = &m->base;
    return IMGP_OK;
}

/* ---- a slice of another device (partitions, linear LV segments) ---- */

typedef struct slice_bdev {
    imgp_bdev base;
    imgp_bdev *parent;
    uint64_t start;
} slice_bdev;

static imgp_status slice_read(imgp_bdev *bd, uint64_t off, void *buf, size_t len)
{
    slice_bdev *s = (slice_bdev *)bd;
    return imgp_bdev_read(s->parent, s->start + off, buf, len);
}

static imgp_status slice_status(imgp_bdev *bd, uint64_t off, uint64_t len, imgp_extent_kind *kind, uint64_t *run)
{
    slice_bdev *s = (slice_bdev *)bd;
    return imgp_bdev_status(s->parent, s->start + off, len, kind, run);
}

static void slice_close(imgp_bdev *bd)
{
    imgp_free(bd->ctx, bd->name);
    imgp_free(bd->ctx, bd);
}

static const imgp_bdev_ops slice_ops = {
    .kind = "slice", .read = slice_read, .status = slice_status, .close = slice_close};

imgp_status imgp_bdev_slice_open(imgp_bdev *parent, uint64_t start, uint64_t size, const char *name,
                                 imgp_bdev **out)
{
    imgp_ctx *ctx = parent->ctx;
    *out = NULL;
    if (imgp_range_outside(start, size, parent->size))
        return imgp_error(ctx, IMGP_ERR_OUT_OF_RANGE,
                          "%s: 0x%llx bytes at 0x%llx lie outside %s (size 0x%llx)", name ? name : "slice",
                          (unsigned long long)size, (unsigned long long)start, parent->name,
                          (unsigned long long)parent->size);
    slice_bdev *s = imgp_calloc(ctx, 1, sizeof *s);
    if (!s)
        return IMGP_ERR_NOMEM;
    s->parent = parent;
    s->start = start;
    s->base.ops = &slice_ops;
    s->base.ctx = ctx;
    s->base.size = size;
    s->base.sector_size = parent->sector_size;
    s->base.name = imgp_strdup(ctx, name ? name : "slice");
    if (!s->base.name) {
        imgp_free(ctx, s);
        return IMGP_ERR_NOMEM;
    }
    *out = &s->base;
    return IMGP_OK;
}
