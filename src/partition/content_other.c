/*
 * Content probes for what is not a filesystem: Linux MD RAID members, LVM2
 * physical volumes, Windows LDM (dynamic disk) members, LUKS and BitLocker
 * volumes, and swap. Layouts and their references: content_disk.h. Each
 * names the device as `blkid -p` does (TYPE, VERSION, LABEL, UUID), except
 * LDM, which blkid does not know.
 */
#include "content.h"
#include "content_disk.h"

/* ---- Linux MD RAID ---- */

/* The 0.90 superblock at @p off, in either byte order (md_p.h: mdp_super_t). */
static bool md0_at(const content_view *v, uint64_t off, content_result *r)
{
    imgp_cursor c;
    if (!content_window(v, off, MD0_SB_READ, &c))
        return false;
    bool le = imgp_cur_le32_at(&c, MD0_MAGIC) == MD_SB_MAGIC;
    if (!le && imgp_cur_be32_at(&c, MD0_MAGIC) != MD_SB_MAGIC)
        return false;
#define MD0_U32(field) (le ? imgp_cur_le32_at(&c, (field)) : imgp_cur_be32_at(&c, (field)))
    uint32_t major = MD0_U32(MD0_MAJOR_VERSION), minor = MD0_U32(MD0_MINOR_VERSION);
    uint32_t patch = MD0_U32(MD0_PATCH_VERSION);
    uint64_t used = (uint64_t)MD0_U32(MD0_SIZE) << 10; /* KiB per member */
    /* the set UUID, each word written most significant byte first, as blkid prints it */
    uint32_t words[4] = {MD0_U32(MD0_SET_UUID0), 0, 0, 0};
    if (minor >= 90) {
        words[1] = MD0_U32(MD0_SET_UUID1);
        words[2] = MD0_U32(MD0_SET_UUID2);
        words[3] = MD0_U32(MD0_SET_UUID3);
    }
#undef MD0_U32
    /* the array's data must fit before the superblock area */
    if (used > v->size - MD_RESERVED_BYTES || off < used)
        return false;
    uint8_t uuid[16];
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++)
            uuid[i * 4 + b] = (uint8_t)(words[i] >> (24 - 8 * b));
    r->type = "linux_raid_member";
    content_set_version(r, "%u.%u.%u", major, minor, patch);
    content_set_uuid_bytes(r, uuid);
    return true;
}

/* A version-1 superblock at @p off (md_p.h: struct mdp_superblock_1). */
static bool md1_at(const content_view *v, uint64_t off, content_result *r)
{
    imgp_cursor c;
    if (!content_window(v, off, MD1_SB_READ, &c))
        return false;
    if (imgp_cur_le32_at(&c, MD1_MAGIC) != MD_SB_MAGIC || imgp_cur_le32_at(&c, MD1_MAJOR_VERSION) != 1 ||
        imgp_cur_le64_at(&c, MD1_SUPER_OFFSET) != off >> 9)
        return false;
    r->type = "linux_raid_member";
    content_set_uuid_bytes(r, imgp_cur_ptr_at(&c, MD1_SET_UUID, 16));
    content_set_label(r, imgp_cur_ptr_at(&c, MD1_SET_NAME, MD_SET_NAME_LEN), MD_SET_NAME_LEN, false);
    return true;
}

int content_probe_md(const content_view *v, content_result *r)
{
    if (v->size > MD_RESERVED_BYTES) {
        /* 0.90: the last 64 KiB-aligned 64 KiB; 1.0: 8 KiB before the 4 KiB-aligned end */
        if (md0_at(v, (v->size & ~(uint64_t)(MD_RESERVED_BYTES - 1)) - MD_RESERVED_BYTES, r))
            return IMGP_SCORE_MAGIC;
        if (md1_at(v, (v->size & ~(uint64_t)(MD1_0_ALIGN - 1)) - MD1_0_FROM_END, r)) {
            content_set_version(r, "1.0");
            return IMGP_SCORE_MAGIC;
        }
    }
    if (md1_at(v, 0, r)) {
        content_set_version(r, "1.1");
        return IMGP_SCORE_MAGIC;
    }
    if (md1_at(v, MD1_2_OFFSET, r)) {
        content_set_version(r, "1.2");
        return IMGP_SCORE_MAGIC;
    }
    return IMGP_SCORE_NONE;
}

