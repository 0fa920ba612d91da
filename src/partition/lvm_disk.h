/*
 * LVM2 on-disk layout: the label, the PV header and the metadata area, as
 * lvm2 defines them (lib/label/label.h "struct label_header",
 * lib/format_text/layout.h "struct pv_header", "struct mda_header",
 * "struct raw_locn"; lib/format_text/format-text.h "struct disk_locn").
 * Every multi-byte field is little-endian (lvm2's xlate macros).
 *
 *   PV device:  [ sectors 0..3: one holds the label + PV header ]
 *               [ metadata area 1: mda header (512) | text metadata (a ring) ]
 *               [ pe_start: extents, extent_size sectors each ... ]
 *               [ metadata area 2 (optional, at the end) ]
 *
 * The text metadata (lib/format_text/export.c, import_vsn1.c) is described in
 * lvm.h; its syntax is lvm2's config syntax (libdm/libdm-config.c).
 */
#ifndef IMGP_LVM_DISK_H
#define IMGP_LVM_DISK_H

#define LVM_SECTOR 512u

/* ---- the label (lib/label/label.h, label.c) ---- */
#define LVM_LABEL_SCAN_SECTORS 4u   /* the label lies in one of sectors 0..3 */
#define LVM_LABEL_SIZE 512u         /* the label, with the PV header, fills one sector */
#define LVM_LABEL_ID "LABELONE"     /* off 0, 8 bytes: "id" */
#define LVM_LABEL_ID_LEN 8u
#define LVM_LABEL_SECTOR_XL 8u      /* 8: "sector_xl": the sector the label is in */
#define LVM_LABEL_CRC_XL 16u        /* 4: "crc_xl": lvm_crc of bytes 20..511 */
#define LVM_LABEL_OFFSET_XL 20u     /* 4: "offset_xl": where the PV header starts, from byte 0 */
#define LVM_LABEL_TYPE 24u          /* 8: "type" */
#define LVM_LABEL_TYPE_LVM2 "LVM2 001" /* lib/format_text/layout.h LVM2_LABEL */
#define LVM_LABEL_TYPE_LEN 8u
#define LVM_LABEL_HEADER_SIZE 32u

/* The CRC (lib/misc/crc.c, crc.h): CRC-32 with the reflected polynomial
 * 0xedb88320, started at INITIAL_CRC and never inverted at the end. */
#define LVM_INITIAL_CRC 0xf597a6cfu

/* ---- the PV header (lib/format_text/layout.h "struct pv_header"),
 * at offset_xl inside the label sector ---- */
#define LVM_PVH_UUID 0u             /* 32: "pv_uuid", ID_LEN characters, no dashes */
#define LVM_PVH_DEVICE_SIZE 32u     /* 8: "device_size_xl", bytes */
#define LVM_PVH_AREAS 40u           /* "disk_areas_xl": two lists of disk_locn, each ending
                                       with an all-zero entry: data areas, then metadata areas */
#define LVM_PVH_MIN_SIZE 40u

/* "struct disk_locn" (lib/format_text/format-text.h) */
#define LVM_LOCN_OFFSET 0u          /* 8: bytes from the start of the device; 0 ends a list */
#define LVM_LOCN_SIZE 8u            /* 8: bytes; 0 for the last data area means "to the end" */
#define LVM_LOCN_LEN 16u

#define LVM_ID_LEN 32u              /* lib/uuid/uuid.h ID_LEN */

/* ---- the metadata area header (lib/format_text/layout.h "struct mda_header"),
 * the first 512 bytes of every metadata area ---- */
#define LVM_MDA_HEADER_SIZE 512u    /* MDA_HEADER_SIZE */
#define LVM_MDA_CHECKSUM 0u         /* 4: "checksum_xl": lvm_crc of bytes 4..511 */
#define LVM_MDA_MAGIC 4u            /* 16: "magic", FMTT_MAGIC */
#define LVM_MDA_MAGIC_BYTES " LVM2 x[5A%r0N*>"
#define LVM_MDA_MAGIC_LEN 16u
#define LVM_MDA_VERSION 20u         /* 4: "version", FMTT_VERSION */
#define LVM_MDA_VERSION_1 1u
#define LVM_MDA_START 24u           /* 8: "start": absolute byte offset of this header */
#define LVM_MDA_SIZE 32u            /* 8: "size": bytes of the whole area, header included */
#define LVM_MDA_RAW_LOCNS 40u       /* "raw_locns": slot 0 the committed metadata,
                                       slot 1 the precommitted one, then a zero entry */

/* "struct raw_locn" */
#define LVM_RLOCN_OFFSET 0u         /* 8: bytes from the start of the area (header included) */
#define LVM_RLOCN_SIZE 8u           /* 8: bytes of text, its terminating NUL included */
#define LVM_RLOCN_CHECKSUM 16u      /* 4: lvm_crc of the text (both pieces when it wraps) */
#define LVM_RLOCN_FLAGS 20u         /* 4: RAW_LOCN_IGNORED */
#define LVM_RLOCN_LEN 24u
#define LVM_RLOCN_IGNORED 0x1u      /* this area is not kept up to date: do not use it */

/* The text is a ring buffer over [LVM_MDA_HEADER_SIZE, size) of the area: text
 * that reaches the end continues just after the header
 * (lib/format_text/format-text.c _vg_read_raw_area, "wrap"). */

#endif
