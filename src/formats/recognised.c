/*
 * Formats imgprobe recognises by their magic but does not read: the cloud
 * does not accept them for import, so `info` names them (with the virtual
 * size where a header gives it cheaply) and `check` reports
 * InvalidFormatSize with the advice below. Each opens as an image whose
 * info.readable is false and which has no device.
 *
 * Magic values: VHDX (MS-VHDX 2.2.1 "vhdxfile"), VDI (VirtualBox
 * VBoxHDD.h: signature 0xbeda107f at 0x40), QED (qemu docs/interop/qed_spec),
 * qcow version 1 (qemu block/qcow.c), Parallels (docs/interop/parallels.txt),
 * Bochs (bochs/iodev/hdimage.h), ISO 9660 (ECMA-119 8.1: "CD001" at 0x8001),
 * gzip (RFC 1952), xz, zstd (RFC 8878), bzip2, zip (APPNOTE 4.3.7), tar
 * (POSIX ustar at 257); an OVA is a tar whose first member is the .ovf.
 */
#include "format.h"
#include "../core/cursor.h"

#define UNPACK_ADVICE "not a disk image: unpack it first and import the disk inside"

static bool head_has(const imgp_probe_input *in, size_t off, const void *magic, size_t len)
{
    return off <= in->head_len && len <= in->head_len - off && memcmp(in->head + off, magic, len) == 0;
}

/* Mark @p img unreadable: @p what is not accepted, and how to convert it. */
static imgp_status not_accepted(imgp_image *img, const char *what)
{
    return imgp_image_set_unreadable(img, "%s is not accepted for import: convert it with "
                                          "`qemu-img convert -O qcow2 %s out.qcow2` first", what, img->src->name);
}

/* Read @p len bytes at @p off of the image's source into @p buf, zero-filled past its end. */
static void read_header(imgp_image *img, uint64_t off, uint8_t *buf, size_t len)
{
    memset(buf, 0, len);
    if (off < img->src->size && imgp_source_read_zfill(img->src, off, buf, len, "header") != IMGP_OK)
        memset(buf, 0, len);
    imgp_ctx_clear(img->ctx); /* a header we cannot read only costs us the size */
}

/* ---- VHDX: virtual size from the metadata region (MS-VHDX 2.2.2, 2.6) ---- */

static const uint8_t vhdx_metadata_region[16] = {0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b,
                                                 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e};
static const uint8_t vhdx_virtual_disk_size[16] = {0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48,
                                                   0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8};
static const uint8_t vhdx_file_parameters[16] = {0x37, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d,
                                                 0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b};

#define VHDX_REGION_TABLE 0x30000u /* 192 KiB; a copy follows at 256 KiB */
#define VHDX_TABLE_SIZE 0x10000u   /* region and metadata tables are 64 KiB */

/* Find the metadata item @p id in the metadata table @p mt; @return its value's offset in the region, or 0. */
static uint32_t vhdx_metadata_item(imgp_cursor *mt, const uint8_t id[16], uint32_t *len)
{
    uint16_t count = imgp_cur_le16_at(mt, 10);
    for (uint32_t i = 0; i < count && i < 2047; i++) {
        const uint8_t *e = imgp_cur_ptr_at(mt, 32 + (size_t)i * 32, 32);
        if (!e)
            return 0;
        if (memcmp(e, id, 16) == 0) {
            *len = imgp_cur_le32_at(mt, 32 + (size_t)i * 32 + 20);
            return imgp_cur_le32_at(mt, 32 + (size_t)i * 32 + 16);
        }
    }
    return 0;
}

