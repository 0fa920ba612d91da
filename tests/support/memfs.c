#include <stdio.h>
#include <stdlib.h>

#include "memfs.h"

#define MEMFS_MAX 256

typedef struct node {
    imgp_ino parent;
    imgp_ftype type;
    char name[256];
    char *data;
    size_t len;  /* bytes in data */
    uint64_t size; /* the file's size: past len it reads as zeros */
} node;

typedef struct memfs {
    imgp_fs base;
    node nodes[MEMFS_MAX + 1]; /* inode numbers are indexes; 0 unused */
    imgp_ino next;
    uint64_t bytes_read, reads;
} memfs;

static imgp_status memfs_stat(imgp_fs *fs, imgp_ino ino, imgp_stat *st)
{
    memfs *m = (memfs *)fs;
    if (ino == 0 || ino >= m->next)
        return imgp_error(fs->ctx, IMGP_ERR_CORRUPT, "memfs: no inode %llu", (unsigned long long)ino);
    st->ino = ino;
    st->type = m->nodes[ino].type;
    st->nlink = 1;
    st->mode = 0755;
    st->size = m->nodes[ino].size;
    return IMGP_OK;
}

static imgp_status memfs_readdir(imgp_fs *fs, imgp_ino dir, imgp_readdir_fn fn, void *arg)
{
    memfs *m = (memfs *)fs;
    for (imgp_ino i = 2; i < m->next; i++) {
        if (m->nodes[i].parent != dir)
            continue;
        imgp_dirent e = {i, m->nodes[i].type, m->nodes[i].name, strlen(m->nodes[i].name)};
        if (fn(arg, &e))
            break;
    }
    return IMGP_OK;
}

static imgp_status memfs_read(imgp_fs *fs, imgp_ino ino, uint64_t off, void *buf, size_t len)
{
    memfs *m = (memfs *)fs;
    const node *n = &m->nodes[ino];
    size_t have = off < n->len ? n->len - (size_t)off : 0;
    if (have > len)
        have = len;
    if (have)
        memcpy(buf, n->data + off, have);
    memset((char *)buf + have, 0, len - have);
    m->bytes_read += len;
    m->reads++;
    return IMGP_OK;
}

static imgp_status memfs_readlink(imgp_fs *fs, imgp_ino ino, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", ((memfs *)fs)->nodes[ino].data);
    return IMGP_OK;
}

static void memfs_unmount(imgp_fs *fs)
{
    memfs *m = (memfs *)fs;
    for (imgp_ino i = 1; i < m->next; i++)
        free(m->nodes[i].data);
    imgp_fs_release(fs);
    free(m);
}

static const imgp_fs_driver memfs_driver = {
    .name = "memfs",
    .stat = memfs_stat,
    .readdir = memfs_readdir,
    .read = memfs_read,
    .readlink = memfs_readlink,
    .unmount = memfs_unmount,
};

imgp_fs *memfs_new(imgp_ctx *ctx)
{
    memfs *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->base.drv = &memfs_driver;
    m->base.ctx = ctx;
    m->base.info.type = "memfs";
    m->base.info.root = 1;
    m->nodes[1].type = IMGP_FT_DIR;
    m->next = 2;
    return &m->base;
}

imgp_ino memfs_add_bytes(imgp_fs *fs, imgp_ino dir, const char *name, const void *data, size_t len, uint64_t size)
{
    memfs *m = (memfs *)fs;
    if (m->next > MEMFS_MAX || len > size)
        abort();
    imgp_ino ino = m->next++;
    node *n = &m->nodes[ino];
    n->parent = dir;
    n->type = IMGP_FT_REG;
    snprintf(n->name, sizeof n->name, "%s", name);
    n->data = malloc(len + 1);
    if (!n->data)
        abort();
    if (len)
        memcpy(n->data, data, len); /* (data may be NULL when len is 0) */
    n->data[len] = '\0';
    n->len = len;
    n->size = size;
    return ino;
}

imgp_ino memfs_add(imgp_fs *fs, imgp_ino dir, const char *name, imgp_ftype type, const char *data)
{
    size_t len = data ? strlen(data) : 0;
    imgp_ino ino = memfs_add_bytes(fs, dir, name, data, len, len);
    ((memfs *)fs)->nodes[ino].type = type;
    return ino;
}

uint64_t memfs_bytes_read(const imgp_fs *fs) { return ((const memfs *)fs)->bytes_read; }
uint64_t memfs_reads(const imgp_fs *fs) { return ((const memfs *)fs)->reads; }
