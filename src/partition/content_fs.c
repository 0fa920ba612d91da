/*
 * Content probes for filesystems (and the two journal devices that belong to
 * one): ext2/3/4 and jbd, xfs and its external log, vfat, exfat, ntfs,
 * btrfs, iso9660, squashfs, zfs. Layouts and their references:
 * content_disk.h. Each names the device as `blkid -p` does (TYPE, VERSION,
 * LABEL, UUID); where blkid would read outside the head and tail buffers
 * (a FAT32 or exFAT root directory, an NTFS $MFT far into the volume) the
 * probe does without, as its comment says.
 */
#include <inttypes.h>

#include "content.h"
#include "content_disk.h"

/* ---- ext2, ext3, ext4, jbd ---- */

#define EXT_SB_READ 0x200u /* the fields used here; blkid reads as much */

int content_probe_ext(const content_view *v, content_result *r)
{
    imgp_cursor c;
    if (!content_window(v, EXT_SB_OFFSET, EXT_SB_READ, &c) || imgp_cur_le16_at(&c, EXT_MAGIC_OFF) != EXT_MAGIC)
        return IMGP_SCORE_NONE;
    if (imgp_cur_le32_at(&c, EXT_LOG_BLOCK_SIZE) > EXT_MAX_LOG_BLOCK_SIZE)
        return IMGP_SCORE_NONE;
    uint32_t compat = imgp_cur_le32_at(&c, EXT_FEATURE_COMPAT);
    uint32_t incompat = imgp_cur_le32_at(&c, EXT_FEATURE_INCOMPAT);
    uint32_t ro_compat = imgp_cur_le32_at(&c, EXT_FEATURE_RO_COMPAT);
    /*
     * The name follows the features, as blkid decides it: an external journal
     * is "jbd"; a filesystem marked for development code "ext4dev"; one using
     * anything ext3 did not know "ext4"; else "ext3" with a journal and
     * "ext2" without (if ext2 knew all its features).
     */
    if (incompat & EXT_INCOMPAT_JOURNAL_DEV)
        r->type = "jbd";
    else if (imgp_cur_le32_at(&c, EXT_FLAGS) & EXT_FLAGS_TEST_FILESYS)
        r->type = "ext4dev";
    else if ((ro_compat & ~EXT3_RO_COMPAT_KNOWN) || (incompat & ~EXT3_INCOMPAT_KNOWN))
        r->type = "ext4";
    else if (compat & EXT_COMPAT_HAS_JOURNAL)
        r->type = "ext3";
    else if (!(incompat & ~EXT2_INCOMPAT_KNOWN))
        r->type = "ext2";
    else
        return IMGP_SCORE_NONE; /* needs recovery but has no journal: nothing blkid names either */
    content_set_label(r, imgp_cur_ptr_at(&c, EXT_VOLUME_NAME, 16), 16, false);
    content_set_uuid_bytes(r, imgp_cur_ptr_at(&c, EXT_UUID, 16));
    content_set_version(r, "%" PRIu32 ".%u", imgp_cur_le32_at(&c, EXT_REV_LEVEL),
                        imgp_cur_le16_at(&c, EXT_MINOR_REV_LEVEL));
    return IMGP_SCORE_MAGIC;
}

/* ---- xfs ---- */

/* The sanity checks xfs_repair and blkid make before trusting a superblock. */
static bool xfs_sb_plausible(imgp_cursor *c)
{
    uint32_t blocksize = imgp_cur_be32_at(c, XFS_SB_BLOCKSIZE);
    uint64_t dblocks = imgp_cur_be64_at(c, XFS_SB_DBLOCKS);
    uint32_t rextsize = imgp_cur_be32_at(c, XFS_SB_REXTSIZE);
    uint32_t agblocks = imgp_cur_be32_at(c, XFS_SB_AGBLOCKS);
    uint32_t agcount = imgp_cur_be32_at(c, XFS_SB_AGCOUNT);
    uint16_t sectsize = imgp_cur_be16_at(c, XFS_SB_SECTSIZE);
    uint16_t inodesize = imgp_cur_be16_at(c, XFS_SB_INODESIZE);
    unsigned blocklog = imgp_cur_u8_at(c, XFS_SB_BLOCKLOG), sectlog = imgp_cur_u8_at(c, XFS_SB_SECTLOG);
    unsigned inodelog = imgp_cur_u8_at(c, XFS_SB_INODELOG), inopblog = imgp_cur_u8_at(c, XFS_SB_INOPBLOG);
    if (agcount == 0 || sectlog < XFS_MIN_SECTLOG || sectlog > XFS_MAX_SECTLOG || sectsize != 1u << sectlog)
        return false;
    if (blocklog < XFS_MIN_BLOCKLOG || blocklog > XFS_MAX_BLOCKLOG || blocksize != 1u << blocklog)
        return false;
    if (inodelog < XFS_MIN_INODELOG || inodelog > XFS_MAX_INODELOG || inodesize != 1u << inodelog ||
        inodelog > blocklog || blocklog - inodelog != inopblog)
        return false;
    uint64_t rext_bytes = (uint64_t)rextsize * blocksize;
    if (rext_bytes < XFS_MIN_RTEXT_BYTES || rext_bytes > XFS_MAX_RTEXT_BYTES ||
        imgp_cur_u8_at(c, XFS_SB_IMAX_PCT) > 100)
        return false;
    /* the data blocks fill the allocation groups, the last one at least partly */
    uint64_t max_dblocks = (uint64_t)agcount * agblocks;
    uint64_t min_dblocks = (uint64_t)(agcount - 1) * agblocks + XFS_MIN_AG_BLOCKS;
    return dblocks != 0 && dblocks <= max_dblocks && dblocks >= min_dblocks && imgp_cur_ok(c);
}

