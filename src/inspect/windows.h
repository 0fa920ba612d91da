/*
 * Windows inspection helpers that parse bytes without I/O (unit tests and
 * fuzzers call them directly).
 */
#ifndef IMGP_INSPECT_WINDOWS_H
#define IMGP_INSPECT_WINDOWS_H

#include "../core/internal.h"

/* What a PE image's headers say about the machine it runs on. */
typedef struct insp_pe_info {
    uint16_t machine;      /* IMAGE_FILE_HEADER.Machine (0x14c i386, 0x8664 AMD64, 0xaa64 ARM64...) */
    uint16_t magic;        /* IMAGE_OPTIONAL_HEADER.Magic: 0x10b PE32, 0x20b PE32+ */
    const char *arch;      /* "i386", "x86_64", "aarch64", "arm", or NULL for another machine */
    unsigned bits;         /* 32 or 64 from the magic */
} insp_pe_info;

/*
 * Parse the headers of a PE file from its first @p len bytes ([MS-PE]
 * "MS-DOS Stub", "Signature", "COFF File Header", "Optional Header Standard
 * Fields"): "MZ", e_lfanew at 0x3c, "PE\0\0", Machine, Magic. @p name is for
 * messages. IMGP_ERR_CORRUPT naming the field and its offset otherwise.
 */
imgp_status insp_parse_pe(imgp_ctx *ctx, const uint8_t *buf, size_t len, const char *name, insp_pe_info *out);

/* What a MountedDevices value's data names. */
typedef enum insp_mounted_kind { INSP_MOUNTED_OTHER, INSP_MOUNTED_MBR, INSP_MOUNTED_GPT } insp_mounted_kind;

typedef struct insp_mounted_device {
    insp_mounted_kind kind;
    uint32_t disk_signature;  /* MBR: the disk signature (MBR offset 0x1b8) */
    uint64_t offset;          /* MBR: the partition's start in bytes */
    char guid[37];            /* GPT: the partition's unique GUID, lowercase */
} insp_mounted_device;

/*
 * Parse a MountedDevices value's @p len bytes of data: 12 bytes are an MBR
 * disk signature (le32) and a partition byte offset (le64); 24 bytes
 * starting "DMIO:ID:" are a GPT partition GUID (mixed-endian, as a GPT
 * partition entry stores it); anything else (a volume name in UTF-16) is OTHER.
 */
void insp_parse_mounted_device(const uint8_t *data, size_t len, insp_mounted_device *out);

/* The release a Windows build number names ("Windows Server 2012 R2", "Windows 10"), or NULL. */
const char *insp_windows_release(unsigned build, bool server);

#endif
