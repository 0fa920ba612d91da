/*
 * NTFS on-disk layout. Microsoft documents part of it ([MS-FSCC] "File System
 * Control Codes": reparse buffers, file attributes, WOF); the rest is the
 * Linux-NTFS project's "NTFS Documentation" (Richard Russon, Yuval Fledel;
 * the layout.h of ntfs-3g follows it), cited below as [NTFSDOC] with the
 * chapter name. Every multi-byte field is little-endian. Offsets are bytes
 * from the start of the structure.
 *
 *   [ boot sector ][ ... ][ $MFT: records of 1 KiB (usually), record 0 is
 *   $MFT itself ][ ... ][ backup boot sector: the sector after the volume ]
 */
#ifndef IMGP_NTFS_DISK_H
#define IMGP_NTFS_DISK_H

/* ---- [NTFSDOC] "$Boot": the boot sector (BIOS parameter block) ---- */
#define NTFS_BOOT_SIZE 512u
#define NTFS_BOOT_OEM_ID 0x03u              /* 8: "NTFS    " */
#define NTFS_BOOT_BYTES_PER_SECTOR 0x0Bu    /* 2: 256..4096, a power of two */
#define NTFS_BOOT_SECTORS_PER_CLUSTER 0x0Du /* 1: 1..128; 0xF4..0xFF: 2^(256 - v) (large clusters) */
#define NTFS_BOOT_RESERVED_SECTORS 0x0Eu    /* 2: always 0 */
#define NTFS_BOOT_FATS 0x10u                /* 1: always 0 */
#define NTFS_BOOT_ROOT_ENTRIES 0x11u        /* 2: always 0 */
#define NTFS_BOOT_SECTORS16 0x13u           /* 2: always 0 */
#define NTFS_BOOT_MEDIA 0x15u               /* 1: 0xF8 */
#define NTFS_BOOT_SECTORS_PER_FAT 0x16u     /* 2: always 0 */
#define NTFS_BOOT_SECTORS32 0x20u           /* 4: always 0 */
#define NTFS_BOOT_TOTAL_SECTORS 0x28u       /* 8: sectors in the volume (the backup boot sector excluded) */
#define NTFS_BOOT_MFT_LCN 0x30u             /* 8: first cluster of $MFT */
#define NTFS_BOOT_MFTMIRR_LCN 0x38u         /* 8: first cluster of $MFTMirr */
#define NTFS_BOOT_CLUSTERS_PER_RECORD 0x40u /* 1, signed: > 0 clusters; < 0: 2^-v bytes */
#define NTFS_BOOT_CLUSTERS_PER_INDEX 0x44u  /* 1, signed: the same encoding for index blocks */
#define NTFS_BOOT_SERIAL 0x48u              /* 8: volume serial number */
#define NTFS_BOOT_SIGNATURE 0x1FEu          /* 2: 0xAA55 */

#define NTFS_OEM "NTFS    "
#define NTFS_BOOT_MAGIC 0xAA55u
#define NTFS_MIN_SECTOR 256u
#define NTFS_MAX_SECTOR 4096u
#define NTFS_MAX_CLUSTER (2u << 20) /* 2 MiB: the largest cluster Windows formats */
#define NTFS_MIN_RECORD 256u
#define NTFS_MAX_RECORD 65536u
#define NTFS_MIN_INDEX_BLOCK 256u
#define NTFS_MAX_INDEX_BLOCK 65536u

/* ---- [NTFSDOC] "Fixup": multi-sector structures (MFT records, index blocks) ----
 * The last two bytes of every 512-byte stride are replaced on disk by the
 * update sequence number; the array after the header keeps the originals. */
#define NTFS_FIXUP_STRIDE 512u
#define NTFS_MULTI_MAGIC 0x00u   /* 4: "FILE", "INDX" ("BAAD": an incomplete multi-sector write) */
#define NTFS_MULTI_USA_OFS 0x04u /* 2: offset of the update sequence array */
#define NTFS_MULTI_USA_COUNT 0x06u /* 2: 1 + the number of strides */