int content_probe_xfs(const content_view *v, content_result *r)
{
    imgp_cursor c;
    if (!content_window(v, 0, XFS_SB_SIZE, &c) || !content_eq(&c, XFS_SB_MAGIC_OFF, "XFSB", 4) ||
        !xfs_sb_plausible(&c))
        return IMGP_SCORE_NONE;
    r->type = "xfs";
    content_set_label(r, imgp_cur_ptr_at(&c, XFS_SB_FNAME, 12), 12, false);
    content_set_uuid_bytes(r, imgp_cur_ptr_at(&c, XFS_SB_UUID, 16));
    /* blkid prints no version for xfs; ours says when metadata CRCs are on (v5), as older kernels care */
    if ((imgp_cur_be16_at(&c, XFS_SB_VERSIONNUM) & XFS_VERSION_MASK) == XFS_VERSION_5)
        content_set_version(r, "v5");
    return IMGP_SCORE_MAGIC;
}

/*
 * An external log device: a log record header at the start of a sector in
 * the first 256 KiB (we see the sectors inside the head), with no xfs
 * superblock before it. blkid names it by its record header and prints the
 * owning filesystem's UUID as LOGUUID only, so no UUID is set here.
 */
int content_probe_xfs_log(const content_view *v, content_result *r)
{
    if (v->size < XLOG_MIN_DEVICE)
        return IMGP_SCORE_NONE;
    for (uint64_t off = 0; off < XLOG_SCAN_BYTES; off += 512) {
        imgp_cursor c;
        if (!content_window(v, off, XLOG_HEADER_SIZE, &c))
            break;
        if (content_eq(&c, 0, "XFSB", 4))
            return IMGP_SCORE_NONE; /* a filesystem, not a log */
        if (imgp_cur_be32_at(&c, XLOG_H_MAGICNO) != XLOG_MAGIC)
            continue;
        uint32_t version = imgp_cur_be32_at(&c, XLOG_H_VERSION), len = imgp_cur_be32_at(&c, XLOG_H_LEN);
        uint32_t fmt = imgp_cur_be32_at(&c, XLOG_H_FMT);
        if (version == 0 || (version & ~XLOG_VERSION_OKBITS) || len == 0 || len > INT32_MAX ||
            fmt < XLOG_FMT_LINUX_LE || fmt > XLOG_FMT_IRIX_BE)
            continue;
        r->type = "xfs_external_log";
        return IMGP_SCORE_MAGIC;
    }
    return IMGP_SCORE_NONE;
}

/* ---- vfat ---- */

enum { DIR_NO_LABEL = 0, DIR_LABEL = 1, DIR_NOT_SEEN = -1 };

/*
 * Look for the volume-label entry among @p entries directory entries at
 * device offset @p off: DIR_LABEL (and the 11 bytes in @p label), DIR_NO_LABEL
 * when the directory ends without one, DIR_NOT_SEEN when it runs outside the
 * buffers first.
 */
static int fat_dir_label(const content_view *v, uint64_t off, uint64_t entries, uint8_t label[FAT_LABEL_LEN])
{
    for (uint64_t i = 0; i < entries; i++) {
        imgp_cursor e;
        if (i > (UINT64_MAX - off) / FAT_DIRENT_SIZE || !content_window(v, off + i * FAT_DIRENT_SIZE, FAT_DIRENT_SIZE, &e))
            return DIR_NOT_SEEN;
        const uint8_t *name = imgp_cur_ptr_at(&e, FAT_DIR_NAME, FAT_LABEL_LEN);
        uint8_t attr = imgp_cur_u8_at(&e, FAT_DIR_ATTR);
        if (!name || name[0] == FAT_DIR_END)
            return DIR_NO_LABEL;
        if (name[0] == FAT_DIR_FREE || imgp_cur_le16_at(&e, FAT_DIR_FST_CLUS_HI) ||
            imgp_cur_le16_at(&e, FAT_DIR_FST_CLUS_LO) || (attr & FAT_ATTR_MASK) == FAT_ATTR_LONG_NAME)
            continue;
        if ((attr & (FAT_ATTR_VOLUME_ID | FAT_ATTR_DIRECTORY)) == FAT_ATTR_VOLUME_ID) {
            memcpy(label, name, FAT_LABEL_LEN);
            if (label[0] == FAT_DIR_KANJI_E5)
                label[0] = FAT_DIR_FREE;
            return DIR_LABEL;
        }
    }
    return DIR_NO_LABEL;
}

/* The FAT32 root directory: a cluster chain, followed for at most 100 clusters (as blkid). */
static int fat32_root_label(const content_view *v, imgp_cursor *bs, uint64_t data_sector, uint32_t sector_size,
                            uint8_t label[FAT_LABEL_LEN])
{
    uint32_t spc = imgp_cur_u8_at(bs, FAT_BPB_SEC_PER_CLUS);
    uint64_t fat_start = (uint64_t)imgp_cur_le16_at(bs, FAT_BPB_RSVD_SEC_CNT) * sector_size;
    uint64_t fat_entries = (uint64_t)imgp_cur_le32_at(bs, FAT32_BPB_FAT_SZ32) * sector_size / 4;
    uint64_t cluster = imgp_cur_le32_at(bs, FAT32_BPB_ROOT_CLUS);
    for (int hops = 0; hops < 100 && cluster >= 2 && cluster < fat_entries; hops++) {
        /* data_sector and cluster are bounded by 32-bit fields: no overflow in 64 bits */
        uint64_t off = (data_sector + (cluster - 2) * spc) * sector_size;
        int found = fat_dir_label(v, off, (uint64_t)spc * sector_size / FAT_DIRENT_SIZE, label);
        if (found != DIR_NO_LABEL)
            return found;
        imgp_cursor next;
        if (!content_window(v, fat_start + cluster * 4, 4, &next))
            return DIR_NOT_SEEN;
        cluster = imgp_cur_le32_at(&next, 0) & FAT32_EOC_MASK;
    }
    return DIR_NO_LABEL;
}

