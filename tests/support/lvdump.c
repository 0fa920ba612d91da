/*
 * lvdump IMAGE INDEX: write the bytes of one volume of IMAGE (a partition
 * "1", or a logical volume "vg/lv", as `imgprobe info` indexes them) to
 * standard output. A test helper: integration tests compare its output with
 * bytes written through the real tools. Exit 0, or 2 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgprobe/imgprobe.h"

enum { CHUNK = 1 << 20 };

static int fail(imgp_ctx *ctx, const char *what)
{
    fprintf(stderr, "lvdump: %s: %s\n", what, ctx ? imgp_ctx_message(ctx) : "out of memory");
    return 2;
}

static int dump(imgp_ctx *ctx, imgp_bdev *bd)
{
    char *buf = malloc(CHUNK);
    if (!buf)
        return fail(NULL, "buffer");
    int rc = 0;
    for (uint64_t off = 0; off < bd->size && rc == 0;) {
        size_t n = bd->size - off < CHUNK ? (size_t)(bd->size - off) : CHUNK;
        if (imgp_bdev_read(bd, off, buf, n) != IMGP_OK)
            rc = fail(ctx, "read");
        else if (fwrite(buf, 1, n, stdout) != n)
            rc = fail(ctx, "write");
        off += n;
    }
    free(buf);
    if (rc == 0 && fflush(stdout) != 0)
        rc = fail(ctx, "write");
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: lvdump IMAGE INDEX\n");
        return 2;
    }
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    if (!ctx)
        return fail(NULL, "context");
    imgp_image *img = NULL;
    imgp_volumes *vols = NULL;
    imgp_bdev *disk;
    int rc = 2;
    if (imgp_image_open(ctx, argv[1], NULL, &img) != IMGP_OK)
        rc = fail(ctx, argv[1]);
    else if (imgp_image_bdev(img, &disk) != IMGP_OK || imgp_volumes_scan(ctx, disk, &vols) != IMGP_OK)
        rc = fail(ctx, argv[1]);
    else {
        const imgp_volume_info *info = imgp_volumes_get_info(vols);
        const imgp_partition *found = NULL;
        for (size_t i = 0; i < info->npartitions && !found; i++)
            if (strcmp(info->partitions[i].index, argv[2]) == 0)
                found = &info->partitions[i];
        if (!found)
            fprintf(stderr, "lvdump: %s: no volume %s\n", argv[1], argv[2]);
        else if (!found->bdev)
            fprintf(stderr, "lvdump: %s: volume %s cannot be read: %s\n", argv[1], argv[2],
                    found->unreadable ? found->unreadable : "no device");
        else
            rc = dump(ctx, found->bdev);
    }
    imgp_volumes_free(vols);
    imgp_image_close(img);
    imgp_ctx_free(ctx);
    return rc;
}
