/*
 * LVM2 volume groups: the model read from the text metadata tree
 * (lib/format_text/import_vsn1.c reads the same fields), and the device of a
 * logical volume made of linear and striped segments.
 *
 *   vg {                                  extent_size (sectors), seqno, id
 *     physical_volumes { pv0 { id, pe_start (sectors), pe_count } ... }
 *     logical_volumes {
 *       lv { id, status = [..., "VISIBLE"], segment_count,
 *            segment1 { start_extent, extent_count, type = "striped",
 *                       stripe_count, stripe_size (sectors),
 *                       stripes = [ "pv0", first_pe, "pv1", first_pe ... ] } } } }
 *
 * A striped segment of N stripes maps like device-mapper's dm-stripe: chunk c
 * of the segment (stripe_size sectors each) is chunk c / N of stripe c % N.
 * One stripe is linear; lvm2 writes linear segments as "striped" with
 * stripe_count = 1 and no stripe_size.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lvm.h"

/* ---- reading fields ---- */

static bool get_int(const lvm_meta_node *sec, const char *key, int64_t *out)
{
    const lvm_meta_node *n = lvm_meta_get(sec, key);
    if (!n || n->kind != LVM_META_INT)
        return false;
    *out = n->num;
    return true;
}

/* A non-negative integer field. */
static bool get_u64(const lvm_meta_node *sec, const char *key, uint64_t *out)
{
    int64_t v;
    if (!get_int(sec, key, &v) || v < 0)
        return false;
    *out = (uint64_t)v;
    return true;
}

static const char *get_str(const lvm_meta_node *sec, const char *key)
{
    const lvm_meta_node *n = lvm_meta_get(sec, key);
    return n && n->kind == LVM_META_STRING ? n->str : NULL;
}

/* True when the array @p key of @p sec holds the string @p flag. */
static bool has_flag(const lvm_meta_node *sec, const char *key, const char *flag)
{
    const lvm_meta_node *n = lvm_meta_get(sec, key);
    if (!n || n->kind != LVM_META_ARRAY)
        return false;
    for (const lvm_meta_node *e = n->child; e; e = e->next)
        if (e->kind == LVM_META_STRING && strcmp(e->str, flag) == 0)
            return true;
    return false;
}

/* Strip the dashes of a printed id into @p out (dashes only group it for people); false unless
 * 32 valid characters remain. */
static bool id_read(const char *s, char *out)
{
    size_t n = 0;
    for (; *s; s++) {
        if (*s == '-')
            continue;
        if (n == LVM_ID_LEN || !lvm_id_char((unsigned char)*s))
            return false;
        out[n++] = *s;
    }
    out[n] = '\0';
    return n == LVM_ID_LEN;
}

/* lib/misc/lvm-string.c validate_name: the VG and LV names lvm2 accepts (so none holds a '/'). */
static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 127 || s[0] == '-' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '+' ||
              *s == '_' || *s == '.' || *s == '-'))
            return false;
    return true;
}

static void lv_unreadable(lvm_lv *lv, const char *fmt, ...) IMGP_PRINTF(2, 3);

/* Record why @p lv cannot be read; the first reason stays. */
static void lv_unreadable(lvm_lv *lv, const char *fmt, ...)
{
    if (lv->unreadable)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lv->reason, sizeof lv->reason, fmt, ap);
    va_end(ap);
    lv->unreadable = lv->reason;
}

/* Segment types that exist but are not read, and what to call them. */
static const struct {
    const char *type;
    bool prefix; /* matches every type that starts with it ("raid1", "raid5_ls") */
    const char *what;
} other_types[] = {
    {"thin-pool", false, "a thin pool"},
    {"thin", false, "a thin volume"},
    {"raid", true, "a RAID volume"},
    {"mirror", false, "a mirror"},
    {"snapshot", false, "a snapshot"},
    {"cache-pool", false, "a cache pool"},
    {"cache", false, "a cached volume"},
    {"writecache", false, "a cached volume"},
    {"vdo-pool", false, "a VDO pool"},
    {"vdo", false, "a VDO volume"},
    {"integrity", false, "an integrity volume"},
    {"error", false, "a volume whose reads fail"},
};

