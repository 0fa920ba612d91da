#!/bin/bash
# The initramfs reader against images made by the real tools: a tree (files,
# directories, symlinks, an empty file, names with spaces, a 9 MiB file so
# that lz4 -l writes two blocks and bzip2 -1 several) written by
# `cpio -o -H newc`, then compressed with gzip, xz, lzma, zstd, lz4 -l, bzip2
# or not at all, alone and after an uncompressed early-microcode archive:
#   - the names tests/support/cpiolist.c lists equal `cpio -it`'s (without
#     "./" and the root); the modes and sizes equal the tree's (lstat);
#   - each decoder's output (cpiolist -d) equals the uncompressed archive;
#   - concatenations the kernel reads (GRUB's 4-byte zero padding between
#     two gzip or two lz4 -l archives; a microcode archive first) list both
#     archives' names, in order;
#   - bad inputs: trailing junk (read, with a note), a truncated stream, the
#     lz4 frame format (a note: the kernel cannot read it), an odc archive, a
#     name without its NUL, a decompression bomb (1 GiB of zeros) and 10
#     million entries: a clear error, in bounded time.
#
# Needs cpio, gzip, xz, lzma, zstd, lz4, bzip2 (each missing compressor is
# skipped), python3.
set -euo pipefail

: "${CPIOLIST:?CPIOLIST must name the cpiolist test helper}"
skip() {
    echo "skip: $*"
    exit 77
}
for tool in cpio python3 cmp; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgprobe-initramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# ---- the tree and its archives ----
tree=$tmp/tree
mkdir -p "$tree/usr/lib/modules/6.1.0-13-amd64/kernel/drivers/block" "$tree/etc/modprobe.d" "$tree/a dir/with space"
echo "virtio_blk" >"$tree/usr/lib/modules/6.1.0-13-amd64/kernel/drivers/block/virtio_blk.ko"
head -c 70000 /dev/urandom >"$tree/usr/lib/modules/6.1.0-13-amd64/kernel/drivers/block/virtio_scsi.ko.xz"
: >"$tree/etc/empty"
echo "options virtio_net napi_tx=1" >"$tree/etc/modprobe.d/virtio.conf"
echo "spaced" >"$tree/a dir/with space/file name"
ln -s usr/lib "$tree/lib"
ln -s ../../no/such/target "$tree/etc/dangling"
chmod 4755 "$tree/etc/modprobe.d/virtio.conf"
# 9 MiB: text, runs and random bytes (lz4 -l cuts blocks at 8 MiB, bzip2 -1 at 100 kB)
python3 - "$tree/big" <<'EOF'
import os, sys
with open(sys.argv[1], 'wb') as f:
    for i in range(9 * 16):
        f.write((b'line %d of the big file\n' % i) * 1500)
        f.write(bytes([i % 256]) * 20000)
        f.write(os.urandom(8000))
        f.flush()
    f.truncate(9 << 20)
EOF

