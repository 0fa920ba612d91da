#!/bin/bash
# Build a small sample guest and show what imgprobe makes of it: a Debian 12
# root (release files, grub.cfg, a kernel with its modules and a zstd
# initramfs, cloud-init; tests/integration/make_os_tree.py) on ext4 in an MBR
# partition of a qcow2, then the same disk as an overlay on a base image.
# Usage: scripts/demo.sh [path/to/imgprobe]   (default: build/imgprobe)
# Needs qemu-img, mkfs.ext4, sfdisk, cpio, zstd and python3.
set -euo pipefail
IMGPROBE=$(realpath "${1:-build/imgprobe}")
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$(dirname "$IMGPROBE")/sample
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"

# guest OUT.qcow2 [make_os_tree options]: a 400 MiB ext4 root in partition 1 of a 1 GiB disk
guest() {
    local out=$1
    shift
    ROOT_UUID=6a1f0c3e-4b1d-4c55-9d2e-0123456789ab python3 "$src/tests/integration/make_os_tree.py" tree debian12 \
        --hostname=sample "$@"
    mkfs.ext4 -q -F -U 6a1f0c3e-4b1d-4c55-9d2e-0123456789ab -d tree root.fs 400M >/dev/null
    truncate -s 1G disk.raw
    echo 'start=2048, size=400MiB, type=83, bootable' | sfdisk -q disk.raw
    dd if=root.fs of=disk.raw bs=1M seek=1 conv=notrunc,sparse status=none
    qemu-img convert -q -f raw -O qcow2 disk.raw "$out"
    rm -rf tree root.fs disk.raw
}
guest base.qcow2
# the same guest without cloud-init, its virtio drivers left out of the initramfs
guest broken.qcow2 --cloud-init=none --virtio=module-only
# and an overlay on the first
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 sample.qcow2

echo "== imgprobe check $dir/base.qcow2"
"$IMGPROBE" check base.qcow2 || true
echo
echo "== imgprobe check $dir/broken.qcow2"
"$IMGPROBE" check broken.qcow2 || true
echo
echo "== imgprobe info $dir/sample.qcow2 (an overlay on base.qcow2)"
"$IMGPROBE" info sample.qcow2
echo
echo "== imgprobe ls -l sample.qcow2 /boot (the guest's files, read through the overlay)"
"$IMGPROBE" ls -l sample.qcow2 /boot
echo
echo "== imgprobe measure sample.qcow2"
"$IMGPROBE" measure sample.qcow2
