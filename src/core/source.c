/* Byte sources: the checked front doors, a local file and a memory buffer. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

imgp_status imgp_source_read(imgp_source *src, uint64_t off, void *buf, size_t len, const char *what)
{
    if (len == 0)
        return IMGP_OK;
    if (imgp_range_outside(off, len, src->size))
        return imgp_error(src->ctx, IMGP_ERR_OUT_OF_RANGE,
                          "%s at 0x%llx (%zu bytes) lies past the end of %s (size 0x%llx)", what,
                          (unsigned long long)off, len, src->name, (unsigned long long)src->size);
    return src->ops->read(src, off, buf, len);
}

imgp_status imgp_source_read_zfill(imgp_source *src, uint64_t off, void *buf, size_t len, const char *what)
{
    if (off > src->size || (off == src->size && len > 0))
        return imgp_error(src->ctx, IMGP_ERR_OUT_OF_RANGE, "%s at 0x%llx lies past the end of %s (size 0x%llx)",
                          what, (unsigned long long)off, src->name, (unsigned long long)src->size);
    size_t n = (size_t)imgp_min_u64(len, src->size - off);
    if (n < len)
        memset((uint8_t *)buf + n, 0, len - n);
    return n ? src->ops->read(src, off, buf, n) : IMGP_OK;
}

imgp_status imgp_source_extent(imgp_source *src, uint64_t off, uint64_t len, bool *is_data, uint64_t *run)
{
    if (off >= src->size || len == 0)
        return imgp_error(src->ctx, IMGP_ERR_OUT_OF_RANGE, "extent query at 0x%llx outside %s (size 0x%llx)",
                          (unsigned long long)off, src->name, (unsigned long long)src->size);
    len = imgp_min_u64(len, src->size - off);
    if (!src->ops->extent) {
        *is_data = true;
        *run = len;
        return IMGP_OK;
    }
    imgp_status st = src->ops->extent(src, off, len, is_data, run);
    if (st == IMGP_OK && (*run == 0 || *run > len))
        return imgp_error(src->ctx, IMGP_ERR_IO, "%s: extent query at 0x%llx returned a run of %llu bytes",
                          src->name, (unsigned long long)off, (unsigned long long)*run);
    return st;
}

imgp_status imgp_source_open_related(imgp_source *src, const char *name, imgp_source **out)
{
    *out = NULL;
    if (!src->ops->open_related)
        return imgp_error(src->ctx, IMGP_ERR_UNSUPPORTED, "%s: a %s source cannot open the related file '%s'",
                          src->name, src->ops->kind, name);
    return src->ops->open_related(src, name, out);
}

void imgp_source_close(imgp_source *src)
{
    if (src)
        src->ops->close(src);
}

/* Free the common part of a source; drivers call this last from close. */
static void source_free_base(imgp_source *src)
{
    imgp_ctx *ctx = src->ctx;
    imgp_free(ctx, src->name);
    imgp_free(ctx, src->identity);
    imgp_free(ctx, src);
}

/* ---- local file ---- */

typedef struct file_source {
    imgp_source base;
    int fd;
    bool holes; /* SEEK_DATA/SEEK_HOLE work on this file */
} file_source;

static imgp_status file_read(imgp_source *s, uint64_t off, void *buf, size_t len)
{
    file_source *f = (file_source *)s;
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(f->fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return imgp_error(s->ctx, IMGP_ERR_IO, "%s: read of %zu bytes at 0x%llx failed: %s", s->name, len,
                              (unsigned long long)off, strerror(errno));
        }
        if (n == 0)
            return imgp_error(s->ctx, IMGP_ERR_IO, "%s: file shrank while reading at 0x%llx", s->name,
                              (unsigned long long)off);
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return IMGP_OK;
}

static imgp_status file_extent(imgp_source *s, uint64_t off, uint64_t len, bool *is_data, uint64_t *run)
{
    file_source *f = (file_source *)s;
    *is_data = true;
    *run = len;
    if (!f->holes)
        return IMGP_OK;
    off_t data = lseek(f->fd, (off_t)off, SEEK_DATA);
    if (data < 0) {
        if (errno == ENXIO) { /* no data from off to the end */
            *is_data = false;
            return IMGP_OK;
        }
        f->holes = false; /* the filesystem cannot tell: everything is data */
        return IMGP_OK;
    }
    if ((uint64_t)data > off) {
        *is_data = false;
        *run = imgp_min_u64((uint64_t)data - off, len);
        return IMGP_OK;
    }
    off_t hole = lseek(f->fd, (off_t)off, SEEK_HOLE);
    if (hole > (off_t)off)
        *run = imgp_min_u64((uint64_t)hole - off, len);
    return IMGP_OK;
}

