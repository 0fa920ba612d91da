/* imgprobe: command-line entry point, option parsing and error reporting. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
    "usage: imgprobe [--limit NAME=VALUE]... COMMAND [OPTIONS] IMAGE\n"
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
    "--limit NAME=VALUE (before the command, repeatable) sets a limit on what a hostile image\n"
    "can cost: table-bytes, cache-bytes, chain-depth, symlink-hops, dir-entries, extent-depth,\n"
    "lvm-metadata, cpio-entries, decompressed, descriptor-bytes, extents, snapshots, hive-bytes;\n"
    "VALUE a count or bytes, with an optional K, M, G or T (docs/limits.md).\n"
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

/*
 * --limit NAME=VALUE: NAME as imgp_limit_name() gives it, '-' standing for
 * '_'; VALUE a positive decimal count or byte size, with an optional K, M, G
 * or T (binary multiples). Sets limits[] (0: the default). @return -1 when
 * the spec is good, else the exit status of the usage error.
 */
static int parse_limit(const char *spec, uint64_t limits[IMGP_LIMIT_COUNT_])
{
    const char *eq = strchr(spec, '=');
    if (!eq)
        return cli_usage_error("--limit %s: NAME=VALUE expected", spec);
    size_t n = (size_t)(eq - spec);
    int which = -1;
    for (int i = 0; i < IMGP_LIMIT_COUNT_ && which < 0; i++) {
        const char *name = imgp_limit_name((imgp_limit)i);
        size_t k = 0;
        while (k < n && name[k] && (spec[k] == name[k] || (spec[k] == '-' && name[k] == '_')))
            k++;
        if (k == n && !name[k])
            which = i;
    }
    if (which < 0)
        return cli_usage_error("--limit: unknown limit '%.*s' (imgprobe --help lists them)", (int)n, spec);
    static const char suffixes[] = "KMGT";
    const char *digits = eq + 1;
    char *end;
    errno = 0;
    unsigned long long v = isdigit((unsigned char)*digits) ? strtoull(digits, &end, 10) : 0;
    const char *suffix = v && *end ? strchr(suffixes, toupper((unsigned char)*end)) : NULL;
    unsigned shift = suffix ? 10u * (unsigned)(suffix - suffixes + 1) : 0;
    if (v == 0 || errno || (*end && (!suffix || end[1])) || v > (UINT64_MAX >> shift))
        return cli_usage_error("--limit %s: VALUE must be a positive number, with an optional K, M, G or T", spec);
    limits[which] = (uint64_t)v << shift;
    return -1;
}

/* A context with the limits given on the command line; NULL (said) when out of memory. */
static imgp_ctx *new_ctx(const uint64_t limits[IMGP_LIMIT_COUNT_])
{
    imgp_ctx *ctx = imgp_ctx_new(NULL);
    if (!ctx) {
        fputs("imgprobe: out of memory\n", stderr);
        return NULL;
    }
    for (int i = 0; i < IMGP_LIMIT_COUNT_; i++)
        if (limits[i])
            imgp_ctx_set_limit(ctx, (imgp_limit)i, limits[i]); /* cannot fail: known, not 0 */
    return ctx;
}

int main(int argc, char **argv)
{
    /* global options, before the command: --limit NAME=VALUE or --limit=NAME=VALUE */
    uint64_t limits[IMGP_LIMIT_COUNT_] = {0};
    int first = 1;
    while (first < argc && strncmp(argv[first], "--limit", 7) == 0 &&
           (argv[first][7] == '\0' || argv[first][7] == '=')) {
        const char *spec = argv[first][7] == '=' ? argv[first] + 8 : first + 1 < argc ? argv[++first] : NULL;
        if (!spec)
            return cli_usage_error("--limit needs NAME=VALUE");
        int rc = parse_limit(spec, limits);
        if (rc >= 0)
            return rc;
        first++;
    }
    argc -= first - 1; /* argv[1] is the command, as if no global option were given */
    argv += first - 1;

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
        imgp_ctx *ctx = new_ctx(limits);
        if (!ctx)
            return EXIT_CANNOT_INSPECT;
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

    imgp_ctx *ctx = new_ctx(limits);
    if (!ctx)
        return EXIT_CANNOT_INSPECT;
    int rc = commands[ci].run(ctx, &o);
    imgp_ctx_free(ctx);
    return rc;
}