/* FAT32's FSInfo sector, when we see it, must carry its signatures or be blank. */
static bool fat32_fsinfo_ok(const content_view *v, imgp_cursor *bs, uint32_t sector_size)
{
    uint16_t sector = imgp_cur_le16_at(bs, FAT32_BPB_FS_INFO);
    imgp_cursor fi;
    if (sector == 0 || !content_window(v, (uint64_t)sector * sector_size, FAT_FSI_SIZE, &fi))
        return true;
    bool lead_ok = content_eq(&fi, FAT_FSI_LEAD_SIG, "RRaA", 4) || content_eq(&fi, FAT_FSI_LEAD_SIG, "RRdA", 4) ||
                   content_eq(&fi, FAT_FSI_LEAD_SIG, "\0\0\0\0", 4);
    bool struc_ok = content_eq(&fi, FAT_FSI_STRUC_SIG, "rrAa", 4) || content_eq(&fi, FAT_FSI_STRUC_SIG, "\0\0\0\0", 4);
    return lead_ok && struc_ok;
}

static bool is_pow2_u32(uint32_t x) { return x && !(x & (x - 1)); }

int content_probe_vfat(const content_view *v, content_result *r)
{
    imgp_cursor bs;
    if (!content_window(v, 0, FAT_BOOT_SECTOR_SIZE, &bs))
        return IMGP_SCORE_NONE;
    static const struct {
        size_t off;
        const char *text;
    } names[] = {{FAT32_BS_FIL_SYS_TYPE, "MSWIN"}, {FAT32_BS_FIL_SYS_TYPE, "FAT32   "},
                 {FAT16_BS_FIL_SYS_TYPE, "MSDOS"}, {FAT16_BS_FIL_SYS_TYPE, "FAT16   "},
                 {FAT16_BS_FIL_SYS_TYPE, "FAT12   "}, {FAT16_BS_FIL_SYS_TYPE, "FAT     "}};
    bool named = false;
    for (size_t i = 0; !named && i < sizeof names / sizeof names[0]; i++)
        named = content_eq(&bs, names[i].off, names[i].text, strlen(names[i].text));
    bool signed_55aa = imgp_cur_u8_at(&bs, FAT_SIGNATURE) == 0x55 && imgp_cur_u8_at(&bs, FAT_SIGNATURE + 1) == 0xAA;
    if (!named) {
        /* Old floppies carry no type string: the boot signature must be there, and OS/2 puts
         * FAT-like pseudo boot sectors in front of JFS and HPFS, which say so. */
        if (!signed_55aa || content_eq(&bs, FAT16_BS_FIL_SYS_TYPE, "JFS     ", 8) ||
            content_eq(&bs, FAT16_BS_FIL_SYS_TYPE, "HPFS    ", 8))
            return IMGP_SCORE_NONE;
    }

    /* the BPB (fatgen103 section 3.1), checked as the Linux driver and blkid check it */
    uint8_t fats = imgp_cur_u8_at(&bs, FAT_BPB_NUM_FATS), media = imgp_cur_u8_at(&bs, FAT_BPB_MEDIA);
    uint8_t spc = imgp_cur_u8_at(&bs, FAT_BPB_SEC_PER_CLUS);
    uint16_t reserved = imgp_cur_le16_at(&bs, FAT_BPB_RSVD_SEC_CNT);
    uint16_t sector_size = imgp_cur_le16_at(&bs, FAT_BPB_BYTS_PER_SEC);
    if (!fats || !reserved || !(media >= 0xF8 || media == 0xF0) || !is_pow2_u32(spc) ||
        !is_pow2_u32(sector_size) || sector_size < 512 || sector_size > 4096)
        return IMGP_SCORE_NONE;
    uint32_t sectors = imgp_cur_le16_at(&bs, FAT_BPB_TOT_SEC16);
    if (sectors == 0)
        sectors = imgp_cur_le32_at(&bs, FAT_BPB_TOT_SEC32);
    uint16_t fat_sz16 = imgp_cur_le16_at(&bs, FAT_BPB_FAT_SZ16);
    uint32_t fat_sz32 = imgp_cur_le32_at(&bs, FAT32_BPB_FAT_SZ32);
    uint64_t fat_sectors = (uint64_t)(fat_sz16 ? fat_sz16 : fat_sz32) * fats;
    uint16_t root_entries = imgp_cur_le16_at(&bs, FAT_BPB_ROOT_ENT_CNT);
    uint64_t root_sectors = ((uint64_t)root_entries * FAT_DIRENT_SIZE + sector_size - 1) / sector_size;
    uint64_t meta = reserved + fat_sectors + root_sectors;
    if (meta > sectors)
        return IMGP_SCORE_NONE;
    uint64_t clusters = (sectors - meta) / spc;
    bool fat32 = !fat_sz16 && fat_sz32;
    uint64_t max_clusters = fat32 ? FAT32_MAX_CLUSTERS : clusters > FAT12_MAX_CLUSTERS ? FAT16_MAX_CLUSTERS
                                                                                       : FAT12_MAX_CLUSTERS;
    if (clusters > max_clusters)
        return IMGP_SCORE_NONE;

    /*
     * The label: blkid takes the root directory's volume-label entry (and
     * prints the boot sector's as LABEL_FATBOOT). When the root directory
     * lies outside the head (every FAT32 volume but tiny ones) we take the
     * boot sector's label instead.
     */
    uint8_t dir_label[FAT_LABEL_LEN];
    int found = DIR_NO_LABEL;
    const uint8_t *boot_label = NULL, *serial = NULL;
    if (fat_sz16) {
        found = fat_dir_label(v, (reserved + fat_sectors) * sector_size, root_entries, dir_label);
        uint8_t sig = imgp_cur_u8_at(&bs, FAT16_BS_BOOT_SIG);
        if (sig == FAT_BOOT_SIG_FULL)
            boot_label = imgp_cur_ptr_at(&bs, FAT16_BS_VOL_LAB, FAT_LABEL_LEN);
        if (sig == FAT_BOOT_SIG_FULL || sig == FAT_BOOT_SIG_SERIAL)
            serial = imgp_cur_ptr_at(&bs, FAT16_BS_VOL_ID, 4);
        if (clusters < FAT12_MAX_CLUSTERS)
            content_set_version(r, "FAT12");
        else if (clusters < FAT16_MAX_CLUSTERS)
            content_set_version(r, "FAT16");
    } else if (fat32) {
        if (!fat32_fsinfo_ok(v, &bs, sector_size))
            return IMGP_SCORE_NONE;
        found = fat32_root_label(v, &bs, reserved + fat_sectors, sector_size, dir_label);
        if (imgp_cur_u8_at(&bs, FAT32_BS_BOOT_SIG) == FAT_BOOT_SIG_FULL)
            boot_label = imgp_cur_ptr_at(&bs, FAT32_BS_VOL_LAB, FAT_LABEL_LEN);
        serial = imgp_cur_ptr_at(&bs, FAT32_BS_VOL_ID, 4);
        content_set_version(r, "FAT32");
    }
    r->type = "vfat";
    if (found == DIR_LABEL)
        content_set_label(r, dir_label, FAT_LABEL_LEN, false);
    else if (found == DIR_NOT_SEEN && boot_label && memcmp(boot_label, FAT_NO_NAME, FAT_LABEL_LEN) != 0)
        content_set_label(r, boot_label, FAT_LABEL_LEN, true);
    if (serial && !content_all_zero(serial, 4))
        content_set_uuid(r, "%02X%02X-%02X%02X", serial[3], serial[2], serial[1], serial[0]);
    return named ? IMGP_SCORE_MAGIC : IMGP_SCORE_WEAK;
}

