#!/bin/bash
# The command-line contract (DESIGN.md): usage errors and exit statuses, the
# `imgprobe: IMAGE: message` error line, info/dump/digest on raw disks
# (sparse or not) checked against the file itself and xxh128sum, and that no
# command changes the image.
set -euo pipefail
: "${IMGPROBE:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect_exit CODE CMD...: run, keep stderr in $T/err
expect_exit() {
    local want=$1 rc=0
    shift
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    if [ $rc -ne "$want" ]; then
        bad "$* exited $rc, want $want ($(head -c 300 "$T/err"))"
        return 1
    fi
}

expect_exit 2 "$IMGPROBE" && grep -q '^usage:' err && ok "no arguments: usage, exit 2"
expect_exit 0 "$IMGPROBE" --help && grep -q 'digest' out && ok "--help"
expect_exit 0 "$IMGPROBE" --version && grep -q '^imgprobe [0-9]' out && ok "--version"
expect_exit 2 "$IMGPROBE" frobnicate x && grep -q "unknown command 'frobnicate'" err && ok "unknown command"
expect_exit 2 "$IMGPROBE" info && ok "info without IMAGE"
expect_exit 2 "$IMGPROBE" info a b && ok "info with two images"
expect_exit 2 "$IMGPROBE" info --bogus x && ok "unknown option"
expect_exit 2 "$IMGPROBE" dump --json x && grep -q 'no --json' err && ok "dump --json refused"
expect_exit 2 "$IMGPROBE" info nope.img
[ "$(cat err)" = "imgprobe: nope.img: cannot open: No such file or directory" ] && ok "missing file: one error line" ||
    bad "missing file message: $(cat err)"
mkdir adir
expect_exit 2 "$IMGPROBE" info adir && grep -q '^imgprobe: adir: ' err && [ "$(wc -l <err)" -eq 1 ] && ok "directory refused"

# A sparse raw disk: data, a hole, data, a trailing hole; size not a multiple of 4 KiB.
head -c 3000000 /dev/urandom > disk.raw
printf 'tail' | dd of=disk.raw bs=1 seek=$((9 << 20)) conv=notrunc status=none
truncate -s $(((12 << 20) + 777)) disk.raw
size=$(stat -c %s disk.raw)
mtime=$(stat -c %Y disk.raw)
sum=$(sha256sum < disk.raw)

expect_exit 0 "$IMGPROBE" info --json disk.raw
python3 - "$size" "$T/out" <<'PY' && ok "info --json raw" || bad "info --json raw: $(cat "$T/out")"
import json, sys
d = json.load(open(sys.argv[2]))
img = d["image"]
assert img["format"] == "raw", img
assert img["virtual_size"] == int(sys.argv[1]), img
assert img["file_size"] == int(sys.argv[1]), img
assert 0 < img["actual_size"] <= img["file_size"] + 65536, img
assert img["readable"] is True and d["backing_chain"] == []
PY
expect_exit 0 "$IMGPROBE" info disk.raw && grep -q "^virtual size: .*($size bytes)" out && grep -q '^file format: raw' out &&
    ok "info text"

expect_exit 0 "$IMGPROBE" dump disk.raw
cmp -s out disk.raw && ok "dump to a file equals the disk" || bad "dump to a file differs"
"$IMGPROBE" dump disk.raw | cat > piped.raw
cmp -s piped.raw disk.raw && ok "dump to a pipe equals the disk" || bad "dump to a pipe differs"
# holes stay holes when standard output is a regular file (when the filesystem keeps them)
if [ "$(stat -c %b disk.raw)" -lt $((size / 512 / 2)) ]; then
    [ "$(stat -c %b out)" -lt $((size / 512 / 2)) ] && ok "dump keeps holes" || bad "dump filled the holes"
fi
expect_exit 0 "$IMGPROBE" digest disk.raw
[ "$(cat out)" = "$(xxh128sum disk.raw)" ] && ok "digest prints as xxh128sum" || bad "digest $(cat out) vs $(xxh128sum disk.raw)"
: > empty.raw
expect_exit 0 "$IMGPROBE" digest empty.raw
[ "$(cat out)" = "$(xxh128sum empty.raw)" ] && ok "digest of an empty disk" || bad "digest of empty: $(cat out)"
expect_exit 0 "$IMGPROBE" dump empty.raw && [ ! -s out ] && ok "dump of an empty disk"

# read-only: nothing above changed the image, and a 0444 image owned by root
# works for an unprivileged user
[ "$(stat -c %Y disk.raw)" = "$mtime" ] && [ "$(sha256sum < disk.raw)" = "$sum" ] && ok "image unchanged" ||
    bad "the image changed"
chmod 0444 disk.raw
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    chmod 0755 "$T"
    if setpriv --reuid=65534 --regid=65534 --clear-groups "$IMGPROBE" digest disk.raw > nobody.out 2>&1; then
        [ "$(cat nobody.out)" = "$(xxh128sum disk.raw)" ] && ok "works as nobody on a 0444 image" || bad "nobody: $(cat nobody.out)"
    else
        bad "as nobody: $(cat nobody.out)"
    fi
else
    expect_exit 0 "$IMGPROBE" digest disk.raw && ok "works on a 0444 image"
fi

# An MBR whose only partition lies past the end of the disk: ls names it and says why nothing mounts.
truncate -s 1M pastend.raw
# record 1 at 0x1BE: type 0x83, from LBA 4096 (0x1000), 2048 sectors; then 0x55AA
printf '\x00\x00\x00\x00\x83\x00\x00\x00\x00\x10\x00\x00\x00\x08\x00\x00' |
    dd of=pastend.raw bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of=pastend.raw bs=1 seek=510 conv=notrunc status=none
expect_exit 2 "$IMGPROBE" ls pastend.raw / &&
    grep -q '^imgprobe: pastend.raw: no filesystem that imgprobe reads (1: .*past the end' err &&
    ok "ls: a partition past the end of the disk is named" || bad "ls past the end: $(cat err)"

echo "$fails failed"
[ $fails -eq 0 ]
