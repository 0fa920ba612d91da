/*
 * Unit tests of src/partition/gpt.c: a GPT disk (protective MBR, primary and
 * backup headers and entry arrays, CRCs computed here) built as a byte array
 * for 512- and 4096-byte sectors, then broken one field at a time; and the
 * parsers of headers, entries, GUIDs and names on their own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <zlib.h>

#include "partition/gpt.h"
#include "partition/parttypes.h"
#include "partition_fixture.h"

#define EFI_SYSTEM "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
#define ROOT_X86_64 "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
#define LINUX_HOME "933ac7e1-2eb4-4f13-b844-0e14e2aef915"
#define DISK_GUID "01234567-89ab-cdef-0011-223344556677"

enum { NUM_ENTRIES = 128, ENTRY_SIZE = 128, MAX_DISK = 1 << 20 };

static uint8_t disk[MAX_DISK + 512 * 100];
static size_t disk_size;
static uint32_t ss;

static uint64_t last_lba(void) { return disk_size / ss - 1; }
static uint64_t array_sectors(void) { return NUM_ENTRIES * ENTRY_SIZE / ss; }
static uint64_t first_usable(void) { return 2 + array_sectors(); }
static uint64_t backup_array_lba(void) { return last_lba() - array_sectors(); }
static uint8_t *sector(uint64_t lba) { return disk + lba * ss; }

/* A GUID's text to its on-disk bytes, written apart from gpt_guid_format(). */
static void guid_bytes(const char *text, uint8_t out[16])
{
    uint8_t b[16];
    size_t n = 0;
    for (const char *p = text; *p && n < 32; p++) {
        if (*p == '-')
            continue;
        unsigned v = (unsigned)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
        b[n / 2] = (uint8_t)(n % 2 ? b[n / 2] | v : v << 4);
        n++;
    }
    assert_int_equal(n, 32);
    static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < 16; i++)
        out[i] = b[order[i]];
}

static void put_entry(uint64_t array_lba, unsigned slot, const char *type, const char *uuid, uint64_t first,
                      uint64_t last, uint64_t attrs, const uint16_t *name)
{
    uint8_t *e = sector(array_lba) + (size_t)slot * ENTRY_SIZE;
    memset(e, 0, ENTRY_SIZE);
    guid_bytes(type, e + GPT_ENT_TYPE_GUID);
    guid_bytes(uuid, e + GPT_ENT_UNIQUE_GUID);
    test_put_le64(e, GPT_ENT_STARTING_LBA, first);
    test_put_le64(e, GPT_ENT_ENDING_LBA, last);
    test_put_le64(e, GPT_ENT_ATTRIBUTES, attrs);
    for (size_t i = 0; name && name[i] && i < GPT_ENT_NAME_UNITS; i++)
        test_put_le16(e, GPT_ENT_NAME + 2 * i, name[i]);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p) { return get_le32(p) | (uint64_t)get_le32(p + 4) << 32; }

/* Recompute the CRC of the header at @p lba, over its own HeaderSize. */
static void seal_header(uint64_t lba)
{
    uint8_t *h = sector(lba);
    uint32_t size = get_le32(h + GPT_HDR_HEADER_SIZE);
    test_put_le32(h, GPT_HDR_HEADER_CRC32, 0);
    if (size <= ss)
        test_put_le32(h, GPT_HDR_HEADER_CRC32, (uint32_t)crc32(0, h, size));
}

/* Recompute the entry array CRC the header at @p lba names, then the header's. */
static void seal(uint64_t lba)
{
    uint8_t *h = sector(lba);
    uint64_t bytes = (uint64_t)get_le32(h + GPT_HDR_NUM_ENTRIES) * get_le32(h + GPT_HDR_ENTRY_SIZE);
    test_put_le32(h, GPT_HDR_ENTRIES_CRC32, (uint32_t)crc32(0, sector(get_le64(h + GPT_HDR_ENTRIES_LBA)), (uInt)bytes));
    seal_header(lba);
}