/* ---- LVM2 ---- */

/* lvm2's label checksum (lib/misc/crc.c): CRC-32, reflected polynomial 0xEDB88320, no final inversion. */
static uint32_t lvm_crc(uint32_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = crc >> 1 ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return crc;
}

int content_probe_lvm2(const content_view *v, content_result *r)
{
    for (uint32_t sector = 0; sector < LVM_LABEL_SCAN_SECTORS; sector++) {
        imgp_cursor c;
        if (!content_window(v, (uint64_t)sector * LVM_LABEL_SECTOR_SIZE, LVM_LABEL_SECTOR_SIZE, &c))
            break;
        if (!content_eq(&c, LVM_LABEL_ID, "LABELONE", 8) || !content_eq(&c, LVM_LABEL_TYPE, "LVM2 001", 8))
            continue;
        /* a label copied to another sector is not this device's */
        if (imgp_cur_le64_at(&c, LVM_LABEL_SECTOR) != sector)
            continue;
        const uint8_t *covered = imgp_cur_ptr_at(&c, LVM_LABEL_OFFSET, LVM_LABEL_SECTOR_SIZE - LVM_LABEL_OFFSET);
        if (lvm_crc(LVM_CRC_INITIAL, covered, LVM_LABEL_SECTOR_SIZE - LVM_LABEL_OFFSET) !=
            imgp_cur_le32_at(&c, LVM_LABEL_CRC))
            continue;
        uint32_t pvh = imgp_cur_le32_at(&c, LVM_LABEL_OFFSET);
        const uint8_t *id32 = imgp_cur_ptr_at(&c, pvh, LVM_ID_LEN);
        if (!id32)
            continue; /* the PV header would start past the label sector */
        r->type = "lvm2_member"; /* blkid: "LVM2_member"; the project's documented name (docs/cli.md) */
        content_set_version(r, "LVM2 001");
        /* as lvm prints it: 6-4-4-4-4-4-6, when it is printable */
        char uuid[LVM_ID_LEN + 7];
        size_t n = 0;
        bool printable = true;
        for (size_t i = 0; i < LVM_ID_LEN; i++) {
            if (i >= 6 && i <= 26 && (i - 6) % 4 == 0)
                uuid[n++] = '-';
            printable = printable && id32[i] > 0x20 && id32[i] < 0x7F;
            uuid[n++] = (char)id32[i];
        }
        uuid[n] = '\0';
        if (printable)
            content_set_uuid(r, "%s", uuid);
        return IMGP_SCORE_MAGIC;
    }
    return IMGP_SCORE_NONE;
}

/* ---- Windows LDM ---- */

