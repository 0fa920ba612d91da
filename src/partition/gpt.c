/*
 * GPT: the GUID Partition Table of UEFI 2.10 section 5.3 (layout in
 * gpt_disk.h). A header at LBA 1 with its entry array, a backup of both at the
 * end of the disk, and a protective MBR in front (5.2.3).
 *
 * Which copy is trusted, as Linux's block/partitions/efi.c decides: a header
 * whose CRC, MyLBA and fields check out, with an entry array whose CRC does.
 * The primary first; the backup (at the primary's AlternateLBA, or at the
 * disk's last LBA when the primary header is unusable) when the primary is
 * damaged, with a note; the MBR when neither is usable, with a note.
 *
 * The logical sector size is found, not assumed: the header is looked for at
 * byte 512 and at byte 4096, because a container (qcow2, VHD) tells 512
 * whatever sector size the guest partitioned its disk with.
 */
#include <stdio.h>
#include <zlib.h>

#include "../core/cursor.h"
#include "../core/utf8.h"
#include "gpt.h"
#include "parttypes.h"

static const uint32_t sector_sizes[] = {512, 4096};

uint32_t gpt_crc32(const uint8_t *buf, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, buf, n);
        buf += n;
        len -= n;
    }
    return (uint32_t)crc;
}

/* Record a reason on @p ctx when there is one (probes pass none). */
static imgp_status header_error(imgp_ctx *ctx, imgp_status st, const char *fmt, ...) IMGP_PRINTF(3, 4);
static imgp_status header_error(imgp_ctx *ctx, imgp_status st, const char *fmt, ...)
{
    if (!ctx)
        return st;
    char msg[IMGP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return imgp_error(ctx, st, "%s", msg);
}

imgp_status gpt_header_parse(imgp_ctx *ctx, const uint8_t *buf, size_t sector_size, uint64_t lba,
                             uint64_t max_table_bytes, gpt_header *out)
{
    imgp_cursor c = imgp_cur_init(buf, sector_size);
    const unsigned long long at = lba;
    memset(out, 0, sizeof *out);
    const uint8_t *sig = imgp_cur_ptr_at(&c, GPT_HDR_SIGNATURE, GPT_SIGNATURE_LEN);
    if (!sig || memcmp(sig, GPT_SIGNATURE, GPT_SIGNATURE_LEN) != 0)
        return header_error(ctx, IMGP_ERR_CORRUPT, "gpt: no \"EFI PART\" signature at LBA %llu", at);
    out->revision = imgp_cur_le32_at(&c, GPT_HDR_REVISION);
    out->header_size = imgp_cur_le32_at(&c, GPT_HDR_HEADER_SIZE);
    uint32_t header_crc = imgp_cur_le32_at(&c, GPT_HDR_HEADER_CRC32);
    out->my_lba = imgp_cur_le64_at(&c, GPT_HDR_MY_LBA);
    out->alternate_lba = imgp_cur_le64_at(&c, GPT_HDR_ALTERNATE_LBA);
    out->first_usable_lba = imgp_cur_le64_at(&c, GPT_HDR_FIRST_USABLE_LBA);
    out->last_usable_lba = imgp_cur_le64_at(&c, GPT_HDR_LAST_USABLE_LBA);
    imgp_cur_bytes_at(&c, GPT_HDR_DISK_GUID, out->disk_guid, GPT_GUID_SIZE);
    out->entries_lba = imgp_cur_le64_at(&c, GPT_HDR_ENTRIES_LBA);
    out->num_entries = imgp_cur_le32_at(&c, GPT_HDR_NUM_ENTRIES);
    out->entry_size = imgp_cur_le32_at(&c, GPT_HDR_ENTRY_SIZE);
    out->entries_crc = imgp_cur_le32_at(&c, GPT_HDR_ENTRIES_CRC32);
    if (!imgp_cur_ok(&c))
        return header_error(ctx, IMGP_ERR_CORRUPT, "gpt: header at LBA %llu: a %zu-byte sector cannot hold it", at,
                            sector_size);

    /* 5.3.2: HeaderSize is at least 92 and at most the logical block size */
    if (out->header_size < GPT_HEADER_MIN_SIZE || out->header_size > sector_size)
        return header_error(ctx, IMGP_ERR_CORRUPT, "gpt: header at LBA %llu: header size %u outside %u..%zu", at,
                            out->header_size, GPT_HEADER_MIN_SIZE, sector_size);
    /* the CRC covers HeaderSize bytes with the CRC field itself taken as zero */
    static const uint8_t zero_crc[4] = {0};
    const uint8_t *before = imgp_cur_ptr_at(&c, 0, GPT_HDR_HEADER_CRC32);
    const uint8_t *after = imgp_cur_ptr_at(&c, GPT_HDR_HEADER_CRC32 + 4, out->header_size - GPT_HDR_HEADER_CRC32 - 4);
    if (!before || !after)
        return header_error(ctx, IMGP_ERR_CORRUPT, "gpt: header at LBA %llu: header size %u", at, out->header_size);
    uint32_t crc = gpt_crc32(before, GPT_HDR_HEADER_CRC32);
    crc = (uint32_t)crc32(crc, zero_crc, sizeof zero_crc);
    crc = (uint32_t)crc32(crc, after, out->header_size - GPT_HDR_HEADER_CRC32 - 4);
    if (crc != header_crc)
        return header_error(ctx, IMGP_ERR_CORRUPT, "gpt: header at LBA %llu: CRC32 0x%08x, computed 0x%08x", at,
                            header_crc, crc);
    if (out->my_lba != lba)
        return header_error(ctx, IMGP_ERR_CORRUPT, "gpt: header at LBA %llu says it is at LBA %llu", at,
                            (unsigned long long)out->my_lba);
    if (out->first_usable_lba > out->last_usable_lba)
        return header_error(ctx, IMGP_ERR_CORRUPT,
                            "gpt: header at LBA %llu: first usable LBA %llu after the last, %llu", at,
                            (unsigned long long)out->first_usable_lba, (unsigned long long)out->last_usable_lba);
    if (out->entry_size < GPT_ENTRY_MIN_SIZE || out->entry_size % 8 != 0 || out->entry_size > GPT_MAX_ENTRY_SIZE)
        return header_error(ctx, IMGP_ERR_CORRUPT,
                            "gpt: header at LBA %llu: partition entry size %u (must be a multiple of 8 in %u..%u)", at,
                            out->entry_size, GPT_ENTRY_MIN_SIZE, GPT_MAX_ENTRY_SIZE);
    /* both factors < 2^32 and entry_size <= 4096: the product fits */
    out->entries_bytes = (uint64_t)out->num_entries * out->entry_size;
    if (out->entries_bytes > max_table_bytes || out->entries_bytes > SIZE_MAX)
        return header_error(ctx, IMGP_ERR_LIMIT,
                            "gpt: header at LBA %llu: partition entry array of %u entries of %u bytes (%llu bytes) "
                            "exceeds the table limit (%llu bytes)",
                            at, out->num_entries, out->entry_size, (unsigned long long)out->entries_bytes,
                            (unsigned long long)max_table_bytes);
    uint64_t array_sectors = out->entries_bytes / sector_size + (out->entries_bytes % sector_size != 0);
    if (out->entries_lba > UINT64_MAX / sector_size - array_sectors)
        return header_error(ctx, IMGP_ERR_CORRUPT,
                            "gpt: header at LBA %llu: partition entry array at LBA %llu lies beyond any disk", at,
                            (unsigned long long)out->entries_lba);
    if (lba >= out->entries_lba && lba - out->entries_lba < array_sectors)
        return header_error(ctx, IMGP_ERR_CORRUPT,
                            "gpt: header at LBA %llu: partition entry array (LBA %llu, %llu sectors) overlaps it",
                            at, (unsigned long long)out->entries_lba, (unsigned long long)array_sectors);
    return IMGP_OK;
}

imgp_status gpt_entries_check(imgp_ctx *ctx, const uint8_t *buf, size_t len, const gpt_header *h)
{
    if (len != h->entries_bytes)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "gpt: partition entry array of %zu bytes, the header says %llu", len,
                          (unsigned long long)h->entries_bytes);
    uint32_t crc = gpt_crc32(buf, len);
    if (crc != h->entries_crc)
        return imgp_error(ctx, IMGP_ERR_CORRUPT,
                          "gpt: partition entry array at LBA %llu: CRC32 0x%08x, computed 0x%08x",
                          (unsigned long long)h->entries_lba, h->entries_crc, crc);
    return IMGP_OK;
}

