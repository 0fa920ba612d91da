/*
 * imgprobe check [--json] [--no-scan] [-f FORMAT] IMAGE|URL: inspect the
 * image and give the import verdict. Exit 0 importable (warnings allowed),
 * 1 not importable, 2 could not inspect. Printing only: every judgement is
 * the library's (src/inspect/).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "imgprobe/inspect.h"
#include "json.h"

static const char check_usage[] =
    "usage: imgprobe check [--json] [--no-scan] [-f FORMAT] IMAGE\n"
    "  Inspect IMAGE and say whether the cloud's image import will accept it.\n"
    "  --json      print one JSON object (docs/cli.md)\n"
    "  --no-scan   never read the data to measure the size after conversion;\n"
    "              report the upper bound instead\n"
    "  -f FORMAT   do not detect the format\n"
    "Exit status: 0 importable, 1 not importable, 2 could not inspect.\n";

static const char *const severity_names[] = {"info", "warning", "error"};

/* ---- progress of the size scan, on a terminal only ---- */

typedef struct progress {
    struct timespec start;
    int last_pct;
} progress;

static double seconds_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static int show_progress(void *arg, uint64_t done, uint64_t total)
{
    progress *p = arg;
    int pct = total ? (int)(done * 100 / total) : 100;
    if (pct == p->last_pct && done != total)
        return 0;
    p->last_pct = pct;
    double el = seconds_since(&p->start);
    double rate = el > 0 ? (double)done / el : 0;
    double left = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\rmeasuring the size after conversion: %3d%%  %.0f MB/s  %.0f s left ", pct, rate / 1e6, left);
    if (done == total)
        fputc('\n', stderr);
    return 0;
}

/* ---- text ---- */

static const char *drv_state(const imgp_virtio_driver *d)
{
    if (d->builtin)
        return "built-in";
    if (d->in_initramfs)
        return "initramfs";
    if (d->module)
        return "module";
    return "absent";
}

static const char *win_drv_state(const imgp_windows_driver *d)
{
    if (!d->service)
        return d->file ? "file only" : d->driver_store || d->critical_db ? "staged" : "absent";
    if (!d->file)
        return "service only";
    switch (d->start) {
    case 0: return "boot";
    case 1: return "system";
    case 2: return "auto";
    case 3: return "manual";
    case 4: return "disabled";
    default: return "no Start";
    }
}

static void windows_text(const imgp_inspection_info *in)
{
    const imgp_os *os = &in->os;
    const imgp_windows_facts *w = &in->windows;
    printf("windows:    %s, build %s, edition %s, %s; %s, %s\n", os->release ? os->release : "(release unknown)",
           os->build ? os->build : "unknown", os->edition ? os->edition : "unknown",
           os->installation_type ? os->installation_type : "installation type unknown", w->system_root,
           w->control_set ? w->control_set : "no control set");
    printf("drivers:    virtio viostor=%s vioscsi=%s netkvm=%s; PCI 1AF4 ids: %u in the driver store, %u critical\n", win_drv_state(&w->virtio[IMGP_WIN_VIOSTOR]),
           win_drv_state(&w->virtio[IMGP_WIN_VIOSCSI]), win_drv_state(&w->virtio[IMGP_WIN_NETKVM]),
           w->driver_store_ids, w->critical_device_ids);
    if (w->ndrives) {
        printf("letters:   ");
        for (size_t i = 0; i < w->ndrives; i++)
            printf(" %s=%s", w->drives[i].letter, w->drives[i].device ? w->drives[i].device : "(not on this image)");
        putchar('\n');
    }
}

