/*
 * NTFS records and attributes: update-sequence fixups, MFT record headers,
 * attribute headers, $ATTRIBUTE_LIST (a file spread over several records),
 * data runs, and reading an attribute's value (resident, non-resident with
 * holes and an initialised size, LZNT1-compressed units). Layout:
 * ntfs_disk.h; [NTFSDOC] is the Linux-NTFS documentation it cites.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../core/cursor.h"
#include "ntfs.h"

#define MAX_EXTENSION_RECORDS 8192u /* records one file's attribute list may name */

/* ---- parsers ---- */

/* [NTFSDOC] "Fixup": the update sequence array holds the update sequence
 * number, then the two bytes that belong at the end of each 512-byte stride;
 * on disk those ends hold the number. A mismatch is a torn write. */
imgp_status ntfs_apply_fixups(imgp_ctx *ctx, uint8_t *buf, size_t len, const char *magic, const char *what)
{
    imgp_cursor c = imgp_cur_init(buf, len);
    const uint8_t *m = imgp_cur_ptr_at(&c, NTFS_MULTI_MAGIC, 4);
    if (!m || len % NTFS_FIXUP_STRIDE != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: %s: %zu bytes, not a multiple of %u", what, len,
                          NTFS_FIXUP_STRIDE);
    if (memcmp(m, magic, 4) != 0) {
        if (memcmp(m, "BAAD", 4) == 0)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: %s is marked BAAD (an incomplete write chkdsk found)",
                              what);
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: %s: magic %02x%02x%02x%02x, not '%s'", what, m[0], m[1],
                          m[2], m[3], magic);
    }
    uint16_t usa_ofs = imgp_cur_le16_at(&c, NTFS_MULTI_USA_OFS);
    uint16_t usa_count = imgp_cur_le16_at(&c, NTFS_MULTI_USA_COUNT);
    size_t strides = len / NTFS_FIXUP_STRIDE;
    if (usa_count != strides + 1 || usa_ofs % 2 != 0 || usa_ofs < NTFS_MULTI_USA_COUNT + 2 ||
        imgp_range_outside(usa_ofs, (uint64_t)usa_count * 2, NTFS_FIXUP_STRIDE - 2))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: %s: update sequence array at offset %u with %u entries "
                          "does not fit (%zu strides of %u bytes)", what, usa_ofs, usa_count, strides,
                          NTFS_FIXUP_STRIDE);
    const uint8_t *usa = buf + usa_ofs;
    for (size_t i = 0; i < strides; i++) {
        uint8_t *end = buf + (i + 1) * NTFS_FIXUP_STRIDE - 2;
        if (end[0] != usa[0] || end[1] != usa[1])
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: %s: sector %zu ends in %02x%02x, not the update "
                              "sequence number %02x%02x (a torn write)", what, i, end[0], end[1], usa[0], usa[1]);
    }
    for (size_t i = 0; i < strides; i++) {
        uint8_t *end = buf + (i + 1) * NTFS_FIXUP_STRIDE - 2;
        end[0] = usa[2 + 2 * i];
        end[1] = usa[3 + 2 * i];
    }
    return IMGP_OK;
}

imgp_status ntfs_parse_record(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint64_t number, ntfs_record *rec)
{
    imgp_cursor c = imgp_cur_init(buf, len);
    memset(rec, 0, sizeof *rec);
    rec->sequence = imgp_cur_le16_at(&c, NTFS_REC_SEQUENCE);
    rec->link_count = imgp_cur_le16_at(&c, NTFS_REC_LINK_COUNT);
    rec->attrs_offset = imgp_cur_le16_at(&c, NTFS_REC_ATTRS_OFFSET);
    rec->flags = imgp_cur_le16_at(&c, NTFS_REC_FLAGS);
    rec->bytes_in_use = imgp_cur_le32_at(&c, NTFS_REC_BYTES_IN_USE);
    uint32_t allocated = imgp_cur_le32_at(&c, NTFS_REC_BYTES_ALLOCATED);
    rec->base_ref = imgp_cur_le64_at(&c, NTFS_REC_BASE_REF);
    if (!imgp_cur_ok(&c) || len < NTFS_REC_HEADER_MIN)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: truncated header",
                          (unsigned long long)number);
    if (allocated != len)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: allocated size %u, not the record size %zu",
                          (unsigned long long)number, allocated, len);
    if (rec->bytes_in_use > len || rec->bytes_in_use % 8 != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: %u bytes in use (record of %zu, a "
                          "multiple of 8)", (unsigned long long)number, rec->bytes_in_use, len);
    if (rec->attrs_offset < NTFS_REC_HEADER_MIN || rec->attrs_offset % 8 != 0 ||
        rec->attrs_offset > rec->bytes_in_use - (rec->bytes_in_use >= 4 ? 4 : rec->bytes_in_use))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: first attribute at offset %u, outside "
                          "the %u bytes in use", (unsigned long long)number, rec->attrs_offset, rec->bytes_in_use);
    return IMGP_OK;
}

