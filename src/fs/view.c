/*
 * Views and path lookup, written once for every filesystem: "." and "..",
 * symlinks (relative ones from the directory that holds them, absolute ones
 * from the view's root: never the host's), mount points, and the
 * trailing-slash rule. ".." follows the path walked (a stack of the
 * directories passed through), so it needs nothing from the drivers and
 * crosses back over mount points.
 */
#include <stdio.h>

#include "fs.h"

#define NAME_MAX_BYTES (3 * 255) /* the longest name a driver lists: 255 UTF-16 units (NTFS) as UTF-8 */
#define LINK_MAX_BYTES 4096 /* PATH_MAX: longer targets are refused */

typedef struct mount {
    imgp_node where; /* the directory the filesystem covers */
    imgp_fs *fs;
} mount;

struct imgp_view {
    imgp_ctx *ctx;
    imgp_fs *root;
    mount *mounts;
    size_t nmounts, cap;
};

imgp_status imgp_view_new(imgp_ctx *ctx, imgp_fs *root, imgp_view **out)
{
    *out = NULL;
    imgp_view *v = imgp_calloc(ctx, 1, sizeof *v);
    if (!v)
        return IMGP_ERR_NOMEM;
    v->ctx = ctx;
    v->root = root;
    *out = v;
    return IMGP_OK;
}

void imgp_view_free(imgp_view *v)
{
    if (!v)
        return;
    imgp_free(v->ctx, v->mounts);
    imgp_free(v->ctx, v);
}

/* The filesystem mounted on @p n, if any (the last mounted wins, as in Linux). */
static const mount *mount_at(const imgp_view *v, imgp_node n)
{
    for (size_t i = v->nmounts; i-- > 0;)
        if (v->mounts[i].where.fs == n.fs && v->mounts[i].where.ino == n.ino)
            return &v->mounts[i];
    return NULL;
}

imgp_status imgp_view_mount(imgp_view *v, const char *path, imgp_fs *fs)
{
    imgp_node where;
    imgp_status st = imgp_view_lookup(v, path, 0, &where);
    if (st != IMGP_OK)
        return st;
    imgp_stat sb;
    if ((st = imgp_fs_stat(where.fs, where.ino, &sb)) != IMGP_OK)
        return st;
    if (sb.type != IMGP_FT_DIR)
        return imgp_error(v->ctx, IMGP_ERR_INVALID_ARG, "cannot mount on '%s': not a directory", path);
    if (v->nmounts == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        mount *m = imgp_realloc(v->ctx, v->mounts, cap * sizeof *m);
        if (!m)
            return IMGP_ERR_NOMEM;
        v->mounts = m;
        v->cap = cap;
    }
    v->mounts[v->nmounts++] = (mount){where, fs};
    return IMGP_OK;
}

/* The path still to walk: a buffer that symlink targets are spliced into. */
typedef struct pending {
    char *buf;
    size_t len, pos;
} pending;

/* Replace what is left of @p p with @p target followed by the rest. */
static imgp_status splice(imgp_ctx *ctx, pending *p, const char *target)
{
    size_t tlen = strlen(target), rest = p->len - p->pos;
    char *n = imgp_alloc(ctx, tlen + 1 + rest + 1);
    if (!n)
        return IMGP_ERR_NOMEM;
    memcpy(n, target, tlen);
    n[tlen] = '/';
    memcpy(n + tlen + 1, p->buf + p->pos, rest);
    /* "/" between the target and the rest only when there is a rest: a
     * trailing slash must not appear out of nothing */
    size_t len = rest ? tlen + 1 + rest : tlen;
    n[len] = '\0';
    imgp_free(ctx, p->buf);
    p->buf = n;
    p->len = len;
    p->pos = 0;
    return IMGP_OK;
}

typedef struct walk {
    imgp_node *stack;
    size_t depth, cap;
} walk;

static imgp_status push(imgp_ctx *ctx, walk *w, imgp_node n)
{
    if (w->depth == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        imgp_node *s = imgp_realloc(ctx, w->stack, cap * sizeof *s);
        if (!s)
            return IMGP_ERR_NOMEM;
        w->stack = s;
        w->cap = cap;
    }
    w->stack[w->depth++] = n;
    return IMGP_OK;
}

