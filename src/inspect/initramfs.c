/*
 * The initramfs reader: the kernel's unpack loop (init/initramfs.c,
 * unpack_to_rootfs()) over an image read through a callback, segment by
 * segment, with every decompressed byte streamed through the cpio parser
 * (cpio.c) and nothing written anywhere. The rules, and what is an error and
 * what a note, are in initramfs.h.
 */
#include <stdio.h>

#include "initramfs.h"

#define HEX(x) ((unsigned long long)(x))

enum {
    INPUT_BUFFER = 128 << 10,
    OUTPUT_BUFFER = 64 << 10,
    MAGIC_BYTES = 6, /* the longest magic imgp_compression_detect() looks at */
};

typedef struct walk {
    imgp_ctx *ctx;
    imgp_inbuf in;
    imgp_cpio_parser *cpio;
    imgp_decoder *decoder;
    uint8_t *out;
    imgp_initramfs_info *info;
    uint64_t limit;          /* IMGP_LIMIT_DECOMPRESSED */
    unsigned whole_segments; /* segments read to their end */
    bool finished;           /* stopped before the end of the image, with a note */
} walk;

static void add_note(imgp_initramfs_info *info, const char *fmt, ...) IMGP_PRINTF(2, 3);
static void add_note(imgp_initramfs_info *info, const char *fmt, ...)
{
    size_t used = strlen(info->note);
    if (used && used < sizeof info->note - 2) {
        memcpy(info->note + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(info->note + used, sizeof info->note - used, fmt, ap);
    va_end(ap);
}

/*
 * Something that starts no segment the kernel reads, at @p off. After a whole
 * archive, the kernel reports it and keeps what it unpacked: the walk ends
 * with a note. Before any, the image is not an initramfs.
 */
static imgp_status junk(walk *w, uint64_t off, const char *what)
{
    const uint8_t *p = imgp_inbuf_data(&w->in);
    size_t n = imgp_inbuf_avail(&w->in);
    char bytes[3 * 4 + 1] = "";
    for (size_t i = 0, used = 0; i < n && i < 4; i++)
        used += (size_t)snprintf(bytes + used, sizeof bytes - used, "%s%02x", i ? " " : "", p[i]);
    if (w->whole_segments == 0 || w->info->narchives == 0)
        return imgp_error(w->ctx, IMGP_ERR_CORRUPT,
                          "initramfs: %s at 0x%llx (bytes %s): not a cpio archive nor a compression the kernel unpacks",
                          what, HEX(off), bytes);
    add_note(w->info, "%s at 0x%llx (bytes %s) after the last archive: ignored, as the kernel stops unpacking there",
             what, HEX(off), bytes);
    w->finished = true;
    return IMGP_OK;
}

static imgp_status prefixed(imgp_status st, imgp_ctx *ctx)
{
    return st == IMGP_OK ? st : imgp_error_prefix(ctx, "initramfs: ");
}

/* A run of uncompressed archives at @p off, until a byte that is not theirs or the end of the image. */
static imgp_status uncompressed_segment(walk *w, uint64_t off)
{
    imgp_cpio_segment_begin(w->cpio, IMGP_COMP_NONE, off);
    for (;;) {
        imgp_status st = imgp_inbuf_fill(&w->in, 1);
        if (st != IMGP_OK)
            return prefixed(st, w->ctx);
        size_t avail = imgp_inbuf_avail(&w->in), used;
        if (avail == 0)
            break;
        st = imgp_cpio_feed(w->cpio, imgp_inbuf_data(&w->in), avail, &used);
        imgp_inbuf_consume(&w->in, used);
        if (st != IMGP_OK)
            return prefixed(st, w->ctx);
        if (imgp_cpio_stopped(w->cpio))
            return IMGP_OK;
        if (used < avail)
            break;
    }
    imgp_status st = imgp_cpio_segment_end(w->cpio);
    if (st != IMGP_OK)
        return prefixed(st, w->ctx);
    w->whole_segments++;
    uint64_t next = imgp_inbuf_offset(&w->in);
    if (!imgp_inbuf_at_end(&w->in) && next % CPIO_ALIGN != 0)
        return junk(w, next, "broken padding: a byte off the 4-byte boundary");
    return IMGP_OK;
}

/* One compressed stream at @p off, its output through the cpio parser. */
static imgp_status compressed_segment(walk *w, imgp_compression kind, uint64_t off)
{
    imgp_status st = IMGP_OK;
    if (!w->decoder)
        st = imgp_decoder_new(w->ctx, &w->decoder);
    if (!w->out && st == IMGP_OK) {
        w->out = imgp_alloc(w->ctx, OUTPUT_BUFFER);
        st = w->out ? IMGP_OK : IMGP_ERR_NOMEM;
    }
    if (st == IMGP_OK)
        st = imgp_decoder_start(w->decoder, kind, &w->in);
    if (st != IMGP_OK)
        return prefixed(st, w->ctx);
    if (kind == IMGP_COMP_LZ4_FRAME)
        add_note(w->info, "the lz4 archive at 0x%llx is in the frame format: the kernel unpacks only the legacy "
                 "format (lz4 -l) and would stop there", HEX(off));
    imgp_cpio_segment_begin(w->cpio, kind, off);
    for (;;) {
        size_t got, used;
        bool end;
        st = imgp_decoder_read(w->decoder, w->out, OUTPUT_BUFFER, &got, &end);
        if (st != IMGP_OK)
            return prefixed(st, w->ctx);
        if (got == 0 && end)
            break;
        if (got > w->limit - w->info->decompressed_bytes)
            return imgp_error(w->ctx, IMGP_ERR_LIMIT,
                              "initramfs: the %s archive at 0x%llx takes the decompressed total past %llu bytes "
                              "(limit decompressed): a decompression bomb?",
                              imgp_compression_name(kind), HEX(off), HEX(w->limit));
        w->info->decompressed_bytes += got;
        st = imgp_cpio_feed(w->cpio, w->out, got, &used);
        if (st != IMGP_OK)
            return prefixed(st, w->ctx);
        if (imgp_cpio_stopped(w->cpio))
            return IMGP_OK;
        if (used < got) {
            uint64_t at = imgp_cpio_offset(w->cpio);
            return imgp_error(w->ctx, IMGP_ERR_CORRUPT,
                              "initramfs: %s archive at 0x%llx: %s at offset 0x%llx of its decompressed data (byte 0x%02x)",
                              imgp_compression_name(kind), HEX(off),
                              at % CPIO_ALIGN ? "broken padding" : "junk between cpio entries", HEX(at), w->out[used]);
        }
    }
    st = imgp_cpio_segment_end(w->cpio);
    if (st != IMGP_OK)
        return prefixed(st, w->ctx);
    w->whole_segments++;
    return IMGP_OK;
}

/* The kernel's loop: zeros skipped, then an uncompressed archive or a compressed stream, until the end. */
static imgp_status walk_segments(walk *w)
{
    while (!w->finished && !imgp_cpio_stopped(w->cpio)) {
        imgp_status st = imgp_inbuf_fill(&w->in, MAGIC_BYTES);
        if (st != IMGP_OK)
            return prefixed(st, w->ctx);
        const uint8_t *p = imgp_inbuf_data(&w->in);
        size_t avail = imgp_inbuf_avail(&w->in);
        if (avail == 0)
            return IMGP_OK;
        if (p[0] == 0) {
            size_t zeros = 1;
            while (zeros < avail && p[zeros] == 0)
                zeros++;
            imgp_inbuf_consume(&w->in, zeros);
            continue;
        }
        uint64_t off = imgp_inbuf_offset(&w->in);
        imgp_compression kind = imgp_compression_detect(p, avail);
        bool aligned = off % CPIO_ALIGN == 0;
        /* first in the image, a '0' goes to the cpio parser whatever follows, to say what it is (odc...) */
        if ((kind == IMGP_COMP_NONE || (p[0] == '0' && w->whole_segments == 0)) && aligned)
            st = uncompressed_segment(w, off);
        else if (kind == IMGP_COMP_NONE || kind == IMGP_COMP_UNKNOWN)
            st = junk(w, off, kind == IMGP_COMP_NONE ? "a cpio header off the 4-byte boundary"
                                                     : p[0] == '0' ? "no cpio magic" : "an unknown magic");
        else if (kind == IMGP_COMP_LZO)
            st = imgp_error(w->ctx, IMGP_ERR_UNSUPPORTED,
                            "initramfs: lzo archive at 0x%llx: imgprobe does not decompress lzo", HEX(off));
        else
            st = compressed_segment(w, kind, off);
        if (st != IMGP_OK)
            return st;
    }
    return IMGP_OK;
}

imgp_status imgp_initramfs_walk(imgp_ctx *ctx, imgp_read_fn read, void *read_arg, uint64_t size, imgp_cpio_fn fn,
                                void *fn_arg, imgp_initramfs_info *info)
{
    if (!read || !fn || !info)
        return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "initramfs: a read function, a callback and an info are required");
    memset(info, 0, sizeof *info);
    walk w = {.ctx = ctx, .info = info, .limit = imgp_ctx_limit(ctx, IMGP_LIMIT_DECOMPRESSED)};
    imgp_status st = imgp_inbuf_init(&w.in, ctx, read, read_arg, size, INPUT_BUFFER);
    if (st == IMGP_OK)
        st = imgp_cpio_parser_new(ctx, fn, fn_arg, info, &w.cpio);
    if (st == IMGP_OK)
        st = walk_segments(&w);
    if (w.cpio && imgp_cpio_skipped(w.cpio))
        add_note(info, "%llu entries skipped as the kernel skips them (name size 0 or over 4096, a symlink target "
                 "over 4096, data on a special file)", HEX(imgp_cpio_skipped(w.cpio)));
    if (st == IMGP_OK && info->narchives == 0)
        add_note(info, "no cpio archive: the image is empty or holds only zeros");
    imgp_cpio_parser_free(w.cpio);
    imgp_decoder_free(w.decoder);
    imgp_free(ctx, w.out);
    imgp_inbuf_fini(&w.in);
    return st;
}

typedef struct fs_file {
    imgp_fs *fs;
    imgp_ino ino;
} fs_file;

static imgp_status fs_file_read(void *arg, uint64_t off, void *buf, size_t len, size_t *got)
{
    fs_file *f = arg;
    return imgp_fs_read(f->fs, f->ino, off, buf, len, got);
}

imgp_status imgp_initramfs_walk_file(imgp_ctx *ctx, imgp_fs *fs, imgp_ino ino, imgp_cpio_fn fn, void *fn_arg,
                                     imgp_initramfs_info *info)
{
    if (info)
        memset(info, 0, sizeof *info);
    imgp_stat st;
    imgp_status r = imgp_fs_stat(fs, ino, &st);
    if (r != IMGP_OK)
        return r;
    if (st.type != IMGP_FT_REG)
        return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "initramfs: inode %llu is not a regular file", HEX(ino));
    fs_file f = {fs, ino};
    return imgp_initramfs_walk(ctx, fs_file_read, &f, st.size, fn, fn_arg, info);
}
