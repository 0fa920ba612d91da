/*
 * Unit tests of content identification (src/partition/content*.c): for each
 * format a minimal superblock laid out from its specification in a device
 * held in memory, identified with the label, UUID and version blkid prints;
 * then one field broken at a time, which must not identify (or identifies as
 * what the documented priority says); the text rules (trimming, UTF-8,
 * UTF-16); devices too small to hold anything; and content_probe() over a
 * memory device, a failing one and a failing allocator.
 *
 * The head and tail handed to content_identify() are copied into buffers of
 * exactly their length, so that the sanitizers catch a read past them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <zlib.h>

#include "partition/content.h"
#include "partition/content_disk.h"
#include "support/testsupport.h"

/* ---- a device in memory ---- */

typedef struct dev {
    uint8_t *b;
    size_t size;
} dev;

static dev dev_new(size_t size)
{
    dev d = {calloc(size ? size : 1, 1), size};
    assert_non_null(d.b);
    return d;
}

static void dev_free(dev *d)
{
    free(d->b);
    d->b = NULL;
}

static void put(dev *d, size_t off, const void *s, size_t n)
{
    assert_true(off <= d->size && n <= d->size - off);
    memcpy(d->b + off, s, n);
}

static void put_str(dev *d, size_t off, const char *s) { put(d, off, s, strlen(s)); }

/* Put a @p width-byte (1, 2, 4 or 8) integer, big- or little-endian: one broken field of a table. */
static void put_uint(uint8_t *p, size_t off, int width, uint64_t v, bool big_endian)
{
    for (int i = 0; i < width; i++)
        p[off + (size_t)i] = (uint8_t)(v >> 8 * (big_endian ? width - 1 - i : i));
}

/* Identify @p d the way content_probe() would, through exact-size copies of its head and tail. */
static content_result identify(const dev *d)
{
    size_t head_len = d->size < IMGP_CONTENT_HEAD ? d->size : IMGP_CONTENT_HEAD;
    size_t tail_len = d->size < IMGP_CONTENT_TAIL ? d->size : IMGP_CONTENT_TAIL;
    uint8_t *head = head_len ? malloc(head_len) : NULL, *tail = tail_len ? malloc(tail_len) : NULL;
    assert_true(!head_len || head);
    assert_true(!tail_len || tail);
    if (head_len)
        memcpy(head, d->b, head_len);
    if (tail_len)
        memcpy(tail, d->b + d->size - tail_len, tail_len);
    content_result r;
    memset(&r, 0xA5, sizeof r); /* must be overwritten entirely */
    content_identify(head, head_len, tail, tail_len, d->size, &r);
    free(head);
    free(tail);
    return r;
}

/* The result must be @p type (and @p version, @p label, @p uuid; "" = none, NULL = not checked). */
static void expect_(const dev *d, const char *type, const char *version, const char *label, const char *uuid,
                    const char *what, int line)
{
    content_result r = identify(d);
    if (!r.type || strcmp(r.type, type) != 0)
        fail_msg("line %d, %s: type '%s', want '%s'", line, what, r.type ? r.type : "(null)", type);
    if (version && strcmp(r.version, version) != 0)
        fail_msg("line %d, %s: version '%s', want '%s'", line, what, r.version, version);
    if (label && strcmp(r.label, label) != 0)
        fail_msg("line %d, %s: label '%s', want '%s'", line, what, r.label, label);
    if (uuid && strcmp(r.uuid, uuid) != 0)
        fail_msg("line %d, %s: uuid '%s', want '%s'", line, what, r.uuid, uuid);
}
#define expect(d, type, version, label, uuid) expect_((d), (type), (version), (label), (uuid), "", __LINE__)
#define expect_type(d, type, what) expect_((d), (type), NULL, NULL, NULL, (what), __LINE__)

static const uint8_t uuid16[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                                   0x0f, 0xed, 0xcb, 0xa9, 0x87, 0x65, 0x43, 0x21};
#define UUID16_TEXT "12345678-9abc-def0-0fed-cba987654321"

/* ---- ext ---- */

static dev make_ext(uint32_t compat, uint32_t incompat, uint32_t ro_compat)
{
    dev d = dev_new(2u << 20); /* not floppy-sized: RAID signatures count */
    uint8_t *sb = d.b + EXT_SB_OFFSET;
    test_put_le32(sb, EXT_LOG_BLOCK_SIZE, 2);
    test_put_le16(sb, EXT_MAGIC_OFF, EXT_MAGIC);
    test_put_le32(sb, EXT_REV_LEVEL, 1);
    test_put_le32(sb, EXT_FEATURE_COMPAT, compat);
    test_put_le32(sb, EXT_FEATURE_INCOMPAT, incompat);
    test_put_le32(sb, EXT_FEATURE_RO_COMPAT, ro_compat);
    memcpy(sb + EXT_UUID, uuid16, 16);
    memcpy(sb + EXT_VOLUME_NAME, "root", 4);
    return d;
}

#define EXT4_EXTENTS 0x40u
#define EXT4_HUGE_FILE 0x8u

static void test_ext(void **state)
{
    (void)state;
    dev d = make_ext(EXT_COMPAT_HAS_JOURNAL, EXT_INCOMPAT_FILETYPE | EXT4_EXTENTS, EXT_RO_COMPAT_SPARSE_SUPER);
    expect(&d, "ext4", "1.0", "root", UUID16_TEXT);
    uint8_t *sb = d.b + EXT_SB_OFFSET;
    /* the name follows the features */
    test_put_le32(sb, EXT_FEATURE_INCOMPAT, EXT_INCOMPAT_FILETYPE);
    expect_type(&d, "ext3", "journal, ext3 features");
    test_put_le32(sb, EXT_FEATURE_RO_COMPAT, EXT4_HUGE_FILE);
    expect_type(&d, "ext4", "an ro_compat feature ext3 lacks");
    test_put_le32(sb, EXT_FEATURE_RO_COMPAT, 0);
    test_put_le32(sb, EXT_FEATURE_COMPAT, 0);
    expect_type(&d, "ext2", "no journal");
    test_put_le32(sb, EXT_FEATURE_INCOMPAT, EXT4_EXTENTS);
    expect_type(&d, "ext4", "extents without a journal");
    test_put_le32(sb, EXT_FLAGS, EXT_FLAGS_TEST_FILESYS);
    expect_type(&d, "ext4dev", "test_fs flag");
    test_put_le32(sb, EXT_FEATURE_INCOMPAT, EXT_INCOMPAT_JOURNAL_DEV);
    expect(&d, "jbd", "1.0", "root", UUID16_TEXT);
    test_put_le32(sb, EXT_FLAGS, 0);
    test_put_le32(sb, EXT_FEATURE_INCOMPAT, EXT_INCOMPAT_RECOVER);
    expect_type(&d, "unknown", "needs recovery without a journal");
    /* one field broken at a time */
    test_put_le32(sb, EXT_FEATURE_INCOMPAT, 0);
    expect_type(&d, "ext2", "repaired");
    test_put_le32(sb, EXT_LOG_BLOCK_SIZE, 7);
    expect_type(&d, "unknown", "128 KiB blocks");
    test_put_le32(sb, EXT_LOG_BLOCK_SIZE, 0);
    test_put_le16(sb, EXT_MAGIC_OFF, 0xEF54);
    expect_type(&d, "unknown", "magic");
    test_put_le16(sb, EXT_MAGIC_OFF, EXT_MAGIC);
    /* no label, no UUID */
    memset(sb + EXT_VOLUME_NAME, 0, 16);
    memset(sb + EXT_UUID, 0, 16);
    expect(&d, "ext2", "1.0", "", "");
    dev_free(&d);
}

/* ---- xfs ---- */

static dev make_xfs(void)
{
    dev d = dev_new(1 << 20);
    uint8_t *sb = d.b;
    memcpy(sb, "XFSB", 4);
    test_put_be32(sb, XFS_SB_BLOCKSIZE, 4096);
    test_put_be64(sb, XFS_SB_DBLOCKS, 65536);
    memcpy(sb + XFS_SB_UUID, uuid16, 16);
    test_put_be32(sb, XFS_SB_REXTSIZE, 1);
    test_put_be32(sb, XFS_SB_AGBLOCKS, 16384);
    test_put_be32(sb, XFS_SB_AGCOUNT, 4);
    test_put_be16(sb, XFS_SB_VERSIONNUM, 0xB4A5);
    test_put_be16(sb, XFS_SB_SECTSIZE, 512);
    test_put_be16(sb, XFS_SB_INODESIZE, 512);
    memcpy(sb + XFS_SB_FNAME, "data", 4);
    sb[XFS_SB_BLOCKLOG] = 12;
    sb[XFS_SB_SECTLOG] = 9;
    sb[XFS_SB_INODELOG] = 9;
    sb[XFS_SB_INOPBLOG] = 3;
    sb[XFS_SB_IMAX_PCT] = 25;
    return d;
}

