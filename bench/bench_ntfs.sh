#!/bin/bash
# Benchmark the NTFS driver against the tools people would use instead
# (issue 9). Not a test: nothing runs it but you.
#
#   bench/bench_ntfs.sh [IMGPROBE]
#
#  - `imgprobe ls -R /` of a volume holding 20,000 empty files in one
#    directory (and a few others) against ntfs-3g's `ntfsls -R` and The
#    Sleuth Kit's `fls -r` on the same raw volume; goal: ratio <= 1.0;
#  - `imgprobe cat` of a 256 MiB file against `ntfscat`; goal: ratio <= 1.0.
# Output goes to /dev/null; the page cache is warm (a first run is not
# counted); the best of $BENCH_RUNS (3) runs is kept.
#
# IMGPROBE (or $IMGPROBE): the binary to measure; by default one is built
# with -Dbuildtype=release in build-bench/. Images go to a mktemp -d under
# $BENCH_DIR (default /var/tmp; needs ~700 MiB free), removed at the end.
# Needs mkntfs, ntfsls, ntfscat (ntfs-3g), libntfs-3g's headers (ntfs-3g-dev)
# and cc for the generator (tests/integration/ntfs_gen.c), fls (sleuthkit)
# and python3.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${BENCH_RUNS:-3}
imgprobe=${1:-${IMGPROBE:-}}

for tool in mkntfs ntfsls ntfscat fls python3 cc pkg-config; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is required (fls: apt-get install sleuthkit)" >&2; exit 1; }
done
pkg-config --exists libntfs-3g || { echo "bench: libntfs-3g headers are required (ntfs-3g-dev)" >&2; exit 1; }
if [ -z "$imgprobe" ]; then
    if [ ! -f "$root/build-bench/build.ninja" ]; then
        meson setup "$root/build-bench" "$root" -Dbuildtype=release -Dtests=disabled >/dev/null
    fi
    ninja -C "$root/build-bench" imgprobe >/dev/null
    imgprobe=$root/build-bench/imgprobe
fi

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/imgprobe-bench-ntfs.XXXXXX")
trap 'rm -rf "$work"' EXIT

best() {
    python3 - "$runs" "$@" <<'EOF'
import subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
best = None
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    t = time.perf_counter() - t
    best = t if best is None or t < best else best
print('%.4f' % best)
EOF
}

ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

echo "building the volumes in $work ..."
# shellcheck disable=SC2046
cc -O2 -o "$work/gen" "$root/tests/integration/ntfs_gen.c" $(pkg-config --cflags --libs libntfs-3g)
truncate -s 256M "$work/tree.img"
mkntfs -q -F -f "$work/tree.img" >/dev/null 2>&1
printf 'hello\n' >"$work/small"
{
    printf 'dir\t/big\nmany\t/big\t20000\n'
    for d in 1 2 3 4 5 6 7 8 9 10; do
        printf 'dir\t/d%s\n' "$d"
        for f in 1 2 3 4 5 6 7 8 9 10; do printf 'file\t/d%s/f%s\t%s\n' "$d" "$f" "$work/small"; done
    done
} | "$work/gen" "$work/tree.img"
head -c 256M /dev/urandom >"$work/one-src"
truncate -s 400M "$work/one.img"
mkntfs -q -F -f "$work/one.img" >/dev/null 2>&1
printf 'file\t/one\t%s\n' "$work/one-src" | "$work/gen" "$work/one.img"
rm -f "$work/one-src"

entries=$("$imgprobe" ls -R "$work/tree.img" / | grep -c .)
ls_ours=$(best "$imgprobe" ls -R "$work/tree.img" /)
ls_ntfsls=$(best ntfsls -R "$work/tree.img")
ls_fls=$(best fls -r "$work/tree.img")
cat_ours=$(best "$imgprobe" cat "$work/one.img" /one)
cat_ntfscat=$(best ntfscat "$work/one.img" /one)

printf '%-44s %10s %10s %8s %s\n' "what" "imgprobe" "other" "ratio" "goal"
printf '%-44s %9ss %9ss %8s %s\n' "ls -R / ($entries lines) vs ntfsls -R" "$ls_ours" "$ls_ntfsls" "$(ratio "$ls_ours" "$ls_ntfsls")" "<= 1.0"
printf '%-44s %9ss %9ss %8s %s\n' "ls -R / ($entries lines) vs fls -r" "$ls_ours" "$ls_fls" "$(ratio "$ls_ours" "$ls_fls")" "<= 1.0"
printf '%-44s %9ss %9ss %8s %s\n' "cat of a 256 MiB file vs ntfscat" "$cat_ours" "$cat_ntfscat" "$(ratio "$cat_ours" "$cat_ntfscat")" "<= 1.0"
