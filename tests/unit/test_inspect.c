/* Unit tests of inspection's text parsers (src/inspect/textparse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "inspect/textparse.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_shell_vars(void **state)
{
    (void)state;
    static const char osr[] = "NAME=\"CentOS Linux\"\nID=\"centos\"\n# ID=wrong\nVERSION_ID='7'\n"
                              "export PRETTY_NAME=CentOS\\ 7\nID_LIKE=\"rhel \\\"fedora\\\"\"\nBROKEN\n=x\n";
    char v[64];
    assert_true(imgp_text_shell_var(S(osr), "ID", v, sizeof v));
    assert_string_equal(v, "centos");
    assert_true(imgp_text_shell_var(S(osr), "VERSION_ID", v, sizeof v));
    assert_string_equal(v, "7");
    assert_true(imgp_text_shell_var(S(osr), "PRETTY_NAME", v, sizeof v));
    assert_string_equal(v, "CentOS 7");
    assert_true(imgp_text_shell_var(S(osr), "ID_LIKE", v, sizeof v));
    assert_string_equal(v, "rhel \"fedora\"");
    assert_false(imgp_text_shell_var(S(osr), "VARIANT_ID", v, sizeof v));
    /* the last assignment wins; CRLF; no final newline; truncated to the buffer */
    static const char two[] = "ID=a\r\nID=b";
    assert_true(imgp_text_shell_var(S(two), "ID", v, sizeof v));
    assert_string_equal(v, "b");
    static const char env[] = "# GRUB Environment Block\nsaved_entry=CentOS Linux (3.10) 7 (Core)\n#####";
    assert_true(imgp_text_plain_var(S(env), "saved_entry", v, sizeof v));
    assert_string_equal(v, "CentOS Linux (3.10) 7 (Core)");
    assert_false(imgp_text_plain_var(S(env), "saved", v, sizeof v));
    char small[4];
    assert_true(imgp_text_shell_var(S("ID=abcdefgh\n"), "ID", small, sizeof small));
    assert_string_equal(small, "abc");
    /* a NUL ends a line; binary junk is skipped */
    static const char bin[] = "ID=ok\0junk\nVERSION_ID=3\n\xff\xfe=\n";
    assert_true(imgp_text_shell_var(bin, sizeof bin - 1, "ID", v, sizeof v));
    assert_string_equal(v, "ok");
    assert_true(imgp_text_shell_var(bin, sizeof bin - 1, "VERSION_ID", v, sizeof v));
    assert_string_equal(v, "3");
}

static void banner(const char *text, const char *id, const char *version)
{
    char i[32], v[32];
    assert_true(imgp_text_release_banner(text, strlen(text), i, sizeof i, v, sizeof v));
    assert_string_equal(i, id);
    assert_string_equal(v, version);
}

static void test_release_banners(void **state)
{
    (void)state;
    banner("CentOS release 6.10 (Final)\n", "centos", "6.10");
    banner("CentOS Linux release 7.9.2009 (Core)\n", "centos", "7.9.2009");
    banner("Red Hat Enterprise Linux Server release 7.9 (Maipo)", "rhel", "7.9");
    banner("Fedora release 39 (Thirty Nine)\n", "fedora", "39");
    banner("SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n", "sles", "11.4");
    banner("SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 0\n", "sles", "11");
    banner("openSUSE 13.2 (x86_64)\nVERSION = 13.2\n", "opensuse", "13.2");
    char i[32], v[32];
    assert_false(imgp_text_release_banner(S("Debian GNU/Linux\n"), i, sizeof i, v, sizeof v));
    assert_false(imgp_text_release_banner("", 0, i, sizeof i, v, sizeof v));
}

typedef struct fstab_seen {
    int n;
    char spec[4][64], file[4][64], type[4][16];
} fstab_seen;

static int keep_fstab(void *arg, const imgp_fstab_line *l)
{
    fstab_seen *s = arg;
    if (s->n < 4) {
        snprintf(s->spec[s->n], 64, "%s", l->spec);
        snprintf(s->file[s->n], 64, "%s", l->file);
        snprintf(s->type[s->n], 16, "%s", l->vfstype);
    }
    s->n++;
    return 0;
}

static void test_fstab(void **state)
{
    (void)state;
    static const char f[] = "# comment\n\nUUID=abc / ext4 defaults 0 1\n"
                            "  LABEL=My\\040Disk\t/mnt/my\\040disk xfs noatime 0 2 # trailing\n"
                            "/dev/mapper/centos-root /usr xfs\nonlyonefield\n/dev/sdb1 none swap sw";
    fstab_seen s = {0};
    imgp_text_fstab(S(f), keep_fstab, &s);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.spec[0], "UUID=abc");
    assert_string_equal(s.file[0], "/");
    assert_string_equal(s.spec[1], "LABEL=My Disk");
    assert_string_equal(s.file[1], "/mnt/my disk");
    assert_string_equal(s.type[1], "xfs");
    assert_string_equal(s.type[2], "xfs");
    assert_string_equal(s.type[3], "swap");
}

