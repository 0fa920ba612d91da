/*
 * libFuzzer harness over content identification (src/partition/content*.c):
 * the input becomes the head and tail buffers of a device, and what
 * content_identify() says about them is checked, not only survived.
 *
 * Input layout, chosen by the low bit of the first byte:
 *  - even: the rest of the input is a whole device; head and tail are its
 *    first IMGP_CONTENT_HEAD and last IMGP_CONTENT_TAIL bytes, as
 *    content_probe() would read them (and content_probe() is run over a
 *    memory device holding it, to compare);
 *  - odd: bytes 1..8 are the device size (little-endian, any value), bytes
 *    9..12 the head's length; the rest is the head, then the tail. Sizes,
 *    lengths and buffers need not agree: the function must cope.
 * Head and tail are copied into buffers of exactly their length, so that
 * ASan sees any read past them.
 *
 * Invariants (abort() when one breaks):
 *  - the type is never NULL, never empty, and one of the names we document;
 *  - version, label and uuid are NUL-terminated inside their arrays and are
 *    valid UTF-8 without control characters;
 *  - a device of 1 KiB or less is "unknown";
 *  - the same input gives the same answer twice;
 *  - in whole-device mode, content_probe() over a memory device says the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness_support.h"
#include "partition/content.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const known_types[] = {
    "unknown",   "ext2",      "ext3",      "ext4",       "ext4dev",    "jbd",
    "xfs",       "xfs_external_log",      "vfat",       "exfat",      "ntfs",
    "swap",      "swsuspend", "btrfs",     "iso9660",    "squashfs",   "squashfs3",
    "zfs_member", "linux_raid_member",    "lvm2_member", "LDM",       "crypto_LUKS",
    "BitLocker",
};

static bool known_type(const char *t)
{
    for (size_t i = 0; i < sizeof known_types / sizeof known_types[0]; i++)
        if (strcmp(t, known_types[i]) == 0)
            return true;
    return false;
}

/* NUL inside @p cap bytes, and what precedes it is UTF-8 (shortest form, no surrogates) without controls. */
static bool clean_text(const char *s, size_t cap)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t len = strnlen(s, cap);
    if (len == cap)
        return false;
    for (size_t i = 0; i < len;) {
        uint8_t b = p[i];
        size_t n = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0 || n > len - i)
            return false;
        uint32_t c = n == 1 ? b : (uint32_t)(b & (0x7F >> n));
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            c = c << 6 | (p[i + k] & 0x3Fu);
        }
        static const uint32_t shortest[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (c < shortest[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF) || c < 0x20 || c == 0x7F)
            return false;
        i += n;
    }
    return true;
}

static void check_result(const content_result *r, uint64_t device_size)
{
    CHECK(r->type != NULL, "type");
    CHECK(r->type[0] != '\0', "type");
    CHECK(known_type(r->type), r->type);
    CHECK(clean_text(r->version, sizeof r->version), "version");
    CHECK(clean_text(r->label, sizeof r->label), "label");
    CHECK(clean_text(r->uuid, sizeof r->uuid), "uuid");
    if (device_size <= 1024)
        CHECK(strcmp(r->type, "unknown") == 0, "a device of 1 KiB or less named");
}

static bool same_result(const content_result *a, const content_result *b)
{
    return strcmp(a->type, b->type) == 0 && strcmp(a->version, b->version) == 0 &&
           strcmp(a->label, b->label) == 0 && strcmp(a->uuid, b->uuid) == 0;
}

/* A copy of @p n bytes in a buffer of exactly that size (NULL when empty). */
static uint8_t *exact_copy(const uint8_t *p, size_t n)
{
    if (n == 0)
        return NULL;
    uint8_t *c = malloc(n);
    if (!c)
        abort();
    memcpy(c, p, n);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool split = data[0] & 1;
    data++;
    size--;

    const uint8_t *head_src, *tail_src;
    size_t head_len, tail_len;
    uint64_t device_size;
    if (split) {
        if (size < 12)
            return 0;
        device_size = 0;
        for (int i = 7; i >= 0; i--)
            device_size = device_size << 8 | data[i];
        size_t want_head = (size_t)data[8] | (size_t)data[9] << 8 | (size_t)data[10] << 16 | (size_t)data[11] << 24;
        data += 12;
        size -= 12;
        head_len = want_head < size ? want_head : size;
        head_src = data;
        tail_src = data + head_len;
        tail_len = size - head_len;
    } else {
        device_size = size;
        head_len = size < IMGP_CONTENT_HEAD ? size : IMGP_CONTENT_HEAD;
        tail_len = size < IMGP_CONTENT_TAIL ? size : IMGP_CONTENT_TAIL;
        head_src = data;
        tail_src = data + (size - tail_len);
    }

    uint8_t *head = exact_copy(head_src, head_len), *tail = exact_copy(tail_src, tail_len);
    content_result first, again;
    memset(&first, 0xA5, sizeof first);
    content_identify(head, head_len, tail, tail_len, device_size, &first);
    check_result(&first, device_size);
    memset(&again, 0x5A, sizeof again);
    content_identify(head, head_len, tail, tail_len, device_size, &again);
    CHECK(same_result(&first, &again), "a second look differs");
    free(head);
    free(tail);

    if (!split) {
        imgp_ctx *ctx = imgp_ctx_new(NULL);
        imgp_bdev *bd = NULL;
        if (!ctx)
            abort();
        uint8_t *whole = exact_copy(data, size);
        if (imgp_bdev_open_memory(ctx, whole, size, "fuzz", &bd) == IMGP_OK) {
            content_result probed;
            imgp_status st = content_probe(bd, &probed);
            CHECK(st == IMGP_OK, "content_probe over memory");
            check_result(&probed, device_size);
            CHECK(same_result(&first, &probed), "content_probe and content_identify disagree");
            imgp_bdev_close(bd);
        }
        free(whole);
        imgp_ctx_free(ctx);
    }
    return 0;
}
