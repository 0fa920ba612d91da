/*
 * Unit tests of the registry hive reader (src/inspect/regf.c): hives built
 * here as byte arrays, cell by cell (a base block, one hive bin, key nodes,
 * value records, li/lf/lh/ri lists, big data), read back through the API,
 * then broken one field at a time, each checked for its status and for a
 * message that names the problem; the name and string helpers; opening a
 * hive from a filesystem; and every allocation failing in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "inspect/regf.h"
#include "inspect/regf_disk.h"
#include "support/memfs.h"
#include "support/testsupport.h"

static imgp_ctx *ctx_new(void)
{
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    assert_non_null(ctx);
    return ctx;
}

/* ---- a hive builder: one hive bin of BIN bytes, cells appended in order ---- */

#define BIN (64u * 1024)
#define HIVE_MAX (REGF_BASE_SIZE + BIN)

static uint8_t hive[HIVE_MAX];
static uint32_t next_cell; /* cell offset of the next cell */

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint8_t *at(uint32_t cell) { return hive + REGF_BASE_SIZE + cell; }
static uint8_t *data_of(uint32_t cell) { return at(cell) + REGF_CELL_HEADER; }

static void seal(void) { test_put_le32(hive, REGF_BASE_CHECKSUM, regf_checksum(hive)); }

static void hive_begin(uint32_t minor)
{
    memset(hive, 0, sizeof hive);
    memcpy(hive, "regf", 4);
    test_put_le32(hive, REGF_BASE_SEQ_PRIMARY, 7);
    test_put_le32(hive, REGF_BASE_SEQ_SECONDARY, 7);
    test_put_le32(hive, REGF_BASE_MAJOR, 1);
    test_put_le32(hive, REGF_BASE_MINOR, minor);
    test_put_le32(hive, REGF_BASE_FILE_FORMAT, 1);
    test_put_le32(hive, REGF_BASE_BINS_SIZE, BIN);
    const char *name = "SYSTEM";
    for (size_t i = 0; name[i]; i++)
        hive[REGF_BASE_FILE_NAME + 2 * i] = (uint8_t)name[i];
    memcpy(at(0), "hbin", 4);
    test_put_le32(at(0), REGF_BIN_OFFSET, 0);
    test_put_le32(at(0), REGF_BIN_SIZE, BIN);
    next_cell = REGF_BIN_HEADER_SIZE;
}

/* An allocated cell for @p len bytes of data (padded to 8): its cell offset. */
static uint32_t cell_new(size_t len)
{
    uint32_t size = (uint32_t)((REGF_CELL_HEADER + len + 7) / 8 * 8);
    uint32_t off = next_cell;
    assert_true(off + size + 8 <= BIN);
    test_put_le32(at(off), 0, 0u - size);
    next_cell += size;
    return off;
}

/* Finish: the rest of the bin is one free cell; the root is @p root; sealed. @return the hive's length. */
static size_t hive_end(uint32_t root)
{
    test_put_le32(at(next_cell), 0, BIN - next_cell);
    test_put_le32(hive, REGF_BASE_ROOT_CELL, root);
    seal();
    return HIVE_MAX;
}

static uint32_t nk_new(uint32_t parent, const char *name, bool utf16)
{
    size_t n = strlen(name), len = utf16 ? 2 * n : n;
    uint32_t off = cell_new(REGF_NK_NAME + len);
    uint8_t *d = data_of(off);
    memcpy(d, "nk", 2);
    test_put_le16(d, REGF_NK_FLAGS, utf16 ? 0 : REGF_KEY_COMP_NAME);
    test_put_le32(d, REGF_NK_PARENT, parent);
    test_put_le32(d, REGF_NK_SUBKEY_LIST, REGF_NO_CELL);
    test_put_le32(d, REGF_NK_VOLATILE_LIST, REGF_NO_CELL);
    test_put_le32(d, REGF_NK_VALUE_LIST, REGF_NO_CELL);
    test_put_le32(d, REGF_NK_SECURITY, REGF_NO_CELL);
    test_put_le32(d, REGF_NK_CLASS, REGF_NO_CELL);
    test_put_le16(d, REGF_NK_NAME_LEN, (uint16_t)len);
    for (size_t i = 0; i < n; i++) {
        if (utf16)
            test_put_le16(d, REGF_NK_NAME + 2 * i, (uint8_t)name[i]);
        else
            d[REGF_NK_NAME + i] = (uint8_t)name[i];
    }
    return off;
}

static void nk_set(uint32_t nk, size_t field, uint32_t v) { test_put_le32(data_of(nk), field, v); }

/* A subkey list of @p kind ("li", "lf", "lh", "ri") naming @p n cells. */
static uint32_t list_new(const char *kind, const uint32_t *elems, size_t n)
{
    size_t esize = kind[1] == 'f' || kind[1] == 'h' ? 8 : 4;
    uint32_t off = cell_new(REGF_LIST_ELEMENTS + n * esize);
    uint8_t *d = data_of(off);
    memcpy(d, kind, 2);
    test_put_le16(d, REGF_LIST_COUNT, (uint16_t)n);
    for (size_t i = 0; i < n; i++)
        test_put_le32(d, REGF_LIST_ELEMENTS + i * esize, elems[i]);
    return off;
}

/* A key value named @p name (Latin-1) of @p type holding @p len bytes: inline up to 4, else in a cell. */
static uint32_t vk_new(const char *name, uint32_t type, const void *data, uint32_t len)
{
    size_t n = strlen(name);
    uint32_t off = cell_new(REGF_VK_NAME + n);
    uint8_t *d = data_of(off);
    memcpy(d, "vk", 2);
    test_put_le16(d, REGF_VK_NAME_LEN, (uint16_t)n);
    test_put_le32(d, REGF_VK_TYPE, type);
    test_put_le16(d, REGF_VK_FLAGS, n ? REGF_VALUE_COMP_NAME : 0);
    memcpy(d + REGF_VK_NAME, name, n);
    if (len <= 4) {
        test_put_le32(d, REGF_VK_DATA_SIZE, len | REGF_VK_DATA_INLINE);
        if (len)
            memcpy(d + REGF_VK_DATA_OFFSET, data, len);
    } else {
        uint32_t c = cell_new(len);
        memcpy(data_of(c), data, len);
        d = data_of(off); /* (the hive does not move; for clarity) */
        test_put_le32(d, REGF_VK_DATA_SIZE, len);
        test_put_le32(d, REGF_VK_DATA_OFFSET, c);
    }
    return off;
}

