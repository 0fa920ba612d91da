/*
 * Unit tests of src/partition/mbr.c: an MBR with primaries and an extended
 * partition's EBR chain, built as a byte array, then broken one field at a
 * time; and the probe against filesystem boot sectors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "partition/mbr.h"
#include "partition/parttypes.h"
#include "partition_fixture.h"

enum { SECTORS = 2048, DISK_SIZE = SECTORS * 512 };

static uint8_t disk[DISK_SIZE];

static void put_record(uint64_t lba, unsigned i, uint8_t boot, uint8_t type, uint32_t start, uint32_t count)
{
    uint8_t *r = disk + lba * 512 + MBR_PARTITION_RECORDS + i * MBR_RECORD_SIZE;
    r[MBR_REC_BOOT_INDICATOR] = boot;
    r[MBR_REC_OS_TYPE] = type;
    test_put_le32(r, MBR_REC_STARTING_LBA, start);
    test_put_le32(r, MBR_REC_SIZE_IN_LBA, count);
}

static void put_signature(uint64_t lba)
{
    disk[lba * 512 + MBR_SIGNATURE] = 0x55;
    disk[lba * 512 + MBR_SIGNATURE + 1] = 0xAA;
}

/* Each sector starts with its own number, so reads through a partition show where they landed. */
static void number_sectors(void)
{
    for (uint32_t s = 0; s < SECTORS; s++)
        test_put_le32(disk, (size_t)s * 512 + 4, s);
}

/*
 *   1  0x83 active  sectors   64..319
 *   2  0x82         sectors  320..447
 *   3  0x0f         sectors  512..1535, holding EBRs at 512, 612, 712:
 *        5  0x83    513..611      (EBR 512: data 1+99, link 100+100)
 *        6  0x8e    613..661      (EBR 612: data 1+49, link 200+100)
 *        7  0x07    714..811      (EBR 712: data 2+98, no link)
 *   4  0x07         sectors 1536..1791
 */
static void build_mbr(void)
{
    memset(disk, 0, sizeof disk);
    number_sectors();
    test_put_le32(disk, MBR_DISK_SIGNATURE, 0xdeadbeef);
    put_record(0, 0, 0x80, 0x83, 64, 256);
    put_record(0, 1, 0, 0x82, 320, 128);
    put_record(0, 2, 0, 0x0f, 512, 1024);
    put_record(0, 3, 0, 0x07, 1536, 256);
    put_signature(0);
    put_record(512, 0, 0, 0x83, 1, 99);
    put_record(512, 1, 0, 0x05, 100, 100);
    put_signature(512);
    put_record(612, 0, 0, 0x8e, 1, 49);
    put_record(612, 1, 0, 0x05, 200, 100);
    put_signature(612);
    put_record(712, 0, 0, 0x07, 2, 98);
    put_signature(712);
}

static void check_part(const scanned *s, const char *index, uint64_t start_lba, uint64_t sectors, const char *type)
{
    const imgp_partition *p = part(s, index);
    assert_int_equal(p->start, start_lba * 512);
    assert_int_equal(p->size, sectors * 512);
    assert_string_equal(p->type, type);
}