static imgp_status vhdx_open(imgp_image *img)
{
    uint8_t *buf = imgp_alloc(img->ctx, VHDX_TABLE_SIZE);
    if (!buf)
        return IMGP_ERR_NOMEM;
    read_header(img, VHDX_REGION_TABLE, buf, VHDX_TABLE_SIZE);
    imgp_cursor rt = imgp_cur_init(buf, VHDX_TABLE_SIZE);
    uint64_t meta_off = 0;
    if (memcmp(buf, "regi", 4) == 0) {
        uint32_t count = imgp_cur_le32_at(&rt, 8);
        for (uint32_t i = 0; i < count && i < 2047; i++) {
            const uint8_t *e = imgp_cur_ptr_at(&rt, 16 + (size_t)i * 32, 32);
            if (e && memcmp(e, vhdx_metadata_region, 16) == 0)
                meta_off = imgp_cur_le64_at(&rt, 16 + (size_t)i * 32 + 16);
        }
    }
    if (meta_off) {
        read_header(img, meta_off, buf, VHDX_TABLE_SIZE);
        imgp_cursor mt = imgp_cur_init(buf, VHDX_TABLE_SIZE);
        uint32_t len = 0, off;
        uint8_t val[8];
        if (memcmp(buf, "metadata", 8) == 0) {
            if ((off = vhdx_metadata_item(&mt, vhdx_file_parameters, &len)) && len >= 4) {
                read_header(img, meta_off + off, val, 4);
                img->info.cluster_size = (uint32_t)val[0] | (uint32_t)val[1] << 8 | (uint32_t)val[2] << 16 |
                                         (uint32_t)val[3] << 24;
            }
            if ((off = vhdx_metadata_item(&mt, vhdx_virtual_disk_size, &len)) && len >= 8) {
                read_header(img, meta_off + off, val, 8);
                imgp_cursor v = imgp_cur_init(val, 8);
                img->info.virtual_size = imgp_cur_le64_at(&v, 0);
            }
        }
    }
    imgp_free(img->ctx, buf);
    return not_accepted(img, "VHDX");
}

static int vhdx_probe(const imgp_probe_input *in)
{
    return head_has(in, 0, "vhdxfile", 8) ? IMGP_SCORE_MAGIC : IMGP_SCORE_NONE;
}

/* ---- formats whose header gives the size at a fixed place ---- */

typedef struct sized_header {
    uint64_t size_off;  /* where the virtual size is */
    unsigned size_len;  /* 4 or 8 bytes */
    bool big_endian;
    uint64_t unit;      /* bytes per unit of the size field */
} sized_header;

static imgp_status sized_open(imgp_image *img, const sized_header *h, const char *what)
{
    uint8_t val[8];
    read_header(img, h->size_off, val, h->size_len);
    imgp_cursor c = imgp_cur_init(val, h->size_len);
    uint64_t n = h->size_len == 8 ? (h->big_endian ? imgp_cur_be64_at(&c, 0) : imgp_cur_le64_at(&c, 0))
                                  : (h->big_endian ? imgp_cur_be32_at(&c, 0) : imgp_cur_le32_at(&c, 0));
    uint64_t bytes;
    if (!imgp_mul_overflow(n, h->unit, &bytes))
        img->info.virtual_size = bytes;
    return not_accepted(img, what);
}

/* VDI 1.1 header: cbDisk (le64) at 0x170 (VBoxHDD VDIHEADER1). */
static int vdi_probe(const imgp_probe_input *in)
{
    static const uint8_t sig[4] = {0x7f, 0x10, 0xda, 0xbe};
    return head_has(in, 0x40, sig, 4) ? IMGP_SCORE_MAGIC : IMGP_SCORE_NONE;
}
static imgp_status vdi_open(imgp_image *img)
{
    static const sized_header h = {0x170, 8, false, 1};
    return sized_open(img, &h, "VDI");
}

/* QED: image_size (le64) at 48, after l1_table_offset. */
static int qed_probe(const imgp_probe_input *in)
{
    return head_has(in, 0, "QED\0", 4) ? IMGP_SCORE_MAGIC : IMGP_SCORE_NONE;
}
static imgp_status qed_open(imgp_image *img)
{
    static const sized_header h = {48, 8, false, 1};
    return sized_open(img, &h, "QED");
}

/* qcow version 1: size (be64) at 24. Version 2 and 3 belong to the qcow2 reader. */
static int qcow1_probe(const imgp_probe_input *in)
{
    static const uint8_t v1[8] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 1};
    return head_has(in, 0, v1, 8) ? IMGP_SCORE_MAGIC : IMGP_SCORE_NONE;
}
static imgp_status qcow1_open(imgp_image *img)
{
    static const sized_header h = {24, 8, true, 1};
    return sized_open(img, &h, "qcow version 1");
}

/* Parallels: nb_sectors (le64 since the "WithouFreSpacExt" variant; le32 before) at 36. */
static int parallels_probe(const imgp_probe_input *in)
{
    return head_has(in, 0, "WithoutFreeSpace", 16) || head_has(in, 0, "WithouFreSpacExt", 16) ? IMGP_SCORE_MAGIC
                                                                                               : IMGP_SCORE_NONE;
}
static imgp_status parallels_open(imgp_image *img)
{
    uint8_t magic[16];
    read_header(img, 0, magic, 16);
    sized_header h = {36, memcmp(magic, "WithouFreSpacExt", 16) == 0 ? 8 : 4, false, 512};
    return sized_open(img, &h, "Parallels");
}

