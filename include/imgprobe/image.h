/*
 * Images: a byte source recognised as a container format (raw, qcow2, vhd,
 * vmdk...) and turned into the virtual disk it holds.
 *
 * Detection is by content, never by file name: every format's probe scores
 * the first and last bytes of the source, the highest score wins and a tie is
 * IMGP_ERR_AMBIGUOUS. Formats that are recognised but not read (vhdx, vdi...)
 * open as an image whose info.readable is false and which has no device.
 */
#ifndef IMGPROBE_IMAGE_H
#define IMGPROBE_IMAGE_H

#include "bdev.h"
#include "source.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct imgp_image imgp_image;

/* An internal snapshot (qcow2). Strings are owned by the image. */
typedef struct imgp_snapshot {
    const char *id;
    const char *name;
    uint64_t vm_state_size; /* bytes */
    uint64_t disk_size;     /* virtual size when taken (0: unknown) */
    uint64_t date_sec;      /* seconds since the epoch */
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
} imgp_snapshot;

/* A format-specific fact, shown by `info` ("compat" = "1.1"). Owned by the image. */
typedef struct imgp_prop {
    const char *key;
    const char *value;
} imgp_prop;

typedef struct imgp_image_info {
    const char *format;       /* "raw", "qcow2", "vhd", "vmdk", "vhdx"... */
    bool readable;            /* false: recognised, not read (see unreadable_reason) */
    const char *unreadable_reason; /* why not, or NULL */
    uint64_t virtual_size;    /* bytes of the virtual disk (0 when unknown) */
    uint64_t file_size;       /* bytes of the image file(s) */
    uint64_t actual_size;     /* bytes they take on their storage */
    uint32_t cluster_size;    /* allocation unit, 0 when the format has none */
    const char *compression;  /* "zlib", "zstd" or NULL */
    const char *backing_file; /* as written in the image, or NULL */
    const char *backing_format; /* as written, or NULL */
    bool dirty;               /* the writer did not close it cleanly */
    bool corrupt;             /* the writer marked it corrupt */
    bool encrypted;
    size_t nsnapshots;
    const imgp_snapshot *snapshots;
    size_t nprops;
    const imgp_prop *props;
} imgp_image_info;

/**
 * Open an image file read-only.
 * @param format  a format name to force ("qcow2"), or NULL to detect it.
 * @param out     receives the image; close it with imgp_image_close().
 * Backing files are opened relative to the image's own directory, up to
 * IMGP_LIMIT_CHAIN_DEPTH deep; a loop is IMGP_ERR_CORRUPT.
 */
IMGP_API imgp_status imgp_image_open(imgp_ctx *ctx, const char *path, const char *format,
                                     imgp_image **out);

/**
 * Like imgp_image_open() on a source. Takes ownership of @p src, also on failure.
 */
IMGP_API imgp_status imgp_image_open_source(imgp_ctx *ctx, imgp_source *src, const char *format,
                                            imgp_image **out);

/** @return the image's facts; valid until the image is closed. */
IMGP_API const imgp_image_info *imgp_image_get_info(const imgp_image *img);

/** @return the image's file name as given. */
IMGP_API const char *imgp_image_name(const imgp_image *img);

/** @return the image this one reads through (its backing file or parent), or NULL. */
IMGP_API const imgp_image *imgp_image_backing(const imgp_image *img);

/**
 * Get the virtual disk. Owned by the image; do not close it.
 * @return IMGP_ERR_UNSUPPORTED (with the reason in the message) for an image
 *         that is recognised but not read.
 */
IMGP_API imgp_status imgp_image_bdev(imgp_image *img, imgp_bdev **out);

/** Close an image, its device and its backing chain. NULL is a no-op. */
IMGP_API void imgp_image_close(imgp_image *img);

/** @return 1 if @p name is a format imgprobe knows (read or recognised), else 0. */
IMGP_API int imgp_format_known(const char *name);

#ifdef __cplusplus
}
#endif
#endif
