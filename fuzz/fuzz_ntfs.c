/*
 * libFuzzer harness over the NTFS driver: the input is a volume (a memory
 * block device) mounted with the ntfs driver forced, so every input reaches
 * its mount; an input that holds an MBR whose partition starts with an NTFS
 * boot sector (the Windows-written disks of the corpus) has that partition
 * mounted instead. The volume is then walked whole with bounded counts:
 * every directory listed, every entry stat'ed and looked up by name, every
 * file read, every symlink read. The same source replays committed inputs
 * without libFuzzer (replay.c).
 *
 * Invariants checked on every input (abort() when one breaks):
 *  - every failing call returns a status within the enum and leaves a
 *    message whose status is the one returned; a failed mount leaves no
 *    filesystem;
 *  - the probe scores within 0..IMGP_SCORE_MAGIC;
 *  - a mounted volume's info: type "ntfs", root record 5, case-insensitive,
 *    a 16-digit serial, notes non-empty strings;
 *  - a readdir entry has a name of 1 to 765 bytes (255 UTF-16 units as
 *    UTF-8) other than "." and "..", and its inode stats (or fails cleanly);
 *  - a lookup of a listed name succeeds or fails cleanly (a damaged index
 *    may be out of order: a B+ tree descent may then miss a name that a
 *    walk lists), and what it finds stats or fails cleanly;
 *  - a path lookup through a view (imgp_view_lookup, no symlink followed
 *    last) finds the inode the name lookup found, or fails when that inode
 *    does not stat; with a trailing "/" it finds a directory itself, refuses
 *    any other type with IMGP_ERR_INVALID_ARG, and follows a symlink only to
 *    a directory (the first 1024 entries of directories whose own path
 *    leads back to them);
 *  - a read of a regular file returns min(len, size - off) bytes; at or past
 *    the end, none; a range read whole equals the same range in two pieces;
 *  - readlink of a symlink gives a string no longer than its size;
 *  - a stat's type is within the enum and known, names the inode asked, and
 *    counts at least one link.
 * The walk is fs_walk.h's, as for ext4 and xfs. Leaks are left to
 * LeakSanitizer.
 */
#include "fs/ntfs.h"
#include "fs_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the NTFS boot sector and $Volume promise of the info. */
static void check_info(const imgp_fs_info *in)
{
    CHECK(in->root == NTFS_ROOT_RECORD, "the root is not record 5");
    CHECK(strcmp(in->type, "ntfs") == 0, "type");
    CHECK(in->case_insensitive, "NTFS lookups ignore case");
    CHECK(in->uuid && strlen(in->uuid) == 16, "the serial as 16 hex digits");
    CHECK(!in->label || strlen(in->label) <= 3 * 128, "label longer than 128 UTF-16 units");
}

/* Where the volume starts: 0, or the first MBR partition that starts with an NTFS boot sector. */
static size_t volume_start(const uint8_t *data, size_t size)
{
    if (size < 512 || (size >= 11 && memcmp(data + NTFS_BOOT_OEM_ID, NTFS_OEM, 8) == 0))
        return 0;
    if (data[510] != 0x55 || data[511] != 0xAA)
        return 0;
    for (size_t i = 0; i < 4; i++) {
        const uint8_t *p = data + 446 + 16 * i;
        uint64_t lba = (uint64_t)p[8] | (uint64_t)p[9] << 8 | (uint64_t)p[10] << 16 | (uint64_t)p[11] << 24;
        if (lba == 0 || lba > (size - 512) / 512)
            continue;
        if (memcmp(data + lba * 512 + NTFS_BOOT_OEM_ID, NTFS_OEM, 8) == 0)
            return (size_t)lba * 512;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const fs_walk_rules rules = {.max_name = 3 * 255, .lookup_may_miss = true, .links = true};
    size_t start = volume_start(data, size);
    fuzz_fs_input(data + start, size - start, &imgp_fs_ntfs, &rules, check_info);
    return 0;
}
