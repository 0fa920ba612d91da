/*
 * QCOW2 reader: versions 2 and 3 as qemu writes them (docs/interop/qcow2.txt;
 * section names in brackets). The image opens into a block device that maps
 * guest offsets through the L1 and L2 tables to data clusters, compressed
 * clusters (deflate or zstd), zero clusters and unallocated ones, which read
 * from the backing image or as zeros. Parsing lives in qcow2_parse.c.
 *
 * Not read: encrypted images (recognised and reported, never read as plain
 * data) and refcounts (reading does not need them).
 */
#include <zlib.h>
#include <zstd.h>

#include "../core/cache.h"
#include "../core/cursor.h"
#include "qcow2.h"

#define HEX(x) ((unsigned long long)(x))

/* L2 tables kept in memory (fewer when the cache limit is reached with large clusters). */
#define L2_CACHE_SLOTS 64
/* A status call stops after this many L2 tables, so that the tables it read stay
 * cached for the reads that follow it; runs of empty L1 entries cost nothing. */
#define STATUS_MAX_L2_TABLES 16
/* qemu compresses one cluster (<= 2 MiB) per frame: an 8 MiB window is plenty. */
#define ZSTD_WINDOW_LOG_MAX 23
/* qemu writes raw deflate with a 4 KiB window and reads it back the same way. */
#define DEFLATE_WINDOW_BITS (-12)

typedef struct qcow2_bdev {
    imgp_bdev base;
    imgp_source *src;       /* the image file: borrowed from the image */
    imgp_source *data;      /* where guest clusters live: src or data_file */
    imgp_source *data_file; /* the external data file: owned */
    imgp_bdev *backing;     /* the backing image's device: borrowed, or NULL */
    qcow2_geometry g;
    uint8_t compression_type;
    uint64_t *l1; /* host-endian L1 entries */
    uint32_t l1_size;
    imgp_cache *l2_cache;

    /* compressed clusters: buffers and decoders made on first use; the last cluster stays */
    uint8_t *compressed;   /* 2 clusters: the most a descriptor spans */
    uint8_t *decompressed; /* 1 cluster */
    bool decompressed_valid;
    uint64_t decompressed_host, decompressed_csize; /* which descriptor it holds */
    z_stream zs;
    bool zs_ready;
    ZSTD_DCtx *zd;
} qcow2_bdev;

/* What a run of guest bytes maps to. */
typedef enum run_kind {
    RUN_DATA,        /* host-contiguous data (for status: any data) */
    RUN_COMPRESSED,  /* part of one compressed cluster */
    RUN_ZERO,        /* reads as zeros */
    RUN_UNALLOCATED, /* reads from the backing image, or as zeros */
} run_kind;

typedef struct qcow2_run {
    run_kind kind;
    uint64_t len;
    uint64_t host;          /* RUN_DATA: host offset of the first byte */
    qcow2_mapping map;      /* RUN_COMPRESSED: its descriptor */
    uint64_t cluster_guest; /* RUN_COMPRESSED: guest offset of its cluster */
} qcow2_run;

/* ---- the mapping ---- */

static imgp_status fill_l2(void *arg, uint64_t key, uint8_t *buf)
{
    qcow2_bdev *q = arg;
    return imgp_source_read(q->src, key, buf, (size_t)q->g.cluster_size, "qcow2 L2 table");
}

