/*
 * faultcheck [--reads|--allocs|--all] [--stride K] [--sticky] [--cache BYTES]
 * [--image-only] IMAGE...: fault
 * injection over the whole `check` pipeline (tests/integration/faults.sh).
 *
 * For each image, a fault-free run first gives the baseline: the file opened
 * as a source wrapped in a counting one, the image opened on it, inspected
 * with the options `imgprobe check` uses (the size scan included), and
 * everything freed. Then the same run again with the Nth read of the image
 * file failing (--reads), or the Nth allocation of the context failing
 * (--allocs), for N = 1, 2, ... (every K-th with --stride) until a run no
 * longer reaches the Nth. --sticky fails every read or allocation from the
 * Nth on instead of the Nth alone (a disk that died, memory that ran out).
 * --cache sets the context's cache limit (IMGP_LIMIT_CACHE_BYTES): small
 * caches re-read, so that failures also reach readers whose blocks a large
 * cache would have kept. --image-only skips the volumes and check layers.
 * The image layer alone gets the same loop: open, then every byte of the
 * virtual disk read through the format's reader and its block cache; and so
 * does the volumes layer (what `info` shows: the partitions, their content,
 * the notes).
 *
 * The invariant for every N is "a clean error, never silent":
 *   - the call fails with a message, and the status is the injected one
 *     (IMGP_ERR_IO for reads, or a message naming the injected error;
 *     IMGP_ERR_NOMEM for allocations), or
 *   - it succeeds with the baseline's result (importable, the error and
 *     warning codes, the identity: see summarize()), or with a different one
 *     that a finding, a kernel's initramfs error or a volume note explains by
 *     naming the failure ("injected", "out of memory").
 * A violation prints both results and aborts, so the test fails loudly.
 * Everything runs in one process: LeakSanitizer at exit sees a leak of any
 * iteration.
 *
 * On standard output, one line per image and loop: how many reads or
 * allocations were exercised and how the runs ended. Exit 0, 1 on a usage or
 * baseline error (the image cannot be checked at all).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "imgprobe/inspect.h"

#define INJECTED "faultcheck: injected"

/* ---- the counting source: fails the Nth read (or every read from the Nth) ---- */

typedef struct fault_plan {
    unsigned long count;   /* reads (or allocations) so far in this run */
    unsigned long fail_at; /* 1-based; 0 = never */
    bool sticky;           /* fail every one from fail_at on */
    bool fired;            /* a failure was injected in this run */
} fault_plan;

static bool plan_fails(fault_plan *p)
{
    p->count++;
    if (p->fail_at && (p->count == p->fail_at || (p->sticky && p->count > p->fail_at))) {
        p->fired = true;
        return true;
    }
    return false;
}

typedef struct fault_source {
    imgp_source base;
    imgp_source *lower;
    fault_plan *plan;
} fault_source;

static imgp_status fault_read(imgp_source *s, uint64_t off, void *buf, size_t len)
{
    fault_source *f = (fault_source *)s;
    if (plan_fails(f->plan))
        return imgp_error(s->ctx, IMGP_ERR_IO, "%s: " INJECTED " I/O error on read %lu (%zu bytes at 0x%" PRIx64 ")",
                          s->name, f->plan->count, len, off);
    /* the lower source's front door checked the range already; its driver reads */
    return f->lower->ops->read(f->lower, off, buf, len);
}

static imgp_status fault_extent(imgp_source *s, uint64_t off, uint64_t len, bool *is_data, uint64_t *run)
{
    return imgp_source_extent(((fault_source *)s)->lower, off, len, is_data, run);
}

static imgp_status fault_wrap(imgp_source *lower, fault_plan *plan, imgp_source **out);

static imgp_status fault_open_related(imgp_source *s, const char *name, imgp_source **out)
{
    imgp_source *lower;
    imgp_status st = imgp_source_open_related(((fault_source *)s)->lower, name, &lower);
    if (st != IMGP_OK)
        return st;
    return fault_wrap(lower, ((fault_source *)s)->plan, out);
}

static void fault_close(imgp_source *s)
{
    fault_source *f = (fault_source *)s;
    imgp_source_close(f->lower);
    free(s->name);
    free(s->identity);
    free(f);
}

