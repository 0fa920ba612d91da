#!/bin/bash
# ext2/3/4 read back through the whole stack. make_tree.sh builds a source
# tree; `mkfs.ext4 -d` writes it in variants (ext2, ext2 with 1 KiB blocks
# (triple indirect blocks), ext3, ext4 defaults, 1 KiB blocks, block maps
# instead of extents, inline_data, 64bit+meta_bg, no journal with
# sparse_super2, 128-byte inodes, 64 KiB blocks with 1 KiB inodes, uninit_bg
# checksums, bigalloc where mke2fs takes it with -d, casefold); each
# filesystem goes into an MBR partition of a
# qcow2 (sfdisk on a raw file, dd at the partition's offset, qemu-img
# convert). imgprobe `ls -R -l`, `ls -R` and `cat` must give back the tree:
# names, types, modes, link counts, sizes, mtimes, symlink targets, device
# numbers and content digests. debugfs is the oracle for what the tree cannot
# say (device numbers as stored, inline data). Then: -p, symlinks resolved in
# the guest, a damaged primary superblock (the backup is read, with a
# warning), a journal needing recovery (a warning), encrypted files refused.
#
# The 20,000-entry directory goes into the ext4-defaults variant only: mke2fs
# -d inserts directory entries in quadratic time (about 40 s of CPU for it),
# so the other variants get the tree without it.
set -euo pipefail
: "${IMGPROBE:?}" "${SRCDIR:?}"
for tool in mkfs.ext4 debugfs sfdisk qemu-img python3; do
    command -v "$tool" >/dev/null || { echo "skip: $tool not installed"; exit 77; }
done
HASH=sha256sum
command -v xxh128sum >/dev/null && HASH=xxh128sum # the 2 GiB stream: 5x faster, as good a witness
T=$(mktemp -d "${TMPDIR:-/tmp}/ext4_tree.XXXXXX")
trap 'jobs -p | xargs -r kill 2>/dev/null; rm -rf "$T"' EXIT
cd "$T"

bash "$SRCDIR/tests/integration/make_tree.sh" full
mkdir small # the tree without big/ (one cp, so the hard links across directories stay links)
(cd full && find . -mindepth 1 -maxdepth 1 ! -name big -exec cp -a -t ../small {} +)
[ "$(du -k full/files/sparse-2G | cut -f1)" -lt 1024 ] || { echo "FAIL: the source sparse file is not sparse"; exit 1; }
# its digest, streamed with the holes as zeros from memory (reading 2 GiB of
# holes from some filesystems takes seconds)
python3 - full/files/sparse-2G <<'EOF' | $HASH | cut -d' ' -f1 >sparse.digest
import os, sys
fd, out = os.open(sys.argv[1], os.O_RDONLY), sys.stdout.buffer
size, off, zeros = os.fstat(fd).st_size, 0, bytes(1 << 20)
while off < size:
    try:
        data = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:
        data = size
    while off < data:
        n = min(len(zeros), data - off)
        out.write(zeros[:n])
        off += n
    if off < size:
        hole = os.lseek(fd, off, os.SEEK_HOLE)
        out.write(os.pread(fd, hole - off, off))
        off = hole
out.flush()
EOF

# name | tree | size | mkfs options
VARIANTS=(
    "ext4|full|256M|-N 24000"
    "ext2|small|128M|-t ext2"
    "ext2-1k|small|128M|-t ext2 -b 1024"
    "ext3|small|128M|-t ext3"
    "block-1k|small|128M|-b 1024"
    "no-extents|small|128M|-O ^extent,^64bit"
    "inline|small|128M|-O inline_data"
    "meta-bg|small|256M|-b 1024 -O 64bit,meta_bg,^resize_inode"
    "no-journal|small|128M|-O ^has_journal,sparse_super2"
    "inode-128|small|128M|-I 128"
    "block-64k|small|256M|-b 65536 -I 1024"
    "uninit-bg|small|128M|-O ^metadata_csum,uninit_bg"
    "bigalloc|small|256M|-O bigalloc -C 65536"
    "casefold|small|128M|-O casefold"
)