static void test_xfs(void **state)
{
    (void)state;
    dev d = make_xfs();
    expect(&d, "xfs", "v5", "data", UUID16_TEXT);
    test_put_be16(d.b, XFS_SB_VERSIONNUM, 0xB4A4);
    expect(&d, "xfs", "", "data", UUID16_TEXT);
    /* one field broken at a time */
    static const struct {
        size_t off;
        int width; /* 1, 2, 4 or 8 bytes, big-endian */
        uint64_t value;
        const char *what;
    } breaks[] = {
        {0, 4, 0x58465343, "magic"},
        {XFS_SB_AGCOUNT, 4, 0, "no allocation groups"},
        {XFS_SB_SECTSIZE, 2, 1024, "sector size vs its log"},
        {XFS_SB_SECTLOG, 1, 16, "sector log too big"},
        {XFS_SB_BLOCKSIZE, 4, 8192, "block size vs its log"},
        {XFS_SB_BLOCKLOG, 1, 8, "block log too small"},
        {XFS_SB_INODESIZE, 2, 128, "inode size vs its log"},
        {XFS_SB_INOPBLOG, 1, 4, "inodes per block"},
        {XFS_SB_REXTSIZE, 4, 0, "realtime extent size 0"},
        {XFS_SB_REXTSIZE, 4, 1u << 19, "realtime extent 2 GiB"},
        {XFS_SB_IMAX_PCT, 1, 101, "inode percentage"},
        {XFS_SB_DBLOCKS, 8, 0, "no data blocks"},
        {XFS_SB_DBLOCKS, 8, 65537, "more blocks than the groups hold"},
        {XFS_SB_DBLOCKS, 8, 3 * 16384 + 63, "last group too small"},
    };
    for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
        dev_free(&d);
        d = make_xfs();
        put_uint(d.b, breaks[i].off, breaks[i].width, breaks[i].value, true);
        expect_type(&d, "unknown", breaks[i].what);
    }
    dev_free(&d);
}

static void test_xfs_log(void **state)
{
    (void)state;
    dev d = dev_new(XLOG_MIN_DEVICE);
    uint8_t *h = d.b + 512 * 3; /* the record header need not be in sector 0 */
    test_put_be32(h, XLOG_H_MAGICNO, XLOG_MAGIC);
    test_put_be32(h, XLOG_H_VERSION, 2);
    test_put_be32(h, XLOG_H_LEN, 512);
    test_put_be32(h, XLOG_H_FMT, XLOG_FMT_LINUX_LE);
    memcpy(h + XLOG_H_FS_UUID, uuid16, 16);
    expect(&d, "xfs_external_log", "", "", ""); /* blkid: LOGUUID only */
    test_put_be32(h, XLOG_H_VERSION, 4);
    expect_type(&d, "unknown", "log version 4");
    test_put_be32(h, XLOG_H_VERSION, 1);
    test_put_be32(h, XLOG_H_FMT, 4);
    expect_type(&d, "unknown", "log format 4");
    test_put_be32(h, XLOG_H_FMT, XLOG_FMT_IRIX_BE);
    test_put_be32(h, XLOG_H_LEN, 0);
    expect_type(&d, "unknown", "empty record");
    test_put_be32(h, XLOG_H_LEN, 512);
    expect_type(&d, "xfs_external_log", "repaired");
    memcpy(d.b, "XFSB", 4); /* a filesystem before it: not a log (and not a plausible xfs either) */
    expect_type(&d, "unknown", "XFSB first");
    dev_free(&d);
    d = dev_new(XLOG_MIN_DEVICE - 512);
    h = d.b;
    test_put_be32(h, XLOG_H_MAGICNO, XLOG_MAGIC);
    test_put_be32(h, XLOG_H_VERSION, 2);
    test_put_be32(h, XLOG_H_LEN, 512);
    test_put_be32(h, XLOG_H_FMT, XLOG_FMT_LINUX_LE);
    expect_type(&d, "unknown", "device under 10 MiB");
    dev_free(&d);
}

/* ---- FAT ---- */

/* The BPB fields a test sets (fatgen103 section 3), and the extended BPB's serial, label and type. */
typedef struct fat_params {
    const char *jump_oem; /* 11 bytes */
    uint8_t spc, fats, media;
    uint16_t reserved, root_entries, fat_sz16;
    uint32_t sectors, fat_sz32, serial;
    const char *label, *type; /* 11 and 8 bytes */
} fat_params;

static void put_fat_boot_sector(uint8_t *bs, const fat_params *f)
{
    memcpy(bs, f->jump_oem, 11);
    test_put_le16(bs, FAT_BPB_BYTS_PER_SEC, 512);
    bs[FAT_BPB_SEC_PER_CLUS] = f->spc;
    test_put_le16(bs, FAT_BPB_RSVD_SEC_CNT, f->reserved);
    bs[FAT_BPB_NUM_FATS] = f->fats;
    test_put_le16(bs, FAT_BPB_ROOT_ENT_CNT, f->root_entries);
    if (f->sectors < 65536)
        test_put_le16(bs, FAT_BPB_TOT_SEC16, (uint16_t)f->sectors);
    else
        test_put_le32(bs, FAT_BPB_TOT_SEC32, f->sectors);
    bs[FAT_BPB_MEDIA] = f->media;
    test_put_le16(bs, FAT_BPB_FAT_SZ16, f->fat_sz16);
    bool fat32 = f->fat_sz16 == 0;
    if (fat32) {
        test_put_le32(bs, FAT32_BPB_FAT_SZ32, f->fat_sz32);
        test_put_le32(bs, FAT32_BPB_ROOT_CLUS, 2);
        test_put_le16(bs, FAT32_BPB_FS_INFO, 1);
    }
    bs[fat32 ? FAT32_BS_BOOT_SIG : FAT16_BS_BOOT_SIG] = FAT_BOOT_SIG_FULL;
    test_put_le32(bs, fat32 ? FAT32_BS_VOL_ID : FAT16_BS_VOL_ID, f->serial);
    memcpy(bs + (fat32 ? FAT32_BS_VOL_LAB : FAT16_BS_VOL_LAB), f->label, 11);
    memcpy(bs + (fat32 ? FAT32_BS_FIL_SYS_TYPE : FAT16_BS_FIL_SYS_TYPE), f->type, 8);
    bs[FAT_SIGNATURE] = 0x55;
    bs[FAT_SIGNATURE + 1] = 0xAA;
}

/* A FAT16 volume of 32 MiB whose root directory starts 66 KiB in (inside the head). */
static dev make_fat16(void)
{
    dev d = dev_new(32u << 20);
    put_fat_boot_sector(d.b, &(fat_params){.jump_oem = "\xEB\x3C\x90mkfs.fat", .spc = 4, .fats = 2, .media = 0xF8,
                                           .reserved = 4, .root_entries = 512, .fat_sz16 = 64, .sectors = 65536,
                                           .serial = 0x1A2B3C4D, .label = "BOOTLBL    ", .type = "FAT16   "});
    uint8_t *root = d.b + (4 + 2 * 64) * 512;
    memcpy(root, "DIRLBL     ", 11);
    root[FAT_DIR_ATTR] = FAT_ATTR_VOLUME_ID;
    return d;
}

