/*
 * Linux inspection: what a Linux root looks like, its identity (os-release
 * and older release files, architecture, hostname), its boot loader's
 * default entry, its kernels and how each reaches virtio devices (built in,
 * module files, the initramfs), and cloud-init.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "initramfs.h"
#include "inspect.h"
#include "textparse.h"

#define MAX_KERNELS 64
#define MAX_BOOT_ENTRIES 256
#define MODULES_LIST_MAX (8u << 20) /* modules.dep of a distribution kernel is ~1 MiB */
#define DPKG_STATUS_MAX (32u << 20)

/* ---- small helpers over the view ---- */

static bool is_type(imgp_inspection *insp, imgp_view *v, const char *path, bool prefixed, imgp_ftype type)
{
    imgp_node n;
    imgp_stat st;
    return insp_lookup(insp, v, path, prefixed, type == IMGP_FT_SYMLINK, &n, &st) && st.type == type;
}

static bool is_dir(imgp_inspection *insp, imgp_view *v, const char *path, bool prefixed)
{
    return is_type(insp, v, path, prefixed, IMGP_FT_DIR);
}

static bool is_file(imgp_inspection *insp, imgp_view *v, const char *path, bool prefixed)
{
    return is_type(insp, v, path, prefixed, IMGP_FT_REG);
}

/* Read a small text file; NULL when absent. Free with imgp_free. */
static char *read_text(imgp_inspection *insp, imgp_view *v, const char *path, bool prefixed, size_t max,
                       size_t *len)
{
    char *buf;
    bool whole;
    if (insp_read(insp, v, path, prefixed, max, &buf, len, &whole) != IMGP_OK) {
        imgp_ctx_clear(insp->ctx);
        return NULL;
    }
    return buf;
}

/* ---- classification ---- */

static int has_boot_files(void *arg, const char *name, imgp_ftype type)
{
    (void)type;
    bool *found = arg;
    if (strncmp(name, "vmlinuz-", 8) == 0 || strncmp(name, "vmlinux-", 8) == 0 || strcmp(name, "grub") == 0 ||
        strcmp(name, "grub2") == 0 || strcmp(name, "loader") == 0 || strcmp(name, "ostree") == 0) {
        *found = true;
        return 1;
    }
    return 0;
}

static const char *linux_classify(imgp_inspection *insp, imgp_view *v)
{
    /* Fedora CoreOS / RHCOS / Flatcar with ostree: the deployments hold /etc and /usr */
    if (is_dir(insp, v, "/ostree/deploy", false))
        return "root";
    bool etc = is_dir(insp, v, "/etc", false);
    bool bin = is_dir(insp, v, "/bin", false);
    if (!bin && is_type(insp, v, "/bin", false, IMGP_FT_SYMLINK)) {
        imgp_node n;
        imgp_stat st;
        char target[64];
        if (insp_lookup(insp, v, "/bin", false, true, &n, &st) &&
            imgp_fs_readlink(n.fs, n.ino, target, sizeof target) == IMGP_OK)
            bin = strcmp(target, "usr/bin") == 0 || strcmp(target, "/usr/bin") == 0;
        imgp_ctx_clear(insp->ctx);
    }
    if (etc && bin && (is_file(insp, v, "/etc/fstab", false) || is_file(insp, v, "/etc/hosts", false)))
        return "root";
    /* Flatcar / CoreOS Container Linux: /usr on its own partition, root made at first boot */
    if (!etc && is_dir(insp, v, "/bin", false) && is_dir(insp, v, "/lib", false) &&
        (is_dir(insp, v, "/share", false) || is_dir(insp, v, "/libexec", false)))
        return "usr";
    bool boot = false;
    insp_list_dir(insp, v, "/", false, has_boot_files, &boot);
    return boot && !etc ? "boot" : NULL;
}

typedef struct first_dir {
    char name[256];
} first_dir;

static int take_first_dir(void *arg, const char *name, imgp_ftype type)
{
    first_dir *f = arg;
    if (type != IMGP_FT_DIR && type != IMGP_FT_UNKNOWN)
        return 0;
    /* the lowest name: a stable choice when there are several */
    if (!f->name[0] || strcmp(name, f->name) < 0)
        snprintf(f->name, sizeof f->name, "%s", name);
    return 0;
}

/* ostree: /ostree/deploy/<osname>/deploy/<checksum>.<serial> is the system's tree. */
static const char *linux_prefix(imgp_inspection *insp, imgp_view *v)
{
    if (!is_dir(insp, v, "/ostree/deploy", false))
        return "";
    first_dir os = {""}, dep = {""};
    insp_list_dir(insp, v, "/ostree/deploy", false, take_first_dir, &os);
    if (!os.name[0])
        return "";
    char path[600];
    snprintf(path, sizeof path, "/ostree/deploy/%s/deploy", os.name);
    insp_list_dir(insp, v, path, false, take_first_dir, &dep);
    if (!dep.name[0])
        return "";
    const char *p = insp_printf(insp, "%s/%s", path, dep.name);
    return p ? p : "";
}

/* ---- boot loader ---- */

typedef struct boot_entry {
    const char *title, *id, *number, *kernel, *cmdline, *initrd;
} boot_entry;

typedef struct boot_entries {
    imgp_inspection *insp;
    boot_entry *v;
    size_t n;
} boot_entries;

static int keep_entry(void *arg, const imgp_boot_entry *e)
{
    boot_entries *b = arg;
    imgp_inspection *insp = b->insp;
    if (b->n >= MAX_BOOT_ENTRIES || !insp_grow(insp, (void **)&b->v, b->n, sizeof *b->v))
        return 1;
    b->v[b->n++] = (boot_entry){insp_str(insp, e->title), insp_str(insp, e->id), insp_str(insp, e->number),
                                insp_str(insp, e->kernel), insp_str(insp, e->cmdline), insp_str(insp, e->initrd)};
    return 0;
}

typedef struct bls_list {
    imgp_inspection *insp;
    char **names;
    size_t n;
} bls_list;