/* The L2 table for the guest offset @p guest, through the cache. */
static imgp_status load_l2(qcow2_bdev *q, uint64_t guest, const uint8_t **out)
{
    uint64_t l1_index = guest >> (q->g.cluster_bits + q->g.l2_bits);
    if (l1_index >= q->l1_size) /* the open checked that the L1 table covers the disk */
        return imgp_error(q->base.ctx, IMGP_ERR_CORRUPT, "%s: qcow2: guest offset 0x%llx is beyond the L1 table",
                          q->base.name, HEX(guest));
    uint64_t l2_offset = q->l1[l1_index] & QCOW2_L1_OFFSET_MASK;
    if (l2_offset & (q->g.cluster_size - 1))
        return imgp_error(q->base.ctx, IMGP_ERR_CORRUPT,
                          "%s: qcow2: L1 entry %llu (guest offset 0x%llx): L2 table offset 0x%llx is not aligned "
                          "to the cluster size (0x%llx)", q->base.name, HEX(l1_index), HEX(guest),
                          HEX(l2_offset), HEX(q->g.cluster_size));
    if (imgp_range_outside(l2_offset, q->g.cluster_size, q->src->size))
        return imgp_error(q->base.ctx, IMGP_ERR_CORRUPT,
                          "%s: qcow2: L2 table at 0x%llx (guest offset 0x%llx) lies past the end of the file "
                          "(size 0x%llx)", q->base.name, HEX(l2_offset), HEX(guest), HEX(q->src->size));
    return imgp_cache_get(q->l2_cache, l2_offset, fill_l2, q, out);
}

/* Add @p piece bytes of @p kind (data at @p host) to the run. @return false when they do not continue it. */
static bool run_add(qcow2_run *r, run_kind kind, uint64_t host, uint64_t piece, bool for_status)
{
    if (for_status && kind == RUN_COMPRESSED)
        kind = RUN_DATA;
    if (r->len == 0) {
        r->kind = kind;
        r->host = host;
        r->len = piece;
        return true;
    }
    if (kind != r->kind)
        return false;
    /* reads need one host range per run, and decompress one cluster at a time */
    if (!for_status && (kind == RUN_COMPRESSED || (kind == RUN_DATA && host != r->host + r->len)))
        return false;
    r->len += piece;
    return true;
}

/*
 * The run of guest bytes at @p off (at most @p len) that reads the same way:
 * for reading, one host range, one compressed cluster, zeros, or the backing
 * image; for status, data (compressed or not), zeros, or unallocated.
 * Adjacent clusters and subclusters join across L2 entries and tables; an
 * empty L1 entry adds its whole range at once.
 */
static imgp_status find_run(qcow2_bdev *q, uint64_t off, uint64_t len, bool for_status, qcow2_run *r)
{
    const qcow2_geometry *g = &q->g;
    imgp_ctx *ctx = q->base.ctx;
    unsigned l1_shift = g->cluster_bits + g->l2_bits;
    uint64_t end = off + len; /* inside the device, whose size is below 2^63 */
    uint64_t pos = off;
    unsigned tables = 0;
    memset(r, 0, sizeof *r);

    while (pos < end) {
        uint64_t l1_index = pos >> l1_shift;
        uint64_t table_end = imgp_min_u64(end, (l1_index + 1) << l1_shift);
        if (l1_index < q->l1_size && (q->l1[l1_index] & QCOW2_L1_OFFSET_MASK) == 0) {
            /* [L1 table entry]: offset 0, the whole L2 range is unallocated */
            if (!run_add(r, RUN_UNALLOCATED, 0, table_end - pos, for_status))
                return IMGP_OK;
            pos = table_end;
            continue;
        }
        if (for_status && tables >= STATUS_MAX_L2_TABLES)
            return IMGP_OK; /* r->len > 0: the first table always counts */
        tables++;
        const uint8_t *l2;
        imgp_status st = load_l2(q, pos, &l2);
        if (st != IMGP_OK)
            return st;
        imgp_cursor c = imgp_cur_init(l2, (size_t)g->cluster_size);

        while (pos < table_end) {
            uint64_t cluster = pos & ~(g->cluster_size - 1);
            uint64_t cluster_end = imgp_min_u64(table_end, cluster + g->cluster_size);
            size_t at = (size_t)((pos >> g->cluster_bits) & ((1ull << g->l2_bits) - 1)) * g->l2_entry_size;
            uint64_t entry = imgp_cur_be64_at(&c, at);
            uint64_t bitmap = g->extended_l2 ? imgp_cur_be64_at(&c, at + 8) : 0;
            qcow2_mapping m;
            if ((st = qcow2_decode_l2_entry(ctx, g, cluster, entry, bitmap, &m)) != IMGP_OK)
                return imgp_error_prefix(ctx, "%s: ", q->base.name);

            if (m.compressed) {
                if (!run_add(r, RUN_COMPRESSED, 0, cluster_end - pos, for_status))
                    return IMGP_OK;
                if (r->kind == RUN_COMPRESSED) {
                    r->map = m;
                    r->cluster_guest = cluster;
                }
                pos = cluster_end;
                continue;
            }
            while (pos < cluster_end) {
                unsigned sc = (unsigned)((pos - cluster) >> g->subcluster_bits);
                uint64_t sc_end = imgp_min_u64(cluster_end, cluster + ((uint64_t)(sc + 1) << g->subcluster_bits));
                uint64_t host = 0;
                run_kind kind = RUN_UNALLOCATED;
                if (m.data_mask >> sc & 1) {
                    kind = RUN_DATA;
                    host = m.host_offset + (pos - cluster);
                    if (imgp_range_outside(host, sc_end - pos, g->data_size))
                        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                                          "%s: qcow2: L2 entry for guest offset 0x%llx: data at host offset "
                                          "0x%llx (%llu bytes) lies past the end of the %s (size 0x%llx)",
                                          q->base.name, HEX(pos), HEX(host), (unsigned long long)(sc_end - pos),
                                          g->external_data ? "external data file" : "file", HEX(g->data_size));
                } else if (m.zero_mask >> sc & 1) {
                    kind = RUN_ZERO;
                }
                if (!run_add(r, kind, host, sc_end - pos, for_status))
                    return IMGP_OK;
                pos = sc_end;
            }
        }
    }
    return IMGP_OK;
}