/* ---- [NTFSDOC] "MFT record" (FILE record header) ---- */
#define NTFS_REC_LSN 0x08u             /* 8: $LogFile sequence number */
#define NTFS_REC_SEQUENCE 0x10u        /* 2: sequence number (bumped when the record is reused) */
#define NTFS_REC_LINK_COUNT 0x12u      /* 2: hard links (every $FILE_NAME, DOS names included) */
#define NTFS_REC_ATTRS_OFFSET 0x14u    /* 2: offset of the first attribute */
#define NTFS_REC_FLAGS 0x16u           /* 2: NTFS_REC_IN_USE... */
#define NTFS_REC_BYTES_IN_USE 0x18u    /* 4: used size of the record */
#define NTFS_REC_BYTES_ALLOCATED 0x1Cu /* 4: the record size */
#define NTFS_REC_BASE_REF 0x20u        /* 8: base record of an extension record, else 0 */
#define NTFS_REC_NEXT_ATTR_ID 0x28u    /* 2 */
#define NTFS_REC_HEADER_MIN 0x2Au      /* NTFS 3.0 header size; 3.1 adds 0x2C: record number (4) */

#define NTFS_REC_IN_USE 0x0001u
#define NTFS_REC_DIRECTORY 0x0002u /* has a $I30 index */

/* A file reference ("MFT_REF"): the record number in the low 48 bits, the sequence number above. */
#define NTFS_REF_RECORD(r) ((r) & 0xFFFFFFFFFFFFull)
#define NTFS_REF_SEQUENCE(r) ((uint16_t)((r) >> 48))

/* [NTFSDOC] "Files": the system files' record numbers */
#define NTFS_MFT_RECORD 0u
#define NTFS_VOLUME_RECORD 3u
#define NTFS_ROOT_RECORD 5u
#define NTFS_UPCASE_RECORD 10u
#define NTFS_FIRST_USER_RECORD 16u /* records below are the system's ($MFT ... $Extend and reserved) */

/* ---- [NTFSDOC] "Attribute header" ---- */
#define NTFS_ATTR_TYPE 0x00u        /* 4: NTFS_AT_*; 0xFFFFFFFF ends the list */
#define NTFS_ATTR_LENGTH 0x04u      /* 4: whole attribute, a multiple of 8 */
#define NTFS_ATTR_NON_RESIDENT 0x08u /* 1 */
#define NTFS_ATTR_NAME_LENGTH 0x09u /* 1: in UTF-16 units */
#define NTFS_ATTR_NAME_OFFSET 0x0Au /* 2 */
#define NTFS_ATTR_FLAGS 0x0Cu       /* 2: NTFS_ATTR_COMPRESSED... */
#define NTFS_ATTR_INSTANCE 0x0Eu    /* 2: attribute id, unique within the record */
/* resident */
#define NTFS_ATTR_VALUE_LENGTH 0x10u /* 4 */
#define NTFS_ATTR_VALUE_OFFSET 0x14u /* 2 */
#define NTFS_ATTR_RESIDENT_HEADER 0x18u
/* non-resident */
#define NTFS_ATTR_START_VCN 0x10u       /* 8: first cluster of the attribute this extent maps */
#define NTFS_ATTR_LAST_VCN 0x18u        /* 8: last cluster it maps */
#define NTFS_ATTR_RUNS_OFFSET 0x20u     /* 2: offset of the mapping pairs (data runs) */
#define NTFS_ATTR_COMPRESSION_UNIT 0x22u /* 1: log2 of clusters per compression unit (4), or 0 */
#define NTFS_ATTR_ALLOCATED_SIZE 0x28u  /* 8 (meaningful in the first extent only) */
#define NTFS_ATTR_DATA_SIZE 0x30u       /* 8 */
#define NTFS_ATTR_INITIALIZED_SIZE 0x38u /* 8: bytes past it read as zeros */
#define NTFS_ATTR_NON_RESIDENT_HEADER 0x40u

#define NTFS_ATTR_END 0xFFFFFFFFu
#define NTFS_ATTR_COMPRESSED 0x0001u
#define NTFS_ATTR_ENCRYPTED 0x4000u
#define NTFS_ATTR_SPARSE 0x8000u
#define NTFS_COMPRESSION_UNIT_LOG 4u /* 16 clusters: the only unit Windows writes */
#define NTFS_MAX_COMPRESSED_CLUSTER 4096u /* Windows compresses only with clusters up to 4 KiB */

