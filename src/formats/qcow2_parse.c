/*
 * QCOW2 parsing without I/O: the header, its extensions and feature bits,
 * the table layout, L2 entries and snapshot table entries. Section names in
 * brackets are those of qemu's docs/interop/qcow2.txt.
 */
#include <stdio.h>

#include "../core/cursor.h"
#include "qcow2.h"

#define HEX(x) ((unsigned long long)(x))

/* Bytes covered by one L1 entry: a cluster of L2 entries, each mapping a cluster. */
static unsigned l1_entry_shift(uint32_t cluster_bits, bool extended_l2)
{
    unsigned l2_bits = cluster_bits - (extended_l2 ? 4 : 3);
    return cluster_bits + l2_bits;
}

static uint64_t round_up8(uint64_t x) { return (x + 7) & ~(uint64_t)7; }

imgp_status qcow2_parse_header(imgp_ctx *ctx, const uint8_t *buf, size_t len, qcow2_header *out)
{
    memset(out, 0, sizeof *out);
    if (len < QCOW2_HDR_V2_LENGTH)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: header needs %u bytes, the image has %zu",
                          QCOW2_HDR_V2_LENGTH, len);
    imgp_cursor c = imgp_cur_init(buf, len);
    uint32_t magic = imgp_cur_be32_at(&c, QCOW2_HDR_MAGIC);
    if (magic != QCOW2_MAGIC)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: bad magic 0x%08x (expected 0x%08x, \"QFI\\xfb\")", magic,
                          QCOW2_MAGIC);
    out->version = imgp_cur_be32_at(&c, QCOW2_HDR_VERSION);
    if (out->version == 1)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "qcow2: version 1 is the older qcow format, not qcow2");
    if (out->version != 2 && out->version != 3)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "qcow2: unsupported version %u (only 2 and 3 are defined)",
                          out->version);

    out->backing_file_offset = imgp_cur_be64_at(&c, QCOW2_HDR_BACKING_FILE_OFFSET);
    out->backing_file_size = imgp_cur_be32_at(&c, QCOW2_HDR_BACKING_FILE_SIZE);
    out->cluster_bits = imgp_cur_be32_at(&c, QCOW2_HDR_CLUSTER_BITS);
    out->size = imgp_cur_be64_at(&c, QCOW2_HDR_SIZE);
    out->crypt_method = imgp_cur_be32_at(&c, QCOW2_HDR_CRYPT_METHOD);
    out->l1_size = imgp_cur_be32_at(&c, QCOW2_HDR_L1_SIZE);
    out->l1_table_offset = imgp_cur_be64_at(&c, QCOW2_HDR_L1_TABLE_OFFSET);
    out->refcount_table_offset = imgp_cur_be64_at(&c, QCOW2_HDR_REFCOUNT_TABLE_OFFSET);
    out->refcount_table_clusters = imgp_cur_be32_at(&c, QCOW2_HDR_REFCOUNT_TABLE_CLUSTERS);
    out->nb_snapshots = imgp_cur_be32_at(&c, QCOW2_HDR_NB_SNAPSHOTS);
    out->snapshots_offset = imgp_cur_be64_at(&c, QCOW2_HDR_SNAPSHOTS_OFFSET);
    /* all inside the 72 bytes checked above: the cursor cannot have failed */

    if (out->cluster_bits < QCOW2_MIN_CLUSTER_BITS || out->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED,
                          "qcow2: cluster_bits %u is out of range (%u..%u: 512 bytes to 2 MiB clusters)",
                          out->cluster_bits, QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS);
    uint64_t cluster_size = 1ull << out->cluster_bits;

    if (out->version == 2) {
        /* [Header]: version 2 ends at byte 72; the v3 fields take these values */
        out->refcount_order = QCOW2_V2_REFCOUNT_ORDER;
        out->header_length = QCOW2_HDR_V2_LENGTH;
    } else {
        out->incompatible_features = imgp_cur_be64_at(&c, QCOW2_HDR_INCOMPATIBLE_FEATURES);
        out->compatible_features = imgp_cur_be64_at(&c, QCOW2_HDR_COMPATIBLE_FEATURES);
        out->autoclear_features = imgp_cur_be64_at(&c, QCOW2_HDR_AUTOCLEAR_FEATURES);
        out->refcount_order = imgp_cur_be32_at(&c, QCOW2_HDR_REFCOUNT_ORDER);
        out->header_length = imgp_cur_be32_at(&c, QCOW2_HDR_HEADER_LENGTH);
        if (!imgp_cur_ok(&c))
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: version 3 header needs %u bytes, the image has %zu",
                              QCOW2_HDR_V3_MIN_LENGTH, len);
        if (out->header_length < QCOW2_HDR_V3_MIN_LENGTH)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: header_length %u is below the minimum of %u bytes",
                              out->header_length, QCOW2_HDR_V3_MIN_LENGTH);
        if (out->header_length > cluster_size)
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "qcow2: header_length %u exceeds the cluster size (%llu bytes)", out->header_length,
                              HEX(cluster_size));
        if (out->header_length > len)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: header_length %u reaches past the %zu bytes read",
                              out->header_length, len);
        /* [Additional fields]: a field is present when header_length goes past its offset */
        if (out->header_length > QCOW2_HDR_COMPRESSION_TYPE)
            out->compression_type = imgp_cur_u8_at(&c, QCOW2_HDR_COMPRESSION_TYPE);
    }

    if (out->refcount_order > QCOW2_MAX_REFCOUNT_ORDER)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: refcount_order %u is above the maximum of %u",
                          out->refcount_order, QCOW2_MAX_REFCOUNT_ORDER);
    if (out->crypt_method > QCOW2_CRYPT_LUKS)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "qcow2: unknown crypt_method %u (0 none, 1 AES, 2 LUKS)",
                          out->crypt_method);

    /* The backing file name lives in the first cluster [Header extensions], at most 1023 bytes. */
    if (out->backing_file_offset != 0) {
        if (out->backing_file_size > QCOW2_MAX_BACKING_FILE_SIZE)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: backing file name of %u bytes is longer than %u",
                              out->backing_file_size, QCOW2_MAX_BACKING_FILE_SIZE);
        uint64_t limit = imgp_min_u64(cluster_size, len);
        if (imgp_range_outside(out->backing_file_offset, out->backing_file_size, limit))
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "qcow2: backing file name at 0x%llx (%u bytes) lies outside the first cluster "
                              "(0x%llx bytes)",
                              HEX(out->backing_file_offset), out->backing_file_size, HEX(limit));
    }

    /* Offsets and sizes are signed 64-bit numbers for every reader of the format. */
    if (out->size > (uint64_t)INT64_MAX)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: virtual size 0x%llx is above 2^63", HEX(out->size));

    /* The active L1 table must map the whole virtual disk [Cluster mapping]. */
    unsigned shift = l1_entry_shift(out->cluster_bits, out->incompatible_features & QCOW2_INCOMPAT_EXTENDED_L2);
    uint64_t needed = (out->size >> shift) + ((out->size & ((1ull << shift) - 1)) != 0);
    if (out->l1_size < needed)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: L1 table of %u entries is too small for a virtual size of %llu bytes "
                          "(needs %llu)",
                          out->l1_size, (unsigned long long)out->size, (unsigned long long)needed);
    uint64_t l1_bytes = (uint64_t)out->l1_size * QCOW2_L1_ENTRY_SIZE; /* < 2^35: no overflow */
    uint64_t table_limit = imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES);
    if (l1_bytes > table_limit)
        return imgp_error(ctx, IMGP_ERR_LIMIT, "qcow2: L1 table of %u entries (%llu bytes) exceeds the table limit "
                          "(%llu bytes)", out->l1_size, (unsigned long long)l1_bytes,
                          (unsigned long long)table_limit);
    return IMGP_OK;
}

