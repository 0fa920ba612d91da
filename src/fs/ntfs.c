/*
 * NTFS, read-only: probing and mounting (the boot sector, or its backup at
 * the end of the volume; $MFT's own data runs; $UpCase; $Volume; a look at
 * hiberfil.sys), and the driver's stat / read / readlink, with reparse
 * points (symbolic links and junctions as symlinks; WOF-compressed files
 * recognised). Records and attributes live in ntfs_attr.c, directories in
 * ntfs_index.c, LZNT1 in ntfs_lznt1.c. Layout: ntfs_disk.h.
 *
 * Inode numbers are MFT record numbers; the root directory is record 5.
 */
#include <stdio.h>

#include "../core/cursor.h"
#include "ntfs.h"

#define RECORD_CACHE_SLOTS 64
#define UPCASE_UNITS 65536u
#define MAX_REPARSE_BYTES (16u * 1024) /* [MS-FSCC] 2.1.2: a reparse buffer is at most 16 KiB */
#define MAX_INTX_UNITS 4096u           /* an Interix link's target, as PATH_MAX */
#define EPOCH_DIFF_100NS 116444736000000000ll /* 1601-01-01 to 1970-01-01 */

/* ---- boot sector ---- */

/* [NTFSDOC] "$Boot": clusters per MFT record / index block, signed: a
 * positive count of clusters, or -n for 2^n bytes. */
static bool size_from_clusters(int8_t v, uint32_t cluster_size, uint32_t *out)
{
    uint64_t bytes;
    if (v > 0)
        bytes = (uint64_t)(uint8_t)v * cluster_size;
    else if (v < 0 && -v <= 31)
        bytes = 1ull << -v;
    else
        return false;
    *out = (uint32_t)imgp_min_u64(bytes, UINT32_MAX);
    return imgp_is_pow2(bytes) && bytes <= UINT32_MAX;
}

imgp_status ntfs_parse_boot(imgp_ctx *ctx, const uint8_t *buf, size_t len, ntfs_boot *b)
{
    memset(b, 0, sizeof *b);
    imgp_cursor c = imgp_cur_init(buf, len);
    const uint8_t *oem = imgp_cur_ptr_at(&c, NTFS_BOOT_OEM_ID, 8);
    if (!oem || len < NTFS_BOOT_SIZE || memcmp(oem, NTFS_OEM, 8) != 0)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: boot sector: no 'NTFS    ' OEM identifier");
    uint16_t bps = imgp_cur_le16_at(&c, NTFS_BOOT_BYTES_PER_SECTOR);
    uint8_t spc = imgp_cur_u8_at(&c, NTFS_BOOT_SECTORS_PER_CLUSTER);
    int8_t rec = (int8_t)imgp_cur_u8_at(&c, NTFS_BOOT_CLUSTERS_PER_RECORD);
    int8_t idx = (int8_t)imgp_cur_u8_at(&c, NTFS_BOOT_CLUSTERS_PER_INDEX);
    b->total_sectors = imgp_cur_le64_at(&c, NTFS_BOOT_TOTAL_SECTORS);
    b->mft_lcn = imgp_cur_le64_at(&c, NTFS_BOOT_MFT_LCN);
    b->mftmirr_lcn = imgp_cur_le64_at(&c, NTFS_BOOT_MFTMIRR_LCN);
    b->serial = imgp_cur_le64_at(&c, NTFS_BOOT_SERIAL);
    if (!imgp_is_pow2(bps) || bps < NTFS_MIN_SECTOR || bps > NTFS_MAX_SECTOR)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: boot sector: %u bytes per sector (a power of two, %u..%u)",
                          bps, NTFS_MIN_SECTOR, NTFS_MAX_SECTOR);
    b->sector_size = bps;
    /* sectors per cluster: 1..128, or (Windows 10 1903 and later, clusters
     * above 64 KiB) 2^(256 - v) for v of 0xF4 and above */
    uint64_t sectors;
    if (spc >= 0xF4)
        sectors = 1ull << (256 - spc);
    else if (spc >= 1 && spc <= 0x80 && imgp_is_pow2(spc))
        sectors = spc;
    else
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: boot sector: sectors per cluster 0x%02x", spc);
    uint64_t cluster = sectors * bps;
    if (cluster > NTFS_MAX_CLUSTER)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: boot sector: clusters of %llu bytes (at most %u)",
                          (unsigned long long)cluster, NTFS_MAX_CLUSTER);
    b->cluster_size = (uint32_t)cluster;
    while ((1u << b->cluster_shift) < b->cluster_size)
        b->cluster_shift++;
    if (!size_from_clusters(rec, b->cluster_size, &b->record_size) || b->record_size < NTFS_MIN_RECORD ||
        b->record_size > NTFS_MAX_RECORD || b->record_size % NTFS_FIXUP_STRIDE)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: boot sector: clusters per MFT record %d gives records of %u "
                          "bytes (%u..%u, a power of two)", rec, b->record_size, NTFS_MIN_RECORD, NTFS_MAX_RECORD);
    if (!size_from_clusters(idx, b->cluster_size, &b->index_block_size) ||
        b->index_block_size < NTFS_MIN_INDEX_BLOCK || b->index_block_size > NTFS_MAX_INDEX_BLOCK)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: boot sector: clusters per index block %d gives blocks of %u "
                          "bytes (%u..%u, a power of two)", idx, b->index_block_size, NTFS_MIN_INDEX_BLOCK,
                          NTFS_MAX_INDEX_BLOCK);
    if (b->total_sectors == 0 || b->total_sectors > UINT64_MAX / bps)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: boot sector: %llu sectors",
                          (unsigned long long)b->total_sectors);
    b->total_clusters = b->total_sectors / sectors;
    if (b->mft_lcn >= b->total_clusters || b->mftmirr_lcn >= b->total_clusters)
        return imgp_error(ctx, IMGP_ERR_CORRUPT, "ntfs: boot sector: $MFT at cluster %llu ($MFTMirr %llu) lies "
                          "outside the volume's %llu clusters", (unsigned long long)b->mft_lcn,
                          (unsigned long long)b->mftmirr_lcn, (unsigned long long)b->total_clusters);
    return IMGP_OK;
}

