/*
 * Streaming decompression for the initramfs reader (decompress.h): buffered
 * input, detection by magic, and one decoder over zlib (gzip), liblzma (xz,
 * lzma), libzstd, liblz4 (legacy and frame formats) and our bzip2.c.
 *
 * Each decoder stops exactly at the end of its stream, leaving the input on
 * the next byte: the kernel's unpacker continues there (unpack_to_rootfs()
 * adds the decompressor's consumed count), and so do we.
 */
#include <stdio.h>

#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "bzip2.h"
#include "decompress.h"

#define HEX(x) ((unsigned long long)(x))

/* ---- buffered input ---- */

imgp_status imgp_inbuf_init(imgp_inbuf *in, imgp_ctx *ctx, imgp_read_fn read, void *arg, uint64_t size, size_t cap)
{
    memset(in, 0, sizeof *in);
    if (cap < 64)
        cap = 64;
    in->ctx = ctx;
    in->read = read;
    in->arg = arg;
    in->size = size;
    in->cap = cap;
    in->buf = imgp_alloc(ctx, cap);
    return in->buf ? IMGP_OK : IMGP_ERR_NOMEM;
}

void imgp_inbuf_fini(imgp_inbuf *in)
{
    imgp_free(in->ctx, in->buf);
    in->buf = NULL;
}

imgp_status imgp_inbuf_fill(imgp_inbuf *in, size_t want)
{
    if (want > in->cap)
        want = in->cap;
    if (in->end - in->start >= want || in->next >= in->size)
        return IMGP_OK;
    memmove(in->buf, in->buf + in->start, in->end - in->start);
    in->end -= in->start;
    in->start = 0;
    while (in->end < want && in->next < in->size) {
        size_t len = (size_t)imgp_min_u64(in->cap - in->end, in->size - in->next), got = 0;
        imgp_status st = in->read(in->arg, in->next, in->buf + in->end, len, &got);
        if (st != IMGP_OK)
            return imgp_error_prefix(in->ctx, "reading at 0x%llx: ", HEX(in->next));
        if (got > len)
            got = len;
        in->end += got;
        in->next += got;
        if (got < len)
            in->size = in->next; /* the source ended early: that is its end */
    }
    return IMGP_OK;
}

imgp_status imgp_mem_read(void *arg, uint64_t off, void *buf, size_t len, size_t *got)
{
    const imgp_mem_input *m = arg;
    *got = 0;
    if (off >= m->size)
        return IMGP_OK;
    *got = (size_t)imgp_min_u64(len, m->size - off);
    memcpy(buf, m->data + off, *got);
    return IMGP_OK;
}

/* ---- detection ---- */

static const struct {
    imgp_compression kind;
    const char *name;
    uint8_t magic[6];
    size_t len;
} compressions[] = {
    /* lib/decompress.c's table, with longer magics where the format has them */
    {IMGP_COMP_GZIP, "gzip", {0x1f, 0x8b}, 2},
    {IMGP_COMP_BZIP2, "bzip2", {'B', 'Z', 'h'}, 3},
    {IMGP_COMP_LZMA, "lzma", {0x5d, 0x00}, 2},
    {IMGP_COMP_XZ, "xz", {0xfd, '7', 'z', 'X', 'Z', 0x00}, 6},
    {IMGP_COMP_LZO, "lzo", {0x89, 'L', 'Z', 'O'}, 4},
    {IMGP_COMP_LZ4_LEGACY, "lz4", {0x02, 0x21, 0x4c, 0x18}, 4},
    {IMGP_COMP_LZ4_FRAME, "lz4-frame", {0x04, 0x22, 0x4d, 0x18}, 4},
    {IMGP_COMP_ZSTD, "zstd", {0x28, 0xb5, 0x2f, 0xfd}, 4},
    {IMGP_COMP_NONE, "none", {'0', '7', '0', '7', '0'}, 5},
};

