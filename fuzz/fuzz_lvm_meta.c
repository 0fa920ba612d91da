/*
 * libFuzzer harness over the LVM2 text metadata parser (lvm_meta_parse(),
 * src/partition/lvm_meta.c) and the volume group model read from its tree
 * (lvm_vg_from_meta(), src/partition/lvm_vg.c): no I/O, so every input
 * reaches the grammar. Replayed without libFuzzer by replay.c.
 *
 * Invariants (abort() when one breaks):
 *  - a failure returns a status in the enum other than OK, leaves a non-empty
 *    message with that status, and no tree;
 *  - a success is a tree whose root is a section with key "", with at most
 *    LVM_META_MAX_NODES nodes (the count it reports) nested at most
 *    LVM_META_MAX_DEPTH sections deep; each section's and array's nchildren
 *    is the length of its list; members have non-empty keys, array elements
 *    none and only scalar kinds; strings hold no NUL before str_len; floats
 *    are [+-]digits with one '.';
 *  - lvm_meta_get() finds the first member of a key;
 *  - writing the tree back as text (every key and string quoted and escaped)
 *    and parsing that gives the same tree;
 *  - a volume group read from the tree has extent_size > 0, and every LV
 *    that is readable has segments end to end from extent 0, stripes on PVs
 *    the VG lists within their pe_count, and size = extents * extent bytes;
 *  - everything allocated is freed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness_support.h"
#include "partition/lvm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the tree's shape ---- */

static bool is_scalar(lvm_meta_kind k) { return k == LVM_META_STRING || k == LVM_META_INT || k == LVM_META_FLOAT; }

static void check_float(const char *s)
{
    size_t i = (*s == '+' || *s == '-') ? 1 : 0, digits = 0, dots = 0;
    for (; s[i]; i++) {
        if (s[i] == '.')
            dots++;
        else if (s[i] >= '0' && s[i] <= '9')
            digits++;
        else
            CHECK(false, "a float literal holds only digits and one dot");
    }
    CHECK(dots == 1 && digits > 0, "a float literal has one dot and a digit");
}

static void check_scalar(const lvm_meta_node *n)
{
    CHECK(is_scalar(n->kind), "a value is a scalar");
    CHECK(n->child == NULL && n->nchildren == 0, "a scalar has no children");
    if (n->kind == LVM_META_STRING || n->kind == LVM_META_FLOAT) {
        CHECK(n->str != NULL, "a string has text");
        CHECK(strlen(n->str) == n->str_len, "no NUL inside a string");
    }
    if (n->kind == LVM_META_FLOAT)
        check_float(n->str);
}

/* @return the nodes under @p sec (itself not counted). */
static size_t check_section(const lvm_meta_node *sec, unsigned depth)
{
    CHECK(depth <= LVM_META_MAX_DEPTH, "sections nest within the bound");
    size_t nodes = 0, members = 0;
    for (const lvm_meta_node *n = sec->child; n; n = n->next) {
        members++;
        nodes++;
        CHECK(n->key != NULL && n->key[0] != '\0', "a member has a key");
        CHECK(n->line >= sec->line, "lines go forward");
        if (n->kind == LVM_META_SECTION) {
            nodes += check_section(n, depth + 1);
        } else if (n->kind == LVM_META_ARRAY) {
            size_t elements = 0;
            for (const lvm_meta_node *e = n->child; e; e = e->next) {
                CHECK(e->key == NULL, "an array element has no key");
                check_scalar(e);
                elements++;
            }
            CHECK(elements == n->nchildren, "an array's count");
            nodes += elements;
        } else {
            check_scalar(n);
        }
        /* lvm_meta_get() finds the first of a key (checked on the first members: it is a linear search) */
        if (members > 64)
            continue;
        const lvm_meta_node *first = sec->child;
        while (strcmp(first->key, n->key) != 0)
            first = first->next;
        CHECK(lvm_meta_get(sec, n->key) == first, "lvm_meta_get finds the first member of a key");
    }
    CHECK(members == sec->nchildren, "a section's count");
    return nodes;
}

/* ---- writing the tree back ---- */

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (n > t->cap - t->len) {
        size_t cap = (t->cap + n) * 2;
        char *p = realloc(t->p, cap);
        CHECK(p != NULL, "memory for the text");
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
}

static void put_quoted(text *t, const char *s, size_t n)
{
    put(t, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            put(t, "\\", 1);
        put(t, s + i, 1);
    }
    put(t, "\"", 1);
}

static void put_scalar(text *t, const lvm_meta_node *n)
{
    char num[32];
    if (n->kind == LVM_META_INT) {
        int len = snprintf(num, sizeof num, "%" PRId64, n->num);
        put(t, num, (size_t)len);
    } else if (n->kind == LVM_META_FLOAT) {
        put(t, n->str, n->str_len);
    } else {
        put_quoted(t, n->str, n->str_len);
    }
}

static void put_section(text *t, const lvm_meta_node *sec)
{
    for (const lvm_meta_node *n = sec->child; n; n = n->next) {
        put_quoted(t, n->key, strlen(n->key));
        if (n->kind == LVM_META_SECTION) {
            put(t, " {\n", 3);
            put_section(t, n);
            put(t, "}\n", 2);
            continue;
        }
        put(t, " = ", 3);
        if (n->kind == LVM_META_ARRAY) {
            put(t, "[", 1);
            for (const lvm_meta_node *e = n->child; e; e = e->next) {
                put_scalar(t, e);
                put(t, e->next ? ", " : "", e->next ? 2 : 0);
            }
            put(t, "]", 1);
        } else {
            put_scalar(t, n);
        }
        put(t, "\n", 1);
    }
}

