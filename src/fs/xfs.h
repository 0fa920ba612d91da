/*
 * The XFS driver's internals: the parsed forms of its on-disk structures and
 * the functions its three source files share.
 *
 *   xfs.c       mount (superblock, features, the log's state), inode numbers
 *               to places, inodes and their CRCs, stat / read / readlink
 *   xfs_bmap.c  a data fork's logical blocks to disk blocks: extent lists in
 *               the inode and extent B+trees of any depth; reading the data
 *   xfs_dir.c   directories: shortform in the inode, and data blocks (block,
 *               leaf, node and btree directories all keep their entries in
 *               data blocks below XFS_DIR2_LEAF_OFFSET); readdir and lookup
 *
 * The xfs_parse_* functions take a byte buffer of known length and do no
 * I/O, so unit tests and the fuzzer call them directly.
 */
#ifndef IMGP_XFS_H
#define IMGP_XFS_H

#include "../core/cache.h"
#include "fs.h"
#include "xfs_disk.h"

/* The superblock, as read (plus what follows from it). */
typedef struct xfs_super {
    uint32_t blocksize;
    uint64_t dblocks, rblocks;
    uint8_t uuid[16], meta_uuid[16];
    uint64_t logstart;
    uint64_t rootino;
    uint32_t agblocks, agcount, logblocks;
    uint16_t versionnum, sectsize, inodesize, inopblock;
    char label[XFS_LABEL_LEN + 1];
    uint8_t blocklog, sectlog, inodelog, inopblog, agblklog, inprogress, dirblklog;
    uint64_t icount, fdblocks;
    uint32_t features2, compat, ro_compat, incompat, log_incompat;
    uint32_t crc;
    /* derived */
    unsigned version; /* 4 or 5 */
    bool has_crc;     /* v5: metadata CRCs and self-describing blocks */
    bool has_ftype;   /* directory entries record the file type */
    bool ascii_ci;    /* names compare without ASCII case */
    uint32_t dirblksize;
} xfs_super;

/* One inode, as read. raw keeps the record for the data fork and the CRC. */
typedef struct xfs_inode {
    uint64_t ino;
    uint16_t mode;
    uint8_t version, format;
    uint32_t uid, gid, nlink;
    uint64_t size, nblocks, nextents;
    int64_t atime, mtime, ctime;
    uint32_t mtime_nsec;
    uint16_t flags;
    uint64_t flags2;
    uint32_t crc;       /* as stored (v3) */
    uint16_t fork_off;  /* where the data fork starts in raw */
    uint16_t fork_len;  /* its size */
    uint16_t record_size;
    uint8_t raw[1u << XFS_MAX_INODELOG];
} xfs_inode;

/* A long-format B+tree block's header (or the root's in the inode). */
typedef struct xfs_btree_header {
    uint16_t level, numrecs;
    uint16_t maxrecs; /* entries the block has room for */
    uint16_t hdr_len; /* where the entries start */
} xfs_btree_header;

/* One extent record. */
typedef struct xfs_extent {
    uint64_t startoff;   /* logical block */
    uint64_t startblock; /* filesystem block (AG number and AG block) */
    uint32_t blockcount;
    bool unwritten;
} xfs_extent;

/* A run of a fork's logical blocks: where it lies, or that it reads as zeros. */
typedef struct xfs_run {
    uint64_t block; /* first disk block (block-size units from the start of the device); unused when zero */
    uint64_t len;   /* blocks, >= 1 */
    bool zero;      /* a hole or an unwritten extent */
} xfs_run;

/* The mounted filesystem. */
typedef struct xfs_fs {
    imgp_fs base;
    xfs_super sb;
    imgp_cache *meta;    /* inode and bmbt blocks */
    unsigned csum_notes; /* CRC mismatches noted so far */
    char uuid[37];
} xfs_fs;

extern const imgp_fs_driver imgp_fs_xfs;

/* ---- parsers (no I/O) ---- */

/**
 * Parse and check the superblock in @p buf (at least XFS_SB_V5_SIZE bytes):
 * magic, geometry and the logs agreeing with the sizes. Features are judged
 * by xfs_check_features.
 */
imgp_status xfs_parse_super(imgp_ctx *ctx, const uint8_t *buf, size_t len, xfs_super *sb);

