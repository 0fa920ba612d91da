#!/bin/bash
# LVM2 as the lvm2 tools write it: an MBR disk of two partitions, a PV on
# each (the first with two metadata areas), one VG over both, a linear LV that
# spans both PVs and a striped LV (2 stripes of 64 KiB). Known random bytes
# go into each LV; then, as raw and as qcow2:
#   - `imgprobe info --json` lists vg/lin and vg/str with the sizes and UUIDs
#     `lvs` reports, their segment types, and no warnings;
#   - every byte of each LV read through imgprobe (tests/support/lvdump.c)
#     equals the bytes written;
#   - with the second PV wiped, both LVs are listed as unreadable, naming the
#     missing PV, with a note; with the first PV's metadata text damaged, the
#     second PV's copy is used and the damage is a note.
#
# The bytes are written through device-mapper when it works (lvchange -ay,
# dd into /dev/VG/LV). Without it (containers), LVs are created with
# activation off, and the bytes are written into the image file where
# `lvs --segments` and `pvs` say each LV's extents live: still LVM's own
# account of the layout, independent of imgprobe's reading of the metadata.
#
# Needs root (loop devices), lvm2, fdisk (sfdisk), util-linux (losetup),
# qemu-utils, python3. Everything lvm2 does is confined to this test's loop
# devices: a filter accepting only them on every command, no devices file,
# no hints, no metadata backups, and an LVM_SYSTEM_DIR of its own.
set -euo pipefail

