/*
 * The initramfs reader: lists the files of a Linux initramfs image without
 * unpacking anything to disk.
 *
 * An initramfs is what the kernel's init/initramfs.c unpacks
 * (Documentation/driver-api/early-userspace/buffer-format.rst):
 *
 *   initramfs := ("\0" | cpio_archive | compressed(cpio_archive))*
 *
 * cpio archives in the "newc" format (070701, or 070702 with a data
 * checksum; cpio_disk.h), usually an uncompressed early-microcode archive
 * first, then the main one compressed with gzip, xz, lzma, zstd, lz4 (legacy
 * frame), bzip2 or not at all, with any zero padding between them. Each
 * segment is recognised by its magic as the kernel does (lib/decompress.c),
 * decompressed bytes stream through the cpio parser, and the walk follows the
 * kernel's rules (unpack_to_rootfs(), flush_buffer(), do_header(), do_name()):
 *  - zero bytes between segments are skipped; an uncompressed archive starts
 *    at a '0' on a 4-byte boundary; a non-zero byte after an uncompressed
 *    archive off that boundary is "broken padding";
 *  - inside a decompressed stream, zeros between entries are padding and a new
 *    archive may start on a 4-byte boundary; anything else is junk, and the
 *    stream must end at an entry boundary;
 *  - an entry whose name size is 0 or more than PATH_MAX (4096), a symlink
 *    whose target is longer than PATH_MAX, and an entry that is neither a
 *    regular file nor empty but carries data are skipped unlisted, as the
 *    kernel skips them; "TRAILER!!!" ends an archive and is not listed; the
 *    root itself ("." or "/") is not listed;
 *  - a name must end with a NUL inside its name size (Linux 6.x refuses the
 *    archive otherwise: "malformed archive"); a name is what precedes its
 *    first NUL;
 *  - 070702 entries: the byte sum of a regular file's data must equal c_check.
 *
 * Where the kernel stops with an error but keeps what it unpacked, the walk
 * decides by where the error lies:
 *  - at the start of a segment, after at least one whole archive (trailing
 *    junk, an unknown magic, broken padding): the walk ends there with
 *    IMGP_OK and says so in info->note, because the kernel boots with what it
 *    unpacked before it;
 *  - inside a segment (corrupt or truncated compressed data, a bad cpio
 *    header, a name without NUL, a checksum mismatch) or before any whole
 *    archive: IMGP_ERR_CORRUPT naming the offset; the entries before it have
 *    been passed to the callback;
 *  - an lzo segment (the kernel can read it, imgprobe cannot): IMGP_ERR_UNSUPPORTED.
 * An lz4 segment in the frame format (lz4 without -l) is read, but the
 * kernel cannot read it: info->note says so.
 *
 * Bounds: the bytes all decompressors produce together, IMGP_LIMIT_DECOMPRESSED;
 * the cpio headers read (listed, skipped and trailers), IMGP_LIMIT_CPIO_ENTRIES;
 * decoder memory, imgp_decoder_memory_limit() (decompress.h). Past one,
 * IMGP_ERR_LIMIT ("a decompression bomb?"). Memory is otherwise fixed: a
 * 128 KiB input buffer, a 64 KiB output buffer, 8 KiB for a name, and per
 * compression its decoder (lz4 legacy: 16 MiB for a block; bzip2: 3.6 MB).
 */
#ifndef IMGP_INSPECT_INITRAMFS_H
#define IMGP_INSPECT_INITRAMFS_H

#include "imgprobe/fs.h"

#include "cpio_disk.h"
#include "decompress.h"

/* One entry of the initramfs, valid during the callback only. */
typedef struct imgp_cpio_entry {
    const char *name;   /* without leading "./" or "/", NUL-terminated */
    size_t name_len;
    uint32_t mode;      /* full st_mode incl. type bits (c_mode) */
    uint64_t size;      /* c_filesize; 0 on all but the last of hard links (newc stores the data once) */
    unsigned archive;   /* 0-based index of the archive it came from */
    const char *link_target; /* a symlink's target, NUL-terminated; NULL for other types */
    size_t link_len;
} imgp_cpio_entry;

/* Called for each entry; non-zero stops the walk (which then returns IMGP_OK). */
typedef int (*imgp_cpio_fn)(void *arg, const imgp_cpio_entry *e);

#define IMGP_INITRAMFS_ARCHIVES_LISTED 16

