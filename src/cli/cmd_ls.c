/*
 * imgprobe ls: list a directory of a filesystem inside the image; and, shared
 * with cat, picking and mounting that filesystem (-p).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define LINK_TARGET_MAX 4096 /* PATH_MAX */

/* ---- the filesystem: -p PART, or the only one there is ---- */

/* The context's message about device @p bd, without the device's name in front. */
static const char *message_about(imgp_ctx *ctx, const imgp_bdev *bd)
{
    const char *msg = imgp_ctx_message(ctx);
    size_t n = strlen(bd->name);
    return strncmp(msg, bd->name, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ' ? msg + n + 2 : msg;
}

/* Append "INDEX: why" to @p why, the reasons partitions did not mount. */
static void add_reason(char *why, size_t cap, const char *index, const char *msg)
{
    size_t n = strlen(why);
    if (n < cap)
        snprintf(why + n, cap - n, "%s%s: %s", n ? "; " : "", index, msg);
}

/* Mount the only filesystem: the whole disk's, or else the one partition or
 * LV that mounts. Several: the user must choose. */
static int pick_fs(imgp_ctx *ctx, const char *image, const imgp_volume_info *vi, cli_fs *c)
{
    if (imgp_fs_mount(ctx, vi->disk.bdev, NULL, &c->fs) == IMGP_OK)
        return EXIT_OK;
    if (vi->npartitions == 0)
        return cli_fail(ctx, image);
    char why[1024] = "", names[512] = "";
    size_t found = 0;
    for (size_t i = 0; i < vi->npartitions; i++) {
        const imgp_partition *p = &vi->partitions[i];
        if (!p->bdev) {
            /* past the end of the disk, a thin LV...: say so, as for those that did not mount */
            if (!p->is_container)
                add_reason(why, sizeof why, p->index, p->unreadable ? p->unreadable : "not readable");
            continue;
        }
        imgp_fs *fs;
        if (imgp_fs_mount(ctx, p->bdev, NULL, &fs) != IMGP_OK) {
            add_reason(why, sizeof why, p->index, message_about(ctx, p->bdev));
            continue;
        }
        size_t n = strlen(names);
        snprintf(names + n, sizeof names - n, "%s%s", found ? ", " : "", p->index);
        if (found++ == 0)
            c->fs = fs;
        else
            imgp_fs_unmount(fs);
    }
    if (found == 1)
        return EXIT_OK;
    if (found > 1) {
        imgp_fs_unmount(c->fs);
        c->fs = NULL;
        fprintf(stderr, "imgprobe: %s: several filesystems (partitions %s): choose one with -p\n", image, names);
    } else {
        fprintf(stderr, "imgprobe: %s: no filesystem that imgprobe reads (%s)\n", image, why);
    }
    return EXIT_CANNOT_INSPECT;
}

/* The guest's root with its fstab's mounts, when inspection finds one. */
static int guest_root(imgp_ctx *ctx, cli_fs *c)
{
    imgp_inspect_opts opts = {.no_scan = true, .view_only = true};
    if (imgp_inspect(ctx, c->img, &opts, &c->insp) != IMGP_OK) {
        imgp_ctx_clear(ctx);
        return EXIT_CANNOT_INSPECT;
    }
    if (!(c->view = imgp_inspection_view(c->insp))) {
        imgp_inspection_free(c->insp);
        c->insp = NULL;
        return EXIT_CANNOT_INSPECT;
    }
    return EXIT_OK;
}

static int mount_part(imgp_ctx *ctx, const char *image, const imgp_volume_info *vi, const char *part, cli_fs *c)
{
    const imgp_partition *p = strcmp(part, "disk") == 0 ? &vi->disk : NULL;
    char names[512] = "";
    for (size_t i = 0; !p && i < vi->npartitions; i++) {
        size_t n = strlen(names);
        snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", vi->partitions[i].index);
        if (strcmp(vi->partitions[i].index, part) == 0)
            p = &vi->partitions[i];
    }
    if (!p) {
        fprintf(stderr, "imgprobe: %s: no partition '%s' (the disk has %s%s)\n", image, part,
                vi->npartitions ? "partitions " : "no partitions", names);
        return EXIT_CANNOT_INSPECT;
    }
    if (!p->bdev) {
        fprintf(stderr, "imgprobe: %s: partition %s cannot be read: %s\n", image, part,
                p->unreadable ? p->unreadable : "it only holds other partitions");
        return EXIT_CANNOT_INSPECT;
    }
    if (imgp_fs_mount(ctx, p->bdev, NULL, &c->fs) != IMGP_OK) {
        fprintf(stderr, "imgprobe: %s: %s%s: %s\n", image, p == &vi->disk ? "the whole disk" : "partition ",
                p == &vi->disk ? "" : part, message_about(ctx, p->bdev));
        return EXIT_CANNOT_INSPECT;
    }
    return EXIT_OK;
}

void cli_fs_show_notes(cli_fs *c)
{
    if (!c->fs)
        return;
    const imgp_fs_info *info = imgp_fs_get_info(c->fs);
    for (; c->notes_shown < info->nnotes; c->notes_shown++)
        fprintf(stderr, "imgprobe: %s: warning: %s\n", c->image, info->notes[c->notes_shown]);
}

int cli_fs_open(imgp_ctx *ctx, const char *image, const char *format, const char *part, cli_fs *c)
{
    memset(c, 0, sizeof *c);
    c->image = image;
    if (imgp_image_open(ctx, image, format, &c->img) != IMGP_OK)
        return cli_fail(ctx, image);
    const imgp_image_info *in = imgp_image_get_info(c->img);
    imgp_bdev *disk;
    int rc = EXIT_CANNOT_INSPECT;
    if (!in->readable)
        fprintf(stderr, "imgprobe: %s: %s is not read: %s\n", image, in->format, in->unreadable_reason);
    else if (imgp_image_bdev(c->img, &disk) != IMGP_OK || imgp_volumes_scan(ctx, disk, &c->vols) != IMGP_OK)
        rc = cli_fail(ctx, image);
    else if (part)
        rc = mount_part(ctx, image, imgp_volumes_get_info(c->vols), part, c);
    else if ((rc = guest_root(ctx, c)) == EXIT_OK)
        return rc;
    else
        rc = pick_fs(ctx, image, imgp_volumes_get_info(c->vols), c);
    if (rc == EXIT_OK) {
        cli_fs_show_notes(c);
        if (imgp_view_new(ctx, c->fs, &c->view) != IMGP_OK)
            rc = cli_fail(ctx, image);
    }
    if (rc != EXIT_OK)
        cli_fs_close(c);
    return rc;
}

void cli_fs_close(cli_fs *c)
{
    fflush(stdout); /* what was listed first, then what was noticed on the way */
    cli_fs_show_notes(c);
    if (c->insp) {
        imgp_inspection_free(c->insp);
    } else {
        imgp_view_free(c->view);
        imgp_fs_unmount(c->fs);
    }
    imgp_volumes_free(c->vols);
    imgp_image_close(c->img);
    memset(c, 0, sizeof *c);
}

/* ---- listing ---- */

typedef struct entry {
    union {
        size_t off;       /* of the name in the listing's arena, while it grows */
        const char *name; /* once the listing is complete */
    };
    imgp_ino ino;
    uint32_t len; /* names are at most 255 bytes */
    imgp_ftype type;
} entry; /* 24 bytes: qsort moves them directly, not through an index */

/* A directory's entries, their names (NUL-terminated) one after the other in
 * one arena: a directory may hold up to IMGP_LIMIT_DIR_ENTRIES (10^6) names,
 * and a malloc each would cost more than reading them. */
typedef struct listing {
    entry *v;
    size_t n, cap;
    char *names;
    size_t names_len, names_cap;
    bool nomem;
} listing;

static int collect(void *arg, const imgp_dirent *e)
{
    listing *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        entry *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->nomem = true;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    if (e->name_len + 1 > l->names_cap - l->names_len) {
        size_t cap = l->names_cap ? l->names_cap * 2 : 4096;
        while (e->name_len + 1 > cap - l->names_len)
            cap *= 2;
        char *names = realloc(l->names, cap);
        if (!names) {
            l->nomem = true;
            return 1;
        }
        l->names = names;
        l->names_cap = cap;
    }
    memcpy(l->names + l->names_len, e->name, e->name_len);
    l->names[l->names_len + e->name_len] = '\0';
    l->v[l->n++] = (entry){.off = l->names_len, .ino = e->ino, .len = (uint32_t)e->name_len, .type = e->type};
    l->names_len += e->name_len + 1;
    return 0;
}

static void listing_free(listing *l)
{
    free(l->names);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Byte order, as `LC_ALL=C ls` sorts. */
static int by_name(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

typedef struct ls_state {
    imgp_ctx *ctx;
    const char *image;
    imgp_fs *fs;
    bool long_format, recursive;
    int rc;
} ls_state;

/* An error about one path: reported, and the listing goes on (as ls does). */
static void ls_error(ls_state *s, const char *path)
{
    fprintf(stderr, "imgprobe: %s: %s: %s\n", s->image, path, imgp_ctx_message(s->ctx));
    s->rc = EXIT_CANNOT_INSPECT;
}

static void mode_string(const imgp_stat *st, char out[11])
{
    static const char types[] = "?-dlcbps";
    unsigned m = st->mode;
    out[0] = types[(unsigned)st->type < sizeof types - 1 ? st->type : 0];
    const char *rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        out[1 + i] = (m >> (8 - i)) & 1u ? rwx[i] : '-';
    if (m & 04000u)
        out[3] = out[3] == 'x' ? 's' : 'S';
    if (m & 02000u)
        out[6] = out[6] == 'x' ? 's' : 'S';
    if (m & 01000u)
        out[9] = out[9] == 'x' ? 't' : 'T';
    out[10] = '\0';
}

/* `MODE LINKS SIZE YYYY-MM-DD HH:MM:SS NAME [-> TARGET]`; a device's size is MAJOR,MINOR. */
static void print_long(ls_state *s, const char *path, imgp_ino ino, const char *name, size_t len)
{
    imgp_stat st;
    if (imgp_fs_stat(s->fs, ino, &st) != IMGP_OK) {
        ls_error(s, path);
        return;
    }
    char mode[11], size[48], when[32] = "?";
    mode_string(&st, mode);
    if (st.type == IMGP_FT_CHR || st.type == IMGP_FT_BLK)
        snprintf(size, sizeof size, "%" PRIu32 ",%" PRIu32, st.rdev_major, st.rdev_minor);
    else
        snprintf(size, sizeof size, "%" PRIu64, st.size);
    time_t t = (time_t)st.mtime;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    printf("%s %" PRIu32 " %s %s ", mode, st.nlink, size, when);
    fwrite(name, 1, len, stdout);
    if (st.type == IMGP_FT_SYMLINK) {
        char target[LINK_TARGET_MAX];
        if (imgp_fs_readlink(s->fs, ino, target, sizeof target) == IMGP_OK)
            printf(" -> %s", target);
        else
            ls_error(s, path);
    }
    putchar('\n');
}

static char *join(const char *dir, const char *name)
{
    size_t d = strlen(dir), n = strlen(name);
    bool slash = d > 0 && dir[d - 1] == '/';
    char *p = malloc(d + n + 2);
    if (p)
        snprintf(p, d + n + 2, "%s%s%s", dir, slash ? "" : "/", name);
    return p;
}

/* Directories already listed, so that a damaged image whose directories
 * link back up the tree cannot make -R go round forever. */
typedef struct ino_set {
    imgp_ino *slot; /* open addressing; 0 = empty, so inode numbers are stored + 1 */
    size_t cap, n;
} ino_set;

/* @return true when @p ino was not in the set (and is now); false when it was, or on no memory. */
static bool ino_set_add(ino_set *s, imgp_ino ino)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        ino_set bigger = {calloc(cap, sizeof *bigger.slot), cap, 0};
        if (!bigger.slot)
            return false;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i])
                ino_set_add(&bigger, s->slot[i] - 1);
        free(s->slot);
        *s = bigger;
    }
    size_t i = (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 17) & (s->cap - 1);
    while (s->slot[i]) {
        if (s->slot[i] == ino + 1)
            return false;
        i = (i + 1) & (s->cap - 1);
    }
    s->slot[i] = ino + 1;
    s->n++;
    return true;
}

