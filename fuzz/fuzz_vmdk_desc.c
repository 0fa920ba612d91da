/*
 * libFuzzer harness over the VMDK text descriptor parser alone
 * (vmdk_desc_parse(), src/formats/vmdk_desc.c): no I/O, so every input
 * reaches the grammar. Replayed without libFuzzer by replay.c.
 *
 * Invariants (abort() when one breaks):
 *  - a failure returns a status in the enum other than OK, leaves a non-empty
 *    message with that status, and an empty descriptor;
 *  - a success has at most IMGP_LIMIT_EXTENTS extents, each of > 0 sectors,
 *    whose sum is total_sectors and times 512 does not overflow; an offset
 *    only on FLAT and VMFS extents, offset + sectors in bytes without
 *    overflow; a file name on every extent but ZERO;
 *  - every string is NUL-terminated within the input's length, non-empty
 *    where required, and free of the quote and control bytes the grammar
 *    rejects;
 *  - parsing the same input again gives the same result;
 *  - everything allocated is freed by vmdk_desc_free().
 */
#include "harness_support.h"
#include "formats/vmdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A string of the descriptor: NUL-terminated within the input, no quote or control byte. */
static void check_string(const char *s, size_t size, bool nonempty, const char *what)
{
    if (!s)
        return;
    size_t n = strnlen(s, size + 1);
    CHECK(n <= size, what);
    CHECK(!nonempty || n > 0, what);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        CHECK(c != '"' && (c >= 0x20 || c == '\t') && c != 0x7f, what);
    }
}

static bool same_string(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

static void check_success(imgp_ctx *ctx, const vmdk_descriptor *d, size_t size)
{
    CHECK(d->nextents <= imgp_ctx_limit(ctx, IMGP_LIMIT_EXTENTS), "extent count within the limit");
    CHECK((d->nextents == 0) == (d->extents == NULL), "extents array");
    uint64_t sum = 0;
    for (size_t i = 0; i < d->nextents; i++) {
        const vmdk_desc_extent *e = &d->extents[i];
        CHECK(e->sectors > 0, "extent of 0 sectors");
        CHECK(e->sectors <= UINT64_MAX >> 9, "sectors * 512 overflows");
        CHECK(!__builtin_add_overflow(sum, e->sectors, &sum), "extent sizes overflow");
        CHECK(e->access <= VMDK_ACCESS_NOACCESS && e->type <= VMDK_EXTENT_VMFSRAW, "enum out of range");
        CHECK(e->offset == 0 || e->type == VMDK_EXTENT_FLAT || e->type == VMDK_EXTENT_VMFS, "offset on a non-flat extent");
        CHECK(e->offset <= UINT64_MAX >> 9 && e->sectors <= (UINT64_MAX >> 9) - e->offset, "offset + sectors overflows");
        CHECK(e->filename || e->type == VMDK_EXTENT_ZERO, "extent without a file name");
        check_string(e->filename, size, true, "extent file name");
        CHECK(e->line >= 1 && e->line <= size, "line number");
    }
    CHECK(sum == d->total_sectors, "total_sectors is the sum of the extents");
    CHECK(sum <= UINT64_MAX >> 9, "total bytes overflow");
    const char *strings[] = {d->create_type, d->parent_hint, d->encoding, d->adapter_type, d->hw_version, d->uuid};
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
        check_string(strings[i], size, false, "descriptor value");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imgp_ctx *ctx = imgp_ctx_new(&fuzz_counting_allocator);
    if (!ctx)
        return 0;
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_EXTENTS, 64);
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_DESCRIPTOR_BYTES, 64 * 1024);
    long base = fuzz_live_blocks;

    vmdk_descriptor d, again;
    imgp_status st = vmdk_desc_parse(ctx, "fuzz", data, size, &d);
    CHECK((unsigned)st < IMGP_STATUS_COUNT_, "status in the enum");
    if (st != IMGP_OK) {
        check_failure(ctx, st);
        CHECK(d.nextents == 0 && d.extents == NULL && d.create_type == NULL, "a failure leaves nothing");
    } else {
        check_success(ctx, &d, size);
    }

    imgp_status st2 = vmdk_desc_parse(ctx, "fuzz", data, size, &again);
    CHECK(st2 == st, "parsing is deterministic");
    if (st == IMGP_OK) {
        CHECK(again.nextents == d.nextents && again.total_sectors == d.total_sectors, "same extents");
        CHECK(again.has_cid == d.has_cid && again.cid == d.cid && again.parent_cid == d.parent_cid, "same CIDs");
        CHECK(same_string(again.create_type, d.create_type) && same_string(again.parent_hint, d.parent_hint),
              "same strings");
        for (size_t i = 0; i < d.nextents; i++)
            CHECK(same_string(again.extents[i].filename, d.extents[i].filename), "same file names");
    }
    vmdk_desc_free(ctx, &d);
    vmdk_desc_free(ctx, &again);
    CHECK(fuzz_live_blocks == base, "vmdk_desc_free() frees everything");
    imgp_ctx_free(ctx);
    return 0;
}
