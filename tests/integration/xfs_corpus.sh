#!/bin/bash
# The XFS images of the real corpus (mkfs.xfs of several eras, images the
# kernel filled: xfuse's golden images with every directory form, a v4
# filesystem of 512-byte blocks, 4 KiB sectors, no ftype, an old v4 one with
# version 1 inodes) and the XFS external log of broken/, through `imgprobe
# info`, `ls -R /`, `ls -R -l /` and `cat` of the files listed: each run ends
# with exit 0, or exit 2 and one-line messages, in bounded time; a signal, a
# hang or a sanitizer report fails. The images in xfs/ are sound: they must
# list without a warning, their root must hold the entries MANIFEST.tsv's
# "root dir (N): ..." fact names, and their label and UUID must be the ones
# its xfs_db facts give. Where the kernel mounts them (root, a loop device,
# XFS v5: this kernel has no v4), the whole tree is compared with what the
# kernel lists read-only (norecovery): names, types, modes, sizes, mtimes
# (bigtime on these), symlink targets and file contents.
set -euo pipefail
: "${IMGPROBE:?}"
CORPUS=${CORPUS:-}
[ -n "$CORPUS" ] && [ -f "$CORPUS/MANIFEST.tsv" ] || { echo "skip: no corpus"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/xfs_corpus.XXXXXX")
trap 'mountpoint -q "$T/m" 2>/dev/null && umount "$T/m"; rm -rf "$T"' EXIT

python3 - "$IMGPROBE" "$CORPUS" "$T" <<'EOF'
import hashlib, os, re, shutil, stat, subprocess, sys, time

imgprobe, corpus, tmp = sys.argv[1:4]
fails = []

def fail(msg):
    fails.append(msg)
    print('FAIL: ' + msg)

rows = []
for line in open(os.path.join(corpus, 'MANIFEST.tsv'), encoding='utf-8'):
    cols = line.rstrip('\n').split('\t')
    if len(cols) < 6 or cols[0] == 'path':
        continue
    if cols[0].startswith('xfs/') or (cols[0].startswith('broken/') and 'xfs' in cols[0]):
        rows.append((cols[0], cols[5]))

def unpack(path):
    src = os.path.join(corpus, path)
    if not os.path.exists(src):
        return None
    name = os.path.basename(path)
    for ext, tool in (('.xz', ['xz', '-dc']), ('.zst', ['zstd', '-qdc'])):
        if name.endswith(ext):
            if not shutil.which(tool[0]):
                return None
            out = os.path.join(tmp, name[:-len(ext)])
            with open(out, 'wb') as f:
                subprocess.run(tool + [src], stdout=f, check=True)
            return out
    return src

SANITIZER = re.compile(rb'(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:)')

def run(args, what):
    try:
        r = subprocess.run([imgprobe] + args, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        fail('%s: no answer in 120 s' % what)
        return None
    if SANITIZER.search(r.stderr) or r.returncode not in (0, 2):
        fail('%s: exit %d\n%s' % (what, r.returncode, r.stderr.decode(errors='replace')[-2000:]))
        return None
    if r.returncode == 2:
        lines = r.stderr.decode(errors='replace').splitlines()
        if not lines or not all(l.startswith('imgprobe: ') for l in lines):
            fail('%s: exit 2 without a proper message: %r' % (what, r.stderr[:500]))
    return r

def parse_long(text):
    res, cur, header = {}, None, True
    for line in text.split(b'\n'):
        if line == b'':
            header = True
            continue
        if header:
            cur, header = line[:-1].rstrip(b'/'), False
            continue
        parts = line.split(b' ', 5)
        name, target = parts[5], None
        if parts[0].startswith(b'l'):
            name, target = name.split(b' -> ', 1)
        res[cur + b'/' + name] = (parts[0].decode(), parts[2].decode(), target, (parts[3] + b' ' + parts[4]).decode())
    return res

def kernel_tree(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            rel = ('/' + os.path.relpath(p, root)).encode('utf-8', 'surrogateescape')
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                size = '%d,%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))
            else:
                size = str(st.st_size) if not stat.S_ISDIR(st.st_mode) else None
            target = os.readlink(p).encode('utf-8', 'surrogateescape') if stat.S_ISLNK(st.st_mode) else None
            mtime = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(int(st.st_mtime)))
            out[rel] = (stat.filemode(st.st_mode), size, target, p if stat.S_ISREG(st.st_mode) else None, mtime)
    return out

can_mount = os.geteuid() == 0 and 'xfs' in open('/proc/filesystems').read()
mnt = os.path.join(tmp, 'm')
os.makedirs(mnt)
checked = mounted = 0
for path, facts in rows:
    img = unpack(path)
    if img is None:
        print('skip: %s (missing, or no decompressor)' % path)
        continue
    checked += 1
    run(['info', img], path + ': info')
    ls = run(['ls', '-R', img, '/'], path + ': ls -R /')
    lsl = run(['ls', '-R', '-l', img, '/'], path + ': ls -R -l /')
    if ls is None or lsl is None:
        continue
    if path.startswith('broken/'):
        if ls.returncode != 2:
            fail('%s: an external log device is listed as a filesystem' % path)
        continue
    if ls.returncode != 0 or lsl.returncode != 0 or lsl.stderr:
        fail('%s: a sound image does not list cleanly: %s' % (path, (ls.stderr + lsl.stderr).decode(errors='replace').strip()))
        continue
    tree = parse_long(lsl.stdout)
    # files up to 64 MiB (xfuse's image holds a sparse file of 1 TiB)
    files = [p for p, v in tree.items() if v[0].startswith('-') and int(v[1]) <= 64 << 20]
    if not (can_mount and 'V5' in facts):  # else every file is read below, against the kernel
        for f in files[:100]:
            run(['cat', img, f.decode('utf-8', 'surrogateescape')], '%s: cat %s' % (path, f.decode(errors='replace')))
    m = re.search(r'root dir \((\d+)\): ([^;]*)', facts)
    if m:
        want = sorted(m.group(2).strip().split(','))
        ours = sorted(p[1:].decode('utf-8', 'surrogateescape') for p in tree if p.count(b'/') == 1)
        # the fact names the first entries and counts them all
        if not set(want) <= set(ours) or len(ours) != int(m.group(1)):
            fail('%s: root lists %s, MANIFEST %s' % (path, ours, want))
    # label and UUID as xfs_db gave them, through info --json
    info = run(['info', '--json', img], path + ': info --json')
    m = re.search(r'uuid=([0-9a-f-]{36})', facts)
    if info is not None and m and m.group(1).encode() not in info.stdout:
        fail('%s: info --json does not give the UUID %s' % (path, m.group(1)))
    m = re.search(r'label="([^"]*)"', facts)
    label = m.group(1).split('\\000')[0] if m else ''
    if info is not None and label and ('"%s"' % label).encode() not in info.stdout:
        fail('%s: info --json does not give the label %s' % (path, label))
    # the whole tree against the kernel's reading of it
    if can_mount and 'V5' in facts:
        if subprocess.run(['mount', '-o', 'ro,norecovery,loop', img, mnt], capture_output=True).returncode != 0:
            print('note: %s: the kernel does not mount it' % path)
            continue
        try:
            theirs = kernel_tree(mnt)
            mounted += 1
            if set(theirs) != set(tree):
                fail('%s: %d paths, the kernel lists %d; missing %s, extra %s' % (
                    path, len(tree), len(theirs), sorted(set(theirs) - set(tree))[:5], sorted(set(tree) - set(theirs))[:5]))
            bad = 0
            # every file's metadata, and the contents of at most 200 files
            # spread over the tree (one imgprobe run each: all of xfuse's
            # 1,270 took five minutes of CI under ASan)
            regular = [p for p in sorted(set(theirs) & set(tree)) if theirs[p][3]]
            step = -(-len(regular) // 200) if regular else 1
            sample = set(regular[::step])
            for p in sorted(set(theirs) & set(tree)):
                mode, size, target, host, mtime = theirs[p]
                g = tree[p]
                if g[0] != mode or (size is not None and g[1] != size) or g[2] != target or g[3] != mtime:
                    bad += 1
                    if bad <= 5:
                        fail('%s: %s: imgprobe %r, the kernel %r' % (path, p.decode(errors='replace'), g, (mode, size, target)))
                if host and p in sample and bad == 0 and int(size) <= 64 << 20:
                    r = run(['cat', img, p.decode('utf-8', 'surrogateescape')], '%s: cat' % path)
                    if r is not None and hashlib.sha256(r.stdout).digest() != hashlib.sha256(open(host, 'rb').read()).digest():
                        bad += 1
                        fail('%s: cat %s differs from the kernel\'s reading' % (path, p.decode(errors='replace')))
        finally:
            subprocess.run(['umount', mnt])
if checked == 0:
    print('skip: no XFS image of the corpus could be read')
    sys.exit(77)
print('ok: %d images, %d compared with the kernel' % (checked, mounted))
sys.exit(1 if fails else 0)
EOF
