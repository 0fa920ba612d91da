/*
 * The VMDK text descriptor ("Virtual Disk Format 5.0", "The Descriptor
 * File"): a buffer in, a struct out, no I/O.
 *
 * Grammar, one statement a line (LF or CRLF):
 *   # comment
 *   key = value            key = "value"
 *   ACCESS SECTORS TYPE ["FILENAME" [OFFSET]]     (the extent descriptions)
 * ACCESS is RW, RDONLY or NOACCESS; TYPE one of vmdk_extent_type; OFFSET
 * (sectors) only for FLAT and VMFS, 0 when absent; ZERO needs no file name.
 *
 * Stricter than VMware's own reader on purpose: any line that is neither of
 * these, a control byte, a key we interpret given twice or an unterminated
 * quote is an error, since a descriptor that says two things cannot be read
 * one way with confidence. Unknown keys are ignored.
 */
#include <strings.h>

#include "vmdk.h"
#include "../core/cursor.h"

typedef struct text {
    const char *p;
    size_t n;
} text;

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static text trim(text t)
{
    while (t.n && is_blank(t.p[0])) {
        t.p++;
        t.n--;
    }
    while (t.n && is_blank(t.p[t.n - 1]))
        t.n--;
    return t;
}

static bool text_is(text t, const char *s) { return strlen(s) == t.n && strncmp(t.p, s, t.n) == 0; }
static bool text_is_nocase(text t, const char *s) { return strlen(s) == t.n && strncasecmp(t.p, s, t.n) == 0; }

/* Split off the leading word of @p t (up to a blank), leaving the rest in *rest. */
static text word(text t, text *rest)
{
    size_t i = 0;
    while (i < t.n && !is_blank(t.p[i]))
        i++;
    *rest = trim((text){t.p + i, t.n - i});
    return (text){t.p, i};
}

