/*
 * LZNT1 decompression ([MS-XCA] 2.5 "LZNT1 Algorithm Details"), the
 * compression of NTFS compressed files: the data is a sequence of chunks,
 * each producing at most 4 KiB, with a 2-byte header (bits 0-11: the chunk's
 * size after the header minus 1; bit 15: compressed). A compressed chunk is
 * groups of a flag byte and eight tokens: a literal byte (flag bit 0) or a
 * 2-byte back-reference (bit 1) whose split between offset and length bits
 * depends on how far into the chunk the output is. A zero header ends the
 * stream.
 */
#include "../core/cursor.h"
#include "ntfs.h"

/* One compressed chunk of @p slen bytes into @p dst (at most 4 KiB); *got its size. */
static imgp_status chunk(imgp_ctx *ctx, const uint8_t *src, size_t slen, uint8_t *dst, size_t dlen, size_t *got,
                         size_t at)
{
    size_t s = 0, d = 0;
    while (s < slen && d < dlen) {
        uint8_t flags = src[s++];
        for (int bit = 0; bit < 8 && s < slen && d < dlen; bit++, flags >>= 1) {
            if (!(flags & 1)) {
                dst[d++] = src[s++];
                continue;
            }
            if (slen - s < 2)
                return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: LZNT1 chunk at offset %zu: a back-reference is cut "
                                  "short", at);
            uint16_t tok = (uint16_t)(src[s] | src[s + 1] << 8);
            s += 2;
            /* [MS-XCA] 2.5.1.1: the offset takes as many bits as the
             * position needs (at least 4), the length the other 12 - n */
            unsigned len_bits = 12;
            for (size_t pos = d - 1; d > 0 && pos >= 0x10; pos >>= 1)
                len_bits--;
            size_t len = (tok & ((1u << len_bits) - 1)) + 3, off = (size_t)(tok >> len_bits) + 1;
            if (off > d)
                return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: LZNT1 chunk at offset %zu: back-reference %zu bytes "
                                  "back, %zu bytes into the chunk", at, off, d);
            if (len > dlen - d)
                len = dlen - d;
            for (size_t i = 0; i < len; i++, d++)
                dst[d] = dst[d - off]; /* may overlap: byte by byte */
        }
    }
    *got = d;
    return IMGP_OK;
}

imgp_status ntfs_lznt1_decompress(imgp_ctx *ctx, const uint8_t *src, size_t slen, uint8_t *dst, size_t dlen,
                                  size_t *got)
{
    size_t s = 0, d = 0;
    imgp_cursor c = imgp_cur_init(src, slen);
    while (d < dlen && slen - s >= 2) {
        uint16_t h = imgp_cur_le16_at(&c, s);
        if (h == 0)
            break;
        size_t size = (size_t)(h & NTFS_LZNT1_SIZE_MASK) + 1;
        if (size > slen - s - 2)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: LZNT1 chunk at offset %zu of %zu bytes overruns the %zu "
                              "compressed bytes", s, size, slen);
        const uint8_t *p = src + s + 2;
        size_t room = (size_t)imgp_min_u64(dlen - d, NTFS_LZNT1_CHUNK), n = 0;
        if (h & NTFS_LZNT1_COMPRESSED) {
            imgp_status st = chunk(ctx, p, size, dst + d, room, &n, s);
            if (st != IMGP_OK)
                return st;
        } else {
            n = (size_t)imgp_min_u64(size, room);
            memcpy(dst + d, p, n);
        }
        /* a chunk that decompresses to less than 4 KiB is followed by zeros
         * only at the end of the data; in the middle, the rest of its 4 KiB
         * is zeros too (Windows pads the last chunk of a unit only) */
        if (n < room && s + 2 + size < slen && imgp_cur_le16_at(&c, s + 2 + size) != 0) {
            memset(dst + d + n, 0, room - n);
            n = room;
        }
        d += n;
        s += 2 + size;
    }
    memset(dst + d, 0, dlen - d);
    *got = d;
    return IMGP_OK;
}