/* Refuse a second copy of an extension that may appear once [Header extensions]. */
static imgp_status once(imgp_ctx *ctx, bool seen, const char *what, size_t off)
{
    if (seen)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: second %s header extension at 0x%zx", what, off);
    return IMGP_OK;
}

imgp_status qcow2_parse_extensions(imgp_ctx *ctx, const uint8_t *buf, size_t len, const qcow2_header *h,
                                   qcow2_extensions *out)
{
    memset(out, 0, sizeof *out);
    imgp_cursor c = imgp_cur_init(buf, len);
    /* Extensions follow the header and end at the backing file name, else at the end of the first cluster. */
    uint64_t end = h->backing_file_offset ? h->backing_file_offset : 1ull << h->cluster_bits;
    if (end > len)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: header extension area ends at 0x%llx, past the %zu bytes read", HEX(end), len);
    size_t off = h->header_length;
    imgp_status st;
    while (off < end) {
        if (end - off < QCOW2_EXT_HEADER_SIZE)
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "qcow2: header extension at 0x%zx does not fit before 0x%llx", off, HEX(end));
        uint32_t type = imgp_cur_be32_at(&c, off + QCOW2_EXT_TYPE);
        uint32_t ext_len = imgp_cur_be32_at(&c, off + QCOW2_EXT_LENGTH);
        size_t data = off + QCOW2_EXT_HEADER_SIZE;
        if (ext_len > end - data)
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "qcow2: header extension 0x%08x at 0x%zx has length %u, past the end of the "
                              "extension area (0x%llx)", type, off, ext_len, HEX(end));
        const uint8_t *p = imgp_cur_ptr_at(&c, data, ext_len);
        if (!imgp_cur_ok(&c) || !p)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: header extension at 0x%zx lies past the buffer", off);

        switch (type) {
        case QCOW2_EXT_END:
            return IMGP_OK;
        case QCOW2_EXT_BACKING_FORMAT:
            if ((st = once(ctx, out->backing_format != NULL, "backing format", off)) != IMGP_OK)
                return st;
            if (ext_len > QCOW2_MAX_BACKING_FORMAT_SIZE || memchr(p, 0, ext_len))
                return imgp_error(ctx, IMGP_ERR_CORRUPT,
                                  "qcow2: backing format header extension at 0x%zx: %u bytes is not a format name",
                                  off, ext_len);
            out->backing_format = p;
            out->backing_format_len = ext_len;
            break;
        case QCOW2_EXT_FEATURE_TABLE:
            if ((st = once(ctx, out->feature_table != NULL, "feature name table", off)) != IMGP_OK)
                return st;
            /* a partial last entry is ignored, as qemu ignores it */
            out->feature_table = p;
            out->feature_count = ext_len / QCOW2_FEATURE_ENTRY_SIZE;
            break;
        case QCOW2_EXT_BITMAPS:
            /* persistent dirty bitmaps do not change what the disk reads */
            out->has_bitmaps = true;
            break;
        case QCOW2_EXT_CRYPTO_HEADER: {
            if ((st = once(ctx, out->has_crypto_header, "encryption header pointer", off)) != IMGP_OK)
                return st;
            if (ext_len != QCOW2_CRYPTO_EXT_SIZE)
                return imgp_error(ctx, IMGP_ERR_CORRUPT,
                                  "qcow2: encryption header pointer extension at 0x%zx has length %u (expected %u)",
                                  off, ext_len, QCOW2_CRYPTO_EXT_SIZE);
            imgp_cursor e = imgp_cur_init(p, ext_len);
            out->has_crypto_header = true;
            out->crypto_offset = imgp_cur_be64_at(&e, QCOW2_CRYPTO_EXT_OFFSET);
            out->crypto_length = imgp_cur_be64_at(&e, QCOW2_CRYPTO_EXT_LENGTH);
            break;
        }
        case QCOW2_EXT_DATA_FILE:
            if ((st = once(ctx, out->data_file != NULL, "external data file name", off)) != IMGP_OK)
                return st;
            if (ext_len == 0 || memchr(p, 0, ext_len))
                return imgp_error(ctx, IMGP_ERR_CORRUPT,
                                  "qcow2: external data file name extension at 0x%zx (%u bytes) is not a file name",
                                  off, ext_len);
            out->data_file = p;
            out->data_file_len = ext_len;
            break;
        default:
            out->unknown_count++; /* [Header extensions]: unknown ones can be safely ignored */
            break;
        }
        /* data padded to a multiple of 8; ext_len <= end <= 2 MiB, so this cannot overflow */
        off = data + (size_t)round_up8(ext_len);
    }
    return IMGP_OK;
}