static int ntfs_probe(const uint8_t *head, size_t len, uint64_t size)
{
    (void)size;
    if (len < NTFS_BOOT_SIZE || memcmp(head + NTFS_BOOT_OEM_ID, NTFS_OEM, 8) != 0)
        return IMGP_SCORE_NONE;
    imgp_cursor c = imgp_cur_init(head, len);
    if (imgp_cur_le16_at(&c, NTFS_BOOT_SIGNATURE) != NTFS_BOOT_MAGIC)
        return IMGP_SCORE_WEAK;
    return IMGP_SCORE_MAGIC;
}

/* The backup boot sector: the last sector of the volume's partition, which
 * lies just past total_sectors; the device's last 512 bytes (512-byte
 * sectors) or last 4 KiB (4 KiB sectors). */
static imgp_status read_backup_boot(imgp_ctx *ctx, imgp_bdev *bd, uint8_t *buf, ntfs_boot *b)
{
    static const uint32_t sector_sizes[] = {512, 4096};
    for (size_t i = 0; i < sizeof sector_sizes / sizeof sector_sizes[0]; i++) {
        if (bd->size < 2 * (uint64_t)sector_sizes[i])
            continue;
        if (imgp_bdev_read(bd, bd->size - sector_sizes[i], buf, NTFS_BOOT_SIZE) != IMGP_OK)
            continue;
        if (ntfs_parse_boot(ctx, buf, NTFS_BOOT_SIZE, b) == IMGP_OK && b->sector_size == sector_sizes[i])
            return IMGP_OK;
    }
    return IMGP_ERR_NOT_FOUND;
}

/* Put back the error recorded before a look that may fail harmlessly. */
typedef struct saved_error {
    imgp_status st;
    char msg[IMGP_MSG_MAX];
} saved_error;

static void save_error(imgp_ctx *ctx, saved_error *e)
{
    e->st = imgp_ctx_status(ctx);
    snprintf(e->msg, sizeof e->msg, "%s", imgp_ctx_message(ctx));
}

static void restore_error(imgp_ctx *ctx, const saved_error *e)
{
    if (e->st == IMGP_OK)
        imgp_ctx_clear(ctx);
    else
        imgp_error(ctx, e->st, "%s", e->msg);
}

static int ntfs_probe_deep(imgp_ctx *ctx, imgp_bdev *bd)
{
    uint8_t buf[NTFS_BOOT_SIZE];
    ntfs_boot b;
    saved_error e;
    save_error(ctx, &e);
    int score = read_backup_boot(ctx, bd, buf, &b) == IMGP_OK ? IMGP_SCORE_WEAK : IMGP_SCORE_NONE;
    restore_error(ctx, &e); /* leave no error behind */
    return score;
}

/* ---- reparse points ---- */

/* Windows file times: 100 ns since 1601-01-01 UTC. */
static int64_t unix_time(uint64_t t, uint32_t *nsec)
{
    int64_t v = (int64_t)(t > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : t) - EPOCH_DIFF_100NS;
    int64_t s = v / 10000000, r = v % 10000000;
    if (r < 0) {
        r += 10000000;
        s--;
    }
    if (nsec)
        *nsec = (uint32_t)r * 100;
    return s;
}

typedef struct reparse {
    uint32_t tag;
    bool link;        /* a symbolic link or a junction: target is set */
    char target[4096 + 1];
    size_t target_len;
    uint32_t wof_algorithm; /* tag WOF: the file provider's algorithm, or UINT32_MAX */
} reparse;

/* The UTF-16 path at @p off (@p bytes) of @p pathbuf as UTF-8 in the guest's
 * terms: "\??\C:\x\y" (the NT form of an absolute path) and "C:\x\y" become
 * "/x/y", the volume being taken as the guest's C: drive; "\x\y" (the
 * current drive's root) becomes "/x/y"; a relative target has its
 * backslashes turned into slashes. Other drives and volume GUID paths stay
 * as Windows wrote them (backslashes and all), so they resolve nowhere. */
