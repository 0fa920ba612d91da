#!/bin/bash
# VHD: every subformat qemu-img writes (fixed, dynamic, each with and without
# force_size=on), on a disk sized 37 MiB + 12345 bytes and on one of exactly
# 40 MiB, read back by imgprobe and compared with qemu-img (convert -O raw,
# info): dump byte for byte, digest against xxh128sum, virtual size.
# Then what no tool here writes, made by a small python script: dynamic disks
# with other block sizes (checked against qemu-img too), differencing disks
# (qemu-img cannot write them; checked against the bytes the script composes),
# an old 511-byte footer, a damaged end footer, bitmaps qemu ignores, parents
# that are missing, wrong or loop; then the real images of $CORPUS.
set -euo pipefail
: "${IMGPROBE:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The system python when there is one: a pyenv shim costs seconds a call.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
json_get() { "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }

# ---- the helper that writes what qemu-img cannot ----
cat >vhdtool.py <<'PY'
import os, struct, sys, uuid

S = 512

def checksum(b, off):
    return ~(sum(b) - sum(b[off:off + 4])) & 0xffffffff

def seal(b, off):
    struct.pack_into('>I', b, off, 0)
    struct.pack_into('>I', b, off, checksum(b, off))

def footer(disk_type, size, data_offset, uid, creator=b'win ', geometry=(65535, 16, 255)):
    f = bytearray(512)
    f[0:8] = b'conectix'
    struct.pack_into('>IIQI', f, 8, 2, 0x10000, data_offset, 0)
    f[28:32] = creator
    struct.pack_into('>HH', f, 32, 6, 3)
    f[36:40] = b'Wi2k'
    struct.pack_into('>QQHBBI', f, 40, size, size, *geometry, disk_type)
    f[68:84] = uid
    seal(f, 64)
    return f

def bitmap_size(block):
    return ((block // S + 7) // 8 + S - 1) // S * S

def sparse(path, disk_type, size, block, blocks, uid, parent=None, locators=(), parent_name='',
           footer_fields=None):
    """blocks: {index: (bitmap bytes, data bytes)}; locators: [(code, bytes)]."""
    n = (size + block - 1) // block
    bm = bitmap_size(block)
    bat_off = 1536
    pos = bat_off + (n * 4 + S - 1) // S * S
    loc_entries = []
    loc_data = bytearray()
    for code, data in locators:
        loc_entries.append((code, len(data), pos + len(loc_data)))
        loc_data += data + bytes(-len(data) % S)
    pos += len(loc_data)
    bat = [0xffffffff] * n
    body = bytearray()
    for i in sorted(blocks):
        bits, data = blocks[i]
        bat[i] = (pos + len(body)) // S
        body += bits + bytes(bm - len(bits)) + data + bytes(block - len(data))
    f = footer(disk_type, size, 512, uid) if footer_fields is None else footer_fields(disk_type)
    h = bytearray(1024)
    h[0:8] = b'cxsparse'
    struct.pack_into('>QQIII', h, 8, 0xffffffffffffffff, bat_off, 0x10000, n, block)
    if parent:
        h[40:56] = parent
    name = parent_name.encode('utf-16-be')
    h[64:64 + len(name)] = name
    for k, (code, length, off) in enumerate(loc_entries):
        struct.pack_into('>4sIIIQ', h, 576 + 24 * k, code, (length + S - 1) // S, length, 0, off)
    seal(h, 36)
    with open(path, 'wb') as out:
        out.write(f + h + b''.join(struct.pack('>I', e) for e in bat))
        out.write(bytes(bat_off + (n * 4 + S - 1) // S * S - out.tell()))
        out.write(loc_data + body + f)

def qemu_footer_fields(vhd):
    """A footer builder that keeps the creator, sizes and geometry of a qemu-written vhd."""
    with open(vhd, 'rb') as fh:
        fh.seek(-512, 2)
        base = bytearray(fh.read(512))
    def build(disk_type):
        f = bytearray(base)
        struct.pack_into('>Q', f, 16, 512)
        struct.pack_into('>I', f, 60, disk_type)
        f[68:84] = uuid.uuid4().bytes
        seal(f, 64)
        return f
    return build

def cmd_mkdyn(raw, out, block):
    """A dynamic disk of the raw file with BLOCK-byte blocks, only nonzero blocks allocated."""
    data = open(raw, 'rb').read()
    block = int(block)
    size = len(data) + (-len(data) % S)
    blocks = {}
    for i in range(0, len(data), block):
        chunk = data[i:i + block]
        if chunk.count(0) != len(chunk):
            blocks[i // block] = (b'\xff' * bitmap_size(block), chunk)
    sparse(out, 3, size, block, blocks, uuid.uuid4().bytes)

def cmd_mkdiff(parent_vhd, parent_raw, out, expected, mode):
    """A differencing child of PARENT_VHD; EXPECTED gets the bytes it must read as."""
    with open(parent_vhd, 'rb') as fh:
        fh.seek(-512, 2)
        pf = fh.read(512)
    puid = bytes(pf[68:84])
    size = struct.unpack_from('>Q', pf, 48)[0]
    vsize = os.path.getsize(parent_raw)
    block = 2 << 20
    want = bytearray(open(parent_raw, 'rb').read())
    nblocks = (vsize + block - 1) // block
    blocks = {}
    def put(index, sectors, fill):
        bits = bytearray(bitmap_size(block))
        data = bytearray(block)
        for s in sectors:
            bits[s // 8] |= 0x80 >> (s % 8)  # sector 0 is the MSB of byte 0
            pattern = bytes([(fill + s) & 0xff]) * S
            data[s * S:(s + 1) * S] = pattern
            off = index * block + s * S
            if off < vsize:
                want[off:off + S] = pattern
        blocks[index] = (bytes(bits), bytes(data))
    put(0, [1, 2, 3, 100, 4095], 0x11)
    put(2, range(0, 4096), 0x40)                      # the whole block
    put(nblocks - 1, [0, 7, 8, 9], 0x90)              # the last, partial block
    put(4, [], 0)                                     # allocated, every sector in the parent
    name = os.path.basename(parent_vhd)
    if mode == 'windows':
        locs = [(b'W2ku', ('C:\\vms\\' + name).encode('utf-16-le')),
                (b'W2ru', ('.\\' + name).encode('utf-16-le'))]
        pname = 'C:\\vms\\' + name
    elif mode == 'macx':
        url = 'file://localhost' + os.path.abspath(parent_vhd).replace(' ', '%20')
        locs, pname = [(b'MacX', url.encode())], ''
    elif mode == 'unicode-name':
        locs, pname = [], name
    elif mode == 'self':
        locs, pname = [(b'W2ru', ('.\\' + os.path.basename(out)).encode('utf-16-le'))], ''
    elif mode == 'missing':
        locs, pname = [(b'W2ru', b'n\0o\0n\0e\0.\0v\0h\0d\0')], 'none.vhd'
    elif mode == 'wrong-uuid':
        locs, pname, puid = [(b'W2ru', ('.\\' + name).encode('utf-16-le'))], '', uuid.uuid4().bytes
    else:
        sys.exit('unknown mode ' + mode)
    sparse(out, 4, size, block, blocks, uuid.uuid4().bytes, parent=puid, locators=locs, parent_name=pname,
           footer_fields=qemu_footer_fields(parent_vhd))
    open(expected, 'wb').write(want)

def cmd_clearbitmap(vhd):
    """Clear the sector bitmap of the first allocated block, in place."""
    with open(vhd, 'r+b') as fh:
        h = fh.read(1536)[512:]
        bat_off, n = struct.unpack_from('>Q', h, 16)[0], struct.unpack_from('>I', h, 28)[0]
        fh.seek(bat_off)
        bat = struct.unpack('>%dI' % n, fh.read(4 * n))
        first = next(e for e in bat if e != 0xffffffff)
        fh.seek(first * S)
        fh.write(bytes(S))

def cmd_breakfooter(vhd):
    """Damage the checksum of the footer at the end, in place."""
    with open(vhd, 'r+b') as fh:
        fh.seek(-512 + 64, 2)
        b = fh.read(1)
        fh.seek(-512 + 64, 2)
        fh.write(bytes([b[0] ^ 0xff]))

def cmd_breakcopy(vhd):
    """Damage the checksum of the footer copy at 0, in place."""
    with open(vhd, 'r+b') as fh:
        fh.seek(64)
        b = fh.read(1)
        fh.seek(64)
        fh.write(bytes([b[0] ^ 0xff]))

globals()['cmd_' + sys.argv[1]](*sys.argv[2:])
PY
tool() { "$PY" vhdtool.py "$@"; }

# compare IMAGE [RAW]: imgprobe reads IMAGE as qemu-img does (or as RAW holds it)
compare() {
    local img=$1 want=${2:-} out vs qvs
    if [ -z "$want" ]; then
        want=$img.ref.raw
        qemu-img convert -f vpc -O raw "$img" "$want" || { bad "$img: qemu-img convert failed"; return; }
        qvs=$(qemu-img info -f vpc --output=json "$img" | json_get "['virtual-size']")
    else
        qvs=$(stat -c %s "$want")
    fi
    out=$("$IMGPROBE" info --json "$img") || { bad "$img: info failed"; return; }
    vs=$(json_get "['image']['virtual_size']" <<<"$out")
    [ "$vs" = "$qvs" ] || { bad "$img: virtual size $vs, want $qvs"; return; }
    [ "$(json_get "['image']['format']" <<<"$out")" = vhd ] || { bad "$img: not detected as vhd"; return; }
    "$IMGPROBE" dump "$img" | cmp - "$want" || { bad "$img: dump (pipe) differs"; return; }
    local d1 d2
    d1=$("$IMGPROBE" digest "$img" | cut -d' ' -f1)
    d2=$(xxh128sum -q "$want" | cut -d' ' -f1)
    [ "$d1" = "$d2" ] || { bad "$img: digest $d1, xxh128sum $d2"; return; }
    ok "$img reads as $(basename "$want") ($vs bytes)"
}

# fails IMAGE PATTERN: imgprobe info exits 2 with a message matching PATTERN
fails() {
    local img=$1 pat=$2 err rc=0
    err=$("$IMGPROBE" info "$img" 2>&1 >/dev/null) || rc=$?
    [ $rc -eq 2 ] || { bad "$img: info exit $rc, want 2"; return; }
    grep -Eq "$pat" <<<"$err" || { bad "$img: message '$err' does not match '$pat'"; return; }
    ok "$img refused: $err"
}

# orphan IMAGE PATTERN: a differencing disk whose parent is not found opens,
# unreadable (info names the parent it lacks), and cannot be dumped: exit 2, a
# message matching PATTERN
orphan() {
    local img=$1 pat=$2 out err rc=0
    out=$("$IMGPROBE" info --json "$img") || { bad "$img: info failed"; return; }
    [ "$(json_get "['image']['readable']" <<<"$out")" = False ] || { bad "$img: claims readable"; return; }
    grep -Eq "$pat" <<<"$(json_get "['image']['unreadable_reason']" <<<"$out")" || { bad "$img: reason"; return; }
    err=$("$IMGPROBE" dump "$img" 2>&1 >/dev/null) || rc=$?
    [ $rc -eq 2 ] || { bad "$img: dump exit $rc, want 2"; return; }
    grep -Eq "$pat" <<<"$err" || { bad "$img: message '$err' does not match '$pat'"; return; }
    ok "$img: parent missing: $err"
}

prop() { json_get "['image']['properties']['$2']" <<<"$("$IMGPROBE" info --json "$1")"; }

# ---- source disks: random, zero and repeated regions ----
mksrc() {
    local f=$1 size=$2
    truncate -s "$size" "$f"
    head -c 3000000 /dev/urandom | dd of="$f" conv=notrunc bs=64k seek=1 oflag=seek_bytes status=none
    "$PY" -c 'import sys; sys.stdout.buffer.write(b"imgprobe vhd test pattern\n" * 190000)' |
        dd of="$f" conv=notrunc bs=1M seek=9 status=none
    head -c 700000 /dev/urandom | dd of="$f" conv=notrunc bs=1M seek=20 status=none
    # the last bytes: data up to the very end
    head -c 4321 /dev/urandom | dd of="$f" conv=notrunc bs=1 seek=$((size - 4321)) status=none
}
mksrc odd.raw $((37 * 1024 * 1024 + 12345))
mksrc even.raw $((40 * 1024 * 1024))

for src in odd even; do
    for o in subformat=fixed subformat=dynamic force_size=on,subformat=fixed force_size=on,subformat=dynamic; do
        img=$src-${o//[=,]/-}.vhd
        qemu-img convert -f raw -O vpc -o "$o" "$src.raw" "$img"
        compare "$img"
    done
done
[ "$(prop odd-subformat-fixed.vhd subformat)" = fixed ] || bad "fixed: subformat prop"
[ "$(prop odd-force_size-on-subformat-dynamic.vhd 'creator app')" = qem2 ] || bad "force_size: creator app prop"
[ "$(json_get "['image']['cluster_size']" <<<"$("$IMGPROBE" info --json even-subformat-dynamic.vhd)")" = 2097152 ] ||
    bad "dynamic: cluster_size is not the block size"
# A fixed disk made of the raw file's bytes: the source's size, no rounding.
cmp <("$IMGPROBE" dump odd-force_size-on-subformat-fixed.vhd | head -c "$(stat -c %s odd.raw)") odd.raw ||
    bad "force_size fixed: dump does not start with the source"

# ---- other block sizes (qemu writes only 2 MiB; qemu reads any power of two) ----
truncate -s $((12 * 1024 * 1024)) small.raw
head -c 200000 /dev/urandom | dd of=small.raw conv=notrunc bs=4096 seek=3 status=none
head -c 3000 /dev/urandom | dd of=small.raw conv=notrunc bs=1M seek=11 status=none
for bs in 4096 65536 524288 8388608; do
    tool mkdyn small.raw dyn-$bs.vhd $bs
    compare dyn-$bs.vhd
    compare dyn-$bs.vhd small.raw
done

# ---- old Virtual PC: a 511-byte footer (qemu cannot read it; it is the 512-byte one less its last reserved byte) ----
head -c -1 odd-subformat-fixed.vhd >old511.vhd
compare old511.vhd odd-subformat-fixed.vhd.ref.raw

# ---- a dynamic disk whose end footer is damaged: the copy at 0 stands in, and says so ----
cp odd-subformat-dynamic.vhd endbroken.vhd
tool breakfooter endbroken.vhd
compare endbroken.vhd odd-subformat-dynamic.vhd.ref.raw
prop endbroken.vhd footer | grep -q 'copy at 0' || bad "endbroken: no footer prop"
cp endbroken.vhd bothbroken.vhd
tool breakcopy bothbroken.vhd
fails bothbroken.vhd 'vhd: footer checksum 0x[0-9a-f]+ does not match computed 0x[0-9a-f]+'
# a dynamic disk cut short: its end footer missing, its last block incomplete
head -c -1024 odd-subformat-dynamic.vhd >cut.vhd
fails cut.vhd 'block [0-9]+ at 0x[0-9a-f]+ .* lies past the end of the file'

# ---- a dynamic disk whose bitmap is clear over written data: qemu reads the data, and so do we ----
cp odd-subformat-dynamic.vhd clearbits.vhd
tool clearbitmap clearbits.vhd
compare clearbits.vhd
cmp clearbits.vhd.ref.raw odd-subformat-dynamic.vhd.ref.raw || bad "clearbits: qemu did not ignore the bitmap"

# ---- differencing disks (qemu-img create -f vpc -b: "Backing file not supported") ----
mkdir -p chain "dir with space"
qemu-img convert -f raw -O vpc -o subformat=dynamic odd.raw chain/parent.vhd
qemu-img convert -f vpc -O raw chain/parent.vhd chain/parent.raw
for mode in windows unicode-name; do
    tool mkdiff chain/parent.vhd chain/parent.raw chain/child-$mode.vhd chain/child-$mode.want "$mode"
    compare chain/child-$mode.vhd chain/child-$mode.want
done
out=$("$IMGPROBE" info --json chain/child-windows.vhd)
[ "$(json_get "['image']['backing_file']" <<<"$out")" = parent.vhd ] || bad "differencing: backing_file"
[ "$(json_get "['image']['backing_format']" <<<"$out")" = vhd ] || bad "differencing: backing_format"
[ "$(json_get "['image']['properties']['parent named by']" <<<"$out")" = W2ru ] || bad "differencing: W2ru not first"
[ "$(json_get "['backing_chain'][0]['virtual_size']" <<<"$out")" = "$(stat -c %s chain/parent.raw)" ] ||
    bad "differencing: parent not in the backing chain"
cp chain/parent.vhd "dir with space/parent.vhd"
tool mkdiff "$T/dir with space/parent.vhd" chain/parent.raw mac-child.vhd mac-child.want macx
compare mac-child.vhd mac-child.want
# a grandchild: differencing on differencing
tool mkdiff chain/child-windows.vhd chain/child-windows.want chain/grandchild.vhd chain/grandchild.want windows
compare chain/grandchild.vhd chain/grandchild.want
[ "$(json_get "['backing_chain'].__len__()" <<<"$("$IMGPROBE" info --json chain/grandchild.vhd)")" = 2 ] ||
    bad "grandchild: chain is not two deep"

tool mkdiff chain/parent.vhd chain/parent.raw chain/orphan.vhd /dev/null missing
orphan chain/orphan.vhd "parent not found: tried 'none.vhd' \(W2ru\)"
tool mkdiff chain/parent.vhd chain/parent.raw chain/stranger.vhd /dev/null wrong-uuid
fails chain/stranger.vhd "parent 'parent.vhd' has unique id [0-9a-f-]{36}, but .* names parent [0-9a-f-]{36}"
tool mkdiff chain/parent.vhd chain/parent.raw chain/narcissus.vhd /dev/null self
fails chain/narcissus.vhd "loops back"

# ---- the corpus ----
if [ -d "${CORPUS:-}" ]; then
    manifest() { # manifest PATH KEY: a verified fact of MANIFEST.tsv
        awk -F'\t' -v p="$1" '$1 == p { print $6 }' "$CORPUS/MANIFEST.tsv" | { grep -o "$2=[0-9a-f]*" || true; } | head -1 | cut -d= -f2
    }
    for rel in vhd/dfvfs-ext2.vhd vhd/d2v-zerofilled.vhd.bz2 vhd/hyperv2012r2-dynamic.vhd.bz2; do
        f=$(basename "${rel%.bz2}")
        case $rel in *.bz2) bzcat "$CORPUS/$rel" >"$f" ;; *) cp "$CORPUS/$rel" "$f" ;; esac
        want_vs=$(manifest "$rel" virtual_size)
        got_vs=$(json_get "['image']['virtual_size']" <<<"$("$IMGPROBE" info --json "$f")") || { bad "$rel: info"; continue; }
        [ "$got_vs" = "$want_vs" ] || { bad "$rel: virtual size $got_vs, manifest $want_vs"; continue; }
        want_sha=$(manifest "$rel" 'guest raw sha256')
        "$IMGPROBE" dump "$f" >"$f.raw" || { bad "$rel: dump failed"; continue; }
        if [ -n "$want_sha" ]; then
            got_sha=$(sha256sum <"$f.raw" | cut -d' ' -f1)
            [ "$got_sha" = "$want_sha" ] || { bad "$rel: guest sha256 $got_sha, manifest $want_sha"; continue; }
        else # the empty 127 GiB Hyper-V disk: every block unallocated, so the dump is all hole
            [ "$(stat -c %s "$f.raw")" = "$want_vs" ] && [ "$(du -k "$f.raw" | cut -f1)" = 0 ] ||
                { bad "$rel: dump is not $want_vs bytes of hole"; continue; }
        fi
        rm -f "$f.raw"
        ok "$rel agrees with the manifest"
    done
    cp "$CORPUS/vhd/dfvfs-fat-differential.vhd" .
    orphan dfvfs-fat-differential.vhd "parent not found: tried 'fat-parent.vhd' \(W2ru\)"
    bzcat "$CORPUS/broken/afl5.img.bz2" >afl5.img
    fails afl5.img '^imgprobe: afl5.img: vhd: dynamic disk header at 0x200 lies past the end'
    cp "$CORPUS"/broken/dfvfs-vhd-pair/* .
    fails image.vhd 'vhd: footer checksum 0xfffff683 does not match computed 0xffffef25'
    fails image-differential.vhd 'vhd: footer checksum 0xfffff683 does not match computed 0xffffeeb6'
else
    echo "skip: no corpus at '${CORPUS:-}'"
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
