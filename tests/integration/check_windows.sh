#!/bin/bash
# `imgprobe check` on Windows guests built here: Windows-like system volumes
# (mkntfs, populated through libntfs-3g by ntfs_gen.c) holding the directory
# tree, SOFTWARE and SYSTEM hives made with `hivexregedit --merge` in the real
# key layout (Microsoft\Windows NT\CurrentVersion; Select, ControlSetNNN with
# ComputerName, Session Manager\Environment and Services), a cmd.exe with a
# real PE header (PE32+ AMD64, or PE32 i386), the virtio drivers' .sys files
# and cloudbase-init's folder. Each goes after a System Reserved partition
# (bootmgr, Boot/BCD) on an MBR disk, one on GPT with an EFI system
# partition, in qcow2, vhd and vmdk: Server 2008, 2012, 2012 R2, 2016, 2019,
# 2022 and a client edition, with and without each virtio piece and
# cloudbase-init, a hibernated and dirty volume, a BitLocker volume, drive
# letters (MountedDevices) on this disk and on another. Each asserts the exact
# set of error and warning codes, the exit status and the identity fields.
set -euo pipefail
: "${IMGPROBE:?}" "${SRCDIR:?}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for tool in mkntfs hivexregedit sfdisk qemu-img cc pkg-config "$PY"; do
    command -v "$tool" >/dev/null || { echo "skip: $tool not installed (ntfs-3g, libwin-hivex-perl, ...)"; exit 77; }
