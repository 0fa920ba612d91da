/*
 * VHD: Microsoft's "Virtual Hard Disk Image Format Specification" (version
 * 1.0, October 2006), as written by Virtual PC, Virtual Server, Hyper-V,
 * Disk2vhd, XenServer and qemu ("vpc"). Fixed, dynamic and differencing disks.
 *
 * Where the spec and qemu 7.2 (block/vpc.c, the reader of the cloud's importer)
 * disagree, the virtual disk follows qemu so that `imgprobe dump` equals
 * `qemu-img convert -O raw` byte for byte:
 *  - the virtual size follows qemu's creator-application rule
 *    (vhd_footer_virtual_size());
 *  - in a dynamic disk an allocated block reads its data whatever its sector
 *    bitmap says: qemu ignores the bitmap. The spec reads a clear bit as "not
 *    in use"; every writer we know zero-fills a block when it allocates it, so
 *    the two agree on real images, and where they would not, the importer sees
 *    what qemu reads.
 * qemu does not read differencing disks as such (it reads them as dynamic
 * disks, without a parent). Here they follow the spec ("Read Operation for a
 * Differencing Hard Disk"): a set bit reads the child's sector, a clear bit
 * or an unallocated block reads the parent.
 */
#include <stdio.h>

#include "vhd.h"
#include "../core/cache.h"
#include "../core/cursor.h"

/* Sector bitmaps kept per differencing disk: sequential reads touch one
 * block at a time; a few more serve a filesystem's scattered metadata. */
#define VHD_BITMAP_CACHE_SLOTS 16u

/* A parent is looked for under at most this many names (locators, the unicode
 * name, and each one's bare file name). */
#define VHD_MAX_PARENT_CANDIDATES (2u * (VHD_DYN_LOCATOR_COUNT + 1u))

typedef struct vhd_bdev {
    imgp_bdev base;
    imgp_source *src;     /* borrowed from the image */
    vhd_footer footer;
    /* dynamic and differencing disks */
    uint32_t block_size;
    unsigned block_shift;
    uint32_t bitmap_size;
    uint32_t blocks;
    uint32_t *bat;        /* host order; VHD_BAT_UNUSED or the bitmap's sector */
    bool differencing;
    imgp_cache *bitmaps;  /* differencing only: sector bitmaps by block index */
    imgp_bdev *parent;    /* differencing only: owned by the image's backing */
} vhd_bdev;

/* ---- parsers ---- */

uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t checksum_off)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++)
        if (i < checksum_off || i - checksum_off >= 4)
            sum += buf[i];
    return ~sum;
}

/* A 4-character code ("win ", "d2v\0") for messages and `info`, non-printable bytes as \xNN. */
static const char *fourcc_text(const uint8_t code[4], char out[17])
{
    size_t o = 0;
    for (int i = 0; i < 4; i++) {
        if (code[i] >= 0x20 && code[i] < 0x7f && code[i] != '\\')
            out[o++] = (char)code[i];
        else
            o += (size_t)snprintf(out + o, 5, "\\x%02x", code[i]);
    }
    out[o] = '\0';
    return out;
}