static void nk_values(uint32_t nk, const uint32_t *vks, size_t n)
{
    uint32_t list = cell_new(4 * n);
    for (size_t i = 0; i < n; i++)
        test_put_le32(data_of(list), 4 * i, vks[i]);
    nk_set(nk, REGF_NK_VALUE_COUNT, (uint32_t)n);
    nk_set(nk, REGF_NK_VALUE_LIST, list);
}

static void nk_subkeys(uint32_t nk, uint32_t list, uint32_t count)
{
    nk_set(nk, REGF_NK_SUBKEY_COUNT, count);
    nk_set(nk, REGF_NK_SUBKEY_LIST, list);
}

/* ---- the standard test hive ----
 * ROOT
 *   Alpha (lf)                 values: @="def", "Str"=SZ, "Dw"=DWORD 42 (inline), "Be"=DWORD_BE,
 *                                      "Bin"=5 bytes in a cell, "Q"=QWORD, "Multi"=MULTI_SZ, "Empty"=SZ of 0 bytes
 *   café (Latin-1)
 *   ÿ (Latin-1, folds to Ÿ)
 *   Wide (UTF-16)
 *     Deep
 * (the root's subkeys: an ri of an li and an lh)
 */
typedef struct fixture {
    uint32_t root, alpha, cafe, yuml, wide, deep;
    uint32_t root_list, leaf1, leaf2, alpha_str_vk, bin_vk;
    size_t len;
} fixture;

static void utf16(uint8_t *out, const char *s, size_t *len)
{
    size_t n = strlen(s);
    for (size_t i = 0; i <= n; i++)
        test_put_le16(out, 2 * i, (uint8_t)s[i]);
    *len = 2 * (n + 1);
}

static fixture build_with(uint32_t minor, const char *root_kind)
{
    fixture f;
    hive_begin(minor);
    f.root = nk_new(0, "ROOT", false);
    f.alpha = nk_new(f.root, "Alpha", false);
    f.cafe = nk_new(f.root, "caf\xe9", false);
    f.yuml = nk_new(f.root, "\xff", false);
    f.wide = nk_new(f.root, "Wide", true);
    f.deep = nk_new(f.wide, "Deep", false);
    nk_subkeys(f.wide, list_new("lh", &f.deep, 1), 1);
    uint32_t l1[] = {f.alpha, f.cafe}, l2[] = {f.yuml, f.wide}, all[] = {f.alpha, f.cafe, f.yuml, f.wide};
    f.leaf1 = list_new("li", l1, 2);
    f.leaf2 = list_new("lh", l2, 2);
    uint32_t leaves[] = {f.leaf1, f.leaf2};
    f.root_list = strcmp(root_kind, "ri") == 0 ? list_new("ri", leaves, 2) : list_new(root_kind, all, 4);
    nk_subkeys(f.root, f.root_list, 4);

    uint8_t s[64];
    size_t n;
    uint32_t v[8];
    utf16(s, "def", &n);
    v[0] = vk_new("", IMGP_REG_SZ, s, (uint32_t)n);
    utf16(s, "hello", &n);
    s[n] = 'J'; /* junk after the NUL */
    s[n + 1] = 0;
    v[1] = f.alpha_str_vk = vk_new("Str", IMGP_REG_SZ, s, (uint32_t)n + 2);
    uint8_t dw[4] = {42, 0, 0, 0}, be[4] = {0, 0, 1, 2}, bin[5] = {1, 2, 3, 4, 5};
    uint8_t q[8] = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
    v[2] = vk_new("Dw", IMGP_REG_DWORD, dw, 4);
    v[3] = vk_new("Be", IMGP_REG_DWORD_BIG_ENDIAN, be, 4);
    v[4] = f.bin_vk = vk_new("Bin", IMGP_REG_BINARY, bin, 5);
    v[5] = vk_new("Q", IMGP_REG_QWORD, q, 8);
    uint8_t m[32] = {'o', 0, 'n', 0, 'e', 0, 0, 0, 't', 0, 'w', 0, 'o', 0, 0, 0, 0, 0, 'x', 0};
    v[6] = vk_new("Multi", IMGP_REG_MULTI_SZ, m, 20);
    v[7] = vk_new("Empty", IMGP_REG_SZ, NULL, 0);
    nk_values(f.alpha, v, 8);
    uint32_t cls = cell_new(6);
    utf16(data_of(cls), "Cls", &n);
    nk_set(f.alpha, REGF_NK_CLASS, cls);
    test_put_le16(data_of(f.alpha), REGF_NK_CLASS_LEN, 6);
    f.len = hive_end(f.root);
    return f;
}

static fixture build(uint32_t minor) { return build_with(minor, "ri"); }

static imgp_regf *open_ok(imgp_ctx *ctx, size_t len)
{
    imgp_regf *h = NULL;
    imgp_status st = imgp_regf_open(ctx, hive, len, &h);
    if (st != IMGP_OK)
        fail_msg("open: %s", imgp_ctx_message(ctx));
    return h;
}

/* Open and expect @p want with @p needle in the message. */
static void open_fails(imgp_ctx *ctx, size_t len, imgp_status want, const char *needle)
{
    imgp_regf *h = (imgp_regf *)1;
    test_expect_error(ctx, imgp_regf_open(ctx, hive, len, &h), want, needle);
    assert_null(h);
}

/* ---- tests: reading ---- */

typedef struct names {
    char buf[8][64];
    imgp_regf_key keys[8];
    size_t n;
} names;

static int collect(void *arg, imgp_regf_key child, const char *name)
{
    names *n = arg;
    assert_true(n->n < 8);
    snprintf(n->buf[n->n], sizeof n->buf[0], "%s", name);
    n->keys[n->n++] = child;
    return 0;
}