imgp_status ntfs_parse_attr(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint64_t number, size_t *off,
                            ntfs_attr *a, bool *end)
{
    size_t at = *off;
    imgp_cursor c = imgp_cur_init(buf, len);
    memset(a, 0, sizeof *a);
    *end = false;
    uint32_t type = imgp_cur_le32_at(&c, at + NTFS_ATTR_TYPE);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: attribute at offset %zu runs past the %zu "
                          "bytes in use", (unsigned long long)number, at, len);
    if (type == NTFS_ATTR_END) {
        *end = true;
        return IMGP_OK;
    }
    uint32_t alen = imgp_cur_le32_at(&c, at + NTFS_ATTR_LENGTH);
    if (alen < NTFS_ATTR_RESIDENT_HEADER || alen % 8 != 0 || alen > len - at)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: attribute 0x%x at offset %zu has length "
                          "%u (%zu bytes left, at least %u, a multiple of 8)", (unsigned long long)number, type, at,
                          alen, len - at, NTFS_ATTR_RESIDENT_HEADER);
    imgp_cursor ac = imgp_cur_init(buf + at, alen);
    a->type = type;
    a->record = number;
    a->resident = imgp_cur_u8_at(&ac, NTFS_ATTR_NON_RESIDENT) == 0;
    a->name_len = imgp_cur_u8_at(&ac, NTFS_ATTR_NAME_LENGTH);
    uint16_t name_off = imgp_cur_le16_at(&ac, NTFS_ATTR_NAME_OFFSET);
    a->flags = imgp_cur_le16_at(&ac, NTFS_ATTR_FLAGS);
    a->instance = imgp_cur_le16_at(&ac, NTFS_ATTR_INSTANCE);
    if (a->name_len) {
        a->name = imgp_cur_ptr_at(&ac, name_off, (size_t)a->name_len * 2);
        if (!a->name)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: attribute 0x%x at offset %zu: name "
                              "of %u units at offset %u overruns its %u bytes", (unsigned long long)number, type,
                              at, a->name_len, name_off, alen);
    }
    if (a->resident) {
        a->value_len = imgp_cur_le32_at(&ac, NTFS_ATTR_VALUE_LENGTH);
        uint16_t voff = imgp_cur_le16_at(&ac, NTFS_ATTR_VALUE_OFFSET);
        a->value = imgp_cur_ptr_at(&ac, voff, a->value_len);
        if (!a->value)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: attribute 0x%x at offset %zu: value "
                              "of %u bytes at offset %u overruns its %u bytes", (unsigned long long)number, type,
                              at, a->value_len, voff, alen);
    } else {
        if (alen < NTFS_ATTR_NON_RESIDENT_HEADER)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: non-resident attribute 0x%x at offset "
                              "%zu has length %u, less than its %u-byte header", (unsigned long long)number, type,
                              at, alen, NTFS_ATTR_NON_RESIDENT_HEADER);
        a->start_vcn = imgp_cur_le64_at(&ac, NTFS_ATTR_START_VCN);
        a->last_vcn = imgp_cur_le64_at(&ac, NTFS_ATTR_LAST_VCN);
        uint16_t roff = imgp_cur_le16_at(&ac, NTFS_ATTR_RUNS_OFFSET);
        a->compression_unit = imgp_cur_u8_at(&ac, NTFS_ATTR_COMPRESSION_UNIT);
        a->allocated_size = imgp_cur_le64_at(&ac, NTFS_ATTR_ALLOCATED_SIZE);
        a->data_size = imgp_cur_le64_at(&ac, NTFS_ATTR_DATA_SIZE);
        a->initialized_size = imgp_cur_le64_at(&ac, NTFS_ATTR_INITIALIZED_SIZE);
        if (roff < NTFS_ATTR_NON_RESIDENT_HEADER || roff > alen)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: attribute 0x%x at offset %zu: data "
                              "runs at offset %u, outside %u..%u", (unsigned long long)number, type, at, roff,
                              NTFS_ATTR_NON_RESIDENT_HEADER, alen);
        /* last_vcn is start_vcn - 1 for an empty attribute (-1 when it starts at 0) */
        if (a->last_vcn != a->start_vcn - 1 && a->last_vcn < a->start_vcn)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: attribute 0x%x at offset %zu maps vcn "
                              "%llu..%llu", (unsigned long long)number, type, at, (unsigned long long)a->start_vcn,
                              (unsigned long long)a->last_vcn);
        a->runs = buf + at + roff;
        a->runs_len = alen - roff;
    }
    *off = at + alen;
    return IMGP_OK;
}

