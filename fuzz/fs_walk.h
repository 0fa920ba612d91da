/*
 * The walk that the filesystem harnesses share (fuzz_ext4.c, fuzz_xfs.c):
 * mount a memory block device with one driver forced, check the info with
 * the harness's own rules, then walk the whole tree with bounded counts and
 * check the invariants each harness's header lists (readdir names, lookups
 * agreeing with readdir, reads of the right length and consistent in pieces,
 * readlink within the size, stat types in the enum).
 */
#ifndef IMGP_FUZZ_FS_WALK_H
#define IMGP_FUZZ_FS_WALK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "imgprobe/imgprobe.h"

/* Bounds that keep one run fast whatever the input claims. */
enum {
    MAX_DIRS = 64,           /* directories listed */
    MAX_ENTRIES = 2048,      /* entries handled in all */
    READ_BYTES = 64 * 1024,  /* read from the start and the end of each file */
    MAX_READ_TOTAL = 8 << 20 /* bytes read in all */
};

static void invariant_failed(const char *file, int line, const char *cond, const char *what)
{
    fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", file, line, cond, what);
    abort();
}

#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            invariant_failed(__FILE__, __LINE__, #cond, what);                                     \
    } while (0)

/* A failed call: a status within the enum and a message that says it. */
static void check_failure(imgp_ctx *ctx, imgp_status st)
{
    CHECK((unsigned)st < IMGP_STATUS_COUNT_, "status outside the enum");
    CHECK(imgp_ctx_message(ctx)[0] != '\0', "failure without a message");
    CHECK(imgp_ctx_status(ctx) == st, "the message has another status");
}

typedef struct entry {
    char name[256];
    size_t len;
    imgp_ino ino;
    imgp_ftype type;
} entry;

typedef struct walk {
    imgp_ctx *ctx;
    imgp_fs *fs;
    entry *entries; /* of the directory being listed */
    size_t n, budget;
    imgp_ino dirs[MAX_DIRS];
    size_t ndirs;
    size_t read_total;
    uint8_t *buf, *buf2;
} walk;

static int collect(void *arg, const imgp_dirent *e)
{
    walk *w = arg;
    CHECK(e->name_len >= 1 && e->name_len <= 255, "entry name length");
    CHECK(!(e->name_len == 1 && e->name[0] == '.') && !(e->name_len == 2 && memcmp(e->name, "..", 2) == 0),
          "readdir passed . or ..");
    CHECK((unsigned)e->type <= IMGP_FT_SOCK, "entry type outside the enum");
    if (w->n >= w->budget)
        return 1;
    entry *d = &w->entries[w->n++];
    memcpy(d->name, e->name, e->name_len);
    d->len = e->name_len;
    d->ino = e->ino;
    d->type = e->type;
    return 0;
}

static void check_read(walk *w, imgp_ino ino, uint64_t size)
{
    size_t got;
    uint64_t offs[2] = {0, size > READ_BYTES ? size - READ_BYTES : 0};
    for (int i = 0; i < 2 && w->read_total < MAX_READ_TOTAL; i++) {
        uint64_t off = offs[i];
        size_t want = (size_t)(size - off < READ_BYTES ? size - off : READ_BYTES);
        imgp_status st = imgp_fs_read(w->fs, ino, off, w->buf, READ_BYTES, &got);
        w->read_total += READ_BYTES;
        if (st != IMGP_OK) {
            check_failure(w->ctx, st);
            return;
        }
        CHECK(got == want, "a read returns other than min(len, size - off)");
        /* the same range in two pieces */
        size_t half = want / 2, got1 = 0, got2 = 0;
        if (imgp_fs_read(w->fs, ino, off, w->buf2, half, &got1) == IMGP_OK &&
            imgp_fs_read(w->fs, ino, off + half, w->buf2 + half, want - half, &got2) == IMGP_OK) {
            CHECK(got1 == half && got2 == want - half, "a piece read short");
            CHECK(memcmp(w->buf, w->buf2, want) == 0, "a range read in two pieces differs");
        }
    }
    imgp_status st = imgp_fs_read(w->fs, ino, size, w->buf, 1, &got);
    CHECK(st == IMGP_OK && got == 0, "a read at the end returns bytes");
}

