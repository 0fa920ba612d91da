/*
 * cpiolist [-v] [-L LIMIT=VALUE]... [-n COUNT] FILE: list the entries of an
 * initramfs file (a host file) through the initramfs reader, one name per
 * line, as `cpio -t` would list them without leading "./". A test helper:
 * tests/integration/initramfs.sh compares its output with cpio's.
 *
 * cpiolist -d FILE: decompress the one compressed stream at the start of FILE
 * to standard output with the reader's decoders (compared with gzip -dc,
 * bzip2 -dc... there); on standard error, the offset where the stream ended.
 *
 *   -v            archive index, compression, octal mode, size, name and
 *                 " -> target" for symlinks, tab-separated
 *   -L NAME=VALUE set a context limit (decompressed, cpio_entries, table_bytes)
 *   -n COUNT      stop the walk after COUNT entries (the callback's stop)
 *
 * On standard error, a last line "cpiolist: archives=N compression=a+b
 * entries=N decompressed=N note=..." Exit 0, or 2 with the library's message
 * ("cpiolist: FILE: <status name>: <message>").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/initramfs.h"

typedef struct listing {
    int verbose;
    uint64_t stop_after, seen;
    const imgp_initramfs_info *info;
} listing;

static int print_entry(void *arg, const imgp_cpio_entry *e)
{
    listing *l = arg;
    if (l->verbose) {
        const char *comp = e->archive < IMGP_INITRAMFS_ARCHIVES_LISTED ? l->info->compression[e->archive] : "?";
        printf("%u\t%s\t%06o\t%" PRIu64 "\t%s", e->archive, comp ? comp : "?", (unsigned)e->mode, e->size, e->name);
        if (e->link_target)
            printf(" -> %s", e->link_target);
        putchar('\n');
    } else {
        printf("%s\n", e->name);
    }
    return ++l->seen == l->stop_after;
}

static imgp_status file_read(void *arg, uint64_t off, void *buf, size_t len, size_t *got)
{
    FILE *f = arg;
    *got = 0;
    if (fseeko(f, (off_t)off, SEEK_SET) != 0)
        return IMGP_ERR_IO;
    *got = fread(buf, 1, len, f);
    return ferror(f) ? IMGP_ERR_IO : IMGP_OK;
}

/* -d: the stream at offset 0 of @p f, decompressed to standard output. */
static int decompress(imgp_ctx *ctx, FILE *f, uint64_t size, const char *path)
{
    imgp_inbuf in;
    imgp_decoder *d = NULL;
    static uint8_t out[1 << 16];
    imgp_status st = imgp_inbuf_init(&in, ctx, file_read, f, size, 1 << 17);
    if (st == IMGP_OK)
        st = imgp_inbuf_fill(&in, 8);
    imgp_compression kind = imgp_compression_detect(imgp_inbuf_data(&in), imgp_inbuf_avail(&in));
    if (st == IMGP_OK)
        st = imgp_decoder_new(ctx, &d);
    if (st == IMGP_OK)
        st = imgp_decoder_start(d, kind, &in);
    for (bool end = false; st == IMGP_OK && !end;) {
        size_t got;
        st = imgp_decoder_read(d, out, sizeof out, &got, &end);
        if (st == IMGP_OK && fwrite(out, 1, got, stdout) != got)
            st = imgp_error(ctx, IMGP_ERR_IO, "writing: %s", strerror(errno));
    }
    fflush(stdout);
    if (st == IMGP_OK)
        fprintf(stderr, "cpiolist: %s stream ends at %llu\n", imgp_compression_name(kind),
                (unsigned long long)imgp_inbuf_offset(&in));
    else
        fprintf(stderr, "cpiolist: %s: %s: %s\n", path, imgp_status_name(st), imgp_ctx_message(ctx));
    imgp_decoder_free(d);
    imgp_inbuf_fini(&in);
    return st == IMGP_OK ? 0 : 2;
}

static int set_limit(imgp_ctx *ctx, const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq)
        return -1;
    for (int i = 0; i < IMGP_LIMIT_COUNT_; i++) {
        const char *name = imgp_limit_name((imgp_limit)i);
        if (strlen(name) == (size_t)(eq - spec) && strncmp(name, spec, (size_t)(eq - spec)) == 0)
            return imgp_ctx_set_limit(ctx, (imgp_limit)i, strtoull(eq + 1, NULL, 0)) == IMGP_OK ? 0 : -1;
    }
    return -1;
}

int main(int argc, char **argv)
{
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    if (!ctx)
        return 2;
    listing l = {0};
    int i = 1, raw = 0;
    for (; i < argc - 1; i++) {
        if (strcmp(argv[i], "-v") == 0)
            l.verbose = 1;
        else if (strcmp(argv[i], "-d") == 0)
            raw = 1;
        else if (strcmp(argv[i], "-L") == 0 && i + 2 < argc && set_limit(ctx, argv[i + 1]) == 0)
            i++;
        else if (strcmp(argv[i], "-n") == 0 && i + 2 < argc)
            l.stop_after = strtoull(argv[++i], NULL, 0);
        else
            break;
    }
    if (i != argc - 1) {
        fprintf(stderr, "usage: cpiolist [-v] [-L LIMIT=VALUE]... [-n COUNT] FILE | -d FILE\n");
        imgp_ctx_free(ctx);
        return 2;
    }
    const char *path = argv[i];
    FILE *f = fopen(path, "rb");
    if (!f || fseeko(f, 0, SEEK_END) != 0) {
        fprintf(stderr, "cpiolist: %s: %s\n", path, strerror(errno));
        imgp_ctx_free(ctx);
        return 2;
    }
    uint64_t size = (uint64_t)ftello(f);
    if (raw) {
        int rc = decompress(ctx, f, size, path);
        fclose(f);
        imgp_ctx_free(ctx);
        return rc;
    }
    imgp_initramfs_info info;
    l.info = &info;
    imgp_status st = imgp_initramfs_walk(ctx, file_read, f, size, print_entry, &l, &info);
    fflush(stdout);
    fprintf(stderr, "cpiolist: archives=%u compression=", info.narchives);
    for (unsigned a = 0; a < info.narchives && a < IMGP_INITRAMFS_ARCHIVES_LISTED; a++)
        fprintf(stderr, "%s%s", a ? "+" : "", info.compression[a]);
    fprintf(stderr, " entries=%" PRIu64 " decompressed=%" PRIu64 " note=%s\n", info.entries, info.decompressed_bytes,
            info.note);
    int rc = 0;
    if (st != IMGP_OK) {
        fprintf(stderr, "cpiolist: %s: %s: %s\n", path, imgp_status_name(st), imgp_ctx_message(ctx));
        rc = 2;
    }
    fclose(f);
    imgp_ctx_free(ctx);
    return rc;
}
