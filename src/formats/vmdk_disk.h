/*
 * VMDK on-disk layout, from VMware's "Virtual Disk Format 5.0" technical note
 * (section names below are its headings). Every multi-byte field is
 * little-endian. Sizes and offsets called "sectors" are in 512-byte units.
 *
 *   descriptor file:      text ("The Descriptor File") naming extent files
 *   monolithicSparse:     [ header ][ embedded descriptor ][ rgd ][ gts ][ gd ][ gts ][ grains... ]
 *   streamOptimized:      [ header ][ descriptor ][ (marker + compressed grain)... ]
 *                         [ gt markers + gts ][ gd marker + gd ][ footer marker ][ footer ][ eos ]
 *
 * A sparse extent maps a grain (grainSize sectors) through two levels: the
 * grain directory (GD: one 32-bit sector offset per grain table) and grain
 * tables (GT: numGTEsPerGT 32-bit sector offsets of grains).
 */
#ifndef IMGP_VMDK_DISK_H
#define IMGP_VMDK_DISK_H

#define VMDK_SECTOR 512u
#define VMDK_SECTOR_SHIFT 9u

/* ---- "Hosted Sparse Extent Header" (SparseExtentHeader, one sector) ---- */
#define VMDK_HDR_SIZE 512u
#define VMDK_HDR_MAGIC "KDMV"              /* off 0, 4: magicNumber 0x564d444b as bytes */
#define VMDK_HDR_VERSION 4u                /* 4: version, 1 (2: zeroed-grain GTEs, 3: stream) */
#define VMDK_HDR_FLAGS 8u                  /* 4: flags (VMDK_FLAG_*) */
#define VMDK_HDR_CAPACITY 12u              /* 8: capacity, sectors of the extent */
#define VMDK_HDR_GRAIN_SIZE 20u            /* 8: grainSize, sectors; a power of two */
#define VMDK_HDR_DESC_OFFSET 28u           /* 8: descriptorOffset, sectors (0: none) */
#define VMDK_HDR_DESC_SIZE 36u             /* 8: descriptorSize, sectors */
#define VMDK_HDR_GTES_PER_GT 44u           /* 4: numGTEsPerGT, 512 in VMware's disks */
#define VMDK_HDR_RGD_OFFSET 48u            /* 8: rgdOffset, sectors: redundant grain directory */
#define VMDK_HDR_GD_OFFSET 56u             /* 8: gdOffset, sectors (VMDK_GD_AT_END: see footer) */
#define VMDK_HDR_OVERHEAD 64u              /* 8: overHead, sectors of metadata before the grains */
#define VMDK_HDR_UNCLEAN 72u               /* 1: uncleanShutdown */
#define VMDK_HDR_NEWLINE_CHECK 73u         /* 4: singleEndLineChar '\n', nonEndLineChar ' ',
                                              doubleEndLineChar1 '\r', doubleEndLineChar2 '\n' */
#define VMDK_HDR_NEWLINE_BYTES "\n \r\n"
#define VMDK_HDR_COMPRESS_ALGORITHM 77u    /* 2: compressAlgorithm (VMDK_COMPRESSION_*) */
                                           /* 79..511: pad */

#define VMDK_VERSION_MIN 1u
#define VMDK_VERSION_MAX 3u /* 3: stream-optimized; also written with changed block tracking */

/* flags */
#define VMDK_FLAG_NEWLINE_TEST (1u << 0)   /* the newline check bytes are valid */
#define VMDK_FLAG_REDUNDANT_GT (1u << 1)   /* a redundant grain directory and tables exist */
#define VMDK_FLAG_ZEROED_GRAIN (1u << 2)   /* GTE VMDK_GTE_ZEROED may appear (version 2) */
#define VMDK_FLAG_COMPRESSED (1u << 16)    /* grains are compressed */
#define VMDK_FLAG_MARKERS (1u << 17)       /* the extent holds markers ("Stream-Optimized Compressed") */

/* compressAlgorithm */
#define VMDK_COMPRESSION_NONE 0u
#define VMDK_COMPRESSION_DEFLATE 1u        /* RFC 1951 inside an RFC 1950 (zlib) wrapper */

/* gdOffset of a stream-optimized extent whose grain directory is found
 * through the footer copy of the header at the end of the file. */
#define VMDK_GD_AT_END UINT64_C(0xffffffffffffffff)

/* Grain table entries ("Grain Table and Grain Directory"; zeroed grains: version 2) */
#define VMDK_GTE_UNALLOCATED 0u            /* not in this extent: the parent's data, or zeros */
#define VMDK_GTE_ZEROED 1u                 /* reads as zeros, does not fall through to the parent */
#define VMDK_GTE_SIZE 4u
#define VMDK_GDE_SIZE 4u

/* ---- "Stream-Optimized Compressed Sparse Extents": markers, one sector each
 * except a grain marker, whose compressed data follows its 12 bytes. ---- */
#define VMDK_MARKER_SIZE 512u
#define VMDK_MARKER_VAL 0u                 /* 8: lba of a grain, or sectors of metadata that follow */
#define VMDK_MARKER_LEN 8u                 /* 4: size: compressed bytes of a grain; 0 for others */
#define VMDK_MARKER_TYPE 12u               /* 4: type, when size is 0 (VMDK_MARKER_*) */
#define VMDK_GRAIN_MARKER_DATA 12u         /* a grain's compressed stream starts here */
#define VMDK_MARKER_HEAD 16u               /* bytes of a marker we parse */

#define VMDK_MARKER_EOS 0u                 /* end of stream */
#define VMDK_MARKER_GT 1u                  /* a grain table follows */
#define VMDK_MARKER_GD 2u                  /* a grain directory follows */
#define VMDK_MARKER_FOOTER 3u              /* the footer (a copy of the header) follows */

/* The end of a stream-optimized extent: footer marker, footer, end-of-stream marker. */
#define VMDK_FOOTER_FROM_END (3u * VMDK_SECTOR) /* the footer marker, from the end of the file */

/* ---- "ESX Server Sparse Extents" (ESX 2, COWD): recognised, not read ---- */
#define VMDK_COWD_MAGIC "COWD"             /* off 0, 4 */
#define VMDK_COWD_NUM_SECTORS 12u          /* 4: numSectors (capacity, sectors) */

/* ---- seSparse (ESXi 6.5+ space-efficient sparse; not in the 5.0 note, layout
 * as qemu's block/vmdk.c reads it): recognised, not read ---- */
#define VMDK_SESPARSE_MAGIC UINT64_C(0x00000000cafebabe) /* off 0, 8: const header magic */
#define VMDK_SESPARSE_VERSION_OFF 8u       /* 8: version, 0x0000000200000001 */
#define VMDK_SESPARSE_VERSION UINT64_C(0x0000000200000001)
#define VMDK_SESPARSE_CAPACITY 16u         /* 8: capacity, sectors */

/* ---- "The Descriptor File" ---- */
#define VMDK_DESC_SIGNATURE "# Disk DescriptorFile"
#define VMDK_PARENT_CID_NONE 0xffffffffu   /* parentCID of a disk without a parent */

#endif