static void test_fat16(void **state)
{
    (void)state;
    dev d = make_fat16();
    uint8_t *root = d.b + (4 + 2 * 64) * 512;
    expect(&d, "vfat", "FAT16", "DIRLBL", "1A2B-3C4D");
    /* the label entry after a long-name entry, a free one and a file */
    memset(root, 0, 4 * FAT_DIRENT_SIZE);
    root[0] = 'A';
    root[FAT_DIR_ATTR] = FAT_ATTR_LONG_NAME;
    root[FAT_DIRENT_SIZE] = FAT_DIR_FREE;
    root[FAT_DIRENT_SIZE + FAT_DIR_ATTR] = FAT_ATTR_VOLUME_ID;
    memcpy(root + 2 * FAT_DIRENT_SIZE, "FILE    TXT", 11);
    test_put_le16(root, 2 * FAT_DIRENT_SIZE + FAT_DIR_FST_CLUS_LO, 3);
    memcpy(root + 3 * FAT_DIRENT_SIZE, "\x05SCAPED    ", 11);
    root[3 * FAT_DIRENT_SIZE + FAT_DIR_ATTR] = FAT_ATTR_VOLUME_ID | 0x20;
    expect(&d, "vfat", "FAT16", "\xEF\xBF\xBD" "SCAPED", "1A2B-3C4D"); /* 0xE5 is not UTF-8 */
    /* a root directory without a label entry: none, as blkid (LABEL_FATBOOT aside) */
    memset(root + 3 * FAT_DIRENT_SIZE, 0, FAT_DIRENT_SIZE);
    expect(&d, "vfat", "FAT16", "", "1A2B-3C4D");
    /* a root directory we cannot see: the boot sector's label, trimmed both sides */
    dev_free(&d);
    d = make_fat16();
    test_put_le16(d.b, FAT_BPB_RSVD_SEC_CNT, 200);
    memcpy(d.b + FAT16_BS_VOL_LAB, "  BOOT     ", 11);
    expect(&d, "vfat", "FAT16", "BOOT", "1A2B-3C4D");
    memcpy(d.b + FAT16_BS_VOL_LAB, FAT_NO_NAME, 11);
    expect(&d, "vfat", "FAT16", "", NULL);
    d.b[FAT16_BS_BOOT_SIG] = FAT_BOOT_SIG_SERIAL; /* serial only */
    expect(&d, "vfat", "FAT16", "", "1A2B-3C4D");
    d.b[FAT16_BS_BOOT_SIG] = 0;
    expect(&d, "vfat", "FAT16", "", "");
    dev_free(&d);

    /* one BPB field broken at a time */
    static const struct {
        size_t off;
        int width;
        uint32_t value;
        const char *what;
    } breaks[] = {
        {FAT_BPB_NUM_FATS, 1, 0, "no FATs"},
        {FAT_BPB_RSVD_SEC_CNT, 2, 0, "no reserved sectors"},
        {FAT_BPB_MEDIA, 1, 0x12, "media"},
        {FAT_BPB_SEC_PER_CLUS, 1, 3, "cluster size"},
        {FAT_BPB_SEC_PER_CLUS, 1, 0, "cluster size 0"},
        {FAT_BPB_BYTS_PER_SEC, 2, 256, "sector size 256"},
        {FAT_BPB_BYTS_PER_SEC, 2, 8192, "sector size 8192"},
        {FAT_BPB_TOT_SEC32, 4, 100, "FATs larger than the volume"},
        {FAT_BPB_SEC_PER_CLUS, 1, 1, "too many clusters for FAT16"},
    };
    for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
        d = make_fat16();
        put_uint(d.b, breaks[i].off, breaks[i].width, breaks[i].value, false);
        if (breaks[i].off == FAT_BPB_SEC_PER_CLUS && breaks[i].value == 1) {
            test_put_le32(d.b, FAT_BPB_TOT_SEC32, 65536 * 2); /* 130k clusters of one sector */
            test_put_le16(d.b, FAT_BPB_FAT_SZ16, 256);
        }
        expect_type(&d, "unknown", breaks[i].what);
        dev_free(&d);
    }
    /* no type string: the 55AA signature is then required, and OS/2's JFS/HPFS pseudo sectors refused */
    d = make_fat16();
    memset(d.b + FAT16_BS_FIL_SYS_TYPE, ' ', 8);
    content_result r = identify(&d);
    assert_string_equal(r.type, "vfat");
    d.b[FAT_SIGNATURE] = 0;
    expect_type(&d, "unknown", "no string, no signature");
    d.b[FAT_SIGNATURE] = 0x55;
    memcpy(d.b + FAT16_BS_FIL_SYS_TYPE, "HPFS    ", 8);
    expect_type(&d, "unknown", "HPFS pseudo boot sector");
    dev_free(&d);
}

static void test_fat12_fat32(void **state)
{
    (void)state;
    /* FAT12: a 1.44 MB floppy */
    dev d = dev_new(1474560);
    put_fat_boot_sector(d.b, &(fat_params){.jump_oem = "\xEB\x3C\x90MSDOS5.0", .spc = 1, .fats = 2, .media = 0xF0,
                                           .reserved = 1, .root_entries = 224, .fat_sz16 = 9, .sectors = 2880,
                                           .serial = 0xDEADBEEF, .label = "FLOPPY     ", .type = "FAT12   "});
    expect(&d, "vfat", "FAT12", "", "DEAD-BEEF"); /* root directory seen, no label entry */
    dev_free(&d);

    /* FAT32 of 64 MiB: the root directory is far beyond the head */
    d = dev_new(64u << 20);
    uint8_t *bs = d.b;
    put_fat_boot_sector(bs, &(fat_params){.jump_oem = "\xEB\x58\x90mkfs.fat", .spc = 1, .fats = 2, .media = 0xF8,
                                          .reserved = 32, .sectors = 131072, .fat_sz32 = 1009, .serial = 0x0000ABCD,
                                          .label = "BIG32      ", .type = "FAT32   "});
    memcpy(d.b + 512 + FAT_FSI_LEAD_SIG, "RRaA", 4);
    memcpy(d.b + 512 + FAT_FSI_STRUC_SIG, "rrAa", 4);
    expect(&d, "vfat", "FAT32", "BIG32", "0000-ABCD");
    memcpy(d.b + 512 + FAT_FSI_STRUC_SIG, "rrAb", 4);
    expect_type(&d, "unknown", "FSInfo signature");
    memset(d.b + 512, 0, 512); /* a blank FSInfo is accepted */
    expect_type(&d, "vfat", "blank FSInfo");

    /* a small FAT32 whose root directory cluster chain is in the head: the label entry is in cluster 3 */
    test_put_le32(bs, FAT32_BPB_FAT_SZ32, 16);
    test_put_le32(bs, FAT_BPB_TOT_SEC32, 70000);
    uint64_t data = (32 + 2 * 16) * 512;
    test_put_le32(d.b + 32 * 512, 2 * 4, 3);          /* FAT[2] = 3 */
    test_put_le32(d.b + 32 * 512, 3 * 4, 0x0FFFFFFF); /* FAT[3] = end of chain */
    memcpy(d.b + data, "README  TXT", 11);             /* cluster 2: one file, otherwise full */
    test_put_le16(d.b + data, FAT_DIR_FST_CLUS_LO, 9);
    for (size_t e = 1; e < 16; e++)
        memcpy(d.b + data + e * FAT_DIRENT_SIZE, "\xE5", 1);
    memcpy(d.b + data + 512, "INROOT     ", 11); /* cluster 3 */
    d.b[data + 512 + FAT_DIR_ATTR] = FAT_ATTR_VOLUME_ID;
    expect(&d, "vfat", "FAT32", "INROOT", "0000-ABCD");
    test_put_le32(d.b + 32 * 512, 2 * 4, 0x0FFFFFFF); /* the chain ends after cluster 2 */
    expect(&d, "vfat", "FAT32", "", "0000-ABCD");
    dev_free(&d);
}

/* ---- exFAT ---- */

static dev make_exfat(void)
{
    dev d = dev_new(8u << 20);
    uint8_t *bs = d.b;
    memcpy(bs, "\xEB\x76\x90" "EXFAT   ", 11);
    test_put_le32(bs, EXFAT_FAT_OFFSET, 24);
    test_put_le32(bs, EXFAT_CLUSTER_HEAP_OFFSET, 64);
    test_put_le32(bs, EXFAT_FIRST_CLUSTER_OF_ROOT, 4);
    test_put_le32(bs, EXFAT_VOLUME_SERIAL, 0x12AB34CD);
    bs[EXFAT_REVISION_MINOR] = 0;
    bs[EXFAT_REVISION_MAJOR] = 1;
    bs[EXFAT_BYTES_PER_SECTOR_SHIFT] = 9;
    bs[EXFAT_SECTORS_PER_CLUSTER_SHIFT] = 3;
    bs[EXFAT_NUMBER_OF_FATS] = 1;
    bs[EXFAT_BOOT_SIGNATURE] = 0x55;
    bs[EXFAT_BOOT_SIGNATURE + 1] = 0xAA;
    /* root directory at cluster 4: 64 * 512 + 2 * 4096 = 40 KiB; a bitmap entry, then the label */
    uint8_t *root = d.b + 64 * 512 + 2 * 4096;
    root[0] = 0x81;
    root[EXFAT_DIRENT_SIZE] = EXFAT_ENTRY_VOLUME_LABEL;
    root[EXFAT_DIRENT_SIZE + EXFAT_LABEL_CHAR_COUNT] = 3;
    memcpy(root + EXFAT_DIRENT_SIZE + EXFAT_LABEL_TEXT, "U\0S\0\xe9\0", 6);
    return d;
}

