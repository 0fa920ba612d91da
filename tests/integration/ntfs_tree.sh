#!/bin/bash
# NTFS read back through the whole stack. mkntfs makes the volume in
# variants (4 KiB clusters; 512-byte clusters, where an MFT record spans two
# clusters; 64 KiB clusters, where index blocks are smaller than a cluster
# and compression is refused; 4 KiB sectors), and ntfs_gen.c (compiled here
# against libntfs-3g, no FUSE) populates it: directories 20 deep, files of
# many sizes (resident and not), sparse files, LZNT1-compressed files, a
# file whose runlist spills into extension records ($ATTRIBUTE_LIST), a
# directory of 3,000 entries (index blocks two levels deep), names that
# differ only in case (POSIX namespace), a long name with an 8.3 short
# name, UTF-8 names (one beyond the BMP), hard links, symbolic links
# (absolute into the volume, relative, to another drive), a junction, an
# Interix link, a named stream, a read-only file and a WOF-compressed file.
# Each volume goes into partition 1 of an MBR disk, converted to qcow2 (one
# to VHD). imgprobe `ls -R -l` and `cat` must give back what was written;
# ntfsls and ntfscat are the oracles for names and contents. Then:
# case-insensitive lookups, 8.3 names, symlinks resolved inside the volume,
# WOF refused by name, a dirty volume and a hibernated hiberfil.sys noted,
# a destroyed primary boot sector (the backup read, with a warning), a torn
# MFT record (a clear error).
set -euo pipefail
: "${IMGPROBE:?}" "${SRCDIR:?}"
for tool in mkntfs ntfsls ntfscat sfdisk qemu-img python3 cc pkg-config; do
    command -v "$tool" >/dev/null || { echo "skip: $tool not installed"; exit 77; }
