#!/bin/bash
# Registry hives through imgprobe's regf reader (tests/support/regdump.c),
# against hivex as the independent oracle:
#
#  1. fixtures: an empty hive (tests/support/mkhive.py writes it from the
#     specification: a base block, one hive bin, a root key node and its
#     security cell) filled by
#     `hivexregedit --merge` with every value type, empty, inline (1-4 bytes),
#     cell and large (16345 and 70000 bytes) data, Latin-1 and UTF-16 key and
#     value names (a surrogate pair among them), escaped names, a default
#     value, a key with 1500 subkeys and deep nesting; `regdump HIVE` must
#     equal `hivexregedit --export HIVE '\'` byte for byte, and `regdump
#     --get` must print what `hivexget` prints, looked up in another case;
#  2. damage made here to that hive (a broken hbin signature, a subkey list
#     pointing at the root, a value's data cell offset into the middle of a
#     cell, a count larger than its list) gives exit 2 and a message naming it;
#  3. the real hives of ../shared/corpus/regf (written by Windows, offreg,
#     hivex): the export equals hivex's (hivex refuses the tombstone values of
#     a 1.6 differencing hive, whose data is empty: those lines alone may be
#     ours only), the dirty flag matches the sequence numbers MANIFEST.tsv
#     gives, and the `hivexget` facts of MANIFEST.tsv hold;
#  4. the damaged hives of ../shared/corpus/broken end with exit 0 or exit 2
#     and one "regf:" line that names what is wrong, never a crash or a hang.
set -euo pipefail
: "${REGDUMP:?}"
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/regf.XXXXXX")
trap 'rm -rf "$T"' EXIT

python3 - "$REGDUMP" "${CORPUS:-}" "$T" <<'EOF'
import os, re, shutil, struct, subprocess, sys

regdump, corpus, tmp = sys.argv[1:4]
fails = []
ran = 0
SANITIZER = re.compile(rb'(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:)')
have_hivex = shutil.which('hivexregedit') and shutil.which('hivexget')
if not have_hivex:
    print('note: hivexregedit/hivexget not installed (libwin-hivex-perl, libhivex-bin): fixtures skipped')

def fail(msg):
    fails.append(msg)
    print('FAIL: ' + msg)