static void test_primaries_and_chain(void **state)
{
    (void)state;
    build_mbr();
    scanned s;
    scan_bytes(&s, disk, sizeof disk);
    assert_no_notes(&s);
    assert_string_equal(s.info->scheme, "mbr");
    assert_string_equal(s.info->disk_id, "0xdeadbeef");
    assert_int_equal(s.info->sector_size, 512);
    assert_string_equal(indexes(&s), "1 2 3 4 5 6 7");
    check_part(&s, "1", 64, 256, "0x83");
    check_part(&s, "2", 320, 128, "0x82");
    check_part(&s, "3", 512, 1024, "0x0f");
    check_part(&s, "4", 1536, 256, "0x07");
    check_part(&s, "5", 513, 99, "0x83");
    check_part(&s, "6", 613, 49, "0x8e");
    check_part(&s, "7", 714, 98, "0x07");
    assert_true(part(&s, "1")->bootable);
    assert_false(part(&s, "2")->bootable);
    assert_string_equal(part(&s, "1")->type_name, "Linux");
    assert_string_equal(part(&s, "6")->type_name, "Linux LVM");
    assert_string_equal(part(&s, "2")->type_name, "Linux swap / Solaris");
    const imgp_partition *ext = part(&s, "3");
    assert_true(ext->is_container);
    assert_null(ext->bdev);
    assert_null(part(&s, "1")->name);
    assert_null(part(&s, "1")->uuid);
    for (const char *const *i = (const char *const[]){"1", "2", "4", "5", "6", "7", NULL}; *i; i++) {
        assert_false(part(&s, *i)->is_container);
        assert_reads_through(&s, disk, part(&s, *i));
    }
    scan_free(&s);
}

static void test_chain_loops(void **state)
{
    (void)state;
    build_mbr();
    put_record(712, 1, 0, 0x05, 0, 100); /* back to the first EBR */
    scanned s;
    scan_bytes(&s, disk, sizeof disk);
    assert_string_equal(indexes(&s), "1 2 3 4 5 6 7");
    assert_note(&s, IMGP_NOTE_WARNING, "loops back");
    assert_int_equal(s.info->nnotes, 1);
    scan_free(&s);

    build_mbr();
    put_record(612, 1, 0, 0x05, 100, 100); /* to itself */
    scan_bytes(&s, disk, sizeof disk);
    assert_string_equal(indexes(&s), "1 2 3 4 5 6");
    assert_note(&s, IMGP_NOTE_WARNING, "loops back");
    scan_free(&s);
}

static void test_logical_past_disk(void **state)
{
    (void)state;
    build_mbr();
    put_record(612, 0, 0, 0x8e, 1, 100000);
    scanned s;
    scan_bytes(&s, disk, sizeof disk);
    assert_string_equal(indexes(&s), "1 2 3 4 5 6 7");
    const imgp_partition *p = part(&s, "6");
    assert_null(p->bdev);
    assert_non_null(p->unreadable);
    assert_int_equal(p->size, 100000ull * 512);
    assert_note(&s, IMGP_NOTE_WARNING, "partition 6 (51200000 bytes at 313856) reaches past the end of the disk");
    assert_note(&s, IMGP_NOTE_WARNING, "logical partition 6 (sectors 613..100612) lies outside extended partition 3");
    scan_free(&s);
}

static void test_chain_leaves_extended(void **state)
{
    (void)state;
    build_mbr();
    put_record(612, 1, 0, 0x05, 5000, 100); /* the link leaves the extended partition (and the disk) */
    scanned s;
    scan_bytes(&s, disk, sizeof disk);
    assert_string_equal(indexes(&s), "1 2 3 4 5 6");
    assert_note(&s, IMGP_NOTE_WARNING, "links to sector 5512, outside it");
    scan_free(&s);

    build_mbr();
    put_record(0, 2, 0, 0x0f, 512, 0xfffffff0); /* the extended partition reaches past the disk */
    put_record(612, 1, 0, 0x05, 5000, 100);
    scan_bytes(&s, disk, sizeof disk);
    assert_string_equal(indexes(&s), "1 2 3 4 5 6");
    assert_note(&s, IMGP_NOTE_WARNING, "extended partition 3");
    assert_note(&s, IMGP_NOTE_WARNING, "EBR chain of extended partition 3 lies past the end of the disk (sector 5512)");
    scan_free(&s);
}

static void test_ebr_without_signature(void **state)
{
    (void)state;
    build_mbr();
    disk[612 * 512 + MBR_SIGNATURE] = 0;
    scanned s;
    scan_bytes(&s, disk, sizeof disk);
    assert_string_equal(indexes(&s), "1 2 3 4 5");
    assert_note(&s, IMGP_NOTE_WARNING, "EBR at sector 612 has no 0x55AA signature");
    scan_free(&s);
}

