/*
 * libFuzzer harness over the XFS driver: the input is a filesystem (a memory
 * block device) mounted with the xfs driver forced, so every input reaches
 * its mount, then walked whole with bounded counts: every directory listed,
 * every entry stat'ed and looked up by name, every file read, every symlink
 * read. The same source replays committed inputs without libFuzzer
 * (replay.c); meson replays the seeds (mkfs.xfs -p filesystems of every
 * directory form) and the corpus categories xfs and broken.
 *
 * Invariants checked on every input (abort() when one breaks):
 *  - every failing call returns a status within the enum and leaves a message
 *    whose status is the one returned; a failed mount leaves no filesystem;
 *  - the probe scores within 0..IMGP_SCORE_MAGIC;
 *  - a mounted filesystem's info is readable, its root a directory inode the
 *    superblock names, its notes non-empty strings;
 *  - a readdir entry has a name of 1 to 255 bytes other than "." and "..",
 *    and its inode stats (or fails cleanly) without a crash;
 *  - looking up a listed name returns that entry's inode, or the inode of an
 *    entry listed before it under the same name;
 *  - a path lookup through a view (imgp_view_lookup, no symlink followed
 *    last) finds the inode the name lookups found, or fails when that inode
 *    does not stat; with a trailing "/" it finds a directory itself, refuses
 *    any other type with IMGP_ERR_INVALID_ARG, and follows a symlink only to
 *    a directory (the first 1024 entries of directories whose own path
 *    leads back to them);
 *  - a read of a regular file returns min(len, size - off) bytes; at or past
 *    the end, none; a range read whole equals the same range in two pieces;
 *  - readlink of a symlink gives a string no longer than its size;
 *  - a stat's type is within the enum and known, and names the inode asked.
 * Leaks are left to LeakSanitizer.
 */
#include "fs/xfs.h"
#include "fs_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the xfs superblock promises of the info. */
static void check_info(const imgp_fs_info *in)
{
    CHECK(in->root != 0 && strcmp(in->type, "xfs") == 0, "root or type");
    CHECK(in->uuid && strlen(in->uuid) == 36, "info strings");
    CHECK(!in->label || strlen(in->label) <= 12, "label longer than 12 bytes");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const fs_walk_rules rules = {.max_name = 255};
    fuzz_fs_input(data, size, &imgp_fs_xfs, &rules, check_info);
    return 0;
}
