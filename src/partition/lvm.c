/*
 * LVM2: the label and PV header, the metadata areas, and the scan that turns
 * the physical volumes found on a disk into logical volumes.
 *
 * The scan looks for a label in sectors 0..3 of every partition (of the whole
 * disk when there is no partition table) rather than trusting the content
 * probe. For each PV it reads every metadata area, keeps the copy with the
 * highest seqno, groups PVs into volume groups by VG id, takes each group's
 * newest metadata, finds every PV that metadata names by its UUID, and adds
 * each logical volume to the volume set (index "vg/lv"). What cannot be read
 * becomes a note or an LV's unreadable reason, never a failed scan.
 */
#include <stdio.h>

#include "../core/cursor.h"
#include "lvm.h"

/* ---- lvm2's CRC (lib/misc/crc.c) ---- */

/* CRC-32 of one nibble for the reflected polynomial 0xedb88320. */
static const uint32_t crc_nibble[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t lvm_crc(uint32_t crc, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        crc ^= buf[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 0xf];
        crc = (crc >> 4) ^ crc_nibble[crc & 0xf];
    }
    return crc;
}

void lvm_uuid_format(const char *id, char *out)
{
    /* lib/uuid/uuid.c id_write_format: groups of 6-4-4-4-4-4-6 */
    static const unsigned groups[] = {6, 4, 4, 4, 4, 4, 6};
    size_t o = 0, i = 0;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        if (g)
            out[o++] = '-';
        for (unsigned k = 0; k < groups[g]; k++)
            out[o++] = id[i++];
    }
    out[o] = '\0';
}

/* ---- the label and PV header ---- */

bool lvm_id_char(unsigned char c)
{
    /* lib/uuid/uuid.c: the 64 characters an id is made of */
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '!' || c == '#';
}

/* One list of disk_locn ending with a zero offset, inside the label sector. */
static imgp_status area_list(imgp_ctx *ctx, imgp_cursor *c, uint32_t sector, const char *what, lvm_area *areas,
                             size_t *n)
{
    for (;;) {
        uint64_t offset = imgp_cur_le64(c), size = imgp_cur_le64(c);
        if (!imgp_cur_ok(c))
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 label in sector %u: the %s area list runs past the sector",
                              sector, what);
        if (offset == 0)
            return IMGP_OK;
        if (*n == LVM_MAX_AREAS)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 label in sector %u: more than %u %s areas", sector,
                              LVM_MAX_AREAS, what);
        areas[(*n)++] = (lvm_area){offset, size};
    }
}

/* The label in @p sec (LVM_LABEL_SIZE bytes), which starts with LABELONE, read from sector @p sector. */
static imgp_status label_sector_parse(imgp_ctx *ctx, const uint8_t *sec, uint32_t sector, lvm_label *out)
{
    imgp_cursor c = imgp_cur_init(sec, LVM_LABEL_SIZE);
    uint64_t said = imgp_cur_le64_at(&c, LVM_LABEL_SECTOR_XL);
    uint32_t crc = imgp_cur_le32_at(&c, LVM_LABEL_CRC_XL);
    uint32_t pvh_off = imgp_cur_le32_at(&c, LVM_LABEL_OFFSET_XL);
    const uint8_t *type = imgp_cur_ptr_at(&c, LVM_LABEL_TYPE, LVM_LABEL_TYPE_LEN);
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 label in sector %u is truncated", sector);
    /* label.c _find_lvm_header: a label copied to another sector is not used */
    if (said != sector)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 label in sector %u says it belongs in sector %llu", sector,
                          (unsigned long long)said);
    uint32_t computed = lvm_crc(LVM_INITIAL_CRC, sec + LVM_LABEL_OFFSET_XL, LVM_LABEL_SIZE - LVM_LABEL_OFFSET_XL);
    if (crc != computed)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 label in sector %u: checksum 0x%08x, computed 0x%08x", sector,
                          crc, computed);
    if (memcmp(type, LVM_LABEL_TYPE_LVM2, LVM_LABEL_TYPE_LEN) != 0) {
        char shown[LVM_LABEL_TYPE_LEN + 1];
        for (unsigned i = 0; i < LVM_LABEL_TYPE_LEN; i++)
            shown[i] = type[i] >= 0x20 && type[i] < 0x7f ? (char)type[i] : '?';
        shown[LVM_LABEL_TYPE_LEN] = '\0';
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "label in sector %u has type '%s', not '%s'", sector, shown,
                          LVM_LABEL_TYPE_LVM2);
    }
    /* text_label.c label_check_pv_layout */
    if (pvh_off > LVM_LABEL_SIZE - LVM_PVH_MIN_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 label in sector %u: PV header offset %u lies outside the sector",
                          sector, pvh_off);
    imgp_cursor pvh = imgp_cur_init(sec + pvh_off, LVM_LABEL_SIZE - pvh_off);
    const uint8_t *uuid = imgp_cur_ptr_at(&pvh, LVM_PVH_UUID, LVM_ID_LEN);
    for (unsigned i = 0; i < LVM_ID_LEN; i++)
        if (!lvm_id_char(uuid[i]))
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 label in sector %u: PV UUID has byte 0x%02x at %u", sector,
                              uuid[i], i);
    memset(out, 0, sizeof *out);
    out->sector = sector;
    memcpy(out->pv_uuid, uuid, LVM_ID_LEN);
    out->device_size = imgp_cur_le64_at(&pvh, LVM_PVH_DEVICE_SIZE);
    imgp_cur_seek(&pvh, LVM_PVH_AREAS);
    imgp_status st = area_list(ctx, &pvh, sector, "data", out->data, &out->ndata);
    if (st == IMGP_OK)
        st = area_list(ctx, &pvh, sector, "metadata", out->meta, &out->nmeta);
    return st;
}