static void text_report(const char *image, const imgp_inspection_info *in)
{
    char h1[32], h2[32];
    printf("importable: %s (%u error%s, %u warning%s)\n", in->importable ? "yes" : "no", in->errors,
           in->errors == 1 ? "" : "s", in->warnings, in->warnings == 1 ? "" : "s");
    const imgp_image_info *ii = in->image;
    printf("image:      %s: %s, virtual size %s", image, ii->format, cli_human_size(ii->virtual_size, h1, sizeof h1));
    if (in->size.converted_size)
        printf(", %s %s after conversion to qcow2", in->size.converted_exact ? "" : "at most",
               cli_human_size(in->size.converted_size, h2, sizeof h2));
    putchar('\n');
    const imgp_os *os = &in->os;
    if (strcmp(os->type, "unknown") != 0) {
        printf("os:         %s %s %s", os->type, os->distro ? os->distro : "(unidentified)", os->version ? os->version : "");
        if (os->pretty_name)
            printf(" (%s)", os->pretty_name);
        printf(", %s", os->arch ? os->arch : "unknown architecture");
        if (os->hostname)
            printf(", hostname %s", os->hostname);
        putchar('\n');
        if (in->windows.system_root)
            windows_text(in);
        for (size_t i = 0; i < in->nfilesystems; i++)
            if (strcmp(in->filesystems[i].role, "root") == 0 && os->root_device &&
                strcmp(in->filesystems[i].device, os->root_device) == 0)
                printf("root:       %s on %s, %s free of %s\n", in->filesystems[i].type, os->root_device,
                       /* the NTFS driver does not count free clusters */
                       strcmp(in->filesystems[i].type, "ntfs") == 0
                           ? "unknown"
                           : cli_human_size(in->filesystems[i].free_bytes, h1, sizeof h1),
                       cli_human_size(in->filesystems[i].total_bytes, h2, sizeof h2));
    }
    if (in->boot.loader)
        printf("boot:       %s (%s), default \"%s\"%s\n", in->boot.loader, in->boot.config,
               in->boot.default_entry ? in->boot.default_entry : "", in->boot.efi ? ", EFI" : "");
    for (size_t i = 0; i < in->nkernels; i++) {
        const imgp_kernel *k = &in->kernels[i];
        printf("kernel:     %s%s: virtio blk=%s scsi=%s net=%s pci=%s", k->version, k->is_default ? " (default)" : "",
               drv_state(&k->virtio[IMGP_VIRTIO_BLK]), drv_state(&k->virtio[IMGP_VIRTIO_SCSI]),
               drv_state(&k->virtio[IMGP_VIRTIO_NET]), drv_state(&k->virtio[IMGP_VIRTIO_PCI]));
        if (k->initramfs)
            printf("; %s (%s)", k->initramfs, k->initramfs_compression ? k->initramfs_compression : "unread");
        else
            printf("; no initramfs");
        putchar('\n');
    }
    if (strcmp(os->type, "linux") == 0 || strcmp(os->type, "windows") == 0)
        printf("%s %s%s%s%s\n", strcmp(os->type, "windows") == 0 ? "cloudbase-init:" : "cloud-init:",
               in->cloud_init.installed ? (in->cloud_init.enabled ? "installed, enabled" : "installed, not enabled") : "not installed",
               in->cloud_init.evidence ? " (" : "", in->cloud_init.evidence ? in->cloud_init.evidence : "",
               in->cloud_init.evidence ? ")" : "");
    if (in->volumes) {
        printf("partitions: %s\n", in->volumes->scheme);
        for (size_t i = 0; i < in->nfilesystems; i++) {
            const imgp_inspected_fs *f = &in->filesystems[i];
            printf("  %-10s %-6s %-6s %9s  %s\n", f->device, f->type, f->role,
                   cli_human_size(f->total_bytes, h1, sizeof h1), f->mountpoint ? f->mountpoint : "");
        }
    }
    if (in->nfindings)
        printf("findings:\n");
    for (int sev = IMGP_SEVERITY_ERROR; sev >= IMGP_SEVERITY_INFO; sev--)
        for (size_t i = 0; i < in->nfindings; i++) {
            const imgp_finding *f = &in->findings[i];
            if ((int)f->severity != sev)
                continue;
            printf("  %-7s %s: %s\n", severity_names[f->severity], f->code, f->message);
            if (f->advice)
                printf("          fix: %s\n", f->advice);
        }
}

/* ---- JSON ---- */

static void json_opt(json_writer *w, const char *key, const char *s)
{
    json_kv_string(w, key, s); /* null when absent: the key is always there */
}