typedef struct imgp_initramfs_info {
    /*
     * cpio archives met: a new one starts at each segment (an uncompressed run
     * or a compressed stream) and after each "TRAILER!!!" followed by more.
     */
    unsigned narchives;
    /* per archive (the first 16): "none", "gzip", "xz", "lzma", "zstd", "lz4",
     * "lz4-frame", "bzip2" (static strings) */
    const char *compression[IMGP_INITRAMFS_ARCHIVES_LISTED];
    uint64_t entries;            /* entries passed to the callback */
    uint64_t decompressed_bytes; /* bytes the decompressors produced (uncompressed archives not counted) */
    /*
     * "" when the image was read to its end as the kernel reads it; otherwise
     * a one-line remark: why the walk stopped before the end (trailing junk
     * the kernel would stop at too), entries the kernel skips, an archive the
     * kernel cannot read.
     */
    char note[256];
} imgp_initramfs_info;

/**
 * Walk the initramfs of @p size bytes read through @p read, calling @p fn for
 * each entry in order. @p info (required) is filled as far as the walk got,
 * also on failure. Errors are recorded on @p ctx with the offset ("initramfs:
 * gzip archive at 0x1e00: ...").
 */
imgp_status imgp_initramfs_walk(imgp_ctx *ctx, imgp_read_fn read, void *read_arg, uint64_t size,
                                imgp_cpio_fn fn, void *fn_arg, imgp_initramfs_info *info);

/** Convenience: the regular file @p ino of a mounted filesystem (imgp_fs_read). */
imgp_status imgp_initramfs_walk_file(imgp_ctx *ctx, imgp_fs *fs, imgp_ino ino, imgp_cpio_fn fn, void *fn_arg,
                                     imgp_initramfs_info *info);

/* ---- the cpio parser (cpio.c), exposed for tests and fuzzers ---- */

/* One newc header, its fields decoded. */
typedef struct imgp_cpio_header {
    bool has_checksum; /* 070702 */
    uint32_t ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize,
        check;
} imgp_cpio_header;

/*
 * Parse the CPIO_HEADER_SIZE bytes at @p buf (@p len available). Errors:
 * IMGP_ERR_CORRUPT for a magic that is not 070701/070702 or a field that is
 * not 8 hexadecimal digits, IMGP_ERR_UNSUPPORTED for the odc (070707) and
 * binary cpio formats, which the kernel refuses; @p where names the header
 * in the message ("cpio header at 0x200").
 */
imgp_status imgp_cpio_header_parse(imgp_ctx *ctx, const uint8_t *buf, size_t len, const char *where,
                                   imgp_cpio_header *out);

/* Bytes of the padded name that follows a header at a 4-byte boundary (the kernel's N_ALIGN). */
static inline uint64_t imgp_cpio_name_span(uint32_t namesize) { return (((uint64_t)namesize + 1) & ~3ull) + 2; }

/*
 * The streaming parser: bytes in, entries out, in any pieces. One per walk;
 * it fills the walk's info (archives, entries).
 */
typedef struct imgp_cpio_parser imgp_cpio_parser;

imgp_status imgp_cpio_parser_new(imgp_ctx *ctx, imgp_cpio_fn fn, void *fn_arg, imgp_initramfs_info *info,
                                 imgp_cpio_parser **out);
void imgp_cpio_parser_free(imgp_cpio_parser *p);

/*
 * Start a segment: uncompressed bytes of the image from @p image_off
 * (@p compression IMGP_COMP_NONE; offsets are the image's), or the
 * decompressed bytes of a stream at @p image_off (offsets count from 0).
 * Its first header starts a new archive.
 */
void imgp_cpio_segment_begin(imgp_cpio_parser *p, imgp_compression compression, uint64_t image_off);

/*
 * Parse @p len bytes. *used < len when the parser stopped early: the callback
 * asked to stop (imgp_cpio_stopped()), or it stands at an entry boundary
 * before a byte that is neither zero padding nor an aligned '0' (a header);
 * that byte is not its own.
 */
imgp_status imgp_cpio_feed(imgp_cpio_parser *p, const uint8_t *buf, size_t len, size_t *used);

/* The segment ended: IMGP_ERR_CORRUPT when that is inside an entry. */
imgp_status imgp_cpio_segment_end(imgp_cpio_parser *p);

bool imgp_cpio_stopped(const imgp_cpio_parser *p);
/* Entries the kernel would skip (see above), counted over the walk. */
uint64_t imgp_cpio_skipped(const imgp_cpio_parser *p);
/* Offset of the next byte in the segment's terms (the image's for uncompressed ones). */
uint64_t imgp_cpio_offset(const imgp_cpio_parser *p);

#endif
