/*
 * The walk that the filesystem harnesses share (fuzz_ext4.c, fuzz_xfs.c,
 * fuzz_ntfs.c): mount a memory block device with one driver forced, check
 * the info with the harness's own rules, then walk the whole tree with
 * bounded counts and check the invariants each harness's header lists (readdir names, lookups
 * agreeing with readdir, path lookups through a view agreeing with the name
 * lookups and giving a directory exactly when a trailing "/" asks for one,
 * reads of the right length and consistent in pieces, readlink within the
 * size, stat types in the enum).
 */
#ifndef IMGP_FUZZ_FS_WALK_H
#define IMGP_FUZZ_FS_WALK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "harness_support.h"
#include "imgprobe/imgprobe.h"

/* Bounds that keep one run fast whatever the input claims. */
enum {
    MAX_DIRS = 64,           /* directories listed */
    MAX_ENTRIES = 2048,      /* entries handled in all */
    READ_BYTES = 64 * 1024,  /* read from the start and the end of each file */
    MAX_READ_TOTAL = 8 << 20, /* bytes read in all */
    MAX_NAME = 3 * 255,       /* bytes of a name: 255 UTF-16 units as UTF-8 (NTFS) */
    PATH_BYTES = 2048,        /* a directory's path; deeper ones get no path lookups */
    MAX_PATH_CHECKS = 1024    /* entries looked up by path as well */
};

/* What differs between the drivers. */
typedef struct fs_walk_rules {
    size_t max_name;      /* bytes of a name readdir may give (at most MAX_NAME) */
    bool lookup_may_miss; /* a listed name may not be found: an NTFS index out of order */
    bool links;           /* stat counts links: at least one */
} fs_walk_rules;

typedef struct entry {
    char name[MAX_NAME];
    size_t len;
    imgp_ino ino;
    imgp_ftype type;
} entry;

typedef struct walk {
    imgp_ctx *ctx;
    imgp_fs *fs;
    const fs_walk_rules *rules;
    entry *entries; /* of the directory being listed */
    size_t n, budget;
    imgp_ino dirs[MAX_DIRS];
    size_t ndirs;
    size_t read_total;
    uint8_t *buf, *buf2;
    /* Path lookups: each directory's path from the root ("" when it has none
     * the view can take), and whether the view resolves it to that directory
     * (not so under a duplicate name, which resolves to the first). */
    imgp_view *view;
    char (*paths)[PATH_BYTES];
    bool path_usable;
    size_t path_checks;
    char *child_path;
} walk;

