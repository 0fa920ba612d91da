/*
 * bzip2 decompressor, written from the format (see bzip2.h for the layout
 * and the references). Section names below follow Joe Tsai's "The bzip2
 * format" (stream header, block header, symbol map, selectors, trees,
 * Huffman data, end of stream) and bzip2 1.0.8's decompress.c, whose limits
 * are kept: 2 to 6 tables, code lengths 1 to 20, at most 18,002 selectors
 * stored (more are read and ignored, as 1.0.8 does since CVE-2019-12900).
 *
 * Every count read from the stream is checked before it indexes anything;
 * a block can never hold more than level * 100,000 symbols.
 */
#include <stdio.h>

#include "bzip2.h"

#define HEX(x) ((unsigned long long)(x))

enum {
    MAX_GROUPS = 6,
    MAX_ALPHA = 258,         /* 256 MTF values + RUNA/RUNB - 1 + EOB */
    MAX_SELECTORS = 18002,   /* 2 + 900,000 / 50 */
    MAX_CODE_LEN = 20,
    GROUP_SIZE = 50,         /* symbols coded with one table before the next selector */
    RUNA = 0,
    RUNB = 1,
};

/* 48-bit markers (block header and end of stream), split in two 24-bit halves. */
#define BLOCK_MAGIC_HI 0x314159u
#define BLOCK_MAGIC_LO 0x265359u
#define END_MAGIC_HI 0x177245u
#define END_MAGIC_LO 0x385090u

typedef enum bz_state { BZ_HEADER, BZ_BLOCK, BZ_OUTPUT, BZ_DONE } bz_state;

/* One Huffman table in canonical form: codes are assigned in order of (length, symbol). */
typedef struct huff_table {
    unsigned min_len, max_len;
    uint32_t first[MAX_CODE_LEN + 2]; /* first code of each length */
    uint16_t count[MAX_CODE_LEN + 1]; /* codes of each length */
    uint16_t index[MAX_CODE_LEN + 1]; /* position in `symbols` of the first code of each length */
    uint16_t symbols[MAX_ALPHA];      /* symbols sorted by (length, symbol) */
} huff_table;

struct imgp_bzip2 {
    imgp_ctx *ctx;
    imgp_inbuf *in;
    uint64_t stream_off;
    bz_state state;

    /* bit reader, most significant bit first; bytes are taken only when a bit is needed */
    uint64_t bits;
    unsigned nbits;

    uint32_t max_block;     /* level * 100,000 */
    uint32_t stream_crc;    /* combined from the block CRCs */
    uint64_t block_off;     /* input offset of the current block's first byte */
    uint32_t block_index;

    /* the block: after decoding, tt[i] low byte = a symbol, high 24 bits = the next row (BWT inverse) */
    uint32_t *tt;
    uint32_t tt_cap;        /* words allocated: the largest block size met */
    uint32_t nblock;
    uint32_t orig_ptr;
    uint32_t want_crc, crc;

    /* output of the block: BWT position, symbols left, RLE1 state */
    uint32_t tpos, left;
    unsigned run;          /* equal bytes seen in a row (1..4); 4 means the next byte is a count */
    uint8_t last;
    uint32_t repeat;       /* copies of `last` still to write (RLE1 count) */

    uint32_t crc_table[256];
    uint8_t selectors[MAX_SELECTORS];
    huff_table tables[MAX_GROUPS];
};

/* ---- bits ---- */

/* Make @p n (<= 32) bits available. @return false at the end of the input. */
static bool need_bits(imgp_bzip2 *bz, unsigned n, imgp_status *st)
{
    while (bz->nbits < n) {
        if (imgp_inbuf_avail(bz->in) == 0) {
            *st = imgp_inbuf_fill(bz->in, 1);
            if (*st != IMGP_OK || imgp_inbuf_avail(bz->in) == 0)
                return false;
        }
        bz->bits = bz->bits << 8 | imgp_inbuf_data(bz->in)[0];
        imgp_inbuf_consume(bz->in, 1);
        bz->nbits += 8;
    }
    return true;
}