done
pkg-config --exists libntfs-3g && [ -f /usr/include/ntfs-3g/volume.h ] ||
    { echo "skip: libntfs-3g headers not installed (Debian: ntfs-3g-dev)"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/check_windows.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
# shellcheck disable=SC2046
cc -O1 -o gen "$SRCDIR/tests/integration/ntfs_gen.c" $(pkg-config --cflags --libs libntfs-3g)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# tree NAME KEY=VALUE...: NAME.cmds (ntfs_gen commands) and its host files,
# hives included. Keys (defaults in the script below): product, build,
# version (CurrentVersion), major/minor (absent: none), edition, type
# (InstallationType), machine (0x8664 or 0x14c), arch (PROCESSOR_ARCHITECTURE),
# host, current (Select\Current), viostor/vioscsi/netkvm (f: file, s<N>:
# service with Start N, e.g. "fs0"), cloudbase (s: service, d: folder, u:
# uninstall entry), root (the system root's spelling), hiber (1: hiberfil.sys
# says HIBR).
tree() {
    "$PY" "$SRCDIR/tests/integration/make_win_tree.py" "$@"
}

# mark_dirty FS: set VOLUME_IS_DIRTY in $Volume's $VOLUME_INFORMATION (MFT record 3)
mark_dirty() {
    "$PY" "$SRCDIR/tests/integration/ntfs_mark_dirty.py" "$1"
}

RESERVED_MB=16
WIN_MB=320
GPT_WIN_UUID=6b2a4c3e-1f00-4d1a-9c55-0123456789ab
WIN_OFFSET=$(((1 + RESERVED_MB) << 20)) # partition 2's start in bytes
# reserved: the System Reserved volume (bootmgr, Boot/BCD), made once
truncate -s ${RESERVED_MB}M reserved.fs
mkntfs -q -F -f -L "System Reserved" reserved.fs >/dev/null 2>&1
printf 'BOOTMGR' >bootmgr.bin
head -c 8192 /dev/zero >bcd.bin
printf 'dir\t/Boot\nfile\t/bootmgr\tbootmgr.bin\nfile\t/Boot/BCD\tbcd.bin\n' | ./gen reserved.fs

# win NAME FORMAT LABEL(dos|gpt) [dirty] -- KEY=VALUE...: the disk image NAME.FORMAT
win() {
    local name=$1 fmt=$2 label=$3 dirty=$4
    shift 5
    tree "$name" "$@" || { fail "$name: the tree"; return; }
    [ -n "${WIN_HOOK:-}" ] && $WIN_HOOK "$name"
    truncate -s ${WIN_MB}M "$name.fs"
    mkntfs -q -F -f -L "$name" "$name.fs" >/dev/null 2>&1
    ./gen "$name.fs" <"$name.cmds" || { fail "$name: ntfs_gen"; return; }
    [ "$dirty" = dirty ] && mark_dirty "$name.fs"
    local r=$((RESERVED_MB * 2048)) w=$((WIN_MB * 2048))
    truncate -s $(((RESERVED_MB + WIN_MB + 2) << 20)) "$name.raw"
    if [ "$label" = gpt ]; then
        # an EFI system partition (left empty), then the Windows volume
        printf 'label: gpt\nstart=2048, size=%d, type=U\nstart=%d, size=%d, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=%s\n' \
            "$r" $((2048 + r)) "$w" "$GPT_WIN_UUID" | sfdisk -q "$name.raw"
    else
        printf 'label: dos\nlabel-id: 0x1badcafe\nstart=2048, size=%d, type=7, bootable\nstart=%d, size=%d, type=7\n' \
            "$r" $((2048 + r)) "$w" | sfdisk -q "$name.raw"
        dd if=reserved.fs of="$name.raw" bs=1M seek=1 conv=notrunc,sparse status=none
    fi
    dd if="$name.fs" of="$name.raw" bs=1M seek=$((1 + RESERVED_MB)) conv=notrunc,sparse status=none
    # a BitLocker volume (its Vista signature) where the NTFS boot sector was
    [ "$dirty" = bitlocker ] && printf '\xeb\x52\x90-FVE-FS-' |
        dd of="$name.raw" bs=1 seek="$WIN_OFFSET" conv=notrunc status=none
    rm -f "$name.fs"
    qemu-img convert -O "$fmt" "$name.raw" "$name.$fmt"
    rm -f "$name.raw"
}

source "$SRCDIR/tests/integration/check_lib.sh"

# identity common to the MBR fixtures: System Reserved on 1 (boot), Windows on 2 (root)
MBR=(partition_table=mbr filesystems.0.role=boot filesystems.0.label="System Reserved" filesystems.1.role=root
     os.root=2 os.type=windows os.distro=windows windows.system_root=/Windows)

# Server 2012 R2: CurrentVersion only (no major/minor numbers), everything installed
win ws2012r2 qcow2 dos - -- product="Windows Server 2012 R2 Standard" build=9600 version=6.3 major= \
    edition=ServerStandard host=WS2012R2 mounted=C=mbr:0x1badcafe:$WIN_OFFSET,D=mbr:0x0000abcd:1048576
check ws2012r2 ws2012r2.qcow2 0 "" "${MBR[@]}" os.version=6.3 os.build=9600 "os.release=Windows Server 2012 R2" \
    "os.pretty_name=Windows Server 2012 R2 Standard" os.edition=ServerStandard os.installation_type=Server \
    os.arch=x86_64 os.bits=64 os.hostname=ws2012r2 windows.control_set=ControlSet001 \
    windows.virtio.viostor.start=0 windows.virtio_disk_at_boot=true windows.virtio_net=true \
    cloud_init.installed=true cloud_init.enabled=true image.format=qcow2 windows.drives.0.letter=C: \
    windows.drives.0.device=2 windows.drives.1.letter=D: windows.drives.1.device=None \
    windows.driver_store_ids=2 windows.critical_device_ids=2

# MountedDevices puts C: on another disk
win ws2016-otherdisk qcow2 dos - -- product="Windows Server 2016 Standard" build=14393 \
    mounted=C=mbr:0x0000abcd:$WIN_OFFSET
check ws2016-otherdisk ws2016-otherdisk.qcow2 0 SystemDriveNotOnDisk windows.drives.0.device=None \
    "windows.drives.0.id=mbr 0x0000abcd offset $WIN_OFFSET"

# Server 2012 in a vmdk, the system root spelled WINDOWS/system32 (lookups ignore case)
win ws2012 vmdk dos - -- product="Windows Server 2012 Datacenter" build=9200 version=6.2 major= root=WINDOWS host=WS2012
check ws2012 ws2012.vmdk 0 "" partition_table=mbr os.root=2 os.version=6.2 "os.release=Windows Server 2012" \
    windows.system_root=/Windows os.hostname=ws2012 image.format=vmdk

# Server 2016 in a vhd: vioscsi instead of viostor, the current control set is 002 (001 is stale)
win ws2016 vpc dos - -- product="Windows Server 2016 Datacenter" build=14393 viostor= vioscsi=fs0 current=2 host=WS2016
check ws2016 ws2016.vpc 0 "" "${MBR[@]}" os.version=10.0 os.build=14393 "os.release=Windows Server 2016" \
    os.hostname=ws2016 windows.control_set=ControlSet002 windows.virtio.vioscsi.start=0 \
    windows.virtio.viostor.service=false image.format=vhd

# Server 2019 without any virtio driver
win ws2019-novirtio vmdk dos - -- viostor= netkvm= host=WS2019
check ws2019-novirtio ws2019-novirtio.vmdk 1 VirtioNotInstall "${MBR[@]}" os.build=17763 \
    "os.release=Windows Server 2019" windows.virtio_disk_at_boot=false windows.virtio_net=false \
    windows.driver_store_ids=0 windows.critical_device_ids=0

# Server 2019: viostor's file and service, but the service starts on demand (3); netkvm's service only
win ws2019-demand qcow2 dos - -- viostor=fs3 netkvm=s3
check ws2019-demand ws2019-demand.qcow2 1 VirtioNotInstall os.build=17763 windows.virtio.viostor.start=3 \
    windows.virtio.viostor.file=true windows.virtio_net=true

# Server 2019: the boot service without its driver file
win ws2019-nofile qcow2 dos - -- viostor=s0
check ws2019-nofile ws2019-nofile.qcow2 1 VirtioNotInstall windows.virtio.viostor.service=true \
    windows.virtio.viostor.file=false

# Server 2022 without cloudbase-init (an uninstall entry of another program only)
win ws2022-nocb qcow2 dos - -- product="Windows Server 2022 Datacenter" build=20348 cloudbase= host=WS2022
check ws2022-nocb ws2022-nocb.qcow2 1 CloudInitNotInstalled "${MBR[@]}" os.build=20348 \
    "os.release=Windows Server 2022" os.hostname=ws2022 cloud_init.installed=false

# Server 2022: cloudbase-init's folder but no service
win ws2022-cbdir vmdk dos - -- product="Windows Server 2022 Standard" build=20348 cloudbase=d
check ws2022-cbdir ws2022-cbdir.vmdk 0 CloudInitNotEnabled cloud_init.installed=true cloud_init.enabled=false

# Server 2022 on GPT with an EFI system partition
win ws2022-gpt qcow2 gpt - -- product="Windows Server 2022 Datacenter" build=20348 mounted=C=gpt:$GPT_WIN_UUID
check ws2022-gpt ws2022-gpt.qcow2 1 WindowsPartitioningUnsupported,GptPartitionTable,EfiBoot partition_table=gpt \
    os.root=2 os.type=windows "os.release=Windows Server 2022" windows.drives.0.device=2 \
    "windows.drives.0.id=gpt $GPT_WIN_UUID"

# a client edition (Windows 10 Pro): a warning
win win10 qcow2 dos - -- "product=Windows 10 Pro" build=19045 edition=Professional type=Client host=DESKTOP-1 dnshost=-
check win10 win10.qcow2 0 UnsupportedWindowsVersion "${MBR[@]}" "os.release=Windows 10" os.installation_type=Client \
    os.hostname=DESKTOP-1 os.version=10.0

# Windows 11 still calls itself "Windows 10": the build names it
win win11 vpc dos - -- "product=Windows 10 Enterprise" build=22631 edition=Enterprise type=Client
check win11 win11.vpc 0 UnsupportedWindowsVersion "os.release=Windows 11" "os.pretty_name=Windows 10 Enterprise"

# Server 2008, 32-bit (PE32 i386 cmd.exe, PROCESSOR_ARCHITECTURE x86): too old
win ws2008 qcow2 dos - -- "product=Windows Server (R) 2008 Standard" build=6002 version=6.0 major= machine=0x14c arch=x86
check ws2008 ws2008.qcow2 0 UnsupportedWindowsVersion os.arch=i386 os.bits=32 os.version=6.0 \
    "os.release=Windows Server 2008"

# Server 2003 in a system root only boot.ini names
win ws2003 vmdk dos - -- "product=Microsoft Windows Server 2003" build=3790 version=5.2 major= root=WinSrv \
    bootini=1 machine=0x14c arch=x86
check ws2003 ws2003.vmdk 0 UnsupportedWindowsVersion os.root=2 windows.system_root=/WinSrv os.version=5.2 \
    "os.release=Windows Server 2003" os.arch=i386

# cmd.exe says AMD64 but the registry says x86
win ws2016-arch qcow2 dos - -- product="Windows Server 2016 Standard" build=14393 arch=x86
check ws2016-arch ws2016-arch.qcow2 0 WindowsArchMismatch os.arch=x86_64

# hibernated (hiberfil.sys 'HIBR') and dirty
win ws2019-hiber qcow2 dos dirty -- hiber=1
check ws2019-hiber ws2019-hiber.qcow2 0 NtfsDirty,WindowsHibernated "${MBR[@]}"

# the Windows volume encrypted with BitLocker: named, and no root to inspect
win ws2019-bitlocker qcow2 dos bitlocker -- host=WS2019
check ws2019-bitlocker ws2019-bitlocker.qcow2 1 EncryptedVolume,RootPartitionNotFound os.type=unknown \
    filesystems.0.role=boot partitions.1.content=BitLocker

# the BitLocker message names the partition that may hold the root
grep -q 'partition 2 holds BitLocker (encrypted)' ws2019-bitlocker.json ||
    fail "ws2019-bitlocker: RootPartitionNotFound does not name the BitLocker partition: $(grep message ws2019-bitlocker.json)"

# Server 2019: viostor's file and boot service, but its device ID is not in the
# driver store, so Plug and Play cannot bind it when the disk appears on virtio
win ws2019-nostore qcow2 dos - -- viostor=fs0x
check ws2019-nostore ws2019-nostore.qcow2 1 VirtioNotInstall windows.virtio.viostor.start=0 \
    windows.virtio.viostor.file=true windows.virtio.viostor.driver_store=false \
    windows.virtio.viostor.critical_db=false windows.virtio_disk_at_boot=false windows.virtio_net=true
grep -q 'viostor: driver file present, service starts at boot, not in the driver store' ws2019-nostore.json ||
    fail "ws2019-nostore: the message does not say why: $(grep message ws2019-nostore.json)"

# Server 2008: the same driver registered in the critical device database
# only, which is where that Windows looks; netkvm only staged (no file, no
# service): installed when the device appears
win ws2008-cddb qcow2 dos - -- "product=Windows Server (R) 2008 Standard" build=6002 version=6.0 major= \
    viostor=fs0c netkvm=p
check ws2008-cddb ws2008-cddb.qcow2 0 UnsupportedWindowsVersion windows.virtio_disk_at_boot=true \
    windows.virtio.viostor.critical_db=true windows.virtio.viostor.driver_store=false windows.virtio_net=true \
    windows.virtio.netkvm.file=false windows.virtio.netkvm.service=false windows.virtio.netkvm.driver_store=true

# ... and the reverse: Server 2019 with viostor in the critical device
# database only, which Windows 8 / 2012 on no longer reads
win ws2019-cddbonly qcow2 dos - -- viostor=fs0c
check ws2019-cddbonly ws2019-cddbonly.qcow2 1 VirtioNotInstall windows.virtio.viostor.critical_db=true \
    windows.virtio.viostor.driver_store=false windows.virtio_disk_at_boot=false

# Server 2003 under a system root no boot.ini on its volume names (boot.ini
# lived on another volume): found by looking into the top-level directories
win ws2003-scan vmdk dos - -- "product=Microsoft Windows Server 2003" build=3790 version=5.2 major= root=WinSrv \
    machine=0x14c arch=x86
check ws2003-scan ws2003-scan.vmdk 0 UnsupportedWindowsVersion os.root=2 windows.system_root=/WinSrv os.type=windows

# a dynamic disk: System Reserved, then an LDM partition (type 0x42) no reader
# can open: both the missing root and the reason
truncate -s $(((RESERVED_MB + 34) << 20)) ldm.raw
printf 'label: dos\nlabel-id: 0x1badcafe\nstart=2048, size=%d, type=7, bootable\nstart=%d, size=%d, type=42\n' \
    $((RESERVED_MB * 2048)) $((2048 + RESERVED_MB * 2048)) $((32 * 2048)) | sfdisk -q ldm.raw
dd if=reserved.fs of=ldm.raw bs=1M seek=1 conv=notrunc,sparse status=none
qemu-img convert -O vpc ldm.raw ldm.vpc
rm -f ldm.raw
check ldm ldm.vpc 1 RootPartitionNotFound,WindowsPartitioningUnsupported os.type=unknown filesystems.0.role=boot \
    partitions.1.type=0x42
grep -q 'an LDM dynamic disk partition (partition 2): the Windows volumes it holds cannot be read' ldm.json ||
    fail "ldm: the message does not name the LDM partition: $(grep message ldm.json)"

# hostile hives (docs/limits.md, hive_bytes): SOFTWARE's base block claims
# 180 MiB of hive bins over its real ones and then zeros (a sparse file), so
# reading stops at the first header that is no hive bin; SYSTEM claims
# 300 MiB, over the limit, refused before anything is allocated. Both are
# named, and check stays small (a whole read would take 180 or 300 MiB).
claim_bins() { # FILE MIB: the base block claims MIB MiB of hive bins; the file grows to match (a hole)
    "$PY" - "$SRCDIR" "$@" <<'EOF'
import os, struct, sys
sys.path.insert(0, os.path.join(sys.argv[1], 'tests', 'support'))
from mkhive import checksum
path, mib = sys.argv[2], int(sys.argv[3])
with open(path, 'r+b') as f:
    base = bytearray(f.read(4096))
    struct.pack_into('<I', base, 0x28, mib << 20)  # hive bins data size
    struct.pack_into('<I', base, 508, checksum(base))
    f.seek(0)
    f.write(base)
    f.truncate(4096 + (mib << 20))
EOF
}
hostile_hives() { # NAME: the host files of its SOFTWARE and SYSTEM (ntfs_gen leaves their zeros as holes)
    claim_bins "$(awk -F'\t' '$2 ~ /config\/SOFTWARE$/ { print $3 }' "$1.cmds")" 180
    claim_bins "$(awk -F'\t' '$2 ~ /config\/SYSTEM$/ { print $3 }' "$1.cmds")" 300
}
WIN_HOOK=hostile_hives win hives qcow2 dos - --
check hives hives.qcow2 1 CloudInitNotEnabled,VirtioNotInstall,WindowsRegistryUnreadable,WindowsRegistryUnreadable
# (without SYSTEM, no service is known: the findings say so rather than "no service")
for want in "SOFTWARE: regf: no 'hbin' signature at 0x" \
    "SYSTEM: regf: hive of 314576896 bytes (its base block and hive bins) is over the limit hive_bytes (201326592)" \
    "the SYSTEM hive was not read, so no driver service or registration is known: viostor: driver file present" \
    "whether its service is registered is not known (the SYSTEM hive was not read)"; do
    grep -qF "$want" hives.json || fail "hives: no finding says \"$want\": $(grep message hives.json)"
done
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M -o hives.rss "$IMGPROBE" check --json hives.qcow2 >/dev/null 2>&1 || true
    rss=$(tail -1 hives.rss)
    [ "$rss" -lt $((64 * 1024)) ] || fail "hives: check took $((rss / 1024)) MiB (peak RSS), 64 MiB at most expected"
    echo "hives: peak RSS $((rss / 1024)) MiB"
else
    echo "note: GNU time (/usr/bin/time) is not installed: the hives fixture's memory is not measured"
fi

# agreement with libguestfs's virt-inspector, when it is installed (it boots
# an appliance: 30 s to a minute an image without KVM, so three fixtures):
# product name, version, arch, hostname, system root and root partition
if command -v virt-inspector >/dev/null && [ "${IMGPROBE_SKIP_VIRT_INSPECTOR:-}" != 1 ]; then
    for img in ws2012r2.qcow2 ws2016.vpc ws2008.qcow2; do
        name=${img%.*}
        virt_inspector "$name" "$img" || continue
        "$PY" - "$name" "$name.json" "$name.vi.xml" <<'EOF' || failures=$((failures + 1))
import json, re, sys, xml.etree.ElementTree as ET
name, ours, theirs = sys.argv[1:4]
j = json.load(open(ours))
os_ = ET.parse(theirs).getroot().find('operatingsystem')
if os_ is None:
    print('FAIL: %s: virt-inspector found no operating system' % name)
    sys.exit(1)
def t(tag):
    e = os_.find(tag)
    return e.text if e is not None else None
o = j['os']
pairs = [('name', 'windows', t('name')), ('product_name', o['pretty_name'], t('product_name')),
         ('version', o['version'], '%s.%s' % (t('major_version'), t('minor_version'))),
         ('arch', o['arch'], t('arch')), ('hostname', o['hostname'], t('hostname')),
         ('system root', j['windows']['system_root'].lower(), (t('windows_systemroot') or '').lower()),
         ('root partition', o['root'], re.sub(r'^/dev/[a-z]+', '', t('root') or '') or None)]
bad = ['%s: ours %r, theirs %r' % (k, a, b) for k, a, b in pairs if a != b]
if bad:
    print('FAIL: %s: virt-inspector disagrees: %s' % (name, '; '.join(bad)))
    sys.exit(1)
print('ok: %s agrees with virt-inspector' % name)
EOF
    done
else
    echo "note: virt-inspector not installed: no comparison with it"
fi

# the text report names the release, the drivers and cloudbase-init
"$IMGPROBE" check ws2012r2.qcow2 >ws2012r2.txt || fail "ws2012r2: text report exit $?"
grep -q '^windows:    Windows Server 2012 R2, build 9600, edition ServerStandard, Server; /Windows, ControlSet001$' \
    ws2012r2.txt || fail "ws2012r2: text: $(cat ws2012r2.txt)"
grep -q '^drivers:    virtio viostor=boot vioscsi=absent netkvm=manual; PCI 1AF4 ids: 2 in the driver store, 2 critical$' \
    ws2012r2.txt ||
    fail "ws2012r2: text drivers: $(grep drivers ws2012r2.txt)"
grep -q '^cloudbase-init: installed, enabled (service cloudbase-init, /Program Files/Cloudbase Solutions/Cloudbase-Init, ' \
    ws2012r2.txt || fail "ws2012r2: text cloudbase-init: $(grep cloudbase ws2012r2.txt)"
grep -q '^root:       ntfs on 2, unknown free of 320 MiB$' ws2012r2.txt || fail "ws2012r2: text root: $(grep root: ws2012r2.txt)"
grep -q '^letters:    C:=2 D:=(not on this image)$' ws2012r2.txt || fail "ws2012r2: text letters: $(grep letters ws2012r2.txt)"

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok: check_windows"
