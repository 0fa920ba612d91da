/* gpt: placeholder until its parser lands; claims nothing. */
#include "volumes.h"

static int gpt_probe(const uint8_t *head, size_t len, uint64_t disk_size)
{
    (void)head;
    (void)len;
    (void)disk_size;
    return IMGP_SCORE_NONE;
}

static imgp_status gpt_parse(imgp_volumes *vols)
{
    (void)vols;
    return IMGP_OK;
}

const imgp_scheme imgp_scheme_gpt = {.name = "gpt", .probe = gpt_probe, .parse = gpt_parse};