static uint32_t take_bits(imgp_bzip2 *bz, unsigned n)
{
    bz->nbits -= n;
    return (uint32_t)(bz->bits >> bz->nbits) & (uint32_t)((1ull << n) - 1);
}

static imgp_status truncated(imgp_bzip2 *bz, imgp_status st, const char *where)
{
    if (st != IMGP_OK)
        return st;
    return imgp_error(bz->ctx, IMGP_ERR_CORRUPT, "bzip2: stream at 0x%llx is truncated in %s (input ends at 0x%llx)",
                      HEX(bz->stream_off), where, HEX(imgp_inbuf_offset(bz->in)));
}

/* Read @p n (<= 32) bits into *v; on the end of the input, an error naming @p where. */
static imgp_status get_bits(imgp_bzip2 *bz, unsigned n, uint32_t *v, const char *where)
{
    imgp_status st = IMGP_OK;
    if (!need_bits(bz, n, &st))
        return truncated(bz, st, where);
    *v = take_bits(bz, n);
    return IMGP_OK;
}

static imgp_status block_error(imgp_bzip2 *bz, imgp_status st, const char *fmt, ...) IMGP_PRINTF(3, 4);
static imgp_status block_error(imgp_bzip2 *bz, imgp_status st, const char *fmt, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return imgp_error(bz->ctx, st, "bzip2: block %u at 0x%llx (stream at 0x%llx): %s", bz->block_index,
                      HEX(bz->block_off), HEX(bz->stream_off), what);
}

/* ---- CRC (bzip2 uses the CRC-32 polynomial most significant bit first, no reflection) ---- */

static void crc_table_init(uint32_t *t)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i << 24;
        for (int k = 0; k < 8; k++)
            c = c & 0x80000000u ? c << 1 ^ 0x04c11db7u : c << 1;
        t[i] = c;
    }
}

static inline uint32_t crc_byte(const uint32_t *t, uint32_t crc, uint8_t b) { return crc << 8 ^ t[(crc >> 24) ^ b]; }

/* ---- block header, tables (sections "block header" to "trees") ---- */

/* The symbol map: which byte values occur in the block, in order. @return how many. */
static imgp_status read_symbol_map(imgp_bzip2 *bz, uint8_t *seq_to_byte, unsigned *n_in_use)
{
    uint32_t ranges, used;
    imgp_status st = get_bits(bz, 16, &ranges, "the symbol map");
    *n_in_use = 0;
    for (unsigned i = 0; i < 16 && st == IMGP_OK; i++) {
        if (!(ranges & (0x8000u >> i)))
            continue;
        st = get_bits(bz, 16, &used, "the symbol map");
        for (unsigned j = 0; j < 16 && st == IMGP_OK; j++)
            if (used & (0x8000u >> j))
                seq_to_byte[(*n_in_use)++] = (uint8_t)(i * 16 + j);
    }
    if (st == IMGP_OK && *n_in_use == 0)
        return block_error(bz, IMGP_ERR_CORRUPT, "the symbol map names no byte value");
    return st;
}

/* Selectors: which table codes each group of 50 symbols, unary MTF indexes. */
static imgp_status read_selectors(imgp_bzip2 *bz, unsigned n_groups, uint32_t *n_selectors)
{
    uint32_t n;
    imgp_status st = get_bits(bz, 15, &n, "the selector count");
    if (st != IMGP_OK)
        return st;
    if (n == 0)
        return block_error(bz, IMGP_ERR_CORRUPT, "no selectors");
    uint8_t mtf[MAX_GROUPS];
    for (unsigned i = 0; i < n_groups; i++)
        mtf[i] = (uint8_t)i;
    for (uint32_t i = 0; i < n; i++) {
        unsigned j = 0;
        for (;;) {
            uint32_t bit;
            st = get_bits(bz, 1, &bit, "the selectors");
            if (st != IMGP_OK)
                return st;
            if (!bit)
                break;
            if (++j >= n_groups)
                return block_error(bz, IMGP_ERR_CORRUPT, "selector %u names table %u or more", (unsigned)i, j);
        }
        /* undo the move-to-front coding of the selectors */
        uint8_t t = mtf[j];
        for (; j > 0; j--)
            mtf[j] = mtf[j - 1];
        mtf[0] = t;
        if (i < MAX_SELECTORS)
            bz->selectors[i] = t;
    }
    *n_selectors = n < MAX_SELECTORS ? n : MAX_SELECTORS;
    return IMGP_OK;
}

