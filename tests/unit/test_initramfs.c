/*
 * Unit tests of the initramfs reader (src/inspect/initramfs.c, cpio.c,
 * decompress.c, bzip2.c): the newc header with one field broken at a time;
 * archives built here byte by byte (names without NUL, oversized names,
 * checksums, padding, trailing junk, truncation), compressed here with zlib,
 * liblzma, libzstd and liblz4 (and with the bzip2 tool when installed, whose
 * output our bzip2 decoder must reproduce); limits (a decompression bomb, 10
 * million entries); read errors and every allocation failing in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <lz4.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "inspect/bzip2.h"
#include "inspect/initramfs.h"
#include "support/testsupport.h"

/* ---- building archives ---- */

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

static void put(bytes *b, const void *data, size_t n)
{
    if (n > b->cap - b->len) {
        b->cap = (b->cap + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_zeros(bytes *b, size_t n)
{
    static const uint8_t zeros[4096];
    while (n) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        put(b, zeros, k);
        n -= k;
    }
}

static void pad4(bytes *b) { put_zeros(b, (4 - b->len % 4) % 4); }

/* A newc header with @p namesize (which may disagree with the name, for broken entries). */
static void put_header(bytes *b, const char *magic, uint32_t mode, uint32_t filesize, uint32_t namesize,
                       uint32_t check)
{
    char h[CPIO_HEADER_SIZE + 1];
    snprintf(h, sizeof h, "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", magic, 1u, mode, 0u, 0u, 1u,
             0u, filesize, 0u, 0u, 0u, 0u, namesize, check);
    put(b, h, CPIO_HEADER_SIZE);
}

/* An entry as cpio -o -H newc writes it (the archive must be 4-byte aligned where it starts). */
static void put_entry(bytes *b, const char *name, uint32_t mode, const void *data, uint32_t size)
{
    put_header(b, CPIO_MAGIC_NEWC, mode, size, (uint32_t)strlen(name) + 1, 0);
    put(b, name, strlen(name) + 1);
    pad4(b);
    put(b, data, size);
    pad4(b);
}

static void put_trailer(bytes *b) { put_entry(b, CPIO_TRAILER, 0, NULL, 0); }

/* The archive most tests use: a root, a directory, a file, a symlink, the trailer. */
static void put_sample(bytes *b)
{
    put_entry(b, ".", 040755, NULL, 0);
    put_entry(b, "usr", 040755, NULL, 0);
    put_entry(b, "./usr/virtio_blk.ko", 0100644, "module", 6);
    put_entry(b, "/lib", 0120777, "usr/lib", 7);
    put_trailer(b);
}

/* ---- walking ---- */

typedef struct listing {
    char names[64][128];
    uint32_t modes[64];
    uint64_t sizes[64];
    unsigned archives[64];
    char targets[64][64];
    unsigned n;
    unsigned stop_after;
    uint64_t calls;
} listing;

static int collect(void *arg, const imgp_cpio_entry *e)
{
    listing *l = arg;
    assert_int_equal(strlen(e->name), e->name_len);
    assert_true(e->name[0] != '/' && strncmp(e->name, "./", 2) != 0);
    l->calls++;
    if (l->n < 64) {
        snprintf(l->names[l->n], sizeof l->names[0], "%s", e->name);
        l->modes[l->n] = e->mode;
        l->sizes[l->n] = e->size;
        l->archives[l->n] = e->archive;
        snprintf(l->targets[l->n], sizeof l->targets[0], "%s", e->link_target ? e->link_target : "");
        if (e->link_target)
            assert_int_equal(strlen(e->link_target), e->link_len);
        l->n++;
    }
    return l->stop_after && l->calls == l->stop_after;
}

static imgp_ctx *ctx_new(void)
{
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    assert_non_null(ctx);
    return ctx;
}

static imgp_status walk_bytes(imgp_ctx *ctx, const bytes *b, listing *l, imgp_initramfs_info *info)
{
    imgp_mem_input in = {b->p, b->len};
    memset(l->names, 0, sizeof l->names);
    l->n = 0;
    l->calls = 0;
    return imgp_initramfs_walk(ctx, imgp_mem_read, &in, b->len, collect, l, info);
}

/* Walk @p b and expect @p want, with the message containing @p needle when it fails or the note when not. */
static void expect_walk(const bytes *b, imgp_status want, const char *needle, listing *l, imgp_initramfs_info *info)
{
    imgp_ctx *ctx = ctx_new();
    imgp_status st = walk_bytes(ctx, b, l, info);
    if (want != IMGP_OK) {
        test_expect_error(ctx, st, want, needle);
    } else {
        if (st != IMGP_OK)
            fail_msg("walk failed: %s", imgp_ctx_message(ctx));
        if (needle && !strstr(info->note, needle))
            fail_msg("note \"%s\" lacks \"%s\"", info->note, needle);
        if (!needle && info->note[0])
            fail_msg("unexpected note \"%s\"", info->note);
    }
    imgp_ctx_free(ctx);
}

static void expect_sample(const listing *l, unsigned first, unsigned archive)
{
    assert_string_equal(l->names[first], "usr");
    assert_int_equal(l->modes[first], 040755);
    assert_string_equal(l->names[first + 1], "usr/virtio_blk.ko");
    assert_int_equal(l->sizes[first + 1], 6);
    assert_string_equal(l->names[first + 2], "lib");
    assert_int_equal(l->modes[first + 2], 0120777);
    assert_string_equal(l->targets[first + 2], "usr/lib");
    for (unsigned i = first; i < first + 3; i++)
        assert_int_equal(l->archives[i], archive);
}

/* ---- compressing here ---- */

static void gzip_into(bytes *out, const bytes *in)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)in->len) + 32;
    uint8_t *buf = malloc(cap);
    z.next_in = in->p;
    z.avail_in = (uInt)in->len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    put(out, buf, cap - z.avail_out);
    deflateEnd(&z);
    free(buf);
}

