/* Parsers of the guest's text files and ELF headers (textparse.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "textparse.h"

/* ---- lines and words ---- */

typedef struct line_reader {
    const char *buf;
    size_t len, pos;
    unsigned number;
    char line[IMGP_TEXT_LINE_MAX];
} line_reader;

/* The next line, NUL-terminated, cut at the first NUL byte or at the
 * buffer's size; a CR before the newline dropped. */
static bool next_line(line_reader *r)
{
    if (r->pos >= r->len)
        return false;
    const char *start = r->buf + r->pos;
    size_t rest = r->len - r->pos;
    const char *nl = memchr(start, '\n', rest);
    size_t n = nl ? (size_t)(nl - start) : rest;
    r->pos += nl ? n + 1 : n;
    r->number++;
    size_t keep = n < sizeof r->line - 1 ? n : sizeof r->line - 1;
    memcpy(r->line, start, keep);
    r->line[keep] = '\0';
    keep = strlen(r->line); /* a NUL in the line ends it */
    if (keep > 0 && r->line[keep - 1] == '\r')
        r->line[keep - 1] = '\0';
    return true;
}

static char *skip_space(char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static void copy_str(char *out, size_t cap, const char *s)
{
    if (cap == 0)
        return;
    size_t n = strlen(s);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

/*
 * One shell word at *p (quotes removed, escapes decoded) into @p out; *p
 * moves past it. Unterminated quotes run to the end of the line.
 */
static void shell_word(char **p, char *out, size_t cap)
{
    char *s = *p;
    size_t n = 0;
    char quote = 0;
    for (; *s; s++) {
        char c = *s;
        if (quote) {
            if (c == quote) {
                quote = 0;
                continue;
            }
            if (quote == '"' && c == '\\' && s[1] && strchr("\"\\$`", s[1]))
                c = *++s;
        } else if (c == '"' || c == '\'') {
            quote = c;
            continue;
        } else if (c == ' ' || c == '\t' || c == '#' || c == ';') {
            break;
        } else if (c == '\\' && s[1]) {
            c = *++s;
        }
        if (n + 1 < cap)
            out[n++] = c;
    }
    if (cap)
        out[n] = '\0';
    *p = s;
}

/* ---- shell-style assignments ---- */

void imgp_text_shell_vars(const char *buf, size_t len, imgp_text_var_fn fn, void *arg)
{
    line_reader r = {.buf = buf, .len = len};
    char value[IMGP_TEXT_LINE_MAX];
    while (next_line(&r)) {
        char *p = skip_space(r.line);
        if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t'))
            p = skip_space(p + 6);
        char *key = p;
        while (isalnum((unsigned char)*p) || *p == '_')
            p++;
        if (p == key || *p != '=')
            continue;
        *p++ = '\0';
        shell_word(&p, value, sizeof value);
        if (fn(arg, key, value))
            return;
    }
}

typedef struct var_query {
    const char *key;
    char *out;
    size_t cap;
    bool found;
} var_query;

static int want_var(void *arg, const char *key, const char *value)
{
    var_query *q = arg;
    if (strcmp(key, q->key) == 0) {
        copy_str(q->out, q->cap, value);
        q->found = true; /* the last assignment wins, as the shell would have it */
    }
    return 0;
}

bool imgp_text_shell_var(const char *buf, size_t len, const char *key, char *out, size_t cap)
{
    var_query q = {key, out, cap, false};
    imgp_text_shell_vars(buf, len, want_var, &q);
    return q.found;
}

bool imgp_text_plain_var(const char *buf, size_t len, const char *key, char *out, size_t cap)
{
    line_reader r = {.buf = buf, .len = len};
    size_t k = strlen(key);
    bool found = false;
    while (next_line(&r))
        if (strncmp(r.line, key, k) == 0 && r.line[k] == '=') {
            copy_str(out, cap, r.line + k + 1);
            found = true;
        }
    return found;
}

/* ---- release banners ---- */

/* The first run of digits and dots after @p from, into @p out. */
static bool version_after(const char *from, char *out, size_t cap)
{
    const char *p = from;
    while (*p && !isdigit((unsigned char)*p))
        p++;
    if (!*p)
        return false;
    size_t n = 0;
    while ((isdigit((unsigned char)*p) || *p == '.') && n + 1 < cap)
        out[n++] = *p++;
    while (n > 0 && out[n - 1] == '.')
        n--;
    out[n] = '\0';
    return n > 0;
}

static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

bool imgp_text_release_banner(const char *buf, size_t len, char *id, size_t id_cap, char *version,
                              size_t version_cap)
{
    line_reader r = {.buf = buf, .len = len};
    if (!next_line(&r))
        return false;
    char first[IMGP_TEXT_LINE_MAX];
    copy_str(first, sizeof first, r.line);

    /* most specific first: "Red Hat Enterprise Linux" before "Linux" */
    static const struct {
        const char *words, *id;
    } known[] = {
        {"CentOS Stream", "centos"},
        {"CentOS", "centos"},
        {"Red Hat Enterprise Linux", "rhel"},
        {"Rocky Linux", "rocky"},
        {"AlmaLinux", "almalinux"},
        {"Oracle Linux", "ol"},
        {"Scientific Linux", "scientific"},
        {"Fedora", "fedora"},
        {"SUSE Linux Enterprise", "sles"},
        {"openSUSE", "opensuse"},
    };
    const char *found = NULL;
    for (size_t i = 0; i < sizeof known / sizeof known[0] && !found; i++)
        if (contains_nocase(first, known[i].words))
            found = known[i].id;
    if (!found)
        return false;
    copy_str(id, id_cap, found);
    if (version_cap)
        version[0] = '\0';

    if (strcmp(found, "sles") == 0 || strcmp(found, "opensuse") == 0) {
        /* SuSE-release: VERSION = 11 and PATCHLEVEL = 4 on the next lines */
        char ver[64] = "", patch[64] = "";
        while (next_line(&r)) {
            char *p = skip_space(r.line);
            char *val = strchr(p, '=');
            if (!val)
                continue;
            val = skip_space(val + 1);
            if (strncmp(p, "VERSION", 7) == 0)
                version_after(val, ver, sizeof ver);
            else if (strncmp(p, "PATCHLEVEL", 10) == 0)
                version_after(val, patch, sizeof patch);
        }
        if (ver[0] && patch[0] && strcmp(patch, "0") != 0)
            snprintf(version, version_cap, "%s.%s", ver, patch);
        else if (ver[0])
            copy_str(version, version_cap, ver);
        else
            version_after(first, version, version_cap);
        return true;
    }
    const char *rel = strstr(first, "release");
    version_after(rel ? rel : first, version, version_cap);
    return true;
}

/* ---- fstab ---- */

/* fstab(5): spaces in fields are written as \040 (octal escapes). */
static void unescape_octal(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
            p[3] <= '7') {
            char c = (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
            if (c) {
                *o++ = c;
                p += 3;
                continue;
            }
        }
        *o++ = *p;
    }
    *o = '\0';
}

void imgp_text_fstab(const char *buf, size_t len, imgp_fstab_fn fn, void *arg)
{
    line_reader r = {.buf = buf, .len = len};
    while (next_line(&r)) {
        char *field[4] = {0};
        char *p = r.line;
        size_t n = 0;
        while (n < 4) {
            p = skip_space(p);
            if (!*p || *p == '#')
                break;
            field[n++] = p;
            while (*p && *p != ' ' && *p != '\t')
                p++;
            if (*p)
                *p++ = '\0';
        }
        if (n < 2)
            continue; /* blank, comment, or not an entry */
        for (size_t i = 0; i < n; i++)
            unescape_octal(field[i]);
        imgp_fstab_line l = {field[0], field[1], n > 2 ? field[2] : "", n > 3 ? field[3] : "", r.number};
        if (fn(arg, &l))
            return;
    }
}

/* ---- kernel configuration and module lists ---- */

char imgp_text_kconfig(const char *buf, size_t len, const char *name)
{
    line_reader r = {.buf = buf, .len = len};
    char want[128];
    int w = snprintf(want, sizeof want, "CONFIG_%s=", name);
    if (w < 0 || (size_t)w >= sizeof want)
        return 0;
    char value = 0;
    while (next_line(&r))
        if (strncmp(r.line, want, (size_t)w) == 0) {
            char c = r.line[w];
            value = (c == 'y' || c == 'm') ? c : 0;
        }
    return value;
}

bool imgp_text_is_module_file(const char *name, size_t name_len, const char *mod)
{
    size_t m = strlen(mod);
    if (name_len < m + 3)
        return false;
    /* module names use '-' and '_' interchangeably */
    for (size_t i = 0; i < m; i++) {
        char a = name[i] == '-' ? '_' : name[i], b = mod[i] == '-' ? '_' : mod[i];
        if (a != b)
            return false;
    }
    static const char *const suffixes[] = {".ko", ".ko.xz", ".ko.zst", ".ko.gz"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t s = strlen(suffixes[i]);
        if (name_len - m == s && memcmp(name + m, suffixes[i], s) == 0)
            return true;
    }
    return false;
}

bool imgp_text_module_listed(const char *buf, size_t len, const char *mod, char *path, size_t path_cap)
{
    line_reader r = {.buf = buf, .len = len};
    while (next_line(&r)) {
        char *end = r.line + strcspn(r.line, ": \t");
        *end = '\0';
        const char *slash = strrchr(r.line, '/');
        const char *base = slash ? slash + 1 : r.line;
        if (imgp_text_is_module_file(base, strlen(base), mod)) {
            if (path)
                copy_str(path, path_cap, r.line);
            return true;
        }
    }
    return false;
}

/* ---- boot loaders ---- */

typedef struct boot_state {
    imgp_boot_entry_fn fn;
    void *arg;
    imgp_boot_config *cfg;
    bool stopped;
    /* the entry being read */
    bool open;
    char title[IMGP_TEXT_FIELD_MAX], id[IMGP_TEXT_FIELD_MAX], number[64];
    char kernel[IMGP_TEXT_FIELD_MAX], cmdline[IMGP_TEXT_LINE_MAX], initrd[IMGP_TEXT_FIELD_MAX];
} boot_state;

static void entry_begin(boot_state *s)
{
    s->open = true;
    s->title[0] = s->id[0] = s->number[0] = s->kernel[0] = s->cmdline[0] = s->initrd[0] = '\0';
}

static void entry_end(boot_state *s)
{
    if (!s->open)
        return;
    s->open = false;
    if (s->stopped)
        return;
    s->cfg->entries++;
    imgp_boot_entry e = {s->title, s->id, s->number, s->kernel, s->cmdline, s->initrd};
    if (s->fn(s->arg, &e))
        s->stopped = true;
}

/* `linux /vmlinuz-x root=... ro`: the path, then the rest as the command line. */
static void take_kernel_line(boot_state *s, char *rest)
{
    rest = skip_space(rest);
    shell_word(&rest, s->kernel, sizeof s->kernel);
    copy_str(s->cmdline, sizeof s->cmdline, skip_space(rest));
}

static bool keyword(char **p, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(*p, word, n) != 0 || ((*p)[n] != ' ' && (*p)[n] != '\t' && (*p)[n] != '\0'))
        return false;
    *p += n;
    return true;
}