/* Code lengths of one table: a 5-bit start, then per symbol a delta (10 = +1, 11 = -1) until a 0 bit. */
static imgp_status read_code_lengths(imgp_bzip2 *bz, unsigned table, unsigned alpha_size, uint8_t *lengths)
{
    uint32_t len;
    imgp_status st = get_bits(bz, 5, &len, "the code lengths");
    for (unsigned i = 0; i < alpha_size && st == IMGP_OK; i++) {
        for (;;) {
            if (len < 1 || len > MAX_CODE_LEN)
                return block_error(bz, IMGP_ERR_CORRUPT, "table %u: code length %u outside 1..20", table, (unsigned)len);
            uint32_t bit;
            st = get_bits(bz, 1, &bit, "the code lengths");
            if (st != IMGP_OK || !bit)
                break;
            st = get_bits(bz, 1, &bit, "the code lengths");
            if (st != IMGP_OK)
                break;
            len = bit ? len - 1 : len + 1;
        }
        lengths[i] = (uint8_t)len;
    }
    return st;
}

/* Canonical decoding tables from code lengths (1..20 each). */
static void build_table(huff_table *h, const uint8_t *lengths, unsigned alpha_size)
{
    memset(h->count, 0, sizeof h->count);
    h->min_len = MAX_CODE_LEN;
    h->max_len = 1;
    for (unsigned i = 0; i < alpha_size; i++) {
        h->count[lengths[i]]++;
        if (lengths[i] < h->min_len)
            h->min_len = lengths[i];
        if (lengths[i] > h->max_len)
            h->max_len = lengths[i];
    }
    uint32_t code = 0;
    uint16_t index = 0;
    for (unsigned len = 1; len <= MAX_CODE_LEN; len++) {
        h->first[len] = code;
        h->index[len] = index;
        index = (uint16_t)(index + h->count[len]);
        code = (code + h->count[len]) << 1;
    }
    uint16_t next[MAX_CODE_LEN + 1];
    memcpy(next, h->index, sizeof next);
    for (unsigned i = 0; i < alpha_size; i++)
        h->symbols[next[lengths[i]]++] = (uint16_t)i;
}

/*
 * Decode one symbol with @p h. The next 20 bits are looked at when the input
 * has them (a block is always followed by at least 80 bits of markers and
 * CRCs, so only a truncated stream has fewer).
 */
static imgp_status decode_symbol(imgp_bzip2 *bz, const huff_table *h, unsigned *sym)
{
    imgp_status st = IMGP_OK;
    if (!need_bits(bz, MAX_CODE_LEN, &st) && st != IMGP_OK)
        return st;
    unsigned have = bz->nbits < MAX_CODE_LEN ? bz->nbits : MAX_CODE_LEN;
    uint32_t window = ((uint32_t)(bz->bits >> (bz->nbits - have)) & ((1u << have) - 1)) << (MAX_CODE_LEN - have);
    for (unsigned len = h->min_len; len <= h->max_len; len++) {
        uint32_t code = window >> (MAX_CODE_LEN - len);
        if (code - h->first[len] < h->count[len]) {
            if (len > have)
                return truncated(bz, IMGP_OK, "the Huffman data");
            bz->nbits -= len;
            *sym = h->symbols[h->index[len] + (code - h->first[len])];
            return IMGP_OK;
        }
    }
    if (have < h->max_len)
        return truncated(bz, IMGP_OK, "the Huffman data");
    return block_error(bz, IMGP_ERR_CORRUPT, "a Huffman code matches no symbol (bits 0x%05x)", (unsigned)window);
}