static void xz_into(bytes *out, const bytes *in, bool alone, uint32_t preset)
{
    size_t cap = lzma_stream_buffer_bound(in->len) + 64, pos = 0;
    uint8_t *buf = malloc(cap);
    if (!alone) {
        assert_int_equal(lzma_easy_buffer_encode(preset, LZMA_CHECK_CRC32, NULL, in->p, in->len, buf, &pos, cap),
                         LZMA_OK);
    } else {
        lzma_options_lzma opt;
        lzma_lzma_preset(&opt, preset);
        lzma_stream s = LZMA_STREAM_INIT;
        assert_int_equal(lzma_alone_encoder(&s, &opt), LZMA_OK);
        s.next_in = in->p;
        s.avail_in = in->len;
        s.next_out = buf;
        s.avail_out = cap;
        assert_int_equal(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
        pos = cap - s.avail_out;
        lzma_end(&s);
    }
    put(out, buf, pos);
    free(buf);
}

static void zstd_into(bytes *out, const bytes *in)
{
    size_t cap = ZSTD_compressBound(in->len);
    uint8_t *buf = malloc(cap);
    size_t n = ZSTD_compress(buf, cap, in->p, in->len, 3);
    assert_false(ZSTD_isError(n));
    put(out, buf, n);
    free(buf);
}

/* lz4 -l: the legacy magic, then blocks of at most 8 MiB, each with its little-endian size. */
static void lz4_legacy_into(bytes *out, const bytes *in)
{
    static const uint8_t magic[4] = {0x02, 0x21, 0x4c, 0x18};
    put(out, magic, 4);
    for (size_t off = 0; off < in->len;) {
        size_t n = in->len - off < (8u << 20) ? in->len - off : (8u << 20);
        int cap = LZ4_compressBound((int)n);
        char *buf = malloc((size_t)cap);
        int c = LZ4_compress_default((const char *)in->p + off, buf, (int)n, cap);
        assert_true(c > 0);
        uint8_t size[4] = {(uint8_t)c, (uint8_t)(c >> 8), (uint8_t)(c >> 16), (uint8_t)(c >> 24)};
        put(out, size, 4);
        put(out, buf, (size_t)c);
        free(buf);
        off += n;
    }
}

static void lz4_frame_into(bytes *out, const bytes *in)
{
    size_t cap = LZ4F_compressFrameBound(in->len, NULL);
    uint8_t *buf = malloc(cap);
    size_t n = LZ4F_compressFrame(buf, cap, in->p, in->len, NULL);
    assert_false(LZ4F_isError(n));
    put(out, buf, n);
    free(buf);
}

/* Run the bzip2 tool over @p in into @p out. @return false when the tool is not installed. */
static bool bzip2_tool_into(bytes *out, const bytes *in, int level)
{
    char tmpl[] = "/tmp/test_initramfs.XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    if (in->len)
        assert_int_equal(fwrite(in->p, 1, in->len, f), in->len);
    fclose(f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "bzip2 -%d -c < %s 2>/dev/null", level, tmpl);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        put(out, buf, n);
    int rc = pclose(p);
    remove(tmpl);
    return rc == 0 && out->len > 0;
}

typedef void (*compress_fn)(bytes *out, const bytes *in);
/* preset 1: a 1 MiB dictionary, as dracut writes xz (--lzma2=dict=1MiB) */
static void xz_default_into(bytes *out, const bytes *in) { xz_into(out, in, false, 1); }
static void lzma_default_into(bytes *out, const bytes *in) { xz_into(out, in, true, 1); }

static const struct {
    const char *name;
    compress_fn fn;
} compressors[] = {
    {"gzip", gzip_into}, {"xz", xz_default_into}, {"lzma", lzma_default_into},
    {"zstd", zstd_into}, {"lz4", lz4_legacy_into}, {"lz4-frame", lz4_frame_into},
};

/* ---- the header ---- */

static void test_header_fields(void **state)
{
    (void)state;
    imgp_ctx *ctx = ctx_new();
    bytes b = {0};
    put_header(&b, CPIO_MAGIC_NEWC_CRC, 0100644, 0x1234abcd, 7, 0xdeadbeef);
    imgp_cpio_header h;
    assert_int_equal(imgp_cpio_header_parse(ctx, b.p, b.len, "here", &h), IMGP_OK);
    assert_true(h.has_checksum);
    assert_int_equal(h.mode, 0100644);
    assert_int_equal(h.filesize, 0x1234abcd);
    assert_int_equal(h.namesize, 7);
    assert_int_equal(h.check, 0xdeadbeef);
    assert_int_equal(h.nlink, 1);
    /* lowercase hex digits are hex digits */
    memcpy(b.p + CPIO_OFF_FILESIZE, "0000abcd", 8);
    assert_int_equal(imgp_cpio_header_parse(ctx, b.p, b.len, "here", &h), IMGP_OK);
    assert_int_equal(h.filesize, 0xabcd);

    /* each field broken alone: named in the message */
    static const struct {
        size_t off;
        const char *name;
    } fields[] = {{CPIO_OFF_INO, "c_ino"},           {CPIO_OFF_MODE, "c_mode"},       {CPIO_OFF_UID, "c_uid"},
                  {CPIO_OFF_GID, "c_gid"},           {CPIO_OFF_NLINK, "c_nlink"},     {CPIO_OFF_MTIME, "c_mtime"},
                  {CPIO_OFF_FILESIZE, "c_filesize"}, {CPIO_OFF_DEVMAJOR, "c_maj"},    {CPIO_OFF_DEVMINOR, "c_min"},
                  {CPIO_OFF_RDEVMAJOR, "c_rmaj"},    {CPIO_OFF_RDEVMINOR, "c_rmin"},  {CPIO_OFF_NAMESIZE, "c_namesize"},
                  {CPIO_OFF_CHECK, "c_chksum"}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint8_t copy[CPIO_HEADER_SIZE];
        memcpy(copy, b.p, sizeof copy);
        copy[fields[i].off + 3] = 'g';
        test_expect_error(ctx, imgp_cpio_header_parse(ctx, copy, sizeof copy, "here", &h), IMGP_ERR_CORRUPT,
                          fields[i].name);
        copy[fields[i].off + 3] = ' ';
        test_expect_error(ctx, imgp_cpio_header_parse(ctx, copy, sizeof copy, "here", &h), IMGP_ERR_CORRUPT,
                          "not 8 hexadecimal digits");
    }
    uint8_t copy[CPIO_HEADER_SIZE];
    memcpy(copy, b.p, sizeof copy);
    memcpy(copy, CPIO_MAGIC_ODC, 6);
    test_expect_error(ctx, imgp_cpio_header_parse(ctx, copy, sizeof copy, "here", &h), IMGP_ERR_UNSUPPORTED, "odc");
    copy[0] = 0xc7;
    copy[1] = 0x71;
    test_expect_error(ctx, imgp_cpio_header_parse(ctx, copy, sizeof copy, "here", &h), IMGP_ERR_UNSUPPORTED,
                      "binary");
    memcpy(copy, "070703", 6);
    test_expect_error(ctx, imgp_cpio_header_parse(ctx, copy, sizeof copy, "here", &h), IMGP_ERR_CORRUPT,
                      "here: no cpio magic");
    test_expect_error(ctx, imgp_cpio_header_parse(ctx, b.p, CPIO_HEADER_SIZE - 1, "here", &h), IMGP_ERR_CORRUPT,
                      "a header needs 110");
    assert_int_equal(imgp_cpio_name_span(1), 2);    /* 110 + 2 = 112 */
    assert_int_equal(imgp_cpio_name_span(2), 2);
    assert_int_equal(imgp_cpio_name_span(3), 6);    /* 110 + 6 = 116 */
    assert_int_equal(imgp_cpio_name_span(4096), 4098);
    free(b.p);
    imgp_ctx_free(ctx);
}

/* ---- uncompressed archives ---- */

static void test_uncompressed(void **state)
{
    (void)state;
    bytes b = {0};
    put_sample(&b);
    listing l = {0};
    imgp_initramfs_info info;
    expect_walk(&b, IMGP_OK, NULL, &l, &info);
    assert_int_equal(l.n, 3); /* the root and the trailer are not listed */
    expect_sample(&l, 0, 0);
    assert_int_equal(info.narchives, 1);
    assert_string_equal(info.compression[0], "none");
    assert_int_equal(info.entries, 3);
    assert_int_equal(info.decompressed_bytes, 0);

    /* a second archive after zero padding, and a third right after the trailer */
    put_zeros(&b, 512);
    put_sample(&b);
    put_sample(&b);
    expect_walk(&b, IMGP_OK, NULL, &l, &info);
    assert_int_equal(l.n, 9);
    expect_sample(&l, 3, 1);
    expect_sample(&l, 6, 2);
    assert_int_equal(info.narchives, 3);

    /* an archive without a trailer, then another: the second starts a new segment after zeros */
    bytes c = {0};
    put_entry(&c, "a", 0100644, "x", 1);
    put_zeros(&c, 8);
    put_entry(&c, "b", 0100644, "y", 1);
    expect_walk(&c, IMGP_OK, NULL, &l, &info);
    assert_int_equal(l.n, 2);
    assert_int_equal(info.narchives, 1); /* zeros between entries are padding inside one run (do_reset()) */
    free(b.p);
    free(c.p);
}

/* The parser gives the same entries whatever the pieces it is fed in. */
static void test_feed_in_pieces(void **state)
{
    (void)state;
    bytes b = {0};
    put_sample(&b);
    put_zeros(&b, 12);
    put_sample(&b);
    for (size_t piece = 1; piece <= 9; piece++) {
        imgp_ctx *ctx = ctx_new();
        listing l = {0};
        imgp_initramfs_info info = {0};
        imgp_cpio_parser *p;
        assert_int_equal(imgp_cpio_parser_new(ctx, collect, &l, &info, &p), IMGP_OK);
        imgp_cpio_segment_begin(p, IMGP_COMP_GZIP, 0x1000);
        for (size_t off = 0; off < b.len; off += piece) {
            size_t n = b.len - off < piece ? b.len - off : piece, used;
            assert_int_equal(imgp_cpio_feed(p, b.p + off, n, &used), IMGP_OK);
            assert_int_equal(used, n);
        }
        assert_int_equal(imgp_cpio_segment_end(p), IMGP_OK);
        assert_int_equal(l.n, 6);
        expect_sample(&l, 0, 0);
        expect_sample(&l, 3, 1);
        assert_int_equal(info.narchives, 2);
        assert_string_equal(info.compression[1], "gzip");
        imgp_cpio_parser_free(p);
        imgp_ctx_free(ctx);
    }
    free(b.p);
}

static void test_names(void **state)
{
    (void)state;
    listing l = {0};
    imgp_initramfs_info info;

    /* a name without its NUL: refused, as Linux 6.x refuses it */
    bytes b = {0};
    put_entry(&b, "ok", 0100644, NULL, 0);
    put_header(&b, CPIO_MAGIC_NEWC, 0100644, 0, 4, 0);
    put(&b, "abcd", 4);
    put_zeros(&b, 8);
    expect_walk(&b, IMGP_ERR_CORRUPT, "cpio entry at 0x74: the name (c_namesize 4) does not end with a NUL", &l,
                &info);
    assert_int_equal(l.n, 1); /* the entry before it was passed */
    free(b.p);

    /* a NUL inside the name: the name is what precedes it */
    memset(&b, 0, sizeof b);
    put_header(&b, CPIO_MAGIC_NEWC, 0100644, 0, 8, 0);
    put(&b, "ab\0cdef\0", 8);
    pad4(&b);
    expect_walk(&b, IMGP_OK, NULL, &l, &info);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.names[0], "ab");
    free(b.p);

    /* name sizes 0 and PATH_MAX + 1 are skipped with their data; PATH_MAX is read */
    memset(&b, 0, sizeof b);
    put_header(&b, CPIO_MAGIC_NEWC, 0100644, 5, 0, 0);
    put_zeros(&b, 2);
    put(&b, "data!", 5);
    pad4(&b);
    char *longname = malloc(4097);
    memset(longname, 'n', 4096);
    longname[4096] = '\0';
    put_entry(&b, longname, 0100644, "data", 4); /* namesize 4097 */
    longname[4095] = '\0';
    put_entry(&b, longname, 0100644, "data", 4); /* namesize 4096 */
    put_entry(&b, "after", 0100644, NULL, 0);
    expect_walk(&b, IMGP_OK, "2 entries skipped", &l, &info);
    assert_int_equal(l.n, 2);
    assert_int_equal(strlen(l.names[0]), 127); /* truncated by the test's copy; the reader's was 4095 */
    assert_string_equal(l.names[1], "after");
    free(b.p);

    /* symlink targets: PATH_MAX is read, more is skipped; a directory with data is skipped */
    memset(&b, 0, sizeof b);
    char *target = malloc(4097);
    memset(target, 't', 4097);
    put_entry(&b, "long", 0120777, target, 4097);
    put_entry(&b, "max", 0120777, target, 4096);
    put_entry(&b, "dir", 040755, "junk", 4);
    put_entry(&b, "dev", 020644, NULL, 0);
    expect_walk(&b, IMGP_OK, "2 entries skipped", &l, &info);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.names[0], "max");
    assert_int_equal(strlen(l.targets[0]), 63);
    assert_string_equal(l.names[1], "dev");
    free(b.p);
    free(target);
    free(longname);
}