imgp_status lvm_label_parse(imgp_ctx *ctx, const uint8_t *buf, size_t len, lvm_label *out)
{
    imgp_status first = IMGP_ERR_NOT_FOUND;
    char first_msg[IMGP_MSG_MAX] = "";
    for (uint32_t s = 0; s < LVM_LABEL_SCAN_SECTORS && (size_t)(s + 1) * LVM_LABEL_SIZE <= len; s++) {
        const uint8_t *sec = buf + (size_t)s * LVM_LABEL_SIZE;
        if (memcmp(sec, LVM_LABEL_ID, LVM_LABEL_ID_LEN) != 0)
            continue;
        lvm_label candidate;
        imgp_status st = label_sector_parse(ctx, sec, s, &candidate);
        if (st == IMGP_OK) {
            *out = candidate;
            return IMGP_OK;
        }
        if (first == IMGP_ERR_NOT_FOUND) {
            first = st;
            snprintf(first_msg, sizeof first_msg, "%s", imgp_ctx_message(ctx));
        }
    }
    return first == IMGP_ERR_NOT_FOUND ? first : imgp_error(ctx, first, "%s", first_msg);
}

/* ---- the metadata area header ---- */

imgp_status lvm_mda_header_parse(imgp_ctx *ctx, const uint8_t *buf, size_t len, uint64_t expect_start,
                                 lvm_mda_header *out)
{
    if (len < LVM_MDA_HEADER_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 metadata area header at 0x%llx: %zu bytes, not %u",
                          (unsigned long long)expect_start, len, LVM_MDA_HEADER_SIZE);
    imgp_cursor c = imgp_cur_init(buf, LVM_MDA_HEADER_SIZE);
    uint32_t checksum = imgp_cur_le32_at(&c, LVM_MDA_CHECKSUM);
    const uint8_t *magic = imgp_cur_ptr_at(&c, LVM_MDA_MAGIC, LVM_MDA_MAGIC_LEN);
    uint32_t version = imgp_cur_le32_at(&c, LVM_MDA_VERSION);
    *out = (lvm_mda_header){
        .start = imgp_cur_le64_at(&c, LVM_MDA_START),
        .size = imgp_cur_le64_at(&c, LVM_MDA_SIZE),
        .text = {.offset = imgp_cur_le64_at(&c, LVM_MDA_RAW_LOCNS + LVM_RLOCN_OFFSET),
                 .size = imgp_cur_le64_at(&c, LVM_MDA_RAW_LOCNS + LVM_RLOCN_SIZE),
                 .checksum = imgp_cur_le32_at(&c, LVM_MDA_RAW_LOCNS + LVM_RLOCN_CHECKSUM),
                 .flags = imgp_cur_le32_at(&c, LVM_MDA_RAW_LOCNS + LVM_RLOCN_FLAGS)},
    };
    if (!imgp_cur_ok(&c))
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 metadata area header at 0x%llx is truncated",
                          (unsigned long long)expect_start);
    /* format-text.c raw_parse_mda_header; the magic first, so a wiped area says so */
    if (memcmp(magic, LVM_MDA_MAGIC_BYTES, LVM_MDA_MAGIC_LEN) != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 metadata area header at 0x%llx: no magic",
                          (unsigned long long)expect_start);
    uint32_t computed = lvm_crc(LVM_INITIAL_CRC, buf + LVM_MDA_MAGIC, LVM_MDA_HEADER_SIZE - LVM_MDA_MAGIC);
    if (checksum != computed)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 metadata area header at 0x%llx: checksum 0x%08x, computed 0x%08x",
                          (unsigned long long)expect_start, checksum, computed);
    if (version != LVM_MDA_VERSION_1)
        return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "lvm2 metadata area header at 0x%llx: version %u, not %u",
                          (unsigned long long)expect_start, version, LVM_MDA_VERSION_1);
    if (out->start != expect_start)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 metadata area header at 0x%llx says it is at 0x%llx",
                          (unsigned long long)expect_start, (unsigned long long)out->start);
    if (out->size < LVM_MDA_HEADER_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 metadata area at 0x%llx: size %llu is smaller than its header",
                          (unsigned long long)expect_start, (unsigned long long)out->size);
    return IMGP_OK;
}