/* ---- compressed clusters ---- */

static voidpf zlib_alloc(voidpf opaque, uInt items, uInt size) { return imgp_calloc(opaque, items, size); }
static void zlib_free(voidpf opaque, voidpf p) { imgp_free(opaque, p); }

/* Decompress @p n bytes of compressed into one cluster; NULL on success, else why not. */
static const char *inflate_cluster(qcow2_bdev *q, size_t n, imgp_status *st)
{
    z_stream *zs = &q->zs;
    if (!q->zs_ready) {
        memset(zs, 0, sizeof *zs);
        zs->zalloc = zlib_alloc;
        zs->zfree = zlib_free;
        zs->opaque = q->base.ctx;
        int rc = inflateInit2(zs, DEFLATE_WINDOW_BITS);
        if (rc != Z_OK) {
            *st = rc == Z_MEM_ERROR ? IMGP_ERR_NOMEM : IMGP_ERR_CORRUPT;
            return "the deflate decoder could not start";
        }
        q->zs_ready = true;
    } else if (inflateReset(zs) != Z_OK) {
        return "the deflate decoder could not restart";
    }
    zs->next_in = q->compressed;
    zs->avail_in = (uInt)n;
    zs->next_out = q->decompressed;
    zs->avail_out = (uInt)q->g.cluster_size;
    int rc = inflate(zs, Z_FINISH);
    if (rc == Z_MEM_ERROR) {
        *st = IMGP_ERR_NOMEM;
        return "out of memory";
    }
    /* as qemu: the stream must fill the cluster; it may end there or run on into the padding */
    if ((rc == Z_STREAM_END || rc == Z_BUF_ERROR) && zs->avail_out == 0)
        return NULL;
    if (rc == Z_STREAM_END || rc == Z_BUF_ERROR || rc == Z_OK)
        return "the deflate stream ends before a whole cluster";
    return zs->msg ? zs->msg : "invalid deflate data";
}