static bool translate_target(const uint8_t *path, size_t units, bool relative, char *out, size_t cap, size_t *len)
{
    char raw[4096 + 1];
    size_t n = ntfs_utf16_to_utf8(path, units, raw, sizeof raw);
    if (n == sizeof raw - 1 || n >= cap)
        return false;
    const char *p = raw;
    bool nt = strncmp(p, "\\??\\", 4) == 0;
    if (nt)
        p += 4;
    bool drive = ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':' &&
                 (p[2] == '\\' || p[2] == '\0');
    if (!relative && drive && (p[0] == 'C' || p[0] == 'c')) {
        p += 2;
        if (*p == '\0')
            p = "\\";
    } else if (!relative && (nt || drive)) {
        memcpy(out, raw, n + 1);
        *len = n;
        return true;
    }
    size_t k = 0;
    for (; *p; p++)
        out[k++] = *p == '\\' ? '/' : *p;
    out[k] = '\0';
    *len = k;
    return true;
}

/**
 * Parse a reparse point's value: its tag, a symbolic link's or junction's
 * target translated for the guest, a WOF file's algorithm.
 */
static imgp_status parse_reparse(ntfs_fs *fs, uint64_t record, const uint8_t *buf, size_t len, reparse *r)
{
    imgp_cursor c = imgp_cur_init(buf, len);
    memset(r, 0, sizeof *r);
    r->wof_algorithm = UINT32_MAX;
    r->tag = imgp_cur_le32_at(&c, NTFS_RP_TAG);
    uint16_t dlen = imgp_cur_le16_at(&c, NTFS_RP_DATA_LENGTH);
    if (!imgp_cur_ok(&c) || dlen > len - NTFS_RP_DATA)
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu: reparse point of %zu bytes says %u bytes of data",
                         (unsigned long long)record, len, dlen);
    imgp_cursor d = imgp_cur_init(buf + NTFS_RP_DATA, dlen);
    if (r->tag == NTFS_TAG_WOF) {
        if (imgp_cur_le32_at(&d, NTFS_WOF_PROVIDER) == NTFS_WOF_PROVIDER_FILE)
            r->wof_algorithm = imgp_cur_le32_at(&d, NTFS_WOF_ALGORITHM);
        return IMGP_OK;
    }
    if (r->tag != NTFS_TAG_SYMLINK && r->tag != NTFS_TAG_MOUNT_POINT)
        return IMGP_OK;
    bool symlink = r->tag == NTFS_TAG_SYMLINK;
    size_t paths = symlink ? NTFS_RP_SYMLINK_PATHS : NTFS_RP_MOUNT_POINT_PATHS;
    uint16_t so = imgp_cur_le16_at(&d, NTFS_RP_SUBST_OFFSET), sl = imgp_cur_le16_at(&d, NTFS_RP_SUBST_LENGTH);
    uint16_t po = imgp_cur_le16_at(&d, NTFS_RP_PRINT_OFFSET), pl = imgp_cur_le16_at(&d, NTFS_RP_PRINT_LENGTH);
    uint32_t flags = symlink ? imgp_cur_le32_at(&d, NTFS_RP_SYMLINK_FLAGS) : 0;
    if (!imgp_cur_ok(&d) || paths > dlen)
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu: reparse point 0x%08x truncated",
                         (unsigned long long)record, r->tag);
    size_t room = dlen - paths;
    /* the substitute name is the one to follow; an empty one: the print name */
    if (sl == 0) {
        so = po;
        sl = pl;
    }
    if (sl % 2 || imgp_range_outside(so, sl, room))
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu: reparse point 0x%08x: name at %u of %u bytes "
                         "overruns its %zu bytes of paths", (unsigned long long)record, r->tag, so, sl, room);
    if (!translate_target(buf + NTFS_RP_DATA + paths + so, sl / 2u, flags & NTFS_SYMLINK_RELATIVE, r->target,
                          sizeof r->target, &r->target_len))
        return ntfs_fail(fs, IMGP_ERR_LIMIT, "MFT record %llu: reparse point target longer than 4096 bytes",
                         (unsigned long long)record);
    r->link = true;
    return IMGP_OK;
}

static const char *wof_algorithm_name(uint32_t a)
{
    switch (a) {
    case 0: return "XPRESS4K";
    case 1: return "LZX";
    case 2: return "XPRESS8K";
    case 3: return "XPRESS16K";
    default: return "unknown";
    }
}

/* ---- files ---- */

/* What stat, read and readlink need of a file. */
typedef struct file {
    ntfs_inode in;
    ntfs_record hdr;
    uint32_t attributes; /* $STANDARD_INFORMATION's NTFS_FILE_ATTR_* */
    bool has_reparse;
    reparse rp;
    bool intx;           /* an Interix symbolic link (ntfs-3g's default) */
} file;