static void test_tree(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    fixture f = build(5);
    imgp_regf *h = open_ok(ctx, f.len);
    const imgp_regf_info *in = imgp_regf_get_info(h);
    assert_int_equal(in->major, 1);
    assert_int_equal(in->minor, 5);
    assert_false(in->dirty);
    assert_false(imgp_regf_dirty(h));
    assert_true(in->checksum_ok);
    assert_string_equal(in->file_name, "SYSTEM");
    assert_int_equal(in->nnotes, 0);
    assert_int_equal(imgp_regf_root(h), f.root);

    names n = {0};
    assert_int_equal(imgp_regf_subkeys(h, f.root, collect, &n), IMGP_OK);
    assert_int_equal(n.n, 4); /* through the ri: li then lh */
    assert_string_equal(n.buf[0], "Alpha");
    assert_string_equal(n.buf[1], "caf\xc3\xa9");
    assert_string_equal(n.buf[2], "\xc3\xbf");
    assert_string_equal(n.buf[3], "Wide");
    assert_int_equal(n.keys[3], f.wide);

    char name[64];
    assert_int_equal(imgp_regf_key_name(h, f.cafe, name, sizeof name), IMGP_OK);
    assert_string_equal(name, "caf\xc3\xa9");
    test_expect_error(ctx, imgp_regf_key_name(h, f.cafe, name, 5), IMGP_ERR_LIMIT, "does not fit");
    imgp_regf_key_info ki;
    assert_int_equal(imgp_regf_get_key_info(h, f.alpha, &ki), IMGP_OK);
    assert_int_equal(ki.subkeys, 0);
    assert_int_equal(ki.values, 8);
    assert_int_equal(ki.parent, f.root);
    assert_true(ki.has_class);
    assert_int_equal(imgp_regf_key_class(h, f.alpha, name, sizeof name), IMGP_OK);
    assert_string_equal(name, "Cls");
    test_expect_error(ctx, imgp_regf_key_class(h, f.alpha, name, 3), IMGP_ERR_LIMIT, "class name of key");
    assert_int_equal(imgp_regf_key_class(h, f.cafe, name, sizeof name), IMGP_OK);
    assert_string_equal(name, "");
    test_put_le16(data_of(f.alpha), REGF_NK_CLASS_LEN, 200);
    test_expect_error(ctx, imgp_regf_key_class(h, f.alpha, name, sizeof name), IMGP_ERR_CORRUPT,
                      "class name of 200 bytes does not fit its cell");
    test_put_le16(data_of(f.alpha), REGF_NK_CLASS_LEN, 6);
    /* a handle that is not a key */
    test_expect_error(ctx, imgp_regf_get_key_info(h, 12345, &ki), IMGP_ERR_INVALID_ARG, "not a cell");
    test_expect_error(ctx, imgp_regf_get_key_info(h, f.leaf1, &ki), IMGP_ERR_CORRUPT, "not a key node");
    imgp_regf_close(h);
    imgp_ctx_free(ctx);
}

static void test_lookup(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    fixture f = build(5);
    imgp_regf *h = open_ok(ctx, f.len);
    imgp_regf_key k;
    assert_int_equal(imgp_regf_lookup(h, f.root, "ALPHA", &k), IMGP_OK);
    assert_int_equal(k, f.alpha);
    assert_int_equal(imgp_regf_lookup(h, f.root, "\\CAF\xc3\x89", &k), IMGP_OK); /* É */
    assert_int_equal(k, f.cafe);
    assert_int_equal(imgp_regf_lookup(h, f.root, "\xc5\xb8", &k), IMGP_OK); /* Ÿ finds ÿ */
    assert_int_equal(k, f.yuml);
    assert_int_equal(imgp_regf_lookup(h, f.root, "wide\\\\DEEP\\", &k), IMGP_OK);
    assert_int_equal(k, f.deep);
    assert_int_equal(imgp_regf_lookup(h, f.wide, "deep", &k), IMGP_OK);
    assert_int_equal(k, f.deep);
    assert_int_equal(imgp_regf_lookup(h, f.root, "", &k), IMGP_OK);
    assert_int_equal(k, f.root);
    test_expect_error(ctx, imgp_regf_lookup(h, f.root, "Wide\\Shallow", &k), IMGP_ERR_NOT_FOUND,
                      "no key 'Shallow' in 'Wide\\'");
    test_expect_error(ctx, imgp_regf_lookup(h, f.root, "Alph", &k), IMGP_ERR_NOT_FOUND, "no key 'Alph'");
    test_expect_error(ctx, imgp_regf_lookup(h, f.root, "Alpha2", &k), IMGP_ERR_NOT_FOUND, "no key 'Alpha2'");
    imgp_regf_close(h);
    imgp_ctx_free(ctx);
}

typedef struct seen {
    char names[8][16];
    uint32_t types[8];
    size_t lens[8];
    size_t n;
} seen;

static int collect_value(void *arg, const imgp_regf_value *v)
{
    seen *s = arg;
    assert_true(s->n < 8);
    snprintf(s->names[s->n], sizeof s->names[0], "%s", v->name);
    s->types[s->n] = v->type;
    s->lens[s->n++] = v->len;
    return 0;
}

static int collect_string(void *arg, const char *s)
{
    char *out = arg;
    strcat(out, s);
    strcat(out, "|");
    return 0;
}