static int collect(void *arg, const imgp_dirent *e)
{
    walk *w = arg;
    CHECK(e->name_len >= 1 && e->name_len <= w->rules->max_name, "entry name length");
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

/* The path of entry @p e of the directory at @p dir_path in w->child_path, or false when it does not fit
 * or the name holds what a path cannot ("/", NUL). */
static bool child_path(walk *w, const char *dir_path, const entry *e)
{
    if (memchr(e->name, '/', e->len) || memchr(e->name, '\0', e->len))
        return false;
    size_t dl = strlen(dir_path);
    if (dl == 0 || e->len + 2 > PATH_BYTES - dl)
        return false;
    size_t at = dl;
    memcpy(w->child_path, dir_path, dl);
    if (dir_path[dl - 1] != '/')
        w->child_path[at++] = '/';
    memcpy(w->child_path + at, e->name, e->len);
    w->child_path[at + e->len] = '\0';
    return true;
}

/*
 * The view resolves the entry's path as the name lookup did: to the inode
 * @p found (or fails when that inode does not stat, the view stats every
 * component); with a trailing "/" it resolves a directory to itself and
 * refuses anything else but a symlink, which it follows to a directory.
 */
static void check_path(walk *w, const char *dir_path, const entry *e, imgp_ino found)
{
    if (!w->path_usable || w->path_checks >= MAX_PATH_CHECKS || !child_path(w, dir_path, e))
        return;
    w->path_checks++;
    imgp_stat sb;
    imgp_status sst = imgp_fs_stat(w->fs, found, &sb);
    imgp_node node;
    imgp_status st = imgp_view_lookup(w->view, w->child_path, IMGP_LOOKUP_NOFOLLOW, &node);
    if (sst != IMGP_OK) {
        CHECK(st != IMGP_OK, "a path resolves to an inode that does not stat");
        check_failure(w->ctx, st);
        return;
    }
    CHECK(st == IMGP_OK, "a path lookup fails where the name lookups succeed");
    CHECK(node.fs == w->fs && node.ino == found, "a path lookup finds another inode than the name lookups");

    size_t len = strlen(w->child_path);
    w->child_path[len] = '/';
    w->child_path[len + 1] = '\0';
    st = imgp_view_lookup(w->view, w->child_path, 0, &node);
    if (sb.type == IMGP_FT_DIR) {
        CHECK(st == IMGP_OK && node.ino == found, "a directory does not resolve with a trailing /");
    } else if (sb.type != IMGP_FT_SYMLINK) {
        CHECK(st == IMGP_ERR_INVALID_ARG, "a non-directory resolves with a trailing /");
        check_failure(w->ctx, st);
    } else if (st == IMGP_OK) {
        imgp_stat tb;
        CHECK(imgp_fs_stat(w->fs, node.ino, &tb) == IMGP_OK && tb.type == IMGP_FT_DIR,
              "a symlink with a trailing / resolves to a non-directory");
    } else {
        check_failure(w->ctx, st);
    }
}

/*
 * Stat @p ino: a known type, the inode asked (and a link where the driver
 * counts them). Then, when @p follow, read it whole, read its link, or queue
 * it as the directory @p e names in directory @p d.
 */
static void check_inode(walk *w, size_t d, const entry *e, imgp_ino ino, bool follow)
{
    imgp_stat sb;
    imgp_status st = imgp_fs_stat(w->fs, ino, &sb);
    if (st != IMGP_OK) {
        check_failure(w->ctx, st);
        return;
    }
    CHECK((unsigned)sb.type <= IMGP_FT_SOCK && sb.type != IMGP_FT_UNKNOWN, "stat type");
    CHECK(sb.ino == ino, "stat of another inode");
    CHECK(!w->rules->links || sb.nlink >= 1, "no links");
    if (!follow)
        return;
    if (sb.type == IMGP_FT_REG) {
        check_read(w, ino, sb.size);
    } else if (sb.type == IMGP_FT_SYMLINK) {
        char target[4096];
        st = imgp_fs_readlink(w->fs, ino, target, sizeof target);
        if (st != IMGP_OK)
            check_failure(w->ctx, st);
        else
            CHECK(strlen(target) <= sb.size, "a symlink target longer than its size");
    } else if (sb.type == IMGP_FT_DIR && w->ndirs < MAX_DIRS) {
        for (size_t j = 0; j < w->ndirs; j++)
            if (w->dirs[j] == ino)
                return;
        if (!w->path_usable || !child_path(w, w->paths[d], e))
            w->child_path[0] = '\0';
        memcpy(w->paths[w->ndirs], w->child_path, strlen(w->child_path) + 1);
        w->dirs[w->ndirs++] = ino;
    }
}

static void check_entry(walk *w, size_t d, size_t i)
{
    const entry *e = &w->entries[i];
    imgp_ino found;
    imgp_status st = imgp_fs_lookup_name(w->fs, w->dirs[d], e->name, e->len, &found);
    if (w->rules->lookup_may_miss) {
        if (st != IMGP_OK)
            check_failure(w->ctx, st);
        else if (found != e->ino)
            check_inode(w, d, e, found, false);
    } else {
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
    }
    if (st == IMGP_OK)
        check_path(w, w->paths[d], e, found);
    check_inode(w, d, e, e->ino, true);
}

static void walk_fs(walk *w)
{
    imgp_ino root = imgp_fs_get_info(w->fs)->root;
    imgp_node node;
    imgp_status st = imgp_view_lookup(w->view, "/", 0, &node);
    CHECK(st == IMGP_OK && node.fs == w->fs && node.ino == root, "/ is not the root");
    w->dirs[w->ndirs] = root;
    memcpy(w->paths[w->ndirs++], "/", 2);
    size_t left = MAX_ENTRIES;
    for (size_t d = 0; d < w->ndirs && left > 0; d++) {
        /* the path leads here unless a duplicate name came first */
        w->path_usable = false;
        if (w->paths[d][0] != '\0') {
            size_t len = strlen(w->paths[d]);
            memcpy(w->child_path, w->paths[d], len + 1);
            if (w->child_path[len - 1] != '/')
                memcpy(w->child_path + len, "/", 2);
            w->path_usable = imgp_view_lookup(w->view, w->child_path, 0, &node) == IMGP_OK && node.ino == w->dirs[d];
        }
        w->n = 0;
        w->budget = left;
        st = imgp_fs_readdir(w->fs, w->dirs[d], collect, w);
        if (st != IMGP_OK)
            check_failure(w->ctx, st);
        left -= w->n;
        for (size_t i = 0; i < w->n; i++)
            check_entry(w, d, i);
    }
}

/*
 * One input: probe it with @p drv, mount it with @p drv forced, check a
 * failure, or check the info with @p check_info and walk everything by
 * @p rules.
 */
static void fuzz_fs_input(const uint8_t *data, size_t size, const imgp_fs_driver *drv, const fs_walk_rules *rules,
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
        walk w = {.ctx = ctx, .fs = fs, .rules = rules};
        w.entries = malloc(MAX_ENTRIES * sizeof *w.entries);
        w.buf = malloc(READ_BYTES);
        w.buf2 = malloc(READ_BYTES);
        w.paths = malloc(MAX_DIRS * sizeof *w.paths);
        w.child_path = malloc(PATH_BYTES + 1);
        if (w.entries && w.buf && w.buf2 && w.paths && w.child_path && imgp_view_new(ctx, fs, &w.view) == IMGP_OK)
            walk_fs(&w);
        imgp_view_free(w.view);
        free(w.entries);
        free(w.buf);
        free(w.buf2);
        free(w.paths);
        free(w.child_path);
    }
    imgp_fs_unmount(fs);
    imgp_bdev_close(bd);
    imgp_ctx_free(ctx);
}

#endif
