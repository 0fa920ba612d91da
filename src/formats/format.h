/*
 * The format layer's internal interface: what one image format provides (a
 * probe and an open) and the image object an open fills in.
 *
 * Adding a format: write src/formats/NAME.c (and NAME_disk.h for its on-disk
 * layout) defining `const imgp_format imgp_format_NAME`, and add one row to
 * the table in formats.c. Nothing above this layer changes.
 */
#ifndef IMGP_FORMAT_H
#define IMGP_FORMAT_H

#include "../core/internal.h"

/* What a probe sees: the first and the last bytes of the source. */
typedef struct imgp_probe_input {
    const uint8_t *head; /* the first head_len bytes (up to IMGP_PROBE_HEAD) */
    size_t head_len;
    const uint8_t *tail; /* the last tail_len bytes (up to IMGP_PROBE_TAIL) */
    size_t tail_len;
    uint64_t size;       /* of the whole source */
} imgp_probe_input;

#define IMGP_PROBE_HEAD (64u * 1024) /* reaches ISO 9660's descriptor at 32 KiB */
#define IMGP_PROBE_TAIL 1024u        /* VHD footer, VMDK stream footer */

typedef struct imgp_format {
    const char *name; /* as `info` prints it and `-f` takes it */

    /* Pure: score @p in (IMGP_SCORE_*). Must not read past head_len/tail_len. */
    int (*probe)(const imgp_probe_input *in);

    /* Fill img->info (virtual_size at least) and set img->bdev, reading from
     * img->src. On failure, leave what was set for imgp_image_close() to free.
     * NULL: the format is recognised but not read; not_read says why. */
    imgp_status (*open)(imgp_image *img);

    const char *not_read;
} imgp_format;

/* NULL-terminated, in src/formats/formats.c. */
extern const imgp_format *const imgp_formats[];

/* Keep a string alive as long as the image. */
typedef struct imgp_strnode imgp_strnode;

struct imgp_image {
    imgp_ctx *ctx;
    imgp_source *src;          /* owned */
    const imgp_format *format;
    imgp_image_info info;
    imgp_bdev *bdev;           /* owned; NULL while unreadable */
    imgp_image *backing;       /* owned; the image this one reads through */
    const imgp_image *above;   /* the image that opened this one as its backing */
    unsigned depth;            /* 0 for the image opened by the user */
    uint64_t table_bytes;      /* metadata tables this image holds (L1, BAT, grain directories): what its
                                * backing images may not use of IMGP_LIMIT_TABLE_BYTES (imgp_image_open_backing) */
    imgp_strnode *strings;
    imgp_prop *props;
    size_t props_cap;
    imgp_snapshot *snapshots;
    size_t snapshots_cap;
};

/* Copy @p s into the image's lifetime. @return NULL (NOMEM recorded) on failure. */
const char *imgp_image_keep(imgp_image *img, const char *s);
const char *imgp_image_keepf(imgp_image *img, const char *fmt, ...) IMGP_PRINTF(2, 3);

/* Append a format-specific fact shown by `info`. @p key must be a literal. */
imgp_status imgp_image_add_prop(imgp_image *img, const char *key, const char *fmt, ...) IMGP_PRINTF(3, 4);

/* Append an internal snapshot (strings copied). */
imgp_status imgp_image_add_snapshot(imgp_image *img, const imgp_snapshot *snap);

/* Mark the image recognised but unreadable, with the reason (copied). */
imgp_status imgp_image_set_unreadable(imgp_image *img, const char *fmt, ...) IMGP_PRINTF(2, 3);

/**
 * Open the image that @p img reads through (a backing file, a parent): @p name
 * relative to img's source, @p format forced (a name) or NULL to probe. Checks
 * IMGP_LIMIT_CHAIN_DEPTH and loops; the backing image opens with
 * IMGP_LIMIT_TABLE_BYTES less img->table_bytes, so that the limit bounds
 * the tables of the whole chain, not of each image. Sets img->backing on success; the error
 * message names the backing file on failure.
 */
imgp_status imgp_image_open_backing(imgp_image *img, const char *name, const char *format);

/** Look a format up by name. @return NULL when unknown. */
const imgp_format *imgp_format_find(const char *name);

/**
 * Choose the format of @p src by probing every format.
 * @return IMGP_ERR_AMBIGUOUS when the best score is shared.
 */
imgp_status imgp_format_detect(imgp_ctx *ctx, imgp_source *src, const imgp_format **out);

#endif
