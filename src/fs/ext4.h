/*
 * The ext2/3/4 driver's internals: the parsed forms of its on-disk
 * structures and the functions the three source files share.
 *
 *   ext4.c         mount (superblock, group descriptors), inodes, checksums,
 *                  stat / read / readlink
 *   ext4_extent.c  logical -> physical block mapping: extent trees and the
 *                  direct/indirect block map; reading mapped data
 *   ext4_dir.c     directory blocks (linear, htree read as linear, inline),
 *                  readdir and lookup (casefold)
 *
 * The ext4_parse_* functions take a byte buffer of known length and do no
 * I/O, so unit tests and the fuzzer call them directly.
 */
#ifndef IMGP_EXT4_H
#define IMGP_EXT4_H

#include "../core/cache.h"
#include "ext4_disk.h"
#include "fs.h"

/* The superblock, as read (plus what follows from it). */
typedef struct ext4_super {
    uint32_t inodes_count;
    uint64_t blocks_count;
    uint64_t free_blocks_count;
    uint32_t free_inodes_count;
    uint32_t first_data_block;
    uint32_t log_block_size;     /* log2 of the block size in bytes, 10..16 */
    uint32_t log_cluster_blocks; /* log2 of blocks per cluster (bigalloc), else 0 */
    uint32_t blocks_per_group;
    uint32_t inodes_per_group;
    uint16_t state;
    uint32_t creator_os;
    uint32_t rev_level;
    uint16_t inode_size;
    uint16_t block_group_nr;
    uint32_t compat, incompat, ro_compat;
    uint8_t uuid[16];
    char label[17];
    uint16_t desc_size; /* 32 without 64bit */
    uint32_t first_meta_bg;
    uint8_t checksum_type;
    uint32_t backup_bgs[2];
    uint32_t checksum_seed;
    uint32_t checksum;
    /* derived */
    uint32_t block_size;
    uint32_t group_count;
    uint32_t desc_per_block;
} ext4_super;

/* One block group descriptor: what imgprobe uses of it. */
typedef struct ext4_group {
    uint64_t inode_table;
    uint16_t flags;
    uint16_t checksum;
} ext4_group;

/* One inode, as read. raw keeps the record for inline data and checksums. */
typedef struct ext4_inode {
    uint64_t ino;
    uint16_t mode;
    uint32_t uid, gid;
    uint64_t size;
    int64_t atime, ctime, mtime;
    uint32_t mtime_nsec;
    uint16_t links;
    uint32_t flags;
    uint8_t block[EXT4_I_BLOCK_LEN];
    uint32_t generation;
    uint16_t extra_isize; /* 0 for 128-byte records */
    uint32_t checksum;    /* l_i_checksum_lo, | i_checksum_hi << 16 when present */
    bool checksum_hi;
    uint16_t record_size;
    uint8_t raw[EXT4_MAX_INODE_SIZE];
} ext4_inode;

/* An extent tree node's header. */
typedef struct ext4_extent_header {
    uint16_t entries, max, depth;
} ext4_extent_header;

/* A run of a file's logical blocks: where it lies, or that it reads as zeros. */
typedef struct ext4_run {
    uint64_t pblk; /* first physical block (unused when zero) */
    uint64_t len;  /* blocks, >= 1 */
    bool zero;     /* a hole or an uninitialised extent */
} ext4_run;

/* The mounted filesystem. */
typedef struct ext4_fs {
    imgp_fs base;
    ext4_super sb;
    unsigned backup_group; /* 0, or 1 when the primary superblock was damaged */
    ext4_group *groups;
    imgp_cache *meta;      /* inode table, extent and indirect blocks */
    bool verify_csum;      /* metadata_csum with crc32c */
    uint32_t csum_seed;
    unsigned csum_notes;   /* checksum mismatches noted so far */
    char uuid[37];
} ext4_fs;

extern const imgp_fs_driver imgp_fs_ext4;

/* ---- parsers (no I/O) ---- */

