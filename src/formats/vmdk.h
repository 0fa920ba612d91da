/*
 * VMDK parsers, internal to libimgprobe: each takes a byte buffer of known
 * length and checks it with no I/O, so unit tests and fuzzers call them
 * directly. src/formats/vmdk.c reads the bytes, opens the extent files and
 * assembles the device.
 */
#ifndef IMGP_VMDK_H
#define IMGP_VMDK_H

#include "format.h"
#include "vmdk_disk.h"

/* Largest grain we read: 1 GiB (2^21 sectors), the bound qemu also sets.
 * VMware writes 64 KiB. */
#define VMDK_MAX_GRAIN_SECTORS (UINT64_C(1) << 21)

/* Most entries in one grain table: 65536 (a 256 KiB table). VMware writes
 * 512 and qemu refuses more than 512; the layout stays well defined above. */
#define VMDK_MAX_GTES_PER_GT 65536u

/* ---- the text descriptor ("The Descriptor File") ---- */

typedef enum vmdk_access {
    VMDK_ACCESS_RW,
    VMDK_ACCESS_RDONLY,
    VMDK_ACCESS_NOACCESS,
} vmdk_access;

typedef enum vmdk_extent_type {
    VMDK_EXTENT_SPARSE,     /* hosted sparse extent file (KDMV) */
    VMDK_EXTENT_FLAT,       /* plain data from an offset of a file */
    VMDK_EXTENT_ZERO,       /* no file: reads as zeros */
    VMDK_EXTENT_VMFS,       /* ESX flat data file: as FLAT */
    VMDK_EXTENT_VMFSSPARSE, /* ESX delta (COWD, or KDMV) */
    VMDK_EXTENT_SESPARSE,   /* ESXi seSparse: recognised, not read */
    VMDK_EXTENT_VMFSRDM,    /* raw device mapping: recognised, not read */
    VMDK_EXTENT_VMFSRAW,    /* raw device: recognised, not read */
} vmdk_extent_type;

typedef struct vmdk_desc_extent {
    vmdk_access access;
    vmdk_extent_type type;
    uint64_t sectors;  /* > 0; sectors * 512 does not overflow */
    uint64_t offset;   /* sectors into the file (FLAT, VMFS); 0 otherwise */
    char *filename;    /* NUL-terminated; NULL only for ZERO extents without one */
    unsigned line;     /* 1-based line of the descriptor, for messages */
} vmdk_desc_extent;

/* What the descriptor says. Strings are NUL-terminated and owned (NULL when absent). */
typedef struct vmdk_descriptor {
    bool has_version, has_cid, has_parent_cid;
    uint32_t version;
    uint32_t cid;        /* content id, changed by every writer session */
    uint32_t parent_cid; /* the parent's CID when this delta was made; ffffffff: none */
    char *create_type;
    char *parent_hint;   /* parentFileNameHint */
    char *encoding;      /* encoding, or else ddb.encoding */
    char *adapter_type;  /* ddb.adapterType */
    char *hw_version;    /* ddb.virtualHWVersion */
    char *uuid;          /* ddb.uuid */
    size_t nextents;
    vmdk_desc_extent *extents;
    uint64_t total_sectors; /* sum of the extents' sectors; * 512 does not overflow */
} vmdk_descriptor;

/**
 * Parse a text descriptor of @p len bytes (a descriptor file, or the
 * descriptor area of a sparse extent: trailing NUL padding is allowed, other
 * NUL or control bytes are not). Lines end in LF or CRLF.
 * @param label  names the descriptor in messages ("vmdk: descriptor").
 * @return IMGP_ERR_LIMIT above IMGP_LIMIT_DESCRIPTOR_BYTES or
 *         IMGP_LIMIT_EXTENTS; IMGP_ERR_CORRUPT for malformed text;
 *         IMGP_ERR_UNSUPPORTED for an unknown extent type. On failure @p out
 *         is left empty (nothing to free).
 */
imgp_status vmdk_desc_parse(imgp_ctx *ctx, const char *label, const uint8_t *buf, size_t len,
                            vmdk_descriptor *out);

/** Free what vmdk_desc_parse() allocated; @p d is left empty. */
void vmdk_desc_free(imgp_ctx *ctx, vmdk_descriptor *d);

/** @return the descriptor's name of @p type ("SPARSE"...). */
const char *vmdk_extent_type_name(vmdk_extent_type type);

/* ---- the hosted sparse extent header ---- */

typedef struct vmdk_sparse_header {
    uint32_t version;
    uint32_t flags;
    uint64_t capacity;      /* sectors */
    uint64_t grain_sectors; /* a power of two, 1..VMDK_MAX_GRAIN_SECTORS */
    unsigned grain_shift;   /* log2(grain bytes) */
    uint64_t desc_offset;   /* sectors; 0: no embedded descriptor */
    uint64_t desc_size;     /* sectors */
    uint32_t gtes_per_gt;   /* 1..VMDK_MAX_GTES_PER_GT */
    uint64_t rgd_offset;    /* sectors; checked only when used */
    uint64_t gd_offset;     /* sectors, or VMDK_GD_AT_END */
    uint64_t overhead;      /* sectors */
    bool unclean_shutdown;
    uint16_t compress_algorithm;
    uint64_t gd_entries;    /* grain tables that map the capacity */
    bool compressed;        /* compress_algorithm is deflate */
    bool markers;           /* flags has VMDK_FLAG_MARKERS */
} vmdk_sparse_header;

/**
 * Parse a sparse extent header (the first sector of the extent, or its footer
 * copy when @p footer) of a file of @p file_size bytes: magic, version 1..3,
 * newline check bytes (when flagged), grain size, grain table size,
 * compression, and that the descriptor, the grain directory (unless at the
 * end) and the overhead lie inside the file. The grain directory's size
 * (gd_entries * 4) must fit IMGP_LIMIT_TABLE_BYTES.
 * @param label  names the extent in messages ("vmdk", "vmdk: extent file 'x'").
 */
imgp_status vmdk_sparse_header_parse(imgp_ctx *ctx, const char *label, const uint8_t *buf, size_t len,
                                     uint64_t file_size, bool footer, vmdk_sparse_header *out);

/* ---- grain table entries ---- */

typedef enum vmdk_grain_kind {
    VMDK_GRAIN_UNALLOCATED, /* GTE 0 (or GDE 0): the parent's data, or zeros */
    VMDK_GRAIN_ZEROED,      /* GTE 1: zeros, whatever the parent holds */
    VMDK_GRAIN_DATA,        /* the grain is at *sector of the extent file */
} vmdk_grain_kind;

/**
 * Decode a grain table entry. GTE 1 is the zeroed-grain marker of version 2
 * extents; it is read as zeros in every version, because sector 1 of an
 * extent is always header or descriptor space, never a grain.
 */
vmdk_grain_kind vmdk_gte_decode(uint32_t gte, uint64_t *sector);

/* ---- stream-optimized markers ---- */

typedef struct vmdk_marker {
    uint64_t val;  /* a grain's lba; or the sectors of metadata that follow */
    uint32_t size; /* compressed bytes of a grain; 0 for the other markers */
    uint32_t type; /* VMDK_MARKER_* when size is 0 */
} vmdk_marker;

/**
 * Parse a marker: val and size from its first VMDK_GRAIN_MARKER_DATA bytes,
 * type too when @p len reaches VMDK_MARKER_HEAD (a grain marker has none: its
 * data starts there). @return false when @p len is shorter than 12.
 */
bool vmdk_marker_parse(const uint8_t *buf, size_t len, vmdk_marker *out);

#endif