static const char *unzstd_cluster(qcow2_bdev *q, size_t n, imgp_status *st)
{
    if (!q->zd) {
        q->zd = ZSTD_createDCtx();
        if (!q->zd) {
            *st = IMGP_ERR_NOMEM;
            return "out of memory for the zstd decoder";
        }
        if (ZSTD_isError(ZSTD_DCtx_setParameter(q->zd, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX)))
            return "the zstd decoder could not be set up";
    } else if (ZSTD_isError(ZSTD_DCtx_reset(q->zd, ZSTD_reset_session_only))) {
        return "the zstd decoder could not restart";
    }
    ZSTD_inBuffer in = {q->compressed, n, 0};
    ZSTD_outBuffer out = {q->decompressed, (size_t)q->g.cluster_size, 0};
    while (out.pos < out.size) {
        size_t in_before = in.pos, out_before = out.pos;
        size_t rc = ZSTD_decompressStream(q->zd, &out, &in);
        if (ZSTD_isError(rc))
            return ZSTD_getErrorName(rc);
        if (in.pos == in_before && out.pos == out_before)
            return "the zstd stream ends before a whole cluster";
    }
    return NULL;
}

/* Make q->decompressed hold the compressed cluster @p m of the guest cluster at @p guest. */
static imgp_status decompress(qcow2_bdev *q, const qcow2_mapping *m, uint64_t guest)
{
    if (q->decompressed_valid && q->decompressed_host == m->host_offset &&
        q->decompressed_csize == m->compressed_size)
        return IMGP_OK;
    q->decompressed_valid = false;
    imgp_ctx *ctx = q->base.ctx;
    if (!q->compressed) {
        q->compressed = imgp_alloc(ctx, (size_t)q->g.cluster_size * 2);
        if (!q->compressed)
            return IMGP_ERR_NOMEM;
    }
    if (!q->decompressed) {
        q->decompressed = imgp_alloc(ctx, (size_t)q->g.cluster_size);
        if (!q->decompressed)
            return IMGP_ERR_NOMEM;
    }
    /* the descriptor spans at most 2 clusters; its last sector may be cut off by the end of the file */
    size_t n = (size_t)m->compressed_size;
    imgp_status st = imgp_source_read_zfill(q->data, m->host_offset, q->compressed, n, "qcow2 compressed cluster");
    if (st != IMGP_OK)
        return st;
    st = IMGP_ERR_CORRUPT;
    const char *why =
        q->compression_type == QCOW2_COMPRESSION_ZSTD ? unzstd_cluster(q, n, &st) : inflate_cluster(q, n, &st);
    if (why)
        return imgp_error(ctx, st,
                          "%s: qcow2: compressed cluster at guest offset 0x%llx (host offset 0x%llx, %zu bytes, "
                          "%s) does not decompress: %s", q->base.name, HEX(guest), HEX(m->host_offset), n,
                          q->compression_type == QCOW2_COMPRESSION_ZSTD ? "zstd" : "deflate", why);
    q->decompressed_valid = true;
    q->decompressed_host = m->host_offset;
    q->decompressed_csize = m->compressed_size;
    return IMGP_OK;
}

/* ---- the block device ---- */

/* [Cluster mapping]: unallocated reads go to the backing image; past its end, or without one, zeros. */
static imgp_status read_backing(qcow2_bdev *q, uint64_t off, uint8_t *p, size_t n)
{
    size_t from_backing = 0;
    if (q->backing && off < q->backing->size) {
        from_backing = (size_t)imgp_min_u64(n, q->backing->size - off);
        imgp_status st = imgp_bdev_read(q->backing, off, p, from_backing);
        if (st != IMGP_OK)
            return st;
    }
    memset(p + from_backing, 0, n - from_backing);
    return IMGP_OK;
}