/* [NTFSDOC] "Attributes": types */
#define NTFS_AT_STANDARD_INFORMATION 0x10u
#define NTFS_AT_ATTRIBUTE_LIST 0x20u
#define NTFS_AT_FILE_NAME 0x30u
#define NTFS_AT_VOLUME_NAME 0x60u
#define NTFS_AT_VOLUME_INFORMATION 0x70u
#define NTFS_AT_DATA 0x80u
#define NTFS_AT_INDEX_ROOT 0x90u
#define NTFS_AT_INDEX_ALLOCATION 0xA0u
#define NTFS_AT_BITMAP 0xB0u
#define NTFS_AT_REPARSE_POINT 0xC0u

/* ---- [NTFSDOC] "$ATTRIBUTE_LIST" entries ---- */
#define NTFS_AL_TYPE 0x00u        /* 4 */
#define NTFS_AL_LENGTH 0x04u      /* 2: entry length, a multiple of 8 */
#define NTFS_AL_NAME_LENGTH 0x06u /* 1: UTF-16 units */
#define NTFS_AL_NAME_OFFSET 0x07u /* 1 */
#define NTFS_AL_START_VCN 0x08u   /* 8 */
#define NTFS_AL_REF 0x10u         /* 8: the record holding the attribute */
#define NTFS_AL_INSTANCE 0x18u    /* 2 */
#define NTFS_AL_HEADER 0x1Au

/* ---- [NTFSDOC] "$STANDARD_INFORMATION" ---- */
#define NTFS_SI_CREATION 0x00u     /* 8: 100 ns since 1601-01-01 UTC */
#define NTFS_SI_MODIFICATION 0x08u /* 8 */
#define NTFS_SI_MFT_CHANGE 0x10u   /* 8 */
#define NTFS_SI_ACCESS 0x18u       /* 8 */
#define NTFS_SI_ATTRIBUTES 0x20u   /* 4: NTFS_FILE_ATTR_* */
#define NTFS_SI_MIN 0x30u          /* NTFS 1.2 size; 3.x has 0x48 */

/* [MS-FSCC] 2.6 "File Attributes" */
#define NTFS_FILE_ATTR_READONLY 0x00000001u
#define NTFS_FILE_ATTR_SYSTEM 0x00000004u
#define NTFS_FILE_ATTR_REPARSE_POINT 0x00000400u
#define NTFS_FILE_ATTR_COMPRESSED 0x00000800u
#define NTFS_FILE_ATTR_ENCRYPTED 0x00004000u
#define NTFS_FILE_ATTR_DIRECTORY_INDEX 0x10000000u /* [NTFSDOC]: in $FILE_NAME, the file has a $I30 index */

/* ---- [NTFSDOC] "$FILE_NAME" ---- */
#define NTFS_FN_PARENT 0x00u      /* 8: file reference of the directory */
#define NTFS_FN_ATTRIBUTES 0x38u  /* 4: NTFS_FILE_ATTR_* (as of the last name change) */
#define NTFS_FN_NAME_LENGTH 0x40u /* 1: UTF-16 units */
#define NTFS_FN_NAMESPACE 0x41u   /* 1: NTFS_NS_* */
#define NTFS_FN_NAME 0x42u
#define NTFS_NS_POSIX 0u       /* case-sensitive, any character but NUL and '/' */
#define NTFS_NS_WIN32 1u       /* the long name */
#define NTFS_NS_DOS 2u         /* the 8.3 short name of a file that also has a Win32 one */
#define NTFS_NS_WIN32_DOS 3u   /* a long name that is a valid 8.3 name too */

/* ---- [NTFSDOC] "$VOLUME_INFORMATION" ---- */
#define NTFS_VI_MAJOR 0x08u /* 1 */
#define NTFS_VI_MINOR 0x09u /* 1 */
#define NTFS_VI_FLAGS 0x0Au /* 2 */
#define NTFS_VI_SIZE 0x0Cu
#define NTFS_VOLUME_DIRTY 0x0001u

