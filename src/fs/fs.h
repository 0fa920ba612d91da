/*
 * The filesystem layer's internal interface: what one driver provides.
 *
 * A driver struct embeds struct imgp_fs as its first member. The front doors
 * in fs.c check arguments (a read of a directory, a readlink of a file) and
 * clamp ranges before a driver runs; drivers parse on-disk structures through
 * the bounded cursor and report damage with the inode or block number.
 *
 * Adding a filesystem: write src/fs/NAME.c (NAME_disk.h for its layout)
 * defining `const imgp_fs_driver imgp_fs_NAME` and add one row to the table
 * in fs.c. Path lookup, symlinks and mount points are not the driver's job.
 */
#ifndef IMGP_FS_INTERNAL_H
#define IMGP_FS_INTERNAL_H

#include "../core/internal.h"

#define IMGP_FS_PROBE_HEAD (68u * 1024) /* ext at 1 KiB, xfs at 0, ntfs at 0, btrfs at 64 KiB */

typedef struct imgp_fs_driver {
    const char *name;

    /* Pure: score the first @p len bytes of a device of @p size bytes (IMGP_SCORE_*). */
    int (*probe)(const uint8_t *head, size_t len, uint64_t size);

    /* Optional second chance, asked only when no driver recognised the head:
     * look further into the device (ext4: the backup superblock of group 1
     * when the primary is destroyed). Returns a score like probe; reads
     * through the checked front door and leaves no error behind. */
    int (*probe_deep)(imgp_ctx *ctx, imgp_bdev *bd);

    /* Mount @p bd: allocate the driver struct, fill fs->info, set *out. */
    imgp_status (*mount)(imgp_ctx *ctx, imgp_bdev *bd, imgp_fs **out);

    imgp_status (*stat)(imgp_fs *fs, imgp_ino ino, imgp_stat *st);
    /* @p dir is known to be a directory. Skip "." and "..". */
    imgp_status (*readdir)(imgp_fs *fs, imgp_ino dir, imgp_readdir_fn fn, void *arg);
    /* @p ino is a regular file and [off, off + len) lies inside it, len > 0. */
    imgp_status (*read)(imgp_fs *fs, imgp_ino ino, uint64_t off, void *buf, size_t len);
    /* @p ino is a symlink; write at most cap - 1 bytes and a NUL. */
    imgp_status (*readlink)(imgp_fs *fs, imgp_ino ino, char *buf, size_t cap);
    /* Optional: find one name in directory @p dir faster than readdir (htree,
     * B+tree), or with the filesystem's own case rules. Absent: readdir and an
     * exact byte comparison. */
    imgp_status (*lookup)(imgp_fs *fs, imgp_ino dir, const char *name, size_t len, imgp_ino *out);
    void (*unmount)(imgp_fs *fs);
} imgp_fs_driver;

struct imgp_fs {
    const imgp_fs_driver *drv;
    imgp_ctx *ctx;
    imgp_bdev *bdev; /* not owned */
    imgp_fs_info info;
    const char **notes; /* info.notes, owned */
    size_t notes_cap;
};

/* Record a warning about the filesystem (copied). */
imgp_status imgp_fs_note(imgp_fs *fs, const char *fmt, ...) IMGP_PRINTF(2, 3);

/* Free what the generic part owns (notes); drivers call it from unmount. */
void imgp_fs_release(imgp_fs *fs);

/* The type in a POSIX st_mode (S_IFMT bits, as ext2/3/4 and XFS store them);
 * IMGP_FT_UNKNOWN for none. */
imgp_ftype imgp_fs_mode_type(uint32_t mode);

/* A readdir callback between a driver's directory walk and the caller's
 * @p fn: leaves out "." and "..", and stops (setting over) past @p limit
 * entries (IMGP_LIMIT_DIR_ENTRIES). */
typedef struct imgp_fs_lister {
    imgp_readdir_fn fn;
    void *arg;
    uint64_t count, limit;
    bool over;
} imgp_fs_lister;
int imgp_fs_list_entry(void *lister, const imgp_dirent *e);

/* NULL-terminated, in fs.c. */
extern const imgp_fs_driver *const imgp_fs_drivers[];

#endif
