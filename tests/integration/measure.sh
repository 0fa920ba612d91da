#!/bin/bash
# imgprobe measure against the file qemu-img convert -O qcow2 really writes:
# for each image made here (raw with zero regions and explicit zero writes, a
# sparse raw, qcow2 with zero clusters and with data clusters that hold only
# zeros, a backing chain, a streamOptimized VMDK, a dynamic VHD, odd sizes)
# and each readable image of the corpus, `measure --json`'s required_size
# must equal `stat -c %s` of the converted file, byte for byte, and
# fully_allocated_size must equal `qemu-img measure`'s. No allowed
# difference: every case here is exact (the one place the figure is not,
# past 16 TiB of output, is covered by the unit test).
set -euo pipefail

: "${IMGPROBE:?IMGPROBE must name the imgprobe binary}"
for tool in qemu-img qemu-io python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "skip: $tool is not installed"
        exit 77
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgprobe-measure.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# field JSON_FILE KEY: one top-level number or boolean of measure --json (one
# key a line, two spaces in: the CLI's writer; python3 is too slow to start here)
field() { sed -n "s/^  \"$2\": \([0-9a-z]*\),\{0,1\}\$/\1/p" "$1"; }

checked=0
# check NAME IMAGE [QEMU_FORMAT [optional]]: measure equals the converted file's
# size; with "optional", an image qemu-img cannot convert is passed over.
check() {
    local name=$1 img=$2 fmt=${3:-} optional=${4:-}
    local fopt=()
    [ -n "$fmt" ] && fopt=(-f "$fmt")
    if ! qemu-img convert "${fopt[@]}" -O qcow2 "$img" conv.qcow2 2>conv.err; then
        [ -n "$optional" ] || fail "$name: qemu-img convert failed: $(cat conv.err)"
        echo "passed over: $name: qemu-img cannot convert it"
        rm -f conv.qcow2
        return
    fi
    local real
    real=$(stat -c %s conv.qcow2)
    local qfull
    qfull=$(qemu-img measure "${fopt[@]}" -O qcow2 "$img" | sed -n 's/^fully allocated size: //p')
    rm -f conv.qcow2
    "$IMGPROBE" measure --json "$img" >m.json 2>m.err || fail "$name: measure failed: $(cat m.err)"
    [ ! -s m.err ] || fail "$name: measure wrote to stderr (not a terminal): $(cat m.err)"
    local got full exact
    got=$(field m.json required_size)
    full=$(field m.json fully_allocated_size)
    exact=$(field m.json exact)
    [ "$got" = "$real" ] || fail "$name: measure says $got bytes, qemu-img convert -O qcow2 wrote $real"
    [ "$full" = "$qfull" ] || fail "$name: fully_allocated_size $full, qemu-img measure says $qfull"
    [ "$exact" = true ] || fail "$name: measure is not exact"
    checked=$((checked + 1))
    echo "ok: $name: $got bytes ($(field m.json data_clusters) data clusters, $(field m.json bytes_scanned) bytes scanned)"
}

MiB=$((1 << 20))

# ---- raw: large zero regions, explicit zero writes, a cluster that only ends non-zero ----
qemu-img create -q -f raw zeros.raw 1G
qemu-io -f raw zeros.raw \
    -c 'write -P 0x11 0 3M' \
    -c 'write -P 0 64M 8M' \
    -c 'write -P 0x22 100M 4k' \
    -c 'write -P 0 100M 512' \
    -c 'write -P 0x33 200M 1' \
    -c 'write -P 0x44 600M 192k' \
    -c 'write -P 0 600M 64k' \
    -c 'write -P 0x55 1073741823 1' >/dev/null
check "raw with zero regions and explicit zeros" zeros.raw raw
# the 8 MiB written as zeros are read (the file holds them) and found zero
scanned=$(field m.json bytes_scanned)
[ "$scanned" -ge $((8 * MiB)) ] || fail "raw: only $scanned bytes scanned, the explicit zeros were not read"
[ "$(field m.json data_clusters)" = 53 ] || fail "raw: $(field m.json data_clusters) data clusters, expected 48 + 1 + 1 + 2 + 1 = 53"

# ---- sparse raw: holes everywhere but a few blocks, punched with truncate ----
truncate -s 3G sparse.raw
for off in 0 5 700 1500 2047 3071; do
    printf 'imgprobe %s' "$off" | dd of=sparse.raw bs=1M seek="$off" conv=notrunc status=none
done
check "sparse raw with holes" sparse.raw raw
# the holes are skipped without reading (SEEK_HOLE): far less than the disk is scanned
scanned=$(field m.json bytes_scanned)
[ "$scanned" -lt $((64 * MiB)) ] || fail "sparse raw: $scanned bytes scanned, the holes were read"