/* ---- exfat ---- */

/* The volume-label entry of the root directory, while it stays inside the buffers (blkid: 10000 entries). */
static void exfat_root_label(const content_view *v, imgp_cursor *bs, content_result *r)
{
    unsigned sector_shift = imgp_cur_u8_at(bs, EXFAT_BYTES_PER_SECTOR_SHIFT);
    unsigned cluster_shift = sector_shift + imgp_cur_u8_at(bs, EXFAT_SECTORS_PER_CLUSTER_SHIFT);
    uint64_t heap = (uint64_t)imgp_cur_le32_at(bs, EXFAT_CLUSTER_HEAP_OFFSET) << sector_shift;
    uint64_t fat = (uint64_t)imgp_cur_le32_at(bs, EXFAT_FAT_OFFSET) << sector_shift;
    uint32_t cluster = imgp_cur_le32_at(bs, EXFAT_FIRST_CLUSTER_OF_ROOT);
    if (cluster < EXFAT_FIRST_DATA_CLUSTER || cluster > EXFAT_LAST_DATA_CLUSTER)
        return;
    /* cluster_shift <= 25 and the cluster a 32-bit number: every offset fits in 64 bits */
    uint64_t off = heap + ((uint64_t)(cluster - EXFAT_FIRST_DATA_CLUSTER) << cluster_shift);
    for (int i = 0; i < 10000; i++) {
        imgp_cursor e;
        if (!content_window(v, off, EXFAT_DIRENT_SIZE, &e))
            return;
        uint8_t type = imgp_cur_u8_at(&e, EXFAT_ENTRY_TYPE);
        if (type == EXFAT_ENTRY_END)
            return;
        if (type == EXFAT_ENTRY_VOLUME_LABEL) {
            size_t units = imgp_min_u64(imgp_cur_u8_at(&e, EXFAT_LABEL_CHAR_COUNT), EXFAT_LABEL_MAX_UNITS);
            content_set_label_utf16(r, imgp_cur_ptr_at(&e, EXFAT_LABEL_TEXT, 2 * units), 2 * units, false);
            return;
        }
        off += EXFAT_DIRENT_SIZE;
        if (off % ((uint64_t)1 << cluster_shift) == 0) {
            imgp_cursor next;
            if (!content_window(v, fat + (uint64_t)cluster * 4, 4, &next))
                return;
            cluster = imgp_cur_le32_at(&next, 0);
            if (cluster < EXFAT_FIRST_DATA_CLUSTER || cluster > EXFAT_LAST_DATA_CLUSTER)
                return;
            off = heap + ((uint64_t)(cluster - EXFAT_FIRST_DATA_CLUSTER) << cluster_shift);
        }
    }
}

