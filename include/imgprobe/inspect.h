/*
 * Inspection: every filesystem of an image mounted read-only, the guest's
 * root found, its OS identified (distribution, version, architecture,
 * kernels and their virtio drivers, cloud-init), and the cloud's import
 * rules checked into findings carrying the cloud's own error codes.
 *
 * The result is plain data owned by the inspection: the command line
 * prints it as text or JSON (docs/cli.md) and never decides anything itself.
 */
#ifndef IMGPROBE_INSPECT_H
#define IMGPROBE_INSPECT_H

#include "fs.h"
#include "image.h"
#include "volumes.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum imgp_severity {
    IMGP_SEVERITY_INFO = 0,
    IMGP_SEVERITY_WARNING = 1,
    IMGP_SEVERITY_ERROR = 2, /* the image will not be imported */
} imgp_severity;

/* The cloud's codes (DESIGN.md), and our own for warnings (docs/cli.md). */
#define IMGP_CODE_INVALID_URL "InvalidUrl"
#define IMGP_CODE_INVALID_FORMAT_SIZE "InvalidFormatSize"
#define IMGP_CODE_VIRTIO_NOT_INSTALL "VirtioNotInstall"
#define IMGP_CODE_CLOUD_INIT_NOT_INSTALLED "CloudInitNotInstalled"
#define IMGP_CODE_PARTITION_NOT_PRESENT "PartitionNotPresent"
#define IMGP_CODE_ROOT_PARTITION_NOT_FOUND "RootPartitionNotFound"
#define IMGP_CODE_INTERNAL_ERROR "InternalError"

typedef struct imgp_finding {
    const char *code;
    imgp_severity severity;
    const char *message; /* one line naming what was seen, where */
    const char *advice;  /* how to fix it, or NULL */
} imgp_finding;

/* One filesystem found on the image and what inspection made of it. */
typedef struct imgp_inspected_fs {
    const char *device;   /* partition index as `info` gives it ("1", "vg/lv", "disk") */
    const char *type;     /* "ext4", "xfs", ... */
    const char *label, *uuid; /* or NULL */
    const char *role;     /* "root", "boot", "usr", "efi", "windows", "data" */
    const char *mountpoint; /* where the chosen root's fstab mounts it, or NULL */
    uint64_t total_bytes, free_bytes;
} imgp_inspected_fs;

/* How a kernel can reach one virtio device. */
typedef struct imgp_virtio_driver {
    const char *name;     /* "virtio_blk", "virtio_scsi", "virtio_net", "virtio_pci" */
    char config;          /* CONFIG_* in the kernel's config: 'y', 'm', or 0 (absent or no config) */
    bool builtin;         /* CONFIG_*=y, or listed in modules.builtin */
    bool module;          /* the module file is in /lib/modules/<version> */
    bool in_initramfs;    /* the module is in the kernel's initramfs */
} imgp_virtio_driver;

enum { IMGP_VIRTIO_BLK, IMGP_VIRTIO_SCSI, IMGP_VIRTIO_NET, IMGP_VIRTIO_PCI, IMGP_VIRTIO_COUNT };

typedef struct imgp_kernel {
    const char *version;     /* "5.10.0-26-amd64" */
    const char *path;        /* "/boot/vmlinuz-5.10.0-26-amd64" */
    const char *modules_dir; /* "/lib/modules/5.10.0-26-amd64", or NULL when absent */
    const char *config;      /* its config file, or NULL */
    const char *initramfs;   /* its initramfs, or NULL */
    const char *initramfs_compression; /* "none+gzip" (one per archive), or NULL */
    const char *initramfs_error;       /* why the initramfs could not be read, or NULL */
    bool is_default;
    imgp_virtio_driver virtio[IMGP_VIRTIO_COUNT];
    bool virtio_disk_at_boot; /* (blk or scsi) and pci, each built in or in the initramfs */
    bool virtio_net;          /* virtio_net built in or as a module (and pci available) */
} imgp_kernel;

typedef struct imgp_fstab_entry {
    const char *spec, *mountpoint, *vfstype, *options;
    const char *device; /* the filesystem it names (imgp_inspected_fs.device), or NULL */
} imgp_fstab_entry;

typedef struct imgp_os {
    const char *type;         /* "linux", "windows", "unknown" */
    const char *distro;       /* os-release ID ("centos", "ubuntu"...), or NULL */
    const char *version;      /* "7", "22.04", "6.10"... or NULL */
    const char *pretty_name, *id_like; /* or NULL */
    const char *identity_source; /* the file the identity came from */
    const char *arch;         /* "x86_64", "i386", "aarch64"..., or NULL */
    unsigned bits;            /* 32 or 64, 0 when unknown */
    const char *hostname;     /* or NULL */
    const char *root_device;  /* imgp_inspected_fs.device of the root, or NULL */
    const char *root_choice;  /* why this root (when there were several, or none), or NULL */
    /* Windows (the SOFTWARE hive's CurrentVersion key); NULL for other guests */
    const char *build;        /* CurrentBuildNumber: "17763" */
    const char *release;      /* named from the build: "Windows Server 2019", "Windows 11" */
    const char *edition;      /* EditionID: "ServerDatacenter" */
    const char *installation_type; /* InstallationType: "Server", "Server Core", "Client" */
} imgp_os;

typedef struct imgp_cloud_init {
    bool installed;
    bool enabled;             /* units or init links found, and not disabled */
    const char *evidence;     /* "/usr/bin/cloud-init, dpkg: 22.4.2-1" ... or NULL */
    const char *disabled_by;  /* "/etc/cloud/cloud-init.disabled", "kernel command line", or NULL */
} imgp_cloud_init;

