/*
 * regdump: print a registry hive through imgprobe's regf reader, in forms
 * that independent tools print, so that integration tests can compare them.
 *
 *   regdump HIVE              the whole tree as `hivexregedit --export HIVE '\'`
 *                             prints it: "[path]" per key, values sorted by
 *                             name ("name"= or @=, dword:%08x for 4-byte
 *                             REG_DWORD, else hex(TYPE):bytes), subkeys sorted
 *                             by name, depth first
 *   regdump --info HIVE       version, dirty flag and notes, one per line
 *   regdump --get HIVE KEY NAME
 *                             one value as `hivexget HIVE KEY NAME` prints it
 *                             (strings, each string of a multi-string on its
 *                             own line and an empty line after them, numbers in decimal, else hex); KEY and
 *                             NAME are looked up ignoring case ("@" is the
 *                             default value)
 *
 * A test helper. Exit 0, or 2 with "regdump: HIVE: message" on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/regf.h"

enum { MAX_DEPTH = 512 }; /* Windows nests keys 512 deep at most */

static const char *hive_path;

/* Report @p what, followed by the context's message when @p ctx is given. */
static int fail(imgp_ctx *ctx, const char *what)
{
    fprintf(stderr, "regdump: %s: %s%s\n", hive_path, what, ctx ? imgp_ctx_message(ctx) : "");
    return 2;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *p = realloc(buf, cap * 2);
        if (!p) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = p;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* ---- the export ---- */

typedef struct named {
    char *name;
    size_t name_len;
    size_t index; /* for a stable sort */
    uint32_t type, key;
    uint8_t *data;
    size_t len;
} named;

static int cmp_named(const void *a, const void *b)
{
    const named *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c == 0)
        c = x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
    if (c == 0)
        c = x->index < y->index ? -1 : 1;
    return c;
}

typedef struct list {
    named *v;
    size_t n, cap;
    bool nomem;
} list;

static named *list_add(list *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        named *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->nomem = true;
            return NULL;
        }
        l->v = v;
        l->cap = cap;
    }
    named *e = &l->v[l->n];
    memset(e, 0, sizeof *e);
    e->index = l->n++;
    return e;
}

static void list_free(list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].data);
    }
    free(l->v);
}

static char *copy_bytes(const void *p, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        if (n)
            memcpy(c, p, n);
        c[n] = '\0';
    }
    return c;
}

static int collect_value(void *arg, const imgp_regf_value *v)
{
    list *l = arg;
    named *e = list_add(l);
    if (!e)
        return 1;
    e->name = copy_bytes(v->name, v->name_len);
    e->name_len = v->name_len;
    e->type = v->type;
    e->data = (uint8_t *)copy_bytes(v->data, v->len);
    e->len = v->len;
    if (!e->name || !e->data)
        l->nomem = true;
    return l->nomem;
}

static int collect_key(void *arg, imgp_regf_key child, const char *name)
{
    (void)name; /* may hold a NUL: the full name comes from imgp_regf_get_key_info */
    list *l = arg;
    named *e = list_add(l);
    if (e)
        e->key = child;
    return e == NULL;
}

/* Print "name" as hivexregedit does: backslashes and quotes escaped. */
static void put_quoted(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '"')
            putchar('\\');
        putchar(s[i]);
    }
    putchar('"');
}

static int export_key(imgp_regf *h, imgp_ctx *ctx, imgp_regf_key key, const char *path, size_t path_len,
                      int depth)
{
    if (depth > MAX_DEPTH)
        return fail(NULL, "keys nested too deep");
    putchar('[');
    fwrite(path, 1, path_len, stdout);
    fputs("]\n", stdout);

    list values = {0};
    imgp_status st = imgp_regf_values(h, key, collect_value, &values);
    if (st != IMGP_OK || values.nomem) {
        list_free(&values);
        return values.nomem ? fail(NULL, "out of memory") : fail(ctx, "");
    }
    if (values.n > 1)
        qsort(values.v, values.n, sizeof *values.v, cmp_named);
    for (size_t i = 0; i < values.n; i++) {
        const named *v = &values.v[i];
        if (v->name_len == 0)
            fputs("@=", stdout);
        else {
            put_quoted(v->name, v->name_len);
            putchar('=');
        }
        if (v->type == IMGP_REG_DWORD && v->len == 4) {
            printf("dword:%08x\n", (unsigned)(v->data[0] | v->data[1] << 8 | v->data[2] << 16 |
                                             (uint32_t)v->data[3] << 24));
            continue;
        }
        printf("hex(%x):", (unsigned)v->type);
        for (size_t j = 0; j < v->len; j++)
            printf(j ? ",%02x" : "%02x", v->data[j]);
        putchar('\n');
    }
    putchar('\n');
    list_free(&values);

    list keys = {0};
    st = imgp_regf_subkeys(h, key, collect_key, &keys);
    if (st != IMGP_OK || keys.nomem) {
        list_free(&keys);
        return keys.nomem ? fail(NULL, "out of memory") : fail(ctx, "");
    }
    for (size_t i = 0; i < keys.n; i++) {
        imgp_regf_key_info info;
        st = imgp_regf_get_key_info(h, keys.v[i].key, &info);
        if (st != IMGP_OK) {
            list_free(&keys);
            return fail(ctx, "");
        }
        keys.v[i].name = copy_bytes(info.name, info.name_len);
        keys.v[i].name_len = info.name_len;
        if (!keys.v[i].name) {
            list_free(&keys);
            return fail(NULL, "out of memory");
        }
    }
    if (keys.n > 1)
        qsort(keys.v, keys.n, sizeof *keys.v, cmp_named);
    int rc = 0;
    for (size_t i = 0; i < keys.n && rc == 0; i++) {
        size_t sep = depth > 0, n = path_len + sep + keys.v[i].name_len;
        char *child = malloc(n + 1);
        if (!child) {
            rc = fail(NULL, "out of memory");
            break;
        }
        memcpy(child, path, path_len);
        if (sep)
            child[path_len] = '\\';
        memcpy(child + path_len + sep, keys.v[i].name, keys.v[i].name_len);
        rc = export_key(h, ctx, keys.v[i].key, child, n, depth + 1);
        free(child);
    }
    list_free(&keys);
    return rc;
}

