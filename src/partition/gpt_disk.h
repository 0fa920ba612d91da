/*
 * GPT on-disk layout, from the UEFI Specification 2.10, section 5.3 "GUID
 * Partition Table (GPT) Disk Layout": 5.3.2 "GPT Header" (Table 5-5) and
 * 5.3.3 "GPT Partition Entry Array" (Tables 5-6 and 5-8). Every multi-byte
 * field is little-endian; GUIDs are stored as in EFI_GUID (the first three
 * groups little-endian, the last two as bytes: "mixed-endian").
 *
 *   LBA 0          protective MBR (5.2.3)
 *   LBA 1          primary header
 *   LBA 2..        primary partition entry array (usually 128 x 128 bytes)
 *   ...            partitions, between FirstUsableLBA and LastUsableLBA
 *   LBA last-32..  backup partition entry array
 *   LBA last       backup header (its MyLBA is the last LBA, AlternateLBA 1)
 *
 * An LBA is a logical sector of the disk: 512 or 4096 bytes.
 */
#ifndef IMGP_GPT_DISK_H
#define IMGP_GPT_DISK_H

/* ---- Table 5-5: GPT Header ---- */
#define GPT_HDR_SIGNATURE 0u          /* 8: "Signature", "EFI PART" */
#define GPT_SIGNATURE "EFI PART"
#define GPT_SIGNATURE_LEN 8u
#define GPT_HDR_REVISION 8u           /* 4: "Revision", 0x00010000 for 1.0 */
#define GPT_HDR_HEADER_SIZE 12u       /* 4: "HeaderSize", >= 92 and <= the logical block size */
#define GPT_HDR_HEADER_CRC32 16u      /* 4: "HeaderCRC32", CRC32 of HeaderSize bytes, this field zeroed */
#define GPT_HDR_RESERVED 20u          /* 4: "Reserved", must be zero */
#define GPT_HDR_MY_LBA 24u            /* 8: "MyLBA", the LBA of this header */
#define GPT_HDR_ALTERNATE_LBA 32u     /* 8: "AlternateLBA", the LBA of the other header */
#define GPT_HDR_FIRST_USABLE_LBA 40u  /* 8: "FirstUsableLBA" */
#define GPT_HDR_LAST_USABLE_LBA 48u   /* 8: "LastUsableLBA" (inclusive) */
#define GPT_HDR_DISK_GUID 56u         /* 16: "DiskGUID" */
#define GPT_HDR_ENTRIES_LBA 72u       /* 8: "PartitionEntryLBA", start of the entry array */
#define GPT_HDR_NUM_ENTRIES 80u       /* 4: "NumberOfPartitionEntries" */
#define GPT_HDR_ENTRY_SIZE 84u        /* 4: "SizeOfPartitionEntry", 128 x 2^n */
#define GPT_HDR_ENTRIES_CRC32 88u     /* 4: "PartitionEntryArrayCRC32", over Num x Size bytes */
#define GPT_HEADER_MIN_SIZE 92u       /* 92..: "Reserved", zeros up to the end of the block */

#define GPT_REVISION_1_0 0x00010000u

/* ---- Table 5-6: GPT Partition Entry ---- */
#define GPT_ENTRY_MIN_SIZE 128u
#define GPT_ENT_TYPE_GUID 0u          /* 16: "PartitionTypeGUID", all zeros = unused entry */
#define GPT_ENT_UNIQUE_GUID 16u       /* 16: "UniquePartitionGUID" */
#define GPT_ENT_STARTING_LBA 32u      /* 8: "StartingLBA" */
#define GPT_ENT_ENDING_LBA 40u        /* 8: "EndingLBA", inclusive */
#define GPT_ENT_ATTRIBUTES 48u        /* 8: "Attributes" (Table 5-8) */
#define GPT_ENT_NAME 56u              /* 72: "PartitionName", 36 UTF-16LE code units, NUL-padded */
#define GPT_ENT_NAME_UNITS 36u

/* ---- Table 5-8: Partition Entry Attributes ---- */
#define GPT_ATTR_REQUIRED_PARTITION 0x1u           /* bit 0: the platform needs it */
#define GPT_ATTR_NO_BLOCK_IO_PROTOCOL 0x2u         /* bit 1: EFI must not make a block device of it */
#define GPT_ATTR_LEGACY_BIOS_BOOTABLE 0x4u         /* bit 2: what a BIOS boots (the MBR active flag) */
                                                   /* bits 3..47 reserved; 48..63 per partition type */

#define GPT_GUID_SIZE 16u
#define GPT_GUID_TEXT_LEN 36u         /* "c12a7328-f81f-11d2-ba4b-00a0c93ec93b" */

#endif
