/*
 * A small read cache of fixed-size blocks keyed by a 64-bit number (an L2
 * table's file offset, a grain table's index...), least recently used out.
 * Lookups are linear: the cache is meant to hold tens of blocks, not
 * thousands, which is what sequential and inspection reads need.
 */
#ifndef IMGP_CACHE_H
#define IMGP_CACHE_H

#include "internal.h"

typedef struct imgp_cache imgp_cache;

/* Fill @p buf (the cache's block size) with the block named @p key. */
typedef imgp_status (*imgp_cache_fill_fn)(void *arg, uint64_t key, uint8_t *buf);

/**
 * Make a cache of @p nslots blocks of @p block_size bytes. Fails with
 * IMGP_ERR_LIMIT when the total exceeds IMGP_LIMIT_CACHE_BYTES (and one
 * block of it exceeds IMGP_LIMIT_TABLE_BYTES); nslots is reduced to fit the
 * cache limit, down to one slot.
 */
imgp_status imgp_cache_new(imgp_ctx *ctx, size_t block_size, size_t nslots, imgp_cache **out);

/**
 * Get the block named @p key, calling @p fill on a miss. The pointer is valid
 * until the next call on this cache. A failed fill caches nothing.
 */
imgp_status imgp_cache_get(imgp_cache *cache, uint64_t key, imgp_cache_fill_fn fill, void *arg,
                           const uint8_t **out);

void imgp_cache_free(imgp_cache *cache);

#endif