static imgp_status qcow2_read(imgp_bdev *bd, uint64_t off, void *buf, size_t len)
{
    qcow2_bdev *q = (qcow2_bdev *)bd;
    uint8_t *p = buf;
    while (len > 0) {
        qcow2_run r;
        imgp_status st = find_run(q, off, len, false, &r);
        if (st != IMGP_OK)
            return st;
        size_t n = (size_t)r.len; /* <= len */
        switch (r.kind) {
        case RUN_DATA:
            st = imgp_source_read(q->data, r.host, p, n, "qcow2 data cluster");
            break;
        case RUN_COMPRESSED:
            st = decompress(q, &r.map, r.cluster_guest);
            if (st == IMGP_OK)
                memcpy(p, q->decompressed + (off - r.cluster_guest), n);
            break;
        case RUN_ZERO:
            memset(p, 0, n);
            break;
        case RUN_UNALLOCATED:
            st = read_backing(q, off, p, n);
            break;
        }
        if (st != IMGP_OK)
            return st;
        off += n;
        p += n;
        len -= n;
    }
    return IMGP_OK;
}

static imgp_status qcow2_status(imgp_bdev *bd, uint64_t off, uint64_t len, imgp_extent_kind *kind, uint64_t *run)
{
    qcow2_bdev *q = (qcow2_bdev *)bd;
    qcow2_run r;
    imgp_status st = find_run(q, off, len, true, &r);
    if (st != IMGP_OK)
        return st;
    *run = r.len;
    switch (r.kind) {
    case RUN_DATA:
    case RUN_COMPRESSED:
        *kind = IMGP_EXTENT_DATA;
        return IMGP_OK;
    case RUN_ZERO:
        *kind = IMGP_EXTENT_ZERO;
        return IMGP_OK;
    case RUN_UNALLOCATED:
        break;
    }
    if (q->backing && off < q->backing->size)
        return imgp_bdev_status(q->backing, off, imgp_min_u64(r.len, q->backing->size - off), kind, run);
    *kind = IMGP_EXTENT_UNALLOCATED;
    return IMGP_OK;
}

static void qcow2_close(imgp_bdev *bd)
{
    qcow2_bdev *q = (qcow2_bdev *)bd;
    imgp_ctx *ctx = bd->ctx;
    if (q->zs_ready)
        inflateEnd(&q->zs);
    ZSTD_freeDCtx(q->zd);
    imgp_free(ctx, q->compressed);
    imgp_free(ctx, q->decompressed);
    imgp_cache_free(q->l2_cache);
    imgp_free(ctx, q->l1);
    imgp_source_close(q->data_file);
    imgp_free(ctx, bd->name);
    imgp_free(ctx, q);
}

static const imgp_bdev_ops qcow2_ops = {
    .kind = "qcow2",
    .read = qcow2_read,
    .status = qcow2_status,
    .close = qcow2_close,
};

/* ---- opening ---- */

/* Keep @p n bytes (not NUL-terminated, no NUL inside) as a string of the image. */
static const char *keep_bytes(imgp_image *img, const uint8_t *p, size_t n)
{
    char *s = imgp_strndup(img->ctx, (const char *)p, n);
    if (!s)
        return NULL;
    const char *kept = imgp_image_keep(img, s);
    imgp_free(img->ctx, s);
    return kept;
}

