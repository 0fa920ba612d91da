/*
 * libFuzzer harness over our bzip2 decompressor (src/inspect/bzip2.c): the
 * input is one bzip2 stream (and whatever follows it), decoded from memory
 * until its end, an error, or 32 MiB of output. Replayed without libFuzzer by
 * replay.c.
 *
 * Invariants (abort() when one breaks):
 *  - a failure is IMGP_ERR_CORRUPT or IMGP_ERR_UNSUPPORTED (the randomised
 *    block) or IMGP_ERR_NOMEM, with a message on the context;
 *  - decoding into 64 KiB pieces and into small pieces (1 to 97 bytes, from
 *    the input's last byte) gives the same bytes, the same status and, at the
 *    stream's end, the same input offset, which lies within the input;
 *  - a stream read to its end is not read further: decoding the input with
 *    junk appended ends at the same offset with the same bytes;
 *  - everything allocated through the context is freed.
 */
#include "harness_support.h"
#include "inspect/bzip2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { OUTPUT_LIMIT = 32 << 20 };

typedef struct result {
    imgp_status st;
    bool ended;
    uint64_t end_offset, out_len, hash;
} result;

static result decode(imgp_allocator *alloc, const uint8_t *data, size_t size, size_t piece)
{
    result r = {IMGP_OK, false, 0, 0, 0xcbf29ce484222325ull};
    imgp_ctx *ctx = imgp_ctx_new(alloc);
    CHECK(ctx != NULL, "a context");
    imgp_mem_input mem = {data, size};
    imgp_inbuf in;
    imgp_bzip2 *bz = NULL;
    uint8_t *out = malloc(piece);
    CHECK(out != NULL, "memory for the output");
    r.st = imgp_inbuf_init(&in, ctx, imgp_mem_read, &mem, size, 4096);
    if (r.st == IMGP_OK)
        r.st = imgp_bzip2_new(ctx, &bz);
    if (r.st == IMGP_OK) {
        imgp_bzip2_start(bz, &in);
        while (r.out_len < OUTPUT_LIMIT) {
            size_t got;
            bool end;
            r.st = imgp_bzip2_read(bz, out, piece, &got, &end);
            if (r.st != IMGP_OK)
                break;
            CHECK(got <= piece, "no more than asked");
            CHECK(!end || got == 0, "the end comes with no bytes");
            if (end) {
                r.ended = true;
                r.end_offset = imgp_inbuf_offset(&in);
                break;
            }
            CHECK(got > 0, "a read that is not the end gives bytes");
            for (size_t i = 0; i < got; i++)
                r.hash = (r.hash ^ out[i]) * 0x100000001b3ull;
            r.out_len += got;
        }
    }
    if (r.st != IMGP_OK) {
        CHECK(r.st == IMGP_ERR_CORRUPT || r.st == IMGP_ERR_UNSUPPORTED || r.st == IMGP_ERR_NOMEM,
              "a failure is corrupt, unsupported or out of memory");
        CHECK(imgp_ctx_status(ctx) == r.st && imgp_ctx_message(ctx)[0] != '\0', "a failure says why");
    }
    free(out);
    imgp_bzip2_free(bz);
    imgp_inbuf_fini(&in);
    imgp_ctx_free(ctx);
    return r;
}

static void check_same(const result *a, const result *b, const char *what)
{
    CHECK(a->st == b->st && a->ended == b->ended, what);
    if (a->st != IMGP_OK)
        return; /* where an error is met may depend on how much output was asked for */
    CHECK(a->out_len == b->out_len && a->hash == b->hash, what);
    CHECK(!a->ended || a->end_offset == b->end_offset, what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imgp_allocator alloc = fuzz_counting_allocator;
    fuzz_live_blocks = 0;
    result big = decode(&alloc, data, size, 65536);
    CHECK(!big.ended || big.end_offset <= size, "the stream ends within the input");
    size_t piece = size ? 1 + data[size - 1] % 97 : 1;
    result small = decode(&alloc, data, size, piece);
    if (big.out_len < OUTPUT_LIMIT && small.out_len < OUTPUT_LIMIT)
        check_same(&big, &small, "the same result whatever the pieces");
    if (big.ended) {
        uint8_t *more = malloc(size + 8);
        CHECK(more != NULL, "memory");
        if (size)
            memcpy(more, data, size);
        memcpy(more + size, "BZh9junk", 8);
        result longer = decode(&alloc, more, size + 8, 65536);
        check_same(&big, &longer, "what follows a stream is not read");
        free(more);
    }
    CHECK(fuzz_live_blocks == 0, "everything allocated is freed");
    return 0;
}
