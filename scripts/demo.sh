#!/bin/bash
# Build a small sample image with qemu-img (a qcow2 overlay on a qcow2 base,
# with data written in both layers) and show what imgprobe makes of it.
# Usage: scripts/demo.sh [path/to/imgprobe]   (default: build/imgprobe)
set -euo pipefail
IMGPROBE=$(realpath "${1:-build/imgprobe}")
dir=$(dirname "$IMGPROBE")/sample
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"

# a 64 MiB disk: 8 MiB of random data, a zero gap, a repeated pattern, a hole
head -c 8M /dev/urandom > base.raw
head -c 4M < <(yes 'imgprobe sample') | dd of=base.raw bs=1M seek=32 conv=notrunc status=none
truncate -s 64M base.raw
qemu-img convert -q -f raw -O qcow2 -c base.raw base.qcow2
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 sample.qcow2
qemu-io -f qcow2 -c 'write -P 0x5a 1M 256k' -c 'write -z 33M 64k' sample.qcow2 >/dev/null

echo "== imgprobe info $dir/sample.qcow2"
"$IMGPROBE" info sample.qcow2
echo
echo "== imgprobe digest (and the same through qemu-img convert -O raw | xxh128sum)"
"$IMGPROBE" digest sample.qcow2
qemu-img convert -O raw sample.qcow2 sample.raw && xxh128sum sample.raw && rm -f sample.raw