static void test_values(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    fixture f = build(5);
    imgp_regf *h = open_ok(ctx, f.len);
    seen s = {0};
    assert_int_equal(imgp_regf_values(h, f.alpha, collect_value, &s), IMGP_OK);
    assert_int_equal(s.n, 8);
    assert_string_equal(s.names[0], "");
    assert_string_equal(s.names[4], "Bin");
    assert_int_equal(s.types[4], IMGP_REG_BINARY);
    assert_int_equal(s.lens[4], 5);
    assert_int_equal(s.lens[7], 0);

    imgp_regf_value v;
    assert_int_equal(imgp_regf_get_value(h, f.alpha, "bin", &v), IMGP_OK);
    assert_int_equal(v.len, 5);
    assert_memory_equal(v.data, "\1\2\3\4\5", 5);
    assert_int_equal(imgp_regf_get_value(h, f.alpha, "DW", &v), IMGP_OK);
    assert_int_equal(v.len, 4);
    test_expect_error(ctx, imgp_regf_get_value(h, f.alpha, "Nope", &v), IMGP_ERR_NOT_FOUND, "no value 'Nope'");

    char buf[64];
    assert_int_equal(imgp_regf_get_string(h, f.alpha, "", buf, sizeof buf), IMGP_OK);
    assert_string_equal(buf, "def");
    assert_int_equal(imgp_regf_get_string(h, f.alpha, "str", buf, sizeof buf), IMGP_OK);
    assert_string_equal(buf, "hello"); /* up to the NUL, not the junk after it */
    assert_int_equal(imgp_regf_get_string(h, f.alpha, "Empty", buf, sizeof buf), IMGP_OK);
    assert_string_equal(buf, "");
    test_expect_error(ctx, imgp_regf_get_string(h, f.alpha, "str", buf, 5), IMGP_ERR_LIMIT, "does not fit");
    test_expect_error(ctx, imgp_regf_get_string(h, f.alpha, "Bin", buf, sizeof buf), IMGP_ERR_UNSUPPORTED,
                      "is REG_BINARY of 5 bytes, not a string");

    uint32_t d;
    assert_int_equal(imgp_regf_get_dword(h, f.alpha, "dw", &d), IMGP_OK);
    assert_int_equal(d, 42);
    assert_int_equal(imgp_regf_get_dword(h, f.alpha, "be", &d), IMGP_OK);
    assert_int_equal(d, 0x102);
    test_expect_error(ctx, imgp_regf_get_dword(h, f.alpha, "Q", &d), IMGP_ERR_UNSUPPORTED, "REG_QWORD of 8 bytes");
    uint64_t q;
    assert_int_equal(imgp_regf_get_qword(h, f.alpha, "q", &q), IMGP_OK);
    assert_true(q == 0x1122334455667788ull);
    assert_int_equal(imgp_regf_get_qword(h, f.alpha, "dw", &q), IMGP_OK);
    assert_true(q == 42);
    test_expect_error(ctx, imgp_regf_get_qword(h, f.alpha, "Str", &q), IMGP_ERR_UNSUPPORTED, "REG_SZ");

    char all[64] = "";
    assert_int_equal(imgp_regf_get_multi_sz(h, f.alpha, "multi", collect_string, all), IMGP_OK);
    assert_string_equal(all, "one|two|"); /* stops at the empty string */
    test_expect_error(ctx, imgp_regf_get_multi_sz(h, f.alpha, "Str", collect_string, all), IMGP_ERR_UNSUPPORTED,
                      "not REG_MULTI_SZ");
    /* a key without values */
    s.n = 0;
    assert_int_equal(imgp_regf_values(h, f.cafe, collect_value, &s), IMGP_OK);
    assert_int_equal(s.n, 0);
    imgp_regf_close(h);
    imgp_ctx_free(ctx);
}

/* A value whose data spans @p size bytes in big data segments; the test hive's Alpha gets it as "Big". */
static uint32_t big_value(size_t size, uint32_t nseg, uint32_t short_seg)
{
    uint32_t segs[8];
    for (uint32_t i = 0; i < nseg; i++) {
        size_t left = size - (size_t)i * REGF_DB_SEGMENT_MAX;
        size_t len = left < REGF_DB_SEGMENT_MAX ? left : REGF_DB_SEGMENT_MAX;
        if (i + 1 == short_seg)
            len -= 8;
        segs[i] = cell_new(len);
        for (size_t j = 0; j < len; j++)
            data_of(segs[i])[j] = (uint8_t)((i * REGF_DB_SEGMENT_MAX + j) % 251);
    }
    uint32_t list = cell_new(4 * nseg);
    for (uint32_t i = 0; i < nseg; i++)
        test_put_le32(data_of(list), 4 * i, segs[i]);
    uint32_t db = cell_new(REGF_DB_SIZE);
    memcpy(data_of(db), "db", 2);
    test_put_le16(data_of(db), REGF_DB_SEGMENT_COUNT, (uint16_t)nseg);
    test_put_le32(data_of(db), REGF_DB_SEGMENT_LIST, list);
    uint32_t vk = vk_new("Big", IMGP_REG_BINARY, "\0\0\0\0\0", 5);
    test_put_le32(data_of(vk), REGF_VK_DATA_SIZE, (uint32_t)size);
    test_put_le32(data_of(vk), REGF_VK_DATA_OFFSET, db);
    return vk;
}

static void open_big(uint32_t minor, size_t size, uint32_t nseg, uint32_t short_seg, imgp_ctx *ctx,
                     imgp_status want, const char *needle)
{
    hive_begin(minor);
    uint32_t root = nk_new(0, "R", false);
    uint32_t vk = big_value(size, nseg, short_seg);
    nk_values(root, &vk, 1);
    size_t len = hive_end(root);
    imgp_regf *h = open_ok(ctx, len);
    imgp_regf_value v;
    imgp_status st = imgp_regf_get_value(h, root, "big", &v);
    if (want == IMGP_OK) {
        assert_int_equal(st, IMGP_OK);
        assert_int_equal(v.len, size);
        for (size_t j = 0; j < size; j++)
            if (v.data[j] != (uint8_t)(j % 251))
                fail_msg("big data byte %zu is %u", j, v.data[j]);
    } else {
        test_expect_error(ctx, st, want, needle);
    }
    imgp_regf_close(h);
}

static void test_big_data(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    open_big(5, 2 * REGF_DB_SEGMENT_MAX + 100, 3, 0, ctx, IMGP_OK, NULL);
    open_big(4, REGF_DB_SEGMENT_MAX + 1, 2, 0, ctx, IMGP_OK, NULL);
    open_big(5, REGF_DB_SEGMENT_MAX + 1, 3, 0, ctx, IMGP_OK, NULL); /* a spare segment is ignored */
    open_big(3, REGF_DB_SEGMENT_MAX + 1, 2, 0, ctx, IMGP_ERR_CORRUPT, "in a version 1.3 hive");
    open_big(5, 2 * REGF_DB_SEGMENT_MAX + 100, 2, 0, ctx, IMGP_ERR_CORRUPT, "has 2 segments for 32788 bytes (3 needed)");
    open_big(5, 2 * REGF_DB_SEGMENT_MAX + 100, 3, 1, ctx, IMGP_ERR_CORRUPT, "data segment 0");
    /* the hive and the value it reassembles share hive_bytes: one byte short, and just enough */
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_HIVE_BYTES, HIVE_MAX + 2 * REGF_DB_SEGMENT_MAX + 99);
    open_big(5, 2 * REGF_DB_SEGMENT_MAX + 100, 3, 0, ctx, IMGP_ERR_LIMIT,
             "for 32788 bytes: with the hive's 69632, over the limit hive_bytes (102419)");
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_HIVE_BYTES, HIVE_MAX + 2 * REGF_DB_SEGMENT_MAX + 100);
    open_big(5, 2 * REGF_DB_SEGMENT_MAX + 100, 3, 0, ctx, IMGP_OK, NULL);
    /* data over 16344 bytes in one cell (as hivex writes it) is plain data */
    hive_begin(5);
    uint32_t root = nk_new(0, "R", false);
    static uint8_t blob[20000];
    for (size_t j = 0; j < sizeof blob; j++)
        blob[j] = (uint8_t)j;
    uint32_t vk = vk_new("Plain", IMGP_REG_BINARY, blob, sizeof blob);
    nk_values(root, &vk, 1);
    imgp_regf *h = open_ok(ctx, hive_end(root));
    imgp_regf_value v;
    assert_int_equal(imgp_regf_get_value(h, root, "plain", &v), IMGP_OK);
    assert_int_equal(v.len, sizeof blob);
    assert_memory_equal(v.data, blob, sizeof blob);
    imgp_regf_close(h);
    imgp_ctx_free(ctx);
}

