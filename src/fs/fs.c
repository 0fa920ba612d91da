/* Filesystems: the driver table, probing and the checked front doors. */
#include <stdio.h>

#include "fs.h"

extern const imgp_fs_driver imgp_fs_ext4;
extern const imgp_fs_driver imgp_fs_xfs;
extern const imgp_fs_driver imgp_fs_ntfs;

const imgp_fs_driver *const imgp_fs_drivers[] = {
    &imgp_fs_ext4,
    &imgp_fs_xfs,
    &imgp_fs_ntfs,
    NULL,
};

imgp_status imgp_fs_note(imgp_fs *fs, const char *fmt, ...)
{
    char buf[IMGP_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (fs->info.nnotes == fs->notes_cap) {
        size_t cap = fs->notes_cap ? fs->notes_cap * 2 : 4;
        const char **n = imgp_realloc(fs->ctx, fs->notes, cap * sizeof *n);
        if (!n)
            return IMGP_ERR_NOMEM;
        fs->notes = n;
        fs->notes_cap = cap;
        fs->info.notes = n;
    }
    const char *s = imgp_strdup(fs->ctx, buf);
    if (!s)
        return IMGP_ERR_NOMEM;
    fs->notes[fs->info.nnotes++] = s;
    return IMGP_OK;
}

void imgp_fs_release(imgp_fs *fs)
{
    for (size_t i = 0; i < fs->info.nnotes; i++)
        imgp_free(fs->ctx, (void *)fs->notes[i]);
    imgp_free(fs->ctx, fs->notes);
    fs->notes = NULL;
    fs->info.nnotes = 0;
}

imgp_ftype imgp_fs_mode_type(uint32_t mode)
{
    switch (mode & 0170000u) {
    case 0100000u: return IMGP_FT_REG;
    case 0040000u: return IMGP_FT_DIR;
    case 0120000u: return IMGP_FT_SYMLINK;
    case 0020000u: return IMGP_FT_CHR;
    case 0060000u: return IMGP_FT_BLK;
    case 0010000u: return IMGP_FT_FIFO;
    case 0140000u: return IMGP_FT_SOCK;
    default: return IMGP_FT_UNKNOWN;
    }
}

int imgp_fs_list_entry(void *lister, const imgp_dirent *e)
{
    imgp_fs_lister *l = lister;
    if ((e->name_len == 1 && e->name[0] == '.') || (e->name_len == 2 && e->name[0] == '.' && e->name[1] == '.'))
        return 0;
    if (++l->count > l->limit) {
        l->over = true;
        return 1;
    }
    return l->fn(l->arg, e);
}

static const imgp_fs_driver *find_driver(const char *name)
{
    for (const imgp_fs_driver *const *d = imgp_fs_drivers; *d; d++)
        if (strcmp((*d)->name, name) == 0)
            return *d;
    return NULL;
}

imgp_status imgp_fs_mount(imgp_ctx *ctx, imgp_bdev *bd, const char *type, imgp_fs **out)
{
    *out = NULL;
    const imgp_fs_driver *drv = NULL;
    if (type) {
        if (!(drv = find_driver(type)))
            return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "unknown filesystem type '%s'", type);
    } else {
        size_t len = (size_t)imgp_min_u64(bd->size, IMGP_FS_PROBE_HEAD);
        uint8_t *head = imgp_alloc(ctx, len);
        if (!head)
            return IMGP_ERR_NOMEM;
        imgp_status st = imgp_bdev_read(bd, 0, head, len);
        int best = 0;
        bool tie = false;
        for (const imgp_fs_driver *const *d = imgp_fs_drivers; st == IMGP_OK && *d; d++) {
            int score = (*d)->probe(head, len, bd->size);
            if (score > best) {
                best = score;
                drv = *d;
                tie = false;
            } else if (score > 0 && score == best) {
                tie = true;
            }
        }
        imgp_free(ctx, head);
        if (st != IMGP_OK)
            return st;
        for (const imgp_fs_driver *const *d = imgp_fs_drivers; best == 0 && *d; d++) {
            if (!(*d)->probe_deep)
                continue;
            int score = (*d)->probe_deep(ctx, bd);
            if (score > best) {
                best = score;
                drv = *d;
            }
        }
        if (tie)
            return imgp_error(ctx, IMGP_ERR_AMBIGUOUS, "%s: two filesystem drivers claim it equally", bd->name);
        if (!drv)
            return imgp_error(ctx, IMGP_ERR_UNSUPPORTED, "%s: no filesystem that imgprobe reads", bd->name);
    }
    imgp_status st = drv->mount(ctx, bd, out);
    if (st == IMGP_OK) {
        (*out)->drv = drv;
        (*out)->ctx = ctx;
        (*out)->bdev = bd;
        if (!(*out)->info.type)
            (*out)->info.type = drv->name;
    }
    return st;
}