/* An EBR whose records are out of the usual order, with extras: fdisk's reading. */
static void test_ebr_record_order(void **state)
{
    (void)state;
    build_mbr();
    memset(disk + 612 * 512 + MBR_PARTITION_RECORDS, 0, 64);
    put_record(612, 0, 0, 0x05, 200, 100); /* link first */
    put_record(612, 2, 0, 0x8e, 1, 49);    /* data third */
    put_record(612, 3, 0, 0x83, 60, 10);   /* an extra data record: ignored */
    scanned s;
    scan_bytes(&s, disk, sizeof disk);
    assert_string_equal(indexes(&s), "1 2 3 4 5 6 7");
    check_part(&s, "6", 613, 49, "0x8e");
    check_part(&s, "7", 714, 98, "0x07");
    assert_note(&s, IMGP_NOTE_WARNING, "EBR at sector 612: extra logical partition in record 4 ignored");
    scan_free(&s);
}

/* A chain longer than the limit stops with a note after PART_MAX_PARTITIONS logicals. */
static void test_chain_limit(void **state)
{
    (void)state;
    memset(disk, 0, sizeof disk);
    put_record(0, 0, 0, 0x05, 100, 1900);
    put_signature(0);
    for (uint32_t k = 0; k < 300; k++) {
        uint64_t ebr = 100 + 2 * k;
        put_record(ebr, 0, 0, 0x83, 1, 1);
        put_record(ebr, 1, 0, 0x05, 2 * (k + 1), 2);
        put_signature(ebr);
    }
    scanned s;
    scan_bytes(&s, disk, sizeof disk);
    assert_int_equal(s.info->npartitions, 1 + PART_MAX_PARTITIONS);
    check_part(&s, "260", 100 + 2 * 255 + 1, 1, "0x83");
    assert_note(&s, IMGP_NOTE_WARNING, "holds more EBRs than the partition limit");
    scan_free(&s);
}

static void test_odd_records(void **state)
{
    (void)state;
    build_mbr();
    disk[MBR_PARTITION_RECORDS + MBR_REC_BOOT_INDICATOR] = 0x12;
    scanned s;
    scan_bytes(&s, disk, sizeof disk);
    assert_int_equal(mbr_score(disk, 512), MBR_SCORE_ODD);
    assert_string_equal(s.info->scheme, "mbr");
    assert_false(part(&s, "1")->bootable);
    assert_note(&s, IMGP_NOTE_WARNING, "partition 1 has boot indicator 0x12");
    scan_free(&s);

    build_mbr();
    put_record(0, 1, 0, 0x82, 0, 128); /* starts on the MBR */
    put_record(0, 3, 0, 0x07, 1536, 0); /* a type without sectors */
    scan_bytes(&s, disk, sizeof disk);
    assert_int_equal(mbr_score(disk, 512), MBR_SCORE_ODD);
    assert_string_equal(indexes(&s), "1 2 3 5 6 7");
    check_part(&s, "2", 0, 128, "0x82");
    assert_note(&s, IMGP_NOTE_WARNING, "partition 2 starts at sector 0");
    assert_note(&s, IMGP_NOTE_INFO, "partition 4 has type 0x07 but no sectors");
    assert_note(&s, IMGP_NOTE_WARNING, "partitions 1 and 2 overlap");
    scan_free(&s);

    build_mbr();
    put_record(0, 3, 0, 0x00, 1536, 256); /* sectors without a type: Linux uses it */
    scan_bytes(&s, disk, sizeof disk);
    check_part(&s, "4", 1536, 256, "0x00");
    assert_null(part(&s, "4")->type_name);
    assert_note(&s, IMGP_NOTE_INFO, "partition 4 has type 0 (empty) but 256 sectors");
    scan_free(&s);

    build_mbr();
    put_record(0, 3, 0, 0x85, 1600, 100); /* a second extended partition */
    scan_bytes(&s, disk, sizeof disk);
    assert_string_equal(indexes(&s), "1 2 3 4 5 6 7");
    assert_true(part(&s, "4")->is_container);
    assert_note(&s, IMGP_NOTE_WARNING, "extended partition 4 ignored");
    scan_free(&s);

    build_mbr();
    put_record(0, 2, 0, 0x05, 0, 1024); /* an extended partition over the MBR */
    scan_bytes(&s, disk, sizeof disk);
    assert_string_equal(indexes(&s), "1 2 3 4");
    assert_note(&s, IMGP_NOTE_WARNING, "extended partition 3 starts at sector 0");
    scan_free(&s);
}