/* What `info` shows, with the names qemu-img info gives them. */
static imgp_status fill_info(imgp_image *img, const qcow2_header *h, const qcow2_extensions *ext,
                             const uint8_t *first_cluster, const char **data_file)
{
    imgp_image_info *in = &img->info;
    in->virtual_size = h->size;
    in->cluster_size = 1u << h->cluster_bits;
    in->compression = h->compression_type == QCOW2_COMPRESSION_ZSTD ? "zstd" : "zlib";
    in->dirty = h->incompatible_features & QCOW2_INCOMPAT_DIRTY;
    in->corrupt = h->incompatible_features & QCOW2_INCOMPAT_CORRUPT;
    in->encrypted = h->crypt_method != QCOW2_CRYPT_NONE;

    /* qemu reads an empty backing file name as no backing file */
    if (h->backing_file_offset != 0 && h->backing_file_size != 0) {
        const uint8_t *name = first_cluster + h->backing_file_offset; /* checked by qcow2_parse_header */
        if (memchr(name, 0, h->backing_file_size))
            return imgp_error(img->ctx, IMGP_ERR_CORRUPT, "qcow2: backing file name at 0x%llx contains a NUL byte",
                              HEX(h->backing_file_offset));
        if (!(in->backing_file = keep_bytes(img, name, h->backing_file_size)))
            return IMGP_ERR_NOMEM;
        if (ext->backing_format && ext->backing_format_len &&
            !(in->backing_format = keep_bytes(img, ext->backing_format, ext->backing_format_len)))
            return IMGP_ERR_NOMEM;
    }
    *data_file = NULL;
    bool has_data_file = h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE;
    if (has_data_file && !(*data_file = keep_bytes(img, ext->data_file, ext->data_file_len)))
        return IMGP_ERR_NOMEM;

    bool v3 = h->version >= 3;
    imgp_status st = imgp_image_add_prop(img, "compat", "%s", v3 ? "1.1" : "0.10");
    if (st == IMGP_OK)
        st = imgp_image_add_prop(img, "compression type", "%s", in->compression);
    if (st == IMGP_OK && v3)
        st = imgp_image_add_prop(img, "lazy refcounts", "%s",
                                 h->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS ? "true" : "false");
    if (st == IMGP_OK)
        st = imgp_image_add_prop(img, "refcount bits", "%u", 1u << h->refcount_order);
    if (st == IMGP_OK && has_data_file)
        st = imgp_image_add_prop(img, "data file", "%s", *data_file);
    if (st == IMGP_OK && has_data_file)
        st = imgp_image_add_prop(img, "data file raw", "%s",
                                 h->autoclear_features & QCOW2_AUTOCLEAR_DATA_FILE_RAW ? "true" : "false");
    if (st == IMGP_OK && v3)
        st = imgp_image_add_prop(img, "corrupt", "%s", in->corrupt ? "true" : "false");
    if (st == IMGP_OK && v3)
        st = imgp_image_add_prop(img, "extended l2", "%s",
                                 h->incompatible_features & QCOW2_INCOMPAT_EXTENDED_L2 ? "true" : "false");
    /* [Header] bit 1: must not be written to; reading it is how one inspects the damage */
    if (st == IMGP_OK && in->corrupt)
        st = imgp_image_add_prop(img, "note", "marked corrupt by its writer: read for inspection only, its "
                                              "metadata may be inconsistent");
    return st;
}

/* [Snapshots]: list the internal snapshots, each entry checked to lie in the file. */
static imgp_status list_snapshots(imgp_image *img, const qcow2_header *h)
{
    imgp_ctx *ctx = img->ctx;
    if (h->nb_snapshots == 0)
        return IMGP_OK;
    uint64_t limit = imgp_ctx_limit(ctx, IMGP_LIMIT_SNAPSHOTS);
    if (h->nb_snapshots > limit)
        return imgp_error(ctx, IMGP_ERR_LIMIT, "qcow2: %u internal snapshots exceed the limit of %llu",
                          h->nb_snapshots, (unsigned long long)limit);
    /* the largest entry: fixed part, extra data, 16-bit id and name lengths */
    size_t max_entry = QCOW2_SN_FIXED_SIZE + QCOW2_SN_MAX_EXTRA_DATA + 2 * UINT16_MAX;
    uint8_t *entry = imgp_alloc(ctx, max_entry);
    if (!entry)
        return IMGP_ERR_NOMEM;
    imgp_status st = IMGP_OK;
    uint64_t pos = h->snapshots_offset;
    for (uint32_t i = 0; i < h->nb_snapshots && st == IMGP_OK; i++) {
        /* each entry starts 8-aligned; pos <= file size, far below 2^64 - 8 */
        pos = (pos + QCOW2_SN_ALIGN - 1) & ~(uint64_t)(QCOW2_SN_ALIGN - 1);
        size_t n;
        qcow2_snapshot_entry e;
        if (imgp_range_outside(pos, QCOW2_SN_FIXED_SIZE, img->src->size)) {
            st = imgp_error(ctx, IMGP_ERR_CORRUPT,
                            "qcow2: snapshot table entry %u at 0x%llx lies past the end of the file (size 0x%llx)",
                            i, HEX(pos), HEX(img->src->size));
            break;
        }
        st = imgp_source_read(img->src, pos, entry, QCOW2_SN_FIXED_SIZE, "qcow2 snapshot table entry");
        if (st == IMGP_OK)
            st = qcow2_snapshot_entry_length(ctx, entry, QCOW2_SN_FIXED_SIZE, &n);
        if (st == IMGP_OK && imgp_range_outside(pos, n, img->src->size))
            st = imgp_error(ctx, IMGP_ERR_CORRUPT,
                            "qcow2: snapshot table entry %u at 0x%llx (%zu bytes) lies past the end of the file "
                            "(size 0x%llx)", i, HEX(pos), n, HEX(img->src->size));
        if (st == IMGP_OK)
            st = imgp_source_read(img->src, pos, entry, n, "qcow2 snapshot table entry");
        if (st == IMGP_OK)
            st = qcow2_parse_snapshot_entry(ctx, entry, n, &e);
        if (st != IMGP_OK)
            break;
        char *id = imgp_strndup(ctx, (const char *)e.id, e.id_len);
        char *name = id ? imgp_strndup(ctx, (const char *)e.name, e.name_len) : NULL;
        if (!name) {
            st = IMGP_ERR_NOMEM;
        } else {
            imgp_snapshot snap = {
                .id = id,
                .name = name,
                .vm_state_size = e.vm_state_size,
                .disk_size = e.disk_size,
                .date_sec = e.date_sec,
                .date_nsec = e.date_nsec,
                .vm_clock_nsec = e.vm_clock_nsec,
            };
            st = imgp_image_add_snapshot(img, &snap);
        }
        imgp_free(ctx, id);
        imgp_free(ctx, name);
        pos += n;
    }
    imgp_free(ctx, entry);
    return st;
}

