/*
 * ntfs_gen IMAGE < COMMANDS: populate an NTFS image (made by mkntfs) through
 * libntfs-3g, without FUSE, for tests/integration/ntfs_tree.sh. Test-only:
 * the script compiles it when the ntfs-3g headers are installed.
 *
 * One command a line, fields separated by a tab:
 *   dir PATH                      a directory
 *   cdir PATH                     a directory whose new files are compressed (LZNT1)
 *   file PATH HOSTFILE            a file with HOSTFILE's bytes; 64 KiB of zeros
 *                                 are skipped (left as holes), the size set at the end
 *   many DIR COUNT                COUNT empty files DIR/entry-00000...
 *   link PATH NEWPATH             a hard link
 *   dosname PATH SHORT            give PATH an 8.3 short name (its long name becomes Win32)
 *   symlink PATH SUBST FLAGS      a symbolic link reparse point (FLAGS 1: relative)
 *   junction PATH SUBST           a directory that is a mount point reparse point
 *   intx PATH TARGET              an Interix symbolic link (ntfs-3g's own kind)
 *   wof PATH SIZE                 a file of SIZE bytes of holes with a WOF reparse point (LZX)
 *   stream PATH NAME HOSTFILE     a named data stream
 *   frag PATH HOSTFILE            as file, but every 4 KiB of zeros is a hole: a host
 *                                 file of alternating data and zeros gives a runlist
 *                                 too long for one record ($ATTRIBUTE_LIST)
 *   readonly PATH                 set FILE_ATTRIBUTE_READONLY
 * Paths are absolute, UTF-8. Exit 0, or 1 with a message naming the line.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/reparse.h>
#include <ntfs-3g/security.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

static ntfs_volume *vol;
static int lineno;

static void die(const char *what, const char *path)
{
    fprintf(stderr, "ntfs_gen: line %d: %s %s: %s\n", lineno, what, path, strerror(errno));
    exit(1);
}

/* Split "/a/b/c" into the parent's inode and the last name (UTF-16). */
static ntfs_inode *parent_of(const char *path, ntfschar **name, int *len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        die("not absolute:", path);
    char *dir = strndup(path, (size_t)(slash - path));
    ntfs_inode *d = ntfs_pathname_to_inode(vol, NULL, dir[0] ? dir : "/");
    free(dir);
    if (!d)
        die("no parent directory for", path);
    *name = NULL;
    *len = ntfs_mbstoucs(slash + 1, name);
    if (*len <= 0)
        die("bad name", path);
    return d;
}

static ntfs_inode *open_path(const char *path)
{
    ntfs_inode *ni = ntfs_pathname_to_inode(vol, NULL, path);
    if (!ni)
        die("cannot open", path);
    return ni;
}

static ntfs_inode *create(const char *path, mode_t type)
{
    ntfschar *name;
    int len;
    ntfs_inode *d = parent_of(path, &name, &len);
    ntfs_inode *ni = ntfs_create(d, const_cpu_to_le32(0), name, (u8)len, type);
    if (!ni)
        die("cannot create", path);
    ntfs_ucsfree(name);
    ntfs_inode_close(d);
    return ni;
}

static void write_stream(ntfs_inode *ni, ntfschar *sname, int slen, const char *host, const char *path, size_t hole)
{
    int fd = open(host, O_RDONLY);
    if (fd < 0)
        die("cannot read", host);
    if (sname && ntfs_attr_add(ni, AT_DATA, sname, (u32)slen, NULL, 0))
        die("cannot add a stream to", path);
    ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, sname ? sname : AT_UNNAMED, sname ? (u32)slen : 0);
    if (!na)
        die("cannot open $DATA of", path);
    static char buf[65536], zero[65536];
    s64 off = 0;
    ssize_t n;
    while ((n = read(fd, buf, hole)) > 0) {
        if (!(n == (ssize_t)hole && memcmp(buf, zero, hole) == 0)) {
            if (ntfs_attr_pwrite(na, off, n, buf) != n)
                die("short write to", path);
        }
        off += n;
    }
    if (na->data_size < off && ntfs_attr_truncate(na, off))
        die("cannot set the size of", path);
    ntfs_attr_close(na);
    close(fd);
}

