/* What a device holds: placeholder until the superblock probes land. */
#include "volumes.h"

void content_identify(const uint8_t *head, size_t head_len, const uint8_t *tail, size_t tail_len, uint64_t size,
                      content_result *out)
{
    (void)head;
    (void)head_len;
    (void)tail;
    (void)tail_len;
    (void)size;
    memset(out, 0, sizeof *out);
    out->type = "unknown";
}

imgp_status content_probe(imgp_bdev *bd, content_result *out)
{
    (void)bd;
    content_identify(NULL, 0, NULL, 0, 0, out);
    return IMGP_OK;
}