imgp_compression imgp_compression_detect(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < sizeof compressions / sizeof compressions[0]; i++) {
        if (len < compressions[i].len || memcmp(p, compressions[i].magic, compressions[i].len) != 0)
            continue;
        if (compressions[i].kind == IMGP_COMP_BZIP2 && (len < 4 || p[3] < '1' || p[3] > '9'))
            return IMGP_COMP_UNKNOWN;
        if (compressions[i].kind == IMGP_COMP_NONE && (len < 6 || (p[5] != '1' && p[5] != '2')))
            return IMGP_COMP_UNKNOWN;
        return compressions[i].kind;
    }
    return IMGP_COMP_UNKNOWN;
}

const char *imgp_compression_name(imgp_compression c)
{
    for (size_t i = 0; i < sizeof compressions / sizeof compressions[0]; i++)
        if (compressions[i].kind == c)
            return compressions[i].name;
    return "unknown";
}

/*
 * A decoder's window or dictionary is a table held in memory, but real
 * initramfs images use bigger ones than the metadata tables of a disk image:
 * xz -9 decodes with a 64 MiB dictionary plus its state, zstd --ultra -22
 * with a 128 MiB window. Twice IMGP_LIMIT_TABLE_BYTES (128 MiB by default)
 * admits those and refuses a header that asks for gigabytes.
 */
uint64_t imgp_decoder_memory_limit(const imgp_ctx *ctx)
{
    uint64_t t = imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES);
    return t > UINT64_MAX / 2 ? UINT64_MAX : t * 2;
}

/* ---- the decoder ---- */

/*
 * lz4 legacy frame (lz4 -l; the kernel's lib/decompress_unlz4.c): the magic,
 * then blocks, each a little-endian compressed size and that many bytes
 * decompressing to at most 8 MiB. The format has no end marker: the stream
 * ends with the input, at a size of 0 (zero padding; Linux 5.12+), or with
 * fewer than 4 bytes left; a repeated magic is skipped.
 */
#define LZ4_LEGACY_BLOCK (8u << 20)

struct imgp_decoder {
    imgp_ctx *ctx;
    imgp_inbuf *in;
    imgp_compression kind;
    uint64_t start;     /* input offset of the stream */
    bool done;

    z_stream z;
    bool z_ready;
    lzma_stream lz;
    bool lz_ready;
    lzma_allocator lz_alloc;
    ZSTD_DCtx *zd;
    LZ4F_dctx *lz4f;
    imgp_bzip2 *bz;

    /* lz4 legacy: one block in, one block out */
    uint8_t *lz4_in, *lz4_out;
    size_t lz4_out_len, lz4_out_pos;
};

static imgp_status stream_error(imgp_decoder *d, imgp_status st, const char *fmt, ...) IMGP_PRINTF(3, 4);
static imgp_status stream_error(imgp_decoder *d, imgp_status st, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return imgp_error(d->ctx, st, "%s stream at 0x%llx: %s", imgp_compression_name(d->kind), HEX(d->start), what);
}

static imgp_status truncated(imgp_decoder *d)
{
    return stream_error(d, IMGP_ERR_CORRUPT, "truncated: the input ends at 0x%llx inside the stream",
                        HEX(imgp_inbuf_offset(d->in)));
}

/* A decoder that neither took input nor gave output: the input ended inside the stream. */
static imgp_status no_progress(imgp_decoder *d)
{
    if (imgp_inbuf_avail(d->in) == 0)
        return truncated(d);
    return stream_error(d, IMGP_ERR_CORRUPT, "the decoder stalls at 0x%llx", HEX(imgp_inbuf_offset(d->in)));
}