static imgp_status read_reparse(ntfs_fs *fs, file *f)
{
    ntfs_stream s;
    imgp_status st = ntfs_stream_open(fs, &f->in, NTFS_AT_REPARSE_POINT, NULL, 0, &s);
    if (st == IMGP_ERR_NOT_FOUND)
        return IMGP_OK;
    if (st != IMGP_OK)
        return st;
    f->has_reparse = true;
    uint8_t *buf = NULL;
    if (s.size < NTFS_RP_DATA || s.size > MAX_REPARSE_BYTES)
        st = ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu: reparse point of %llu bytes (%u..%u)",
                       (unsigned long long)f->in.record, (unsigned long long)s.size, NTFS_RP_DATA, MAX_REPARSE_BYTES);
    else if (!(buf = imgp_alloc(fs->base.ctx, (size_t)s.size)))
        st = IMGP_ERR_NOMEM;
    else if ((st = ntfs_stream_read(fs, f->in.record, &s, 0, buf, (size_t)s.size)) == IMGP_OK)
        st = parse_reparse(fs, f->in.record, buf, (size_t)s.size, &f->rp);
    imgp_free(fs->base.ctx, buf);
    ntfs_stream_free(fs, &s);
    return st;
}

/* ntfs-3g writes symbolic links as Interix ones unless told otherwise: a
 * system file whose data is "IntxLNK\1" and the target in UTF-16LE. */
static imgp_status read_intx(ntfs_fs *fs, file *f)
{
    if (!(f->attributes & NTFS_FILE_ATTR_SYSTEM) || (f->hdr.flags & NTFS_REC_DIRECTORY))
        return IMGP_OK;
    ntfs_stream s;
    imgp_status st = ntfs_stream_open(fs, &f->in, NTFS_AT_DATA, NULL, 0, &s);
    if (st == IMGP_ERR_NOT_FOUND)
        return IMGP_OK;
    if (st != IMGP_OK)
        return st;
    size_t magic = sizeof NTFS_INTX_SYMLINK - 1;
    if (s.size > magic && s.size <= magic + 2 * MAX_INTX_UNITS && (s.size - magic) % 2 == 0 &&
        !(s.flags & (NTFS_ATTR_COMPRESSED | NTFS_ATTR_ENCRYPTED))) {
        uint8_t buf[sizeof NTFS_INTX_SYMLINK - 1 + 2 * MAX_INTX_UNITS];
        if ((st = ntfs_stream_read(fs, f->in.record, &s, 0, buf, (size_t)s.size)) == IMGP_OK &&
            memcmp(buf, NTFS_INTX_SYMLINK, magic) == 0) {
            size_t units = ((size_t)s.size - magic) / 2;
            f->rp.target_len = ntfs_utf16_to_utf8(buf + magic, units, f->rp.target, sizeof f->rp.target);
            f->rp.link = true;
            f->intx = true;
        }
    }
    ntfs_stream_free(fs, &s);
    return st;
}

static imgp_status file_load(ntfs_fs *fs, uint64_t record, file *f, bool links)
{
    memset(f, 0, sizeof *f);
    imgp_status st = ntfs_inode_load(fs, record, &f->in);
    if (st != IMGP_OK)
        return st;
    f->hdr = f->in.hdr;
    const ntfs_attr *si = ntfs_inode_find(&f->in, NTFS_AT_STANDARD_INFORMATION, NULL, 0);
    if (si && si->resident && si->value_len >= NTFS_SI_MIN) {
        imgp_cursor c = imgp_cur_init(si->value, si->value_len);
        f->attributes = imgp_cur_le32_at(&c, NTFS_SI_ATTRIBUTES);
    }
    if (!links)
        return IMGP_OK;
    if ((st = read_reparse(fs, f)) == IMGP_OK && !f->has_reparse)
        st = read_intx(fs, f);
    return st;
}

