/*
 * MBR (the DOS partition table): four primary records in sector 0, and the
 * chain of Extended Boot Records inside an extended partition, read as Linux
 * (block/partitions/msdos.c) and util-linux's fdisk read them. Layout and
 * spec references in mbr_disk.h.
 */
#include <stdio.h>

#include "../core/cursor.h"
#include "gpt_disk.h"
#include "mbr.h"
#include "parttypes.h"

bool mbr_sector_parse(const uint8_t *buf, size_t len, mbr_sector *out)
{
    imgp_cursor c = imgp_cur_init(buf, len);
    memset(out, 0, sizeof *out);
    if (imgp_cur_u8_at(&c, MBR_SIGNATURE) != MBR_SIGNATURE_0 ||
        imgp_cur_u8_at(&c, MBR_SIGNATURE + 1) != MBR_SIGNATURE_1 || !imgp_cur_ok(&c))
        return false;
    out->disk_signature = imgp_cur_le32_at(&c, MBR_DISK_SIGNATURE);
    for (size_t i = 0; i < MBR_RECORD_COUNT; i++) {
        size_t at = MBR_PARTITION_RECORDS + i * MBR_RECORD_SIZE;
        mbr_record *r = &out->records[i];
        r->boot = imgp_cur_u8_at(&c, at + MBR_REC_BOOT_INDICATOR);
        r->type = imgp_cur_u8_at(&c, at + MBR_REC_OS_TYPE);
        r->start = imgp_cur_le32_at(&c, at + MBR_REC_STARTING_LBA);
        r->count = imgp_cur_le32_at(&c, at + MBR_REC_SIZE_IN_LBA);
    }
    return imgp_cur_ok(&c);
}

bool mbr_type_is_extended(uint8_t type)
{
    return type == MBR_TYPE_EXTENDED_CHS || type == MBR_TYPE_EXTENDED_LBA || type == MBR_TYPE_EXTENDED_LINUX;
}

static bool bytes_at(imgp_cursor *c, size_t off, const char *s)
{
    const uint8_t *p = imgp_cur_ptr_at(c, off, strlen(s));
    return p && memcmp(p, s, strlen(s)) == 0;
}

/* A FAT BPB that names no type (DOS 3.3 floppies): a jump, then fields as the
 * spec bounds them. Linux (msdos.c) takes reserved sectors, FATs and a valid
 * media byte beside an odd boot indicator as a FAT filesystem, not a table. */
static bool looks_like_old_fat_bpb(imgp_cursor *c)
{
    uint8_t jump = imgp_cur_u8_at(c, VBR_JUMP), media = imgp_cur_u8_at(c, VBR_BPB_MEDIA);
    uint16_t sector_size = imgp_cur_le16_at(c, VBR_BPB_BYTS_PER_SEC);
    bool jumps = (jump == VBR_JUMP_SHORT && imgp_cur_u8_at(c, VBR_JUMP + 2) == VBR_JUMP_SHORT_NOP) ||
                 jump == VBR_JUMP_NEAR;
    return jumps && imgp_is_pow2(sector_size) && sector_size >= 512 && sector_size <= 4096 &&
           imgp_is_pow2(imgp_cur_u8_at(c, VBR_BPB_SEC_PER_CLUS)) && imgp_cur_le16_at(c, VBR_BPB_RSVD_SEC_CNT) &&
           imgp_cur_u8_at(c, VBR_BPB_NUM_FATS) && (media == 0xF0 || media >= 0xF8) && imgp_cur_ok(c);
}

/* The boot sector of a filesystem on the whole disk (Microsoft's FAT spec,
 * "Boot Sector and BPB"; NTFS and exFAT put their names at the OEM field). */
static bool looks_like_filesystem_boot_sector(const uint8_t *head, size_t len)
{
    imgp_cursor c = imgp_cur_init(head, len);
    return bytes_at(&c, VBR_OEM_NAME, "NTFS    ") || bytes_at(&c, VBR_OEM_NAME, "EXFAT   ") ||
           bytes_at(&c, VBR_FAT16_FS_TYPE, "FAT12") || bytes_at(&c, VBR_FAT16_FS_TYPE, "FAT16") ||
           bytes_at(&c, VBR_FAT32_FS_TYPE, "FAT32") || looks_like_old_fat_bpb(&c);
}

