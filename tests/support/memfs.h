/* A filesystem in memory, for testing the generic layer (lookup, views, CLI helpers). */
#ifndef IMGP_TEST_MEMFS_H
#define IMGP_TEST_MEMFS_H

#include "fs/fs.h"

/* An empty filesystem whose root directory is inode 1. */
imgp_fs *memfs_new(imgp_ctx *ctx);

/* Add an entry to directory @p dir: a directory, a file (@p data its contents)
 * or a symlink (@p data its target). @return its inode number. */
imgp_ino memfs_add(imgp_fs *fs, imgp_ino dir, const char *name, imgp_ftype type, const char *data);

/* Add a regular file of @p size bytes to directory @p dir: @p len bytes of
 * @p data, then zeros (a sparse tail, which costs no memory). */
imgp_ino memfs_add_bytes(imgp_fs *fs, imgp_ino dir, const char *name, const void *data, size_t len, uint64_t size);

/* Bytes read from the files so far, and the reads, for tests of how a reader reads. */
uint64_t memfs_bytes_read(const imgp_fs *fs);
uint64_t memfs_reads(const imgp_fs *fs);

#endif