/* ---- tests: damage, one field at a time ---- */

static void test_base_block(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    fixture f = build(5);
    static uint8_t good[HIVE_MAX];
    memcpy(good, hive, sizeof good);
#define RESET() memcpy(hive, good, sizeof good)
    open_fails(ctx, 3, IMGP_ERR_CORRUPT, "no 'regf' signature");
    open_fails(ctx, 4095, IMGP_ERR_CORRUPT, "file of 4095 bytes is shorter than the base block");
    hive[0] = 'R';
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "no 'regf' signature");
    RESET();
    test_put_le32(hive, REGF_BASE_FILE_TYPE, 1);
    open_fails(ctx, f.len, IMGP_ERR_UNSUPPORTED, "file type 1: a transaction log");
    RESET();
    test_put_le32(hive, REGF_BASE_MAJOR, 2);
    open_fails(ctx, f.len, IMGP_ERR_UNSUPPORTED, "hive version 2.5 is not supported");
    RESET();
    test_put_le32(hive, REGF_BASE_MINOR, 1);
    open_fails(ctx, f.len, IMGP_ERR_UNSUPPORTED, "hive version 1.1");
    RESET();
    test_put_le32(hive, REGF_BASE_MINOR, 7);
    open_fails(ctx, f.len, IMGP_ERR_UNSUPPORTED, "hive version 1.7");
    RESET();
    test_put_le32(hive, REGF_BASE_FILE_FORMAT, 2);
    open_fails(ctx, f.len, IMGP_ERR_UNSUPPORTED, "file format 2");
    RESET();
    test_put_le32(hive, REGF_BASE_BINS_SIZE, 0);
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "hive bins data size 0x0 is not a positive multiple of 4096");
    RESET();
    test_put_le32(hive, REGF_BASE_BINS_SIZE, 4097);
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "0x1001 is not a positive multiple");
    RESET();
    open_fails(ctx, f.len - 4096, IMGP_ERR_CORRUPT, "hive bins data of 0x10000 bytes runs past the end of the file");
    test_put_le32(hive, REGF_BASE_ROOT_CELL, f.root + 8);
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "root cell offset of the base block at 0x0 points to 0x1028");
    RESET();
    test_put_le32(hive, REGF_BASE_ROOT_CELL, f.leaf1);
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "is not a key node");

    /* dirty: sequence numbers differ; a wrong checksum; both read as they are, and said */
    RESET();
    test_put_le32(hive, REGF_BASE_SEQ_SECONDARY, 6);
    seal();
    imgp_regf *h = open_ok(ctx, f.len);
    assert_true(imgp_regf_dirty(h));
    assert_int_equal(imgp_regf_get_info(h)->nnotes, 1);
    assert_non_null(strstr(imgp_regf_get_info(h)->notes[0], "sequence numbers 7 and 6 differ"));
    imgp_regf_close(h);
    RESET();
    hive[REGF_BASE_CHECKSUM] ^= 1;
    h = open_ok(ctx, f.len);
    assert_true(imgp_regf_dirty(h));
    assert_false(imgp_regf_get_info(h)->checksum_ok);
    assert_non_null(strstr(imgp_regf_get_info(h)->notes[0], "checksum"));
    imgp_regf_close(h);
    /* remnant data after the bins: whole pages silently, anything else noted */
    RESET();
    test_put_le32(hive, REGF_BASE_BINS_SIZE, BIN - 4096 * 4);
    test_put_le32(at(0), REGF_BIN_SIZE, BIN - 4096 * 4);
    test_put_le32(at(next_cell), 0, BIN - 4096 * 4 - next_cell);
    seal();
    h = open_ok(ctx, f.len);
    assert_int_equal(imgp_regf_get_info(h)->nnotes, 0);
    imgp_regf_close(h);
    h = open_ok(ctx, f.len - 7);
    assert_non_null(strstr(imgp_regf_get_info(h)->notes[0], "16377 bytes after the hive bins data"));
    imgp_regf_close(h);
    /* the limit */
    RESET();
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_HIVE_BYTES, 4096);
    open_fails(ctx, f.len, IMGP_ERR_LIMIT, "over the limit hive_bytes (4096)");
    imgp_ctx_free(ctx);
}

static void test_bins(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    fixture f = build(5);
    static uint8_t good[HIVE_MAX];
    memcpy(good, hive, sizeof good);
    memcpy(at(0), "hbix", 4);
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "no 'hbin' signature at 0x1000");
    RESET();
    test_put_le32(at(0), REGF_BIN_OFFSET, 4096);
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "hive bin at 0x1000 records offset 0x1000, not 0x0");
    RESET();
    test_put_le32(at(0), REGF_BIN_SIZE, 100);
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "hive bin at 0x1000 has size 0x64");
    RESET();
    test_put_le32(at(0), REGF_BIN_SIZE, BIN + 4096);
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "has size 0x11000");
    RESET();
    test_put_le32(at(0), REGF_BIN_SIZE, BIN - 4096); /* the next bin's header is then a cell's data */
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "has size");
    RESET();
    test_put_le32(at(f.root), 0, 0);
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "cell at 0x1020 has size 0");
    RESET();
    test_put_le32(at(f.root), 0, 0u - 90);
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "cell at 0x1020 has size 90");
    RESET();
    test_put_le32(at(f.root), 0, 0x80000000u);
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "cell at 0x1020 has size 2147483648");
    RESET();
    test_put_le32(at(next_cell), 0, BIN - next_cell + 8);
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "its hive bin ends at 0x11000");
    RESET();
    /* the root cell free */
    test_put_le32(at(f.root), 0, 0u - rd32(at(f.root)));
    open_fails(ctx, f.len, IMGP_ERR_CORRUPT, "points to 0x1020, which is not the start of an allocated cell");
    imgp_ctx_free(ctx);
}

