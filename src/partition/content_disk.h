/*
 * Superblock layouts that content identification reads: only the fields that
 * name a format, check it is plausible, or carry its label, UUID and version.
 * Offsets are in bytes from the start of the structure named in each section
 * (which is itself at the device offset given there); sizes in bytes. The
 * reference each layout comes from is named at the top of its section.
 */
#ifndef IMGP_CONTENT_DISK_H
#define IMGP_CONTENT_DISK_H

/* ======================================================================
 * ext2/3/4: Linux Documentation/filesystems/ext4/super.rst ("The Super
 * Block"). Little-endian. The superblock is at byte 1024 of the device.
 * ====================================================================== */
#define EXT_SB_OFFSET 1024u
#define EXT_SB_SIZE 1024u
#define EXT_MAGIC 0xEF53u

#define EXT_LOG_BLOCK_SIZE 0x18u       /* 4: block size = 1024 << s_log_block_size */
#define EXT_MAGIC_OFF 0x38u            /* 2: s_magic, EXT_MAGIC */
#define EXT_MINOR_REV_LEVEL 0x3Eu      /* 2: s_minor_rev_level */
#define EXT_REV_LEVEL 0x4Cu            /* 4: s_rev_level, 0 (original) or 1 (dynamic) */
#define EXT_FEATURE_COMPAT 0x5Cu       /* 4: s_feature_compat */
#define EXT_FEATURE_INCOMPAT 0x60u     /* 4: s_feature_incompat */
#define EXT_FEATURE_RO_COMPAT 0x64u    /* 4: s_feature_ro_compat */
#define EXT_UUID 0x68u                 /* 16: s_uuid */
#define EXT_VOLUME_NAME 0x78u          /* 16: s_volume_name, NUL-padded */
#define EXT_FLAGS 0x160u               /* 4: s_flags */

#define EXT_MAX_LOG_BLOCK_SIZE 6u      /* 64 KiB blocks: the largest e2fsprogs and the kernel mount */

#define EXT_COMPAT_HAS_JOURNAL 0x0004u
#define EXT_INCOMPAT_FILETYPE 0x0002u
#define EXT_INCOMPAT_RECOVER 0x0004u
#define EXT_INCOMPAT_JOURNAL_DEV 0x0008u /* an external journal, not a filesystem */
#define EXT_INCOMPAT_META_BG 0x0010u
#define EXT_RO_COMPAT_SPARSE_SUPER 0x0001u
#define EXT_RO_COMPAT_LARGE_FILE 0x0002u
#define EXT_RO_COMPAT_BTREE_DIR 0x0004u
#define EXT_FLAGS_TEST_FILESYS 0x0004u  /* "ext4dev": for in-development code */

/* What ext2 and ext3 drivers understood; anything else makes the filesystem ext4. */
#define EXT2_INCOMPAT_KNOWN (EXT_INCOMPAT_FILETYPE | EXT_INCOMPAT_META_BG)
#define EXT3_INCOMPAT_KNOWN (EXT_INCOMPAT_FILETYPE | EXT_INCOMPAT_RECOVER | EXT_INCOMPAT_META_BG)
#define EXT3_RO_COMPAT_KNOWN (EXT_RO_COMPAT_SPARSE_SUPER | EXT_RO_COMPAT_LARGE_FILE | EXT_RO_COMPAT_BTREE_DIR)

/* ======================================================================
 * XFS: "XFS Algorithms & Data Structures", chapter "Allocation Groups",
 * section "Superblocks" (xfs_dsb in libxfs/xfs_format.h). Big-endian. The
 * primary superblock is at byte 0.
 * ====================================================================== */
