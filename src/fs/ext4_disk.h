/*
 * ext2/3/4 on-disk layout, from the kernel's Documentation/filesystems/ext4/
 * ("ext4 Data Structures and Algorithms"); the file named in each section
 * heading below is the page of that document. Every multi-byte field is
 * little-endian. Offsets are bytes from the start of the structure.
 *
 *   [ 1024 bytes boot ][ superblock ][ group descriptors ][ reserved GDT ]
 *   [ block bitmap ][ inode bitmap ][ inode table ][ data blocks ] ... per group
 */
#ifndef IMGP_EXT4_DISK_H
#define IMGP_EXT4_DISK_H

/* ---- super.rst: "Super Block" (1024 bytes at byte 1024 of the device) ---- */
#define EXT4_SB_OFFSET 1024u
#define EXT4_SB_SIZE 1024u
#define EXT4_SB_INODES_COUNT 0x0u          /* 4: s_inodes_count */
#define EXT4_SB_BLOCKS_COUNT_LO 0x4u       /* 4: s_blocks_count_lo */
#define EXT4_SB_R_BLOCKS_COUNT_LO 0x8u     /* 4: s_r_blocks_count_lo */
#define EXT4_SB_FREE_BLOCKS_COUNT_LO 0xCu  /* 4: s_free_blocks_count_lo */
#define EXT4_SB_FREE_INODES_COUNT 0x10u    /* 4: s_free_inodes_count */
#define EXT4_SB_FIRST_DATA_BLOCK 0x14u     /* 4: s_first_data_block (1 for 1 KiB blocks, else 0) */
#define EXT4_SB_LOG_BLOCK_SIZE 0x18u       /* 4: s_log_block_size: block = 2^(10 + this) */
#define EXT4_SB_LOG_CLUSTER_SIZE 0x1Cu     /* 4: s_log_cluster_size (bigalloc) */
#define EXT4_SB_BLOCKS_PER_GROUP 0x20u     /* 4: s_blocks_per_group */
#define EXT4_SB_CLUSTERS_PER_GROUP 0x24u   /* 4: s_clusters_per_group */
#define EXT4_SB_INODES_PER_GROUP 0x28u     /* 4: s_inodes_per_group */
#define EXT4_SB_MAGIC 0x38u                /* 2: s_magic, 0xEF53 */
#define EXT4_SB_STATE 0x3Au                /* 2: s_state (EXT4_STATE_*) */
#define EXT4_SB_MINOR_REV_LEVEL 0x3Eu      /* 2: s_minor_rev_level */
#define EXT4_SB_CREATOR_OS 0x48u           /* 4: s_creator_os (EXT4_OS_*) */
#define EXT4_SB_REV_LEVEL 0x4Cu            /* 4: s_rev_level: 0 original, 1 dynamic */
#define EXT4_SB_FIRST_INO 0x54u            /* 4: s_first_ino (dynamic rev only) */
#define EXT4_SB_INODE_SIZE 0x58u           /* 2: s_inode_size (dynamic rev only) */
#define EXT4_SB_BLOCK_GROUP_NR 0x5Au       /* 2: s_block_group_nr: group of this copy */
#define EXT4_SB_FEATURE_COMPAT 0x5Cu       /* 4: s_feature_compat */
#define EXT4_SB_FEATURE_INCOMPAT 0x60u     /* 4: s_feature_incompat */
#define EXT4_SB_FEATURE_RO_COMPAT 0x64u    /* 4: s_feature_ro_compat */
#define EXT4_SB_UUID 0x68u                 /* 16: s_uuid */
#define EXT4_SB_VOLUME_NAME 0x78u          /* 16: s_volume_name, NUL-padded */
#define EXT4_SB_JOURNAL_INUM 0xE0u         /* 4: s_journal_inum */
#define EXT4_SB_DESC_SIZE 0xFEu            /* 2: s_desc_size (64bit only) */
#define EXT4_SB_FIRST_META_BG 0x104u       /* 4: s_first_meta_bg */
#define EXT4_SB_BLOCKS_COUNT_HI 0x150u     /* 4: s_blocks_count_hi (64bit only) */
#define EXT4_SB_R_BLOCKS_COUNT_HI 0x154u   /* 4: s_r_blocks_count_hi */
#define EXT4_SB_FREE_BLOCKS_COUNT_HI 0x158u /* 4: s_free_blocks_count_hi */
#define EXT4_SB_LOG_GROUPS_PER_FLEX 0x174u /* 1: s_log_groups_per_flex */
#define EXT4_SB_CHECKSUM_TYPE 0x175u       /* 1: s_checksum_type, 1 = crc32c */
#define EXT4_SB_BACKUP_BGS 0x24Cu          /* 2 x 4: s_backup_bgs (sparse_super2) */
#define EXT4_SB_CHECKSUM_SEED 0x270u       /* 4: s_checksum_seed (INCOMPAT_CSUM_SEED) */
#define EXT4_SB_ENCODING 0x27Cu            /* 2: s_encoding (casefold: 1 = utf8) */
#define EXT4_SB_CHECKSUM 0x3FCu            /* 4: s_checksum, crc32c of bytes 0..0x3FB */