/* Expect the walk of the root's subkeys (or @p key's) to fail. */
static void subkeys_fail(imgp_ctx *ctx, size_t len, imgp_regf_key key, imgp_status want, const char *needle)
{
    imgp_regf *h = open_ok(ctx, len);
    names n = {0};
    test_expect_error(ctx, imgp_regf_subkeys(h, key, collect, &n), want, needle);
    assert_int_equal(n.n, 0); /* checked before any child is passed */
    imgp_regf_key k;
    test_expect_error(ctx, imgp_regf_lookup(h, key, "x", &k), want, needle);
    imgp_regf_close(h);
}

static void test_subkey_lists(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    fixture f = build(5);
    static uint8_t good[HIVE_MAX];
    memcpy(good, hive, sizeof good);
    /* counts */
    nk_set(f.root, REGF_NK_SUBKEY_COUNT, 5);
    subkeys_fail(ctx, f.len, f.root, IMGP_ERR_CORRUPT, "counts 5 subkeys, but its subkey lists hold 4");
    RESET();
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_DIR_ENTRIES, 3);
    subkeys_fail(ctx, f.len, f.root, IMGP_ERR_LIMIT, "has 4 subkeys (limit dir_entries 3)");
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_DIR_ENTRIES, 1000);
    /* lists */
    nk_set(f.root, REGF_NK_SUBKEY_LIST, REGF_NO_CELL);
    subkeys_fail(ctx, f.len, f.root, IMGP_ERR_CORRUPT, "subkey list of the key node at 0x1020 points nowhere");
    RESET();
    nk_set(f.root, REGF_NK_SUBKEY_LIST, f.root_list + 4);
    subkeys_fail(ctx, f.len, f.root, IMGP_ERR_CORRUPT, "not the start of an allocated cell");
    RESET();
    memcpy(data_of(f.root_list), "rx", 2);
    subkeys_fail(ctx, f.len, f.root, IMGP_ERR_CORRUPT, "is not a subkey list (signature 72 78");
    RESET();
    test_put_le16(data_of(f.leaf1), REGF_LIST_COUNT, 300);
    subkeys_fail(ctx, f.len, f.root, IMGP_ERR_CORRUPT, "li list at 0x");
    RESET();
    test_put_le32(data_of(f.root_list), REGF_LIST_ELEMENTS + 4, f.root_list); /* an ri in an ri */
    subkeys_fail(ctx, f.len, f.root, IMGP_ERR_CORRUPT, "names another index root");
    RESET();
    test_put_le32(data_of(f.root_list), REGF_LIST_ELEMENTS + 4, f.alpha); /* an nk as a leaf */
    subkeys_fail(ctx, f.len, f.root, IMGP_ERR_CORRUPT, "is not a subkey list");
    /* children */
    RESET();
    test_put_le32(data_of(f.leaf2), REGF_LIST_ELEMENTS, f.leaf1); /* a list as a key */
    subkeys_fail(ctx, f.len, f.root, IMGP_ERR_CORRUPT, "is not a key node");
    RESET();
    test_put_le32(data_of(f.leaf2), REGF_LIST_ELEMENTS + 8, f.root); /* the root as a subkey: a cycle */
    subkeys_fail(ctx, f.len, f.root, IMGP_ERR_CORRUPT, "(the root)");
    RESET();
    nk_set(f.wide, REGF_NK_SUBKEY_LIST, f.root_list); /* Wide lists the root's keys as its own */
    nk_set(f.wide, REGF_NK_SUBKEY_COUNT, 4);
    subkeys_fail(ctx, f.len, f.wide, IMGP_ERR_CORRUPT, "whose parent is 0x1020");
    /* an nk too short for its name */
    RESET();
    test_put_le16(data_of(f.alpha), REGF_NK_NAME_LEN, 200);
    subkeys_fail(ctx, f.len, f.root, IMGP_ERR_CORRUPT, "name of 200 bytes runs past its cell");
    RESET();
    test_put_le16(data_of(f.wide), REGF_NK_NAME_LEN, 7);
    subkeys_fail(ctx, f.len, f.root, IMGP_ERR_CORRUPT, "UTF-16 name of odd length 7");
    imgp_ctx_free(ctx);
}

/* The same tree under an lf, an lh and an li straight under the root. */
static void test_leaf_kinds(void **state)
{
    (void)state;
    const char *kinds[] = {"lf", "lh", "li"};
    for (size_t i = 0; i < 3; i++) {
        imgp_ctx *ctx = ctx_new();
        fixture f = build_with(3, kinds[i]);
        imgp_regf *h = open_ok(ctx, f.len);
        names n = {0};
        assert_int_equal(imgp_regf_subkeys(h, f.root, collect, &n), IMGP_OK);
        assert_int_equal(n.n, 4);
        assert_string_equal(n.buf[3], "Wide");
        imgp_regf_key k;
        assert_int_equal(imgp_regf_lookup(h, f.root, "wide\\deep", &k), IMGP_OK);
        assert_int_equal(k, f.deep);
        imgp_regf_close(h);
        imgp_ctx_free(ctx);
    }
}

static int stop_at_first(void *arg, imgp_regf_key child, const char *name)
{
    (void)child;
    (void)name;
    (*(int *)arg)++;
    return 1;
}

static int stop_value(void *arg, const imgp_regf_value *v)
{
    (void)v;
    (*(int *)arg)++;
    return 1;
}

static void test_stop(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    fixture f = build(5);
    imgp_regf *h = open_ok(ctx, f.len);
    int n = 0;
    assert_int_equal(imgp_regf_subkeys(h, f.root, stop_at_first, &n), IMGP_OK);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(imgp_regf_values(h, f.alpha, stop_value, &n), IMGP_OK);
    assert_int_equal(n, 1);
    imgp_regf_close(h);
    imgp_ctx_free(ctx);
}

/* Expect reading the values of Alpha, and the value "Bin", to fail. */
static void values_fail(imgp_ctx *ctx, const fixture *f, imgp_status want, const char *needle)
{
    imgp_regf *h = open_ok(ctx, f->len);
    seen s = {0};
    test_expect_error(ctx, imgp_regf_values(h, f->alpha, collect_value, &s), want, needle);
    imgp_regf_value v;
    test_expect_error(ctx, imgp_regf_get_value(h, f->alpha, "Bin", &v), want, needle);
    imgp_regf_close(h);
}

