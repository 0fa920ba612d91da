/* vhd: placeholder until its reader lands; recognises nothing. */
#include "format.h"

static int vhd_probe(const imgp_probe_input *in)
{
    (void)in;
    return IMGP_SCORE_NONE;
}

const imgp_format imgp_format_vhd = {
    .name = "vhd",
    .probe = vhd_probe,
    .not_read = "not implemented yet",
};