const imgp_fs_info *imgp_fs_get_info(const imgp_fs *fs) { return &fs->info; }

imgp_status imgp_fs_stat(imgp_fs *fs, imgp_ino ino, imgp_stat *st)
{
    memset(st, 0, sizeof *st);
    return fs->drv->stat(fs, ino, st);
}

static const char *const type_names[] = {"unknown", "regular file", "directory", "symlink",
                                         "character device", "block device", "fifo", "socket"};

/* Check that @p ino is of type @p want before a driver call that needs it. */
static imgp_status require_type(imgp_fs *fs, imgp_ino ino, imgp_ftype want, imgp_stat *st)
{
    imgp_status s = imgp_fs_stat(fs, ino, st);
    if (s != IMGP_OK)
        return s;
    if (st->type != want)
        return imgp_error(fs->ctx, IMGP_ERR_INVALID_ARG, "%s: inode %llu is a %s, not a %s", fs->info.type,
                          (unsigned long long)ino, type_names[(unsigned)st->type <= IMGP_FT_SOCK ? st->type : 0],
                          type_names[want]);
    return IMGP_OK;
}

imgp_status imgp_fs_readdir(imgp_fs *fs, imgp_ino dir, imgp_readdir_fn fn, void *arg)
{
    imgp_stat st;
    imgp_status s = require_type(fs, dir, IMGP_FT_DIR, &st);
    return s != IMGP_OK ? s : fs->drv->readdir(fs, dir, fn, arg);
}

imgp_status imgp_fs_read(imgp_fs *fs, imgp_ino ino, uint64_t off, void *buf, size_t len, size_t *got)
{
    imgp_stat st;
    *got = 0;
    imgp_status s = require_type(fs, ino, IMGP_FT_REG, &st);
    if (s != IMGP_OK)
        return s;
    if (off >= st.size || len == 0)
        return IMGP_OK;
    size_t n = (size_t)imgp_min_u64(len, st.size - off);
    s = fs->drv->read(fs, ino, off, buf, n);
    if (s == IMGP_OK)
        *got = n;
    return s;
}

imgp_status imgp_fs_readlink(imgp_fs *fs, imgp_ino ino, char *buf, size_t cap)
{
    imgp_stat st;
    if (cap == 0)
        return imgp_error(fs->ctx, IMGP_ERR_INVALID_ARG, "readlink into an empty buffer");
    buf[0] = '\0';
    imgp_status s = require_type(fs, ino, IMGP_FT_SYMLINK, &st);
    if (s != IMGP_OK)
        return s;
    if (st.size >= cap)
        return imgp_error(fs->ctx, IMGP_ERR_LIMIT, "%s: symlink inode %llu: target of %llu bytes exceeds %zu",
                          fs->info.type, (unsigned long long)ino, (unsigned long long)st.size, cap - 1);
    return fs->drv->readlink(fs, ino, buf, cap);
}

typedef struct find_arg {
    const char *name;
    size_t len;
    imgp_ino ino;
    bool found;
} find_arg;

static int find_entry(void *arg, const imgp_dirent *e)
{
    find_arg *f = arg;
    if (e->name_len == f->len && memcmp(e->name, f->name, f->len) == 0) {
        f->ino = e->ino;
        f->found = true;
        return 1;
    }
    return 0;
}

imgp_status imgp_fs_lookup_name(imgp_fs *fs, imgp_ino dir, const char *name, size_t name_len, imgp_ino *out)
{
    imgp_stat st;
    imgp_status s = require_type(fs, dir, IMGP_FT_DIR, &st);
    if (s != IMGP_OK)
        return s;
    if (fs->drv->lookup)
        return fs->drv->lookup(fs, dir, name, name_len, out);
    find_arg f = {name, name_len, 0, false};
    s = fs->drv->readdir(fs, dir, find_entry, &f);
    if (s != IMGP_OK)
        return s;
    if (!f.found)
        return imgp_error(fs->ctx, IMGP_ERR_NOT_FOUND, "'%.*s' not found", (int)imgp_min_u64(name_len, 255), name);
    *out = f.ino;
    return IMGP_OK;
}

void imgp_fs_unmount(imgp_fs *fs)
{
    if (fs)
        fs->drv->unmount(fs);
}
