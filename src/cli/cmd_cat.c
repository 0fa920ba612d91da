/* imgprobe cat: write a file of a filesystem inside the image to standard output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const type_names[] = {"file of unknown type", "regular file", "directory", "symlink",
                                         "character device", "block device", "fifo", "socket"};

static int cat_file(imgp_ctx *ctx, const char *image, const cli_fs *fs, const char *path)
{
    imgp_node node;
    imgp_stat st;
    if (imgp_view_lookup(fs->view, path, 0, &node) != IMGP_OK || imgp_fs_stat(node.fs, node.ino, &st) != IMGP_OK)
        return cli_fail(ctx, image);
    if (st.type != IMGP_FT_REG) {
        fprintf(stderr, "imgprobe: %s: %s: not a regular file (a %s)\n", image, path,
                type_names[(unsigned)st.type <= IMGP_FT_SOCK ? st.type : 0]);
        return EXIT_CANNOT_INSPECT;
    }
    uint8_t *buf = malloc(CLI_CHUNK);
    if (!buf) {
        fprintf(stderr, "imgprobe: %s: out of memory\n", image);
        return EXIT_CANNOT_INSPECT;
    }
    int rc = EXIT_OK;
    for (uint64_t off = 0; off < st.size;) {
        size_t got;
        if (imgp_fs_read(node.fs, node.ino, off, buf, CLI_CHUNK, &got) != IMGP_OK) {
            rc = cli_fail(ctx, image);
            break;
        }
        if (got == 0)
            break;
        /* chunks this large go straight to write(2) */
        if (fwrite(buf, 1, got, stdout) != got || fflush(stdout) != 0) {
            fprintf(stderr, "imgprobe: %s: writing standard output: %s\n", image, strerror(errno));
            rc = EXIT_CANNOT_INSPECT;
            break;
        }
        off += got;
    }
    free(buf);
    return rc;
}

int cmd_cat(imgp_ctx *ctx, int argc, char **argv)
{
    cli_fs_args a;
    int rc = cli_fs_parse_args(argc, argv, false, "usage: imgprobe cat [-p PART] [-f FORMAT] IMAGE PATH", &a);
    if (rc >= 0)
        return rc;
    cli_fs fs;
    if ((rc = cli_fs_open(ctx, a.image, a.format, a.part, &fs)) != EXIT_OK)
        return rc;
    rc = cat_file(ctx, a.image, &fs, a.path);
    cli_fs_close(&fs);
    return rc;
}