static void test_checksum(void **state)
{
    (void)state;
    listing l = {0};
    imgp_initramfs_info info;
    bytes b = {0};
    put_header(&b, CPIO_MAGIC_NEWC_CRC, 0100644, 3, 2, 'a' + 'b' + 'c');
    put(&b, "f", 2);
    pad4(&b);
    put(&b, "abc", 3);
    pad4(&b);
    expect_walk(&b, IMGP_OK, NULL, &l, &info);
    assert_int_equal(l.n, 1);
    b.p[CPIO_OFF_CHECK + 7] = '0';
    expect_walk(&b, IMGP_ERR_CORRUPT, "the data's checksum is 0x00000126, c_chksum says 0x00000120", &l, &info);
    free(b.p);
}

/* Zero padding, what may follow an archive, and what the kernel stops at. */
static void test_segments(void **state)
{
    (void)state;
    listing l = {0};
    imgp_initramfs_info info;
    bytes sample = {0};
    put_sample(&sample);

    /* microcode archive, zeros, gzip archive, zeros */
    bytes b = {0};
    put(&b, sample.p, sample.len);
    put_zeros(&b, 100);
    gzip_into(&b, &sample);
    put_zeros(&b, 3);
    expect_walk(&b, IMGP_OK, NULL, &l, &info);
    assert_int_equal(l.n, 6);
    expect_sample(&l, 3, 1);
    assert_int_equal(info.narchives, 2);
    assert_string_equal(info.compression[0], "none");
    assert_string_equal(info.compression[1], "gzip");
    assert_int_equal(info.decompressed_bytes, sample.len);

    /* junk after a whole archive: the walk stops there with a note */
    size_t good = b.len;
    put(&b, "\x7f" "ELF", 4);
    expect_walk(&b, IMGP_OK, "an unknown magic at 0x", &l, &info);
    assert_int_equal(l.n, 6);
    b.len = good;
    put(&b, "0707", 4); /* a '0' on the boundary that is no header */
    expect_walk(&b, IMGP_OK, "no cpio magic", &l, &info);
    b.len = good;
    put(&b, "\x89LZO", 4);
    expect_walk(&b, IMGP_ERR_UNSUPPORTED, "lzo archive at", &l, &info);

    /* broken padding: after an uncompressed archive, a byte off the boundary */
    b.len = 0;
    put(&b, sample.p, sample.len);
    put_zeros(&b, 1);
    gzip_into(&b, &sample);
    expect_walk(&b, IMGP_OK, "broken padding", &l, &info);
    assert_int_equal(l.n, 3);
    /* a cpio header off the boundary */
    b.len = 0;
    put(&b, sample.p, sample.len);
    put_zeros(&b, 2);
    put(&b, sample.p, sample.len);
    expect_walk(&b, IMGP_OK, "broken padding", &l, &info);

    /* junk first: not an initramfs */
    b.len = 0;
    put(&b, "hello world", 11);
    expect_walk(&b, IMGP_ERR_CORRUPT, "an unknown magic at 0x0 (bytes 68 65 6c 6c)", &l, &info);
    b.len = 0;
    memcpy(sample.p, CPIO_MAGIC_ODC, 6);
    put(&b, sample.p, sample.len);
    expect_walk(&b, IMGP_ERR_UNSUPPORTED, "cpio header at 0x0: an old (odc 070707) cpio archive", &l, &info);
    memcpy(sample.p, CPIO_MAGIC_NEWC, 6);

    /* nothing, or only zeros */
    b.len = 0;
    expect_walk(&b, IMGP_OK, "no cpio archive", &l, &info);
    put_zeros(&b, 1000);
    expect_walk(&b, IMGP_OK, "no cpio archive", &l, &info);
    assert_int_equal(info.narchives, 0);

    /* truncated inside an entry */
    b.len = 0;
    put(&b, sample.p, sample.len);
    b.len = 112 + 116 + 132 + 3; /* inside the data of usr/virtio_blk.ko */
    expect_walk(&b, IMGP_ERR_CORRUPT, "cpio entry at 0x", &l, &info);
    expect_walk(&b, IMGP_ERR_CORRUPT, "the image ends inside the entry's data", &l, &info);

    /* junk inside a decompressed stream; a stream that ends inside an entry */
    bytes inner = {0};
    put(&inner, sample.p, sample.len);
    put(&inner, "junk", 4);
    b.len = 0;
    gzip_into(&b, &inner);
    expect_walk(&b, IMGP_ERR_CORRUPT, "gzip archive at 0x0: junk between cpio entries at offset 0x", &l, &info);
    inner.len = sample.len - 20;
    b.len = 0;
    gzip_into(&b, &inner);
    expect_walk(&b, IMGP_ERR_CORRUPT, "of the gzip archive at 0x0: the decompressed data ends inside", &l, &info);
    free(inner.p);
    free(b.p);
    free(sample.p);
}