/* Bochs growing image: the disk size (le64) follows the redolog header (version 2: at 88). */
static int bochs_probe(const imgp_probe_input *in)
{
    return head_has(in, 0, "Bochs Virtual HD Image", 22) ? IMGP_SCORE_MAGIC : IMGP_SCORE_NONE;
}
static imgp_status bochs_open(imgp_image *img)
{
    static const sized_header h = {88, 8, false, 1};
    return sized_open(img, &h, "Bochs");
}

/* ---- not disk images at all ---- */

static int iso9660_probe(const imgp_probe_input *in)
{
    return head_has(in, 0x8001, "CD001", 5) ? IMGP_SCORE_MAGIC : IMGP_SCORE_NONE;
}
static imgp_status iso9660_open(imgp_image *img)
{
    img->info.virtual_size = img->src->size;
    return imgp_image_set_unreadable(img, "an ISO 9660 optical-disc image is an installer, not an installed "
                                          "disk: install the system onto a disk and import that disk");
}

#define ARCHIVE_FORMAT(id, off, magic, what)                                                  \
    static int id##_probe(const imgp_probe_input *in)                                          \
    {                                                                                          \
        return head_has(in, off, magic, sizeof magic - 1) ? IMGP_SCORE_MAGIC : IMGP_SCORE_NONE; \
    }                                                                                          \
    const imgp_format imgp_format_##id = {                                                     \
        .name = #id,                                                                           \
        .probe = id##_probe,                                                                   \
        .not_read = what " data, " UNPACK_ADVICE,                                             \
    };

ARCHIVE_FORMAT(gzip, 0, "\x1f\x8b\x08", "gzip-compressed")
ARCHIVE_FORMAT(xz, 0, "\xfd" "7zXZ\x00", "xz-compressed")
ARCHIVE_FORMAT(zstd, 0, "\x28\xb5\x2f\xfd", "zstd-compressed")
ARCHIVE_FORMAT(bzip2, 0, "BZh", "bzip2-compressed")
ARCHIVE_FORMAT(zip, 0, "PK\x03\x04", "zip archive")

/* tar (ustar magic at 257); an OVA is a tar whose first member is an .ovf descriptor. */
static bool first_member_is_ovf(const imgp_probe_input *in)
{
    size_t n = strnlen((const char *)in->head, imgp_min_u64(in->head_len, 100));
    return n >= 4 && n < 100 && memcmp(in->head + n - 4, ".ovf", 4) == 0;
}
static int tar_probe(const imgp_probe_input *in)
{
    return head_has(in, 257, "ustar", 5) && !first_member_is_ovf(in) ? IMGP_SCORE_MAGIC : IMGP_SCORE_NONE;
}
static int ova_probe(const imgp_probe_input *in)
{
    return head_has(in, 257, "ustar", 5) && first_member_is_ovf(in) ? IMGP_SCORE_MAGIC : IMGP_SCORE_NONE;
}

const imgp_format imgp_format_vhdx = {.name = "vhdx", .probe = vhdx_probe, .open = vhdx_open};
const imgp_format imgp_format_vdi = {.name = "vdi", .probe = vdi_probe, .open = vdi_open};
const imgp_format imgp_format_qed = {.name = "qed", .probe = qed_probe, .open = qed_open};
const imgp_format imgp_format_qcow = {.name = "qcow", .probe = qcow1_probe, .open = qcow1_open};
const imgp_format imgp_format_parallels = {.name = "parallels", .probe = parallels_probe, .open = parallels_open};
const imgp_format imgp_format_bochs = {.name = "bochs", .probe = bochs_probe, .open = bochs_open};
const imgp_format imgp_format_iso9660 = {.name = "iso9660", .probe = iso9660_probe, .open = iso9660_open};
const imgp_format imgp_format_tar = {
    .name = "tar", .probe = tar_probe, .not_read = "tar archive, " UNPACK_ADVICE};
const imgp_format imgp_format_ova = {
    .name = "ova",
    .probe = ova_probe,
    .not_read = "OVA appliance (a tar of an .ovf descriptor and its disks): " UNPACK_ADVICE,
};
