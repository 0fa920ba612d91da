/*
 * The NTFS driver's internals: the parsed forms of its on-disk structures
 * and the functions its source files share.
 *
 *   ntfs.c        mount (boot sector, $MFT, $UpCase, $Volume, hiberfil.sys),
 *                 stat / read / readlink, reparse points
 *   ntfs_attr.c   MFT records (fixups), attributes, $ATTRIBUTE_LIST, data
 *                 runs, reading attribute values (sparse, initialised size,
 *                 LZNT1-compressed units)
 *   ntfs_index.c  $I30 directory indexes ($INDEX_ROOT, $INDEX_ALLOCATION):
 *                 readdir and the case-insensitive lookup through $UpCase
 *
 * The ntfs_parse_* functions take a byte buffer of known length and do no
 * I/O, so unit tests and the fuzzer call them directly.
 */
#ifndef IMGP_NTFS_H
#define IMGP_NTFS_H

#include "../core/cache.h"
#include "fs.h"
#include "ntfs_disk.h"

/* The boot sector, as read (plus what follows from it). */
typedef struct ntfs_boot {
    uint32_t sector_size;
    uint32_t cluster_size;
    unsigned cluster_shift;
    uint64_t total_sectors;
    uint64_t total_clusters;
    uint64_t mft_lcn, mftmirr_lcn;
    uint32_t record_size;
    uint32_t index_block_size;
    uint64_t serial;
} ntfs_boot;

/* One attribute of a record, as read. Pointers go into the record's buffer. */
typedef struct ntfs_attr {
    uint32_t type;
    const uint8_t *name; /* UTF-16LE, name_len units; NULL when unnamed */
    uint8_t name_len;
    uint16_t flags;      /* NTFS_ATTR_COMPRESSED... */
    uint16_t instance;
    bool resident;
    uint64_t record;     /* the MFT record holding it */
    /* resident */
    const uint8_t *value;
    uint32_t value_len;
    /* non-resident */
    uint64_t start_vcn, last_vcn;
    const uint8_t *runs;
    size_t runs_len;
    uint8_t compression_unit;
    uint64_t allocated_size, data_size, initialized_size;
} ntfs_attr;

/* A record header, as read. */
typedef struct ntfs_record {
    uint16_t sequence;
    uint16_t link_count;
    uint16_t flags;
    uint16_t attrs_offset;
    uint32_t bytes_in_use;
    uint64_t base_ref;
} ntfs_record;

/* A run of clusters of an attribute: where it lies, or a hole (lcn < 0). */
typedef struct ntfs_run {
    uint64_t vcn;
    int64_t lcn;  /* NTFS_LCN_HOLE for a sparse run */
    uint64_t len; /* clusters, >= 1 */
} ntfs_run;
#define NTFS_LCN_HOLE (-1)

/* A runlist: the runs of one attribute, sorted by vcn, without gaps. */
typedef struct ntfs_runlist {
    ntfs_run *runs;
    size_t n, cap;
} ntfs_runlist;

/* An attribute's value, ready to read: resident bytes or a runlist. */
typedef struct ntfs_stream {
    bool resident;
    const uint8_t *value; /* resident; points into the inode's records */
    uint64_t size, initialized_size, allocated_size;
    uint16_t flags;       /* of the first extent: compressed, sparse, encrypted */
    unsigned compression_unit;
    ntfs_runlist rl;
} ntfs_stream;

/* A file: its base record and any extension records its $ATTRIBUTE_LIST
 * names, with every attribute they hold. */
typedef struct ntfs_inode {
    uint64_t record;
    ntfs_record hdr;
    uint8_t **bufs;     /* the records' bytes, fixups applied; bufs[0] is the base */
    uint64_t *buf_records;
    size_t nbufs;
    uint8_t *attr_list; /* a non-resident $ATTRIBUTE_LIST's value, or NULL */
    ntfs_attr *attrs;
    size_t nattrs, cap;
} ntfs_inode;

/* The mounted filesystem. */
typedef struct ntfs_fs {
    imgp_fs base;
    ntfs_boot boot;
    ntfs_runlist mft;      /* $MFT's unnamed $DATA */
    uint64_t mft_records;  /* records that $MFT's initialised size holds */
    imgp_cache *records;   /* MFT records by number, fixups applied */
    uint16_t *upcase;      /* 65536 entries */
    uint8_t major, minor;  /* NTFS version from $VOLUME_INFORMATION */
    uint16_t volume_flags;
    char label[3 * 128 + 1];
    char serial[17];
    /* the last unnamed $DATA opened for reading, kept for sequential reads */
    uint64_t data_record;
    bool data_valid;
    ntfs_inode data_inode;
    ntfs_stream data;
    /* the last decompressed compression unit */
    uint8_t *cu_buf;
    uint64_t cu_record, cu_index;
    bool cu_valid;
    uint8_t *cu_raw;
} ntfs_fs;

extern const imgp_fs_driver imgp_fs_ntfs;

/* ---- parsers (no I/O) ---- */