static void check_entry(walk *w, imgp_ino dir, size_t i)
{
    const entry *e = &w->entries[i];
    imgp_ino found;
    imgp_status st = imgp_fs_lookup_name(w->fs, dir, e->name, e->len, &found);
    /* lookup reads no further than readdir got to this entry */
    CHECK(st == IMGP_OK, "a listed name is not found");
    size_t first = i;
    for (size_t j = 0; j < i; j++)
        if (w->entries[j].len == e->len && memcmp(w->entries[j].name, e->name, e->len) == 0) {
            first = j;
            break;
        }
    bool matched = false;
    for (size_t j = 0; j <= first && !matched; j++)
        matched = w->entries[j].ino == found;
    CHECK(matched, "lookup returns an inode not listed under the name (or before it)");

    imgp_stat sb;
    st = imgp_fs_stat(w->fs, e->ino, &sb);
    if (st != IMGP_OK) {
        check_failure(w->ctx, st);
        return;
    }
    CHECK((unsigned)sb.type <= IMGP_FT_SOCK && sb.type != IMGP_FT_UNKNOWN, "stat type");
    CHECK(sb.ino == e->ino, "stat of another inode");
    if (sb.type == IMGP_FT_REG) {
        check_read(w, e->ino, sb.size);
    } else if (sb.type == IMGP_FT_SYMLINK) {
        char target[4096];
        st = imgp_fs_readlink(w->fs, e->ino, target, sizeof target);
        if (st != IMGP_OK)
            check_failure(w->ctx, st);
        else
            CHECK(strlen(target) <= sb.size, "a symlink target longer than its size");
    } else if (sb.type == IMGP_FT_DIR && w->ndirs < MAX_DIRS) {
        for (size_t j = 0; j < w->ndirs; j++)
            if (w->dirs[j] == e->ino)
                return;
        w->dirs[w->ndirs++] = e->ino;
    }
}

static void walk_fs(walk *w)
{
    w->dirs[w->ndirs++] = imgp_fs_get_info(w->fs)->root;
    size_t left = MAX_ENTRIES;
    for (size_t d = 0; d < w->ndirs && left > 0; d++) {
        w->n = 0;
        w->budget = left;
        imgp_status st = imgp_fs_readdir(w->fs, w->dirs[d], collect, w);
        if (st != IMGP_OK)
            check_failure(w->ctx, st);
        left -= w->n;
        for (size_t i = 0; i < w->n; i++)
            check_entry(w, w->dirs[d], i);
    }
}

/*
 * One input: probe it with @p drv, mount it with @p drv forced, check a
 * failure, or check the info with @p check_info and walk everything.
 */
static void fuzz_fs_input(const uint8_t *data, size_t size, const imgp_fs_driver *drv,
                          void (*check_info)(const imgp_fs_info *in))
{
    int score = drv->probe(data, size, size);
    CHECK(score >= 0 && score <= IMGP_SCORE_MAGIC, "probe score out of range");

    imgp_ctx *ctx = imgp_ctx_new(NULL);
    if (!ctx)
        return;
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_TABLE_BYTES, 16u << 20);
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_CACHE_BYTES, 256u << 10);
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_DIR_ENTRIES, 100000);
    imgp_bdev *bd = NULL;
    if (imgp_bdev_open_memory(ctx, data, size, drv->name, &bd) != IMGP_OK) {
        imgp_ctx_free(ctx);
        return;
    }
    imgp_fs *fs = NULL;
    imgp_status st = imgp_fs_mount(ctx, bd, drv->name, &fs);
    if (st != IMGP_OK) {
        check_failure(ctx, st);
        CHECK(fs == NULL, "a failed mount left a filesystem");
    } else {
        const imgp_fs_info *in = imgp_fs_get_info(fs);
        CHECK(in->type && in->type[0], "no type");
        CHECK(in->free_bytes <= in->total_bytes, "more free bytes than bytes");
        for (size_t i = 0; i < in->nnotes; i++)
            CHECK(in->notes[i] && in->notes[i][0], "an empty note");
        check_info(in);
        walk w = {.ctx = ctx, .fs = fs};
        w.entries = malloc(MAX_ENTRIES * sizeof *w.entries);
        w.buf = malloc(READ_BYTES);
        w.buf2 = malloc(READ_BYTES);
        if (w.entries && w.buf && w.buf2)
            walk_fs(&w);
        free(w.entries);
        free(w.buf);
        free(w.buf2);
    }
    imgp_fs_unmount(fs);
    imgp_bdev_close(bd);
    imgp_ctx_free(ctx);
}

#endif