bool qcow2_feature_name(const qcow2_extensions *ext, unsigned type, unsigned bit,
                        char name[QCOW2_FEATURE_NAME_SIZE + 1])
{
    imgp_cursor c = imgp_cur_init(ext->feature_table, ext->feature_count * QCOW2_FEATURE_ENTRY_SIZE);
    for (size_t i = 0; i < ext->feature_count; i++) {
        size_t at = i * QCOW2_FEATURE_ENTRY_SIZE;
        if (imgp_cur_u8_at(&c, at + QCOW2_FEATURE_TYPE) != type || imgp_cur_u8_at(&c, at + QCOW2_FEATURE_BIT) != bit)
            continue;
        const uint8_t *p = imgp_cur_ptr_at(&c, at + QCOW2_FEATURE_NAME, QCOW2_FEATURE_NAME_SIZE);
        if (!p)
            return false;
        size_t n = 0;
        for (; n < QCOW2_FEATURE_NAME_SIZE && p[n]; n++)
            name[n] = p[n] >= 0x20 && p[n] < 0x7f && p[n] != '"' ? (char)p[n] : '?';
        name[n] = '\0';
        return n > 0;
    }
    return false;
}

imgp_status qcow2_check_features(imgp_ctx *ctx, const qcow2_header *h, const qcow2_extensions *ext)
{
    uint64_t unknown = h->incompatible_features & ~QCOW2_INCOMPAT_KNOWN;
    if (unknown) {
        /* [Header] incompatible_features: an unknown bit must make the open fail; name them all */
        char list[IMGP_MSG_MAX] = "";
        size_t used = 0;
        for (unsigned bit = 0; bit < 64; bit++) {
            if (!(unknown >> bit & 1) || used >= sizeof list)
                continue;
            char name[QCOW2_FEATURE_NAME_SIZE + 1];
            int n;
            if (qcow2_feature_name(ext, QCOW2_FEATURE_TYPE_INCOMPATIBLE, bit, name))
                n = snprintf(list + used, sizeof list - used, "%s%u \"%s\"", used ? ", " : "", bit, name);
            else
                n = snprintf(list + used, sizeof list - used, "%s%u", used ? ", " : "", bit);
            if (n > 0)
                used += (size_t)n;
        }
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "qcow2: unsupported incompatible feature bit%s %s",
                          (unknown & (unknown - 1)) ? "s" : "", list);
    }

    /* [Additional fields] compression_type: non-zlib if and only if incompatible bit 3 */
    bool compression_bit = h->incompatible_features & QCOW2_INCOMPAT_COMPRESSION;
    if (compression_bit && h->compression_type == QCOW2_COMPRESSION_ZLIB)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: compression type feature bit is set but compression_type is 0 (zlib)%s",
                          h->header_length > QCOW2_HDR_COMPRESSION_TYPE ? "" : " (header too short for it)");
    if (!compression_bit && h->compression_type != QCOW2_COMPRESSION_ZLIB)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: compression_type %u without the compression type feature bit",
                          h->compression_type);
    if (h->compression_type > QCOW2_COMPRESSION_ZSTD)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "qcow2: unknown compression_type %u (0 zlib, 1 zstd)",
                          h->compression_type);

    /* [Header] cluster_bits: extended L2 entries need 16 KiB clusters (512-byte subclusters) */
    if ((h->incompatible_features & QCOW2_INCOMPAT_EXTENDED_L2) &&
        h->cluster_bits < QCOW2_MIN_CLUSTER_BITS_EXTENDED_L2)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: extended L2 entries need cluster_bits >= %u, the image has %u",
                          QCOW2_MIN_CLUSTER_BITS_EXTENDED_L2, h->cluster_bits);

    bool data_file = h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE;
    if (data_file && !ext->data_file)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED,
                          "qcow2: the image keeps its data in an external data file but does not name it");
    if (!data_file && (h->autoclear_features & QCOW2_AUTOCLEAR_DATA_FILE_RAW))
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: autoclear bit 1 (data file raw) is set without an external data file");

    /* [Full disk encryption header pointer]: present if, and only if, the method needs it */
    if (ext->has_crypto_header && h->crypt_method != QCOW2_CRYPT_LUKS)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: encryption header pointer extension with crypt_method %u (only LUKS has one)",
                          h->crypt_method);
    return IMGP_OK;
}