static const char *other_type_what(const char *type)
{
    for (size_t i = 0; i < sizeof other_types / sizeof other_types[0]; i++) {
        size_t n = strlen(other_types[i].type);
        if (other_types[i].prefix ? strncmp(type, other_types[i].type, n) == 0
                                  : strcmp(type, other_types[i].type) == 0)
            return other_types[i].what;
    }
    return NULL;
}

/* ---- names looked up in sorted order (a hostile VG may list many) ---- */

typedef struct name_index {
    const char *name;
    size_t i; /* position in the VG's list */
} name_index;

static int cmp_name_index(const void *a, const void *b)
{
    const name_index *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The first entry named @p name, or SIZE_MAX. */
static size_t find_name(const name_index *idx, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(idx[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(idx[lo].name, name) == 0 ? idx[lo].i : SIZE_MAX;
}

static imgp_status sorted_names(imgp_ctx *ctx, size_t n, const char *(*name_of)(const lvm_vg *, size_t),
                                const lvm_vg *vg, name_index **out)
{
    *out = imgp_calloc(ctx, n ? n : 1, sizeof **out);
    if (!*out)
        return IMGP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        (*out)[i] = (name_index){name_of(vg, i), i};
    qsort(*out, n, sizeof **out, cmp_name_index);
    return IMGP_OK;
}

static const char *pv_name_of(const lvm_vg *vg, size_t i) { return vg->pvs[i].name; }
static const char *lv_name_of(const lvm_vg *vg, size_t i) { return vg->lvs[i].name; }

/* ---- the model ---- */

static imgp_status read_pvs(imgp_ctx *ctx, lvm_vg *vg, const lvm_meta_node *pvsec)
{
    uint64_t extent_bytes = vg->extent_size * LVM_SECTOR;
    vg->pvs = imgp_calloc(ctx, pvsec->nchildren ? pvsec->nchildren : 1, sizeof *vg->pvs);
    if (!vg->pvs)
        return IMGP_ERR_NOMEM;
    for (const lvm_meta_node *n = pvsec->child; n; n = n->next) {
        if (n->kind != LVM_META_SECTION)
            continue;
        lvm_pv *pv = &vg->pvs[vg->npvs];
        pv->name = n->key;
        const char *id = get_str(n, "id");
        if (!id || !id_read(id, pv->uuid))
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 metadata: line %u: physical volume %s has no valid id",
                              n->line, n->key);
        uint64_t data_end, data_bytes;
        if (!get_u64(n, "pe_start", &pv->pe_start) || !get_u64(n, "pe_count", &pv->pe_count))
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "lvm2 metadata: line %u: physical volume %s lacks pe_start or pe_count", n->line,
                              n->key);
        if (pv->pe_start > UINT64_MAX / LVM_SECTOR || imgp_mul_overflow(pv->pe_count, extent_bytes, &data_bytes) ||
            imgp_add_overflow(pv->pe_start * LVM_SECTOR, data_bytes, &data_end))
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "lvm2 metadata: line %u: physical volume %s: pe_start %llu and %llu extents of "
                              "%llu sectors overflow",
                              n->line, n->key, (unsigned long long)pv->pe_start, (unsigned long long)pv->pe_count,
                              (unsigned long long)vg->extent_size);
        vg->npvs++;
    }
    return IMGP_OK;
}