#define EXT4_MAGIC 0xEF53u
#define EXT4_MIN_LOG_BLOCK_SIZE 10u  /* 1 KiB */
#define EXT4_MAX_LOG_BLOCK_SIZE 16u  /* 64 KiB */
#define EXT4_MAX_LOG_CLUSTER_BLOCKS 16u /* mke2fs: a cluster is at most 2^16 blocks */
#define EXT4_GOOD_OLD_REV 0u
#define EXT4_GOOD_OLD_INODE_SIZE 128u
#define EXT4_GOOD_OLD_FIRST_INO 11u
#define EXT4_CHECKSUM_CRC32C 1u

/* s_state ("super_state") */
#define EXT4_STATE_VALID 0x1u  /* cleanly unmounted */
#define EXT4_STATE_ERRORS 0x2u /* errors detected */

/* s_creator_os ("super_creator") */
#define EXT4_OS_HURD 1u

/* s_feature_compat ("super_compat") */
#define EXT4_COMPAT_HAS_JOURNAL 0x4u
#define EXT4_COMPAT_SPARSE_SUPER2 0x200u

/* s_feature_incompat ("super_incompat"); CASEFOLD is from the kernel's ext4.h */
#define EXT4_INCOMPAT_COMPRESSION 0x1u
#define EXT4_INCOMPAT_FILETYPE 0x2u
#define EXT4_INCOMPAT_RECOVER 0x4u
#define EXT4_INCOMPAT_JOURNAL_DEV 0x8u
#define EXT4_INCOMPAT_META_BG 0x10u
#define EXT4_INCOMPAT_EXTENTS 0x40u
#define EXT4_INCOMPAT_64BIT 0x80u
#define EXT4_INCOMPAT_MMP 0x100u
#define EXT4_INCOMPAT_FLEX_BG 0x200u
#define EXT4_INCOMPAT_EA_INODE 0x400u
#define EXT4_INCOMPAT_DIRDATA 0x1000u
#define EXT4_INCOMPAT_CSUM_SEED 0x2000u
#define EXT4_INCOMPAT_LARGEDIR 0x4000u
#define EXT4_INCOMPAT_INLINE_DATA 0x8000u
#define EXT4_INCOMPAT_ENCRYPT 0x10000u
#define EXT4_INCOMPAT_CASEFOLD 0x20000u

/* s_feature_ro_compat ("super_rocompat") */
#define EXT4_RO_COMPAT_SPARSE_SUPER 0x1u
#define EXT4_RO_COMPAT_HUGE_FILE 0x8u
#define EXT4_RO_COMPAT_GDT_CSUM 0x10u
#define EXT4_RO_COMPAT_BIGALLOC 0x200u
#define EXT4_RO_COMPAT_METADATA_CSUM 0x400u

/* ---- group_descr.rst: "Block Group Descriptors" (32 bytes, or s_desc_size with 64bit) ---- */
#define EXT4_BG_BLOCK_BITMAP_LO 0x0u   /* 4: bg_block_bitmap_lo */
#define EXT4_BG_INODE_BITMAP_LO 0x4u   /* 4: bg_inode_bitmap_lo */
#define EXT4_BG_INODE_TABLE_LO 0x8u    /* 4: bg_inode_table_lo */
#define EXT4_BG_FREE_BLOCKS_LO 0xCu    /* 2: bg_free_blocks_count_lo */
#define EXT4_BG_FREE_INODES_LO 0xEu    /* 2: bg_free_inodes_count_lo */
#define EXT4_BG_FLAGS 0x12u            /* 2: bg_flags (EXT4_BG_*) */
#define EXT4_BG_ITABLE_UNUSED_LO 0x1Cu /* 2: bg_itable_unused_lo */
#define EXT4_BG_CHECKSUM 0x1Eu         /* 2: bg_checksum */
#define EXT4_BG_BLOCK_BITMAP_HI 0x20u  /* 4: bg_block_bitmap_hi (desc_size > 32) */
#define EXT4_BG_INODE_BITMAP_HI 0x24u  /* 4: bg_inode_bitmap_hi */
#define EXT4_BG_INODE_TABLE_HI 0x28u   /* 4: bg_inode_table_hi */
#define EXT4_BG_ITABLE_UNUSED_HI 0x32u /* 2: bg_itable_unused_hi */
#define EXT4_DESC_SIZE 32u             /* without 64bit */
#define EXT4_MIN_DESC_SIZE_64BIT 64u
#define EXT4_MAX_DESC_SIZE 1024u       /* the kernel's EXT4_MAX_DESC_SIZE (EXT4_MIN_BLOCK_SIZE) */