static int keep_bls_name(void *arg, const char *name, imgp_ftype type)
{
    bls_list *l = arg;
    size_t len = strlen(name);
    if (type == IMGP_FT_DIR || len < 6 || strcmp(name + len - 5, ".conf") != 0 || l->n >= MAX_BOOT_ENTRIES)
        return 0;
    if (!insp_grow(l->insp, (void **)&l->names, l->n, sizeof *l->names))
        return 1;
    /* the name without ".conf" ("" when out of memory: the inspection fails) */
    l->names[l->n++] = (char *)insp_printf(l->insp, "%.*s", (int)(len - 5), name);
    return 0;
}

static int bls_newest_first(const void *a, const void *b)
{
    return imgp_text_version_cmp(*(char *const *)b, *(char *const *)a);
}

/* grub2's blscfg: the entries of /boot/loader/entries, newest first. */
static void read_bls(imgp_inspection *insp, imgp_view *v, boot_entries *out)
{
    bls_list l = {insp, NULL, 0};
    insp_list_dir(insp, v, "/boot/loader/entries", false, keep_bls_name, &l);
    if (l.n > 1)
        qsort(l.names, l.n, sizeof *l.names, bls_newest_first);
    for (size_t i = 0; i < l.n; i++) {
        char path[512];
        snprintf(path, sizeof path, "/boot/loader/entries/%s.conf", l.names[i]);
        size_t len;
        char *buf = read_text(insp, v, path, false, INSP_TEXT_MAX, &len);
        if (buf) {
            size_t before = out->n;
            imgp_text_bls(buf, len, l.names[i], keep_entry, out);
            if (out->n > before)
                out->v[out->n - 1].number = insp_printf(insp, "%zu", out->n - 1);
            imgp_free(insp->ctx, buf);
        }
    }
    imgp_free(insp->ctx, l.names);
}

/* The entry @p want names: a number ("1>2"), an id, a title, or "a>b" of titles/ids. */
static const boot_entry *match_entry(const boot_entries *b, const char *want)
{
    if (!want || !*want)
        return b->n ? &b->v[0] : NULL;
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->v[i].number, want) == 0 || strcmp(b->v[i].id, want) == 0 || strcmp(b->v[i].title, want) == 0)
            return &b->v[i];
    const char *last = strrchr(want, '>');
    if (last && last[1])
        for (size_t i = 0; i < b->n; i++)
            if (strcmp(b->v[i].id, last + 1) == 0 || strcmp(b->v[i].title, last + 1) == 0)
                return &b->v[i];
    return NULL;
}

typedef struct boot_info {
    boot_entries entries;
    const boot_entry *chosen;
    const char *loader, *config, *default_name;
    bool default_unmatched; /* the configured default names no entry */
} boot_info;

static void read_boot(imgp_inspection *insp, imgp_view *v, boot_info *bi)
{
    memset(bi, 0, sizeof *bi);
    bi->entries.insp = insp;
    static const char *const grub2[] = {"/boot/grub2/grub.cfg", "/boot/grub/grub.cfg", "/boot/efi/EFI/centos/grub.cfg",
                                        "/boot/efi/EFI/redhat/grub.cfg", "/boot/efi/EFI/fedora/grub.cfg"};
    static const char *const legacy[] = {"/boot/grub/menu.lst", "/boot/grub/grub.conf"};
    imgp_boot_config cfg = {0};
    size_t len;
    char *buf = NULL;
    for (size_t i = 0; i < sizeof grub2 / sizeof grub2[0] && !buf; i++)
        if ((buf = read_text(insp, v, grub2[i], false, INSP_TEXT_MAX, &len))) {
            bi->config = grub2[i];
            bi->loader = "grub2";
            imgp_text_grub2(buf, len, keep_entry, &bi->entries, &cfg);
        }
    if (buf && cfg.blscfg) {
        boot_entries menu = bi->entries;
        bi->entries = (boot_entries){insp, NULL, 0};
        read_bls(insp, v, &bi->entries);
        for (size_t i = 0; i < menu.n; i++)
            if (bi->entries.n < MAX_BOOT_ENTRIES && insp_grow(insp, (void **)&bi->entries.v, bi->entries.n,
                                                                sizeof *bi->entries.v))
                bi->entries.v[bi->entries.n++] = menu.v[i];
        imgp_free(insp->ctx, menu.v);
        bi->loader = "grub2+bls";
    }
    for (size_t i = 0; i < sizeof legacy / sizeof legacy[0] && !buf; i++)
        if ((buf = read_text(insp, v, legacy[i], false, INSP_TEXT_MAX, &len))) {
            bi->config = legacy[i];
            bi->loader = "grub-legacy";
            imgp_text_grub_legacy(buf, len, keep_entry, &bi->entries, &cfg);
        }
    if (!buf && is_dir(insp, v, "/boot/loader/entries", false)) {
        read_bls(insp, v, &bi->entries);
        bi->loader = "bls";
        bi->config = "/boot/loader/entries";
    }
    imgp_free(insp->ctx, buf);

    /* which entry is the default */
    char want[IMGP_TEXT_FIELD_MAX];
    snprintf(want, sizeof want, "%s", cfg.default_entry);
    if (!bi->config) {
        /* no generated config: what grub-mkconfig would be told */
        char *dg = read_text(insp, v, "/etc/default/grub", true, INSP_TEXT_MAX, &len);
        if (dg) {
            if (!imgp_text_shell_var(dg, len, "GRUB_DEFAULT", want, sizeof want))
                want[0] = '\0';
            imgp_free(insp->ctx, dg);
        }
    }
    if (strcmp(want, "saved") == 0 || strstr(want, "saved_entry") || strcmp(bi->loader ? bi->loader : "", "bls") == 0 ||
        (cfg.blscfg && !want[0])) {
        want[0] = '\0';
        static const char *const envs[] = {"/boot/grub2/grubenv", "/boot/grub/grubenv"};
        for (size_t i = 0; i < 2 && !want[0]; i++) {
            char *env = read_text(insp, v, envs[i], false, 64 * 1024, &len);
            if (env) {
                if (!imgp_text_plain_var(env, len, "saved_entry", want, sizeof want))
                    want[0] = '\0';
                imgp_free(insp->ctx, env);
            }
        }
    }
    bi->chosen = match_entry(&bi->entries, want);
    if (!bi->chosen && bi->entries.n) {
        bi->default_unmatched = true;
        bi->chosen = &bi->entries.v[0]; /* grub falls back to the first entry */
    }
    bi->default_name = insp_str(insp, want);
}

