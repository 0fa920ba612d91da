/*
 * The partition layer's internal interface.
 *
 * A scan (volumes.c) reads the head of the disk, lets every partition scheme
 * score it (the highest wins; a tie is refused), lets the winner parse the
 * table into the volume set, names what every partition holds (content.c),
 * follows LVM2 physical volumes into logical volumes (lvm.c), and names what
 * those hold.
 *
 * Adding a scheme: write src/partition/NAME.c defining `const imgp_scheme
 * imgp_scheme_NAME` and add one row to the table in volumes.c.
 */
#ifndef IMGP_VOLUMES_INTERNAL_H
#define IMGP_VOLUMES_INTERNAL_H

#include "../core/internal.h"

#define IMGP_SCHEME_HEAD (16u * 1024) /* LBA 0..1 for 4096-byte sectors, with room */

typedef struct imgp_scheme {
    const char *name; /* "gpt", "mbr" */

    /* Pure: score the first @p len bytes of a disk of @p disk_size bytes
     * (IMGP_SCORE_* from formats/format.h: 0 none ... 100 certain). */
    int (*probe)(const uint8_t *head, size_t len, uint64_t disk_size);

    /* Read the table from vols->disk into @p vols: vol_add_slice() each
     * partition, vol_note() what is odd. Set vols->info.disk_id and
     * sector_size. Return an error only when nothing usable can be said. */
    imgp_status (*parse)(imgp_volumes *vols);
} imgp_scheme;

typedef struct imgp_strnode imgp_strnode;

struct imgp_volumes {
    imgp_ctx *ctx;
    imgp_bdev *disk;          /* not owned */
    imgp_volume_info info;
    imgp_partition *parts;    /* info.partitions */
    size_t parts_cap;
    imgp_note *notes;         /* info.notes */
    size_t notes_cap;
    imgp_strnode *strings;
    imgp_bdev **extra_bdevs;  /* devices the partitions' devices read through (LVM PV slices) */
    size_t nextra, extra_cap;
};

/* Copy a string into the set's lifetime. NULL in, NULL out; NULL (NOMEM recorded) on failure. */
const char *vol_keep(imgp_volumes *vols, const char *s);
const char *vol_keepf(imgp_volumes *vols, const char *fmt, ...) IMGP_PRINTF(2, 3);

/* Record something noticed. */
imgp_status vol_note(imgp_volumes *vols, imgp_note_level level, const char *fmt, ...) IMGP_PRINTF(3, 4);

/*
 * Append a partition: strings are copied, p->bdev (if any) is taken over.
 * Content is left for the scan to fill in. On failure p->bdev is closed.
 */
imgp_status vol_add_partition(imgp_volumes *vols, const imgp_partition *p);

/*
 * Append a partition of the disk whose bytes are [p->start, p->start + p->size):
 * makes its slice device. A range that reaches past the end of the disk, or is
 * empty, is added without a device (unreadable says why) and noted as a warning.
 */
imgp_status vol_add_slice(imgp_volumes *vols, const imgp_partition *p);

/* Keep a device alive as long as the set (a PV slice an LV reads through). */
imgp_status vol_keep_bdev(imgp_volumes *vols, imgp_bdev *bd);

/* ---- content.c: what a device holds, from its superblock ---- */

#define IMGP_CONTENT_HEAD (68u * 1024)  /* btrfs superblock at 64 KiB */
#define IMGP_CONTENT_TAIL (128u * 1024) /* md 0.90 superblock near the end */

typedef struct content_result {
    const char *type;  /* static string, "unknown" when nothing matched */
    char version[32];  /* "Joliet Extension" is blkid's longest */
    char label[256];   /* UTF-8 */
    char uuid[40];     /* as blkid prints it: DCE UUIDs lowercase, FAT/NTFS serials in uppercase hex */
} content_result;

/*
 * Pure: identify what a device of @p size bytes holds from its first
 * @p head_len and last @p tail_len bytes. Never reads outside them.
 */
void content_identify(const uint8_t *head, size_t head_len, const uint8_t *tail, size_t tail_len, uint64_t size,
                      content_result *out);

/* Read the head and tail of @p bd and identify it. */
imgp_status content_probe(imgp_bdev *bd, content_result *out);

/* ---- lvm.c ---- */

/*
 * Find the LVM2 physical volumes among vols' partitions (and the whole disk),
 * assemble their volume groups and add each logical volume as a partition
 * (index "vg/lv", is_logical_volume, with a device when its segments can be
 * read). Problems become notes.
 */
imgp_status lvm_scan(imgp_volumes *vols);

#endif