static void test_value_damage(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    fixture f = build(5);
    static uint8_t good[HIVE_MAX];
    memcpy(good, hive, sizeof good);
    nk_set(f.alpha, REGF_NK_VALUE_COUNT, 10); /* the list's cell, padded, has room for 9 */
    values_fail(ctx, &f, IMGP_ERR_CORRUPT, "counts 10 values, but its value list at");
    RESET();
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_DIR_ENTRIES, 7);
    values_fail(ctx, &f, IMGP_ERR_LIMIT, "has 8 values (limit dir_entries 7)");
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_DIR_ENTRIES, 1000);
    nk_set(f.alpha, REGF_NK_VALUE_LIST, REGF_NO_CELL);
    values_fail(ctx, &f, IMGP_ERR_CORRUPT, "value list of the key node at 0x");
    RESET();
    memcpy(data_of(f.alpha_str_vk), "vx", 2);
    values_fail(ctx, &f, IMGP_ERR_CORRUPT, "is not a key value");
    RESET();
    test_put_le32(data_of(f.alpha_str_vk), REGF_VK_DATA_SIZE, 5 | REGF_VK_DATA_INLINE);
    values_fail(ctx, &f, IMGP_ERR_CORRUPT, "5 bytes of data stored inline (at most 4 fit)");
    RESET();
    test_put_le16(data_of(f.alpha_str_vk), REGF_VK_NAME_LEN, 100);
    values_fail(ctx, &f, IMGP_ERR_CORRUPT, "name of 100 bytes runs past its cell");
    RESET();
    test_put_le16(data_of(f.alpha_str_vk), REGF_VK_FLAGS, 0);
    values_fail(ctx, &f, IMGP_ERR_CORRUPT, "UTF-16 name of odd length 3");
    RESET();
    test_put_le32(data_of(f.bin_vk), REGF_VK_DATA_SIZE, 100);
    values_fail(ctx, &f, IMGP_ERR_CORRUPT, "100 bytes of data do not fit its data cell");
    RESET();
    test_put_le32(data_of(f.bin_vk), REGF_VK_DATA_OFFSET, REGF_NO_CELL);
    values_fail(ctx, &f, IMGP_ERR_CORRUPT, "data of the key value at 0x");
    RESET();
    test_put_le32(data_of(f.bin_vk), REGF_VK_DATA_OFFSET, 0x7ffffff0);
    values_fail(ctx, &f, IMGP_ERR_CORRUPT, "points to 0x80000ff0");
    /* data over 16344 bytes in a cell too small, that is not big data */
    RESET();
    test_put_le32(data_of(f.bin_vk), REGF_VK_DATA_SIZE, 20000);
    values_fail(ctx, &f, IMGP_ERR_CORRUPT, "20000 bytes of data do not fit");
    imgp_ctx_free(ctx);
}

/* ---- helpers ---- */

static void test_text(void **state)
{
    (void)state;
    char out[32];
    size_t n;
    /* "a", U+1F600 as a surrogate pair, an unpaired high surrogate, "b", NUL, "c" */
    const uint8_t u[] = {'a', 0, 0x3d, 0xd8, 0x00, 0xde, 0x3d, 0xd8, 'b', 0, 0, 0, 'c', 0, 'z'};
    assert_true(regf_utf16_to_utf8(u, sizeof u, true, out, sizeof out, &n));
    assert_string_equal(out, "a\xf0\x9f\x98\x80\xef\xbf\xbd" "b");
    assert_int_equal(n, 9);
    assert_true(regf_utf16_to_utf8(u, sizeof u, false, out, sizeof out, &n));
    assert_int_equal(n, 11); /* the NUL kept, the odd byte dropped */
    assert_memory_equal(out + 9, "\0c", 2);
    assert_false(regf_utf16_to_utf8(u, sizeof u, true, out, 4, &n));
    assert_true(strlen(out) < 4);
    /* a lone low surrogate at the end */
    const uint8_t lo[] = {0x00, 0xdc};
    assert_true(regf_utf16_to_utf8(lo, 2, true, out, sizeof out, NULL));
    assert_string_equal(out, "\xef\xbf\xbd");

    const uint8_t latin[] = {'c', 'a', 'f', 0xe9};
    assert_true(regf_name_equal(latin, 4, true, "CAF\xc3\x89", 5));
    assert_true(regf_name_equal(latin, 4, true, "caf\xc3\xa9", 5));
    assert_false(regf_name_equal(latin, 4, true, "cafe", 4));
    assert_false(regf_name_equal(latin, 4, true, "caf", 3));
    assert_false(regf_name_equal(latin, 3, true, "caf\xc3\xa9", 5));
    const uint8_t x[] = {0xf7}; /* the division sign has no case */
    assert_false(regf_name_equal(x, 1, true, "\xc3\x97", 2));
    const uint8_t wide[] = {'A', 0, 0x3d, 0xd8, 0x00, 0xde};
    assert_true(regf_name_equal(wide, 6, false, "a\xf0\x9f\x98\x80", 5));
    assert_false(regf_name_equal(wide, 6, false, "a\xf0\x9f\x98", 4)); /* truncated UTF-8 */
    assert_true(regf_name_equal(wide, 0, false, "", 0));

    char buf[16];
    assert_string_equal(regf_type_name(IMGP_REG_EXPAND_SZ, buf), "REG_EXPAND_SZ");
    assert_string_equal(regf_type_name(0x12345, buf), "type 0x12345");
    uint8_t base[512] = {0};
    assert_int_equal(regf_checksum(base), 1); /* 0 becomes 1 */
    test_put_le32(base, 0, 0xffffffff);
    assert_int_equal(regf_checksum(base), 0xfffffffe);
}