/**
 * Parse and check the superblock in @p buf (at least EXT4_SB_SIZE bytes):
 * magic, geometry, sizes, and that the group descriptor table fits
 * IMGP_LIMIT_TABLE_BYTES. Features are not judged here (ext4_check_features).
 */
imgp_status ext4_parse_super(imgp_ctx *ctx, const uint8_t *buf, size_t len, ext4_super *sb);

/** IMGP_ERR_UNSUPPORTED naming the first incompatible feature imgprobe does not read. */
imgp_status ext4_check_features(imgp_ctx *ctx, const ext4_super *sb);

/** Parse one group descriptor of @p desc_size bytes (the 64-bit fields when @p is64). */
void ext4_parse_group_desc(const uint8_t *buf, size_t desc_size, bool is64, ext4_group *g);

/** Parse inode @p ino from its record of @p len bytes (128..EXT4_MAX_INODE_SIZE). */
imgp_status ext4_parse_inode(imgp_ctx *ctx, uint64_t ino, const uint8_t *buf, size_t len, bool hurd,
                             ext4_inode *in);

/**
 * Parse an extent node header. @p where names the node in messages.
 * Checks the magic, that eh_max entries fit in @p len and eh_entries <= eh_max,
 * and that the depth is at most @p max_depth.
 */
imgp_status ext4_parse_extent_header(imgp_ctx *ctx, const uint8_t *buf, size_t len, unsigned max_depth,
                                     const char *where, ext4_extent_header *eh);

/**
 * Walk the entries of one directory block (or inline directory area) of
 * @p len bytes, calling @p fn for each entry in use (inode != 0), "." and ".."
 * included. @p filetype: the entries' file_type is meaningful. @p where names
 * the block in messages. *stopped tells whether @p fn asked to stop.
 */
imgp_status ext4_parse_dir_block(imgp_ctx *ctx, const uint8_t *buf, size_t len, bool filetype,
                                 const char *where, imgp_readdir_fn fn, void *arg, bool *stopped);

/** The value of the "system.data" attribute in the inode body (inline data past i_block), or NULL. */
const uint8_t *ext4_inline_ea(const ext4_inode *in, size_t *len);

/* ---- checksums (checksums.rst): crc32c without the final inversion, as ext4 stores it ---- */
uint32_t ext4_crc32c(uint32_t crc, const void *buf, size_t len);
uint16_t ext4_crc16(uint16_t crc, const void *buf, size_t len);
uint16_t ext4_group_desc_csum(const ext4_super *sb, uint32_t seed, uint32_t group, const uint8_t *desc);
uint32_t ext4_inode_csum(uint32_t seed, const ext4_inode *in);

/* ---- I/O helpers shared by the driver's files ---- */

/** Record an error "ext4: <message>" and return @p st. */
imgp_status ext4_fail(ext4_fs *fs, imgp_status st, const char *fmt, ...) IMGP_PRINTF(3, 4);

/** Read inode @p ino (checksum verified when the filesystem has them). */
imgp_status ext4_read_inode(ext4_fs *fs, uint64_t ino, ext4_inode *in);

/** Metadata block @p blk through the cache; valid until the next cache call. */
imgp_status ext4_meta_block(ext4_fs *fs, uint64_t blk, const uint8_t **out);

/** Map logical block @p lblk of @p in (extents or block map) to a run. */
imgp_status ext4_map(ext4_fs *fs, const ext4_inode *in, uint64_t lblk, ext4_run *run);

/** Read [off, off + len) of a block-mapped inode's data (holes as zeros). */
imgp_status ext4_read_mapped(ext4_fs *fs, const ext4_inode *in, uint64_t off, uint8_t *buf, size_t len);

imgp_status ext4_readdir(imgp_fs *fs, imgp_ino dir, imgp_readdir_fn fn, void *arg);
imgp_status ext4_lookup(imgp_fs *fs, imgp_ino dir, const char *name, size_t len, imgp_ino *out);

/** Case-insensitive equality of two UTF-8 names, as casefold directories compare them. */
bool ext4_casefold_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
