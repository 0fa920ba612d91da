#!/bin/bash
# Benchmark `imgprobe check` on a Windows guest (issue 10). Not a test:
# nothing runs it but you.
#
#   bench/bench_check_windows.sh [IMGPROBE]
#
# On a qcow2 of a generated Windows Server 2019 system volume
# (tests/integration/make_win_tree.py, populated by ntfs_gen.c, after a
# System Reserved partition), runs bench_check.sh's measures (BENCH_IMAGE):
# `imgprobe check` against `qemu-img info` (goal ratio <= 3) and
# `virt-inspector` when installed (goal <= 0.01), bytes read, peak RSS.
# The generated hives are small (a real SOFTWARE hive is 50-100 MiB, read
# whole): bytes read and RSS are lower bounds for a real guest.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
imgprobe=${1:-${IMGPROBE:-}} # empty: bench_check.sh builds a release imgprobe
PY=/usr/bin/python3

for tool in mkntfs hivexregedit sfdisk qemu-img cc pkg-config "$PY"; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 1; }
done
pkg-config --exists libntfs-3g || { echo "bench: libntfs-3g headers are required (ntfs-3g-dev)" >&2; exit 1; }
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/imgprobe-bench-check-windows.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# shellcheck disable=SC2046
cc -O1 -o gen "$root/tests/integration/ntfs_gen.c" $(pkg-config --cflags --libs libntfs-3g)
"$PY" "$root/tests/integration/make_win_tree.py" ws2019 viostor=fs0 netkvm=fs3 cloudbase=sdu
truncate -s 16M reserved.fs
mkntfs -q -F -f -L "System Reserved" reserved.fs >/dev/null 2>&1
head -c 8192 /dev/zero >bcd.bin
printf 'dir\t/Boot\nfile\t/bootmgr\tbcd.bin\nfile\t/Boot/BCD\tbcd.bin\n' | ./gen reserved.fs
truncate -s 4G win.fs
mkntfs -q -F -f -L Windows win.fs >/dev/null 2>&1
./gen win.fs <ws2019.cmds
truncate -s $(((16 + 4096 + 2) << 20)) disk.raw
printf 'label: dos\nstart=2048, size=32768, type=7, bootable\nstart=34816, type=7\n' | sfdisk -q disk.raw
dd if=reserved.fs of=disk.raw bs=1M seek=1 conv=notrunc,sparse status=none
dd if=win.fs of=disk.raw bs=1M seek=17 conv=notrunc,sparse status=none
rm -f reserved.fs win.fs
img=$work/disk.qcow2
qemu-img convert -O qcow2 disk.raw "$img"
rm -f disk.raw

BENCH_IMAGE=$img "$root/bench/bench_check.sh" "$imgprobe"