/* A directory still to list under -R. */
typedef struct pending_dir {
    char *path;
    imgp_ino ino;
} pending_dir;

typedef struct dir_stack {
    pending_dir *v;
    size_t n, cap;
} dir_stack;

static bool dir_push(dir_stack *s, char *path, imgp_ino ino)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        pending_dir *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return false;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (pending_dir){path, ino};
    return true;
}

/* List one directory; under -R, push its subdirectories (last first, so they
 * come off the stack in name order, as ls -R visits them). */
static void list_dir(ls_state *s, const char *path, imgp_ino dir, dir_stack *todo)
{
    listing l = {0};
    if (imgp_fs_readdir(s->fs, dir, collect, &l) != IMGP_OK || l.nomem) {
        if (l.nomem)
            fprintf(stderr, "imgprobe: %s: %s: out of memory\n", s->image, path);
        else
            ls_error(s, path);
        s->rc = EXIT_CANNOT_INSPECT;
    }
    for (size_t i = 0; i < l.n; i++)
        l.v[i].name = l.names + l.v[i].off;
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, by_name);
    for (size_t i = 0; i < l.n; i++) {
        if (!s->long_format) {
            fwrite(l.v[i].name, 1, l.v[i].len, stdout);
            putchar('\n');
            continue;
        }
        char *p = join(path, l.v[i].name);
        print_long(s, p ? p : path, l.v[i].ino, l.v[i].name, l.v[i].len);
        free(p);
    }
    for (size_t i = l.n; s->recursive && i-- > 0;) {
        entry *e = &l.v[i];
        imgp_stat st;
        if (e->type == IMGP_FT_UNKNOWN) { /* the directory does not record types: ask the inode */
            if (imgp_fs_stat(s->fs, e->ino, &st) != IMGP_OK)
                continue; /* reported by the listing of the parent only with -l; skip */
            e->type = st.type;
        }
        if (e->type != IMGP_FT_DIR)
            continue;
        char *p = join(path, e->name);
        if (!p || !dir_push(todo, p, e->ino)) {
            free(p);
            fprintf(stderr, "imgprobe: %s: %s: out of memory\n", s->image, path);
            s->rc = EXIT_CANNOT_INSPECT;
            break;
        }
    }
    listing_free(&l);
}

