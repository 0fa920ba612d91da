/*
 * XFS on-disk layout: offsets and sizes of the fields imgprobe reads. All
 * values are big-endian except the CRCs (little-endian, stored inverted).
 * Sections refer to the "XFS Algorithms & Data Structures" book
 * (xfs-documentation, design/XFS_Filesystem_Structure, 3rd edition); the
 * names are the kernel's (fs/xfs/libxfs/xfs_format.h, xfs_da_format.h,
 * xfs_log_format.h).
 */
#ifndef IMGP_XFS_DISK_H
#define IMGP_XFS_DISK_H

#define XFS_BASIC_BLOCK 512u /* "Sector size": the unit of daddr and of the log */

/* ---- superblock ("Superblocks"), sector 0 of each AG ---- */
#define XFS_SB_MAGIC 0x58465342u  /* "XFSB" */
#define XFS_SB_MAGICNUM 0         /* 4 */
#define XFS_SB_BLOCKSIZE 4        /* 4 */
#define XFS_SB_DBLOCKS 8          /* 8 data blocks */
#define XFS_SB_RBLOCKS 16         /* 8 realtime blocks */
#define XFS_SB_UUID 32            /* 16 */
#define XFS_SB_LOGSTART 48        /* 8 fsblock of an internal log, 0 when external */
#define XFS_SB_ROOTINO 56         /* 8 */
#define XFS_SB_AGBLOCKS 84        /* 4 */
#define XFS_SB_AGCOUNT 88         /* 4 */
#define XFS_SB_LOGBLOCKS 96       /* 4 */
#define XFS_SB_VERSIONNUM 100     /* 2 */
#define XFS_SB_SECTSIZE 102       /* 2 */
#define XFS_SB_INODESIZE 104      /* 2 */
#define XFS_SB_INOPBLOCK 106      /* 2 */
#define XFS_SB_FNAME 108          /* 12 label, NUL-padded */
#define XFS_SB_BLOCKLOG 120       /* 1 */
#define XFS_SB_SECTLOG 121        /* 1 */
#define XFS_SB_INODELOG 122       /* 1 */
#define XFS_SB_INOPBLOG 123       /* 1 */
#define XFS_SB_AGBLKLOG 124       /* 1 log2(agblocks) rounded up */
#define XFS_SB_INPROGRESS 126     /* 1 mkfs did not finish */
#define XFS_SB_ICOUNT 128         /* 8 */
#define XFS_SB_FDBLOCKS 144       /* 8 free data blocks */
#define XFS_SB_DIRBLKLOG 192      /* 1 log2(directory block / fs block) */
#define XFS_SB_FEATURES2 200      /* 4 */
#define XFS_SB_BAD_FEATURES2 204  /* 4 a copy of features2 (an old alignment bug) */
#define XFS_SB_FEATURES_COMPAT 208      /* 4 v5 */
#define XFS_SB_FEATURES_RO_COMPAT 212   /* 4 v5 */
#define XFS_SB_FEATURES_INCOMPAT 216    /* 4 v5 */
#define XFS_SB_FEATURES_LOG_INCOMPAT 220 /* 4 v5 */
#define XFS_SB_CRC 224            /* 4 v5, over the first sector */
#define XFS_SB_META_UUID 248      /* 16 v5 with meta_uuid: the uuid stamped in metadata */
#define XFS_SB_V5_SIZE 264        /* the fields above; the CRC covers sb_sectsize bytes */

/* sb_versionnum: the version in the low nibble, feature bits above */
#define XFS_SB_VERSION_NUMBITS 0x000fu
#define XFS_SB_VERSION_4 4u
#define XFS_SB_VERSION_5 5u
#define XFS_SB_VERSION_ATTRBIT 0x0010u
#define XFS_SB_VERSION_NLINKBIT 0x0020u /* v2 inodes (32-bit link counts) */
#define XFS_SB_VERSION_QUOTABIT 0x0040u
#define XFS_SB_VERSION_ALIGNBIT 0x0080u
#define XFS_SB_VERSION_DALIGNBIT 0x0100u
#define XFS_SB_VERSION_SHAREDBIT 0x0200u
#define XFS_SB_VERSION_LOGV2BIT 0x0400u
#define XFS_SB_VERSION_SECTORBIT 0x0800u
#define XFS_SB_VERSION_EXTFLGBIT 0x1000u
#define XFS_SB_VERSION_DIRV2BIT 0x2000u
#define XFS_SB_VERSION_BORGBIT 0x4000u /* ASCII case-insensitive names */
#define XFS_SB_VERSION_MOREBITSBIT 0x8000u

/* sb_features2 (v4; on v5 the same bits are set for compatibility) */
#define XFS_SB_VERSION2_LAZYSBCOUNTBIT 0x0002u
#define XFS_SB_VERSION2_ATTR2BIT 0x0008u
#define XFS_SB_VERSION2_PARENTBIT 0x0010u
#define XFS_SB_VERSION2_PROJID32BIT 0x0080u
#define XFS_SB_VERSION2_CRCBIT 0x0100u
#define XFS_SB_VERSION2_FTYPE 0x0200u