static void test_exfat(void **state)
{
    (void)state;
    dev d = make_exfat();
    expect(&d, "exfat", "1.0", "US\xC3\xA9", "12AB-34CD");
    /* the label entry in the next cluster of the root directory, through the FAT */
    uint8_t *root = d.b + 64 * 512 + 2 * 4096;
    memcpy(root + 4096, root + EXFAT_DIRENT_SIZE, EXFAT_DIRENT_SIZE);
    memset(root, 0xC0, 4096); /* stream entries, no label */
    for (size_t e = 0; e < 4096; e += EXFAT_DIRENT_SIZE)
        root[e] = 0x85;
    test_put_le32(d.b + 24 * 512, 4 * 4, 5); /* FAT[4] = 5 */
    expect(&d, "exfat", "1.0", "US\xC3\xA9", "12AB-34CD");
    test_put_le32(d.b + 24 * 512, 4 * 4, 0xFFFFFFFF);
    expect(&d, "exfat", "1.0", "", "12AB-34CD");
    dev_free(&d);
    static const struct {
        size_t off;
        uint8_t value;
        const char *what;
    } breaks[] = {
        {3, 'F', "name"},
        {40, 1, "the old BPB area not zero"},
        {EXFAT_BYTES_PER_SECTOR_SHIFT, 8, "256-byte sectors"},
        {EXFAT_BYTES_PER_SECTOR_SHIFT, 13, "8 KiB sectors"},
        {EXFAT_SECTORS_PER_CLUSTER_SHIFT, 17, "64 MiB clusters"},
        {EXFAT_NUMBER_OF_FATS, 0, "no FAT"},
        {EXFAT_NUMBER_OF_FATS, 3, "three FATs"},
        {EXFAT_BOOT_SIGNATURE, 0, "boot signature"},
    };
    for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
        d = make_exfat();
        d.b[breaks[i].off] = breaks[i].value;
        expect_type(&d, "unknown", breaks[i].what);
        dev_free(&d);
    }
}

/* ---- NTFS ---- */

#define NTFS_REC 1024u
#define NTFS_MFT_AT (4u * 4096)

/* An NTFS of 16 MiB with 4 KiB clusters, $MFT at cluster 4, and $Volume named @p name (ASCII). */
static dev make_ntfs(const char *name)
{
    dev d = dev_new(16u << 20);
    uint8_t *bs = d.b;
    memcpy(bs, "\xEB\x52\x90NTFS    ", 11);
    test_put_le16(bs, NTFS_BYTES_PER_SECTOR, 512);
    bs[NTFS_SECTORS_PER_CLUSTER] = 8;
    bs[21] = 0xF8; /* media */
    test_put_le64(bs, NTFS_NUMBER_OF_SECTORS, 32767);
    test_put_le64(bs, NTFS_MFT_LCN, 4);
    test_put_le64(bs, NTFS_MFTMIRR_LCN, 2);
    bs[NTFS_CLUSTERS_PER_MFT_RECORD] = 0xF6; /* 2^10 */
    test_put_le64(bs, NTFS_VOLUME_SERIAL, 0x7D67C7C965350A3Dull);
    bs[FAT_SIGNATURE] = 0x55;
    bs[FAT_SIGNATURE + 1] = 0xAA;
    for (unsigned i = 0; i < 4; i++)
        memcpy(d.b + NTFS_MFT_AT + i * NTFS_REC, "FILE", 4);
    uint8_t *rec = d.b + NTFS_MFT_AT + NTFS_MFT_RECORD_VOLUME * NTFS_REC;
    /* update sequence: number 0x0007 at the end of both sectors, the real bytes in the array */
    test_put_le16(rec, NTFS_REC_USA_OFS, 48);
    test_put_le16(rec, NTFS_REC_USA_COUNT, 3);
    test_put_le16(rec, 48, 7);
    test_put_le16(rec, NTFS_REC_ATTRS_OFFSET, 56);
    test_put_le32(rec, NTFS_REC_BYTES_ALLOCATED, NTFS_REC);
    /* an attribute to step over, then $VOLUME_NAME placed so that it crosses the first sector's end */
    size_t a = 56;
    test_put_le32(rec, a + NTFS_ATTR_TYPE, 0x10);
    test_put_le32(rec, a + NTFS_ATTR_LENGTH, 408);
    a += 408;
    size_t n = strlen(name);
    test_put_le32(rec, a + NTFS_ATTR_TYPE, NTFS_AT_VOLUME_NAME);
    test_put_le32(rec, a + NTFS_ATTR_LENGTH, (uint32_t)(24 + 2 * n + 7) & ~7u);
    test_put_le32(rec, a + NTFS_ATTR_VALUE_LENGTH, (uint32_t)(2 * n));
    test_put_le16(rec, a + NTFS_ATTR_VALUE_OFFSET, 24);
    for (size_t i = 0; i < n; i++)
        rec[a + 24 + 2 * i] = (uint8_t)name[i];
    size_t end = a + ((24 + 2 * n + 7) & ~(size_t)7);
    test_put_le32(rec, end, NTFS_AT_END);
    /* apply the protection: the stride ends move into the array */
    for (unsigned s = 1; s <= 2; s++) {
        memcpy(rec + 48 + 2 * s, rec + s * 512 - 2, 2);
        test_put_le16(rec, s * 512 - 2, 7);
    }
    return d;
}

static void test_ntfs(void **state)
{
    (void)state;
    dev d = make_ntfs("Windows Data");
    expect(&d, "ntfs", "", "Windows Data", "7D67C7C965350A3D");
    dev_free(&d);
    /* $MFT beyond the head (a big volume): named by its boot sector, without a label */
    d = make_ntfs("x");
    test_put_le64(d.b, NTFS_MFT_LCN, 1000);
    expect(&d, "ntfs", "", "", "7D67C7C965350A3D");
    dev_free(&d);
    static const struct {
        size_t off;
        int width;
        uint64_t value;
        const char *what;
    } breaks[] = {
        {NTFS_OEM_ID, 1, 'M', "OEM id"},
        {NTFS_BYTES_PER_SECTOR, 2, 768, "sector size"},
        {NTFS_SECTORS_PER_CLUSTER, 1, 3, "cluster size"},
        {NTFS_SECTORS_PER_CLUSTER, 1, 235, "cluster shift"},
        {NTFS_SECTORS_PER_CLUSTER, 1, 242, "cluster 8 MiB"},
        {NTFS_RESERVED_SECTORS, 2, 1, "reserved sectors"},
        {NTFS_FATS, 1, 2, "FATs"},
        {NTFS_LARGE_SECTORS, 4, 1, "FAT sector count"},
        {NTFS_CLUSTERS_PER_MFT_RECORD, 1, 3, "record size"},
        {NTFS_CLUSTERS_PER_MFT_RECORD, 1, 0xF8, "record 256 bytes"},
        {NTFS_MFT_LCN, 8, 5000, "$MFT past the end"},
        {NTFS_MFTMIRR_LCN, 8, 5000, "$MFTMirr past the end"},
        {NTFS_MFT_AT, 1, 'B', "$MFT record 0 signature"},
        {NTFS_MFT_AT + 3 * NTFS_REC, 1, 'B', "$Volume signature"},
    };
    for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
        d = make_ntfs("x");
        put_uint(d.b, breaks[i].off, breaks[i].width, breaks[i].value, false);
        expect_type(&d, "unknown", breaks[i].what);
        dev_free(&d);
    }
    /* a volume name attribute whose value runs past the record: no label, still NTFS */
    d = make_ntfs("abc");
    uint8_t *rec = d.b + NTFS_MFT_AT + 3 * NTFS_REC;
    test_put_le32(rec, 464 + NTFS_ATTR_VALUE_LENGTH, 4000);
    expect(&d, "ntfs", "", "", NULL);
    dev_free(&d);
}

/* ---- swap ---- */

static dev make_swap(size_t page)
{
    dev d = dev_new(1 << 20);
    put_str(&d, page - 10, SWAP_MAGIC_V1);
    uint8_t *h = d.b + SWAP_HDR_OFFSET;
    test_put_le32(h, SWAP_HDR_VERSION, 1);
    test_put_le32(h, SWAP_HDR_LAST_PAGE, 255);
    memcpy(h + SWAP_HDR_UUID, uuid16, 16);
    memcpy(h + SWAP_HDR_VOLUME, "swap0", 5);
    return d;
}