static void put_header(uint64_t lba, uint64_t alternate, uint64_t entries_lba)
{
    uint8_t *h = sector(lba);
    memset(h, 0, ss);
    memcpy(h, "EFI PART", 8);
    test_put_le32(h, GPT_HDR_REVISION, 0x00010000);
    test_put_le32(h, GPT_HDR_HEADER_SIZE, 92);
    test_put_le64(h, GPT_HDR_MY_LBA, lba);
    test_put_le64(h, GPT_HDR_ALTERNATE_LBA, alternate);
    test_put_le64(h, GPT_HDR_FIRST_USABLE_LBA, first_usable());
    test_put_le64(h, GPT_HDR_LAST_USABLE_LBA, backup_array_lba() - 1);
    guid_bytes(DISK_GUID, h + GPT_HDR_DISK_GUID);
    test_put_le64(h, GPT_HDR_ENTRIES_LBA, entries_lba);
    test_put_le32(h, GPT_HDR_NUM_ENTRIES, NUM_ENTRIES);
    test_put_le32(h, GPT_HDR_ENTRY_SIZE, ENTRY_SIZE);
    seal(lba);
}

static void put_entries(uint64_t array_lba)
{
    static const uint16_t esp[] = {'E', 'F', 'I', ' ', 'S', 'y', 's', 't', 'e', 'm', ' ', 'P', 'a', 'r', 't', 0};
    static const uint16_t root[] = {'r', 0xf6, 0xf6, 't', ' ', 0xd83d, 0xde00, 0}; /* "rööt 😀" */
    static const uint16_t home[] = {'h', 'o', 'm', 'e', 0};
    uint64_t fu = first_usable();
    put_entry(array_lba, 0, EFI_SYSTEM, "11111111-2222-3333-4444-555555555555", fu, fu + 7, 0, esp);
    put_entry(array_lba, 1, ROOT_X86_64, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", fu + 8, fu + 23,
              GPT_ATTR_LEGACY_BIOS_BOOTABLE | 1ull << 60, root);
    put_entry(array_lba, 4, LINUX_HOME, "01020304-0506-0708-090a-0b0c0d0e0f10", fu + 24, fu + 31, 0, home);
}

/* Numbered 512-byte units, a protective MBR, both headers and both arrays. */
static void build_gpt(size_t size, uint32_t sector_size)
{
    disk_size = size;
    ss = sector_size;
    memset(disk, 0, sizeof disk);
    for (size_t u = 0; u < size / 512; u++)
        test_put_le32(disk, u * 512, (uint32_t)u);
    memset(disk, 0, 512);
    uint8_t *r = disk + MBR_PARTITION_RECORDS;
    r[MBR_REC_OS_TYPE] = MBR_TYPE_GPT_PROTECTIVE;
    test_put_le32(r, MBR_REC_STARTING_LBA, 1);
    test_put_le32(r, MBR_REC_SIZE_IN_LBA, (uint32_t)last_lba());
    disk[MBR_SIGNATURE] = 0x55;
    disk[MBR_SIGNATURE + 1] = 0xAA;
    memset(sector(1), 0, ss * (1 + array_sectors()));
    memset(sector(backup_array_lba()), 0, ss * (1 + array_sectors()));
    put_entries(2);
    put_entries(backup_array_lba());
    put_header(1, last_lba(), 2);
    put_header(last_lba(), 1, backup_array_lba());
}