#define XFS_SB_SIZE 128u               /* the fields below; the rest is not needed */
#define XFS_SB_MAGIC_OFF 0u            /* 4: sb_magicnum, "XFSB" */
#define XFS_SB_BLOCKSIZE 4u            /* 4: sb_blocksize */
#define XFS_SB_DBLOCKS 8u              /* 8: sb_dblocks, data blocks */
#define XFS_SB_UUID 32u                /* 16: sb_uuid */
#define XFS_SB_REXTSIZE 80u            /* 4: sb_rextsize, realtime extent size in blocks */
#define XFS_SB_AGBLOCKS 84u            /* 4: sb_agblocks */
#define XFS_SB_AGCOUNT 88u             /* 4: sb_agcount */
#define XFS_SB_VERSIONNUM 100u         /* 2: sb_versionnum, low 4 bits are the version */
#define XFS_SB_SECTSIZE 102u           /* 2: sb_sectsize */
#define XFS_SB_INODESIZE 104u          /* 2: sb_inodesize */
#define XFS_SB_FNAME 108u              /* 12: sb_fname, the label, NUL-padded */
#define XFS_SB_BLOCKLOG 120u           /* 1: log2(sb_blocksize) */
#define XFS_SB_SECTLOG 121u            /* 1: log2(sb_sectsize) */
#define XFS_SB_INODELOG 122u           /* 1: log2(sb_inodesize) */
#define XFS_SB_INOPBLOG 123u           /* 1: log2(inodes per block) */
#define XFS_SB_IMAX_PCT 127u           /* 1: max % of space for inodes, <= 100 */

#define XFS_VERSION_MASK 0x000Fu
#define XFS_VERSION_5 5u               /* metadata CRCs */
#define XFS_MIN_BLOCKLOG 9u            /* 512 bytes .. */
#define XFS_MAX_BLOCKLOG 16u           /* .. 64 KiB */
#define XFS_MIN_SECTLOG 9u             /* 512 bytes .. */
#define XFS_MAX_SECTLOG 15u            /* .. 32 KiB */
#define XFS_MIN_INODELOG 8u            /* 256 bytes .. */
#define XFS_MAX_INODELOG 11u           /* .. 2 KiB */
#define XFS_MIN_RTEXT_BYTES (4u * 1024)
#define XFS_MAX_RTEXT_BYTES (1024u * 1024 * 1024)
#define XFS_MIN_AG_BLOCKS 64u

/* Log record header (xlog_rec_header, libxfs/xfs_log_format.h; "XFS Algorithms
 * & Data Structures", "Journaling Log"), at the start of a 512-byte sector of
 * an external log device. Big-endian. */
#define XLOG_MAGIC 0xFEEDBABEu
#define XLOG_H_MAGICNO 0u              /* 4: XLOG_MAGIC */
#define XLOG_H_VERSION 8u              /* 4: 1 or 2 (bits of XLOG_VERSION_OKBITS) */
#define XLOG_H_LEN 12u                 /* 4: bytes of the record body, > 0 */
#define XLOG_H_FMT 300u                /* 4: XLOG_FMT_* */
#define XLOG_H_FS_UUID 304u            /* 16: the filesystem the log belongs to */
#define XLOG_HEADER_SIZE 320u
#define XLOG_VERSION_OKBITS 0x3u
#define XLOG_FMT_LINUX_LE 1u
#define XLOG_FMT_IRIX_BE 3u            /* 1..3 are the known formats */
#define XLOG_SCAN_BYTES (256u * 1024)  /* the first record header is in the first 256 KiB */
#define XLOG_MIN_DEVICE (10u * 1024 * 1024) /* mkfs.xfs's smallest external log */

/* ======================================================================
 * FAT12/16/32: Microsoft "FAT: General Overview of On-Disk Format" 1.03
 * (fatgen103), section 3 "Boot Sector and BPB" and section 6 "Directory
 * Structure". Little-endian, unaligned. The boot sector is at byte 0.
 * ====================================================================== */