static const imgp_source_ops fault_ops = {
    .kind = "faulty file",
    .read = fault_read,
    .extent = fault_extent,
    .open_related = fault_open_related,
    .close = fault_close,
};

/* Wrap @p lower (owned from here on, also on failure). Plain malloc: the
 * allocation loop counts the library's allocations, not this harness's. */
static imgp_status fault_wrap(imgp_source *lower, fault_plan *plan, imgp_source **out)
{
    *out = NULL;
    fault_source *f = calloc(1, sizeof *f);
    char *name = strdup(lower->name), *identity = strdup(lower->identity);
    if (!f || !name || !identity) {
        free(f);
        free(name);
        free(identity);
        imgp_source_close(lower);
        return imgp_error(lower->ctx, IMGP_ERR_NOMEM, "faultcheck: out of memory wrapping a source");
    }
    f->lower = lower;
    f->plan = plan;
    f->base = (imgp_source){&fault_ops, lower->ctx, lower->size, lower->allocated, name, identity};
    *out = &f->base;
    return IMGP_OK;
}

/* ---- the counting allocator: fails the Nth allocation (or every one from the Nth) ---- */

static fault_plan alloc_plan;

static void *fa_alloc(void *o, size_t n)
{
    (void)o;
    return plan_fails(&alloc_plan) ? NULL : malloc(n);
}

static void *fa_realloc(void *o, void *p, size_t n)
{
    (void)o;
    return plan_fails(&alloc_plan) ? NULL : realloc(p, n);
}

static void fa_free(void *o, void *p)
{
    (void)o;
    free(p);
}

/* ---- one run and what it gave ---- */

typedef enum mode { MODE_READS, MODE_ALLOCS } mode;
typedef enum layer { LAYER_IMAGE, LAYER_VOLUMES, LAYER_CHECK } layer;

typedef struct outcome {
    imgp_status st;
    char message[1024];
    char *summary;     /* the result on success (malloc'd), NULL on failure */
    bool explained;    /* a finding or an initramfs error names the failure */
    char explanation[512];
} outcome;

/* A growing string, plain malloc (not counted). */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) IMGP_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static const char *s_or(const char *s) { return s ? s : "-"; }

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* What a changed verdict would show: importable, the error and warning codes
 * (sorted), and the identity and layout the report is built on. */
static char *summarize(const imgp_inspection_info *in)
{
    sbuf b = {0};
    const imgp_os *os = &in->os;
    sb_printf(&b, "importable=%d errors=%u warnings=%u os=%s distro=%s version=%s arch=%s bits=%u host=%s root=%s",
              in->importable, in->errors, in->warnings, s_or(os->type), s_or(os->distro), s_or(os->version),
              s_or(os->arch), os->bits, s_or(os->hostname), s_or(os->root_device));
    sb_printf(&b, " release=%s edition=%s loader=%s default=%s cloudinit=%d/%d",
              s_or(os->release), s_or(os->edition), s_or(in->boot.loader), s_or(in->boot.default_entry),
              in->cloud_init.installed, in->cloud_init.enabled);
    sb_printf(&b, " scheme=%s filesystems=", in->volumes ? in->volumes->scheme : "-");
    for (size_t i = 0; i < in->nfilesystems; i++)
        sb_printf(&b, "%s%s:%s:%s", i ? "," : "", in->filesystems[i].device, in->filesystems[i].type,
                  in->filesystems[i].role);
    sb_printf(&b, " kernels=");
    for (size_t i = 0; i < in->nkernels; i++) {
        const imgp_kernel *k = &in->kernels[i];
        sb_printf(&b, "%s%s:%s:disk%d:net%d", i ? "," : "", k->version, s_or(k->initramfs_compression),
                  k->virtio_disk_at_boot, k->virtio_net);
    }
    if (in->windows.system_root)
        sb_printf(&b, " windows=%s:%s:disk%d:net%d", in->windows.system_root, s_or(in->windows.control_set),
                  in->windows.virtio_disk_at_boot, in->windows.virtio_net);
    sb_printf(&b, " size=%" PRIu64 "/%d", in->size.converted_size, in->size.converted_exact);
    const char **codes = calloc(in->nfindings + 1, sizeof *codes);
    if (!codes)
        abort();
    size_t n = 0;
    for (size_t i = 0; i < in->nfindings; i++)
        if (in->findings[i].severity != IMGP_SEVERITY_INFO)
            codes[n++] = in->findings[i].code;
    qsort(codes, n, sizeof *codes, cmp_str);
    sb_printf(&b, " codes=");
    for (size_t i = 0; i < n; i++)
        sb_printf(&b, "%s%s", i ? "," : "", codes[i]);
    free(codes);
    return b.p;
}