imgp_status lvm_text_span_get(imgp_ctx *ctx, const lvm_mda_header *h, uint64_t limit, lvm_text_span *out)
{
    const lvm_raw_locn *t = &h->text;
    memset(out, 0, sizeof *out);
    if ((t->flags & LVM_RLOCN_IGNORED) || (t->offset == 0 && t->size == 0))
        return IMGP_ERR_NOT_FOUND;
    /* format-text.c _vg_read_raw_area; the text never starts inside the header */
    if (t->offset < LVM_MDA_HEADER_SIZE || t->offset >= h->size)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "lvm2 metadata area at 0x%llx: text offset 0x%llx lies outside the area (0x%x..0x%llx)",
                          (unsigned long long)h->start, (unsigned long long)t->offset, LVM_MDA_HEADER_SIZE,
                          (unsigned long long)h->size);
    if (t->size == 0 || t->size > h->size - LVM_MDA_HEADER_SIZE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "lvm2 metadata area at 0x%llx: %llu bytes of text do not fit in its %llu bytes",
                          (unsigned long long)h->start, (unsigned long long)t->size,
                          (unsigned long long)(h->size - LVM_MDA_HEADER_SIZE));
    if (t->size > limit)
        return imgp_error(ctx, IMGP_ERR_LIMIT,
                          "lvm2 metadata area at 0x%llx: %llu bytes of text exceed the limit of %llu (lvm_metadata)",
                          (unsigned long long)h->start, (unsigned long long)t->size, (unsigned long long)limit);
    out->off1 = t->offset;
    out->len1 = imgp_min_u64(t->size, h->size - t->offset);
    if (out->len1 < t->size) {
        out->off2 = LVM_MDA_HEADER_SIZE;
        out->len2 = t->size - out->len1;
    }
    return IMGP_OK;
}

/* ---- the scan ---- */

/* A physical volume found on the disk. */
typedef struct pv_found {
    imgp_bdev *bdev;        /* not owned: a partition's device, or the disk */
    char where[48];         /* "partition 2", "the disk" */
    lvm_label label;
    lvm_meta *meta;         /* its newest metadata copy, or NULL */
    lvm_vg *vg;             /* read from meta */
    bool grouped;           /* its VG has been dealt with */
} pv_found;

typedef struct scan_state {
    imgp_volumes *vols;
    imgp_ctx *ctx;
    pv_found *pvs;
    size_t npvs, cap;
    size_t nlvs;            /* logical volumes added, all VGs */
} scan_state;

/* A note about @p where after a failure @p st: its message is on the context. NOMEM passes through. */
static imgp_status note_failure(scan_state *s, imgp_status st, const char *where, const char *what)
{
    if (st == IMGP_ERR_NOMEM)
        return st;
    return vol_note(s->vols, IMGP_NOTE_WARNING, "%s: %s: %s", where, what, imgp_ctx_message(s->ctx));
}

/* Keep @p m and @p vg as @p pv's metadata when they are newer than what it has; free the other. */
static void keep_newer(scan_state *s, pv_found *pv, lvm_meta *m, lvm_vg *vg)
{
    if (!pv->vg || vg->seqno > pv->vg->seqno) {
        lvm_vg_free(s->ctx, pv->vg);
        lvm_meta_free(pv->meta);
        pv->meta = m;
        pv->vg = vg;
    } else {
        lvm_vg_free(s->ctx, vg);
        lvm_meta_free(m);
    }
}

