/* imgprobe info: what the image is, its sizes, chain and snapshots. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "json.h"

void cli_image_json(json_writer *w, const imgp_image *img)
{
    const imgp_image_info *in = imgp_image_get_info(img);
    json_object_begin(w);
    json_kv_string(w, "filename", imgp_image_name(img));
    json_kv_string(w, "format", in->format);
    json_kv_bool(w, "readable", in->readable);
    if (!in->readable)
        json_kv_string(w, "unreadable_reason", in->unreadable_reason);
    json_kv_uint(w, "virtual_size", in->virtual_size);
    json_kv_uint(w, "actual_size", in->actual_size);
    json_kv_uint(w, "file_size", in->file_size);
    if (in->cluster_size)
        json_kv_uint(w, "cluster_size", in->cluster_size);
    if (in->compression)
        json_kv_string(w, "compression_type", in->compression);
    if (in->backing_file) {
        json_kv_string(w, "backing_file", in->backing_file);
        json_kv_string(w, "backing_format", in->backing_format);
    }
    json_kv_bool(w, "dirty", in->dirty);
    json_kv_bool(w, "corrupt", in->corrupt);
    json_kv_bool(w, "encrypted", in->encrypted);
    json_key(w, "properties");
    json_object_begin(w);
    for (size_t i = 0; i < in->nprops; i++)
        json_kv_string(w, in->props[i].key, in->props[i].value);
    json_object_end(w);
    json_key(w, "snapshots");
    json_array_begin(w);
    for (size_t i = 0; i < in->nsnapshots; i++) {
        const imgp_snapshot *s = &in->snapshots[i];
        json_object_begin(w);
        json_kv_string(w, "id", s->id);
        json_kv_string(w, "name", s->name);
        json_kv_uint(w, "vm_state_size", s->vm_state_size);
        json_kv_uint(w, "disk_size", s->disk_size);
        json_kv_uint(w, "date_sec", s->date_sec);
        json_kv_uint(w, "date_nsec", s->date_nsec);
        json_kv_uint(w, "vm_clock_nsec", s->vm_clock_nsec);
        json_object_end(w);
    }
    json_array_end(w);
    json_object_end(w);
}

static void info_text_image(const imgp_image *img)
{
    const imgp_image_info *in = imgp_image_get_info(img);
    char h1[32], h2[32];
    printf("image: %s\n", imgp_image_name(img));
    printf("file format: %s%s\n", in->format, in->readable ? "" : " (recognised, not read)");
    if (!in->readable)
        printf("not read: %s\n", in->unreadable_reason);
    printf("virtual size: %s (%" PRIu64 " bytes)\n", cli_human_size(in->virtual_size, h1, sizeof h1),
           in->virtual_size);
    printf("disk size: %s\n", cli_human_size(in->actual_size, h2, sizeof h2));
    if (in->cluster_size)
        printf("cluster_size: %" PRIu32 "\n", in->cluster_size);
    if (in->compression)
        printf("compression type: %s\n", in->compression);
    if (in->backing_file) {
        printf("backing file: %s\n", in->backing_file);
        if (in->backing_format)
            printf("backing file format: %s\n", in->backing_format);
    }
    if (in->dirty || in->corrupt || in->encrypted)
        printf("flags:%s%s%s\n", in->dirty ? " dirty" : "", in->corrupt ? " corrupt" : "",
               in->encrypted ? " encrypted" : "");
    if (in->nsnapshots) {
        printf("Snapshot list:\n%-4s %-20s %12s %-19s %s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK");
        for (size_t i = 0; i < in->nsnapshots; i++) {
            const imgp_snapshot *s = &in->snapshots[i];
            char date[32] = "";
            time_t t = (time_t)s->date_sec;
            struct tm tm;
            if (gmtime_r(&t, &tm))
                strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
            uint64_t secs = s->vm_clock_nsec / 1000000000u;
            printf("%-4s %-20s %12s %-19s %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64 "\n", s->id,
                   s->name, cli_human_size(s->vm_state_size, h1, sizeof h1), date, secs / 3600, secs / 60 % 60,
                   secs % 60, s->vm_clock_nsec / 1000000 % 1000);
        }
    }
    if (in->nprops) {
        printf("Format specific information:\n");
        for (size_t i = 0; i < in->nprops; i++)
            printf("    %s: %s\n", in->props[i].key, in->props[i].value);
    }
}

static const char *const note_levels[] = {"info", "warning", "error"};

static void content_json(json_writer *w, const imgp_content *c)
{
    json_kv_string(w, "content", c->type ? c->type : "unknown");
    if (c->version)
        json_kv_string(w, "content_version", c->version);
    if (c->label)
        json_kv_string(w, "label", c->label);
    if (c->uuid)
        json_kv_string(w, "fs_uuid", c->uuid);
}

void cli_volumes_json(json_writer *w, const imgp_volume_info *v)
{
    json_kv_string(w, "partition_table", v->scheme);
    if (v->disk_id)
        json_kv_string(w, "disk_id", v->disk_id);
    json_kv_uint(w, "sector_size", v->sector_size);
    json_key(w, "disk");
    json_object_begin(w);
    json_kv_uint(w, "size", v->disk.size);
    content_json(w, &v->disk.content);
    json_object_end(w);
    json_key(w, "partitions");
    json_array_begin(w);
    for (size_t i = 0; i < v->npartitions; i++) {
        const imgp_partition *p = &v->partitions[i];
        json_object_begin(w);
        json_kv_string(w, "index", p->index);
        json_kv_uint(w, "start", p->start);
        json_kv_uint(w, "size", p->size);
        json_kv_string(w, "type", p->type);
        if (p->type_name)
            json_kv_string(w, "type_name", p->type_name);
        if (p->name)
            json_kv_string(w, "name", p->name);
        if (p->uuid)
            json_kv_string(w, "uuid", p->uuid);
        if (p->attributes)
            json_kv_uint(w, "attributes", p->attributes);
        json_kv_bool(w, "bootable", p->bootable);
        if (p->is_container)
            json_kv_bool(w, "container", true);
        if (p->is_logical_volume)
            json_kv_bool(w, "logical_volume", true);
        if (p->unreadable)
            json_kv_string(w, "unreadable", p->unreadable);
        content_json(w, &p->content);
        json_object_end(w);
    }
    json_array_end(w);
    json_key(w, "notes");
    json_array_begin(w);
    for (size_t i = 0; i < v->nnotes; i++) {
        json_object_begin(w);
        json_kv_string(w, "level", note_levels[v->notes[i].level]);
        json_kv_string(w, "message", v->notes[i].message);
        json_object_end(w);
    }
    json_array_end(w);
}

/* Like `sfdisk -l`: sizes in sectors of the table's own sector size. */
void cli_volumes_text(const imgp_volume_info *v)
{
    char h[32];
    uint64_t ss = v->sector_size ? v->sector_size : 512;
    printf("\nDisk: %s, %" PRIu64 " bytes, %" PRIu64 " sectors\n", cli_human_size(v->disk.size, h, sizeof h),
           v->disk.size, v->disk.size / ss);
    printf("Sector size: %" PRIu64 " bytes\n", ss);
    printf("Disklabel type: %s\n", v->scheme);
    if (v->disk_id)
        printf("Disk identifier: %s\n", v->disk_id);
    if (v->npartitions == 0) {
        const imgp_content *c = &v->disk.content;
        if (c->type && strcmp(c->type, "unknown") != 0)
            printf("Whole disk: %s%s%s%s%s\n", c->type, c->label ? " label=" : "", c->label ? c->label : "",
                   c->uuid ? " uuid=" : "", c->uuid ? c->uuid : "");
    } else {
        printf("\n%-12s %4s %12s %12s %12s %8s %-28s %-12s %-16s %s\n", "Device", "Boot", "Start", "End",
               "Sectors", "Size", "Type", "Content", "Label", "UUID");
        for (size_t i = 0; i < v->npartitions; i++) {
            const imgp_partition *p = &v->partitions[i];
            uint64_t start = p->start / ss, sectors = p->size / ss;
            /* the type's name when known (as sfdisk -l), else the code or GUID itself */
            const char *type = p->type_name ? p->type_name : p->type ? p->type : "";
            printf("%-12s %4s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %8s %-28s %-12s %-16s %s%s%s\n", p->index,
                   p->bootable ? "*" : "", start, sectors ? start + sectors - 1 : start, sectors,
                   cli_human_size(p->size, h, sizeof h), type,
                   p->is_container ? "(container)" : p->content.type ? p->content.type : "",
                   p->content.label ? p->content.label : p->name ? p->name : "",
                   p->content.uuid ? p->content.uuid : "", p->unreadable ? "  unreadable: " : "",
                   p->unreadable ? p->unreadable : "");
        }
    }
    for (size_t i = 0; i < v->nnotes; i++)
        printf("%s: %s\n", note_levels[v->notes[i].level], v->notes[i].message);
}