#define GRUB_MAX_DEPTH 8 /* submenus nest; anything deeper is not a real config */

void imgp_text_grub2(const char *buf, size_t len, imgp_boot_entry_fn fn, void *arg, imgp_boot_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    boot_state state = {.fn = fn, .arg = arg, .cfg = cfg}, *st = &state;
    line_reader reader = {.buf = buf, .len = len}, *r = &reader;
    /* counters[d]: entries seen at depth d; kinds[d]: what the brace at depth d opened */
    unsigned counters[GRUB_MAX_DEPTH + 1] = {0};
    char kinds[GRUB_MAX_DEPTH + 1] = {0}; /* 'm' menuentry, 's' submenu, 'o' other block */
    unsigned depth = 0, menu_depth = 0;   /* menu_depth: submenus we are inside */
    unsigned path[GRUB_MAX_DEPTH + 1] = {0};
    char word[IMGP_TEXT_FIELD_MAX];
    while (!st->stopped && next_line(r)) {
        char *p = skip_space(r->line);
        if (*p == '#' || !*p)
            continue;
        bool is_menu = keyword(&p, "menuentry"), is_sub = !is_menu && keyword(&p, "submenu");
        if (is_menu || is_sub) {
            if (depth >= GRUB_MAX_DEPTH)
                break;
            p = skip_space(p);
            char title[IMGP_TEXT_FIELD_MAX];
            shell_word(&p, title, sizeof title);
            char id[IMGP_TEXT_FIELD_MAX] = "";
            /* --id X, or $menuentry_id_option 'X' */
            while (*(p = skip_space(p)) && *p != '{') {
                shell_word(&p, word, sizeof word);
                if (!*word && *p && *p != '{')
                    p++; /* a lone ';' or '#': move on */
                if (strcmp(word, "--id") == 0 || strcmp(word, "$menuentry_id_option") == 0 ||
                    strcmp(word, "${menuentry_id_option}") == 0) {
                    p = skip_space(p);
                    shell_word(&p, id, sizeof id);
                }
            }
            path[menu_depth] = counters[menu_depth]++;
            if (is_menu) {
                entry_end(st);
                entry_begin(st);
                copy_str(st->title, sizeof st->title, title);
                copy_str(st->id, sizeof st->id, id);
                size_t o = 0;
                for (unsigned i = 0; i <= menu_depth && o < sizeof st->number; i++) {
                    int w = snprintf(st->number + o, sizeof st->number - o, i ? ">%u" : "%u", path[i]);
                    if (w < 0)
                        break;
                    o += (size_t)w;
                }
                kinds[++depth] = 'm';
            } else {
                kinds[++depth] = 's';
                menu_depth++;
                counters[menu_depth] = 0;
            }
            continue; /* the block counts as opened even when its brace is on the next line */
        }
        if (*p == '}') {
            if (depth > 0) {
                if (kinds[depth] == 'm')
                    entry_end(st);
                else if (kinds[depth] == 's' && menu_depth > 0)
                    menu_depth--;
                depth--;
            }
            continue;
        }
        if (keyword(&p, "set")) {
            p = skip_space(p);
            if (strncmp(p, "default=", 8) == 0 && depth == 0) {
                p += 8;
                shell_word(&p, cfg->default_entry, sizeof cfg->default_entry);
            }
            continue;
        }
        if (keyword(&p, "blscfg")) {
            cfg->blscfg = true;
            continue;
        }
        if (st->open && (keyword(&p, "linux") || keyword(&p, "linux16") || keyword(&p, "linuxefi") ||
                         keyword(&p, "multiboot2") || keyword(&p, "multiboot"))) {
            if (!st->kernel[0])
                take_kernel_line(st, p);
            continue;
        }
        if (st->open && (keyword(&p, "initrd") || keyword(&p, "initrd16") || keyword(&p, "initrdefi"))) {
            p = skip_space(p);
            if (!st->initrd[0])
                shell_word(&p, st->initrd, sizeof st->initrd);
            continue;
        }
        /* other blocks (if/function) open and close braces too */
        size_t l = strlen(p);
        if (l > 0 && p[l - 1] == '{' && depth < GRUB_MAX_DEPTH)
            kinds[++depth] = 'o';
    }
    entry_end(st);
}