static imgp_status ntfs_stat(imgp_fs *fsb, imgp_ino ino, imgp_stat *st)
{
    ntfs_fs *fs = (ntfs_fs *)fsb;
    file f;
    imgp_status s = file_load(fs, ino, &f, true);
    if (s != IMGP_OK) {
        ntfs_inode_free(fs, &f.in);
        return s;
    }
    const ntfs_attr *si = ntfs_inode_find(&f.in, NTFS_AT_STANDARD_INFORMATION, NULL, 0);
    if (!si || !si->resident || si->value_len < NTFS_SI_MIN) {
        ntfs_inode_free(fs, &f.in);
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu has no $STANDARD_INFORMATION",
                         (unsigned long long)ino);
    }
    imgp_cursor c = imgp_cur_init(si->value, si->value_len);
    st->ino = ino;
    st->mtime = unix_time(imgp_cur_le64_at(&c, NTFS_SI_MODIFICATION), &st->mtime_nsec);
    st->ctime = unix_time(imgp_cur_le64_at(&c, NTFS_SI_MFT_CHANGE), NULL);
    st->atime = unix_time(imgp_cur_le64_at(&c, NTFS_SI_ACCESS), NULL);
    /* hard links: the names that are not DOS aliases of another */
    for (size_t i = 0; i < f.in.nattrs; i++) {
        const ntfs_attr *a = &f.in.attrs[i];
        if (a->type != NTFS_AT_FILE_NAME || !a->resident)
            continue;
        imgp_cursor fc = imgp_cur_init(a->value, a->value_len);
        uint8_t ns = imgp_cur_u8_at(&fc, NTFS_FN_NAMESPACE);
        if (imgp_cur_ok(&fc) && ns != NTFS_NS_DOS)
            st->nlink++;
    }
    if (st->nlink == 0)
        st->nlink = 1;
    bool dir = f.hdr.flags & NTFS_REC_DIRECTORY;
    if (f.rp.link) {
        st->type = IMGP_FT_SYMLINK;
        st->mode = 0777;
        st->size = f.rp.target_len;
    } else {
        st->type = dir ? IMGP_FT_DIR : IMGP_FT_REG;
        st->mode = dir ? 0755 : 0644;
        if (f.attributes & NTFS_FILE_ATTR_READONLY)
            st->mode &= ~0222u;
        if (!dir) {
            ntfs_stream data;
            s = ntfs_stream_open(fs, &f.in, NTFS_AT_DATA, NULL, 0, &data);
            if (s == IMGP_OK) {
                st->size = data.size;
                if (data.flags & NTFS_ATTR_COMPRESSED)
                    st->flags |= IMGP_STAT_COMPRESSED;
                if (data.flags & NTFS_ATTR_ENCRYPTED)
                    st->flags |= IMGP_STAT_ENCRYPTED;
                if (data.resident)
                    st->flags |= IMGP_STAT_INLINE;
                ntfs_stream_free(fs, &data);
            } else if (s != IMGP_ERR_NOT_FOUND) {
                ntfs_inode_free(fs, &f.in);
                return s;
            }
        }
    }
    if (f.has_reparse && !f.rp.link)
        st->flags |= IMGP_STAT_REPARSE;
    if (f.rp.tag == NTFS_TAG_WOF)
        st->flags |= IMGP_STAT_COMPRESSED;
    if (f.attributes & NTFS_FILE_ATTR_ENCRYPTED)
        st->flags |= IMGP_STAT_ENCRYPTED;
    ntfs_inode_free(fs, &f.in);
    return IMGP_OK;
}

static void forget_data(ntfs_fs *fs)
{
    if (fs->data_valid) {
        ntfs_stream_free(fs, &fs->data);
        ntfs_inode_free(fs, &fs->data_inode);
    }
    fs->data_valid = false;
}

/* The unnamed $DATA of @p record, kept open between reads of the same file. */
static imgp_status open_data(ntfs_fs *fs, uint64_t record)
{
    if (fs->data_valid && fs->data_record == record)
        return IMGP_OK;
    forget_data(fs);
    file f;
    imgp_status st = file_load(fs, record, &f, true);
    if (st == IMGP_OK && f.rp.tag == NTFS_TAG_WOF)
        st = ntfs_fail(fs, IMGP_ERR_UNSUPPORTED, "MFT record %llu is compressed by Windows (WOF/CompactOS, %s in "
                       "its %s stream), which imgprobe does not decompress", (unsigned long long)record,
                       wof_algorithm_name(f.rp.wof_algorithm), NTFS_WOF_STREAM);
    else if (st == IMGP_OK && f.has_reparse && f.rp.tag == NTFS_TAG_DEDUP)
        st = ntfs_fail(fs, IMGP_ERR_UNSUPPORTED, "MFT record %llu is deduplicated (its data lives in the volume's "
                       "chunk store), which imgprobe does not read", (unsigned long long)record);
    if (st == IMGP_OK)
        st = ntfs_stream_open(fs, &f.in, NTFS_AT_DATA, NULL, 0, &fs->data);
    if (st != IMGP_OK) {
        ntfs_inode_free(fs, &f.in);
        return st;
    }
    fs->data_inode = f.in; /* the stream's resident value points into it */
    fs->data_record = record;
    fs->data_valid = true;
    return IMGP_OK;
}

static imgp_status ntfs_read(imgp_fs *fsb, imgp_ino ino, uint64_t off, void *buf, size_t len)
{
    ntfs_fs *fs = (ntfs_fs *)fsb;
    imgp_status st = open_data(fs, ino);
    if (st != IMGP_OK)
        return st;
    if (imgp_range_outside(off, len, fs->data.size))
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu: read past the end of $DATA",
                         (unsigned long long)ino);
    return ntfs_stream_read(fs, ino, &fs->data, off, buf, len);
}

static imgp_status ntfs_readlink(imgp_fs *fsb, imgp_ino ino, char *buf, size_t cap)
{
    ntfs_fs *fs = (ntfs_fs *)fsb;
    file f;
    imgp_status st = file_load(fs, ino, &f, true);
    ntfs_inode_free(fs, &f.in);
    if (st != IMGP_OK)
        return st;
    size_t n = (size_t)imgp_min_u64(f.rp.target_len, cap - 1);
    memcpy(buf, f.rp.target, n);
    buf[n] = '\0';
    return IMGP_OK;
}

/* ---- mount ---- */

