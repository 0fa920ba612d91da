/*
 * Parsers of the guest's text and header files that inspection reads:
 * os-release style KEY=value files, release banners, fstab, kernel configs,
 * GRUB 2 / BLS / GRUB legacy boot entries, ELF headers.
 *
 * Each works on a byte buffer of known length that need not be
 * NUL-terminated and may hold anything (binary, no final newline, huge
 * lines): lines are cut at IMGP_TEXT_LINE_MAX bytes, and the callbacks get
 * NUL-terminated copies in caller-visible scratch space that lives for the
 * call only. Nothing here allocates or does I/O, so each is unit-tested and
 * fuzzed alone (fuzz/fuzz_textparse.c).
 */
#ifndef IMGP_INSPECT_TEXTPARSE_H
#define IMGP_INSPECT_TEXTPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMGP_TEXT_LINE_MAX 4096 /* longer lines are cut (a value that long is no identity) */
#define IMGP_TEXT_FIELD_MAX 1024

/*
 * Shell-style assignments, one per line: `KEY=value`, `KEY="value"`,
 * `KEY='value'`, `export KEY=value`, with backslash escapes inside double
 * quotes and outside quotes (os-release(5)). Comments and other lines are
 * skipped. @p fn returns non-zero to stop.
 */
typedef int (*imgp_text_var_fn)(void *arg, const char *key, const char *value);
void imgp_text_shell_vars(const char *buf, size_t len, imgp_text_var_fn fn, void *arg);

/* The value of @p key in a shell-style file into @p out (cap bytes): true when present. */
bool imgp_text_shell_var(const char *buf, size_t len, const char *key, char *out, size_t cap);

/* The value of @p key in a `KEY=value` file whose values are taken verbatim
 * to the end of the line (GRUB's grubenv: `saved_entry=CentOS Linux (3.10) 7 (Core)`). */
bool imgp_text_plain_var(const char *buf, size_t len, const char *key, char *out, size_t cap);

/*
 * A release banner ("CentOS release 6.10 (Final)", "CentOS Linux release
 * 7.9.2009 (Core)", "Red Hat Enterprise Linux Server release 7.9 (Maipo)",
 * "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4"):
 * the distribution as an os-release ID ("centos", "rhel", "fedora", "sles",
 * "opensuse"...) and its version ("6.10", "11.4"). False when not recognised.
 */
bool imgp_text_release_banner(const char *buf, size_t len, char *id, size_t id_cap, char *version,
                              size_t version_cap);

/* One fstab(5) line: fields with \040-style octal escapes decoded. */
typedef struct imgp_fstab_line {
    const char *spec, *file, *vfstype, *mntops;
    unsigned line; /* 1-based */
} imgp_fstab_line;
typedef int (*imgp_fstab_fn)(void *arg, const imgp_fstab_line *l);
void imgp_text_fstab(const char *buf, size_t len, imgp_fstab_fn fn, void *arg);

/* Linux kernel config lines: the value of CONFIG_@p name: 'y', 'm', or 0 when unset or absent. */
char imgp_text_kconfig(const char *buf, size_t len, const char *name);

/* Whether a modules.builtin / modules.dep style list names module @p mod
 * ("virtio_blk") as a path's basename, with any .ko, .ko.xz, .ko.zst, .ko.gz
 * suffix; the matching path (first field) goes to @p path when not NULL. */
bool imgp_text_module_listed(const char *buf, size_t len, const char *mod, char *path, size_t path_cap);

/* Whether @p name (a file name, not a path) is kernel module @p mod with a known suffix. */
bool imgp_text_is_module_file(const char *name, size_t name_len, const char *mod);

/*
 * Boot entries from a boot loader's configuration, in menu order.
 *  - GRUB 2 grub.cfg: `set default=...` (a number, "a>b" for submenus, a
 *    title or an id, or "${saved_entry}"), `menuentry 'title' ... --id X {`
 *    (also $menuentry_id_option 'X'), its `linux`/`linux16`/`linuxefi` and
 *    `initrd` lines; submenus flattened with "a>b" numbering; `blscfg`
 *    noted (the entries are then in /boot/loader/entries).
 *  - BLS: one entry file (title, version, linux, initrd, options).
 *  - GRUB legacy menu.lst / grub.conf: `default N`, `title`, `kernel`, `initrd`.
 */
typedef struct imgp_boot_entry {
    const char *title;   /* or "" */
    const char *id;      /* --id / $menuentry_id_option, BLS file id, or "" */
    const char *number;  /* "0", "1>2" (grub2 numbering), or "" */
    const char *kernel;  /* the path after linux/kernel, as written */
    const char *cmdline; /* the rest of that line */
    const char *initrd;  /* first initrd path, or "" */
} imgp_boot_entry;
typedef int (*imgp_boot_entry_fn)(void *arg, const imgp_boot_entry *e);

typedef struct imgp_boot_config {
    char default_entry[IMGP_TEXT_FIELD_MAX]; /* as written ("0", "saved", "${saved_entry}", a title), or "" */
    bool blscfg;                             /* grub.cfg loads BLS entries */
    unsigned entries;
} imgp_boot_config;

void imgp_text_grub2(const char *buf, size_t len, imgp_boot_entry_fn fn, void *arg, imgp_boot_config *cfg);
void imgp_text_grub_legacy(const char *buf, size_t len, imgp_boot_entry_fn fn, void *arg, imgp_boot_config *cfg);
/* @p id is the entry's file name without ".conf". */
void imgp_text_bls(const char *buf, size_t len, const char *id, imgp_boot_entry_fn fn, void *arg);

/* The value of `@p key=` on a kernel command line ("root"), the last one winning; true when present. */
bool imgp_text_cmdline_arg(const char *cmdline, const char *key, char *out, size_t cap);

/* ELF identification: the architecture as uname -m names it ("x86_64",
 * "i386", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64"...) and the
 * word size. False when @p buf is no ELF header. */
bool imgp_text_elf_arch(const uint8_t *buf, size_t len, const char **arch, unsigned *bits);

/* Compare kernel version strings as version numbers ("5.10.0-26" < "5.10.0-100"). */
int imgp_text_version_cmp(const char *a, const char *b);

#endif