static void test_kconfig_and_modules(void **state)
{
    (void)state;
    static const char cfg[] = "CONFIG_VIRTIO=y\nCONFIG_VIRTIO_BLK=m\n# CONFIG_SCSI_VIRTIO is not set\n"
                              "CONFIG_VIRTIO_NET=y\nCONFIG_VIRTIO_PCI_LEGACY=y\n";
    assert_int_equal(imgp_text_kconfig(S(cfg), "VIRTIO_BLK"), 'm');
    assert_int_equal(imgp_text_kconfig(S(cfg), "VIRTIO_NET"), 'y');
    assert_int_equal(imgp_text_kconfig(S(cfg), "SCSI_VIRTIO"), 0);
    assert_int_equal(imgp_text_kconfig(S(cfg), "VIRTIO_PCI"), 0); /* not VIRTIO_PCI_LEGACY */

    static const char dep[] = "kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko.xz\n"
                              "kernel/drivers/scsi/virtio_scsi_extra.ko:\nkernel/drivers/net/virtio-net.ko.zst:\n";
    char path[128];
    assert_true(imgp_text_module_listed(S(dep), "virtio_blk", path, sizeof path));
    assert_string_equal(path, "kernel/drivers/block/virtio_blk.ko.xz");
    assert_false(imgp_text_module_listed(S(dep), "virtio_scsi", NULL, 0));
    assert_true(imgp_text_module_listed(S(dep), "virtio_net", NULL, 0)); /* '-' and '_' are one */
    assert_false(imgp_text_module_listed(S(dep), "virtio", NULL, 0));    /* only as a dependency */
    assert_true(imgp_text_is_module_file(S("virtio_pci.ko.gz"), "virtio_pci"));
    assert_false(imgp_text_is_module_file(S("virtio_pci.ko.bz2"), "virtio_pci"));
    assert_false(imgp_text_is_module_file(S("virtio_pci_modern_dev.ko"), "virtio_pci"));
}

typedef struct entries {
    int n;
    char title[8][128], number[8][16], kernel[8][128], cmdline[8][256], id[8][64], initrd[8][128];
} entries;

static int keep_entry(void *arg, const imgp_boot_entry *e)
{
    entries *s = arg;
    if (s->n < 8) {
        snprintf(s->title[s->n], 128, "%s", e->title);
        snprintf(s->number[s->n], 16, "%s", e->number);
        snprintf(s->kernel[s->n], 128, "%s", e->kernel);
        snprintf(s->cmdline[s->n], 256, "%s", e->cmdline);
        snprintf(s->id[s->n], 64, "%s", e->id);
        snprintf(s->initrd[s->n], 128, "%s", e->initrd);
    }
    s->n++;
    return 0;
}

static void test_grub2(void **state)
{
    (void)state;
    static const char cfg[] =
        "if [ -s $prefix/grubenv ]; then\n  load_env\nfi\nset default=\"${saved_entry}\"\n"
        "function load_video {\n  insmod all_video\n}\n"
        "menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-x' {\n"
        "\tlinux\t/boot/vmlinuz-6.1 root=UUID=abc ro quiet\n\tinitrd\t/boot/initrd.img-6.1\n}\n"
        "submenu 'Advanced options' $menuentry_id_option 'adv' {\n"
        "\tmenuentry 'Debian, 6.1' --id 'deb-6.1' {\n\t\tlinux /boot/vmlinuz-6.1 root=/dev/sda1\n\t}\n"
        "\tmenuentry 'Debian, 5.10' {\n\t\tlinux16 /boot/vmlinuz-5.10 root=LABEL=\"my root\" single\n\t}\n}\n"
        "menuentry \"Memtest\" {\n\tlinux16 /boot/memtest86+.bin\n}\n";
    entries e = {0};
    imgp_boot_config c;
    imgp_text_grub2(S(cfg), keep_entry, &e, &c);
    assert_string_equal(c.default_entry, "${saved_entry}");
    assert_false(c.blscfg);
    assert_int_equal(e.n, 4);
    assert_string_equal(e.title[0], "Debian GNU/Linux");
    assert_string_equal(e.id[0], "gnulinux-simple-x");
    assert_string_equal(e.number[0], "0");
    assert_string_equal(e.kernel[0], "/boot/vmlinuz-6.1");
    assert_string_equal(e.cmdline[0], "root=UUID=abc ro quiet");
    assert_string_equal(e.initrd[0], "/boot/initrd.img-6.1");
    assert_string_equal(e.number[1], "1>0");
    assert_string_equal(e.id[1], "deb-6.1");
    assert_string_equal(e.number[2], "1>1");
    assert_string_equal(e.kernel[2], "/boot/vmlinuz-5.10");
    assert_string_equal(e.number[3], "2");
    assert_string_equal(e.title[3], "Memtest");

    char root[64];
    assert_true(imgp_text_cmdline_arg(e.cmdline[2], "root", root, sizeof root));
    assert_string_equal(root, "LABEL=my root");
    assert_false(imgp_text_cmdline_arg("ro quiet rootwait", "root", root, sizeof root));
    assert_true(imgp_text_cmdline_arg("root=/dev/sda1 ro root=UUID=x", "root", root, sizeof root));
    assert_string_equal(root, "UUID=x");

    static const char bls[] = "set default=\"${saved_entry}\"\ninsmod blscfg\nblscfg\n";
    entries none = {0};
    imgp_text_grub2(S(bls), keep_entry, &none, &c);
    assert_true(c.blscfg);
    assert_int_equal(none.n, 0);

    /* unbalanced braces, deep nesting and junk end cleanly */
    static const char junk[] = "}}}\nsubmenu a {\nsubmenu b {\nsubmenu c {\nsubmenu d {\nsubmenu e {\nsubmenu f {\n"
                               "submenu g {\nsubmenu h {\nsubmenu i {\nmenuentry x {\nlinux /k\n";
    entries j = {0};
    imgp_text_grub2(S(junk), keep_entry, &j, &c);
    assert_true(j.n <= 1);
}

