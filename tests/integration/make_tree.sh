#!/bin/bash
# make_tree.sh DIR: build the source tree the filesystem proofs (ext2/3/4
# now; XFS and NTFS later) write into an image and read back with imgprobe.
#
#   deep/d01/.../d20/bottom     directories 20 deep, a file at the bottom
#   big/                        20,000 empty files (an htree directory in ext4)
#   names/                      names of 1 and 255 bytes, UTF-8 names
#   files/                      sizes 0, 1, 100, 4095, 4096, 4097, 1 MiB (random),
#                               a 2 GiB sparse file with 4 KiB of data at its end,
#                               a 36 MiB file of holes ending on block-map boundaries,
#                               setuid and read-only modes
#   links/                      symlinks: fast and slow (60 bytes or more),
#                               relative and absolute, dangling, a loop; hard links
#   small/                      a directory of two entries (inline in inline_data)
#   special/                    a FIFO and a socket; character and block devices
#                               when run as root (mknod)
#   sticky/                     a directory with mode 1777
#
# Names never contain " -> " or a newline, so `ls -l` output parses.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: make_tree.sh DIR" >&2; exit 2; }
dir=$1
mkdir -p "$dir"
command -v python3 >/dev/null || { echo "make_tree.sh: python3 is needed" >&2; exit 77; }

python3 - "$dir" <<'EOF'
import os, random, socket, stat, sys

root = sys.argv[1]
rng = random.Random(20240601)  # same tree every run

def path(*p):
    return os.path.join(root, *p)

def write(rel, data, mode=0o644):
    p = path(rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'wb') as f:
        f.write(data)
    os.chmod(p, mode)

def rand(n):
    return rng.getrandbits(8 * n).to_bytes(n, 'little') if n else b''

# directories 20 deep
deep = 'deep/' + '/'.join('d%02d' % i for i in range(1, 21))
os.makedirs(path(deep))
write(deep + '/bottom', b'at the bottom\n')

# a directory of 20,000 entries
os.makedirs(path('big'))
for i in range(20000):
    open(path('big', 'entry-%05d' % i), 'wb').close()

# names
write('names/a', b'one byte name\n')
write('names/' + 'n' * 255, b'255 byte name\n')
for n in ['héllo wörld', '日本語のファイル', 'emoji-😀-ok', 'Ünïcödé Ωμέγα', 'кириллица']:
    write('names/' + n, n.encode() + b'\n')

# file sizes
for n in [0, 1, 100, 4095, 4096, 4097]:
    write('files/size-%d' % n, rand(n))
write('files/random-1M', rand(1 << 20))
write('files/setuid', b'#!/bin/sh\n', 0o4755)
write('files/readonly', b'read only\n', 0o400)
# holes whose ends fall on block-map boundaries: a whole indirect block's
# worth of hole, then data at the first block of the next one (1 KiB blocks:
# an indirect block maps 256 KiB past the 12 direct ones; 4 KiB: 4 MiB).
# It ends with data: mke2fs -d with inline_data drops a trailing hole.
with open(path('files/holes-36M'), 'wb') as f:
    for first, span in ((12 << 10, 256 << 10), (48 << 10, 4 << 20)):
        for off in range(first, (36 << 20) - 4096, 2 * span):
            f.seek(off)
            f.write(rand(4096))
    f.seek((36 << 20) - 4096)
    f.write(rand(4096))
sparse = path('files/sparse-2G')
with open(sparse, 'wb') as f:
    f.truncate(2 << 30)
    f.seek((2 << 30) - 4096)
    f.write(rand(4096))

# symlinks: fast (< 60 bytes) and slow, relative and absolute
os.makedirs(path('links'))
os.symlink('../files/size-1', path('links/fast-relative'))
os.symlink('/files/size-4097', path('links/fast-absolute'))
os.symlink('../' + deep + '/bottom', path('links/slow-relative'))
os.symlink('/' + deep + '/bottom', path('links/slow-absolute'))
os.symlink('../deep/d01', path('links/to-directory'))
os.symlink('does/not/exist', path('links/dangling'))
os.symlink('loop-b', path('links/loop-a'))
os.symlink('loop-a', path('links/loop-b'))
os.symlink('x' * 200 + '/' + 'y' * 200, path('links/long-dangling'))
# hard links: three names, one inode
write('links/hard-1', b'three names, one file\n')
os.link(path('links/hard-1'), path('links/hard-2'))
os.link(path('links/hard-1'), path('files/hard-3'))

# a small directory (inline with inline_data)
write('small/x', b'x\n')
write('small/y', b'')

# special files
os.makedirs(path('special'))
os.mkfifo(path('special/fifo'))
s = socket.socket(socket.AF_UNIX)
s.bind(path('special/socket'))
s.close()
if os.geteuid() == 0:
    os.mknod(path('special/null'), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(path('special/loop0'), 0o660 | stat.S_IFBLK, os.makedev(7, 0))
    os.mknod(path('special/big-numbers'), 0o600 | stat.S_IFCHR, os.makedev(1234, 567890))

os.makedirs(path('sticky'))
os.chmod(path('sticky'), 0o1777)
EOF