static const char *fourcc_text_u32(uint32_t v, char out[17])
{
    uint8_t code[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return fourcc_text(code, out);
}

/*
 * The virtual size, as qemu 7.2 computes it in block/vpc.c vpc_open() (the
 * spec leaves the choice open: "Current Size" is the disk's size, while Virtual
 * PC sizes the disk the guest sees by its "Disk Geometry", which the spec's
 * "Appendix: CHS Calculation" rounds down):
 *  - cylinders x heads x sectors per track sectors, unless
 *  - the creator application is one that sizes disks by "Current Size": "win "
 *    (Hyper-V), "qem2" (qemu with force_size=on), "d2v " (Disk2vhd), "CTXS"
 *    (XenConverter) or "tap\0" (XenServer) -- compared as 4 bytes, so "d2v\0",
 *    which Disk2vhd actually writes, does not match -- or the geometry is the
 *    largest there is, 65535/16/255 (VHD_MAX_GEOMETRY), which writers set when the
 *    size does not fit in CHS (qemu's force_size=on, Disk2vhd);
 *  - then "Current Size" in whole sectors.
 * Releases of qemu after 9.2 invert the list (only "vpc " and "qemu" use CHS);
 * they differ for creators neither list names (Azure's "wa\0\0"). We keep
 * 7.2's answer, the qemu the importer runs (Debian 12).
 */
uint64_t vhd_footer_virtual_size(const vhd_footer *f)
{
    static const char *const current_size_creators[] = {"win ", "qem2", "d2v ", "CTXS", "tap\0"};
    uint64_t sectors = (uint64_t)f->cylinders * f->heads * f->sectors_per_track;
    bool use_current = sectors == VHD_MAX_GEOMETRY;
    for (size_t i = 0; i < sizeof current_size_creators / sizeof *current_size_creators; i++)
        if (memcmp(f->creator_app, current_size_creators[i], 4) == 0)
            use_current = true;
    if (use_current)
        sectors = f->current_size / VHD_SECTOR;
    return sectors * VHD_SECTOR; /* sectors <= 2^32 x 255 here: no overflow */
}

imgp_status vhd_footer_parse(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint64_t where,
                             uint64_t file_size, vhd_footer *out)
{
    memset(out, 0, sizeof *out);
    unsigned long long at = (unsigned long long)where;
    if (len != VHD_FOOTER_SIZE && len != VHD_FOOTER_SIZE_OLD)
        return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "vhd: a footer is 512 or 511 bytes, not %zu", len);
    imgp_cursor c = imgp_cur_init(buf, len);
    const uint8_t *cookie = imgp_cur_ptr_at(&c, 0, VHD_FOOTER_COOKIE_LEN);
    if (!cookie || memcmp(cookie, VHD_FOOTER_COOKIE, VHD_FOOTER_COOKIE_LEN) != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "vhd: no footer cookie \"conectix\" at 0x%llx", at);
    out->data_offset = imgp_cur_be64_at(&c, VHD_FOOTER_DATA_OFFSET);
    imgp_cur_bytes_at(&c, VHD_FOOTER_CREATOR_APP, out->creator_app, 4);
    out->creator_major = imgp_cur_be16_at(&c, VHD_FOOTER_CREATOR_MAJOR);
    out->creator_minor = imgp_cur_be16_at(&c, VHD_FOOTER_CREATOR_MINOR);
    out->creator_os = imgp_cur_be32_at(&c, VHD_FOOTER_CREATOR_OS);
    out->original_size = imgp_cur_be64_at(&c, VHD_FOOTER_ORIGINAL_SIZE);
    out->current_size = imgp_cur_be64_at(&c, VHD_FOOTER_CURRENT_SIZE);
    out->cylinders = imgp_cur_be16_at(&c, VHD_FOOTER_CYLINDERS);
    out->heads = imgp_cur_u8_at(&c, VHD_FOOTER_HEADS);
    out->sectors_per_track = imgp_cur_u8_at(&c, VHD_FOOTER_SECTORS);
    out->disk_type = imgp_cur_be32_at(&c, VHD_FOOTER_DISK_TYPE);
    out->checksum = imgp_cur_be32_at(&c, VHD_FOOTER_CHECKSUM);
    imgp_cur_bytes_at(&c, VHD_FOOTER_UUID, out->uuid, sizeof out->uuid);
    out->saved_state = imgp_cur_u8_at(&c, VHD_FOOTER_SAVED_STATE);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "vhd: footer at 0x%llx is truncated", at);

    uint32_t computed = vhd_checksum(buf, len, VHD_FOOTER_CHECKSUM);
    if (computed != out->checksum)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "vhd: footer checksum 0x%08x does not match computed 0x%08x (footer at 0x%llx)",
                          out->checksum, computed, at);

    switch (out->disk_type) {
    case VHD_TYPE_FIXED:
        break;
    case VHD_TYPE_DYNAMIC:
    case VHD_TYPE_DIFFERENCING:
        if (imgp_range_outside(out->data_offset, VHD_DYN_SIZE, file_size))
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "vhd: dynamic disk header at 0x%llx lies past the end of the file (size 0x%llx)",
                              (unsigned long long)out->data_offset, (unsigned long long)file_size);
        break;
    default:
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED,
                          "vhd: footer at 0x%llx has disk type %u, not fixed (2), dynamic (3) or differencing (4)",
                          at, out->disk_type);
    }

    out->virtual_size = vhd_footer_virtual_size(out);
    if (out->virtual_size > VHD_MAX_SECTORS * VHD_SECTOR)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED,
                          "vhd: virtual size of %llu bytes exceeds the VHD maximum of 2040 GiB",
                          (unsigned long long)out->virtual_size);
    return IMGP_OK;
}