/* ---- Huffman data, RLE2 and MTF (section "Huffman data"), then the BWT inverse ---- */

static imgp_status read_block_symbols(imgp_bzip2 *bz, const uint8_t *seq_to_byte, unsigned n_in_use,
                                      uint32_t n_selectors, uint32_t *byte_count)
{
    uint8_t mtf[256];
    for (unsigned i = 0; i < 256; i++)
        mtf[i] = (uint8_t)i;
    const unsigned eob = n_in_use + 1;
    uint32_t nblock = 0, group_left = 0, group = 0;
    uint32_t run = 0, run_weight = 0; /* a pending run of mtf[0] (RUNA/RUNB digits, bijective base 2) */
    const huff_table *h = NULL;
    for (;;) {
        if (group_left == 0) {
            if (group >= n_selectors)
                return block_error(bz, IMGP_ERR_CORRUPT, "the data runs past its %u selectors", (unsigned)n_selectors);
            h = &bz->tables[bz->selectors[group++]];
            group_left = GROUP_SIZE;
        }
        group_left--;
        unsigned sym = 0;
        imgp_status st = decode_symbol(bz, h, &sym);
        if (st != IMGP_OK)
            return st;
        if (sym == RUNA || sym == RUNB) {
            run_weight = run_weight ? run_weight << 1 : 1;
            run += (sym == RUNA ? 1 : 2) * run_weight;
            if (run > bz->max_block - nblock)
                return block_error(bz, IMGP_ERR_CORRUPT, "a run of %u bytes overflows the %u-byte block", (unsigned)run,
                                   (unsigned)bz->max_block);
            continue;
        }
        if (run_weight) {
            uint8_t b = seq_to_byte[mtf[0]];
            byte_count[b] += run;
            for (uint32_t k = 0; k < run; k++)
                bz->tt[nblock++] = b;
            run = run_weight = 0;
        }
        if (sym == eob)
            break;
        /* an MTF index 1..n_in_use-1 (symbols 2..n_in_use): move it to the front */
        if (nblock >= bz->max_block)
            return block_error(bz, IMGP_ERR_CORRUPT, "more than %u bytes in the block", (unsigned)bz->max_block);
        unsigned v = sym - 1;
        uint8_t idx = mtf[v];
        memmove(mtf + 1, mtf, v);
        mtf[0] = idx;
        uint8_t b = seq_to_byte[idx];
        byte_count[b]++;
        bz->tt[nblock++] = b;
    }
    bz->nblock = nblock;
    return IMGP_OK;
}