done
pkg-config --exists libntfs-3g && [ -f /usr/include/ntfs-3g/volume.h ] ||
    { echo "skip: libntfs-3g headers not installed (Debian: ntfs-3g-dev)"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/ntfs_tree.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
# shellcheck disable=SC2046
cc -O1 -o gen "$SRCDIR/tests/integration/ntfs_gen.c" $(pkg-config --cflags --libs libntfs-3g)

# ---- the tree: host files, generator commands, and what imgprobe must say ----
python3 - <<'EOF'
import hashlib, json, os, random
rng = random.Random(20261125)
os.makedirs('host')
cmds, want = [], {}
n = [0]

def host(data):
    n[0] += 1
    p = 'host/%d' % n[0]
    open(p, 'wb').write(data)
    return p

def rand(k):
    return rng.getrandbits(8 * k).to_bytes(k, 'little') if k else b''

def d(path, compressed=False):
    cmds.append(('cdir' if compressed else 'dir', path))
    want[path] = {'type': 'd', 'nlink': 1}

def f(path, data, how='file'):
    cmds.append((how, path, host(data)))
    want[path] = {'type': '-', 'nlink': 1, 'size': len(data), 'sha': hashlib.sha256(data).hexdigest()}

def link(path, target, shown, flags=None, how='symlink'):
    cmds.append((how, path, target) + ((str(flags),) if flags is not None else ()))
    want[path] = {'type': 'l', 'nlink': 1, 'target': shown}

deep = '/deep'
d(deep)
for i in range(1, 21):
    deep += '/d%02d' % i
    d(deep)
f(deep + '/bottom', b'at the bottom\n')
d('/files')
for k in [0, 1, 100, 700, 1023, 4095, 4096, 4097, 65535, 65536, 65537, 300000]:
    f('/files/size-%d' % k, rand(k))
f('/files/random-1M', rand(1 << 20))
# sparse: holes of 64 KiB and more between data, a hole at the end
sp = bytearray(6 << 20)
sp[0:5] = b'start'
sp[(3 << 20):(3 << 20) + 4096] = rand(4096)
f('/files/sparse-6M', bytes(sp))
tail = bytearray(2 << 20)
tail[-4:] = b'tail'
f('/files/sparse-tail', bytes(tail))
# alternating 4 KiB of data and of holes: about 1,000 runs, in extension records
alt = b''.join(rand(4096) if i % 2 == 0 else bytes(4096) for i in range(2001))
f('/files/fragmented', alt, 'frag')
cmds.append(('readonly', '/files/size-100'))
want['/files/size-100']['readonly'] = True
d('/compressed', True)
text = b''.join(b'line %06d of a compressible file\n' % i for i in range(20000))
f('/compressed/text', text)
f('/compressed/random', rand(200000))
mixed = bytearray(text[:150000]) + bytes(300000) + bytearray(rand(70000)) + text[:12345]
f('/compressed/mixed', bytes(mixed))
f('/compressed/small', b'tiny\n')
d('/big')
cmds.append(('many', '/big', '3000'))
for i in range(3000):
    want['/big/entry-%05d' % i] = {'type': '-', 'nlink': 1, 'size': 0}
d('/names')
f('/names/Case', b'upper C\n')
f('/names/case', b'lower c\n')
f('/names/CASE', b'all upper\n')
f('/names/Long File Name.txt', b'a long name\n')
cmds.append(('dosname', '/names/Long File Name.txt', 'LONGFI~1.TXT'))
for nm in ['héllo wörld', '日本語のファイル', 'emoji-😀-ok', 'Ωμέγα', 'n' * 255]:
    f('/names/' + nm, nm.encode() + b'\n')
d('/links')
f('/links/target', b'the target\n')
cmds.append(('link', '/links/target', '/files/hard-link'))
cmds.append(('link', '/links/target', '/links/hard-link-2'))
for p in ('/links/target', '/files/hard-link', '/links/hard-link-2'):
    want[p] = dict(want['/links/target'], nlink=3)
link('/links/absolute', '\\??\\C:\\links\\target', '/links/target', 0)
link('/links/relative', '..\\files\\size-1', '../files/size-1', 1)
link('/links/root-relative', '\\deep\\d01', '/deep/d01', 0)
link('/links/other-drive', '\\??\\D:\\data\\x', '\\??\\D:\\data\\x', 0)
link('/links/junction', '\\??\\C:\\deep\\d01\\d02', '/deep/d01/d02', how='junction')
link('/links/interix', '../names/case', '../names/case', how='intx')
f('/links/with-stream', b'main data\n')
cmds.append(('stream', '/links/with-stream', 'extra', host(b'the named stream\n' * 100)))
cmds.append(('wof', '/files/wof-compressed', '5000'))
want['/files/wof-compressed'] = {'type': '-', 'nlink': 1, 'size': 5000, 'wof': True}
open('cmds', 'w').write(''.join('\t'.join(c) + '\n' for c in cmds))
json.dump(want, open('want.json', 'w'))
EOF

# name | size | mkntfs options | container
VARIANTS=(
    "c4k|96M||qcow2"
    "c512|96M|-c 512|vhd"
    "c64k|160M|-c 65536|qcow2"
    "s4k|96M|-s 4096 -c 4096|qcow2"
)
for spec in "${VARIANTS[@]}"; do
    IFS='|' read -r name size opts fmt <<<"$spec"
    mkdir -p "v/$name"
    truncate -s "$size" "v/$name/fs.img"
    # shellcheck disable=SC2086
    mkntfs -q -F -f -L "$name" $opts "v/$name/fs.img" >/dev/null 2>&1 || { echo "FAIL: mkntfs $opts"; exit 1; }
    start=$(date +%s)
    ./gen "v/$name/fs.img" <cmds || { echo "FAIL: $name: the generator"; exit 1; }
    echo "$start $(date +%s)" >"v/$name/when"
    bytes=$(stat -c %s "v/$name/fs.img")
    truncate -s $((bytes + (2 << 20))) "v/$name/disk.raw"
    echo "start=2048, size=$((bytes / 512)), type=7" | sfdisk -q "v/$name/disk.raw"
    dd if="v/$name/fs.img" of="v/$name/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
    if [ "$fmt" = vhd ]; then
        qemu-img convert -O vpc "v/$name/disk.raw" "v/$name/disk.img"
    else
        qemu-img convert -O qcow2 "v/$name/disk.raw" "v/$name/disk.img"
    fi
    rm "v/$name/disk.raw"
    "$IMGPROBE" ls -R -l "v/$name/disk.img" / >"v/$name/ls-l.txt" 2>"v/$name/ls.err" ||
        { cat "v/$name/ls.err"; echo "FAIL: $name: ls -R -l"; exit 1; }
    [ ! -s "v/$name/ls.err" ] || { cat "v/$name/ls.err"; echo "FAIL: $name: warnings on a sound volume"; exit 1; }
    ntfsls -R "v/$name/fs.img" >"v/$name/ntfsls.txt" 2>/dev/null || { echo "FAIL: $name: ntfsls"; exit 1; }
done

python3 - "$IMGPROBE" <<'EOF'
import calendar, hashlib, json, os, subprocess, sys, time
imgprobe = sys.argv[1]
want = json.load(open('want.json'))
fails = []

def fail(msg):
    fails.append(msg)
    print('FAIL: ' + msg)

def parse(text):
    res, cur, header = {}, None, True
    for line in text.split(b'\n'):
        if line == b'':
            header = True
            continue
        if header:
            cur = line[:-1].rstrip(b'/').decode()
            header = False
            continue
        parts = line.split(b' ', 5)
        name, target = parts[5].decode(), None
        if parts[0].startswith(b'l'):
            name, target = name.split(' -> ', 1)
        res[cur + '/' + name] = {'mode': parts[0].decode(), 'nlink': int(parts[1]), 'size': parts[2].decode(),
                                 'mtime': (parts[3] + b' ' + parts[4]).decode(), 'target': target}
    return res

def ntfsls_paths(text):
    res, cur = set(), None
    for line in text.split('\n'):
        if line.endswith(':') and line.startswith('/'):
            cur = line[:-1].rstrip('/')
        elif line and line not in ('.', '..') and cur is not None:
            res.add(cur + '/' + line)
    return res

def cat(img, path):
    return subprocess.run([imgprobe, 'cat', img, path], capture_output=True)

for name in sorted(os.listdir('v')):
    vd = os.path.join('v', name)
    img, fsimg = os.path.join(vd, 'disk.img'), os.path.join(vd, 'fs.img')
    got = parse(open(os.path.join(vd, 'ls-l.txt'), 'rb').read())
    if set(got) != set(want):
        fail('%s: ls -R lists %d paths, the tree has %d; missing %s, extra %s' % (
            name, len(got), len(want), sorted(set(want) - set(got))[:5], sorted(set(got) - set(want))[:5]))
    # ntfsls agrees on the names (it does not enter the junction either)
    theirs = ntfsls_paths(open(os.path.join(vd, 'ntfsls.txt'), encoding='utf-8', errors='replace').read())
    if theirs != set(got):
        fail('%s: ntfsls lists other names: %s / %s' % (name, sorted(theirs - set(got))[:5],
                                                        sorted(set(got) - theirs)[:5]))
    t0, t1 = map(int, open(os.path.join(vd, 'when')).read().split())
    bad = 0
    for p in sorted(set(got) & set(want)):
        g, w = got[p], want[p]
        errs = []
        if g['mode'][0] != w['type']:
            errs.append('type %s' % g['mode'][0])
        if g['nlink'] != w['nlink']:
            errs.append('nlink %d, not %d' % (g['nlink'], w['nlink']))
        if 'size' in w and g['size'] != str(w['size']):
            errs.append('size %s, not %d' % (g['size'], w['size']))
        if 'target' in w and g['target'] != w['target']:
            errs.append('target %r, not %r' % (g['target'], w['target']))
        mode = {'d': 'drwxr-xr-x', '-': '-r--r--r--' if w.get('readonly') else '-rw-r--r--', 'l': 'lrwxrwxrwx'}[w['type']]
        if g['mode'] != mode:
            errs.append('mode %s, not %s' % (g['mode'], mode))
        m = calendar.timegm(time.strptime(g['mtime'], '%Y-%m-%d %H:%M:%S'))
        if not t0 - 1 <= m <= t1 + 1:
            errs.append('mtime %s outside the generation' % g['mtime'])
        if errs:
            bad += 1
            if bad <= 10:
                fail('%s: %s: %s' % (name, p, '; '.join(errs)))
    for p, w in sorted(want.items()):
        if 'sha' not in w or not w['size']:
            continue
        r = cat(img, p)
        if r.returncode != 0 or hashlib.sha256(r.stdout).hexdigest() != w['sha']:
            fail('%s: cat %s: exit %d, content differs: %s' % (name, p, r.returncode, r.stderr.decode().strip()))
        o = subprocess.run(['ntfscat', fsimg, p], capture_output=True)
        if hashlib.sha256(o.stdout).hexdigest() != w['sha']:
            fail('%s: the oracle ntfscat %s disagrees with what was written' % (name, p))
    # lookups: case, 8.3 names, links resolved inside the volume
    for path, expect in [('/NAMES/case', b'lower c\n'), ('/names/Case', b'upper C\n'), ('/names/CASE', b'all upper\n'),
                         ('/names/cAsE', None), ('/names/LONG FILE NAME.TXT', b'a long name\n'),
                         ('/names/LONGFI~1.TXT', b'a long name\n'), ('/names/HÉLLO WÖRLD', 'héllo wörld\n'.encode()),
                         ('/names/ΩΜΈΓΑ', 'Ωμέγα\n'.encode()), ('/links/absolute', b'the target\n'),
                         ('/links/interix', b'lower c\n'),
                         ('/links/junction/d03/d04/d05/d06/d07/d08/d09/d10/d11/d12/d13/d14/d15/d16/d17/d18/d19/d20/bottom',
                          b'at the bottom\n'),
                         ('/links/with-stream', b'main data\n')]:
        r = cat(img, path)
        if r.returncode != 0 or (expect is not None and r.stdout != expect):
            fail('%s: cat %s: exit %d %r %r' % (name, path, r.returncode, r.stdout[:40], r.stderr))
    r = subprocess.run([imgprobe, 'cat', img, '/links/relative'], capture_output=True)
    if r.returncode or hashlib.sha256(r.stdout).hexdigest() != want['/files/size-1']['sha']:
        fail('%s: cat /links/relative: %r' % (name, r.stderr))
    for path, msg in [('/files/wof-compressed', 'WOF'), ('/links/other-drive', 'not found'), ('/nowhere', 'not found')]:
        r = cat(img, path)
        if r.returncode != 2 or msg not in r.stderr.decode() or r.stderr.decode().count('\n') != 1:
            fail('%s: cat %s: exit %d %r (expected one line saying %r)' % (name, path, r.returncode, r.stderr, msg))
    # the whole-volume image lists the same as the partition
    c = subprocess.run([imgprobe, 'ls', '-R', '-l', fsimg, '/'], capture_output=True)
    if c.returncode or c.stdout != open(os.path.join(vd, 'ls-l.txt'), 'rb').read():
        fail('%s: the unpartitioned volume lists differently: %r' % (name, c.stderr))
    r = subprocess.run([imgprobe, 'ls', img, '/big'], capture_output=True)
    if r.stdout != b''.join(b'entry-%05d\n' % i for i in range(3000)):
        fail('%s: ls /big does not print the 3,000 names in order' % name)
sys.exit(1 if fails else 0)
EOF

# ---- damage, on copies of the 4 KiB-cluster volume ----
fs=v/c4k/fs.img
# a dirty volume and a hibernated system: notes
cp "$fs" dirty.img
printf 'HIBR' >hibr
printf 'file\t/hiberfil.sys\thibr\n' | ./gen dirty.img
python3 "$SRCDIR/tests/integration/ntfs_mark_dirty.py" dirty.img
"$IMGPROBE" ls dirty.img / >/dev/null 2>dirty.err || { cat dirty.err; echo "FAIL: a dirty volume refused"; exit 1; }
grep -q 'warning: ntfs: the volume is marked dirty' dirty.err || { cat dirty.err; echo "FAIL: no note of the dirty flag"; exit 1; }
grep -q "warning: ntfs: hiberfil.sys holds a hibernated system ('HIBR')" dirty.err || { cat dirty.err; echo "FAIL: no note of hiberfil.sys"; exit 1; }

# the primary boot sector destroyed: mkntfs put the backup in the volume's last sector
cp "$fs" noboot.img
dd if=/dev/zero of=noboot.img bs=512 count=1 conv=notrunc status=none
"$IMGPROBE" ls -R -l noboot.img / >noboot.txt 2>noboot.err || { cat noboot.err; echo "FAIL: the backup boot sector is not read"; exit 1; }
grep -q 'warning: ntfs: primary boot sector unusable' noboot.err || { cat noboot.err; echo "FAIL: no warning about the boot sector"; exit 1; }
cmp -s noboot.txt v/c4k/ls-l.txt || { echo "FAIL: the backup boot sector lists differently"; exit 1; }

# a torn MFT record (the root directory's): a clear error, no crash
cp "$fs" torn.img
python3 - torn.img <<'EOF'
import struct, sys
f = open(sys.argv[1], 'r+b')
boot = f.read(512)
bps, spc = struct.unpack_from('<HB', boot, 11)
mft = struct.unpack_from('<Q', boot, 0x30)[0] * bps * spc
f.seek(mft + 5 * 1024 + 510)
f.write(b'\xde\xad')
EOF
if "$IMGPROBE" ls torn.img / >/dev/null 2>torn.err || ! grep -q 'MFT record 5: sector 0 ends in dead, not the update sequence number' torn.err; then
    cat torn.err; echo "FAIL: a torn record is not reported"; exit 1
fi
echo "ok: ${#VARIANTS[@]} variants"