/* A decimal number made of all of @p t. @return false when empty, not digits, or above UINT64_MAX. */
static bool parse_dec(text t, uint64_t *out)
{
    uint64_t v = 0;
    if (t.n == 0)
        return false;
    for (size_t i = 0; i < t.n; i++) {
        if (t.p[i] < '0' || t.p[i] > '9')
            return false;
        unsigned d = (unsigned)(t.p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* A 32-bit hex number made of all of @p t (CID values: "fffffffe"). */
static bool parse_hex32(text t, uint32_t *out)
{
    uint32_t v = 0;
    if (t.n == 0 || t.n > 8)
        return false;
    for (size_t i = 0; i < t.n; i++) {
        char c = t.p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

static const struct {
    const char *name;
    vmdk_extent_type type;
} extent_types[] = {
    {"SPARSE", VMDK_EXTENT_SPARSE},   {"FLAT", VMDK_EXTENT_FLAT},
    {"ZERO", VMDK_EXTENT_ZERO},       {"VMFS", VMDK_EXTENT_VMFS},
    {"VMFSSPARSE", VMDK_EXTENT_VMFSSPARSE}, {"SESPARSE", VMDK_EXTENT_SESPARSE},
    {"VMFSRDM", VMDK_EXTENT_VMFSRDM}, {"VMFSRAW", VMDK_EXTENT_VMFSRAW},
};

const char *vmdk_extent_type_name(vmdk_extent_type type)
{
    for (size_t i = 0; i < sizeof extent_types / sizeof extent_types[0]; i++)
        if (extent_types[i].type == type)
            return extent_types[i].name;
    return "?";
}

static bool access_of(text t, vmdk_access *out)
{
    if (text_is(t, "RW"))
        *out = VMDK_ACCESS_RW;
    else if (text_is(t, "RDONLY"))
        *out = VMDK_ACCESS_RDONLY;
    else if (text_is(t, "NOACCESS"))
        *out = VMDK_ACCESS_NOACCESS;
    else
        return false;
    return true;
}

typedef struct parser {
    imgp_ctx *ctx;
    const char *label;
    unsigned line;
    text whole; /* the current line, for messages */
    vmdk_descriptor *d;
    size_t extents_cap;
    uint64_t max_extents;
    char *ddb_encoding; /* stands in for a missing top-level encoding */
} parser;

/* Record a CORRUPT error about the current line, quoting (the start of) it. */
#define LINE_ERROR(ps, st, fmt, ...)                                                                        \
    imgp_error((ps)->ctx, (st), "%s line %u: " fmt " in '%.*s%s'", (ps)->label, (ps)->line, __VA_ARGS__,     \
               (int)((ps)->whole.n > 60 ? 60 : (ps)->whole.n), (ps)->whole.p, (ps)->whole.n > 60 ? "..." : "")

static imgp_status parse_extent(parser *ps, vmdk_access access, text rest)
{
    vmdk_descriptor *d = ps->d;
    if (d->nextents >= ps->max_extents)
        return imgp_error(ps->ctx, IMGP_ERR_LIMIT, "%s line %u: more than %llu extents (the extents limit)",
                          ps->label, ps->line, (unsigned long long)ps->max_extents);

    uint64_t sectors, offset = 0;
    text t = word(rest, &rest);
    if (!parse_dec(t, &sectors))
        return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "sector count '%.*s' is not a number below 2^64", (int)t.n, t.p);
    if (sectors == 0)
        return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "%s", "extent of 0 sectors");
    if (sectors > UINT64_MAX >> VMDK_SECTOR_SHIFT)
        return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "%llu sectors overflow a 64-bit byte count",
                          (unsigned long long)sectors);
    uint64_t total;
    if (imgp_add_overflow(d->total_sectors, sectors, &total) || total > UINT64_MAX >> VMDK_SECTOR_SHIFT)
        return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "%s", "extents add up to more than 2^64 bytes");

    t = word(rest, &rest);
    size_t ti = 0, ntypes = sizeof extent_types / sizeof extent_types[0];
    while (ti < ntypes && !text_is(t, extent_types[ti].name))
        ti++;
    if (ti == ntypes)
        return LINE_ERROR(ps, IMGP_ERR_UNSUPPORTED, "unknown extent type '%.*s'", (int)t.n, t.p);
    vmdk_extent_type type = extent_types[ti].type;

    text name = {NULL, 0};
    if (rest.n && rest.p[0] == '"') {
        const char *close = memchr(rest.p + 1, '"', rest.n - 1);
        if (!close)
            return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "%s", "unterminated quote");
        name = (text){rest.p + 1, (size_t)(close - rest.p - 1)};
        rest = trim((text){close + 1, rest.n - (size_t)(close + 1 - rest.p)});
        if (name.n == 0)
            return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "%s", "empty extent file name");
    } else if (type != VMDK_EXTENT_ZERO) {
        return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "%s extent without a quoted file name",
                          vmdk_extent_type_name(type));
    }
    if (rest.n) {
        t = word(rest, &rest);
        if (type != VMDK_EXTENT_FLAT && type != VMDK_EXTENT_VMFS)
            return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "unexpected '%.*s' after a %s extent", (int)t.n, t.p,
                              vmdk_extent_type_name(type));
        if (!parse_dec(t, &offset) || offset > UINT64_MAX >> VMDK_SECTOR_SHIFT ||
            sectors > (UINT64_MAX >> VMDK_SECTOR_SHIFT) - offset)
            return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "offset '%.*s' is not a sector number that fits",
                              (int)t.n, t.p);
        if (rest.n)
            return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "unexpected '%.*s' after the offset", (int)rest.n, rest.p);
    }

    if (d->nextents == ps->extents_cap) {
        size_t cap = ps->extents_cap ? ps->extents_cap * 2 : 4;
        vmdk_desc_extent *e = imgp_realloc(ps->ctx, d->extents, cap * sizeof *e);
        if (!e)
            return IMGP_ERR_NOMEM;
        d->extents = e;
        ps->extents_cap = cap;
    }
    vmdk_desc_extent *e = &d->extents[d->nextents];
    *e = (vmdk_desc_extent){access, type, sectors, offset, NULL, ps->line};
    if (name.p && !(e->filename = imgp_strndup(ps->ctx, name.p, name.n)))
        return IMGP_ERR_NOMEM;
    d->nextents++;
    d->total_sectors = total;
    return IMGP_OK;
}