/* v5 feature words ("Superblocks", sb_features_*) */
#define XFS_SB_FEAT_RO_COMPAT_FINOBT 0x1u
#define XFS_SB_FEAT_RO_COMPAT_RMAPBT 0x2u
#define XFS_SB_FEAT_RO_COMPAT_REFLINK 0x4u
#define XFS_SB_FEAT_RO_COMPAT_INOBTCNT 0x8u
#define XFS_SB_FEAT_INCOMPAT_FTYPE 0x1u
#define XFS_SB_FEAT_INCOMPAT_SPINODES 0x2u
#define XFS_SB_FEAT_INCOMPAT_META_UUID 0x4u
#define XFS_SB_FEAT_INCOMPAT_BIGTIME 0x8u
#define XFS_SB_FEAT_INCOMPAT_NEEDSREPAIR 0x10u
#define XFS_SB_FEAT_INCOMPAT_NREXT64 0x20u
#define XFS_SB_FEAT_INCOMPAT_EXCHRANGE 0x40u
#define XFS_SB_FEAT_INCOMPAT_PARENT 0x80u
#define XFS_SB_FEAT_INCOMPAT_METADIR 0x100u
#define XFS_SB_FEAT_INCOMPAT_ZONED 0x200u

#define XFS_MIN_BLOCKLOG 9
#define XFS_MAX_BLOCKLOG 16
#define XFS_MIN_SECTORLOG 9
#define XFS_MAX_SECTORLOG 15
#define XFS_MIN_INODELOG 8  /* 256 bytes; v4 allows 256 too */
#define XFS_MAX_INODELOG 11 /* 2048 */
#define XFS_MAX_DIRBLOCK (64u * 1024)
#define XFS_LABEL_LEN 12

/* ---- inodes ("On-disk Inode") ---- */
#define XFS_DINODE_MAGIC 0x494eu /* "IN" */
#define XFS_DI_MAGIC 0       /* 2 */
#define XFS_DI_MODE 2        /* 2 */
#define XFS_DI_VERSION 4     /* 1: 1, 2 or 3 */
#define XFS_DI_FORMAT 5      /* 1 data fork format */
#define XFS_DI_ONLINK 6      /* 2 link count of a v1 inode */
#define XFS_DI_UID 8         /* 4 */
#define XFS_DI_GID 12        /* 4 */
#define XFS_DI_NLINK 16      /* 4 v2+ */
#define XFS_DI_BIG_NEXTENTS 24 /* 8 data fork extents with nrext64 */
#define XFS_DI_ATIME 32      /* 8 "Timestamps" */
#define XFS_DI_MTIME 40      /* 8 */
#define XFS_DI_CTIME 48      /* 8 */
#define XFS_DI_SIZE 56       /* 8 */
#define XFS_DI_NBLOCKS 64    /* 8 */
#define XFS_DI_NEXTENTS 76   /* 4 data fork extents without nrext64 */
#define XFS_DI_FORKOFF 82    /* 1 attribute fork offset / 8, 0 when none */
#define XFS_DI_FLAGS 90      /* 2 */
#define XFS_DI_GEN 92        /* 4 */
#define XFS_DI_CORE_V2 100   /* v1/v2 core size: the data fork follows */
#define XFS_DI_CRC 100       /* 4 v3, little-endian, over the whole inode */
#define XFS_DI_FLAGS2 120    /* 8 v3 */
#define XFS_DI_INO 152       /* 8 v3 the inode's own number */
#define XFS_DI_UUID 160      /* 16 v3 */
#define XFS_DI_CORE_V3 176   /* v3 core size */

#define XFS_DINODE_FMT_DEV 0
#define XFS_DINODE_FMT_LOCAL 1
#define XFS_DINODE_FMT_EXTENTS 2
#define XFS_DINODE_FMT_BTREE 3

#define XFS_DIFLAG_REALTIME 0x0001u /* data on the realtime device */
#define XFS_DIFLAG2_BIGTIME 0x0008u /* timestamps are nanoseconds since 1901 */
#define XFS_DIFLAG2_NREXT64 0x0010u /* di_big_nextents */
#define XFS_BIGTIME_EPOCH_OFFSET 2147483648ll /* -(INT32_MIN): bigtime 0 is 1901-12-13 */

/* a device inode's data fork: a 32-bit number, 14 bits of major, 18 of minor */
#define XFS_DEV_MINOR_BITS 18

/* ---- extents ("Data Extents"): 128 bits, big-endian ----
 * bit 127 unwritten flag, 126..73 startoff (54), 72..21 startblock (52),
 * 20..0 blockcount (21) */
#define XFS_BMBT_REC_SIZE 16
#define XFS_BMBT_STARTOFF_BITS 54
#define XFS_BMBT_STARTBLOCK_BITS 52
#define XFS_BMBT_BLOCKCOUNT_BITS 21