# ---- odd sizes: empty, 1000 bytes, 1 GiB + 1000 with its last byte set ----
truncate -s 0 empty.raw
check "empty raw" empty.raw raw
truncate -s 1000 small.raw
check "1000-byte raw, zeros" small.raw raw
printf x | dd of=small.raw bs=1 seek=999 conv=notrunc status=none
check "1000-byte raw, last byte set" small.raw raw
truncate -s $((1024 * MiB + 1000)) odd.raw
printf x | dd of=odd.raw bs=1 seek=$((1024 * MiB + 999)) conv=notrunc status=none
check "1 GiB + 1000 bytes raw" odd.raw raw

# ---- qcow2: zero clusters, data clusters holding only zeros, a lone non-zero byte ----
qemu-img create -q -f qcow2 zc.qcow2 2G
qemu-io -f qcow2 zc.qcow2 \
    -c 'write -P 0x66 0 1M' \
    -c 'write -z 256k 256k' \
    -c 'write -P 0 10M 5M' \
    -c 'write -P 0x77 20M 64k' \
    -c 'write -z 20M 64k' \
    -c 'write -P 0 700M 64k' \
    -c 'write -P 0x88 800M 64k' \
    -c 'write -P 0 800M 65535' \
    -c 'write -P 0x99 1500M 1M' >/dev/null
qemu-img map --output=json zc.qcow2 | python3 -c '
import json, sys
m = json.load(sys.stdin)
zero_data = [e for e in m if e["data"] and e["start"] in (10 << 20, 700 << 20)]
assert zero_data, "the all-zero writes were not allocated as data clusters"' || fail "qcow2: fixture has no all-zero data clusters"
check "qcow2 with zero clusters and all-zero data clusters" zc.qcow2 qcow2
# 16 - 4 (zero clusters) + 1 + 16: the 5 MiB and 64 KiB of zero data are not counted
[ "$(field m.json data_clusters)" = 29 ] || fail "qcow2: $(field m.json data_clusters) data clusters, expected 29"

# a 16 TiB qcow2: four L1 clusters before the first L2 table
qemu-img create -q -f qcow2 huge.qcow2 16T
check "16 TiB qcow2, empty" huge.qcow2 qcow2
qemu-io -f qcow2 huge.qcow2 -c 'write -P 3 8T 4k' >/dev/null
check "16 TiB qcow2, one cluster" huge.qcow2 qcow2

# ---- a backing chain: the overlay writes, zeroes some of the base, and leaves the rest to it ----
qemu-img create -q -f qcow2 base.qcow2 1G
qemu-io -f qcow2 base.qcow2 -c 'write -P 0xa1 0 4M' -c 'write -P 0xa2 512M 2M' -c 'write -P 0 900M 1M' >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2
qemu-io -f qcow2 mid.qcow2 -c 'write -P 0xb1 2M 4M' -c 'write -z 512M 1M' >/dev/null
qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2
qemu-io -f qcow2 top.qcow2 -c 'write -P 0 0 1M' -c 'write -P 0xc1 1000M 64k' >/dev/null
check "qcow2 backing chain (3 deep)" top.qcow2 qcow2
[ "$(field m.json data_clusters)" = 97 ] || fail "chain: $(field m.json data_clusters) data clusters, expected 80 + 16 + 1 = 97"

# ---- other formats, from the raw with zero regions ----
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized zeros.raw stream.vmdk
check "streamOptimized VMDK" stream.vmdk vmdk
qemu-img convert -f raw -O vpc -o subformat=dynamic zeros.raw dyn.vhd
check "dynamic VHD" dyn.vhd vpc
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on sparse.raw dyn2.vhd
check "dynamic VHD (force_size)" dyn2.vhd vpc

# ---- text output: figures and verdicts; no progress bar when stderr is not a terminal ----
"$IMGPROBE" measure --json zeros.raw >m.json
"$IMGPROBE" measure zeros.raw >m.txt 2>m.err
[ ! -s m.err ] || fail "text: stderr not empty: $(cat m.err)"
grep -q "^required size: .*($(field m.json required_size) bytes)" m.txt || fail "text: no required size line: $(cat m.txt)"
grep -q "^verdict: required size after conversion to qcow2 .* under the 50 GB limit (50000000000 bytes): ok" m.txt ||
    fail "text: no 50 GB verdict: $(cat m.txt)"
