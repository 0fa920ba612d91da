#!/bin/bash
# `imgprobe check` on Linux guests built here: one fixture per supported
# distribution (release files, boot loader, kernel, initramfs compression in
# that distribution's style: make_os_tree.py), per verdict code and per
# warning, on MBR, GPT and LVM, in qcow2, vmdk and vhd. Each asserts the exact
# set of error and warning codes, the exit status, and the identity fields
# (distro, version, arch, hostname, root device, default kernel).
#
# The trees are laid out with mkfs.ext4 -d (and mkfs.xfs -p when the XFS
# driver reads them), partitioned with sfdisk, LVs made with lvm2 on loop
# devices without device-mapper (root only; skipped otherwise), converted
# with qemu-img.
set -euo pipefail
: "${IMGPROBE:?}" "${SRCDIR:?}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for tool in mkfs.ext4 sfdisk qemu-img cpio gzip xz zstd lz4 bzip2 lzma "$PY"; do
    command -v "$tool" >/dev/null || { echo "skip: $tool not installed"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/check_linux.XXXXXX")
loops=()
cleanup() {
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T"
GEN="$SRCDIR/tests/integration/make_os_tree.py"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

ROOT_UUID=6a1f0c3e-4b1d-4c55-9d2e-0123456789ab
BOOT_UUID=0b2e4c6d-8f10-4a12-b345-6789abcdef01
OTHER_UUID=9e8d7c6b-5a49-4382-9170-fedcba987654
export ROOT_UUID

# tree NAME PROFILE [generator options]: DIR NAME.tree
tree() {
    local name=$1 profile=$2
    shift 2
    rm -rf "$name.tree"
    "$PY" "$GEN" "$name.tree" "$profile" "$@"
}

# ext4 OUT DIR SIZE_MB UUID [LABEL]
ext4() {
    local label=()
    [ -n "${5:-}" ] && label=(-L "$5")
    mkfs.ext4 -q -F -U "$4" "${label[@]}" -d "$2" "$1" "$3M" >/dev/null
}

# xfs OUT DIR SIZE_MB UUID: the tree as mkfs.xfs -p lays it out (make_protofile.sh)
have_xfs=0
command -v mkfs.xfs >/dev/null && have_xfs=1
xfs() {
    bash "$SRCDIR/tests/integration/make_protofile.sh" "$2" >"$1.proto"
    rm -f "$1"
    truncate -s "$3M" "$1"
    mkfs.xfs -q -f -m uuid="$4" -p "$1.proto" "$1" >/dev/null
    rm -f "$1.proto"
}

# mkfs_tree OUT DIR SIZE_MB UUID: ext4, or xfs when FS=xfs
mkfs_tree() {
    if [ "${FS:-ext4}" = xfs ]; then xfs "$@"; else ext4 "$@"; fi
}

# disk OUT mbr|gpt PART... where PART is FILE:TYPE[:SIZE_MB] (FILE "-" for an
# empty partition); each file is copied to its partition's start
disk() {
    local out=$1 label=$2
    shift 2
    local script="label: $label"$'\n' total=2 files=()
    for p in "$@"; do
        IFS=: read -r f type size <<<"$p"
        if [ -z "$size" ]; then size=$(( ($(stat -c %s "$f") + 1048575) / 1048576 )); fi
        script+="size=${size}MiB, type=$type"$'\n'
        total=$((total + size + 1))
        files+=("$f")
    done
    rm -f "$out"
    truncate -s "${total}M" "$out"
    sfdisk -q "$out" <<<"$script" >/dev/null
    local i=0
    while read -r start; do
        local f=${files[$i]}
        [ "$f" != - ] && dd if="$f" of="$out" bs=1M seek="$start" oflag=seek_bytes conv=notrunc,sparse status=none
        i=$((i + 1))
    done < <(sfdisk --json "$out" | "$PY" -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
for p in t["partitions"]:
    print(p["start"] * t.get("sectorsize", 512))')
}

source "$SRCDIR/tests/integration/check_lib.sh"

# single NAME PROFILE FORMAT LABEL [generator options]: the tree on one ext4
# partition, partition 1 (MBR type 83 or a GPT Linux filesystem)
single() {
    local name=$1 profile=$2 fmt=$3 label=$4
    shift 4
    tree "$name" "$profile" "$@"
    mkfs_tree "$name.fs" "$name.tree" 400 "$ROOT_UUID"
    local type=83
    [ "$label" = gpt ] && type=L
    disk "$name.raw" "$label" "$name.fs:$type"
    rm -f "$name.fs"
    if [ "$fmt" != raw ]; then
        qemu-img convert -O "$fmt" "$name.raw" "$name.$fmt"
        rm -f "$name.raw"
    fi
}

# ---- one fixture per supported distribution ----
single debian12 debian12 qcow2 dos
check debian12 debian12.qcow2 0 "" os.distro=debian os.version=12 os.arch=x86_64 os.bits=64 \
    os.hostname=debian12-host os.root=1 kernel=6.1.0-13-amd64 partition_table=mbr cloud_init.enabled=true

single ubuntu2204 ubuntu2204 vmdk gpt
check ubuntu2204 ubuntu2204.vmdk 0 GptPartitionTable os.distro=ubuntu os.version=22.04 kernel=5.15.0-91-generic \
    image.format=vmdk partition_table=gpt

single ubuntu1804 ubuntu1804 vpc dos
check ubuntu1804 ubuntu1804.vpc 0 "" os.distro=ubuntu os.version=18.04 image.format=vhd kernel=4.15.0-213-generic

single centos8 centos8 qcow2 dos
check centos8 centos8.qcow2 0 "" os.distro=centos os.version=8 kernel=4.18.0-348.7.1.el8_5.x86_64 boot.loader=grub2+bls

single centos6 centos6 qcow2 dos --hostname=c6
check centos6 centos6.qcow2 0 "" os.distro=centos os.version=6.10 os.hostname=c6 os.identity_source=/etc/centos-release \
    boot.loader=grub-legacy kernel=2.6.32-754.35.1.el6.x86_64

single leap15 leap15 qcow2 dos
check leap15 leap15.qcow2 0 "" os.distro=opensuse-leap os.version=15.5 kernel=5.14.21-150500.55.39-default

single sles12 sles12 vmdk dos
check sles12 sles12.vmdk 0 "" os.distro=sles os.version=12.5

single sles15 sles15 qcow2 dos
check sles15 sles15.qcow2 0 "" os.distro=sles os.version=15.5 \
    "kernels.0.initramfs_compression=none+bzip2"

single sles11 sles11 qcow2 dos
check sles11 sles11.qcow2 0 "" os.distro=sles os.version=11.4 os.identity_source=/etc/SuSE-release

# CentOS 8 and Rocky 9 on XFS, as they install (CentOS 8 in a vmdk)
if [ "$have_xfs" = 1 ]; then
    FS=xfs single centos8xfs centos8 vmdk dos
    check centos8xfs centos8xfs.vmdk 0 "" os.distro=centos os.version=8 filesystems.0.type=xfs image.format=vmdk
    FS=xfs single rocky9xfs rocky9 qcow2 gpt
    check rocky9xfs rocky9xfs.qcow2 0 UnsupportedDistribution,GptPartitionTable os.distro=rocky \
        filesystems.0.type=xfs kernel=5.14.0-362.8.1.el9_3.x86_64
else
    echo "skip: XFS fixtures (mkfs.xfs not installed)"
fi

single rocky9 rocky9 qcow2 dos
check rocky9 rocky9.qcow2 0 UnsupportedDistribution os.distro=rocky os.version=9.3

# CentOS 7 as installed: /boot on partition 1, the root on an LV of VG centos
# on partition 2, grub2 with saved_entry in grubenv
if [ "$(id -u)" = 0 ] && command -v pvcreate >/dev/null && command -v losetup >/dev/null; then
    mkdir -p c7boot
    tree centos7 centos7 --root-spec=/dev/mapper/centos-root --boot-spec=UUID=$BOOT_UUID --split-boot="$T/c7boot"
    FS=xfs
    [ "$have_xfs" = 1 ] || FS=ext4
    FS=$FS mkfs_tree c7boot.fs c7boot 300 "$BOOT_UUID"
    FS=$FS mkfs_tree c7root.fs centos7.tree 400 "$ROOT_UUID"
    disk centos7.raw dos c7boot.fs:83 -:8e:420
    off=$(sfdisk --json centos7.raw | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["partitiontable"]["partitions"][1]["start"]*512)')
    if l=$(losetup -f --show -o "$off" --sizelimit $((420 << 20)) centos7.raw 2>/dev/null); then
        loops+=("$l")
        conf="devices { filter = [ \"a|^$l\$|\", \"r|.*|\" ] use_devicesfile = 0 hints = \"none\" }"
        conf+=" activation { udev_sync = 0 udev_rules = 0 }"
        cfg=(--config "$conf" --driverloaded n)
        pvcreate "${cfg[@]}" -q "$l" >/dev/null 2>&1 &&
            vgcreate "${cfg[@]}" -q -s 4m centos "$l" >/dev/null 2>&1 &&
            lvcreate "${cfg[@]}" --yes -an -Zn -Wn -q -n root -L 400m centos >/dev/null 2>&1 ||
            fail "centos7: lvm2 could not make the VG"
        pe_start=$(pvs "${cfg[@]}" --noheadings --units b --nosuffix -o pe_start "$l" 2>/dev/null | tr -d ' ')
        first=$(lvs "${cfg[@]}" --noheadings --segments -o seg_pe_ranges centos/root 2>/dev/null | tr -d ' ' |
            sed 's/.*:\([0-9]*\)-.*/\1/')
        losetup -d "$l"
        loops=()
        dd if=c7root.fs of=centos7.raw bs=1M seek=$((off + pe_start + first * (4 << 20))) oflag=seek_bytes \
            conv=notrunc,sparse status=none
        qemu-img convert -O vpc centos7.raw centos7.vhd
        check centos7 centos7.vhd 0 "" os.distro=centos os.version=7 os.root=centos/root filesystems.1.type=$FS \
            kernel=3.10.0-1160.el7.x86_64 boot.loader=grub2 image.format=vhd \
            "boot.default_entry=CentOS Linux (3.10.0-1160.el7.x86_64) 7 (Core)"
        # the assembled view: ls defaults to the guest's root with /boot mounted
        got=$("$IMGPROBE" ls centos7.vhd /boot | grep -c '^vmlinuz-' || true)
        [ "$got" = 1 ] || fail "centos7: ls /boot through the assembled view lists $got kernels"
    else
        echo "skip: centos7 (no loop device)"
    fi
else
    echo "skip: centos7 on LVM (needs root, lvm2 and losetup)"
fi

# Fedora CoreOS: ostree deployment on the root, /boot on its own partition
# that fstab does not name, no cloud-init (Ignition)
mkdir -p fcosboot
tree fcos fcos --cloud-init=none --split-boot="$T/fcosboot"
ext4 fcosboot.fs fcosboot 300 "$BOOT_UUID" boot
ext4 fcosroot.fs fcos.tree 400 "$ROOT_UUID" root
disk fcos.raw dos fcosboot.fs:83 fcosroot.fs:83
qemu-img convert -O qcow2 fcos.raw fcos.qcow2
check fcos fcos.qcow2 1 CloudInitNotInstalled os.distro=fedora-coreos os.version=39 os.root=2 \
    kernel=6.5.6-300.fc39.x86_64

# ---- one fixture per verdict code ----
single novirtio debian12 qcow2 dos --virtio=none
check novirtio novirtio.qcow2 1 VirtioNotInstall os.distro=debian

single modonly centos8 qcow2 dos --virtio=module-only
check modonly modonly.qcow2 1 VirtioNotInstall
grep -q 'dracut' modonly.json || fail "modonly: the advice does not name dracut"

single builtin debian12 qcow2 dos --virtio=builtin
check builtin builtin.qcow2 0 "" kernels.0.virtio_disk_at_boot=true

single nocloud ubuntu2204 qcow2 dos --cloud-init=none
check nocloud nocloud.qcow2 1 CloudInitNotInstalled

qemu-img create -q -f qcow2 empty.qcow2 1G
check empty empty.qcow2 1 PartitionNotPresent

mkdir -p data.tree/srv && echo data >data.tree/srv/file
ext4 data.fs data.tree 300 "$OTHER_UUID"
disk data.raw dos data.fs:83
qemu-img convert -O qcow2 data.raw data.qcow2
check noroot data.qcow2 1 RootPartitionNotFound

qemu-img create -q -f vhdx disk.vhdx 1G
check vhdx disk.vhdx 1 InvalidFormatSize image.format=vhdx

cp debian12.qcow2 big.qcow2
qemu-img resize -q big.qcow2 600G
check big big.qcow2 1 InvalidFormatSize

# 60 GiB allocated (qcow2 preallocation=metadata, a sparse file): the upper
# bound reaches 50 GB, and --no-scan says it was not measured
qemu-img create -q -f qcow2 -o preallocation=metadata prealloc.qcow2 60G
CHECK_ARGS=--no-scan check prealloc prealloc.qcow2 1 PartitionNotPresent,ConvertedSizeNotMeasured \
    size.converted_size_exact=false
rm -f prealloc.qcow2

# an image whose contents cannot be read (an encrypted qcow2): not inspected.
# AES, not LUKS: qemu-img times its LUKS key derivation and fails under load
# ("Unable to get accurate CPU usage"), which made this fixture flaky
qemu-img create -q -f qcow2 --object secret,id=s0,data=pw -o encrypt.format=aes,encrypt.key-secret=s0 \
    encrypted.qcow2 64M
check encrypted encrypted.qcow2 2 InternalError

# the format the import does not take is said before anything is opened as a URL
rc=0
"$IMGPROBE" check --json https://example.invalid/disk.qcow2 >url.json 2>/dev/null || rc=$?
[ "$rc" = 2 ] && grep -q '"InvalidUrl"' url.json || fail "url: exit $rc, $(cat url.json)"

# ---- one fixture per warning ----
single disabled debian12 qcow2 dos --cloud-init=disabled
check disabled disabled.qcow2 0 CloudInitDisabled cloud_init.installed=true cloud_init.enabled=false

single notenabled debian12 qcow2 dos --cloud-init=installed
check notenabled notenabled.qcow2 0 CloudInitNotEnabled

single legacy debian12 qcow2 dos --root-spec=/dev/sda1
check legacy legacy.qcow2 0 LegacyDeviceName,LegacyDeviceName os.root=1

single unresolved debian12 qcow2 dos "--extra-fstab=UUID=$OTHER_UUID /data ext4 defaults 0 2"
check unresolved unresolved.qcow2 0 FstabUnresolved

tree lowspace debian12
ext4 lowspace.fs lowspace.tree 64 "$ROOT_UUID"
disk lowspace.raw dos lowspace.fs:83
qemu-img convert -O qcow2 lowspace.raw lowspace.qcow2
check lowspace lowspace.qcow2 0 LowDiskSpace

single nokernel debian12 qcow2 dos --default-kernel-missing
check nokernel nokernel.qcow2 0 DefaultKernelMissing kernel=6.1.0-13-amd64

single i386 debian12 qcow2 dos --arch=i386
check i386 i386.qcow2 0 "" os.arch=i386 os.bits=32

# UEFI on GPT: an EFI system partition before the root
if command -v mkfs.vfat >/dev/null; then
    truncate -s 100M esp.fs && mkfs.vfat -n ESP esp.fs >/dev/null
    tree efi ubuntu2204
    ext4 efi.fs efi.tree 400 "$ROOT_UUID"
    disk efi.raw gpt esp.fs:U efi.fs:L
    qemu-img convert -O qcow2 efi.raw efi.qcow2
    check efi efi.qcow2 0 GptPartitionTable,EfiBoot os.root=2
fi

# a filesystem on the whole disk, no partition table
tree whole debian12
ext4 whole.raw whole.tree 400 "$ROOT_UUID"
qemu-img convert -O qcow2 whole.raw whole.qcow2
check whole whole.qcow2 0 "" os.root=disk partition_table=none

# two roots: partition 1's boot loader boots partition 2's root, and so does
# partition 2's own: the second is chosen and the choice is explained
tree first ubuntu2204 "--root-spec=UUID=$OTHER_UUID"
tree second debian12 "--root-spec=UUID=$OTHER_UUID"
ext4 first.fs first.tree 400 "$ROOT_UUID"
ext4 second.fs second.tree 400 "$OTHER_UUID"
disk tworoots.raw dos first.fs:83 second.fs:83
qemu-img convert -O qcow2 tworoots.raw tworoots.qcow2
check tworoots tworoots.qcow2 0 "" os.root=2 os.distro=debian os.roots_found=2
grep -q '"SeveralRoots"' tworoots.json || fail "tworoots: no SeveralRoots finding"

# hostile contents: a 4 MiB binary os-release, a /bin/sh symlink loop, an
# fstab of 100,000 lines, and an initramfs that is a decompression bomb
# (1 GiB of zeros in zstd): warnings and a clear finding, in bounded time
tree hostile debian12
h=hostile.tree
rm "$h/etc/os-release" "$h/usr/bin/sh"
head -c 4M /dev/urandom >"$h/etc/os-release"
ln -s sh2 "$h/usr/bin/sh" && ln -s sh "$h/usr/bin/sh2"
"$PY" -c 'import sys
with open(sys.argv[1], "a") as f:
    for i in range(100000):
        f.write("tmpfs /mnt/t%d tmpfs defaults 0 0\n" % i)' "$h/etc/fstab"
initrd=$(ls "$h"/boot/initrd.img-*)
head -c 1G /dev/zero | zstd -q -1 >"$initrd"
ext4 hostile.fs "$h" 400 "$ROOT_UUID"
disk hostile.raw dos hostile.fs:83
qemu-img convert -O qcow2 hostile.raw hostile.qcow2
start=$(date +%s)
check hostile hostile.qcow2 1 OsReleaseTooLarge,FstabTooLarge,VirtioNotInstall os.distro=debian os.version=12.4 \
    os.identity_source=/etc/debian_version os.arch=x86_64
[ $(($(date +%s) - start)) -lt 60 ] || fail "hostile: check took more than 60 s"
grep -q 'could not be read' hostile.json || fail "hostile: the initramfs bomb is not named: $(grep VirtioNot -A3 hostile.json)"

# agreement with libguestfs's virt-inspector, when it is installed (it boots
# an appliance: ~30 s an image without KVM, so only a few fixtures)
if command -v virt-inspector >/dev/null && [ "${IMGPROBE_SKIP_VIRT_INSPECTOR:-}" != 1 ]; then
    for name in debian12 centos8 sles15 ubuntu1804; do
        # (ls fails for the formats that are absent: not an error here)
        img=$(ls $name.qcow2 $name.vpc $name.vmdk 2>/dev/null | head -1 || true)
        [ -n "$img" ] || continue
        virt_inspector "$name" "$img" || continue
        "$PY" - "$name" "$name.json" "$name.vi.xml" <<'EOF' || failures=$((failures + 1))
import json, sys, xml.etree.ElementTree as ET
name, ours, theirs = sys.argv[1:4]
j = json.load(open(ours))
os_ = ET.parse(theirs).getroot().find('operatingsystem')
def t(tag):
    e = os_.find(tag) if os_ is not None else None
    return e.text if e is not None else None
bad = []
# virt-inspector's names for the distributions where they differ from os-release IDs
names = {'opensuse-leap': 'opensuse', 'fedora-coreos': 'fedora'}
if names.get(j['os']['distro'], j['os']['distro']) != t('distro'):
    bad.append('distro %s vs %s' % (j['os']['distro'], t('distro')))
major = (j['os']['version'] or '').split('.')[0]
if major != t('major_version'):
    bad.append('major version %s vs %s' % (major, t('major_version')))
if j['os']['arch'] != t('arch'):
    bad.append('arch %s vs %s' % (j['os']['arch'], t('arch')))
if t('hostname') and j['os']['hostname'] != t('hostname'):
    bad.append('hostname %s vs %s' % (j['os']['hostname'], t('hostname')))
if bad:
    print('FAIL: %s: virt-inspector disagrees: %s' % (name, '; '.join(bad)))
    sys.exit(1)
print('ok: %s agrees with virt-inspector' % name)
EOF
    done
else
    echo "note: virt-inspector not installed: no comparison with it"
fi

# text output: the summary line
"$IMGPROBE" check novirtio.qcow2 >novirtio.txt 2>&1 || true
head -1 novirtio.txt | grep -q '^importable: no (1 error' || fail "text summary: $(head -1 novirtio.txt)"

[ "$failures" = 0 ] || { echo "$failures failures"; exit 1; }
echo "all check fixtures passed"
