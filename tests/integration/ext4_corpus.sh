#!/bin/bash
# The ext2/3/4 images of the real corpus, written by mke2fs, the kernel and
# e2fsprogs' test suite (many deliberately corrupted), through `imgprobe
# info`, `ls -R /`, `ls -R -l /` and `cat` of the files listed: each run ends
# with exit 0, or exit 2 and one-line messages, in bounded time; a signal, a
# hang or a sanitizer report fails. The images in ext/ are sound and must
# list. The root listing agrees with the allocated entries that The Sleuth
# Kit's `fls -u` finds (when sleuthkit is installed and finds any), else with the
# "fls root (N): ..." fact of MANIFEST.tsv (which counts deleted entries too:
# what imgprobe lists must be among them, and no more than N).
set -euo pipefail
: "${IMGPROBE:?}"
CORPUS=${CORPUS:-}
[ -n "$CORPUS" ] && [ -f "$CORPUS/MANIFEST.tsv" ] || { echo "skip: no corpus"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/ext4_corpus.XXXXXX")
trap 'rm -rf "$T"' EXIT

python3 - "$IMGPROBE" "$CORPUS" "$T" <<'EOF'
import os, re, shutil, subprocess, sys

imgprobe, corpus, tmp = sys.argv[1:4]
fls = shutil.which('fls')
fails = []

def fail(msg):
    fails.append(msg)
    print('FAIL: ' + msg)

# every ext image: ext/*, the e2fsprogs-* and util-linux-ext4-* images of
# broken/, and the containers whose guest blkid calls ext2/3/4
rows = []
for line in open(os.path.join(corpus, 'MANIFEST.tsv'), encoding='utf-8'):
    cols = line.rstrip('\n').split('\t')
    if len(cols) < 6 or cols[0] == 'path':
        continue
    path, facts = cols[0], cols[5]
    base = os.path.basename(path)
    if (path.startswith('ext/') or base.startswith('e2fsprogs-') or base.startswith('util-linux-ext4')
            or re.search(r'guest: blkid TYPE=ext[234]', facts)):
        if path.endswith('.001'):
            continue  # the second half of a split image, joined with .000
        rows.append((path, facts))

def unpack(path):
    src = os.path.join(corpus, path)
    if not os.path.exists(src):
        return None
    name = os.path.basename(path)
    for ext, tool in (('.gz', ['gzip', '-dc']), ('.bz2', ['bzip2', '-dc']), ('.xz', ['xz', '-dc']),
                      ('.zst', ['zstd', '-qdc'])):
        if name.endswith(ext):
            if not shutil.which(tool[0]):
                return None
            out = os.path.join(tmp, name[:-len(ext)])
            with open(out, 'wb') as f:
                subprocess.run(tool + [src], stdout=f, check=True)
            return out
    if name.endswith('.000'):
        out = os.path.join(tmp, name[:-4] + '.img')
        with open(out, 'wb') as f:
            for part in ('.000', '.001'):
                f.write(open(src[:-4] + part, 'rb').read())
        return out
    return src

SANITIZER = re.compile(rb'(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:)')

def run(args, what):
    """Run imgprobe; a crash, hang, sanitizer report or badly formed failure is a failure."""
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

checked = 0
for path, facts in rows:
    img = unpack(path)
    if img is None:
        print('skip: %s (missing, or no decompressor)' % path)
        continue
    checked += 1
    name = path
    run(['info', img], name + ': info')
    ls = run(['ls', '-R', img, '/'], name + ': ls -R /')
    lsl = run(['ls', '-R', '-l', img, '/'], name + ': ls -R -l /')
    if ls is None or lsl is None:
        continue
    if path.startswith('ext/') and ls.returncode != 0:
        fail('%s: a sound image does not list: %s' % (name, ls.stderr.decode(errors='replace').strip()))
    # cat the regular files listed (at most 100)
    cur, files = None, []
    for line in lsl.stdout.split(b'\n'):
        if line.endswith(b':') and not line.startswith((b'-', b'd', b'l', b'c', b'b', b'p', b's')):
            cur = line[:-1].rstrip(b'/')
        elif line.startswith(b'-') and cur is not None:
            files.append(cur + b'/' + line.split(b' ', 5)[5])
    for f in files[:100]:
        run(['cat', img, f.decode('utf-8', 'surrogateescape')], '%s: cat %s' % (name, f.decode(errors='replace')))
    # the root listing against fls
    root = run(['ls', img, '/'], name + ': ls /')
    if root is None or root.returncode != 0:
        if 'primary superblock zeroed' in facts:
            fail('%s: not read through its backup superblock' % name)
        continue
    ours = [n for n in root.stdout.decode('utf-8', 'surrogateescape').split('\n') if n]
    m = re.search(r'fls root \((\d+)\):([^;]*)', facts)
    if fls and not re.search(r'guest: ', facts):
        r = subprocess.run([fls, '-u', img], capture_output=True)
        theirs = sorted(l.split('\t', 1)[1] for l in r.stdout.decode('utf-8', 'surrogateescape').splitlines()
                        if '\t' in l and not l.split('\t', 1)[1].startswith('$Orphan'))
        if r.returncode == 0 and theirs:
            if sorted(ours) != theirs:
                fail('%s: root lists %s, fls -u %s' % (name, sorted(ours), theirs))
            continue
    # a destroyed primary superblock: found through group 1's backup, listed
    # as debugfs lists it when told where the backup is
    if 'primary superblock zeroed' in facts:
        r = subprocess.run(['debugfs', '-s', '8193', '-b', '1024', '-R', 'ls -p /', img],
                           capture_output=True) if shutil.which('debugfs') else None
        theirs = sorted(l.split('/')[5] for l in (r.stdout.decode() if r else '').splitlines()
                        if l.count('/') >= 6 and l.split('/')[5] not in ('.', '..'))
        if not theirs:
            fail('%s: debugfs lists nothing through the backup superblock' % name)
        elif sorted(ours) != theirs:
            fail('%s: root lists %s, debugfs (backup superblock) %s' % (name, sorted(ours), theirs))
        continue
    if m and int(m.group(1)) > 0:
        n = int(m.group(1))
        listed = [x.strip() for x in m.group(2).split(',') if x.strip()]
        if len(ours) > n or (len(listed) == n and not set(ours) <= set(listed)):
            fail('%s: root lists %s; MANIFEST says fls root (%d): %s' % (name, ours, n, listed))

if checked == 0:
    print('skip: no ext image could be unpacked')
    sys.exit(77)
print('%d ext images checked' % checked)
sys.exit(1 if fails else 0)
EOF
