/*
 * libFuzzer harness over the initramfs reader (imgp_initramfs_walk(),
 * src/inspect/initramfs.c, cpio.c, decompress.c, bzip2.c): the input is a
 * whole initramfs image in memory, with the limits lowered so that one input
 * stays small and fast (2 MiB decompressed, 20,000 cpio entries, 4 MiB tables).
 * Replayed without libFuzzer by replay.c.
 *
 * Invariants (abort() when one breaks):
 *  - a failure returns a status in the enum, with a message on the context;
 *    a success leaves a NUL-terminated note;
 *  - every entry passed has a name that is NUL-terminated at name_len, not
 *    empty, not the root, without a leading "/" or "./", at most 4095 bytes;
 *    a symlink target NUL-terminated at link_len, at most 4096 bytes; an
 *    archive index below the archives counted so far, whose compression (when
 *    listed) is one of the documented names;
 *  - info.entries is the number of callbacks; the decompressed total stays
 *    within its limit;
 *  - the cpio parser, fed the same bytes as one uncompressed segment whole
 *    and in small pieces, gives the same entries and the same status;
 *  - everything allocated through the context is freed.
 */
#include "harness_support.h"
#include "inspect/initramfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { DECOMPRESSED_LIMIT = 2 << 20, ENTRY_LIMIT = 20000, TABLE_LIMIT = 4 << 20 };

static const char *const compression_names[] = {"none", "gzip", "xz", "lzma", "zstd", "lz4", "lz4-frame", "bzip2"};

typedef struct seen {
    const imgp_initramfs_info *info;
    uint64_t calls;
    uint64_t hash; /* of names, modes, sizes and targets, in order */
} seen;

static void mix(uint64_t *h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ b[i]) * 0x100000001b3ull;
}

static int check_entry(void *arg, const imgp_cpio_entry *e)
{
    seen *s = arg;
    s->calls++;
    CHECK(e->name != NULL && strlen(e->name) == e->name_len, "a name ends at name_len");
    CHECK(e->name_len > 0 && e->name_len < 4096, "a name is 1..4095 bytes");
    CHECK(e->name[0] != '/' && strncmp(e->name, "./", 2) != 0, "no leading / or ./");
    CHECK(strcmp(e->name, ".") != 0, "the root is not listed");
    CHECK(e->archive < s->info->narchives, "the archive is counted");
    if (e->archive < IMGP_INITRAMFS_ARCHIVES_LISTED) {
        const char *c = s->info->compression[e->archive];
        bool known = false;
        for (size_t i = 0; c && i < sizeof compression_names / sizeof compression_names[0]; i++)
            known |= strcmp(c, compression_names[i]) == 0;
        CHECK(known, "the archive's compression is a documented name");
    }
    if (e->link_target) {
        CHECK((e->mode & 0170000) == 0120000, "only symlinks have targets");
        CHECK(strlen(e->link_target) == e->link_len && e->link_len <= 4096, "a target ends at link_len");
        mix(&s->hash, e->link_target, e->link_len);
    }
    mix(&s->hash, e->name, e->name_len + 1);
    mix(&s->hash, &e->mode, sizeof e->mode);
    mix(&s->hash, &e->size, sizeof e->size);
    return 0;
}

static imgp_ctx *new_ctx(imgp_allocator *alloc)
{
    imgp_ctx *ctx = imgp_ctx_new(alloc);
    CHECK(ctx != NULL, "a context");
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_DECOMPRESSED, DECOMPRESSED_LIMIT);
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_CPIO_ENTRIES, ENTRY_LIMIT);
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_TABLE_BYTES, TABLE_LIMIT);
    return ctx;
}

/* The cpio parser over @p data as one uncompressed segment, fed in pieces of @p piece bytes. */
static imgp_status parse_in_pieces(imgp_allocator *alloc, const uint8_t *data, size_t size, size_t piece,
                                   seen *s, size_t *consumed)
{
    imgp_ctx *ctx = new_ctx(alloc);
    imgp_initramfs_info info;
    memset(&info, 0, sizeof info);
    s->info = &info;
    imgp_cpio_parser *p;
    imgp_status st = imgp_cpio_parser_new(ctx, check_entry, s, &info, &p);
    CHECK(st == IMGP_OK, "a parser");
    imgp_cpio_segment_begin(p, IMGP_COMP_NONE, 0);
    size_t off = 0;
    while (off < size && st == IMGP_OK) {
        size_t n = size - off < piece ? size - off : piece, used;
        st = imgp_cpio_feed(p, data + off, n, &used);
        CHECK(used <= n, "a parser uses what it is given at most");
        off += used;
        if (st == IMGP_OK && used < n)
            break;
    }
    if (st == IMGP_OK && off == size)
        st = imgp_cpio_segment_end(p);
    if (st != IMGP_OK)
        CHECK(imgp_ctx_message(ctx)[0] != '\0', "a failure says why");
    CHECK(info.entries == s->calls, "entries counts the callbacks");
    *consumed = off;
    imgp_cpio_parser_free(p);
    imgp_ctx_free(ctx);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imgp_allocator alloc = fuzz_counting_allocator;
    fuzz_live_blocks = 0;

    imgp_ctx *ctx = new_ctx(&alloc);
    imgp_initramfs_info info;
    seen s = {&info, 0, 0};
    imgp_mem_input in = {data, size};
    imgp_status st = imgp_initramfs_walk(ctx, imgp_mem_read, &in, size, check_entry, &s, &info);
    CHECK(st >= IMGP_OK && st < IMGP_STATUS_COUNT_, "a status in the enum");
    if (st != IMGP_OK)
        CHECK(imgp_ctx_status(ctx) == st && imgp_ctx_message(ctx)[0] != '\0', "a failure says why");
    CHECK(memchr(info.note, '\0', sizeof info.note) != NULL, "the note is NUL-terminated");
    CHECK(info.entries == s.calls, "entries counts the callbacks");
    CHECK(info.decompressed_bytes <= DECOMPRESSED_LIMIT, "the decompressed total within its limit");
    imgp_ctx_free(ctx);

    /* streaming: one piece and small pieces agree */
    seen whole = {0}, pieces = {0};
    size_t used_whole, used_pieces;
    size_t piece = size ? 1 + data[0] % 13 : 1;
    imgp_status a = parse_in_pieces(&alloc, data, size, size ? size : 1, &whole, &used_whole);
    imgp_status b = parse_in_pieces(&alloc, data, size, piece, &pieces, &used_pieces);
    CHECK(a == b, "the same status whatever the pieces");
    CHECK(whole.calls == pieces.calls && whole.hash == pieces.hash, "the same entries whatever the pieces");
    CHECK(a != IMGP_OK || used_whole == used_pieces, "the same stopping point whatever the pieces");

    CHECK(fuzz_live_blocks == 0, "everything allocated is freed");
    return 0;
}