static void json_report(json_writer *w, const imgp_image *img, const imgp_inspection_info *in)
{
    json_key(w, "image");
    cli_image_json(w, img);
    json_key(w, "size");
    json_object_begin(w);
    json_kv_uint(w, "virtual_size", in->size.virtual_size);
    json_kv_uint(w, "converted_size", in->size.converted_size);
    json_kv_bool(w, "converted_size_exact", in->size.converted_exact);
    json_object_end(w);
    if (in->volumes)
        cli_volumes_json(w, in->volumes);
    else
        json_kv_string(w, "partition_table", NULL);

    json_key(w, "filesystems");
    json_array_begin(w);
    for (size_t i = 0; i < in->nfilesystems; i++) {
        const imgp_inspected_fs *f = &in->filesystems[i];
        json_object_begin(w);
        json_kv_string(w, "device", f->device);
        json_kv_string(w, "type", f->type);
        json_opt(w, "label", f->label);
        json_opt(w, "uuid", f->uuid);
        json_kv_string(w, "role", f->role);
        json_opt(w, "mountpoint", f->mountpoint);
        json_kv_uint(w, "total_bytes", f->total_bytes);
        json_kv_uint(w, "free_bytes", f->free_bytes);
        json_object_end(w);
    }
    json_array_end(w);

    const imgp_os *os = &in->os;
    json_key(w, "os");
    json_object_begin(w);
    json_kv_string(w, "type", os->type);
    json_opt(w, "distro", os->distro);
    json_opt(w, "version", os->version);
    json_opt(w, "pretty_name", os->pretty_name);
    json_opt(w, "id_like", os->id_like);
    json_opt(w, "identity_source", os->identity_source);
    json_opt(w, "arch", os->arch);
    json_kv_uint(w, "bits", os->bits);
    json_opt(w, "hostname", os->hostname);
    json_opt(w, "root", os->root_device);
    json_opt(w, "root_choice", os->root_choice);
    json_kv_uint(w, "roots_found", in->nroots);
    json_opt(w, "build", os->build);
    json_opt(w, "release", os->release);
    json_opt(w, "edition", os->edition);
    json_opt(w, "installation_type", os->installation_type);
    json_object_end(w);

    json_key(w, "windows");
    if (!in->windows.system_root) {
        json_null(w);
    } else {
        json_object_begin(w);
        json_kv_string(w, "system_root", in->windows.system_root);
        json_opt(w, "control_set", in->windows.control_set);
        json_key(w, "virtio");
        json_object_begin(w);
        for (size_t d = 0; d < IMGP_WIN_DRIVER_COUNT; d++) {
            const imgp_windows_driver *v = &in->windows.virtio[d];
            json_key(w, v->name ? v->name : "?");
            json_object_begin(w);
            json_kv_bool(w, "file", v->file);
            json_kv_bool(w, "service", v->service);
            json_key(w, "start");
            if (v->start < 0)
                json_null(w);
            else
                json_uint(w, (uint64_t)v->start);
            json_kv_bool(w, "driver_store", v->driver_store);
            json_kv_bool(w, "critical_db", v->critical_db);
            json_object_end(w);
        }
        json_object_end(w);
        json_key(w, "drives");
        json_array_begin(w);
        for (size_t d = 0; d < in->windows.ndrives; d++) {
            json_object_begin(w);
            json_kv_string(w, "letter", in->windows.drives[d].letter);
            json_kv_string(w, "id", in->windows.drives[d].id);
            json_opt(w, "device", in->windows.drives[d].device);
            json_object_end(w);
        }
        json_array_end(w);
        json_kv_uint(w, "driver_store_ids", in->windows.driver_store_ids);
        json_kv_uint(w, "critical_device_ids", in->windows.critical_device_ids);
        json_kv_bool(w, "virtio_disk_at_boot", in->windows.virtio_disk_at_boot);
        json_kv_bool(w, "virtio_net", in->windows.virtio_net);
        json_object_end(w);
    }

    json_key(w, "boot");
    json_object_begin(w);
    json_opt(w, "loader", in->boot.loader);
    json_opt(w, "config", in->boot.config);
    json_opt(w, "default_entry", in->boot.default_entry);
    json_opt(w, "cmdline", in->boot.cmdline);
    json_kv_bool(w, "efi", in->boot.efi);
    json_object_end(w);

    json_key(w, "kernels");
    json_array_begin(w);
    for (size_t i = 0; i < in->nkernels; i++) {
        const imgp_kernel *k = &in->kernels[i];
        json_object_begin(w);
        json_kv_string(w, "version", k->version);
        json_kv_string(w, "path", k->path);
        json_kv_bool(w, "default", k->is_default);
        json_opt(w, "modules_dir", k->modules_dir);
        json_opt(w, "config", k->config);
        json_opt(w, "initramfs", k->initramfs);
        json_opt(w, "initramfs_compression", k->initramfs_compression);
        json_opt(w, "initramfs_error", k->initramfs_error);
        json_key(w, "virtio");
        json_object_begin(w);
        for (size_t d = 0; d < IMGP_VIRTIO_COUNT; d++) {
            const imgp_virtio_driver *v = &k->virtio[d];
            json_key(w, v->name ? v->name : "?");
            json_object_begin(w);
            char cfg[2] = {v->config, 0};
            json_kv_string(w, "config", v->config ? cfg : NULL);
            json_kv_bool(w, "builtin", v->builtin);
            json_kv_bool(w, "module", v->module);
            json_kv_bool(w, "in_initramfs", v->in_initramfs);
            json_object_end(w);
        }
        json_object_end(w);
        json_kv_bool(w, "virtio_disk_at_boot", k->virtio_disk_at_boot);
        json_kv_bool(w, "virtio_net", k->virtio_net);
        json_object_end(w);
    }
    json_array_end(w);

    json_key(w, "fstab");
    json_array_begin(w);
    for (size_t i = 0; i < in->nfstab; i++) {
        const imgp_fstab_entry *e = &in->fstab[i];
        json_object_begin(w);
        json_kv_string(w, "spec", e->spec);
        json_kv_string(w, "mountpoint", e->mountpoint);
        json_kv_string(w, "type", e->vfstype);
        json_kv_string(w, "options", e->options);
        json_opt(w, "device", e->device);
        json_object_end(w);
    }
    json_array_end(w);

    json_key(w, "cloud_init");
    json_object_begin(w);
    json_kv_bool(w, "installed", in->cloud_init.installed);
    json_kv_bool(w, "enabled", in->cloud_init.enabled);
    json_opt(w, "evidence", in->cloud_init.evidence);
    json_opt(w, "disabled_by", in->cloud_init.disabled_by);
    json_object_end(w);

    json_key(w, "findings");
    json_array_begin(w);
    for (int sev = IMGP_SEVERITY_ERROR; sev >= IMGP_SEVERITY_INFO; sev--)
        for (size_t i = 0; i < in->nfindings; i++) {
            const imgp_finding *f = &in->findings[i];
            if ((int)f->severity != sev)
                continue;
            json_object_begin(w);
            json_kv_string(w, "code", f->code);
            json_kv_string(w, "severity", severity_names[f->severity]);
            json_kv_string(w, "message", f->message);
            json_opt(w, "advice", f->advice);
            json_object_end(w);
        }
    json_array_end(w);
    json_kv_uint(w, "errors", in->errors);
    json_kv_uint(w, "warnings", in->warnings);
    json_kv_bool(w, "importable", in->importable);
}