bool gpt_guid_is_zero(const uint8_t guid[GPT_GUID_SIZE])
{
    for (size_t i = 0; i < GPT_GUID_SIZE; i++)
        if (guid[i])
            return false;
    return true;
}

void gpt_guid_format(const uint8_t g[GPT_GUID_SIZE], char out[GPT_GUID_TEXT_LEN + 1])
{
    /* EFI_GUID: Data1 (4 bytes), Data2, Data3 (2 each) little-endian; Data4 as bytes */
    snprintf(out, GPT_GUID_TEXT_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3],
             g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

void gpt_name_decode(const uint8_t *buf, size_t units, char *out, size_t out_len)
{
    if (out_len == 0)
        return;
    size_t o = 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t u = (uint32_t)buf[2 * i] | (uint32_t)buf[2 * i + 1] << 8;
        if (u == 0)
            break;
        if (u >= 0xd800 && u <= 0xdbff && i + 1 < units) {
            uint32_t lo = (uint32_t)buf[2 * i + 2] | (uint32_t)buf[2 * i + 3] << 8;
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                i++;
            }
        }
        if (u >= 0xd800 && u <= 0xdfff)
            u = 0xfffd; /* an unpaired surrogate: the replacement character */
        if (!imgp_utf8_put(u, out, out_len, &o))
            break;
    }
    out[o] = '\0';
}