void imgp_text_grub_legacy(const char *buf, size_t len, imgp_boot_entry_fn fn, void *arg, imgp_boot_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    boot_state state = {.fn = fn, .arg = arg, .cfg = cfg}, *st = &state;
    line_reader reader = {.buf = buf, .len = len}, *r = &reader;
    unsigned n = 0;
    while (!st->stopped && next_line(r)) {
        char *p = skip_space(r->line);
        if (*p == '#')
            continue;
        if (keyword(&p, "default") || (strncmp(p, "default=", 8) == 0 && (p += 7))) {
            p = skip_space(p);
            if (*p == '=')
                p = skip_space(p + 1);
            shell_word(&p, cfg->default_entry, sizeof cfg->default_entry);
        } else if (keyword(&p, "title")) {
            entry_end(st);
            entry_begin(st);
            copy_str(st->title, sizeof st->title, skip_space(p));
            snprintf(st->number, sizeof st->number, "%u", n++);
        } else if (st->open && keyword(&p, "kernel")) {
            take_kernel_line(st, p);
        } else if (st->open && keyword(&p, "initrd")) {
            p = skip_space(p);
            shell_word(&p, st->initrd, sizeof st->initrd);
        }
    }
    entry_end(st);
}

void imgp_text_bls(const char *buf, size_t len, const char *id, imgp_boot_entry_fn fn, void *arg)
{
    imgp_boot_config cfg = {0};
    boot_state state = {.fn = fn, .arg = arg, .cfg = &cfg}, *st = &state;
    line_reader reader = {.buf = buf, .len = len}, *r = &reader;
    entry_begin(st);
    copy_str(st->id, sizeof st->id, id);
    while (next_line(r)) {
        char *p = skip_space(r->line);
        if (keyword(&p, "title"))
            copy_str(st->title, sizeof st->title, skip_space(p));
        else if (keyword(&p, "linux"))
            copy_str(st->kernel, sizeof st->kernel, skip_space(p));
        else if (keyword(&p, "options"))
            copy_str(st->cmdline, sizeof st->cmdline, skip_space(p));
        else if (keyword(&p, "initrd") && !st->initrd[0])
            copy_str(st->initrd, sizeof st->initrd, skip_space(p));
    }
    entry_end(st);
}