: "${IMGPROBE:?IMGPROBE must name the imgprobe binary}"
: "${LVDUMP:?LVDUMP must name the lvdump test helper}"
skip() {
    echo "skip: $*"
    exit 77
}
for tool in losetup sfdisk pvcreate vgcreate lvcreate lvs pvs vgs vgchange qemu-img python3 cmp; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
[ "$(id -u)" = 0 ] || skip "loop devices need root"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgprobe-lvm.XXXXXX")
loops=()
vg="imgp$$x$RANDOM"
activated=0
cleanup() {
    set +e
    if [ "$activated" = 1 ]; then
        vgchange "${cfg[@]}" -an "$vg" >/dev/null 2>&1
    fi
    for l in "${loops[@]}"; do
        losetup -d "$l" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

export LVM_SUPPRESS_FD_WARNINGS=1
export LVM_SYSTEM_DIR="$tmp/etc-lvm"
mkdir -p "$LVM_SYSTEM_DIR"
: >"$LVM_SYSTEM_DIR/lvm.conf"

# The disk: 40 MiB, partition 1 of 16 MiB at 1 MiB, partition 2 the rest.
truncate -s 40M disk.raw
printf 'label: dos\nstart=2048, size=32768, type=8e\nstart=34816, type=8e\n' | sfdisk -q disk.raw
p1_off=$((2048 * 512))
p1_size=$((32768 * 512))
p2_off=$((34816 * 512))
p2_size=$((40 * 1048576 - p2_off))

# Partition devices: losetup -P where the kernel makes them; otherwise one
# loop device per partition over the same bytes of the file.
if l=$(losetup -f --show -P disk.raw 2>/dev/null); then
    loops+=("$l")
    sleep 0.2
    if [ -b "${l}p1" ] && [ -b "${l}p2" ]; then
        pv1=${l}p1
        pv2=${l}p2
    fi
fi
if [ -z "${pv1:-}" ]; then
    pv1=$(losetup -f --show -o "$p1_off" --sizelimit "$p1_size" disk.raw) || skip "cannot attach a loop device"
    loops+=("$pv1")
    pv2=$(losetup -f --show -o "$p2_off" --sizelimit "$p2_size" disk.raw) || skip "cannot attach a loop device"
    loops+=("$pv2")
fi

dm=0
if [ -e /dev/mapper/control ] && command -v dmsetup >/dev/null 2>&1 && dmsetup version >/dev/null 2>&1; then
    dm=1
fi
conf="devices { filter = [ \"a|^$pv1\$|\", \"a|^$pv2\$|\", \"r|.*|\" ] use_devicesfile = 0 hints = \"none\" }"
conf+=" backup { backup = 0 archive = 0 }"
conf+=" activation { udev_sync = 0 udev_rules = 0 }"
cfg=(--config "$conf")
create=(--yes)
if [ "$dm" = 0 ]; then
    # no device-mapper: create without activating (so without zeroing or wiping)
    cfg+=(--driverloaded n)
    create+=(-an -Zn -Wn)
fi

pvcreate "${cfg[@]}" -q --pvmetadatacopies 2 "$pv1" >/dev/null 2>&1 || fail "pvcreate $pv1"
pvcreate "${cfg[@]}" -q "$pv2" >/dev/null 2>&1 || fail "pvcreate $pv2"
vgcreate "${cfg[@]}" -q -s 1m "$vg" "$pv1" "$pv2" >/dev/null 2>&1 || fail "vgcreate"
# the striped LV first, so that both PVs have room for it; then a linear LV
# larger than what is left on either PV
lvcreate "${cfg[@]}" "${create[@]}" -q -n str -i 2 -I 64k -L 8m "$vg" >/dev/null 2>&1 || fail "lvcreate str"
lvcreate "${cfg[@]}" "${create[@]}" -q -n lin -L 20m "$vg" >/dev/null 2>&1 || fail "lvcreate lin"

lvs "${cfg[@]}" --noheadings --units b --nosuffix --separator '|' -o lv_name,lv_size,lv_uuid "$vg" \
    2>/dev/null | tr -d ' ' >lvs.txt
lvs "${cfg[@]}" --noheadings --units b --nosuffix --separator '|' --segments \
    -o lv_name,seg_start_pe,seg_size_pe,seg_pe_ranges,stripes,stripe_size "$vg" 2>/dev/null | sed 's/^ *//' >segs.txt
pvs "${cfg[@]}" --noheadings --units b --nosuffix --separator '|' -o pv_name,pe_start 2>/dev/null | tr -d ' ' >pvs.txt
vgs "${cfg[@]}" --noheadings --units b --nosuffix -o vg_extent_size "$vg" 2>/dev/null | tr -d ' ' >extent.txt
grep -q "^lin|" lvs.txt && grep -q "^str|" lvs.txt || fail "lvs does not list both LVs: $(cat lvs.txt)"
[ "$(grep -c '^lin|' segs.txt)" -ge 2 ] || fail "the linear LV does not span both PVs: $(cat segs.txt)"

# Known bytes for each LV.
while IFS='|' read -r name size _; do
    head -c "$size" /dev/urandom >"$name.bin"
done <lvs.txt

if [ "$dm" = 1 ]; then
    vgchange "${cfg[@]}" -q -ay "$vg" >/dev/null 2>&1 || fail "vgchange -ay"
    activated=1
    for lv in lin str; do
        dd if="$lv.bin" of="/dev/$vg/$lv" bs=1M conv=fsync status=none || fail "dd into /dev/$vg/$lv"
    done
    vgchange "${cfg[@]}" -q -an "$vg" >/dev/null 2>&1 || fail "vgchange -an"
    activated=0
else
    # Where lvs says each LV's extents are: write its bytes there, stripe by
    # stripe as dm-stripe lays them out (chunk c goes to stripe c % n, row c / n).
    PV1="$pv1" PV2="$pv2" P1_OFF="$p1_off" P2_OFF="$p2_off" python3 - <<'EOF'
import os
part_off = {os.environ["PV1"]: int(os.environ["P1_OFF"]), os.environ["PV2"]: int(os.environ["P2_OFF"])}
pe_start = {}
for line in open("pvs.txt"):
    name, start = line.strip().split("|")
    pe_start[name] = int(start)
extent = int(open("extent.txt").read())
disk = open("disk.raw", "r+b")
for line in open("segs.txt"):
    name, seg_start, seg_size, ranges, stripes, stripe_size = line.strip().split("|")
    data = open(name + ".bin", "rb").read()
    seg_start, seg_size, n = int(seg_start), int(seg_size), int(stripes)
    areas = []
    for r in ranges.split():
        dev, pes = r.rsplit(":", 1)
        first = int(pes.split("-")[0])
        areas.append(part_off[dev] + pe_start[dev] + first * extent)
    seg = data[seg_start * extent:(seg_start + seg_size) * extent]
    chunk = int(stripe_size) if n > 1 else len(seg)
    for c in range(0, len(seg) // chunk):
        disk.seek(areas[c % n] + (c // n) * chunk)
        disk.write(seg[c * chunk:(c + 1) * chunk])
disk.close()
EOF
fi
for l in "${loops[@]}"; do
    losetup -d "$l"
done
loops=()

qemu-img convert -O qcow2 disk.raw disk.qcow2

# The LVs are found on the partitions that the MBR reader lists: without it
# there is nothing to test here.
"$IMGPROBE" info --json disk.raw >info.json || fail "disk.raw: info --json failed"
python3 -c '
import json, sys
v = json.load(open("info.json"))
v = v.get("volumes", v)
sys.exit(0 if {"1", "2"} <= {p["index"] for p in v.get("partitions", [])} else 1)
' || skip "imgprobe does not list the MBR partitions of the disk"

# check_info IMAGE: the LVs as lvs lists them, and no warnings.
check_info() {
    "$IMGPROBE" info --json "$1" >info.json || fail "$1: info --json failed"
    VG="$vg" python3 - "$1" <<'EOF' || fail "$1: info --json does not match lvs"
import json, os, sys
vg = os.environ["VG"]
info = json.load(open("info.json"))
vols = info.get("volumes", info)
parts = {p["index"]: p for p in vols["partitions"]}
bad = []
for line in open("lvs.txt"):
    name, size, uuid = line.strip().split("|")
    p = parts.get(vg + "/" + name)
    if p is None:
        bad.append("no partition %s/%s in %s" % (vg, name, sorted(parts)))
        continue
    want = {"size": int(size), "uuid": uuid, "name": name, "start": 0, "logical_volume": True,
            "type": "linear" if name == "lin" else "striped"}
    for k, v in want.items():
        if p.get(k) != v:
            bad.append("%s: %s is %r, lvs says %r" % (p["index"], k, p.get(k), v))
    if "unreadable" in p:
        bad.append("%s: unreadable: %s" % (p["index"], p["unreadable"]))
for i in ("1", "2"):
    if parts.get(i, {}).get("content") != "lvm2_member":
        bad.append("partition %s: content %r, not lvm2_member" % (i, parts.get(i, {}).get("content")))
for n in vols.get("notes", []):
    if n["level"] != "info":
        bad.append("note: %s: %s" % (n["level"], n["message"]))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
EOF
}

# check_bytes IMAGE: every byte of each LV is the byte written.
check_bytes() {
    for lv in lin str; do
        "$LVDUMP" "$1" "$vg/$lv" >out.bin || fail "$1: lvdump $vg/$lv failed"
        cmp "$lv.bin" out.bin || fail "$1: the bytes of $vg/$lv differ from those written"
    done
}

for img in disk.raw disk.qcow2; do
    check_info "$img"
    check_bytes "$img"
done

# The second PV wiped (label and metadata): the LVs that use it cannot be
# read, and the scan says which PV is missing.
cp disk.raw nopv2.raw
dd if=/dev/zero of=nopv2.raw bs=512 seek=$((p2_off / 512)) count=2048 conv=notrunc status=none
"$IMGPROBE" info --json nopv2.raw >nopv2.json || fail "nopv2: info --json failed"
VG="$vg" python3 - <<'EOF' || fail "nopv2: a missing PV is not reported"
import json, os, sys
vg = os.environ["VG"]
vols = json.load(open("nopv2.json"))
vols = vols.get("volumes", vols)
parts = {p["index"]: p for p in vols["partitions"]}
ok = True
for lv in ("lin", "str"):
    p = parts.get(vg + "/" + lv)
    if not p or "not on this disk" not in p.get("unreadable", ""):
        print("%s/%s: %r" % (vg, lv, p), file=sys.stderr)
        ok = False
if not any("is not on this disk" in n["message"] for n in vols["notes"]):
    print("no note: %r" % vols["notes"], file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
EOF
"$LVDUMP" nopv2.raw "$vg/lin" >/dev/null 2>&1 && fail "nopv2: lvdump read an LV whose PV is missing"

# The first PV's metadata text damaged in both its areas: the second PV's copy
# is used, and each damaged area is a note.
cp disk.raw badmeta.raw
python3 - "$p1_off" "$p1_size" <<'EOF'
import struct, sys
p1_off, p1_size = int(sys.argv[1]), int(sys.argv[2])
f = open("badmeta.raw", "r+b")
f.seek(p1_off + 512)                        # the label is in sector 1
label = f.read(512)
assert label[:8] == b"LABELONE"
pvh = struct.unpack_from("<I", label, 20)[0]
areas, pos, lists = [], pvh + 40, 0
while lists < 2:                            # data areas, then metadata areas
    off, size = struct.unpack_from("<QQ", label, pos)
    pos += 16
    if off == 0:
        lists += 1
    elif lists == 1:
        areas.append(off)
assert len(areas) == 2, areas
for mda in areas:
    f.seek(p1_off + mda)
    hdr = f.read(512)
    text_off = struct.unpack_from("<Q", hdr, 40)[0]
    f.seek(p1_off + mda + text_off + 3)
    c = f.read(1)
    f.seek(p1_off + mda + text_off + 3)
    f.write(bytes([c[0] ^ 0x20]))
EOF
"$IMGPROBE" info --json badmeta.raw >badmeta.json || fail "badmeta: info --json failed"
python3 - <<'EOF' || fail "badmeta: damaged metadata is not noted"
import json, sys
vols = json.load(open("badmeta.json"))
vols = vols.get("volumes", vols)
notes = [n["message"] for n in vols["notes"] if "checksum" in n["message"]]
sys.exit(0 if len(notes) == 2 else 1)
EOF
check_bytes badmeta.raw

echo "ok: lvm2 VG $vg (device-mapper: $dm): linear and striped LVs read back as raw and qcow2"