bool gpt_entry_parse(const uint8_t *buf, size_t len, gpt_entry *out)
{
    imgp_cursor c = imgp_cur_init(buf, len);
    memset(out, 0, sizeof *out);
    imgp_cur_bytes_at(&c, GPT_ENT_TYPE_GUID, out->type_guid, GPT_GUID_SIZE);
    imgp_cur_bytes_at(&c, GPT_ENT_UNIQUE_GUID, out->unique_guid, GPT_GUID_SIZE);
    out->first_lba = imgp_cur_le64_at(&c, GPT_ENT_STARTING_LBA);
    out->last_lba = imgp_cur_le64_at(&c, GPT_ENT_ENDING_LBA);
    out->attributes = imgp_cur_le64_at(&c, GPT_ENT_ATTRIBUTES);
    const uint8_t *name = imgp_cur_ptr_at(&c, GPT_ENT_NAME, GPT_ENT_NAME_UNITS * 2);
    if (!imgp_cur_ok(&c))
        return false;
    gpt_name_decode(name, GPT_ENT_NAME_UNITS, out->name, sizeof out->name);
    return true;
}

/* The MBR claims the disk for itself: a signature, records in use, none of them 0xEE. */
static bool mbr_claims_disk(const mbr_sector *m)
{
    unsigned used = 0;
    for (size_t i = 0; i < MBR_RECORD_COUNT; i++) {
        if (m->records[i].type == MBR_TYPE_GPT_PROTECTIVE)
            return false;
        used += m->records[i].count != 0;
    }
    return used > 0;
}

