#!/bin/bash
# Benchmark `imgprobe dump` and `imgprobe info` against qemu-img on the same
# images (bench/README.md). Not a test: nothing runs it but you.
#
#   bench/bench_dump.sh [IMGPROBE]
#
# IMGPROBE (or $IMGPROBE): the binary to measure; by default one is built
# with -Dbuildtype=release in build-bench/. Images go to a mktemp -d under
# $BENCH_DIR (default /var/tmp; needs ~5 GiB free); conversions by qemu-img
# go to /dev/shm (tmpfs; needs ~4.5 GiB free there). Everything made is
# removed at the end. $BENCH_RUNS (3) runs per figure, the best time kept;
# $BENCH_GIB (4) the virtual size of the dump image, for a quick try.
#
# Needs qemu-img, qemu-io, GNU time (/usr/bin/time; Debian package `time`)
# and python3.
set -euo pipefail

trap 'echo "bench: failed at line $LINENO" >&2' ERR
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${BENCH_RUNS:-3}
gib=${BENCH_GIB:-4} # virtual size of the dump image; half of it is written
imgprobe=${1:-${IMGPROBE:-}}

for tool in qemu-img qemu-io python3; do
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

# ---- measuring ----
# measure OUTPUT_FILE CMD...: run CMD $runs times (stdout to OUTPUT_FILE,
# removed after each run); sets best_s (least wall time, s) and rss_kib (the
# largest peak RSS seen, KiB).
measure() {
    local out=$1
    shift
    best_s= rss_kib=0
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$out"
        [ "$out" = /dev/null ] || rm -f "$out"
        read -r s kib <"$work/time"
        if [ -z "$best_s" ] || python3 -c "import sys; sys.exit(not $s < $best_s)"; then best_s=$s; fi
        if [ "$kib" -gt "$rss_kib" ]; then rss_kib=$kib; fi
    done
}

# measure_many N CMD...: like measure with stdout discarded, for commands
# too quick for one timing: the best over $runs of N back-to-back runs,
# divided by N (best_ms), and the peak RSS of one run (rss_kib).
measure_many() {
    local n=$1
    shift
    best_ms=
    for _ in $(seq "$runs"); do
        local t0 t1
        t0=$(date +%s%N)
        for _ in $(seq "$n"); do "$@" >/dev/null; done
        t1=$(date +%s%N)
        local ms
        ms=$(python3 -c "print(f'{($t1 - $t0) / 1e6 / $n:.2f}')")
        if [ -z "$best_ms" ] || python3 -c "import sys; sys.exit(not $ms < $best_ms)"; then best_ms=$ms; fi
    done
    /usr/bin/time -f '%M' -o "$work/time" "$@" >/dev/null
    rss_kib=$(cat "$work/time")
}

ratio() { python3 -c "print(f'{$1 / $2:.2f}' if $2 else 'n/a')"; }
mib() { python3 -c "print(f'{$1 / 1024:.1f}')"; }
verdict() { python3 -c "print('ok' if $1 <= $2 else 'MISSED')"; }

readable() { # IMAGE FORMAT: imgprobe reads IMAGE as FORMAT (not only recognises it)
    "$imgprobe" info --json "$1" 2>/dev/null | python3 -c '
import json, sys
image = json.load(sys.stdin).get("image", {})
sys.exit(0 if image.get("format") == sys.argv[1] and image.get("readable") else 1)' "$2" 2>/dev/null
}