static void test_swap(void **state)
{
    (void)state;
    for (size_t page = 4096; page <= 65536; page *= 2) {
        dev d = make_swap(page);
        expect(&d, "swap", "1", "swap0", UUID16_TEXT);
        dev_free(&d);
    }
    dev d = make_swap(4096);
    test_put_be32(d.b + SWAP_HDR_OFFSET, SWAP_HDR_VERSION, 1); /* written by a big-endian host */
    expect_type(&d, "swap", "big-endian version");
    test_put_le32(d.b + SWAP_HDR_OFFSET, SWAP_HDR_VERSION, 2);
    expect_type(&d, "unknown", "version 2");
    test_put_le32(d.b + SWAP_HDR_OFFSET, SWAP_HDR_VERSION, 1);
    test_put_le32(d.b + SWAP_HDR_OFFSET, SWAP_HDR_LAST_PAGE, 0);
    expect_type(&d, "unknown", "no pages");
    test_put_le32(d.b + SWAP_HDR_OFFSET, SWAP_HDR_LAST_PAGE, 9);
    test_put_le32(d.b + SWAP_HDR_OFFSET, SWAP_HDR_PADDING + 33 * 4, 1); /* old mkswap garbage */
    expect(&d, "swap", "1", "", "");
    put_str(&d, 4086, SWAP_MAGIC_V0);
    expect(&d, "swap", "0", "", "");
    put_str(&d, 4086, "S1SUSPEND");
    test_put_le32(d.b + SWAP_HDR_OFFSET, SWAP_HDR_PADDING + 33 * 4, 0);
    expect(&d, "swsuspend", "s1suspend", "swap0", UUID16_TEXT);
    put_str(&d, 4086, "SWAPSPACE3");
    expect_type(&d, "unknown", "magic");
    put_str(&d, 4086, SWAP_MAGIC_V1);
    memcpy(d.b, SWSUSPEND_TOI_MAGIC, SWSUSPEND_TOI_MAGIC_LEN);
    expect(&d, "swsuspend", "tuxonice", NULL, NULL);
    dev_free(&d);
    d = dev_new(SWAP_MIN_DEVICE - 1);
    put_str(&d, 4086, SWAP_MAGIC_V0);
    expect_type(&d, "unknown", "smaller than 10 pages");
    dev_free(&d);
}

/* ---- LVM2 ---- */

/* lvm2's label CRC from zlib's CRC-32 (same polynomial; zlib inverts before and after) */
static uint32_t lvm_crc_oracle(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32(0xF597A6CFu ^ 0xFFFFFFFFu, p, (uInt)n) ^ 0xFFFFFFFFu;
}

static void lvm_label(uint8_t *sector, uint64_t number)
{
    memcpy(sector + LVM_LABEL_ID, "LABELONE", 8);
    test_put_le64(sector, LVM_LABEL_SECTOR, number);
    test_put_le32(sector, LVM_LABEL_OFFSET, 32);
    memcpy(sector + LVM_LABEL_TYPE, "LVM2 001", 8);
    memcpy(sector + 32, "abcdef0123456789ABCDEFghijklmnop", 32);
    test_put_le32(sector, LVM_LABEL_CRC, lvm_crc_oracle(sector + LVM_LABEL_OFFSET, 512 - LVM_LABEL_OFFSET));
}

static void test_lvm2(void **state)
{
    (void)state;
    dev d = dev_new(4u << 20);
    lvm_label(d.b + 512, 1);
    expect(&d, "lvm2_member", "LVM2 001", "", "abcdef-0123-4567-89AB-CDEF-ghij-klmnop");
    d.b[512 + 100] ^= 1;
    expect_type(&d, "unknown", "checksum");
    lvm_label(d.b + 512, 2);
    expect_type(&d, "unknown", "sector number");
    lvm_label(d.b + 512, 1);
    test_put_le32(d.b + 512, LVM_LABEL_OFFSET, 500);
    test_put_le32(d.b + 512, LVM_LABEL_CRC, lvm_crc_oracle(d.b + 512 + 20, 492));
    expect_type(&d, "unknown", "PV header past the sector");
    memset(d.b + 512, 0, 512);
    lvm_label(d.b + 3 * 512, 3);
    expect_type(&d, "lvm2_member", "label in sector 3");
    /* not on a floppy-sized device (as blkid) */
    dev_free(&d);
    d = dev_new(1440 * 1024);
    lvm_label(d.b, 0);
    expect_type(&d, "unknown", "floppy");
    dev_free(&d);
}

/* ---- LUKS ---- */

static void test_luks(void **state)
{
    (void)state;
    dev d = dev_new(4u << 20);
    put(&d, 0, LUKS_MAGIC, LUKS_MAGIC_LEN);
    test_put_be16(d.b, LUKS_VERSION, 1);
    put_str(&d, LUKS1_UUID, "5f3b1c5e-aaaa-4bbb-8ccc-0123456789ab");
    expect(&d, "crypto_LUKS", "1", "", "5f3b1c5e-aaaa-4bbb-8ccc-0123456789ab");
    test_put_be16(d.b, LUKS_VERSION, 2);
    put_str(&d, LUKS2_LABEL, "secret disk");
    expect(&d, "crypto_LUKS", "2", "secret disk", "5f3b1c5e-aaaa-4bbb-8ccc-0123456789ab");
    /* the primary header wiped: the secondary copy at 16 KiB, which says where it is */
    uint8_t hdr[512];
    memcpy(hdr, d.b, 512);
    memset(d.b, 0, 4096);
    memcpy(hdr, LUKS2_MAGIC_SECONDARY, LUKS_MAGIC_LEN);
    test_put_be64(hdr, LUKS2_HDR_OFFSET, 0x4000);
    put(&d, 0x4000, hdr, 512);
    expect(&d, "crypto_LUKS", "2", "secret disk", NULL);
    test_put_be64(d.b + 0x4000, LUKS2_HDR_OFFSET, 0x8000);
    expect_type(&d, "unknown", "secondary header elsewhere than it says");
    test_put_be64(d.b + 0x4000, LUKS2_HDR_OFFSET, 0x4000);
    d.b[0x4000] = 'L';
    expect_type(&d, "unknown", "secondary magic");
    dev_free(&d);
}

/* ---- BitLocker ---- */

static void test_bitlocker(void **state)
{
    (void)state;
    dev d = make_ntfs("x");
    put(&d, 0, BDE_SIGNATURE_WIN7, BDE_SIGNATURE_LEN);
    test_put_le64(d.b, BDE_WIN7_FVE_OFFSET, 0x8000);
    put_str(&d, 0x8000, BDE_FVE_SIGNATURE);
    test_put_le16(d.b + 0x8000, BDE_FVE_VERSION, 2);
    expect(&d, "BitLocker", "2", "", "");
    test_put_le32(d.b, BDE_WIN7_VOLUME_SERIAL, 0xFFFFFFFF);
    expect(&d, "BitLocker", "2", "", "-000000000000001");
    d.b[0x8000] = 'x';
    expect_type(&d, "unknown", "FVE block signature");
    test_put_le64(d.b, BDE_WIN7_FVE_OFFSET, 0);
    expect_type(&d, "unknown", "no FVE block");
    test_put_le64(d.b, BDE_WIN7_FVE_OFFSET, 8u << 20); /* outside the buffers: taken on the signature */
    expect(&d, "BitLocker", "", NULL, NULL);
    put(&d, 0, BDE_SIGNATURE_VISTA, BDE_SIGNATURE_LEN);
    expect(&d, "BitLocker", "", "", "");
    dev_free(&d);
    /* To Go: a FAT volume unless its FVE block confirms it */
    d = make_fat16();
    put(&d, 0, BDE_SIGNATURE_TOGO, BDE_SIGNATURE_LEN);
    expect_type(&d, "vfat", "To Go signature without an FVE block");
    test_put_le64(d.b, BDE_TOGO_FVE_OFFSET, 0x10000);
    put_str(&d, 0x10000, BDE_FVE_SIGNATURE);
    test_put_le16(d.b + 0x10000, BDE_FVE_VERSION, 2);
    expect(&d, "BitLocker", "2", "", "");
    dev_free(&d);
}

/* ---- btrfs ---- */

