/*
 * VMDK: VMware's "Virtual Disk Format 5.0" technical note, as written by
 * VMware Workstation, ESXi, vmware-vdiskmanager, ovftool and qemu.
 *
 * An image is either a text descriptor naming extent files (monolithicFlat,
 * twoGbMaxExtentSparse/Flat, vmfs, vmfsThin, custom mixes of SPARSE, FLAT,
 * ZERO and VMFS extents) or a single hosted sparse extent that embeds its
 * descriptor (monolithicSparse, streamOptimized). The virtual disk is the
 * extents one after another. A delta names its parent in parentFileNameHint.
 *
 * Choices where the note is silent, or where qemu 7.2 (block/vmdk.c, the
 * reader of the cloud's importer) does otherwise:
 *  - a SPARSE extent maps as many sectors as its descriptor line says; its
 *    header's capacity must be at least that (qemu uses the capacity).
 *  - GTE 1 reads as zeros in every version (qemu: only with flag bit 2), see
 *    vmdk_gte_decode().
 *  - a delta whose parentCID differs from its parent's CID opens (info shows
 *    the prop "parent cid mismatch"), but every read and status that falls
 *    through to the parent fails, as qemu's reads do (vmdk_is_cid_valid()).
 *  - the redundant grain directory is used when the primary one lies outside
 *    the file or points a grain table outside it (prop "grain directory").
 *  - extent files must be named relative to the descriptor, without "..":
 *    a hostile descriptor must not make us read /dev/sda. qemu follows any path.
 *  - a VMFS extent may carry an offset (VMware writes one; qemu refuses it).
 *  - RDONLY extents are read like RW ones (qemu skips their lines); NOACCESS,
 *    seSparse, raw device mappings and ESX 2 COWD extents make the image
 *    "recognised, not read" so that `info` can name them.
 *  - info.compression is "zlib" for stream-optimized extents: the grains are
 *    deflate streams in a zlib (RFC 1950) wrapper.
 */
#include <stdio.h>
#include <zlib.h>

#include "vmdk.h"
#include "../core/cache.h"
#include "../core/cursor.h"

/* Grain tables kept: sequential reads use one at a time, a filesystem's
 * scattered metadata a few more. */
#define VMDK_GT_CACHE_SLOTS 16u

/* A text file this small whose first KiB says createType= may be a descriptor. */
#define VMDK_PROBE_TEXT_MAX (1u << 20)
#define VMDK_PROBE_TEXT_SCAN 1024u

/* Grain lookups one status call makes at most: bounds its time on a huge
 * disk whose grain tables are allocated but empty; the caller asks again. */
#define VMDK_STATUS_BUDGET 65536u

/* ==== parsers ==== */

imgp_status vmdk_sparse_header_parse(imgp_ctx *ctx, const char *label, const uint8_t *buf, size_t len,
                                     uint64_t file_size, bool footer, vmdk_sparse_header *out)
{
    memset(out, 0, sizeof *out);
    const char *what = footer ? "footer" : "header";
    imgp_cursor c = imgp_cur_init(buf, len);
    const uint8_t *magic = imgp_cur_ptr_at(&c, 0, 4);
    out->version = imgp_cur_le32_at(&c, VMDK_HDR_VERSION);
    out->flags = imgp_cur_le32_at(&c, VMDK_HDR_FLAGS);
    out->capacity = imgp_cur_le64_at(&c, VMDK_HDR_CAPACITY);
    out->grain_sectors = imgp_cur_le64_at(&c, VMDK_HDR_GRAIN_SIZE);
    out->desc_offset = imgp_cur_le64_at(&c, VMDK_HDR_DESC_OFFSET);
    out->desc_size = imgp_cur_le64_at(&c, VMDK_HDR_DESC_SIZE);
    out->gtes_per_gt = imgp_cur_le32_at(&c, VMDK_HDR_GTES_PER_GT);
    out->rgd_offset = imgp_cur_le64_at(&c, VMDK_HDR_RGD_OFFSET);
    out->gd_offset = imgp_cur_le64_at(&c, VMDK_HDR_GD_OFFSET);
    out->overhead = imgp_cur_le64_at(&c, VMDK_HDR_OVERHEAD);
    out->unclean_shutdown = imgp_cur_u8_at(&c, VMDK_HDR_UNCLEAN) != 0;
    const uint8_t *newline = imgp_cur_ptr_at(&c, VMDK_HDR_NEWLINE_CHECK, 4);
    out->compress_algorithm = imgp_cur_le16_at(&c, VMDK_HDR_COMPRESS_ALGORITHM);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "%s: sparse extent %s of %zu bytes is truncated", label, what, len);
    if (memcmp(magic, VMDK_HDR_MAGIC, 4) != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "%s: sparse extent %s magic is %02x %02x %02x %02x, not 'KDMV'",
                          label, what, magic[0], magic[1], magic[2], magic[3]);
    if (out->version < VMDK_VERSION_MIN || out->version > VMDK_VERSION_MAX)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "%s: sparse extent version %u (imgprobe reads 1 to 3)", label,
                          out->version);
    if (out->compress_algorithm != VMDK_COMPRESSION_NONE && out->compress_algorithm != VMDK_COMPRESSION_DEFLATE)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "%s: compression algorithm %u (only 1, deflate, is known)",
                          label, out->compress_algorithm);
    out->compressed = out->compress_algorithm == VMDK_COMPRESSION_DEFLATE;
    out->markers = (out->flags & VMDK_FLAG_MARKERS) != 0;

    if (!imgp_is_pow2(out->grain_sectors))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "%s: grain size of %llu sectors is not a power of two", label,
                          (unsigned long long)out->grain_sectors);
    if (out->grain_sectors > VMDK_MAX_GRAIN_SECTORS)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "%s: grain size of %llu sectors exceeds 1 GiB", label,
                          (unsigned long long)out->grain_sectors);
    out->grain_shift = VMDK_SECTOR_SHIFT;
    while ((UINT64_C(1) << (out->grain_shift - VMDK_SECTOR_SHIFT)) < out->grain_sectors)
        out->grain_shift++;
    if (out->gtes_per_gt == 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "%s: grain tables of 0 entries", label);
    if (out->gtes_per_gt > VMDK_MAX_GTES_PER_GT)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "%s: grain tables of %u entries (imgprobe reads up to %u)",
                          label, out->gtes_per_gt, VMDK_MAX_GTES_PER_GT);
    if (out->capacity > UINT64_MAX >> VMDK_SECTOR_SHIFT)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "%s: capacity of %llu sectors overflows a 64-bit byte count", label,
                          (unsigned long long)out->capacity);

    /* One grain directory entry per grain table that maps part of the capacity. */
    uint64_t gt_coverage = out->grain_sectors * out->gtes_per_gt; /* <= 2^37: no overflow */
    out->gd_entries = out->capacity / gt_coverage + (out->capacity % gt_coverage != 0);
    uint64_t gd_bytes = out->gd_entries * VMDK_GDE_SIZE; /* gd_entries < 2^55 */
    uint64_t table_limit = imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES);
    if (gd_bytes > table_limit)
        return imgp_error(ctx, IMGP_ERR_LIMIT,
                          "%s: grain directory of %llu entries for a capacity of %llu sectors exceeds the table "
                          "limit (%llu bytes)", label, (unsigned long long)out->gd_entries,
                          (unsigned long long)out->capacity, (unsigned long long)table_limit);

    uint64_t file_sectors = file_size >> VMDK_SECTOR_SHIFT;
    if (out->desc_offset) {
        uint64_t desc_limit = imgp_ctx_limit(ctx, IMGP_LIMIT_DESCRIPTOR_BYTES);
        if (out->desc_size == 0)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "%s: embedded descriptor at sector %llu has size 0", label,
                              (unsigned long long)out->desc_offset);
        if (out->desc_size > desc_limit >> VMDK_SECTOR_SHIFT)
            return imgp_error(ctx, IMGP_ERR_LIMIT,
                              "%s: embedded descriptor of %llu sectors exceeds the descriptor limit (%llu bytes)",
                              label, (unsigned long long)out->desc_size, (unsigned long long)desc_limit);
        if (imgp_range_outside(out->desc_offset, out->desc_size, file_sectors))
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "%s: embedded descriptor at sector %llu (%llu sectors) lies past the end of the file "
                              "(size 0x%llx)", label, (unsigned long long)out->desc_offset,
                              (unsigned long long)out->desc_size, (unsigned long long)file_size);
    }

    /* The grain directory, in sectors. Outside the file it may still be
     * replaced by the redundant one; at least one must be inside. */
    uint64_t gd_sectors = (gd_bytes + VMDK_SECTOR - 1) >> VMDK_SECTOR_SHIFT;
    if (out->gd_offset == VMDK_GD_AT_END) {
        if (footer)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "%s: the footer sends the grain directory to the footer", label);
    } else if (out->capacity) {
        bool gd_inside = out->gd_offset != 0 && !imgp_range_outside(out->gd_offset, gd_sectors, file_sectors);
        bool rgd_inside = (out->flags & VMDK_FLAG_REDUNDANT_GT) && out->rgd_offset != 0 &&
                          !imgp_range_outside(out->rgd_offset, gd_sectors, file_sectors);
        if (!gd_inside && !rgd_inside)
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "%s: grain directory at sector %llu (%llu entries) lies outside the file (size 0x%llx)",
                              label, (unsigned long long)out->gd_offset, (unsigned long long)out->gd_entries,
                              (unsigned long long)file_size);
    }
    if (out->overhead > file_sectors)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "%s: file truncated: %llu sectors of metadata (overHead) but the file has 0x%llx bytes",
                          label, (unsigned long long)out->overhead, (unsigned long long)file_size);
    /* last: a structural fault above says more than mangled check bytes */
    if ((out->flags & VMDK_FLAG_NEWLINE_TEST) && memcmp(newline, VMDK_HDR_NEWLINE_BYTES, 4) != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "%s: newline check bytes are %02x %02x %02x %02x, not 0a 20 0d 0a: the file went "
                          "through a text-mode transfer", label, newline[0], newline[1], newline[2], newline[3]);
    return IMGP_OK;
}