/* Every compression, alone, after a microcode archive, concatenated with and without padding. */
static void test_compressions(void **state)
{
    (void)state;
    listing l = {0};
    imgp_initramfs_info info;
    bytes sample = {0};
    put_sample(&sample);
    for (size_t i = 0; i < sizeof compressors / sizeof compressors[0]; i++) {
        bytes b = {0};
        compressors[i].fn(&b, &sample);
        expect_walk(&b, IMGP_OK, strcmp(compressors[i].name, "lz4-frame") == 0 ? "frame format" : NULL, &l, &info);
        assert_int_equal(l.n, 3);
        assert_string_equal(info.compression[0], compressors[i].name);
        assert_int_equal(info.decompressed_bytes, sample.len);

        b.len = 0;
        put(&b, sample.p, sample.len);
        compressors[i].fn(&b, &sample);
        put_zeros(&b, 4);
        compressors[i].fn(&b, &sample);
        compressors[i].fn(&b, &sample);
        expect_walk(&b, IMGP_OK, strcmp(compressors[i].name, "lz4-frame") == 0 ? "frame format" : NULL, &l, &info);
        assert_int_equal(l.n, 12);
        expect_sample(&l, 9, 3);
        assert_int_equal(info.narchives, 4);
        assert_string_equal(info.compression[3], compressors[i].name);

        /* truncated: an error naming the stream, never a success with fewer entries */
        bytes one = {0};
        compressors[i].fn(&one, &sample);
        for (size_t cut = 1; cut < one.len; cut += one.len / 7 + 1) {
            bytes t = {0};
            put(&t, one.p, one.len - cut);
            imgp_ctx *ctx = ctx_new();
            imgp_status st = walk_bytes(ctx, &t, &l, &info);
            if (st == IMGP_OK)
                fail_msg("%s cut by %zu: walked without error (%u entries)", compressors[i].name, cut, l.n);
            imgp_ctx_free(ctx);
            free(t.p);
        }
        free(one.p);
        free(b.p);
    }
    free(sample.p);
}