/* [MS-FSCC] 2.1.2.4/2.1.2.5: a reparse buffer with the substitute name and
 * the same as print name. */
static void set_link(ntfs_inode *ni, uint32_t tag, const char *subst, int flags, const char *path)
{
    ntfschar *u = NULL;
    int ulen = ntfs_mbstoucs(subst, &u);
    if (ulen < 0)
        die("bad target for", path);
    size_t bytes = (size_t)ulen * 2, hdr = tag == 0xA000000Cu ? 12 : 8;
    size_t dlen = hdr + 2 * bytes + (tag == 0xA0000003u ? 4 : 0); /* junctions: NUL after each name */
    unsigned char *b = calloc(1, 8 + dlen);
    b[0] = (unsigned char)tag, b[1] = (unsigned char)(tag >> 8), b[2] = (unsigned char)(tag >> 16);
    b[3] = (unsigned char)(tag >> 24);
    b[4] = (unsigned char)dlen, b[5] = (unsigned char)(dlen >> 8);
    size_t print_off = bytes + (tag == 0xA0000003u ? 2 : 0);
    unsigned char *d = b + 8;
    d[0] = 0, d[1] = 0;
    d[2] = (unsigned char)bytes, d[3] = (unsigned char)(bytes >> 8);
    d[4] = (unsigned char)print_off, d[5] = (unsigned char)(print_off >> 8);
    d[6] = (unsigned char)bytes, d[7] = (unsigned char)(bytes >> 8);
    if (hdr == 12)
        d[8] = (unsigned char)flags;
    memcpy(d + hdr, u, bytes);
    memcpy(d + hdr + print_off, u, bytes);
    if (ntfs_set_ntfs_reparse_data(ni, (const char *)b, 8 + dlen, 0))
        die("cannot set the reparse point of", path);
    free(b);
    ntfs_ucsfree(u);
}