/* qemu's format names, where ours differ. */
static const char *our_format_name(const char *qemu_name)
{
    return qemu_name && strcmp(qemu_name, "vpc") == 0 ? "vhd" : qemu_name;
}

static imgp_status open_device(imgp_image *img, const qcow2_header *h, const char *data_file)
{
    imgp_ctx *ctx = img->ctx;
    qcow2_bdev *q = imgp_calloc(ctx, 1, sizeof *q);
    if (!q)
        return IMGP_ERR_NOMEM;
    q->base.ops = &qcow2_ops;
    q->base.ctx = ctx;
    q->base.size = h->size;
    q->base.sector_size = 512;
    img->bdev = &q->base; /* from here on, imgp_image_close() frees it on failure */
    if (!(q->base.name = imgp_strdup(ctx, img->src->name)))
        return IMGP_ERR_NOMEM;
    q->src = img->src;
    q->data = img->src;
    q->compression_type = h->compression_type;

    imgp_status st;
    if (data_file) {
        if ((st = imgp_source_open_related(img->src, data_file, &q->data_file)) != IMGP_OK)
            return imgp_error_prefix(ctx, "qcow2: external data file '%s': ", data_file);
        q->data = q->data_file;
    }
    qcow2_geometry_init(&q->g, h, q->data->size);

    /* the active L1 table, read once: at most IMGP_LIMIT_TABLE_BYTES (qcow2_parse_header) */
    size_t l1_bytes = (size_t)h->l1_size * QCOW2_L1_ENTRY_SIZE;
    if (!(q->l1 = imgp_alloc(ctx, l1_bytes)))
        return IMGP_ERR_NOMEM;
    if ((st = imgp_source_read(img->src, h->l1_table_offset, q->l1, l1_bytes, "qcow2 L1 table")) != IMGP_OK)
        return st;
    imgp_cursor c = imgp_cur_init(q->l1, l1_bytes);
    for (uint32_t i = 0; i < h->l1_size; i++)
        q->l1[i] = imgp_cur_be64_at(&c, (size_t)i * QCOW2_L1_ENTRY_SIZE); /* in place: entry i is read first */
    q->l1_size = h->l1_size;
    img->table_bytes = l1_bytes;

    if ((st = imgp_cache_new(ctx, (size_t)q->g.cluster_size, L2_CACHE_SLOTS, &q->l2_cache)) != IMGP_OK)
        return st;

    if (img->info.backing_file) {
        /* a given backing format is forced: a raw backing file must never be probed as something else */
        if ((st = imgp_image_open_backing(img, img->info.backing_file, our_format_name(img->info.backing_format))) !=
            IMGP_OK)
            return st;
        q->backing = img->backing->bdev;
    }
    return IMGP_OK;
}