/* Keep @p value in *slot (a key we interpret), refusing a second one. */
static imgp_status keep_string(parser *ps, text key, text value, char **slot)
{
    if (*slot)
        return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "'%.*s' given a second time", (int)key.n, key.p);
    *slot = imgp_strndup(ps->ctx, value.p, value.n);
    return *slot ? IMGP_OK : IMGP_ERR_NOMEM;
}

static imgp_status keep_cid(parser *ps, text key, text value, bool *has, uint32_t *slot)
{
    if (*has)
        return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "'%.*s' given a second time", (int)key.n, key.p);
    if (!parse_hex32(value, slot))
        return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "'%.*s' is not a 32-bit hex number", (int)value.n, value.p);
    *has = true;
    return IMGP_OK;
}

static imgp_status parse_setting(parser *ps, text line)
{
    vmdk_descriptor *d = ps->d;
    const char *eq = memchr(line.p, '=', line.n);
    if (!eq)
        return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "%s", "neither 'key = value' nor an extent description");
    text key = trim((text){line.p, (size_t)(eq - line.p)});
    text value = trim((text){eq + 1, line.n - (size_t)(eq + 1 - line.p)});
    if (key.n == 0 || memchr(key.p, '"', key.n) || memchr(key.p, ' ', key.n) || memchr(key.p, '\t', key.n))
        return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "bad key '%.*s'", (int)key.n, key.p);
    if (value.n && value.p[0] == '"') {
        const char *close = memchr(value.p + 1, '"', value.n - 1);
        if (!close)
            return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "%s", "unterminated quote");
        if (close != value.p + value.n - 1)
            return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "%s", "text after the closing quote");
        value = (text){value.p + 1, value.n - 2};
    } else if (memchr(value.p, '"', value.n)) {
        return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "%s", "stray quote in an unquoted value");
    }

    if (text_is_nocase(key, "version")) {
        uint64_t v;
        if (d->has_version)
            return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "%s", "'version' given a second time");
        if (!parse_dec(value, &v) || v > UINT32_MAX)
            return LINE_ERROR(ps, IMGP_ERR_CORRUPT, "version '%.*s' is not a number", (int)value.n, value.p);
        d->version = (uint32_t)v;
        d->has_version = true;
        return IMGP_OK;
    }
    if (text_is_nocase(key, "CID"))
        return keep_cid(ps, key, value, &d->has_cid, &d->cid);
    if (text_is_nocase(key, "parentCID"))
        return keep_cid(ps, key, value, &d->has_parent_cid, &d->parent_cid);
    if (text_is_nocase(key, "createType"))
        return keep_string(ps, key, value, &d->create_type);
    if (text_is_nocase(key, "parentFileNameHint"))
        return keep_string(ps, key, value, &d->parent_hint);
    if (text_is_nocase(key, "encoding"))
        return keep_string(ps, key, value, &d->encoding);
    if (text_is_nocase(key, "ddb.encoding"))
        return keep_string(ps, key, value, &ps->ddb_encoding);
    if (text_is_nocase(key, "ddb.adapterType"))
        return keep_string(ps, key, value, &d->adapter_type);
    if (text_is_nocase(key, "ddb.virtualHWVersion"))
        return keep_string(ps, key, value, &d->hw_version);
    if (text_is_nocase(key, "ddb.uuid"))
        return keep_string(ps, key, value, &d->uuid);
    return IMGP_OK;
}

