#!/bin/bash
# VMDK: every subformat qemu-img writes, each adapter type, zeroed grains, a
# split disk over 2 GiB, deltas; then broken images and the real corpus.
# Oracle: qemu-img. For each readable image `imgprobe dump` equals
# `qemu-img convert -O raw` byte for byte, `imgprobe digest` equals xxh128sum
# of that, and `info --json` gives qemu-img info's virtual size. Broken images
# exit 2 with "imgprobe: IMAGE: message" naming the problem.
set -euo pipefail
: "${IMGPROBE:?}"
for tool in qemu-img qemu-io xxh128sum python3 jq cmp diff; do
    command -v "$tool" >/dev/null || { echo "skip: $tool missing"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/vmdk_variants.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

prop() { { "$IMGPROBE" info --json "$1" || true; } | jq -r --arg k "$2" '.image.properties[$k] // ""'; }

# expect_same IMAGE: dump, digest and virtual size agree with qemu-img.
expect_same() {
    local img=$1
    qemu-img convert -q -O raw "$img" ref.raw
    "$IMGPROBE" dump "$img" > got.raw || { bad "$img: dump failed"; return; }
    # byte for byte; diff reads in large blocks, cmp in 4 KiB ones (minutes on GiBs of holes)
    diff -q ref.raw got.raw >/dev/null || { bad "$img: dump differs from qemu-img convert -O raw"; return; }
    local want got
    want=$(xxh128sum ref.raw 2>/dev/null | cut -d' ' -f1)
    got=$("$IMGPROBE" digest "$img" | cut -d' ' -f1) || { bad "$img: digest failed"; return; }
    [ "$want" = "$got" ] || { bad "$img: digest $got, xxh128sum $want"; return; }
    want=$(qemu-img info --output=json "$img" | jq -r '.["virtual-size"]')
    got=$("$IMGPROBE" info --json "$img" | jq -r .image.virtual_size)
    [ "$want" = "$got" ] || { bad "$img: virtual size $got, qemu-img says $want"; return; }
    rm -f ref.raw got.raw
    ok "$img reads as qemu reads it"
}

# expect_fail IMAGE REGEX: dump exits 2 with one line "imgprobe: IMAGE: ..." matching REGEX.
expect_fail() {
    local img=$1 want=$2 err rc=0
    err=$("$IMGPROBE" dump "$img" 2>&1 >/dev/null) || rc=$?
    [ $rc -eq 2 ] || { bad "$img: dump exit $rc, want 2 ($err)"; return; }
    [ "$(wc -l <<<"$err")" -eq 1 ] || { bad "$img: more than one line: $err"; return; }
    grep -Eq "^imgprobe: $img: .*($want)" <<<"$err" || { bad "$img: message '$err' does not match '$want'"; return; }
    ok "$img refused: $err"
}

# expect_prop IMAGE KEY VALUE: info --json shows the property.
expect_prop() {
    local got
    got=$(prop "$1" "$2")
    [ "$got" = "$3" ] || { bad "$1: property '$2' is '$got', want '$3'"; return; }
    ok "$1: $2 = $3"
}

# A source disk of 37 MiB + 12345 bytes: random, zero and repeating regions
# (qemu rounds the VMDK up to whole sectors; the reference is qemu's reading).
python3 - <<'EOF'
import os
size = 37 * 2**20 + 12345
with open("src.raw", "wb") as f:
    f.truncate(size)
    f.write(os.urandom(4 << 20))                          # random at 0
    f.seek(12 << 20); f.write(b"imgprobe-vmdk!" * 300000)  # repeating at 12 MiB
    f.seek((20 << 20) + 777); f.write(os.urandom(1 << 20))  # random, unaligned
    f.seek(size - 70000); f.write(os.urandom(70000))      # random up to the odd end
EOF

for sub in monolithicSparse monolithicFlat twoGbMaxExtentSparse twoGbMaxExtentFlat streamOptimized; do
    qemu-img convert -q -O vmdk -o subformat=$sub src.raw $sub.vmdk
    expect_same $sub.vmdk
    expect_prop $sub.vmdk "create type" $sub
done
expect_prop streamOptimized.vmdk "extents" 1
for at in lsilogic ide buslogic legacyESX; do
    qemu-img convert -q -O vmdk -o adapter_type=$at,hwversion=6 src.raw at-$at.vmdk
    expect_same at-$at.vmdk
    expect_prop at-$at.vmdk "adapter type" $at
done
expect_prop at-ide.vmdk "virtual hw version" 6
# qemu 7.2 cannot write pvscsi (later releases can): edit a descriptor.
if qemu-img convert -q -O vmdk -o subformat=monolithicFlat,adapter_type=pvscsi src.raw at-pvscsi.vmdk 2>/dev/null; then
    :
else
    qemu-img convert -q -O vmdk -o subformat=monolithicFlat src.raw pv.vmdk
    tr -d '\000' < pv.vmdk | sed 's/^ddb.adapterType = .*/ddb.adapterType = "pvscsi"/' > at-pvscsi.vmdk
    sed -i 's/"pv-flat.vmdk"/"at-pvscsi-flat.vmdk"/' at-pvscsi.vmdk && mv pv-flat.vmdk at-pvscsi-flat.vmdk
fi
expect_same at-pvscsi.vmdk
expect_prop at-pvscsi.vmdk "adapter type" pvscsi

# Version 2: zeroed grains (GTE 1), written for the zero regions.
qemu-img convert -q -O vmdk -o zeroed_grain=on src.raw zg.vmdk
qemu-io -f vmdk -c "write -z 4M 1M" zg.vmdk >/dev/null
expect_same zg.vmdk

# Split over 2 GiB: 2.5 GiB virtual (extents of 2 and 0.5 GiB; every byte
# of it is compared, so no bigger), mostly sparse, writes at both ends and
# across the extent boundary.
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse big.vmdk 2560M
qemu-io -f vmdk -c "write -P 0xa1 0 64k" -c "write -P 0xb2 2047M 2M" -c "write -P 0xc3 2559M 1M" big.vmdk >/dev/null
expect_same big.vmdk
expect_prop big.vmdk "extents" 2

# A descriptor mixing FLAT (from an offset), SPARSE and VMFS extents; the same
# with CRLF line endings; the same with a ZERO extent inserted, which qemu
# skips (its extent-line scan needs a file name), so the reference is built here.
# (No blank line before an extent line: qemu's sscanf skips the newline and
# reads the next extent twice.)
head -c 3M /dev/urandom > mix-a.bin
head -c 2M /dev/urandom > mix-v.bin
head -c 4M src.raw > mix-s.raw && qemu-img convert -q -O vmdk mix-s.raw mix-s.vmdk
mix_descriptor() {
    printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="vmfs"\n# Extents\n'
    printf 'RW 2048 FLAT "mix-a.bin" 2048\nRW 8192 SPARSE "mix-s.vmdk"\n%bRW 4096 VMFS "mix-v.bin"\n' "$1"
    printf '\nddb.adapterType = "lsilogic"\n'
}
mix_descriptor "" > mix.vmdk
expect_same mix.vmdk
mix_descriptor "" | sed 's/$/\r/' > mixcrlf.vmdk
expect_same mixcrlf.vmdk
expect_prop mixcrlf.vmdk "adapter type" lsilogic
mix_descriptor 'RW 1000 ZERO\n' > mixz.vmdk
{ dd if=mix-a.bin bs=1M skip=1 count=1 status=none
  cat mix-s.raw; head -c 512000 /dev/zero; cat mix-v.bin; } > mixz.ref
"$IMGPROBE" dump mixz.vmdk > mixz.raw && cmp -s mixz.ref mixz.raw && ok "mixz.vmdk: ZERO extent reads as zeros" ||
    bad "mixz.vmdk: dump differs from the extents laid end to end"
[ "$("$IMGPROBE" digest mixz.vmdk | cut -d' ' -f1)" = "$(xxh128sum mixz.ref 2>/dev/null | cut -d' ' -f1)" ] &&
    ok "mixz.vmdk: digest" || bad "mixz.vmdk: digest differs"

# Deltas: a child of a monolithicSparse base, a grandchild (split, a text
# descriptor) of that child, each with writes of its own.
qemu-img convert -q -O vmdk src.raw base.vmdk
qemu-img create -q -f vmdk -b base.vmdk -F vmdk delta.vmdk
qemu-io -f vmdk -c "write -P 0x77 1M 100k" -c "write -P 0x78 30M 3M" delta.vmdk >/dev/null
expect_same delta.vmdk
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse -b delta.vmdk -F vmdk delta2.vmdk
qemu-io -f vmdk -c "write -P 0x79 1100k 8k" delta2.vmdk >/dev/null
expect_same delta2.vmdk
got=$("$IMGPROBE" info --json delta2.vmdk | jq -r .image.backing_file)
[ "$got" = delta.vmdk ] && ok "delta2.vmdk: backing file $got" || bad "delta2.vmdk: backing file '$got'"

# ---- broken ----
mkdir split && cp big*.vmdk split/ && rm split/big-s002.vmdk
expect_fail split/big.vmdk "extent file 'big-s002.vmdk'.*No such file"

python3 - <<'EOF'
with open("many.vmdk", "w") as f:
    f.write('# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="custom"\n')
    f.write("RW 1 ZERO\n" * 100000)
EOF
expect_fail many.vmdk "more than [0-9]+ extents"

# A grain table entry pointing past the end of the file: the first entry of
# the first grain table (grain 0 holds random data, so it is allocated).
cp monolithicSparse.vmdk gte.vmdk
python3 - <<'EOF'
import struct
with open("gte.vmdk", "r+b") as f:
    h = f.read(512)
    gd = struct.unpack_from("<Q", h, 56)[0]
    f.seek(gd * 512); gt = struct.unpack("<I", f.read(4))[0]
    f.seek(gt * 512); f.write(struct.pack("<I", 0x7ffffff0))
EOF
expect_fail gte.vmdk "grain table entry for grain 0 points to sector [0-9]+, past the end"

# A delta whose parent hint names itself.
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse -b base.vmdk -F vmdk loop.vmdk
sed -i 's/parentFileNameHint="base.vmdk"/parentFileNameHint="loop.vmdk"/' loop.vmdk
grep -q 'parentFileNameHint="loop.vmdk"' loop.vmdk || bad "loop.vmdk: hint not rewritten"
expect_fail loop.vmdk "loops back"

# A delta whose parent changed after it was made: qemu refuses to read
# through the parent, and so do we. The image opens (the library's info
# carries the prop "parent cid mismatch"); `info` either shows it or, when it
# reads the disk to scan partitions, fails naming it.
cp base.vmdk base2.vmdk
qemu-img create -q -f vmdk -b base2.vmdk -F vmdk stale.vmdk
qemu-io -f vmdk -c "write -P 0x11 0 4k" base2.vmdk >/dev/null
if qemu-img convert -O raw stale.vmdk stale.raw 2>/dev/null; then
    bad "stale.vmdk: qemu-img reads it; the oracle changed"
else
    expect_fail stale.vmdk "parent CID mismatch"
    got=$({ "$IMGPROBE" info --json stale.vmdk 2>&1 || true; } | jq -sRr '(fromjson? | .image.properties["parent cid mismatch"]) // .')
    grep -q "parent CID mismatch: 'base2.vmdk' has CID" <<<"$got" && ok "stale.vmdk: info names the mismatch" ||
        bad "stale.vmdk: info: '$got'"
fi

mkdir orphan && cp delta.vmdk orphan/
expect_fail orphan/delta.vmdk "backing file 'base.vmdk'.*No such file"

# ---- the corpus ----
if [ -d "${CORPUS:-/nonexistent}" ]; then
    mkdir corpus
    cp "$CORPUS"/vmdk/*.vmdk corpus/
    for img in corpus/*.vmdk; do
        facts=$(awk -F'\t' -v p="vmdk/${img#corpus/}" '$1 == p { print $6 }' "$CORPUS/MANIFEST.tsv")
        [ -n "$facts" ] || { bad "$img: not in MANIFEST.tsv"; continue; }
        "$IMGPROBE" dump "$img" > got.raw || { bad "$img: dump failed"; continue; }
        want=$(grep -o 'virtual_size=[0-9]*' <<<"$facts" | head -1 | cut -d= -f2 || true)
        if [ -n "$want" ]; then
            got=$("$IMGPROBE" info --json "$img" | jq -r .image.virtual_size)
            [ "$want" = "$got" ] || { bad "$img: virtual size $got, manifest $want"; continue; }
        fi
        want=$(grep -o 'guest raw sha256=[0-9a-f]*' <<<"$facts" | cut -d= -f2 || true)
        if [ -n "$want" ]; then
            got=$(sha256sum got.raw | cut -d' ' -f1)
            [ "$want" = "$got" ] || { bad "$img: guest sha256 $got, manifest $want"; continue; }
        fi
        ok "$img agrees with the manifest"
    done
    bzcat "$CORPUS/broken/afl9.vmdk.bz2" > afl9.vmdk
    expect_fail afl9.vmdk "capacity|grain directory"
    cp "$CORPUS/broken/image_t2.vmdk" "$CORPUS/broken/image_t4.vmdk" .
    expect_fail image_t2.vmdk "extent file 'image_t2-flat.vmdk'.*No such file"
    expect_fail image_t4.vmdk "extent file 'image_t4-flat.vmdk'.*No such file"
else
    echo "skip: corpus absent"
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
