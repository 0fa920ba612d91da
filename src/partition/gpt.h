/*
 * GPT parsers, internal to libimgprobe: each takes a byte buffer of known
 * length and does no I/O, so unit tests and fuzzers call them directly.
 * src/partition/gpt.c reads the headers and entry arrays and picks the copy
 * to trust.
 */
#ifndef IMGP_GPT_H
#define IMGP_GPT_H

#include "gpt_disk.h"
#include "mbr.h"

/* Probe scores, against mbr.h's. */
#define GPT_SCORE_VALID IMGP_SCORE_MAGIC                /* a header with a good CRC at LBA 1 */
#define GPT_SCORE_DAMAGED (MBR_SCORE_PLAUSIBLE + 25)    /* "EFI PART" or an 0xEE record, no good header */
#define GPT_SCORE_UNPROTECTED (IMGP_SCORE_WEAK - 5)     /* a good header, an MBR listing others and no 0xEE */

/* Largest partition entry we accept: a sector (the spec only says 128 x 2^n). */
#define GPT_MAX_ENTRY_SIZE 4096u

/* A decoded name: 36 UTF-16 units give at most 36 x 3 bytes of UTF-8 (a pair of
 * units gives 4), and the NUL. */
#define GPT_NAME_UTF8_MAX (GPT_ENT_NAME_UNITS * 3 + 1)

typedef struct gpt_header {
    uint32_t revision;
    uint32_t header_size;
    uint64_t my_lba, alternate_lba;
    uint64_t first_usable_lba, last_usable_lba;
    uint8_t disk_guid[GPT_GUID_SIZE];
    uint64_t entries_lba;
    uint32_t num_entries, entry_size, entries_crc;
    uint64_t entries_bytes; /* derived: num_entries x entry_size */
} gpt_header;

typedef struct gpt_entry {
    uint8_t type_guid[GPT_GUID_SIZE];
    uint8_t unique_guid[GPT_GUID_SIZE];
    uint64_t first_lba, last_lba; /* inclusive */
    uint64_t attributes;
    char name[GPT_NAME_UTF8_MAX]; /* UTF-8 */
} gpt_entry;

/** zlib's CRC-32 (the one UEFI uses, 2.10 appendix) of any length. */
uint32_t gpt_crc32(const uint8_t *buf, size_t len);

/**
 * Parse and check the header in @p buf, one logical sector of @p sector_size
 * bytes read from LBA @p lba: signature, header size, CRC, MyLBA, entry size
 * and count, the usable area, and an entry array that neither overlaps the
 * header nor exceeds @p max_table_bytes. Does not know the disk's size.
 * @param ctx  where the reason is recorded; NULL to only get the status (probes).
 * @return IMGP_OK, IMGP_ERR_CORRUPT, or IMGP_ERR_LIMIT for a huge entry array.
 */
imgp_status gpt_header_parse(imgp_ctx *ctx, const uint8_t *buf, size_t sector_size, uint64_t lba,
                             uint64_t max_table_bytes, gpt_header *out);

/** Check the CRC of the entry array @p buf (@p len == h->entries_bytes). */
imgp_status gpt_entries_check(imgp_ctx *ctx, const uint8_t *buf, size_t len, const gpt_header *h);

/** Parse one entry from @p buf (@p len >= GPT_ENTRY_MIN_SIZE bytes). @return false when short. */
bool gpt_entry_parse(const uint8_t *buf, size_t len, gpt_entry *out);

/** @return true when @p guid is all zeros (an unused entry). */
bool gpt_guid_is_zero(const uint8_t guid[GPT_GUID_SIZE]);

/** Format @p guid as lowercase 8-4-4-4-12 text (the first three groups little-endian). */
void gpt_guid_format(const uint8_t guid[GPT_GUID_SIZE], char out[GPT_GUID_TEXT_LEN + 1]);

/**
 * Decode @p units UTF-16LE code units from @p buf, up to the first NUL unit,
 * into UTF-8 in @p out (@p out_len bytes, always NUL-terminated; output that
 * does not fit is cut at a character boundary). Surrogate pairs are joined;
 * an unpaired surrogate becomes U+FFFD.
 */
void gpt_name_decode(const uint8_t *buf, size_t units, char *out, size_t out_len);

/** Pure: how sure the first @p len bytes of a disk are a GPT disk (GPT_SCORE_*, or 0). */
int gpt_score(const uint8_t *head, size_t len);

#endif
