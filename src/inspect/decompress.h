/*
 * Streaming decompression for the initramfs reader: buffered input over a
 * read function, compression detected by magic as the kernel does
 * (lib/decompress.c, decompress_method()), and one decoder object that reads
 * a stream of any of those compressions and stops exactly at its end, so the
 * next segment of the image starts at the input's position.
 *
 * Nothing is written anywhere: output goes to the caller's buffer piece by
 * piece. Decoder memory (an xz/lzma dictionary, a zstd window) is bounded by
 * imgp_decoder_memory_limit().
 */
#ifndef IMGP_INSPECT_DECOMPRESS_H
#define IMGP_INSPECT_DECOMPRESS_H

#include "../core/internal.h"

/* Read up to @p len bytes at @p off into @p buf; *got < len only at the end of the input. */
typedef imgp_status (*imgp_read_fn)(void *arg, uint64_t off, void *buf, size_t len, size_t *got);

/* ---- buffered input ---- */

typedef struct imgp_inbuf {
    imgp_ctx *ctx;
    imgp_read_fn read;
    void *arg;
    uint64_t size;   /* bytes in the input (lowered when the source ends early) */
    uint64_t next;   /* input offset of the next byte to read from the source */
    uint8_t *buf;
    size_t cap, start, end; /* unread bytes are buf[start, end) */
} imgp_inbuf;

/* Set up @p in over @p size bytes of @p read with a buffer of @p cap bytes (at least 64). */
imgp_status imgp_inbuf_init(imgp_inbuf *in, imgp_ctx *ctx, imgp_read_fn read, void *arg, uint64_t size,
                            size_t cap);
void imgp_inbuf_fini(imgp_inbuf *in);

/* Make at least min(@p want, bytes left in the input) bytes available; @p want <= cap. */
imgp_status imgp_inbuf_fill(imgp_inbuf *in, size_t want);

static inline size_t imgp_inbuf_avail(const imgp_inbuf *in) { return in->end - in->start; }
static inline const uint8_t *imgp_inbuf_data(const imgp_inbuf *in) { return in->buf + in->start; }
static inline void imgp_inbuf_consume(imgp_inbuf *in, size_t n) { in->start += n; }
/* Input offset of the next unread byte. */
static inline uint64_t imgp_inbuf_offset(const imgp_inbuf *in) { return in->next - (in->end - in->start); }
/* True when every byte of the input has been consumed. */
static inline bool imgp_inbuf_at_end(const imgp_inbuf *in) { return in->start == in->end && in->next >= in->size; }

/* A read function over a byte array (arg: an imgp_mem_input). */
typedef struct imgp_mem_input {
    const uint8_t *data;
    size_t size;
} imgp_mem_input;
imgp_status imgp_mem_read(void *arg, uint64_t off, void *buf, size_t len, size_t *got);

/* ---- compressions ---- */

typedef enum imgp_compression {
    IMGP_COMP_UNKNOWN = 0,  /* no magic the kernel knows */
    IMGP_COMP_NONE,         /* a cpio archive, uncompressed */
    IMGP_COMP_GZIP,
    IMGP_COMP_BZIP2,
    IMGP_COMP_LZMA,         /* legacy .lzma (lzma_alone) */
    IMGP_COMP_XZ,
    IMGP_COMP_LZO,          /* known to the kernel, not read here */
    IMGP_COMP_LZ4_LEGACY,   /* lz4 -l */
    IMGP_COMP_LZ4_FRAME,    /* lz4's default frame: read here, but not by the kernel */
    IMGP_COMP_ZSTD,
} imgp_compression;

/*
 * The compression whose magic starts @p p (@p len bytes available; 6 are
 * enough). The kernel's table (lib/decompress.c) matches two bytes; the
 * longer magics here tell the same formats apart from chance data.
 */
imgp_compression imgp_compression_detect(const uint8_t *p, size_t len);

/* "none", "gzip", "bzip2", "lzma", "xz", "lzo", "lz4", "lz4-frame", "zstd", "unknown": static strings. */
const char *imgp_compression_name(imgp_compression c);

/* Bytes of decoder memory a stream may ask for: twice IMGP_LIMIT_TABLE_BYTES (see decompress.c). */
uint64_t imgp_decoder_memory_limit(const imgp_ctx *ctx);

/* ---- the decoder ---- */

typedef struct imgp_decoder imgp_decoder;

imgp_status imgp_decoder_new(imgp_ctx *ctx, imgp_decoder **out);
void imgp_decoder_free(imgp_decoder *d);

/*
 * Start decoding a stream of @p kind (not NONE, UNKNOWN or LZO) at @p in's
 * position. The decoder keeps its libraries' state between streams.
 */
imgp_status imgp_decoder_start(imgp_decoder *d, imgp_compression kind, imgp_inbuf *in);

/*
 * Decompress up to @p cap bytes into @p out. *got == 0 with *end set means
 * the stream is over and @p in stands on the byte after it. Errors name the
 * stream's kind and input offset: IMGP_ERR_CORRUPT for bad or truncated data,
 * IMGP_ERR_LIMIT when the stream needs more decoder memory than allowed.
 */
imgp_status imgp_decoder_read(imgp_decoder *d, uint8_t *out, size_t cap, size_t *got, bool *end);

#endif
