/* A filesystem in memory, for testing the generic layer (lookup, views, CLI helpers). */
#ifndef IMGP_TEST_MEMFS_H
#define IMGP_TEST_MEMFS_H

#include "fs/fs.h"

/* An empty filesystem whose root directory is inode 1. */
imgp_fs *memfs_new(imgp_ctx *ctx);

/* Add an entry to directory @p dir: a directory, a file (@p data its contents)
 * or a symlink (@p data its target). @return its inode number. */
imgp_ino memfs_add(imgp_fs *fs, imgp_ino dir, const char *name, imgp_ftype type, const char *data);

#endif
