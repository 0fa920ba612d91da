/*
 * QCOW2 parsing, separate from I/O: each function reads a byte buffer of
 * known length (through the bounded cursor) or plain values, checks it, and
 * fills a struct. The reader (qcow2.c) uses exactly these; unit tests and
 * fuzzers call them directly. Errors are recorded on @p ctx with a message
 * that starts "qcow2: " and names the structure, offset and values.
 */
#ifndef IMGP_QCOW2_H
#define IMGP_QCOW2_H

#include "format.h"
#include "qcow2_disk.h"

/* The header fields [Header], with version 2 defaults filled in. */
typedef struct qcow2_header {
    uint32_t version;
    uint64_t backing_file_offset; /* 0: no backing file */
    uint32_t backing_file_size;
    uint32_t cluster_bits;
    uint64_t size; /* virtual size, bytes */
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t refcount_table_offset;
    uint32_t refcount_table_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    uint32_t refcount_order;
    uint32_t header_length;   /* 72 for version 2 */
    uint8_t compression_type; /* QCOW2_COMPRESSION_ZLIB when absent */
} qcow2_header;

/*
 * What the header extensions said. Pointers point into the buffer given to
 * qcow2_parse_extensions() and live as long as it does; strings are not
 * NUL-terminated (use the lengths).
 */
typedef struct qcow2_extensions {
    const uint8_t *backing_format; /* NULL: absent */
    size_t backing_format_len;
    const uint8_t *data_file; /* NULL: absent */
    size_t data_file_len;
    const uint8_t *feature_table; /* entries of QCOW2_FEATURE_ENTRY_SIZE */
    size_t feature_count;
    bool has_crypto_header;
    uint64_t crypto_offset, crypto_length;
    bool has_bitmaps;
    size_t unknown_count; /* extensions of types not known here, skipped */
} qcow2_extensions;

/**
 * Parse and check the header at the start of @p buf (the image's first
 * cluster, or at least the first header_length bytes of it): magic, version
 * 2 or 3, cluster_bits 9..21, header_length (v3: 104..cluster size), the
 * backing file name's place (inside the first cluster and @p len, at most
 * 1023 bytes), crypt_method 0..2, refcount_order, a virtual size below 2^63
 * and an L1 table that covers it within IMGP_LIMIT_TABLE_BYTES.
 * Feature bits are checked by qcow2_check_features().
 */
imgp_status qcow2_parse_header(imgp_ctx *ctx, const uint8_t *buf, size_t len, qcow2_header *out);

/**
 * Walk the header extensions of @p buf (the first cluster, zero-filled past
 * the end of the file) from the end of the header to the backing file name,
 * or to the end of the cluster when there is none [Header extensions]. Each
 * length is checked against that end; unknown types are skipped.
 */
imgp_status qcow2_parse_extensions(imgp_ctx *ctx, const uint8_t *buf, size_t len, const qcow2_header *h,
                                   qcow2_extensions *out);

/**
 * The name the feature name table gives to bit @p bit of the feature bitmap
 * @p type (QCOW2_FEATURE_TYPE_*), copied into @p name with unprintable bytes
 * replaced. @return false when the table has none.
 */
bool qcow2_feature_name(const qcow2_extensions *ext, unsigned type, unsigned bit,
                        char name[QCOW2_FEATURE_NAME_SIZE + 1]);

/**
 * Check the feature bits against what this reader handles: unknown
 * incompatible bits are IMGP_ERR_UNSUPPORTED naming each bit (and its name
 * from the feature table); the compression type, extended L2 entries and the
 * external data file are checked for consistency with the other fields.
 */
imgp_status qcow2_check_features(imgp_ctx *ctx, const qcow2_header *h, const qcow2_extensions *ext);

/** Header, extensions and features of the first cluster in one call, as the reader does it. */
imgp_status qcow2_parse_first_cluster(imgp_ctx *ctx, const uint8_t *buf, size_t len, qcow2_header *h,
                                      qcow2_extensions *ext);

/**
 * Check that the L1, refcount and snapshot tables are cluster-aligned and lie
 * inside a file of @p file_size bytes.
 */
imgp_status qcow2_check_layout(imgp_ctx *ctx, const qcow2_header *h, uint64_t file_size);

/* The shape of the cluster mapping, derived from a checked header. */
typedef struct qcow2_geometry {
    unsigned cluster_bits;
    uint64_t cluster_size;
    bool extended_l2;
    unsigned l2_entry_size;   /* 8, or 16 with extended L2 entries */
    unsigned l2_bits;         /* log2 of the entries of one L2 table */
    unsigned subcluster_bits; /* log2 of the subcluster size (cluster_bits without extended L2) */
    unsigned subclusters;     /* per cluster: 1, or 32 with extended L2 entries */
    bool zero_flag;           /* version 3: standard entries may read as zeros */
    bool external_data;       /* guest clusters live in the external data file */
    uint64_t data_size;       /* bytes of the file that holds the guest clusters */
} qcow2_geometry;

void qcow2_geometry_init(qcow2_geometry *g, const qcow2_header *h, uint64_t data_size);

/*
 * One decoded L2 entry. Subcluster i (0 <= i < subclusters) is: the whole
 * cluster compressed when `compressed`; else data at host_offset + (i <<
 * subcluster_bits) when bit i of data_mask is set; else zeros when bit i of
 * zero_mask is set; else unallocated (read from the backing file).
 */
typedef struct qcow2_mapping {
    bool compressed;
    uint64_t host_offset;     /* standard: the host cluster; compressed: the first byte */
    uint64_t compressed_size; /* compressed: bytes from host_offset to the end of the last sector */
    uint32_t data_mask;
    uint32_t zero_mask;
} qcow2_mapping;

/**
 * Decode the L2 entry (and, with extended L2 entries, its subcluster bitmap)
 * of the guest cluster at @p guest_offset. Refuses, as IMGP_ERR_CORRUPT
 * naming the guest and host offsets: misaligned host clusters, data past the
 * end of the data file, the zero flag in version 2, compressed clusters with
 * an external data file or a non-zero bitmap, host offsets that do not match
 * the guest offset in an external data file, and the bitmap combinations
 * [Extended L2 Entries] forbids.
 */
imgp_status qcow2_decode_l2_entry(imgp_ctx *ctx, const qcow2_geometry *g, uint64_t guest_offset, uint64_t entry,
                                  uint64_t bitmap, qcow2_mapping *out);

/* One internal snapshot [Snapshots]; id and name point into the parsed buffer. */
typedef struct qcow2_snapshot_entry {
    uint64_t l1_table_offset;
    uint32_t l1_size;
    uint64_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t vm_state_size;
    uint64_t disk_size; /* 0 when the extra data does not carry it */
    const uint8_t *id;
    size_t id_len;
    const uint8_t *name;
    size_t name_len;
} qcow2_snapshot_entry;

/**
 * From the fixed part of a snapshot table entry (@p len >= 40), the length of
 * the whole entry without its trailing padding. Extra data above 1024 bytes
 * is refused, as qemu does.
 */
imgp_status qcow2_snapshot_entry_length(imgp_ctx *ctx, const uint8_t *buf, size_t len, size_t *entry_len);

/** Parse one whole snapshot table entry (as long as qcow2_snapshot_entry_length() said). */
imgp_status qcow2_parse_snapshot_entry(imgp_ctx *ctx, const uint8_t *buf, size_t len, qcow2_snapshot_entry *out);

#endif
