/* qcow2: placeholder until its reader lands; recognises nothing. */
#include "format.h"

static int qcow2_probe(const imgp_probe_input *in)
{
    (void)in;
    return IMGP_SCORE_NONE;
}

const imgp_format imgp_format_qcow2 = {
    .name = "qcow2",
    .probe = qcow2_probe,
    .not_read = "not implemented yet",
};
