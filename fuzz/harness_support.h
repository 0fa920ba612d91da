/*
 * What the fuzz harnesses share (every fuzz_*.c includes it, the ext4, xfs
 * and ntfs ones through fs_walk.h): CHECK(), which aborts naming the broken
 * invariant; check_failure() for a call that failed; and an allocator that
 * counts live blocks so that a leak shows without LSan (give
 * fuzz_counting_allocator to imgp_ctx_new(), zero fuzz_live_blocks before an
 * input, check it after). fuzz_image.c keeps its own allocator, which also
 * counts bytes against a budget, and check_failed_call(), which labels each
 * check with the call. Header-only: each harness is one source file plus
 * replay.c, and a harness need not use every piece (hence FUZZ_MAYBE_UNUSED).
 */
#ifndef IMGP_FUZZ_HARNESS_SUPPORT_H
#define IMGP_FUZZ_HARNESS_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>

#include "imgprobe/core.h"

#define FUZZ_MAYBE_UNUSED __attribute__((unused))

FUZZ_MAYBE_UNUSED static void fuzz_invariant_failed(const char *file, int line, const char *cond, const char *what)
{
    fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", file, line, cond, what);
    abort();
}

#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_invariant_failed(__FILE__, __LINE__, #cond, what);                                \
    } while (0)

/* A failed call: a status within the enum and a message that says it. */
FUZZ_MAYBE_UNUSED static void check_failure(imgp_ctx *ctx, imgp_status st)
{
    CHECK((unsigned)st < IMGP_STATUS_COUNT_, "status outside the enum");
    CHECK(imgp_ctx_message(ctx)[0] != '\0', "failure without a message");
    CHECK(imgp_ctx_status(ctx) == st, "the message has another status");
}

FUZZ_MAYBE_UNUSED static long fuzz_live_blocks;

FUZZ_MAYBE_UNUSED static void *fuzz_count_alloc(void *o, size_t n)
{
    (void)o;
    void *p = malloc(n);
    fuzz_live_blocks += p != NULL;
    return p;
}

FUZZ_MAYBE_UNUSED static void *fuzz_count_realloc(void *o, void *p, size_t n)
{
    (void)o;
    CHECK(n > 0, "realloc(p, 0) is never called");
    void *q = realloc(p, n);
    fuzz_live_blocks += q && !p;
    return q;
}

FUZZ_MAYBE_UNUSED static void fuzz_count_free(void *o, void *p)
{
    (void)o;
    fuzz_live_blocks -= p != NULL;
    free(p);
}

FUZZ_MAYBE_UNUSED static imgp_allocator fuzz_counting_allocator = {fuzz_count_alloc, fuzz_count_realloc, fuzz_count_free, NULL};

#endif