static const char *linux_boot_root_spec(imgp_inspection *insp, imgp_view *v)
{
    boot_info bi;
    read_boot(insp, v, &bi);
    const char *spec = NULL;
    char root[IMGP_TEXT_FIELD_MAX];
    if (bi.chosen && bi.chosen->cmdline && imgp_text_cmdline_arg(bi.chosen->cmdline, "root", root, sizeof root))
        spec = insp_str(insp, root);
    imgp_free(insp->ctx, bi.entries.v);
    return spec;
}

/* ---- identity ---- */

static void set_identity(imgp_inspection *insp)
{
    imgp_os *os = &insp->info.os;
    imgp_view *v = insp->view;
    size_t len;
    char val[IMGP_TEXT_FIELD_MAX];
    static const char *const os_release[] = {"/etc/os-release", "/usr/lib/os-release"};
    for (size_t i = 0; i < 2 && !os->distro; i++) {
        bool whole;
        char *buf;
        if (insp_read(insp, v, os_release[i], true, 64 * 1024, &buf, &len, &whole) != IMGP_OK) {
            imgp_ctx_clear(insp->ctx);
            continue;
        }
        if (imgp_text_shell_var(buf, len, "ID", val, sizeof val) && val[0]) {
            os->distro = insp_str(insp, val);
            os->identity_source = os_release[i];
            if (imgp_text_shell_var(buf, len, "VERSION_ID", val, sizeof val))
                os->version = insp_str(insp, val);
            if (imgp_text_shell_var(buf, len, "PRETTY_NAME", val, sizeof val))
                os->pretty_name = insp_str(insp, val);
            if (imgp_text_shell_var(buf, len, "ID_LIKE", val, sizeof val))
                os->id_like = insp_str(insp, val);
            /* Fedora CoreOS says ID=fedora, VARIANT_ID=coreos */
            if (imgp_text_shell_var(buf, len, "VARIANT_ID", val, sizeof val) && strcmp(val, "coreos") == 0 &&
                strcmp(os->distro, "fedora") == 0)
                os->distro = "fedora-coreos";
        }
        if (!whole)
            insp_finding(insp, "OsReleaseTooLarge", IMGP_SEVERITY_WARNING, NULL,
                         "%s is larger than 64 KiB: only its start was read", os_release[i]);
        imgp_free(insp->ctx, buf);
    }
    char *buf;
    if (!os->distro && (buf = read_text(insp, v, "/etc/lsb-release", true, 64 * 1024, &len))) {
        if (imgp_text_shell_var(buf, len, "DISTRIB_ID", val, sizeof val) && val[0]) {
            for (char *p = val; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            os->distro = insp_str(insp, val);
            os->identity_source = "/etc/lsb-release";
            if (imgp_text_shell_var(buf, len, "DISTRIB_RELEASE", val, sizeof val))
                os->version = insp_str(insp, val);
            if (imgp_text_shell_var(buf, len, "DISTRIB_DESCRIPTION", val, sizeof val))
                os->pretty_name = insp_str(insp, val);
        }
        imgp_free(insp->ctx, buf);
    }
    static const char *const banners[] = {"/etc/centos-release", "/etc/redhat-release", "/etc/system-release",
                                          "/etc/SuSE-release", "/etc/fedora-release"};
    for (size_t i = 0; i < sizeof banners / sizeof banners[0] && !os->distro; i++) {
        if (!(buf = read_text(insp, v, banners[i], true, 64 * 1024, &len)))
            continue;
        char id[64], ver[64];
        if (imgp_text_release_banner(buf, len, id, sizeof id, ver, sizeof ver)) {
            os->distro = insp_str(insp, id);
            os->version = ver[0] ? insp_str(insp, ver) : NULL;
            os->identity_source = banners[i];
            size_t n = strcspn(buf, "\n");
            buf[n] = '\0';
            os->pretty_name = insp_str(insp, buf);
        }
        imgp_free(insp->ctx, buf);
    }
    if (!os->distro && (buf = read_text(insp, v, "/etc/debian_version", true, 4096, &len))) {
        buf[strcspn(buf, "\n")] = '\0';
        os->distro = "debian";
        os->version = insp_str(insp, buf);
        os->identity_source = "/etc/debian_version";
        imgp_free(insp->ctx, buf);
    }

    /* architecture: the ELF header of the shell, or of another binary every system has */
    static const char *const binaries[] = {"/bin/sh", "/bin/bash", "/usr/bin/bash", "/bin/ls", "/usr/bin/ls",
                                           "/usr/bin/env", "/sbin/init", "/lib/systemd/systemd"};
    for (size_t i = 0; i < sizeof binaries / sizeof binaries[0] && !os->arch; i++) {
        bool whole;
        if (insp_read(insp, v, binaries[i], true, 64, &buf, &len, &whole) != IMGP_OK) {
            imgp_ctx_clear(insp->ctx);
            continue;
        }
        const char *arch;
        unsigned bits;
        if (imgp_text_elf_arch((const uint8_t *)buf, len, &arch, &bits)) {
            os->arch = arch;
            os->bits = bits;
        }
        imgp_free(insp->ctx, buf);
    }

    /* hostname */
    if ((buf = read_text(insp, v, "/etc/hostname", true, 4096, &len)) ||
        (buf = read_text(insp, v, "/etc/HOSTNAME", true, 4096, &len))) {
        char *s = buf + strspn(buf, " \t\r\n");
        s[strcspn(s, " \t\r\n#")] = '\0';
        if (*s)
            os->hostname = insp_str(insp, s);
        imgp_free(insp->ctx, buf);
    }
    if (!os->hostname && (buf = read_text(insp, v, "/etc/sysconfig/network", true, 64 * 1024, &len))) {
        if (imgp_text_shell_var(buf, len, "HOSTNAME", val, sizeof val) && val[0])
            os->hostname = insp_str(insp, val);
        imgp_free(insp->ctx, buf);
    }
}

/* ---- kernels ---- */

typedef struct kernel_scan {
    imgp_inspection *insp;
    const char *dir; /* "/boot" or "/boot/ostree/x" */
    bool prefixed;
} kernel_scan;

static void add_kernel(imgp_inspection *insp, const char *version, const char *path)
{
    if (insp->nkernels >= MAX_KERNELS)
        return;
    for (size_t i = 0; i < insp->nkernels; i++)
        if (strcmp(insp->kernels[i].path, path) == 0)
            return;
    if (!insp_grow(insp, (void **)&insp->kernels, insp->nkernels, sizeof *insp->kernels))
        return;
    imgp_kernel *k = &insp->kernels[insp->nkernels];
    memset(k, 0, sizeof *k);
    k->version = insp_str(insp, version);
    k->path = insp_str(insp, path);
    if (k->version && k->path)
        insp->nkernels++;
}

static int kernel_file(void *arg, const char *name, imgp_ftype type)
{
    kernel_scan *s = arg;
    if (type == IMGP_FT_DIR)
        return 0;
    if ((strncmp(name, "vmlinuz-", 8) == 0 || strncmp(name, "vmlinux-", 8) == 0) && name[8]) {
        size_t n = strlen(name);
        if (n > 5 && strcmp(name + n - 5, ".hmac") == 0)
            return 0;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", s->dir, name);
        add_kernel(s->insp, name + 8, path);
    }
    return 0;
}

static int ostree_boot_dir(void *arg, const char *name, imgp_ftype type)
{
    kernel_scan *s = arg;
    if (type != IMGP_FT_DIR && type != IMGP_FT_UNKNOWN)
        return 0;
    char dir[600];
    snprintf(dir, sizeof dir, "/boot/ostree/%s", name);
    kernel_scan sub = {s->insp, dir, false};
    insp_list_dir(s->insp, s->insp->view, dir, false, kernel_file, &sub);
    return 0;
}

/* /lib/modules/<v>/vmlinuz: kernels shipped inside the modules tree (Fedora, ostree) */
static int modules_kernel(void *arg, const char *name, imgp_ftype type)
{
    kernel_scan *s = arg;
    if (type != IMGP_FT_DIR && type != IMGP_FT_UNKNOWN)
        return 0;
    char path[600];
    snprintf(path, sizeof path, "%s/%s/vmlinuz", s->dir, name);
    if (is_file(s->insp, s->insp->view, path, true))
        add_kernel(s->insp, name, path);
    return 0;
}

/* @p tmpl with "@D" replaced by @p dir and "@V" by @p version. */
static void fill_template(const char *tmpl, const char *dir, const char *version, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *t = tmpl; *t && o + 1 < cap; t++) {
        const char *sub = t[0] == '@' && t[1] == 'D' ? dir : t[0] == '@' && t[1] == 'V' ? version : NULL;
        if (!sub) {
            out[o++] = *t;
            continue;
        }
        t++;
        for (; *sub && o + 1 < cap; sub++)
            out[o++] = *sub;
    }
    out[o] = '\0';
}

