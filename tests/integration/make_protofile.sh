#!/bin/bash
# make_protofile.sh DIR: print an `mkfs.xfs -p` protofile that copies the
# tree DIR (as make_tree.sh builds it) into a new XFS filesystem.
#
# What a protofile cannot say is left out, and the tests that use it leave it
# out of their comparison by the same rules:
#   - names with blanks (the format splits on whitespace);
#   - sockets (xfsprogs 6.1 has no socket type);
#   - regular files of 1 GiB or more (mkfs.xfs writes every byte of a file,
#     holes included: a 2 GiB sparse file would take 2 GiB);
#   - the sticky bit (the mode field has three octal digits), hard links (each
#     name becomes its own inode), timestamps and owners (uid/gid 0, now).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: make_protofile.sh DIR" >&2; exit 2; }
command -v python3 >/dev/null || { echo "make_protofile.sh: python3 is needed" >&2; exit 77; }
python3 - "$1" <<'PY'
import os, stat, sys

root = os.path.abspath(sys.argv[1])
out = sys.stdout.buffer

def mode_field(kind, st):
    m = st.st_mode
    return ('%s%s%s%03o' % (kind, 'u' if m & stat.S_ISUID else '-', 'g' if m & stat.S_ISGID else '-',
                            m & 0o777)).encode()

def representable(name, st):
    if any(c.isspace() for c in name.decode('utf-8', 'surrogateescape')):
        return False
    if stat.S_ISSOCK(st.st_mode):
        return False
    return not (stat.S_ISREG(st.st_mode) and st.st_size >= 1 << 30)

def emit_dir(path, depth):
    for name in sorted(os.listdir(path.encode())):
        p = os.path.join(path.encode(), name)
        st = os.lstat(p)
        if not representable(name, st):
            continue
        ind = b' ' * depth
        m = st.st_mode
        if stat.S_ISDIR(m):
            out.write(ind + name + b' ' + mode_field('d', st) + b' 0 0\n')
            emit_dir(p.decode('utf-8', 'surrogateescape'), depth + 1)
            out.write(ind + b'$\n')
        elif stat.S_ISREG(m):
            out.write(ind + name + b' ' + mode_field('-', st) + b' 0 0 ' + p + b'\n')
        elif stat.S_ISLNK(m):
            out.write(ind + name + b' ' + mode_field('l', st) + b' 0 0 ' + os.readlink(p) + b'\n')
        elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
            kind = 'c' if stat.S_ISCHR(m) else 'b'
            out.write(ind + name + b' ' + mode_field(kind, st) +
                      b' 0 0 %d %d\n' % (os.major(st.st_rdev), os.minor(st.st_rdev)))
        elif stat.S_ISFIFO(m):
            out.write(ind + name + b' ' + mode_field('p', st) + b' 0 0\n')

out.write(b'/dev/null\n0 0\n')
out.write(mode_field('d', os.lstat(root)) + b' 0 0\n')
emit_dir(root, 1)
out.write(b'$\n')
PY
