#!/bin/bash
# XFS read back through the whole stack. make_tree.sh builds the source tree
# (plus dirs/leaf and dirs/node, sized to make leaf and node directories);
# make_protofile.sh turns it into an `mkfs.xfs -p` protofile, written in
# variants: defaults (v5, CRCs), -m crc=0 (v4), -b size=1024, -n size=65536
# (with nrext64: 64-bit extent counts in the inodes),
# -m crc=0 -n ftype=0 (ftype=0 needs a v4 filesystem: mkfs.xfs 6.1 refuses it
# with CRCs). Where the kernel mounts XFS v5 from a loop device, the v5
# variants also get frag/: a file written every other block (thousands of
# extents: a btree-format fork two levels deep), a file fallocated then
# written in the middle (unwritten extents) and a 2 GiB sparse file, which a
# protofile cannot make (mkfs.xfs 6.1 writes every byte of a file, holes
# included).
#
# Each filesystem goes into an MBR partition of a VMDK (sfdisk on a raw file,
# dd at 1 MiB, qemu-img convert -O vmdk); the default one also onto an LVM LV
# (created without activation; lvs says where it lies). imgprobe `ls -R -l`,
# `ls -R` and `cat` must give back the tree: names, types, modes, sizes,
# symlink targets, device numbers and content digests, minus what a protofile
# cannot say (make_protofile.sh). xfs_db is the oracle that the fixtures hold
# every directory form (shortform, block, leaf, node, btree) and data fork
# form (local, extents, btree) the driver reads. Then: a dirty log (a
# warning, as xfs_logprint sees it), an inode CRC mismatch (a warning), an
# incompatible feature refused by name, an inode number past agcount.
set -euo pipefail
: "${IMGPROBE:?}" "${SRCDIR:?}"
for tool in mkfs.xfs xfs_db xfs_logprint sfdisk qemu-img python3; do
    command -v "$tool" >/dev/null || { echo "skip: $tool not installed"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/xfs_tree.XXXXXX")
mnt=
cleanup() {
    [ -n "$mnt" ] && mountpoint -q "$mnt" && umount "$mnt"
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T"

bash "$SRCDIR/tests/integration/make_tree.sh" src
rm src/files/sparse-2G # 2 GiB through a protofile: the mounted frag/ has one
python3 - <<'EOF'
import os
# a leaf directory (several data blocks, one leaf block) and a node one (more
# hash entries than a leaf block holds), at every block size used here
for name, n in (('leaf', 120), ('node', 1500)):
    os.makedirs('src/dirs/' + name)
    for i in range(n):
        open('src/dirs/%s/file-with-a-longer-name-%05d' % (name, i), 'wb').close()
EOF
bash "$SRCDIR/tests/integration/make_protofile.sh" src >proto

# name | mkfs options | mount and add frag/
VARIANTS=(
    "v5|-m uuid=11111111-2222-3333-4444-555555555555|yes"
    "v4|-m crc=0|no"
    "block-1k|-b size=1024|yes"
    "dir-64k|-n size=65536 -i nrext64=1|no"
    "v4-noftype|-m crc=0 -n ftype=0|no"
)
can_mount=no
if [ "$(id -u)" = 0 ] && grep -qw xfs /proc/filesystems 2>/dev/null; then
    truncate -s 320M probe.img && mkfs.xfs -q probe.img && mkdir -p m &&
        mount -o loop probe.img m 2>/dev/null && umount m && can_mount=yes
    rm -f probe.img
fi
[ $can_mount = yes ] || echo "note: XFS cannot be loop-mounted here: no frag/ (btree-format files, unwritten extents, holes)"

add_frag() {
    mnt=$T/m
    mount -o loop "$1" "$mnt"
    python3 - "$mnt" <<'EOF'
import os, sys
r = sys.argv[1]
os.makedirs(r + '/frag')
with open(r + '/frag/every-other-block', 'wb') as f:
    for i in range(3000):
        f.seek(i * 8192)
        f.write(bytes([i % 251 + 1]) * 4096)
with open(r + '/frag/sparse-2G', 'wb') as f:
    f.truncate(2 << 30)
    f.seek((2 << 30) - 4096)
    f.write(b'z' * 4096)
fd = os.open(r + '/frag/unwritten', os.O_CREAT | os.O_WRONLY, 0o644)
os.posix_fallocate(fd, 0, 1 << 20)
os.pwrite(fd, b'w' * 4096, 65536)
os.close(fd)
EOF
    umount "$mnt"
    mnt=
}

# mkfs.xfs 6.1 writes a protofile's remote symlink (a target over the
# inode's room) as bare bytes, without the v5 block header the kernel
# writes and checks (xfs_repair: "Metadata CRC error ... xfs_symlink"): put
# the header in as the kernel would, checked by xfs_repair -n afterwards.
fix_remote_symlink() { # image path
    local ino fsb off
    ino=$(xfs_db -r -c "path $2" -c 'print core.magic' -c 'inode' "$1" | sed -n 's/^current inode number is \([0-9]*\).*/\1/p')
    fsb=$(xfs_db -r -c "inode $ino" -c 'print u3.bmx' "$1" | sed -n 's/^0:\[0,\([0-9]*\),1,0\]/\1/p')
    off=$(xfs_db -r -c "convert fsb $fsb byte" "$1" | sed 's/.*(\(.*\))/\1/')
    python3 - "$1" "$ino" "$off" "$(xfs_db -r -c 'sb 0' -c 'print blocksize' "$1" | awk '{print $3}')" <<'PY'
import struct, sys, uuid
img, ino, off, bs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
f = open(img, 'r+b')
f.seek(32)
fs_uuid = f.read(16)
f.seek(off)
blk = f.read(bs)
target = blk.split(b'\0', 1)[0]
# magic, offset, bytes, crc, uuid, owner, blkno (512-byte units), lsn
hdr = struct.pack('>III', 0x58534c4d, 0, len(target)) + b'\0' * 4 + fs_uuid + struct.pack('>QQQ', ino, off // 512, 0)
new = bytearray((hdr + target).ljust(bs, b'\0'))
def crc32c(data, crc=0xffffffff):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc
new[12:16] = struct.pack('<I', ~crc32c(bytes(new)) & 0xffffffff)
f.seek(off)
f.write(new)
PY
}

for spec in "${VARIANTS[@]}"; do
    IFS='|' read -r name opts frag <<<"$spec"
    mkdir -p "v/$name"
    truncate -s 320M "v/$name/fs.img"
    # shellcheck disable=SC2086
    mkfs.xfs -q $opts -p proto "v/$name/fs.img" >"v/$name/mkfs.log" 2>&1 ||
        { cat "v/$name/mkfs.log"; echo "FAIL: mkfs.xfs $opts"; exit 1; }
    if xfs_db -r -c 'sb 0' -c 'print crc' "v/$name/fs.img" 2>/dev/null | grep -q correct; then
        fix_remote_symlink "v/$name/fs.img" /links/long-dangling
        [ "$name" != v5 ] || xfs_repair -n "v/$name/fs.img" >"v/$name/repair.log" 2>&1 ||
            { tail -5 "v/$name/repair.log"; echo "FAIL: $name: xfs_repair -n finds damage"; exit 1; }
    fi
    if [ "$frag" = yes ] && [ $can_mount = yes ]; then
        add_frag "v/$name/fs.img"
        touch "v/$name/frag"
    fi
    bytes=$(stat -c %s "v/$name/fs.img")
    truncate -s $((bytes + (2 << 20))) "v/$name/disk.raw"
    echo "start=2048, size=$((bytes / 512)), type=83" | sfdisk -q "v/$name/disk.raw"
    dd if="v/$name/fs.img" of="v/$name/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
    qemu-img convert -O vmdk "v/$name/disk.raw" "v/$name/disk.vmdk"
    rm "v/$name/disk.raw"
done

# ---- xfs_db: the fixtures hold every form the driver reads ----
format_of() { # image path -> core.format number
    xfs_db -r -c "path $2" -c 'print core.format' "$1" 2>/dev/null | sed -n 's/^core.format = \([0-9]\).*/\1/p'
}
leaf_magic() { # image dir -> the magic at the directory's leaf offset (v4 and v5 names)
    local bs
    bs=$(xfs_db -r -c 'sb 0' -c 'print blocksize' "$1" | awk '{print $3}')
    xfs_db -r -c "path $2" -c "dblock $(((32 << 30) / bs))" -c print "$1" 2>/dev/null |
        sed -n 's/^[ln]hdr.info.\(hdr.\)\{0,1\}magic = \(0x[0-9a-f]*\).*/\2/p' | head -1
}
check_format() { # image path want-format label
    local got
    got=$(format_of "$1" "$2")
    [ "$got" = "$3" ] || { echo "FAIL: $1: $2 has data fork format '$got', not $3 ($4): the fixture no longer covers it"; exit 1; }
}
for name in v5 v4; do
    img=v/$name/fs.img
    check_format "$img" /small 1 "shortform directory"
    check_format "$img" /names 2 "block directory"
    check_format "$img" /dirs/leaf 2 "leaf directory"
    # v4's 256-byte inodes have room for fewer extents: its node directory is btree-format
    [ $name = v4 ] || check_format "$img" /dirs/node 2 "node directory"
    check_format "$img" /big 3 "btree directory"
    check_format "$img" /links/fast-relative 1 "inline symlink"
    check_format "$img" /links/long-dangling 2 "remote symlink"
    check_format "$img" /files/random-1M 2 "extents file"
    # the single block of /names holds its hash index (XD2B/XDB3 magic at block 0)
    bm=$(xfs_db -r -c 'path /names' -c 'dblock 0' -c print "$img" | sed -n 's/^bhdr.magic = \(0x[0-9a-f]*\).*/\1/p; s/^bhdr.hdr.magic = \(0x[0-9a-f]*\).*/\1/p' | head -1)
    case $bm in 0x58443242|0x58444233) ;; *) echo "FAIL: $name: /names is not a block directory (magic '$bm')"; exit 1;; esac
    # leaf1 magic (0xd2f1 v4, 0x3df1 v5) for dirs/leaf; leafn (0xd2ff, 0x3dff) or a da node (0xfebe, 0x3ebe) for dirs/node
    lm=$(leaf_magic "$img" /dirs/leaf)
    case $lm in 0xd2f1|0x3df1) ;; *) echo "FAIL: $name: /dirs/leaf is not a leaf directory (leaf magic '$lm')"; exit 1;; esac
    nm=$(leaf_magic "$img" /dirs/node)
    case $nm in 0xfebe|0x3ebe) ;; *) echo "FAIL: $name: /dirs/node is not a node directory (magic '$nm')"; exit 1;; esac