static imgp_status read_stripes(imgp_ctx *ctx, const lvm_vg *vg, const name_index *pv_idx, const lvm_meta_node *sn,
                                lvm_lv *lv, lvm_segment *seg)
{
    uint64_t extent_bytes = vg->extent_size * LVM_SECTOR;
    int64_t count;
    if (!get_int(sn, "stripe_count", &count) || count < 1 || count > (int64_t)LVM_MAX_STRIPES) {
        lv_unreadable(lv, "segment at line %u: stripe_count is missing or not 1..%u", sn->line, LVM_MAX_STRIPES);
        return IMGP_OK;
    }
    seg->stripe_count = (uint32_t)count;
    const lvm_meta_node *arr = lvm_meta_get(sn, "stripes");
    if (!arr || arr->kind != LVM_META_ARRAY || arr->nchildren != 2 * (size_t)count) {
        lv_unreadable(lv, "segment at line %u: stripes does not list %u (PV, extent) pairs", sn->line,
                      seg->stripe_count);
        return IMGP_OK;
    }
    if (seg->extent_count % seg->stripe_count) {
        lv_unreadable(lv, "segment at line %u: %llu extents do not divide into %u stripes", sn->line,
                      (unsigned long long)seg->extent_count, seg->stripe_count);
        return IMGP_OK;
    }
    uint64_t area = seg->extent_count / seg->stripe_count; /* extents of each stripe */
    if (seg->stripe_count > 1) {
        if (!get_u64(sn, "stripe_size", &seg->stripe_size) || seg->stripe_size == 0 ||
            seg->stripe_size > UINT64_MAX / LVM_SECTOR) {
            lv_unreadable(lv, "segment at line %u: stripe_size is missing or not positive", sn->line);
            return IMGP_OK;
        }
        /* dm-stripe refuses a stripe that is not whole chunks */
        if ((area * extent_bytes) % (seg->stripe_size * LVM_SECTOR)) {
            lv_unreadable(lv, "segment at line %u: a stripe of %llu extents is not a whole number of %llu-sector "
                          "chunks", sn->line, (unsigned long long)area, (unsigned long long)seg->stripe_size);
            return IMGP_OK;
        }
    }
    seg->stripes = imgp_calloc(ctx, seg->stripe_count, sizeof *seg->stripes);
    if (!seg->stripes)
        return IMGP_ERR_NOMEM;
    const lvm_meta_node *e = arr->child;
    for (uint32_t i = 0; i < seg->stripe_count; i++, e = e->next->next) {
        const lvm_meta_node *pe = e->next;
        if (e->kind != LVM_META_STRING || pe->kind != LVM_META_INT || pe->num < 0) {
            lv_unreadable(lv, "segment at line %u: stripe %u is not a (PV name, extent) pair", sn->line, i);
            return IMGP_OK;
        }
        size_t k = find_name(pv_idx, vg->npvs, e->str);
        if (k == SIZE_MAX) {
            lv_unreadable(lv, "segment at line %u: names physical volume '%s', which the volume group does not list",
                          sn->line, e->str);
            return IMGP_OK;
        }
        const lvm_pv *pv = &vg->pvs[k];
        if ((uint64_t)pe->num > pv->pe_count || area > pv->pe_count - (uint64_t)pe->num) {
            lv_unreadable(lv, "segment at line %u: extents %llu..+%llu of %s lie past its %llu extents", sn->line,
                          (unsigned long long)pe->num, (unsigned long long)area, pv->name,
                          (unsigned long long)pv->pe_count);
            return IMGP_OK;
        }
        seg->stripes[i] = (lvm_stripe){k, (uint64_t)pe->num};
    }
    return IMGP_OK;
}

static int cmp_segment(const void *a, const void *b)
{
    const lvm_segment *x = a, *y = b;
    return (x->start_extent > y->start_extent) - (x->start_extent < y->start_extent);
}

/* Order the segments and check they cover the LV end to end; give the LV its length and type. */
static void lay_out_segments(const lvm_vg *vg, lvm_lv *lv)
{
    qsort(lv->segs, lv->nsegs, sizeof *lv->segs, cmp_segment);
    bool striped = false;
    for (size_t i = 0; i < lv->nsegs; i++) {
        const lvm_segment *s = &lv->segs[i];
        if (s->kind == LVM_SEG_STRIPED && s->stripe_count > 1)
            striped = true;
        if (s->kind != LVM_SEG_STRIPED && !lv->type)
            lv->type = s->kind == LVM_SEG_ZERO ? "zero" : s->type;
    }
    if (!lv->type)
        lv->type = striped ? "striped" : "linear";
    uint64_t next = 0;
    for (size_t i = 0; i < lv->nsegs; i++) {
        const lvm_segment *s = &lv->segs[i];
        if (s->start_extent != next) {
            lv_unreadable(lv, "segments leave a gap or overlap at extent %llu", (unsigned long long)next);
            return;
        }
        if (imgp_add_overflow(next, s->extent_count, &next)) {
            lv_unreadable(lv, "segments reach past extent 2^64");
            return;
        }
    }
    if (lv->nsegs == 0)
        lv_unreadable(lv, "no segments");
    /* an LV that is not read (a thin volume...) still has its length */
    lv->extents = next;
    if (imgp_mul_overflow(next, vg->extent_size * LVM_SECTOR, &lv->size)) {
        lv->size = 0;
        lv_unreadable(lv, "%llu extents of %llu sectors overflow", (unsigned long long)next,
                      (unsigned long long)vg->extent_size);
    }
}

