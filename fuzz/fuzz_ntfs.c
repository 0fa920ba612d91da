/*
 * libFuzzer harness over the NTFS driver: the input is a volume (a memory
 * block device) mounted with the ntfs driver forced, so every input reaches
 * its mount; an input that holds an MBR whose partition starts with an NTFS
 * boot sector (the Windows-written disks of the corpus) has that partition
 * mounted instead. The volume is then walked whole with bounded counts:
 * every directory listed, every entry stat'ed and looked up by name, every
 * file read, every symlink read. The same source replays committed inputs
 * without libFuzzer (replay.c).
 *
 * Invariants checked on every input (abort() when one breaks):
 *  - every failing call returns a status within the enum and leaves a
 *    message whose status is the one returned; a failed mount leaves no
 *    filesystem;
 *  - the probe scores within 0..IMGP_SCORE_MAGIC;
 *  - a mounted volume's info: type "ntfs", root record 5, case-insensitive,
 *    a 16-digit serial, notes non-empty strings;
 *  - a readdir entry has a name of 1 to 765 bytes (255 UTF-16 units as
 *    UTF-8) other than "." and "..", and its inode stats (or fails cleanly);
 *  - a lookup of a listed name succeeds or fails cleanly (a damaged index
 *    may be out of order: a B+ tree descent may then miss a name that a
 *    walk lists), and what it finds stats or fails cleanly;
 *  - a read of a regular file returns min(len, size - off) bytes; at or past
 *    the end, none; a range read whole equals the same range in two pieces;
 *  - readlink of a symlink gives a string no longer than its size;
 *  - a stat's type is within the enum and known, and names the inode asked.
 * Leaks are left to LeakSanitizer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/ntfs.h"
#include "imgprobe/imgprobe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bounds that keep one run fast whatever the input claims. */
enum {
    MAX_DIRS = 64,           /* directories listed */
    MAX_ENTRIES = 2048,      /* entries handled in all */
    MAX_NAME = 3 * 255,      /* bytes of a name */
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

static void check_failure(imgp_ctx *ctx, imgp_status st)
{
    CHECK((unsigned)st < IMGP_STATUS_COUNT_, "status outside the enum");
    CHECK(imgp_ctx_message(ctx)[0] != '\0', "failure without a message");
    CHECK(imgp_ctx_status(ctx) == st, "the message has another status");
}

typedef struct entry {
    char name[MAX_NAME];
    size_t len;
    imgp_ino ino;
} entry;

typedef struct walk {
    imgp_ctx *ctx;
    imgp_fs *fs;
    entry *entries;
    size_t n, budget;
    imgp_ino dirs[MAX_DIRS];
    size_t ndirs;
    size_t read_total;
    uint8_t *buf, *buf2;
} walk;

static int collect(void *arg, const imgp_dirent *e)
{
    walk *w = arg;
    CHECK(e->name_len >= 1 && e->name_len <= MAX_NAME, "entry name length");
    CHECK(!(e->name_len == 1 && e->name[0] == '.') && !(e->name_len == 2 && memcmp(e->name, "..", 2) == 0),
          "readdir passed . or ..");
    CHECK((unsigned)e->type <= IMGP_FT_SOCK, "entry type outside the enum");
    if (w->n >= w->budget)
        return 1;
    entry *d = &w->entries[w->n++];
    memcpy(d->name, e->name, e->name_len);
    d->len = e->name_len;
    d->ino = e->ino;
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

static void check_stat(walk *w, imgp_ino ino, bool follow)
{
    imgp_stat sb;
    imgp_status st = imgp_fs_stat(w->fs, ino, &sb);
    if (st != IMGP_OK) {
        check_failure(w->ctx, st);
        return;
    }
    CHECK((unsigned)sb.type <= IMGP_FT_SOCK && sb.type != IMGP_FT_UNKNOWN, "stat type");
    CHECK(sb.ino == ino, "stat of another inode");
    CHECK(sb.nlink >= 1, "no links");
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
        w->dirs[w->ndirs++] = ino;
    }
}

static void check_entry(walk *w, imgp_ino dir, size_t i)
{
    const entry *e = &w->entries[i];
    imgp_ino found;
    imgp_status st = imgp_fs_lookup_name(w->fs, dir, e->name, e->len, &found);
    if (st != IMGP_OK)
        check_failure(w->ctx, st);
    else if (found != e->ino)
        check_stat(w, found, false);
    check_stat(w, e->ino, true);
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

/* Where the volume starts: 0, or the first MBR partition that starts with an NTFS boot sector. */
static size_t volume_start(const uint8_t *data, size_t size)
{
    if (size < 512 || (size >= 11 && memcmp(data + NTFS_BOOT_OEM_ID, NTFS_OEM, 8) == 0))
        return 0;
    if (data[510] != 0x55 || data[511] != 0xAA)
        return 0;
    for (size_t i = 0; i < 4; i++) {
        const uint8_t *p = data + 446 + 16 * i;
        uint64_t lba = (uint64_t)p[8] | (uint64_t)p[9] << 8 | (uint64_t)p[10] << 16 | (uint64_t)p[11] << 24;
        if (lba == 0 || lba > (size - 512) / 512)
            continue;
        if (memcmp(data + lba * 512 + NTFS_BOOT_OEM_ID, NTFS_OEM, 8) == 0)
            return (size_t)lba * 512;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int score = imgp_fs_ntfs.probe(data, size, size);
    CHECK(score >= 0 && score <= IMGP_SCORE_MAGIC, "probe score out of range");
    size_t start = volume_start(data, size);

    imgp_ctx *ctx = imgp_ctx_new(NULL);
    if (!ctx)
        return 0;
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_TABLE_BYTES, 16u << 20);
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_CACHE_BYTES, 256u << 10);
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_DIR_ENTRIES, 100000);
    imgp_bdev *bd = NULL;
    if (imgp_bdev_open_memory(ctx, data + start, size - start, "fuzz-ntfs", &bd) != IMGP_OK) {
        imgp_ctx_free(ctx);
        return 0;
    }
    imgp_fs *fs = NULL;
    imgp_status st = imgp_fs_mount(ctx, bd, "ntfs", &fs);
    if (st != IMGP_OK) {
        check_failure(ctx, st);
        CHECK(fs == NULL, "a failed mount left a filesystem");
    } else {
        const imgp_fs_info *in = imgp_fs_get_info(fs);
        CHECK(in->root == NTFS_ROOT_RECORD, "the root is not record 5");
        CHECK(in->type && strcmp(in->type, "ntfs") == 0, "type");
        CHECK(in->case_insensitive, "NTFS lookups ignore case");
        CHECK(in->uuid && strlen(in->uuid) == 16, "the serial as 16 hex digits");
        CHECK(!in->label || strlen(in->label) <= 3 * 128, "label longer than 128 UTF-16 units");
        for (size_t i = 0; i < in->nnotes; i++)
            CHECK(in->notes[i] && in->notes[i][0], "an empty note");
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
    return 0;
}
