/*
 * LVM2 text metadata: lvm2's config syntax (libdm/libdm-config.c) parsed into
 * a tree. Pure: a buffer in, a tree out, no I/O.
 *
 *   file     := member*
 *   member   := key '{' member* '}' | key '=' value
 *   key      := identifier | "string" | 'string'
 *   value    := scalar | '[' (scalar ','?)* ']'
 *   scalar   := "string" | 'string' | integer | float | bare-word
 *
 * "..." strings take two escapes, \" and \\ (dm_unescape_double_quotes); any
 * other backslash is kept. '...' strings take none. '#' starts a comment that
 * runs to the end of the line. Integers are [+-]digits, read as strtoll(...,
 * 0) reads them (a leading 0 means octal); a number with one '.' is a float.
 * The same key may appear twice; lvm_meta_get() returns the first.
 *
 * The tree lives in an arena freed at once, so a deep or wide tree costs no
 * recursion to free; depth and node count are bounded (lvm.h).
 */
#include <stdalign.h>

#include "lvm.h"

#define ARENA_BLOCK (64u * 1024)

typedef struct arena_block arena_block;
struct arena_block {
    arena_block *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

struct lvm_meta {
    imgp_ctx *ctx;
    arena_block *blocks;
    lvm_meta_node root;
    size_t nodes;
};

typedef struct parser {
    imgp_ctx *ctx;
    lvm_meta *m;
    const char *p, *end;
    unsigned line;
} parser;

static void *arena_alloc(lvm_meta *m, size_t size)
{
    size = (size + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    arena_block *b = m->blocks;
    if (!b || size > b->cap - b->used) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        b = imgp_alloc(m->ctx, sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        /* A block made for one big string goes behind the current one, which may still have room. */
        if (m->blocks && cap > ARENA_BLOCK) {
            b->next = m->blocks->next;
            m->blocks->next = b;
        } else {
            b->next = m->blocks;
            m->blocks = b;
        }
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

void lvm_meta_free(lvm_meta *m)
{
    if (!m)
        return;
    for (arena_block *b = m->blocks, *next; b; b = next) {
        next = b->next;
        imgp_free(m->ctx, b);
    }
    imgp_free(m->ctx, m);
}

const lvm_meta_node *lvm_meta_root(const lvm_meta *m) { return &m->root; }

size_t lvm_meta_node_count(const lvm_meta *m) { return m->nodes; }

const lvm_meta_node *lvm_meta_get(const lvm_meta_node *section, const char *key)
{
    if (!section || (section->kind != LVM_META_SECTION))
        return NULL;
    for (const lvm_meta_node *n = section->child; n; n = n->next)
        if (strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

/* isspace() in the C locale, whatever the process's locale is. */
static bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static imgp_status syntax(parser *ps, const char *what)
{
    return imgp_error(ps->ctx, IMGP_ERR_CORRUPT, "lvm2 metadata: line %u: %s", ps->line, what);
}

/* Skip white space and comments, counting lines. */
static void skip_blank(parser *ps)
{
    while (ps->p < ps->end) {
        char c = *ps->p;
        if (c == '#') {
            while (ps->p < ps->end && *ps->p != '\n')
                ps->p++;
        } else if (is_space(c)) {
            if (c == '\n')
                ps->line++;
            ps->p++;
        } else {
            break;
        }
    }
}

static imgp_status new_node(parser *ps, const char *key, lvm_meta_kind kind, unsigned line, lvm_meta_node **out)
{
    if (ps->m->nodes >= LVM_META_MAX_NODES)
        return imgp_error(ps->ctx, IMGP_ERR_LIMIT, "lvm2 metadata: line %u: more than %u nodes", line,
                          LVM_META_MAX_NODES);
    lvm_meta_node *n = arena_alloc(ps->m, sizeof *n);
    if (!n)
        return IMGP_ERR_NOMEM;
    *n = (lvm_meta_node){.key = key, .kind = kind, .line = line};
    ps->m->nodes++;
    *out = n;
    return IMGP_OK;
}

/* Copy [b, e) into the arena, undoing \" and \\ when @p escaped. */
static imgp_status keep_text(parser *ps, const char *b, const char *e, bool escaped, const char **out,
                             size_t *out_len)
{
    size_t n = (size_t)(e - b);
    char *s = arena_alloc(ps->m, n + 1);
    if (!s)
        return IMGP_ERR_NOMEM;
    size_t j = 0;
    for (const char *q = b; q < e; q++) {
        if (escaped && *q == '\\' && q + 1 < e && (q[1] == '"' || q[1] == '\\'))
            q++;
        s[j++] = *q;
    }
    s[j] = '\0';
    *out = s;
    if (out_len)
        *out_len = j;
    return IMGP_OK;
}

/* A quoted string at ps->p (on its opening quote). */
static imgp_status quoted(parser *ps, const char **out, size_t *out_len)
{
    char quote = *ps->p;
    unsigned line = ps->line;
    const char *b = ++ps->p;
    while (ps->p < ps->end && *ps->p != quote) {
        /* the tokenizer steps over whatever follows a backslash (libdm-config.c _get_token) */
        if (quote == '"' && *ps->p == '\\' && ps->p + 1 < ps->end)
            ps->p++;
        if (*ps->p == '\n')
            ps->line++;
        ps->p++;
    }
    if (ps->p == ps->end) {
        ps->line = line;
        return syntax(ps, "unterminated string");
    }
    const char *e = ps->p++;
    return keep_text(ps, b, e, quote == '"', out, out_len);
}

/* Characters that end an identifier or a bare word (libdm-config.c _get_token, default case). */
static bool ends_word(char c) { return is_space(c) || c == '#' || c == '=' || c == '{' || c == '}'; }

static imgp_status key(parser *ps, const char **out)
{
    char c = *ps->p;
    if (c == '"' || c == '\'') {
        imgp_status st = quoted(ps, out, NULL);
        if (st == IMGP_OK && !**out)
            return syntax(ps, "empty name");
        return st;
    }
    if (c == '=' || c == '[' || c == ']' || c == ',' || c == '{')
        return syntax(ps, "expected a name");
    const char *b = ps->p;
    while (ps->p < ps->end && !ends_word(*ps->p))
        ps->p++;
    return keep_text(ps, b, ps->p, false, out, NULL);
}

/* strtoll(s, &end, 0) over [b, e) with the sign already taken: a leading 0 means octal. */
static imgp_status integer(parser *ps, const char *b, const char *e, bool negative, const char *key_name,
                           int64_t *out)
{
    unsigned base = (e - b > 1 && *b == '0') ? 8 : 10;
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
    for (const char *q = b; q < e; q++) {
        unsigned d = (unsigned)(*q - '0');
        if (d >= base)
            return syntax(ps, "malformed integer");
        if (v > (limit - d) / base) {
            /* lvm2 builds before 2.02.169 could write a creation_time that does
             * not fit; lvm2 reads past it (libdm-config.c _type), and so do we. */
            if (key_name && strcmp(key_name, "creation_time") == 0) {
                *out = 0;
                return IMGP_OK;
            }
            return syntax(ps, "integer out of range");
        }
        v = v * base + d;
    }
    *out = negative ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return IMGP_OK;
}

/* A number at ps->p: [+-]digits, or digits with one '.' (a float). */
static imgp_status number(parser *ps, const char *key_name, lvm_meta_node *n)
{
    const char *b = ps->p, *digits = b;
    bool negative = false, dot = false;
    if (*digits == '+' || *digits == '-') {
        negative = *digits == '-';
        digits++;
    }
    const char *q = digits;
    size_t ndigits = 0;
    for (; q < ps->end; q++) {
        if (*q == '.' && !dot)
            dot = true;
        else if (is_digit(*q))
            ndigits++;
        else
            break;
    }
    if (q < ps->end && !is_space(*q) && *q != ',' && *q != ']' && *q != '}' && *q != '#')
        return syntax(ps, "malformed number");
    if (ndigits == 0)
        return syntax(ps, "a sign or a dot without digits");
    ps->p = q;
    if (dot) {
        n->kind = LVM_META_FLOAT;
        return keep_text(ps, b, q, false, &n->str, &n->str_len);
    }
    n->kind = LVM_META_INT;
    return integer(ps, digits, q, negative, key_name, &n->num);
}

/* One scalar at ps->p (after blanks) into a new node with @p key_name. */
static imgp_status scalar(parser *ps, const char *key_name, bool in_array, lvm_meta_node **out)
{
    if (ps->p == ps->end)
        return syntax(ps, in_array ? "unterminated array" : "expected a value");
    char c = *ps->p;
    if (c == '[')
        return syntax(ps, in_array ? "arrays do not nest" : "expected a value");
    if (c == '{' || c == '}' || c == '=' || c == ']' || c == ',')
        return syntax(ps, "expected a value");
    imgp_status st = new_node(ps, in_array ? NULL : key_name, LVM_META_STRING, ps->line, out);
    if (st != IMGP_OK)
        return st;
    lvm_meta_node *n = *out;
    if (c == '"' || c == '\'')
        return quoted(ps, &n->str, &n->str_len);
    if (is_digit(c) || c == '+' || c == '-' || c == '.')
        return number(ps, key_name, n);
    /* a bare word; unlike lvm2 it also ends at ',' and ']' so that [a, b] reads as two words */
    const char *b = ps->p;
    while (ps->p < ps->end && !ends_word(*ps->p) && *ps->p != ',' && *ps->p != ']' && *ps->p != '[')
        ps->p++;
    return keep_text(ps, b, ps->p, false, &n->str, &n->str_len);
}

static imgp_status array(parser *ps, lvm_meta_node *arr)
{
    unsigned line = ps->line;
    lvm_meta_node **tail = &arr->child;
    ps->p++; /* '[' */
    for (;;) {
        skip_blank(ps);
        if (ps->p == ps->end) {
            ps->line = line;
            return syntax(ps, "unterminated array");
        }
        if (*ps->p == ']') {
            ps->p++;
            return IMGP_OK;
        }
        lvm_meta_node *el;
        imgp_status st = scalar(ps, arr->key, true, &el);
        if (st != IMGP_OK)
            return st;
        *tail = el;
        tail = &el->next;
        arr->nchildren++;
        skip_blank(ps);
        if (ps->p < ps->end && *ps->p == ',')
            ps->p++;
    }
}

/* The members of @p section up to its '}' (or the end of the text for the root). */
static imgp_status members(parser *ps, lvm_meta_node *section, unsigned depth)
{
    lvm_meta_node **tail = &section->child;
    for (;;) {
        skip_blank(ps);
        if (ps->p == ps->end) {
            if (depth == 0)
                return IMGP_OK;
            ps->line = section->line;
            return imgp_error(ps->ctx, IMGP_ERR_CORRUPT, "lvm2 metadata: line %u: section '%s' is not closed",
                              section->line, section->key);
        }
        if (*ps->p == '}') {
            if (depth == 0)
                return syntax(ps, "'}' without a section to close");
            ps->p++;
            return IMGP_OK;
        }
        unsigned line = ps->line;
        const char *name;
        imgp_status st = key(ps, &name);
        if (st != IMGP_OK)
            return st;
        skip_blank(ps);
        lvm_meta_node *n;
        if (ps->p < ps->end && *ps->p == '{') {
            if (depth + 1 > LVM_META_MAX_DEPTH)
                return imgp_error(ps->ctx, IMGP_ERR_LIMIT, "lvm2 metadata: line %u: sections nest deeper than %u",
                                  line, LVM_META_MAX_DEPTH);
            ps->p++;
            if ((st = new_node(ps, name, LVM_META_SECTION, line, &n)) != IMGP_OK ||
                (st = members(ps, n, depth + 1)) != IMGP_OK)
                return st;
        } else if (ps->p < ps->end && *ps->p == '=') {
            ps->p++;
            skip_blank(ps);
            if (ps->p < ps->end && *ps->p == '[') {
                if ((st = new_node(ps, name, LVM_META_ARRAY, line, &n)) != IMGP_OK ||
                    (st = array(ps, n)) != IMGP_OK)
                    return st;
            } else if ((st = scalar(ps, name, false, &n)) != IMGP_OK) {
                return st;
            }
        } else {
            ps->line = line;
            return syntax(ps, "expected '=' or '{' after a name");
        }
        *tail = n;
        tail = &n->next;
        section->nchildren++;
    }
}

/* lvm2 writes a NUL after the text; none may come before it, nor any control byte but white space. */
static imgp_status check_text(imgp_ctx *ctx, const char *text, size_t *len)
{
    size_t n = *len;
    while (n > 0 && text[n - 1] == '\0')
        n--;
    unsigned line = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n')
            line++;
        if (c == 0)
            return imgp_error(ctx, IMGP_ERR_CORRUPT, "lvm2 metadata: line %u: NUL byte at offset %zu", line, i);
        if ((c < 0x20 && !is_space((char)c)) || c == 0x7f)
            return imgp_error(ctx, IMGP_ERR_CORRUPT,
                              "lvm2 metadata: line %u: not text (byte 0x%02x at offset %zu)", line, c, i);
    }
    *len = n;
    return IMGP_OK;
}

imgp_status lvm_meta_parse(imgp_ctx *ctx, const char *text, size_t len, lvm_meta **out)
{
    *out = NULL;
    imgp_status st = check_text(ctx, text, &len);
    if (st != IMGP_OK)
        return st;
    lvm_meta *m = imgp_calloc(ctx, 1, sizeof *m);
    if (!m)
        return IMGP_ERR_NOMEM;
    m->ctx = ctx;
    m->root = (lvm_meta_node){.key = "", .kind = LVM_META_SECTION, .line = 1};
    parser ps = {.ctx = ctx, .m = m, .p = text, .end = text + len, .line = 1};
    st = members(&ps, &m->root, 0);
    if (st != IMGP_OK) {
        lvm_meta_free(m);
        return st;
    }
    *out = m;
    return IMGP_OK;
}