static void test_btrfs(void **state)
{
    (void)state;
    dev d = dev_new(1 << 20);
    uint8_t *sb = d.b + BTRFS_SB_OFFSET;
    memcpy(sb + BTRFS_SB_FSID, uuid16, 16);
    test_put_le64(sb, BTRFS_SB_BYTENR, BTRFS_SB_OFFSET);
    memcpy(sb + BTRFS_SB_MAGIC_OFF, BTRFS_MAGIC, 8);
    test_put_le32(sb, BTRFS_SB_SECTORSIZE, 4096);
    memcpy(sb + BTRFS_SB_LABEL, "pool", 4);
    expect(&d, "btrfs", "", "pool", UUID16_TEXT);
    /* a 256-byte label of two-byte characters: cut at a character boundary */
    for (size_t i = 0; i < BTRFS_LABEL_LEN; i += 2)
        memcpy(sb + BTRFS_SB_LABEL + i, "\xC3\xA9", 2);
    content_result r = identify(&d);
    assert_int_equal(strlen(r.label), 254);
    assert_memory_equal(r.label + 252, "\xC3\xA9", 2);
    test_put_le64(sb, BTRFS_SB_BYTENR, 0);
    expect_type(&d, "unknown", "bytenr");
    test_put_le64(sb, BTRFS_SB_BYTENR, BTRFS_SB_OFFSET);
    test_put_le32(sb, BTRFS_SB_SECTORSIZE, 3000);
    expect_type(&d, "unknown", "sector size");
    test_put_le32(sb, BTRFS_SB_SECTORSIZE, 4096);
    sb[BTRFS_SB_MAGIC_OFF] = '-';
    expect_type(&d, "unknown", "magic");
    dev_free(&d);
    /* a device that ends inside the superblock */
    d = dev_new(BTRFS_SB_OFFSET + 0x100);
    memcpy(d.b + BTRFS_SB_OFFSET + BTRFS_SB_MAGIC_OFF, BTRFS_MAGIC, 8);
    test_put_le64(d.b + BTRFS_SB_OFFSET, BTRFS_SB_BYTENR, BTRFS_SB_OFFSET);
    expect_type(&d, "unknown", "truncated superblock");
    dev_free(&d);
}

/* ---- ISO 9660 ---- */

static void iso_vd(dev *d, unsigned i, uint8_t type)
{
    uint8_t *vd = d->b + ISO_VD_START + i * ISO_VD_SIZE;
    vd[ISO_VD_TYPE] = type;
    memcpy(vd + ISO_VD_ID, ISO_ID, 5);
    vd[6] = 1;
}

static void test_iso9660(void **state)
{
    (void)state;
    dev d = dev_new(1 << 20);
    iso_vd(&d, 0, ISO_TYPE_PRIMARY);
    uint8_t *pvd = d.b + ISO_VD_START;
    memset(pvd + ISO_VD_VOLUME_ID, ' ', 32);
    memcpy(pvd + ISO_VD_VOLUME_ID, "UBUNTU_22_04", 12);
    memcpy(pvd + ISO_VD_CREATION_DATE, "2023010203040506\0", 17);
    memcpy(pvd + ISO_VD_MODIFICATION_DATE, "0000000000000000\0", 17);
    iso_vd(&d, 1, ISO_TYPE_TERMINATOR);
    expect(&d, "iso9660", "", "UBUNTU_22_04", "2023-01-02-03-04-05-06");
    memcpy(pvd + ISO_VD_MODIFICATION_DATE, "2024123123595999\4", 17);
    expect(&d, "iso9660", "", NULL, "2024-12-31-23-59-59-99");
    /* Joliet: its UCS-2 label, completed from the primary one where it agrees */
    iso_vd(&d, 1, ISO_TYPE_SUPPLEMENTARY);
    uint8_t *svd = d.b + ISO_VD_START + ISO_VD_SIZE;
    memcpy(svd + ISO_VD_ESCAPE_SEQUENCES, "%/E", 3);
    const char *joliet = "Ubuntu 22.04"; /* '_' in the primary label stands for ' ' and '.' */
    for (size_t i = 0; i < 16; i++) {
        svd[ISO_VD_VOLUME_ID + 2 * i] = 0;
        svd[ISO_VD_VOLUME_ID + 2 * i + 1] = i < strlen(joliet) ? (uint8_t)joliet[i] : ' ';
    }
    iso_vd(&d, 2, ISO_TYPE_TERMINATOR);
    expect(&d, "iso9660", "Joliet Extension", "Ubuntu 22.04", NULL);
    memcpy(pvd + ISO_VD_VOLUME_ID, "A_LONG_VOLUME_LABEL_BEYOND_16", 29);
    const char *joliet2 = "a long volume la";
    for (size_t i = 0; i < 16; i++)
        svd[ISO_VD_VOLUME_ID + 2 * i + 1] = (uint8_t)joliet2[i];
    expect(&d, "iso9660", "Joliet Extension", "a long volume laBEL_BEYOND_16", NULL); /* as blkid */
    svd[ISO_VD_VOLUME_ID + 1] = 'Z'; /* disagrees: Joliet's alone */
    expect(&d, "iso9660", "Joliet Extension", "Z long volume la", NULL);
    memcpy(svd + ISO_VD_ESCAPE_SEQUENCES, "%/X", 3); /* not Joliet */
    expect(&d, "iso9660", "", "A_LONG_VOLUME_LABEL_BEYOND_16", NULL);
    pvd[ISO_VD_ID] = 'X';
    expect_type(&d, "unknown", "CD001");
    dev_free(&d);
    /* High Sierra */
    d = dev_new(1 << 20);
    memcpy(d.b + ISO_VD_START + HSFS_ID_OFF, HSFS_ID, 5);
    memcpy(d.b + ISO_VD_START + HSFS_VOLUME_ID, "OLDCD", 5);
    expect(&d, "iso9660", "High Sierra", "OLDCD", "");
    dev_free(&d);
}

/* ---- squashfs ---- */

static void test_squashfs(void **state)
{
    (void)state;
    dev d = dev_new(1 << 20);
    put_str(&d, 0, SQUASHFS_MAGIC_LE);
    test_put_le32(d.b, SQUASHFS_BLOCK_SIZE, 131072);
    test_put_le16(d.b, SQUASHFS_BLOCK_LOG, 17);
    test_put_le16(d.b, SQUASHFS_VERSION_MAJOR, 4);
    expect(&d, "squashfs", "4.0", "", "");
    test_put_le16(d.b, SQUASHFS_BLOCK_LOG, 16);
    expect_type(&d, "unknown", "block log");
    test_put_le16(d.b, SQUASHFS_BLOCK_LOG, 17);
    test_put_le32(d.b, SQUASHFS_BLOCK_SIZE, 2u << 20);
    expect_type(&d, "unknown", "2 MiB blocks");
    test_put_le16(d.b, SQUASHFS_VERSION_MAJOR, 3);
    test_put_le16(d.b, SQUASHFS_VERSION_MINOR, 1);
    expect(&d, "squashfs3", "3.1", "", "");
    put_str(&d, 0, SQUASHFS_MAGIC_BE);
    test_put_be16(d.b, SQUASHFS_VERSION_MAJOR, 2);
    test_put_be16(d.b, SQUASHFS_VERSION_MINOR, 0);
    expect(&d, "squashfs3", "2.0", "", "");
    test_put_be16(d.b, SQUASHFS_VERSION_MAJOR, 4);
    expect_type(&d, "unknown", "big-endian version 4");
    dev_free(&d);
}

/* ---- MD RAID, and the priority of members over filesystems ---- */

static void md1_sb(dev *d, uint64_t off)
{
    uint8_t *sb = d->b + off;
    test_put_le32(sb, MD1_MAGIC, MD_SB_MAGIC);
    test_put_le32(sb, MD1_MAJOR_VERSION, 1);
    memcpy(sb + MD1_SET_UUID, uuid16, 16);
    memcpy(sb + MD1_SET_NAME, "host:0", 6);
    test_put_le64(sb, MD1_SUPER_OFFSET, off >> 9);
}