/** IMGP_ERR_UNSUPPORTED naming the first incompatible feature imgprobe does not read. */
imgp_status xfs_check_features(imgp_ctx *ctx, const xfs_super *sb);

/**
 * Where inode @p ino lies: its byte offset from the start of the device.
 * IMGP_ERR_CORRUPT when the number does not map into the filesystem (AG past
 * agcount, block past its AG or the filesystem's end, zero).
 */
imgp_status xfs_inode_offset(imgp_ctx *ctx, const xfs_super *sb, uint64_t ino, uint64_t *offset);

/**
 * Filesystem block @p fsb (AG number << agblklog | AG block) and @p count
 * blocks after it as a disk block; false when they leave their AG or the
 * filesystem.
 */
bool xfs_fsb_to_block(const xfs_super *sb, uint64_t fsb, uint64_t count, uint64_t *block);

/** Parse inode @p ino from its record of sb->inodesize bytes (the CRC is xfs_crc's job). */
imgp_status xfs_parse_inode(imgp_ctx *ctx, const xfs_super *sb, uint64_t ino, const uint8_t *buf, size_t len,
                            xfs_inode *in);

/** Decode the 16-byte extent record at @p rec. */
void xfs_parse_extent(const uint8_t *rec, xfs_extent *ext);

/**
 * Parse a bmbt block of @p len bytes (@p root: the root in the inode's data
 * fork, else a long-format block with the v4 or v5 magic per @p crc).
 * Checks numrecs against the room, the level against XFS_BM_MAXLEVELS.
 */
imgp_status xfs_parse_bmbt_header(imgp_ctx *ctx, const uint8_t *buf, size_t len, bool root, bool crc,
                                  const char *where, xfs_btree_header *h);

/**
 * Walk a shortform directory of @p len bytes (the inode's di_size; the fork
 * holds @p room), calling @p fn for each entry. *stopped tells whether @p fn
 * asked to stop.
 */
imgp_status xfs_parse_sf_dir(imgp_ctx *ctx, const uint8_t *buf, size_t len, bool ftype, const char *where,
                             imgp_readdir_fn fn, void *arg, bool *stopped);

/**
 * Walk one directory data block (XD2B/XD2D, XDB3/XDD3 with @p crc) of
 * @p len bytes, calling @p fn for each entry, "." and ".." included.
 */
imgp_status xfs_parse_dir_block(imgp_ctx *ctx, const uint8_t *buf, size_t len, bool crc, bool ftype,
                                const char *where, imgp_readdir_fn fn, void *arg, bool *stopped);

/**
 * The CRC32c XFS stores for @p len bytes with the 4-byte CRC field at
 * @p crc_off counted as zero: inverted, as read little-endian from the disk.
 */
uint32_t xfs_crc(const uint8_t *buf, size_t len, size_t crc_off);

/* ---- I/O helpers shared by the driver's files ---- */

/** Record an error "xfs: <message>" and return @p st. */
imgp_status xfs_fail(xfs_fs *fs, imgp_status st, const char *fmt, ...) IMGP_PRINTF(3, 4);

/** Note a CRC mismatch of @p what (the first few one by one, then one line). */
imgp_status xfs_crc_note(xfs_fs *fs, const char *what, uint64_t where, uint32_t stored, uint32_t computed);

/** Read inode @p ino (CRC verified on v5). */
imgp_status xfs_read_inode(xfs_fs *fs, uint64_t ino, xfs_inode *in);

/** Disk block @p block through the metadata cache; valid until the next cache call. */
imgp_status xfs_meta_block(xfs_fs *fs, uint64_t block, const uint8_t **out);

/** Map logical block @p lblk of @p in's data fork (extents or btree) to a run. */
imgp_status xfs_map(xfs_fs *fs, const xfs_inode *in, uint64_t lblk, xfs_run *run);

/** Read [off, off + len) of an extent-mapped inode's data (holes as zeros). */
imgp_status xfs_read_mapped(xfs_fs *fs, const xfs_inode *in, uint64_t off, uint8_t *buf, size_t len);

imgp_status xfs_readdir(imgp_fs *fs, imgp_ino dir, imgp_readdir_fn fn, void *arg);
imgp_status xfs_lookup(imgp_fs *fs, imgp_ino dir, const char *name, size_t len, imgp_ino *out);

#endif
