/* The format table: every format imgprobe reads or recognises, probed in turn. */
#include "format.h"

extern const imgp_format imgp_format_qcow2;
extern const imgp_format imgp_format_vhd;
extern const imgp_format imgp_format_vmdk;
extern const imgp_format imgp_format_raw;
/* recognised, not read (recognised.c) */
extern const imgp_format imgp_format_vhdx, imgp_format_vdi, imgp_format_qed, imgp_format_qcow,
    imgp_format_parallels, imgp_format_bochs, imgp_format_iso9660, imgp_format_gzip, imgp_format_xz,
    imgp_format_zstd, imgp_format_bzip2, imgp_format_zip, imgp_format_tar, imgp_format_ova;

const imgp_format *const imgp_formats[] = {
    &imgp_format_qcow2,
    &imgp_format_vhd,
    &imgp_format_vmdk,
    &imgp_format_vhdx,
    &imgp_format_vdi,
    &imgp_format_qed,
    &imgp_format_qcow,
    &imgp_format_parallels,
    &imgp_format_bochs,
    &imgp_format_iso9660,
    &imgp_format_gzip,
    &imgp_format_xz,
    &imgp_format_zstd,
    &imgp_format_bzip2,
    &imgp_format_zip,
    &imgp_format_tar,
    &imgp_format_ova,
    &imgp_format_raw, /* the fallback: keep it last */
    NULL,
};