# mkfs, then the filesystem into partition 1 (at 1 MiB) of a qcow2
build() {
    local name=$1 tree=$2 size=$3 opts=$4
    mkdir -p "v/$name"
    # shellcheck disable=SC2086
    if ! mkfs.ext4 -q -F $opts -d "$tree" "v/$name/fs.img" "$size" >"v/$name/mkfs.log" 2>&1; then
        if [ "$name" = bigalloc ]; then
            echo "note: mke2fs does not take bigalloc with -d here: $(head -1 "v/$name/mkfs.log")"
            rm -rf "v/$name"
            return 0
        fi
        echo "FAIL: mkfs.ext4 $opts: $(cat "v/$name/mkfs.log")"
        return 1
    fi
    local bytes
    bytes=$(stat -c %s "v/$name/fs.img")
    truncate -s $((bytes + (2 << 20))) "v/$name/disk.raw"
    echo "start=2048, size=$((bytes / 512)), type=83" | sfdisk -q "v/$name/disk.raw"
    dd if="v/$name/fs.img" of="v/$name/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
    qemu-img convert -O qcow2 "v/$name/disk.raw" "v/$name/disk.qcow2"
    rm "v/$name/disk.raw"
}

# the big one in the background while the others are built
IFS='|' read -r n t s o <<<"${VARIANTS[0]}"
build "$n" "$t" "$s" "$o" &
big=$!
for spec in "${VARIANTS[@]:1}"; do
    IFS='|' read -r n t s o <<<"$spec"
    build "$n" "$t" "$s" "$o"
done
wait "$big" || exit 1

# casefold: mark /small casefolded (a linear directory, so no hashes to
# redo); encrypt: mark /files/size-100 encrypted. debugfs edits the copy only.
if [ -d v/casefold ]; then
    cp v/casefold/fs.img cf.img
    flags=$(debugfs -R "stat /small" cf.img 2>/dev/null | sed -n 's/.*Flags: \(0x[0-9a-f]*\).*/\1/p')
    debugfs -w -R "set_inode_field /small flags $((flags | 0x40000000))" cf.img 2>/dev/null
    flags=$(debugfs -R "stat /files/size-100" cf.img 2>/dev/null | sed -n 's/.*Flags: \(0x[0-9a-f]*\).*/\1/p')
    debugfs -w -R "set_inode_field /files/size-100 flags $((flags | 0x800))" cf.img 2>/dev/null
fi

