#!/bin/bash
# Benchmark the ext4 driver against the tools people would use instead
# (issue 5). Not a test: nothing runs it but you.
#
#   bench/bench_ext4.sh [IMGPROBE]
#
#  - `imgprobe ls -R /` of the make_tree.sh tree (20,000 entries in one
#    directory, 20,000-odd in all) against The Sleuth Kit's `fls -r` on the
#    same raw image; goal: ratio <= 1.0;
#  - `imgprobe cat` of a 1 GiB file against `debugfs -R 'cat ...'`; goal:
#    ratio <= 0.5.
# Output goes to /dev/null; the page cache is warm (a first run is not
# counted); the best of $BENCH_RUNS (3) runs is kept.
#
# IMGPROBE (or $IMGPROBE): the binary to measure; by default one is built
# with -Dbuildtype=release in build-bench/. Images go to a mktemp -d under
# $BENCH_DIR (default /var/tmp; needs ~1.5 GiB free), removed at the end.
# Needs mkfs.ext4 and debugfs (e2fsprogs), fls (sleuthkit) and python3.
# Building the 20,000-entry image takes mke2fs about a minute.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${BENCH_RUNS:-3}
imgprobe=${1:-${IMGPROBE:-}}

for tool in mkfs.ext4 debugfs fls python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is required (fls: apt-get install sleuthkit)" >&2; exit 1; }
done
if [ -z "$imgprobe" ]; then
    if [ ! -f "$root/build-bench/build.ninja" ]; then
        meson setup "$root/build-bench" "$root" -Dbuildtype=release -Dtests=disabled >/dev/null
    fi
    ninja -C "$root/build-bench" imgprobe >/dev/null
    imgprobe=$root/build-bench/imgprobe
fi

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/imgprobe-bench-ext4.XXXXXX")
trap 'rm -rf "$work"' EXIT

# best CMD...: the least wall time in seconds of $runs runs (after one
# unmeasured run), stdout to /dev/null.
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

echo "building the images in $work ..."
bash "$root/tests/integration/make_tree.sh" "$work/tree"
rm -f "$work/tree/files/sparse-2G"
mkfs.ext4 -q -F -N 30000 -d "$work/tree" "$work/tree.img" 256M >/dev/null
mkdir "$work/one"
head -c 1G /dev/urandom >"$work/one/1g"
mkfs.ext4 -q -F -d "$work/one" "$work/one.img" 1200M >/dev/null
rm -rf "$work/tree" "$work/one"

entries=$("$imgprobe" ls -R "$work/tree.img" / | grep -c .)
ls_ours=$(best "$imgprobe" ls -R "$work/tree.img" /)
ls_fls=$(best fls -r "$work/tree.img")
cat_ours=$(best "$imgprobe" cat "$work/one.img" /1g)
cat_debugfs=$(best debugfs -R "cat /1g" "$work/one.img")

printf '%-44s %10s %10s %8s %s\n' "what" "imgprobe" "other" "ratio" "goal"
printf '%-44s %9ss %9ss %8s %s\n' "ls -R / ($entries lines) vs fls -r" "$ls_ours" "$ls_fls" "$(ratio "$ls_ours" "$ls_fls")" "<= 1.0"
printf '%-44s %9ss %9ss %8s %s\n' "cat of a 1 GiB file vs debugfs -R cat" "$cat_ours" "$cat_debugfs" "$(ratio "$cat_ours" "$cat_debugfs")" "<= 0.5"