static imgp_status read_segment(imgp_ctx *ctx, const lvm_vg *vg, const name_index *pv_idx,
                                const lvm_meta_node *sn, lvm_lv *lv, lvm_segment *seg)
{
    seg->type = get_str(sn, "type");
    if (!get_u64(sn, "start_extent", &seg->start_extent) || !get_u64(sn, "extent_count", &seg->extent_count) ||
        seg->extent_count == 0 || !seg->type) {
        lv_unreadable(lv, "segment at line %u lacks start_extent, extent_count or type", sn->line);
        seg->type = seg->type ? seg->type : "unknown";
        seg->kind = LVM_SEG_OTHER;
        return IMGP_OK;
    }
    if (strcmp(seg->type, "striped") == 0) {
        seg->kind = LVM_SEG_STRIPED;
        return read_stripes(ctx, vg, pv_idx, sn, lv, seg);
    }
    if (strcmp(seg->type, "zero") == 0) {
        seg->kind = LVM_SEG_ZERO;
        return IMGP_OK;
    }
    seg->kind = LVM_SEG_OTHER;
    const char *what = other_type_what(seg->type);
    lv_unreadable(lv, "segment type %s%s%s%s is not read", seg->type, what ? " (" : "", what ? what : "",
                  what ? ")" : "");
    return IMGP_OK;
}

static imgp_status read_lv(imgp_ctx *ctx, const lvm_vg *vg, const name_index *pv_idx, const lvm_meta_node *n,
                           lvm_lv *lv)
{
    lv->name = n->key;
    lv->line = n->line;
    lv->id = get_str(n, "id");
    lv->visible = has_flag(n, "status", "VISIBLE");
    size_t nsegs = 0;
    for (const lvm_meta_node *s = n->child; s; s = s->next)
        nsegs += s->kind == LVM_META_SECTION;
    lv->segs = imgp_calloc(ctx, nsegs ? nsegs : 1, sizeof *lv->segs);
    if (!lv->segs)
        return IMGP_ERR_NOMEM;
    /* every subsection of an LV is a segment (import_vsn1.c _read_segments) */
    for (const lvm_meta_node *s = n->child; s; s = s->next) {
        if (s->kind != LVM_META_SECTION)
            continue;
        imgp_status st = read_segment(ctx, vg, pv_idx, s, lv, &lv->segs[lv->nsegs++]);
        if (st != IMGP_OK)
            return st;
    }
    int64_t declared;
    if (get_int(n, "segment_count", &declared) && (declared < 0 || (uint64_t)declared != nsegs))
        lv_unreadable(lv, "segment_count says %lld but it has %zu segments", (long long)declared, nsegs);
    lay_out_segments(vg, lv);
    if (!valid_name(lv->name)) {
        lv->unreadable = NULL; /* this reason comes first */
        lv_unreadable(lv, "its name is not one lvm2 accepts");
        lv->unlisted = true;
    }
    return IMGP_OK;
}

/* The LV that a snapshot writes its changes to holds no file system of its own. */
static void mark_cow_stores(const lvm_meta_node *lvsec, lvm_vg *vg, const name_index *lv_idx)
{
    for (const lvm_meta_node *n = lvsec ? lvsec->child : NULL; n; n = n->next) {
        if (n->kind != LVM_META_SECTION)
            continue;
        for (const lvm_meta_node *s = n->child; s; s = s->next) {
            const char *type = s->kind == LVM_META_SECTION ? get_str(s, "type") : NULL;
            const char *cow = type && strcmp(type, "snapshot") == 0 ? get_str(s, "cow_store") : NULL;
            size_t k = cow ? find_name(lv_idx, vg->nlvs, cow) : SIZE_MAX;
            if (k == SIZE_MAX)
                continue;
            const char *origin = get_str(s, "origin");
            lv_unreadable(&vg->lvs[k], "copy-on-write store of snapshot %s of %s, not a volume of its own",
                          n->key, origin ? origin : "?");
        }
    }
}