static imgp_status lookup(imgp_view *v, const char *path, unsigned flags, imgp_node *out, pending *p, walk *w,
                          char *link)
{
    imgp_ctx *ctx = v->ctx;
    uint64_t max_hops = imgp_ctx_limit(ctx, IMGP_LIMIT_SYMLINK_HOPS), hops = 0;
    imgp_node root = {v->root, imgp_fs_get_info(v->root)->root};
    const mount *m;
    while ((m = mount_at(v, root)))
        root = (imgp_node){m->fs, imgp_fs_get_info(m->fs)->root};
    imgp_status st = push(ctx, w, root);
    bool trailing_slash = false;

    while (st == IMGP_OK) {
        while (p->pos < p->len && p->buf[p->pos] == '/')
            p->pos++;
        if (p->pos == p->len)
            break;
        const char *name = p->buf + p->pos;
        size_t len = 0;
        while (p->pos < p->len && p->buf[p->pos] != '/') {
            p->pos++;
            len++;
        }
        size_t after = p->pos;
        while (after < p->len && p->buf[after] == '/')
            after++;
        bool last = after == p->len;
        trailing_slash = last && after > p->pos;

        if (len == 1 && name[0] == '.')
            continue;
        if (len == 2 && name[0] == '.' && name[1] == '.') {
            if (w->depth > 1)
                w->depth--;
            continue;
        }
        imgp_node dir = w->stack[w->depth - 1];
        imgp_stat sb;
        if ((st = imgp_fs_stat(dir.fs, dir.ino, &sb)) != IMGP_OK)
            break;
        if (sb.type != IMGP_FT_DIR) {
            st = imgp_error(ctx, IMGP_ERR_INVALID_ARG, "'%s': a component before '%.*s' is not a directory", path,
                            (int)len, name);
            break;
        }
        imgp_ino ino;
        st = len > NAME_MAX_BYTES ? IMGP_ERR_NOT_FOUND : imgp_fs_lookup_name(dir.fs, dir.ino, name, len, &ino);
        if (st == IMGP_ERR_NOT_FOUND) {
            st = imgp_error(ctx, IMGP_ERR_NOT_FOUND, "'%s': no such file or directory ('%.*s' not found)", path,
                            (int)imgp_min_u64(len, NAME_MAX_BYTES), name);
            break;
        }
        if (st != IMGP_OK)
            break;
        imgp_node child = {dir.fs, ino};
        if ((st = imgp_fs_stat(child.fs, child.ino, &sb)) != IMGP_OK)
            break;
        if (sb.type == IMGP_FT_SYMLINK && (!last || trailing_slash || !(flags & IMGP_LOOKUP_NOFOLLOW))) {
            if (++hops > max_hops) {
                st = imgp_error(ctx, IMGP_ERR_LIMIT, "'%s': more than %llu symbolic links (a loop?)", path,
                                (unsigned long long)max_hops);
                break;
            }
            if ((st = imgp_fs_readlink(child.fs, child.ino, link, LINK_MAX_BYTES)) != IMGP_OK)
                break;
            if (link[0] == '\0') {
                st = imgp_error(ctx, IMGP_ERR_NOT_FOUND, "'%s': symlink '%.*s' is empty", path, (int)len, name);
                break;
            }
            if (link[0] == '/')
                w->depth = 1; /* absolute: from the view's root */
            st = splice(ctx, p, link);
            continue;
        }
        while ((m = mount_at(v, child)))
            child = (imgp_node){m->fs, imgp_fs_get_info(m->fs)->root};
        st = push(ctx, w, child);
    }
    if (st != IMGP_OK)
        return st;
    imgp_node res = w->stack[w->depth - 1];
    if (trailing_slash) {
        imgp_stat sb;
        if ((st = imgp_fs_stat(res.fs, res.ino, &sb)) != IMGP_OK)
            return st;
        if (sb.type != IMGP_FT_DIR)
            return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "'%s': not a directory", path);
    }
    *out = res;
    return IMGP_OK;
}

imgp_status imgp_view_lookup(imgp_view *v, const char *path, unsigned flags, imgp_node *out)
{
    pending p = {imgp_strdup(v->ctx, path), strlen(path), 0};
    walk w = {0};
    char *link = imgp_alloc(v->ctx, LINK_MAX_BYTES);
    imgp_status st = p.buf && link ? lookup(v, path, flags, out, &p, &w, link) : IMGP_ERR_NOMEM;
    imgp_free(v->ctx, link);
    imgp_free(v->ctx, w.stack);
    imgp_free(v->ctx, p.buf);
    return st;
}
