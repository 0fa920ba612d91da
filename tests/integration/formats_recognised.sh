#!/bin/bash
# Formats that imgprobe recognises but does not read (vhdx, vdi, qed, qcow v1,
# parallels, bochs, iso9660, archives): `info` names them (exit 0, readable
# false, the virtual size where qemu-img reports one), `dump` refuses them
# (exit 2, a message naming the format), and a raw disk that merely contains
# such a magic later on is still raw.
set -euo pipefail
: "${IMGPROBE:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }

# expect_recognised FILE FORMAT [QEMU_FORMAT]: name and (when qemu knows it) virtual size agree with qemu-img
expect_recognised() {
    local f=$1 fmt=$2 qfmt=${3:-} out
    out=$("$IMGPROBE" info --json "$f") || { bad "$f: info failed"; return; }
    [ "$(json_get "['image']['format']" <<<"$out")" = "$fmt" ] || { bad "$f: format is not $fmt: $out"; return; }
    [ "$(json_get "['image']['readable']" <<<"$out")" = "False" ] || { bad "$f: claims readable"; return; }
    if [ -n "$qfmt" ]; then
        local want got
        want=$(qemu-img info -f "$qfmt" --output=json "$f" | json_get "['virtual-size']")
        got=$(json_get "['image']['virtual_size']" <<<"$out")
        [ "$want" = "$got" ] || { bad "$f: virtual size $got, qemu-img says $want"; return; }
    fi
    local err rc=0
    err=$("$IMGPROBE" dump "$f" 2>&1 >/dev/null) || rc=$?
    [ $rc -eq 2 ] || { bad "$f: dump exit $rc, want 2"; return; }
    grep -q "^imgprobe: $f: .*not" <<<"$err" || { bad "$f: dump message: $err"; return; }
    ok "$f recognised as $fmt"
}

qemu-img create -q -f vhdx d.vhdx 3G
qemu-img create -q -f vdi d.vdi 1G
qemu-img create -q -f qed d.qed 2G
qemu-img create -q -f qcow d.qcow 5G
qemu-img create -q -f parallels d.hdd 64M
expect_recognised d.vhdx vhdx vhdx
expect_recognised d.vdi vdi vdi
expect_recognised d.qed qed qed
expect_recognised d.qcow qcow qcow
expect_recognised d.hdd parallels parallels

if [ -d "${CORPUS:-/nonexistent}" ]; then
    bzcat "$CORPUS/broken/qemu-empty.bochs.bz2" > e.bochs
    expect_recognised e.bochs bochs bochs
    bzcat "$CORPUS/vhdx/test-disk2vhd.vhdx.bz2" > d2v.vhdx
    expect_recognised d2v.vhdx vhdx vhdx
    expect_recognised "$CORPUS/vdi/image-default_snapshot.vdi" vdi
else
    echo "skip: corpus absent"
fi

# not disk images at all
head -c 1M /dev/urandom > disk.raw
gzip -c disk.raw > disk.gz && expect_recognised disk.gz gzip
xz -T1 -0 -c disk.raw > disk.xz && expect_recognised disk.xz xz
bzip2 -c disk.raw > disk.bz2 && expect_recognised disk.bz2 bzip2
if command -v zstd >/dev/null; then zstd -q -c disk.raw > disk.zst && expect_recognised disk.zst zstd; fi
python3 - <<'PY'
import tarfile, zipfile
with tarfile.open("disk.tar", "w", format=tarfile.USTAR_FORMAT) as t:
    t.add("disk.raw")
open("appliance.ovf", "w").write("<Envelope/>")
with tarfile.open("appliance.ova", "w", format=tarfile.USTAR_FORMAT) as t:
    t.add("appliance.ovf"); t.add("disk.raw")
with zipfile.ZipFile("disk.zip", "w") as z:
    z.write("disk.raw")
# an ISO 9660 primary volume descriptor at sector 16
iso = bytearray(64 * 2048)
iso[0x8000:0x8006] = b"\x01CD001"
open("disk.iso", "wb").write(iso)
PY
expect_recognised disk.tar tar
expect_recognised appliance.ova ova
expect_recognised disk.zip zip
expect_recognised disk.iso iso9660

# magic bytes later in a raw disk do not make it anything but raw
python3 - <<'PY'
d = bytearray(4 << 20)
d[512:520] = b"vhdxfile"
d[1 << 20:(1 << 20) + 8] = b"QFI\xfb\x00\x00\x00\x01"
d[2 << 20:(2 << 20) + 8] = b"conectix"
d[3 << 20:(3 << 20) + 4] = b"KDMV"
open("magics.raw", "wb").write(d)
PY
fmt=$("$IMGPROBE" info --json magics.raw | json_get "['image']['format']")
[ "$fmt" = raw ] && ok "raw with magics inside stays raw" || bad "magics.raw detected as $fmt"

# -f forces a format; an unknown one is a usage error
rc=0; "$IMGPROBE" info -f nosuch disk.raw >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] && ok "-f nosuch refused" || bad "-f nosuch exit $rc"
fmt=$("$IMGPROBE" info --json -f raw disk.gz | json_get "['image']['format']")
[ "$fmt" = raw ] && ok "-f raw overrides detection" || bad "-f raw gave $fmt"

echo "$fails failed"
[ $fails -eq 0 ]
