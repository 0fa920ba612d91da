#include "cache.h"

struct slot {
    uint64_t key;
    uint64_t used; /* tick of last use; 0 = empty */
    uint8_t *buf;
};

struct imgp_cache {
    imgp_ctx *ctx;
    size_t block_size;
    size_t nslots;
    uint64_t tick;
    struct slot *slots;
    uint8_t *mem;
};

imgp_status imgp_cache_new(imgp_ctx *ctx, size_t block_size, size_t nslots, imgp_cache **out)
{
    *out = NULL;
    uint64_t cap = imgp_ctx_limit(ctx, IMGP_LIMIT_CACHE_BYTES);
    if (block_size == 0 || nslots == 0)
        return imgp_error(ctx, IMGP_ERR_INVALID_ARG, "cache of %zu blocks of %zu bytes", nslots, block_size);
    if (block_size > imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES))
        return imgp_error(ctx, IMGP_ERR_LIMIT, "a cached table of %zu bytes exceeds the table limit (%llu bytes)",
                          block_size, (unsigned long long)imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES));
    if (nslots > cap / block_size)
        nslots = cap / block_size ? cap / block_size : 1;

    imgp_cache *c = imgp_calloc(ctx, 1, sizeof *c);
    if (!c)
        return IMGP_ERR_NOMEM;
    c->ctx = ctx;
    c->block_size = block_size;
    c->nslots = nslots;
    c->slots = imgp_calloc(ctx, nslots, sizeof *c->slots);
    /* Not zeroed: a slot is filled whole before it is ever handed out, and
     * zeroing would touch every page of a cache that most opens barely use
     * (nslots * block_size is at most the cache limit or one block: no overflow). */
    c->mem = c->slots ? imgp_alloc(ctx, nslots * block_size) : NULL;
    if (!c->mem) {
        imgp_cache_free(c);
        return IMGP_ERR_NOMEM;
    }
    for (size_t i = 0; i < nslots; i++)
        c->slots[i].buf = c->mem + i * block_size;
    *out = c;
    return IMGP_OK;
}

imgp_status imgp_cache_get(imgp_cache *c, uint64_t key, imgp_cache_fill_fn fill, void *arg,
                           const uint8_t **out)
{
    struct slot *victim = &c->slots[0];
    for (size_t i = 0; i < c->nslots; i++) {
        struct slot *s = &c->slots[i];
        if (s->used && s->key == key) {
            s->used = ++c->tick;
            *out = s->buf;
            return IMGP_OK;
        }
        if (s->used < victim->used)
            victim = s;
    }
    victim->used = 0;
    imgp_status st = fill(arg, key, victim->buf);
    if (st != IMGP_OK)
        return st;
    victim->key = key;
    victim->used = ++c->tick;
    *out = victim->buf;
    return IMGP_OK;
}

void imgp_cache_free(imgp_cache *c)
{
    if (!c)
        return;
    imgp_free(c->ctx, c->mem);
    imgp_free(c->ctx, c->slots);
    imgp_free(c->ctx, c);
}