static void test_no_table(void **state)
{
    (void)state;
    build_mbr();
    disk[MBR_SIGNATURE + 1] = 0xAB;
    assert_int_equal(mbr_score(disk, 512), IMGP_SCORE_NONE);
    scanned s;
    scan_bytes(&s, disk, sizeof disk);
    assert_string_equal(s.info->scheme, "none");
    assert_int_equal(s.info->npartitions, 0);
    scan_free(&s);

    /* an empty table is a table with nothing in it */
    memset(disk, 0, sizeof disk);
    put_signature(0);
    assert_int_equal(mbr_score(disk, 512), MBR_SCORE_PLAUSIBLE);
    scan_bytes(&s, disk, sizeof disk);
    assert_string_equal(s.info->scheme, "mbr");
    assert_int_equal(s.info->npartitions, 0);
    assert_string_equal(s.info->disk_id, "0x00000000");
    scan_free(&s);

    /* shorter than a sector */
    assert_int_equal(mbr_score(disk, 511), IMGP_SCORE_NONE);
    scan_bytes(&s, disk, 300);
    assert_string_equal(s.info->scheme, "none");
    scan_free(&s);
}

/* Filesystem boot sectors also end in 0x55AA: refused unless a sane table sits in them. */
static void test_filesystem_boot_sectors(void **state)
{
    (void)state;
    static const struct {
        size_t off;
        const char *name;
    } vbrs[] = {
        {VBR_OEM_NAME, "NTFS    "},  {VBR_OEM_NAME, "EXFAT   "},     {VBR_FAT16_FS_TYPE, "FAT12   "},
        {VBR_FAT16_FS_TYPE, "FAT16   "}, {VBR_FAT32_FS_TYPE, "FAT32   "},
    };
    for (size_t i = 0; i < sizeof vbrs / sizeof vbrs[0]; i++) {
        /* boot code where the records are: odd boot indicators */
        memset(disk, 0, sizeof disk);
        memcpy(disk + vbrs[i].off, vbrs[i].name, 8);
        memset(disk + MBR_PARTITION_RECORDS, 0x33, 64);
        put_signature(0);
        assert_int_equal(mbr_score(disk, 512), IMGP_SCORE_NONE);
        scanned s;
        scan_bytes(&s, disk, sizeof disk);
        assert_string_equal(s.info->scheme, "none");
        scan_free(&s);

        /* zeros where the records are: nothing to read as a table either */
        memset(disk + MBR_PARTITION_RECORDS, 0, 64);
        assert_int_equal(mbr_score(disk, 512), IMGP_SCORE_NONE);

        /* the name of a filesystem beside a sane table: a table */
        put_record(0, 0, 0x80, 0x07, 2048, 1000);
        assert_int_equal(mbr_score(disk, 512), MBR_SCORE_PLAUSIBLE);
    }
    /* without a filesystem's name, odd records still make a (doubtful) table */
    memset(disk, 0, sizeof disk);
    memset(disk + MBR_PARTITION_RECORDS, 0x33, 64);
    put_signature(0);
    assert_int_equal(mbr_score(disk, 512), MBR_SCORE_ODD);

    /* ... unless a FAT BPB without a type string sits in front (a DOS 3.3
     * 1.44 MB floppy, as e2fsprogs' f_crashdisk): Linux and blkid take no table */
    static const uint8_t dos33[] = {0xEB, 0x34, 0x90, 'I', 'B', 'M', ' ', ' ', '3', '.', '3', 0x00, 0x02, 0x01,
                                    0x01, 0x00, 0x02, 0xE0, 0x00, 0x40, 0x0B, 0xF0, 0x09, 0x00};
    memcpy(disk, dos33, sizeof dos33);
    assert_int_equal(mbr_score(disk, 512), IMGP_SCORE_NONE);
    disk[VBR_JUMP] = 0xE9; /* a near jump */
    assert_int_equal(mbr_score(disk, 512), IMGP_SCORE_NONE);
    /* one BPB field out of its bounds: boot code, not a BPB */
    static const struct {
        size_t off;
        uint8_t value;
    } not_bpb[] = {{VBR_JUMP, 0x33},  {VBR_JUMP + 2, 0x33},       {VBR_BPB_BYTS_PER_SEC + 1, 0x03},
                   {VBR_BPB_SEC_PER_CLUS, 3}, {VBR_BPB_RSVD_SEC_CNT, 0}, {VBR_BPB_NUM_FATS, 0},
                   {VBR_BPB_MEDIA, 0xF1}};
    for (size_t i = 0; i < sizeof not_bpb / sizeof not_bpb[0]; i++) {
        memcpy(disk, dos33, sizeof dos33);
        disk[not_bpb[i].off] = not_bpb[i].value;
        assert_int_equal(mbr_score(disk, 512), MBR_SCORE_ODD);
    }
    /* the BPB beside a sane table: a table */
    memcpy(disk, dos33, sizeof dos33);
    memset(disk + MBR_PARTITION_RECORDS, 0, 64);
    put_record(0, 0, 0x80, 0x06, 2048, 1000);
    assert_int_equal(mbr_score(disk, 512), MBR_SCORE_PLAUSIBLE);
}