vmdk_grain_kind vmdk_gte_decode(uint32_t gte, uint64_t *sector)
{
    *sector = 0;
    if (gte == VMDK_GTE_UNALLOCATED)
        return VMDK_GRAIN_UNALLOCATED;
    if (gte == VMDK_GTE_ZEROED)
        return VMDK_GRAIN_ZEROED;
    *sector = gte;
    return VMDK_GRAIN_DATA;
}

bool vmdk_marker_parse(const uint8_t *buf, size_t len, vmdk_marker *out)
{
    imgp_cursor c = imgp_cur_init(buf, len);
    out->val = imgp_cur_le64_at(&c, VMDK_MARKER_VAL);
    out->size = imgp_cur_le32_at(&c, VMDK_MARKER_LEN);
    out->type = len >= VMDK_MARKER_HEAD ? imgp_cur_le32_at(&c, VMDK_MARKER_TYPE) : 0;
    return imgp_cur_ok(&c);
}

/* ==== the device ==== */

typedef enum extent_kind { EXTENT_SPARSE, EXTENT_FLAT, EXTENT_ZERO } extent_kind;

typedef struct extent {
    extent_kind kind;
    uint64_t start, length; /* bytes of the virtual disk */
    imgp_source *src;       /* NULL for ZERO; the image's own source when !owns_src */
    bool owns_src;
    char *label;            /* for messages: "vmdk" or "vmdk: extent file 'x'"; owned */
    uint64_t flat_offset;   /* FLAT: bytes into src */
    /* SPARSE */
    vmdk_sparse_header hdr;
    uint32_t *gd;           /* hdr.gd_entries sector offsets of grain tables */
} extent;

typedef struct vmdk_bdev {
    imgp_bdev base;
    imgp_ctx *ctx;
    extent *extents;
    size_t nextents;
    imgp_cache *gt_cache;   /* grain tables, key (extent << 32 | directory index) */
    size_t gt_block;        /* the cache's block: the largest grain table */
    uint64_t gd_bytes;      /* all extents' grain directories */
    /* stream-optimized: the last grain decompressed, and the input buffer */
    uint8_t *grain;
    size_t grain_cap;
    bool grain_valid;
    size_t grain_extent;
    uint64_t grain_index;
    uint8_t *zin;
    size_t zin_cap;
    /* delta */
    bool has_cid;
    uint32_t cid;
    imgp_bdev *parent;      /* owned by the image's backing; NULL without a parent */
    const char *parent_mismatch; /* kept by the image: why reads through the parent fail */
    unsigned status_budget;
} vmdk_bdev;

static uint64_t grain_bytes(const extent *e) { return UINT64_C(1) << e->hdr.grain_shift; }

static uint64_t gt_bytes(const extent *e) { return (uint64_t)e->hdr.gtes_per_gt * VMDK_GTE_SIZE; }

/* Bytes of grain @p grain that lie inside the extent (the last one may be cut). */
static uint64_t grain_bytes_inside(const extent *e, uint64_t grain)
{
    return imgp_min_u64(grain_bytes(e), e->length - (grain << e->hdr.grain_shift));
}

/* Cache fill: the grain table that key (extent << 32 | directory index) names. */
static imgp_status gt_fill(void *arg, uint64_t key, uint8_t *buf)
{
    vmdk_bdev *v = arg;
    extent *e = &v->extents[key >> 32];
    uint32_t gde = e->gd[key & 0xffffffffu];
    size_t n = (size_t)gt_bytes(e);
    memset(buf + n, 0, v->gt_block - n);
    return imgp_source_read(e->src, (uint64_t)gde << VMDK_SECTOR_SHIFT, buf, n, "vmdk grain table");
}