static imgp_status read_lvs(imgp_ctx *ctx, lvm_vg *vg, const lvm_meta_node *lvsec)
{
    name_index *pv_idx = NULL, *lv_idx = NULL;
    imgp_status st = sorted_names(ctx, vg->npvs, pv_name_of, vg, &pv_idx);
    if (st != IMGP_OK)
        return st;
    size_t cap = lvsec ? lvsec->nchildren : 0;
    vg->lvs = imgp_calloc(ctx, cap ? cap : 1, sizeof *vg->lvs);
    if (!vg->lvs)
        st = IMGP_ERR_NOMEM;
    for (const lvm_meta_node *n = lvsec ? lvsec->child : NULL; st == IMGP_OK && n; n = n->next)
        if (n->kind == LVM_META_SECTION)
            st = read_lv(ctx, vg, pv_idx, n, &vg->lvs[vg->nlvs++]);
    if (st == IMGP_OK)
        st = sorted_names(ctx, vg->nlvs, lv_name_of, vg, &lv_idx);
    if (st == IMGP_OK) {
        /* names are unique in a VG; a second of a name is not read */
        for (size_t i = 1; i < vg->nlvs; i++) {
            lvm_lv *lv = &vg->lvs[lv_idx[i].i];
            if (strcmp(lv_idx[i].name, lv_idx[i - 1].name) == 0 && !lv->unlisted) {
                lv->unreadable = NULL; /* this reason comes first */
                lv_unreadable(lv, "an earlier logical volume has the same name");
                lv->unlisted = true;
            }
        }
        mark_cow_stores(lvsec, vg, lv_idx);
    }
    imgp_free(ctx, lv_idx);
    imgp_free(ctx, pv_idx);
    return st;
}

imgp_status lvm_vg_from_meta(imgp_ctx *ctx, const lvm_meta *m, lvm_vg **out)
{
    *out = NULL;
    const lvm_meta_node *vgsec = lvm_meta_root(m)->child;
    while (vgsec && vgsec->kind != LVM_META_SECTION)
        vgsec = vgsec->next;
    if (!vgsec)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 metadata: no volume group section");
    int64_t extent_size;
    if (!get_int(vgsec, "extent_size", &extent_size) || extent_size <= 0 ||
        (uint64_t)extent_size > UINT64_MAX / LVM_SECTOR)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 metadata: line %u: volume group %s has no valid extent_size",
                          vgsec->line, vgsec->key);
    const lvm_meta_node *pvsec = lvm_meta_get(vgsec, "physical_volumes");
    const lvm_meta_node *lvsec = lvm_meta_get(vgsec, "logical_volumes");
    if (!pvsec || pvsec->kind != LVM_META_SECTION)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 metadata: line %u: volume group %s has no physical_volumes",
                          vgsec->line, vgsec->key);
    if (lvsec && lvsec->kind != LVM_META_SECTION)
        lvsec = NULL;

    if (!valid_name(vgsec->key))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 metadata: line %u: the volume group's name is not one lvm2 accepts",
                          vgsec->line);
    lvm_vg *vg = imgp_calloc(ctx, 1, sizeof *vg);
    if (!vg)
        return IMGP_ERR_NOMEM;
    vg->name = vgsec->key;
    vg->id = get_str(vgsec, "id");
    vg->extent_size = (uint64_t)extent_size;
    if (!get_int(vgsec, "seqno", &vg->seqno))
        vg->seqno = 0;
    imgp_status st = read_pvs(ctx, vg, pvsec);
    if (st == IMGP_OK)
        st = read_lvs(ctx, vg, lvsec);
    if (st != IMGP_OK) {
        lvm_vg_free(ctx, vg);
        return st;
    }
    *out = vg;
    return IMGP_OK;
}

