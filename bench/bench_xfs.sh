#!/bin/bash
# Benchmark the XFS driver against the tools people would use instead
# (issue 6). Not a test: nothing runs it but you.
#
#   bench/bench_xfs.sh [IMGPROBE]
#
#  - `imgprobe ls -R /` of the make_tree.sh tree written by `mkfs.xfs -p`
#    (20,000 entries in one btree-format directory, 21,000-odd in all) against
#    The Sleuth Kit's `fls -r` on the same raw image; goal: ratio <= 1.0.
#    fls reads XFS from sleuthkit 4.12 on, and not btree-format directories
#    there; where it cannot, the line says so and the ratio is left out;
#  - the same listing against the kernel (`find` on a read-only loop mount,
#    page cache warm), when run as root: a reference, not a goal;
#  - `imgprobe cat` of a 1 GiB file against the kernel's `cat` of it on a
#    read-only loop mount (reference).
# Output goes to /dev/null; a first run is not counted; the best of
# $BENCH_RUNS (3) runs is kept.
#
# IMGPROBE (or $IMGPROBE): the binary to measure; by default one is built
# with -Dbuildtype=release in build-bench/. Images go to a mktemp -d under
# $BENCH_DIR (default /var/tmp; needs ~2 GiB free), removed at the end.
# Needs mkfs.xfs (xfsprogs), python3; fls (sleuthkit) for the goal line.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${BENCH_RUNS:-3}
imgprobe=${1:-${IMGPROBE:-}}

for tool in mkfs.xfs python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
if [ -z "$imgprobe" ]; then
    if [ ! -f "$root/build-bench/build.ninja" ]; then
        meson setup "$root/build-bench" "$root" -Dbuildtype=release -Dtests=disabled >/dev/null
    fi
    ninja -C "$root/build-bench" imgprobe >/dev/null
    imgprobe=$root/build-bench/imgprobe
fi

work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/imgprobe-bench-xfs.XXXXXX")
mnt=$work/mnt
trap 'mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"; rm -rf "$work"' EXIT

# best CMD...: the least wall time in seconds of $runs runs (after one
# unmeasured run), stdout to /dev/null; "failed" when the command fails.
best() {
    python3 - "$runs" "$@" <<'PY'
import subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
    print('failed')
    sys.exit(0)
best = None
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    t = time.perf_counter() - t
    best = t if best is None or t < best else best
print('%.4fs' % best)
PY
}

ratio() { case "$1$2" in *failed*|*-*) echo -;; *) python3 -c "print('%.2f' % (${1%s} / ${2%s}))";; esac; }

echo "building the images in $work ..."
bash "$root/tests/integration/make_tree.sh" "$work/tree"
rm -f "$work/tree/files/sparse-2G"
bash "$root/tests/integration/make_protofile.sh" "$work/tree" >"$work/tree.proto"
truncate -s 512M "$work/tree.img"
mkfs.xfs -q -p "$work/tree.proto" "$work/tree.img"
mkdir "$work/one"
head -c 512M /dev/urandom >"$work/one/1g"
bash "$root/tests/integration/make_protofile.sh" "$work/one" >"$work/one.proto"
truncate -s 1500M "$work/one.img"
# two AGs of 750 MB: mkfs.xfs 6.1 -p writes only what fits in the AG it starts a file in
# (the rest reads as a hole, and the AGF's CRC is left wrong)
mkfs.xfs -q -d agcount=2 -p "$work/one.proto" "$work/one.img"
sum=$(sha256sum <"$work/one/1g")
rm -rf "$work/tree" "$work/one"
[ "$("$imgprobe" cat "$work/one.img" /1g | sha256sum)" = "$sum" ] || { echo "bench: cat /1g reads other bytes" >&2; exit 1; }

entries=$("$imgprobe" ls -R "$work/tree.img" / | grep -c .)
ls_ours=$(best "$imgprobe" ls -R "$work/tree.img" /)
ls_fls=-
why=""
if command -v fls >/dev/null; then
    ls_fls=$(best fls -r "$work/tree.img")
    [ "$ls_fls" != failed ] || why=" (fls: $(fls -r "$work/tree.img" 2>&1 >/dev/null | head -1 || true))"
else
    why=" (fls not installed)"
fi
cat_ours=$(best "$imgprobe" cat "$work/one.img" /1g)
ls_kernel=- cat_kernel=-
mkdir -p "$mnt"
if [ "$(id -u)" = 0 ] && mount -o ro,loop "$work/tree.img" "$mnt" 2>/dev/null; then
    ls_kernel=$(best find "$mnt")
    umount "$mnt"
    sleep 1 # the loop device of the first mount is released asynchronously
    if mount -o ro,loop "$work/one.img" "$mnt"; then
        cat_kernel=$(best cat "$mnt/1g")
        umount "$mnt"
    fi
fi

printf '%-46s %10s %10s %8s %s\n' "what" "imgprobe" "other" "ratio" "goal"
printf '%-46s %10s %10s %8s %s\n' "ls -R / ($entries lines) vs fls -r" "$ls_ours" "$ls_fls" "$(ratio "$ls_ours" "$ls_fls")" "<= 1.0$why"
printf '%-46s %10s %10s %8s %s\n' "ls -R / vs find on a kernel mount" "$ls_ours" "$ls_kernel" "$(ratio "$ls_ours" "$ls_kernel")" "(reference)"
printf '%-46s %10s %10s %8s %s\n' "cat of a 512 MiB file vs the kernel's cat" "$cat_ours" "$cat_kernel" "$(ratio "$cat_ours" "$cat_kernel")" "(reference)"