int cmd_info(imgp_ctx *ctx, const cli_opts *o)
{
    imgp_image *img;
    if (imgp_image_open(ctx, o->image, o->format, &img) != IMGP_OK)
        return cli_fail(ctx, o->image);
    /* info describes the container even when what is inside cannot be read
     * (a corrupt grain table, a parent with the wrong CID): that is said on
     * stderr and in partitions_error, and the exit status stays 0 */
    imgp_bdev *disk = NULL;
    imgp_volumes *vols = NULL;
    char *scan_error = NULL;
    if (imgp_image_get_info(img)->readable) {
        imgp_status st = imgp_image_bdev(img, &disk);
        if (st == IMGP_OK)
            st = imgp_volumes_scan(ctx, disk, &vols);
        if (st == IMGP_ERR_NOMEM) {
            int rc = cli_fail(ctx, o->image);
            imgp_image_close(img);
            return rc;
        }
        if (st != IMGP_OK) {
            scan_error = strdup(imgp_ctx_message(ctx));
            fprintf(stderr, "imgprobe: %s: warning: partitions not read: %s\n", o->image, imgp_ctx_message(ctx));
        }
    }

    if (o->json) {
        json_writer w;
        json_init(&w, stdout);
        json_object_begin(&w);
        json_key(&w, "image");
        cli_image_json(&w, img);
        json_key(&w, "backing_chain");
        json_array_begin(&w);
        for (const imgp_image *b = imgp_image_backing(img); b; b = imgp_image_backing(b))
            cli_image_json(&w, b);
        json_array_end(&w);
        if (vols)
            cli_volumes_json(&w, imgp_volumes_get_info(vols));
        if (scan_error)
            json_kv_string(&w, "partitions_error", scan_error);
        json_object_end(&w);
        json_end(&w);
    } else {
        info_text_image(img);
        for (const imgp_image *b = imgp_image_backing(img); b; b = imgp_image_backing(b)) {
            putchar('\n');
            info_text_image(b);
        }
        if (vols)
            cli_volumes_text(imgp_volumes_get_info(vols));
        if (scan_error)
            printf("\npartitions: not read: %s\n", scan_error);
    }
    free(scan_error);
    imgp_volumes_free(vols);
    imgp_image_close(img);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_CANNOT_INSPECT;
}