int content_probe_exfat(const content_view *v, content_result *r)
{
    imgp_cursor bs;
    if (!content_window(v, 0, FAT_BOOT_SECTOR_SIZE, &bs) ||
        !content_eq(&bs, EXFAT_FILE_SYSTEM_NAME, "EXFAT   ", 8))
        return IMGP_SCORE_NONE;
    /* exFAT spec 3.1: the old BPB area is zero, sector 512 B .. 4 KiB, cluster at most 32 MiB, 1 or 2 FATs */
    unsigned sector_shift = imgp_cur_u8_at(&bs, EXFAT_BYTES_PER_SECTOR_SHIFT);
    unsigned spc_shift = imgp_cur_u8_at(&bs, EXFAT_SECTORS_PER_CLUSTER_SHIFT);
    uint8_t fats = imgp_cur_u8_at(&bs, EXFAT_NUMBER_OF_FATS);
    if (!content_all_zero(imgp_cur_ptr_at(&bs, EXFAT_MUST_BE_ZERO, EXFAT_MUST_BE_ZERO_LEN), EXFAT_MUST_BE_ZERO_LEN) ||
        sector_shift < EXFAT_MIN_SECTOR_SHIFT || sector_shift > EXFAT_MAX_SECTOR_SHIFT ||
        spc_shift > EXFAT_MAX_CLUSTER_SHIFT - sector_shift || fats < 1 || fats > 2 ||
        imgp_cur_u8_at(&bs, EXFAT_BOOT_SIGNATURE) != 0x55 || imgp_cur_u8_at(&bs, EXFAT_BOOT_SIGNATURE + 1) != 0xAA)
        return IMGP_SCORE_NONE;
    r->type = "exfat";
    exfat_root_label(v, &bs, r);
    const uint8_t *s = imgp_cur_ptr_at(&bs, EXFAT_VOLUME_SERIAL, 4);
    if (s && !content_all_zero(s, 4))
        content_set_uuid(r, "%02X%02X-%02X%02X", s[3], s[2], s[1], s[0]);
    content_set_version(r, "%u.%u", imgp_cur_u8_at(&bs, EXFAT_REVISION_MAJOR), imgp_cur_u8_at(&bs, EXFAT_REVISION_MINOR));
    return IMGP_SCORE_MAGIC;
}

/* ---- ntfs ---- */

#define NTFS_RECORD_MAX 4096u /* the largest MFT record whose label we read (1 KiB is usual) */

/* The $VOLUME_NAME of the $Volume record @p rec (@p len bytes, fixups applied). */
static void ntfs_volume_name(const uint8_t *rec, size_t len, content_result *r)
{
    imgp_cursor c = imgp_cur_init(rec, len);
    uint64_t off = imgp_cur_le16_at(&c, NTFS_REC_ATTRS_OFFSET);
    uint32_t allocated = imgp_cur_le32_at(&c, NTFS_REC_BYTES_ALLOCATED);
    while (!imgp_range_outside(off, NTFS_ATTR_HEADER_SIZE, len) && off <= allocated) {
        uint32_t type = imgp_cur_le32_at(&c, off + NTFS_ATTR_TYPE);
        uint32_t attr_len = imgp_cur_le32_at(&c, off + NTFS_ATTR_LENGTH);
        if (attr_len == 0 || type == NTFS_AT_END)
            return;
        if (type == NTFS_AT_VOLUME_NAME) {
            uint32_t value_len = imgp_cur_le32_at(&c, off + NTFS_ATTR_VALUE_LENGTH);
            uint64_t value_off = off + imgp_cur_le16_at(&c, off + NTFS_ATTR_VALUE_OFFSET);
            if (imgp_cur_u8_at(&c, off + NTFS_ATTR_NON_RESIDENT) == 0 && !imgp_range_outside(value_off, value_len, len))
                content_set_label_utf16(r, rec + value_off, value_len, false);
            return;
        }
        off += attr_len;
    }
}

/* Undo the update sequence (the last two bytes of each 512-byte stride are kept in the array). */
static void ntfs_apply_fixups(uint8_t *rec, size_t len)
{
    imgp_cursor c = imgp_cur_init(rec, len);
    uint16_t usa = imgp_cur_le16_at(&c, NTFS_REC_USA_OFS), count = imgp_cur_le16_at(&c, NTFS_REC_USA_COUNT);
    if (count < 2 || imgp_range_outside(usa, (uint64_t)count * 2, len) || count - 1u > len / NTFS_REC_FIXUP_STRIDE)
        return;
    for (size_t i = 1; i < count; i++) {
        size_t end = i * NTFS_REC_FIXUP_STRIDE - 2;
        if (rec[end] == rec[usa] && rec[end + 1] == rec[usa + 1]) {
            rec[end] = rec[usa + 2 * i];
            rec[end + 1] = rec[usa + 2 * i + 1];
        }
    }
}