/* Read one block up to its end-of-block symbol and invert the BWT into tt. */
static imgp_status read_block(imgp_bzip2 *bz)
{
    uint32_t crc, randomised, orig_ptr, n_groups, n_selectors = 0;
    imgp_status st = get_bits(bz, 32, &crc, "a block header");
    if (st == IMGP_OK)
        st = get_bits(bz, 1, &randomised, "a block header");
    if (st == IMGP_OK)
        st = get_bits(bz, 24, &orig_ptr, "a block header");
    if (st != IMGP_OK)
        return st;
    if (randomised)
        return block_error(bz, IMGP_ERR_UNSUPPORTED, "randomised block (written only by bzip2 0.9.0)");
    bz->want_crc = crc;

    uint8_t seq_to_byte[256];
    unsigned n_in_use;
    st = read_symbol_map(bz, seq_to_byte, &n_in_use);
    if (st == IMGP_OK)
        st = get_bits(bz, 3, &n_groups, "the table count");
    if (st != IMGP_OK)
        return st;
    if (n_groups < 2 || n_groups > MAX_GROUPS)
        return block_error(bz, IMGP_ERR_CORRUPT, "%u Huffman tables (2 to 6 allowed)", (unsigned)n_groups);
    st = read_selectors(bz, n_groups, &n_selectors);
    if (st != IMGP_OK)
        return st;
    for (uint32_t i = 0; i < n_selectors; i++)
        if (bz->selectors[i] >= n_groups)
            return block_error(bz, IMGP_ERR_CORRUPT, "selector %u names table %u", (unsigned)i, bz->selectors[i]);

    unsigned alpha_size = n_in_use + 2;
    for (unsigned t = 0; t < n_groups; t++) {
        uint8_t lengths[MAX_ALPHA];
        st = read_code_lengths(bz, t, alpha_size, lengths);
        if (st != IMGP_OK)
            return st;
        build_table(&bz->tables[t], lengths, alpha_size);
    }

    uint32_t byte_count[256] = {0};
    st = read_block_symbols(bz, seq_to_byte, n_in_use, n_selectors, byte_count);
    if (st != IMGP_OK)
        return st;
    if (orig_ptr >= bz->nblock)
        return block_error(bz, IMGP_ERR_CORRUPT, "origPtr %u is not below the block's %u bytes", (unsigned)orig_ptr,
                           (unsigned)bz->nblock);

    /* BWT inverse: row i of the sorted matrix continues at row tt[i] >> 8 (bzip2's "T vector"). */
    uint32_t start[256], sum = 0;
    for (unsigned i = 0; i < 256; i++) {
        start[i] = sum;
        sum += byte_count[i];
    }
    for (uint32_t i = 0; i < bz->nblock; i++) {
        uint8_t b = (uint8_t)(bz->tt[i] & 0xff);
        bz->tt[start[b]++] |= i << 8;
    }
    bz->tpos = bz->tt[orig_ptr] >> 8;
    bz->left = bz->nblock;
    bz->run = 0;
    bz->repeat = 0;
    bz->crc = 0xffffffffu;
    return IMGP_OK;
}

/* The stream header "BZh1".."BZh9" (section "stream header"). */
static imgp_status read_stream_header(imgp_bzip2 *bz)
{
    uint32_t magic;
    imgp_status st = get_bits(bz, 32, &magic, "the stream header");
    if (st != IMGP_OK)
        return st;
    if ((magic >> 8) != 0x425a68u || (magic & 0xff) < '1' || (magic & 0xff) > '9')
        return imgp_error(bz->ctx, IMGP_ERR_CORRUPT, "bzip2: stream at 0x%llx starts with 0x%08x, not BZh1..BZh9",
                          HEX(bz->stream_off), magic);
    bz->max_block = ((magic & 0xff) - '0') * 100000u;
    if (bz->tt_cap < bz->max_block) {
        /* every word is written before it is read (the block's symbols, then the BWT links) */
        uint32_t *tt = imgp_realloc(bz->ctx, bz->tt, (size_t)bz->max_block * sizeof *tt);
        if (!tt)
            return IMGP_ERR_NOMEM;
        bz->tt = tt;
        bz->tt_cap = bz->max_block;
    }
    bz->stream_crc = 0;
    bz->block_index = 0;
    return IMGP_OK;
}

/* A block header or the end of stream (section "end of stream"): which one, and read it. */
static imgp_status read_block_or_end(imgp_bzip2 *bz)
{
    uint64_t bit_pos = imgp_inbuf_offset(bz->in) * 8 - bz->nbits;
    bz->block_off = bit_pos / 8;
    uint32_t hi, lo;
    imgp_status st = get_bits(bz, 24, &hi, "a block header");
    if (st == IMGP_OK)
        st = get_bits(bz, 24, &lo, "a block header");
    if (st != IMGP_OK)
        return st;
    if (hi == BLOCK_MAGIC_HI && lo == BLOCK_MAGIC_LO) {
        st = read_block(bz);
        if (st == IMGP_OK)
            bz->state = BZ_OUTPUT;
        return st;
    }
    if (hi != END_MAGIC_HI || lo != END_MAGIC_LO)
        return block_error(bz, IMGP_ERR_CORRUPT, "magic 0x%06x%06x is neither a block nor the end of stream",
                           (unsigned)hi, (unsigned)lo);
    uint32_t crc;
    st = get_bits(bz, 32, &crc, "the end of stream");
    if (st != IMGP_OK)
        return st;
    if (crc != bz->stream_crc)
        return imgp_error(bz->ctx, IMGP_ERR_CORRUPT, "bzip2: stream at 0x%llx: stream CRC 0x%08x, computed 0x%08x",
                          HEX(bz->stream_off), crc, bz->stream_crc);
    /* what is left of the last byte is padding */
    bz->nbits = 0;
    bz->state = BZ_DONE;
    return IMGP_OK;
}