static imgp_status runlist_push(imgp_ctx *ctx, ntfs_runlist *rl, ntfs_run r)
{
    if (rl->n == rl->cap) {
        size_t cap = rl->cap ? rl->cap * 2 : 8;
        ntfs_run *v = imgp_realloc(ctx, rl->runs, cap * sizeof *v);
        if (!v)
            return IMGP_ERR_NOMEM;
        rl->runs = v;
        rl->cap = cap;
    }
    rl->runs[rl->n++] = r;
    return IMGP_OK;
}

static uint64_t runlist_end(const ntfs_runlist *rl)
{
    return rl->n ? rl->runs[rl->n - 1].vcn + rl->runs[rl->n - 1].len : 0;
}

/* [NTFSDOC] "Data runs": a header byte whose low nibble is the size of the
 * length field and whose high nibble the size of the offset field (0: a
 * sparse run); the offset is signed and relative to the previous run's LCN;
 * a zero header byte ends the list. */
imgp_status ntfs_decode_runs(imgp_ctx *ctx, const ntfs_attr *a, uint64_t total_clusters, size_t max_runs,
                             ntfs_runlist *rl)
{
    unsigned long long rec = (unsigned long long)a->record;
    if (runlist_end(rl) != a->start_vcn)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: attribute 0x%x extent starts at vcn %llu, "
                          "the extents before it end at %llu", rec, a->type, (unsigned long long)a->start_vcn,
                          (unsigned long long)runlist_end(rl));
    uint64_t vcn = a->start_vcn, end = a->last_vcn + 1; /* last_vcn = start - 1: empty */
    int64_t lcn = 0;
    imgp_cursor c = imgp_cur_init(a->runs, a->runs_len);
    for (;;) {
        uint8_t h = imgp_cur_u8(&c);
        if (!imgp_cur_ok(&c))
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: attribute 0x%x: data runs end without "
                              "their terminator", rec, a->type);
        if (h == 0)
            break;
        unsigned lsize = h & 0xFu, osize = h >> 4;
        if (lsize == 0 || lsize > 8 || osize > 8)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: attribute 0x%x: data run header 0x%02x "
                              "at vcn %llu (field sizes 1..8)", rec, a->type, h, (unsigned long long)vcn);
        const uint8_t *p = imgp_cur_ptr_at(&c, c.pos, lsize + osize);
        if (!p)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: attribute 0x%x: data run at vcn %llu "
                              "overruns the attribute", rec, a->type, (unsigned long long)vcn);
        imgp_cur_skip(&c, lsize + osize);
        uint64_t len = 0;
        for (unsigned i = lsize; i-- > 0;)
            len = len << 8 | p[i];
        uint64_t delta = 0;
        for (unsigned i = osize; i-- > 0;)
            delta = delta << 8 | p[lsize + i];
        if (osize && osize < 8 && (p[lsize + osize - 1] & 0x80))
            delta |= ~(uint64_t)0 << (8 * osize); /* sign-extend */
        if (len == 0 || len > (uint64_t)INT64_MAX || vcn > end || len > end - vcn)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: attribute 0x%x: data run of %llu "
                              "clusters at vcn %llu goes past the extent's last vcn %llu", rec, a->type,
                              (unsigned long long)len, (unsigned long long)vcn, (unsigned long long)a->last_vcn);
        ntfs_run r = {vcn, NTFS_LCN_HOLE, len};
        if (osize) {
            /* two's-complement addition, then checked as a cluster of the volume */
            uint64_t next = (uint64_t)lcn + delta;
            if (next >= total_clusters || len > total_clusters - next)
                return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: MFT record %llu: attribute 0x%x: data run at vcn "
                                  "%llu: clusters %lld..+%llu lie outside the volume (%llu clusters)", rec,
                                  a->type, (unsigned long long)vcn, (long long)next, (unsigned long long)len,
                                  (unsigned long long)total_clusters);
            lcn = (int64_t)next;
            r.lcn = lcn;
        }
        if (rl->n >= max_runs)
            return imgp_error(ctx, IMGP_ERR_LIMIT, "ntfs: MFT record %llu: attribute 0x%x has more than %zu data "
                              "runs", rec, a->type, max_runs);
        imgp_status st = runlist_push(ctx, rl, r);
        if (st != IMGP_OK)
            return st;
        vcn += len;
    }
    /* fewer runs than the extent claims: the rest is mapped nowhere (a read there fails) */
    return IMGP_OK;
}