/* What grain @p grain of extent @p ei holds, and where. */
static imgp_status grain_lookup(vmdk_bdev *v, size_t ei, uint64_t grain, vmdk_grain_kind *kind, uint64_t *sector)
{
    extent *e = &v->extents[ei];
    uint64_t gdi = grain / e->hdr.gtes_per_gt;
    *sector = 0;
    if (gdi >= e->hdr.gd_entries)
        return imgp_error(v->ctx, IMGP_ERR_CORRUPT, "%s: grain %llu lies beyond the grain directory", e->label,
                          (unsigned long long)grain);
    if (e->gd[gdi] == 0) {
        *kind = VMDK_GRAIN_UNALLOCATED;
        return IMGP_OK;
    }
    const uint8_t *gt;
    imgp_status st = imgp_cache_get(v->gt_cache, (uint64_t)ei << 32 | gdi, gt_fill, v, &gt);
    if (st != IMGP_OK)
        return st;
    imgp_cursor c = imgp_cur_init(gt, (size_t)gt_bytes(e));
    uint32_t gte = imgp_cur_le32_at(&c, (size_t)(grain % e->hdr.gtes_per_gt) * VMDK_GTE_SIZE);
    *kind = vmdk_gte_decode(gte, sector);
    if (*kind == VMDK_GRAIN_DATA) {
        /* a compressed grain needs its marker or stream start; a plain one its bytes */
        uint64_t need = e->hdr.compressed ? 1 : grain_bytes_inside(e, grain);
        if (imgp_range_outside(*sector << VMDK_SECTOR_SHIFT, need, e->src->size))
            return imgp_error(v->ctx, IMGP_ERR_CORRUPT,
                              "%s: grain table entry for grain %llu points to sector %llu, past the end of the file "
                              "(size 0x%llx)", e->label, (unsigned long long)grain, (unsigned long long)*sector,
                              (unsigned long long)e->src->size);
    }
    return IMGP_OK;
}

static void *zalloc_ctx(void *opaque, unsigned items, unsigned size)
{
    return imgp_calloc(opaque, items, size);
}

static void zfree_ctx(void *opaque, void *p) { imgp_free(opaque, p); }

/* Make *buf hold at least @p n bytes (bounded by the caller). */
static imgp_status ensure_buffer(imgp_ctx *ctx, uint8_t **buf, size_t *cap, size_t n)
{
    if (*cap >= n)
        return IMGP_OK;
    uint8_t *p = imgp_realloc(ctx, *buf, n);
    if (!p)
        return IMGP_ERR_NOMEM;
    *buf = p;
    *cap = n;
    return IMGP_OK;
}

/* Inflate a zlib stream of @p in_len bytes into at most one grain ("Stream-Optimized
 * Compressed Sparse Extents": a grain is compressed alone). */
static imgp_status inflate_grain(vmdk_bdev *v, const extent *e, uint64_t grain, size_t in_len, uint64_t *produced)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    zs.zalloc = zalloc_ctx;
    zs.zfree = zfree_ctx;
    zs.opaque = v->ctx;
    if (inflateInit(&zs) != Z_OK)
        return imgp_error(v->ctx, IMGP_ERR_NOMEM, "%s: cannot set up zlib", e->label);
    zs.next_in = v->zin;
    zs.avail_in = (uInt)in_len;
    zs.next_out = v->grain;
    zs.avail_out = (uInt)grain_bytes(e);
    int zr = inflate(&zs, Z_FINISH);
    *produced = zs.total_out;
    imgp_status st = IMGP_OK;
    if (zr == Z_MEM_ERROR)
        st = imgp_error(v->ctx, IMGP_ERR_NOMEM, "%s: zlib ran out of memory", e->label);
    else if (zr == Z_BUF_ERROR && zs.avail_out == 0)
        st = imgp_error(v->ctx, IMGP_ERR_CORRUPT, "%s: compressed grain %llu inflates to more than one grain (%llu bytes)",
                        e->label, (unsigned long long)grain, (unsigned long long)grain_bytes(e));
    else if (zr == Z_BUF_ERROR)
        st = imgp_error(v->ctx, IMGP_ERR_CORRUPT, "%s: compressed grain %llu is truncated (%zu bytes)", e->label,
                        (unsigned long long)grain, in_len);
    else if (zr != Z_STREAM_END)
        st = imgp_error(v->ctx, IMGP_ERR_CORRUPT, "%s: compressed grain %llu is not a valid zlib stream: %s",
                        e->label, (unsigned long long)grain, zs.msg ? zs.msg : "error");
    inflateEnd(&zs);
    return st;
}

/* Decompress grain @p grain of extent @p ei (at @p sector) into v->grain, unless it is already there. */
static imgp_status load_compressed_grain(vmdk_bdev *v, size_t ei, uint64_t grain, uint64_t sector)
{
    if (v->grain_valid && v->grain_extent == ei && v->grain_index == grain)
        return IMGP_OK;
    extent *e = &v->extents[ei];
    uint64_t gbytes = grain_bytes(e), off = sector << VMDK_SECTOR_SHIFT, in_len;
    v->grain_valid = false;
    if (e->hdr.markers) {
        uint8_t mbuf[VMDK_GRAIN_MARKER_DATA];
        vmdk_marker m;
        imgp_status st = imgp_source_read(e->src, off, mbuf, sizeof mbuf, "vmdk grain marker");
        if (st != IMGP_OK)
            return st;
        vmdk_marker_parse(mbuf, sizeof mbuf, &m); /* a grain marker has no type */
        uint64_t lba = grain * e->hdr.grain_sectors;
        if (m.val != lba)
            return imgp_error(v->ctx, IMGP_ERR_CORRUPT,
                              "%s: grain marker at 0x%llx says lba %llu, the grain table says %llu", e->label,
                              (unsigned long long)off, (unsigned long long)m.val, (unsigned long long)lba);
        if (m.size == 0 || m.size > 2 * gbytes)
            return imgp_error(v->ctx, IMGP_ERR_CORRUPT,
                              "%s: grain marker at 0x%llx gives %u compressed bytes for a grain of %llu", e->label,
                              (unsigned long long)off, m.size, (unsigned long long)gbytes);
        off += VMDK_GRAIN_MARKER_DATA;
        in_len = m.size;
        if (imgp_range_outside(off, in_len, e->src->size))
            return imgp_error(v->ctx, IMGP_ERR_CORRUPT,
                              "%s: compressed grain %llu at 0x%llx (%llu bytes) lies past the end of the file (size "
                              "0x%llx)", e->label, (unsigned long long)grain, (unsigned long long)off,
                              (unsigned long long)in_len, (unsigned long long)e->src->size);
    } else {
        /* No marker, no length: the stream ends where it ends. Like qemu, look
         * at two grains' worth at most. */
        in_len = imgp_min_u64(2 * gbytes, e->src->size - off);
    }
    imgp_status st = ensure_buffer(v->ctx, &v->zin, &v->zin_cap, (size_t)in_len);
    if (st == IMGP_OK)
        st = ensure_buffer(v->ctx, &v->grain, &v->grain_cap, (size_t)gbytes);
    if (st == IMGP_OK)
        st = imgp_source_read(e->src, off, v->zin, (size_t)in_len, "vmdk compressed grain");
    uint64_t produced = 0, need = grain_bytes_inside(e, grain);
    if (st == IMGP_OK)
        st = inflate_grain(v, e, grain, (size_t)in_len, &produced);
    if (st != IMGP_OK)
        return st;
    if (produced < need)
        return imgp_error(v->ctx, IMGP_ERR_CORRUPT, "%s: compressed grain %llu inflates to %llu bytes, not %llu",
                          e->label, (unsigned long long)grain, (unsigned long long)produced,
                          (unsigned long long)need);
    memset(v->grain + produced, 0, (size_t)(gbytes - produced));
    v->grain_valid = true;
    v->grain_extent = ei;
    v->grain_index = grain;
    return IMGP_OK;
}

