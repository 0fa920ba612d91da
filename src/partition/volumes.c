/* The volume scan: partition table, contents, LVM, and the set's bookkeeping. */
#include <stdio.h>

#include "volumes.h"

extern const imgp_scheme imgp_scheme_gpt;
extern const imgp_scheme imgp_scheme_mbr;

/* GPT before MBR: a protective MBR is also a valid-looking MBR, and GPT scores it higher. */
static const imgp_scheme *const schemes[] = {
    &imgp_scheme_gpt,
    &imgp_scheme_mbr,
    NULL,
};

struct imgp_strnode {
    imgp_strnode *next;
    char s[];
};

const char *vol_keep(imgp_volumes *vols, const char *s)
{
    if (!s)
        return NULL;
    size_t len = strlen(s);
    imgp_strnode *n = imgp_alloc(vols->ctx, sizeof *n + len + 1);
    if (!n)
        return NULL;
    memcpy(n->s, s, len + 1);
    n->next = vols->strings;
    vols->strings = n;
    return n->s;
}

const char *vol_keepf(imgp_volumes *vols, const char *fmt, ...)
{
    char buf[IMGP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return vol_keep(vols, buf);
}

imgp_status vol_note(imgp_volumes *vols, imgp_note_level level, const char *fmt, ...)
{
    char buf[IMGP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (vols->info.nnotes == vols->notes_cap) {
        size_t cap = vols->notes_cap ? vols->notes_cap * 2 : 8;
        imgp_note *n = imgp_realloc(vols->ctx, vols->notes, cap * sizeof *n);
        if (!n)
            return IMGP_ERR_NOMEM;
        vols->notes = n;
        vols->notes_cap = cap;
        vols->info.notes = n;
    }
    const char *msg = vol_keep(vols, buf);
    if (!msg)
        return IMGP_ERR_NOMEM;
    vols->notes[vols->info.nnotes++] = (imgp_note){level, msg};
    return IMGP_OK;
}

/* Copy the strings of @p in into the set. */
static imgp_status keep_partition_strings(imgp_volumes *v, const imgp_partition *in, imgp_partition *out)
{
    *out = *in;
    out->index = vol_keep(v, in->index ? in->index : "?");
    out->type = vol_keep(v, in->type);
    out->type_name = vol_keep(v, in->type_name);
    out->name = vol_keep(v, in->name);
    out->uuid = vol_keep(v, in->uuid);
    out->unreadable = vol_keep(v, in->unreadable);
    out->content.type = vol_keep(v, in->content.type);
    out->content.version = vol_keep(v, in->content.version);
    out->content.label = vol_keep(v, in->content.label);
    out->content.uuid = vol_keep(v, in->content.uuid);
    if (!out->index || (in->type && !out->type) || (in->type_name && !out->type_name) || (in->name && !out->name) ||
        (in->uuid && !out->uuid) || (in->unreadable && !out->unreadable) || (in->content.type && !out->content.type) ||
        (in->content.version && !out->content.version) || (in->content.label && !out->content.label) ||
        (in->content.uuid && !out->content.uuid))
        return IMGP_ERR_NOMEM;
    return IMGP_OK;
}

imgp_status vol_add_partition(imgp_volumes *v, const imgp_partition *p)
{
    if (v->info.npartitions == v->parts_cap) {
        size_t cap = v->parts_cap ? v->parts_cap * 2 : 16;
        imgp_partition *n = imgp_realloc(v->ctx, v->parts, cap * sizeof *n);
        if (!n) {
            imgp_bdev_close(p->bdev);
            return IMGP_ERR_NOMEM;
        }
        v->parts = n;
        v->parts_cap = cap;
        v->info.partitions = n;
    }
    imgp_partition *out = &v->parts[v->info.npartitions];
    imgp_status st = keep_partition_strings(v, p, out);
    if (st != IMGP_OK) {
        imgp_bdev_close(p->bdev);
        return st;
    }
    v->info.npartitions++;
    return IMGP_OK;
}

imgp_status vol_add_slice(imgp_volumes *v, const imgp_partition *p)
{
    imgp_partition q = *p;
    q.bdev = NULL;
    if (q.is_container)
        return vol_add_partition(v, &q);
    if (q.size == 0) {
        q.unreadable = "empty";
    } else if (imgp_range_outside(q.start, q.size, v->disk->size)) {
        q.unreadable = "reaches past the end of the disk";
        imgp_status st = vol_note(v, IMGP_NOTE_WARNING,
                                  "partition %s (%llu bytes at %llu) reaches past the end of the disk (%llu bytes)",
                                  q.index, (unsigned long long)q.size, (unsigned long long)q.start,
                                  (unsigned long long)v->disk->size);
        if (st != IMGP_OK)
            return st;
    } else {
        char name[IMGP_MSG_MAX];
        snprintf(name, sizeof name, "%s p%s", v->disk->name, q.index);
        imgp_status st = imgp_bdev_slice_open(v->disk, q.start, q.size, name, &q.bdev);
        if (st != IMGP_OK)
            return st;
    }
    return vol_add_partition(v, &q);
}

imgp_status vol_keep_bdev(imgp_volumes *v, imgp_bdev *bd)
{
    if (v->nextra == v->extra_cap) {
        size_t cap = v->extra_cap ? v->extra_cap * 2 : 8;
        imgp_bdev **n = imgp_realloc(v->ctx, v->extra_bdevs, cap * sizeof *n);
        if (!n) {
            imgp_bdev_close(bd);
            return IMGP_ERR_NOMEM;
        }
        v->extra_bdevs = n;
        v->extra_cap = cap;
    }
    v->extra_bdevs[v->nextra++] = bd;
    return IMGP_OK;
}

/* Name what @p p holds. A device we cannot read is a note, not a failure of the scan. */
static imgp_status fill_content(imgp_volumes *v, imgp_partition *p)
{
    content_result r;
    if (!p->bdev || p->content.type)
        return IMGP_OK;
    imgp_status st = content_probe(p->bdev, &r);
    if (st == IMGP_ERR_NOMEM)
        return st;
    if (st != IMGP_OK) {
        st = vol_note(v, IMGP_NOTE_WARNING, "%s %s: cannot read its superblock: %s",
                      p->is_logical_volume ? "logical volume" : "partition", p->index, imgp_ctx_message(v->ctx));
        p->content.type = vol_keep(v, "unknown");
        return st != IMGP_OK ? st : p->content.type ? IMGP_OK : IMGP_ERR_NOMEM;
    }
    p->content.type = vol_keep(v, r.type);
    p->content.version = r.version[0] ? vol_keep(v, r.version) : NULL;
    p->content.label = r.label[0] ? vol_keep(v, r.label) : NULL;
    p->content.uuid = r.uuid[0] ? vol_keep(v, r.uuid) : NULL;
    if (!p->content.type || (r.version[0] && !p->content.version) || (r.label[0] && !p->content.label) ||
        (r.uuid[0] && !p->content.uuid))
        return IMGP_ERR_NOMEM;
    return IMGP_OK;
}

/* Partitions that share bytes (an extended container and its logicals excepted) are noted. */
static imgp_status note_overlaps(imgp_volumes *v)
{
    for (size_t i = 0; i < v->info.npartitions; i++) {
        const imgp_partition *a = &v->parts[i];
        if (a->is_container || a->is_logical_volume || !a->size)
            continue;
        for (size_t j = i + 1; j < v->info.npartitions; j++) {
            const imgp_partition *b = &v->parts[j];
            if (b->is_container || b->is_logical_volume || !b->size)
                continue;
            if (a->start < b->start + b->size && b->start < a->start + a->size) {
                imgp_status st = vol_note(v, IMGP_NOTE_WARNING, "partitions %s and %s overlap", a->index, b->index);
                if (st != IMGP_OK)
                    return st;
            }
        }
    }
    return IMGP_OK;
}

static imgp_status choose_scheme(imgp_volumes *v, const imgp_scheme **out)
{
    *out = NULL;
    size_t len = (size_t)imgp_min_u64(v->disk->size, IMGP_SCHEME_HEAD);
    uint8_t *head = imgp_alloc(v->ctx, len);
    if (!head)
        return IMGP_ERR_NOMEM;
    imgp_status st = imgp_bdev_read(v->disk, 0, head, len);
    int best = 0;
    bool tie = false;
    for (const imgp_scheme *const *s = schemes; st == IMGP_OK && *s; s++) {
        int score = (*s)->probe(head, len, v->disk->size);
        if (score > best) {
            best = score;
            *out = *s;
            tie = false;
        } else if (score > 0 && score == best) {
            tie = true;
        }
    }
    imgp_free(v->ctx, head);
    if (st == IMGP_OK && tie) {
        st = vol_note(v, IMGP_NOTE_WARNING, "partition table: two schemes claim the disk equally; none used");
        *out = NULL;
    }
    return st;
}

imgp_status imgp_volumes_scan(imgp_ctx *ctx, imgp_bdev *disk, imgp_volumes **out)
{
    *out = NULL;
    imgp_volumes *v = imgp_calloc(ctx, 1, sizeof *v);
    if (!v)
        return IMGP_ERR_NOMEM;
    v->ctx = ctx;
    v->disk = disk;
    v->info.scheme = "none";
    v->info.sector_size = disk->sector_size ? disk->sector_size : 512;
    v->info.disk = (imgp_partition){.index = "disk", .start = 0, .size = disk->size, .bdev = disk};

    const imgp_scheme *scheme;
    imgp_status st = choose_scheme(v, &scheme);
    if (st == IMGP_OK && scheme) {
        v->info.scheme = scheme->name;
        st = scheme->parse(v);
    }
    if (st == IMGP_OK)
        st = note_overlaps(v);
    /* the whole disk's content matters when there is no table (a filesystem on the whole disk) */
    if (st == IMGP_OK && (!scheme || v->info.npartitions == 0))
        st = fill_content(v, &v->info.disk);
    for (size_t i = 0; st == IMGP_OK && i < v->info.npartitions; i++)
        st = fill_content(v, &v->parts[i]);
    size_t before_lvm = v->info.npartitions;
    if (st == IMGP_OK)
        st = lvm_scan(v);
    for (size_t i = before_lvm; st == IMGP_OK && i < v->info.npartitions; i++)
        st = fill_content(v, &v->parts[i]);
    if (st != IMGP_OK) {
        imgp_volumes_free(v);
        return st;
    }
    *out = v;
    return IMGP_OK;
}

const imgp_volume_info *imgp_volumes_get_info(const imgp_volumes *v) { return &v->info; }

void imgp_volumes_free(imgp_volumes *v)
{
    if (!v)
        return;
    imgp_ctx *ctx = v->ctx;
    /* logical volumes read through PV slices: close them first */
    for (size_t i = v->info.npartitions; i-- > 0;)
        imgp_bdev_close(v->parts[i].bdev);
    for (size_t i = v->nextra; i-- > 0;)
        imgp_bdev_close(v->extra_bdevs[i]);
    for (imgp_strnode *n = v->strings, *next; n; n = next) {
        next = n->next;
        imgp_free(ctx, n);
    }
    imgp_free(ctx, v->extra_bdevs);
    imgp_free(ctx, v->parts);
    imgp_free(ctx, v->notes);
    imgp_free(ctx, v);
}