imgp_status vhd_dyn_header_parse(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint64_t where,
                                 uint64_t virtual_size, uint64_t file_size, bool differencing,
                                 vhd_dyn_header *out)
{
    memset(out, 0, sizeof *out);
    unsigned long long at = (unsigned long long)where;
    imgp_cursor c = imgp_cur_init(buf, len);
    const uint8_t *cookie = imgp_cur_ptr_at(&c, 0, VHD_DYN_COOKIE_LEN);
    if (!cookie || memcmp(cookie, VHD_DYN_COOKIE, VHD_DYN_COOKIE_LEN) != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "vhd: no dynamic disk header cookie \"cxsparse\" at 0x%llx", at);
    out->table_offset = imgp_cur_be64_at(&c, VHD_DYN_TABLE_OFFSET);
    out->max_table_entries = imgp_cur_be32_at(&c, VHD_DYN_MAX_TABLE_ENTRIES);
    out->block_size = imgp_cur_be32_at(&c, VHD_DYN_BLOCK_SIZE);
    uint32_t checksum = imgp_cur_be32_at(&c, VHD_DYN_CHECKSUM);
    imgp_cur_bytes_at(&c, VHD_DYN_PARENT_UUID, out->parent_uuid, sizeof out->parent_uuid);
    out->parent_timestamp = imgp_cur_be32_at(&c, VHD_DYN_PARENT_TIMESTAMP);
    imgp_cur_bytes_at(&c, VHD_DYN_PARENT_NAME, out->parent_name, sizeof out->parent_name);
    for (size_t i = 0; i < VHD_DYN_LOCATOR_COUNT; i++) {
        size_t base = VHD_DYN_LOCATORS + i * VHD_DYN_LOCATOR_SIZE;
        out->locators[i].platform = imgp_cur_be32_at(&c, base + VHD_LOC_PLATFORM_CODE);
        out->locators[i].data_length = imgp_cur_be32_at(&c, base + VHD_LOC_DATA_LENGTH);
        out->locators[i].data_offset = imgp_cur_be64_at(&c, base + VHD_LOC_DATA_OFFSET);
    }
    if (!imgp_cur_ok(&c) || len < VHD_DYN_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "vhd: dynamic disk header at 0x%llx is truncated", at);

    uint32_t computed = vhd_checksum(buf, VHD_DYN_SIZE, VHD_DYN_CHECKSUM);
    if (computed != checksum)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "vhd: dynamic disk header checksum 0x%08x does not match computed 0x%08x (header at 0x%llx)",
                          checksum, computed, at);

    /* "Block Size": a power of two, at least a sector (qemu's rule too). */
    if (out->block_size < VHD_SECTOR || !imgp_is_pow2(out->block_size))
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "vhd: block size %u in the dynamic disk header at 0x%llx is not a power of two of at "
                          "least 512 bytes", out->block_size, at);
    if (out->block_size > VHD_MAX_BLOCK_SIZE)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "vhd: block size %u exceeds the %u bytes imgprobe reads",
                          out->block_size, VHD_MAX_BLOCK_SIZE);
    /* One bit per sector, "padded to a 512-byte sector boundary". (qemu
     * computes 0 bytes for blocks under 4 KiB; no writer makes such blocks.) */
    uint32_t bitmap_bytes = (out->block_size / VHD_SECTOR + 7) / 8;
    out->bitmap_size = (bitmap_bytes + VHD_SECTOR - 1) / VHD_SECTOR * VHD_SECTOR;

    /* virtual_size <= 2040 GiB and block_size >= 512: the count fits 32 bits. */
    uint64_t blocks = virtual_size / out->block_size + (virtual_size % out->block_size != 0);
    if (out->max_table_entries < blocks)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "vhd: max table entries %u with %u-byte blocks cannot map the virtual size of %llu bytes "
                          "(%llu blocks)", out->max_table_entries, out->block_size,
                          (unsigned long long)virtual_size, (unsigned long long)blocks);
    out->blocks = (uint32_t)blocks;
    uint64_t table_bytes = (uint64_t)out->max_table_entries * VHD_BAT_ENTRY_SIZE;
    if (imgp_range_outside(out->table_offset, table_bytes, file_size))
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "vhd: block allocation table at 0x%llx (%u entries, 0x%llx bytes) lies past the end of the "
                          "file (size 0x%llx)", (unsigned long long)out->table_offset, out->max_table_entries,
                          (unsigned long long)table_bytes, (unsigned long long)file_size);

    if (!differencing)
        return IMGP_OK; /* "Parent Locator Entries" are for differencing disks only */
    for (size_t i = 0; i < VHD_DYN_LOCATOR_COUNT; i++) {
        const vhd_locator *l = &out->locators[i];
        char code[17];
        if (l->platform == VHD_PLATFORM_NONE || l->data_length == 0)
            continue;
        if (l->data_length > VHD_MAX_LOCATOR_BYTES)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "vhd: parent locator %zu (%s) of %u bytes is longer than %u", i,
                              fourcc_text_u32(l->platform, code), l->data_length, VHD_MAX_LOCATOR_BYTES);
        if (imgp_range_outside(l->data_offset, l->data_length, file_size))
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "vhd: parent locator %zu (%s) at 0x%llx (%u bytes) lies past the end of the file "
                              "(size 0x%llx)", i, fourcc_text_u32(l->platform, code),
                              (unsigned long long)l->data_offset, l->data_length, (unsigned long long)file_size);
    }
    return IMGP_OK;
}

imgp_status vhd_bat_parse(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint32_t count,
                          const vhd_dyn_header *hdr, uint64_t file_size, uint32_t *bat)
{
    imgp_cursor c = imgp_cur_init(buf, len);
    uint64_t block_bytes = (uint64_t)hdr->bitmap_size + hdr->block_size;
    for (uint32_t i = 0; i < count; i++) {
        /* the value is read before bat[i] is written: @p buf may alias @p bat */
        uint32_t sector = imgp_cur_be32_at(&c, (size_t)i * VHD_BAT_ENTRY_SIZE);
        if (!imgp_cur_ok(&c))
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "vhd: block allocation table of %zu bytes holds no entry %u",
                              len, i);
        bat[i] = sector;
        if (sector == VHD_BAT_UNUSED)
            continue;
        uint64_t off = (uint64_t)sector * VHD_SECTOR;
        if (imgp_range_outside(off, block_bytes, file_size))
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "vhd: block %u at 0x%llx (bitmap and data, 0x%llx bytes) lies past the end of the file "
                              "(size 0x%llx)", i, (unsigned long long)off, (unsigned long long)block_bytes,
                              (unsigned long long)file_size);
    }
    return IMGP_OK;
}

/* Append @p cp as UTF-8 to @p out at *o, keeping room for the NUL. */
static bool put_utf8(uint32_t cp, char *out, size_t out_len, size_t *o)
{
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (n >= out_len - *o)
        return false;
    uint8_t *p = (uint8_t *)out + *o;
    if (n == 1) {
        p[0] = (uint8_t)cp;
    } else {
        for (size_t k = n - 1; k > 0; k--) {
            p[k] = (uint8_t)(0x80 | (cp & 0x3f));
            cp >>= 6;
        }
        static const uint8_t lead[5] = {0, 0, 0xc0, 0xe0, 0xf0};
        p[0] = (uint8_t)(lead[n] | cp);
    }
    *o += n;
    return true;
}