static void test_open_file(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    imgp_fs *fs = memfs_new(ctx);
    imgp_ino dir = memfs_add(fs, 1, "config", IMGP_FT_DIR, NULL);
    imgp_ino text = memfs_add(fs, dir, "SYSTEM", IMGP_FT_REG, "regfnot a hive");
    imgp_regf *h = (imgp_regf *)1;
    test_expect_error(ctx, imgp_regf_open_file(ctx, fs, dir, &h), IMGP_ERR_INVALID_ARG, "not a regular file");
    assert_null(h);
    test_expect_error(ctx, imgp_regf_open_file(ctx, fs, text, &h), IMGP_ERR_CORRUPT,
                      "file of 14 bytes is shorter than the base block");

    /* a good hive with 4 KiB after its bins: the base block and the bins are read, nothing else */
    hive_begin(5);
    size_t len = hive_end(nk_new(0, "ROOT", false));
    imgp_ino good = memfs_add_bytes(fs, dir, "SOFTWARE", hive, len, len + 4096);
    uint64_t before = memfs_bytes_read(fs);
    assert_int_equal(imgp_regf_open_file(ctx, fs, good, &h), IMGP_OK);
    assert_int_equal(memfs_bytes_read(fs) - before, len);
    imgp_regf_close(h);

    /* the same hive in 16 bins of 4 KiB: read in doubling steps (4, 8 ... 64 KiB, then the rest), each
     * bin's header checked as it comes, not one read a bin */
    test_put_le32(at(0), REGF_BIN_SIZE, 4096);
    test_put_le32(at(next_cell), 0, 4096 - next_cell);
    for (uint32_t bin = 4096; bin < BIN; bin += 4096) {
        memcpy(at(bin), "hbin", 4);
        test_put_le32(at(bin), REGF_BIN_OFFSET, bin);
        test_put_le32(at(bin), REGF_BIN_SIZE, 4096);
        test_put_le32(at(bin + REGF_BIN_HEADER_SIZE), 0, 4096 - REGF_BIN_HEADER_SIZE);
    }
    imgp_ino binned = memfs_add_bytes(fs, dir, "DEFAULT", hive, len, len);
    before = memfs_bytes_read(fs);
    uint64_t reads = memfs_reads(fs);
    assert_int_equal(imgp_regf_open_file(ctx, fs, binned, &h), IMGP_OK);
    assert_int_equal(imgp_regf_get_info(h)->bins_size, BIN);
    assert_int_equal(memfs_bytes_read(fs) - before, len);
    assert_int_equal(memfs_reads(fs) - reads, 1 + 5);
    imgp_regf_close(h);
    /* a bad header among them stops the read there */
    memcpy(at(5 * 4096), "hbix", 4);
    imgp_ino badbin = memfs_add_bytes(fs, dir, "SECURITY", hive, len, len);
    before = memfs_bytes_read(fs);
    test_expect_error(ctx, imgp_regf_open_file(ctx, fs, badbin, &h), IMGP_ERR_CORRUPT,
                      "no 'hbin' signature at 0x6000");
    assert_int_equal(memfs_bytes_read(fs) - before, 32768);
    /* back to one bin (the other headers are left inside its free cell) */
    test_put_le32(at(0), REGF_BIN_SIZE, BIN);
    test_put_le32(at(next_cell), 0, BIN - next_cell);

    /* a base block that claims 64 MiB of bins over one real bin and zeros (a sparse file): the read
     * stops at the first header that is no hive bin, having read the bin and that header only (a read
     * reaches at least the next header, else twice what was held) */
    uint32_t claimed = 64u << 20;
    test_put_le32(hive, REGF_BASE_BINS_SIZE, claimed);
    seal();
    imgp_ino sparse = memfs_add_bytes(fs, dir, "SAM", hive, len, REGF_BASE_SIZE + (uint64_t)claimed);
    before = memfs_bytes_read(fs);
    test_expect_error(ctx, imgp_regf_open_file(ctx, fs, sparse, &h), IMGP_ERR_CORRUPT,
                      "no 'hbin' signature at 0x11000 (hive bins end at 0x4001000)");
    assert_null(h);
    assert_int_equal(memfs_bytes_read(fs) - before, len + REGF_BIN_HEADER_SIZE);

    /* the limit is checked against what the base block claims, before anything is allocated */
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_HIVE_BYTES, 10);
    before = memfs_bytes_read(fs);
    test_expect_error(ctx, imgp_regf_open_file(ctx, fs, sparse, &h), IMGP_ERR_LIMIT,
                      "hive of 67112960 bytes (its base block and hive bins) is over the limit hive_bytes (10)");
    assert_int_equal(memfs_bytes_read(fs) - before, REGF_BASE_SIZE);
    imgp_fs_unmount(fs);
    imgp_ctx_free(ctx);
}

/* Open the hive built last and read what allocates: notes, big data, a multi-string. */
static imgp_status read_all(imgp_ctx *ctx, size_t len, imgp_regf_key key, const char *value)
{
    imgp_regf *h = NULL;
    imgp_status st = imgp_regf_open(ctx, hive, len, &h);
    if (st != IMGP_OK)
        return st;
    imgp_regf_value v;
    char all[64] = "";
    st = value ? imgp_regf_get_value(h, key, value, &v) : imgp_regf_get_multi_sz(h, key, "multi", collect_string, all);
    imgp_regf_close(h);
    return st;
}

/* Every allocation failing in turn: a clean NOMEM, nothing leaked (LeakSanitizer). */
static void check_alloc_failures(size_t len, imgp_regf_key key, const char *value)
{
    for (unsigned i = 1;; i++) {
        imgp_ctx *ctx = test_ctx_failing_alloc(i);
        assert_non_null(ctx);
        imgp_status st = read_all(ctx, len, key, value);
        unsigned made = test_alloc_count();
        imgp_ctx_free(ctx);
        if (st == IMGP_OK && i > made)
            break;
        if (st != IMGP_OK)
            assert_int_equal(st, IMGP_ERR_NOMEM);
        assert_true(i < 100);
    }
}

static void test_alloc_failures(void **state)
{
    (void)state;
    fixture f = build(5);
    test_put_le32(hive, REGF_BASE_SEQ_SECONDARY, 1); /* dirty: a note */
    seal();
    check_alloc_failures(f.len, f.alpha, NULL);
    hive_begin(5);
    uint32_t root = nk_new(0, "R", false);
    uint32_t vk = big_value(2 * REGF_DB_SEGMENT_MAX + 100, 3, 0);
    nk_values(root, &vk, 1);
    check_alloc_failures(hive_end(root), root, "big");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_big_data),
        cmocka_unit_test(test_base_block),
        cmocka_unit_test(test_bins),
        cmocka_unit_test(test_subkey_lists),
        cmocka_unit_test(test_leaf_kinds),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_value_damage),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_open_file),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
