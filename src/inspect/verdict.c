/*
 * The import rules common to every guest (DESIGN.md's table): the format
 * and sizes, a partition table, a root. The OS modules add what only they
 * can judge (virtio, cloud-init...).
 */
#include <stdio.h>

#include "imgprobe/measure.h"
#include "inspect.h"

/* The cloud's limits, in its own units: GB = 10^9 bytes. */
#define MAX_VIRTUAL_SIZE 500000000000ull   /* virtual size must stay under 500 GB */
#define MAX_CONVERTED_SIZE 50000000000ull  /* qcow2 size after conversion under 50 GB */
#define MIN_ROOT_FREE (250ull << 20)       /* below this, first boot (cloud-init, logs) may fail */

static const char *const accepted_formats[] = {"raw", "qcow2", "vhd", "vmdk"};

static bool format_accepted(const char *f)
{
    for (size_t i = 0; i < sizeof accepted_formats / sizeof accepted_formats[0]; i++)
        if (strcmp(f, accepted_formats[i]) == 0)
            return true;
    return false;
}

static const char *gb(uint64_t bytes, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.1f GB", (double)bytes / 1e9);
    return buf;
}

static imgp_status size_rules(imgp_inspection *insp)
{
    imgp_size_facts *sz = &insp->info.size;
    char a[32], b[32];
    if (sz->virtual_size >= MAX_VIRTUAL_SIZE)
        insp_finding(insp, IMGP_CODE_INVALID_FORMAT_SIZE, IMGP_SEVERITY_ERROR,
                     "Shrink the filesystems and the disk (resize2fs / xfs cannot shrink: copy to a smaller "
                     "disk), then `qemu-img resize --shrink`.",
                     "virtual size %s (%llu bytes) is not under the 500 GB limit", gb(sz->virtual_size, a, sizeof a),
                     (unsigned long long)sz->virtual_size);
    imgp_bdev *disk;
    imgp_status st = imgp_image_bdev(insp->img, &disk);
    if (st != IMGP_OK)
        return st;
    imgp_measure_result m;
    if ((st = imgp_measure_bound(insp->ctx, disk, &m)) != IMGP_OK)
        return st;
    if (m.required_size >= MAX_CONVERTED_SIZE && !m.exact) {
        if (insp->opts.no_scan) {
            insp_finding(insp, "ConvertedSizeNotMeasured", IMGP_SEVERITY_WARNING,
                         "Run `imgprobe check` without --no-scan, or `imgprobe measure`, for the exact figure.",
                         "the size after conversion to qcow2 is at most %s (allocated data plus metadata, an upper "
                         "bound): not measured, so the 50 GB limit is not known to hold",
                         gb(m.required_size, a, sizeof a));
        } else {
            st = imgp_measure(insp->ctx, disk, insp->opts.progress, insp->opts.progress_arg, &m);
            if (st != IMGP_OK)
                return st;
        }
    }
    sz->converted_size = m.required_size;
    sz->converted_exact = m.exact;
    if (m.required_size >= MAX_CONVERTED_SIZE && m.exact)
        insp_finding(insp, IMGP_CODE_INVALID_FORMAT_SIZE, IMGP_SEVERITY_ERROR,
                     "Delete what the guest does not need and zero its free space (`fstrim`, or fill with zeros "
                     "and delete) so that conversion skips it.",
                     "size after conversion to qcow2 is %s (%llu bytes), not under the 50 GB limit (measured, "
                     "virtual size %s)",
                     gb(m.required_size, a, sizeof a), (unsigned long long)m.required_size,
                     gb(sz->virtual_size, b, sizeof b));
    return IMGP_OK;
}

#define GPT_ESP "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"

/* What the whole disk holds when it has no table, if anything is recognised
 * there (a filesystem, even one that cannot be read; swap; a PV; LUKS): such a
 * disk is not empty, and no root on it is RootPartitionNotFound. */
static const char *whole_disk_content(const imgp_volume_info *vi)
{
    const char *ct = vi->disk.content.type;
    return strcmp(vi->scheme, "none") == 0 && ct && strcmp(ct, "unknown") != 0 ? ct : NULL;
}

static void partition_rules(imgp_inspection *insp, const insp_os_module *os)
{
    const imgp_volume_info *vi = insp->info.volumes;
    if (!vi)
        return;
    const imgp_partition *esp = NULL;
    for (size_t i = 0; i < vi->npartitions && !esp; i++) {
        const char *t = vi->partitions[i].type ? vi->partitions[i].type : "";
        if (strcmp(t, GPT_ESP) == 0 || strcmp(t, "0xef") == 0)
            esp = &vi->partitions[i];
    }
    for (size_t i = 0; i < insp->nfstab && !esp; i++)
        if (insp->fstab[i].mountpoint && strcmp(insp->fstab[i].mountpoint, "/boot/efi") == 0)
            insp->info.boot.efi = true;
    if (esp)
        insp->info.boot.efi = true;

    if (strcmp(vi->scheme, "none") == 0) {
        if (insp->nfs == 0 && !whole_disk_content(vi))
            insp_finding(insp, IMGP_CODE_PARTITION_NOT_PRESENT, IMGP_SEVERITY_ERROR,
                         "Export the whole disk (partition table included), not a single partition or an empty disk.",
                         "no partition table and no filesystem on the disk (nothing on it is recognised)");
    } else if (strcmp(vi->scheme, "gpt") == 0) {
        insp_finding(insp, "GptPartitionTable", IMGP_SEVERITY_WARNING,
                     "The current import rules accept MBR disks only: convert with `sgdisk -m` (at most 4 "
                     "partitions) or rebuild the disk with an MBR table.",
                     "the disk has a GPT partition table");
    }
    if (insp->info.boot.efi)
        insp_finding(insp, "EfiBoot", IMGP_SEVERITY_WARNING,
                     "The current import rules accept BIOS boot only: install grub for BIOS (i386-pc) on an MBR disk.",
                     esp ? "the disk has an EFI system partition (%s): the guest boots through UEFI"
                         : "/etc/fstab mounts /boot/efi%s: the guest boots through UEFI",
                     esp ? esp->index : "");
    (void)os;
}