bool vhd_utf16_to_utf8(const uint8_t *buf, size_t len, bool big_endian, char *out, size_t out_len)
{
    if (out_len == 0)
        return false;
    size_t o = 0;
    for (size_t i = 0; len - i >= 2; i += 2) {
        uint32_t u = big_endian ? (uint32_t)buf[i] << 8 | buf[i + 1] : (uint32_t)buf[i + 1] << 8 | buf[i];
        if (u == 0)
            break;
        if (u >= 0xdc00 && u <= 0xdfff)
            return false; /* a low surrogate first */
        if (u >= 0xd800 && u <= 0xdbff) {
            if (len - i < 4)
                return false;
            i += 2;
            uint32_t lo = big_endian ? (uint32_t)buf[i] << 8 | buf[i + 1] : (uint32_t)buf[i + 1] << 8 | buf[i];
            if (lo < 0xdc00 || lo > 0xdfff)
                return false;
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (!put_utf8(u, out, out_len, &o))
            return false;
    }
    out[o] = '\0';
    return true;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* A MacX locator: "file://localhost/Users/me/parent.vhd" or "file:///...",
 * percent-encoded UTF-8 (RFC 8089). */
static bool mac_url_path(const uint8_t *data, size_t len, char *out, size_t out_len)
{
    size_t n = strnlen((const char *)data, len);
    const char *s = (const char *)data, *end = s + n;
    static const char scheme[] = "file://";
    if (n >= sizeof scheme - 1 && memcmp(s, scheme, sizeof scheme - 1) == 0) {
        s += sizeof scheme - 1;
        while (s < end && *s != '/') /* the host, "localhost" or empty */
            s++;
    }
    size_t o = 0;
    while (s < end) {
        char ch = *s++;
        if (ch == '%') {
            int hi = end - s >= 2 ? hex_value(s[0]) : -1, lo = hi >= 0 ? hex_value(s[1]) : -1;
            if (lo < 0)
                return false;
            ch = (char)(hi << 4 | lo);
            s += 2;
        }
        if (ch == '\0' || o + 1 >= out_len)
            return false;
        out[o++] = ch;
    }
    out[o] = '\0';
    return o > 0;
}

bool vhd_locator_path(uint32_t platform, const uint8_t *data, size_t len, char *out, size_t out_len)
{
    if (platform == VHD_PLATFORM_MACX)
        return mac_url_path(data, len, out, out_len);
    if (platform != VHD_PLATFORM_W2RU && platform != VHD_PLATFORM_W2KU)
        return false;
    if (!vhd_utf16_to_utf8(data, len, false, out, out_len))
        return false;
    for (char *p = out; *p; p++)
        if (*p == '\\')
            *p = '/';
    /* ".\parent.vhd", the usual W2ru form: the same directory */
    size_t skip = 0;
    while (out[skip] == '.' && out[skip + 1] == '/')
        skip += 2;
    memmove(out, out + skip, strlen(out + skip) + 1);
    return out[0] != '\0';
}

/* ---- the block device ---- */

static imgp_status fixed_read(imgp_bdev *bd, uint64_t off, void *buf, size_t len)
{
    return imgp_source_read(((vhd_bdev *)bd)->src, off, buf, len, "vhd data");
}

/* "Read Operation for a Differencing Hard Disk": what the parent holds, zeros past its end. */
static imgp_status read_parent(vhd_bdev *v, uint64_t off, uint8_t *buf, size_t len)
{
    size_t n = 0;
    if (v->parent && off < v->parent->size)
        n = (size_t)imgp_min_u64(len, v->parent->size - off);
    memset(buf + n, 0, len - n);
    return n ? imgp_bdev_read(v->parent, off, buf, n) : IMGP_OK;
}

static uint64_t block_data_offset(const vhd_bdev *v, uint32_t block)
{
    return (uint64_t)v->bat[block] * VHD_SECTOR + v->bitmap_size;
}

static imgp_status fill_bitmap(void *arg, uint64_t block, uint8_t *buf)
{
    vhd_bdev *v = arg;
    return imgp_source_read(v->src, (uint64_t)v->bat[block] * VHD_SECTOR, buf, v->bitmap_size, "vhd sector bitmap");
}

/* "Mapping a Disk Sector to a Sector in the Block": sector 0 is the most
 * significant bit of the bitmap's first byte. */
static bool sector_in_child(const uint8_t *bitmap, uint64_t sector)
{
    return bitmap[sector / 8] & (0x80u >> (sector % 8));
}

/* The run of bytes from @p in (an offset inside an allocated block, below
 * @p end) whose sectors share the bitmap bit of @p in's sector; *in_child says which. */
static uint64_t bitmap_run(const uint8_t *bitmap, uint64_t in, uint64_t end, bool *in_child)
{
    uint64_t sector = in / VHD_SECTOR;
    *in_child = sector_in_child(bitmap, sector);
    uint64_t next = (sector + 1) * VHD_SECTOR;
    while (next < end && sector_in_child(bitmap, next / VHD_SECTOR) == *in_child)
        next += VHD_SECTOR;
    return imgp_min_u64(next, end) - in;
}

static imgp_status read_differencing_block(vhd_bdev *v, uint32_t block, uint64_t off, uint8_t *buf, size_t len)
{
    const uint8_t *bitmap;
    imgp_status st = imgp_cache_get(v->bitmaps, block, fill_bitmap, v, &bitmap);
    if (st != IMGP_OK)
        return st;
    uint64_t in = off & (v->block_size - 1), end = in + len;
    while (in < end) {
        bool in_child;
        size_t n = (size_t)bitmap_run(bitmap, in, end, &in_child);
        /* the parent is another device with its own cache: bitmap stays valid */
        st = in_child ? imgp_source_read(v->src, block_data_offset(v, block) + in, buf, n, "vhd block")
                      : read_parent(v, off, buf, n);
        if (st != IMGP_OK)
            return st;
        in += n;
        off += n;
        buf += n;
    }
    return IMGP_OK;
}

static imgp_status sparse_read(imgp_bdev *bd, uint64_t off, void *buf, size_t len)
{
    vhd_bdev *v = (vhd_bdev *)bd;
    uint8_t *p = buf;
    while (len > 0) {
        uint32_t block = (uint32_t)(off >> v->block_shift);
        uint64_t in = off & (v->block_size - 1);
        size_t n = (size_t)imgp_min_u64(len, v->block_size - in);
        imgp_status st;
        if (v->bat[block] == VHD_BAT_UNUSED)
            st = read_parent(v, off, p, n);
        else if (!v->differencing) /* the whole block, bitmap ignored (see the top) */
            st = imgp_source_read(v->src, block_data_offset(v, block) + in, p, n, "vhd block");
        else
            st = read_differencing_block(v, block, off, p, n);
        if (st != IMGP_OK)
            return st;
        off += n;
        p += n;
        len -= n;
    }
    return IMGP_OK;
}

/* A fixed disk is its data: DATA, except where the file has holes. */
static imgp_status fixed_status(imgp_bdev *bd, uint64_t off, uint64_t len, imgp_extent_kind *kind, uint64_t *run)
{
    bool is_data;
    imgp_status st = imgp_source_extent(((vhd_bdev *)bd)->src, off, len, &is_data, run);
    *kind = is_data ? IMGP_EXTENT_DATA : IMGP_EXTENT_ZERO;
    return st;
}

static imgp_status parent_status(vhd_bdev *v, uint64_t off, uint64_t len, imgp_extent_kind *kind, uint64_t *run)
{
    if (!v->parent || off >= v->parent->size) {
        *kind = IMGP_EXTENT_UNALLOCATED;
        *run = len;
        return IMGP_OK;
    }
    return imgp_bdev_status(v->parent, off, imgp_min_u64(len, v->parent->size - off), kind, run);
}

/* The kind of the piece at @p off that one look at the BAT (and bitmap) tells. */
static imgp_status sparse_piece(vhd_bdev *v, uint64_t off, uint64_t len, imgp_extent_kind *kind, uint64_t *run)
{
    uint32_t block = (uint32_t)(off >> v->block_shift);
    uint64_t in = off & (v->block_size - 1);
    uint64_t to_block_end = imgp_min_u64(len, v->block_size - in);
    if (v->bat[block] == VHD_BAT_UNUSED) {
        /* consecutive unallocated blocks: one piece */
        uint64_t n = to_block_end;
        while (n < len && v->bat[++block] == VHD_BAT_UNUSED)
            n += imgp_min_u64(len - n, v->block_size);
        return parent_status(v, off, n, kind, run);
    }
    if (!v->differencing) {
        *kind = IMGP_EXTENT_DATA;
        *run = to_block_end;
        return IMGP_OK;
    }
    const uint8_t *bitmap;
    imgp_status st = imgp_cache_get(v->bitmaps, block, fill_bitmap, v, &bitmap);
    if (st != IMGP_OK)
        return st;
    bool in_child;
    uint64_t n = bitmap_run(bitmap, in, in + to_block_end, &in_child);
    if (in_child) {
        *kind = IMGP_EXTENT_DATA;
        *run = n;
        return IMGP_OK;
    }
    return parent_status(v, off, n, kind, run);
}

/* Pieces of the same kind, across blocks and the parent, make one run. */
static imgp_status sparse_status(imgp_bdev *bd, uint64_t off, uint64_t len, imgp_extent_kind *kind, uint64_t *run)
{
    vhd_bdev *v = (vhd_bdev *)bd;
    imgp_status st = sparse_piece(v, off, len, kind, run);
    while (st == IMGP_OK && *run < len) {
        imgp_extent_kind next_kind;
        uint64_t next_run;
        st = sparse_piece(v, off + *run, len - *run, &next_kind, &next_run);
        if (st != IMGP_OK || next_kind != *kind)
            break;
        *run += next_run;
    }
    return st;
}

static void vhd_close(imgp_bdev *bd)
{
    vhd_bdev *v = (vhd_bdev *)bd;
    imgp_cache_free(v->bitmaps);
    imgp_free(bd->ctx, v->bat);
    imgp_free(bd->ctx, bd->name);
    imgp_free(bd->ctx, v);
}

static const imgp_bdev_ops fixed_ops = {
    .kind = "vhd",
    .read = fixed_read,
    .status = fixed_status,
    .close = vhd_close,
};

static const imgp_bdev_ops sparse_ops = {
    .kind = "vhd",
    .read = sparse_read,
    .status = sparse_status,
    .close = vhd_close,
};

/* ---- opening ---- */

static bool has_cookie(const uint8_t *p) { return memcmp(p, VHD_FOOTER_COOKIE, VHD_FOOTER_COOKIE_LEN) == 0; }

/*
 * "Hard Disk Footer Format": the footer is the last 512 bytes of the file
 * (511 in images of Virtual PC before 2004). Dynamic and differencing disks
 * keep a copy in their first 512 bytes, which stands in when the end copy is
 * damaged or missing (a crash while the file grew); *note then says so.
 * A footer whose checksum does not verify is refused, as qemu refuses it.
 */
static imgp_status find_footer(imgp_image *img, vhd_footer *f, uint64_t *footer_at, const char **note)
{
    imgp_ctx *ctx = img->ctx;
    imgp_source *src = img->src;
    uint8_t buf[VHD_FOOTER_SIZE];
    imgp_status end_st = IMGP_OK;
    char end_msg[IMGP_MSG_MAX] = "";
    *note = NULL;

    if (src->size >= VHD_FOOTER_SIZE_OLD) {
        size_t n = (size_t)imgp_min_u64(src->size, VHD_FOOTER_SIZE);
        imgp_status st = imgp_source_read(src, src->size - n, buf, n, "vhd footer");
        if (st != IMGP_OK)
            return st;
        size_t len = 0;
        if (n == VHD_FOOTER_SIZE && has_cookie(buf))
            len = VHD_FOOTER_SIZE;
        else if (has_cookie(buf + n - VHD_FOOTER_SIZE_OLD))
            len = VHD_FOOTER_SIZE_OLD;
        if (len) {
            *footer_at = src->size - len;
            end_st = vhd_footer_parse(ctx, buf + n - len, len, *footer_at, src->size, f);
            if (end_st == IMGP_OK)
                return IMGP_OK;
            snprintf(end_msg, sizeof end_msg, "%s", imgp_ctx_message(ctx));
        }
    }

    if (src->size >= VHD_FOOTER_SIZE) {
        imgp_status st = imgp_source_read(src, 0, buf, VHD_FOOTER_SIZE, "vhd footer copy");
        if (st != IMGP_OK)
            return st;
        if (has_cookie(buf)) {
            st = vhd_footer_parse(ctx, buf, VHD_FOOTER_SIZE, 0, src->size, f);
            if (st == IMGP_OK && f->disk_type == VHD_TYPE_FIXED)
                st = imgp_error(ctx, IMGP_ERR_CORRUPT, "vhd: the footer copy at 0 is of a fixed disk, which has none");
            if (st == IMGP_OK) {
                *footer_at = 0;
                *note = end_st != IMGP_OK ? imgp_image_keepf(img, "the copy at 0 (the end one is damaged: %s)", end_msg)
                                          : imgp_image_keep(img, "the copy at 0 (the end one is missing)");
                return *note ? IMGP_OK : IMGP_ERR_NOMEM;
            }
            if (end_st == IMGP_OK)
                return st;
        }
    }
    if (end_st != IMGP_OK)
        return imgp_error(ctx, end_st, "%s", end_msg);
    return imgp_error(ctx, IMGP_ERR_CORRUPT,
                      "vhd: no footer (cookie \"conectix\") at the end of the file (size 0x%llx) or at its start",
                      (unsigned long long)src->size);
}

static void uuid_text(const uint8_t u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
             u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* ---- the parent of a differencing disk ---- */

/* Where the parent may be, in order, with what named it. Names point into
 * strings kept by the image. */
typedef struct parent_names {
    size_t count;
    const char *name[VHD_MAX_PARENT_CANDIDATES];
    const char *source[VHD_MAX_PARENT_CANDIDATES]; /* "W2ru", "parent unicode name"... */
} parent_names;

static void add_name(parent_names *pn, const char *name, const char *source)
{
    if (name[0] == '\0' || pn->count == VHD_MAX_PARENT_CANDIDATES)
        return;
    for (size_t i = 0; i < pn->count; i++)
        if (strcmp(pn->name[i], name) == 0)
            return;
    pn->name[pn->count] = name;
    pn->source[pn->count++] = source;
}

/* Paths that name a file on a Windows host ("C:/dir/x.vhd", "//server/share/x.vhd")
 * cannot name one here: only their file name is tried. */
static bool windows_absolute(const char *path)
{
    char drive = (char)(path[0] | 0x20);
    return (drive >= 'a' && drive <= 'z' && path[1] == ':') || (path[0] == '/' && path[1] == '/');
}

/* Decode locator @p l into a path kept by the image, or NULL (no error) when it does not decode. */
static imgp_status locator_path(imgp_image *img, const vhd_locator *l, const char **out)
{
    char path[4096]; /* PATH_MAX: a longer path cannot be opened anyway */
    *out = NULL;
    uint8_t *data = imgp_alloc(img->ctx, l->data_length); /* <= VHD_MAX_LOCATOR_BYTES, checked */
    if (!data)
        return IMGP_ERR_NOMEM;
    imgp_status st = imgp_source_read(img->src, l->data_offset, data, l->data_length, "vhd parent locator");
    if (st == IMGP_OK && vhd_locator_path(l->platform, data, l->data_length, path, sizeof path)) {
        *out = imgp_image_keep(img, path);
        if (!*out)
            st = IMGP_ERR_NOMEM;
    }
    imgp_free(img->ctx, data);
    return st;
}

/*
 * "Identification of the Parent Hard Disk Image": the relative W2ru locators
 * first, then the absolute W2ku ones, then MacX URLs, then the dynamic
 * header's "Parent Unicode Name" (UTF-16BE); after all of these, each one's
 * bare file name beside the child (a chain copied into one directory). The
 * deprecated Wi2r/Wi2k and the Mac alias locators are not read.
 */
static imgp_status parent_candidates(imgp_image *img, const vhd_dyn_header *hdr, parent_names *out)
{
    static const struct {
        uint32_t platform;
        const char *name;
    } order[] = {{VHD_PLATFORM_W2RU, "W2ru"}, {VHD_PLATFORM_W2KU, "W2ku"}, {VHD_PLATFORM_MACX, "MacX"}};
    parent_names named = {0};
    for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
        for (size_t i = 0; i < VHD_DYN_LOCATOR_COUNT; i++) {
            const vhd_locator *l = &hdr->locators[i];
            const char *path;
            if (l->platform != order[k].platform || l->data_length == 0)
                continue;
            imgp_status st = locator_path(img, l, &path);
            if (st != IMGP_OK)
                return st;
            if (path)
                add_name(&named, path, order[k].name);
        }
    }
    char name[3 * VHD_DYN_PARENT_NAME_LEN / 2 + 1];
    if (vhd_utf16_to_utf8(hdr->parent_name, sizeof hdr->parent_name, true, name, sizeof name)) {
        for (char *p = name; *p; p++)
            if (*p == '\\')
                *p = '/';
        const char *kept = imgp_image_keep(img, name);
        if (!kept)
            return IMGP_ERR_NOMEM;
        add_name(&named, kept, "parent unicode name");
    }

    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < named.count; i++)
        if (!windows_absolute(named.name[i]))
            add_name(out, named.name[i], named.source[i]);
    for (size_t i = 0; i < named.count; i++) {
        const char *slash = strrchr(named.name[i], '/');
        add_name(out, slash ? slash + 1 : named.name[i], named.source[i]);
    }
    return IMGP_OK;
}

/* Whether @p name, relative to the child, names something that can be opened. */
static imgp_status parent_exists(imgp_image *img, const char *name, bool *exists)
{
    imgp_source *s;
    imgp_status st = imgp_source_open_related(img->src, name, &s);
    *exists = st == IMGP_OK;
    imgp_source_close(s);
    if (st == IMGP_ERR_NOT_FOUND) {
        imgp_ctx_clear(img->ctx);
        return IMGP_OK;
    }
    return st == IMGP_OK ? st : imgp_error_prefix(img->ctx, "vhd: parent '%s': ", name);
}

/* The parent must be the disk the child was made from: its "Unique Id" is the
 * child's "Parent Unique ID", and it has the child's size. */
static imgp_status check_parent(imgp_image *img, vhd_bdev *v, const vhd_dyn_header *hdr, const char *name)
{
    imgp_bdev *pbd = img->backing->bdev;
    if (pbd->ops != &fixed_ops && pbd->ops != &sparse_ops) /* cannot happen: opened as "vhd" */
        return imgp_error(img->ctx, IMGP_ERR_INVALID_ARG, "vhd: parent '%s' did not open as a vhd", name);
    const vhd_bdev *p = (const vhd_bdev *)pbd;
    char want[37], have[37];
    if (memcmp(p->footer.uuid, hdr->parent_uuid, sizeof hdr->parent_uuid) != 0) {
        uuid_text(hdr->parent_uuid, want);
        uuid_text(p->footer.uuid, have);
        return imgp_error(img->ctx, IMGP_ERR_CORRUPT,
                          "vhd: parent '%s' has unique id %s, but the differencing disk %s names parent %s", name,
                          have, img->src->name, want);
    }
    /* The sizes' "Current Size" fields agreeing is enough: the creator rule
     * may size a Virtual PC parent and a Hyper-V child differently. Reads past
     * a smaller parent's end read zeros. */
    if (p->base.size != v->base.size && p->footer.current_size != v->footer.current_size)
        return imgp_error(img->ctx, IMGP_ERR_CORRUPT,
                          "vhd: parent '%s' has virtual size %llu, but the differencing disk %s has %llu", name,
                          (unsigned long long)p->base.size, img->src->name, (unsigned long long)v->base.size);
    v->parent = pbd;
    return IMGP_OK;
}

static imgp_status open_parent(imgp_image *img, vhd_bdev *v, const vhd_dyn_header *hdr)
{
    imgp_ctx *ctx = img->ctx;
    parent_names pn;
    imgp_status st = parent_candidates(img, hdr, &pn);
    if (st != IMGP_OK)
        return st;
    if (pn.count == 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "vhd: differencing disk names no parent (no W2ru, W2ku or MacX locator, no unicode name)");
    char uuid[37], tried[IMGP_MSG_MAX] = "";
    uuid_text(hdr->parent_uuid, uuid);
    if ((st = imgp_image_add_prop(img, "parent uuid", "%s", uuid)) != IMGP_OK)
        return st;
    size_t t = 0;
    for (size_t i = 0; i < pn.count; i++) {
        bool exists;
        if ((st = parent_exists(img, pn.name[i], &exists)) != IMGP_OK)
            return st;
        if (!exists) {
            int n = snprintf(tried + t, sizeof tried - t, "%s'%s' (%s)", i ? ", " : "", pn.name[i], pn.source[i]);
            t = n < 0 ? t : imgp_min_u64(t + (size_t)n, sizeof tried - 1);
            continue;
        }
        if ((st = imgp_image_open_backing(img, pn.name[i], "vhd")) != IMGP_OK)
            return st;
        if ((st = check_parent(img, v, hdr, pn.name[i])) != IMGP_OK)
            return st;
        img->info.backing_file = pn.name[i];
        img->info.backing_format = "vhd";
        return imgp_image_add_prop(img, "parent named by", "%s", pn.source[i]);
    }
    /* The image still opens, unreadable, so that `info` shows it and names the
     * parent it lacks; vhd_open() drops the device. */
    img->info.backing_file = pn.name[0];
    img->info.backing_format = "vhd";
    return imgp_image_set_unreadable(img, "parent not found: tried %s, in the directory of %s", tried,
                                     img->src->name);
}

/* ---- opening ---- */

/* The dynamic header, the BAT and (differencing) the parent. */
static imgp_status open_sparse(imgp_image *img, vhd_bdev *v)
{
    imgp_ctx *ctx = img->ctx;
    imgp_source *src = img->src;
    uint8_t buf[VHD_DYN_SIZE];
    vhd_dyn_header hdr;
    v->differencing = v->footer.disk_type == VHD_TYPE_DIFFERENCING;
    imgp_status st = imgp_source_read(src, v->footer.data_offset, buf, sizeof buf, "vhd dynamic disk header");
    if (st == IMGP_OK)
        st = vhd_dyn_header_parse(ctx, buf, sizeof buf, v->footer.data_offset, v->base.size, src->size,
                                  v->differencing, &hdr);
    if (st != IMGP_OK)
        return st;
    v->block_size = hdr.block_size;
    v->bitmap_size = hdr.bitmap_size;
    v->blocks = hdr.blocks;
    while ((1u << v->block_shift) < v->block_size) /* a power of two, checked */
        v->block_shift++;

    uint64_t table_bytes = (uint64_t)hdr.blocks * VHD_BAT_ENTRY_SIZE;
    uint64_t limit = imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES);
    if (table_bytes > limit)
        return imgp_error(ctx, IMGP_ERR_LIMIT,
                          "vhd: block allocation table of %u entries (%llu bytes) exceeds the table limit (%llu bytes)",
                          hdr.blocks, (unsigned long long)table_bytes, (unsigned long long)limit);
    v->bat = imgp_alloc(ctx, (size_t)table_bytes);
    if (!v->bat)
        return IMGP_ERR_NOMEM;
    st = imgp_source_read(src, hdr.table_offset, v->bat, (size_t)table_bytes, "vhd block allocation table");
    if (st == IMGP_OK) /* converted in place */
        st = vhd_bat_parse(ctx, (const uint8_t *)v->bat, (size_t)table_bytes, hdr.blocks, &hdr, src->size, v->bat);
    if (st != IMGP_OK)
        return st;
    img->table_bytes = table_bytes;
    img->info.cluster_size = hdr.block_size;
    if (!v->differencing)
        return IMGP_OK;
    st = imgp_cache_new(ctx, v->bitmap_size, VHD_BITMAP_CACHE_SLOTS, &v->bitmaps);
    return st == IMGP_OK ? open_parent(img, v, &hdr) : st;
}