bool imgp_text_cmdline_arg(const char *cmdline, const char *key, char *out, size_t cap)
{
    size_t k = strlen(key);
    bool found = false;
    char word[IMGP_TEXT_FIELD_MAX], copy[IMGP_TEXT_LINE_MAX];
    copy_str(copy, sizeof copy, cmdline);
    char *p = copy;
    while (*(p = skip_space(p))) {
        char *before = p;
        shell_word(&p, word, sizeof word);
        if (p == before)
            p++; /* '#' or ';' */
        if (strncmp(word, key, k) == 0 && word[k] == '=') {
            copy_str(out, cap, word + k + 1);
            found = true;
        }
    }
    return found;
}

/* ---- ELF ---- */

bool imgp_text_elf_arch(const uint8_t *buf, size_t len, const char **arch, unsigned *bits)
{
    /* ELF header: e_ident[16] (class at 4, data at 5), e_type (2), e_machine (2) at 18 */
    if (len < 20 || memcmp(buf, "\x7f" "ELF", 4) != 0)
        return false;
    unsigned cls = buf[4], data = buf[5];
    if ((cls != 1 && cls != 2) || (data != 1 && data != 2))
        return false;
    unsigned machine = data == 1 ? (unsigned)(buf[18] | buf[19] << 8) : (unsigned)(buf[18] << 8 | buf[19]);
    *bits = cls == 1 ? 32 : 64;
    switch (machine) {
    case 3: *arch = "i386"; break;
    case 62: *arch = "x86_64"; break;
    case 183: *arch = "aarch64"; break;
    case 40: *arch = "armv7l"; break;
    case 21: *arch = data == 1 ? "ppc64le" : "ppc64"; break;
    case 20: *arch = "ppc"; break;
    case 22: *arch = "s390x"; break;
    case 243: *arch = cls == 2 ? "riscv64" : "riscv32"; break;
    case 8: *arch = cls == 2 ? "mips64" : "mips"; break;
    case 258: *arch = "loongarch64"; break;
    default: *arch = "unknown"; break;
    }
    return true;
}

/* ---- versions ---- */

int imgp_text_version_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            size_t la = 0, lb = 0;
            while (isdigit((unsigned char)a[la]))
                la++;
            while (isdigit((unsigned char)b[lb]))
                lb++;
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c)
                return c < 0 ? -1 : 1;
            a += la;
            b += lb;
        } else {
            if (*a != *b)
                return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}