static imgp_status parent_refused(vmdk_bdev *v)
{
    return imgp_error(v->ctx, IMGP_ERR_CORRUPT, "vmdk: %s: refusing to read through the parent", v->parent_mismatch);
}

/* Read what the parent holds at @p off (zeros past its end, or without one). */
static imgp_status read_parent(vmdk_bdev *v, uint64_t off, uint8_t *out, size_t n)
{
    if (!v->parent) {
        memset(out, 0, n);
        return IMGP_OK;
    }
    if (v->parent_mismatch)
        return parent_refused(v);
    size_t m = off >= v->parent->size ? 0 : (size_t)imgp_min_u64(n, v->parent->size - off);
    memset(out + m, 0, n - m);
    return imgp_bdev_read(v->parent, off, out, m);
}

static imgp_status sparse_read(vmdk_bdev *v, size_t ei, uint64_t rel, uint8_t *out, size_t len)
{
    extent *e = &v->extents[ei];
    uint64_t gbytes = grain_bytes(e);
    while (len > 0) {
        uint64_t grain = rel >> e->hdr.grain_shift, in = rel & (gbytes - 1), sector;
        vmdk_grain_kind kind;
        imgp_status st = grain_lookup(v, ei, grain, &kind, &sector);
        if (st != IMGP_OK)
            return st;
        size_t n = (size_t)imgp_min_u64(len, gbytes - in);
        if (kind == VMDK_GRAIN_DATA && e->hdr.compressed) {
            if ((st = load_compressed_grain(v, ei, grain, sector)) != IMGP_OK)
                return st;
            memcpy(out, v->grain + in, n);
        } else {
            /* Coalesce the following grains of the same kind (data: the next sectors of the file). */
            uint64_t next_sector = sector + e->hdr.grain_sectors;
            for (uint64_t g = grain + 1; n < len; g++) {
                vmdk_grain_kind k2;
                uint64_t s2;
                if ((st = grain_lookup(v, ei, g, &k2, &s2)) != IMGP_OK)
                    return st;
                if (k2 != kind || (kind == VMDK_GRAIN_DATA && s2 != next_sector))
                    break;
                n += (size_t)imgp_min_u64(len - n, gbytes);
                next_sector += e->hdr.grain_sectors;
            }
            if (kind == VMDK_GRAIN_DATA)
                st = imgp_source_read(e->src, (sector << VMDK_SECTOR_SHIFT) + in, out, n, "vmdk grain");
            else if (kind == VMDK_GRAIN_ZEROED)
                memset(out, 0, n);
            else
                st = read_parent(v, e->start + rel, out, n);
            if (st != IMGP_OK)
                return st;
        }
        rel += n;
        out += n;
        len -= n;
    }
    return IMGP_OK;
}