static void list_tree(ls_state *s, const char *path, imgp_ino root)
{
    dir_stack todo = {0};
    ino_set seen = {0};
    char *first = strdup(path);
    if (!first || !dir_push(&todo, first, root)) {
        free(first);
        fprintf(stderr, "imgprobe: %s: out of memory\n", s->image);
        s->rc = EXIT_CANNOT_INSPECT;
        return;
    }
    bool header_done = false;
    while (todo.n > 0) {
        pending_dir d = todo.v[--todo.n];
        if (!ino_set_add(&seen, d.ino)) {
            fprintf(stderr, "imgprobe: %s: %s: directory inode %" PRIu64 " listed already (a loop?): skipped\n",
                    s->image, d.path, d.ino);
            s->rc = EXIT_CANNOT_INSPECT;
            free(d.path);
            continue;
        }
        if (s->recursive) {
            printf("%s%s:\n", header_done ? "\n" : "", d.path);
            header_done = true;
        }
        list_dir(s, d.path, d.ino, &todo);
        free(d.path);
    }
    free(todo.v);
    free(seen.slot);
}

int cli_fs_parse_args(int argc, char **argv, bool ls, const char *usage, cli_fs_args *a)
{
    memset(a, 0, sizeof *a);
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ls ? "lRp:f:h" : "p:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'l': a->long_format = true; break;
        case 'R': a->recursive = true; break;
        case 'p': a->part = optarg; break;
        case 'f':
            if (!imgp_format_known(optarg))
                return cli_usage_error("unknown format '%s'", optarg);
            a->format = optarg;
            break;
        case 'h': puts(usage); return EXIT_OK;
        default: return cli_usage_error("%s: bad option '%s'", argv[0], argv[optind - 1]);
        }
    }
    if (optind != argc - 2)
        return cli_usage_error("%s takes an IMAGE and a PATH (%s)", argv[0], usage);
    a->image = argv[optind];
    a->path = argv[optind + 1];
    return -1;
}