static void root_rules(imgp_inspection *insp, const insp_os_module *os)
{
    const imgp_volume_info *vi = insp->info.volumes;
    if (!vi)
        return;
    if (!os) {
        if (insp->nfs == 0 && strcmp(vi->scheme, "none") == 0 && !whole_disk_content(vi))
            return; /* PartitionNotPresent said it */
        insp_windows_partitioning(insp, false);
        char seen[512] = "", hidden[512] = "";
        size_t o = 0, h = 0;
        for (size_t i = 0; i < insp->nfs; i++)
            insp_appendf(seen, sizeof seen, &o, "%s%s on %s (%s)", i ? ", " : "", insp->fs_info[i].type,
                         insp->fs_info[i].device, insp->fs_info[i].role);
        /* what may hold the root out of sight: encrypted volumes, dynamic disks, an unreadable whole disk */
        if (insp->nfs == 0 && whole_disk_content(vi))
            insp_appendf(hidden, sizeof hidden, &h, "; the whole disk holds %s", whole_disk_content(vi));
        for (size_t i = 0; i < vi->npartitions; i++) {
            const char *ct = vi->partitions[i].content.type;
            if (!ct || (strcmp(ct, "BitLocker") != 0 && strcmp(ct, "crypto_LUKS") != 0 && strcmp(ct, "LDM") != 0))
                continue;
            insp_appendf(hidden, sizeof hidden, &h, "; partition %s holds %s%s", vi->partitions[i].index, ct,
                         strcmp(ct, "LDM") == 0 ? " (a dynamic disk)" : " (encrypted)");
        }
        insp_finding(insp, IMGP_CODE_ROOT_PARTITION_NOT_FOUND, IMGP_SEVERITY_ERROR,
                     "Export the disk that holds the operating system's root filesystem (ext2/3/4 or XFS for "
                     "Linux, NTFS for Windows), unencrypted (decrypt BitLocker or LUKS first) and on a plain "
                     "partition (not LDM or Storage Spaces).",
                     insp->nfs ? "no root filesystem among the filesystems found: %s%s"
                               : "no filesystem imgprobe can read on the disk%s%s",
                     seen, hidden);
        return;
    }
    const imgp_inspected_fs *root = &insp->fs_info[insp->root];
    if (insp->info.os.root_choice && insp->info.nroots > 1)
        insp_finding(insp, "SeveralRoots", IMGP_SEVERITY_INFO, NULL, "%s", insp->info.os.root_choice);
    /* the NTFS driver does not count $Bitmap (its free_bytes is 0): free space unknown there */
    if (root->total_bytes && root->free_bytes < MIN_ROOT_FREE && strcmp(root->type, "ntfs") != 0) {
        insp_finding(insp, "LowDiskSpace", IMGP_SEVERITY_WARNING,
                     "Free space on the root filesystem (or grow it) before import: first boot writes logs and "
                     "cloud-init's state.",
                     "the root filesystem (%s on %s) has %llu MiB free, under 250 MiB", root->type, root->device,
                     (unsigned long long)(root->free_bytes >> 20));
    }
}

imgp_status insp_verdict(imgp_inspection *insp, const insp_os_module *os)
{
    const imgp_image_info *ii = insp->info.image;
    if (!ii->readable) {
        if (!format_accepted(ii->format))
            insp_finding(insp, IMGP_CODE_INVALID_FORMAT_SIZE, IMGP_SEVERITY_ERROR,
                         "Convert it to qcow2, VHD, VMDK or raw with qemu-img convert first.", "%s",
                         ii->unreadable_reason ? ii->unreadable_reason : "the format is not accepted");
        else
            insp_finding(insp, IMGP_CODE_INTERNAL_ERROR, IMGP_SEVERITY_ERROR, NULL, "the %s image cannot be read: %s",
                         ii->format, ii->unreadable_reason ? ii->unreadable_reason : "unknown reason");
        return IMGP_OK;
    }
    if (!format_accepted(ii->format))
        insp_finding(insp, IMGP_CODE_INVALID_FORMAT_SIZE, IMGP_SEVERITY_ERROR,
                     "Convert it with `qemu-img convert -O qcow2` first.", "the %s format is not accepted", ii->format);
    imgp_status st = size_rules(insp);
    if (st != IMGP_OK)
        return st;
    partition_rules(insp, os);
    root_rules(insp, os);
    return insp->nomem ? IMGP_ERR_NOMEM : IMGP_OK;
}