#define FAT_BS_JMP 0u                  /* 3: BS_jmpBoot, EB xx 90 or E9 xx xx */
#define FAT_BS_OEM_NAME 3u             /* 8: BS_OEMName */
#define FAT_BPB_BYTS_PER_SEC 11u       /* 2: 512, 1024, 2048 or 4096 */
#define FAT_BPB_SEC_PER_CLUS 13u       /* 1: a power of two */
#define FAT_BPB_RSVD_SEC_CNT 14u       /* 2: reserved sectors, > 0 */
#define FAT_BPB_NUM_FATS 16u           /* 1: > 0 */
#define FAT_BPB_ROOT_ENT_CNT 17u       /* 2: root directory entries (FAT12/16), 0 on FAT32 */
#define FAT_BPB_TOT_SEC16 19u          /* 2: total sectors, or 0 when TotSec32 holds it */
#define FAT_BPB_MEDIA 21u              /* 1: 0xF0 or 0xF8..0xFF */
#define FAT_BPB_FAT_SZ16 22u           /* 2: sectors per FAT (FAT12/16), 0 on FAT32 */
#define FAT_BPB_TOT_SEC32 32u          /* 4 */
/* FAT12/16 extended BPB (section 3.2) */
#define FAT16_BS_BOOT_SIG 38u          /* 1: 0x29 (serial, label, type follow) or 0x28 (serial only) */
#define FAT16_BS_VOL_ID 39u            /* 4: volume serial number */
#define FAT16_BS_VOL_LAB 43u           /* 11: volume label, space-padded */
#define FAT16_BS_FIL_SYS_TYPE 54u      /* 8: "FAT12   ", "FAT16   ", "FAT     " (informational) */
/* FAT32 extended BPB (section 3.3) */
#define FAT32_BPB_FAT_SZ32 36u         /* 4: sectors per FAT */
#define FAT32_BPB_ROOT_CLUS 44u        /* 4: first cluster of the root directory */
#define FAT32_BPB_FS_INFO 48u          /* 2: sector of the FSInfo structure */
#define FAT32_BS_BOOT_SIG 66u          /* 1: 0x29 */
#define FAT32_BS_VOL_ID 67u            /* 4 */
#define FAT32_BS_VOL_LAB 71u           /* 11 */
#define FAT32_BS_FIL_SYS_TYPE 82u      /* 8: "FAT32   " */
#define FAT_SIGNATURE 510u             /* 2: 0x55 0xAA */
#define FAT_BOOT_SECTOR_SIZE 512u

#define FAT_BOOT_SIG_SERIAL 0x28u
#define FAT_BOOT_SIG_FULL 0x29u
#define FAT_NO_NAME "NO NAME    "      /* the label field of a volume without one */
#define FAT_LABEL_LEN 11u

/* FSInfo (section 5), at sector BPB_FSInfo */
#define FAT_FSI_LEAD_SIG 0u            /* 4: "RRaA" (0x41615252) */
#define FAT_FSI_STRUC_SIG 484u         /* 4: "rrAa" (0x61417272) */
#define FAT_FSI_SIZE 488u

/* Cluster counts that decide the FAT type (section 3.5) */
#define FAT12_MAX_CLUSTERS 0xFF4u
#define FAT16_MAX_CLUSTERS 0xFFF4u
#define FAT32_MAX_CLUSTERS 0x0FFFFFF6u

/* A 32-byte directory entry (section 6) */
#define FAT_DIRENT_SIZE 32u
#define FAT_DIR_NAME 0u                /* 11: 8.3 name; 0x00 = end, 0xE5 = free, 0x05 = a leading 0xE5 */
#define FAT_DIR_ATTR 11u               /* 1: FAT_ATTR_* */
#define FAT_DIR_FST_CLUS_HI 20u        /* 2 */
#define FAT_DIR_FST_CLUS_LO 26u        /* 2 */
#define FAT_ATTR_VOLUME_ID 0x08u
#define FAT_ATTR_DIRECTORY 0x10u
#define FAT_ATTR_LONG_NAME 0x0Fu
#define FAT_ATTR_MASK 0x3Fu
#define FAT_DIR_END 0x00u
#define FAT_DIR_FREE 0xE5u
#define FAT_DIR_KANJI_E5 0x05u
#define FAT32_EOC_MASK 0x0FFFFFFFu     /* FAT32 entries are 28 bits */