const ntfs_run *ntfs_runlist_find(const ntfs_runlist *rl, uint64_t vcn)
{
    size_t lo = 0, hi = rl->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const ntfs_run *r = &rl->runs[mid];
        if (vcn < r->vcn)
            hi = mid;
        else if (vcn - r->vcn >= r->len)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

void ntfs_runlist_free(imgp_ctx *ctx, ntfs_runlist *rl)
{
    imgp_free(ctx, rl->runs);
    memset(rl, 0, sizeof *rl);
}

/* ---- records ---- */

imgp_status ntfs_fail(ntfs_fs *fs, imgp_status st, const char *fmt, ...)
{
    char msg[IMGP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imgp_error(fs->base.ctx, st, "ntfs: %s", msg);
}

/* Read [off, off + len) of a non-resident, uncompressed runlist (holes as zeros). */
static imgp_status read_runs(ntfs_fs *fs, uint64_t record, const ntfs_runlist *rl, uint64_t off, uint8_t *buf,
                             size_t len)
{
    const unsigned shift = fs->boot.cluster_shift;
    while (len > 0) {
        uint64_t vcn = off >> shift;
        const ntfs_run *r = ntfs_runlist_find(rl, vcn);
        if (!r)
            return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu: cluster %llu of the attribute is not mapped "
                             "by its data runs", (unsigned long long)record, (unsigned long long)vcn);
        uint64_t run_end = (r->vcn + r->len) << shift; /* fits: ntfs_stream_open checked the runlist's end */
        size_t n = (size_t)imgp_min_u64(len, run_end - off);
        if (r->lcn == NTFS_LCN_HOLE) {
            memset(buf, 0, n);
        } else {
            uint64_t byte = (((uint64_t)r->lcn + (vcn - r->vcn)) << shift) + (off & (fs->boot.cluster_size - 1));
            imgp_status st = imgp_bdev_read(fs->base.bdev, byte, buf, n);
            if (st != IMGP_OK)
                return imgp_error_prefix(fs->base.ctx, "ntfs: MFT record %llu, cluster %lld: ",
                                         (unsigned long long)record, (long long)r->lcn);
        }
        buf += n;
        off += n;
        len -= n;
    }
    return IMGP_OK;
}

static imgp_status fill_record(void *arg, uint64_t number, uint8_t *buf)
{
    ntfs_fs *fs = arg;
    uint32_t rs = fs->boot.record_size;
    if (number >= fs->mft_records)
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu lies past the end of $MFT (%llu records)",
                         (unsigned long long)number, (unsigned long long)fs->mft_records);
    imgp_status st = read_runs(fs, NTFS_MFT_RECORD, &fs->mft, number * rs, buf, rs);
    if (st != IMGP_OK)
        return st;
    char what[48];
    snprintf(what, sizeof what, "MFT record %llu", (unsigned long long)number);
    return ntfs_apply_fixups(fs->base.ctx, buf, rs, "FILE", what);
}

