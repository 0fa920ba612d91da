/*
 * libFuzzer harness over the partition layer: the input is a disk (a memory
 * block device, 512-byte sectors) scanned by imgp_volumes_scan(), which runs
 * the MBR and GPT parsers (and, after them, LVM and content identification).
 * The same source replays committed inputs without libFuzzer (replay.c).
 *
 * Invariants checked on every input (abort() when one breaks):
 *  - a failed scan returns a status within the enum, leaves a message whose
 *    status is the one returned, and no result;
 *  - the probes score within 0..IMGP_SCORE_MAGIC;
 *  - a scan's result names a scheme, and a table's sector size is 512 or 4096;
 *  - the whole disk is described as index "disk" from 0 over the disk's size,
 *    on the disk's own device;
 *  - every partition has an index, unique in the set (and never "disk");
 *  - every partition of the disk with a device lies inside the disk, starts
 *    on a sector of the table's size, and its device is as large as the
 *    partition says; a container has no device; a logical volume starts at 0
 *    (its bytes are on its physical volumes) and is not a container; any
 *    other partition has a device exactly when it has no reason to be
 *    unreadable (one reaching past the end of the disk has such a reason);
 *  - the first and the last byte of every device read back, and a
 *    partition's bytes are the disk's bytes at its start;
 *  - every note has a level within the enum and a non-empty message.
 * Leaks are left to LeakSanitizer.
 */
#include <stdint.h>
#include <string.h>

#include "harness_support.h"
#include "imgprobe/imgprobe.h"
#include "partition/gpt.h"
#include "partition/mbr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch a string so that ASan sees a dangling or unterminated one. */
static size_t touch(const char *s) { return s ? strlen(s) : 0; }

static void check_partition(const imgp_partition *p, const uint8_t *data, size_t size)
{
    CHECK(p->index && p->index[0], "partition without an index");
    (void)(touch(p->type) + touch(p->type_name) + touch(p->name) + touch(p->uuid) + touch(p->unreadable) +
           touch(p->content.type) + touch(p->content.version) + touch(p->content.label) + touch(p->content.uuid));
    CHECK(strcmp(p->index, "disk") != 0, "a partition named like the disk");
    if (p->is_container)
        CHECK(p->bdev == NULL, "a container with a device");
    if (p->is_logical_volume)
        CHECK(p->start == 0 && !p->is_container, "a logical volume with a start or contents");
    if (!p->is_container)
        CHECK((p->bdev == NULL) == (p->unreadable != NULL), "a device and a reason it is unreadable, or neither");
    if (!p->bdev)
        return;
    imgp_bdev *bd = p->bdev;
    CHECK(bd->size == p->size, "device size differs from the partition's size");
    if (!p->is_logical_volume) {
        CHECK(p->start <= size && p->size <= size - p->start, "partition device reaches past the end of the disk");
    }
    if (bd->size == 0)
        return;
    uint8_t first, last;
    CHECK(imgp_bdev_read(bd, 0, &first, 1) == IMGP_OK, "first byte of a partition unreadable");
    CHECK(imgp_bdev_read(bd, bd->size - 1, &last, 1) == IMGP_OK, "last byte of a partition unreadable");
    if (!p->is_logical_volume) {
        CHECK(first == data[p->start], "a partition's first byte differs from the disk's");
        CHECK(last == data[p->start + p->size - 1], "a partition's last byte differs from the disk's");
    }
}

static void check_info(const imgp_volume_info *in, const imgp_bdev *disk, const uint8_t *data, size_t size)
{
    CHECK(in->scheme != NULL, "no scheme");
    CHECK(in->disk.index && strcmp(in->disk.index, "disk") == 0 && in->disk.start == 0 && in->disk.size == size &&
              in->disk.bdev == disk && !in->disk.is_container && !in->disk.is_logical_volume,
          "the whole disk is not described as such");
    bool table = strcmp(in->scheme, "none") != 0;
    if (table)
        CHECK(in->sector_size == 512 || in->sector_size == 4096, "odd sector size");
    (void)touch(in->disk_id);
    CHECK(in->npartitions == 0 || in->partitions, "partition count without partitions");
    for (size_t i = 0; i < in->npartitions; i++) {
        const imgp_partition *p = &in->partitions[i];
        check_partition(p, data, size);
        if (table && !p->is_logical_volume)
            CHECK(p->start % in->sector_size == 0, "a partition starts inside a sector");
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(in->partitions[i].index, in->partitions[j].index) != 0, "two partitions share an index");
    }
    CHECK(in->nnotes == 0 || in->notes, "note count without notes");
    for (size_t i = 0; i < in->nnotes; i++) {
        CHECK((unsigned)in->notes[i].level <= IMGP_NOTE_ERROR, "note level unknown");
        CHECK(in->notes[i].message && in->notes[i].message[0], "note without a message");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int g = gpt_score(data, size), m = mbr_score(data, size);
    CHECK(g >= 0 && g <= IMGP_SCORE_MAGIC && m >= 0 && m <= IMGP_SCORE_MAGIC, "probe score out of range");

    imgp_ctx *ctx = imgp_ctx_new(NULL);
    if (!ctx)
        return 0;
    imgp_bdev *disk = NULL;
    if (imgp_bdev_open_memory(ctx, data, size, "fuzz-disk", &disk) != IMGP_OK) {
        imgp_ctx_free(ctx);
        return 0;
    }
    CHECK(disk->sector_size == 512, "a memory device's sectors are 512 bytes");
    imgp_volumes *vols = NULL;
    imgp_status st = imgp_volumes_scan(ctx, disk, &vols);
    if (st == IMGP_OK) {
        CHECK(vols != NULL, "scan succeeded without a result");
        check_info(imgp_volumes_get_info(vols), disk, data, size);
    } else {
        check_failure(ctx, st);
        CHECK(vols == NULL, "failed scan left a result");
    }
    imgp_volumes_free(vols);
    imgp_bdev_close(disk);
    imgp_ctx_free(ctx);
    return 0;
}