int content_probe_ntfs(const content_view *v, content_result *r)
{
    imgp_cursor bs;
    if (!content_window(v, 0, FAT_BOOT_SECTOR_SIZE, &bs) || !content_eq(&bs, NTFS_OEM_ID, "NTFS    ", 8))
        return IMGP_SCORE_NONE;
    uint16_t sector_size = imgp_cur_le16_at(&bs, NTFS_BYTES_PER_SECTOR);
    uint8_t spc_code = imgp_cur_u8_at(&bs, NTFS_SECTORS_PER_CLUSTER);
    if (!is_pow2_u32(sector_size) || sector_size < 256 || sector_size > 4096)
        return IMGP_SCORE_NONE;
    uint32_t spc;
    if (spc_code <= 128 && is_pow2_u32(spc_code))
        spc = spc_code;
    else if (spc_code >= 240 && spc_code <= 249)
        spc = 1u << (256 - spc_code); /* large clusters, written as a negative shift */
    else
        return IMGP_SCORE_NONE;
    uint64_t cluster_size = (uint64_t)sector_size * spc;
    if (cluster_size > NTFS_MAX_CLUSTER_SIZE)
        return IMGP_SCORE_NONE;
    /* the FAT fields NTFS leaves zero */
    if (imgp_cur_le16_at(&bs, NTFS_RESERVED_SECTORS) || imgp_cur_u8_at(&bs, NTFS_FATS) ||
        imgp_cur_le16_at(&bs, NTFS_ROOT_ENTRIES) || imgp_cur_le16_at(&bs, NTFS_SECTORS16) ||
        imgp_cur_le16_at(&bs, NTFS_SECTORS_PER_FAT) || imgp_cur_le32_at(&bs, NTFS_LARGE_SECTORS))
        return IMGP_SCORE_NONE;
    int8_t cpm = (int8_t)imgp_cur_u8_at(&bs, NTFS_CLUSTERS_PER_MFT_RECORD);
    uint64_t record_size;
    if (cpm > 0 && cpm <= 64 && is_pow2_u32((uint32_t)cpm))
        record_size = (uint64_t)cpm * cluster_size;
    else if (cpm <= -9 && cpm >= -31)
        record_size = (uint64_t)1 << -cpm;
    else
        return IMGP_SCORE_NONE;
    uint64_t clusters = imgp_cur_le64_at(&bs, NTFS_NUMBER_OF_SECTORS) / spc;
    uint64_t mft_lcn = imgp_cur_le64_at(&bs, NTFS_MFT_LCN);
    if (mft_lcn > clusters || imgp_cur_le64_at(&bs, NTFS_MFTMIRR_LCN) > clusters)
        return IMGP_SCORE_NONE;
    uint64_t mft, volume_rec;
    if (imgp_mul_overflow(mft_lcn, cluster_size, &mft) ||
        imgp_add_overflow(mft, NTFS_MFT_RECORD_VOLUME * record_size, &volume_rec))
        return IMGP_SCORE_NONE;
    /* $MFT is verified where we see it (small volumes); on big ones it is far beyond the head */
    imgp_cursor rec;
    if (content_window(v, mft, 4, &rec) && !content_eq(&rec, 0, "FILE", 4))
        return IMGP_SCORE_NONE;
    if (content_window(v, volume_rec, (size_t)imgp_min_u64(record_size, NTFS_RECORD_MAX), &rec)) {
        if (!content_eq(&rec, 0, "FILE", 4))
            return IMGP_SCORE_NONE;
        if (record_size <= NTFS_RECORD_MAX) {
            uint8_t copy[NTFS_RECORD_MAX];
            imgp_cur_bytes_at(&rec, 0, copy, (size_t)record_size);
            ntfs_apply_fixups(copy, (size_t)record_size);
            ntfs_volume_name(copy, (size_t)record_size, r);
        }
    }
    r->type = "ntfs";
    uint64_t serial = imgp_cur_le64_at(&bs, NTFS_VOLUME_SERIAL);
    if (serial)
        content_set_uuid(r, "%016" PRIX64, serial);
    return IMGP_SCORE_MAGIC;
}

/* ---- btrfs ---- */

int content_probe_btrfs(const content_view *v, content_result *r)
{
    imgp_cursor c;
    if (!content_window(v, BTRFS_SB_OFFSET, BTRFS_SB_SIZE, &c) ||
        !content_eq(&c, BTRFS_SB_MAGIC_OFF, BTRFS_MAGIC, 8))
        return IMGP_SCORE_NONE;
    /* the superblock names its own place, and its sector size is a power of two */
    uint32_t sectorsize = imgp_cur_le32_at(&c, BTRFS_SB_SECTORSIZE);
    if (imgp_cur_le64_at(&c, BTRFS_SB_BYTENR) != BTRFS_SB_OFFSET || !is_pow2_u32(sectorsize) || sectorsize < 512 ||
        sectorsize > 65536)
        return IMGP_SCORE_NONE;
    r->type = "btrfs";
    content_set_label(r, imgp_cur_ptr_at(&c, BTRFS_SB_LABEL, BTRFS_LABEL_LEN), BTRFS_LABEL_LEN, false);
    content_set_uuid_bytes(r, imgp_cur_ptr_at(&c, BTRFS_SB_FSID, 16));
    return IMGP_SCORE_MAGIC;
}

/* ---- iso9660 ---- */

static bool ascii_upper(uint8_t c) { return c >= 'A' && c <= 'Z'; }
static uint8_t ascii_toupper(uint8_t c) { return c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c; }

/*
 * The Joliet label is UCS-2 but only 16 characters; the primary one 32
 * characters of a restricted set, '_' standing for what it cannot hold.
 * When the Joliet label agrees with the start of the primary one (case and
 * '_' aside), take Joliet's characters and the primary's rest, as blkid
 * does. Writes UTF-16BE into @p out (room for 2 * ISO_LABEL_LEN + 2 bytes,
 * and 2 more per surrogate pair), returns its length, 0 when they disagree.
 */
