#!/bin/bash
# Fault injection over a full `check` (tests/support/faultcheck.c): for
# small guests built here with real tools, the Nth read of the image file
# failing and the Nth allocation failing, for every N, through the image
# layer alone, the volumes layer (what `info` shows) and the whole
# inspection; once with one failure, and once with every read failing from
# the Nth on (a dead disk) and caches cut to one block (more re-reads, so
# failures reach readers a warm cache would hide). Each run must end in a
# clean error (IMGP_ERR_IO / _NOMEM with a message), in the fault-free
# result, or in one that names the failure (a volume note "cannot read its
# superblock: ... injected ..."); anything else aborts faultcheck.
# Under -Db_sanitize=address LeakSanitizer checks every iteration at exit.
#
# Fixtures (a few MiB each): Debian 12 on ext4 in qcow2 (MBR), CentOS 8 on
# XFS on GPT in vmdk (mkfs.xfs -p; its 300 MB floor lifted as xfstests
# does), the same Debian tree on an LVM logical volume in qcow2 (root, lvm2
# and a loop device only), Windows Server 2019 on NTFS (ntfs_gen) in vhd; and for the
# image layer alone, the Debian disk as compressed qcow2, a qcow2 overlay,
# streamOptimized and split vmdk.
set -euo pipefail
: "${FAULTCHECK:?}" "${SRCDIR:?}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for tool in mkfs.ext4 sfdisk qemu-img qemu-io cpio zstd "$PY"; do
    command -v "$tool" >/dev/null || { echo "skip: $tool not installed"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/faults.XXXXXX")
loop_dev=
cleanup() {
    [ -n "$loop_dev" ] && losetup -d "$loop_dev" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T"
ROOT_UUID=6a1f0c3e-4b1d-4c55-9d2e-0123456789ab
export ROOT_UUID
fixtures=()

# disk OUT dos|gpt SIZE_MB TYPE FS: FS as the one partition (from 1 MiB, of
# sfdisk TYPE, to the end) of a disk of SIZE_MB
disk() {
    rm -f "$1"
    truncate -s "$3M" "$1"
    printf 'label: %s\nstart=2048, type=%s\n' "$2" "$4" | sfdisk -q "$1"
    dd if="$5" of="$1" bs=1M seek=1 conv=notrunc,sparse status=none
}

# Debian 12 on ext4, MBR, qcow2
"$PY" "$SRCDIR/tests/integration/make_os_tree.py" debian.tree debian12
mkfs.ext4 -q -F -U "$ROOT_UUID" -d debian.tree debian.fs 4M >/dev/null
disk debian.raw dos 6 83 debian.fs
qemu-img convert -O qcow2 debian.raw debian.qcow2
fixtures+=(debian.qcow2)

# CentOS 8 on XFS, GPT, vmdk: mkfs.xfs refuses under 300 MB unless run by xfstests
if command -v mkfs.xfs >/dev/null; then
    "$PY" "$SRCDIR/tests/integration/make_os_tree.py" centos.tree centos8
    bash "$SRCDIR/tests/integration/make_protofile.sh" centos.tree >centos.proto
    truncate -s 16M centos.fs
    if TEST_DEV=1 TEST_DIR=1 QA_CHECK_FS=1 mkfs.xfs -q -f -m uuid="$ROOT_UUID" -p centos.proto centos.fs >/dev/null 2>&1; then
        disk centos.raw gpt 18 L centos.fs
        qemu-img convert -O vmdk centos.raw centos.vmdk
        fixtures+=(centos.vmdk)
    else
        echo "skip: XFS fixture (this mkfs.xfs will not make a 16 MiB filesystem)"
    fi
else
    echo "skip: XFS fixture (mkfs.xfs not installed)"
fi

# the Debian filesystem on LV vg0/root of a PV on partition 1 (type 8e), qcow2
if [ "$(id -u)" = 0 ] && command -v pvcreate >/dev/null && command -v losetup >/dev/null; then
    disk lvm.raw dos 12 8e /dev/null
    if loop_dev=$(losetup -f --show -o $((1 << 20)) --sizelimit $((11 << 20)) lvm.raw 2>/dev/null); then
        conf="devices { filter = [ \"a|^$loop_dev\$|\", \"r|.*|\" ] use_devicesfile = 0 hints = \"none\" }"
        conf+=" activation { udev_sync = 0 udev_rules = 0 }"
        cfg=(--config "$conf" --driverloaded n)
        if pvcreate "${cfg[@]}" -q "$loop_dev" >/dev/null 2>&1 &&
            vgcreate "${cfg[@]}" -q -s 1m vg0 "$loop_dev" >/dev/null 2>&1 &&
            lvcreate "${cfg[@]}" --yes -an -Zn -Wn -q -n root -L 4m vg0 >/dev/null 2>&1; then
            pe_start=$(pvs "${cfg[@]}" --noheadings --units b --nosuffix -o pe_start "$loop_dev" | tr -d ' ')
            first=$(lvs "${cfg[@]}" --noheadings --segments -o seg_pe_ranges vg0/root | tr -d ' ' |
                sed 's/.*:\([0-9]*\)-.*/\1/')
            losetup -d "$loop_dev"
            loop_dev=
            dd if=debian.fs of=lvm.raw bs=1M seek=$(((1 << 20) + pe_start + first * (1 << 20))) oflag=seek_bytes \
                conv=notrunc,sparse status=none
            qemu-img convert -O qcow2 lvm.raw lvm.qcow2
            fixtures+=(lvm.qcow2)
        else
            echo "skip: LVM fixture (lvm2 could not make the VG)"
        fi
    else
        echo "skip: LVM fixture (no loop device)"
    fi
else
    echo "skip: LVM fixture (needs root, lvm2 and losetup)"
fi

# Windows Server 2019 on NTFS (SOFTWARE and SYSTEM hives, drivers, cloudbase-init), MBR, vhd
if command -v mkntfs >/dev/null && command -v hivexregedit >/dev/null && command -v cc >/dev/null &&
    pkg-config --exists libntfs-3g 2>/dev/null && [ -f /usr/include/ntfs-3g/volume.h ]; then
    # shellcheck disable=SC2046
    cc -O1 -o ntfs_gen "$SRCDIR/tests/integration/ntfs_gen.c" $(pkg-config --cflags --libs libntfs-3g)
    "$PY" "$SRCDIR/tests/integration/make_win_tree.py" windows host=WS2019
    truncate -s 8M windows.fs
    mkntfs -q -F -f -L windows windows.fs >/dev/null 2>&1
    ./ntfs_gen windows.fs <windows.cmds
    disk windows.raw dos 10 7 windows.fs
    qemu-img convert -O vpc windows.raw windows.vhd
    fixtures+=(windows.vhd)
else
    echo "skip: Windows fixture (mkntfs, hivexregedit, cc or libntfs-3g headers missing)"
fi
# the format readers' other paths, for the image layer: compressed qcow2
# clusters, an overlay reading through its backing file, streamOptimized
# (deflated grains) and split (several extent files) vmdk
qemu-img convert -c -O qcow2 debian.raw variant-compressed.qcow2
qemu-img create -q -f qcow2 -b debian.qcow2 -F qcow2 variant-overlay.qcow2
qemu-io -c "write -P 0x5a 1M 64k" variant-overlay.qcow2 >/dev/null
qemu-img convert -O vmdk -o subformat=streamOptimized debian.raw variant-stream.vmdk
qemu-img convert -O vmdk -o subformat=twoGbMaxExtentSparse debian.raw variant-split.vmdk
variants=(variant-compressed.qcow2 variant-overlay.qcow2 variant-stream.vmdk variant-split.vmdk)
rm -f ./*.raw ./*.fs

# each fixture is inspected whole when nothing fails: its root is found (a
# fixture that degraded to "nothing found" would test little)
: "${IMGPROBE:?}"
for f in "${fixtures[@]}"; do
    "$IMGPROBE" check --json "$f" >"$f.json" 2>&1 || true
    grep -q '"root": "' "$f.json" || { echo "FAIL: $f: no root found: $(head -c 800 "$f.json")"; exit 1; }
done

# one line per fixture, layer and mode: how many reads or allocations were exercised
failures=0
run() {
    echo "== faultcheck $*"
    "$FAULTCHECK" "$@" || { echo "FAIL: faultcheck $* (exit $?)"; failures=$((failures + 1)); }
}
run --all "${fixtures[@]}"
run --reads --sticky --cache 1 "${fixtures[@]}"
run --all --image-only "${variants[@]}"
run --all --image-only --sticky --cache 1 "${variants[@]}"

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok: faults (${#fixtures[@]} fixtures: ${fixtures[*]})"
