/* imgprobe: command-line entry point, option parsing and error reporting. */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
    "usage: imgprobe COMMAND [OPTIONS] IMAGE\n"
    "\n"
    "commands:\n"
    "  check  [--json] [--no-scan] [-f FORMAT] IMAGE\n"
    "                                      inspect the guest and give the import verdict\n"
    "  info   [--json] [-f FORMAT] IMAGE   format, sizes, backing chain, snapshots\n"
    "  dump   [-f FORMAT] IMAGE > disk.raw the virtual disk as raw bytes\n"
    "  digest [-f FORMAT] IMAGE            XXH3-128 of the virtual disk (as xxh128sum prints it)\n"
    "  measure [--json] [-f FORMAT] IMAGE  size after conversion to qcow2, against the import limits\n"
    "  ls     [-l] [-R] [-p PART] [-f FORMAT] IMAGE PATH\n"
    "                                      list a directory of the guest's filesystem\n"
    "  cat    [-p PART] [-f FORMAT] IMAGE PATH\n"
    "                                      write a file of the guest's filesystem to standard output\n"
    "\n"
    "The image is opened read-only and never written. Exit status: 0 success, 2 failure;\n"
    "check: 0 importable, 1 not importable, 2 could not inspect.\n";

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("imgprobe: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n(imgprobe --help for usage)\n", stderr);
    return EXIT_CANNOT_INSPECT;
}

int cli_fail(imgp_ctx *ctx, const char *image)
{
    const char *msg = imgp_ctx_message(ctx);
    size_t n = strlen(image);
    /* The library names the file in messages about it; do not say it twice. */
    if (strncmp(msg, image, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        msg += n + 2;
    if (!*msg)
        msg = imgp_status_name(imgp_ctx_status(ctx));
    fprintf(stderr, "imgprobe: %s: %s\n", image, msg);
    return EXIT_CANNOT_INSPECT;
}

const char *cli_human_size(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    double v = (double)bytes;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%llu B", (unsigned long long)bytes);
    else if (v == (double)(uint64_t)v)
        snprintf(buf, len, "%llu %s", (unsigned long long)v, units[u]);
    else
        snprintf(buf, len, "%.3g %s", v, units[u]);
    return buf;
}

static const struct {
    const char *name;
    int (*run)(imgp_ctx *, const cli_opts *);
    bool takes_json;
    int (*run_args)(imgp_ctx *, int, char **); /* parses its own options and arguments */
} commands[] = {
    {"info", cmd_info, true, NULL},
    {"dump", cmd_dump, false, NULL},
    {"digest", cmd_digest, false, NULL},
    {"ls", NULL, false, cmd_ls},
    {"cat", NULL, false, cmd_cat},
    {"measure", NULL, false, cmd_measure},
    {"check", NULL, false, cmd_check},
};

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_CANNOT_INSPECT : EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("imgprobe %s\n", IMGPROBE_VERSION);
        return EXIT_OK;
    }
    size_t ci;
    for (ci = 0; ci < sizeof commands / sizeof commands[0]; ci++)
        if (strcmp(argv[1], commands[ci].name) == 0)
            break;
    if (ci == sizeof commands / sizeof commands[0])
        return cli_usage_error("unknown command '%s'", argv[1]);
    if (commands[ci].run_args) {
        imgp_ctx *ctx = imgp_ctx_new(NULL);
        if (!ctx) {
            fputs("imgprobe: out of memory\n", stderr);
            return EXIT_CANNOT_INSPECT;
        }
        int rc = commands[ci].run_args(ctx, argc - 1, argv + 1);
        imgp_ctx_free(ctx);
        return rc;
    }

    cli_opts o = {0};
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 2;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            if (!commands[ci].takes_json)
                return cli_usage_error("%s takes no --json", commands[ci].name);
            o.json = true;
            break;
        case 'f':
            if (!imgp_format_known(optarg))
                return cli_usage_error("unknown format '%s'", optarg);
            o.format = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error("%s: bad option '%s'", commands[ci].name, argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("%s takes exactly one IMAGE", commands[ci].name);
    o.image = argv[optind];

    imgp_ctx *ctx = imgp_ctx_new(NULL);
    if (!ctx) {
        fputs("imgprobe: out of memory\n", stderr);
        return EXIT_CANNOT_INSPECT;
    }
    int rc = commands[ci].run(ctx, &o);
    imgp_ctx_free(ctx);
    return rc;
}
