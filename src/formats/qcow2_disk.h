/*
 * QCOW2 on-disk layout, from qemu's docs/interop/qcow2.txt (the sections are
 * named in brackets). Every number is big-endian. Offsets are in bytes from
 * the start of the structure; sizes in bytes.
 */
#ifndef IMGP_QCOW2_DISK_H
#define IMGP_QCOW2_DISK_H

/* ---- Header [Header] ---- */
#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */

#define QCOW2_HDR_MAGIC 0                    /* 4: QCOW2_MAGIC */
#define QCOW2_HDR_VERSION 4                  /* 4: 2 or 3 */
#define QCOW2_HDR_BACKING_FILE_OFFSET 8      /* 8: name of the backing file, 0: none */
#define QCOW2_HDR_BACKING_FILE_SIZE 16       /* 4: its length, not NUL-terminated, <= 1023 */
#define QCOW2_HDR_CLUSTER_BITS 20            /* 4: log2 of the cluster size, >= 9 */
#define QCOW2_HDR_SIZE 24                    /* 8: virtual disk size in bytes */
#define QCOW2_HDR_CRYPT_METHOD 32            /* 4: QCOW2_CRYPT_* */
#define QCOW2_HDR_L1_SIZE 36                 /* 4: entries of the active L1 table */
#define QCOW2_HDR_L1_TABLE_OFFSET 40         /* 8: cluster-aligned */
#define QCOW2_HDR_REFCOUNT_TABLE_OFFSET 48   /* 8: cluster-aligned */
#define QCOW2_HDR_REFCOUNT_TABLE_CLUSTERS 56 /* 4 */
#define QCOW2_HDR_NB_SNAPSHOTS 60            /* 4 */
#define QCOW2_HDR_SNAPSHOTS_OFFSET 64        /* 8: cluster-aligned */
#define QCOW2_HDR_V2_LENGTH 72               /* version 2 ends here */
/* version 3 and later */
#define QCOW2_HDR_INCOMPATIBLE_FEATURES 72   /* 8: QCOW2_INCOMPAT_* */
#define QCOW2_HDR_COMPATIBLE_FEATURES 80     /* 8: QCOW2_COMPAT_* */
#define QCOW2_HDR_AUTOCLEAR_FEATURES 88      /* 8: QCOW2_AUTOCLEAR_* */
#define QCOW2_HDR_REFCOUNT_ORDER 96          /* 4: refcount_bits = 1 << order, order <= 6 */
#define QCOW2_HDR_HEADER_LENGTH 100          /* 4: >= 104 */
#define QCOW2_HDR_V3_MIN_LENGTH 104
/* [Additional fields]: present when header_length is larger than the offset */
#define QCOW2_HDR_COMPRESSION_TYPE 104       /* 1: QCOW2_COMPRESSION_* */

#define QCOW2_MIN_CLUSTER_BITS 9             /* [Header] cluster_bits: at least 512 bytes */
#define QCOW2_MAX_CLUSTER_BITS 21            /* qemu's implementation limit: 2 MiB */
#define QCOW2_MIN_CLUSTER_BITS_EXTENDED_L2 14 /* [Header] cluster_bits note */
#define QCOW2_MAX_BACKING_FILE_SIZE 1023     /* [Header] backing_file_size */
#define QCOW2_MAX_REFCOUNT_ORDER 6           /* [Header] refcount_order */
#define QCOW2_V2_REFCOUNT_ORDER 4

#define QCOW2_CRYPT_NONE 0
#define QCOW2_CRYPT_AES 1
#define QCOW2_CRYPT_LUKS 2

/* incompatible_features [Header] */
#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTENDED_L2 (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN 0x1full

/* compatible_features [Header] */
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)

/* autoclear_features [Header] */
#define QCOW2_AUTOCLEAR_BITMAPS (1ull << 0)
#define QCOW2_AUTOCLEAR_DATA_FILE_RAW (1ull << 1)

/* compression_type [Additional fields] */
#define QCOW2_COMPRESSION_ZLIB 0
#define QCOW2_COMPRESSION_ZSTD 1