grep -q "^verdict: virtual size 1 GiB (1073741824 bytes) is under the 500 GB limit (500000000000 bytes): ok" m.txt ||
    fail "text: no 500 GB verdict: $(cat m.txt)"
# past the virtual limit (an empty 600 GiB disk): the verdict says so, the exit status stays 0
qemu-img create -q -f qcow2 big.qcow2 600G
"$IMGPROBE" measure big.qcow2 >m.txt || fail "measure of a 600 GB disk failed"
grep -q "^verdict: virtual size .* is not under the 500 GB limit .*InvalidFormatSize" m.txt ||
    fail "text: no failing 500 GB verdict: $(cat m.txt)"
"$IMGPROBE" measure --json big.qcow2 >m.json
python3 -c '
import json, sys
m = json.load(open("m.json"))
assert m["within_limits"] == {"required_size": True, "virtual_size": False}, m
assert m["limits"] == {"required_size": 50000000000, "virtual_size": 500000000000}, m
assert m["format"] == "qcow2" and m["virtual_size"] == 600 << 30 and m["cluster_size"] == 65536, m' ||
    fail "json: limits: $(cat m.json)"

# with a terminal on stderr, a progress bar (percent, throughput, time left) goes there, not to stdout
if command -v script >/dev/null 2>&1; then
    # script(1) gives the command a terminal and logs what reaches it; stdout goes to a file
    script -qec "'$IMGPROBE' measure --json zeros.raw >tty.out" tty.log >/dev/null 2>&1 ||
        fail "measure under a terminal failed"
    python3 -c 'import json; json.load(open("tty.out"))' || fail "progress: stdout is not only the JSON"
    grep -q "measure: .*%.*/s.*left" tty.log || fail "progress: no bar on the terminal: $(cat -v tty.log)"
fi

# ---- bad input: an error, never a number ----
# a qcow2 whose data clusters were cut off the end of the file
cp zc.qcow2 cut.qcow2
truncate -s $(($(stat -c %s cut.qcow2) - 3 * MiB)) cut.qcow2
if "$IMGPROBE" measure cut.qcow2 >cut.out 2>cut.err; then
    fail "truncated qcow2: measure succeeded: $(cat cut.out)"
fi
[ ! -s cut.out ] || fail "truncated qcow2: a figure was printed: $(cat cut.out)"
grep -q "^imgprobe: cut.qcow2: " cut.err || fail "truncated qcow2: no error message: $(cat cut.err)"
"$IMGPROBE" measure --json cut.qcow2 >cut.out 2>/dev/null && fail "truncated qcow2: --json succeeded"
[ ! -s cut.out ] || fail "truncated qcow2: --json printed: $(cat cut.out)"
# usage errors
"$IMGPROBE" measure 2>/dev/null && fail "measure without an image succeeded"
"$IMGPROBE" measure --bogus zeros.raw 2>/dev/null && fail "measure --bogus succeeded"
"$IMGPROBE" measure -f nosuch zeros.raw 2>/dev/null && fail "measure -f nosuch succeeded"
"$IMGPROBE" measure -f raw zeros.raw >/dev/null || fail "measure -f raw failed"

# ---- the corpus: every image imgprobe reads (not the broken ones) ----
if [ -n "${CORPUS:-}" ] && [ -d "$CORPUS" ]; then
    # the disk images imgprobe reads (one python3 for all: it starts slowly)
    python3 - "$IMGPROBE" "$CORPUS" >corpus.list <<'EOF'
import json, os, subprocess, sys
imgprobe, corpus = sys.argv[1], sys.argv[2]
for root, dirs, files in sorted(os.walk(corpus)):
    dirs.sort()
    # the container formats and partitioned raw disks (not the filesystem and hive samples)
    if os.path.relpath(root, corpus).split(os.sep)[0] not in ("qcow2", "vhd", "vmdk", "raw-partitioned"):
        continue
    for name in sorted(files):
        if name.endswith((".tsv", ".md")):
            continue
        path = os.path.join(root, name)
        p = subprocess.run([imgprobe, "info", "--json", path], capture_output=True, text=True)
        try:
            image = json.loads(p.stdout)["image"]
        except (ValueError, KeyError):
            continue
        fmt = image.get("format")
        if image.get("readable") and fmt in ("raw", "qcow2", "vhd", "vmdk"):
            print(path + "\t" + ("vpc" if fmt == "vhd" else fmt))
EOF
    while IFS=$'\t' read -r img fmt; do
        check "corpus ${img#"$CORPUS"/}" "$img" "$fmt" optional
    done <corpus.list
else
    echo "corpus absent: its part skipped"
fi

echo "measure: $checked images equal to qemu-img convert -O qcow2"
