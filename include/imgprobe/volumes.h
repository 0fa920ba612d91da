/*
 * Volumes: what a disk is divided into. A scan reads the partition table
 * (MBR or GPT), follows LVM2 physical volumes found on the partitions (or the
 * whole disk) into their logical volumes, and names what each holds by its
 * superblock (ext4, xfs, ntfs, vfat, swap, lvm2_member, crypto_LUKS...).
 * Every partition and logical volume is itself a block device, so a
 * filesystem mounts the same way on any of them.
 */
#ifndef IMGPROBE_VOLUMES_H
#define IMGPROBE_VOLUMES_H

#include "bdev.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a device holds, from its superblock alone. Strings owned by the volume set. */
typedef struct imgp_content {
    const char *type;    /* "ext4", "xfs", "ntfs", "vfat", "swap", "lvm2_member", "crypto_LUKS",
                            "BitLocker", "btrfs", "iso9660", "squashfs", "linux_raid_member",
                            "LDM", ... or "unknown" */
    const char *version; /* "1.0" for LUKS1, "v5" for XFS with CRCs...; or NULL */
    const char *label;   /* or NULL */
    const char *uuid;    /* filesystem / PV / LUKS UUID, lowercase; or NULL */
} imgp_content;

typedef struct imgp_partition {
    const char *index;      /* as Linux numbers it ("1", "5"), or "vg/lv" for a logical volume */
    uint64_t start;         /* bytes from the start of the disk; 0 for a logical volume */
    uint64_t size;          /* bytes */
    const char *type;       /* MBR "0x83", GPT type GUID lowercase, LV segment type ("linear") */
    const char *type_name;  /* "Linux filesystem", "EFI System"...; or NULL when unknown */
    const char *name;       /* GPT partition name (UTF-8), LV name; or NULL */
    const char *uuid;       /* GPT unique partition GUID, LV UUID, lowercase; or NULL */
    uint64_t attributes;    /* GPT attribute bits */
    bool bootable;          /* MBR active flag, GPT legacy-BIOS-bootable attribute */
    bool is_container;      /* an MBR extended partition: holds others, no content of its own */
    bool is_logical_volume; /* an LVM2 logical volume */
    const char *unreadable; /* why its bytes cannot be read (a thin or RAID LV...), or NULL */
    imgp_bdev *bdev;        /* its bytes; NULL when unreadable or a container. Owned by the set */
    imgp_content content;
} imgp_partition;

typedef enum imgp_note_level { IMGP_NOTE_INFO = 0, IMGP_NOTE_WARNING = 1, IMGP_NOTE_ERROR = 2 } imgp_note_level;

/* Something the scan noticed: a hybrid MBR, a damaged primary GPT, overlapping partitions... */
typedef struct imgp_note {
    imgp_note_level level;
    const char *message;
} imgp_note;

typedef struct imgp_volume_info {
    const char *scheme;       /* "mbr", "gpt" or "none" */
    const char *disk_id;      /* MBR disk signature "0x0003977d", GPT disk GUID lowercase; or NULL */
    uint32_t sector_size;     /* logical sector size the table uses (512 or 4096) */
    imgp_partition disk;      /* the whole disk: index "disk", with its content when there is no table */
    size_t npartitions;       /* partitions in table order, then logical volumes */
    const imgp_partition *partitions;
    size_t nnotes;
    const imgp_note *notes;
} imgp_volume_info;

typedef struct imgp_volumes imgp_volumes;

/**
 * Scan @p disk (not owned; must outlive the result) for partitions, logical
 * volumes and their contents. Damage that still leaves a usable answer (a bad
 * primary GPT with a good backup, an extended chain that loops) becomes a
 * note; only failures to read the disk itself are errors.
 */
IMGP_API imgp_status imgp_volumes_scan(imgp_ctx *ctx, imgp_bdev *disk, imgp_volumes **out);

/** @return the scan's result; valid until imgp_volumes_free(). */
IMGP_API const imgp_volume_info *imgp_volumes_get_info(const imgp_volumes *vols);

/** Free a scan and every device it made. NULL is a no-op. */
IMGP_API void imgp_volumes_free(imgp_volumes *vols);

/**
 * A device that is the byte range [@p start, @p start + @p size) of @p parent
 * (not owned), with status passed through. The range must lie inside the parent.
 * @param name  used in messages ("disk.qcow2 p1"); copied.
 */
IMGP_API imgp_status imgp_bdev_slice_open(imgp_bdev *parent, uint64_t start, uint64_t size, const char *name,
                                          imgp_bdev **out);

#ifdef __cplusplus
}
#endif
#endif