static void check_partitions(const scanned *s)
{
    uint64_t fu = first_usable();
    assert_string_equal(s->info->scheme, "gpt");
    assert_int_equal(s->info->sector_size, ss);
    assert_string_equal(s->info->disk_id, DISK_GUID);
    assert_string_equal(indexes(s), "1 2 5");

    const imgp_partition *p = part(s, "1");
    assert_int_equal(p->start, fu * ss);
    assert_int_equal(p->size, 8ull * ss);
    assert_string_equal(p->type, EFI_SYSTEM);
    assert_string_equal(p->type_name, "EFI System");
    assert_string_equal(p->name, "EFI System Part");
    assert_string_equal(p->uuid, "11111111-2222-3333-4444-555555555555");
    assert_false(p->bootable);
    assert_int_equal(p->attributes, 0);
    assert_reads_through(s, disk, p);

    p = part(s, "2");
    assert_int_equal(p->start, (fu + 8) * ss);
    assert_int_equal(p->size, 16ull * ss);
    assert_string_equal(p->type, ROOT_X86_64);
    assert_string_equal(p->type_name, "Linux root (x86-64)");
    assert_string_equal(p->name, "r\xc3\xb6\xc3\xb6t \xf0\x9f\x98\x80");
    assert_true(p->bootable);
    assert_int_equal(p->attributes, GPT_ATTR_LEGACY_BIOS_BOOTABLE | 1ull << 60);
    assert_reads_through(s, disk, p);

    p = part(s, "5");
    assert_int_equal(p->start, (fu + 24) * ss);
    assert_string_equal(p->type_name, "Linux /home");
    assert_string_equal(p->name, "home");
    assert_string_equal(p->uuid, "01020304-0506-0708-090a-0b0c0d0e0f10");
    assert_reads_through(s, disk, p);
}

static void test_valid(void **state)
{
    (void)state;
    static const struct {
        size_t size;
        uint32_t ss;
    } disks[] = {{1 << 20, 512}, {128 * 4096, 4096}, {MAX_DISK, 4096}};
    for (size_t i = 0; i < sizeof disks / sizeof disks[0]; i++) {
        build_gpt(disks[i].size, disks[i].ss);
        assert_int_equal(gpt_score(disk, 16384), GPT_SCORE_VALID);
        scanned s;
        scan_bytes(&s, disk, disk_size);
        assert_int_equal(s.disk->sector_size, 512); /* the device's hint was 512 whatever the table */
        check_partitions(&s);
        assert_no_notes(&s);
        scan_free(&s);
    }
}