/* A flipped bit anywhere in a compressed archive: an error or the right entries, never a crash. */
static void test_compressed_damage(void **state)
{
    (void)state;
    bytes sample = {0};
    put_sample(&sample);
    for (size_t i = 0; i < sizeof compressors / sizeof compressors[0]; i++) {
        bytes b = {0};
        compressors[i].fn(&b, &sample);
        for (size_t off = 0; off < b.len; off += 1 + b.len / 24) {
            b.p[off] ^= 0x10;
            imgp_ctx *ctx = ctx_new();
            listing l = {0};
            imgp_initramfs_info info;
            imgp_status st = walk_bytes(ctx, &b, &l, &info);
            assert_true(st == IMGP_OK || imgp_ctx_message(ctx)[0] != '\0');
            imgp_ctx_free(ctx);
            b.p[off] ^= 0x10;
        }
        free(b.p);
    }
    free(sample.p);
}

/* ---- limits ---- */

static void test_bomb(void **state)
{
    (void)state;
    bytes inner = {0};
    put_header(&inner, CPIO_MAGIC_NEWC, 0100644, 4u << 20, 2, 0);
    put(&inner, "z", 2);
    put_zeros(&inner, 4u << 20);
    put_trailer(&inner);
    listing l = {0};
    imgp_initramfs_info info;
    for (size_t i = 0; i < sizeof compressors / sizeof compressors[0]; i++) {
        bytes b = {0};
        compressors[i].fn(&b, &inner);
        imgp_ctx *ctx = ctx_new();
        assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_DECOMPRESSED, 1u << 20), IMGP_OK);
        test_expect_error(ctx, walk_bytes(ctx, &b, &l, &info), IMGP_ERR_LIMIT,
                          "takes the decompressed total past 1048576 bytes (limit decompressed): a decompression bomb?");
        assert_true(info.decompressed_bytes <= 1u << 20);
        assert_int_equal(l.n, 1); /* its header was read */
        imgp_ctx_free(ctx);
        free(b.p);
    }
    free(inner.p);
}

