/* imgprobe measure: placeholder until its issue lands. */
#include <stdio.h>

#include "cli.h"

int cmd_measure(imgp_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    return cli_usage_error("%s: not implemented yet", argv[0]);
}