/* ======================================================================
 * exFAT: Microsoft "exFAT file system specification", section 3.1 "Main
 * Boot Sector" and section 7.3 "Volume Label Directory Entry".
 * Little-endian. The main boot sector is at byte 0.
 * ====================================================================== */
#define EXFAT_FILE_SYSTEM_NAME 3u      /* 8: "EXFAT   " */
#define EXFAT_MUST_BE_ZERO 11u         /* 53: zero, so that FAT drivers refuse the volume */
#define EXFAT_MUST_BE_ZERO_LEN 53u
#define EXFAT_FAT_OFFSET 80u           /* 4: sectors */
#define EXFAT_CLUSTER_HEAP_OFFSET 88u  /* 4: sectors */
#define EXFAT_FIRST_CLUSTER_OF_ROOT 96u /* 4 */
#define EXFAT_VOLUME_SERIAL 100u       /* 4 */
#define EXFAT_REVISION_MINOR 104u      /* 1: FileSystemRevision, low byte */
#define EXFAT_REVISION_MAJOR 105u      /* 1: FileSystemRevision, high byte */
#define EXFAT_BYTES_PER_SECTOR_SHIFT 108u   /* 1: 9..12 */
#define EXFAT_SECTORS_PER_CLUSTER_SHIFT 109u /* 1: at most 25 - BytesPerSectorShift */
#define EXFAT_NUMBER_OF_FATS 110u      /* 1: 1 or 2 */
#define EXFAT_BOOT_SIGNATURE 510u      /* 2: 0x55 0xAA */
#define EXFAT_MIN_SECTOR_SHIFT 9u
#define EXFAT_MAX_SECTOR_SHIFT 12u
#define EXFAT_MAX_CLUSTER_SHIFT 25u    /* 32 MiB clusters */
#define EXFAT_FIRST_DATA_CLUSTER 2u
#define EXFAT_LAST_DATA_CLUSTER 0xFFFFFFF6u
/* directory entries (section 6.2, 7.3) */
#define EXFAT_DIRENT_SIZE 32u
#define EXFAT_ENTRY_TYPE 0u            /* 1 */
#define EXFAT_ENTRY_END 0x00u          /* end of directory */
#define EXFAT_ENTRY_VOLUME_LABEL 0x83u
#define EXFAT_LABEL_CHAR_COUNT 1u      /* 1: UTF-16 code units, <= 11 */
#define EXFAT_LABEL_TEXT 2u            /* 22: UTF-16LE */
#define EXFAT_LABEL_MAX_UNITS 11u

/* ======================================================================
 * NTFS: the Linux-NTFS project's "NTFS Documentation" (Russon, Fledel),
 * "Files: $Boot" and "Concepts: File Record", "Attributes: $VOLUME_NAME";
 * also layout.h of ntfs-3g. Little-endian. The boot sector is at byte 0.
 * ====================================================================== */