static void set_attrib(ntfs_inode *ni, u32 add, const char *path)
{
    u32 attr = le32_to_cpu(ni->flags) | add;
    le32 v = cpu_to_le32(attr);
    if (ntfs_set_ntfs_attrib(ni, (const char *)&v, sizeof v, 0))
        die("cannot set the attributes of", path);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: ntfs_gen IMAGE < COMMANDS\n");
        return 2;
    }
    setlocale(LC_ALL, "C.UTF-8");
    vol = ntfs_mount(argv[1], NTFS_MNT_NONE);
    if (!vol)
        die("cannot mount", argv[1]);
    NVolSetCompression(vol);
    char line[8192];
    while (fgets(line, sizeof line, stdin)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        char *f[4] = {0};
        int nf = 0;
        for (char *p = line; p && nf < 4; nf++) {
            f[nf] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = '\0';
        }
        if (nf == 0 || !f[0][0])
            continue;
        const char *cmd = f[0], *path = f[1] ? f[1] : "";
        if (!strcmp(cmd, "dir") || !strcmp(cmd, "cdir")) {
            ntfs_inode *ni = create(path, S_IFDIR);
            if (!strcmp(cmd, "cdir"))
                set_attrib(ni, 0x800 /* FILE_ATTRIBUTE_COMPRESSED */, path);
            ntfs_inode_close(ni);
        } else if (!strcmp(cmd, "file") && f[2]) {
            ntfs_inode *ni = create(path, S_IFREG);
            write_stream(ni, NULL, 0, f[2], path, 65536);
            ntfs_inode_close(ni);
        } else if (!strcmp(cmd, "many") && f[2]) {
            ntfs_inode *d = open_path(path);
            long count = strtol(f[2], NULL, 10);
            for (long i = 0; i < count; i++) {
                char name[32];
                snprintf(name, sizeof name, "entry-%05ld", i);
                ntfschar *u = NULL;
                int len = ntfs_mbstoucs(name, &u);
                ntfs_inode *ni = ntfs_create(d, const_cpu_to_le32(0), u, (u8)len, S_IFREG);
                if (!ni)
                    die("cannot create an entry in", path);
                ntfs_inode_close_in_dir(ni, d);
                ntfs_ucsfree(u);
            }
            ntfs_inode_close(d);
        } else if (!strcmp(cmd, "link") && f[2]) {
            ntfs_inode *ni = open_path(path);
            ntfschar *name;
            int len;
            ntfs_inode *d = parent_of(f[2], &name, &len);
            if (ntfs_link(ni, d, name, (u8)len))
                die("cannot link", f[2]);
            ntfs_ucsfree(name);
            ntfs_inode_close_in_dir(ni, d);
            ntfs_inode_close(d);
        } else if (!strcmp(cmd, "dosname") && f[2]) {
            ntfs_inode *ni = open_path(path);
            ntfschar *name;
            int len;
            ntfs_inode *d = parent_of(path, &name, &len);
            ntfs_ucsfree(name);
            if (ntfs_set_ntfs_dos_name(ni, d, f[2], strlen(f[2]), 0)) /* closes both */
                die("cannot set the short name of", path);
        } else if (!strcmp(cmd, "symlink") && f[2] && f[3]) {
            ntfs_inode *ni = create(path, S_IFREG);
            set_link(ni, 0xA000000Cu, f[2], atoi(f[3]), path);
            ntfs_inode_close(ni);
        } else if (!strcmp(cmd, "junction") && f[2]) {
            ntfs_inode *ni = create(path, S_IFDIR);
            set_link(ni, 0xA0000003u, f[2], 0, path);
            ntfs_inode_close(ni);
        } else if (!strcmp(cmd, "intx") && f[2]) {
            ntfschar *name, *target = NULL;
            int len;
            ntfs_inode *d = parent_of(path, &name, &len);
            int tlen = ntfs_mbstoucs(f[2], &target);
            ntfs_inode *ni = ntfs_create_symlink(d, const_cpu_to_le32(0), name, (u8)len, target, tlen);
            if (!ni)
                die("cannot create the symlink", path);
            ntfs_inode_close(ni);
            ntfs_inode_close(d);
            ntfs_ucsfree(name);
            ntfs_ucsfree(target);
        } else if (!strcmp(cmd, "wof") && f[2]) {
            ntfs_inode *ni = create(path, S_IFREG);
            ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
            if (!na || ntfs_attr_truncate(na, strtoll(f[2], NULL, 10)))
                die("cannot size", path);
            ntfs_attr_close(na);
            /* WOF_EXTERNAL_INFO {1, provider 2}, FILE_PROVIDER_EXTERNAL_INFO_V1 {1, LZX} */
            unsigned char rp[8 + 16] = {0x17, 0, 0, 0x80, 16, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
            if (ntfs_set_ntfs_reparse_data(ni, (const char *)rp, sizeof rp, 0))
                die("cannot set the reparse point of", path);
            ntfs_inode_close(ni);
        } else if (!strcmp(cmd, "frag") && f[2]) {
            ntfs_inode *ni = create(path, S_IFREG);
            write_stream(ni, NULL, 0, f[2], path, 4096);
            ntfs_inode_close(ni);
        } else if (!strcmp(cmd, "stream") && f[2] && f[3]) {
            ntfs_inode *ni = open_path(path);
            ntfschar *sname = NULL;
            int slen = ntfs_mbstoucs(f[2], &sname);
            write_stream(ni, sname, slen, f[3], path, 65536);
            ntfs_ucsfree(sname);
            ntfs_inode_close(ni);
        } else if (!strcmp(cmd, "readonly")) {
            ntfs_inode *ni = open_path(path);
            set_attrib(ni, 0x1, path);
            ntfs_inode_close(ni);
        } else {
            errno = EINVAL;
            die("unknown command", cmd);
        }
    }
    if (ntfs_umount(vol, FALSE))
        die("cannot unmount", argv[1]);
    return 0;
}