/* ---- [NTFSDOC] "$INDEX_ROOT", "$INDEX_ALLOCATION", "Index entry" ---- */
#define NTFS_IR_TYPE 0x00u             /* 4: attribute type indexed (0x30 for $I30) */
#define NTFS_IR_COLLATION 0x04u        /* 4: 1 = file names */
#define NTFS_IR_BLOCK_SIZE 0x08u       /* 4: bytes per index block */
#define NTFS_IR_CLUSTERS_PER_BLOCK 0x0Cu /* 1 */
#define NTFS_IR_NODE 0x10u             /* the index node header */
/* index node header (in the root and in each index block) */
#define NTFS_IH_ENTRIES_OFFSET 0x00u /* 4: from the node header */
#define NTFS_IH_INDEX_LENGTH 0x04u   /* 4: end of the last entry, from the node header */
#define NTFS_IH_ALLOCATED 0x08u      /* 4 */
#define NTFS_IH_FLAGS 0x0Cu          /* 1: 1 = entries have subnodes */
#define NTFS_IH_SIZE 0x10u
/* index block ("INDX") */
#define NTFS_IB_VCN 0x10u  /* 8: this block's VCN */
#define NTFS_IB_NODE 0x18u /* the index node header */
/* index entry */
#define NTFS_IE_REF 0x00u        /* 8: file reference */
#define NTFS_IE_LENGTH 0x08u     /* 2: a multiple of 8 */
#define NTFS_IE_KEY_LENGTH 0x0Au /* 2 */
#define NTFS_IE_FLAGS 0x0Cu      /* 2 */
#define NTFS_IE_KEY 0x10u        /* the key: a $FILE_NAME value in $I30 */
#define NTFS_IE_SUBNODE 0x01u    /* the last 8 bytes are the VCN of the child block */
#define NTFS_IE_LAST 0x02u       /* end of the node: no key */
#define NTFS_COLLATION_FILE_NAME 1u

/* ---- [MS-FSCC] 2.1.2 "Reparse Data Buffer" ---- */
#define NTFS_RP_TAG 0x00u         /* 4 */
#define NTFS_RP_DATA_LENGTH 0x04u /* 2 */
#define NTFS_RP_DATA 0x08u
/* 2.1.2.4 symbolic link and 2.1.2.5 mount point: offsets inside the data */
#define NTFS_RP_SUBST_OFFSET 0x00u /* 2: in the path buffer */
#define NTFS_RP_SUBST_LENGTH 0x02u /* 2: bytes */
#define NTFS_RP_PRINT_OFFSET 0x04u /* 2 */
#define NTFS_RP_PRINT_LENGTH 0x06u /* 2 */
#define NTFS_RP_SYMLINK_FLAGS 0x08u /* 4: symbolic links only; 1 = relative */
#define NTFS_RP_SYMLINK_PATHS 0x0Cu
#define NTFS_RP_MOUNT_POINT_PATHS 0x08u
#define NTFS_SYMLINK_RELATIVE 0x1u
/* [MS-FSCC] 2.1.2.1 tags */
#define NTFS_TAG_MOUNT_POINT 0xA0000003u
#define NTFS_TAG_SYMLINK 0xA000000Cu
#define NTFS_TAG_WOF 0x80000017u
#define NTFS_TAG_DEDUP 0x80000013u
#define NTFS_TAG_LX_SYMLINK 0xA000001Du
/* WOF ("Windows Overlay Filter"): WOF_EXTERNAL_INFO then FILE_PROVIDER_EXTERNAL_INFO_V1 */
#define NTFS_WOF_VERSION 0x00u   /* 4: 1 */
#define NTFS_WOF_PROVIDER 0x04u  /* 4: 2 = file provider (CompactOS) */
#define NTFS_WOF_FP_VERSION 0x08u /* 4: 1 */
#define NTFS_WOF_ALGORITHM 0x0Cu /* 4: 0 XPRESS4K, 1 LZX, 2 XPRESS8K, 3 XPRESS16K */
#define NTFS_WOF_PROVIDER_FILE 2u
#define NTFS_WOF_STREAM "WofCompressedData"

/* ---- LZNT1 ([MS-XCA] 2.5): chunks of 4 KiB, each with a 2-byte header ---- */
#define NTFS_LZNT1_CHUNK 4096u
#define NTFS_LZNT1_SIZE_MASK 0x0FFFu  /* chunk bytes after the header, minus 1 */
#define NTFS_LZNT1_COMPRESSED 0x8000u /* else the chunk is stored (4096 bytes) */

/* ---- the Interix symbolic links that ntfs-3g writes by default (a system file) ---- */
#define NTFS_INTX_SYMLINK "IntxLNK\1"

/* hiberfil.sys: its first four bytes ("Windows Hibernation File Format", not documented by Microsoft) */
#define NTFS_HIBERFIL "hiberfil.sys"

#endif
