/*
 * libFuzzer harness over the whole `check` pipeline: the input is a disk
 * image in memory (any format), opened, its partitions scanned, every
 * filesystem mounted, the root found, the guest identified (text files,
 * boot loader, kernels, initramfs, cloud-init) and the verdict given.
 * Replayed without libFuzzer by replay.c; seeded with the check fixtures.
 *
 * Invariants (abort() when one breaks):
 *  - inspection fails only with a status other than OK and a message, and
 *    then leaves nothing allocated;
 *  - importable is true exactly when no finding is an error, and the error
 *    and warning counts match the findings;
 *  - every finding has a code, a message, a severity in range;
 *  - the partitions found lie inside the image's virtual disk (logical
 *    volumes aside), and every filesystem found is on one of them or on the
 *    whole disk; nroots counts the filesystems with role "root";
 *  - a guest of a known OS type has a root that is one of the filesystems
 *    found, with role "root"; one default kernel at most;
 *  - every fstab entry that names a device names one of the filesystems or
 *    partitions found, and so does every Windows drive letter that names one;
 *  - everything allocated through the context is freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgprobe/imgprobe.h"
#include "imgprobe/inspect.h"
#include "harness_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool known_device(const imgp_inspection_info *in, const char *dev)
{
    for (size_t i = 0; i < in->nfilesystems; i++)
        if (strcmp(in->filesystems[i].device, dev) == 0)
            return true;
    if (!in->volumes)
        return false;
    if (strcmp(in->volumes->disk.index, dev) == 0)
        return true;
    for (size_t i = 0; i < in->volumes->npartitions; i++)
        if (strcmp(in->volumes->partitions[i].index, dev) == 0)
            return true;
    return false;
}

static void check_info(const imgp_inspection_info *in)
{
    unsigned errors = 0, warnings = 0;
    for (size_t i = 0; i < in->nfindings; i++) {
        const imgp_finding *f = &in->findings[i];
        CHECK(f->code && f->code[0] && f->message && f->message[0], "a finding without code or message");
        CHECK(f->severity <= IMGP_SEVERITY_ERROR, "severity out of range");
        errors += f->severity == IMGP_SEVERITY_ERROR;
        warnings += f->severity == IMGP_SEVERITY_WARNING;
    }
    CHECK(errors == in->errors && warnings == in->warnings, "counts disagree with the findings");
    CHECK(in->importable == (errors == 0), "importable disagrees with the errors");
    CHECK(in->os.type != NULL, "no OS type");
    if (strcmp(in->os.type, "unknown") != 0) {
        CHECK(in->os.root_device != NULL, "an OS without a root");
        bool found = false;
        for (size_t i = 0; i < in->nfilesystems; i++)
            found |= strcmp(in->filesystems[i].device, in->os.root_device) == 0 &&
                     strcmp(in->filesystems[i].role, "root") == 0;
        CHECK(found, "the root is not a filesystem with role root");
    }
    size_t roots = 0;
    for (size_t i = 0; i < in->nfilesystems; i++) {
        const imgp_inspected_fs *fs = &in->filesystems[i];
        CHECK(fs->device && fs->type && fs->role, "a filesystem without device, type or role");
        CHECK(in->volumes && known_device(in, fs->device), "a filesystem on an unknown device");
        roots += strcmp(fs->role, "root") == 0;
    }
    CHECK(roots == in->nroots, "nroots disagrees with the roles");
    if (in->volumes) {
        CHECK(in->image != NULL, "volumes without an image");
        uint64_t disk = in->image->virtual_size;
        CHECK(in->volumes->disk.size == disk, "the disk is not the image's virtual disk");
        for (size_t i = 0; i < in->volumes->npartitions; i++) {
            const imgp_partition *p = &in->volumes->partitions[i];
            if (p->bdev && !p->is_logical_volume)
                CHECK(p->start <= disk && p->size <= disk - p->start, "a partition past the end of the image");
        }
    }
    CHECK(in->windows.ndrives <= 26, "more drive letters than letters");
    for (size_t i = 0; i < in->windows.ndrives; i++)
        if (in->windows.drives[i].device)
            CHECK(known_device(in, in->windows.drives[i].device), "a drive letter on an unknown device");
    size_t defaults = 0;
    for (size_t i = 0; i < in->nkernels; i++) {
        CHECK(in->kernels[i].version && in->kernels[i].path, "a kernel without version or path");
        defaults += in->kernels[i].is_default;
    }
    CHECK(defaults <= 1, "several default kernels");
    for (size_t i = 0; i < in->nfstab; i++)
        if (in->fstab[i].device)
            CHECK(known_device(in, in->fstab[i].device), "an fstab entry resolved to an unknown device");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imgp_ctx *ctx = imgp_ctx_new(&fuzz_counting_allocator);
    if (!ctx)
        return 0;
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_TABLE_BYTES, 16u << 20);
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_CACHE_BYTES, 256u << 10);
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_DECOMPRESSED, 32u << 20);
    imgp_ctx_set_limit(ctx, IMGP_LIMIT_DIR_ENTRIES, 100000);
    imgp_source *src = NULL;
    if (imgp_source_open_memory(ctx, data, size, "fuzz-input", &src) == IMGP_OK) {
        imgp_image *img = NULL;
        if (imgp_image_open_source(ctx, src, NULL, &img) == IMGP_OK) {
            imgp_inspection *insp = NULL;
            imgp_inspect_opts opts = {.no_scan = false};
            imgp_status st = imgp_inspect(ctx, img, &opts, &insp);
            if (st == IMGP_OK) {
                check_info(imgp_inspection_get_info(insp));
                imgp_inspection_free(insp);
            } else {
                CHECK(insp == NULL, "a failed inspection left an object");
                CHECK(imgp_ctx_message(ctx)[0] != '\0', "a failure without a message");
            }
            imgp_image_close(img);
        }
    }
    imgp_ctx_free(ctx);
    CHECK(fuzz_live_blocks == 0, "allocations through the context leaked");
    return 0;
}