imgp_status qcow2_parse_first_cluster(imgp_ctx *ctx, const uint8_t *buf, size_t len, qcow2_header *h,
                                      qcow2_extensions *ext)
{
    memset(ext, 0, sizeof *ext);
    imgp_status st = qcow2_parse_header(ctx, buf, len, h);
    if (st == IMGP_OK)
        st = qcow2_parse_extensions(ctx, buf, len, h, ext);
    if (st == IMGP_OK)
        st = qcow2_check_features(ctx, h, ext);
    return st;
}

/* A table of @p bytes at @p off: cluster-aligned and inside the file. */
static imgp_status check_table(imgp_ctx *ctx, const char *what, uint64_t off, uint64_t bytes, uint64_t cluster_size,
                               uint64_t file_size)
{
    if (off & (cluster_size - 1))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: %s at 0x%llx is not aligned to the cluster size (0x%llx)",
                          what, HEX(off), HEX(cluster_size));
    if (bytes && imgp_range_outside(off, bytes, file_size))
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: %s at 0x%llx (%llu bytes) lies past the end of the file (size 0x%llx)", what,
                          HEX(off), (unsigned long long)bytes, HEX(file_size));
    return IMGP_OK;
}

imgp_status qcow2_check_layout(imgp_ctx *ctx, const qcow2_header *h, uint64_t file_size)
{
    uint64_t cluster_size = 1ull << h->cluster_bits;
    imgp_status st = check_table(ctx, "L1 table", h->l1_table_offset,
                                 (uint64_t)h->l1_size * QCOW2_L1_ENTRY_SIZE, cluster_size, file_size);
    if (st != IMGP_OK)
        return st;
    /* qemu refuses an image without a refcount table; a reader does not need it otherwise */
    if (h->refcount_table_clusters == 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: the image has no refcount table (0 clusters)");
    st = check_table(ctx, "refcount table", h->refcount_table_offset,
                     (uint64_t)h->refcount_table_clusters << h->cluster_bits, cluster_size, file_size);
    if (st != IMGP_OK)
        return st;
    if (h->nb_snapshots == 0)
        return IMGP_OK;
    /* each entry has at least its fixed part; the walk checks the rest entry by entry */
    return check_table(ctx, "snapshot table", h->snapshots_offset,
                       (uint64_t)h->nb_snapshots * QCOW2_SN_FIXED_SIZE, cluster_size, file_size);
}

void qcow2_geometry_init(qcow2_geometry *g, const qcow2_header *h, uint64_t data_size)
{
    memset(g, 0, sizeof *g);
    g->cluster_bits = h->cluster_bits;
    g->cluster_size = 1ull << h->cluster_bits;
    g->extended_l2 = h->incompatible_features & QCOW2_INCOMPAT_EXTENDED_L2;
    g->l2_entry_size = g->extended_l2 ? QCOW2_L2_ENTRY_SIZE_EXTENDED : QCOW2_L2_ENTRY_SIZE;
    g->l2_bits = h->cluster_bits - (g->extended_l2 ? 4 : 3);
    g->subclusters = g->extended_l2 ? QCOW2_SUBCLUSTERS : 1;
    g->subcluster_bits = h->cluster_bits - (g->extended_l2 ? 5 : 0);
    g->zero_flag = h->version >= 3;
    g->external_data = h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE;
    g->data_size = data_size;
}

static imgp_status decode_compressed(imgp_ctx *ctx, const qcow2_geometry *g, uint64_t guest_offset, uint64_t entry,
                                     uint64_t bitmap, qcow2_mapping *out)
{
    if (g->external_data)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: compressed cluster at guest offset 0x%llx in an image with an external data file",
                          HEX(guest_offset));
    /* [Extended L2 Entries]: compressed clusters have no subclusters; the bitmap is reserved (0) */
    if (g->extended_l2 && bitmap != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: compressed cluster at guest offset 0x%llx has subcluster bitmap 0x%016llx "
                          "(must be 0)", HEX(guest_offset), HEX(bitmap));
    /* [Compressed Clusters Descriptor]: offset in bits 0..x-1, extra sectors in x..61 */
    unsigned x = 62 - (g->cluster_bits - 8);
    uint64_t host = entry & ((1ull << x) - 1);
    uint64_t sectors = ((entry >> x) & ((1ull << (g->cluster_bits - 8)) - 1)) + 1;
    if (host >> QCOW2_HOST_OFFSET_LIMIT_BITS)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: compressed cluster at guest offset 0x%llx: host offset 0x%llx is beyond 2^56",
                          HEX(guest_offset), HEX(host));
    if (host >= g->data_size)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: compressed cluster at guest offset 0x%llx: host offset 0x%llx lies past the end "
                          "of the file (size 0x%llx)", HEX(guest_offset), HEX(host), HEX(g->data_size));
    out->compressed = true;
    out->host_offset = host;
    out->compressed_size = sectors * QCOW2_COMPRESSED_SECTOR_SIZE - (host & (QCOW2_COMPRESSED_SECTOR_SIZE - 1));
    return IMGP_OK;
}