int gpt_score(const uint8_t *head, size_t len)
{
    mbr_sector m;
    bool have_mbr = mbr_sector_parse(head, len, &m);
    bool unprotected = have_mbr && mbr_claims_disk(&m);
    gpt_header h;
    imgp_cursor c = imgp_cur_init(head, len);
    for (size_t i = 0; i < sizeof sector_sizes / sizeof sector_sizes[0]; i++) {
        const uint8_t *lba1 = imgp_cur_ptr_at(&c, sector_sizes[i], sector_sizes[i]);
        if (lba1 && gpt_header_parse(NULL, lba1, sector_sizes[i], 1, UINT64_MAX, &h) == IMGP_OK)
            return unprotected ? GPT_SCORE_UNPROTECTED : GPT_SCORE_VALID;
    }
    bool signature = false;
    for (size_t i = 0; i < sizeof sector_sizes / sizeof sector_sizes[0]; i++) {
        const uint8_t *sig = imgp_cur_ptr_at(&c, sector_sizes[i] + GPT_HDR_SIGNATURE, GPT_SIGNATURE_LEN);
        signature |= sig && memcmp(sig, GPT_SIGNATURE, GPT_SIGNATURE_LEN) == 0;
    }
    bool protective = false;
    for (size_t i = 0; have_mbr && i < MBR_RECORD_COUNT; i++)
        protective |= m.records[i].type == MBR_TYPE_GPT_PROTECTIVE;
    if (protective || (signature && !unprotected))
        return GPT_SCORE_DAMAGED;
    return signature ? GPT_SCORE_UNPROTECTED : IMGP_SCORE_NONE;
}

/* ---- reading: one copy of the table (a header and its entry array) ---- */

typedef struct gpt_copy {
    bool tried;             /* read_copy() ran on it */
    uint64_t lba;           /* where its header was looked for */
    uint32_t sector_size;
    bool signature;         /* "EFI PART" is there */
    bool header_ok;         /* and the header checks out: h is valid */
    bool usable;            /* and so does its entry array */
    gpt_header h;
    uint8_t *entries;       /* h.entries_bytes bytes once read; owned */
    char why[IMGP_MSG_MAX]; /* when not usable */
} gpt_copy;

/* How far a copy got, to report the most telling failure of several. */
static int copy_rank(const gpt_copy *c) { return c->usable ? 3 : c->header_ok ? 2 : c->signature ? 1 : 0; }

static void free_copy(imgp_volumes *v, gpt_copy *c)
{
    imgp_free(v->ctx, c->entries);
    c->entries = NULL;
}

/*
 * Read and check the header at @p lba for sectors of @p ss bytes, then its
 * entry array. Damage is recorded in c->why; only failed reads and
 * allocations are errors (c->entries is then for the caller to free).
 */
static imgp_status read_copy(imgp_volumes *v, uint64_t lba, uint32_t ss, gpt_copy *c)
{
    imgp_ctx *ctx = v->ctx;
    imgp_bdev *disk = v->disk;
    memset(c, 0, sizeof *c);
    c->tried = true;
    c->lba = lba;
    c->sector_size = ss;
    if (lba > UINT64_MAX / ss || imgp_range_outside(lba * ss, ss, disk->size)) {
        snprintf(c->why, sizeof c->why, "gpt: header LBA %llu lies past the end of the disk (%llu bytes)",
                 (unsigned long long)lba, (unsigned long long)disk->size);
        return IMGP_OK;
    }
    uint8_t sector[4096]; /* the largest of sector_sizes[] */
    imgp_status st = imgp_bdev_read(disk, lba * ss, sector, ss);
    if (st != IMGP_OK)
        return st;
    imgp_cursor cur = imgp_cur_init(sector, ss);
    const uint8_t *sig = imgp_cur_ptr_at(&cur, GPT_HDR_SIGNATURE, GPT_SIGNATURE_LEN);
    c->signature = sig && memcmp(sig, GPT_SIGNATURE, GPT_SIGNATURE_LEN) == 0;
    if (gpt_header_parse(ctx, sector, ss, lba, imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES), &c->h) != IMGP_OK) {
        snprintf(c->why, sizeof c->why, "%s", imgp_ctx_message(ctx));
        return IMGP_OK;
    }
    c->header_ok = true;

    const gpt_header *h = &c->h;
    uint64_t off = h->entries_lba * ss; /* cannot overflow: gpt_header_parse checked */
    if (imgp_range_outside(off, h->entries_bytes, disk->size)) {
        snprintf(c->why, sizeof c->why,
                 "gpt: partition entry array at LBA %llu (%llu bytes) lies past the end of the disk (%llu bytes)",
                 (unsigned long long)h->entries_lba, (unsigned long long)h->entries_bytes,
                 (unsigned long long)disk->size);
        return IMGP_OK;
    }
    if (h->entries_bytes > 0) {
        /* within the table limit (gpt_header_parse) and inside the disk */
        c->entries = imgp_alloc(ctx, (size_t)h->entries_bytes);
        if (!c->entries)
            return IMGP_ERR_NOMEM;
        st = imgp_bdev_read(disk, off, c->entries, (size_t)h->entries_bytes);
        if (st != IMGP_OK)
            return st;
    }
    if (gpt_entries_check(ctx, c->entries, (size_t)h->entries_bytes, h) != IMGP_OK) {
        snprintf(c->why, sizeof c->why, "%s", imgp_ctx_message(ctx));
        return IMGP_OK;
    }
    c->usable = true;
    return IMGP_OK;
}

