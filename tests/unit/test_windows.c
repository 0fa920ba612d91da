/* Unit tests of Windows inspection's byte parsers (src/inspect/windows.c): the PE header of cmd.exe, one field broken at a time, and the release a build number names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "inspect/windows.h"
#include "support/testsupport.h"

#define LFANEW 0x80

/* MZ, e_lfanew, PE\0\0, COFF header (machine), optional header magic */
static void make_pe(uint8_t *b, size_t len, uint16_t machine, uint16_t magic)
{
    memset(b, 0, len);
    b[0] = 'M', b[1] = 'Z';
    test_put_le32(b, 0x3c, LFANEW);
    memcpy(b + LFANEW, "PE\0\0", 4);
    test_put_le16(b, LFANEW + 4, machine);
    test_put_le16(b, LFANEW + 20, magic == 0x20b ? 240 : 224);
    test_put_le16(b, LFANEW + 24, magic);
}

static void test_pe_good(void **state)
{
    (void)state;
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    uint8_t b[512];
    insp_pe_info pe;
    make_pe(b, sizeof b, 0x8664, 0x20b);
    assert_int_equal(insp_parse_pe(ctx, b, sizeof b, "cmd.exe", &pe), IMGP_OK);
    assert_string_equal(pe.arch, "x86_64");
    assert_int_equal(pe.bits, 64);
    make_pe(b, sizeof b, 0x14c, 0x10b);
    assert_int_equal(insp_parse_pe(ctx, b, sizeof b, "cmd.exe", &pe), IMGP_OK);
    assert_string_equal(pe.arch, "i386");
    assert_int_equal(pe.bits, 32);
    make_pe(b, sizeof b, 0xaa64, 0x20b);
    assert_int_equal(insp_parse_pe(ctx, b, sizeof b, "cmd.exe", &pe), IMGP_OK);
    assert_string_equal(pe.arch, "aarch64");
    /* an unknown machine is no error: the architecture is unknown */
    make_pe(b, sizeof b, 0x1234, 0x20b);
    assert_int_equal(insp_parse_pe(ctx, b, sizeof b, "cmd.exe", &pe), IMGP_OK);
    assert_null(pe.arch);
    /* exactly long enough: the magic's last byte is the buffer's */
    make_pe(b, sizeof b, 0x8664, 0x20b);
    assert_int_equal(insp_parse_pe(ctx, b, LFANEW + 26, "cmd.exe", &pe), IMGP_OK);
    imgp_ctx_free(ctx);
}

static void test_pe_broken(void **state)
{
    (void)state;
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    uint8_t b[512];
    insp_pe_info pe;
    make_pe(b, sizeof b, 0x8664, 0x20b);
    b[1] = 'X';
    test_expect_error(ctx, insp_parse_pe(ctx, b, sizeof b, "cmd.exe", &pe), IMGP_ERR_CORRUPT, "no MS-DOS header");
    make_pe(b, sizeof b, 0x8664, 0x20b);
    test_expect_error(ctx, insp_parse_pe(ctx, b, 0x3f, "cmd.exe", &pe), IMGP_ERR_CORRUPT, "no MS-DOS header");
    make_pe(b, sizeof b, 0x8664, 0x20b);
    test_put_le32(b, 0x3c, 0xfffffff0u);
    test_expect_error(ctx, insp_parse_pe(ctx, b, sizeof b, "cmd.exe", &pe), IMGP_ERR_CORRUPT,
                      "e_lfanew 0xfffffff0");
    make_pe(b, sizeof b, 0x8664, 0x20b);
    test_expect_error(ctx, insp_parse_pe(ctx, b, LFANEW + 25, "cmd.exe", &pe), IMGP_ERR_CORRUPT, "e_lfanew 0x80");
    make_pe(b, sizeof b, 0x8664, 0x20b);
    b[LFANEW + 2] = 'X';
    test_expect_error(ctx, insp_parse_pe(ctx, b, sizeof b, "cmd.exe", &pe), IMGP_ERR_CORRUPT, "signature at 0x80");
    make_pe(b, sizeof b, 0x8664, 0x20b);
    test_put_le16(b, LFANEW + 20, 0);
    test_expect_error(ctx, insp_parse_pe(ctx, b, sizeof b, "cmd.exe", &pe), IMGP_ERR_CORRUPT, "no optional header");
    make_pe(b, sizeof b, 0x8664, 0x107);
    test_expect_error(ctx, insp_parse_pe(ctx, b, sizeof b, "cmd.exe", &pe), IMGP_ERR_CORRUPT, "magic 0x107");
    imgp_ctx_free(ctx);
}

static void test_release(void **state)
{
    (void)state;
    assert_string_equal(insp_windows_release(9200, true), "Windows Server 2012");
    assert_string_equal(insp_windows_release(9600, true), "Windows Server 2012 R2");
    assert_string_equal(insp_windows_release(14393, true), "Windows Server 2016");
    assert_string_equal(insp_windows_release(17763, true), "Windows Server 2019");
    assert_string_equal(insp_windows_release(20348, true), "Windows Server 2022");
    assert_string_equal(insp_windows_release(26100, true), "Windows Server 2025");
    assert_string_equal(insp_windows_release(7600, true), "Windows Server 2008 R2");
    assert_null(insp_windows_release(19045, true));
    assert_string_equal(insp_windows_release(19045, false), "Windows 10");
    assert_string_equal(insp_windows_release(22000, false), "Windows 11");
    assert_string_equal(insp_windows_release(9600, false), "Windows 8.1");
    assert_null(insp_windows_release(1, false));
    assert_string_equal(insp_windows_release(3790, true), "Windows Server 2003");
}

static void test_mounted_devices(void **state)
{
    (void)state;
    insp_mounted_device m;
    uint8_t mbr[12];
    test_put_le32(mbr, 0, 0x1badcafe);
    test_put_le64(mbr, 4, 17825792);
    insp_parse_mounted_device(mbr, sizeof mbr, &m);
    assert_int_equal(m.kind, INSP_MOUNTED_MBR);
    assert_int_equal(m.disk_signature, 0x1badcafe);
    assert_int_equal(m.offset, 17825792);
    insp_parse_mounted_device(mbr, 11, &m); /* one byte short */
    assert_int_equal(m.kind, INSP_MOUNTED_OTHER);
    /* 6b2a4c3e-1f00-4d1a-9c55-0123456789ab, as a GPT entry stores it */
    static const uint8_t gpt[24] = {'D', 'M', 'I', 'O', ':', 'I', 'D', ':', 0x3e, 0x4c, 0x2a, 0x6b, 0x00, 0x1f,
                                    0x1a, 0x4d, 0x9c, 0x55, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab};
    insp_parse_mounted_device(gpt, sizeof gpt, &m);
    assert_int_equal(m.kind, INSP_MOUNTED_GPT);
    assert_string_equal(m.guid, "6b2a4c3e-1f00-4d1a-9c55-0123456789ab");
    uint8_t bad[24];
    memcpy(bad, gpt, sizeof bad);
    bad[4] = '-';
    insp_parse_mounted_device(bad, sizeof bad, &m);
    assert_int_equal(m.kind, INSP_MOUNTED_OTHER);
    insp_parse_mounted_device(gpt, 8, &m);
    assert_int_equal(m.kind, INSP_MOUNTED_OTHER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pe_good),
        cmocka_unit_test(test_pe_broken),
        cmocka_unit_test(test_release),
        cmocka_unit_test(test_mounted_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
