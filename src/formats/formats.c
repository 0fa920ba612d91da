/* The format table: every format imgprobe reads or recognises, probed in turn. */
#include "format.h"

extern const imgp_format imgp_format_qcow2;
extern const imgp_format imgp_format_vhd;
extern const imgp_format imgp_format_vmdk;
extern const imgp_format imgp_format_raw;

const imgp_format *const imgp_formats[] = {
    &imgp_format_qcow2,
    &imgp_format_vhd,
    &imgp_format_vmdk,
    &imgp_format_raw,
    NULL,
};