void lvm_vg_free(imgp_ctx *ctx, lvm_vg *vg)
{
    if (!vg)
        return;
    for (size_t i = 0; i < vg->nlvs; i++) {
        for (size_t j = 0; j < vg->lvs[i].nsegs; j++)
            imgp_free(ctx, vg->lvs[i].segs[j].stripes);
        imgp_free(ctx, vg->lvs[i].segs);
    }
    imgp_free(ctx, vg->lvs);
    imgp_free(ctx, vg->pvs);
    imgp_free(ctx, vg);
}

/* ---- the device of a logical volume ---- */

typedef struct lv_piece {
    uint64_t start, len;   /* bytes of the LV */
    uint64_t chunk;        /* stripe size in bytes; 0 for one stripe */
    uint32_t nstripes;     /* 0: a zero segment */
    size_t first;          /* its first entry in lv_bdev.areas */
} lv_piece;

typedef struct lv_area {
    imgp_bdev *pv;         /* not owned */
    uint64_t offset;       /* bytes: where the stripe's extents begin on the PV device */
} lv_area;

typedef struct lv_bdev {
    imgp_bdev base;
    size_t npieces;
    lv_piece *pieces;
    lv_area *areas;
} lv_bdev;

/*
 * Where byte @p off of the LV is: *pv and *pv_off (or *pv NULL for zeros),
 * and how many bytes from there lie in the same chunk, at most @p len.
 */
static void lv_map(const lv_bdev *lv, uint64_t off, uint64_t len, imgp_bdev **pv, uint64_t *pv_off, uint64_t *run)
{
    size_t lo = 0, hi = lv->npieces;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (lv->pieces[mid].start <= off)
            lo = mid;
        else
            hi = mid;
    }
    const lv_piece *p = &lv->pieces[lo];
    uint64_t rel = off - p->start;
    uint64_t left = p->len - rel;
    if (p->nstripes == 0) {
        *pv = NULL;
        *pv_off = 0;
    } else if (p->nstripes == 1) {
        *pv = lv->areas[p->first].pv;
        *pv_off = lv->areas[p->first].offset + rel;
    } else {
        uint64_t chunk_no = rel / p->chunk, within = rel % p->chunk;
        const lv_area *a = &lv->areas[p->first + chunk_no % p->nstripes];
        *pv = a->pv;
        *pv_off = a->offset + chunk_no / p->nstripes * p->chunk + within;
        left = imgp_min_u64(left, p->chunk - within);
    }
    *run = imgp_min_u64(left, len);
}

static imgp_status lv_read(imgp_bdev *bd, uint64_t off, void *buf, size_t len)
{
    const lv_bdev *lv = (const lv_bdev *)bd;
    uint8_t *out = buf;
    while (len > 0) {
        imgp_bdev *pv;
        uint64_t pv_off, run;
        lv_map(lv, off, len, &pv, &pv_off, &run);
        if (!pv) {
            memset(out, 0, (size_t)run);
        } else {
            imgp_status st = imgp_bdev_read(pv, pv_off, out, (size_t)run);
            if (st != IMGP_OK)
                return imgp_error_prefix(bd->ctx, "%s: ", bd->name);
        }
        out += run;
        off += run;
        len -= (size_t)run;
    }
    return IMGP_OK;
}

static imgp_status lv_status(imgp_bdev *bd, uint64_t off, uint64_t len, imgp_extent_kind *kind, uint64_t *run)
{
    imgp_bdev *pv;
    uint64_t pv_off;
    lv_map((const lv_bdev *)bd, off, len, &pv, &pv_off, run);
    if (!pv) {
        *kind = IMGP_EXTENT_ZERO;
        return IMGP_OK;
    }
    return imgp_bdev_status(pv, pv_off, *run, kind, run);
}

static void lv_close(imgp_bdev *bd)
{
    lv_bdev *lv = (lv_bdev *)bd;
    imgp_free(bd->ctx, lv->areas);
    imgp_free(bd->ctx, lv->pieces);
    imgp_free(bd->ctx, bd->name);
    imgp_free(bd->ctx, lv);
}

static const imgp_bdev_ops lv_ops = {.kind = "lvm2", .read = lv_read, .status = lv_status, .close = lv_close};