static void ntfs_unmount(imgp_fs *f)
{
    ntfs_fs *fs = (ntfs_fs *)f;
    imgp_ctx *ctx = f->ctx;
    forget_data(fs);
    imgp_cache_free(fs->records);
    ntfs_runlist_free(ctx, &fs->mft);
    imgp_free(ctx, fs->upcase);
    imgp_free(ctx, fs->cu_buf);
    imgp_free(ctx, fs->cu_raw);
    imgp_fs_release(f);
    imgp_free(ctx, fs);
}

static imgp_status load_boot(ntfs_fs *fs)
{
    imgp_ctx *ctx = fs->base.ctx;
    imgp_bdev *bd = fs->base.bdev;
    uint8_t buf[NTFS_BOOT_SIZE];
    if (bd->size < NTFS_BOOT_SIZE)
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "device of %llu bytes is too small for a boot sector",
                         (unsigned long long)bd->size);
    imgp_status st = imgp_bdev_read(bd, 0, buf, sizeof buf);
    if (st != IMGP_OK)
        return st;
    if ((st = ntfs_parse_boot(ctx, buf, sizeof buf, &fs->boot)) == IMGP_OK)
        return IMGP_OK;
    char why[IMGP_MSG_MAX];
    snprintf(why, sizeof why, "%s", imgp_ctx_message(ctx));
    if (read_backup_boot(ctx, bd, buf, &fs->boot) != IMGP_OK)
        return imgp_error(ctx, st, "%s (and no backup boot sector at the end of the device)", why);
    const char *w = strncmp(why, "ntfs: ", 6) == 0 ? why + 6 : why;
    return imgp_fs_note(&fs->base, "ntfs: primary boot sector unusable (%s): the backup at the end of the volume "
                        "was read", w);
}

/* $MFT's unnamed $DATA: first from record 0 alone (its first extent maps at
 * least the records its attribute list can name), then whole. */
static imgp_status load_mft(ntfs_fs *fs)
{
    imgp_ctx *ctx = fs->base.ctx;
    const ntfs_boot *b = &fs->boot;
    uint8_t *buf = imgp_alloc(ctx, b->record_size);
    if (!buf)
        return IMGP_ERR_NOMEM;
    uint64_t off = b->mft_lcn << b->cluster_shift;
    imgp_status st = imgp_bdev_read(fs->base.bdev, off, buf, b->record_size);
    if (st != IMGP_OK)
        imgp_error_prefix(ctx, "ntfs: $MFT's record 0 at 0x%llx: ", (unsigned long long)off);
    if (st == IMGP_OK)
        st = ntfs_apply_fixups(ctx, buf, b->record_size, "FILE", "MFT record 0 ($MFT)");
    ntfs_record hdr;
    if (st == IMGP_OK)
        st = ntfs_parse_record(ctx, buf, b->record_size, 0, &hdr);
    const ntfs_attr *data = NULL;
    ntfs_attr a;
    for (size_t at = hdr.attrs_offset; st == IMGP_OK;) {
        bool end;
        if ((st = ntfs_parse_attr(ctx, buf, hdr.bytes_in_use, 0, &at, &a, &end)) != IMGP_OK || end)
            break;
        if (a.type == NTFS_AT_DATA && a.name_len == 0 && !a.resident && a.start_vcn == 0) {
            data = &a;
            break;
        }
    }
    size_t max_runs = (size_t)imgp_min_u64(imgp_ctx_limit(ctx, IMGP_LIMIT_TABLE_BYTES) / sizeof(ntfs_run), SIZE_MAX);
    if (st == IMGP_OK && !data)
        st = ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record 0 ($MFT) has no non-resident $DATA");
    if (st == IMGP_OK)
        st = ntfs_decode_runs(ctx, data, b->total_clusters, max_runs, &fs->mft);
    uint64_t init = data && st == IMGP_OK ? imgp_min_u64(data->initialized_size, data->data_size) : 0;
    imgp_free(ctx, buf);
    if (st != IMGP_OK)
        return st;
    if (fs->mft.n == 0)
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "$MFT's data runs are empty");
    const ntfs_run *last = &fs->mft.runs[fs->mft.n - 1];
    if (last->vcn + last->len > UINT64_MAX >> b->cluster_shift)
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "$MFT maps %llu clusters", (unsigned long long)(last->vcn + last->len));
    fs->mft_records = init / b->record_size;
    if ((st = imgp_cache_new(ctx, b->record_size, RECORD_CACHE_SLOTS, &fs->records)) != IMGP_OK)
        return st;
    ntfs_inode in;
    if ((st = ntfs_inode_load(fs, NTFS_MFT_RECORD, &in)) == IMGP_OK) {
        ntfs_stream s;
        if ((st = ntfs_stream_open(fs, &in, NTFS_AT_DATA, NULL, 0, &s)) == IMGP_OK) {
            if (s.resident || s.rl.n == 0) {
                st = ntfs_fail(fs, IMGP_ERR_CORRUPT, "$MFT's $DATA is resident");
                ntfs_stream_free(fs, &s);
            } else {
                ntfs_runlist_free(ctx, &fs->mft);
                fs->mft = s.rl;
                fs->mft_records = s.initialized_size / b->record_size;
            }
        }
    }
    ntfs_inode_free(fs, &in);
    return st;
}

