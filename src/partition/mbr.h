/*
 * MBR parsers, internal to libimgprobe: the sector parse and the probe take a
 * byte buffer and do no I/O, so unit tests and fuzzers call them directly;
 * mbr_read_table() reads the table and its EBR chain from the disk. GPT uses
 * them too, for the protective MBR and as its fallback.
 */
#ifndef IMGP_MBR_H
#define IMGP_MBR_H

#include "mbr_disk.h"
#include "volumes.h"

/*
 * Probe scores. A plausible MBR is sure of little (two signature bytes), so
 * it scores below every claim GPT makes for a disk that has a protective MBR,
 * and above GPT's claim for a GPT header that the MBR does not protect (a
 * stale GPT left behind by an MBR partitioner: Linux and libblkid ignore it).
 */
#define MBR_SCORE_PLAUSIBLE 50   /* 0x55AA, sane records */
#define MBR_SCORE_ODD IMGP_SCORE_WEAK /* 0x55AA, odd records, and not a filesystem boot sector */

typedef struct mbr_record {
    uint8_t boot;   /* BootIndicator */
    uint8_t type;   /* OSType */
    uint32_t start; /* StartingLBA, relative to the MBR or EBR that holds it (links: to the extended partition) */
    uint32_t count; /* SizeInLBA; 0 = unused (as Linux and fdisk read it, whatever the type) */
} mbr_record;

typedef struct mbr_sector {
    uint32_t disk_signature;
    mbr_record records[MBR_RECORD_COUNT];
} mbr_sector;

/**
 * Parse an MBR or EBR from the first 512 bytes of @p buf (@p len bytes).
 * @return false when @p len is short or the 0x55 0xAA signature is missing.
 */
bool mbr_sector_parse(const uint8_t *buf, size_t len, mbr_sector *out);

/** @return true for the extended partition types 0x05, 0x0F and 0x85. */
bool mbr_type_is_extended(uint8_t type);

/**
 * Pure: how sure the first @p len bytes of a disk are an MBR (MBR_SCORE_*, or
 * IMGP_SCORE_NONE for no signature, or for a filesystem boot sector: FAT,
 * NTFS and exFAT ones end in 0x55AA too).
 */
int mbr_score(const uint8_t *head, size_t len);

/**
 * Read the MBR of vols->disk and the EBR chain of its extended partition into
 * @p vols: primaries as 1-4, the extended one as a container, logicals as 5,
 * 6... in chain order. Sets scheme "mbr" (or "none" without a signature),
 * disk_id and sector_size. Damage becomes notes; only a failed read of the
 * disk or an allocation is an error.
 */
imgp_status mbr_read_table(imgp_volumes *vols);

#endif