/* ---- --get ---- */

static int put_line(void *arg, const char *s)
{
    (void)arg;
    puts(s);
    return 0;
}

static int get_value(imgp_regf *h, imgp_ctx *ctx, const char *keypath, const char *name)
{
    imgp_regf_key key;
    imgp_regf_value v;
    if (strcmp(name, "@") == 0) /* the default value, as hivexget names it */
        name = "";
    if (imgp_regf_lookup(h, imgp_regf_root(h), keypath, &key) != IMGP_OK ||
        imgp_regf_get_value(h, key, name, &v) != IMGP_OK)
        return fail(ctx, "");
    imgp_status st = IMGP_OK;
    if (v.type == IMGP_REG_SZ || v.type == IMGP_REG_EXPAND_SZ) {
        size_t cap = v.len * 2 + 16; /* UTF-16 to UTF-8: at most 3 bytes for 2 */
        char *s = malloc(cap);
        if (!s)
            return fail(NULL, "out of memory");
        st = imgp_regf_get_string(h, key, name, s, cap);
        if (st == IMGP_OK)
            puts(s);
        free(s);
    } else if (v.type == IMGP_REG_MULTI_SZ) {
        st = imgp_regf_get_multi_sz(h, key, name, put_line, NULL);
        putchar('\n'); /* hivexsh's lsval ends the list with an empty line */
    } else if ((v.type == IMGP_REG_DWORD || v.type == IMGP_REG_DWORD_BIG_ENDIAN) && v.len == 4) {
        uint32_t d;
        st = imgp_regf_get_dword(h, key, name, &d);
        if (st == IMGP_OK)
            printf("%u\n", (unsigned)d);
    } else if (v.type == IMGP_REG_QWORD && v.len == 8) {
        uint64_t q;
        st = imgp_regf_get_qword(h, key, name, &q);
        if (st == IMGP_OK)
            printf("%llu\n", (unsigned long long)q);
    } else {
        for (size_t j = 0; j < v.len; j++)
            printf("%02x", v.data[j]);
        putchar('\n');
    }
    return st == IMGP_OK ? 0 : fail(ctx, "");
}

int main(int argc, char **argv)
{
    int mode = 0; /* 0 export, 1 info, 2 get */
    if (argc == 3 && strcmp(argv[1], "--info") == 0)
        mode = 1;
    else if (argc == 5 && strcmp(argv[1], "--get") == 0)
        mode = 2;
    else if (argc != 2) {
        fprintf(stderr, "usage: regdump [--info] HIVE | regdump --get HIVE KEY NAME\n");
        return 2;
    }
    hive_path = argv[mode ? 2 : 1];
    size_t len;
    uint8_t *data = read_file(hive_path, &len);
    if (!data) {
        perror(hive_path);
        return 2;
    }
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    imgp_regf *h = NULL;
    int rc;
    if (!ctx)
        rc = fail(NULL, "out of memory");
    else if (imgp_regf_open(ctx, data, len, &h) != IMGP_OK)
        rc = fail(ctx, "");
    else if (mode == 1) {
        const imgp_regf_info *in = imgp_regf_get_info(h);
        printf("version %u.%u\nsequence %u %u\ndirty %s\nchecksum %s\n", (unsigned)in->major, (unsigned)in->minor,
               (unsigned)in->seq_primary, (unsigned)in->seq_secondary, in->dirty ? "yes" : "no",
               in->checksum_ok ? "ok" : "bad");
        for (size_t i = 0; i < in->nnotes; i++)
            printf("note %s\n", in->notes[i]);
        rc = 0;
    } else if (mode == 2) {
        rc = get_value(h, ctx, argv[3], argv[4]);
    } else {
        fputs("Windows Registry Editor Version 5.00\n\n", stdout);
        rc = export_key(h, ctx, imgp_regf_root(h), "\\", 1, 0);
    }
    if (fflush(stdout) != 0 && rc == 0)
        rc = fail(NULL, "write");
    imgp_regf_close(h);
    imgp_ctx_free(ctx);
    free(data);
    return rc;
}