#define NTFS_OEM_ID 3u                 /* 8: "NTFS    " */
#define NTFS_BYTES_PER_SECTOR 11u      /* 2: 256..4096, a power of two */
#define NTFS_SECTORS_PER_CLUSTER 13u   /* 1: 1..128, or 240..249 meaning 2^(256 - n) */
#define NTFS_RESERVED_SECTORS 14u      /* 2: 0 */
#define NTFS_FATS 16u                  /* 1: 0 */
#define NTFS_ROOT_ENTRIES 17u          /* 2: 0 */
#define NTFS_SECTORS16 19u             /* 2: 0 */
#define NTFS_SECTORS_PER_FAT 22u       /* 2: 0 */
#define NTFS_LARGE_SECTORS 32u         /* 4: 0 */
#define NTFS_NUMBER_OF_SECTORS 40u     /* 8 */
#define NTFS_MFT_LCN 48u               /* 8: cluster of $MFT */
#define NTFS_MFTMIRR_LCN 56u           /* 8: cluster of $MFTMirr */
#define NTFS_CLUSTERS_PER_MFT_RECORD 64u /* 1, signed: > 0 clusters, or -n meaning 2^n bytes */
#define NTFS_VOLUME_SERIAL 72u         /* 8 */
#define NTFS_MAX_CLUSTER_SIZE (2u * 1024 * 1024) /* Windows 10 1703 and later */
#define NTFS_MFT_RECORD_VOLUME 3u      /* $Volume is MFT record 3 */
/* file record header */
#define NTFS_REC_MAGIC 0u              /* 4: "FILE" */
#define NTFS_REC_USA_OFS 4u            /* 2: update sequence array offset */
#define NTFS_REC_USA_COUNT 6u          /* 2: 1 + sectors in the record */
#define NTFS_REC_ATTRS_OFFSET 20u      /* 2: first attribute */
#define NTFS_REC_BYTES_ALLOCATED 28u   /* 4 */
#define NTFS_REC_FIXUP_STRIDE 512u     /* the update sequence protects each 512-byte stride */
/* attribute record header */
#define NTFS_ATTR_TYPE 0u              /* 4 */
#define NTFS_ATTR_LENGTH 4u            /* 4 */
#define NTFS_ATTR_NON_RESIDENT 8u      /* 1 */
#define NTFS_ATTR_VALUE_LENGTH 16u     /* 4: resident value */
#define NTFS_ATTR_VALUE_OFFSET 20u     /* 2 */
#define NTFS_ATTR_HEADER_SIZE 24u
#define NTFS_AT_VOLUME_NAME 0x60u      /* UTF-16LE, not terminated */
#define NTFS_AT_END 0xFFFFFFFFu

/* ======================================================================
 * Linux swap: include/linux/swap.h, union swap_header. The magic is in the
 * last 10 bytes of the first page; the header proper is at byte 1024.
 * Fields are in the writer's byte order (mkswap writes the host's).
 * ====================================================================== */
#define SWAP_MAGIC_LEN 10u
#define SWAP_MAGIC_V1 "SWAPSPACE2"
#define SWAP_MAGIC_V0 "SWAP-SPACE"
#define SWAP_HDR_OFFSET 1024u
#define SWAP_HDR_VERSION 0u            /* 4: 1 */
#define SWAP_HDR_LAST_PAGE 4u          /* 4: > 0 */
#define SWAP_HDR_UUID 12u              /* 16: sws_uuid */
#define SWAP_HDR_VOLUME 28u            /* 16: sws_volume, the label */
#define SWAP_HDR_PADDING 44u           /* 4 * 117: zero; words 32 and 33 checked */
#define SWAP_HDR_SIZE 512u
#define SWAP_MIN_PAGE 4096u            /* page sizes 4 KiB .. 64 KiB */
#define SWAP_MAX_PAGE 65536u
#define SWAP_MIN_DEVICE (10u * 4096)   /* mkswap's smallest: 10 pages */
/* Signatures hibernation writes over the swap magic, and TuxOnIce's at byte 0 */
#define SWSUSPEND_TOI_MAGIC "\xed\xc3\x02\xe9\x98\x56\xe5\x0c"
#define SWSUSPEND_TOI_MAGIC_LEN 8u

/* ======================================================================
 * LVM2 physical volume label: lvm2 lib/label/label.h (struct label_header)
 * and lib/format_text/layout.h (struct pv_header). Little-endian. In one of
 * the first four 512-byte sectors.
 * ====================================================================== */
#define LVM_LABEL_SECTOR_SIZE 512u
#define LVM_LABEL_SCAN_SECTORS 4u
#define LVM_LABEL_ID 0u                /* 8: "LABELONE" */
#define LVM_LABEL_SECTOR 8u            /* 8: sector_xl, the sector this label is in */
#define LVM_LABEL_CRC 16u              /* 4: crc_xl, of offset_xl .. end of the sector */
#define LVM_LABEL_OFFSET 20u           /* 4: offset_xl, of the pv_header from the label */
#define LVM_LABEL_TYPE 24u             /* 8: "LVM2 001" */
#define LVM_PV_UUID 0u                 /* 32: pv_header.pv_uuid, ASCII, no dashes */
#define LVM_ID_LEN 32u
#define LVM_CRC_INITIAL 0xF597A6CFu    /* lib/misc/crc.c INITIAL_CRC */