static void file_close(imgp_source *s)
{
    close(((file_source *)s)->fd);
    source_free_base(s);
}

static imgp_status file_open_related(imgp_source *s, const char *name, imgp_source **out);

static const imgp_source_ops file_ops = {
    .kind = "file",
    .read = file_read,
    .extent = file_extent,
    .open_related = file_open_related,
    .close = file_close,
};

imgp_status imgp_source_open_file(imgp_ctx *ctx, const char *path, imgp_source **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return imgp_error(ctx, errno == ENOENT ? IMGP_ERR_NOT_FOUND : IMGP_ERR_IO, "%s: cannot open: %s", path,
                          strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        int e = errno;
        close(fd);
        return imgp_error(ctx, IMGP_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    uint64_t size;
    if (S_ISREG(sb.st_mode)) {
        size = (uint64_t)sb.st_size;
    } else if (S_ISBLK(sb.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0) {
            int e = errno;
            close(fd);
            return imgp_error(ctx, IMGP_ERR_IO, "%s: cannot find the size of the device: %s", path, strerror(e));
        }
        size = (uint64_t)end;
    } else {
        close(fd);
        return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "%s: not a regular file or block device", path);
    }

    file_source *f = imgp_calloc(ctx, 1, sizeof *f);
    if (!f) {
        close(fd);
        return IMGP_ERR_NOMEM;
    }
    f->fd = fd;
    f->holes = S_ISREG(sb.st_mode);
    f->base.ops = &file_ops;
    f->base.ctx = ctx;
    f->base.size = size;
    f->base.allocated = S_ISREG(sb.st_mode) ? (uint64_t)sb.st_blocks * 512 : size;
    f->base.name = imgp_strdup(ctx, path);
    f->base.identity = imgp_asprintf(ctx, "file:%llu:%llu", (unsigned long long)sb.st_dev,
                                     (unsigned long long)sb.st_ino);
    if (!f->base.name || !f->base.identity) {
        file_close(&f->base);
        return IMGP_ERR_NOMEM;
    }
    *out = &f->base;
    return IMGP_OK;
}

/* A relative name is taken relative to the directory of this file, as qemu does. */
static imgp_status file_open_related(imgp_source *s, const char *name, imgp_source **out)
{
    *out = NULL;
    if (name[0] == '\0')
        return imgp_error(s->ctx, IMGP_ERR_CORRUPT, "%s: names an empty related file", s->name);
    if (name[0] == '/')
        return imgp_source_open_file(s->ctx, name, out);
    const char *slash = strrchr(s->name, '/');
    if (!slash)
        return imgp_source_open_file(s->ctx, name, out);
    char *path = imgp_asprintf(s->ctx, "%.*s/%s", (int)(slash - s->name), s->name, name);
    if (!path)
        return IMGP_ERR_NOMEM;
    imgp_status st = imgp_source_open_file(s->ctx, path, out);
    imgp_free(s->ctx, path);
    return st;
}

/* ---- memory buffer ---- */

typedef struct mem_source {
    imgp_source base;
    const uint8_t *buf;
} mem_source;

static imgp_status mem_read(imgp_source *s, uint64_t off, void *buf, size_t len)
{
    memcpy(buf, ((mem_source *)s)->buf + off, len);
    return IMGP_OK;
}

static void mem_close(imgp_source *s) { source_free_base(s); }

static const imgp_source_ops mem_ops = {
    .kind = "memory",
    .read = mem_read,
    .close = mem_close,
};

imgp_status imgp_source_open_memory(imgp_ctx *ctx, const void *buf, size_t len, const char *name,
                                    imgp_source **out)
{
    *out = NULL;
    if (!buf && len)
        return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "memory source without a buffer");
    mem_source *m = imgp_calloc(ctx, 1, sizeof *m);
    if (!m)
        return IMGP_ERR_NOMEM;
    m->buf = buf;
    m->base.ops = &mem_ops;
    m->base.ctx = ctx;
    m->base.size = len;
    m->base.allocated = len;
    m->base.name = imgp_strdup(ctx, name ? name : "memory");
    m->base.identity = imgp_asprintf(ctx, "memory:%p", buf);
    if (!m->base.name || !m->base.identity) {
        mem_close(&m->base);
        return IMGP_ERR_NOMEM;
    }
    *out = &m->base;
    return IMGP_OK;
}