static imgp_status qcow2_open(imgp_image *img)
{
    imgp_ctx *ctx = img->ctx;
    imgp_source *src = img->src;
    if (src->size < QCOW2_HDR_V2_LENGTH)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: the file has %llu bytes, fewer than a header (%u)",
                          (unsigned long long)src->size, QCOW2_HDR_V2_LENGTH);

    /* The header lies in the first cluster: learn the cluster size, then parse that whole cluster. */
    uint8_t prefix[QCOW2_HDR_V3_MIN_LENGTH];
    imgp_status st = imgp_source_read_zfill(src, 0, prefix, sizeof prefix, "qcow2 header");
    if (st != IMGP_OK)
        return st;
    imgp_cursor pc = imgp_cur_init(prefix, sizeof prefix);
    uint32_t cluster_bits = imgp_cur_be32_at(&pc, QCOW2_HDR_CLUSTER_BITS);
    qcow2_header h;
    qcow2_extensions ext;
    if (cluster_bits < QCOW2_MIN_CLUSTER_BITS || cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        st = qcow2_parse_header(ctx, prefix, sizeof prefix, &h); /* names what is wrong first */
        return st != IMGP_OK ? st : imgp_error(ctx, IMGP_ERR_CORRUPT, "qcow2: bad cluster_bits %u", cluster_bits);
    }
    size_t cluster_size = (size_t)1 << cluster_bits;
    uint8_t *first = imgp_alloc(ctx, cluster_size);
    if (!first)
        return IMGP_ERR_NOMEM;
    /* qemu reads past the end of a short file as zeros: the extension walk sees an end marker */
    st = imgp_source_read_zfill(src, 0, first, cluster_size, "qcow2 header cluster");
    if (st == IMGP_OK)
        st = qcow2_parse_first_cluster(ctx, first, cluster_size, &h, &ext);
    if (st == IMGP_OK)
        st = qcow2_check_layout(ctx, &h, src->size);
    const char *data_file = NULL;
    if (st == IMGP_OK)
        st = fill_info(img, &h, &ext, first, &data_file);
    imgp_free(ctx, first); /* ext points into it: not used past here */
    if (st == IMGP_OK)
        st = list_snapshots(img, &h);
    if (st != IMGP_OK)
        return st;

    /* [Data encryption]: recognised and reported; never read as plain data */
    if (h.crypt_method != QCOW2_CRYPT_NONE)
        return imgp_image_set_unreadable(img, "encrypted (%s) qcow2 images are not supported",
                                         h.crypt_method == QCOW2_CRYPT_LUKS ? "LUKS" : "AES");
    return open_device(img, &h, data_file);
}

static int qcow2_probe(const imgp_probe_input *in)
{
    imgp_cursor c = imgp_cur_init(in->head, in->head_len);
    uint32_t magic = imgp_cur_be32_at(&c, QCOW2_HDR_MAGIC);
    uint32_t version = imgp_cur_be32_at(&c, QCOW2_HDR_VERSION);
    if (!imgp_cur_ok(&c) || magic != QCOW2_MAGIC)
        return IMGP_SCORE_NONE;
    /* version 1 belongs to the qcow reader; unknown later versions are ours to refuse by name */
    return version == 1 ? IMGP_SCORE_NONE : IMGP_SCORE_MAGIC;
}

const imgp_format imgp_format_qcow2 = {
    .name = "qcow2",
    .probe = qcow2_probe,
    .open = qcow2_open,
};