# ---- read every variant back ----
for d in v/*/; do
    name=$(basename "$d")
    img="$d/disk.qcow2"
    "$IMGPROBE" ls -R -l "$img" / >"$d/ls-l.txt" 2>"$d/ls-l.err" || { cat "$d/ls-l.err"; echo "FAIL: $name: ls -R -l"; exit 1; }
    "$IMGPROBE" ls -R "$img" / >"$d/ls.txt" 2>"$d/ls.err" || { cat "$d/ls.err"; echo "FAIL: $name: ls -R"; exit 1; }
    # a sound filesystem gives no warning: every checksum imgprobe verifies matches
    [ ! -s "$d/ls-l.err" ] || { cat "$d/ls-l.err"; echo "FAIL: $name: warnings on a sound filesystem"; exit 1; }
    "$IMGPROBE" cat "$img" /files/sparse-2G | $HASH | cut -d' ' -f1 >"$d/sparse.digest"
    # debugfs: device numbers as stored, and which inodes hold inline data
    for f in /special/null /special/loop0 /special/big-numbers /files/size-1 /files/size-100 /small; do
        echo "== $f"
        debugfs -R "stat $f" "$d/fs.img" 2>/dev/null | grep -E 'Device major|inline data|Flags' || true
    done >"$d/debugfs.txt"
done

python3 - "$IMGPROBE" <<'EOF'
import hashlib, os, stat, subprocess, sys, time

imgprobe = sys.argv[1]
fails = []

def fail(msg):
    fails.append(msg)
    print('FAIL: ' + msg)

# ---- the source tree's facts ----
def facts(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            rel = '/' + os.path.relpath(p, root)
            f = {'mode': stat.filemode(st.st_mode), 'nlink': st.st_nlink,
                 'mtime': time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(int(st.st_mtime)))}
            if stat.S_ISLNK(st.st_mode):
                f['target'] = os.readlink(p)
                f['size'] = str(st.st_size)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                f['size'] = '%d,%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))
            elif not stat.S_ISDIR(st.st_mode):
                f['size'] = str(st.st_size)
            if stat.S_ISREG(st.st_mode) and st.st_size and not rel.startswith('/big/') and st.st_size < (1 << 30):
                f['sha256'] = hashlib.sha256(open(p, 'rb').read()).hexdigest()
            out[rel.encode('utf-8', 'surrogateescape')] = f
    return out

trees = {'full': facts('full'), 'small': facts('small')}
sparse = open('sparse.digest').read().strip()

def parse(text, long):
    """ls -R output -> {path: line fields}; headers are the first line and the line after each blank one."""
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
        res[cur + b'/' + name] = {'mode': parts[0].decode(), 'nlink': int(parts[1]), 'size': parts[2].decode(),
                                  'mtime': (parts[3] + b' ' + parts[4]).decode(),
                                  'target': target.decode('utf-8', 'surrogateescape') if target is not None else None}
    return res

def cat(img, path, extra=()):
    return subprocess.run([imgprobe, 'cat', *extra, img, path], capture_output=True)

for name in sorted(os.listdir('v')):
    d = os.path.join('v', name)
    img = os.path.join(d, 'disk.qcow2')
    tree = 'full' if name == 'ext4' else 'small'
    want = trees[tree]
    try:
        got = parse(open(os.path.join(d, 'ls-l.txt'), 'rb').read(), True)
        plain = parse(open(os.path.join(d, 'ls.txt'), 'rb').read(), False)
    except ValueError as e:
        fail('%s: ls output does not parse: %s' % (name, e))
        continue
    for p in [p for p in got if p == b'/lost+found' or p.startswith(b'/lost+found/')]:
        del got[p]
    plain = {p for p in plain if p != b'/lost+found' and not p.startswith(b'/lost+found/')}
    if set(got) != set(want):
        fail('%s: ls -R -l lists %d paths, the tree has %d; missing %s, extra %s' % (
            name, len(got), len(want), sorted(set(want) - set(got))[:5], sorted(set(got) - set(want))[:5]))
    if plain != set(want):
        fail('%s: ls -R lists %d paths, the tree has %d' % (name, len(plain), len(want)))
    bad = 0
    for p in sorted(set(got) & set(want)):
        g, w = got[p], want[p]
        for k in ('mode', 'nlink', 'mtime', 'size', 'target'):
            if k in w and g[k] != w[k]:
                bad += 1
                if bad <= 10:
                    fail('%s: %s: %s is %r, the tree has %r' % (name, p.decode(errors='replace'), k, g[k], w[k]))
    # contents
    for p, w in sorted(want.items()):
        if 'sha256' not in w:
            continue
        r = cat(img, p.decode('utf-8', 'surrogateescape'))
        if r.returncode != 0 or hashlib.sha256(r.stdout).hexdigest() != w['sha256']:
            fail('%s: cat %s: exit %d, digest differs: %s' % (name, p.decode(errors='replace'), r.returncode,
                                                            r.stderr.decode(errors='replace').strip()))
    if open(os.path.join(d, 'sparse.digest')).read().strip() != sparse:
        fail('%s: cat /files/sparse-2G: digest differs' % name)
    # debugfs: device numbers as stored, inline data where the variant has it
    dbg = {}
    for sec in open(os.path.join(d, 'debugfs.txt')).read().split('== ')[1:]:
        path, _, body = sec.partition('\n')
        dbg[path] = body
    for path in ('/special/null', '/special/loop0', '/special/big-numbers'):
        g = got.get(path.encode())
        if g is None:
            continue
        major, minor = g['size'].split(',')
        if 'Device major/minor number: %02d:%02d ' % (int(major), int(minor)) not in dbg.get(path, ''):
            fail('%s: %s is device %s, debugfs says %r' % (name, path, g['size'], dbg.get(path)))
    if name == 'inline':
        for path in ('/files/size-1', '/files/size-100', '/small'):
            if 'Size of inline data' not in dbg.get(path, ''):
                fail('inline: debugfs does not show %s as inline data' % path)

# ---- lookups through symlinks, -p, errors (ext4 defaults and one block-mapped variant) ----
for name in ('ext4', 'ext2-1k'):
    img = os.path.join('v', name, 'disk.qcow2')
    bottom = b'at the bottom\n'
    for path, want in [('/links/fast-relative', trees['small']['/files/size-1'.encode()]['sha256']),
                       ('/links/fast-absolute', trees['small']['/files/size-4097'.encode()]['sha256']),
                       ('/links/slow-relative', hashlib.sha256(bottom).hexdigest()),
                       ('/links/slow-absolute', hashlib.sha256(bottom).hexdigest()),
                       ('/links/to-directory/d02/../d02/d03/d04/d05/d06/d07/d08/d09/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20/bottom',
                        hashlib.sha256(bottom).hexdigest())]:
        r = cat(img, path)
        if r.returncode != 0 or hashlib.sha256(r.stdout).hexdigest() != want:
            fail('%s: cat %s: exit %d %s' % (name, path, r.returncode, r.stderr.decode().strip()))
    for path, msg in [('/links/dangling', 'not found'), ('/links/loop-a', 'symbolic links'),
                      ('/files', 'not a regular file'), ('/nowhere', 'not found'),
                      ('/files/size-1/x', 'not a directory')]:
        r = cat(img, path)
        err = r.stderr.decode()
        if r.returncode != 2 or msg not in err or not err.startswith('imgprobe: ' + img + ': ') or err.count('\n') != 1:
            fail('%s: cat %s: exit %d, %r (expected exit 2, one line saying %r)' % (name, path, r.returncode, err, msg))
    r = subprocess.run([imgprobe, 'ls', img, '/links/to-directory'], capture_output=True)
    if r.returncode != 0 or r.stdout != b'd02\n':
        fail('%s: ls /links/to-directory: %r' % (name, r.stdout))
    r = subprocess.run([imgprobe, 'ls', '-l', img, '/links/to-directory'], capture_output=True)
    if r.returncode != 0 or not r.stdout.startswith(b'l') or not r.stdout.endswith(b' -> ../deep/d01\n'):
        fail('%s: ls -l /links/to-directory (the link itself): %r' % (name, r.stdout))
    r = subprocess.run([imgprobe, 'ls', img, '/files/size-1'], capture_output=True)
    if r.returncode != 0 or r.stdout != b'/files/size-1\n':
        fail('%s: ls of a file: %r' % (name, r.stdout))
    # -p picks the partition; the whole disk has no filesystem; no partition 2
    a = subprocess.run([imgprobe, 'ls', '-R', img, '/deep'], capture_output=True)
    b = subprocess.run([imgprobe, 'ls', '-R', '-p', '1', img, '/deep'], capture_output=True)
    if a.returncode or b.returncode or a.stdout != b.stdout or b'/deep/d01/d02' not in a.stdout:
        fail('%s: ls -p 1 differs from ls: %r %r' % (name, a.stderr, b.stderr))
    for part, msg in [('2', "no partition '2'"), ('disk', 'no filesystem')]:
        r = subprocess.run([imgprobe, 'ls', '-p', part, img, '/'], capture_output=True)
        if r.returncode != 2 or msg not in r.stderr.decode():
            fail('%s: ls -p %s: exit %d %r' % (name, part, r.returncode, r.stderr))
    # the whole-disk filesystem reads the same as the partition
    fsimg = os.path.join('v', name, 'fs.img')
    c = subprocess.run([imgprobe, 'ls', '-R', '-l', fsimg, '/'], capture_output=True)
    if c.returncode or c.stdout != open(os.path.join('v', name, 'ls-l.txt'), 'rb').read():
        fail('%s: the whole-disk filesystem lists differently: %r' % (name, c.stderr))

# ---- the 20,000 entries, in order, nothing else ----
r = subprocess.run([imgprobe, 'ls', 'v/ext4/disk.qcow2', '/big'], capture_output=True)
names = r.stdout.split(b'\n')
if r.returncode or names[-1] != b'' or names[:-1] != [b'entry-%05d' % i for i in range(20000)] or r.stderr:
    fail('ext4: ls /big does not print the 20,000 names sorted, one a line')

# ---- casefold directories; encrypted files refused ----
if os.path.exists('v/casefold'):
    for path, ok in [('/small/X', True), ('/small/x', True), ('/names/A', False), ('/names/a', True),
                     ('/files/size-100', False)]:
        r = cat('cf.img', path)
        if (r.returncode == 0) != ok:
            fail('casefold: cat %s: exit %d %r' % (path, r.returncode, r.stderr))
    r = cat('cf.img', '/files/size-100')
    if b'encrypted' not in r.stderr:
        fail('casefold: an encrypted file is not refused as such: %r' % r.stderr)

sys.exit(1 if fails else 0)
EOF

# ---- a damaged primary superblock: the backup in group 1 is read, with a warning ----
cp v/block-1k/fs.img damaged.img
printf '\0\0\0\0' | dd of=damaged.img bs=1 seek=$((1024 + 0x28)) conv=notrunc status=none # s_inodes_per_group
"$IMGPROBE" ls -R damaged.img / >damaged.txt 2>damaged.err || { cat damaged.err; echo "FAIL: backup superblock not used"; exit 1; }
grep -q 'warning: ext4: primary superblock unusable (s_inodes_per_group 0' damaged.err || { cat damaged.err; echo "FAIL: no warning about the primary superblock"; exit 1; }
"$IMGPROBE" ls -R v/block-1k/fs.img / | cmp - damaged.txt || { echo "FAIL: the backup superblock lists differently"; exit 1; }

# ---- a journal needing recovery: read as it is, with a warning ----
cp v/no-extents/fs.img recover.img
debugfs -w -R "feature needs_recovery" recover.img >/dev/null 2>&1
"$IMGPROBE" ls recover.img / >/dev/null 2>recover.err || { cat recover.err; echo "FAIL: needs_recovery refused"; exit 1; }
grep -q 'journal needs recovery' recover.err || { echo "FAIL: no warning about the journal"; exit 1; }

# ---- an unknown incompatible feature is refused by name ----
cp v/no-journal/fs.img dirdata.img
incompat=$(od -An -tu4 -j $((1024 + 0x60)) -N4 dirdata.img | tr -d ' ')
python3 -c "import struct,sys; f=open('dirdata.img','r+b'); f.seek(1024+0x60); f.write(struct.pack('<I', $incompat | 0x1000))"
if "$IMGPROBE" ls dirdata.img / >/dev/null 2>dirdata.err || ! grep -q "incompatible feature 'dirdata'" dirdata.err; then
    cat dirdata.err; echo "FAIL: the dirdata feature is not refused by name"; exit 1
fi
# ---- two filesystems: without -p imgprobe names them and asks; -p picks one ----
truncate -s 24M two.raw
printf 'label: dos\nstart=2048, size=16384, type=83\nstart=18432, size=16384, type=83\n' | sfdisk -q two.raw
mkfs.ext4 -q -F -L first -E offset=$((2048 * 512)) two.raw 8M
mkfs.ext4 -q -F -L second -E offset=$((18432 * 512)) -d small/links two.raw 8M
if "$IMGPROBE" ls two.raw / >/dev/null 2>two.err || ! grep -q 'several filesystems (partitions 1, 2): choose one with -p' two.err; then
    cat two.err; echo "FAIL: two filesystems without -p"; exit 1
fi
[ "$("$IMGPROBE" ls -p 2 two.raw /)" = "$( (ls -A small/links; echo lost+found) | LC_ALL=C sort)" ] ||
    { echo "FAIL: ls -p 2 of the second filesystem"; exit 1; }
echo "ok: $(ls v | wc -l) variants"