/* The first of @p tmpls (see fill_template) that exists as a directory (@p dir) or a file. */
static const char *first_existing(imgp_inspection *insp, bool prefixed, bool dir, const char *const *tmpls,
                                  size_t n, const char *d, const char *version)
{
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        fill_template(tmpls[i], d, version, path, sizeof path);
        if (dir ? is_dir(insp, insp->view, path, prefixed) : is_file(insp, insp->view, path, prefixed))
            return insp_str(insp, path);
    }
    return NULL;
}

typedef struct initramfs_scan {
    imgp_kernel *k;
} initramfs_scan;

static int initramfs_entry(void *arg, const imgp_cpio_entry *e)
{
    initramfs_scan *s = arg;
    const char *slash = memrchr(e->name, '/', e->name_len);
    const char *base = slash ? slash + 1 : e->name;
    size_t blen = e->name_len - (size_t)(base - e->name);
    bool all = true;
    for (size_t i = 0; i < IMGP_VIRTIO_COUNT; i++) {
        imgp_virtio_driver *d = &s->k->virtio[i];
        if (imgp_text_is_module_file(base, blen, d->name))
            d->in_initramfs = true;
        all &= d->in_initramfs || d->builtin;
    }
    /* every driver that is not built in has been found: the rest of the
     * archive (often tens of MiB to inflate) cannot change the answer */
    return all;
}

static void read_initramfs(imgp_inspection *insp, imgp_kernel *k)
{
    imgp_node n;
    imgp_stat st;
    if (!insp_lookup(insp, insp->view, k->initramfs, false, false, &n, &st) || st.type != IMGP_FT_REG)
        return;
    initramfs_scan s = {k};
    imgp_initramfs_info info;
    memset(&info, 0, sizeof info);
    imgp_status r = imgp_initramfs_walk_file(insp->ctx, n.fs, n.ino, initramfs_entry, &s, &info);
    char comp[256] = "";
    size_t o = 0;
    for (unsigned i = 0; i < info.narchives && i < 16; i++)
        insp_appendf(comp, sizeof comp, &o, "%s%s", i ? "+" : "", info.compression[i]);
    if (comp[0])
        k->initramfs_compression = insp_str(insp, comp);
    if (r != IMGP_OK) {
        k->initramfs_error = insp_str(insp, imgp_ctx_message(insp->ctx));
        imgp_ctx_clear(insp->ctx);
    }
}