/* An archive of 10 million entries, made up as it is read: stopped at the entry limit. */
typedef struct many_entries {
    bytes entry;
    uint64_t count;
} many_entries;

static imgp_status many_read(void *arg, uint64_t off, void *buf, size_t len, size_t *got)
{
    many_entries *m = arg;
    uint64_t size = m->count * m->entry.len;
    *got = 0;
    while (*got < len && off < size) {
        size_t in = (size_t)(off % m->entry.len), n = m->entry.len - in;
        if (n > len - *got)
            n = len - *got;
        memcpy((uint8_t *)buf + *got, m->entry.p + in, n);
        *got += n;
        off += n;
    }
    return IMGP_OK;
}

static void test_many_entries(void **state)
{
    (void)state;
    many_entries m = {{0}, 10000000};
    put_entry(&m.entry, "f", 0100644, "x", 1);
    listing l = {0};
    imgp_initramfs_info info;
    imgp_ctx *ctx = ctx_new();
    imgp_status st = imgp_initramfs_walk(ctx, many_read, &m, m.count * m.entry.len, collect, &l, &info);
    test_expect_error(ctx, st, IMGP_ERR_LIMIT, "more than 200000 cpio entries (limit cpio_entries)");
    assert_int_equal(info.entries, imgp_limit_default(IMGP_LIMIT_CPIO_ENTRIES));
    /* a smaller limit, and the callback's stop */
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_CPIO_ENTRIES, 10), IMGP_OK);
    st = imgp_initramfs_walk(ctx, many_read, &m, m.count * m.entry.len, collect, &l, &info);
    test_expect_error(ctx, st, IMGP_ERR_LIMIT, "cpio header at 0x488: more than 10 cpio entries");
    l.stop_after = 5;
    l.calls = 0;
    assert_int_equal(imgp_initramfs_walk(ctx, many_read, &m, m.count * m.entry.len, collect, &l, &info), IMGP_OK);
    assert_int_equal(info.entries, 5);
    imgp_ctx_free(ctx);
    free(m.entry.p);
}

static void test_decoder_memory_limit(void **state)
{
    (void)state;
    bytes sample = {0}, xz = {0}, zst = {0};
    put_sample(&sample);
    xz_into(&xz, &sample, false, 6); /* an 8 MiB dictionary, as xz writes by default */
    listing l = {0};
    imgp_initramfs_info info;
    imgp_ctx *ctx = ctx_new();
    assert_int_equal(imgp_ctx_set_limit(ctx, IMGP_LIMIT_TABLE_BYTES, 1u << 20), IMGP_OK);
    test_expect_error(ctx, walk_bytes(ctx, &xz, &l, &info), IMGP_ERR_LIMIT, "xz stream at 0x0: the decoder needs");
    /* a zstd frame whose window (from its header) is over the limit */
    static const uint8_t big_window[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8, 0x01, 0x00, 0x00};
    put(&zst, big_window, sizeof big_window);
    test_expect_error(ctx, walk_bytes(ctx, &zst, &l, &info), IMGP_ERR_LIMIT, "zstd stream at 0x0: the frame's window");
    imgp_ctx_free(ctx);
    free(sample.p);
    free(xz.p);
    free(zst.p);
}

/* ---- failures of the host ---- */

typedef struct failing_input {
    imgp_mem_input mem;
    imgp_ctx *ctx;
    uint64_t fail_from;
} failing_input;

static imgp_status failing_read(void *arg, uint64_t off, void *buf, size_t len, size_t *got)
{
    failing_input *f = arg;
    if (off + len > f->fail_from)
        return imgp_error(f->ctx, IMGP_ERR_IO, "injected failure");
    return imgp_mem_read(&f->mem, off, buf, len, got);
}