int mbr_score(const uint8_t *head, size_t len)
{
    mbr_sector m;
    if (!mbr_sector_parse(head, len, &m))
        return IMGP_SCORE_NONE;
    /* As libblkid and libfdisk judge a table: every boot indicator 0 or 0x80,
     * no used record at sector 0 (over the MBR itself), no typed record without sectors. */
    bool plausible = true;
    unsigned used = 0;
    for (size_t i = 0; i < MBR_RECORD_COUNT; i++) {
        const mbr_record *r = &m.records[i];
        if (r->boot != 0 && r->boot != MBR_BOOT_ACTIVE)
            plausible = false;
        if (r->count) {
            used++;
            if (r->start == 0)
                plausible = false;
        } else if (r->type != MBR_TYPE_EMPTY) {
            plausible = false;
        }
    }
    /* A FAT/NTFS/exFAT boot sector holds boot code where the records would be:
     * only a sane, non-empty table beside such a name is taken as a table. */
    if (looks_like_filesystem_boot_sector(head, len) && (!plausible || used == 0))
        return IMGP_SCORE_NONE;
    return plausible ? MBR_SCORE_PLAUSIBLE : MBR_SCORE_ODD;
}

/* The sector size LBAs count in: the MBR says nothing of it, so the device's. */
static uint32_t mbr_sector_size(const imgp_bdev *disk)
{
    uint32_t ss = disk->sector_size;
    return imgp_is_pow2(ss) && ss >= 512 && ss <= 4096 ? ss : 512;
}

/* Add record @p r, which counts from LBA @p base, as partition @p index. */
static imgp_status add_record(imgp_volumes *v, unsigned index, const mbr_record *r, uint64_t base, uint32_t ss)
{
    char name[16], type[8];
    snprintf(name, sizeof name, "%u", index);
    snprintf(type, sizeof type, "0x%02x", r->type);
    /* base < 2^33 and start, count < 2^32, ss <= 4096: no product reaches 2^64 */
    imgp_partition p = {
        .index = name,
        .start = (base + r->start) * ss,
        .size = (uint64_t)r->count * ss,
        .type = type,
        .type_name = parttype_mbr_name(r->type),
        .bootable = r->boot == MBR_BOOT_ACTIVE,
        .is_container = mbr_type_is_extended(r->type),
    };
    imgp_status st = IMGP_OK;
    if (r->boot != 0 && r->boot != MBR_BOOT_ACTIVE)
        st = vol_note(v, IMGP_NOTE_WARNING,
                      "mbr: partition %u has boot indicator 0x%02x (neither 0 nor 0x80); not taken as bootable", index,
                      r->boot);
    if (st == IMGP_OK && p.is_container && imgp_range_outside(p.start, p.size, v->disk->size))
        st = vol_note(v, IMGP_NOTE_WARNING,
                      "mbr: extended partition %u (%llu bytes at %llu) reaches past the end of the disk (%llu bytes)",
                      index, (unsigned long long)p.size, (unsigned long long)p.start,
                      (unsigned long long)v->disk->size);
    return st != IMGP_OK ? st : vol_add_slice(v, &p);
}

static bool seen_before(const uint64_t *lbas, size_t n, uint64_t lba)
{
    for (size_t i = 0; i < n; i++)
        if (lbas[i] == lba)
            return true;
    return false;
}

/* Pick an EBR's logical partition and its link to the next EBR: the first used
 * record of each kind, wherever it sits (DR-DOS and OS/2 do not always use
 * records 1 and 2), as Linux and fdisk do. Extra ones are noted. */
