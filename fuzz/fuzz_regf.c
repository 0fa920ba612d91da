/*
 * libFuzzer harness over the registry hive reader (src/inspect/regf.c): the
 * input is a hive, opened in memory and walked whole with bounded counts:
 * every key's subkeys listed and looked up again by name, every value read,
 * looked up again by name and decoded by the typed getters. The record
 * parsers also run on the raw input. The same source replays committed
 * inputs without libFuzzer (replay.c).
 *
 * Invariants checked on every input (abort() when one breaks):
 *  - every failing call returns a status within the enum and leaves a message
 *    whose status is the one returned; a failed open leaves no hive;
 *  - an open hive is version 1.2 to 1.6, its notes are non-empty strings, its
 *    dirty flag says what its sequence numbers and checksum say, and its root
 *    is a key node;
 *  - no key is reached twice (the tree has no cycles);
 *  - a subkey's name as listed is the name its key node gives, and looking it
 *    up from its parent finds a key of the same name (the first of equal ones);
 *  - a value's data is no longer than the hive; looking a value up by an
 *    ASCII name finds one whose name differs at most in ASCII case; a string
 *    decodes into a buffer three halves its size (plus one), a 4-byte DWORD
 *    always reads.
 * Leaks are left to LeakSanitizer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness_support.h"
#include "imgprobe/imgprobe.h"
#include "inspect/regf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bounds that keep one run fast whatever the input claims. */
enum {
    MAX_KEYS = 4096,   /* keys walked */
    MAX_VALUES = 8192, /* values read in all */
};

typedef struct walk {
    imgp_ctx *ctx;
    imgp_regf *h;
    size_t size;
    imgp_regf_key keys[MAX_KEYS]; /* every key reached, in order */
    size_t nkeys;
    size_t values;
    /* children of the key being listed */
    imgp_regf_key kids[MAX_KEYS];
    size_t nkids;
} walk;

static int collect(void *arg, imgp_regf_key child, const char *name)
{
    walk *w = arg;
    CHECK(name != NULL, "a subkey without a name");
    if (w->nkids >= MAX_KEYS)
        return 1;
    w->kids[w->nkids++] = child;
    return 0;
}

static bool seen_key(const walk *w, imgp_regf_key k)
{
    for (size_t i = 0; i < w->nkeys; i++)
        if (w->keys[i] == k)
            return true;
    return false;
}

/* A name that a lookup can take: no NUL inside, no backslash (the separator). */
static bool lookupable(const char *name, size_t len)
{
    return strlen(name) == len && !strchr(name, '\\') && len > 0;
}

static bool ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

static int check_value(void *arg, const imgp_regf_value *v)
{
    walk *w = arg;
    CHECK(v->name && v->len <= w->size, "value data longer than the hive");
    CHECK(v->len == 0 || v->data, "value data without a pointer");
    w->values++;
    return w->values >= MAX_VALUES;
}

/* Read the value @p name of @p key through the getters. */
static void check_getters(walk *w, imgp_regf_key key, const char *name, uint32_t type, size_t len)
{
    imgp_regf_value v;
    imgp_status st = imgp_regf_get_value(w->h, key, name, &v);
    if (st != IMGP_OK) {
        check_failure(w->ctx, st);
        return;
    }
    if (type == IMGP_REG_SZ || type == IMGP_REG_EXPAND_SZ) {
        size_t cap = len / 2 * 3 + 1;
        char *buf = malloc(cap);
        if (buf) {
            st = imgp_regf_get_string(w->h, key, name, buf, cap);
            CHECK(st == IMGP_OK, "a string does not decode into three halves its size");
            CHECK(strlen(buf) < cap, "a string longer than its buffer");
            free(buf);
        }
    } else if ((type == IMGP_REG_DWORD || type == IMGP_REG_DWORD_BIG_ENDIAN) && len == 4) {
        uint32_t d;
        st = imgp_regf_get_dword(w->h, key, name, &d);
        CHECK(st == IMGP_OK, "a 4-byte DWORD does not read");
    } else if (type == IMGP_REG_QWORD) {
        uint64_t q;
        st = imgp_regf_get_qword(w->h, key, name, &q);
        if (st != IMGP_OK)
            check_failure(w->ctx, st);
    }
}

typedef struct named_value {
    char *name;
    uint32_t type;
    size_t len;
} named_value;

typedef struct value_list {
    named_value v[64];
    size_t n;
} value_list;

static int remember_value(void *arg, const imgp_regf_value *v)
{
    value_list *l = arg;
    if (l->n >= 64 || (v->name_len != 0 && !lookupable(v->name, v->name_len)))
        return l->n >= 64;
    char *copy = malloc(v->name_len + 1);
    if (!copy)
        return 1;
    memcpy(copy, v->name, v->name_len + 1);
    l->v[l->n++] = (named_value){copy, v->type, v->len};
    return 0;
}