done
# nrext64: the inodes of the dir-64k variant count extents in di_big_nextents
f2=$(xfs_db -r -c 'path /big' -c 'print v3.flags2' v/dir-64k/fs.img | sed -n 's/^v3.flags2 = //p')
[ $((f2 & 0x10)) != 0 ] || { echo "FAIL: dir-64k: /big has no nrext64 flag (flags2 $f2)"; exit 1; }
if [ -e v/v5/frag ]; then
    check_format v/v5/fs.img /frag/every-other-block 3 "btree file"
    check_format v/block-1k/fs.img /frag/every-other-block 3 "btree file"
    for name in v5 block-1k; do
        lvl=$(xfs_db -r -c 'path /frag/every-other-block' -c 'print u3.bmbt.level' v/$name/fs.img | sed -n 's/^u3.bmbt.level = //p')
        [ "${lvl:-0}" -ge 2 ] || { echo "FAIL: $name: the btree file's extent B+tree has level '$lvl', not 2 or more"; exit 1; }
    done
fi

# ---- an LVM LV holding the default filesystem (no device-mapper needed) ----
lvm_ok=no
if [ "$(id -u)" = 0 ] && command -v pvcreate >/dev/null && command -v losetup >/dev/null; then
    export LVM_SUPPRESS_FD_WARNINGS=1 LVM_SYSTEM_DIR=$T/etc-lvm
    mkdir -p "$LVM_SYSTEM_DIR"
    : >"$LVM_SYSTEM_DIR/lvm.conf"
    truncate -s 400M lvm.raw
    printf 'label: dos\nstart=2048, type=8e\n' | sfdisk -q lvm.raw
    if pv=$(losetup -f --show -o $((2048 * 512)) lvm.raw 2>/dev/null); then
        vg="xfsimgp$$"
        cfg=(--config "devices { filter = [ \"a|^$pv\$|\", \"r|.*|\" ] use_devicesfile = 0 hints = \"none\" } backup { backup = 0 archive = 0 } activation { udev_sync = 0 udev_rules = 0 }" --driverloaded n)
        if pvcreate "${cfg[@]}" -q "$pv" >/dev/null 2>&1 && vgcreate "${cfg[@]}" -q -s 1m "$vg" "$pv" >/dev/null 2>&1 &&
            lvcreate "${cfg[@]}" --yes -an -Zn -Wn -q -n root -L 320m "$vg" >/dev/null 2>&1; then
            pe_start=$(pvs "${cfg[@]}" --noheadings --units b --nosuffix -o pe_start "$pv" 2>/dev/null | tr -d ' ')
            range=$(lvs "${cfg[@]}" --noheadings --segments -o seg_pe_ranges "$vg/root" 2>/dev/null | tr -d ' ')
            first_pe=$(echo "$range" | sed -n 's/.*:\([0-9]*\)-[0-9]*$/\1/p')
            if [ -n "$pe_start" ] && [ -n "$first_pe" ] && [ "$(echo "$range" | tr -cd ':' | wc -c)" = 1 ]; then
                dd if=v/v5/fs.img of=lvm.raw bs=1M seek=$(((2048 * 512 + pe_start) / 1048576 + first_pe)) conv=notrunc,sparse status=none
                lvm_ok=yes
            fi
        fi
        losetup -d "$pv"
    fi