static imgp_status ebr_records(imgp_volumes *v, const mbr_sector *s, uint64_t lba, const mbr_record **data,
                               const mbr_record **link)
{
    *data = *link = NULL;
    for (size_t i = 0; i < MBR_RECORD_COUNT; i++) {
        const mbr_record *r = &s->records[i];
        if (!r->count)
            continue;
        const mbr_record **slot = mbr_type_is_extended(r->type) ? link : r->type != MBR_TYPE_EMPTY ? data : NULL;
        if (!slot)
            continue;
        if (*slot) {
            imgp_status st = vol_note(v, IMGP_NOTE_WARNING, "mbr: EBR at sector %llu: extra %s in record %zu ignored",
                                      (unsigned long long)lba, slot == link ? "link" : "logical partition", i + 1);
            if (st != IMGP_OK)
                return st;
        } else {
            *slot = r;
        }
    }
    return IMGP_OK;
}

/*
 * Follow the EBR chain of extended partition @p ext_index (record @p ext):
 * each EBR's logical partition counts from the EBR, its link from the start
 * of the extended partition. A chain that comes back to an EBR already read,
 * leaves the extended partition or the disk, or runs past
 * PART_MAX_PARTITIONS EBRs stops with a note.
 */
static imgp_status read_ebr_chain(imgp_volumes *v, unsigned ext_index, const mbr_record *ext, uint32_t ss)
{
    const uint64_t ext_start = ext->start, ext_end = (uint64_t)ext->start + ext->count; /* LBAs, end exclusive */
    uint64_t visited[PART_MAX_PARTITIONS];
    size_t nvisited = 0;
    unsigned next_index = 5; /* logical partitions are 5, 6... as Linux numbers them */
    uint8_t buf[MBR_SECTOR];

    if (ext_start == 0)
        return vol_note(v, IMGP_NOTE_WARNING,
                        "mbr: extended partition %u starts at sector 0 (over the MBR); "
                        "its logical partitions are not read",
                        ext_index);
    for (uint64_t lba = ext_start;;) {
        const char *stop = NULL;
        if (seen_before(visited, nvisited, lba))
            stop = "loops back to an EBR already read";
        else if (nvisited == PART_MAX_PARTITIONS)
            stop = "holds more EBRs than the partition limit";
        else if (imgp_range_outside(lba * ss, MBR_SECTOR, v->disk->size))
            stop = "lies past the end of the disk";
        if (stop)
            return vol_note(v, IMGP_NOTE_WARNING,
                            "mbr: the EBR chain of extended partition %u %s (sector %llu); "
                            "logical partitions from %u on are not read",
                            ext_index, stop, (unsigned long long)lba, next_index);
        visited[nvisited++] = lba;

        imgp_status st = imgp_bdev_read(v->disk, lba * ss, buf, sizeof buf);
        if (st != IMGP_OK)
            return st;
        mbr_sector s;
        if (!mbr_sector_parse(buf, sizeof buf, &s))
            return vol_note(v, IMGP_NOTE_WARNING,
                            "mbr: EBR at sector %llu has no 0x55AA signature; "
                            "logical partitions from %u on are not read",
                            (unsigned long long)lba, next_index);
        const mbr_record *data, *link;
        st = ebr_records(v, &s, lba, &data, &link);
        if (st != IMGP_OK)
            return st;
        if (data) {
            unsigned index = next_index++;
            uint64_t first = lba + data->start;
            if (data->start == 0)
                st = vol_note(v, IMGP_NOTE_WARNING, "mbr: logical partition %u starts on its own EBR (sector %llu)",
                              index, (unsigned long long)lba);
            else if (first >= ext_end || data->count > ext_end - first)
                st = vol_note(v, IMGP_NOTE_WARNING,
                              "mbr: logical partition %u (sectors %llu..%llu) lies outside extended partition %u "
                              "(sectors %llu..%llu)",
                              index, (unsigned long long)first, (unsigned long long)(first + data->count - 1),
                              ext_index, (unsigned long long)ext_start, (unsigned long long)(ext_end - 1));
            if (st == IMGP_OK)
                st = add_record(v, index, data, lba, ss);
            if (st != IMGP_OK)
                return st;
        }
        if (!link)
            return IMGP_OK;
        lba = ext_start + link->start;
        if (lba >= ext_end)
            return vol_note(v, IMGP_NOTE_WARNING,
                            "mbr: the EBR chain of extended partition %u links to sector %llu, outside it "
                            "(sectors %llu..%llu); logical partitions from %u on are not read",
                            ext_index, (unsigned long long)lba, (unsigned long long)ext_start,
                            (unsigned long long)(ext_end - 1), next_index);
    }
}