/* Inspection could not run: the one finding, as text or JSON; exit 2. */
static int cannot_inspect(bool json, const char *image, const char *code, const char *message)
{
    if (json) {
        json_writer w;
        json_init(&w, stdout);
        json_object_begin(&w);
        json_key(&w, "findings");
        json_array_begin(&w);
        json_object_begin(&w);
        json_kv_string(&w, "code", code);
        json_kv_string(&w, "severity", "error");
        json_kv_string(&w, "message", message);
        json_object_end(&w);
        json_array_end(&w);
        json_kv_uint(&w, "errors", 1);
        json_kv_uint(&w, "warnings", 0);
        json_kv_bool(&w, "importable", false);
        json_object_end(&w);
        json_end(&w);
    }
    fprintf(stderr, "imgprobe: %s: %s: %s\n", image, code, message);
    return EXIT_CANNOT_INSPECT;
}

int cmd_check(imgp_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"no-scan", no_argument, NULL, 'n'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    const char *format = NULL;
    imgp_inspect_opts opts = {0};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'n':
            opts.no_scan = true;
            break;
        case 'f':
            if (!imgp_format_known(optarg))
                return cli_usage_error("unknown format '%s'", optarg);
            format = optarg;
            break;
        case 'h':
            fputs(check_usage, stdout);
            return EXIT_OK;
        default:
            return cli_usage_error("check: bad option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("check takes exactly one IMAGE");
    const char *image = argv[optind];

    if (strstr(image, "://"))
        return cannot_inspect(json, image, IMGP_CODE_INVALID_URL,
                              "remote images are not read by this build of imgprobe (no URL support): download "
                              "the image and check the file");
    imgp_image *img;
    if (imgp_image_open(ctx, image, format, &img) != IMGP_OK)
        return cannot_inspect(json, image, IMGP_CODE_INTERNAL_ERROR, imgp_ctx_message(ctx));

    progress prog = {.last_pct = -1};
    if (isatty(STDERR_FILENO)) {
        clock_gettime(CLOCK_MONOTONIC, &prog.start);
        opts.progress = show_progress;
        opts.progress_arg = &prog;
    }
    imgp_inspection *insp;
    if (imgp_inspect(ctx, img, &opts, &insp) != IMGP_OK) {
        int rc = cannot_inspect(json, image, IMGP_CODE_INTERNAL_ERROR, imgp_ctx_message(ctx));
        imgp_image_close(img);
        return rc;
    }
    const imgp_inspection_info *in = imgp_inspection_get_info(insp);
    if (json) {
        json_writer w;
        json_init(&w, stdout);
        json_object_begin(&w);
        json_report(&w, img, in);
        json_object_end(&w);
        json_end(&w);
    } else {
        text_report(image, in);
    }
    int rc = in->importable ? EXIT_OK : EXIT_NOT_IMPORTABLE;
    /* an image whose contents cannot be read (encrypted, a parent missing) was not inspected */
    for (size_t i = 0; i < in->nfindings; i++)
        if (strcmp(in->findings[i].code, IMGP_CODE_INTERNAL_ERROR) == 0)
            rc = EXIT_CANNOT_INSPECT;
    imgp_inspection_free(insp);
    imgp_image_close(img);
    if (fflush(stdout) != 0)
        rc = EXIT_CANNOT_INSPECT;
    return rc;
}