/* Record @p number, fixups applied, copied into a new buffer. */
static imgp_status load_record(ntfs_fs *fs, uint64_t number, uint8_t **out, ntfs_record *hdr)
{
    const uint8_t *p;
    imgp_status st = imgp_cache_get(fs->records, number, fill_record, fs, &p);
    if (st != IMGP_OK)
        return st;
    if ((st = ntfs_parse_record(fs->base.ctx, p, fs->boot.record_size, number, hdr)) != IMGP_OK)
        return st;
    uint8_t *b = imgp_alloc(fs->base.ctx, fs->boot.record_size);
    if (!b)
        return IMGP_ERR_NOMEM;
    memcpy(b, p, fs->boot.record_size);
    *out = b;
    return IMGP_OK;
}

static imgp_status add_attr(ntfs_fs *fs, ntfs_inode *in, const ntfs_attr *a)
{
    if (in->nattrs == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 16;
        ntfs_attr *v = imgp_realloc(fs->base.ctx, in->attrs, cap * sizeof *v);
        if (!v)
            return IMGP_ERR_NOMEM;
        in->attrs = v;
        in->cap = cap;
    }
    in->attrs[in->nattrs++] = *a;
    return IMGP_OK;
}

/* Every attribute of the record in bufs[i]. */
static imgp_status collect_attrs(ntfs_fs *fs, ntfs_inode *in, size_t i, const ntfs_record *hdr)
{
    const uint8_t *b = in->bufs[i];
    size_t off = hdr->attrs_offset;
    for (;;) {
        ntfs_attr a;
        bool end;
        imgp_status st = ntfs_parse_attr(fs->base.ctx, b, hdr->bytes_in_use, in->buf_records[i], &off, &a, &end);
        if (st != IMGP_OK)
            return st;
        if (end)
            return IMGP_OK;
        if (i > 0 && a.type == NTFS_AT_ATTRIBUTE_LIST)
            return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu: extension record %llu holds an attribute list "
                             "of its own (a loop?)", (unsigned long long)in->record,
                             (unsigned long long)in->buf_records[i]);
        if ((st = add_attr(fs, in, &a)) != IMGP_OK)
            return st;
    }
}

static bool have_record(const ntfs_inode *in, uint64_t number)
{
    for (size_t i = 0; i < in->nbufs; i++)
        if (in->buf_records[i] == number)
            return true;
    return false;
}

/* [NTFSDOC] "$ATTRIBUTE_LIST": one entry per attribute (extent) of the file,
 * naming the record that holds it. Each extension record is loaded once; it
 * must be in use and name this file as its base. */
static imgp_status follow_attr_list(ntfs_fs *fs, ntfs_inode *in, const uint8_t *list, size_t len)
{
    imgp_ctx *ctx = fs->base.ctx;
    /* each record is looked up among those loaded (a linear scan): a
     * bound on them bounds that too; 8192 records hold a million runs */
    uint64_t max_records = imgp_min_u64(imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES) / fs->boot.record_size,
                                        MAX_EXTENSION_RECORDS);
    imgp_cursor c = imgp_cur_init(list, len);
    for (size_t off = 0; off < len;) {
        if (len - off < NTFS_AL_HEADER)
            break; /* padding */
        uint32_t type = imgp_cur_le32_at(&c, off + NTFS_AL_TYPE);
        uint16_t elen = imgp_cur_le16_at(&c, off + NTFS_AL_LENGTH);
        uint64_t ref = imgp_cur_le64_at(&c, off + NTFS_AL_REF);
        if (elen < NTFS_AL_HEADER || elen > len - off)
            return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu: attribute list entry at offset %zu has length "
                             "%u (%zu bytes left)", (unsigned long long)in->record, off, elen, len - off);
        off += elen;
        uint64_t number = NTFS_REF_RECORD(ref);
        if (have_record(in, number))
            continue;
        if (in->nbufs >= max_records)
            return ntfs_fail(fs, IMGP_ERR_LIMIT, "MFT record %llu: attribute list names more than %llu records",
                             (unsigned long long)in->record, (unsigned long long)max_records);
        uint8_t **bufs = imgp_realloc(ctx, in->bufs, (in->nbufs + 1) * sizeof *bufs);
        if (!bufs)
            return IMGP_ERR_NOMEM;
        in->bufs = bufs;
        uint64_t *recs = imgp_realloc(ctx, in->buf_records, (in->nbufs + 1) * sizeof *recs);
        if (!recs)
            return IMGP_ERR_NOMEM;
        in->buf_records = recs;
        ntfs_record hdr;
        imgp_status st = load_record(fs, number, &in->bufs[in->nbufs], &hdr);
        if (st != IMGP_OK)
            return imgp_error_prefix(ctx, "ntfs: MFT record %llu's attribute 0x%x: ", (unsigned long long)in->record,
                                     type);
        in->buf_records[in->nbufs++] = number;
        if (!(hdr.flags & NTFS_REC_IN_USE) || NTFS_REF_RECORD(hdr.base_ref) != in->record)
            return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu: its attribute list names record %llu, which is "
                             "%s", (unsigned long long)in->record, (unsigned long long)number,
                             !(hdr.flags & NTFS_REC_IN_USE) ? "not in use" : "not one of its extension records");
        if ((st = collect_attrs(fs, in, in->nbufs - 1, &hdr)) != IMGP_OK)
            return st;
    }
    return IMGP_OK;
}