static const char *const virtio_names[IMGP_VIRTIO_COUNT] = {"virtio_blk", "virtio_scsi", "virtio_net", "virtio_pci"};
static const char *const virtio_configs[IMGP_VIRTIO_COUNT] = {"VIRTIO_BLK", "SCSI_VIRTIO", "VIRTIO_NET", "VIRTIO_PCI"};
/* where the module lives under kernel/ (when modules.dep is absent) */
static const char *const virtio_dirs[IMGP_VIRTIO_COUNT] = {"drivers/block", "drivers/scsi", "drivers/net",
                                                           "drivers/virtio"};

static void kernel_virtio(imgp_inspection *insp, imgp_kernel *k)
{
    for (size_t i = 0; i < IMGP_VIRTIO_COUNT; i++)
        k->virtio[i].name = virtio_names[i];
    size_t len;
    char *buf;
    /* /boot/config-V is on the real root; a modules-tree config in the deployment */
    bool config_prefixed = k->config && strncmp(k->config, "/boot/", 6) != 0;
    if (k->config && (buf = read_text(insp, insp->view, k->config, config_prefixed, 4u << 20, &len))) {
        for (size_t i = 0; i < IMGP_VIRTIO_COUNT; i++) {
            k->virtio[i].config = imgp_text_kconfig(buf, len, virtio_configs[i]);
            k->virtio[i].builtin |= k->virtio[i].config == 'y';
        }
        imgp_free(insp->ctx, buf);
    }
    if (k->modules_dir) {
        char path[1024];
        snprintf(path, sizeof path, "%s/modules.builtin", k->modules_dir);
        if ((buf = read_text(insp, insp->view, path, true, MODULES_LIST_MAX, &len))) {
            for (size_t i = 0; i < IMGP_VIRTIO_COUNT; i++)
                k->virtio[i].builtin |= imgp_text_module_listed(buf, len, virtio_names[i], NULL, 0);
            imgp_free(insp->ctx, buf);
        }
        snprintf(path, sizeof path, "%s/modules.dep", k->modules_dir);
        char *dep = read_text(insp, insp->view, path, true, MODULES_LIST_MAX, &len);
        for (size_t i = 0; i < IMGP_VIRTIO_COUNT; i++) {
            if (k->virtio[i].builtin)
                continue;
            char rel[512];
            if (dep && imgp_text_module_listed(dep, len, virtio_names[i], rel, sizeof rel)) {
                snprintf(path, sizeof path, "%s/%s", k->modules_dir, rel);
                k->virtio[i].module = is_file(insp, insp->view, path, true);
                continue;
            }
            static const char *const suffixes[] = {".ko", ".ko.xz", ".ko.zst", ".ko.gz"};
            for (size_t s = 0; s < 4 && !k->virtio[i].module; s++) {
                snprintf(path, sizeof path, "%s/kernel/%s/%s%s", k->modules_dir, virtio_dirs[i], virtio_names[i],
                         suffixes[s]);
                k->virtio[i].module = is_file(insp, insp->view, path, true);
            }
        }
        imgp_free(insp->ctx, dep);
    }
    bool all_builtin = true;
    for (size_t i = 0; i < IMGP_VIRTIO_COUNT; i++)
        all_builtin &= k->virtio[i].builtin;
    if (k->initramfs && !all_builtin)
        read_initramfs(insp, k);
    const imgp_virtio_driver *d = k->virtio;
#define AT_BOOT(x) (d[x].builtin || d[x].in_initramfs)
    k->virtio_disk_at_boot = (AT_BOOT(IMGP_VIRTIO_BLK) || AT_BOOT(IMGP_VIRTIO_SCSI)) && AT_BOOT(IMGP_VIRTIO_PCI);
#undef AT_BOOT
    k->virtio_net = (d[IMGP_VIRTIO_NET].builtin || d[IMGP_VIRTIO_NET].module || d[IMGP_VIRTIO_NET].in_initramfs) &&
                    (d[IMGP_VIRTIO_PCI].builtin || d[IMGP_VIRTIO_PCI].module || d[IMGP_VIRTIO_PCI].in_initramfs);
}