/* ---- Header extensions [Header extensions] ---- */
#define QCOW2_EXT_TYPE 0 /* 4 */
#define QCOW2_EXT_LENGTH 4 /* 4: of the data, which is padded to a multiple of 8 */
#define QCOW2_EXT_HEADER_SIZE 8

#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_EXT_BITMAPS 0x23852875u
#define QCOW2_EXT_CRYPTO_HEADER 0x0537be77u
#define QCOW2_EXT_DATA_FILE 0x44415441u

/* [Feature name table]: entries of 48 bytes */
#define QCOW2_FEATURE_TYPE 0 /* 1: QCOW2_FEATURE_TYPE_* */
#define QCOW2_FEATURE_BIT 1  /* 1: 0..63 */
#define QCOW2_FEATURE_NAME 2 /* 46: zero-padded, not always NUL-terminated */
#define QCOW2_FEATURE_NAME_SIZE 46
#define QCOW2_FEATURE_ENTRY_SIZE 48
#define QCOW2_FEATURE_TYPE_INCOMPATIBLE 0
#define QCOW2_FEATURE_TYPE_COMPATIBLE 1
#define QCOW2_FEATURE_TYPE_AUTOCLEAR 2

/* [Full disk encryption header pointer] */
#define QCOW2_CRYPTO_EXT_OFFSET 0 /* 8 */
#define QCOW2_CRYPTO_EXT_LENGTH 8 /* 8 */
#define QCOW2_CRYPTO_EXT_SIZE 16

/* backing format names are short: qemu keeps them in a 16-byte buffer */
#define QCOW2_MAX_BACKING_FORMAT_SIZE 15

/* ---- Cluster mapping [Cluster mapping] ---- */
#define QCOW2_L1_ENTRY_SIZE 8
#define QCOW2_L1_OFFSET_MASK 0x00fffffffffffe00ull /* bits 9-55: the L2 table */

#define QCOW2_L2_ENTRY_SIZE 8           /* standard entries */
#define QCOW2_L2_ENTRY_SIZE_EXTENDED 16 /* [Extended L2 Entries]: entry + subcluster bitmap */
#define QCOW2_L2_COPIED (1ull << 63)    /* refcount is exactly one */
#define QCOW2_L2_COMPRESSED (1ull << 62)
#define QCOW2_L2_ZERO (1ull << 0)       /* [Standard Cluster Descriptor] bit 0, v3 only */
#define QCOW2_L2_OFFSET_MASK 0x00fffffffffffe00ull /* bits 9-55: the host cluster */
#define QCOW2_HOST_OFFSET_LIMIT_BITS 56 /* host offsets live below 64 PB */

/* [Compressed Clusters Descriptor]: x = 62 - (cluster_bits - 8) */
#define QCOW2_COMPRESSED_SECTOR_SIZE 512

/* [Extended L2 Entries]: bits 0-31 allocated, bits 32-63 reads as zeros */
#define QCOW2_SUBCLUSTERS 32

/* ---- Snapshots [Snapshots] ---- */
#define QCOW2_SN_L1_TABLE_OFFSET 0 /* 8 */
#define QCOW2_SN_L1_SIZE 8         /* 4 */
#define QCOW2_SN_ID_SIZE 12        /* 2 */
#define QCOW2_SN_NAME_SIZE 14      /* 2 */
#define QCOW2_SN_DATE_SEC 16       /* 4 */
#define QCOW2_SN_DATE_NSEC 20      /* 4 */
#define QCOW2_SN_VM_CLOCK_NSEC 24  /* 8 */
#define QCOW2_SN_VM_STATE_SIZE 32  /* 4 */
#define QCOW2_SN_EXTRA_DATA_SIZE 36 /* 4 */
#define QCOW2_SN_FIXED_SIZE 40
/* extra data, offsets from the start of the entry, present when long enough */
#define QCOW2_SN_EXTRA_VM_STATE_SIZE 40 /* 8: replaces the 32-bit field */
#define QCOW2_SN_EXTRA_DISK_SIZE 48     /* 8 */
#define QCOW2_SN_ALIGN 8
#define QCOW2_SN_MAX_EXTRA_DATA 1024    /* qemu's QCOW_MAX_SNAPSHOT_EXTRA_DATA */

#endif