def run(args, what, timeout=120):
    """regdump ARGS; a crash, hang, sanitizer report or badly formed failure is a failure."""
    try:
        r = subprocess.run([regdump] + args, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail('%s: no answer in %d s' % (what, timeout))
        return None
    if SANITIZER.search(r.stderr) or r.returncode not in (0, 2):
        fail('%s: exit %d\n%s' % (what, r.returncode, r.stderr.decode(errors='replace')[-2000:]))
        return None
    if r.returncode == 2:
        lines = r.stderr.decode(errors='replace').splitlines()
        if len(lines) != 1 or not lines[0].startswith('regdump: ') or ': regf: ' not in lines[0]:
            fail('%s: exit 2 without one regf message: %r' % (what, r.stderr[:500]))
    return r

def hivex_export(path, unsafe=False):
    # PERL_UNICODE=O: every name printed as UTF-8 (without it, Perl prints a
    # name that has no character above U+00FF in Latin-1)
    env = dict(os.environ, PERL_UNICODE='O')
    args = ['hivexregedit'] + (['--unsafe'] if unsafe else []) + ['--export', path, '\\']
    return subprocess.run(args, capture_output=True, env=env)

def compare_export(path, name, tolerate_empty=False):
    ours = run([path], name + ': export')
    if ours is None:
        return
    if ours.returncode != 0:
        fail('%s: %s' % (name, ours.stderr.decode(errors='replace').strip()))
        return
    theirs = hivex_export(path)
    if theirs.returncode == 0:
        if ours.stdout != theirs.stdout:
            diff_lines(name, ours.stdout, theirs.stdout)
        return
    # hivex refuses a value: ours may list it, with empty data, and nothing else differs
    theirs = hivex_export(path, unsafe=True)
    a, b = ours.stdout.split(b'\n'), theirs.stdout.split(b'\n')
    extra = [l for l in a if l not in set(b)]
    if not tolerate_empty or [l for l in b if l not in set(a)] or any(not l.endswith(b'=hex(0):') for l in extra):
        diff_lines(name, ours.stdout, theirs.stdout)
    else:
        print('%s: %d empty values that hivex refuses' % (name, len(extra)))

def diff_lines(name, a, b):
    a, b = a.split(b'\n'), b.split(b'\n')
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else b'<end>'
        y = b[i] if i < len(b) else b'<end>'
        if x != y:
            fail('%s: export differs from hivexregedit at line %d:\n  ours:  %r\n  hivex: %r'
                 % (name, i + 1, x[:200], y[:200]))
            return

# ---- 1. fixtures ----

sys.path.insert(0, os.path.join(os.environ.get('SRCDIR', '.'), 'tests', 'support'))
sys.dont_write_bytecode = True
from mkhive import empty_hive, fixture_reg  # noqa: E402

def get_checks(hive, name, checks):
    """regdump --get against hivexget, for (key path given to hivexget, same path in other case, value)."""
    for key, other_case, value in checks:
        theirs = subprocess.run(['hivexget', hive, key, value], capture_output=True)
        ours = run(['--get', hive, other_case, value.swapcase() if value.isascii() else value],
                   '%s: --get %s %s' % (name, other_case, value))
        if ours is None:
            continue
        if theirs.returncode != 0 or ours.returncode != 0 or ours.stdout != theirs.stdout:
            fail('%s: --get %s %s: ours %r (exit %d), hivexget %r (exit %d)' % (
                name, other_case, value, ours.stdout[:200], ours.returncode, theirs.stdout[:200],
                theirs.returncode))

fixture = None
if have_hivex:
    for minor in (3, 5):
        hive = os.path.join(tmp, 'fixture-1.%d.hive' % minor)
        with open(hive, 'wb') as f:
            f.write(empty_hive(minor))
        reg = os.path.join(tmp, 'fixture.reg')
        with open(reg, 'wb') as f:
            f.write(fixture_reg())
        m = subprocess.run(['hivexregedit', '--merge', hive, reg], capture_output=True)
        if m.returncode != 0:
            fail('hivexregedit --merge into the 1.%d fixture: %s' % (minor, m.stderr.decode(errors='replace')))
            continue
        ran += 1
        name = 'fixture 1.%d' % minor
        compare_export(hive, name)
        info = run(['--info', hive], name + ': --info')
        if info is not None and b'dirty no' not in info.stdout:
            fail('%s: --info says %r' % (name, info.stdout))
        get_checks(hive, name, [
            ('\\Types', '\\types', 'sz'), ('\\Types', 'TYPES', 'expand'), ('\\Types', '\\TYPES\\', 'dword'),
            ('\\Types', '\\types', 'dword-be'), ('\\Types', '\\types', 'multi'), ('\\Types', '\\types', 'qword'),
            ('\\Types', '\\types', 'sz-junk-after-nul'), ('\\Types', '\\types', 'sz-unterminated'),
            ('\\Big', '\\BIG', 'large-string'), ('\\Many\\Key1499', '\\many\\key1499', 'last'), ('\\Types', '\\types', '@'),
            ('\\Names\\café', '\\NAMES\\CAFÉ', 'ÿ-latin1'), ('\\Names\\Привет', '\\names\\Привет', 'значение'),
            ('\\Names\\MiXeD CaSe', '\\names\\mixed case', 'VaLuE'),
            ('\\Deep\\1\\2\\3\\4\\5\\6\\7\\8\\9\\10\\11\\12', 'deep\\1\\2\\3\\4\\5\\6\\7\\8\\9\\10\\11\\12', 'leaf'),
            ('\\Software\\Microsoft\\Windows NT\\CurrentVersion', '\\SOFTWARE\\microsoft\\windows nt\\currentversion',
             'ProductName'),
            ('\\Software\\Microsoft\\Windows NT\\CurrentVersion', '\\Software\\Microsoft\\Windows NT\\CurrentVersion',
             'CurrentMajorVersionNumber')])
        fixture = hive
        # what is not there is not found
        r = run(['--get', hive, '\\Names\\cafe', 'x'], name + ': --get of a missing key')
        if r is not None and (r.returncode != 2 or b"no key 'cafe'" not in r.stderr):
            fail('%s: a missing key: exit %d, %r' % (name, r.returncode, r.stderr))

# ---- 2. damage made here ----

def cells(data):
    """(cell offset, size, signature) of every allocated cell, by walking the bins."""
    out, bin = [], 0
    bins_size = struct.unpack_from('<I', data, 40)[0]
    while bin < bins_size:
        size = struct.unpack_from('<I', data, 4096 + bin + 8)[0]
        c = bin + 32
        while c < bin + size:
            s = struct.unpack_from('<i', data, 4096 + c)[0]
            if s < 0:
                out.append((c, -s, bytes(data[4096 + c + 4:4096 + c + 6])))
            c += abs(s)
        bin += size
    return out

def damaged(name, data, expect):
    path = os.path.join(tmp, 'damaged-' + name)
    with open(path, 'wb') as f:
        f.write(data)
    r = run([path], 'damaged ' + name)
    if r is not None and (r.returncode != 2 or expect.encode() not in r.stderr):
        fail('damaged %s: exit %d, %r (expected a message with %r)' % (name, r.returncode, r.stderr[:300], expect))

if fixture:
    good = open(fixture, 'rb').read()
    root = struct.unpack_from('<I', good, 36)[0]
    all_cells = cells(good)
    d = bytearray(good); d[4096:4100] = b'hbix'
    damaged('hbin-signature', d, "no 'hbin' signature at 0x1000")
    # a subkey list (lh) whose first element is the root: a cycle
    lh = next(c for c, s, sig in all_cells if sig == b'lh')
    d = bytearray(good); struct.pack_into('<I', d, 4096 + lh + 4 + 4, root)
    damaged('subkey-cycle', d, '(the root)')
    # a value whose data cell offset points 8 bytes into a cell
    vk = next(c for c, s, sig in all_cells if sig == b'vk' and struct.unpack_from('<I', good, 4096 + c + 8)[0] >= 5
              and struct.unpack_from('<I', good, 4096 + c + 8)[0] < 0x80000000)
    d = bytearray(good)
    struct.pack_into('<I', d, 4096 + vk + 12, struct.unpack_from('<I', good, 4096 + vk + 12)[0] + 8)
    damaged('value-data-offset', d, 'which is not the start of an allocated cell')
    # a key node that counts one subkey more than its list holds (\Many, 1500)
    many = next(c for c, s, sig in all_cells if sig == b'nk' and good[4096 + c + 80:4096 + c + 84] == b'Many')
    d = bytearray(good); struct.pack_into('<I', d, 4096 + many + 24, 1501)
    damaged('subkey-count', d, 'counts 1501 subkeys, but its subkey lists hold 1500')
    # a cell whose size runs past its bin
    d = bytearray(good); struct.pack_into('<i', d, 4096 + root, -0x7ffffff8)
    damaged('cell-size', d, 'cell at 0x1020 has size')
    ran += 1

# ---- 3. the real hives ----

def unpack(path):
    src = os.path.join(corpus, path)
    if not os.path.exists(src):
        return None
    name = os.path.basename(path)
    if name.endswith('.xz'):
        out = os.path.join(tmp, name[:-3])
        with open(out, 'wb') as f:
            if subprocess.run(['xz', '-dc', src], stdout=f).returncode != 0:
                return None
        return out
    return src

rows = []
if corpus and os.path.isfile(os.path.join(corpus, 'MANIFEST.tsv')):
    for line in open(os.path.join(corpus, 'MANIFEST.tsv'), encoding='utf-8'):
        cols = line.rstrip('\n').split('\t')
        if len(cols) >= 6 and (cols[0].startswith('regf/') or cols[0].startswith('broken/')):
            rows.append((cols[0], cols[5]))
else:
    print('note: no corpus: the real hives are skipped')

for path, facts in rows:
    if not path.startswith('regf/'):
        continue
    hive = unpack(path)
    if hive is None:
        print('skip: %s (missing, or no xz)' % path)
        continue
    ran += 1
    if have_hivex:
        compare_export(hive, path, tolerate_empty=True)
    info = run(['--info', hive], path + ': --info')
    m = re.search(r'seq=(\d+)/(\d+)', facts)
    if info is not None and m:
        want = b'dirty yes' if m.group(1) != m.group(2) else b'dirty no'
        if info.returncode != 0 or want not in info.stdout:
            fail('%s: MANIFEST says seq=%s/%s, --info %r' % (path, m.group(1), m.group(2), info.stdout))
    for key, value, want in re.findall(r'hivexget (\\\S*) (\S+) = ([^;]*?)\s*(?:;;|$)', facts):
        r = run(['--get', hive, key.upper(), value.lower()], '%s: --get %s %s' % (path, key, value))
        if r is not None and r.stdout.decode('utf-8', 'replace').strip() != want.strip():
            fail('%s: --get %s %s: %r, MANIFEST says %r' % (path, key, value, r.stdout[:200], want))

# ---- 4. the damaged hives ----

expected = {  # what each message must name
    'broken/yarp-BadBaseBlockHive': 'hive version 1.1 is not supported',
    'broken/yarp-TruncatedHiveBin': "no 'regf' signature",
    'broken/yarp-TruncatedNameHive': 'runs past its cell',
    'broken/yarp-EffectiveSizeHive': 'not the start of an allocated cell',
    'broken/regipy-corrupted_system_hive.xz': "no 'hbin' signature",
    'broken/dfwinreg-NTUSER.DAT.LOG': 'a transaction log, not a primary hive file',
}
for path, facts in rows:
    if not path.startswith('broken/') or ('regf' not in facts and 'hive' not in facts.lower()):
        continue
    hive = unpack(path)
    if hive is None:
        continue
    ran += 1
    r = run([hive], path)
    if r is None:
        continue
    want = expected.get(path)
    if want and (r.returncode != 2 or want.encode() not in r.stderr):
        fail('%s: exit %d, %r (expected a message with %r)' % (path, r.returncode, r.stderr[:300], want))
    if not want:
        print('%s: exit %d %s' % (path, r.returncode, r.stderr.decode(errors='replace').strip()))
    if path == 'broken/yarp-GarbageHive':  # trailing bytes after the bins: read, and said
        i = run(['--info', hive], path + ': --info')
        if i is not None and (r.returncode != 0 or b'are ignored' not in i.stdout):
            fail('%s: trailing garbage not read and noted: %r' % (path, i.stdout))

if ran == 0:
    print('skip: neither hivex nor the corpus')
    sys.exit(77)
print('%d hives checked, %d failures' % (ran, len(fails)))
sys.exit(1 if fails else 0)
EOF