static void test_legacy_and_bls(void **state)
{
    (void)state;
    static const char menu[] = "default=1\ntimeout=5\ntitle CentOS (2.6.32-754)\n\troot (hd0,0)\n"
                               "\tkernel /vmlinuz-2.6.32-754 ro root=/dev/mapper/vg-root\n\tinitrd /initramfs-2.6.32-754.img\n"
                               "title Other\n\tkernel /vmlinuz-old root=/dev/sda2\n";
    entries e = {0};
    imgp_boot_config c;
    imgp_text_grub_legacy(S(menu), keep_entry, &e, &c);
    assert_string_equal(c.default_entry, "1");
    assert_int_equal(e.n, 2);
    assert_string_equal(e.title[0], "CentOS (2.6.32-754)");
    assert_string_equal(e.kernel[0], "/vmlinuz-2.6.32-754");
    assert_string_equal(e.cmdline[0], "ro root=/dev/mapper/vg-root");
    assert_string_equal(e.initrd[0], "/initramfs-2.6.32-754.img");
    assert_string_equal(e.number[1], "1");

    static const char entry[] = "title Rocky Linux (5.14)\nversion 5.14\nlinux /vmlinuz-5.14\n"
                                "initrd /initramfs-5.14.img $tuned_initrd\noptions root=UUID=r ro\n";
    entries b = {0};
    imgp_text_bls(S(entry), "abc-5.14", keep_entry, &b);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.id[0], "abc-5.14");
    assert_string_equal(b.kernel[0], "/vmlinuz-5.14");
    assert_string_equal(b.cmdline[0], "root=UUID=r ro");
}

static void test_elf_and_versions(void **state)
{
    (void)state;
    uint8_t h[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
    h[18] = 62;
    const char *arch;
    unsigned bits;
    assert_true(imgp_text_elf_arch(h, sizeof h, &arch, &bits));
    assert_string_equal(arch, "x86_64");
    assert_int_equal(bits, 64);
    h[4] = 1;
    h[18] = 3;
    assert_true(imgp_text_elf_arch(h, sizeof h, &arch, &bits));
    assert_string_equal(arch, "i386");
    assert_int_equal(bits, 32);
    h[4] = 2;
    h[18] = 183;
    assert_true(imgp_text_elf_arch(h, sizeof h, &arch, &bits));
    assert_string_equal(arch, "aarch64");
    assert_false(imgp_text_elf_arch(h, 19, &arch, &bits));
    h[4] = 3;
    assert_false(imgp_text_elf_arch(h, sizeof h, &arch, &bits));
    assert_false(imgp_text_elf_arch((const uint8_t *)"#!/bin/sh\n......................", 30, &arch, &bits));

    assert_true(imgp_text_version_cmp("5.10.0-26", "5.10.0-100") < 0);
    assert_true(imgp_text_version_cmp("6.1.0", "5.15.0") > 0);
    assert_true(imgp_text_version_cmp("4.18.0-348.el8", "4.18.0-348.el8") == 0);
    assert_true(imgp_text_version_cmp("3.10.0-1160", "3.10.0-0-rescue") > 0);
    assert_true(imgp_text_version_cmp("007", "7") == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shell_vars),      cmocka_unit_test(test_release_banners),
        cmocka_unit_test(test_fstab),           cmocka_unit_test(test_kconfig_and_modules),
        cmocka_unit_test(test_grub2),           cmocka_unit_test(test_legacy_and_bls),
        cmocka_unit_test(test_elf_and_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