/* ======================================================================
 * LUKS: "LUKS On-Disk Format Specification" 1.2.3, section 2.4 (phdr), and
 * "LUKS2 On-Disk Format Specification" 1.1.1, section 2.1 (binary header).
 * Big-endian.
 * ====================================================================== */
#define LUKS_MAGIC_LEN 6u
#define LUKS_MAGIC "LUKS\xba\xbe"      /* primary header */
#define LUKS2_MAGIC_SECONDARY "SKUL\xba\xbe"
#define LUKS_VERSION 6u                /* 2: 1 or 2 */
#define LUKS1_UUID 168u                /* 40: text, NUL-terminated */
#define LUKS2_LABEL 24u                /* 48: text, NUL-terminated */
#define LUKS2_UUID 168u                /* 40 */
#define LUKS2_HDR_OFFSET 256u          /* 8: where this header copy is, in bytes */
#define LUKS_UUID_LEN 40u
#define LUKS2_LABEL_LEN 48u
#define LUKS_HDR_SIZE 512u
/* where a LUKS2 secondary header may be (section 2.1, the JSON area sizes) */
#define LUKS2_SECONDARY_OFFSETS {0x4000u, 0x8000u, 0x10000u, 0x20000u, 0x40000u, \
                                 0x80000u, 0x100000u, 0x200000u, 0x400000u}

/* ======================================================================
 * BitLocker: libbde "BitLocker Drive Encryption (BDE) format", section 3
 * "Volume header" and 5 "FVE metadata block header". Little-endian.
 * ====================================================================== */
#define BDE_SIGNATURE_LEN 11u          /* the jump and the 8-byte signature */
#define BDE_SIGNATURE_VISTA "\xeb\x52\x90-FVE-FS-"
#define BDE_SIGNATURE_WIN7 "\xeb\x58\x90-FVE-FS-"
#define BDE_SIGNATURE_TOGO "\xeb\x58\x90MSWIN4.1"
#define BDE_WIN7_VOLUME_SERIAL 67u     /* 4 */
#define BDE_WIN7_FVE_OFFSET 176u       /* 8: first FVE metadata block, bytes */
#define BDE_TOGO_FVE_OFFSET 440u       /* 8 */
#define BDE_FVE_SIGNATURE "-FVE-FS-"   /* 8, at the start of the FVE metadata block */
#define BDE_FVE_SIGNATURE_LEN 8u
#define BDE_FVE_VERSION 10u            /* 2: 1 (Vista) or 2 (Windows 7 and later) */
#define BDE_FVE_HEADER_SIZE 12u

/* ======================================================================
 * btrfs: btrfs documentation "On-disk format", "Superblock". Little-endian.
 * The primary superblock is at 64 KiB.
 * ====================================================================== */
#define BTRFS_SB_OFFSET 0x10000u
#define BTRFS_SB_FSID 0x20u            /* 16 */
#define BTRFS_SB_BYTENR 0x30u          /* 8: this copy's own offset, BTRFS_SB_OFFSET */
#define BTRFS_SB_MAGIC_OFF 0x40u       /* 8: "_BHRfS_M" */
#define BTRFS_SB_SECTORSIZE 0x90u      /* 4 */
#define BTRFS_SB_LABEL 0x12Bu          /* 256: NUL-terminated */
#define BTRFS_SB_SIZE 0x22Bu           /* through the label */
#define BTRFS_MAGIC "_BHRfS_M"
#define BTRFS_LABEL_LEN 256u

/* ======================================================================
 * ISO 9660: ECMA-119 4th edition, 8.4 "Primary Volume Descriptor", 8.5
 * "Supplementary Volume Descriptor" (Joliet: Microsoft "Joliet Specification"
 * escape sequences), 8.4.26 dates. Volume descriptors are 2048-byte sectors
 * from byte 32768.
 * ====================================================================== */