static void test_read_error(void **state)
{
    (void)state;
    bytes b = {0};
    put_sample(&b);
    imgp_ctx *ctx = ctx_new();
    failing_input f = {{b.p, b.len}, ctx, 10};
    listing l = {0};
    imgp_initramfs_info info;
    test_expect_error(ctx, imgp_initramfs_walk(ctx, failing_read, &f, b.len, collect, &l, &info), IMGP_ERR_IO,
                      "reading at 0x0: injected failure");
    imgp_ctx_free(ctx);
    free(b.p);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    bytes sample = {0}, b = {0};
    put_sample(&sample);
    put(&b, sample.p, sample.len);
    for (size_t i = 0; i < sizeof compressors / sizeof compressors[0]; i++)
        compressors[i].fn(&b, &sample);
    bool bz = bzip2_tool_into(&b, &sample, 9);
    unsigned want = 3 * (1 + sizeof compressors / sizeof compressors[0] + bz);
    for (unsigned fail_at = 1;; fail_at++) {
        imgp_ctx *ctx = test_ctx_failing_alloc(fail_at);
        if (!ctx)
            continue;
        listing l = {0};
        imgp_initramfs_info info;
        imgp_status st = walk_bytes(ctx, &b, &l, &info);
        imgp_ctx_free(ctx);
        if (st == IMGP_OK) {
            assert_int_equal(l.n < 64 ? l.n : 64, want < 64 ? want : 64);
            assert_int_equal(info.entries, want);
            break;
        }
        assert_int_equal(st, IMGP_ERR_NOMEM);
        assert_true(fail_at < 100);
    }
    free(b.p);
    free(sample.p);
}

/* ---- bzip2 against the bzip2 tool ---- */