static void test_sector_parse(void **state)
{
    (void)state;
    build_mbr();
    mbr_sector m;
    assert_true(mbr_sector_parse(disk, 512, &m));
    assert_int_equal(m.disk_signature, 0xdeadbeef);
    assert_int_equal(m.records[0].boot, 0x80);
    assert_int_equal(m.records[2].type, 0x0f);
    assert_int_equal(m.records[3].start, 1536);
    assert_int_equal(m.records[3].count, 256);
    assert_false(mbr_sector_parse(disk, 511, &m));
    assert_false(mbr_sector_parse(disk, 0, &m));
    assert_true(mbr_type_is_extended(0x05) && mbr_type_is_extended(0x0f) && mbr_type_is_extended(0x85));
    assert_false(mbr_type_is_extended(0x83) || mbr_type_is_extended(0xee));
}

static void test_failures(void **state)
{
    (void)state;
    build_mbr();
    scan_with_failures(disk, sizeof disk);
    put_record(712, 1, 0, 0x05, 0, 100); /* and with a loop */
    scan_with_failures(disk, sizeof disk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_primaries_and_chain),
        cmocka_unit_test(test_chain_loops),
        cmocka_unit_test(test_logical_past_disk),
        cmocka_unit_test(test_chain_leaves_extended),
        cmocka_unit_test(test_ebr_without_signature),
        cmocka_unit_test(test_ebr_record_order),
        cmocka_unit_test(test_chain_limit),
        cmocka_unit_test(test_odd_records),
        cmocka_unit_test(test_no_table),
        cmocka_unit_test(test_filesystem_boot_sectors),
        cmocka_unit_test(test_sector_parse),
        cmocka_unit_test(test_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