static void walk_key(walk *w, imgp_regf_key key)
{
    imgp_regf_key_info ki;
    imgp_status st = imgp_regf_get_key_info(w->h, key, &ki);
    if (st != IMGP_OK) {
        check_failure(w->ctx, st);
        return;
    }
    char cls[256];
    st = imgp_regf_key_class(w->h, key, cls, sizeof cls);
    if (st != IMGP_OK)
        check_failure(w->ctx, st);

    st = imgp_regf_values(w->h, key, check_value, w);
    if (st != IMGP_OK)
        check_failure(w->ctx, st);
    value_list vl = {.n = 0};
    if (w->values < MAX_VALUES && imgp_regf_values(w->h, key, remember_value, &vl) == IMGP_OK)
        for (size_t i = 0; i < vl.n; i++) {
            check_getters(w, key, vl.v[i].name, vl.v[i].type, vl.v[i].len);
            /* an ASCII name matches only names equal to it but for ASCII case */
            imgp_regf_value v;
            if (ascii(vl.v[i].name) && imgp_regf_get_value(w->h, key, vl.v[i].name, &v) == IMGP_OK)
                CHECK(strcasecmp(v.name, vl.v[i].name) == 0, "a value looked up by name has another name");
        }
    for (size_t i = 0; i < vl.n; i++)
        free(vl.v[i].name);

    w->nkids = 0;
    st = imgp_regf_subkeys(w->h, key, collect, w);
    if (st != IMGP_OK) {
        check_failure(w->ctx, st);
        return;
    }
    size_t nkids = w->nkids;
    for (size_t i = 0; i < nkids && w->nkeys < MAX_KEYS; i++) {
        imgp_regf_key child = w->kids[i];
        CHECK(!seen_key(w, child), "a key reached twice");
        w->keys[w->nkeys++] = child;
        st = imgp_regf_get_key_info(w->h, child, &ki);
        CHECK(st == IMGP_OK, "a listed subkey has no key node");
        CHECK(ki.parent == key, "a listed subkey records another parent");
        if (!lookupable(ki.name, ki.name_len))
            continue;
        char name[512];
        if (ki.name_len >= sizeof name)
            continue;
        memcpy(name, ki.name, ki.name_len + 1);
        imgp_regf_key found;
        st = imgp_regf_lookup(w->h, key, name, &found);
        CHECK(st == IMGP_OK, "a listed subkey is not found by its name");
        if (found != child) {
            bool earlier = false;
            for (size_t j = 0; j < i && !earlier; j++)
                earlier = w->kids[j] == found;
            CHECK(earlier, "lookup found a key not listed before this one");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    if (!ctx)
        return 0;
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_DIR_ENTRIES, 100000);

    /* the record parsers on the raw bytes */
    regf_nk nk;
    regf_vk vk;
    regf_list list;
    regf_base base;
    if (regf_parse_nk(ctx, data, size, 0, &nk) == IMGP_OK)
        CHECK(nk.name + nk.name_len <= data + size, "a key node's name past its cell");
    if (regf_parse_vk(ctx, data, size, 0, &vk) == IMGP_OK)
        CHECK(vk.name + vk.name_len <= data + size && (!vk.inline_data || vk.data_size <= 4), "a key value");
    if (regf_parse_list(ctx, data, size, 0, &list) == IMGP_OK)
        CHECK(list.elems + (size_t)list.count * list.elem_size <= data + size, "a list past its cell");
    (void)regf_parse_base(ctx, data, size, size, &base);

    imgp_regf *h = (imgp_regf *)1;
    imgp_status st = imgp_regf_open(ctx, data, size, &h);
    if (st != IMGP_OK) {
        check_failure(ctx, st);
        CHECK(h == NULL, "a failed open left a hive");
        imgp_ctx_free(ctx);
        return 0;
    }
    const imgp_regf_info *in = imgp_regf_get_info(h);
    CHECK(in->major == 1 && in->minor >= 2 && in->minor <= 6, "hive version");
    CHECK(in->dirty == (in->seq_primary != in->seq_secondary || !in->checksum_ok), "dirty flag");
    CHECK(in->file_name != NULL, "file name");
    for (size_t i = 0; i < in->nnotes; i++)
        CHECK(in->notes[i] && in->notes[i][0], "an empty note");

    walk *w = calloc(1, sizeof *w);
    if (w) {
        w->ctx = ctx;
        w->h = h;
        w->size = size;
        w->keys[w->nkeys++] = imgp_regf_root(h);
        imgp_regf_key_info ki;
        CHECK(imgp_regf_get_key_info(h, imgp_regf_root(h), &ki) == IMGP_OK, "the root is not a key node");
        for (size_t i = 0; i < w->nkeys && i < MAX_KEYS; i++)
            walk_key(w, w->keys[i]);
        free(w);
    }
    imgp_regf_close(h);
    imgp_ctx_free(ctx);
    return 0;
}