static void bzip2_decode(const bytes *in, bytes *out, size_t piece, imgp_status want, uint64_t *end_at)
{
    imgp_ctx *ctx = ctx_new();
    imgp_mem_input mem = {in->p, in->len};
    imgp_inbuf ib;
    assert_int_equal(imgp_inbuf_init(&ib, ctx, imgp_mem_read, &mem, in->len, 4096), IMGP_OK);
    imgp_bzip2 *bz;
    assert_int_equal(imgp_bzip2_new(ctx, &bz), IMGP_OK);
    imgp_bzip2_start(bz, &ib);
    uint8_t *buf = malloc(piece);
    imgp_status st;
    for (;;) {
        size_t got;
        bool end;
        st = imgp_bzip2_read(bz, buf, piece, &got, &end);
        if (st != IMGP_OK || end)
            break;
        put(out, buf, got);
    }
    if (st != want)
        fail_msg("bzip2: status %s, wanted %s: %s", imgp_status_name(st), imgp_status_name(want),
                 imgp_ctx_message(ctx));
    if (end_at)
        *end_at = imgp_inbuf_offset(&ib);
    free(buf);
    imgp_bzip2_free(bz);
    imgp_inbuf_fini(&ib);
    imgp_ctx_free(ctx);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Inputs that reach bzip2's corners: empty, runs of 1 to 5 and of 300 (RLE1 counts), all 256 values, multi-block. */
static void make_bzip2_inputs(bytes *inputs, size_t n)
{
    assert_true(n >= 7);
    put(&inputs[1], "x", 1);
    put(&inputs[2], "aaaa", 4);
    put(&inputs[3], "aaaaabbbbbbcccd", 15);
    for (int i = 0; i < 300; i++)
        put(&inputs[4], "q", 1);
    for (int i = 0; i < 256 * 4; i++) {
        uint8_t c = (uint8_t)(i / 4);
        put(&inputs[5], &c, 1);
    }
    /* 2.5 MB of runs, random bytes and repeated words: three blocks at level 1 */
    while (inputs[6].len < 2500000) {
        uint32_t k = rng() % 3, len = rng() % 700 + 1;
        uint8_t buf[700];
        for (uint32_t i = 0; i < len; i++)
            buf[i] = k == 0 ? (uint8_t)len : k == 1 ? (uint8_t)rng() : (uint8_t)"abcabd"[i % 6];
        put(&inputs[6], buf, len);
    }
}

static void test_bzip2_tool(void **state)
{
    (void)state;
    bytes inputs[7] = {{0}};
    make_bzip2_inputs(inputs, 7);
    for (size_t i = 0; i < 7; i++) {
        for (int level = 1; level <= 9; level += 8) {
            bytes z = {0}, out = {0};
            if (!bzip2_tool_into(&z, &inputs[i], level)) {
                free(z.p);
                skip();
            }
            put(&z, "tail", 4); /* what follows the stream is not read */
            uint64_t end_at;
            bzip2_decode(&z, &out, i == 6 ? 65536 : 7, IMGP_OK, &end_at);
            assert_int_equal(out.len, inputs[i].len);
            if (out.len)
                assert_memory_equal(out.p, inputs[i].p, out.len);
            assert_int_equal(end_at, z.len - 4);

            /* truncated anywhere: an error; damaged: an error, or the right output (an unused table) */
            if (i < 6 && level == 1) {
                z.len -= 4;
                for (size_t cut = 1; cut <= z.len; cut += 1 + z.len / 40) {
                    bytes t = {0}, o = {0};
                    put(&t, z.p, z.len - cut);
                    bzip2_decode(&t, &o, 5, IMGP_ERR_CORRUPT, NULL);
                    free(t.p);
                    free(o.p);
                }
                for (size_t off = 4; off + 1 < z.len; off += 1 + z.len / 40) { /* the last byte: padding */
                    z.p[off] ^= 0x04;
                    bytes o = {0};
                    imgp_ctx *ctx = ctx_new();
                    imgp_mem_input mem = {z.p, z.len};
                    imgp_inbuf ib;
                    imgp_bzip2 *bz;
                    assert_int_equal(imgp_inbuf_init(&ib, ctx, imgp_mem_read, &mem, z.len, 64), IMGP_OK);
                    assert_int_equal(imgp_bzip2_new(ctx, &bz), IMGP_OK);
                    imgp_bzip2_start(bz, &ib);
                    uint8_t buf[512];
                    size_t got;
                    bool end = false;
                    imgp_status st = IMGP_OK;
                    while (st == IMGP_OK && !end) {
                        st = imgp_bzip2_read(bz, buf, sizeof buf, &got, &end);
                        if (st == IMGP_OK)
                            put(&o, buf, got);
                    }
                    if (st == IMGP_OK)
                        assert_true(o.len == inputs[i].len && (!o.len || memcmp(o.p, inputs[i].p, o.len) == 0));
                    /* a flipped bit is caught by a CRC or the structure, or lies in a table no group uses */
                    assert_true(st == IMGP_ERR_CORRUPT || st == IMGP_ERR_UNSUPPORTED || st == IMGP_OK);
                    imgp_bzip2_free(bz);
                    imgp_inbuf_fini(&ib);
                    imgp_ctx_free(ctx);
                    free(o.p);
                    z.p[off] ^= 0x04;
                }
            }
            free(z.p);
            free(out.p);
        }
    }
    for (size_t i = 0; i < 7; i++)
        free(inputs[i].p);
}

/* Fixtures written by bzip2 1.0.8 (so this runs without the tool), and broken copies. */
static void test_bzip2_fixed(void **state)
{
    (void)state;
    static const uint8_t text[] = {
        0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0x4c, 0x6d, 0x63, 0x6a, 0x00, 0x00, 0x03,
        0xd1, 0x80, 0x00, 0x10, 0x40, 0x00, 0x62, 0x44, 0x80, 0x70, 0x20, 0x00, 0x31, 0x00, 0xd3, 0x4d, 0x02,
        0x54, 0xd3, 0x35, 0x3d, 0x08, 0xcc, 0x41, 0x2c, 0x43, 0x2c, 0x2f, 0x76, 0x33, 0xe2, 0xee, 0x48, 0xa7,
        0x0a, 0x12, 0x09, 0x8d, 0xac, 0x6d, 0x40};
    static const uint8_t empty[] = {0x42, 0x5a, 0x68, 0x39, 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, 0x00, 0x00, 0x00, 0x00};
    char want[119];
    memset(want, 'a', 100);
    memcpy(want + 100, "xyzzy hello hello\n", 18);
    bytes z = {0}, out = {0};
    put(&z, text, sizeof text);
    bzip2_decode(&z, &out, 3, IMGP_OK, NULL);
    assert_int_equal(out.len, 118);
    assert_memory_equal(out.p, want, 118);

    /* the block CRC (bytes 10..13) and the stream CRC (the last 4 bytes, shifted by the end's bit position) */
    imgp_ctx *ctx = ctx_new();
    z.p[13] ^= 1;
    out.len = 0;
    bzip2_decode(&z, &out, 64, IMGP_ERR_CORRUPT, NULL);
    z.p[13] ^= 1;
    z.p[z.len - 2] ^= 1;
    out.len = 0;
    bzip2_decode(&z, &out, 64, IMGP_ERR_CORRUPT, NULL);
    z.p[z.len - 2] ^= 1;
    /* the randomised bit (the first bit after the block CRC) */
    z.p[14] |= 0x80;
    out.len = 0;
    bzip2_decode(&z, &out, 64, IMGP_ERR_UNSUPPORTED, NULL);
    z.p[14] &= 0x7f;
    /* a bad level */
    z.p[3] = '0';
    out.len = 0;
    bzip2_decode(&z, &out, 64, IMGP_ERR_CORRUPT, NULL);
    imgp_ctx_free(ctx);

    bytes e = {0};
    out.len = 0;
    put(&e, empty, sizeof empty);
    bzip2_decode(&e, &out, 64, IMGP_OK, NULL);
    assert_int_equal(out.len, 0);
    free(e.p);
    free(z.p);
    free(out.p);
}

/* A bzip2 initramfs, through the walk, when the tool is there. */
static void test_bzip2_initramfs(void **state)
{
    (void)state;
    bytes sample = {0}, b = {0};
    put_sample(&sample);
    put(&b, sample.p, sample.len);
    if (!bzip2_tool_into(&b, &sample, 9)) {
        free(b.p);
        free(sample.p);
        skip();
    }
    listing l = {0};
    imgp_initramfs_info info;
    expect_walk(&b, IMGP_OK, NULL, &l, &info);
    assert_int_equal(l.n, 6);
    assert_string_equal(info.compression[1], "bzip2");
    free(b.p);
    free(sample.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_uncompressed),
        cmocka_unit_test(test_feed_in_pieces),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_segments),
        cmocka_unit_test(test_compressions),
        cmocka_unit_test(test_compressed_damage),
        cmocka_unit_test(test_bomb),
        cmocka_unit_test(test_many_entries),
        cmocka_unit_test(test_decoder_memory_limit),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_bzip2_fixed),
        cmocka_unit_test(test_bzip2_tool),
        cmocka_unit_test(test_bzip2_initramfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