#define ISO_VD_START 0x8000u
#define ISO_VD_SIZE 0x800u
#define ISO_VD_MAX 16u                 /* descriptors examined before giving up */
#define ISO_VD_TYPE 0u                 /* 1 */
#define ISO_VD_ID 1u                   /* 5: "CD001" */
#define ISO_VD_SYSTEM_ID 8u            /* 32 */
#define ISO_VD_VOLUME_ID 40u           /* 32: the label; a-characters (PVD) or UCS-2BE (Joliet) */
#define ISO_VD_ESCAPE_SEQUENCES 88u    /* 32: Joliet: "%/@", "%/C" or "%/E" */
#define ISO_VD_CREATION_DATE 813u      /* 17: "YYYYMMDDHHMMSScc" + GMT offset */
#define ISO_VD_MODIFICATION_DATE 830u  /* 17 */
#define ISO_VD_USED 847u               /* bytes of a descriptor read */
#define ISO_ID "CD001"
#define ISO_TYPE_PRIMARY 1u
#define ISO_TYPE_SUPPLEMENTARY 2u
#define ISO_TYPE_TERMINATOR 255u
#define ISO_LABEL_LEN 32u
#define ISO_DATE_DIGITS 16u
/* High Sierra, ISO 9660's predecessor: "CDROM" at byte 9 of the descriptor */
#define HSFS_ID_OFF 9u                 /* 5: "CDROM" */
#define HSFS_VOLUME_ID 48u             /* 32 */
#define HSFS_ID "CDROM"

/* ======================================================================
 * SquashFS: Linux Documentation/filesystems/squashfs.rst and
 * fs/squashfs/squashfs_fs.h (struct squashfs_super_block). Version 4 is
 * little-endian; version 3 and older were written in the host's order
 * ("sqsh" big-endian, "hsqs" little-endian).
 * ====================================================================== */
#define SQUASHFS_MAGIC_LE "hsqs"
#define SQUASHFS_MAGIC_BE "sqsh"
#define SQUASHFS_BLOCK_SIZE 12u        /* 4: v4, 4 KiB .. 1 MiB, a power of two */
#define SQUASHFS_BLOCK_LOG 22u         /* 2: v4, log2(block_size) */
#define SQUASHFS_VERSION_MAJOR 28u     /* 2 */
#define SQUASHFS_VERSION_MINOR 30u     /* 2 */
#define SQUASHFS_SB_SIZE 32u
#define SQUASHFS_MIN_BLOCK_LOG 12u
#define SQUASHFS_MAX_BLOCK_LOG 20u

/* ======================================================================
 * Linux MD RAID: include/uapi/linux/raid/md_p.h (mdp_super_t, version 0.90,
 * in the writer's byte order; struct mdp_superblock_1, little-endian).
 * 0.90 is in the last 64 KiB-aligned 64 KiB of the device; 1.0 at the end
 * less 8 KiB (4 KiB-aligned); 1.1 at 0; 1.2 at 4 KiB.
 * ====================================================================== */
#define MD_SB_MAGIC 0xA92B4EFCu
#define MD_RESERVED_BYTES 0x10000u     /* MD_RESERVED_BYTES: the 0.90 area */
#define MD0_MAGIC 0u                   /* 4 */
#define MD0_MAJOR_VERSION 4u           /* 4: 0 */
#define MD0_MINOR_VERSION 8u           /* 4: 90 */
#define MD0_PATCH_VERSION 12u          /* 4 */
#define MD0_SET_UUID0 20u              /* 4 */
#define MD0_SIZE 32u                   /* 4: used size of each member, KiB */
#define MD0_SET_UUID1 52u              /* 4: these three only from minor version 90 */
#define MD0_SET_UUID2 56u              /* 4 */
#define MD0_SET_UUID3 60u              /* 4 */
#define MD0_SB_READ 64u
#define MD1_MAGIC 0u                   /* 4 */
#define MD1_MAJOR_VERSION 4u           /* 4: 1 */
#define MD1_SET_UUID 16u               /* 16 */
#define MD1_SET_NAME 32u               /* 32: "host:name", NUL-padded */
#define MD1_SUPER_OFFSET 144u          /* 8: sector of this superblock */
#define MD1_SB_READ 256u
#define MD1_0_ALIGN 0x1000u
#define MD1_0_FROM_END 0x2000u
#define MD1_2_OFFSET 0x1000u
#define MD_SET_NAME_LEN 32u

