#!/bin/bash
# The NTFS volumes of the real corpus, written by Windows 10 (4 KiB and
# 2 MiB clusters, an MBR disk each), by mkntfs + ntfs-3g (512-byte
# clusters, 512 subdirectories) and a qcow2 holding a Windows-written
# volume, through `imgprobe info`, `ls -R -l /` and `cat` of every file:
#  - each lists without error or warning, and its root agrees with the
#    "ntfsls root (N): ..." fact of MANIFEST.tsv; `info` names it ntfs;
#  - when ntfs-3g is installed, ntfsls -R (the oracle) lists the same
#    paths and ntfscat gives the same bytes for every file;
#  - every other image of the corpus whose guest blkid calls ntfs does too.
# The damaged images of broken/ are replayed by the fuzz harness (fuzz_ntfs).
set -euo pipefail
: "${IMGPROBE:?}"
CORPUS=${CORPUS:-}
[ -n "$CORPUS" ] && [ -f "$CORPUS/MANIFEST.tsv" ] || { echo "skip: no corpus"; exit 77; }
for tool in python3 qemu-img gzip; do
    command -v "$tool" >/dev/null || { echo "skip: $tool not installed"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/ntfs_corpus.XXXXXX")
trap 'rm -rf "$T"' EXIT

python3 - "$IMGPROBE" "$CORPUS" "$T" <<'EOF'
import hashlib, os, re, shutil, subprocess, sys

imgprobe, corpus, tmp = sys.argv[1:4]
oracle = shutil.which('ntfsls') and shutil.which('ntfscat')
fails = []

def fail(msg):
    fails.append(msg)
    print('FAIL: ' + msg)

rows = []
for line in open(os.path.join(corpus, 'MANIFEST.tsv'), encoding='utf-8'):
    cols = line.rstrip('\n').split('\t')
    if len(cols) < 6 or cols[0] == 'path':
        continue
    if cols[0].startswith('ntfs/') or re.search(r'blkid TYPE=ntfs', cols[5]):
        rows.append((cols[0], cols[5]))
if not rows:
    print('skip: no NTFS image in the corpus')
    sys.exit(77)

def unpack(path):
    """The image as imgprobe reads it, and the raw NTFS volume for the oracle."""
    src = os.path.join(corpus, path)
    name = os.path.basename(path)
    if name.endswith('.gz'):
        out = os.path.join(tmp, name[:-3])
        with open(out, 'wb') as f:
            subprocess.run(['gzip', '-dc', src], stdout=f, check=True)
        src = out
    fmt = subprocess.run(['qemu-img', 'info', '--output=json', src], capture_output=True, text=True, check=True)
    if '"format": "raw"' in fmt.stdout:
        return src, src
    raw = os.path.join(tmp, name + '.volume')
    subprocess.run(['qemu-img', 'convert', '-O', 'raw', src, raw], check=True)
    return src, raw

def parse(text):
    res, cur, header = {}, None, True
    for line in text.split('\n'):
        if line == '':
            header = True
            continue
        if header:
            cur = line[:-1].rstrip('/')
            header = False
            continue
        parts = line.split(' ', 5)
        name = parts[5].split(' -> ', 1)[0] if parts[0].startswith('l') else parts[5]
        res[cur + '/' + name] = parts
    return res

for path, facts in rows:
    img, raw = unpack(path)
    # the volume inside the raw disk: the partition the manifest names (LBA), else the whole
    m = re.search(r'partitions\(1\): start=(\d+)', facts)
    off = int(m.group(1)) * 512 if m else 0
    if off:
        vol = raw + '.part'
        with open(raw, 'rb') as fi, open(vol, 'wb') as fo:
            fi.seek(off)
            shutil.copyfileobj(fi, fo, 1 << 20)
        if raw != img:
            os.unlink(raw)
        raw = vol
    r = subprocess.run([imgprobe, 'ls', '-R', '-l', img, '/'], capture_output=True, timeout=120)
    if r.returncode != 0 or r.stderr:
        fail('%s: ls -R -l: exit %d %r' % (path, r.returncode, r.stderr.decode()[:300]))
        continue
    got = parse(r.stdout.decode('utf-8', 'replace'))
    m = re.search(r'ntfsls root \((\d+)\): ([^;]*)', facts)
    if m:
        root = sorted(p[1:] for p in got if p.count('/') == 1)
        want = sorted(x.strip() for x in m.group(2).split(','))
        if root != want:
            fail('%s: the root lists %s, the manifest %s' % (path, root, want))
    info = subprocess.run([imgprobe, 'info', img], capture_output=True, text=True)
    if info.returncode != 0 or ' ntfs ' not in info.stdout:
        fail('%s: info: exit %d, no ntfs in %r' % (path, info.returncode, info.stdout[-300:]))
    if not oracle:
        continue
    o = subprocess.run(['ntfsls', '-R', raw], capture_output=True, text=True, errors='replace')
    theirs, cur = set(), None
    for line in o.stdout.split('\n'):
        if line.startswith('/') and line.endswith(':'):
            cur = line[:-1].rstrip('/')
        elif line and line not in ('.', '..') and cur is not None:
            theirs.add(cur + '/' + line)
    if theirs != set(got):
        fail('%s: ntfsls -R lists other paths: %s / %s' % (path, sorted(theirs - set(got))[:5],
                                                          sorted(set(got) - theirs)[:5]))
    files = [p for p, parts in got.items() if parts[0].startswith('-')]
    for p in files:
        a = subprocess.run([imgprobe, 'cat', img, p], capture_output=True)
        b = subprocess.run(['ntfscat', raw, p], capture_output=True)
        if a.returncode != 0 or a.stdout != b.stdout:
            fail('%s: cat %s: exit %d, %d bytes, ntfscat %d: %s' % (path, p, a.returncode, len(a.stdout),
                                                                  len(b.stdout), a.stderr.decode().strip()))
    print('ok: %s: %d paths, %d files read' % (path, len(got), len(files)))
    for f in {raw, img}:
        if f.startswith(tmp):
            os.unlink(f)

sys.exit(1 if fails else 0)
EOF
