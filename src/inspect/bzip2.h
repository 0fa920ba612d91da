/*
 * A bzip2 decompressor written from the format (no libbz2: DESIGN.md lists
 * no bzip2 library). One stream at a time, pulled from an imgp_inbuf and
 * read out in pieces of any size; the input stops exactly after the stream's
 * last byte. Block and stream CRCs are checked.
 *
 * Memory: one block of at most 900,000 symbols as 32-bit words (3.6 MB), plus
 * fixed tables; nothing depends on anything else in the input. Time: linear
 * in the input and output.
 *
 * The format, as the references describe it (bzip2 1.0.x's decompress.c is
 * its only normative text; Joe Tsai's "The bzip2 format" writes it down):
 *   stream  := "BZh" level('1'..'9') block* end-of-stream
 *   block   := 0x314159265359 (48 bits) blockCRC(32) randomised(1) origPtr(24)
 *              used-map(16 + 16 per used range) nGroups(3) nSelectors(15)
 *              selectors(unary, MTF-coded) code-lengths(delta-coded, per group)
 *              Huffman-coded symbols (RUNA/RUNB zero-run lengths, MTF
 *              indexes, EOB), a new table every 50 symbols
 *   end     := 0x177245385090 (48 bits) streamCRC(32), padding to a byte
 * Decoding undoes Huffman, RLE2 (runs of MTF index 0), MTF, the
 * Burrows-Wheeler transform (origPtr is the row of the original) and RLE1
 * (four equal bytes then a count 0..255 of more).
 */
#ifndef IMGP_INSPECT_BZIP2_H
#define IMGP_INSPECT_BZIP2_H

#include "decompress.h"

typedef struct imgp_bzip2 imgp_bzip2;

/* Largest block: level 9, 900,000 bytes before RLE1 is undone. */
#define IMGP_BZIP2_MAX_BLOCK 900000u

imgp_status imgp_bzip2_new(imgp_ctx *ctx, imgp_bzip2 **out);
void imgp_bzip2_free(imgp_bzip2 *bz);

/* Start a stream at @p in's position (its header is read by the first imgp_bzip2_read). */
void imgp_bzip2_start(imgp_bzip2 *bz, imgp_inbuf *in);

/*
 * Decompress up to @p cap bytes into @p out. *got == 0 with *end set: the
 * stream's end was read and its CRC matched. IMGP_ERR_CORRUPT names what is
 * wrong and where (input offset of the block); IMGP_ERR_UNSUPPORTED for a
 * randomised block (written only by bzip2 0.9.0, refused by the kernel too).
 */
imgp_status imgp_bzip2_read(imgp_bzip2 *bz, uint8_t *out, size_t cap, size_t *got, bool *end);

#endif