/* ---- output: the BWT's bytes with RLE1 undone ---- */

static size_t write_block(imgp_bzip2 *bz, uint8_t *out, size_t cap)
{
    size_t n = 0;
    uint32_t crc = bz->crc;
    const uint32_t *tab = bz->crc_table;
    while (n < cap) {
        if (bz->repeat) {
            size_t k = bz->repeat < cap - n ? bz->repeat : cap - n;
            memset(out + n, bz->last, k);
            for (size_t i = 0; i < k; i++)
                crc = crc_byte(tab, crc, bz->last);
            n += k;
            bz->repeat -= (uint32_t)k;
            continue;
        }
        if (bz->left == 0)
            break;
        /* tpos < nblock always: tt's high parts are a permutation of 0..nblock-1 */
        uint32_t e = bz->tt[bz->tpos];
        uint8_t b = (uint8_t)(e & 0xff);
        bz->tpos = e >> 8;
        bz->left--;
        if (bz->run == 4) {
            bz->repeat = b; /* four equal bytes were followed by a count of more */
            bz->run = 0;
            continue;
        }
        bz->run = bz->run && b == bz->last ? bz->run + 1 : 1;
        bz->last = b;
        out[n++] = b;
        crc = crc_byte(tab, crc, b);
    }
    bz->crc = crc;
    return n;
}

imgp_status imgp_bzip2_read(imgp_bzip2 *bz, uint8_t *out, size_t cap, size_t *got, bool *end)
{
    *got = 0;
    *end = false;
    while (*got < cap) {
        imgp_status st = IMGP_OK;
        switch (bz->state) {
        case BZ_HEADER:
            st = read_stream_header(bz);
            bz->state = BZ_BLOCK;
            break;
        case BZ_BLOCK:
            st = read_block_or_end(bz);
            break;
        case BZ_OUTPUT:
            *got += write_block(bz, out + *got, cap - *got);
            if (bz->left || bz->repeat)
                break;
            bz->crc = ~bz->crc;
            if (bz->crc != bz->want_crc)
                return block_error(bz, IMGP_ERR_CORRUPT, "block CRC 0x%08x, computed 0x%08x", (unsigned)bz->want_crc,
                                   (unsigned)bz->crc);
            bz->stream_crc = (bz->stream_crc << 1 | bz->stream_crc >> 31) ^ bz->crc;
            bz->block_index++;
            bz->state = BZ_BLOCK;
            break;
        case BZ_DONE:
            *end = *got == 0;
            return IMGP_OK;
        }
        if (st != IMGP_OK)
            return st;
    }
    return IMGP_OK;
}

void imgp_bzip2_start(imgp_bzip2 *bz, imgp_inbuf *in)
{
    bz->in = in;
    bz->stream_off = imgp_inbuf_offset(in);
    bz->state = BZ_HEADER;
    bz->bits = 0;
    bz->nbits = 0;
    bz->left = bz->repeat = 0;
}

imgp_status imgp_bzip2_new(imgp_ctx *ctx, imgp_bzip2 **out)
{
    *out = NULL;
    imgp_bzip2 *bz = imgp_calloc(ctx, 1, sizeof *bz);
    if (!bz)
        return IMGP_ERR_NOMEM;
    bz->ctx = ctx;
    crc_table_init(bz->crc_table);
    bz->state = BZ_DONE;
    *out = bz;
    return IMGP_OK;
}

void imgp_bzip2_free(imgp_bzip2 *bz)
{
    if (!bz)
        return;
    imgp_free(bz->ctx, bz->tt);
    imgp_free(bz->ctx, bz);
}