static void check_same(const lvm_meta_node *a, const lvm_meta_node *b)
{
    for (; a && b; a = a->next, b = b->next) {
        CHECK((a->key == NULL) == (b->key == NULL) && (!a->key || strcmp(a->key, b->key) == 0), "same key");
        CHECK(a->kind == b->kind && a->nchildren == b->nchildren, "same kind and count");
        if (a->kind == LVM_META_INT)
            CHECK(a->num == b->num, "same integer");
        if (a->kind == LVM_META_STRING || a->kind == LVM_META_FLOAT)
            CHECK(a->str_len == b->str_len && memcmp(a->str, b->str, a->str_len) == 0, "same string");
        check_same(a->child, b->child);
    }
    CHECK(a == NULL && b == NULL, "same length");
}

/* ---- the volume group ---- */

static void check_vg(const lvm_vg *vg)
{
    CHECK(vg->extent_size > 0 && vg->extent_size <= UINT64_MAX / LVM_SECTOR, "extent_size");
    uint64_t extent_bytes = vg->extent_size * LVM_SECTOR;
    for (size_t i = 0; i < vg->npvs; i++)
        CHECK(strlen(vg->pvs[i].uuid) == LVM_ID_LEN, "a PV UUID has 32 characters");
    for (size_t i = 0; i < vg->nlvs; i++) {
        const lvm_lv *lv = &vg->lvs[i];
        CHECK(lv->name && lv->name[0] && lv->type, "an LV has a name and a type");
        if (lv->unreadable) {
            CHECK(lv->unreadable[0] != '\0', "a reason is said");
            continue;
        }
        uint64_t next = 0;
        CHECK(lv->nsegs > 0, "a readable LV has segments");
        for (size_t j = 0; j < lv->nsegs; j++) {
            const lvm_segment *s = &lv->segs[j];
            CHECK(s->start_extent == next && s->extent_count > 0, "segments end to end");
            next += s->extent_count;
            CHECK(s->kind != LVM_SEG_OTHER, "a readable LV has only striped and zero segments");
            if (s->kind != LVM_SEG_STRIPED)
                continue;
            CHECK(s->stripe_count >= 1 && s->stripe_count <= LVM_MAX_STRIPES, "stripe count");
            CHECK(s->extent_count % s->stripe_count == 0, "stripes divide the segment");
            uint64_t area = s->extent_count / s->stripe_count;
            CHECK(s->stripe_count == 1 || (s->stripe_size > 0 && (area * extent_bytes) % (s->stripe_size * 512) == 0),
                  "whole chunks");
            for (uint32_t k = 0; k < s->stripe_count; k++) {
                CHECK(s->stripes[k].pv < vg->npvs, "a stripe's PV is listed");
                const lvm_pv *pv = &vg->pvs[s->stripes[k].pv];
                CHECK(s->stripes[k].pe <= pv->pe_count && area <= pv->pe_count - s->stripes[k].pe,
                      "a stripe lies within its PV's extents");
            }
        }
        CHECK(lv->extents == next, "the LV's length");
        CHECK(lv->size / extent_bytes == lv->extents && lv->size % extent_bytes == 0, "the LV's size");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imgp_allocator alloc = fuzz_counting_allocator;
    imgp_ctx *ctx = imgp_ctx_new(&alloc);
    if (!ctx)
        return 0;
    fuzz_live_blocks = 0;
    lvm_meta *m = (lvm_meta *)&alloc;
    imgp_status st = lvm_meta_parse(ctx, (const char *)data, size, &m);
    if (st != IMGP_OK) {
        check_failure(ctx, st);
        CHECK(m == NULL, "no tree on failure");
    } else {
        const lvm_meta_node *root = lvm_meta_root(m);
        CHECK(root->kind == LVM_META_SECTION && strcmp(root->key, "") == 0, "the root");
        size_t nodes = check_section(root, 0);
        CHECK(nodes == lvm_meta_node_count(m) && nodes <= LVM_META_MAX_NODES, "the node count");

        text t = {0};
        put_section(&t, root);
        lvm_meta *again = NULL;
        st = lvm_meta_parse(ctx, t.p ? t.p : "", t.len, &again);
        if (st != IMGP_OK)
            fprintf(stderr, "reparse: %s\n", imgp_ctx_message(ctx));
        CHECK(st == IMGP_OK, "the tree written back parses");
        check_same(root, lvm_meta_root(again));
        lvm_meta_free(again);
        free(t.p);

        lvm_vg *vg = (lvm_vg *)&alloc;
        st = lvm_vg_from_meta(ctx, m, &vg);
        CHECK(st == IMGP_OK || st == IMGP_ERR_CORRUPT, "a VG or a reason");
        CHECK((st == IMGP_OK) == (vg != NULL), "a VG on success only");
        if (vg)
            check_vg(vg);
        lvm_vg_free(ctx, vg);
        lvm_meta_free(m);
    }
    CHECK(fuzz_live_blocks == 0, "everything allocated is freed");
    imgp_ctx_free(ctx);
    return 0;
}