static imgp_status add_props(imgp_image *img, const vhd_footer *f, const char *footer_note)
{
    static const char *const subformat[] = {[VHD_TYPE_FIXED] = "fixed", [VHD_TYPE_DYNAMIC] = "dynamic",
                                            [VHD_TYPE_DIFFERENCING] = "differencing"};
    char app[17], os[17], uuid[37];
    const char *os_name = f->creator_os == VHD_OS_WINDOWS     ? " (Windows)"
                          : f->creator_os == VHD_OS_MACINTOSH ? " (Macintosh)"
                                                              : "";
    uuid_text(f->uuid, uuid);
    imgp_status st = imgp_image_add_prop(img, "subformat", "%s", subformat[f->disk_type]);
    if (st == IMGP_OK)
        st = imgp_image_add_prop(img, "creator app", "%s", fourcc_text(f->creator_app, app));
    if (st == IMGP_OK)
        st = imgp_image_add_prop(img, "creator version", "%u.%u", f->creator_major, f->creator_minor);
    if (st == IMGP_OK)
        st = imgp_image_add_prop(img, "creator host os", "%s%s", fourcc_text_u32(f->creator_os, os), os_name);
    if (st == IMGP_OK)
        st = imgp_image_add_prop(img, "disk geometry", "%u/%u/%u", f->cylinders, f->heads, f->sectors_per_track);
    if (st == IMGP_OK)
        st = imgp_image_add_prop(img, "uuid", "%s", uuid);
    if (st == IMGP_OK && f->saved_state)
        st = imgp_image_add_prop(img, "saved state", "yes");
    if (st == IMGP_OK && footer_note)
        st = imgp_image_add_prop(img, "footer", "%s", footer_note);
    return st;
}