/* A GPT header behind an MBR that does not protect it: tools ignore it, say so. */
static imgp_status note_unprotected_gpt(imgp_volumes *v, uint32_t ss)
{
    uint8_t sig[GPT_SIGNATURE_LEN];
    if (imgp_range_outside(ss, sizeof sig, v->disk->size))
        return IMGP_OK;
    imgp_status st = imgp_bdev_read(v->disk, ss, sig, sizeof sig);
    if (st != IMGP_OK || memcmp(sig, GPT_SIGNATURE, sizeof sig) != 0)
        return st;
    return vol_note(v, IMGP_NOTE_WARNING,
                    "mbr: a GPT header at LBA 1 is ignored: the MBR has no protective 0xEE partition (as Linux and "
                    "blkid decide)");
}

imgp_status mbr_read_table(imgp_volumes *v)
{
    const uint32_t ss = mbr_sector_size(v->disk);
    uint8_t buf[MBR_SECTOR];
    mbr_sector m;
    if (v->disk->size < sizeof buf) {
        v->info.scheme = "none";
        return vol_note(v, IMGP_NOTE_ERROR, "mbr: the disk (%llu bytes) is smaller than an MBR",
                        (unsigned long long)v->disk->size);
    }
    imgp_status st = imgp_bdev_read(v->disk, 0, buf, sizeof buf);
    if (st != IMGP_OK)
        return st;
    if (!mbr_sector_parse(buf, sizeof buf, &m)) {
        v->info.scheme = "none";
        return vol_note(v, IMGP_NOTE_ERROR, "mbr: no 0x55AA signature at byte 510; no partition table");
    }
    v->info.scheme = "mbr";
    v->info.sector_size = ss;
    v->info.disk_id = vol_keepf(v, "0x%08x", m.disk_signature);
    if (!v->info.disk_id)
        return IMGP_ERR_NOMEM;

    unsigned ext_index = 0;
    bool protective = false;
    for (unsigned i = 0; i < MBR_RECORD_COUNT; i++) {
        const mbr_record *r = &m.records[i];
        unsigned index = i + 1;
        protective |= r->type == MBR_TYPE_GPT_PROTECTIVE;
        if (!r->count) {
            /* Linux and fdisk read an entry by its size alone */
            if (r->type != MBR_TYPE_EMPTY)
                st = vol_note(v, IMGP_NOTE_INFO, "mbr: partition %u has type 0x%02x but no sectors; ignored", index,
                              r->type);
            if (st != IMGP_OK)
                return st;
            continue;
        }
        if (r->type == MBR_TYPE_EMPTY)
            st = vol_note(v, IMGP_NOTE_INFO, "mbr: partition %u has type 0 (empty) but %u sectors; Linux uses it",
                          index, r->count);
        if (st == IMGP_OK && r->start == 0)
            st = vol_note(v, IMGP_NOTE_WARNING, "mbr: partition %u starts at sector 0, over the partition table",
                          index);
        if (st == IMGP_OK && mbr_type_is_extended(r->type) && ext_index)
            st = vol_note(v, IMGP_NOTE_WARNING,
                          "mbr: extended partition %u ignored: %u is already one (fdisk reads only the first)", index,
                          ext_index);
        if (st == IMGP_OK)
            st = add_record(v, index, r, 0, ss);
        if (st != IMGP_OK)
            return st;
        if (mbr_type_is_extended(r->type) && !ext_index)
            ext_index = index;
    }
    if (ext_index) {
        st = read_ebr_chain(v, ext_index, &m.records[ext_index - 1], ss);
        if (st != IMGP_OK)
            return st;
    }
    return protective ? IMGP_OK : note_unprotected_gpt(v, ss);
}

static int mbr_probe(const uint8_t *head, size_t len, uint64_t disk_size)
{
    (void)disk_size;
    return mbr_score(head, len);
}

const imgp_scheme imgp_scheme_mbr = {.name = "mbr", .probe = mbr_probe, .parse = mbr_read_table};