fi
if [ $lvm_ok = yes ]; then
    qemu-img convert -O qcow2 lvm.raw lvm.qcow2 && rm lvm.raw
    "$IMGPROBE" ls -R -l -p "$vg/root" lvm.qcow2 / >lvm-ls.txt 2>lvm.err || { cat lvm.err; echo "FAIL: ls -R on the LV"; exit 1; }
else
    echo "note: no LVM LV (needs root, losetup and lvm2)"
fi

# ---- read every variant back ----
for d in v/*/; do
    name=$(basename "$d")
    "$IMGPROBE" ls -R -l "$d/disk.vmdk" / >"$d/ls-l.txt" 2>"$d/ls-l.err" || { cat "$d/ls-l.err"; echo "FAIL: $name: ls -R -l"; exit 1; }
    "$IMGPROBE" ls -R "$d/disk.vmdk" / >"$d/ls.txt" 2>"$d/ls.err" || { cat "$d/ls.err"; echo "FAIL: $name: ls -R"; exit 1; }
    [ ! -s "$d/ls-l.err" ] || { cat "$d/ls-l.err"; echo "FAIL: $name: warnings on a sound filesystem"; exit 1; }
done
[ $lvm_ok = no ] || cmp -s lvm-ls.txt v/v5/ls-l.txt || { diff lvm-ls.txt v/v5/ls-l.txt | head; echo "FAIL: the LV lists differently from the partition"; exit 1; }

python3 - "$IMGPROBE" <<'EOF'
import hashlib, os, stat, subprocess, sys

imgprobe = sys.argv[1]
fails = []

def fail(msg):
    fails.append(msg)
    print('FAIL: ' + msg)

def representable(rel, st):
    """What make_protofile.sh passes on."""
    name = os.path.basename(rel)
    return not (any(c.isspace() for c in name) or stat.S_ISSOCK(st.st_mode) or
                (stat.S_ISREG(st.st_mode) and st.st_size >= 1 << 30))

def facts(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [n for n in dirnames if representable(n, os.lstat(os.path.join(dirpath, n)))]
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            if not representable(n, st):
                continue
            rel = '/' + os.path.relpath(p, root)
            f = {'mode': stat.filemode(st.st_mode & ~stat.S_ISVTX)}
            if stat.S_ISLNK(st.st_mode):
                f['target'] = os.readlink(p)
                f['size'] = str(st.st_size)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                # XFS keeps 14 bits of major (Linux reads 9) and 18 of minor
                f['size'] = '%d,%d' % (os.major(st.st_rdev) & 0x1ff, os.minor(st.st_rdev) & 0x3ffff)
            elif not stat.S_ISDIR(st.st_mode):
                f['size'] = str(st.st_size)
            if stat.S_ISREG(st.st_mode) and st.st_size and '/big/' not in rel and '/dirs/' not in rel:
                f['sha256'] = hashlib.sha256(open(p, 'rb').read()).hexdigest()
            out[rel.encode('utf-8', 'surrogateescape')] = f
    return out

want_base = facts('src')
frag = {
    b'/frag': {'mode': 'drwxr-xr-x'},
    b'/frag/every-other-block': {'mode': '-rw-r--r--', 'size': str(2999 * 8192 + 4096),
        'sha256': hashlib.sha256(b''.join(bytes([i % 251 + 1]) * 4096 + bytes(4096) for i in range(2999)) +
                                 bytes([2999 % 251 + 1]) * 4096).hexdigest()},
    b'/frag/unwritten': {'mode': '-rw-r--r--', 'size': str(1 << 20),
        'sha256': hashlib.sha256(bytes(65536) + b'w' * 4096 + bytes((1 << 20) - 65536 - 4096)).hexdigest()},
    b'/frag/sparse-2G': {'mode': '-rw-r--r--', 'size': str(2 << 30)},
}

def parse(text, long):
    res, cur, header = {}, None, True
    for line in text.split(b'\n'):
        if line == b'':
            header = True
            continue
        if header:
            if not line.endswith(b':'):
                raise ValueError('header expected: %r' % line)
            cur = line[:-1].rstrip(b'/')
            header = False
            continue
        if not long:
            res[cur + b'/' + line] = {}
            continue
        parts = line.split(b' ', 5)
        name, target = parts[5], None
        if parts[0].startswith(b'l'):
            name, target = name.split(b' -> ', 1)
        res[cur + b'/' + name] = {'mode': parts[0].decode(), 'size': parts[2].decode(),
                                  'target': target.decode('utf-8', 'surrogateescape') if target is not None else None}
    return res

for name in sorted(os.listdir('v')):
    d = os.path.join('v', name)
    img = os.path.join(d, 'disk.vmdk')
    want = dict(want_base)
    if os.path.exists(os.path.join(d, 'frag')):
        want.update(frag)
    try:
        got = parse(open(os.path.join(d, 'ls-l.txt'), 'rb').read(), True)
        plain = set(parse(open(os.path.join(d, 'ls.txt'), 'rb').read(), False))
    except ValueError as e:
        fail('%s: ls output does not parse: %s' % (name, e))
        continue
    if set(got) != set(want):
        fail('%s: ls -R -l lists %d paths, the tree has %d; missing %s, extra %s' % (
            name, len(got), len(want), sorted(set(want) - set(got))[:5], sorted(set(got) - set(want))[:5]))
    if plain != set(want):
        fail('%s: ls -R lists %d paths, the tree has %d' % (name, len(plain), len(want)))
    bad = 0
    for p in sorted(set(got) & set(want)):
        g, w = got[p], want[p]
        for k in ('mode', 'size', 'target'):
            if k in w and g[k] != w[k]:
                bad += 1
                if bad <= 10:
                    fail('%s: %s: %s is %r, the tree has %r' % (name, p.decode(errors='replace'), k, g[k], w[k]))
    for p, w in sorted(want.items()):
        if 'sha256' not in w:
            continue
        r = subprocess.run([imgprobe, 'cat', img, p.decode('utf-8', 'surrogateescape')], capture_output=True)
        if r.returncode != 0 or hashlib.sha256(r.stdout).hexdigest() != w['sha256']:
            fail('%s: cat %s: exit %d, digest differs: %s' % (name, p.decode(errors='replace'), r.returncode,
                                                            r.stderr.decode(errors='replace').strip()))
    if b'/frag/sparse-2G' in want and name == 'v5':
        # 2 GiB of zeros but the last 4 KiB: compared in a stream, not held
        lim, n, ok, tail = (2 << 30) - 4096, 0, True, b''
        with subprocess.Popen([imgprobe, 'cat', img, '/frag/sparse-2G'], stdout=subprocess.PIPE) as pr:
            while True:
                chunk = pr.stdout.read(1 << 20)
                if not chunk:
                    break
                zeros = chunk[:max(0, min(len(chunk), lim - n))]
                ok = ok and zeros.count(0) == len(zeros)
                tail += chunk[len(zeros):]
                n += len(chunk)
        if pr.returncode != 0 or n != 2 << 30 or not ok or tail != b'z' * 4096:
            fail('%s: cat /frag/sparse-2G: exit %d, %d bytes, zeros %s, tail %r' % (name, pr.returncode, n, ok,
                                                                                   tail[:16]))

# ---- lookups through symlinks; errors ----
img = 'v/v5/disk.vmdk'
bottom = hashlib.sha256(b'at the bottom\n').hexdigest()
for path, digest in [('/links/fast-relative', want_base[b'/files/size-1']['sha256']),
                     ('/links/slow-absolute', bottom),
                     ('/links/to-directory/d02/d03/d04/d05/d06/d07/d08/d09/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20/bottom', bottom)]:
    r = subprocess.run([imgprobe, 'cat', img, path], capture_output=True)
    if r.returncode != 0 or hashlib.sha256(r.stdout).hexdigest() != digest:
        fail('cat %s: exit %d %s' % (path, r.returncode, r.stderr.decode().strip()))
for path, msg in [('/links/dangling', 'not found'), ('/links/loop-a', 'symbolic links'), ('/nowhere', 'not found')]:
    r = subprocess.run([imgprobe, 'cat', img, path], capture_output=True)
    if r.returncode != 2 or msg not in r.stderr.decode():
        fail('cat %s: exit %d %r (expected %r)' % (path, r.returncode, r.stderr, msg))
r = subprocess.run([imgprobe, 'ls', img, '/big'], capture_output=True)
if r.returncode or r.stdout.split(b'\n')[:-1] != [b'entry-%05d' % i for i in range(20000)]:
    fail('ls /big does not print the 20,000 names sorted')
sys.exit(1 if fails else 0)
EOF

# ---- damage: each on a copy of the v5 filesystem ----
expect() { # image grep-pattern exit-status what
    local rc=0
    "$IMGPROBE" ls -R -l "$1" / >/dev/null 2>"$1.err" || rc=$?
    grep -q -- "$2" "$1.err" && [ $rc = "$3" ] || { cat "$1.err"; echo "FAIL: $4 (exit $rc)"; exit 1; }
}
sb_field() { xfs_db -r -c 'sb 0' -c "print $2" "$1" | awk '{print $3}'; }
patch() { # file offset hex-bytes
    python3 -c "import sys; f=open(sys.argv[1],'r+b'); f.seek(int(sys.argv[2])); f.write(bytes.fromhex(sys.argv[3]))" "$@"
}

# a dirty log: the last record before the head is no longer an unmount record
cp v/v5/fs.img dirty.img
python3 - dirty.img "$(xfs_db -r -c 'sb 0' -c 'print logstart' dirty.img | awk '{print $3}')" <<'EOF'
import struct, subprocess, sys
img, logstart = sys.argv[1], sys.argv[2]
off = int(subprocess.run(['xfs_db', '-r', '-c', 'convert fsb %s byte' % logstart, img], capture_output=True,
                         text=True).stdout.split('(')[1].split(')')[0])
f = open(img, 'r+b')
# the unmount record: the last header whose cycle is the highest
best = None
for bb in range(4096):
    f.seek(off + bb * 512)
    h = f.read(8)
    if h[:4] == b'\xfe\xed\xba\xbe':
        cyc = struct.unpack('>I', h[4:])[0]
        if best is None or cyc >= best[0]:
            best = (cyc, bb)
f.seek(off + (best[1] + 1) * 512 + 9)
flags = f.read(1)[0]
assert flags & 0x20, 'no unmount record where expected'
f.seek(off + (best[1] + 1) * 512 + 9)
f.write(bytes([flags & ~0x20]))
EOF
xfs_logprint -t dirty.img 2>/dev/null | grep -q CLEAN && { echo "FAIL: xfs_logprint still sees a clean log"; exit 1; }
expect dirty.img "warning: xfs: the log is dirty" 0 "a dirty log is not reported"

# an inode CRC mismatch: a warning, the walk goes on
cp v/v5/fs.img crc.img
ino=$(xfs_db -r -c 'path /files/size-100' -c 'print core.magic' -c 'inode' crc.img | sed -n 's/^current inode number is \([0-9]*\).*/\1/p')
off=$(xfs_db -r -c "convert inode $ino byte" crc.img | sed 's/.*(\(.*\))/\1/')
patch crc.img $((off + 92)) ffffffff # di_gen
expect crc.img "warning: xfs: inode $ino: CRC mismatch" 0 "an inode CRC mismatch is not reported"

# incompatible features: a known one refused by name, an unknown one by number
cp v/v5/fs.img metadir.img
inc=$(od -An -tx1 -j 216 -N4 metadir.img | tr -d ' ')
patch metadir.img 216 "$(printf '%08x' $((0x$inc | 0x100)))"
expect metadir.img "incompatible feature 'metadir'" 2 "metadir is not refused by name"
patch metadir.img 216 "$(printf '%08x' $((0x$inc | 0x40000000)))"
expect metadir.img "unknown incompatible feature 0x40000000" 2 "an unknown feature is not refused"

# a root inode number in an AG past agcount
cp v/v5/fs.img badino.img
agcount=$(sb_field badino.img agcount)
agblklog=$(sb_field badino.img agblklog)
inopblog=$(sb_field badino.img inopblog)
patch badino.img 56 "$(printf '%016x' $((agcount << (agblklog + inopblog))))"
expect badino.img "past the $agcount AGs" 2 "a root inode past agcount is not refused"
echo "ok: $(ls v | wc -l) variants$([ -e v/v5/frag ] && echo ', frag/ added by mount')$([ $lvm_ok = yes ] && echo ', LVM LV')"
