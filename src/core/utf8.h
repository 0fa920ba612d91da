/*
 * Writing UTF-8, for names that on disk are UTF-16 (GPT partition names,
 * VHD parent names, NTFS and FAT labels): one encoder instead of one per
 * parser.
 */
#ifndef IMGP_UTF8_H
#define IMGP_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Append code point @p cp (at most U+10FFFF; surrogates are the caller's to
 * replace) as UTF-8 to @p out, which holds @p cap bytes of which *@p len are
 * used, keeping one byte free for a NUL.
 * @return false, appending nothing, when the character does not fit.
 */
static inline bool imgp_utf8_put(uint32_t cp, char *out, size_t cap, size_t *len)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (*len >= cap || n >= cap - *len)
        return false;
    memcpy(out + *len, b, n);
    *len += n;
    return true;
}

#endif