imgp_status qcow2_decode_l2_entry(imgp_ctx *ctx, const qcow2_geometry *g, uint64_t guest_offset, uint64_t entry,
                                  uint64_t bitmap, qcow2_mapping *out)
{
    memset(out, 0, sizeof *out);
    if (entry & QCOW2_L2_COMPRESSED)
        return decode_compressed(ctx, g, guest_offset, entry, bitmap, out);

    uint64_t host = entry & QCOW2_L2_OFFSET_MASK;
    /* [L2 table entry] bit 63: with an external data file, offset 0 is a real cluster when set */
    bool allocated = host != 0 || (g->external_data && (entry & QCOW2_L2_COPIED));
    if (!g->extended_l2) {
        if (entry & QCOW2_L2_ZERO) {
            if (!g->zero_flag)
                return imgp_error(ctx, IMGP_ERR_CORRUPT,
                                  "qcow2: L2 entry 0x%016llx for guest offset 0x%llx has the zero flag, which "
                                  "version 2 images do not have", HEX(entry), HEX(guest_offset));
            out->zero_mask = 1; /* a preallocated zero cluster is never read */
        } else if (allocated) {
            out->data_mask = 1;
        }
    } else {
        uint32_t alloc = (uint32_t)bitmap, zero = (uint32_t)(bitmap >> 32);
        if (!allocated && alloc)
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "qcow2: L2 entry for guest offset 0x%llx has no host cluster but allocated "
                              "subclusters (bitmap 0x%016llx)", HEX(guest_offset), HEX(bitmap));
        if (alloc & zero)
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "qcow2: L2 entry for guest offset 0x%llx has subclusters both allocated and zero "
                              "(bitmap 0x%016llx)", HEX(guest_offset), HEX(bitmap));
        out->data_mask = alloc;
        out->zero_mask = zero;
    }
    if (!allocated)
        return IMGP_OK;
    if (host & (g->cluster_size - 1))
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: L2 entry for guest offset 0x%llx: host offset 0x%llx is not aligned to the "
                          "cluster size (0x%llx)", HEX(guest_offset), HEX(host), HEX(g->cluster_size));
    /* [Header] bit 2: in an external data file, host and guest offsets are the same */
    if (g->external_data && host != guest_offset)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: L2 entry for guest offset 0x%llx: host offset 0x%llx in the external data file "
                          "differs from the guest offset", HEX(guest_offset), HEX(host));
    if (out->data_mask && host >= g->data_size)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "qcow2: L2 entry for guest offset 0x%llx: host offset 0x%llx lies past the end of the "
                          "%s (size 0x%llx)", HEX(guest_offset), HEX(host),
                          g->external_data ? "external data file" : "file", HEX(g->data_size));
    out->host_offset = host;
    return IMGP_OK;
}