/* Read a whole small stream of @p record into a new buffer of its size. */
static imgp_status read_small(ntfs_fs *fs, uint64_t record, uint32_t type, uint64_t max, uint8_t **out,
                              size_t *len)
{
    *out = NULL;
    *len = 0;
    ntfs_inode in;
    ntfs_stream s = {0};
    imgp_status st = ntfs_inode_load(fs, record, &in);
    if (st == IMGP_OK)
        st = ntfs_stream_open(fs, &in, type, NULL, 0, &s);
    if (st == IMGP_OK && s.size > max)
        st = ntfs_fail(fs, IMGP_ERR_CORRUPT, "MFT record %llu: attribute 0x%x of %llu bytes (at most %llu)",
                       (unsigned long long)record, type, (unsigned long long)s.size, (unsigned long long)max);
    if (st == IMGP_OK && !(*out = imgp_alloc(fs->base.ctx, s.size ? (size_t)s.size : 1)))
        st = IMGP_ERR_NOMEM;
    if (st == IMGP_OK && (st = ntfs_stream_read(fs, record, &s, 0, *out, (size_t)s.size)) == IMGP_OK)
        *len = (size_t)s.size;
    ntfs_stream_free(fs, &s);
    ntfs_inode_free(fs, &in);
    if (st != IMGP_OK) {
        imgp_free(fs->base.ctx, *out);
        *out = NULL;
    }
    return st;
}

/* $UpCase: 65536 UTF-16 units, the upper case of each. Without it (damaged),
 * a built-in table of the common scripts, with a note. */
static imgp_status load_upcase(ntfs_fs *fs)
{
    fs->upcase = imgp_alloc(fs->base.ctx, UPCASE_UNITS * sizeof *fs->upcase);
    if (!fs->upcase)
        return IMGP_ERR_NOMEM;
    uint8_t *raw;
    size_t len;
    imgp_status st = read_small(fs, NTFS_UPCASE_RECORD, NTFS_AT_DATA, 2 * UPCASE_UNITS, &raw, &len);
    if (st == IMGP_OK && len == 2 * UPCASE_UNITS) {
        for (size_t i = 0; i < UPCASE_UNITS; i++)
            fs->upcase[i] = (uint16_t)(raw[2 * i] | raw[2 * i + 1] << 8);
        imgp_free(fs->base.ctx, raw);
        return IMGP_OK;
    }
    imgp_free(fs->base.ctx, raw);
    if (st == IMGP_ERR_NOMEM)
        return st;
    for (size_t i = 0; i < UPCASE_UNITS; i++)
        fs->upcase[i] = ntfs_upcase_builtin((uint16_t)i);
    return imgp_fs_note(&fs->base, "ntfs: $UpCase unusable (%s): names are compared with a built-in table",
                        st == IMGP_OK ? "not 128 KiB" : imgp_ctx_message(fs->base.ctx));
}

/* $Volume: the label, the NTFS version and the dirty flag. */
static imgp_status load_volume(ntfs_fs *fs)
{
    ntfs_inode in;
    imgp_status st = ntfs_inode_load(fs, NTFS_VOLUME_RECORD, &in);
    if (st != IMGP_OK) {
        ntfs_inode_free(fs, &in);
        return st;
    }
    const ntfs_attr *name = ntfs_inode_find(&in, NTFS_AT_VOLUME_NAME, NULL, 0);
    if (name && name->resident)
        ntfs_utf16_to_utf8(name->value, name->value_len / 2, fs->label, sizeof fs->label);
    const ntfs_attr *vi = ntfs_inode_find(&in, NTFS_AT_VOLUME_INFORMATION, NULL, 0);
    if (vi && vi->resident && vi->value_len >= NTFS_VI_SIZE) {
        imgp_cursor c = imgp_cur_init(vi->value, vi->value_len);
        fs->major = imgp_cur_u8_at(&c, NTFS_VI_MAJOR);
        fs->minor = imgp_cur_u8_at(&c, NTFS_VI_MINOR);
        fs->volume_flags = imgp_cur_le16_at(&c, NTFS_VI_FLAGS);
    }
    ntfs_inode_free(fs, &in);
    if (!vi)
        return imgp_fs_note(&fs->base, "ntfs: $Volume has no $VOLUME_INFORMATION: version and state unknown");
    if (fs->major < 3)
        st = imgp_fs_note(&fs->base, "ntfs: NTFS version %u.%u (Windows NT 4 or older)", fs->major, fs->minor);
    if (st == IMGP_OK && (fs->volume_flags & NTFS_VOLUME_DIRTY))
        st = imgp_fs_note(&fs->base, "ntfs: the volume is marked dirty (not cleanly unmounted, or chkdsk is "
                          "pending): the latest changes may be missing");
    return st;
}

/* hiberfil.sys starts with "hibr"/"HIBR" while it holds a hibernated system
 * (Windows 8 and later also after a Fast Startup shutdown), "wake" once
 * resumed, "RSTR" while a resume is under way; zeros when unused. */
