/*
 * RAW: the virtual disk is the file itself. The fallback for anything no
 * other format claims. A sparse file's holes are reported as unallocated
 * (through the source's SEEK_DATA/SEEK_HOLE).
 */
#include "format.h"

typedef struct raw_bdev {
    imgp_bdev base;
    imgp_source *src; /* borrowed from the image */
} raw_bdev;

static imgp_status raw_read(imgp_bdev *bd, uint64_t off, void *buf, size_t len)
{
    return imgp_source_read(((raw_bdev *)bd)->src, off, buf, len, "raw data");
}

static imgp_status raw_status(imgp_bdev *bd, uint64_t off, uint64_t len, imgp_extent_kind *kind, uint64_t *run)
{
    bool is_data;
    imgp_status st = imgp_source_extent(((raw_bdev *)bd)->src, off, len, &is_data, run);
    *kind = is_data ? IMGP_EXTENT_DATA : IMGP_EXTENT_UNALLOCATED;
    return st;
}

static void raw_close(imgp_bdev *bd)
{
    imgp_free(bd->ctx, bd->name);
    imgp_free(bd->ctx, bd);
}

static const imgp_bdev_ops raw_ops = {
    .kind = "raw",
    .read = raw_read,
    .status = raw_status,
    .close = raw_close,
};

static int raw_probe(const imgp_probe_input *in)
{
    (void)in;
    return IMGP_SCORE_FALLBACK;
}

static imgp_status raw_open(imgp_image *img)
{
    raw_bdev *r = imgp_calloc(img->ctx, 1, sizeof *r);
    if (!r)
        return IMGP_ERR_NOMEM;
    r->src = img->src;
    r->base.ops = &raw_ops;
    r->base.ctx = img->ctx;
    r->base.size = img->src->size;
    r->base.sector_size = 512;
    r->base.name = imgp_strdup(img->ctx, img->src->name);
    if (!r->base.name) {
        imgp_free(img->ctx, r);
        return IMGP_ERR_NOMEM;
    }
    img->bdev = &r->base;
    img->info.virtual_size = img->src->size;
    return IMGP_OK;
}

const imgp_format imgp_format_raw = {
    .name = "raw",
    .probe = raw_probe,
    .open = raw_open,
};