/*
 * Look for a copy at LBA 1 (@p at_end false) or at the disk's last LBA, for
 * 512- and 4096-byte sectors (@p order), keeping the first usable one, or
 * else the one that got furthest, in @p best.
 */
static imgp_status find_copy(imgp_volumes *v, const uint32_t order[2], bool at_end, gpt_copy *best)
{
    for (int i = 0; i < 2 && !best->usable; i++) {
        uint64_t sectors = v->disk->size / order[i];
        if (at_end && sectors < 2)
            continue;
        gpt_copy c;
        imgp_status st = read_copy(v, at_end ? sectors - 1 : 1, order[i], &c);
        if (st == IMGP_OK && (!best->tried || copy_rank(&c) > copy_rank(best))) {
            free_copy(v, best);
            *best = c;
        } else {
            free_copy(v, &c);
        }
        if (st != IMGP_OK)
            return st;
    }
    if (!best->signature)
        snprintf(best->why, sizeof best->why, "gpt: no \"EFI PART\" signature at %s (for 512- or 4096-byte sectors)",
                 at_end ? "the last LBA" : "LBA 1");
    return IMGP_OK;
}

/* Sector sizes in the order tried: 512 first, unless the device says 4096. */
static void sector_size_order(const imgp_bdev *disk, uint32_t order[2])
{
    bool big_first = disk->sector_size == 4096;
    order[0] = big_first ? 4096 : 512;
    order[1] = big_first ? 512 : 4096;
}

/* Where the backup is, against where it belongs: the last LBA of the disk. */
static imgp_status note_backup_place(imgp_volumes *v, const gpt_copy *primary, const gpt_copy *backup)
{
    uint32_t ss = primary->sector_size;
    uint64_t last = v->disk->size / ss - 1, alt = primary->h.alternate_lba;
    imgp_status st = IMGP_OK;
    if (alt > last)
        st = vol_note(v, IMGP_NOTE_WARNING,
                      "gpt: the backup header belongs at LBA %llu, past the disk's last LBA %llu: the image was "
                      "truncated or the disk shrunk",
                      (unsigned long long)alt, (unsigned long long)last);
    else if (alt < last)
        st = vol_note(v, IMGP_NOTE_WARNING,
                      "gpt: the backup header is at LBA %llu, not at the disk's last LBA %llu: the disk was grown "
                      "after it was partitioned",
                      (unsigned long long)alt, (unsigned long long)last);
    if (st == IMGP_OK && alt <= last && !backup->usable)
        st = vol_note(v, IMGP_NOTE_WARNING, "gpt: the backup table is damaged: %s", backup->why);
    if (st == IMGP_OK && backup->usable &&
        (backup->h.entries_crc != primary->h.entries_crc || backup->h.num_entries != primary->h.num_entries ||
         backup->h.entry_size != primary->h.entry_size))
        st = vol_note(v, IMGP_NOTE_WARNING,
                      "gpt: the backup partition entries differ from the primary's (CRC32 0x%08x, primary 0x%08x)",
                      backup->h.entries_crc, primary->h.entries_crc);
    return st;
}