imgp_status ntfs_inode_load(ntfs_fs *fs, uint64_t number, ntfs_inode *in)
{
    imgp_ctx *ctx = fs->base.ctx;
    memset(in, 0, sizeof *in);
    in->record = number;
    in->bufs = imgp_alloc(ctx, sizeof *in->bufs);
    in->buf_records = imgp_alloc(ctx, sizeof *in->buf_records);
    if (!in->bufs || !in->buf_records)
        return IMGP_ERR_NOMEM;
    imgp_status st = load_record(fs, number, &in->bufs[0], &in->hdr);
    if (st != IMGP_OK)
        return st;
    in->buf_records[0] = number;
    in->nbufs = 1;
    if (!(in->hdr.flags & NTFS_REC_IN_USE))
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu is not in use", (unsigned long long)number);
    if (in->hdr.base_ref != 0)
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu is an extension record of record %llu, not a file",
                         (unsigned long long)number, (unsigned long long)NTFS_REF_RECORD(in->hdr.base_ref));
    if ((st = collect_attrs(fs, in, 0, &in->hdr)) != IMGP_OK)
        return st;
    const ntfs_attr *al = ntfs_inode_find(in, NTFS_AT_ATTRIBUTE_LIST, NULL, 0);
    if (!al)
        return IMGP_OK;
    if (al->resident)
        return follow_attr_list(fs, in, al->value, al->value_len);
    /* a non-resident list: read it whole (it lies in the base record, so the
     * runs are there); bounded by the table limit */
    ntfs_stream s;
    if ((st = ntfs_stream_open(fs, in, NTFS_AT_ATTRIBUTE_LIST, NULL, 0, &s)) != IMGP_OK)
        return st;
    if (s.size > imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES)) {
        ntfs_stream_free(fs, &s);
        return ntfs_fail(fs, IMGP_ERR_LIMIT, "MFT record %llu: attribute list of %llu bytes exceeds %llu",
                         (unsigned long long)number, (unsigned long long)s.size,
                         (unsigned long long)imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES));
    }
    size_t n = (size_t)s.size;
    in->attr_list = imgp_alloc(ctx, n ? n : 1);
    if (!in->attr_list)
        st = IMGP_ERR_NOMEM;
    else
        st = ntfs_stream_read(fs, number, &s, 0, in->attr_list, n);
    ntfs_stream_free(fs, &s);
    return st != IMGP_OK ? st : follow_attr_list(fs, in, in->attr_list, n);
}

void ntfs_inode_free(ntfs_fs *fs, ntfs_inode *in)
{
    imgp_ctx *ctx = fs->base.ctx;
    for (size_t i = 0; i < in->nbufs; i++)
        imgp_free(ctx, in->bufs[i]);
    imgp_free(ctx, in->bufs);
    imgp_free(ctx, in->buf_records);
    imgp_free(ctx, in->attr_list);
    imgp_free(ctx, in->attrs);
    memset(in, 0, sizeof *in);
}

static bool attr_named(const ntfs_attr *a, uint32_t type, const uint8_t *name, size_t name_len)
{
    return a->type == type && a->name_len == name_len && (name_len == 0 || memcmp(a->name, name, name_len * 2) == 0);
}