static void test_md(void **state)
{
    (void)state;
    size_t size = (4u << 20) + 3 * 4096 + 100; /* not 64 KiB- or 4 KiB-aligned */
    dev d = dev_new(size);
    md1_sb(&d, MD1_2_OFFSET);
    expect(&d, "linux_raid_member", "1.2", "host:0", UUID16_TEXT);
    test_put_le64(d.b + MD1_2_OFFSET, MD1_SUPER_OFFSET, 0);
    expect_type(&d, "unknown", "superblock elsewhere than it says");
    memset(d.b + MD1_2_OFFSET, 0, 256);
    md1_sb(&d, 0);
    expect(&d, "linux_raid_member", "1.1", "host:0", UUID16_TEXT);
    test_put_le32(d.b, MD1_MAJOR_VERSION, 2);
    expect_type(&d, "unknown", "major version 2");
    memset(d.b, 0, 256);
    uint64_t end10 = (size & ~(uint64_t)0xFFF) - 0x2000;
    md1_sb(&d, end10);
    expect(&d, "linux_raid_member", "1.0", "host:0", UUID16_TEXT);
    /* an md 1.0 member shows its array's filesystem at offset 0: it is still a member */
    dev fs = make_ext(0, 0, 0);
    memcpy(d.b, fs.b, 4096);
    dev_free(&fs);
    expect_type(&d, "linux_raid_member", "1.0 member holding ext2");
    d.b[end10] ^= 0xFF;
    expect_type(&d, "ext2", "without its superblock");
    memset(d.b + end10, 0, 256);
    /* 0.90, little- and big-endian, with blkid's UUID (each word most significant byte first) */
    uint64_t end090 = (size & ~(uint64_t)0xFFFF) - 0x10000;
    uint8_t *sb = d.b + end090;
    static const struct {
        size_t off;
        uint32_t value;
    } md0_fields[] = {{MD0_MAGIC, MD_SB_MAGIC},       {MD0_MINOR_VERSION, 90},        {MD0_SET_UUID0, 0x11223344},
                      {MD0_SIZE, 1024},               {MD0_SET_UUID1, 0x55667788},    {MD0_SET_UUID2, 0x99AABBCC},
                      {MD0_SET_UUID3, 0xDDEEFF00}};
    for (int big_endian = 0; big_endian <= 1; big_endian++) {
        for (size_t i = 0; i < sizeof md0_fields / sizeof md0_fields[0]; i++)
            put_uint(sb, md0_fields[i].off, 4, md0_fields[i].value, big_endian);
        expect(&d, "linux_raid_member", "0.90.0", "", "11223344-5566-7788-99aa-bbccddeeff00");
    }
    test_put_be32(sb, MD0_SIZE, 4096); /* the array's data would not fit before the superblock */
    expect_type(&d, "ext2", "0.90 array larger than the device");
    test_put_be32(sb, MD0_SIZE, 1024);
    test_put_be32(sb, MD0_MINOR_VERSION, 89); /* before 0.90: one UUID word */
    expect(&d, "linux_raid_member", "0.89.0", "", "11223344-0000-0000-0000-000000000000");
    dev_free(&d);
}

/* LUKS inside an md 1.0 member, and a LUKS header over an old filesystem: members win, in table order. */
static void test_priority(void **state)
{
    (void)state;
    dev d = make_ext(0, 0, 0);
    put(&d, 0, LUKS_MAGIC, LUKS_MAGIC_LEN);
    test_put_be16(d.b, LUKS_VERSION, 2);
    expect_type(&d, "crypto_LUKS", "LUKS over ext2");
    md1_sb(&d, (d.size & ~(size_t)0xFFF) - 0x2000);
    expect_type(&d, "linux_raid_member", "LUKS inside md 1.0");
    dev_free(&d);
    /* swap over an xfs superblock: both filesystems-class, equal scores, the earlier row wins */
    d = make_xfs();
    put_str(&d, 4086, SWAP_MAGIC_V0);
    expect_type(&d, "swap", "swap and xfs");
    dev_free(&d);
    /* an unnamed FAT boot sector (a weak match) loses to a named filesystem later in the table */
    d = make_fat16();
    memset(d.b + FAT16_BS_FIL_SYS_TYPE, ' ', 8);
    put_str(&d, 0x10000 + BTRFS_SB_MAGIC_OFF, BTRFS_MAGIC);
    test_put_le64(d.b + 0x10000, BTRFS_SB_BYTENR, BTRFS_SB_OFFSET);
    test_put_le32(d.b + 0x10000, BTRFS_SB_SECTORSIZE, 4096);
    expect_type(&d, "btrfs", "btrfs over an unnamed FAT boot sector");
    memcpy(d.b + FAT16_BS_FIL_SYS_TYPE, "FAT16   ", 8);
    expect_type(&d, "vfat", "btrfs over a named FAT boot sector: equal, the earlier row");
    dev_free(&d);
}

/* ---- LDM ---- */

static void test_ldm(void **state)
{
    (void)state;
    dev d = dev_new(4u << 20);
    uint8_t *ph = d.b + 6 * 512;
    memcpy(ph, LDM_MAGIC, 8);
    test_put_be16(ph, LDM_PH_VERSION_MAJOR, 2);
    test_put_be16(ph, LDM_PH_VERSION_MINOR, 12);
    memcpy(ph + LDM_PH_DISK_ID, "6D0E5F2A-1B3C-11EF-9A8B-000C29ABCDEF", 36);
    memcpy(ph + LDM_PH_DISK_GROUP_NAME, "WIN-ABCDg0", 10);
    expect(&d, "LDM", "2.12", "WIN-ABCDg0", "6d0e5f2a-1b3c-11ef-9a8b-000c29abcdef");
    test_put_be16(ph, LDM_PH_VERSION_MINOR, 13);
    expect_type(&d, "unknown", "version 2.13");
    /* the copy at the end of the database (the last MiB): sector 2047 */
    test_put_be16(ph, LDM_PH_VERSION_MINOR, 11);
    memcpy(d.b + d.size - 512, ph, 512);
    memset(ph, 0, 512);
    expect(&d, "LDM", "2.11", "WIN-ABCDg0", NULL);
    dev_free(&d);
}

/* ---- ZFS ---- */

static size_t xdr_pair(uint8_t *p, const char *name, uint32_t type, const void *value, size_t value_len)
{
    size_t name_len = strlen(name), name_size = (name_len + 3) & ~(size_t)3;
    size_t size = 12 + name_size + 8 + value_len;
    test_put_be32(p, 0, (uint32_t)size);
    test_put_be32(p, 8, (uint32_t)name_len);
    memcpy(p + 12, name, name_len);
    test_put_be32(p, 12 + name_size, type);
    test_put_be32(p, 12 + name_size + 4, 1);
    memcpy(p + 12 + name_size + 8, value, value_len);
    return size;
}

static void test_zfs(void **state)
{
    (void)state;
    size_t size = 64u << 20;
    dev d = dev_new(size);
    /* label 0's nvlist: version, a nested vdev_tree, then the name and pool GUID */
    uint8_t *nv = d.b + ZFS_LABEL_NVLIST, value[16];
    size_t pos = ZFS_NVL_FIRST_PAIR;
    test_put_be64(value, 0, 5000);
    pos += xdr_pair(nv + pos, "version", ZFS_DATA_TYPE_UINT64, value, 8);
    memset(value, 0, 8);
    pos += xdr_pair(nv + pos, "vdev_tree", ZFS_DATA_TYPE_NVLIST, value, 8) - 0; /* nvl version, flags */
    test_put_be64(value, 0, 99);
    pos += xdr_pair(nv + pos, "name", ZFS_DATA_TYPE_UINT64, value, 8); /* nested: ignored */
    pos += 8;                                                         /* the nested list's end */
    test_put_be32(value, 0, 4);
    memcpy(value + 4, "tank", 4);
    pos += xdr_pair(nv + pos, "name", ZFS_DATA_TYPE_STRING, value, 8);
    test_put_be64(value, 0, 1234567890123456789ull);
    pos += xdr_pair(nv + pos, "pool_guid", ZFS_DATA_TYPE_UINT64, value, 8);
    /* four uberblocks in the last label (the only ones we see) */
    uint8_t *l3 = d.b + size - ZFS_LABEL_SIZE + ZFS_LABEL_UBERBLOCKS;
    for (unsigned i = 0; i < 4; i++) {
        test_put_le64(l3 + i * 7 * ZFS_UBERBLOCK_SIZE, ZFS_UB_MAGIC_OFF, ZFS_UBERBLOCK_MAGIC);
        test_put_le64(l3 + i * 7 * ZFS_UBERBLOCK_SIZE, ZFS_UB_VERSION, 5000);
    }
    expect(&d, "zfs_member", "5000", "tank", "1234567890123456789");
    memset(l3, 0, ZFS_UBERBLOCK_SIZE);
    expect_type(&d, "unknown", "three uberblocks");
    test_put_be64(l3 + 100 * ZFS_UBERBLOCK_SIZE, ZFS_UB_MAGIC_OFF, ZFS_UBERBLOCK_MAGIC);
    test_put_be64(l3 + 100 * ZFS_UBERBLOCK_SIZE, ZFS_UB_VERSION, 28);
    content_result r = identify(&d);
    assert_string_equal(r.type, "zfs_member");
    /* a pair that claims more than the list holds ends the walk without harm */
    test_put_be32(nv + ZFS_NVL_FIRST_PAIR, 0, 0x7FFFFFFF);
    expect(&d, "zfs_member", NULL, "", "");
    dev_free(&d);
}

/* ---- text ---- */