/* The MBR in front of a GPT should protect it: one 0xEE record (5.2.3), nothing else. */
static imgp_status note_protective_mbr(imgp_volumes *v)
{
    uint8_t buf[MBR_SECTOR];
    mbr_sector m;
    imgp_status st = imgp_bdev_read(v->disk, 0, buf, sizeof buf);
    if (st != IMGP_OK)
        return st;
    if (!mbr_sector_parse(buf, sizeof buf, &m))
        return vol_note(v, IMGP_NOTE_WARNING,
                        "gpt: no protective MBR (no 0x55AA signature at byte 510): MBR-only tools see an empty disk");
    char others[96] = "";
    size_t olen = 0;
    unsigned nprotective = 0, nothers = 0;
    for (size_t i = 0; i < MBR_RECORD_COUNT; i++) {
        const mbr_record *r = &m.records[i];
        if (r->type == MBR_TYPE_GPT_PROTECTIVE) {
            nprotective++;
        } else if (r->count) {
            nothers++;
            int n = snprintf(others + olen, sizeof others - olen, "%s%zu (0x%02x)", nothers > 1 ? ", " : "", i + 1,
                             r->type);
            if (n > 0 && (size_t)n < sizeof others - olen)
                olen += (size_t)n;
        }
    }
    if (nprotective == 0)
        return vol_note(v, IMGP_NOTE_WARNING, "gpt: the MBR has no protective 0xEE partition");
    if (nothers)
        return vol_note(v, IMGP_NOTE_WARNING,
                        "gpt: hybrid MBR: besides the protective 0xEE partition it lists partition%s %s, which "
                        "MBR-only systems use instead of the GPT",
                        nothers > 1 ? "s" : "", others);
    return IMGP_OK;
}

/* Add entry @p e (number @p index) of a table with header @p h as a partition. */
static imgp_status add_entry(imgp_volumes *v, const gpt_header *h, uint32_t ss, unsigned index, const gpt_entry *e)
{
    uint64_t sectors, start, size;
    if (e->first_lba > e->last_lba)
        return vol_note(v, IMGP_NOTE_WARNING, "gpt: partition %u ends (LBA %llu) before it starts (LBA %llu); ignored",
                        index, (unsigned long long)e->last_lba, (unsigned long long)e->first_lba);
    if (imgp_add_overflow(e->last_lba - e->first_lba, 1, &sectors) || imgp_mul_overflow(sectors, ss, &size) ||
        imgp_mul_overflow(e->first_lba, ss, &start))
        return vol_note(v, IMGP_NOTE_WARNING, "gpt: partition %u (LBA %llu..%llu) lies beyond any disk; ignored", index,
                        (unsigned long long)e->first_lba, (unsigned long long)e->last_lba);
    imgp_status st = IMGP_OK;
    if (e->first_lba < h->first_usable_lba || e->last_lba > h->last_usable_lba)
        st = vol_note(v, IMGP_NOTE_WARNING,
                      "gpt: partition %u (LBA %llu..%llu) lies outside the usable area (LBA %llu..%llu)", index,
                      (unsigned long long)e->first_lba, (unsigned long long)e->last_lba,
                      (unsigned long long)h->first_usable_lba, (unsigned long long)h->last_usable_lba);
    if (st != IMGP_OK)
        return st;
    char name[16], type[GPT_GUID_TEXT_LEN + 1], uuid[GPT_GUID_TEXT_LEN + 1];
    snprintf(name, sizeof name, "%u", index);
    gpt_guid_format(e->type_guid, type);
    gpt_guid_format(e->unique_guid, uuid);
    imgp_partition p = {
        .index = name,
        .start = start,
        .size = size,
        .type = type,
        .type_name = parttype_gpt_name(type),
        .name = e->name[0] ? e->name : NULL,
        .uuid = uuid,
        .attributes = e->attributes,
        .bootable = (e->attributes & GPT_ATTR_LEGACY_BIOS_BOOTABLE) != 0,
    };
    return vol_add_slice(v, &p);
}

