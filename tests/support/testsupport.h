/* Test support: a block device that fails on demand, and small helpers. */
#ifndef IMGP_TESTSUPPORT_H
#define IMGP_TESTSUPPORT_H

#include "core/internal.h"

/*
 * A device stacked on @p lower (not owned) whose reads pass through, except
 * that the @p fail_at-th read (1-based; 0 = never) and every one after it
 * fails with IMGP_ERR_IO. Counts reads in *reads if non-NULL.
 */
imgp_status test_bdev_failing(imgp_ctx *ctx, imgp_bdev *lower, unsigned fail_at, unsigned *reads,
                              imgp_bdev **out);

/* A context whose allocator fails the @p fail_at-th allocation (1-based; 0 = never). */
imgp_ctx *test_ctx_failing_alloc(unsigned fail_at);
/* How many allocations that context made so far. */
unsigned test_alloc_count(void);

/* Fail the test unless @p got is @p want and the context's message contains @p needle. */
void test_expect_error(imgp_ctx *ctx, imgp_status got, imgp_status want, const char *needle);

/* Open an image (format detected) over @p len bytes of @p buf, named @p name in messages. */
imgp_status test_image_open_memory(imgp_ctx *ctx, const void *buf, size_t len, const char *name,
                                   imgp_image **out);

/* The value of the image's format-specific fact @p key, or NULL. */
const char *test_image_prop(const imgp_image *img, const char *key);

/* Put a big-/little-endian value into a byte array at @p off. */
void test_put_be16(uint8_t *p, size_t off, uint16_t v);
void test_put_be32(uint8_t *p, size_t off, uint32_t v);
void test_put_be64(uint8_t *p, size_t off, uint64_t v);
void test_put_le16(uint8_t *p, size_t off, uint16_t v);
void test_put_le32(uint8_t *p, size_t off, uint32_t v);
void test_put_le64(uint8_t *p, size_t off, uint64_t v);

#endif