/** Parse and check the boot sector in @p buf (@p len >= NTFS_BOOT_SIZE). */
imgp_status ntfs_parse_boot(imgp_ctx *ctx, const uint8_t *buf, size_t len, ntfs_boot *boot);

/**
 * Check and undo the update-sequence fixups of a multi-sector structure of
 * @p len bytes (a multiple of 512) in place, after checking its 4-byte @p magic.
 * @p what names it in messages ("MFT record 42").
 */
imgp_status ntfs_apply_fixups(imgp_ctx *ctx, uint8_t *buf, size_t len, const char *magic, const char *what);

/** Parse the header of MFT record @p number (fixups already applied). */
imgp_status ntfs_parse_record(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint64_t number, ntfs_record *rec);

/**
 * Parse the attribute at *@p off of record @p number (@p len bytes in use).
 * @return IMGP_OK with *@p off advanced past it; *@p end set (and nothing
 *         parsed) at the end marker.
 */
imgp_status ntfs_parse_attr(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint64_t number, size_t *off,
                            ntfs_attr *a, bool *end);

/**
 * Decode the data runs of one non-resident extent, appending them to @p rl
 * (which must end at a->start_vcn). Checks every length and cluster number
 * against @p total_clusters and the run count against @p max_runs.
 */
imgp_status ntfs_decode_runs(imgp_ctx *ctx, const ntfs_attr *a, uint64_t total_clusters, size_t max_runs,
                             ntfs_runlist *rl);

/** The run holding @p vcn, or NULL. */
const ntfs_run *ntfs_runlist_find(const ntfs_runlist *rl, uint64_t vcn);
void ntfs_runlist_free(imgp_ctx *ctx, ntfs_runlist *rl);

/**
 * LZNT1 ([MS-XCA] 2.5): decompress @p slen bytes into @p dst of @p dlen
 * bytes; *@p got is the number produced (the rest of dst is zeroed).
 */
imgp_status ntfs_lznt1_decompress(imgp_ctx *ctx, const uint8_t *src, size_t slen, uint8_t *dst, size_t dlen,
                                  size_t *got);

/* One $I30 entry, as parsed. */
typedef struct ntfs_index_entry {
    uint64_t ref;
    uint16_t flags;          /* NTFS_IE_* */
    uint64_t subnode_vcn;    /* when flags & NTFS_IE_SUBNODE */
    const uint8_t *name;     /* UTF-16LE; NULL for the last entry */
    uint8_t name_len;
    uint8_t name_space;
    uint32_t file_attributes;
} ntfs_index_entry;

/**
 * Call @p fn for each entry of the index node whose header is at @p node_off
 * in @p buf (@p len bytes), the last (keyless) entry included. @p where names
 * the node in messages. fn returns non-zero to stop.
 */
typedef int (*ntfs_index_fn)(void *arg, const ntfs_index_entry *e);
imgp_status ntfs_parse_index_node(imgp_ctx *ctx, const uint8_t *buf, size_t len, size_t node_off,
                                  const char *where, ntfs_index_fn fn, void *arg, bool *stopped);

/* ---- I/O helpers shared by the driver's files ---- */

/** Record an error "ntfs: <message>" and return @p st. */
imgp_status ntfs_fail(ntfs_fs *fs, imgp_status st, const char *fmt, ...) IMGP_PRINTF(3, 4);

/** Load MFT record @p number as a file (its attribute list followed). */
imgp_status ntfs_inode_load(ntfs_fs *fs, uint64_t number, ntfs_inode *in);
void ntfs_inode_free(ntfs_fs *fs, ntfs_inode *in);

/** The first attribute of @p type named @p name (UTF-16LE, NULL: unnamed) with start_vcn 0, or NULL. */
const ntfs_attr *ntfs_inode_find(const ntfs_inode *in, uint32_t type, const uint8_t *name, size_t name_len);

/** Gather every extent of an attribute into a stream (IMGP_ERR_NOT_FOUND when absent). */
imgp_status ntfs_stream_open(ntfs_fs *fs, const ntfs_inode *in, uint32_t type, const uint8_t *name,
                             size_t name_len, ntfs_stream *s);
void ntfs_stream_free(ntfs_fs *fs, ntfs_stream *s);

/** Read [off, off + len) of a stream; past its initialised size and in holes, zeros. */
imgp_status ntfs_stream_read(ntfs_fs *fs, uint64_t record, const ntfs_stream *s, uint64_t off, uint8_t *buf,
                             size_t len);

imgp_status ntfs_readdir(imgp_fs *fs, imgp_ino dir, imgp_readdir_fn fn, void *arg);
imgp_status ntfs_lookup(imgp_fs *fs, imgp_ino dir, const char *name, size_t len, imgp_ino *out);

/** UTF-16LE (@p units) to UTF-8 in @p out (cap bytes, NUL-terminated; lone surrogates as U+FFFD). */
size_t ntfs_utf16_to_utf8(const uint8_t *s, size_t units, char *out, size_t cap);

/** The built-in upper-case table used when $UpCase cannot be read (ASCII, Latin-1, Greek, Cyrillic). */
uint16_t ntfs_upcase_builtin(uint16_t c);

#endif