int cmd_ls(imgp_ctx *ctx, int argc, char **argv)
{
    cli_fs_args a;
    int rc = cli_fs_parse_args(argc, argv, true, "usage: imgprobe ls [-l] [-R] [-p PART] [-f FORMAT] IMAGE PATH", &a);
    if (rc >= 0)
        return rc;
    ls_state s = {.ctx = ctx, .image = a.image, .long_format = a.long_format, .recursive = a.recursive};
    cli_fs fs;
    if ((rc = cli_fs_open(ctx, a.image, a.format, a.part, &fs)) != EXIT_OK)
        return rc;
    /* like ls: -l shows a symlink named on the command line, not its target */
    imgp_node node;
    imgp_stat st;
    if (imgp_view_lookup(fs.view, a.path, s.long_format ? IMGP_LOOKUP_NOFOLLOW : 0, &node) != IMGP_OK ||
        imgp_fs_stat(node.fs, node.ino, &st) != IMGP_OK) {
        rc = cli_fail(ctx, a.image);
    } else {
        s.fs = node.fs;
        if (st.type != IMGP_FT_DIR && s.long_format)
            print_long(&s, a.path, node.ino, a.path, strlen(a.path));
        else if (st.type != IMGP_FT_DIR)
            puts(a.path);
        else
            list_tree(&s, a.path, node.ino);
        rc = s.rc;
    }
    if (fflush(stdout) != 0)
        rc = EXIT_CANNOT_INSPECT;
    cli_fs_close(&fs);
    return rc;
}
