/*
 * MBR on-disk layout, from the UEFI Specification 2.10, section 5.2.1 "Legacy
 * Master Boot Record (MBR)" (Table 5-1, "Legacy MBR", and Table 5-2, "Legacy
 * MBR Partition Record"), which writes down the classic PC layout. Every
 * multi-byte field is little-endian.
 *
 * An extended partition (type 0x05, 0x0F or 0x85) holds a chain of Extended
 * Boot Records, each laid out like an MBR: its first used entry is a logical
 * partition, relative to that EBR; its extended entry links to the next EBR,
 * relative to the start of the primary extended partition.
 */
#ifndef IMGP_MBR_DISK_H
#define IMGP_MBR_DISK_H

#define MBR_SECTOR 512u               /* the MBR and every EBR fill the first 512 bytes of a sector */

/* ---- Table 5-1: the sector ---- */
#define MBR_BOOT_CODE 0u              /* 440: "BootCode", x86 code (ignored) */
#define MBR_DISK_SIGNATURE 440u       /* 4: "UniqueMBRDiskSignature" (0x1B8), the disk identifier */
#define MBR_UNKNOWN 444u              /* 2: "Unknown" (0 when copy-protected, by convention) */
#define MBR_PARTITION_RECORDS 446u    /* 64: "PartitionRecord", four 16-byte records (0x1BE) */
#define MBR_RECORD_COUNT 4u
#define MBR_SIGNATURE 510u            /* 2: "Signature", 0x55 0xAA */
#define MBR_SIGNATURE_0 0x55u
#define MBR_SIGNATURE_1 0xAAu

/* ---- Table 5-2: one partition record ---- */
#define MBR_RECORD_SIZE 16u
#define MBR_REC_BOOT_INDICATOR 0u     /* 1: "BootIndicator", 0x80 = active (bootable), else 0 */
#define MBR_REC_STARTING_CHS 1u       /* 3: "StartingCHS" (ignored: LBA fields are authoritative) */
#define MBR_REC_OS_TYPE 4u            /* 1: "OSType", the partition type byte */
#define MBR_REC_ENDING_CHS 5u         /* 3: "EndingCHS" (ignored) */
#define MBR_REC_STARTING_LBA 8u       /* 4: "StartingLBA" */
#define MBR_REC_SIZE_IN_LBA 12u       /* 4: "SizeInLBA" */

#define MBR_BOOT_ACTIVE 0x80u

/* "OSType" values with a meaning to the parser itself */
#define MBR_TYPE_EMPTY 0x00u
#define MBR_TYPE_EXTENDED_CHS 0x05u   /* DOS extended */
#define MBR_TYPE_EXTENDED_LBA 0x0Fu   /* Windows 95 extended (LBA) */
#define MBR_TYPE_EXTENDED_LINUX 0x85u /* Linux extended */
#define MBR_TYPE_GPT_PROTECTIVE 0xEEu /* UEFI 5.2.3 "Protective MBR" */

/* ---- What else ends in 0x55 0xAA: filesystem boot sectors (volume boot records) ---- */
#define VBR_OEM_NAME 3u               /* 8: NTFS "NTFS    ", exFAT "EXFAT   " (BIOS parameter block) */
#define VBR_OEM_NAME_LEN 8u
#define VBR_FAT16_FS_TYPE 54u         /* 8: FAT12/16 "BS_FilSysType", "FAT12   " / "FAT16   " */
#define VBR_FAT32_FS_TYPE 82u         /* 8: FAT32 "BS_FilSysType", "FAT32   " */
/* A FAT BPB without a type string (DOS 3.3 and older floppies): Microsoft's
 * FAT spec (fatgen103), section 3.1 "Boot Sector and BPB". */
#define VBR_JUMP 0u                   /* 3: "BS_jmpBoot", 0xEB ?? 0x90 or 0xE9 ?? ?? */
#define VBR_JUMP_SHORT 0xEBu
#define VBR_JUMP_SHORT_NOP 0x90u
#define VBR_JUMP_NEAR 0xE9u
#define VBR_BPB_BYTS_PER_SEC 11u      /* 2: "BPB_BytsPerSec", 512, 1024, 2048 or 4096 */
#define VBR_BPB_SEC_PER_CLUS 13u      /* 1: "BPB_SecPerClus", a power of two */
#define VBR_BPB_RSVD_SEC_CNT 14u      /* 2: "BPB_RsvdSecCnt", never 0 */
#define VBR_BPB_NUM_FATS 16u          /* 1: "BPB_NumFATs", never 0 */
#define VBR_BPB_MEDIA 21u             /* 1: "BPB_Media", 0xF0 or 0xF8..0xFF */

#endif
