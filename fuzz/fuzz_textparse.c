/*
 * libFuzzer harness over inspection's text parsers (src/inspect/textparse.c):
 * os-release style variables, release banners, fstab, kernel configs, module
 * lists, GRUB 2 / GRUB legacy / BLS boot entries, kernel command lines, ELF
 * headers and version comparison, each run over the whole input. No I/O.
 * Replayed without libFuzzer by replay.c.
 *
 * Invariants (abort() when one breaks):
 *  - every string a callback gets is NUL-terminated and shorter than
 *    IMGP_TEXT_LINE_MAX, and a fstab mount point or a boot entry's kernel is
 *    never longer than its line;
 *  - callbacks are called at most once per input line (plus one entry);
 *  - version comparison is antisymmetric and reflexive;
 *  - ELF: an architecture is named exactly when the input starts with a
 *    valid ELF identification, with 32 or 64 bits.
 */
#include <string.h>

#include "harness_support.h"
#include "inspect/textparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct counts {
    size_t calls, lines;
} counts;

static void check_str(const char *s, const char *what)
{
    CHECK(s != NULL, what);
    CHECK(strnlen(s, IMGP_TEXT_LINE_MAX) < IMGP_TEXT_LINE_MAX, what);
}

static int on_var(void *arg, const char *key, const char *value)
{
    counts *c = arg;
    check_str(key, "variable name");
    check_str(value, "variable value");
    CHECK(key[0] != '\0', "empty variable name");
    CHECK(++c->calls <= c->lines, "more variables than lines");
    return 0;
}

static int on_fstab(void *arg, const imgp_fstab_line *l)
{
    counts *c = arg;
    check_str(l->spec, "fstab spec");
    check_str(l->file, "fstab file");
    check_str(l->vfstype, "fstab type");
    check_str(l->mntops, "fstab options");
    CHECK(l->spec[0] != '\0' && l->file[0] != '\0', "an empty fstab field");
    CHECK(l->line >= 1 && l->line <= c->lines, "fstab line number");
    CHECK(++c->calls <= c->lines, "more fstab entries than lines");
    return 0;
}

static int on_entry(void *arg, const imgp_boot_entry *e)
{
    counts *c = arg;
    check_str(e->title, "entry title");
    check_str(e->id, "entry id");
    check_str(e->number, "entry number");
    check_str(e->kernel, "entry kernel");
    check_str(e->cmdline, "entry command line");
    check_str(e->initrd, "entry initrd");
    CHECK(++c->calls <= c->lines + 1, "more boot entries than lines");
    char root[IMGP_TEXT_FIELD_MAX];
    if (imgp_text_cmdline_arg(e->cmdline, "root", root, sizeof root))
        check_str(root, "root=");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';

    counts c = {0, lines};
    imgp_text_shell_vars(text, size, on_var, &c);
    char val[64];
    if (imgp_text_shell_var(text, size, "ID", val, sizeof val))
        CHECK(strlen(val) < sizeof val, "ID value");

    char id[32], ver[32];
    if (imgp_text_release_banner(text, size, id, sizeof id, ver, sizeof ver)) {
        CHECK(id[0] != '\0', "banner without an id");
        CHECK(strlen(ver) < sizeof ver, "banner version");
    }

    c.calls = 0;
    imgp_text_fstab(text, size, on_fstab, &c);

    char k = imgp_text_kconfig(text, size, "VIRTIO_BLK");
    CHECK(k == 0 || k == 'y' || k == 'm', "kconfig value");
    char path[256];
    if (imgp_text_module_listed(text, size, "virtio_blk", path, sizeof path))
        CHECK(path[0] != '\0' && strlen(path) < sizeof path, "listed path");

    imgp_boot_config cfg;
    c.calls = 0;
    imgp_text_grub2(text, size, on_entry, &c, &cfg);
    CHECK(cfg.entries == c.calls, "grub2 entry count");
    check_str(cfg.default_entry, "grub2 default");
    c.calls = 0;
    imgp_text_grub_legacy(text, size, on_entry, &c, &cfg);
    CHECK(cfg.entries == c.calls, "legacy entry count");
    c.calls = 0;
    imgp_text_bls(text, size, "fuzz", on_entry, &c);
    CHECK(c.calls == 1, "a BLS file is one entry");

    const char *arch = NULL;
    unsigned bits = 0;
    bool elf = imgp_text_elf_arch(data, size, &arch, &bits);
    bool valid = size >= 20 && memcmp(data, "\x7f" "ELF", 4) == 0 && (data[4] == 1 || data[4] == 2) &&
                 (data[5] == 1 || data[5] == 2);
    CHECK(elf == valid, "ELF recognition");
    if (elf)
        CHECK(arch && (bits == 32 || bits == 64), "ELF architecture");

    /* versions: the two halves of the input, as strings */
    char a[128], b[128];
    size_t half = size / 2, la = half < sizeof a - 1 ? half : sizeof a - 1,
           lb = size - half < sizeof b - 1 ? size - half : sizeof b - 1;
    memcpy(a, data, la);
    a[la] = '\0';
    memcpy(b, data + half, lb);
    b[lb] = '\0';
    int ab = imgp_text_version_cmp(a, b), ba = imgp_text_version_cmp(b, a);
    CHECK((ab > 0) == (ba < 0) && (ab == 0) == (ba == 0), "version comparison is not antisymmetric");
    CHECK(imgp_text_version_cmp(a, a) == 0, "version comparison is not reflexive");
    return 0;
}