static imgp_status vhd_open(imgp_image *img)
{
    imgp_ctx *ctx = img->ctx;
    vhd_footer f;
    uint64_t footer_at;
    const char *footer_note;
    imgp_status st = find_footer(img, &f, &footer_at, &footer_note);
    if (st != IMGP_OK)
        return st;
    if (f.disk_type == VHD_TYPE_FIXED && f.virtual_size > footer_at)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "vhd: fixed disk of %llu bytes, but only %llu bytes of data precede its footer",
                          (unsigned long long)f.virtual_size, (unsigned long long)footer_at);

    vhd_bdev *v = imgp_calloc(ctx, 1, sizeof *v);
    if (!v)
        return IMGP_ERR_NOMEM;
    v->base.ops = f.disk_type == VHD_TYPE_FIXED ? &fixed_ops : &sparse_ops;
    v->base.ctx = ctx;
    v->base.size = f.virtual_size;
    v->base.sector_size = VHD_SECTOR;
    v->src = img->src;
    v->footer = f;
    img->bdev = &v->base; /* from here on, imgp_image_close() frees it */
    v->base.name = imgp_strdup(ctx, img->src->name);
    if (!v->base.name)
        return IMGP_ERR_NOMEM;
    img->info.virtual_size = f.virtual_size;
    st = add_props(img, &f, footer_note);
    if (st == IMGP_OK && f.disk_type != VHD_TYPE_FIXED)
        st = open_sparse(img, v);
    if (st == IMGP_OK && !img->info.readable) { /* a differencing disk whose parent is not found */
        imgp_bdev_close(img->bdev);
        img->bdev = NULL;
    }
    return st;
}

