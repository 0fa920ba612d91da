#!/bin/bash
# qcow2 as qemu writes it: every subformat qemu-img and qemu-io can make from
# one source disk must read back through imgprobe exactly as
# `qemu-img convert -O raw` reads it (dump to a file and to a pipe, digest),
# and `info --json` must agree with `qemu-img info --output=json`.
set -euo pipefail

: "${IMGPROBE:?IMGPROBE must name the imgprobe binary}"
for tool in qemu-img qemu-io xxh128sum python3 cmp; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "skip: $tool is not installed"
        exit 77
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgprobe-qcow2-variants.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# The source disk: random, zero and repeating regions, and a size that is not a
# multiple of any cluster size (21 MiB + 12345 bytes).
python3 - <<'EOF'
import random
MiB = 1 << 20
size = 21 * MiB + 12345
rng = random.Random(20240611)
disk = bytearray(size)
def put(off, data):
    disk[off:off + len(data)] = data
put(0, rng.randbytes(3 * MiB + 4096))            # random, ending mid-cluster
put(5 * MiB, b"imgprobe-qcow2\n" * (MiB // 15))  # repeating (compresses well)
put(8 * MiB + 777, rng.randbytes(100000))       # random at an odd offset
for i in range(64):                             # sparse sectors of data in a zero region
    put(12 * MiB + i * 65536 + 512, rng.randbytes(512))
put(17 * MiB, bytes([0xa5]) * (2 * MiB))        # a constant non-zero run
put(size - 200000, rng.randbytes(200000))       # random up to the odd end
open("src.raw", "wb").write(disk)
EOF
# qemu-img rounds the virtual size of a raw source up to whole sectors: so does the reference
cp src.raw padded.raw
truncate -s %512 padded.raw
mkdir info
checked=0
src_digest=$(xxh128sum padded.raw 2>/dev/null | cut -d' ' -f1)
rm padded.raw

# check NAME IMAGE [EXPECTED_DIGEST]: dump (file and pipe), digest and info against qemu-img.
check() {
    local name=$1 img=$2 expect=${3:-}
    qemu-img convert -O raw "$img" ref.raw
    local ref_digest
    ref_digest=$(xxh128sum ref.raw 2>/dev/null | cut -d' ' -f1)
    "$IMGPROBE" dump "$img" >out.raw || fail "$name: dump to a file failed"
    cmp ref.raw out.raw >/dev/null || fail "$name: dump to a file differs from qemu-img convert -O raw"
    # through a pipe (no holes to leave: every byte is written), compared as it streams
    "$IMGPROBE" dump "$img" | cat | cmp ref.raw - >/dev/null ||
        fail "$name: dump to a pipe differs from qemu-img convert -O raw (or failed)"
    local digest
    digest=$("$IMGPROBE" digest "$img" | cut -d' ' -f1) || fail "$name: digest failed"
    [ "$digest" = "$ref_digest" ] || fail "$name: digest $digest, xxh128sum of qemu's raw $ref_digest"
    if [ -n "$expect" ] && [ "$digest" != "$expect" ]; then
        fail "$name: digest $digest differs from the other variants of the same disk ($expect)"
    fi
    # info is compared once at the end, in one python run (its start-up is slow on a busy host)
    checked=$((checked + 1))
    "$IMGPROBE" info --json "$img" >"info/$checked.ours.json" || fail "$name: info --json failed"
    qemu-img info --output=json "$img" >"info/$checked.theirs.json"
    printf '%s\t%s\t%s\n' "$name" "$(stat -c %s "$img")" "$digest" >>info/checked.tsv
}

convert() { # NAME [qemu-img convert options...]: src.raw -> NAME.qcow2
    local name=$1
    shift
    qemu-img convert -O qcow2 "$@" src.raw "$name.qcow2"
}

# ---- one disk, many encodings: all must read as src.raw ----
convert v2 -o compat=0.10
check "compat=0.10" v2.qcow2 "$src_digest"
convert v3 -o compat=1.1
check "compat=1.1" v3.qcow2 "$src_digest"
for cs in 512 4096 65536 2M; do
    convert "cs$cs" -o cluster_size=$cs
    check "cluster_size=$cs" "cs$cs.qcow2" "$src_digest"
done
convert deflate -c
check "compressed deflate" deflate.qcow2 "$src_digest"
convert deflate-v2 -c -o compat=0.10,cluster_size=4096
check "compressed deflate, compat=0.10, 4K clusters" deflate-v2.qcow2 "$src_digest"
convert zstd -c -o compression_type=zstd
check "compressed zstd" zstd.qcow2 "$src_digest"
convert zstd-2m -c -o compression_type=zstd,cluster_size=2M
check "compressed zstd, 2M clusters" zstd-2m.qcow2 "$src_digest"
convert el2-64k -o extended_l2=on,cluster_size=64k
check "extended_l2=on, 64K clusters" el2-64k.qcow2 "$src_digest"
convert el2-2m -o extended_l2=on,cluster_size=2M
check "extended_l2=on, 2M clusters" el2-2m.qcow2 "$src_digest"
convert el2-deflate -c -o extended_l2=on,cluster_size=64k
check "extended_l2=on, compressed" el2-deflate.qcow2 "$src_digest"
convert datafile -o data_file=datafile.data
check "data_file" datafile.qcow2 "$src_digest"
convert datafile-raw -o data_file=datafile-raw.data,data_file_raw=on
check "data_file, data_file_raw=on" datafile-raw.qcow2 "$src_digest"
convert prealloc-meta -o preallocation=metadata
check "preallocation=metadata" prealloc-meta.qcow2 "$src_digest"
convert prealloc-full -o preallocation=full
check "preallocation=full" prealloc-full.qcow2 "$src_digest"

# ---- written by qemu-io: zero clusters, subclusters, snapshots, backing chains ----
qio() { # IMAGE COMMAND...: run qemu-io commands, quietly
    local img=$1
    shift
    local args=()
    for c in "$@"; do args+=(-c "$c"); done
    qemu-io -f qcow2 "${args[@]}" "$img" >/dev/null
}

# write-zeroes over data makes v3 zero clusters; an internal snapshot keeps the old data
cp v3.qcow2 snap.qcow2
qemu-img snapshot -c before-writes snap.qcow2
qio snap.qcow2 'write -P 0x11 64k 64k' 'write -z 0 128k' 'write -z 17M 1M' 'write -P 0x22 20M 4k'
qemu-img snapshot -c after-writes snap.qcow2
qio snap.qcow2 'write -z 8M 2M'
check "internal snapshots, zero clusters over data" snap.qcow2

# left dirty by a writer with lazy refcounts that stopped without closing the image
qemu-img create -q -f qcow2 -o lazy_refcounts=on dirty.qcow2 4M
qemu-io -f qcow2 -c 'write -P 0x99 64k 128k' -c abort dirty.qcow2 >/dev/null 2>&1 || true
check "lazy refcounts, left dirty" dirty.qcow2

# marked corrupt (incompatible bit 1): qemu still reads it read-only, and so do we
cp v3.qcow2 corrupt.qcow2
printf '\x02' | dd of=corrupt.qcow2 bs=1 seek=79 conv=notrunc status=none
check "marked corrupt" corrupt.qcow2 "$src_digest"

# extended L2: subcluster writes and zeroes inside clusters, over a backing file
qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=64k -b v3.qcow2 -F qcow2 el2-top.qcow2
qio el2-top.qcow2 'write -P 0x33 4k 4k' 'write -z 12k 8k' 'write -P 0x44 5M 2k' 'write -z 17M 100k' \
    'write -P 0x45 21M 12345'
check "extended_l2 subclusters over a backing file" el2-top.qcow2

# a chain of three: base (the source), mid and top with writes in each layer
qemu-img create -q -f qcow2 -b deflate.qcow2 -F qcow2 mid.qcow2
qio mid.qcow2 'write -P 0x55 1M 64k' 'write -P 0x56 6M 1M' 'write -z 17M 512k'
qemu-img create -q -f qcow2 -o cluster_size=4096 -b mid.qcow2 -F qcow2 top.qcow2
qio top.qcow2 'write -P 0x57 1M 4k' 'write -z 6M 256k' 'write -P 0x58 20M 8k' 'write -z 0 4k'
check "backing chain of three" top.qcow2

# a raw backing file named with its format must never be probed: this one holds
# the bytes of a qcow2 image, which qemu reads as raw data
cp v3.qcow2 qcow2-bytes.raw
qemu-img create -q -f qcow2 -b qcow2-bytes.raw -F raw over-raw.qcow2
qio over-raw.qcow2 'write -P 0x66 2M 64k'
check "raw backing file" over-raw.qcow2

# a backing file shorter than the image: reads past its end are zeros
qemu-img create -q -f qcow2 -b v2.qcow2 -F qcow2 grown.qcow2 32M
qio grown.qcow2 'write -P 0x77 28M 4k'
check "backing file shorter than the image" grown.qcow2

# a v2 image over a v3 backing file, with 512-byte clusters
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=512 -b zstd.qcow2 -F qcow2 v2-top.qcow2
qio v2-top.qcow2 'write -P 0x88 3M 1536' 'write -P 0x89 21M 1000'
check "compat=0.10 over a zstd backing file" v2-top.qcow2

# info --json against qemu-img info --output=json, one line per variant
python3 - <<'EOF' || fail "info --json disagrees with qemu-img info"
import json
bad_total = 0
for n, line in enumerate(open("info/checked.tsv"), 1):
    name, size, digest = line.rstrip("\n").split("\t")
    ours = json.load(open(f"info/{n}.ours.json"))["image"]
    theirs = json.load(open(f"info/{n}.theirs.json"))
    spec = theirs.get("format-specific", {}).get("data", {})
    checks = [
        ("format", ours["format"], theirs["format"]),
        ("virtual size", ours["virtual_size"], theirs["virtual-size"]),
        ("cluster size", ours.get("cluster_size"), theirs.get("cluster-size")),
        ("compression type", ours.get("compression_type"), spec.get("compression-type")),
        ("backing file", ours.get("backing_file"), theirs.get("backing-filename")),
        ("backing format", ours.get("backing_format"), theirs.get("backing-filename-format")),
        ("dirty", ours["dirty"], theirs.get("dirty-flag", False)),
        ("corrupt", ours["corrupt"], spec.get("corrupt", False)),
        ("snapshots", [(s["id"], s["name"], s["date_sec"], s["vm_state_size"]) for s in ours["snapshots"]],
         [(s["id"], s["name"], s["date-sec"], s["vm-state-size"]) for s in theirs.get("snapshots", [])]),
    ]
    # qemu-img's format-specific facts, under the names qemu-img info prints
    for key in ("compat", "compression-type", "lazy-refcounts", "refcount-bits", "corrupt", "extended-l2",
                "data-file", "data-file-raw"):
        if key in spec:
            value = spec[key]
            want = str(value).lower() if isinstance(value, bool) else str(value)
            checks.append((key, ours["properties"].get(key.replace("-", " ")), want))
    bad = [f"{what}: ours {a!r}, qemu-img {b!r}" for what, a, b in checks if a != b]
    bad_total += len(bad)
    if bad:
        print(f"FAIL {name}: info: " + "; ".join(bad))
    else:
        print(f"ok   {name}: dump, pipe, digest and info agree with qemu-img ({size} bytes, digest {digest})")
raise SystemExit(1 if bad_total else 0)
EOF
echo "all $checked qcow2 variants agree with qemu-img"
