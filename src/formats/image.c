/* Images: format detection, opening, backing chains and the facts `info` shows. */
#include <stdio.h>

#include "format.h"

struct imgp_strnode {
    imgp_strnode *next;
    char s[];
};

const char *imgp_image_keep(imgp_image *img, const char *s)
{
    size_t len = strlen(s);
    imgp_strnode *n = imgp_alloc(img->ctx, sizeof *n + len + 1);
    if (!n)
        return NULL;
    memcpy(n->s, s, len + 1);
    n->next = img->strings;
    img->strings = n;
    return n->s;
}

const char *imgp_image_keepf(imgp_image *img, const char *fmt, ...)
{
    char buf[IMGP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return imgp_image_keep(img, buf);
}

imgp_status imgp_image_add_prop(imgp_image *img, const char *key, const char *fmt, ...)
{
    char buf[IMGP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (img->info.nprops == img->props_cap) {
        size_t cap = img->props_cap ? img->props_cap * 2 : 8;
        imgp_prop *p = imgp_realloc(img->ctx, img->props, cap * sizeof *p);
        if (!p)
            return IMGP_ERR_NOMEM;
        img->props = p;
        img->props_cap = cap;
        img->info.props = p;
    }
    const char *value = imgp_image_keep(img, buf);
    if (!value)
        return IMGP_ERR_NOMEM;
    img->props[img->info.nprops++] = (imgp_prop){key, value};
    return IMGP_OK;
}

imgp_status imgp_image_add_snapshot(imgp_image *img, const imgp_snapshot *snap)
{
    if (img->info.nsnapshots == img->snapshots_cap) {
        size_t cap = img->snapshots_cap ? img->snapshots_cap * 2 : 4;
        imgp_snapshot *p = imgp_realloc(img->ctx, img->snapshots, cap * sizeof *p);
        if (!p)
            return IMGP_ERR_NOMEM;
        img->snapshots = p;
        img->snapshots_cap = cap;
        img->info.snapshots = p;
    }
    imgp_snapshot s = *snap;
    s.id = imgp_image_keep(img, snap->id ? snap->id : "");
    s.name = s.id ? imgp_image_keep(img, snap->name ? snap->name : "") : NULL;
    if (!s.name)
        return IMGP_ERR_NOMEM;
    img->snapshots[img->info.nsnapshots++] = s;
    return IMGP_OK;
}

imgp_status imgp_image_set_unreadable(imgp_image *img, const char *fmt, ...)
{
    char buf[IMGP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    img->info.readable = false;
    img->info.unreadable_reason = imgp_image_keep(img, buf);
    return img->info.unreadable_reason ? IMGP_OK : IMGP_ERR_NOMEM;
}

const imgp_format *imgp_format_find(const char *name)
{
    for (const imgp_format *const *f = imgp_formats; *f; f++)
        if (strcmp((*f)->name, name) == 0)
            return *f;
    return NULL;
}

int imgp_format_known(const char *name) { return imgp_format_find(name) != NULL; }

imgp_status imgp_format_detect(imgp_ctx *ctx, imgp_source *src, const imgp_format **out)
{
    *out = NULL;
    size_t head_len = (size_t)imgp_min_u64(src->size, IMGP_PROBE_HEAD);
    size_t tail_len = (size_t)imgp_min_u64(src->size, IMGP_PROBE_TAIL);
    uint8_t *head = imgp_alloc(ctx, head_len + tail_len);
    if (!head)
        return IMGP_ERR_NOMEM;
    uint8_t *tail = head + head_len;
    imgp_status st = imgp_source_read(src, 0, head, head_len, "start of the image");
    if (st == IMGP_OK)
        st = imgp_source_read(src, src->size - tail_len, tail, tail_len, "end of the image");
    if (st != IMGP_OK) {
        imgp_free(ctx, head);
        return st;
    }
    imgp_probe_input in = {head, head_len, tail, tail_len, src->size};
    int best = 0, second = 0;
    const imgp_format *winner = NULL, *rival = NULL;
    for (const imgp_format *const *f = imgp_formats; *f; f++) {
        int score = (*f)->probe(&in);
        if (score > best) {
            second = best;
            rival = winner;
            best = score;
            winner = *f;
        } else if (score > 0 && score >= second) {
            second = score;
            rival = *f;
        }
    }
    imgp_free(ctx, head);
    if (!winner)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "%s: no format recognises this image", src->name);
    if (second == best)
        return imgp_error(ctx, IMGP_ERR_AMBIGUOUS, "%s: looks equally like %s and %s; name the format with -f",
                          src->name, winner->name, rival->name);
    *out = winner;
    return IMGP_OK;
}

/* Open @p src (owned from here on) as an image of the chain below @p above. */
static imgp_status image_open(imgp_ctx *ctx, imgp_source *src, const char *format, const imgp_image *above,
                              imgp_image **out)
{
    *out = NULL;
    const imgp_format *fmt = NULL;
    imgp_status st;
    if (format) {
        fmt = imgp_format_find(format);
        if (!fmt) {
            st = imgp_error(ctx, IMGP_ERR_INVALID_ARG, "unknown format '%s'", format);
            imgp_source_close(src);
            return st;
        }
    } else if ((st = imgp_format_detect(ctx, src, &fmt)) != IMGP_OK) {
        imgp_source_close(src);
        return st;
    }

    imgp_image *img = imgp_calloc(ctx, 1, sizeof *img);
    if (!img) {
        imgp_source_close(src);
        return IMGP_ERR_NOMEM;
    }
    img->ctx = ctx;
    img->src = src;
    img->format = fmt;
    img->above = above;
    img->depth = above ? above->depth + 1 : 0;
    img->info.format = fmt->name;
    img->info.readable = true;
    img->info.file_size = src->size;
    img->info.actual_size = src->allocated;

    if (fmt->open) {
        st = fmt->open(img);
    } else {
        st = imgp_image_set_unreadable(img, "%s", fmt->not_read ? fmt->not_read : "format not read");
    }
    if (st == IMGP_OK && img->info.readable && !img->bdev)
        st = imgp_error(ctx, IMGP_ERR_INVALID_ARG, "%s: format %s opened no device", src->name, fmt->name);
    if (st != IMGP_OK) {
        imgp_image_close(img);
        return st;
    }
    *out = img;
    return IMGP_OK;
}

imgp_status imgp_image_open_source(imgp_ctx *ctx, imgp_source *src, const char *format, imgp_image **out)
{
    return image_open(ctx, src, format, NULL, out);
}

imgp_status imgp_image_open(imgp_ctx *ctx, const char *path, const char *format, imgp_image **out)
{
    imgp_source *src;
    *out = NULL;
    imgp_status st = imgp_source_open_file(ctx, path, &src);
    if (st != IMGP_OK)
        return st;
    return image_open(ctx, src, format, NULL, out);
}

imgp_status imgp_image_open_backing(imgp_image *img, const char *name, const char *format)
{
    imgp_ctx *ctx = img->ctx;
    uint64_t max_depth = imgp_ctx_limit(ctx, IMGP_LIMIT_CHAIN_DEPTH);
    if (img->depth + 1 > max_depth)
        return imgp_error(ctx, IMGP_ERR_LIMIT, "%s: backing chain deeper than %llu images at '%s'", img->src->name,
                          (unsigned long long)max_depth, name);
    if (format && !imgp_format_find(format))
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "%s: backing file '%s' has unknown format '%s'",
                          img->src->name, name, format);

    imgp_source *src;
    imgp_status st = imgp_source_open_related(img->src, name, &src);
    if (st != IMGP_OK)
        return imgp_error_prefix(ctx, "%s: backing file '%s': ", img->src->name, name);
    for (const imgp_image *up = img; up; up = up->above) {
        if (strcmp(up->src->identity, src->identity) == 0) {
            st = imgp_error(ctx, IMGP_ERR_CORRUPT, "%s: backing file '%s' loops back to %s", img->src->name, name,
                            up->src->name);
            imgp_source_close(src);
            return st;
        }
    }
    /* The table limit bounds the whole chain: without this, each of
     * chain_depth crafted images could hold a table of the full limit.
     * Nested opens see the limit already lowered by the images above. */
    uint64_t table_limit = imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES);
    if (img->table_bytes >= table_limit) {
        imgp_source_close(src);
        return imgp_error(ctx, IMGP_ERR_LIMIT, "%s: backing file '%s': the tables of the chain above it take all "
                          "of the table limit (%llu bytes)", img->src->name, name, (unsigned long long)table_limit);
    }
    imgp_image *backing;
    ctx->limits[IMGP_LIMIT_TABLE_BYTES] = table_limit - img->table_bytes;
    st = image_open(ctx, src, format, img, &backing);
    ctx->limits[IMGP_LIMIT_TABLE_BYTES] = table_limit;
    if (st != IMGP_OK)
        return st == IMGP_ERR_NOMEM ? st : imgp_error_prefix(ctx, "%s: backing file '%s': ", img->src->name, name);
    if (!backing->info.readable) {
        st = imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "%s: backing file '%s' is %s, which is not read: %s",
                        img->src->name, name, backing->info.format, backing->info.unreadable_reason);
        imgp_image_close(backing);
        return st;
    }
    img->backing = backing;
    return IMGP_OK;
}

const imgp_image_info *imgp_image_get_info(const imgp_image *img) { return &img->info; }
const char *imgp_image_name(const imgp_image *img) { return img->src->name; }
const imgp_image *imgp_image_backing(const imgp_image *img) { return img->backing; }

imgp_status imgp_image_bdev(imgp_image *img, imgp_bdev **out)
{
    *out = NULL;
    if (!img->bdev)
        return imgp_error(img->ctx, IMGP_ERR_UNSUPPORTED, "%s: %s image: %s", img->src->name, img->info.format,
                          img->info.unreadable_reason ? img->info.unreadable_reason : "not readable");
    *out = img->bdev;
    return IMGP_OK;
}

void imgp_image_close(imgp_image *img)
{
    if (!img)
        return;
    imgp_ctx *ctx = img->ctx;
    imgp_bdev_close(img->bdev); /* may read through backing until here */
    imgp_image_close(img->backing);
    imgp_source_close(img->src);
    for (imgp_strnode *n = img->strings, *next; n; n = next) {
        next = n->next;
        imgp_free(ctx, n);
    }
    imgp_free(ctx, img->props);
    imgp_free(ctx, img->snapshots);
    imgp_free(ctx, img);
}