/*
 * The footer's cookie at the end (512 or 511 bytes from it), or a dynamic
 * disk's footer copy at 0 when the end one is missing. A footer at the end
 * whose checksum verifies outranks any magic in the head: a fixed disk's
 * head is guest data, which may itself look like an ISO or a qcow2.
 */
static int vhd_probe(const imgp_probe_input *in)
{
    static const size_t footer_sizes[] = {VHD_FOOTER_SIZE, VHD_FOOTER_SIZE_OLD};
    for (size_t i = 0; i < 2; i++) {
        size_t len = footer_sizes[i];
        if (in->tail_len < len)
            continue;
        const uint8_t *f = in->tail + in->tail_len - len;
        if (has_cookie(f)) {
            uint32_t stored = (uint32_t)f[VHD_FOOTER_CHECKSUM] << 24 | (uint32_t)f[VHD_FOOTER_CHECKSUM + 1] << 16 |
                              (uint32_t)f[VHD_FOOTER_CHECKSUM + 2] << 8 | f[VHD_FOOTER_CHECKSUM + 3];
            return vhd_checksum(f, len, VHD_FOOTER_CHECKSUM) == stored ? IMGP_SCORE_MAGIC + 1 : IMGP_SCORE_MAGIC;
        }
    }
    if (in->head_len >= VHD_FOOTER_SIZE && has_cookie(in->head)) {
        uint8_t type = in->head[VHD_FOOTER_DISK_TYPE + 3];
        if (type == VHD_TYPE_DYNAMIC || type == VHD_TYPE_DIFFERENCING)
            return IMGP_SCORE_MAGIC;
    }
    return IMGP_SCORE_NONE;
}

const imgp_format imgp_format_vhd = {
    .name = "vhd",
    .probe = vhd_probe,
    .open = vhd_open,
};