/* ---- extent B+tree ("B+tree Extent List") ---- */
#define XFS_BMAP_MAGIC 0x424d4150u     /* "BMAP" */
#define XFS_BMAP_CRC_MAGIC 0x424d4133u /* "BMA3" */
#define XFS_BMDR_LEVEL 0    /* 2 the root in the inode */
#define XFS_BMDR_NUMRECS 2  /* 2 */
#define XFS_BMDR_SIZE 4
#define XFS_BTREE_MAGIC 0   /* 4 a long-format block */
#define XFS_BTREE_LEVEL 4   /* 2 */
#define XFS_BTREE_NUMRECS 6 /* 2 */
#define XFS_BTREE_LBLOCK_LEN 24     /* v4 header */
#define XFS_BTREE_LBLOCK_CRC_LEN 72 /* v5 header */
#define XFS_BTREE_LBLOCK_CRC 64     /* 4 v5, little-endian */
#define XFS_BMBT_KEY_SIZE 8
#define XFS_BMBT_PTR_SIZE 8
#define XFS_BM_MAXLEVELS 9 /* the kernel's bound with 64-bit extent counts */

/* ---- directories ("Directories") ---- */
/* shortform: count, i8count, parent (4 or 8); entries: namelen, offset (2),
 * name, ftype (with ftype), inumber (4 or 8) */
#define XFS_DIR2_SF_COUNT 0
#define XFS_DIR2_SF_I8COUNT 1
#define XFS_DIR2_SF_PARENT 2
#define XFS_DIR2_SF_ENTRY_OFFSET 1 /* 2 */
#define XFS_DIR2_SF_ENTRY_NAME 3

#define XFS_DIR2_BLOCK_MAGIC 0x58443242u /* "XD2B" single-block directory */
#define XFS_DIR2_DATA_MAGIC 0x58443244u  /* "XD2D" */
#define XFS_DIR3_BLOCK_MAGIC 0x58444233u /* "XDB3" */
#define XFS_DIR3_DATA_MAGIC 0x58444433u  /* "XDD3" */
#define XFS_DIR2_DATA_HDR 16             /* magic, bestfree[3] */
#define XFS_DIR3_DATA_HDR 64             /* magic, crc, blkno, lsn, uuid, owner, bestfree[3], pad */
#define XFS_DIR3_CRC 4                   /* 4 little-endian, over the directory block */
#define XFS_DIR2_BESTFREE_OFFSET 4       /* v4: bestfree[0] at 4; v5 at 48 */
#define XFS_DIR3_BESTFREE_OFFSET 48
#define XFS_DIR2_DATA_FD_COUNT 3
#define XFS_DIR2_BLOCK_TAIL 8            /* count, stale at the block's end */
#define XFS_DIR2_LEAF_ENTRY 8            /* hashval, address */
#define XFS_DIR2_DATA_FREE_TAG 0xffffu
#define XFS_DIR2_DATA_ALIGN 8
#define XFS_DIR2_DATA_ENTRY_MIN 16       /* inumber 8, namelen 1, a name byte, tag 2: rounded to 8 */
#define XFS_DIR2_DATA_UNUSED_MIN 8       /* freetag, length, tag, padded */
/* the data blocks of a directory end where its leaf blocks begin */
#define XFS_DIR2_LEAF_OFFSET (32ull << 30)

/* directory entry file types (with ftype) */
#define XFS_DIR3_FT_REG_FILE 1
#define XFS_DIR3_FT_DIR 2
#define XFS_DIR3_FT_CHRDEV 3
#define XFS_DIR3_FT_BLKDEV 4
#define XFS_DIR3_FT_FIFO 5
#define XFS_DIR3_FT_SOCK 6
#define XFS_DIR3_FT_SYMLINK 7

/* ---- symlinks ("Symbolic Links") ---- */
#define XFS_SYMLINK_MAXLEN 1024
#define XFS_SYMLINK_MAGIC 0x58534c4du /* "XSLM" */
#define XFS_SYMLINK_HDR 56            /* magic, offset, bytes, crc, uuid, owner, blkno, lsn */
#define XFS_SL_OFFSET 4               /* 4 */
#define XFS_SL_BYTES 8                /* 4 */

/* ---- the log ("Journaling Log"): 512-byte basic blocks ---- */
#define XLOG_HEADER_MAGIC 0xfeedbabeu
#define XLOG_H_CYCLE 4     /* 4 */
#define XLOG_H_VERSION 8   /* 4 */
#define XLOG_H_LEN 12      /* 4 */
#define XLOG_H_LSN 16      /* 8 cycle << 32 | block */
#define XLOG_H_TAIL_LSN 24 /* 8 */
#define XLOG_H_NUM_LOGOPS 40 /* 4 */
#define XLOG_H_SIZE 320    /* 4 v2: the record buffer size */
#define XLOG_HEADER_CYCLE_SIZE (32u * 1024) /* each header block covers this much data */
#define XLOG_OP_FLAGS 9    /* 1 in an operation header */
#define XLOG_UNMOUNT_TRANS 0x20u
#define XLOG_MAX_RECORD_BBLOCKS 520 /* 256 KiB of data and its headers */

#endif