/* Add the used entries of @p c, numbered by their position as Linux numbers them. */
static imgp_status add_entries(imgp_volumes *v, const gpt_copy *c)
{
    const gpt_header *h = &c->h;
    unsigned used = 0;
    for (uint32_t i = 0; i < h->num_entries; i++) {
        gpt_entry e;
        /* the array holds num_entries x entry_size bytes, entry_size >= 128 */
        if (!gpt_entry_parse(c->entries + (size_t)i * h->entry_size, h->entry_size, &e))
            return imgp_error(v->ctx, IMGP_ERR_CORRUPT, "gpt: entry %u is shorter than %u bytes", i + 1,
                              GPT_ENTRY_MIN_SIZE);
        if (gpt_guid_is_zero(e.type_guid))
            continue;
        if (++used > PART_MAX_PARTITIONS)
            return vol_note(v, IMGP_NOTE_WARNING, "gpt: more than %u partitions in use; entry %u and later are ignored",
                            PART_MAX_PARTITIONS, i + 1);
        imgp_status st = add_entry(v, h, c->sector_size, i + 1, &e);
        if (st != IMGP_OK)
            return st;
    }
    return IMGP_OK;
}

/* Describe the table of copy @p c and add its partitions. */
static imgp_status use_copy(imgp_volumes *v, const gpt_copy *c)
{
    char guid[GPT_GUID_TEXT_LEN + 1];
    gpt_guid_format(c->h.disk_guid, guid);
    v->info.sector_size = c->sector_size;
    v->info.disk_id = vol_keep(v, guid);
    if (!v->info.disk_id)
        return IMGP_ERR_NOMEM;
    imgp_status st = IMGP_OK;
    if (c->h.revision != GPT_REVISION_1_0)
        st = vol_note(v, IMGP_NOTE_INFO, "gpt: header revision 0x%08x (1.0 is 0x%08x)", c->h.revision,
                      GPT_REVISION_1_0);
    if (st == IMGP_OK)
        st = note_protective_mbr(v);
    return st != IMGP_OK ? st : add_entries(v, c);
}

static imgp_status gpt_parse(imgp_volumes *v)
{
    uint32_t order[2];
    sector_size_order(v->disk, order);
    gpt_copy primary = {0}, backup = {0};

    imgp_status st = find_copy(v, order, false, &primary);
    /* the backup belongs where a sound primary header says; else at the end */
    if (st == IMGP_OK && primary.header_ok)
        st = read_copy(v, primary.h.alternate_lba, primary.sector_size, &backup);
    else if (st == IMGP_OK)
        st = find_copy(v, order, true, &backup);

    if (st == IMGP_OK && primary.usable) {
        st = note_backup_place(v, &primary, &backup);
        if (st == IMGP_OK)
            st = use_copy(v, &primary);
    } else if (st == IMGP_OK && backup.usable) {
        st = vol_note(v, IMGP_NOTE_WARNING, "gpt: the primary table is unusable (%s); using the backup at LBA %llu",
                      primary.why, (unsigned long long)backup.lba);
        if (st == IMGP_OK)
            st = use_copy(v, &backup);
    } else if (st == IMGP_OK) {
        st = vol_note(v, IMGP_NOTE_WARNING, "gpt: no usable table (primary: %s; backup: %s); reading the MBR instead",
                      primary.why, backup.why);
        if (st == IMGP_OK)
            st = mbr_read_table(v);
    }
    free_copy(v, &primary);
    free_copy(v, &backup);
    return st;
}

static int gpt_probe(const uint8_t *head, size_t len, uint64_t disk_size)
{
    (void)disk_size;
    return gpt_score(head, len);
}

const imgp_scheme imgp_scheme_gpt = {.name = "gpt", .probe = gpt_probe, .parse = gpt_parse};