/* Whether the inspection says the failure happened: a finding or an initramfs error naming it. */
static bool explains(const imgp_inspection_info *in, const char *needle, char *why, size_t whylen)
{
    for (size_t i = 0; i < in->nfindings; i++)
        if (strstr(in->findings[i].message, needle)) {
            snprintf(why, whylen, "finding %s: %s", in->findings[i].code, in->findings[i].message);
            return true;
        }
    for (size_t i = 0; i < in->nkernels; i++)
        if (in->kernels[i].initramfs_error && strstr(in->kernels[i].initramfs_error, needle)) {
            snprintf(why, whylen, "kernel %s: initramfs: %s", in->kernels[i].version, in->kernels[i].initramfs_error);
            return true;
        }
    return false;
}

/*
 * The image layer alone: every data run of the virtual disk (as its status
 * says) read through the format's reader and hashed (FNV-1a), runs of zeros
 * hashed by their length. A read that fails is retried once, and the reading
 * goes on: with one failure injected, the hash must still be the baseline's,
 * so that no cache keeps what a failed read left behind. The first failure
 * is the result.
 */
static imgp_status read_device(imgp_image *img, uint64_t *hash, bool *complete)
{
    *complete = false;
    imgp_bdev *bd;
    imgp_status st = imgp_image_bdev(img, &bd);
    if (st != IMGP_OK)
        return st;
    static uint8_t buf[256 * 1024];
    uint64_t h = 1469598103934665603ull;
    imgp_status first = IMGP_OK;
    char message[1024] = "";
    for (uint64_t off = 0; off < bd->size;) {
        imgp_extent_kind kind;
        uint64_t run;
        if ((st = imgp_bdev_status(bd, off, bd->size - off, &kind, &run)) != IMGP_OK)
            return st;
        if (kind != IMGP_EXTENT_DATA) {
            h = (h ^ run) * 1099511628211ull;
            off += run;
            continue;
        }
        size_t n = run < sizeof buf ? (size_t)run : sizeof buf;
        st = imgp_bdev_read(bd, off, buf, n);
        if (st != IMGP_OK && first == IMGP_OK) {
            first = st;
            snprintf(message, sizeof message, "%s", imgp_ctx_message(bd->ctx));
            st = imgp_bdev_read(bd, off, buf, n);
        }
        if (st != IMGP_OK)
            return st;
        for (size_t i = 0; i < n; i++)
            h = (h ^ buf[i]) * 1099511628211ull;
        off += n;
    }
    *hash = h;
    *complete = true;
    if (first != IMGP_OK)
        return imgp_error(bd->ctx, first, "%s", message);
    return IMGP_OK;
}

/* What `info` shows of the partitions; a note naming the failure explains a difference. */
static char *summarize_volumes(const imgp_volume_info *vi, const char *needle, outcome *o)
{
    sbuf b = {0};
    sb_printf(&b, "scheme=%s id=%s disk=%s", vi->scheme, s_or(vi->disk_id), s_or(vi->disk.content.type));
    for (size_t i = 0; i < vi->npartitions; i++) {
        const imgp_partition *p = &vi->partitions[i];
        sb_printf(&b, " %s:%" PRIu64 "+%" PRIu64 ":%s:%s:%s:%s:%s", p->index, p->start, p->size, s_or(p->type),
                  s_or(p->content.type), s_or(p->content.label), s_or(p->content.uuid), s_or(p->unreadable));
    }
    sb_printf(&b, " notes=%zu", vi->nnotes);
    for (size_t i = 0; i < vi->nnotes && !o->explained; i++)
        if (strstr(vi->notes[i].message, needle)) {
            o->explained = true;
            snprintf(o->explanation, sizeof o->explanation, "note: %s", vi->notes[i].message);
        }
    return b.p;
}