/* Check that every stripe of @p lv is on a device and inside it; count the stripes. */
static bool lv_areas_present(const lvm_vg *vg, lvm_lv *lv, const lvm_pv_place *places, size_t *nareas)
{
    uint64_t extent_bytes = vg->extent_size * LVM_SECTOR;
    *nareas = 0;
    for (size_t i = 0; i < lv->nsegs; i++) {
        const lvm_segment *s = &lv->segs[i];
        if (s->kind != LVM_SEG_STRIPED)
            continue;
        uint64_t area_bytes = s->extent_count / s->stripe_count * extent_bytes;
        for (uint32_t j = 0; j < s->stripe_count; j++) {
            const lvm_pv *pv = &vg->pvs[s->stripes[j].pv];
            const lvm_pv_place *place = &places[s->stripes[j].pv];
            char uuid[LVM_UUID_STR_LEN + 1];
            if (!place->bdev) {
                lvm_uuid_format(pv->uuid, uuid);
                lv_unreadable(lv, "needs physical volume %s (UUID %s), which is not on this disk", pv->name,
                              uuid);
                return false;
            }
            /* lvm_vg_from_meta checked that pe_start and pe_count fit in 64 bits */
            uint64_t offset = pv->pe_start * LVM_SECTOR + s->stripes[j].pe * extent_bytes;
            if (imgp_range_outside(offset, area_bytes, place->bdev->size)) {
                lv_unreadable(lv, "extents %llu..+%llu of %s lie past the end of %s (%llu bytes)",
                              (unsigned long long)s->stripes[j].pe,
                              (unsigned long long)(s->extent_count / s->stripe_count), pv->name, place->where,
                              (unsigned long long)place->bdev->size);
                return false;
            }
            (*nareas)++;
        }
    }
    return true;
}

imgp_status lvm_lv_open(imgp_ctx *ctx, const lvm_vg *vg, lvm_lv *lv, const lvm_pv_place *places, const char *name,
                        imgp_bdev **out)
{
    *out = NULL;
    size_t nareas;
    if (lv->unreadable || !lv_areas_present(vg, lv, places, &nareas))
        return IMGP_OK;
    uint64_t extent_bytes = vg->extent_size * LVM_SECTOR;
    lv_bdev *d = imgp_calloc(ctx, 1, sizeof *d);
    if (!d)
        return IMGP_ERR_NOMEM;
    d->base = (imgp_bdev){.ops = &lv_ops, .ctx = ctx, .size = lv->size, .sector_size = LVM_SECTOR};
    d->base.name = imgp_strdup(ctx, name);
    d->pieces = imgp_calloc(ctx, lv->nsegs, sizeof *d->pieces);
    d->areas = imgp_calloc(ctx, nareas ? nareas : 1, sizeof *d->areas);
    if (!d->base.name || !d->pieces || !d->areas) {
        lv_close(&d->base);
        return IMGP_ERR_NOMEM;
    }
    size_t a = 0;
    for (size_t i = 0; i < lv->nsegs; i++) {
        const lvm_segment *s = &lv->segs[i];
        lv_piece *p = &d->pieces[d->npieces++];
        /* lay_out_segments checked that the LV's length in bytes fits */
        *p = (lv_piece){.start = s->start_extent * extent_bytes, .len = s->extent_count * extent_bytes, .first = a};
        if (s->kind != LVM_SEG_STRIPED)
            continue;
        p->nstripes = s->stripe_count;
        p->chunk = s->stripe_count > 1 ? s->stripe_size * LVM_SECTOR : 0;
        for (uint32_t j = 0; j < s->stripe_count; j++) {
            const lvm_pv *pv = &vg->pvs[s->stripes[j].pv];
            d->areas[a++] = (lv_area){places[s->stripes[j].pv].bdev,
                                      pv->pe_start * LVM_SECTOR + s->stripes[j].pe * extent_bytes};
        }
        if (d->base.sector_size < d->areas[p->first].pv->sector_size)
            d->base.sector_size = d->areas[p->first].pv->sector_size;
    }
    *out = &d->base;
    return IMGP_OK;
}