/* The extent holding virtual byte @p off (inside the device). */
static size_t extent_at(const vmdk_bdev *v, uint64_t off)
{
    size_t lo = 0, hi = v->nextents;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->extents[mid].start <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static imgp_status vmdk_read(imgp_bdev *bd, uint64_t off, void *buf, size_t len)
{
    vmdk_bdev *v = (vmdk_bdev *)bd;
    uint8_t *out = buf;
    for (size_t ei = extent_at(v, off); len > 0; ei++) {
        extent *e = &v->extents[ei];
        uint64_t rel = off - e->start;
        size_t n = (size_t)imgp_min_u64(len, e->length - rel);
        imgp_status st = IMGP_OK;
        if (e->kind == EXTENT_ZERO)
            memset(out, 0, n);
        else if (e->kind == EXTENT_FLAT)
            st = imgp_source_read(e->src, e->flat_offset + rel, out, n, "vmdk flat extent data");
        else
            st = sparse_read(v, ei, rel, out, n);
        if (st != IMGP_OK)
            return st;
        off += n;
        out += n;
        len -= n;
    }
    return IMGP_OK;
}

static imgp_status parent_status(vmdk_bdev *v, uint64_t off, uint64_t len, imgp_extent_kind *kind, uint64_t *run)
{
    *kind = IMGP_EXTENT_UNALLOCATED;
    *run = len;
    if (!v->parent || off >= v->parent->size)
        return IMGP_OK;
    if (v->parent_mismatch)
        return parent_refused(v);
    return imgp_bdev_status(v->parent, off, imgp_min_u64(len, v->parent->size - off), kind, run);
}

static imgp_status sparse_status(vmdk_bdev *v, size_t ei, uint64_t rel, uint64_t len, imgp_extent_kind *kind,
                                 uint64_t *run)
{
    extent *e = &v->extents[ei];
    uint64_t gbytes = grain_bytes(e), grain = rel >> e->hdr.grain_shift, sector;
    vmdk_grain_kind gk;
    imgp_status st = grain_lookup(v, ei, grain, &gk, &sector);
    if (st != IMGP_OK)
        return st;
    *run = imgp_min_u64(len, gbytes - (rel & (gbytes - 1)));
    for (uint64_t g = grain + 1; *run < len && v->status_budget > 0; g++, v->status_budget--) {
        vmdk_grain_kind k2;
        if ((st = grain_lookup(v, ei, g, &k2, &sector)) != IMGP_OK)
            return st;
        if (k2 != gk)
            break;
        *run += imgp_min_u64(len - *run, gbytes);
    }
    if (gk == VMDK_GRAIN_DATA)
        *kind = IMGP_EXTENT_DATA;
    else if (gk == VMDK_GRAIN_ZEROED)
        *kind = IMGP_EXTENT_ZERO;
    else
        return parent_status(v, e->start + rel, *run, kind, run);
    return IMGP_OK;
}

/* The kind of the run at @p off inside one extent. */
static imgp_status extent_status(vmdk_bdev *v, size_t ei, uint64_t off, uint64_t len, imgp_extent_kind *kind,
                                 uint64_t *run)
{
    extent *e = &v->extents[ei];
    uint64_t rel = off - e->start;
    len = imgp_min_u64(len, e->length - rel);
    if (e->kind == EXTENT_ZERO) {
        *kind = IMGP_EXTENT_ZERO;
        *run = len;
        return IMGP_OK;
    }
    if (e->kind == EXTENT_FLAT) {
        /* a hole in a flat file reads as zeros and never falls through to a parent */
        bool is_data;
        imgp_status st = imgp_source_extent(e->src, e->flat_offset + rel, len, &is_data, run);
        *kind = is_data ? IMGP_EXTENT_DATA : IMGP_EXTENT_ZERO;
        return st;
    }
    return sparse_status(v, ei, rel, len, kind, run);
}

static imgp_status vmdk_status(imgp_bdev *bd, uint64_t off, uint64_t len, imgp_extent_kind *kind, uint64_t *run)
{
    vmdk_bdev *v = (vmdk_bdev *)bd;
    v->status_budget = VMDK_STATUS_BUDGET;
    size_t ei = extent_at(v, off);
    imgp_status st = extent_status(v, ei, off, len, kind, run);
    /* runs of the same kind continue across extents */
    while (st == IMGP_OK && *run < len && v->status_budget > 0) {
        uint64_t next = off + *run, r2;
        imgp_extent_kind k2;
        if (next >= v->extents[ei].start + v->extents[ei].length)
            ei++;
        if ((st = extent_status(v, ei, next, len - *run, &k2, &r2)) != IMGP_OK || k2 != *kind)
            break;
        *run += r2;
        v->status_budget--;
    }
    return st;
}

static void vmdk_close(imgp_bdev *bd)
{
    vmdk_bdev *v = (vmdk_bdev *)bd;
    imgp_ctx *ctx = v->ctx;
    for (size_t i = 0; i < v->nextents; i++) {
        extent *e = &v->extents[i];
        if (e->owns_src)
            imgp_source_close(e->src);
        imgp_free(ctx, e->gd);
        imgp_free(ctx, e->label);
    }
    imgp_free(ctx, v->extents);
    imgp_cache_free(v->gt_cache);
    imgp_free(ctx, v->grain);
    imgp_free(ctx, v->zin);
    imgp_free(ctx, bd->name);
    imgp_free(ctx, v);
}

static const imgp_bdev_ops vmdk_ops = {
    .kind = "vmdk",
    .read = vmdk_read,
    .status = vmdk_status,
    .close = vmdk_close,
};

/* ==== opening ==== */

/* Read and check grain directory at @p gd_sector; every table it names must lie inside the file. */
static imgp_status load_grain_directory(vmdk_bdev *v, extent *e, uint64_t gd_sector, const char *which,
                                        uint32_t **out)
{
    imgp_ctx *ctx = v->ctx;
    uint64_t n = e->hdr.gd_entries, bytes = n * VMDK_GDE_SIZE, size = e->src->size;
    *out = NULL;
    if (gd_sector == 0 || gd_sector > UINT64_MAX >> VMDK_SECTOR_SHIFT ||
        imgp_range_outside(gd_sector << VMDK_SECTOR_SHIFT, bytes, size))
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "%s: %s at sector %llu (%llu entries) lies outside the file (size 0x%llx)", e->label, which,
                          (unsigned long long)gd_sector, (unsigned long long)n, (unsigned long long)size);
    uint8_t *raw = imgp_alloc(ctx, (size_t)bytes);
    uint32_t *gd = raw ? imgp_calloc(ctx, (size_t)n, sizeof *gd) : NULL;
    imgp_status st = gd ? imgp_source_read(e->src, gd_sector << VMDK_SECTOR_SHIFT, raw, (size_t)bytes,
                                           "vmdk grain directory")
                        : IMGP_ERR_NOMEM;
    imgp_cursor c = imgp_cur_init(raw, (size_t)bytes);
    for (uint64_t i = 0; st == IMGP_OK && i < n; i++) {
        gd[i] = imgp_cur_le32(&c);
        if (gd[i] && imgp_range_outside((uint64_t)gd[i] << VMDK_SECTOR_SHIFT, gt_bytes(e), size))
            st = imgp_error(ctx, IMGP_ERR_CORRUPT,
                            "%s: %s entry %llu points to a grain table at sector %u, past the end of the file "
                            "(size 0x%llx)", e->label, which, (unsigned long long)i, gd[i], (unsigned long long)size);
    }
    imgp_free(ctx, raw);
    if (st != IMGP_OK) {
        imgp_free(ctx, gd);
        return st;
    }
    *out = gd;
    return IMGP_OK;
}

/* The grain directory of @p e, or the redundant one when the primary is unusable. */
static imgp_status open_grain_directory(vmdk_bdev *v, imgp_image *img, extent *e)
{
    imgp_ctx *ctx = v->ctx;
    uint64_t total;
    if (imgp_add_overflow(v->gd_bytes, e->hdr.gd_entries * VMDK_GDE_SIZE, &total) ||
        total > imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES))
        return imgp_error(ctx, IMGP_ERR_LIMIT, "%s: the grain directories of all extents exceed the table limit "
                          "(%llu bytes)", e->label, (unsigned long long)imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES));
    v->gd_bytes = total;
    imgp_status st = load_grain_directory(v, e, e->hdr.gd_offset, "grain directory", &e->gd);
    uint64_t rgd = e->hdr.rgd_offset;
    if (st != IMGP_ERR_CORRUPT || !(e->hdr.flags & VMDK_FLAG_REDUNDANT_GT) || rgd == 0 || rgd == VMDK_GD_AT_END)
        return st;
    char primary[IMGP_MSG_MAX];
    snprintf(primary, sizeof primary, "%s", imgp_ctx_message(ctx));
    st = load_grain_directory(v, e, rgd, "redundant grain directory", &e->gd);
    if (st == IMGP_ERR_NOMEM)
        return st;
    if (st != IMGP_OK) /* the primary's fault is the one to report */
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "%s", primary);
    imgp_ctx_clear(ctx);
    return imgp_image_add_prop(img, "grain directory", "redundant copy at sector %llu (the primary is unusable: %s)",
                               (unsigned long long)rgd, primary);
}

/* Replace e->hdr by the footer copy at the end of a stream-optimized extent. */
static imgp_status read_footer(vmdk_bdev *v, extent *e)
{
    uint64_t end = e->src->size & ~(uint64_t)(VMDK_SECTOR - 1);
    if (end < VMDK_FOOTER_FROM_END + VMDK_HDR_SIZE)
        return imgp_error(v->ctx, IMGP_ERR_CORRUPT,
                          "%s: the grain directory is to be found through the footer, but the file (size 0x%llx) "
                          "has no room for one", e->label, (unsigned long long)e->src->size);
    uint8_t buf[VMDK_FOOTER_FROM_END];
    uint64_t at = end - VMDK_FOOTER_FROM_END;
    imgp_status st = imgp_source_read(e->src, at, buf, sizeof buf, "vmdk footer");
    if (st != IMGP_OK)
        return st;
    vmdk_marker footer, eos;
    vmdk_marker_parse(buf, VMDK_MARKER_HEAD, &footer);
    vmdk_marker_parse(buf + 2 * VMDK_SECTOR, VMDK_MARKER_HEAD, &eos);
    if (footer.size != 0 || footer.type != VMDK_MARKER_FOOTER)
        return imgp_error(v->ctx, IMGP_ERR_CORRUPT, "%s: no footer marker at 0x%llx (size %u, type %u)", e->label,
                          (unsigned long long)at, footer.size, footer.type);
    if (eos.val != 0 || eos.size != 0 || eos.type != VMDK_MARKER_EOS)
        return imgp_error(v->ctx, IMGP_ERR_CORRUPT, "%s: no end-of-stream marker at 0x%llx", e->label,
                          (unsigned long long)(at + 2 * VMDK_SECTOR));
    return vmdk_sparse_header_parse(v->ctx, e->label, buf + VMDK_SECTOR, VMDK_HDR_SIZE, e->src->size, true, &e->hdr);
}