static imgp_status parse_line(parser *ps, text line)
{
    line = trim(line);
    if (line.n == 0 || line.p[0] == '#')
        return IMGP_OK;
    text rest, first = word(line, &rest);
    vmdk_access access;
    if (access_of(first, &access))
        return parse_extent(ps, access, rest);
    return parse_setting(ps, line);
}

/* Find where the text ends: at the first NUL, when only NUL padding follows. */
static imgp_status text_length(imgp_ctx *ctx, const char *label, const char *p, size_t len, size_t *out)
{
    const char *nul = memchr(p, '\0', len);
    if (!nul) {
        *out = len;
        return IMGP_OK;
    }
    size_t n = (size_t)(nul - p);
    for (size_t i = n; i < len; i++)
        if (p[i] != '\0')
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "%s: NUL byte at offset %zu inside the text", label, n);
    *out = n;
    return IMGP_OK;
}

imgp_status vmdk_desc_parse(imgp_ctx *ctx, const char *label, const uint8_t *buf, size_t len, vmdk_descriptor *out)
{
    memset(out, 0, sizeof *out);
    uint64_t max_bytes = imgp_ctx_limit(ctx, IMGP_LIMIT_DESCRIPTOR_BYTES);
    if (len > max_bytes)
        return imgp_error(ctx, IMGP_ERR_LIMIT, "%s: %zu bytes exceed the descriptor limit (%llu bytes)", label,
                          len, (unsigned long long)max_bytes);
    /* the cursor hands out the bounded text; the line scanner below stays inside [0, n) */
    imgp_cursor cur = imgp_cur_init(buf, len);
    const char *p = len ? (const char *)imgp_cur_ptr_at(&cur, 0, len) : "";
    if (!p)
        return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "%s: no buffer", label);
    size_t n = 0;
    imgp_status st = text_length(ctx, label, p, len, &n);
    if (st != IMGP_OK)
        return st;
    if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) { /* a UTF-8 byte order mark from a Windows editor */
        p += 3;
        n -= 3;
    }

    parser ps = {ctx, label, 0, {NULL, 0}, out, 0, imgp_ctx_limit(ctx, IMGP_LIMIT_EXTENTS), NULL};
    size_t pos = 0;
    while (pos < n && st == IMGP_OK) {
        const char *nl = memchr(p + pos, '\n', n - pos);
        size_t end = nl ? (size_t)(nl - p) : n;
        text line = {p + pos, end - pos};
        if (line.n && line.p[line.n - 1] == '\r')
            line.n--;
        ps.line++;
        ps.whole = line;
        for (size_t i = 0; i < line.n; i++) {
            unsigned char c = (unsigned char)line.p[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                st = imgp_error(ctx, IMGP_ERR_CORRUPT, "%s line %u: control byte 0x%02x at column %zu", label,
                                ps.line, c, i + 1);
                break;
            }
        }
        if (st == IMGP_OK)
            st = parse_line(&ps, line);
        pos = end + 1;
    }
    if (st == IMGP_OK && !out->encoding) { /* the top-level key wins; both say the same in practice */
        out->encoding = ps.ddb_encoding;
        ps.ddb_encoding = NULL;
    }
    imgp_free(ctx, ps.ddb_encoding);
    if (st != IMGP_OK)
        vmdk_desc_free(ctx, out);
    return st;
}

void vmdk_desc_free(imgp_ctx *ctx, vmdk_descriptor *d)
{
    for (size_t i = 0; i < d->nextents; i++)
        imgp_free(ctx, d->extents[i].filename);
    imgp_free(ctx, d->extents);
    imgp_free(ctx, d->create_type);
    imgp_free(ctx, d->parent_hint);
    imgp_free(ctx, d->encoding);
    imgp_free(ctx, d->adapter_type);
    imgp_free(ctx, d->hw_version);
    imgp_free(ctx, d->uuid);
    memset(d, 0, sizeof *d);
}