/* The primary broken in one field at a time: the backup is used, with a note saying why. */
static void test_primary_damaged(void **state)
{
    (void)state;
    static const struct {
        size_t off;   /* field of the primary header (or entry array when > sector) */
        uint32_t value;
        bool reseal;  /* recompute the header CRC after the change */
        const char *why;
    } cases[] = {
        {GPT_HDR_SIGNATURE, 0x20494646, false, "primary table is unusable (gpt: no \"EFI PART\" signature at LBA 1"},
        {GPT_HDR_HEADER_CRC32 + 1, 0x77, false, "CRC32 0x"},
        {GPT_HDR_HEADER_SIZE, 0, false, "header size 0 outside 92..512"},
        {GPT_HDR_HEADER_SIZE, 0x10000, false, "header size 65536 outside 92..512"},
        {GPT_HDR_ENTRY_SIZE, 0, true, "partition entry size 0"},
        {GPT_HDR_ENTRY_SIZE, 100, true, "partition entry size 100"},
        {GPT_HDR_ENTRY_SIZE, 132, true, "partition entry size 132"},
        {GPT_HDR_NUM_ENTRIES, 0xffffffff, true, "exceeds the table limit"},
        {GPT_HDR_ENTRIES_LBA, 5000, true, "partition entry array at LBA 5000 (16384 bytes) lies past the end"},
        {GPT_HDR_ENTRIES_LBA, 1, true, "(LBA 1, 32 sectors) overlaps it"},
        {GPT_HDR_MY_LBA, 7, true, "header at LBA 1 says it is at LBA 7"},
        {GPT_HDR_FIRST_USABLE_LBA, 3000, true, "first usable LBA 3000 after the last"},
        {GPT_HDR_ENTRIES_CRC32, 0x1234, true, "partition entry array at LBA 2: CRC32 0x00001234"},
        {512 * 2 + 100, 0x42, false, "partition entry array at LBA 2: CRC32"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        build_gpt(1 << 20, 512);
        test_put_le32(disk, 512 + cases[i].off, cases[i].value);
        if (cases[i].reseal)
            seal_header(1);
        scanned s;
        scan_bytes(&s, disk, disk_size);
        check_partitions(&s);
        assert_note(&s, IMGP_NOTE_WARNING, "using the backup at LBA 2047");
        assert_note(&s, IMGP_NOTE_WARNING, cases[i].why);
        assert_int_equal(s.info->nnotes, 1);
        scan_free(&s);
    }
}

/* 4096-byte sectors with the primary gone: the backup is found at the last 4096-byte LBA. */
static void test_primary_damaged_4096(void **state)
{
    (void)state;
    build_gpt(128 * 4096, 4096);
    disk[4096] = 'X';
    scanned s;
    scan_bytes(&s, disk, disk_size);
    check_partitions(&s);
    assert_note(&s, IMGP_NOTE_WARNING, "using the backup at LBA 127");
    scan_free(&s);
}

static void test_backup_damaged_or_misplaced(void **state)
{
    (void)state;
    scanned s;
    build_gpt(1 << 20, 512);
    sector(last_lba())[GPT_HDR_HEADER_CRC32] ^= 1;
    scan_bytes(&s, disk, disk_size);
    check_partitions(&s);
    assert_note(&s, IMGP_NOTE_WARNING, "the backup table is damaged: gpt: header at LBA 2047: CRC32");
    assert_int_equal(s.info->nnotes, 1);
    scan_free(&s);

    /* the image lost its end: the backup belongs past it */
    build_gpt(1 << 20, 512);
    scan_bytes(&s, disk, disk_size - 100 * 512);
    assert_string_equal(indexes(&s), "1 2 5");
    assert_note(&s, IMGP_NOTE_WARNING, "belongs at LBA 2047, past the disk's last LBA 1947: the image was truncated");
    assert_int_equal(s.info->nnotes, 1);
    scan_free(&s);

    /* the disk grew: the backup is where it was */
    build_gpt(1 << 20, 512);
    disk_size += 100 * 512;
    scan_bytes(&s, disk, disk_size);
    check_partitions(&s);
    assert_note(&s, IMGP_NOTE_WARNING, "is at LBA 2047, not at the disk's last LBA 2147: the disk was grown");
    assert_int_equal(s.info->nnotes, 1);
    scan_free(&s);

    /* the backup's entries differ from the primary's */
    build_gpt(1 << 20, 512);
    put_entry(backup_array_lba(), 9, LINUX_HOME, DISK_GUID, 100, 200, 0, NULL);
    seal(last_lba());
    scan_bytes(&s, disk, disk_size);
    check_partitions(&s);
    assert_note(&s, IMGP_NOTE_WARNING, "the backup partition entries differ from the primary's");
    scan_free(&s);
}

/* Neither copy usable: the MBR is read instead, with a note; without an MBR, nothing. */
static void test_both_damaged(void **state)
{
    (void)state;
    build_gpt(1 << 20, 512);
    sector(1)[0] = 'X';
    sector(last_lba())[0] = 'X';
    assert_int_equal(gpt_score(disk, 16384), GPT_SCORE_DAMAGED);
    scanned s;
    scan_bytes(&s, disk, disk_size);
    assert_string_equal(s.info->scheme, "mbr");
    assert_string_equal(indexes(&s), "1");
    assert_string_equal(part(&s, "1")->type, "0xee");
    assert_string_equal(part(&s, "1")->type_name, "GPT protective");
    assert_note(&s, IMGP_NOTE_WARNING, "gpt: no usable table (primary: gpt: no \"EFI PART\" signature at LBA 1");
    assert_note(&s, IMGP_NOTE_WARNING, "backup: gpt: no \"EFI PART\" signature at the last LBA");
    scan_free(&s);

    /* a signature alone, no MBR: the GPT is tried, then nothing is left */
    build_gpt(1 << 20, 512);
    sector(1)[GPT_HDR_HEADER_CRC32] ^= 1;
    sector(last_lba())[GPT_HDR_HEADER_CRC32] ^= 1;
    memset(disk, 0, 512);
    assert_int_equal(gpt_score(disk, 16384), GPT_SCORE_DAMAGED);
    scan_bytes(&s, disk, disk_size);
    assert_string_equal(s.info->scheme, "none");
    assert_int_equal(s.info->npartitions, 0);
    assert_note(&s, IMGP_NOTE_WARNING, "primary: gpt: header at LBA 1: CRC32");
    assert_note(&s, IMGP_NOTE_ERROR, "mbr: no 0x55AA signature");
    scan_free(&s);
}

static void test_protective_mbr(void **state)
{
    (void)state;
    scanned s;
    /* hybrid: the protective record and others */
    build_gpt(1 << 20, 512);
    uint8_t *r = disk + MBR_PARTITION_RECORDS + MBR_RECORD_SIZE;
    r[MBR_REC_BOOT_INDICATOR] = 0x80;
    r[MBR_REC_OS_TYPE] = 0x83;
    test_put_le32(r, MBR_REC_STARTING_LBA, (uint32_t)first_usable() + 8);
    test_put_le32(r, MBR_REC_SIZE_IN_LBA, 16);
    assert_int_equal(gpt_score(disk, 16384), GPT_SCORE_VALID);
    scan_bytes(&s, disk, disk_size);
    check_partitions(&s);
    assert_note(&s, IMGP_NOTE_WARNING, "hybrid MBR: besides the protective 0xEE partition it lists partition 2 (0x83)");
    assert_int_equal(s.info->nnotes, 1);
    scan_free(&s);

    /* no MBR at all: still a GPT */
    build_gpt(1 << 20, 512);
    memset(disk, 0, 512);
    assert_int_equal(gpt_score(disk, 16384), GPT_SCORE_VALID);
    scan_bytes(&s, disk, disk_size);
    check_partitions(&s);
    assert_note(&s, IMGP_NOTE_WARNING, "no protective MBR");
    scan_free(&s);

    /* an MBR with nothing in it */
    build_gpt(1 << 20, 512);
    memset(disk + MBR_PARTITION_RECORDS, 0, 64);
    scan_bytes(&s, disk, disk_size);
    check_partitions(&s);
    assert_note(&s, IMGP_NOTE_WARNING, "the MBR has no protective 0xEE partition");
    scan_free(&s);

    /* an MBR that lists partitions and does not protect the GPT: the MBR is the table */
    build_gpt(1 << 20, 512);
    disk[MBR_PARTITION_RECORDS + MBR_REC_OS_TYPE] = 0x83;
    assert_int_equal(gpt_score(disk, 16384), GPT_SCORE_UNPROTECTED);
    scan_bytes(&s, disk, disk_size);
    assert_string_equal(s.info->scheme, "mbr");
    assert_string_equal(indexes(&s), "1");
    assert_note(&s, IMGP_NOTE_WARNING, "a GPT header at LBA 1 is ignored");
    scan_free(&s);
}

static void test_odd_entries(void **state)
{
    (void)state;
    build_gpt(1 << 20, 512);
    uint64_t fu = first_usable();
    put_entry(2, 5, LINUX_HOME, DISK_GUID, fu + 50, fu + 40, 0, NULL);          /* ends before it starts */
    put_entry(2, 6, LINUX_HOME, DISK_GUID, 1, 10, 0, NULL);                     /* over the GPT itself */
    put_entry(2, 7, LINUX_HOME, DISK_GUID, 2000, 3000, 0, NULL);                /* past the disk */
    put_entry(2, 8, LINUX_HOME, DISK_GUID, 0, UINT64_MAX, 0, NULL);             /* past any disk */
    put_entry(2, 9, "00000000-0000-0000-0000-000000000000", DISK_GUID, 5, 6, 0, NULL); /* unused */
    put_entry(2, 10, "01234567-0000-0000-0000-000000000000", DISK_GUID, fu + 40, fu + 40, 0, NULL); /* unknown type */
    seal(1);
    scanned s;
    scan_bytes(&s, disk, disk_size);
    assert_string_equal(indexes(&s), "1 2 5 7 8 11");
    assert_note(&s, IMGP_NOTE_WARNING, "partition 6 ends (LBA 74) before it starts (LBA 84); ignored");
    assert_note(&s, IMGP_NOTE_WARNING, "partition 7 (LBA 1..10) lies outside the usable area (LBA 34..2014)");
    assert_note(&s, IMGP_NOTE_WARNING, "partition 8 (LBA 2000..3000) lies outside the usable area");
    assert_note(&s, IMGP_NOTE_WARNING, "partition 8 (512512 bytes at 1024000) reaches past the end of the disk");
    assert_note(&s, IMGP_NOTE_WARNING, "partition 9 (LBA 0..18446744073709551615) lies beyond any disk; ignored");
    assert_null(part(&s, "8")->bdev);
    assert_null(part(&s, "11")->type_name);
    assert_null(part(&s, "11")->name);
    assert_string_equal(part(&s, "11")->type, "01234567-0000-0000-0000-000000000000");
    scan_free(&s);
}

/* More used entries than PART_MAX_PARTITIONS: the rest are ignored, with a note. */
static void test_entry_limit(void **state)
{
    (void)state;
    build_gpt(1 << 20, 512);
    uint8_t *h = sector(1);
    test_put_le32(h, GPT_HDR_NUM_ENTRIES, 300); /* 300 entries fill LBA 2..76 */
    test_put_le64(h, GPT_HDR_FIRST_USABLE_LBA, 77);
    for (unsigned i = 0; i < 300; i++)
        put_entry(2, i, LINUX_HOME, DISK_GUID, 100 + i, 100 + i, 0, NULL);
    seal(1);
    scanned s;
    scan_bytes(&s, disk, disk_size);
    assert_int_equal(s.info->npartitions, PART_MAX_PARTITIONS);
    assert_note(&s, IMGP_NOTE_WARNING, "more than 256 partitions in use; entry 257 and later are ignored");
    scan_free(&s);
}

static void test_header_parse(void **state)
{
    (void)state;
    build_gpt(1 << 20, 512);
    gpt_header h;
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    assert_int_equal(gpt_header_parse(ctx, sector(1), 512, 1, 1 << 20, &h), IMGP_OK);
    assert_int_equal(h.revision, 0x00010000);
    assert_int_equal(h.header_size, 92);
    assert_int_equal(h.my_lba, 1);
    assert_int_equal(h.alternate_lba, 2047);
    assert_int_equal(h.first_usable_lba, 34);
    assert_int_equal(h.last_usable_lba, 2014);
    assert_int_equal(h.entries_lba, 2);
    assert_int_equal(h.num_entries, 128);
    assert_int_equal(h.entry_size, 128);
    assert_int_equal(h.entries_bytes, 16384);
    char text[GPT_GUID_TEXT_LEN + 1];
    gpt_guid_format(h.disk_guid, text);
    assert_string_equal(text, DISK_GUID);
    assert_int_equal(gpt_entries_check(ctx, sector(2), 16384, &h), IMGP_OK);
    assert_int_equal(gpt_entries_check(ctx, sector(2), 16383, &h), IMGP_ERR_CORRUPT);

    /* read at another LBA than it says */
    assert_int_equal(gpt_header_parse(ctx, sector(1), 512, 2, 1 << 20, &h), IMGP_ERR_CORRUPT);
    assert_string_equal(imgp_ctx_message(ctx), "gpt: header at LBA 2 says it is at LBA 1");
    /* an array above the table limit */
    assert_int_equal(gpt_header_parse(ctx, sector(1), 512, 1, 16383, &h), IMGP_ERR_LIMIT);
    assert_non_null(strstr(imgp_ctx_message(ctx), "(16384 bytes) exceeds the table limit (16383 bytes)"));
    /* a sector too small for a header */
    assert_int_equal(gpt_header_parse(ctx, sector(1), 64, 1, 1 << 20, &h), IMGP_ERR_CORRUPT);
    /* without a context: the status alone */
    assert_int_equal(gpt_header_parse(NULL, sector(2), 512, 1, 1 << 20, &h), IMGP_ERR_CORRUPT);
    /* a header as long as its sector */
    test_put_le32(sector(1), GPT_HDR_HEADER_SIZE, 512);
    seal_header(1);
    assert_int_equal(gpt_header_parse(ctx, sector(1), 512, 1, 1 << 20, &h), IMGP_OK);
    imgp_ctx_free(ctx);
}

static void test_entry_parse(void **state)
{
    (void)state;
    build_gpt(1 << 20, 512);
    gpt_entry e;
    assert_true(gpt_entry_parse(sector(2) + ENTRY_SIZE, ENTRY_SIZE, &e));
    assert_int_equal(e.first_lba, 42);
    assert_int_equal(e.last_lba, 57);
    assert_int_equal(e.attributes, GPT_ATTR_LEGACY_BIOS_BOOTABLE | 1ull << 60);
    assert_false(gpt_guid_is_zero(e.type_guid));
    assert_false(gpt_entry_parse(sector(2), ENTRY_SIZE - 1, &e));
    assert_true(gpt_entry_parse(sector(2) + 2 * ENTRY_SIZE, ENTRY_SIZE, &e));
    assert_true(gpt_guid_is_zero(e.type_guid));
}

static void decode(const uint16_t *units, size_t n, char *out, size_t out_len)
{
    uint8_t buf[2 * GPT_ENT_NAME_UNITS];
    for (size_t i = 0; i < n; i++)
        test_put_le16(buf, 2 * i, units[i]);
    gpt_name_decode(buf, n, out, out_len);
}

static void test_name_decode(void **state)
{
    (void)state;
    char out[GPT_NAME_UTF8_MAX];
    decode((const uint16_t[]){'a', 0xe9, 0x20ac, 0xd83d, 0xde00, 'z'}, 6, out, sizeof out);
    assert_string_equal(out, "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z");
    /* unpaired surrogates: a low one alone, a high one before a letter, a high one last */
    decode((const uint16_t[]){0xdc00, 'x', 0xd800, 'y', 0xdbff}, 5, out, sizeof out);
    assert_string_equal(out, "\xef\xbf\xbdx\xef\xbf\xbdy\xef\xbf\xbd");
    /* stops at the first NUL */
    decode((const uint16_t[]){'a', 0, 'b'}, 3, out, sizeof out);
    assert_string_equal(out, "a");
    /* 36 units without a NUL, each 3 bytes of UTF-8: exactly fits */
    uint16_t full[GPT_ENT_NAME_UNITS];
    for (size_t i = 0; i < GPT_ENT_NAME_UNITS; i++)
        full[i] = 0x20ac;
    decode(full, GPT_ENT_NAME_UNITS, out, sizeof out);
    assert_int_equal(strlen(out), 3 * GPT_ENT_NAME_UNITS);
    /* a small buffer is cut at a character boundary */
    decode(full, GPT_ENT_NAME_UNITS, out, 8);
    assert_string_equal(out, "\xe2\x82\xac\xe2\x82\xac");
    decode(full, GPT_ENT_NAME_UNITS, out, 1);
    assert_string_equal(out, "");
}

static void test_guid_format_and_types(void **state)
{
    (void)state;
    uint8_t g[16];
    char text[GPT_GUID_TEXT_LEN + 1];
    static const char *const guids[] = {EFI_SYSTEM, ROOT_X86_64, "21686148-6449-6e6f-744e-656564454649",
                                        "ffffffff-0000-ffff-0000-ffffffffffff"};
    for (size_t i = 0; i < sizeof guids / sizeof guids[0]; i++) {
        guid_bytes(guids[i], g);
        gpt_guid_format(g, text);
        assert_string_equal(text, guids[i]);
    }
    /* the on-disk bytes of the EFI System type, as UEFI 2.10 Table 5-7 gives it */
    static const uint8_t esp[16] = {0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                                    0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b};
    gpt_guid_format(esp, text);
    assert_string_equal(text, EFI_SYSTEM);
    assert_string_equal(parttype_gpt_name("21686148-6449-6e6f-744e-656564454649"), "BIOS boot");
    assert_string_equal(parttype_gpt_name("0657fd6d-a4ab-43c4-84e5-0933c84b4f4f"), "Linux swap");
    assert_string_equal(parttype_gpt_name("ebd0a0a2-b9e5-4433-87c0-68b6b72699c7"), "Microsoft basic data");
    assert_null(parttype_gpt_name("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")); /* lowercase only */
    assert_string_equal(parttype_mbr_name(0xee), "GPT protective");
    assert_string_equal(parttype_mbr_name(0xef), "EFI System");
    assert_null(parttype_mbr_name(0x00));
}

/* A disk with a table for each sector size (one in the room a 4096-byte LBA 0
 * leaves after the MBR): 512 is tried first unless the device says 4096. */
static void test_sector_size_hint(void **state)
{
    (void)state;
    build_gpt(128 * 4096, 4096);
    uint8_t *h = disk + 512;
    memcpy(h, "EFI PART", 8);
    test_put_le32(h, GPT_HDR_REVISION, 0x00010000);
    test_put_le32(h, GPT_HDR_HEADER_SIZE, 92);
    test_put_le64(h, GPT_HDR_MY_LBA, 1);
    test_put_le64(h, GPT_HDR_ALTERNATE_LBA, 1023);
    test_put_le64(h, GPT_HDR_FIRST_USABLE_LBA, 3);
    test_put_le64(h, GPT_HDR_LAST_USABLE_LBA, 6);
    test_put_le64(h, GPT_HDR_ENTRIES_LBA, 2);
    test_put_le32(h, GPT_HDR_NUM_ENTRIES, 4);
    test_put_le32(h, GPT_HDR_ENTRY_SIZE, 128);
    ss = 512;
    put_entry(2, 0, LINUX_HOME, DISK_GUID, 3, 6, 0, NULL);
    seal(1);
    ss = 4096;

    scanned s;
    scan_bytes(&s, disk, disk_size);
    assert_int_equal(s.info->sector_size, 512);
    assert_string_equal(indexes(&s), "1");
    assert_int_equal(part(&s, "1")->start, 3 * 512);
    assert_note(&s, IMGP_NOTE_WARNING, "the backup table is damaged: gpt: no \"EFI PART\" signature at LBA 1023");
    scan_free(&s);

    s.ctx = imgp_ctx_new(NULL);
    assert_int_equal(imgp_bdev_open_memory(s.ctx, disk, disk_size, "disk", &s.disk), IMGP_OK);
    s.disk->sector_size = 4096;
    assert_int_equal(imgp_volumes_scan(s.ctx, s.disk, &s.vols), IMGP_OK);
    s.info = imgp_volumes_get_info(s.vols);
    check_partitions(&s);
    scan_free(&s);
}

/* The header looked for at 512 and 4096 whatever the head holds; short heads never read past their end. */
static void test_score(void **state)
{
    (void)state;
    build_gpt(1 << 20, 512);
    assert_int_equal(gpt_score(disk, 1024), GPT_SCORE_VALID);
    assert_int_equal(gpt_score(disk, 1023), GPT_SCORE_DAMAGED); /* the protective record */
    memset(disk, 0, 512);
    assert_int_equal(gpt_score(disk, 1023), GPT_SCORE_DAMAGED); /* the signature */
    assert_int_equal(gpt_score(disk, 519), IMGP_SCORE_NONE);
    assert_int_equal(gpt_score(disk, 0), IMGP_SCORE_NONE);
    build_gpt(128 * 4096, 4096);
    assert_int_equal(gpt_score(disk, 8192), GPT_SCORE_VALID);
    assert_int_equal(gpt_score(disk, 8191), GPT_SCORE_DAMAGED);
}

static void test_failures(void **state)
{
    (void)state;
    build_gpt(1 << 20, 512);
    scan_with_failures(disk, disk_size);
    sector(1)[0] = 'X'; /* the backup path */
    scan_with_failures(disk, disk_size);
    sector(last_lba())[0] = 'X'; /* the MBR fallback */
    scan_with_failures(disk, disk_size);
    build_gpt(128 * 4096, 4096);
    scan_with_failures(disk, disk_size);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_primary_damaged),
        cmocka_unit_test(test_primary_damaged_4096),
        cmocka_unit_test(test_backup_damaged_or_misplaced),
        cmocka_unit_test(test_both_damaged),
        cmocka_unit_test(test_protective_mbr),
        cmocka_unit_test(test_odd_entries),
        cmocka_unit_test(test_entry_limit),
        cmocka_unit_test(test_header_parse),
        cmocka_unit_test(test_entry_parse),
        cmocka_unit_test(test_name_decode),
        cmocka_unit_test(test_guid_format_and_types),
        cmocka_unit_test(test_sector_size_hint),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