/* With e->hdr parsed: the footer when the header defers to it, then the grain directory. */
static imgp_status finish_sparse_extent(vmdk_bdev *v, imgp_image *img, extent *e)
{
    imgp_status st;
    if (e->hdr.gd_offset == VMDK_GD_AT_END && (st = read_footer(v, e)) != IMGP_OK)
        return st;
    uint64_t max_out = imgp_ctx_limit(v->ctx, IMGP_LIMIT_DECOMPRESSED);
    if (e->hdr.compressed && grain_bytes(e) > max_out)
        return imgp_error(v->ctx, IMGP_ERR_LIMIT, "%s: compressed grains of %llu bytes exceed the decompression "
                          "limit (%llu bytes)", e->label, (unsigned long long)grain_bytes(e),
                          (unsigned long long)max_out);
    e->kind = EXTENT_SPARSE;
    v->gt_block = (size_t)imgp_max_u64(v->gt_block, gt_bytes(e));
    if (e->hdr.unclean_shutdown)
        img->info.dirty = true;
    if (!img->info.cluster_size)
        img->info.cluster_size = (uint32_t)grain_bytes(e);
    if (e->hdr.compressed)
        img->info.compression = "zlib";
    return open_grain_directory(v, img, e);
}

/* Append an extent of @p length bytes to @p v (room for @p cap made on the first call). */
static imgp_status add_extent(vmdk_bdev *v, size_t cap, const char *file, uint64_t length, extent **out)
{
    if (!v->extents && !(v->extents = imgp_calloc(v->ctx, cap, sizeof *v->extents)))
        return IMGP_ERR_NOMEM;
    extent *e = &v->extents[v->nextents];
    memset(e, 0, sizeof *e);
    e->label = file ? imgp_asprintf(v->ctx, "vmdk: extent file '%s'", file) : imgp_strdup(v->ctx, "vmdk");
    if (!e->label)
        return IMGP_ERR_NOMEM;
    e->start = v->base.size;
    e->length = length;
    v->base.size += length; /* the descriptor parser bounds the sum */
    v->nextents++;
    *out = e;
    return IMGP_OK;
}

static bool head_is(const uint8_t *head, size_t len, const char *magic)
{
    return len >= strlen(magic) && memcmp(head, magic, strlen(magic)) == 0;
}

static bool head_is_sesparse(const uint8_t *head, size_t len)
{
    imgp_cursor c = imgp_cur_init(head, len);
    return imgp_cur_le64_at(&c, 0) == VMDK_SESPARSE_MAGIC &&
           imgp_cur_le64_at(&c, VMDK_SESPARSE_VERSION_OFF) == VMDK_SESPARSE_VERSION && imgp_cur_ok(&c);
}

/* An extent file name we are willing to open: relative to the descriptor, never climbing out of its directory. */
static bool extent_name_is_safe(const char *name)
{
    if (name[0] == '/' || name[0] == '\\')
        return false;
    for (const char *p = name;;) {
        size_t n = strcspn(p, "/\\");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return false;
        if (!p[n])
            return true;
        p += n + 1;
    }
}

/* Open the extent file of descriptor extent @p de into @p e. */
static imgp_status open_extent_file(vmdk_bdev *v, imgp_image *img, const vmdk_desc_extent *de, extent *e)
{
    imgp_ctx *ctx = v->ctx;
    if (!extent_name_is_safe(de->filename))
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED,
                          "vmdk: extent file '%s' (descriptor line %u) is not a name beside the descriptor: "
                          "imgprobe opens no other file", de->filename, de->line);
    imgp_status st = imgp_source_open_related(img->src, de->filename, &e->src);
    if (st != IMGP_OK)
        return st == IMGP_ERR_NOMEM ? st : imgp_error_prefix(ctx, "vmdk: extent file '%s' (descriptor line %u): ",
                                                              de->filename, de->line);
    e->owns_src = true;
    img->info.file_size += e->src->size;
    img->info.actual_size += e->src->allocated;
    return IMGP_OK;
}

/* A SPARSE or VMFSSPARSE extent: a hosted sparse extent file (an ESX 2 COWD one is not read). */
static imgp_status open_sparse_extent_file(vmdk_bdev *v, imgp_image *img, const vmdk_desc_extent *de, extent *e)
{
    uint8_t head[VMDK_HDR_SIZE];
    size_t n = (size_t)imgp_min_u64(sizeof head, e->src->size);
    imgp_status st = imgp_source_read(e->src, 0, head, n, "vmdk sparse extent header");
    if (st != IMGP_OK)
        return st;
    if (head_is(head, n, VMDK_COWD_MAGIC))
        return imgp_image_set_unreadable(img, "extent file '%s' is an ESX 2 sparse extent (COWD), which imgprobe "
                                              "does not read", de->filename);
    if (head_is_sesparse(head, n))
        return imgp_image_set_unreadable(img, "extent file '%s' is an ESXi seSparse extent, which imgprobe does "
                                              "not read", de->filename);
    if ((st = vmdk_sparse_header_parse(v->ctx, e->label, head, n, e->src->size, false, &e->hdr)) != IMGP_OK)
        return st;
    if (e->hdr.capacity < de->sectors)
        return imgp_error(v->ctx, IMGP_ERR_CORRUPT,
                          "%s: the extent holds %llu sectors, the descriptor (line %u) maps %llu", e->label,
                          (unsigned long long)e->hdr.capacity, de->line, (unsigned long long)de->sectors);
    return finish_sparse_extent(v, img, e);
}

/* What keeps an image of this createType or extent from being read, or NULL. */
static const char *create_type_refusal(const char *type)
{
    static const char *const readable[] = {
        "monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat", "streamOptimized",
        "vmfs", "vmfsThin", "vmfsPreallocated", "vmfsEagerZeroedThick", "vmfsSparse", "seSparse", "custom",
    };
    for (size_t i = 0; i < sizeof readable / sizeof *readable; i++)
        if (strcmp(type, readable[i]) == 0)
            return NULL; /* as far as the type goes: the extents may still refuse */
    if (strcmp(type, "vmfsRaw") == 0 || strcmp(type, "vmfsRawDeviceMap") == 0 ||
        strcmp(type, "vmfsPassthroughRawDeviceMap") == 0)
        return "a raw device mapping: the data lives on a storage LUN, not in a file";
    if (strcmp(type, "fullDevice") == 0 || strcmp(type, "partitionedDevice") == 0)
        return "a disk over a host's physical device, not in a file";
    return "a createType imgprobe does not know";
}