static void run(imgp_ctx *ctx, const char *path, layer lay, fault_plan *reads, const char *needle, outcome *o)
{
    memset(o, 0, sizeof *o);
    imgp_ctx_clear(ctx);
    imgp_source *file = NULL, *src = NULL;
    imgp_image *img = NULL;
    imgp_inspection *insp = NULL;
    imgp_status st = imgp_source_open_file(ctx, path, &file);
    if (st == IMGP_OK)
        st = fault_wrap(file, reads, &src);
    if (st == IMGP_OK)
        st = imgp_image_open_source(ctx, src, NULL, &img); /* owns src from here on */
    if (st == IMGP_OK && lay == LAYER_IMAGE) {
        uint64_t hash = 0;
        bool complete;
        st = read_device(img, &hash, &complete);
        if (complete) {
            /* also after a failure: the retry must read what the baseline read */
            const imgp_image_info *ii = imgp_image_get_info(img);
            sbuf b = {0};
            sb_printf(&b, "format=%s virtual_size=%" PRIu64 " content=%016" PRIx64, ii->format, ii->virtual_size,
                      hash);
            o->summary = b.p;
        }
    } else if (st == IMGP_OK && lay == LAYER_VOLUMES) {
        imgp_bdev *disk;
        imgp_volumes *vols = NULL;
        if ((st = imgp_image_bdev(img, &disk)) == IMGP_OK && (st = imgp_volumes_scan(ctx, disk, &vols)) == IMGP_OK)
            o->summary = summarize_volumes(imgp_volumes_get_info(vols), needle, o);
        imgp_volumes_free(vols);
    } else if (st == IMGP_OK) {
        /* the options `imgprobe check` gives when standard error is no terminal */
        imgp_inspect_opts opts = {0};
        if ((st = imgp_inspect(ctx, img, &opts, &insp)) == IMGP_OK) {
            const imgp_inspection_info *in = imgp_inspection_get_info(insp);
            o->summary = summarize(in);
            o->explained = explains(in, needle, o->explanation, sizeof o->explanation);
        }
    }
    o->st = st;
    if (st != IMGP_OK)
        snprintf(o->message, sizeof o->message, "%s", imgp_ctx_message(ctx));
    imgp_inspection_free(insp);
    imgp_image_close(img);
}

static void violation(const char *path, const char *what, unsigned long n, const outcome *base, const outcome *o,
                      const char *fmt, ...) IMGP_PRINTF(6, 7);
static void violation(const char *path, const char *what, unsigned long n, const outcome *base, const outcome *o,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "faultcheck: %s: %s %lu: ", path, what, n);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  status:   %s: %s\n  baseline: %s\n  got:      %s\n", imgp_status_name(o->st), o->message,
            s_or(base->summary), s_or(o->summary));
    fflush(stderr);
    abort();
}

typedef struct tally {
    unsigned long runs, errors, same, explained;
} tally;