static imgp_status check_hiberfil(ntfs_fs *fs)
{
    imgp_ctx *ctx = fs->base.ctx;
    saved_error e;
    save_error(ctx, &e);
    imgp_ino ino;
    uint8_t sig[4] = {0};
    imgp_status st = ntfs_lookup(&fs->base, NTFS_ROOT_RECORD, NTFS_HIBERFIL, sizeof NTFS_HIBERFIL - 1, &ino);
    if (st == IMGP_OK && (st = open_data(fs, ino)) == IMGP_OK && fs->data.size >= sizeof sig)
        st = ntfs_stream_read(fs, ino, &fs->data, 0, sig, sizeof sig);
    forget_data(fs);
    if (st == IMGP_ERR_NOMEM || st == IMGP_ERR_IO)
        return st;
    if (st != IMGP_OK && st != IMGP_ERR_NOT_FOUND) {
        char why[IMGP_MSG_MAX];
        snprintf(why, sizeof why, "%s", imgp_ctx_message(ctx));
        restore_error(ctx, &e);
        return imgp_fs_note(&fs->base, "ntfs: hiberfil.sys cannot be read (%s): whether Windows is hibernated is "
                            "unknown", strncmp(why, "ntfs: ", 6) == 0 ? why + 6 : why);
    }
    restore_error(ctx, &e); /* no hiberfil.sys: nothing to say */
    if (st != IMGP_OK)
        return IMGP_OK;
    if (memcmp(sig, "hibr", 4) == 0 || memcmp(sig, "HIBR", 4) == 0)
        return imgp_fs_note(&fs->base, "ntfs: hiberfil.sys holds a hibernated system ('%.4s'): Windows was "
                            "hibernated or shut down with Fast Startup, so the volume is not safe to import",
                            (const char *)sig);
    if (memcmp(sig, "RSTR", 4) == 0)
        return imgp_fs_note(&fs->base, "ntfs: hiberfil.sys says a resume from hibernation is under way ('RSTR'): "
                            "the volume is not safe to import");
    return IMGP_OK;
}

static imgp_status mount_fs(ntfs_fs *fs)
{
    imgp_status st = load_boot(fs);
    if (st == IMGP_OK) {
        uint64_t bytes = fs->boot.total_sectors * fs->boot.sector_size;
        if (bytes > fs->base.bdev->size)
            st = imgp_fs_note(&fs->base, "ntfs: the volume has %llu bytes but its device %llu (truncated?)",
                              (unsigned long long)bytes, (unsigned long long)fs->base.bdev->size);
    }
    if (st == IMGP_OK)
        st = load_mft(fs);
    if (st == IMGP_OK)
        st = load_upcase(fs);
    if (st == IMGP_OK)
        st = load_volume(fs);
    if (st != IMGP_OK)
        return st;

    ntfs_inode root;
    st = ntfs_inode_load(fs, NTFS_ROOT_RECORD, &root);
    bool dir = root.hdr.flags & NTFS_REC_DIRECTORY;
    ntfs_inode_free(fs, &root);
    if (st != IMGP_OK)
        return st;
    if (!dir)
        return ntfs_fail(fs, IMGP_ERR_CORRUPT, "the root directory (MFT record %u) is not a directory",
                         NTFS_ROOT_RECORD);
    if ((st = check_hiberfil(fs)) != IMGP_OK)
        return st;

    snprintf(fs->serial, sizeof fs->serial, "%016llx", (unsigned long long)fs->boot.serial);
    imgp_fs_info *info = &fs->base.info;
    info->type = "ntfs";
    info->label = fs->label[0] ? fs->label : NULL;
    info->uuid = fs->serial;
    info->block_size = fs->boot.cluster_size;
    info->total_bytes = fs->boot.total_sectors * fs->boot.sector_size;
    info->free_bytes = 0; /* $Bitmap is not counted */
    info->case_insensitive = true;
    info->root = NTFS_ROOT_RECORD;
    return IMGP_OK;
}

static imgp_status ntfs_mount(imgp_ctx *ctx, imgp_bdev *bd, imgp_fs **out)
{
    ntfs_fs *fs = imgp_calloc(ctx, 1, sizeof *fs);
    if (!fs)
        return IMGP_ERR_NOMEM;
    fs->base.drv = &imgp_fs_ntfs;
    fs->base.ctx = ctx;
    fs->base.bdev = bd;
    imgp_status st = mount_fs(fs);
    if (st != IMGP_OK) {
        ntfs_unmount(&fs->base);
        return st;
    }
    *out = &fs->base;
    return IMGP_OK;
}

const imgp_fs_driver imgp_fs_ntfs = {
    .name = "ntfs",
    .probe = ntfs_probe,
    .probe_deep = ntfs_probe_deep,
    .mount = ntfs_mount,
    .stat = ntfs_stat,
    .readdir = ntfs_readdir,
    .read = ntfs_read,
    .readlink = ntfs_readlink,
    .lookup = ntfs_lookup,
    .unmount = ntfs_unmount,
};