static const char *extent_refusal(const vmdk_desc_extent *de)
{
    if (de->access == VMDK_ACCESS_NOACCESS)
        return "NOACCESS: its data may not be read";
    switch (de->type) {
    case VMDK_EXTENT_SESPARSE:
        return "an ESXi seSparse extent, which imgprobe does not read";
    case VMDK_EXTENT_VMFSRDM:
    case VMDK_EXTENT_VMFSRAW:
        return "a raw device mapping: the data lives on a storage LUN, not in a file";
    default:
        return NULL;
    }
}

/* An image described by descriptor @p d (a descriptor file, or a sparse file of capacity 0 that embeds one). */
static imgp_status open_descriptor(vmdk_bdev *v, imgp_image *img, const vmdk_descriptor *d)
{
    imgp_ctx *ctx = v->ctx;
    if (!d->create_type)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "vmdk: the descriptor has no createType");
    if (d->nextents == 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "vmdk: the descriptor lists no extents");
    img->info.virtual_size = d->total_sectors << VMDK_SECTOR_SHIFT;
    const char *why = create_type_refusal(d->create_type);
    if (why)
        return imgp_image_set_unreadable(img, "createType '%s' is %s", d->create_type, why);
    for (size_t i = 0; i < d->nextents; i++)
        if ((why = extent_refusal(&d->extents[i])) != NULL)
            return imgp_image_set_unreadable(img, "extent %zu (descriptor line %u) is %s", i + 1,
                                             d->extents[i].line, why);

    for (size_t i = 0; i < d->nextents && img->info.readable; i++) {
        const vmdk_desc_extent *de = &d->extents[i];
        extent *e;
        imgp_status st = add_extent(v, d->nextents, de->filename, de->sectors << VMDK_SECTOR_SHIFT, &e);
        if (st != IMGP_OK)
            return st;
        if (de->type == VMDK_EXTENT_ZERO) {
            e->kind = EXTENT_ZERO;
            continue;
        }
        if ((st = open_extent_file(v, img, de, e)) != IMGP_OK)
            return st;
        if (de->type == VMDK_EXTENT_SPARSE || de->type == VMDK_EXTENT_VMFSSPARSE) {
            st = open_sparse_extent_file(v, img, de, e);
        } else { /* FLAT, VMFS */
            e->kind = EXTENT_FLAT;
            e->flat_offset = de->offset << VMDK_SECTOR_SHIFT; /* the parser bounds offset + sectors */
            if (imgp_range_outside(e->flat_offset, e->length, e->src->size))
                st = imgp_error(ctx, IMGP_ERR_CORRUPT,
                                "%s: the descriptor (line %u) maps 0x%llx bytes from offset 0x%llx, the file has "
                                "0x%llx", e->label, de->line, (unsigned long long)e->length,
                                (unsigned long long)e->flat_offset, (unsigned long long)e->src->size);
        }
        if (st != IMGP_OK)
            return st;
    }
    return IMGP_OK;
}

/* A hosted sparse extent opened as the image: monolithicSparse, streamOptimized, or a bare extent. */
static imgp_status open_monolithic(vmdk_bdev *v, imgp_image *img, const vmdk_sparse_header *hdr)
{
    extent *e;
    imgp_status st = add_extent(v, 1, NULL, hdr->capacity << VMDK_SECTOR_SHIFT, &e);
    if (st != IMGP_OK)
        return st;
    e->src = img->src;
    e->hdr = *hdr;
    st = finish_sparse_extent(v, img, e);
    if (st == IMGP_OK && e->hdr.capacity != hdr->capacity) /* the footer has the last word */
        return imgp_error(v->ctx, IMGP_ERR_CORRUPT, "vmdk: header capacity %llu sectors, footer capacity %llu",
                          (unsigned long long)hdr->capacity, (unsigned long long)e->hdr.capacity);
    img->info.virtual_size = v->base.size;
    return st;
}

/* Read and parse the text of @p len bytes at @p off. */
static imgp_status read_descriptor(imgp_image *img, uint64_t off, uint64_t len, const char *label,
                                   vmdk_descriptor *d)
{
    uint64_t limit = imgp_ctx_limit(img->ctx, IMGP_LIMIT_DESCRIPTOR_BYTES);
    if (len > limit)
        return imgp_error(img->ctx, IMGP_ERR_LIMIT, "%s of %llu bytes exceeds the descriptor limit (%llu bytes)",
                          label, (unsigned long long)len, (unsigned long long)limit);
    uint8_t *buf = imgp_alloc(img->ctx, len ? (size_t)len : 1);
    if (!buf)
        return IMGP_ERR_NOMEM;
    imgp_status st = imgp_source_read(img->src, off, buf, (size_t)len, "vmdk descriptor");
    if (st == IMGP_OK)
        st = vmdk_desc_parse(img->ctx, label, buf, (size_t)len, d);
    imgp_free(img->ctx, buf);
    return st;
}

/* The facts `info` shows. */
static imgp_status add_props(imgp_image *img, const vmdk_descriptor *d, const char *create_type, size_t nextents)
{
    imgp_status st = IMGP_OK;
    if (create_type)
        st = imgp_image_add_prop(img, "create type", "%s", create_type);
    if (st == IMGP_OK && d->adapter_type)
        st = imgp_image_add_prop(img, "adapter type", "%s", d->adapter_type);
    if (st == IMGP_OK && d->hw_version)
        st = imgp_image_add_prop(img, "virtual hw version", "%s", d->hw_version);
    if (st == IMGP_OK && d->uuid)
        st = imgp_image_add_prop(img, "uuid", "%s", d->uuid);
    if (st == IMGP_OK && d->encoding)
        st = imgp_image_add_prop(img, "encoding", "%s", d->encoding);
    if (st == IMGP_OK && d->has_cid)
        st = imgp_image_add_prop(img, "cid", "%08x", d->cid);
    if (st == IMGP_OK && d->has_parent_cid)
        st = imgp_image_add_prop(img, "parent cid", "%08x", d->parent_cid);
    if (st == IMGP_OK)
        st = imgp_image_add_prop(img, "extents", "%zu", nextents);
    return st;
}

