/*
 * VHD on-disk layout, from Microsoft's "Virtual Hard Disk Image Format
 * Specification" (version 1.0, October 2006). Section names below are the
 * spec's own headings. Every multi-byte field is big-endian unless noted.
 *
 *   fixed:         [ data (current size) ][ footer ]
 *   dynamic/diff:  [ footer copy ][ dynamic header ][ BAT ][ blocks... ][ footer ]
 *
 * Each block is a sector bitmap (rounded up to whole sectors) followed by
 * block-size bytes of data ("Block Allocation Table and Data Blocks").
 */
#ifndef IMGP_VHD_DISK_H
#define IMGP_VHD_DISK_H

#define VHD_SECTOR 512u

/* ---- "Hard Disk Footer Format" (512 bytes; 511 in images of Virtual PC
 * before 2004, which dropped the last reserved byte) ---- */
#define VHD_FOOTER_SIZE 512u
#define VHD_FOOTER_SIZE_OLD 511u
#define VHD_FOOTER_COOKIE "conectix"     /* off 0, 8 bytes: "Cookie" */
#define VHD_FOOTER_COOKIE_LEN 8u
#define VHD_FOOTER_FEATURES 8u           /* 4: "Features"; bit 1 reserved, always set */
#define VHD_FOOTER_FORMAT_VERSION 12u    /* 4: "File Format Version", 0x00010000 */
#define VHD_FOOTER_DATA_OFFSET 16u       /* 8: "Data Offset": dynamic header, ~0 for fixed */
#define VHD_FOOTER_TIMESTAMP 24u         /* 4: "Time Stamp", seconds since 2000-01-01 UTC */
#define VHD_FOOTER_CREATOR_APP 28u       /* 4: "Creator Application" ("vpc ", "win ", "qemu"...) */
#define VHD_FOOTER_CREATOR_MAJOR 32u     /* 2: "Creator Version", major half */
#define VHD_FOOTER_CREATOR_MINOR 34u     /* 2: "Creator Version", minor half */
#define VHD_FOOTER_CREATOR_OS 36u        /* 4: "Creator Host OS" ("Wi2k", "Mac ") */
#define VHD_FOOTER_ORIGINAL_SIZE 40u     /* 8: "Original Size", bytes at creation */
#define VHD_FOOTER_CURRENT_SIZE 48u      /* 8: "Current Size", bytes */
#define VHD_FOOTER_CYLINDERS 56u         /* 2: "Disk Geometry", cylinders */
#define VHD_FOOTER_HEADS 58u             /* 1: "Disk Geometry", heads */
#define VHD_FOOTER_SECTORS 59u           /* 1: "Disk Geometry", sectors per track */
#define VHD_FOOTER_DISK_TYPE 60u         /* 4: "Disk Type" (VHD_TYPE_*) */
#define VHD_FOOTER_CHECKSUM 64u          /* 4: "Checksum": one's complement of the byte sum,
                                            the checksum field counted as zero */
#define VHD_FOOTER_UUID 68u              /* 16: "Unique Id" */
#define VHD_FOOTER_SAVED_STATE 84u       /* 1: "Saved State" */
                                         /* 85..511: reserved */

/* "Disk Type" */
#define VHD_TYPE_FIXED 2u
#define VHD_TYPE_DYNAMIC 3u
#define VHD_TYPE_DIFFERENCING 4u

/* "Creator Host OS" */
#define VHD_OS_WINDOWS 0x5769326Bu /* "Wi2k" */
#define VHD_OS_MACINTOSH 0x4D616320u /* "Mac " */

/* ---- "Dynamic Disk Header Format" (1024 bytes, at the footer's Data Offset) ---- */
#define VHD_DYN_SIZE 1024u
#define VHD_DYN_COOKIE "cxsparse"        /* off 0, 8 bytes: "Cookie" */
#define VHD_DYN_COOKIE_LEN 8u
#define VHD_DYN_DATA_OFFSET 8u           /* 8: "Data Offset", unused: ~0 */
#define VHD_DYN_TABLE_OFFSET 16u         /* 8: "Table Offset": absolute offset of the BAT */
#define VHD_DYN_HEADER_VERSION 24u       /* 4: "Header Version", 0x00010000 */
#define VHD_DYN_MAX_TABLE_ENTRIES 28u    /* 4: "Max Table Entries" */
#define VHD_DYN_BLOCK_SIZE 32u           /* 4: "Block Size" (data part, bytes) */
#define VHD_DYN_CHECKSUM 36u             /* 4: "Checksum", as the footer's */
#define VHD_DYN_PARENT_UUID 40u          /* 16: "Parent Unique ID" (differencing) */
#define VHD_DYN_PARENT_TIMESTAMP 56u     /* 4: "Parent Time Stamp" */
                                         /* 60: 4 reserved */
#define VHD_DYN_PARENT_NAME 64u          /* 512: "Parent Unicode Name", UTF-16 big-endian */
#define VHD_DYN_PARENT_NAME_LEN 512u
#define VHD_DYN_LOCATORS 576u            /* 8 x 24: "Parent Locator Entries" */
#define VHD_DYN_LOCATOR_COUNT 8u
#define VHD_DYN_LOCATOR_SIZE 24u
                                         /* 768..1023: reserved */

/* One "Parent Locator Entry" (24 bytes) */
#define VHD_LOC_PLATFORM_CODE 0u         /* 4: "Platform Code" (VHD_PLATFORM_*) */
#define VHD_LOC_DATA_SPACE 4u            /* 4: "Platform Data Space": sectors per the spec,
                                            bytes in Hyper-V's images; not relied on */
#define VHD_LOC_DATA_LENGTH 8u           /* 4: "Platform Data Length", bytes */
                                         /* 12: 4 reserved */
#define VHD_LOC_DATA_OFFSET 16u          /* 8: "Platform Data Offset", absolute file offset */

/* "Platform Code" */
#define VHD_PLATFORM_NONE 0u
#define VHD_PLATFORM_WI2R 0x57693272u    /* "Wi2r": deprecated, relative, not read */
#define VHD_PLATFORM_WI2K 0x5769326Bu    /* "Wi2k": deprecated, absolute, not read */
#define VHD_PLATFORM_W2RU 0x57327275u    /* "W2ru": relative Windows path, UTF-16LE */
#define VHD_PLATFORM_W2KU 0x57326B75u    /* "W2ku": absolute Windows path, UTF-16LE */
#define VHD_PLATFORM_MAC 0x4D616320u     /* "Mac ": Mac OS alias blob, not read */
#define VHD_PLATFORM_MACX 0x4D616358u    /* "MacX": file:// URL, UTF-8 */

/* ---- "Block Allocation Table and Data Blocks" ---- */
#define VHD_BAT_ENTRY_SIZE 4u            /* big-endian sector number of the block's bitmap */
#define VHD_BAT_UNUSED 0xFFFFFFFFu       /* block not allocated */

/* Limits of qemu's block/vpc.c, which the cloud's importer uses:
 * VHD_MAX_SECTORS (2040 GiB) and VHD_MAX_GEOMETRY (65535 x 16 x 255). */
#define VHD_MAX_SECTORS 0xff000000ull
#define VHD_MAX_GEOMETRY (65535ull * 16 * 255)

#endif