(cd "$tree" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$tmp/main.cpio"
early=$tmp/early
mkdir -p "$early/kernel/x86/microcode"
head -c 5000 /dev/urandom >"$early/kernel/x86/microcode/GenuineIntel.bin"
(cd "$early" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$tmp/early.cpio"
mkdir -p "$tmp/extra"
echo second >"$tmp/extra/test-file"
(cd "$tmp/extra" && find . | cpio -o -H newc --quiet) >"$tmp/extra.cpio"

# cpio's listing without "./" and without the root: what the reader lists
names() { cpio -it --quiet <"$1" | sed -e 's|^\./||' -e '/^\.$/d'; }
names "$tmp/main.cpio" >"$tmp/main.names"
names "$tmp/early.cpio" >"$tmp/early.names"
names "$tmp/extra.cpio" >"$tmp/extra.names"
[ "$(wc -l <"$tmp/main.names")" -ge 15 ] || fail "the tree's archive lists too few names"

# modes and sizes from the tree itself: mode (octal), size (a symlink's is its target's length)
python3 - "$tree" >"$tmp/main.attrs" <<'EOF'
import os, sys
root = sys.argv[1]
out = []
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        p = os.path.join(d, n)
        st = os.lstat(p)
        size = 0
        if os.path.islink(p):
            size = len(os.readlink(p))
        elif os.path.isfile(p):
            size = st.st_size
        out.append('%06o\t%d\t%s' % (st.st_mode, size, os.path.relpath(p, root)))
print('\n'.join(sorted(out)))
EOF

# list IMAGE EXPECTED-NAMES WANT-COMPRESSION: cpiolist's names equal EXPECTED-NAMES, its summary says WANT-COMPRESSION
list() {
    local img=$1 want=$2 comp=$3
    if ! "$CPIOLIST" "$img" >"$tmp/got.names" 2>"$tmp/got.err"; then
        cat "$tmp/got.err" >&2
        fail "cpiolist $(basename "$img") failed"
    fi
    diff -u "$want" "$tmp/got.names" >&2 || fail "$(basename "$img"): names differ from cpio's"
    grep -q "compression=$comp " "$tmp/got.err" || fail "$(basename "$img"): wanted compression=$comp: $(cat "$tmp/got.err")"
}

compressors=(
    "none|cat"
    "gzip|gzip -c -9"
    "xz|xz -c --check=crc32"
    "lzma|lzma -c"
    "zstd|zstd -q -c -19"
    "lz4|lz4 -l -c -9"
    "bzip2|bzip2 -c -1"
)
checked=0
for entry in "${compressors[@]}"; do
    name=${entry%%|*}
    cmd=${entry#*|}
    command -v "${cmd%% *}" >/dev/null 2>&1 || {
        echo "no ${cmd%% *}: $name not checked"
        continue
    }
    $cmd <"$tmp/main.cpio" >"$tmp/main.$name"
    list "$tmp/main.$name" "$tmp/main.names" "$name"
    # modes and sizes
    "$CPIOLIST" -v "$tmp/main.$name" 2>/dev/null | awk -F'\t' '{sub(/ -> .*/, "", $5); print $3 "\t" $4 "\t" $5}' |
        LC_ALL=C sort -t$'\t' -k3 >"$tmp/got.attrs"
    LC_ALL=C sort -t$'\t' -k3 "$tmp/main.attrs" | diff -u - "$tmp/got.attrs" >&2 || fail "$name: modes or sizes differ"
    # the decoder's bytes
    if [ "$name" != none ]; then
        "$CPIOLIST" -d "$tmp/main.$name" 2>"$tmp/d.err" | cmp - "$tmp/main.cpio" ||
            fail "$name: decompressed bytes differ: $(cat "$tmp/d.err")"
        grep -q "stream ends at $(stat -c %s "$tmp/main.$name")\$" "$tmp/d.err" ||
            fail "$name: the stream does not end at the file's end: $(cat "$tmp/d.err")"
    fi
    # after an early-microcode archive, as dracut and mkinitramfs write it
    cat "$tmp/early.cpio" "$tmp/main.$name" >"$tmp/both.$name"
    cat "$tmp/early.names" "$tmp/main.names" >"$tmp/both.names"
    list "$tmp/both.$name" "$tmp/both.names" "none+$name"
    rm -f "$tmp/both.$name"
    checked=$((checked + 1))
done
[ "$checked" -ge 2 ] || skip "fewer than two compressors installed"

# ---- concatenations the kernel reads ----
pad4() { head -c $(((4 - $(stat -c %s "$1") % 4) % 4)) /dev/zero >>"$1"; }
cat "$tmp/main.names" "$tmp/extra.names" >"$tmp/two.names"
for entry in "gzip|gzip -c" "lz4|lz4 -l -c" "zstd|zstd -q -c" "xz|xz -c --check=crc32"; do
    name=${entry%%|*}
    cmd=${entry#*|}
    command -v "${cmd%% *}" >/dev/null 2>&1 || continue
    # as GRUB loads two initrds: each padded to 4 bytes, then 4 more zeros
    $cmd <"$tmp/main.cpio" >"$tmp/two"
    pad4 "$tmp/two"
    head -c 4 /dev/zero >>"$tmp/two"
    $cmd <"$tmp/extra.cpio" >>"$tmp/two"
    list "$tmp/two" "$tmp/two.names" "$name+$name"
    # and back to back
    { $cmd <"$tmp/main.cpio"; $cmd <"$tmp/extra.cpio"; } >"$tmp/two"
    list "$tmp/two" "$tmp/two.names" "$name+$name"
done
# two uncompressed archives, then a compressed one
cat "$tmp/early.cpio" "$tmp/extra.cpio" >"$tmp/three"
gzip -c "$tmp/main.cpio" >>"$tmp/three"
cat "$tmp/early.names" "$tmp/extra.names" "$tmp/main.names" >"$tmp/three.names"
list "$tmp/three" "$tmp/three.names" "none+none+gzip"

# ---- bad inputs ----
# expect_error IMAGE TEXT: cpiolist fails, naming TEXT
expect_error() {
    if "$CPIOLIST" "$1" >/dev/null 2>"$tmp/err"; then
        fail "$(basename "$1"): read without error"
    fi
    grep -q -- "$2" "$tmp/err" || fail "$(basename "$1"): wanted \"$2\", got: $(cat "$tmp/err")"
}

# trailing junk after a whole archive: read, with a note
gzip -c "$tmp/main.cpio" >"$tmp/junk"
printf 'this is not an archive' >>"$tmp/junk"
list "$tmp/junk" "$tmp/main.names" gzip
grep -q "note=an unknown magic at 0x.* ignored, as the kernel stops unpacking there" "$tmp/got.err" ||
    fail "trailing junk: no note: $(cat "$tmp/got.err")"

# a truncated stream
gzip -c "$tmp/main.cpio" >"$tmp/whole.gz"
head -c 100000 "$tmp/whole.gz" >"$tmp/truncated"
expect_error "$tmp/truncated" "gzip stream at 0x0: truncated"

# the lz4 frame format: read, but the kernel cannot
if command -v lz4 >/dev/null; then
    lz4 -q -c "$tmp/main.cpio" >"$tmp/frame"
    list "$tmp/frame" "$tmp/main.names" lz4-frame
    grep -q "note=.*frame format: the kernel unpacks only the legacy format" "$tmp/got.err" ||
        fail "lz4 frame: no note: $(cat "$tmp/got.err")"
fi

# an odc archive, which the kernel refuses
(cd "$tree" && find . | cpio -o -H odc --quiet) >"$tmp/odc"
expect_error "$tmp/odc" "an old (odc 070707) cpio archive"

# a name without its NUL, and the bomb and the many entries, written here
python3 - "$tmp" <<'EOF'
import os, sys
tmp = sys.argv[1]
def entry(name, mode, data=b'', namesize=None):
    n = name if namesize is not None else name + b'\0'
    ns = namesize if namesize is not None else len(n)
    h = b'070701' + b''.join(b'%08X' % v for v in [1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, ns, 0])
    out = h + n + b'\0' * ((-(110 + len(n))) % 4) + data
    return out + b'\0' * ((-len(out)) % 4)
with open(os.path.join(tmp, 'nonul.cpio'), 'wb') as f:
    f.write(entry(b'ok', 0o100644, b'x') + entry(b'abcd', 0o100644, namesize=4) + entry(b'TRAILER!!!', 0))
# 1 GiB of zeros in one file
with open(os.path.join(tmp, 'bomb.cpio'), 'wb') as f:
    h = entry(b'big', 0o100644)
    f.write(h[:54] + b'%08X' % (1 << 30) + h[62:])
    zeros = bytes(1 << 20)
    for _ in range(1024):
        f.write(zeros)
    f.write(entry(b'TRAILER!!!', 0))
EOF
gzip -c "$tmp/nonul.cpio" >"$tmp/nonul"
expect_error "$tmp/nonul" "the name (c_namesize 4) does not end with a NUL"

if command -v zstd >/dev/null; then
    zstd -q -1 -c "$tmp/bomb.cpio" >"$tmp/bomb"
    rm -f "$tmp/bomb.cpio"
    start=$(date +%s)
    expect_error "$tmp/bomb" "(limit decompressed): a decompression bomb?"
    [ $(($(date +%s) - start)) -lt 60 ] || fail "the bomb took more than a minute"

    # 10 million entries of 116 bytes (1.16 GB), compressed as they are made
    python3 -c '
import sys
e = b"070701" + b"".join(b"%08X" % v for v in [1, 0o100644, 0, 0, 1, 0, 1, 0, 0, 0, 0, 2, 0]) + b"f\0x\0\0\0"
chunk = e * 100000
for _ in range(100):
    sys.stdout.buffer.write(chunk)
' | zstd -q -1 -c >"$tmp/many"
    start=$(date +%s)
    expect_error "$tmp/many" "more than 200000 cpio entries (limit cpio_entries)"
    [ $(($(date +%s) - start)) -lt 60 ] || fail "10 million entries took more than a minute"
fi
rm -f "$tmp/bomb.cpio"
echo "initramfs: $checked compressions checked"