/* Open the parent named by parentFileNameHint and check that this delta was made from it. */
static imgp_status open_parent(vmdk_bdev *v, imgp_image *img, const vmdk_descriptor *d)
{
    img->info.backing_file = imgp_image_keep(img, d->parent_hint);
    img->info.backing_format = "vmdk";
    if (!img->info.backing_file)
        return IMGP_ERR_NOMEM;
    img->table_bytes = v->gd_bytes;
    imgp_status st = imgp_image_open_backing(img, d->parent_hint, "vmdk");
    if (st != IMGP_OK)
        return st;
    v->parent = img->backing->bdev;
    const vmdk_bdev *pv = v->parent->ops == &vmdk_ops ? (const vmdk_bdev *)v->parent : NULL;
    const char *mismatch = NULL;
    if (!d->has_parent_cid)
        mismatch = imgp_image_keepf(img, "the delta names parent '%s' but gives no parentCID", d->parent_hint);
    else if (!pv || !pv->has_cid)
        mismatch = imgp_image_keepf(img, "parent '%s' has no CID to match parentCID %08x", d->parent_hint,
                                    d->parent_cid);
    else if (pv->cid != d->parent_cid)
        mismatch = imgp_image_keepf(img, "parent CID mismatch: '%s' has CID %08x, the delta was made from %08x",
                                    d->parent_hint, pv->cid, d->parent_cid);
    else
        return IMGP_OK;
    if (!mismatch)
        return IMGP_ERR_NOMEM;
    v->parent_mismatch = mismatch;
    return imgp_image_add_prop(img, "parent cid mismatch", "%s", mismatch);
}

/* Recognised, not read: ESX 2 COWD and ESXi seSparse files opened directly. */
static imgp_status open_unread_sparse(imgp_image *img, const uint8_t *head, size_t len)
{
    imgp_cursor c = imgp_cur_init(head, len);
    if (head_is(head, len, VMDK_COWD_MAGIC)) {
        img->info.virtual_size = (uint64_t)imgp_cur_le32_at(&c, VMDK_COWD_NUM_SECTORS) << VMDK_SECTOR_SHIFT;
        return imgp_image_set_unreadable(img, "an ESX 2 sparse extent (COWD), which imgprobe does not read");
    }
    uint64_t capacity = imgp_cur_le64_at(&c, VMDK_SESPARSE_CAPACITY);
    if (imgp_cur_ok(&c) && capacity <= UINT64_MAX >> VMDK_SECTOR_SHIFT)
        img->info.virtual_size = capacity << VMDK_SECTOR_SHIFT;
    return imgp_image_set_unreadable(img, "an ESXi seSparse extent, which imgprobe does not read");
}

static imgp_status open_image(vmdk_bdev *v, imgp_image *img, vmdk_descriptor *d)
{
    uint8_t head[VMDK_HDR_SIZE];
    size_t n = (size_t)imgp_min_u64(sizeof head, img->src->size);
    imgp_status st = imgp_source_read(img->src, 0, head, n, "vmdk header");
    if (st != IMGP_OK)
        return st;
    if (head_is(head, n, VMDK_COWD_MAGIC) || head_is_sesparse(head, n))
        return open_unread_sparse(img, head, n);
    if (!head_is(head, n, VMDK_HDR_MAGIC)) {
        if ((st = read_descriptor(img, 0, img->src->size, "vmdk: descriptor", d)) != IMGP_OK)
            return st;
        st = open_descriptor(v, img, d);
        return st == IMGP_OK ? add_props(img, d, d->create_type, d->nextents) : st;
    }

    vmdk_sparse_header hdr;
    if ((st = vmdk_sparse_header_parse(img->ctx, "vmdk", head, n, img->src->size, false, &hdr)) != IMGP_OK)
        return st;
    if (hdr.desc_offset &&
        (st = read_descriptor(img, hdr.desc_offset << VMDK_SECTOR_SHIFT, hdr.desc_size << VMDK_SECTOR_SHIFT,
                              "vmdk: embedded descriptor", d)) != IMGP_OK)
        return st;
    if (hdr.capacity == 0 && d->nextents) {
        /* a sparse file that holds no grains, only a descriptor of other extents (as qemu reads it) */
        st = open_descriptor(v, img, d);
        return st == IMGP_OK ? add_props(img, d, d->create_type, d->nextents) : st;
    }
    if ((st = open_monolithic(v, img, &hdr)) != IMGP_OK)
        return st;
    const char *type = d->create_type ? d->create_type : hdr.compressed ? "streamOptimized" : "monolithicSparse";
    return add_props(img, d, type, 1);
}

static imgp_status vmdk_open(imgp_image *img)
{
    imgp_ctx *ctx = img->ctx;
    vmdk_bdev *v = imgp_calloc(ctx, 1, sizeof *v);
    if (!v)
        return IMGP_ERR_NOMEM;
    v->ctx = ctx;
    v->base.ops = &vmdk_ops;
    v->base.ctx = ctx;
    v->base.sector_size = VMDK_SECTOR;
    img->bdev = &v->base; /* from here on imgp_image_close() frees it */
    if (!(v->base.name = imgp_strdup(ctx, img->src->name)))
        return IMGP_ERR_NOMEM;

    vmdk_descriptor d;
    memset(&d, 0, sizeof d);
    imgp_status st = open_image(v, img, &d);
    if (st == IMGP_OK && !img->info.readable) {
        imgp_bdev_close(img->bdev);
        img->bdev = NULL;
        if (d.parent_hint && !(img->info.backing_file = imgp_image_keep(img, d.parent_hint)))
            st = IMGP_ERR_NOMEM;
        vmdk_desc_free(ctx, &d);
        return st;
    }
    if (st == IMGP_OK) {
        v->has_cid = d.has_cid;
        v->cid = d.cid;
        if (v->gt_block)
            st = imgp_cache_new(ctx, v->gt_block, VMDK_GT_CACHE_SLOTS, &v->gt_cache);
    }
    if (st == IMGP_OK && d.parent_hint)
        st = open_parent(v, img, &d);
    vmdk_desc_free(ctx, &d);
    return st;
}

/* ==== detection ==== */

/* A small text file that says createType= early on. */
static bool looks_like_descriptor(const imgp_probe_input *in)
{
    if (in->size > VMDK_PROBE_TEXT_MAX)
        return false;
    size_t n = in->head_len < VMDK_PROBE_TEXT_SCAN ? in->head_len : VMDK_PROBE_TEXT_SCAN;
    if (memchr(in->head, '\0', n))
        return false;
    static const char key[] = "createType";
    for (size_t i = 0; i + sizeof key - 1 <= n; i++) {
        if (memcmp(in->head + i, key, sizeof key - 1) != 0 || (i > 0 && in->head[i - 1] != '\n'))
            continue;
        size_t j = i + sizeof key - 1;
        while (j < n && (in->head[j] == ' ' || in->head[j] == '\t'))
            j++;
        if (j < n && in->head[j] == '=')
            return true;
    }
    return false;
}

static int vmdk_probe(const imgp_probe_input *in)
{
    if (head_is(in->head, in->head_len, VMDK_HDR_MAGIC) || head_is(in->head, in->head_len, VMDK_COWD_MAGIC) ||
        head_is_sesparse(in->head, in->head_len) || head_is(in->head, in->head_len, VMDK_DESC_SIGNATURE) ||
        looks_like_descriptor(in))
        return IMGP_SCORE_MAGIC;
    return IMGP_SCORE_NONE;
}

const imgp_format imgp_format_vmdk = {
    .name = "vmdk",
    .probe = vmdk_probe,
    .open = vmdk_open,
};