static int newest_first(const void *a, const void *b)
{
    const imgp_kernel *x = a, *y = b;
    return imgp_text_version_cmp(y->version, x->version);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void find_kernels(imgp_inspection *insp, boot_info *bi)
{
    kernel_scan s = {insp, "/boot", false};
    insp_list_dir(insp, insp->view, "/boot", false, kernel_file, &s);
    insp_list_dir(insp, insp->view, "/boot/ostree", false, ostree_boot_dir, &s);
    if (insp->nkernels == 0) {
        kernel_scan m = {insp, "/usr/lib/modules", true};
        insp_list_dir(insp, insp->view, "/usr/lib/modules", true, modules_kernel, &m);
        if (insp->nkernels == 0) {
            m.dir = "/lib/modules";
            insp_list_dir(insp, insp->view, "/lib/modules", true, modules_kernel, &m);
        }
    }
    if (insp->nkernels > 1)
        qsort(insp->kernels, insp->nkernels, sizeof *insp->kernels, newest_first);

    static const char *const mod_dirs[] = {"/lib/modules/@V", "/usr/lib/modules/@V"};
    static const char *const configs[] = {"/boot/config-@V", "/lib/modules/@V/config", "/usr/lib/modules/@V/config"};
    static const char *const initrds[] = {"@D/initrd.img-@V", "@D/initramfs-@V.img", "@D/initrd-@V", "@D/initrd-@V.img",
                                          "@D/initramfs-@V"};
    for (size_t i = 0; i < insp->nkernels; i++) {
        imgp_kernel *k = &insp->kernels[i];
        k->modules_dir = first_existing(insp, true, true, mod_dirs, 2, "", k->version);
        k->config = first_existing(insp, false, false, configs, 1, "", k->version);
        if (!k->config)
            k->config = first_existing(insp, true, false, configs + 1, 2, "", k->version);
        char dir[600];
        snprintf(dir, sizeof dir, "%.*s", (int)(base_name(k->path) - k->path - 1), k->path);
        if (strstr(k->path, "/modules/"))
            snprintf(dir, sizeof dir, "/boot"); /* a modules-tree kernel's initramfs is in /boot */
        k->initramfs = first_existing(insp, false, false, initrds, sizeof initrds / sizeof initrds[0], dir, k->version);
    }

    /* the default: the boot loader's default entry, else the newest */
    if (bi->chosen && bi->chosen->kernel && bi->chosen->kernel[0]) {
        const char *want = base_name(bi->chosen->kernel);
        for (size_t i = 0; i < insp->nkernels; i++)
            if (strcmp(base_name(insp->kernels[i].path), want) == 0) {
                insp->kernels[i].is_default = true;
                /* the entry's own initrd, when it names one that exists */
                if (bi->chosen->initrd && bi->chosen->initrd[0]) {
                    char path[1024];
                    const char *initrd = bi->chosen->initrd;
                    snprintf(path, sizeof path, "%s%s", strncmp(initrd, "/boot/", 6) == 0 ? "" : "/boot", initrd);
                    if (is_file(insp, insp->view, path, false))
                        insp->kernels[i].initramfs = insp_str(insp, path);
                }
                break;
            }
    } else if (insp->nkernels) {
        insp->kernels[0].is_default = true;
    }
    for (size_t i = 0; i < insp->nkernels; i++)
        kernel_virtio(insp, &insp->kernels[i]);
}

/* ---- cloud-init ---- */

typedef struct unit_scan {
    imgp_inspection *insp;
    bool found;
    char where[640];
} unit_scan;

static int unit_link(void *arg, const char *name, imgp_ftype type)
{
    (void)type;
    unit_scan *s = arg;
    /* sysvinit links: S01cloud-init; OpenRC: cloud-init */
    if (name[0] == 'S' && isdigit((unsigned char)name[1]) && isdigit((unsigned char)name[2]))
        name += 3;
    if (strncmp(name, "cloud-init", 10) == 0 || strncmp(name, "cloud-config", 12) == 0 ||
        strncmp(name, "cloud-final", 11) == 0) {
        s->found = true;
        return 1;
    }
    return 0;
}

typedef struct wants_scan {
    unit_scan *units;
    const char *base;
} wants_scan;

static int wants_dir(void *arg, const char *name, imgp_ftype type)
{
    wants_scan *w = arg;
    size_t n = strlen(name);
    if ((type != IMGP_FT_DIR && type != IMGP_FT_UNKNOWN) || n < 7 || strcmp(name + n - 6, ".wants") != 0)
        return 0;
    char path[600];
    snprintf(path, sizeof path, "%s/%s", w->base, name);
    insp_list_dir(w->units->insp, w->units->insp->view, path, true, unit_link, w->units);
    if (w->units->found) {
        snprintf(w->units->where, sizeof w->units->where, "%s", path);
        return 1;
    }
    return 0;
}

/* dpkg's status file: the cloud-init paragraph, installed, with its version. */
static bool dpkg_cloud_init(const char *buf, size_t len, char *version, size_t cap)
{
    const char *p = buf, *end = buf + len;
    static const char want[] = "Package: cloud-init\n";
    while (p < end) {
        const char *hit = memmem(p, (size_t)(end - p), want, sizeof want - 1);
        if (!hit)
            return false;
        if (hit != buf && hit[-1] != '\n') {
            p = hit + 1;
            continue;
        }
        const char *para_end = memmem(hit, (size_t)(end - hit), "\n\n", 2);
        if (!para_end)
            para_end = end;
        size_t plen = (size_t)(para_end - hit);
        bool installed = memmem(hit, plen, "\nStatus: install ok installed", 29) != NULL;
        const char *ver = memmem(hit, plen, "\nVersion: ", 10);
        if (ver && cap) {
            ver += 10;
            size_t n = 0;
            while (ver + n < para_end && ver[n] != '\n' && n + 1 < cap)
                n++;
            memcpy(version, ver, n);
            version[n] = '\0';
        }
        return installed;
    }
    return false;
}

static void find_cloud_init(imgp_inspection *insp, const char *cmdline)
{
    imgp_cloud_init *ci = &insp->info.cloud_init;
    imgp_view *v = insp->view;
    char evidence[1024] = "";
    size_t o = 0;
#define EVIDENCE(...)                                                                                  \
    do {                                                                                               \
        insp_appendf(evidence, sizeof evidence, &o, "%s", o ? ", " : "");                              \
        insp_appendf(evidence, sizeof evidence, &o, __VA_ARGS__);                                      \
    } while (0)
    static const char *const bins[] = {"/usr/bin/cloud-init", "/usr/local/bin/cloud-init"};
    for (size_t i = 0; i < 2; i++)
        if (is_file(insp, v, bins[i], true)) {
            ci->installed = true;
            EVIDENCE("%s", bins[i]);
            break;
        }
    size_t len;
    char *buf = read_text(insp, v, "/var/lib/dpkg/status", true, DPKG_STATUS_MAX, &len);
    if (buf) {
        char ver[128] = "";
        if (dpkg_cloud_init(buf, len, ver, sizeof ver)) {
            ci->installed = true;
            EVIDENCE("dpkg package %s", ver[0] ? ver : "cloud-init");
        }
        imgp_free(insp->ctx, buf);
    }
    bool cfg = is_file(insp, v, "/etc/cloud/cloud.cfg", true);
    if (cfg)
        EVIDENCE("/etc/cloud/cloud.cfg");

    /* enabled: systemd units linked into a *.wants directory, or sysvinit links */
    unit_scan units = {insp, false, ""};
    static const char *const unit_bases[] = {"/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"};
    for (size_t i = 0; i < 3 && !units.found; i++) {
        wants_scan w = {&units, unit_bases[i]};
        insp_list_dir(insp, v, unit_bases[i], true, wants_dir, &w);
    }
    static const char *const rc_dirs[] = {"/etc/rc2.d", "/etc/rc3.d", "/etc/rc.d/rc3.d", "/etc/runlevels/default",
                                          "/etc/runlevels/boot"};
    for (size_t i = 0; i < sizeof rc_dirs / sizeof rc_dirs[0] && !units.found; i++) {
        insp_list_dir(insp, v, rc_dirs[i], true, unit_link, &units);
        if (units.found)
            snprintf(units.where, sizeof units.where, "%s", rc_dirs[i]);
    }
    if (units.found)
        EVIDENCE("enabled in %s", units.where);
    if (evidence[0])
        ci->evidence = insp_str(insp, evidence);
    if (is_file(insp, v, "/etc/cloud/cloud-init.disabled", true))
        ci->disabled_by = "/etc/cloud/cloud-init.disabled";
    char val[64];
    if (!ci->disabled_by && cmdline && imgp_text_cmdline_arg(cmdline, "cloud-init", val, sizeof val) &&
        strcmp(val, "disabled") == 0)
        ci->disabled_by = "cloud-init=disabled on the kernel command line";
    ci->enabled = ci->installed && units.found && !ci->disabled_by;
#undef EVIDENCE
}

/* ---- findings only Linux can judge ---- */

static bool supported_distro(const char *id)
{
    static const char *const ok[] = {"centos", "ubuntu", "debian", "coreos", "fedora-coreos", "flatcar",
                                     "opensuse", "opensuse-leap", "opensuse-tumbleweed", "sles", "sled", "suse"};
    for (size_t i = 0; id && i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(id, ok[i]) == 0)
            return true;
    return false;
}

static void virtio_findings(imgp_inspection *insp)
{
    const imgp_kernel *k = NULL;
    for (size_t i = 0; i < insp->nkernels; i++)
        if (insp->kernels[i].is_default)
            k = &insp->kernels[i];
    if (!k) {
        insp_finding(insp, IMGP_CODE_VIRTIO_NOT_INSTALL, IMGP_SEVERITY_ERROR,
                     "Install the distribution's kernel package (it carries the virtio drivers) and rebuild the "
                     "initramfs.",
                     "no kernel found in /boot: nothing here can drive a virtio disk");
        return;
    }
    const imgp_virtio_driver *d = k->virtio;
    char missing[512] = "";
    size_t o = 0;
#define MISSING(...) insp_appendf(missing, sizeof missing, &o, __VA_ARGS__)
    bool disk_mod = false; /* a disk driver exists as a module but the initramfs lacks it */
    if (!k->virtio_disk_at_boot) {
        for (int i = IMGP_VIRTIO_BLK; i <= IMGP_VIRTIO_SCSI; i++)
            disk_mod |= d[i].module && !d[i].in_initramfs && !d[i].builtin;
        if (!(d[IMGP_VIRTIO_BLK].builtin || d[IMGP_VIRTIO_BLK].in_initramfs ||
              d[IMGP_VIRTIO_SCSI].builtin || d[IMGP_VIRTIO_SCSI].in_initramfs))
            MISSING("%svirtio_blk/virtio_scsi not built in and not in %s", o ? "; " : "",
                    k->initramfs ? k->initramfs : "an initramfs (none found)");
        if (!(d[IMGP_VIRTIO_PCI].builtin || d[IMGP_VIRTIO_PCI].in_initramfs)) {
            disk_mod |= d[IMGP_VIRTIO_PCI].module;
            MISSING("%svirtio_pci not built in and not in %s", o ? "; " : "",
                    k->initramfs ? k->initramfs : "an initramfs (none found)");
        }
        if (k->initramfs_error)
            MISSING(" (the initramfs could not be read: %s)", k->initramfs_error);
    }
    if (!k->virtio_net)
        MISSING("%svirtio_net %s", o ? "; " : "",
                d[IMGP_VIRTIO_NET].config == 0 && !d[IMGP_VIRTIO_NET].module ? "absent" : "not usable");
#undef MISSING
    if (!o)
        return;
    bool dracut = is_file(insp, insp->view, "/usr/bin/dracut", true) || is_file(insp, insp->view, "/sbin/dracut", true) ||
                  is_file(insp, insp->view, "/usr/sbin/dracut", true);
    const char *advice =
        disk_mod || k->virtio_disk_at_boot
            ? (dracut ? "Add the drivers to the initramfs and rebuild it: `dracut -f --add-drivers \"virtio_blk "
                        "virtio_scsi virtio_net virtio_pci\" /boot/initramfs-<version>.img <version>`."
                      : "List virtio_blk, virtio_scsi, virtio_net and virtio_pci in /etc/initramfs-tools/modules, "
                        "then rebuild the initramfs: `update-initramfs -u -k <version>`.")
            : "Install a kernel that has the virtio drivers (the distribution's stock kernel does), then rebuild "
              "the initramfs with them.";
    insp_finding(insp, IMGP_CODE_VIRTIO_NOT_INSTALL, IMGP_SEVERITY_ERROR, advice, "default kernel %s: %s",
                 k->version, missing);
}

static void cloud_init_findings(imgp_inspection *insp)
{
    const imgp_cloud_init *ci = &insp->info.cloud_init;
    const char *distro = insp->info.os.distro ? insp->info.os.distro : "";
    if (!ci->installed) {
        const char *advice = strstr(distro, "coreos") || strcmp(distro, "flatcar") == 0
                                 ? "Container-optimised systems use Ignition, not cloud-init: the import requires "
                                   "cloud-init; use an image of a distribution that ships it."
                             : strcmp(distro, "debian") == 0 || strcmp(distro, "ubuntu") == 0
                                 ? "Install it in the guest: `apt-get install cloud-init`."
                             : strncmp(distro, "opensuse", 8) == 0 || strncmp(distro, "sle", 3) == 0
                                 ? "Install it in the guest: `zypper install cloud-init`, then "
                                   "`systemctl enable cloud-init`."
                                 : "Install it in the guest: `yum install cloud-init`, then "
                                   "`systemctl enable cloud-init`.";
        insp_finding(insp, IMGP_CODE_CLOUD_INIT_NOT_INSTALLED, IMGP_SEVERITY_ERROR, advice,
                     "cloud-init not found (no /usr/bin/cloud-init, /usr/local/bin/cloud-init or installed package)");
        return;
    }
    if (ci->disabled_by)
        insp_finding(insp, "CloudInitDisabled", IMGP_SEVERITY_WARNING,
                     "Remove /etc/cloud/cloud-init.disabled and cloud-init=disabled from the kernel command line.",
                     "cloud-init is installed but disabled by %s", ci->disabled_by);
    else if (!ci->enabled)
        insp_finding(insp, "CloudInitNotEnabled", IMGP_SEVERITY_WARNING,
                     "Enable it: `systemctl enable cloud-init-local cloud-init cloud-config cloud-final`.",
                     "cloud-init is installed but no systemd unit or init script of it is enabled");
}

static void fstab_findings(imgp_inspection *insp, const char *cmdline)
{
    for (size_t i = 0; i < insp->nfstab; i++) {
        const imgp_fstab_entry *e = &insp->fstab[i];
        if (!e->spec || !e->mountpoint)
            continue;
        bool block = strncmp(e->spec, "/dev/", 5) == 0 || strncmp(e->spec, "UUID=", 5) == 0 ||
                     strncmp(e->spec, "LABEL=", 6) == 0 || strncmp(e->spec, "PARTUUID=", 9) == 0 ||
                     strncmp(e->spec, "PARTLABEL=", 10) == 0;
        if (!block)
            continue;
        if (insp_spec_names_legacy_disk(e->spec))
            insp_finding(insp, "LegacyDeviceName", IMGP_SEVERITY_WARNING,
                         "Name filesystems by UUID= or LABEL= in /etc/fstab: under virtio the disk is /dev/vda.",
                         "/etc/fstab mounts %s at %s by a kernel device name that changes under virtio", e->spec,
                         e->mountpoint);
        if (!e->device && !strstr(e->options ? e->options : "", "nofail"))
            insp_finding(insp, "FstabUnresolved", IMGP_SEVERITY_WARNING,
                         "Remove the entry, add `nofail` to its options, or include the disk it names in the image.",
                         "/etc/fstab entry %s (%s) names nothing on this image: the boot will wait for it",
                         e->spec, e->mountpoint);
    }
    char root[IMGP_TEXT_FIELD_MAX];
    if (cmdline && imgp_text_cmdline_arg(cmdline, "root", root, sizeof root) && insp_spec_names_legacy_disk(root))
        insp_finding(insp, "LegacyDeviceName", IMGP_SEVERITY_WARNING,
                     "Use root=UUID=... on the kernel command line (GRUB_DISABLE_LINUX_UUID unset), then "
                     "regenerate the boot loader's configuration.",
                     "the default boot entry has root=%s, a kernel device name that changes under virtio", root);
}

static imgp_status linux_identify(imgp_inspection *insp)
{
    set_identity(insp);
    boot_info bi;
    read_boot(insp, insp->view, &bi);
    imgp_boot *b = &insp->info.boot;
    b->loader = bi.loader;
    b->config = bi.config;
    if (bi.chosen) {
        b->default_entry = bi.chosen->title && bi.chosen->title[0] ? bi.chosen->title : bi.chosen->id;
        b->cmdline = bi.chosen->cmdline;
    }
    find_kernels(insp, &bi);
    find_cloud_init(insp, b->cmdline);

    imgp_os *os = &insp->info.os;
    if (!supported_distro(os->distro))
        insp_finding(insp, "UnsupportedDistribution", IMGP_SEVERITY_WARNING,
                     "The import supports CentOS, Ubuntu, Debian, CoreOS, openSUSE and SUSE.",
                     "%s%s%s is not among the supported distributions", os->distro ? os->distro : "an unidentified Linux",
                     os->version ? " " : "", os->version ? os->version : "");
    if (bi.chosen && bi.chosen->kernel && bi.chosen->kernel[0]) {
        bool present = false;
        for (size_t i = 0; i < insp->nkernels; i++)
            present |= insp->kernels[i].is_default;
        if (!present)
            insp_finding(insp, "DefaultKernelMissing", IMGP_SEVERITY_WARNING,
                         "Regenerate the boot loader's configuration (grub2-mkconfig / update-grub) so that its "
                         "default entry boots an installed distribution kernel.",
                         "the default boot entry '%s' (%s) boots %s, which is not on the image; the newest kernel "
                         "present was judged instead",
                         b->default_entry ? b->default_entry : "", bi.config ? bi.config : "", bi.chosen->kernel);
        if (!present && insp->nkernels)
            insp->kernels[0].is_default = true;
    }
    if (bi.default_unmatched && bi.default_name && bi.default_name[0])
        insp_finding(insp, "BootDefaultUnmatched", IMGP_SEVERITY_INFO, NULL,
                     "the boot loader's default '%s' names no entry of %s: grub boots the first", bi.default_name,
                     bi.config ? bi.config : "its configuration");
    for (size_t i = 0; i < insp->nkernels; i++)
        if (insp->kernels[i].is_default && !insp->kernels[i].modules_dir)
            insp_finding(insp, "NonDistributionKernel", IMGP_SEVERITY_WARNING,
                         "A stock distribution kernel is recommended.",
                         "the default kernel %s has no /lib/modules/%s: it does not look like a distribution kernel",
                         insp->kernels[i].version, insp->kernels[i].version);
    virtio_findings(insp);
    cloud_init_findings(insp);
    fstab_findings(insp, b->cmdline);
    imgp_free(insp->ctx, bi.entries.v);
    return insp->nomem ? IMGP_ERR_NOMEM : IMGP_OK;
}

const insp_os_module insp_linux = {
    .type = "linux",
    .classify = linux_classify,
    .prefix = linux_prefix,
    .boot_root_spec = linux_boot_root_spec,
    .identify = linux_identify,
};