static bool ldm_privhead_at(const content_view *v, uint64_t off, content_result *r)
{
    imgp_cursor c;
    if (!content_window(v, off, LDM_PH_SIZE, &c))
        return false;
    if (!content_eq(&c, LDM_PH_MAGIC, LDM_MAGIC, 8))
        return false;
    uint16_t major = imgp_cur_be16_at(&c, LDM_PH_VERSION_MAJOR), minor = imgp_cur_be16_at(&c, LDM_PH_VERSION_MINOR);
    if (major != 2 || (minor != 11 && minor != 12))
        return false; /* the versions Windows 2000 .. 11 write (Linux ldm.c checks the same) */
    r->type = "LDM";
    content_set_version(r, "%u.%u", major, minor);
    content_set_uuid_text(r, imgp_cur_ptr_at(&c, LDM_PH_DISK_ID, LDM_GUID_TEXT_LEN), LDM_GUID_TEXT_LEN);
    for (char *p = r->uuid; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    content_set_label(r, imgp_cur_ptr_at(&c, LDM_PH_DISK_GROUP_NAME, LDM_GROUP_NAME_LEN), LDM_GROUP_NAME_LEN,
                      false);
    return true;
}

int content_probe_ldm(const content_view *v, content_result *r)
{
    if (ldm_privhead_at(v, (uint64_t)LDM_PRIVHEAD_SECTOR_MBR * 512, r))
        return IMGP_SCORE_MAGIC;
    /* the database in the last 1 MiB (of the disk, or of a GPT LDM metadata partition) */
    static const uint32_t in_db[] = LDM_PRIVHEAD_DB_SECTORS;
    uint64_t db_bytes = (uint64_t)LDM_DB_SECTORS * 512;
    for (size_t i = 0; v->size >= db_bytes && i < sizeof in_db / sizeof in_db[0]; i++)
        if (ldm_privhead_at(v, v->size - db_bytes + (uint64_t)in_db[i] * 512, r))
            return IMGP_SCORE_MAGIC;
    return IMGP_SCORE_NONE;
}

/* ---- LUKS ---- */

static void luks_attributes(imgp_cursor *c, content_result *r)
{
    uint16_t version = imgp_cur_be16_at(c, LUKS_VERSION);
    r->type = "crypto_LUKS";
    content_set_version(r, "%u", version);
    if (version == 1 || version == 2)
        content_set_uuid_text(r, imgp_cur_ptr_at(c, version == 1 ? LUKS1_UUID : LUKS2_UUID, LUKS_UUID_LEN),
                              LUKS_UUID_LEN);
    if (version == 2)
        content_set_label(r, imgp_cur_ptr_at(c, LUKS2_LABEL, LUKS2_LABEL_LEN), LUKS2_LABEL_LEN, false);
}

int content_probe_luks(const content_view *v, content_result *r)
{
    imgp_cursor c;
    if (content_window(v, 0, LUKS_HDR_SIZE, &c) &&
        content_eq(&c, 0, LUKS_MAGIC, LUKS_MAGIC_LEN)) {
        luks_attributes(&c, r);
        return IMGP_SCORE_MAGIC;
    }
    /* The primary header is gone: a LUKS2 secondary copy says where it is (LUKS2 spec 2.1, hdr_offset). */
    static const uint64_t secondary[] = LUKS2_SECONDARY_OFFSETS;
    for (size_t i = 0; i < sizeof secondary / sizeof secondary[0]; i++) {
        if (!content_window(v, secondary[i], LUKS_HDR_SIZE, &c))
            continue;
        if (content_eq(&c, 0, LUKS2_MAGIC_SECONDARY, LUKS_MAGIC_LEN) &&
            imgp_cur_be16_at(&c, LUKS_VERSION) == 2 && imgp_cur_be64_at(&c, LUKS2_HDR_OFFSET) == secondary[i]) {
            luks_attributes(&c, r);
            return IMGP_SCORE_MAGIC;
        }
    }
    return IMGP_SCORE_NONE;
}

/* ---- BitLocker ---- */

/*
 * Vista and Windows 7+ volumes replace the NTFS signature with "-FVE-FS-";
 * a BitLocker To Go volume keeps a FAT boot sector ("MSWIN4.1") and is told
 * apart from FAT only by its FVE metadata block.
 */
int content_probe_bitlocker(const content_view *v, content_result *r)
{
    imgp_cursor c;
    if (!content_window(v, 0, FAT_BOOT_SECTOR_SIZE, &c))
        return IMGP_SCORE_NONE;
    uint64_t fve_off;
    bool to_go = false;
    if (content_eq(&c, 0, BDE_SIGNATURE_VISTA, BDE_SIGNATURE_LEN)) {
        r->type = "BitLocker";
        return IMGP_SCORE_MAGIC;
    } else if (content_eq(&c, 0, BDE_SIGNATURE_WIN7, BDE_SIGNATURE_LEN)) {
        fve_off = imgp_cur_le64_at(&c, BDE_WIN7_FVE_OFFSET);
    } else if (content_eq(&c, 0, BDE_SIGNATURE_TOGO, BDE_SIGNATURE_LEN)) {
        fve_off = imgp_cur_le64_at(&c, BDE_TOGO_FVE_OFFSET);
        to_go = true;
    } else {
        return IMGP_SCORE_NONE;
    }
    if (fve_off == 0)
        return IMGP_SCORE_NONE;
    imgp_cursor fve;
    bool seen = content_window(v, fve_off, BDE_FVE_HEADER_SIZE, &fve);
    if (seen && !content_eq(&fve, 0, BDE_FVE_SIGNATURE, BDE_FVE_SIGNATURE_LEN))
        return IMGP_SCORE_NONE;
    if (!seen && to_go)
        return IMGP_SCORE_NONE; /* unconfirmed, it is a FAT volume */
    r->type = "BitLocker";
    if (seen)
        content_set_version(r, "%u", imgp_cur_le16_at(&fve, BDE_FVE_VERSION));
    if (!to_go) {
        /* blkid prints the (usually zero) 32-bit serial as a signed 16-digit decimal */
        uint32_t serial = imgp_cur_le32_at(&c, BDE_WIN7_VOLUME_SERIAL);
        if (serial)
            content_set_uuid(r, "%016d", (int)(int32_t)serial);
    }
    return seen ? IMGP_SCORE_MAGIC : IMGP_SCORE_WEAK;
}

/* ---- swap ---- */

/* The version-1 header at 1024, shared by swap and the hibernation images written over it. */
static bool swap_header(const content_view *v, bool check_v1, content_result *r)
{
    imgp_cursor c;
    if (!content_window(v, SWAP_HDR_OFFSET, SWAP_HDR_SIZE, &c))
        return false;
    if (check_v1) {
        /* written in the host's byte order: 1 either way round, and some pages */
        uint32_t version = imgp_cur_le32_at(&c, SWAP_HDR_VERSION);
        if ((version != 1 && imgp_cur_be32_at(&c, SWAP_HDR_VERSION) != 1) ||
            imgp_cur_le32_at(&c, SWAP_HDR_LAST_PAGE) == 0)
            return false;
    }
    /* label and UUID only when the padding is clean (old mkswap left garbage there) */
    if (imgp_cur_le32_at(&c, SWAP_HDR_PADDING + 32 * 4) == 0 && imgp_cur_le32_at(&c, SWAP_HDR_PADDING + 33 * 4) == 0) {
        content_set_label(r, imgp_cur_ptr_at(&c, SWAP_HDR_VOLUME, 16), 16, false);
        content_set_uuid_bytes(r, imgp_cur_ptr_at(&c, SWAP_HDR_UUID, 16));
    }
    return true;
}

/* The 10-byte signature field that ends a page of @p page bytes starts with @p magic
 * ("S1SUSPEND" is 9 characters: its field holds a NUL after it). */
static bool page_magic(const content_view *v, uint32_t page, const char *magic)
{
    imgp_cursor c;
    return content_window(v, page - SWAP_MAGIC_LEN, SWAP_MAGIC_LEN, &c) && content_eq(&c, 0, magic, strlen(magic));
}

int content_probe_swap(const content_view *v, content_result *r)
{
    static const struct {
        const char *magic, *version;
    } suspend[] = {
        {"S1SUSPEND", "s1suspend"},
        {"S2SUSPEND", "s2suspend"},
        {"ULSUSPEND", "ulsuspend"},
        {"LINHIB0001", "linhib0001"},
    };
    if (v->size < SWAP_MIN_DEVICE)
        return IMGP_SCORE_NONE;
    imgp_cursor c;
    bool tuxonice = content_window(v, 0, SWSUSPEND_TOI_MAGIC_LEN, &c) &&
                    content_eq(&c, 0, SWSUSPEND_TOI_MAGIC, SWSUSPEND_TOI_MAGIC_LEN);
    /* a hibernation image first (blkid: swsuspend before swap) */
    const char *version = tuxonice ? "tuxonice" : NULL;
    for (uint32_t page = SWAP_MIN_PAGE; !version && page <= SWAP_MAX_PAGE; page *= 2)
        for (size_t i = 0; !version && i < sizeof suspend / sizeof suspend[0]; i++)
            if (page_magic(v, page, suspend[i].magic))
                version = suspend[i].version;
    if (version) {
        if (!swap_header(v, false, r))
            return IMGP_SCORE_NONE;
        r->type = "swsuspend";
        content_set_version(r, "%s", version);
        return IMGP_SCORE_MAGIC;
    }
    for (uint32_t page = SWAP_MIN_PAGE; page <= SWAP_MAX_PAGE; page *= 2) {
        if (page_magic(v, page, SWAP_MAGIC_V0)) {
            r->type = "swap"; /* version 0 has no label or UUID */
            content_set_version(r, "0");
            return IMGP_SCORE_MAGIC;
        }
        if (page_magic(v, page, SWAP_MAGIC_V1)) {
            if (!swap_header(v, true, r))
                return IMGP_SCORE_NONE;
            r->type = "swap";
            content_set_version(r, "1");
            return IMGP_SCORE_MAGIC;
        }
    }
    return IMGP_SCORE_NONE;
}