# dump_vs_convert LABEL IMAGE FORMAT: imgprobe dump > /dev/null vs qemu-img convert -O raw to tmpfs.
dump_vs_convert() {
    local label=$1 img=$2 format=$3
    if ! readable "$img" "$format"; then
        printf '%-22s skipped: not readable yet\n' "$label"
        return
    fi
    # The figures mean nothing if the bytes differ: compare once.
    qemu-img convert -O raw "$img" "$shm/oracle.raw"
    "$imgprobe" dump "$img" >"$shm/dump.raw"
    if ! cmp -s "$shm/oracle.raw" "$shm/dump.raw"; then
        printf '%-22s FAILED: imgprobe dump differs from qemu-img convert -O raw\n' "$label"
        rm -f "$shm/oracle.raw" "$shm/dump.raw"
        return
    fi
    rm -f "$shm/oracle.raw" "$shm/dump.raw"

    measure /dev/null "$imgprobe" dump "$img"
    local ip_s=$best_s ip_kib=$rss_kib
    measure /dev/null qemu-img convert -O raw "$img" "$shm/x.raw"
    rm -f "$shm/x.raw"
    local q_s=$best_s q_kib=$rss_kib
    # Also like for like: imgprobe writing the same file to tmpfs (holes kept).
    measure "$shm/y.raw" "$imgprobe" dump "$img"
    local ipf_s=$best_s
    printf '%-22s time %7ss vs %7ss  ratio %s (goal <= 1.0: %s)   peak RSS %6s MiB vs %6s MiB  ratio %s (goal <= 32 MiB: %s)   imgprobe dump to a tmpfs file: %ss, ratio %s\n' \
        "$label" "$ip_s" "$q_s" "$(ratio "$ip_s" "$q_s")" "$(verdict "$(ratio "$ip_s" "$q_s")" 1.0)" \
        "$(mib "$ip_kib")" "$(mib "$q_kib")" "$(ratio "$ip_kib" "$q_kib")" "$(verdict "$ip_kib" 32768)" \
        "$ipf_s" "$(ratio "$ipf_s" "$q_s")"
}

# ---- images ----
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores," \
    "$(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -sr)"
echo "imgprobe: $imgprobe; $(qemu-img --version | head -1); best of $runs runs, warm page cache"

# 4 GiB, half allocated: random data in every other 64 MiB stripe.
head -c 64M /dev/urandom >"$work/stripe.bin"
qcow2=$work/half.qcow2
qemu-img create -q -f qcow2 "$qcow2" "${gib}G"
writes=()
for ((i = 0; i < gib * 16; i += 2)); do
    writes+=(-c "write -s $work/stripe.bin $((i * 64))M 64M")
done
qemu-io -f qcow2 "$qcow2" "${writes[@]}" >/dev/null
rm -f "$work/stripe.bin"
echo "image: $gib GiB virtual, half allocated in stripes of 64 MiB (random data), 64 KiB clusters"
echo "dump: 'imgprobe dump IMG > /dev/null' vs 'qemu-img convert -O raw IMG /dev/shm/x.raw'"
echo

dump_vs_convert "qcow2 dump" "$qcow2" qcow2

vhd=$work/half.vhd
qemu-img convert -O vpc -o subformat=dynamic,force_size=on "$qcow2" "$vhd"
dump_vs_convert "vhd (dynamic) dump" "$vhd" vhd
rm -f "$vhd"

vmdk=$work/half.vmdk
qemu-img convert -O vmdk -o subformat=streamOptimized "$qcow2" "$vmdk"
dump_vs_convert "vmdk (stream) dump" "$vmdk" vmdk
rm -f "$vmdk" "$qcow2"

# info on a 100 GiB qcow2 with a little data (a 200-entry L1 at 64 KiB clusters).
big=$work/big.qcow2
qemu-img create -q -f qcow2 "$big" 100G
qemu-io -f qcow2 "$big" -c 'write -P 0x5a 0 1M' -c 'write -P 0xa5 50G 1M' -c 'write -P 0x33 99G 1M' >/dev/null
if readable "$big" qcow2; then
    measure_many 20 "$imgprobe" info "$big"
    ip_ms=$best_ms ip_kib=$rss_kib
    measure_many 20 qemu-img info "$big"
    q_ms=$best_ms q_kib=$rss_kib
    printf '%-22s time %7sms vs %7sms  ratio %s (goal <= 1.0: %s)   peak RSS %6s MiB vs %6s MiB\n' \
        "qcow2 info (100 GiB)" "$ip_ms" "$q_ms" "$(ratio "$ip_ms" "$q_ms")" "$(verdict "$(ratio "$ip_ms" "$q_ms")" 1.0)" \
        "$(mib "$ip_kib")" "$(mib "$q_kib")"
else
    printf '%-22s skipped: not readable yet\n' "qcow2 info (100 GiB)"
fi