imgp_status qcow2_snapshot_entry_length(imgp_ctx *ctx, const uint8_t *buf, size_t len, size_t *entry_len)
{
    *entry_len = 0;
    imgp_cursor c = imgp_cur_init(buf, len);
    uint16_t id_len = imgp_cur_be16_at(&c, QCOW2_SN_ID_SIZE);
    uint16_t name_len = imgp_cur_be16_at(&c, QCOW2_SN_NAME_SIZE);
    uint32_t extra = imgp_cur_be32_at(&c, QCOW2_SN_EXTRA_DATA_SIZE);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: snapshot table entry needs %u bytes, %zu given",
                          QCOW2_SN_FIXED_SIZE, len);
    if (extra > QCOW2_SN_MAX_EXTRA_DATA)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: snapshot table entry has %u bytes of extra data (max %u)",
                          extra, QCOW2_SN_MAX_EXTRA_DATA);
    *entry_len = QCOW2_SN_FIXED_SIZE + (size_t)extra + id_len + name_len;
    return IMGP_OK;
}

imgp_status qcow2_parse_snapshot_entry(imgp_ctx *ctx, const uint8_t *buf, size_t len, qcow2_snapshot_entry *out)
{
    memset(out, 0, sizeof *out);
    size_t need;
    imgp_status st = qcow2_snapshot_entry_length(ctx, buf, len, &need);
    if (st != IMGP_OK)
        return st;
    if (need > len)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: snapshot table entry of %zu bytes, %zu given", need, len);
    imgp_cursor c = imgp_cur_init(buf, need);
    out->l1_table_offset = imgp_cur_be64_at(&c, QCOW2_SN_L1_TABLE_OFFSET);
    out->l1_size = imgp_cur_be32_at(&c, QCOW2_SN_L1_SIZE);
    out->id_len = imgp_cur_be16_at(&c, QCOW2_SN_ID_SIZE);
    out->name_len = imgp_cur_be16_at(&c, QCOW2_SN_NAME_SIZE);
    out->date_sec = imgp_cur_be32_at(&c, QCOW2_SN_DATE_SEC);
    out->date_nsec = imgp_cur_be32_at(&c, QCOW2_SN_DATE_NSEC);
    out->vm_clock_nsec = imgp_cur_be64_at(&c, QCOW2_SN_VM_CLOCK_NSEC);
    out->vm_state_size = imgp_cur_be32_at(&c, QCOW2_SN_VM_STATE_SIZE);
    uint32_t extra = imgp_cur_be32_at(&c, QCOW2_SN_EXTRA_DATA_SIZE);
    /* extra data fields are present when the extra data reaches past them */
    if (extra >= QCOW2_SN_EXTRA_VM_STATE_SIZE + 8 - QCOW2_SN_FIXED_SIZE)
        out->vm_state_size = imgp_cur_be64_at(&c, QCOW2_SN_EXTRA_VM_STATE_SIZE);
    if (extra >= QCOW2_SN_EXTRA_DISK_SIZE + 8 - QCOW2_SN_FIXED_SIZE)
        out->disk_size = imgp_cur_be64_at(&c, QCOW2_SN_EXTRA_DISK_SIZE);
    size_t id_at = QCOW2_SN_FIXED_SIZE + (size_t)extra;
    out->id = imgp_cur_ptr_at(&c, id_at, out->id_len);
    out->name = imgp_cur_ptr_at(&c, id_at + out->id_len, out->name_len);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: snapshot table entry of %zu bytes is malformed", need);
    return IMGP_OK;
}
