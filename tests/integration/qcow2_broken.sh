#!/bin/bash
# Broken qcow2 images, made from valid ones by overwriting bytes in place:
# `info` or `dump` must exit 2 with one line `imgprobe: IMAGE: message` on
# stderr that names the problem, and never crash or hang.
set -euo pipefail

: "${IMGPROBE:?IMGPROBE must name the imgprobe binary}"
for tool in qemu-img od dd; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "skip: $tool is not installed"
        exit 77
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgprobe-qcow2-broken.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# put_be FILE OFFSET BYTES VALUE: write VALUE big-endian in BYTES bytes at OFFSET.
put_be() {
    local file=$1 off=$2 n=$3 value=$4 bytes="" i
    for ((i = n - 1; i >= 0; i--)); do
        bytes+=$(printf '\\x%02x' $(((value >> (8 * i)) & 255)))
    done
    printf "$bytes" | dd of="$file" bs=1 seek="$off" conv=notrunc status=none
}

# get_be FILE OFFSET BYTES: the big-endian value there.
get_be() {
    local hex
    hex=$(od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n')
    echo $((16#$hex))
}

# expect_fail COMMAND IMAGE KEYWORD: exit status 2 and a one-line message naming the problem.
expect_fail() {
    local cmd=$1 img=$2 keyword=$3 rc=0
    "$IMGPROBE" "$cmd" "$img" >/dev/null 2>err.txt || rc=$?
    [ "$rc" -eq 2 ] || { cat err.txt >&2; fail "$img: $cmd exited $rc, expected 2"; }
    [ "$(wc -l <err.txt)" -eq 1 ] || { cat err.txt >&2; fail "$img: $cmd: expected one line on stderr"; }
    grep -qF "imgprobe: $img: " err.txt || { cat err.txt >&2; fail "$img: $cmd: message does not name the image"; }
    grep -qi -- "$keyword" err.txt || { cat err.txt >&2; fail "$img: $cmd: message does not say '$keyword'"; }
    echo "ok   $img: $cmd: $(cat err.txt)"
}

# A small disk with data in several clusters; 64 KiB clusters.
head -c $((3 << 20)) /dev/urandom >data.raw
qemu-img convert -q -O qcow2 data.raw good.qcow2
"$IMGPROBE" dump good.qcow2 >good.raw || fail "the valid image does not read"
cmp -s data.raw good.raw || fail "the valid image does not read back as its source"
l1=$(get_be good.qcow2 40 8)
l2=$(($(get_be good.qcow2 "$l1" 8) & 0x00fffffffffffe00))

# truncated file: the data clusters lie past the end
cp good.qcow2 truncated.qcow2
truncate -s $(($(stat -c %s good.qcow2) / 2)) truncated.qcow2
expect_fail dump truncated.qcow2 "past the end"

# the L1 table offset points past the end of the file
cp good.qcow2 l1-past-eof.qcow2
put_be l1-past-eof.qcow2 40 8 $((1 << 40))
expect_fail info l1-past-eof.qcow2 "L1 table at 0x10000000000 .*past the end"

# cluster_bits 40
cp good.qcow2 cluster-bits.qcow2
put_be cluster-bits.qcow2 20 4 40
expect_fail info cluster-bits.qcow2 "cluster_bits 40"

# an unknown incompatible feature bit (5)
cp good.qcow2 incompat.qcow2
put_be incompat.qcow2 72 8 $((1 << 5))
expect_fail info incompat.qcow2 "incompatible feature bit 5"

# the same, named by the feature name table: qemu's entry for the dirty bit now says bit 5
cp incompat.qcow2 incompat-named.qcow2
name_at=$(grep -obUa "dirty bit" incompat-named.qcow2 | head -1 | cut -d: -f1)
[ -n "$name_at" ] || fail "no feature name table in the image qemu-img wrote"
put_be incompat-named.qcow2 $((name_at - 1)) 1 5
expect_fail info incompat-named.qcow2 'bit 5 "dirty bit"'

# an L2 entry pointing past the end of the file
cp good.qcow2 l2-past-eof.qcow2
put_be l2-past-eof.qcow2 "$l2" 8 $(((1 << 63) | (1 << 40)))
expect_fail dump l2-past-eof.qcow2 "guest offset 0x0: host offset 0x10000000000 lies past the end"

# an L2 entry whose host offset is not cluster-aligned
cp good.qcow2 l2-misaligned.qcow2
put_be l2-misaligned.qcow2 $((l2 + 8)) 8 $(((1 << 63) | 0x50200))
expect_fail dump l2-misaligned.qcow2 "guest offset 0x10000: host offset 0x50200 is not aligned"

# a header extension longer than the space before the end of the first cluster
cp good.qcow2 ext-overrun.qcow2
put_be ext-overrun.qcow2 $(($(get_be good.qcow2 100 4) + 4)) 4 $((1 << 20))
expect_fail info ext-overrun.qcow2 "header extension"

# a compressed cluster whose bytes no longer decompress
head -c 65536 /dev/zero | tr '\0' 'q' >text.raw
qemu-img convert -q -O qcow2 -c text.raw compressed.qcow2
"$IMGPROBE" dump compressed.qcow2 >compressed.raw || fail "the valid compressed image does not read"
cmp -s text.raw compressed.raw || fail "the valid compressed image does not read back as its source"
c_l2=$(($(get_be compressed.qcow2 "$(get_be compressed.qcow2 40 8)" 8) & 0x00fffffffffffe00))
c_data=$(($(get_be compressed.qcow2 "$c_l2" 8) & ((1 << 54) - 1)))
cp compressed.qcow2 bad-deflate.qcow2
put_be bad-deflate.qcow2 "$c_data" 8 -1
expect_fail dump bad-deflate.qcow2 "compressed cluster at guest offset 0x0 .*does not decompress"

# a backing loop: a.qcow2 -> b.qcow2 -> a.qcow2
qemu-img create -q -f qcow2 b.qcow2 1M
qemu-img create -q -f qcow2 -b b.qcow2 -F qcow2 a.qcow2
qemu-img rebase -u -b a.qcow2 -F qcow2 b.qcow2
expect_fail info a.qcow2 "loops back"

# a backing file that does not exist
qemu-img create -q -f qcow2 -b missing.qcow2 -F qcow2 -u orphan.qcow2 1M
expect_fail dump orphan.qcow2 "missing.qcow2"

# encrypted images: info shows them (exit 0, "encrypted"), dump refuses them
# (LUKS times its PBKDF on the CPU first: a starved qemu-img fails with
# "Unable to get accurate CPU usage" on a loaded host, so it is retried)
for method in luks aes; do
    for try in 1 2 3 4 5; do
        qemu-img create -q -f qcow2 --object secret,id=sec0,data=password \
            -o encrypt.format=$method,encrypt.key-secret=sec0 "$method.qcow2" 1M 2>create.err && break
        grep -q "accurate CPU usage" create.err && [ "$try" -lt 5 ] || { cat create.err >&2; exit 1; }
    done
    "$IMGPROBE" info --json "$method.qcow2" >info.json || fail "$method.qcow2: info failed"
    grep -q '"encrypted": true' info.json || fail "$method.qcow2: info does not say encrypted"
    grep -q '"readable": false' info.json || fail "$method.qcow2: info says readable"
    upper=$(echo "$method" | tr a-z A-Z)
    expect_fail dump "$method.qcow2" "encrypted ($upper) qcow2 images are not supported"
done

echo "all broken qcow2 images refused"
