#!/bin/bash
# Benchmark `imgprobe measure` against what users would run instead
# (bench/README.md, issue 8). Not a test: nothing runs it but you.
#
#   bench/bench_measure.sh [IMGPROBE]
#
#  - on a 4 GiB qcow2, half allocated (random data in every other 64 MiB
#    stripe): `imgprobe measure` against `qemu-img convert -O qcow2` to tmpfs
#    (/dev/shm; goal: time ratio <= 0.5) and against `qemu-img measure -O
#    qcow2` (time ratio, and how far each figure is from the size of the
#    file convert really wrote);
#  - the same on a 4 GiB raw file with 1 GiB of random data and 1 GiB of
#    zeros written out (allocated, so that status cannot skip them), where
#    `qemu-img measure` counts the written zeros;
#  - scan throughput in GB/s (bytes read and tested, per second of wall
#    time) on cached data, for random data (each cluster decided by its first
#    bytes) and for written zeros (every byte tested), with peak RSS (goal
#    <= 32 MiB).
# Every figure: the best wall time of $BENCH_RUNS (3) runs, warm page cache;
# peak RSS is the largest of /usr/bin/time's %M.
#
# IMGPROBE (or $IMGPROBE): the binary to measure; by default one is built
# with -Dbuildtype=release in build-bench/. Images go to a mktemp -d under
# $BENCH_DIR (default /var/tmp; needs ~5 GiB free); conversions to /dev/shm
# (needs ~2.5 GiB free). Everything made is removed at the end.
# Needs qemu-img, qemu-io and GNU time (/usr/bin/time; Debian package `time`).
set -euo pipefail

trap 'echo "bench: failed at line $LINENO" >&2' ERR
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${BENCH_RUNS:-3}
gib=${BENCH_GIB:-4} # virtual size of the images; half of it is written
imgprobe=${1:-${IMGPROBE:-}}

for tool in qemu-img qemu-io awk; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench: GNU time is required (apt-get install time)" >&2; exit 1; }

if [ -z "$imgprobe" ]; then
    if [ ! -f "$root/build-bench/build.ninja" ]; then
        meson setup "$root/build-bench" "$root" -Dbuildtype=release -Dtests=disabled >/dev/null
    fi
    ninja -C "$root/build-bench" imgprobe >/dev/null
    imgprobe=$root/build-bench/imgprobe
fi

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/imgprobe-bench.XXXXXX")
shm=$(mktemp -d /dev/shm/imgprobe-bench.XXXXXX)
trap 'rm -rf "$work" "$shm"' EXIT

# calc EXPR: awk arithmetic, printed as given by the format in $fmt (default %.2f)
calc() { awk "BEGIN { printf \"${fmt:-%.2f}\", ($1) }"; }
# le A B: true when A <= B (numbers with decimals)
le() { awk "BEGIN { exit !($1 <= $2) }"; }

# time_best CMD...: run CMD $runs times (stdout to $work/out); sets best_s (least
# wall time, s, to the millisecond: time's %e has only hundredths) and rss_kib
# (the largest peak RSS, KiB).
time_best() {
    best_s= rss_kib=0
    for _ in $(seq "$runs"); do
        local t0=$EPOCHREALTIME
        /usr/bin/time -f '%M' -o "$work/time" "$@" >"$work/out"
        local t1=$EPOCHREALTIME
        local s kib
        s=$(fmt=%.3f calc "$t1 - $t0")
        kib=$(cat "$work/time")
        if [ -z "$best_s" ] || ! le "$best_s" "$s"; then best_s=$s; fi
        if [ "$kib" -gt "$rss_kib" ]; then rss_kib=$kib; fi
    done
}

# json_field KEY: a top-level number of the last measure --json (in $work/out)
json_field() { sed -n "s/^  \"$1\": \([0-9]*\),\{0,1\}$/\1/p" "$work/out"; }

verdict() { if le "$1" "$2"; then echo ok; else echo MISSED; fi; }
mib() { calc "$1 / 1024"; }