const ntfs_attr *ntfs_inode_find(const ntfs_inode *in, uint32_t type, const uint8_t *name, size_t name_len)
{
    for (size_t i = 0; i < in->nattrs; i++) {
        const ntfs_attr *a = &in->attrs[i];
        if (attr_named(a, type, name, name_len) && (a->resident || a->start_vcn == 0))
            return a;
    }
    return NULL;
}

/* ---- streams ---- */

static int by_start_vcn(const void *x, const void *y)
{
    const ntfs_attr *a = *(const ntfs_attr *const *)x, *b = *(const ntfs_attr *const *)y;
    return a->start_vcn < b->start_vcn ? -1 : a->start_vcn > b->start_vcn;
}

imgp_status ntfs_stream_open(ntfs_fs *fs, const ntfs_inode *in, uint32_t type, const uint8_t *name,
                             size_t name_len, ntfs_stream *s)
{
    imgp_ctx *ctx = fs->base.ctx;
    memset(s, 0, sizeof *s);
    const ntfs_attr *first = ntfs_inode_find(in, type, name, name_len);
    if (!first)
        return ntfs_fail(fs, IMGP_ERR_NOT_FOUND, "MFT record %llu has no attribute 0x%x",
                         (unsigned long long)in->record, type);
    s->flags = first->flags;
    if (first->resident) {
        s->resident = true;
        s->value = first->value;
        s->size = s->initialized_size = s->allocated_size = first->value_len;
        return IMGP_OK;
    }
    s->size = first->data_size;
    s->allocated_size = first->allocated_size;
    s->initialized_size = imgp_min_u64(first->initialized_size, first->data_size);
    s->compression_unit = first->compression_unit;
    size_t n = 0;
    for (size_t i = 0; i < in->nattrs; i++)
        n += attr_named(&in->attrs[i], type, name, name_len) && !in->attrs[i].resident;
    const ntfs_attr **ext = imgp_calloc(ctx, n, sizeof *ext);
    if (!ext)
        return IMGP_ERR_NOMEM;
    n = 0;
    for (size_t i = 0; i < in->nattrs; i++)
        if (attr_named(&in->attrs[i], type, name, name_len) && !in->attrs[i].resident)
            ext[n++] = &in->attrs[i];
    qsort(ext, n, sizeof *ext, by_start_vcn);
    size_t max_runs = (size_t)imgp_min_u64(imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES) / sizeof(ntfs_run), SIZE_MAX);
    imgp_status st = IMGP_OK;
    for (size_t i = 0; i < n && st == IMGP_OK; i++)
        st = ntfs_decode_runs(ctx, ext[i], fs->boot.total_clusters, max_runs, &s->rl);
    imgp_free(ctx, ext);
    /* every vcn of the runlist must have a byte offset */
    if (st == IMGP_OK && runlist_end(&s->rl) > UINT64_MAX >> fs->boot.cluster_shift)
        st = ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu: attribute 0x%x maps %llu clusters",
                       (unsigned long long)in->record, type, (unsigned long long)runlist_end(&s->rl));
    if (st != IMGP_OK)
        ntfs_stream_free(fs, s);
    return st;
}

void ntfs_stream_free(ntfs_fs *fs, ntfs_stream *s)
{
    ntfs_runlist_free(fs->base.ctx, &s->rl);
}

