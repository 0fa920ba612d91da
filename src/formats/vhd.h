/*
 * VHD parsers, internal to libimgprobe: each takes a byte buffer of known
 * length and checks it with no I/O, so unit tests and fuzzers call them
 * directly. src/formats/vhd.c reads the bytes and assembles the device.
 */
#ifndef IMGP_VHD_H
#define IMGP_VHD_H

#include "format.h"
#include "vhd_disk.h"

/* Largest block we read: a 256 MiB block has a 64 KiB sector bitmap. qemu,
 * Hyper-V and Virtual PC write 2 MiB; others 512 KiB. */
#define VHD_MAX_BLOCK_SIZE (256u << 20)

/* Longest parent locator we read: a Windows long path of 32767 UTF-16 units. */
#define VHD_MAX_LOCATOR_BYTES 65536u

typedef struct vhd_footer {
    uint64_t data_offset;
    uint8_t creator_app[4];
    uint16_t creator_major, creator_minor;
    uint32_t creator_os;
    uint64_t original_size;
    uint64_t current_size;
    uint16_t cylinders;
    uint8_t heads, sectors_per_track;
    uint32_t disk_type;
    uint32_t checksum;
    uint8_t uuid[16];
    uint8_t saved_state;
    uint64_t virtual_size; /* derived: vhd_footer_virtual_size() */
} vhd_footer;

typedef struct vhd_locator {
    uint32_t platform;
    uint32_t data_length;
    uint64_t data_offset;
} vhd_locator;

typedef struct vhd_dyn_header {
    uint64_t table_offset;
    uint32_t max_table_entries;
    uint32_t block_size;
    uint32_t bitmap_size;   /* derived: the sector bitmap before each block, whole sectors */
    uint32_t blocks;        /* derived: BAT entries that map the virtual size */
    uint8_t parent_uuid[16];
    uint32_t parent_timestamp;
    uint8_t parent_name[VHD_DYN_PARENT_NAME_LEN]; /* raw UTF-16BE */
    vhd_locator locators[VHD_DYN_LOCATOR_COUNT];
} vhd_dyn_header;

/** The footer checksum rule: one's complement of the sum of @p len bytes, the
 * 4 bytes at @p checksum_off counted as zero. */
uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t checksum_off);

/**
 * Parse a footer of @p len bytes (512, or 511 for old Virtual PC images) found
 * at file offset @p where of a file of @p file_size bytes.
 * Checks the cookie, the checksum, the disk type, the dynamic header's place
 * in the file and the virtual size's limit; computes out->virtual_size.
 * @return IMGP_ERR_CORRUPT or IMGP_ERR_UNSUPPORTED with a message naming @p where.
 */
imgp_status vhd_footer_parse(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint64_t where,
                             uint64_t file_size, vhd_footer *out);

/** The virtual size qemu 7.2 gives this footer (see the comment in vhd.c). */
uint64_t vhd_footer_virtual_size(const vhd_footer *f);

/**
 * Parse the 1024-byte dynamic disk header at file offset @p where, for a disk
 * of @p virtual_size bytes in a file of @p file_size bytes: cookie, checksum,
 * block size, the table against the virtual size and the file, and (for a
 * differencing disk, @p differencing) every parent locator's place in the file.
 */
imgp_status vhd_dyn_header_parse(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint64_t where,
                                 uint64_t virtual_size, uint64_t file_size, bool differencing,
                                 vhd_dyn_header *out);

/**
 * Parse @p count big-endian BAT entries from @p buf (@p len bytes) into @p bat,
 * checking that every allocated block (bitmap and data) lies inside the file.
 */
imgp_status vhd_bat_parse(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint32_t count,
                          const vhd_dyn_header *hdr, uint64_t file_size, uint32_t *bat);

/**
 * Decode UTF-16 (@p big_endian or little) up to the first NUL or @p len bytes
 * into UTF-8 in @p out (@p out_len bytes, NUL-terminated).
 * @return false for an unpaired surrogate or when @p out is too small.
 */
bool vhd_utf16_to_utf8(const uint8_t *buf, size_t len, bool big_endian, char *out, size_t out_len);

/**
 * Turn a parent locator's data (@p platform: W2ru, W2ku or MacX) into a host
 * path in @p out (@p out_len bytes): Windows separators become '/', a
 * leading ".\" is dropped, a MacX file:// URL loses its scheme and host and is
 * percent-decoded. @return false for data that does not decode or a platform
 * that is not read.
 */
bool vhd_locator_path(uint32_t platform, const uint8_t *data, size_t len, char *out, size_t out_len);

#endif