# compare LABEL IMAGE: measure vs convert vs qemu-img measure on one image.
compare() {
    local label=$1 img=$2
    # the converted file, and the figures each tool gives for it
    qemu-img convert -O qcow2 "$img" "$shm/conv.qcow2"
    local real
    real=$(stat -c %s "$shm/conv.qcow2")
    rm -f "$shm/conv.qcow2"
    "$imgprobe" measure --json "$img" >"$work/out"
    local ours
    ours=$(json_field required_size)
    local qm
    qm=$(qemu-img measure -O qcow2 "$img" | sed -n 's/^required size: //p')

    time_best "$imgprobe" measure --json "$img"
    local ip_s=$best_s ip_kib=$rss_kib
    local scanned
    scanned=$(json_field bytes_scanned)
    time_best qemu-img convert -O qcow2 "$img" "$shm/x.qcow2"
    rm -f "$shm/x.qcow2"
    local cv_s=$best_s
    time_best qemu-img measure -O qcow2 "$img"
    local qm_s=$best_s

    echo "$label"
    printf '  converted file: %s bytes; imgprobe measure: %s (%s); qemu-img measure: %s (%s)\n' \
        "$real" "$ours" "$(fmt=%+d calc "$ours - $real") bytes" "$qm" "$(fmt=%+d calc "$qm - $real") bytes"
    printf '  vs convert to tmpfs:   %6ss vs %6ss  ratio %s (goal <= 0.5: %s)\n' \
        "$ip_s" "$cv_s" "$(calc "$ip_s / $cv_s")" "$(verdict "$(calc "$ip_s / $cv_s")" 0.5)"
    printf '  vs qemu-img measure:   %6ss vs %6ss  ratio %s\n' "$ip_s" "$qm_s" "$(calc "$qm_s > 0 ? $ip_s / $qm_s : 0")"
    printf '  scanned %s bytes: %s GB/s; peak RSS %s MiB (goal <= 32 MiB: %s)\n' \
        "$scanned" "$(calc "$ip_s > 0 ? $scanned / $ip_s / 1e9 : 0")" "$(mib "$ip_kib")" "$(verdict "$ip_kib" 32768)"
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores," \
    "$(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -sr)"
echo "imgprobe: $imgprobe; $(qemu-img --version | head -1); best of $runs runs, warm page cache"
echo

# 4 GiB qcow2, half allocated: random data in every other 64 MiB stripe.
head -c 64M /dev/urandom >"$work/stripe.bin"
qcow2=$work/half.qcow2
qemu-img create -q -f qcow2 "$qcow2" "${gib}G"
writes=()
for ((i = 0; i < gib * 16; i += 2)); do
    writes+=(-c "write -s $work/stripe.bin $((i * 64))M 64M")
done
qemu-io -f qcow2 "$qcow2" "${writes[@]}" >/dev/null
compare "qcow2, $gib GiB virtual, half allocated (random data in every other 64 MiB stripe):" "$qcow2"
rm -f "$qcow2"
echo

# 4 GiB raw: the first quarter random, the second quarter zeros written out, the rest a hole.
raw=$work/zeros.raw
truncate -s "${gib}G" "$raw"
quarter=$((gib * 4)) # in 64 MiB stripes
for ((i = 0; i < quarter; i++)); do
    dd if="$work/stripe.bin" of="$raw" bs=64M seek="$i" conv=notrunc status=none
done
dd if=/dev/zero of="$raw" bs=64M seek="$quarter" count="$quarter" conv=notrunc status=none
rm -f "$work/stripe.bin"
compare "raw, $gib GiB: a quarter random data, a quarter zeros written out (allocated), the rest a hole:" "$raw"
rm -f "$raw"
echo

# Scan throughput on cached data, in /dev/shm: all random, then all zeros written out.
for kind in random zeros; do
    img=$shm/scan-$kind.raw
    if [ "$kind" = random ]; then
        head -c "$((gib * 512))M" /dev/urandom >"$img"
    else
        head -c "$((gib * 512))M" /dev/zero >"$img"
    fi
    time_best "$imgprobe" measure --json "$img"
    scanned=$(json_field bytes_scanned)
    printf 'scan of %s GiB of %-6s in /dev/shm: %6ss, %s GB/s; peak RSS %s MiB (goal <= 32 MiB: %s)\n' \
        "$(calc "$gib / 2")" "$kind" "$best_s" "$(calc "$best_s > 0 ? $scanned / $best_s / 1e9 : 0")" \
        "$(mib "$rss_kib")" "$(verdict "$rss_kib" 32768)"
    rm -f "$img"
done
