/*
 * What parser harnesses may share (fuzz_initramfs.c and fuzz_bzip2.c use it;
 * the older harnesses still carry their own copies): CHECK(), which aborts
 * naming the broken invariant, and an allocator that counts live blocks so
 * that a leak shows without LSan (give fuzz_counting_allocator to
 * imgp_ctx_new(), zero fuzz_live_blocks before an input, check it after).
 * Header-only: each harness is one source file plus replay.c.
 */
#ifndef IMGP_FUZZ_HARNESS_SUPPORT_H
#define IMGP_FUZZ_HARNESS_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>

#include "imgprobe/core.h"

static void fuzz_invariant_failed(const char *file, int line, const char *cond, const char *what)
{
    fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", file, line, cond, what);
    abort();
}

#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_invariant_failed(__FILE__, __LINE__, #cond, what);                                \
    } while (0)

static long fuzz_live_blocks;

static void *fuzz_count_alloc(void *o, size_t n)
{
    (void)o;
    void *p = malloc(n);
    fuzz_live_blocks += p != NULL;
    return p;
}

static void *fuzz_count_realloc(void *o, void *p, size_t n)
{
    (void)o;
    CHECK(n > 0, "realloc(p, 0) is never called");
    void *q = realloc(p, n);
    fuzz_live_blocks += q && !p;
    return q;
}

static void fuzz_count_free(void *o, void *p)
{
    (void)o;
    fuzz_live_blocks -= p != NULL;
    free(p);
}

static imgp_allocator fuzz_counting_allocator = {fuzz_count_alloc, fuzz_count_realloc, fuzz_count_free, NULL};

#endif
