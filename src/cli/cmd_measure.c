/* imgprobe measure: the size of the image after conversion to qcow2, and the import limits on it. */
#include <getopt.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

/*
 * The cloud's limits (DESIGN.md): real size after conversion to qcow2 under
 * "50 GB", virtual size under "500 GB". Read as decimal gigabytes, the
 * stricter reading (50 GB = 46.6 GiB): an image that passes here passes
 * under a GiB reading too, and never the other way round.
 */
#define MEASURE_REQUIRED_LIMIT 50000000000ull
#define MEASURE_VIRTUAL_LIMIT 500000000000ull

static const char measure_usage[] = "usage: imgprobe measure [--json] [-f FORMAT] IMAGE";

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The progress bar on stderr (only when it is a terminal): percent, throughput, time left. */
typedef struct progress {
    double start, last;
    bool shown;
} progress;

static int show_progress(void *arg, uint64_t done, uint64_t total)
{
    progress *p = arg;
    double t = now_seconds();
    if (done < total && t - p->last < 0.1)
        return 0;
    p->last = t;
    double elapsed = t - p->start;
    double frac = total ? (double)done / (double)total : 1.0;
    double rate = elapsed > 0 ? (double)done / elapsed : 0; /* bytes of the disk per second, holes included */
    char d[32], tot[32], r[32];
    cli_human_size(done, d, sizeof d);
    cli_human_size(total, tot, sizeof tot);
    cli_human_size((uint64_t)rate, r, sizeof r);
    char eta[32];
    snprintf(eta, sizeof eta, "%s", done >= total ? "0:00" : "--:--");
    if (rate > 0 && done < total) {
        uint64_t left = (uint64_t)((double)(total - done) / rate + 0.5);
        snprintf(eta, sizeof eta, "%llu:%02llu", (unsigned long long)(left / 60), (unsigned long long)(left % 60));
    }
    fprintf(stderr, "\r\033[Kmeasure: %5.1f%%  %s of %s  %s/s  %s left", frac * 100, d, tot, r, eta);
    fflush(stderr);
    p->shown = true;
    return 0;
}

static void print_size_line(const char *label, uint64_t bytes)
{
    char h[32];
    printf("%-22s%s (%llu bytes)\n", label, cli_human_size(bytes, h, sizeof h), (unsigned long long)bytes);
}

static void print_verdict(const char *what, uint64_t bytes, uint64_t limit, const char *limit_name, bool exact)
{
    char h[32];
    cli_human_size(bytes, h, sizeof h);
    bool ok = bytes < limit;
    printf("verdict: %s %s (%llu bytes) is %s the %s limit (%llu bytes): %s\n", what, h, (unsigned long long)bytes,
           ok ? "under" : "not under", limit_name, (unsigned long long)limit,
           ok ? "ok" : exact ? "too big (InvalidFormatSize)" : "may be too big (an upper bound)");
}

static void print_text(const imgp_image *img, const imgp_measure_result *r)
{
    const imgp_image_info *in = imgp_image_get_info(img);
    printf("%-22s%s\n", "image:", imgp_image_name(img));
    printf("%-22s%s\n", "format:", in->format);
    print_size_line("virtual size:", r->virtual_size);
    print_size_line("required size:", r->required_size);
    print_size_line("fully allocated size:", r->fully_allocated_size);
    printf("%-22s%llu of %llu (64 KiB each)\n", "data clusters:", (unsigned long long)r->data_clusters,
           (unsigned long long)(r->virtual_size / IMGP_MEASURE_CLUSTER_SIZE +
                                (r->virtual_size % IMGP_MEASURE_CLUSTER_SIZE != 0)));
    print_size_line("data scanned:", r->bytes_scanned);
    if (!r->exact)
        puts("note: required size is an estimate from above, not exact");
    print_verdict("required size after conversion to qcow2", r->required_size, MEASURE_REQUIRED_LIMIT, "50 GB",
                  r->exact);
    print_verdict("virtual size", r->virtual_size, MEASURE_VIRTUAL_LIMIT, "500 GB", true);
}

static void print_json(const imgp_image *img, const imgp_measure_result *r)
{
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w);
    json_kv_string(&w, "filename", imgp_image_name(img));
    json_kv_string(&w, "format", imgp_image_get_info(img)->format);
    json_kv_uint(&w, "virtual_size", r->virtual_size);
    json_kv_uint(&w, "required_size", r->required_size);
    json_kv_uint(&w, "fully_allocated_size", r->fully_allocated_size);
    json_kv_uint(&w, "cluster_size", IMGP_MEASURE_CLUSTER_SIZE);
    json_kv_uint(&w, "data_clusters", r->data_clusters);
    json_kv_uint(&w, "bytes_scanned", r->bytes_scanned);
    json_kv_bool(&w, "exact", r->exact);
    json_key(&w, "limits");
    json_object_begin(&w);
    json_kv_uint(&w, "required_size", MEASURE_REQUIRED_LIMIT);
    json_kv_uint(&w, "virtual_size", MEASURE_VIRTUAL_LIMIT);
    json_object_end(&w);
    json_key(&w, "within_limits");
    json_object_begin(&w);
    json_kv_bool(&w, "required_size", r->required_size < MEASURE_REQUIRED_LIMIT);
    json_kv_bool(&w, "virtual_size", r->virtual_size < MEASURE_VIRTUAL_LIMIT);
    json_object_end(&w);
    json_object_end(&w);
    json_end(&w);
}

int cmd_measure(imgp_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    const char *format = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'f':
            if (!imgp_format_known(optarg))
                return cli_usage_error("unknown format '%s'", optarg);
            format = optarg;
            break;
        case 'h': puts(measure_usage); return EXIT_OK;
        default: return cli_usage_error("%s: bad option '%s'", argv[0], argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("%s takes exactly one IMAGE (%s)", argv[0], measure_usage);
    const char *image = argv[optind];

    imgp_image *img;
    imgp_bdev *bd;
    if (imgp_image_open(ctx, image, format, &img) != IMGP_OK)
        return cli_fail(ctx, image);
    if (imgp_image_bdev(img, &bd) != IMGP_OK) {
        int rc = cli_fail(ctx, image);
        imgp_image_close(img);
        return rc;
    }
    progress p = {.start = now_seconds()};
    bool tty = isatty(STDERR_FILENO);
    imgp_measure_result r;
    imgp_status st = imgp_measure(ctx, bd, tty ? show_progress : NULL, &p, &r);
    if (p.shown)
        fputs("\r\033[K", stderr);
    int rc = EXIT_OK;
    if (st != IMGP_OK)
        rc = cli_fail(ctx, image);
    else if (json)
        print_json(img, &r);
    else
        print_text(img, &r);
    if (fflush(stdout) != 0)
        rc = EXIT_CANNOT_INSPECT;
    imgp_image_close(img);
    return rc;
}
