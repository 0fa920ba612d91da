/*
 * Inspection internals: the object every step fills, string ownership,
 * findings, bounded file reads from the guest's view, and the OS modules.
 *
 * Adding an OS (Windows): write src/inspect/NAME.c defining an
 * insp_os_module and add it to the table in inspect.c. inspect.c mounts
 * every filesystem, asks each module what role a filesystem plays, picks the
 * root and assembles the view; the module identifies the guest and adds the
 * findings only it can judge; verdict.c applies the rules common to all.
 */
#ifndef IMGP_INSPECT_INTERNAL_H
#define IMGP_INSPECT_INTERNAL_H

#include "../core/internal.h"
#include "imgprobe/inspect.h"

#define INSP_TEXT_MAX (256u * 1024) /* most read of one guest text file (os-release, fstab, grub.cfg) */

typedef struct insp_fs {
    imgp_fs *fs;
    const imgp_partition *part; /* the partition, LV or whole disk it is on */
    size_t index;               /* into info.filesystems */
} insp_fs;

/* A string list that owns its strings (the findings' messages, identity fields...). */
struct imgp_inspection {
    imgp_ctx *ctx;
    imgp_image *img;
    imgp_bdev *disk;    /* the image's disk as the volumes read it: keeps the first read error */
    imgp_volumes *vols;
    imgp_inspect_opts opts;
    imgp_inspection_info info;

    insp_fs *fss; /* mounted filesystems, parallel to info.filesystems */
    imgp_inspected_fs *fs_info;
    size_t nfs;
    int root;                  /* index into fss, or -1 */
    const char *prefix;        /* the root's deployment directory (ostree), or "" */
    imgp_view *view;

    imgp_kernel *kernels;
    size_t nkernels;
    imgp_fstab_entry *fstab;
    size_t nfstab;
    imgp_finding *findings;
    size_t nfindings;

    char **strings; /* everything the info points at */
    size_t nstrings, strings_cap;
    bool nomem;     /* a string could not be kept: inspection fails with IMGP_ERR_NOMEM */
};

/* Keep a copy of @p s (NULL stays NULL) for the inspection's lifetime. Out
 * of memory, "" (never NULL): insp->nomem is set and the inspection fails. */
const char *insp_str(imgp_inspection *insp, const char *s);
const char *insp_printf(imgp_inspection *insp, const char *fmt, ...) IMGP_PRINTF(2, 3);

/* Grow @p *arr (elements of @p size) to hold one more than @p n. */
bool insp_grow(imgp_inspection *insp, void **arr, size_t n, size_t size);

/* Add a finding; @p advice may be NULL. */
void insp_finding(imgp_inspection *insp, const char *code, imgp_severity sev, const char *advice,
                  const char *fmt, ...) IMGP_PRINTF(5, 6);

/*
 * Read at most @p max bytes of guest file @p path (looked up in @p view,
 * symlinks followed; under insp->prefix when @p prefixed) into a buffer the
 * caller frees with imgp_free. *len is what was read; *whole says whether
 * that was the whole file. IMGP_ERR_NOT_FOUND when it does not exist or is
 * not a regular file.
 */
imgp_status insp_read(imgp_inspection *insp, imgp_view *view, const char *path, bool prefixed, size_t max,
                      char **buf, size_t *len, bool *whole);

/* The node at @p path (under the prefix when @p prefixed), following symlinks unless @p nofollow. */
bool insp_lookup(imgp_inspection *insp, imgp_view *view, const char *path, bool prefixed, bool nofollow,
                 imgp_node *node, imgp_stat *st);

/* Append printf output to @p buf (capacity @p cap, @p *o bytes used), cut at its end. */
void insp_appendf(char *buf, size_t cap, size_t *o, const char *fmt, ...) IMGP_PRINTF(4, 5);

/* Called with each entry's NUL-terminated name; non-zero stops the listing. */
typedef int (*insp_name_fn)(void *arg, const char *name, imgp_ftype type);

/* Call @p fn for each entry of directory @p path (names longer than 255
 * bytes or holding NUL are left out); nothing when it is not a directory. */
void insp_list_dir(imgp_inspection *insp, imgp_view *v, const char *path, bool prefixed, insp_name_fn fn, void *arg);

/* The filesystem (info.filesystems index) a device spec of fstab or root= names, or -1. */
int insp_resolve_spec(imgp_inspection *insp, const char *spec);

/* Whether a device spec names a block device by a kernel name that changes under virtio (/dev/sdX...). */
bool insp_spec_names_legacy_disk(const char *spec);

typedef struct insp_os_module {
    const char *type; /* "linux" */
    /* The role of @p fs seen alone ("root", "boot", "usr"), or NULL when it is not this OS's. */
    const char *(*classify)(imgp_inspection *insp, imgp_view *alone);
    /* Where the root's files are under its filesystem (ostree deployments); "" normally. */
    const char *(*prefix)(imgp_inspection *insp, imgp_view *alone);
    /* The device spec (root=) the boot loader of a root would boot, or NULL. */
    const char *(*boot_root_spec)(imgp_inspection *insp, imgp_view *view);
    /* Identify the guest in insp->view and add the findings only this OS can judge. */
    imgp_status (*identify)(imgp_inspection *insp);
} insp_os_module;

extern const insp_os_module insp_linux;
extern const insp_os_module insp_windows;

/* Windows partitioning the import refuses (windows.c); with @p root_found
 * false, for a disk where no root was found: LDM and Storage Spaces only. */
void insp_windows_partitioning(imgp_inspection *insp, bool root_found);

/* The rules common to every OS (verdict.c): size, format, partitions, root. */
imgp_status insp_verdict(imgp_inspection *insp, const insp_os_module *os);

#endif