/* Read metadata area @p k of @p pv; keep the volume group it describes when it is newer than what @p pv has. */
static imgp_status read_mda(scan_state *s, pv_found *pv, size_t k)
{
    const lvm_area *area = &pv->label.meta[k];
    char what[64];
    snprintf(what, sizeof what, "metadata area %zu", k + 1);
    if (area->size < LVM_MDA_HEADER_SIZE || imgp_range_outside(area->offset, area->size, pv->bdev->size))
        return vol_note(s->vols, IMGP_NOTE_WARNING,
                        "lvm2: %s: %s (%llu bytes at 0x%llx) does not fit on the device (%llu bytes)", pv->where,
                        what, (unsigned long long)area->size, (unsigned long long)area->offset,
                        (unsigned long long)pv->bdev->size);
    uint8_t hdr[LVM_MDA_HEADER_SIZE];
    lvm_mda_header h;
    lvm_text_span span;
    imgp_status st = imgp_bdev_read(pv->bdev, area->offset, hdr, sizeof hdr);
    if (st == IMGP_OK)
        st = lvm_mda_header_parse(s->ctx, hdr, sizeof hdr, area->offset, &h);
    if (st == IMGP_OK && h.size > area->size)
        st = imgp_error(s->ctx, IMGP_ERR_CORRUPT, "its header says %llu bytes, the PV header %llu",
                        (unsigned long long)h.size, (unsigned long long)area->size);
    if (st == IMGP_OK)
        st = lvm_text_span_get(s->ctx, &h, imgp_ctx_limit(s->ctx, IMGP_LIMIT_LVM_METADATA), &span);
    if (st == IMGP_ERR_NOT_FOUND)
        return IMGP_OK; /* no metadata kept here: an orphan PV, or an area marked ignored */
    if (st != IMGP_OK)
        return note_failure(s, st, pv->where, what);

    /* the area lies inside the device, and the span inside the area */
    size_t total = (size_t)(span.len1 + span.len2);
    uint8_t *text = imgp_alloc(s->ctx, total);
    if (!text)
        return IMGP_ERR_NOMEM;
    st = imgp_bdev_read(pv->bdev, area->offset + span.off1, text, (size_t)span.len1);
    if (st == IMGP_OK)
        st = imgp_bdev_read(pv->bdev, area->offset + span.off2, text + span.len1, (size_t)span.len2);
    uint32_t computed = st == IMGP_OK ? lvm_crc(LVM_INITIAL_CRC, text, total) : 0;
    if (st == IMGP_OK && computed != h.text.checksum)
        st = imgp_error(s->ctx, IMGP_ERR_CORRUPT, "metadata text at 0x%llx: checksum 0x%08x, computed 0x%08x",
                        (unsigned long long)(area->offset + span.off1), h.text.checksum, computed);
    lvm_meta *m = NULL;
    lvm_vg *vg = NULL;
    if (st == IMGP_OK)
        st = lvm_meta_parse(s->ctx, (const char *)text, total, &m);
    imgp_free(s->ctx, text);
    if (st == IMGP_OK)
        st = lvm_vg_from_meta(s->ctx, m, &vg);
    if (st != IMGP_OK) {
        lvm_meta_free(m);
        return note_failure(s, st, pv->where, what);
    }
    keep_newer(s, pv, m, vg);
    return IMGP_OK;
}

/* What a PV partition holds, when the content probe has not said. */
static imgp_status set_pv_content(scan_state *s, imgp_partition *p, const lvm_label *label)
{
    if (p->content.type && strcmp(p->content.type, "unknown") != 0)
        return IMGP_OK;
    char uuid[LVM_UUID_STR_LEN + 1];
    lvm_uuid_format(label->pv_uuid, uuid);
    /* as blkid names them: LVM2_member, its label type as the version, the UUID as lvm2 prints it */
    p->content.type = vol_keep(s->vols, "lvm2_member");
    p->content.version = vol_keep(s->vols, LVM_LABEL_TYPE_LVM2);
    p->content.uuid = vol_keep(s->vols, uuid);
    return p->content.type && p->content.version && p->content.uuid ? IMGP_OK : IMGP_ERR_NOMEM;
}