/* bg_flags ("bgflags") */
#define EXT4_BG_INODE_UNINIT 0x1u

/* ---- inodes.rst: "Index Nodes" (s_inode_size bytes; 128 in revision 0) ---- */
#define EXT4_I_MODE 0x0u               /* 2: i_mode (type in the top 4 bits) */
#define EXT4_I_UID 0x2u                /* 2: i_uid (low 16 bits) */
#define EXT4_I_SIZE_LO 0x4u            /* 4: i_size_lo */
#define EXT4_I_ATIME 0x8u              /* 4: i_atime */
#define EXT4_I_CTIME 0xCu              /* 4: i_ctime */
#define EXT4_I_MTIME 0x10u             /* 4: i_mtime */
#define EXT4_I_GID 0x18u               /* 2: i_gid (low 16 bits) */
#define EXT4_I_LINKS_COUNT 0x1Au       /* 2: i_links_count */
#define EXT4_I_BLOCKS_LO 0x1Cu         /* 4: i_blocks_lo */
#define EXT4_I_FLAGS 0x20u             /* 4: i_flags (EXT4_*_FL) */
#define EXT4_I_BLOCK 0x28u             /* 60: i_block[15]: block map, extent root, inline data, fast symlink */
#define EXT4_I_GENERATION 0x64u        /* 4: i_generation */
#define EXT4_I_FILE_ACL_LO 0x68u       /* 4: i_file_acl_lo */
#define EXT4_I_SIZE_HIGH 0x6Cu         /* 4: i_size_high */
#define EXT4_I_OSD2 0x74u              /* 12: i_osd2 ("i_osd2", Linux layout below) */
#define EXT4_I_BLOCKS_HIGH 0x74u       /* 2: l_i_blocks_high */
#define EXT4_I_FILE_ACL_HIGH 0x76u     /* 2: l_i_file_acl_high */
#define EXT4_I_UID_HIGH 0x78u          /* 2: l_i_uid_high */
#define EXT4_I_GID_HIGH 0x7Au          /* 2: l_i_gid_high */
#define EXT4_I_CHECKSUM_LO 0x7Cu       /* 2: l_i_checksum_lo */
#define EXT4_I_EXTRA_ISIZE 0x80u       /* 2: i_extra_isize (large inodes) */
#define EXT4_I_CHECKSUM_HI 0x82u       /* 2: i_checksum_hi */
#define EXT4_I_CTIME_EXTRA 0x84u       /* 4: i_ctime_extra: epoch bits 0-1, nanoseconds << 2 */
#define EXT4_I_MTIME_EXTRA 0x88u       /* 4: i_mtime_extra */
#define EXT4_I_ATIME_EXTRA 0x8Cu       /* 4: i_atime_extra */
#define EXT4_I_BLOCK_LEN 60u
#define EXT4_N_DIRECT 12u              /* i_block[0..11] map blocks directly ("Direct/Indirect Block Addressing") */
#define EXT4_IND_BLOCK 12u             /* i_block[12]: indirect */
#define EXT4_DIND_BLOCK 13u            /* i_block[13]: double indirect */
#define EXT4_TIND_BLOCK 14u            /* i_block[14]: triple indirect */
#define EXT4_MAX_INODE_SIZE 1024u      /* the largest inode record imgprobe reads */

/* i_mode file types ("i_mode") */
#define EXT4_S_IFMT 0xF000u
#define EXT4_S_IFIFO 0x1000u
#define EXT4_S_IFCHR 0x2000u
#define EXT4_S_IFDIR 0x4000u
#define EXT4_S_IFBLK 0x6000u
#define EXT4_S_IFREG 0x8000u
#define EXT4_S_IFLNK 0xA000u
#define EXT4_S_IFSOCK 0xC000u

