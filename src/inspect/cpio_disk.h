/*
 * The cpio "newc" header, as the Linux initramfs uses it.
 *
 * Sources: Documentation/driver-api/early-userspace/buffer-format.rst (the
 * kernel's own description, "Initramfs buffer format"), and cpio(5) ("New
 * ASCII Format", libarchive's and GNU cpio's manuals). Every field after the
 * magic is 8 ASCII hexadecimal digits holding a 32-bit value; the header is
 * followed by the name (c_namesize bytes including its NUL), padded so that
 * header + name end on a 4-byte boundary, then c_filesize bytes of data,
 * padded to a 4-byte boundary. A symlink's data is its target. The archive
 * ends with an entry named "TRAILER!!!".
 *
 *   offset size field        meaning
 *        0    6 c_magic      "070701", or "070702" when c_check holds a checksum
 *        6    8 c_ino        inode number (hard links share it)
 *       14    8 c_mode       st_mode: file type bits and permissions
 *       22    8 c_uid
 *       30    8 c_gid
 *       38    8 c_nlink
 *       46    8 c_mtime      seconds since the epoch
 *       54    8 c_filesize   bytes of data after the name
 *       62    8 c_maj        device the file came from
 *       70    8 c_min
 *       78    8 c_rmaj       for a device node, the device it names
 *       86    8 c_rmin
 *       94    8 c_namesize   bytes of the name including its NUL
 *      102    8 c_chksum     070702: the sum of the data bytes (mod 2^32); else 0
 *      110      (end)
 */
#ifndef IMGP_INSPECT_CPIO_DISK_H
#define IMGP_INSPECT_CPIO_DISK_H

#define CPIO_HEADER_SIZE 110
#define CPIO_MAGIC_LEN 6
#define CPIO_FIELD_LEN 8
#define CPIO_FIELDS 13          /* the 8-digit fields after the magic */

#define CPIO_OFF_MAGIC 0
#define CPIO_OFF_INO 6
#define CPIO_OFF_MODE 14
#define CPIO_OFF_UID 22
#define CPIO_OFF_GID 30
#define CPIO_OFF_NLINK 38
#define CPIO_OFF_MTIME 46
#define CPIO_OFF_FILESIZE 54
#define CPIO_OFF_DEVMAJOR 62
#define CPIO_OFF_DEVMINOR 70
#define CPIO_OFF_RDEVMAJOR 78
#define CPIO_OFF_RDEVMINOR 86
#define CPIO_OFF_NAMESIZE 94
#define CPIO_OFF_CHECK 102

#define CPIO_MAGIC_NEWC "070701"
#define CPIO_MAGIC_NEWC_CRC "070702"
#define CPIO_MAGIC_ODC "070707"  /* old portable ASCII format: the kernel refuses it */
#define CPIO_TRAILER "TRAILER!!!"

/* Padding: headers start on 4-byte boundaries; header + name, and data, are padded to one. */
#define CPIO_ALIGN 4

/* Longest name and symlink target the kernel unpacks (PATH_MAX, counting the name's NUL). */
#define CPIO_PATH_MAX 4096

/* st_mode type bits (the values are the same on every Linux architecture) */
#define CPIO_S_IFMT 0170000u
#define CPIO_S_IFREG 0100000u
#define CPIO_S_IFLNK 0120000u
#define CPIO_S_IFDIR 0040000u

#endif