/* Look for a label on @p p (a partition or the disk); read a PV's metadata areas. */
static imgp_status probe_pv(scan_state *s, imgp_partition *p, const char *where)
{
    uint8_t head[LVM_LABEL_SCAN_SECTORS * LVM_LABEL_SIZE];
    size_t len = (size_t)imgp_min_u64(p->bdev->size, sizeof head);
    lvm_label label;
    imgp_status st = imgp_bdev_read(p->bdev, 0, head, len);
    if (st == IMGP_OK)
        st = lvm_label_parse(s->ctx, head, len, &label);
    if (st == IMGP_ERR_NOT_FOUND)
        return IMGP_OK;
    if (st != IMGP_OK)
        return note_failure(s, st, where, "LVM2 label");

    for (size_t i = 0; i < s->npvs; i++) {
        if (strcmp(s->pvs[i].label.pv_uuid, label.pv_uuid) == 0) {
            char uuid[LVM_UUID_STR_LEN + 1];
            lvm_uuid_format(label.pv_uuid, uuid);
            return vol_note(s->vols, IMGP_NOTE_WARNING, "lvm2: %s and %s carry the same PV UUID %s; %s is not used",
                            s->pvs[i].where, where, uuid, where);
        }
    }
    if (s->npvs == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        pv_found *n = imgp_realloc(s->ctx, s->pvs, cap * sizeof *n);
        if (!n)
            return IMGP_ERR_NOMEM;
        s->pvs = n;
        s->cap = cap;
    }
    pv_found *pv = &s->pvs[s->npvs++];
    *pv = (pv_found){.bdev = p->bdev, .label = label};
    snprintf(pv->where, sizeof pv->where, "%s", where);
    st = set_pv_content(s, p, &label);
    for (size_t k = 0; st == IMGP_OK && k < label.nmeta; k++)
        st = read_mda(s, pv, k);
    return st;
}

static const char *vg_key(const lvm_vg *vg) { return vg->id ? vg->id : vg->name; }

/* Add the logical volumes of @p vg, whose PVs are at @p places. */
static imgp_status add_lvs(scan_state *s, lvm_vg *vg, const lvm_pv_place *places)
{
    imgp_status st = IMGP_OK;
    for (size_t i = 0; st == IMGP_OK && i < vg->nlvs; i++) {
        lvm_lv *lv = &vg->lvs[i];
        if (lv->unlisted) {
            st = vol_note(s->vols, IMGP_NOTE_WARNING,
                          "lvm2: volume group %s: the logical volume at line %u of its metadata is not listed: %s",
                          vg->name, lv->line, lv->unreadable);
            continue;
        }
        if (s->nlvs == LVM_MAX_LVS)
            return vol_note(s->vols, IMGP_NOTE_WARNING,
                            "lvm2: volume group %s: more than %u logical volumes on the disk; the rest are not listed",
                            vg->name, LVM_MAX_LVS);
        char *index = imgp_asprintf(s->ctx, "%s/%s", vg->name, lv->name);
        if (!index)
            return IMGP_ERR_NOMEM;
        imgp_partition p = {
            .index = index,
            .start = 0,
            .size = lv->size,
            .type = lv->type,
            .type_name = lv->visible ? "LVM logical volume" : "LVM hidden sub-volume",
            .name = lv->name,
            .uuid = lv->id,
            .is_logical_volume = true,
        };
        char *dev_name = imgp_asprintf(s->ctx, "%s %s", s->vols->disk->name, index);
        st = dev_name ? lvm_lv_open(s->ctx, vg, lv, places, dev_name, &p.bdev) : IMGP_ERR_NOMEM;
        p.unreadable = lv->unreadable;
        if (st == IMGP_OK)
            st = vol_add_partition(s->vols, &p);
        imgp_free(s->ctx, dev_name);
        imgp_free(s->ctx, index);
        s->nlvs++;
    }
    return st;
}