/* i_flags ("i_flags"); CASEFOLD is from the kernel's ext4.h */
#define EXT4_ENCRYPT_FL 0x800u
#define EXT4_INDEX_FL 0x1000u
#define EXT4_HUGE_FILE_FL 0x40000u
#define EXT4_EXTENTS_FL 0x80000u
#define EXT4_INLINE_DATA_FL 0x10000000u
#define EXT4_CASEFOLD_FL 0x40000000u

/* ---- ifork.rst: "Extent Tree" (12-byte header, then 12-byte entries) ---- */
#define EXT4_EH_MAGIC 0x0u      /* 2: eh_magic, 0xF30A */
#define EXT4_EH_ENTRIES 0x2u    /* 2: eh_entries */
#define EXT4_EH_MAX 0x4u        /* 2: eh_max */
#define EXT4_EH_DEPTH 0x6u      /* 2: eh_depth (0 = leaf) */
#define EXT4_EH_SIZE 12u
#define EXT4_EXTENT_MAGIC 0xF30Au
#define EXT4_EXTENT_MAX_DEPTH 5u /* "The extent tree can be at most 5 levels deep" */
#define EXT4_EI_BLOCK 0x0u      /* 4: ei_block, first logical block covered */
#define EXT4_EI_LEAF_LO 0x4u    /* 4: ei_leaf_lo */
#define EXT4_EI_LEAF_HI 0x8u    /* 2: ei_leaf_hi */
#define EXT4_EE_BLOCK 0x0u      /* 4: ee_block */
#define EXT4_EE_LEN 0x4u        /* 2: ee_len; > 32768: uninitialised, length ee_len - 32768 */
#define EXT4_EE_START_HI 0x6u   /* 2: ee_start_hi */
#define EXT4_EE_START_LO 0x8u   /* 4: ee_start_lo */
#define EXT4_EXTENT_ENTRY_SIZE 12u
#define EXT4_EXT_INIT_MAX_LEN 32768u

/* ---- directory.rst: "Linear (Classic) Directories", ext4_dir_entry_2 ---- */
#define EXT4_DE_INODE 0x0u      /* 4: inode (0 = unused entry) */
#define EXT4_DE_REC_LEN 0x4u    /* 2: rec_len, a multiple of 4 */
#define EXT4_DE_NAME_LEN 0x6u   /* 1: name_len (ext4_dir_entry: the low byte of a 16-bit length) */
#define EXT4_DE_FILE_TYPE 0x7u  /* 1: file_type (INCOMPAT_FILETYPE), "ftype" table */
#define EXT4_DE_NAME 0x8u       /* name_len bytes, not NUL-terminated */
#define EXT4_DE_HEADER 8u
#define EXT4_NAME_LEN 255u

/* file_type ("ftype") */
#define EXT4_FT_REG_FILE 1u
#define EXT4_FT_DIR 2u
#define EXT4_FT_CHRDEV 3u
#define EXT4_FT_BLKDEV 4u
#define EXT4_FT_FIFO 5u
#define EXT4_FT_SOCK 6u
#define EXT4_FT_SYMLINK 7u

/* ---- inlinedata.rst: "Inline Directories": i_block = parent inode, then entries ---- */
#define EXT4_INLINE_DOTDOT_SIZE 4u

/* ---- attributes.rst: "Extended Attributes" in the inode, after i_extra_isize ---- */
#define EXT4_XATTR_MAGIC 0xEA020000u   /* ext4_xattr_ibody_header.h_magic */
#define EXT4_XATTR_IBODY_HEADER 4u
#define EXT4_XE_NAME_LEN 0x0u          /* 1: e_name_len */
#define EXT4_XE_NAME_INDEX 0x1u        /* 1: e_name_index (7 = "system.") */
#define EXT4_XE_VALUE_OFFS 0x2u        /* 2: e_value_offs, from the first entry */
#define EXT4_XE_VALUE_INUM 0x4u        /* 4: e_value_inum (ea_inode) */
#define EXT4_XE_VALUE_SIZE 0x8u        /* 4: e_value_size */
#define EXT4_XE_NAME 0x10u             /* e_name_len bytes, entry padded to 4 */
#define EXT4_XE_HEADER 16u
#define EXT4_XATTR_INDEX_SYSTEM 7u
#define EXT4_XATTR_INLINE_DATA_NAME "data" /* "system.data" holds inline data past i_block */

/* ---- special_inodes.rst ---- */
#define EXT4_ROOT_INO 2u

#endif