/*
 * A Windows virtio driver: its file, its service under the current control
 * set, and whether Plug and Play can match it to its virtio PCI devices
 * (vendor 1AF4; viostor 1001/1042, vioscsi 1004/1048, netkvm 1000/1041).
 */
typedef struct imgp_windows_driver {
    const char *name;         /* "viostor", "vioscsi", "netkvm" */
    bool file;                /* <system root>/System32/drivers/<name>.sys */
    bool service;             /* Services\<name> */
    int start;                /* the service's Start (0 boot .. 4 disabled), -1 when none */
    bool driver_store;        /* SYSTEM\DriverDatabase\DeviceIds\PCI\VEN_1AF4&DEV_<its id>... (Windows 8 on) */
    bool critical_db;         /* <control set>\Control\CriticalDeviceDatabase\pci#ven_1af4&dev_<its id>... */
} imgp_windows_driver;

enum { IMGP_WIN_VIOSTOR, IMGP_WIN_VIOSCSI, IMGP_WIN_NETKVM, IMGP_WIN_DRIVER_COUNT };

/* A drive letter the SYSTEM hive's MountedDevices assigns. */
typedef struct imgp_windows_drive {
    char letter[3];           /* "C:" */
    const char *id;           /* "mbr 0x12345678 offset 1048576", "gpt <partition guid>", or "other" */
    const char *device;       /* the partition on this image it names (imgp_inspected_fs.device), or NULL */
} imgp_windows_drive;

typedef struct imgp_windows_facts {
    const char *system_root;  /* "/Windows", or NULL for other guests */
    const char *control_set;  /* "ControlSet001" (SYSTEM hive, Select\Current), or NULL */
    size_t ndrives;           /* drive letters of MountedDevices, in the order stored */
    imgp_windows_drive drives[26];
    imgp_windows_driver virtio[IMGP_WIN_DRIVER_COUNT];
    /* viostor or vioscsi: file present, service Start 0, and its devices
     * registered where that Windows looks at boot: the driver store from
     * build 9200 (Windows 8 / 2012) on, the critical device database before */
    bool virtio_disk_at_boot;
    bool virtio_net;          /* netkvm: file, service, or staged in the driver store */
    /* virtio devices (PCI vendor 1AF4) the driver store knows: SYSTEM hive's
     * DriverDatabase\DeviceIds\PCI\VEN_1AF4* (Windows 8 / 2012 on), and the
     * control set's Control\CriticalDeviceDatabase\pci#ven_1af4* (older) */
    unsigned driver_store_ids, critical_device_ids;
} imgp_windows_facts;

typedef struct imgp_boot {
    const char *loader;       /* "grub2", "grub2+bls", "grub-legacy", or NULL */
    const char *config;       /* the file read, or NULL */
    const char *default_entry;/* the title of the default entry, or NULL */
    const char *cmdline;      /* its kernel command line, or NULL */
    bool efi;                 /* an EFI system partition, or /boot/efi in fstab */
} imgp_boot;

typedef struct imgp_size_facts {
    uint64_t virtual_size;
    uint64_t converted_size;  /* bytes after conversion to qcow2 */
    bool converted_exact;     /* false: an upper bound (allocated bytes + metadata) */
} imgp_size_facts;

typedef struct imgp_inspection_info {
    const imgp_image_info *image;
    const imgp_volume_info *volumes; /* NULL when the image could not be read */
    imgp_os os;
    imgp_boot boot;
    imgp_cloud_init cloud_init;
    imgp_size_facts size;
    size_t nfilesystems;
    const imgp_inspected_fs *filesystems;
    size_t nroots;            /* candidate roots (filesystems with role "root") */
    size_t nkernels;
    const imgp_kernel *kernels;
    size_t nfstab;
    const imgp_fstab_entry *fstab;
    size_t nfindings;
    const imgp_finding *findings;
    unsigned errors, warnings;
    bool importable;          /* no finding of severity error */
    imgp_windows_facts windows; /* Windows guests only (system_root NULL otherwise) */
} imgp_inspection_info;

typedef struct imgp_inspection imgp_inspection;

/* Progress of a long step (the size scan): done out of total bytes; non-zero cancels. */
typedef int (*imgp_inspect_progress_fn)(void *arg, uint64_t done, uint64_t total);

typedef struct imgp_inspect_opts {
    bool no_scan; /* never scan the data for the converted size: report the upper bound */
    bool view_only; /* find the root and assemble the guest's view, nothing more (for ls, cat) */
    imgp_inspect_progress_fn progress;
    void *progress_arg;
} imgp_inspect_opts;

/**
 * Inspect @p img (not owned; must outlive the inspection). Problems of the
 * guest are findings, not errors: the call fails only when inspection itself
 * cannot go on (out of memory, a read error of the image, cancelled).
 * @p opts may be NULL.
 */
IMGP_API imgp_status imgp_inspect(imgp_ctx *ctx, imgp_image *img, const imgp_inspect_opts *opts,
                                  imgp_inspection **out);

IMGP_API const imgp_inspection_info *imgp_inspection_get_info(const imgp_inspection *insp);

/** The guest's assembled view (root with its fstab mounts), or NULL when no root was found. */
IMGP_API imgp_view *imgp_inspection_view(imgp_inspection *insp);

IMGP_API void imgp_inspection_free(imgp_inspection *insp);

#ifdef __cplusplus
}
#endif
#endif
