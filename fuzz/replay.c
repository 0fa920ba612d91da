/*
 * Replay inputs through a libFuzzer harness without libFuzzer: a main() that
 * calls LLVMFuzzerTestOneInput on every file named on the command line, or in
 * a directory named there (and in its subdirectories, one level down), in
 * name order. Used by `meson test` (suite fuzz) under gcc or clang, with or
 * without sanitizers.
 *
 * Each input is copied into a buffer of exactly its size, so that ASan sees
 * any read past its end.
 *
 * Exit status: 0 when every input ran and at least one did; 1 on a usage or
 * I/O error, or when nothing ran; with --skip-if-empty, a path that does not
 * exist holds no inputs and nothing run is 77 (skipped, for meson). A broken
 * invariant aborts in the harness.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { EXIT_SKIP = 77 };

typedef struct replay {
    unsigned long inputs;
    int errors;
    int verbose;
    int missing_ok; /* --skip-if-empty: a path that does not exist holds no inputs */
} replay;

static void run_file(replay *r, const char *path, const struct stat *sb)
{
    size_t size = (size_t)sb->st_size;
    /* malloc(0) may return NULL; libFuzzer always passes a valid pointer. */
    uint8_t *data = malloc(size ? size : 1);
    FILE *f = fopen(path, "rb");
    if (!data || !f || fread(data, 1, size, f) != size) {
        fprintf(stderr, "replay: %s: cannot read: %s\n", path, strerror(errno ? errno : EIO));
        r->errors++;
    } else {
        if (r->verbose) {
            /* Name the input before running it, so a crash report says which. */
            printf("replay: %s (%zu bytes)\n", path, size);
            fflush(stdout);
        }
        LLVMFuzzerTestOneInput(data, size);
        r->inputs++;
    }
    if (f)
        fclose(f);
    free(data);
}

static int skip_dot(const struct dirent *e) { return e->d_name[0] != '.'; }

/* Run @p path: a file, or every file of a directory down to @p depth more levels. */
static void run_path(replay *r, const char *path, int depth)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT && r->missing_ok) {
            printf("replay: %s: absent, no inputs\n", path);
            return;
        }
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        r->errors++;
        return;
    }
    if (S_ISREG(sb.st_mode)) {
        run_file(r, path, &sb);
        return;
    }
    if (!S_ISDIR(sb.st_mode) || depth < 0)
        return;
    struct dirent **names;
    int n = scandir(path, &names, skip_dot, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        r->errors++;
        return;
    }
    for (int i = 0; i < n; i++) {
        size_t len = strlen(path) + 1 + strlen(names[i]->d_name) + 1;
        char *child = malloc(len);
        if (child) {
            snprintf(child, len, "%s/%s", path, names[i]->d_name);
            run_path(r, child, depth - 1);
            free(child);
        } else {
            r->errors++;
        }
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    replay r = {0, 0, 0, 0};
    int npaths = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--skip-if-empty") == 0) {
            r.missing_ok = 1;
        } else if (strcmp(argv[i], "-v") == 0) {
            r.verbose = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [-v] [--skip-if-empty] FILE|DIR...\n", argv[0]);
            return 1;
        } else {
            run_path(&r, argv[i], 1);
            npaths++;
        }
    }
    if (npaths == 0) {
        fprintf(stderr, "usage: %s [-v] [--skip-if-empty] FILE|DIR...\n", argv[0]);
        return 1;
    }
    printf("replay: %lu inputs ran, %d errors\n", r.inputs, r.errors);
    if (r.errors)
        return 1;
    if (r.inputs == 0) {
        fprintf(stderr, "replay: no inputs found%s\n", r.missing_ok ? " (skipped)" : "");
        return r.missing_ok ? EXIT_SKIP : 1;
    }
    return 0;
}