/* The compression unit @p cu of a compressed stream, decompressed into fs->cu_buf. */
static imgp_status load_unit(ntfs_fs *fs, uint64_t record, const ntfs_stream *s, uint64_t cu)
{
    if (fs->cu_valid && fs->cu_record == record && fs->cu_index == cu)
        return IMGP_OK;
    fs->cu_valid = false;
    const unsigned shift = fs->boot.cluster_shift;
    const uint64_t clusters = 1ull << s->compression_unit, first = cu << s->compression_unit;
    const size_t unit = (size_t)clusters << shift;
    /* [NTFSDOC] "Compressed files": a unit whose clusters are all allocated
     * is stored as it is; one whose tail is sparse holds LZNT1 data in its
     * allocated head; a unit of holes reads as zeros */
    uint64_t allocated = 0, v = first;
    bool hole = false;
    while (v < first + clusters) {
        const ntfs_run *r = ntfs_runlist_find(&s->rl, v);
        if (!r)
            return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu: cluster %llu of the compressed attribute is "
                             "not mapped", (unsigned long long)record, (unsigned long long)v);
        uint64_t n = imgp_min_u64(r->vcn + r->len - v, first + clusters - v);
        if (r->lcn == NTFS_LCN_HOLE)
            hole = true;
        else if (hole)
            return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu: compression unit %llu has data after a hole",
                             (unsigned long long)record, (unsigned long long)cu);
        else
            allocated += n;
        v += n;
    }
    imgp_status st;
    if (allocated == 0) {
        memset(fs->cu_buf, 0, unit);
    } else if (!hole) {
        if ((st = read_runs(fs, record, &s->rl, first << shift, fs->cu_buf, unit)) != IMGP_OK)
            return st;
    } else {
        if ((st = read_runs(fs, record, &s->rl, first << shift, fs->cu_raw, (size_t)allocated << shift)) != IMGP_OK)
            return st;
        size_t got;
        st = ntfs_lznt1_decompress(fs->base.ctx, fs->cu_raw, (size_t)allocated << shift, fs->cu_buf, unit, &got);
        if (st != IMGP_OK)
            return imgp_error_prefix(fs->base.ctx, "MFT record %llu, compression unit %llu: ",
                                     (unsigned long long)record, (unsigned long long)cu);
    }
    fs->cu_record = record;
    fs->cu_index = cu;
    fs->cu_valid = true;
    return IMGP_OK;
}

static imgp_status read_compressed(ntfs_fs *fs, uint64_t record, const ntfs_stream *s, uint64_t off, uint8_t *buf,
                                   size_t len)
{
    if (s->compression_unit != NTFS_COMPRESSION_UNIT_LOG || fs->boot.cluster_size > NTFS_MAX_COMPRESSED_CLUSTER)
        return ntfs_fail(fs, IMGP_ERR_UNSUPPORTED, "MFT record %llu is compressed in units of 2^%u clusters of %u "
                         "bytes (Windows writes 16 clusters of at most 4 KiB)", (unsigned long long)record,
                         s->compression_unit, fs->boot.cluster_size);
    const unsigned unit_shift = fs->boot.cluster_shift + s->compression_unit;
    if (!fs->cu_buf) {
        fs->cu_buf = imgp_alloc(fs->base.ctx, (size_t)1 << unit_shift);
        fs->cu_raw = imgp_alloc(fs->base.ctx, (size_t)1 << unit_shift);
        if (!fs->cu_buf || !fs->cu_raw)
            return IMGP_ERR_NOMEM;
    }
    while (len > 0) {
        uint64_t cu = off >> unit_shift;
        size_t in_unit = (size_t)(off & (((uint64_t)1 << unit_shift) - 1));
        size_t n = (size_t)imgp_min_u64(len, ((size_t)1 << unit_shift) - in_unit);
        imgp_status st = load_unit(fs, record, s, cu);
        if (st != IMGP_OK)
            return st;
        memcpy(buf, fs->cu_buf + in_unit, n);
        buf += n;
        off += n;
        len -= n;
    }
    return IMGP_OK;
}

imgp_status ntfs_stream_read(ntfs_fs *fs, uint64_t record, const ntfs_stream *s, uint64_t off, uint8_t *buf,
                             size_t len)
{
    /* [NTFSDOC] "Attribute - $DATA": bytes past the initialised size read as zeros */
    uint64_t init = s->resident ? s->size : s->initialized_size;
    size_t data = off >= init ? 0 : (size_t)imgp_min_u64(len, init - off);
    memset(buf + data, 0, len - data);
    if (data == 0)
        return IMGP_OK;
    if (s->resident) {
        memcpy(buf, s->value + off, data);
        return IMGP_OK;
    }
    if (s->flags & NTFS_ATTR_ENCRYPTED)
        return ntfs_fail(fs, IMGP_ERR_UNSUPPORTED, "MFT record %llu is encrypted (EFS): its contents cannot be read",
                         (unsigned long long)record);
    if ((s->flags & NTFS_ATTR_COMPRESSED) && s->compression_unit)
        return read_compressed(fs, record, s, off, buf, data);
    return read_runs(fs, record, &s->rl, off, buf, data);
}