/* The loop of one image, one mode, one layer. @return 0, or 1 when the baseline fails. */
static int loop(const char *path, mode m, layer lay, unsigned long stride, bool sticky, uint64_t cache_bytes)
{
    const char *what = m == MODE_READS ? "read" : "allocation";
    const char *needle = m == MODE_READS ? INJECTED : "out of memory";
    const char *lname = lay == LAYER_CHECK ? "check" : lay == LAYER_VOLUMES ? "volumes" : "image";
    fault_plan reads = {0};
    imgp_allocator a = {fa_alloc, fa_realloc, fa_free, NULL};
    alloc_plan = (fault_plan){0};
    imgp_ctx *ctx = imgp_ctx_new(m == MODE_ALLOCS ? &a : NULL);
    if (!ctx) {
        fprintf(stderr, "faultcheck: no context\n");
        return 1;
    }
    if (cache_bytes && imgp_ctx_set_limit(ctx, IMGP_LIMIT_CACHE_BYTES, cache_bytes) != IMGP_OK)
        abort();
    fault_plan *plan = m == MODE_READS ? &reads : &alloc_plan;

    outcome base, o;
    *plan = (fault_plan){0};
    run(ctx, path, lay, &reads, needle, &base);
    unsigned long total = plan->count;
    if (base.st != IMGP_OK) {
        fprintf(stderr, "faultcheck: %s: the fault-free %s run fails: %s: %s\n", path, lname,
                imgp_status_name(base.st), base.message);
        imgp_ctx_free(ctx);
        return 1;
    }
    tally t = {0};
    for (unsigned long n = 1;; n += stride) {
        *plan = (fault_plan){.fail_at = n, .sticky = sticky};
        run(ctx, path, lay, &reads, needle, &o);
        t.runs++;
        if (!plan->fired) {
            /* past the last one: the run must be the baseline again, with as many */
            if (o.st != IMGP_OK || strcmp(o.summary, base.summary) != 0 || plan->count != total)
                violation(path, what, n, &base, &o, "nothing injected, yet the run differs from the baseline "
                          "(%lu %ss, baseline %lu)", plan->count, what, total);
            free(o.summary);
            break;
        }
        if (o.st != IMGP_OK) {
            if (lay == LAYER_IMAGE && !sticky && o.summary && strcmp(o.summary, base.summary) != 0)
                violation(path, what, n, &base, &o, "after the failure and a retry, the disk reads otherwise "
                          "(a cache kept what the failed read left?)");
            if (o.message[0] == '\0')
                violation(path, what, n, &base, &o, "failed without a message");
            bool right = m == MODE_READS ? o.st == IMGP_ERR_IO || strstr(o.message, INJECTED) != NULL
                                         : o.st == IMGP_ERR_NOMEM;
            if (!right)
                violation(path, what, n, &base, &o, "failed with another status than the injected failure's");
            t.errors++;
        } else if (strcmp(o.summary, base.summary) == 0) {
            t.same++;
        } else if (o.explained) {
            t.explained++;
        } else {
            violation(path, what, n, &base, &o, "the result changed and nothing in it names the failure");
        }
        free(o.summary);
    }
    printf("faultcheck: %s: %s layer, %s%s%s: %lu %ss, %lu runs (stride %lu): %lu clean errors, %lu unchanged, "
           "%lu explained in the result (a finding or note naming the failure)\n",
           path, lname, sticky ? "sticky " : "", m == MODE_READS ? "reads" : "allocations",
           cache_bytes ? ", small caches" : "", total, what, t.runs, stride, t.errors, t.same, t.explained);
    fflush(stdout);
    free(base.summary);
    imgp_ctx_free(ctx);
    return 0;
}

static int usage(void)
{
    fputs("usage: faultcheck [--reads|--allocs|--all] [--stride K] [--sticky] [--cache BYTES] [--image-only] "
          "IMAGE...\n",
          stderr);
    return 1;
}

int main(int argc, char **argv)
{
    bool do_reads = true, do_allocs = false, sticky = false, image_only = false;
    unsigned long stride = 1;
    uint64_t cache_bytes = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--reads") == 0) {
            do_reads = true;
            do_allocs = false;
        } else if (strcmp(argv[i], "--allocs") == 0) {
            do_reads = false;
            do_allocs = true;
        } else if (strcmp(argv[i], "--all") == 0) {
            do_reads = do_allocs = true;
        } else if (strcmp(argv[i], "--sticky") == 0) {
            sticky = true;
        } else if (strcmp(argv[i], "--image-only") == 0) {
            image_only = true;
        } else if (strcmp(argv[i], "--cache") == 0 && i + 1 < argc) {
            char *end;
            cache_bytes = strtoull(argv[++i], &end, 10);
            if (*end || cache_bytes == 0)
                return usage();
        } else if (strcmp(argv[i], "--stride") == 0 && i + 1 < argc) {
            char *end;
            stride = strtoul(argv[++i], &end, 10);
            if (*end || stride == 0)
                return usage();
        } else {
            return usage();
        }
    }
    if (i == argc)
        return usage();
    int rc = 0;
    for (; i < argc; i++)
        for (int m = MODE_READS; m <= MODE_ALLOCS; m++) {
            if ((m == MODE_READS && !do_reads) || (m == MODE_ALLOCS && !do_allocs))
                continue;
            for (int lay = LAYER_IMAGE; lay <= (image_only ? LAYER_IMAGE : LAYER_CHECK); lay++)
                rc |= loop(argv[i], (mode)m, (layer)lay, stride, sticky, cache_bytes);
        }
    return rc;
}