/* Find the PVs that @p vg names among those on the disk; note the missing and the too short. */
static imgp_status place_pvs(scan_state *s, const lvm_vg *vg, lvm_pv_place *places)
{
    size_t missing = 0;
    for (size_t k = 0; k < vg->npvs; k++) {
        const lvm_pv *pv = &vg->pvs[k];
        places[k] = (lvm_pv_place){NULL, NULL};
        for (size_t i = 0; i < s->npvs && !places[k].bdev; i++)
            if (strcmp(s->pvs[i].label.pv_uuid, pv->uuid) == 0)
                places[k] = (lvm_pv_place){s->pvs[i].bdev, s->pvs[i].where};
        imgp_status st = IMGP_OK;
        char uuid[LVM_UUID_STR_LEN + 1];
        lvm_uuid_format(pv->uuid, uuid);
        if (!places[k].bdev && missing++ < 8) {
            st = vol_note(s->vols, IMGP_NOTE_WARNING,
                          "lvm2: volume group %s: physical volume %s (UUID %s) is not on this disk; logical volumes "
                          "that use it cannot be read",
                          vg->name, pv->name, uuid);
        } else if (places[k].bdev) {
            uint64_t end = pv->pe_start * LVM_SECTOR + pv->pe_count * vg->extent_size * LVM_SECTOR;
            if (end > places[k].bdev->size)
                st = vol_note(s->vols, IMGP_NOTE_WARNING,
                              "lvm2: volume group %s: physical volume %s on %s: its extents end at byte %llu, past "
                              "the end of the device (%llu bytes)",
                              vg->name, pv->name, places[k].where, (unsigned long long)end,
                              (unsigned long long)places[k].bdev->size);
        }
        if (st != IMGP_OK)
            return st;
    }
    if (missing > 8)
        return vol_note(s->vols, IMGP_NOTE_WARNING, "lvm2: volume group %s: %zu more physical volumes are missing",
                        vg->name, missing - 8);
    return IMGP_OK;
}

/* Assemble the VG of s->pvs[first] from every PV that carries its metadata; add its LVs. */
static imgp_status assemble_vg(scan_state *s, size_t first)
{
    pv_found *best = &s->pvs[first];
    const char *key = vg_key(best->vg);
    for (size_t i = first; i < s->npvs; i++) {
        pv_found *pv = &s->pvs[i];
        if (pv->vg && !pv->grouped && strcmp(vg_key(pv->vg), key) == 0) {
            pv->grouped = true;
            if (pv->vg->seqno > best->vg->seqno)
                best = pv;
        }
    }
    lvm_vg *vg = best->vg;
    for (size_t i = first; i < s->npvs; i++) {
        const pv_found *pv = &s->pvs[i];
        if (pv->vg && pv != best && strcmp(vg_key(pv->vg), key) == 0 && pv->vg->seqno != vg->seqno) {
            imgp_status st = vol_note(s->vols, IMGP_NOTE_INFO,
                                      "lvm2: volume group %s: %s holds older metadata (seqno %lld) than %s (seqno "
                                      "%lld); the newer is used",
                                      vg->name, pv->where, (long long)pv->vg->seqno, best->where,
                                      (long long)vg->seqno);
            if (st != IMGP_OK)
                return st;
        }
    }
    /* "vg/lv" must name one volume: a second VG of the same name (another id) is not read */
    for (size_t i = 0; i < first; i++) {
        const pv_found *pv = &s->pvs[i];
        if (pv->vg && strcmp(pv->vg->name, vg->name) == 0)
            return vol_note(s->vols, IMGP_NOTE_WARNING,
                            "lvm2: two volume groups are named %s (on %s and on %s); the second is not read",
                            vg->name, pv->where, best->where);
    }
    lvm_pv_place *places = imgp_calloc(s->ctx, vg->npvs ? vg->npvs : 1, sizeof *places);
    if (!places)
        return IMGP_ERR_NOMEM;
    imgp_status st = place_pvs(s, vg, places);
    if (st == IMGP_OK)
        st = add_lvs(s, vg, places);
    imgp_free(s->ctx, places);
    return st;
}

imgp_status lvm_scan(imgp_volumes *vols)
{
    scan_state s = {.vols = vols, .ctx = vols->ctx};
    imgp_status st = IMGP_OK;
    size_t nparts = vols->info.npartitions;
    if (nparts == 0 && vols->info.disk.bdev) {
        st = probe_pv(&s, &vols->info.disk, "the disk");
    } else {
        for (size_t i = 0; st == IMGP_OK && i < nparts; i++) {
            imgp_partition *p = &vols->parts[i];
            if (!p->bdev || p->is_container || p->is_logical_volume)
                continue;
            char where[48];
            snprintf(where, sizeof where, "partition %s", p->index);
            st = probe_pv(&s, p, where);
        }
    }
    /* vols->parts may move from here on: LVs are appended */
    for (size_t i = 0; st == IMGP_OK && i < s.npvs; i++)
        if (s.pvs[i].vg && !s.pvs[i].grouped)
            st = assemble_vg(&s, i);
    for (size_t i = 0; i < s.npvs; i++) {
        lvm_vg_free(s.ctx, s.pvs[i].vg);
        lvm_meta_free(s.pvs[i].meta);
    }
    imgp_free(s.ctx, s.pvs);
    return st;
}
