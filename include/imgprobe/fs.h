/*
 * Filesystems, read-only: a driver (ext2/3/4, xfs, ntfs...) mounts any block
 * device and exposes stat, readdir, read and readlink on inode numbers. Path
 * lookup is written once, above the drivers, on a view: one filesystem at "/"
 * or several assembled at their mount points as the guest would (/boot, /usr
 * on their own filesystems). Symlinks are resolved inside the view, never on
 * the host.
 */
#ifndef IMGPROBE_FS_H
#define IMGPROBE_FS_H

#include "bdev.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct imgp_fs imgp_fs;
typedef uint64_t imgp_ino;

typedef enum imgp_ftype {
    IMGP_FT_UNKNOWN = 0, /* a directory entry that does not say (ext2 without filetype) */
    IMGP_FT_REG = 1,
    IMGP_FT_DIR = 2,
    IMGP_FT_SYMLINK = 3,
    IMGP_FT_CHR = 4,
    IMGP_FT_BLK = 5,
    IMGP_FT_FIFO = 6,
    IMGP_FT_SOCK = 7,
} imgp_ftype;

/* imgp_stat.flags */
#define IMGP_STAT_ENCRYPTED 0x1u  /* contents (and, for a directory, names) are encrypted */
#define IMGP_STAT_COMPRESSED 0x2u /* stored compressed by the filesystem */
#define IMGP_STAT_INLINE 0x4u     /* data stored in the inode */
#define IMGP_STAT_REPARSE 0x8u    /* an NTFS reparse point */

typedef struct imgp_stat {
    imgp_ino ino;
    imgp_ftype type;
    uint32_t mode;    /* permission bits (07777); the type is in `type` */
    uint32_t nlink;
    uint32_t uid, gid;
    uint64_t size;    /* bytes; for a symlink, the target's length */
    int64_t atime, mtime, ctime; /* seconds since the epoch */
    uint32_t mtime_nsec;
    uint32_t rdev_major, rdev_minor; /* device nodes */
    uint32_t flags;   /* IMGP_STAT_* */
} imgp_stat;

typedef struct imgp_dirent {
    imgp_ino ino;
    imgp_ftype type;  /* IMGP_FT_UNKNOWN when the directory does not record it */
    const char *name; /* not NUL-terminated; valid during the callback only */
    size_t name_len;
} imgp_dirent;

/* Called for each entry ("." and ".." are not passed). Return non-zero to stop (readdir then returns IMGP_OK). */
typedef int (*imgp_readdir_fn)(void *arg, const imgp_dirent *entry);

typedef struct imgp_fs_info {
    const char *type;        /* "ext4", "xfs", "ntfs"... */
    const char *label;       /* or NULL */
    const char *uuid;        /* lowercase, or NULL */
    uint32_t block_size;
    uint64_t total_bytes;    /* size of the filesystem */
    uint64_t free_bytes;     /* as the superblock counts it */
    bool case_insensitive;   /* lookups ignore case (NTFS; ext4 casefold directories decide per directory) */
    imgp_ino root;
    size_t nnotes;           /* warnings: a journal needing recovery, a checksum mismatch... */
    const char *const *notes;
} imgp_fs_info;

/**
 * Mount @p bd (not owned; must outlive the filesystem) read-only.
 * @param type  a driver name to force ("ext4"), or NULL to probe every driver.
 * @return IMGP_ERR_UNSUPPORTED when no driver recognises it (or, by name, an
 *         incompatible feature that a driver does not read).
 */
IMGP_API imgp_status imgp_fs_mount(imgp_ctx *ctx, imgp_bdev *bd, const char *type, imgp_fs **out);

IMGP_API const imgp_fs_info *imgp_fs_get_info(const imgp_fs *fs);
IMGP_API imgp_status imgp_fs_stat(imgp_fs *fs, imgp_ino ino, imgp_stat *st);

/** List directory @p dir (IMGP_ERR_INVALID_ARG when it is not a directory). */
IMGP_API imgp_status imgp_fs_readdir(imgp_fs *fs, imgp_ino dir, imgp_readdir_fn fn, void *arg);

/**
 * Read up to @p len bytes of regular file @p ino at @p off; *got is short only
 * at the end of the file. Holes and unwritten extents read as zeros.
 */
IMGP_API imgp_status imgp_fs_read(imgp_fs *fs, imgp_ino ino, uint64_t off, void *buf, size_t len, size_t *got);

/** The target of symlink @p ino, NUL-terminated in @p buf (IMGP_ERR_LIMIT when it does not fit). */
IMGP_API imgp_status imgp_fs_readlink(imgp_fs *fs, imgp_ino ino, char *buf, size_t cap);

/** Look up one name in directory @p dir (no path walking; "." and ".." not special). */
IMGP_API imgp_status imgp_fs_lookup_name(imgp_fs *fs, imgp_ino dir, const char *name, size_t name_len,
                                         imgp_ino *out);

/** Unmount. NULL is a no-op. */
IMGP_API void imgp_fs_unmount(imgp_fs *fs);

/* ---- views: filesystems assembled at mount points, and path lookup ---- */

typedef struct imgp_view imgp_view;

/* A file in a view. */
typedef struct imgp_node {
    imgp_fs *fs;
    imgp_ino ino;
} imgp_node;

/* imgp_view_lookup flags */
#define IMGP_LOOKUP_NOFOLLOW 0x1u /* do not follow a symlink in the last component */

/** A view with @p root (not owned) at "/". */
IMGP_API imgp_status imgp_view_new(imgp_ctx *ctx, imgp_fs *root, imgp_view **out);

/**
 * Mount @p fs (not owned) at @p path, which must resolve to a directory of
 * the view (as it stands before this mount).
 */
IMGP_API imgp_status imgp_view_mount(imgp_view *view, const char *path, imgp_fs *fs);

/**
 * Resolve @p path (absolute, or relative to "/") in the view: "." and "..",
 * symlinks followed (IMGP_LIMIT_SYMLINK_HOPS in all; absolute targets resolve
 * from the view's root, never the host's), mount points crossed, a trailing
 * "/" requiring a directory.
 * @return IMGP_ERR_NOT_FOUND (naming the missing component), IMGP_ERR_LIMIT
 *         for too many symlinks, IMGP_ERR_INVALID_ARG for a non-directory in
 *         the middle of the path.
 */
IMGP_API imgp_status imgp_view_lookup(imgp_view *view, const char *path, unsigned flags, imgp_node *out);

IMGP_API void imgp_view_free(imgp_view *view);

#ifdef __cplusplus
}
#endif
#endif
