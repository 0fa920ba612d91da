/* vmdk: placeholder until its reader lands; recognises nothing. */
#include "format.h"

static int vmdk_probe(const imgp_probe_input *in)
{
    (void)in;
    return IMGP_SCORE_NONE;
}

const imgp_format imgp_format_vmdk = {
    .name = "vmdk",
    .probe = vmdk_probe,
    .not_read = "not implemented yet",
};
