/* The imgprobe command line: shared helpers of the subcommands. */
#ifndef IMGP_CLI_H
#define IMGP_CLI_H

#include <stdio.h>

#include "imgprobe/imgprobe.h"
#include "imgprobe/inspect.h"

/* Exit statuses (DESIGN.md): check uses 0/1/2, the others 0/2. */
enum { EXIT_OK = 0, EXIT_NOT_IMPORTABLE = 1, EXIT_CANNOT_INSPECT = 2 };

/* Common options of the subcommands. */
typedef struct cli_opts {
    bool json;
    const char *format; /* -f FORMAT, or NULL */
    const char *image;
} cli_opts;

/* Print `imgprobe: IMAGE: message` for the context's last error. @return EXIT_CANNOT_INSPECT. */
int cli_fail(imgp_ctx *ctx, const char *image);

/* Print `imgprobe: message` for a usage error. @return EXIT_CANNOT_INSPECT. */
int cli_usage_error(const char *fmt, ...) IMGP_PRINTF(1, 2);

/* "1 GiB", "196 KiB", "512 B" into @p buf. */
const char *cli_human_size(uint64_t bytes, char *buf, size_t len);

/*
 * Visit the whole device in order: @p fn gets each run of bytes, with @p data
 * NULL for a run known to read as zeros (not read). Data is read in chunks of
 * at most CLI_CHUNK bytes.
 */
#define CLI_CHUNK (4u << 20)
typedef int (*cli_run_fn)(void *arg, uint64_t off, const void *data, size_t len);
imgp_status cli_walk_disk(imgp_bdev *bd, cli_run_fn fn, void *arg, int *fn_failed);

/* ---- ls and cat: one filesystem of the image (cmd_ls.c) ---- */

/* The image, its volumes, the filesystem picked and a view with it at "/". */
typedef struct cli_fs {
    const char *image;
    imgp_image *img;
    imgp_volumes *vols;
    imgp_fs *fs;
    imgp_view *view;
    imgp_inspection *insp; /* when the view is the guest's assembled root: it owns fs and view */
    size_t notes_shown; /* the filesystem's notes printed so far */
} cli_fs;

/*
 * Open @p image (format @p format, or detected) and mount the filesystem
 * that @p part names: a partition index as `info --json` gives it ("1",
 * "vg/lv"), "disk" for the whole disk, or NULL for the guest's root as
 * inspection assembles it (with /boot, /usr... mounted from its fstab), or,
 * when inspection finds no root, the only filesystem there is. Prints the error and the filesystem's notes (as warnings) itself.
 * @return EXIT_OK, or EXIT_CANNOT_INSPECT with nothing left open.
 */
int cli_fs_open(imgp_ctx *ctx, const char *image, const char *format, const char *part, cli_fs *out);

/* Print the notes the filesystem made since they were last printed (a checksum mismatch met on the way). */
void cli_fs_show_notes(cli_fs *c);

/* Close everything, after printing the notes not yet shown. */
void cli_fs_close(cli_fs *c);

/* ls and cat's arguments: [-l] [-R] (ls only) [-p PART] [-f FORMAT] IMAGE PATH. */
typedef struct cli_fs_args {
    const char *part, *format, *image, *path;
    bool long_format, recursive;
} cli_fs_args;

/*
 * Parse them from @p argv (argv[0] the command's name); @p ls allows -l and
 * -R; @p usage is printed for -h. @return -1 to go on, else the exit status.
 */
int cli_fs_parse_args(int argc, char **argv, bool ls, const char *usage, cli_fs_args *a);

/* Commands that parse their own arguments: argv[0] is the command's name. */
int cmd_ls(imgp_ctx *ctx, int argc, char **argv);
int cmd_cat(imgp_ctx *ctx, int argc, char **argv);
int cmd_measure(imgp_ctx *ctx, int argc, char **argv);
int cmd_check(imgp_ctx *ctx, int argc, char **argv);

/* info's pieces, shared with check (cmd_info.c) */
struct json_writer;
void cli_image_json(struct json_writer *w, const imgp_image *img);
void cli_volumes_json(struct json_writer *w, const imgp_volume_info *v);
void cli_volumes_text(const imgp_volume_info *v);

int cmd_info(imgp_ctx *ctx, const cli_opts *o);
int cmd_dump(imgp_ctx *ctx, const cli_opts *o);
int cmd_digest(imgp_ctx *ctx, const cli_opts *o);

#endif