static void test_text(void **state)
{
    (void)state;
    content_result r;
    memset(&r, 0, sizeof r);
    content_set_label(&r, (const uint8_t *)"  two words \t\n", 14, false);
    assert_string_equal(r.label, "  two words");
    content_set_label(&r, (const uint8_t *)"  two words \t\n", 14, true);
    assert_string_equal(r.label, "two words");
    content_set_label(&r, (const uint8_t *)"ab\0cd", 5, false);
    assert_string_equal(r.label, "ab");
    /* invalid UTF-8: a lone continuation, an overlong '/', a surrogate, a truncated sequence */
    content_set_label(&r, (const uint8_t *)"a\x80" "b\xC0\xAF" "c\xED\xA0\x80" "d\xE2\x82", 12, false);
    assert_string_equal(r.label, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                                 "d\xEF\xBF\xBD\xEF\xBF\xBD");
    content_set_label(&r, (const uint8_t *)"\xE2\x82\xAC\xF0\x9F\x98\x80", 7, false); /* valid: kept */
    assert_string_equal(r.label, "\xE2\x82\xAC\xF0\x9F\x98\x80");
    content_set_label(&r, (const uint8_t *)"a\x01" "b\x7F", 4, false); /* control characters */
    assert_string_equal(r.label, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
    /* UTF-16: a pair, a lone high and a lone low surrogate, the end at NUL */
    static const uint8_t le[] = {'A', 0, 0x3D, 0xD8, 0x00, 0xDE, 0x3D, 0xD8, 'B', 0, 0x00, 0xDC, 0, 0, 'C', 0};
    content_set_label_utf16(&r, le, sizeof le, false);
    assert_string_equal(r.label, "A\xF0\x9F\x98\x80\xEF\xBF\xBD" "B\xEF\xBF\xBD");
    static const uint8_t be[] = {0, 'x', 0x00, 0xE9, 0, ' ', 0, ' ', 0xD8};
    content_set_label_utf16(&r, be, sizeof be, true);
    assert_string_equal(r.label, "x\xC3\xA9");
    content_set_label(&r, NULL, 5, false); /* nothing there: unchanged */
    assert_string_equal(r.label, "x\xC3\xA9");
    /* UUIDs */
    content_set_uuid_bytes(&r, uuid16);
    assert_string_equal(r.uuid, UUID16_TEXT);
    memset(&r, 0, sizeof r);
    static const uint8_t zero[16];
    content_set_uuid_bytes(&r, zero);
    assert_string_equal(r.uuid, "");
    content_set_uuid_text(&r, (const uint8_t *)"ABC-def   \0garbage", 18);
    assert_string_equal(r.uuid, "ABC-def");
    /* a uuid field never overflows */
    content_set_uuid_text(&r, (const uint8_t *)"0123456789012345678901234567890123456789012345", 46);
    assert_int_equal(strlen(r.uuid), sizeof r.uuid - 1);
}

/* ---- small and odd devices ---- */

static void test_tiny_devices(void **state)
{
    (void)state;
    content_result r;
    content_identify(NULL, 0, NULL, 0, 0, &r);
    assert_string_equal(r.type, "unknown");
    content_identify(NULL, 0, NULL, 0, UINT64_MAX, &r); /* no bytes of a huge device */
    assert_string_equal(r.type, "unknown");
    /* every size from 0 to 2 KiB and around the head and tail sizes, full of 0xFF then of a pattern */
    static const size_t sizes[] = {0,    1,    511,  512,   513,   1023,  1024,  1025,  1536,
                                   2047, 2048, 4095, 4096,  65536, 69632, 69633, 131072, 131073};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (int fill = 0; fill < 3; fill++) {
            dev d = dev_new(sizes[i]);
            for (size_t b = 0; b < d.size; b++)
                d.b[b] = fill == 0 ? 0xFF : fill == 1 ? (uint8_t)(b * 7 + 3) : 0;
            r = identify(&d);
            assert_non_null(r.type);
            if (d.size <= 1024)
                assert_string_equal(r.type, "unknown");
            dev_free(&d);
        }
    }
    /* a superblock that starts inside a device but ends past it */
    dev d = make_ext(0, 0, 0);
    d.size = EXT_SB_OFFSET + 0x100;
    expect_type(&d, "unknown", "ext superblock cut off");
    d.size = 1 << 20;
    /* buffers longer than the device claims: bytes past its size are not its own */
    uint8_t *head = malloc(IMGP_CONTENT_HEAD);
    assert_non_null(head);
    memcpy(head, d.b, IMGP_CONTENT_HEAD);
    content_identify(head, IMGP_CONTENT_HEAD, head, IMGP_CONTENT_HEAD, 1500, &r);
    assert_string_equal(r.type, "unknown");
    content_identify(head, IMGP_CONTENT_HEAD, NULL, 0, 1 << 20, &r);
    assert_string_equal(r.type, "ext2");
    free(head);
    dev_free(&d);
}

/* ---- content_probe over devices ---- */

static void test_probe_device(void **state)
{
    (void)state;
    dev d = make_xfs();
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    assert_non_null(ctx);
    imgp_bdev *bd;
    assert_int_equal(imgp_bdev_open_memory(ctx, d.b, d.size, "mem", &bd), IMGP_OK);
    content_result r;
    assert_int_equal(content_probe(bd, &r), IMGP_OK);
    assert_string_equal(r.type, "xfs");
    assert_string_equal(r.label, "data");
    /* a failing device: the error is passed on, the result says unknown */
    imgp_bdev *failing;
    unsigned reads = 0;
    for (unsigned fail_at = 1; fail_at <= 2; fail_at++) {
        assert_int_equal(test_bdev_failing(ctx, bd, fail_at, &reads, &failing), IMGP_OK);
        assert_int_equal(content_probe(failing, &r), IMGP_ERR_IO);
        assert_string_equal(r.type, "unknown");
        assert_true(imgp_ctx_message(ctx)[0] != '\0');
        imgp_bdev_close(failing);
    }
    imgp_bdev_close(bd);
    /* a device of the head's size or smaller is read once */
    dev small = make_ext(0, 0, 0);
    assert_int_equal(imgp_bdev_open_memory(ctx, small.b, 8192, "small", &bd), IMGP_OK);
    assert_int_equal(test_bdev_failing(ctx, bd, 0, &reads, &failing), IMGP_OK);
    reads = 0;
    assert_int_equal(content_probe(failing, &r), IMGP_OK);
    assert_string_equal(r.type, "ext2");
    assert_int_equal(reads, 1);
    imgp_bdev_close(failing);
    imgp_bdev_close(bd);
    /* 1 KiB: nothing read, nothing named */
    assert_int_equal(imgp_bdev_open_memory(ctx, small.b, 1024, "1k", &bd), IMGP_OK);
    assert_int_equal(content_probe(bd, &r), IMGP_OK);
    assert_string_equal(r.type, "unknown");
    imgp_bdev_close(bd);
    dev_free(&small);
    imgp_ctx_free(ctx);

    /* every allocation failing in turn: NOMEM with the result unknown, or the right answer */
    for (unsigned fail_at = 1;; fail_at++) {
        ctx = test_ctx_failing_alloc(fail_at);
        assert_non_null(ctx);
        if (imgp_bdev_open_memory(ctx, d.b, d.size, "mem", &bd) != IMGP_OK) {
            imgp_ctx_free(ctx);
            continue;
        }
        imgp_status st = content_probe(bd, &r);
        bool reached = test_alloc_count() >= fail_at;
        imgp_bdev_close(bd);
        imgp_ctx_free(ctx);
        if (st == IMGP_ERR_NOMEM) {
            assert_string_equal(r.type, "unknown");
            continue;
        }
        assert_int_equal(st, IMGP_OK);
        assert_string_equal(r.type, "xfs");
        if (!reached)
            break;
    }
    dev_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ext),         cmocka_unit_test(test_xfs),
        cmocka_unit_test(test_xfs_log),     cmocka_unit_test(test_fat16),
        cmocka_unit_test(test_fat12_fat32), cmocka_unit_test(test_exfat),
        cmocka_unit_test(test_ntfs),        cmocka_unit_test(test_swap),
        cmocka_unit_test(test_lvm2),        cmocka_unit_test(test_luks),
        cmocka_unit_test(test_bitlocker),   cmocka_unit_test(test_btrfs),
        cmocka_unit_test(test_iso9660),     cmocka_unit_test(test_squashfs),
        cmocka_unit_test(test_md),          cmocka_unit_test(test_priority),
        cmocka_unit_test(test_ldm),         cmocka_unit_test(test_zfs),
        cmocka_unit_test(test_text),        cmocka_unit_test(test_tiny_devices),
        cmocka_unit_test(test_probe_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