static size_t iso_merge_labels(const uint8_t *joliet, const uint8_t *primary, uint8_t *out)
{
    size_t o = 0, a = 0, u = 0;
    for (; u + 1 < ISO_LABEL_LEN && a < ISO_LABEL_LEN; a++, u += 2) {
        if (joliet[u] >= 0xD8 && joliet[u] <= 0xDB && u + 3 < ISO_LABEL_LEN && joliet[u + 2] >= 0xDC &&
            joliet[u + 2] <= 0xDF) {
            /* a character beyond U+FFFF: the primary label has one '_' for both halves */
            out[o++] = joliet[u++];
            out[o++] = joliet[u++];
        }
        uint8_t hi = joliet[u], lo = joliet[u + 1], p = primary[a];
        if (p == '_') {
            out[o++] = hi;
            out[o++] = lo;
        } else if (hi == 0 && lo == '_') {
            out[o++] = 0;
            out[o++] = p;
        } else if (hi == 0 && ascii_toupper(p) == ascii_toupper(lo)) {
            out[o++] = 0;
            out[o++] = ascii_upper(p) ? lo : p;
        } else {
            return 0;
        }
    }
    for (; a < ISO_LABEL_LEN; a++) {
        out[o++] = 0;
        out[o++] = primary[a];
    }
    return o;
}

/* The UUID blkid makes from a descriptor date: "YYYY-MM-DD-HH-MM-SS-cc". */
static bool iso_date_uuid(imgp_cursor *pvd, size_t off, content_result *r)
{
    const uint8_t *d = imgp_cur_ptr_at(pvd, off, ISO_DATE_DIGITS + 1);
    size_t zeros = 0;
    for (size_t i = 0; i < ISO_DATE_DIGITS; i++) {
        if (d[i] < '0' || d[i] > '9')
            return false; /* not a date: blkid would print it anyway; we do not */
        zeros += d[i] == '0';
    }
    if (zeros == ISO_DATE_DIGITS && d[ISO_DATE_DIGITS] == 0)
        return false; /* ECMA-119 8.4.26.1: all zeros means "not specified" */
    content_set_uuid(r, "%.4s-%.2s-%.2s-%.2s-%.2s-%.2s-%.2s", (const char *)d, (const char *)d + 4,
                     (const char *)d + 6, (const char *)d + 8, (const char *)d + 10, (const char *)d + 12,
                     (const char *)d + 14);
    return true;
}

int content_probe_iso9660(const content_view *v, content_result *r)
{
    imgp_cursor pvd = {0}, joliet = {0};
    bool have_pvd = false, have_joliet = false;
    for (uint32_t i = 0; i < ISO_VD_MAX; i++) {
        imgp_cursor d;
        if (!content_window(v, ISO_VD_START + (uint64_t)i * ISO_VD_SIZE, ISO_VD_USED, &d))
            break;
        if (i == 0 && content_eq(&d, HSFS_ID_OFF, HSFS_ID, 5)) {
            r->type = "iso9660"; /* High Sierra, ISO 9660's predecessor */
            content_set_version(r, "High Sierra");
            content_set_label(r, imgp_cur_ptr_at(&d, HSFS_VOLUME_ID, ISO_LABEL_LEN), ISO_LABEL_LEN, false);
            return IMGP_SCORE_MAGIC;
        }
        uint8_t type = imgp_cur_u8_at(&d, ISO_VD_TYPE);
        if (!content_eq(&d, ISO_VD_ID, ISO_ID, 5) || type == ISO_TYPE_TERMINATOR)
            break;
        if (type == ISO_TYPE_PRIMARY && !have_pvd) {
            pvd = d;
            have_pvd = true;
        } else if (type == ISO_TYPE_SUPPLEMENTARY && !have_joliet) {
            if (content_eq(&d, ISO_VD_ESCAPE_SEQUENCES, "%/@", 3) || content_eq(&d, ISO_VD_ESCAPE_SEQUENCES, "%/C", 3) ||
                content_eq(&d, ISO_VD_ESCAPE_SEQUENCES, "%/E", 3)) {
                joliet = d;
                have_joliet = true;
            }
        }
    }
    if (!have_pvd)
        return IMGP_SCORE_NONE;
    r->type = "iso9660";
    const uint8_t *primary_label = imgp_cur_ptr_at(&pvd, ISO_VD_VOLUME_ID, ISO_LABEL_LEN);
    if (have_joliet) {
        content_set_version(r, "Joliet Extension");
        const uint8_t *joliet_label = imgp_cur_ptr_at(&joliet, ISO_VD_VOLUME_ID, ISO_LABEL_LEN);
        uint8_t merged[4 * ISO_LABEL_LEN];
        size_t n = iso_merge_labels(joliet_label, primary_label, merged);
        if (n)
            content_set_label_utf16(r, merged, n, true);
        else
            content_set_label_utf16(r, joliet_label, ISO_LABEL_LEN, true);
    } else {
        content_set_label(r, primary_label, ISO_LABEL_LEN, false);
    }
    if (!iso_date_uuid(&pvd, ISO_VD_MODIFICATION_DATE, r))
        iso_date_uuid(&pvd, ISO_VD_CREATION_DATE, r);
    return IMGP_SCORE_MAGIC;
}

/* ---- squashfs ---- */

int content_probe_squashfs(const content_view *v, content_result *r)
{
    imgp_cursor c;
    if (!content_window(v, 0, SQUASHFS_SB_SIZE, &c))
        return IMGP_SCORE_NONE;
    bool le = content_eq(&c, 0, SQUASHFS_MAGIC_LE, 4);
    if (!le && !content_eq(&c, 0, SQUASHFS_MAGIC_BE, 4))
        return IMGP_SCORE_NONE;
    uint16_t major = le ? imgp_cur_le16_at(&c, SQUASHFS_VERSION_MAJOR) : imgp_cur_be16_at(&c, SQUASHFS_VERSION_MAJOR);
    uint16_t minor = le ? imgp_cur_le16_at(&c, SQUASHFS_VERSION_MINOR) : imgp_cur_be16_at(&c, SQUASHFS_VERSION_MINOR);
    if (major <= 3) {
        r->type = "squashfs3"; /* the old format blkid names apart */
        content_set_version(r, "%u.%u", major, minor);
        return IMGP_SCORE_MAGIC;
    }
    if (!le)
        return IMGP_SCORE_NONE; /* version 4 is little-endian only */
    r->type = "squashfs";
    content_set_version(r, "%u.%u", major, minor);
    if (major > 4)
        return IMGP_SCORE_WEAK; /* a version we have no layout for */
    uint32_t block_size = imgp_cur_le32_at(&c, SQUASHFS_BLOCK_SIZE);
    uint16_t block_log = imgp_cur_le16_at(&c, SQUASHFS_BLOCK_LOG);
    if (block_log < SQUASHFS_MIN_BLOCK_LOG || block_log > SQUASHFS_MAX_BLOCK_LOG || block_size != 1u << block_log)
        return IMGP_SCORE_NONE;
    return IMGP_SCORE_MAGIC;
}