/* ======================================================================
 * Windows LDM (dynamic disks): the Linux-NTFS project's "LDM Documentation"
 * (Russon, Kemi), "PRIVHEAD"; also Linux block/partitions/ldm.h. Big-endian.
 * On an MBR disk at sector 6; in the LDM database (the last 1 MiB of the
 * disk, or the LDM metadata partition on GPT) at its sectors 1856 and 2047.
 * ====================================================================== */
#define LDM_PRIVHEAD_SECTOR_MBR 6u
#define LDM_DB_SECTORS 2048u
#define LDM_PRIVHEAD_DB_SECTORS {1856u, 2047u}
#define LDM_PH_MAGIC 0u                /* 8: "PRIVHEAD" */
#define LDM_PH_VERSION_MAJOR 12u       /* 2: 2 */
#define LDM_PH_VERSION_MINOR 14u       /* 2: 11 (Windows 2000/XP) or 12 (Vista and later) */
#define LDM_PH_DISK_ID 48u             /* 64: this disk's GUID as text */
#define LDM_PH_DISK_GROUP_ID 176u      /* 64: the disk group's GUID as text */
#define LDM_PH_DISK_GROUP_NAME 240u    /* 32: e.g. "WinDiskGroup" or "HOSTDg0" */
#define LDM_PH_SIZE 512u
#define LDM_MAGIC "PRIVHEAD"
#define LDM_GUID_TEXT_LEN 64u
#define LDM_GROUP_NAME_LEN 32u

/* ======================================================================
 * ZFS: "ZFS On-Disk Specification" (Sun, 2006), chapter 1: four 256 KiB
 * vdev labels (two at the start, two at the end, 256 KiB-aligned), each
 * with an XDR nvlist at 16 KiB and 128 one-KiB uberblocks at 128 KiB.
 * ====================================================================== */
#define ZFS_LABEL_SIZE 0x40000u
#define ZFS_LABEL_NVLIST 0x4000u       /* XDR-encoded name/value pairs */
#define ZFS_NVLIST_SCAN 4096u          /* the pool name and GUID are near its start */
#define ZFS_LABEL_UBERBLOCKS 0x20000u
#define ZFS_UBERBLOCK_SIZE 1024u
#define ZFS_UBERBLOCK_COUNT 128u
#define ZFS_UB_MAGIC_OFF 0u            /* 8: ZFS_UBERBLOCK_MAGIC in the writer's order */
#define ZFS_UB_VERSION 8u              /* 8: SPA version */
#define ZFS_UBERBLOCK_MAGIC 0x00BAB10CULL
#define ZFS_MIN_UBERBLOCKS 4u          /* uberblocks wanted before a positive match */
#define ZFS_MIN_DEVICE (64u * 1024 * 1024)
/* XDR nvlist: a 4-byte encoding header, then version and flags (4 each), then pairs */
#define ZFS_NVL_FIRST_PAIR 12u
#define ZFS_NVP_ENCODED_SIZE 0u        /* 4: bytes of this pair, 0 ends the list */
#define ZFS_NVP_NAME_LEN 8u            /* 4: name length, the name follows padded to 4 */
#define ZFS_NVP_NAME 12u
#define ZFS_DATA_TYPE_UINT64 8u
#define ZFS_DATA_TYPE_STRING 9u
#define ZFS_DATA_TYPE_NVLIST 19u

#endif