/* zlib's and liblzma's allocations, through the context (neither needs zeroed memory: a dictionary is big) */
static void *lib_alloc(imgp_ctx *ctx, size_t n, size_t size)
{
    size_t bytes;
    if (imgp_mul_overflow(n, size, &bytes)) {
        imgp_error(ctx, IMGP_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    return imgp_alloc(ctx, bytes);
}
static voidpf zlib_alloc(voidpf opaque, uInt items, uInt size) { return lib_alloc(opaque, items, size); }
static void zlib_free(voidpf opaque, voidpf p) { imgp_free(opaque, p); }
static void *lzma_alloc_fn(void *opaque, size_t nmemb, size_t size) { return lib_alloc(opaque, nmemb, size); }
static void lzma_free_fn(void *opaque, void *p) { imgp_free(opaque, p); }

/* Refill the input when it is empty. @return false with *st set on a read error. */
static bool refill(imgp_decoder *d, imgp_status *st)
{
    *st = imgp_inbuf_avail(d->in) ? IMGP_OK : imgp_inbuf_fill(d->in, d->in->cap);
    return *st == IMGP_OK;
}

static imgp_status gzip_read(imgp_decoder *d, uint8_t *out, size_t cap, size_t *got)
{
    z_stream *z = &d->z;
    z->next_out = out;
    z->avail_out = (uInt)imgp_min_u64(cap, UINT32_MAX);
    while (z->avail_out > 0 && !d->done) {
        imgp_status st;
        if (!refill(d, &st))
            return st;
        size_t avail = imgp_inbuf_avail(d->in);
        z->next_in = (Bytef *)(uintptr_t)imgp_inbuf_data(d->in);
        z->avail_in = (uInt)imgp_min_u64(avail, UINT32_MAX);
        uInt before_in = z->avail_in, before_out = z->avail_out;
        int rc = inflate(z, Z_NO_FLUSH);
        imgp_inbuf_consume(d->in, before_in - z->avail_in);
        if (rc == Z_STREAM_END)
            d->done = true;
        else if (rc == Z_MEM_ERROR)
            return stream_error(d, IMGP_ERR_NOMEM, "out of memory");
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
            return stream_error(d, IMGP_ERR_CORRUPT, "%s", z->msg ? z->msg : "invalid deflate data");
        else if (before_in == z->avail_in && before_out == z->avail_out)
            return no_progress(d);
    }
    *got = cap - z->avail_out;
    return IMGP_OK;
}

static imgp_status lzma_read(imgp_decoder *d, uint8_t *out, size_t cap, size_t *got)
{
    lzma_stream *s = &d->lz;
    s->next_out = out;
    s->avail_out = cap;
    while (s->avail_out > 0 && !d->done) {
        imgp_status st;
        if (!refill(d, &st))
            return st;
        size_t avail = imgp_inbuf_avail(d->in);
        s->next_in = imgp_inbuf_data(d->in);
        s->avail_in = avail;
        lzma_ret rc = lzma_code(s, avail ? LZMA_RUN : LZMA_FINISH);
        imgp_inbuf_consume(d->in, avail - s->avail_in);
        switch (rc) {
        case LZMA_OK:
            break;
        case LZMA_STREAM_END:
            d->done = true;
            break;
        case LZMA_MEM_ERROR:
            return stream_error(d, IMGP_ERR_NOMEM, "out of memory");
        case LZMA_MEMLIMIT_ERROR:
            return stream_error(d, IMGP_ERR_LIMIT,
                                "the decoder needs %llu bytes of memory, more than the limit of %llu (2 x table_bytes)",
                                HEX(lzma_memusage(s)), HEX(imgp_decoder_memory_limit(d->ctx)));
        case LZMA_BUF_ERROR:
            return truncated(d);
        case LZMA_FORMAT_ERROR:
            return stream_error(d, IMGP_ERR_CORRUPT, "not in the %s format", imgp_compression_name(d->kind));
        case LZMA_OPTIONS_ERROR:
            return stream_error(d, IMGP_ERR_UNSUPPORTED, "options liblzma does not support");
        case LZMA_DATA_ERROR:
            return stream_error(d, IMGP_ERR_CORRUPT, "corrupt compressed data");
        default:
            return stream_error(d, IMGP_ERR_CORRUPT, "liblzma error %d", (int)rc);
        }
    }
    *got = cap - s->avail_out;
    return IMGP_OK;
}

static imgp_status zstd_read(imgp_decoder *d, uint8_t *out, size_t cap, size_t *got)
{
    ZSTD_outBuffer ob = {out, cap, 0};
    while (ob.pos < ob.size && !d->done) {
        imgp_status st;
        if (!refill(d, &st))
            return st;
        size_t avail = imgp_inbuf_avail(d->in), out_before = ob.pos;
        ZSTD_inBuffer ib = {imgp_inbuf_data(d->in), avail, 0};
        size_t rc = ZSTD_decompressStream(d->zd, &ob, &ib);
        imgp_inbuf_consume(d->in, ib.pos);
        if (ZSTD_isError(rc)) {
            if (ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge)
                return stream_error(d, IMGP_ERR_LIMIT, "the frame's window is larger than the limit of %llu bytes "
                                    "(2 x table_bytes)", HEX(imgp_decoder_memory_limit(d->ctx)));
            if (ZSTD_getErrorCode(rc) == ZSTD_error_memory_allocation)
                return stream_error(d, IMGP_ERR_NOMEM, "out of memory");
            return stream_error(d, IMGP_ERR_CORRUPT, "%s", ZSTD_getErrorName(rc));
        }
        if (rc == 0)
            d->done = true; /* the frame is decoded and flushed */
        else if (ib.pos == 0 && ob.pos == out_before)
            return no_progress(d);
    }
    *got = ob.pos;
    return IMGP_OK;
}

static imgp_status lz4_frame_read(imgp_decoder *d, uint8_t *out, size_t cap, size_t *got)
{
    size_t n = 0;
    while (n < cap && !d->done) {
        imgp_status st;
        if (!refill(d, &st))
            return st;
        size_t used = imgp_inbuf_avail(d->in), out_len = cap - n;
        size_t rc = LZ4F_decompress(d->lz4f, out + n, &out_len, imgp_inbuf_data(d->in), &used, NULL);
        imgp_inbuf_consume(d->in, used);
        n += out_len;
        if (LZ4F_isError(rc))
            return stream_error(d, IMGP_ERR_CORRUPT, "%s", LZ4F_getErrorName(rc));
        if (rc == 0)
            d->done = true; /* the frame is complete */
        else if (used == 0 && out_len == 0)
            return no_progress(d);
    }
    *got = n;
    return IMGP_OK;
}

/* Read the next lz4 legacy block into lz4_out; sets done at the stream's end. */
static imgp_status lz4_legacy_block(imgp_decoder *d)
{
    static const uint8_t magic[4] = {0x02, 0x21, 0x4c, 0x18};
    for (;;) {
        imgp_status st = imgp_inbuf_fill(d->in, 4);
        if (st != IMGP_OK)
            return st;
        const uint8_t *p = imgp_inbuf_data(d->in);
        if (imgp_inbuf_avail(d->in) < 4) {
            d->done = true; /* fewer than 4 bytes left: the end (lib/decompress_unlz4.c) */
            return IMGP_OK;
        }
        uint32_t size = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if (memcmp(p, magic, 4) == 0) {
            imgp_inbuf_consume(d->in, 4); /* concatenated legacy streams */
            continue;
        }
        /*
         * A size of 0 is zero padding: the end, as Linux 5.12+ reads it. So is a
         * size no block can have: whatever follows (another segment, or junk)
         * is for the caller to judge, where the kernel would fail to decode it
         * after having unpacked this stream.
         */
        uint64_t offset = imgp_inbuf_offset(d->in);
        if (size == 0 || size > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK) ||
            imgp_range_outside(offset + 4, size, d->in->size)) {
            d->done = true;
            return IMGP_OK;
        }
        imgp_inbuf_consume(d->in, 4);
        for (size_t have = 0; have < size;) {
            st = imgp_inbuf_fill(d->in, 1);
            if (st != IMGP_OK)
                return st;
            size_t n = (size_t)imgp_min_u64(imgp_inbuf_avail(d->in), size - have);
            if (n == 0)
                return truncated(d);
            memcpy(d->lz4_in + have, imgp_inbuf_data(d->in), n);
            imgp_inbuf_consume(d->in, n);
            have += n;
        }
        int out = LZ4_decompress_safe((const char *)d->lz4_in, (char *)d->lz4_out, (int)size, LZ4_LEGACY_BLOCK);
        if (out < 0)
            return stream_error(d, IMGP_ERR_CORRUPT, "the block at 0x%llx (%u bytes) does not decompress",
                                HEX(offset), (unsigned)size);
        d->lz4_out_len = (size_t)out;
        d->lz4_out_pos = 0;
        return IMGP_OK;
    }
}

static imgp_status lz4_legacy_read(imgp_decoder *d, uint8_t *out, size_t cap, size_t *got)
{
    size_t n = 0;
    while (n < cap) {
        if (d->lz4_out_pos == d->lz4_out_len) {
            if (d->done)
                break;
            imgp_status st = lz4_legacy_block(d);
            if (st != IMGP_OK)
                return st;
            continue;
        }
        size_t k = (size_t)imgp_min_u64(cap - n, d->lz4_out_len - d->lz4_out_pos);
        memcpy(out + n, d->lz4_out + d->lz4_out_pos, k);
        d->lz4_out_pos += k;
        n += k;
    }
    *got = n;
    return IMGP_OK;
}

static imgp_status start_gzip(imgp_decoder *d)
{
    if (d->z_ready)
        return inflateReset(&d->z) == Z_OK ? IMGP_OK : stream_error(d, IMGP_ERR_CORRUPT, "zlib could not restart");
    memset(&d->z, 0, sizeof d->z);
    d->z.zalloc = zlib_alloc;
    d->z.zfree = zlib_free;
    d->z.opaque = d->ctx;
    int rc = inflateInit2(&d->z, 16 + MAX_WBITS); /* gzip wrapper only: the magic said so */
    if (rc != Z_OK)
        return stream_error(d, rc == Z_MEM_ERROR ? IMGP_ERR_NOMEM : IMGP_ERR_CORRUPT, "zlib could not start");
    d->z_ready = true;
    return IMGP_OK;
}

static imgp_status start_lzma(imgp_decoder *d)
{
    if (d->lz_ready)
        lzma_end(&d->lz);
    lzma_stream init = LZMA_STREAM_INIT;
    d->lz = init;
    d->lz_alloc.alloc = lzma_alloc_fn;
    d->lz_alloc.free = lzma_free_fn;
    d->lz_alloc.opaque = d->ctx;
    d->lz.allocator = &d->lz_alloc;
    uint64_t memlimit = imgp_decoder_memory_limit(d->ctx);
    /* one .xz stream: its padding (zeros) is skipped by the caller, as the kernel does */
    lzma_ret rc = d->kind == IMGP_COMP_XZ ? lzma_stream_decoder(&d->lz, memlimit, 0)
                                          : lzma_alone_decoder(&d->lz, memlimit);
    if (rc != LZMA_OK)
        return stream_error(d, rc == LZMA_MEM_ERROR ? IMGP_ERR_NOMEM : IMGP_ERR_CORRUPT, "liblzma could not start");
    d->lz_ready = true;
    return IMGP_OK;
}

static imgp_status start_zstd(imgp_decoder *d)
{
    if (!d->zd) {
        d->zd = ZSTD_createDCtx();
        if (!d->zd)
            return stream_error(d, IMGP_ERR_NOMEM, "out of memory for the zstd decoder");
        unsigned log = 10;
        while (log < 31 /* zstd's largest window log on 64-bit */ && (1ull << (log + 1)) <= imgp_decoder_memory_limit(d->ctx))
            log++;
        if (ZSTD_isError(ZSTD_DCtx_setParameter(d->zd, ZSTD_d_windowLogMax, (int)log)))
            return stream_error(d, IMGP_ERR_CORRUPT, "the zstd decoder could not be set up");
    }
    if (ZSTD_isError(ZSTD_DCtx_reset(d->zd, ZSTD_reset_session_only)))
        return stream_error(d, IMGP_ERR_CORRUPT, "the zstd decoder could not restart");
    return IMGP_OK;
}

static imgp_status start_lz4(imgp_decoder *d)
{
    if (d->kind == IMGP_COMP_LZ4_FRAME) {
        if (!d->lz4f) {
            if (LZ4F_isError(LZ4F_createDecompressionContext(&d->lz4f, LZ4F_VERSION)))
                return stream_error(d, IMGP_ERR_NOMEM, "out of memory for the lz4 decoder");
        } else {
            LZ4F_resetDecompressionContext(d->lz4f);
        }
        return IMGP_OK;
    }
    if (!d->lz4_in) {
        d->lz4_in = imgp_alloc(d->ctx, (size_t)LZ4_compressBound(LZ4_LEGACY_BLOCK));
        d->lz4_out = d->lz4_in ? imgp_alloc(d->ctx, LZ4_LEGACY_BLOCK) : NULL;
        if (!d->lz4_out) {
            imgp_free(d->ctx, d->lz4_in);
            d->lz4_in = NULL;
            return IMGP_ERR_NOMEM;
        }
    }
    d->lz4_out_len = d->lz4_out_pos = 0;
    imgp_status st = imgp_inbuf_fill(d->in, 4);
    if (st != IMGP_OK)
        return st;
    if (imgp_inbuf_avail(d->in) < 4)
        return truncated(d);
    imgp_inbuf_consume(d->in, 4); /* the magic, checked by the caller */
    return IMGP_OK;
}

imgp_status imgp_decoder_start(imgp_decoder *d, imgp_compression kind, imgp_inbuf *in)
{
    d->in = in;
    d->kind = kind;
    d->start = imgp_inbuf_offset(in);
    d->done = false;
    switch (kind) {
    case IMGP_COMP_GZIP:
        return start_gzip(d);
    case IMGP_COMP_XZ:
    case IMGP_COMP_LZMA:
        return start_lzma(d);
    case IMGP_COMP_ZSTD:
        return start_zstd(d);
    case IMGP_COMP_LZ4_LEGACY:
    case IMGP_COMP_LZ4_FRAME:
        return start_lz4(d);
    case IMGP_COMP_BZIP2:
        if (!d->bz) {
            imgp_status st = imgp_bzip2_new(d->ctx, &d->bz);
            if (st != IMGP_OK)
                return st;
        }
        imgp_bzip2_start(d->bz, in);
        return IMGP_OK;
    default:
        return imgp_error(d->ctx, IMGP_ERR_INVALID_ARG, "no decoder for %s", imgp_compression_name(kind));
    }
}

imgp_status imgp_decoder_read(imgp_decoder *d, uint8_t *out, size_t cap, size_t *got, bool *end)
{
    *got = 0;
    *end = false;
    imgp_status st;
    switch (d->kind) {
    case IMGP_COMP_GZIP:
        st = gzip_read(d, out, cap, got);
        break;
    case IMGP_COMP_XZ:
    case IMGP_COMP_LZMA:
        st = lzma_read(d, out, cap, got);
        break;
    case IMGP_COMP_ZSTD:
        st = zstd_read(d, out, cap, got);
        break;
    case IMGP_COMP_LZ4_LEGACY:
        st = lz4_legacy_read(d, out, cap, got);
        break;
    case IMGP_COMP_LZ4_FRAME:
        st = lz4_frame_read(d, out, cap, got);
        break;
    case IMGP_COMP_BZIP2:
        return imgp_bzip2_read(d->bz, out, cap, got, end);
    default:
        return imgp_error(d->ctx, IMGP_ERR_INVALID_ARG, "no decoder started");
    }
    if (st == IMGP_OK && *got == 0)
        *end = d->done;
    return st;
}

imgp_status imgp_decoder_new(imgp_ctx *ctx, imgp_decoder **out)
{
    imgp_decoder *d = imgp_calloc(ctx, 1, sizeof *d);
    *out = d;
    if (!d)
        return IMGP_ERR_NOMEM;
    d->ctx = ctx;
    return IMGP_OK;
}

void imgp_decoder_free(imgp_decoder *d)
{
    if (!d)
        return;
    if (d->z_ready)
        inflateEnd(&d->z);
    if (d->lz_ready)
        lzma_end(&d->lz);
    ZSTD_freeDCtx(d->zd);
    if (d->lz4f)
        LZ4F_freeDecompressionContext(d->lz4f);
    imgp_bzip2_free(d->bz);
    imgp_free(d->ctx, d->lz4_in);
    imgp_free(d->ctx, d->lz4_out);
    imgp_free(d->ctx, d);
}
