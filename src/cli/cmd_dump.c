/* imgprobe dump and digest: the virtual disk as bytes, and its XXH3-128. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "cli.h"

imgp_status cli_walk_disk(imgp_bdev *bd, cli_run_fn fn, void *arg, int *fn_failed)
{
    *fn_failed = 0;
    uint8_t *buf = malloc(CLI_CHUNK);
    if (!buf)
        return IMGP_ERR_NOMEM;
    imgp_status st = IMGP_OK;
    uint64_t off = 0;
    while (off < bd->size && st == IMGP_OK) {
        imgp_extent_kind kind;
        uint64_t run;
        st = imgp_bdev_status(bd, off, bd->size - off, &kind, &run);
        if (st != IMGP_OK)
            break;
        if (kind != IMGP_EXTENT_DATA) {
            if ((*fn_failed = fn(arg, off, NULL, (size_t)run)) != 0)
                break;
            off += run;
            continue;
        }
        for (uint64_t end = off + run; off < end;) {
            size_t n = end - off < CLI_CHUNK ? (size_t)(end - off) : CLI_CHUNK;
            if ((st = imgp_bdev_read(bd, off, buf, n)) != IMGP_OK)
                break;
            if ((*fn_failed = fn(arg, off, buf, n)) != 0)
                break;
            off += n;
        }
        if (*fn_failed)
            break;
    }
    free(buf);
    return st;
}


/* ---- dump ---- */

static const uint8_t zeros[1u << 16];

typedef struct dump_state {
    int fd;
    bool seekable; /* stdout is a regular file: leave holes instead of writing zeros */
    uint64_t end;
} dump_state;

static int write_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len > 0) {
        ssize_t n = write(fd, b, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static int dump_run(void *arg, uint64_t off, const void *data, size_t len)
{
    dump_state *d = arg;
    d->end = off + len;
    if (data)
        return write_all(d->fd, data, len);
    if (d->seekable)
        return lseek(d->fd, (off_t)len, SEEK_CUR) < 0 ? errno : 0;
    while (len > 0) {
        size_t n = len < sizeof zeros ? len : sizeof zeros;
        int e = write_all(d->fd, zeros, n);
        if (e)
            return e;
        len -= n;
    }
    return 0;
}

int cmd_dump(imgp_ctx *ctx, const cli_opts *o)
{
    if (isatty(STDOUT_FILENO))
        return cli_usage_error("dump writes the raw disk to standard output: redirect it to a file or a pipe");
    imgp_image *img;
    imgp_bdev *bd;
    if (imgp_image_open(ctx, o->image, o->format, &img) != IMGP_OK)
        return cli_fail(ctx, o->image);
    if (imgp_image_bdev(img, &bd) != IMGP_OK) {
        int rc = cli_fail(ctx, o->image);
        imgp_image_close(img);
        return rc;
    }
    dump_state d = {.fd = STDOUT_FILENO};
    struct stat sb;
    off_t pos = lseek(STDOUT_FILENO, 0, SEEK_CUR);
    d.seekable = fstat(STDOUT_FILENO, &sb) == 0 && S_ISREG(sb.st_mode) && pos == 0 && sb.st_size == 0;

    int werr;
    imgp_status st = cli_walk_disk(bd, dump_run, &d, &werr);
    int rc = EXIT_OK;
    if (st != IMGP_OK) {
        rc = cli_fail(ctx, o->image);
    } else if (werr) {
        fprintf(stderr, "imgprobe: %s: writing standard output: %s\n", o->image, strerror(werr));
        rc = EXIT_CANNOT_INSPECT;
    } else if (d.seekable && ftruncate(STDOUT_FILENO, (off_t)bd->size) < 0) {
        /* the trailing hole, if any, becomes part of the file */
        fprintf(stderr, "imgprobe: %s: sizing standard output: %s\n", o->image, strerror(errno));
        rc = EXIT_CANNOT_INSPECT;
    }
    imgp_image_close(img);
    return rc;
}

/* ---- digest ---- */

static int digest_run(void *arg, uint64_t off, const void *data, size_t len)
{
    XXH3_state_t *h = arg;
    (void)off;
    if (data)
        return XXH3_128bits_update(h, data, len) == XXH_OK ? 0 : EIO;
    while (len > 0) {
        size_t n = len < sizeof zeros ? len : sizeof zeros;
        if (XXH3_128bits_update(h, zeros, n) != XXH_OK)
            return EIO;
        len -= n;
    }
    return 0;
}

int cmd_digest(imgp_ctx *ctx, const cli_opts *o)
{
    imgp_image *img;
    imgp_bdev *bd;
    if (imgp_image_open(ctx, o->image, o->format, &img) != IMGP_OK)
        return cli_fail(ctx, o->image);
    if (imgp_image_bdev(img, &bd) != IMGP_OK) {
        int rc = cli_fail(ctx, o->image);
        imgp_image_close(img);
        return rc;
    }
    XXH3_state_t *h = XXH3_createState();
    if (!h || XXH3_128bits_reset(h) != XXH_OK) {
        XXH3_freeState(h);
        imgp_image_close(img);
        fputs("imgprobe: out of memory\n", stderr);
        return EXIT_CANNOT_INSPECT;
    }
    int herr;
    imgp_status st = cli_walk_disk(bd, digest_run, h, &herr);
    int rc = EXIT_OK;
    if (st != IMGP_OK || herr) {
        rc = st != IMGP_OK ? cli_fail(ctx, o->image) : EXIT_CANNOT_INSPECT;
    } else {
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h));
        for (size_t i = 0; i < sizeof c.digest; i++)
            printf("%02x", c.digest[i]);
        printf("  %s\n", o->image);
    }
    XXH3_freeState(h);
    imgp_image_close(img);
    return rc;
}