/* ---- zfs ---- */

/* Uberblocks of the label at @p label whose magic we see, either byte order; the last one's version. */
static unsigned zfs_count_uberblocks(const content_view *v, uint64_t label, uint64_t *version)
{
    unsigned found = 0;
    for (uint32_t i = 0; i < ZFS_UBERBLOCK_COUNT; i++) {
        imgp_cursor ub;
        if (!content_window(v, label + ZFS_LABEL_UBERBLOCKS + (uint64_t)i * ZFS_UBERBLOCK_SIZE, 16, &ub))
            continue;
        if (imgp_cur_le64_at(&ub, ZFS_UB_MAGIC_OFF) == ZFS_UBERBLOCK_MAGIC) {
            *version = imgp_cur_le64_at(&ub, ZFS_UB_VERSION);
            found++;
        } else if (imgp_cur_be64_at(&ub, ZFS_UB_MAGIC_OFF) == ZFS_UBERBLOCK_MAGIC) {
            *version = imgp_cur_be64_at(&ub, ZFS_UB_VERSION);
            found++;
        }
    }
    return found;
}

/* The pool name and GUID from the top level of label 0's XDR nvlist (nested lists are stepped over). */
static void zfs_pool_names(const content_view *v, content_result *r)
{
    imgp_cursor c;
    if (!content_window(v, ZFS_LABEL_NVLIST, ZFS_NVLIST_SCAN, &c))
        return;
    size_t pos = ZFS_NVL_FIRST_PAIR;
    unsigned depth = 0;
    while (!imgp_range_outside(pos, ZFS_NVP_NAME, ZFS_NVLIST_SCAN)) {
        uint32_t size = imgp_cur_be32_at(&c, pos + ZFS_NVP_ENCODED_SIZE);
        if (size == 0) {
            if (depth == 0)
                return;
            depth--; /* the end of a nested list: an 8-byte zero pair */
            pos += 8;
            continue;
        }
        uint64_t name_len = imgp_cur_be32_at(&c, pos + ZFS_NVP_NAME_LEN);
        uint64_t name_size = (name_len + 3) & ~(uint64_t)3;
        if (size > ZFS_NVLIST_SCAN - pos || name_size > size - ZFS_NVP_NAME)
            return;
        size_t value = pos + ZFS_NVP_NAME + (size_t)name_size, value_max = size - ZFS_NVP_NAME - (size_t)name_size;
        uint32_t type = value_max >= 4 ? imgp_cur_be32_at(&c, value) : 0;
        if (type == ZFS_DATA_TYPE_NVLIST && value_max >= 16) {
            depth++; /* type, count, and the nested list's version and flags; its pairs follow */
            pos = value + 16;
            continue;
        }
        if (depth == 0 && name_len == 4 && content_eq(&c, pos + ZFS_NVP_NAME, "name", 4) && type == ZFS_DATA_TYPE_STRING &&
            value_max >= 12) {
            uint32_t len = imgp_cur_be32_at(&c, value + 8);
            if (len <= value_max - 12)
                content_set_label(r, imgp_cur_ptr_at(&c, value + 12, len), len, false);
        } else if (depth == 0 && name_len == 9 && content_eq(&c, pos + ZFS_NVP_NAME, "pool_guid", 9) && type == ZFS_DATA_TYPE_UINT64 &&
                   value_max >= 16) {
            uint64_t guid = imgp_cur_be64_at(&c, value + 8);
            if (guid)
                content_set_uuid(r, "%" PRIu64, guid);
        }
        pos += size;
    }
}

/*
 * A ZFS vdev: at least four uberblocks among the labels. We see the
 * uberblocks of the last label (the end of the device, in the tail); the
 * first two labels' uberblocks lie beyond the head, but label 0's nvlist,
 * with the pool's name and GUID, is inside it.
 */
int content_probe_zfs(const content_view *v, content_result *r)
{
    if (v->size < ZFS_MIN_DEVICE)
        return IMGP_SCORE_NONE;
    uint64_t misalign = v->size % ZFS_LABEL_SIZE;
    uint64_t labels[4] = {0, ZFS_LABEL_SIZE, v->size - 2 * ZFS_LABEL_SIZE - misalign,
                          v->size - ZFS_LABEL_SIZE - misalign};
    unsigned found = 0;
    uint64_t version = 0;
    for (size_t i = 0; i < 4 && found < ZFS_MIN_UBERBLOCKS; i++)
        found += zfs_count_uberblocks(v, labels[i], &version);
    if (found < ZFS_MIN_UBERBLOCKS)
        return IMGP_SCORE_NONE;
    r->type = "zfs_member";
    content_set_version(r, "%" PRIu64, version);
    zfs_pool_names(v, r);
    return IMGP_SCORE_MAGIC;
}
