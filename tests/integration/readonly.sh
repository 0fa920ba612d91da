#!/bin/bash
# The read-only guarantee (docs/cli.md: "The image is opened read-only and
# never written"): every command of imgprobe, with its main options, runs on a
# fixture of each format whose files are mode 0444 in a directory of mode 0555,
# and afterwards every file (images, backing files, extent files) has the same
# sha256, size, inode, mtime and ctime (atime may change: relatime). Each
# command must succeed, or fail only where it must (check: 1 on a disk with no
# guest). When the test runs as root, 0444 stops nothing, so the whole command
# set runs again as `nobody` (setpriv): an unprivileged user who may only read
# the files. With strace installed, one `check` per fixture runs under strace
# and no open of a fixture file may ask for write access or creation.
#
# Fixtures (qemu-img, sfdisk, mkfs): a Linux guest (make_os_tree.py, so check
# goes through inspection) on MBR + ext4 as raw, qcow2 with a backing file (and
# data of its own), dynamic VHD, monolithicSparse VMDK, twoGbMaxExtentSparse
# and monolithicFlat VMDK descriptors with their extent files; a whole-disk XFS
# and a whole-disk NTFS when their tools are installed.
set -euo pipefail
: "${IMGPROBE:?}" "${SRCDIR:?}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for tool in qemu-img qemu-io sfdisk mkfs.ext4 sha256sum stat cpio gzip xz zstd lz4 bzip2 lzma "$PY"; do
    command -v "$tool" >/dev/null || { echo "skip: $tool not installed"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/readonly.XXXXXX")
cleanup() {
    chmod -R u+w "$T" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# ---- fixtures ----
IMG=$T/img
mkdir "$IMG" work
export ROOT_UUID=6a1f0c3e-4b1d-4c55-9d2e-0123456789ab
"$PY" "$SRCDIR/tests/integration/make_os_tree.py" work/tree debian12
mkfs.ext4 -q -F -U "$ROOT_UUID" -d work/tree work/root.fs 48M >/dev/null
# MBR: partition 1 (ext4) from 1 MiB, 2 MiB left free at the end for the overlay's own data
truncate -s 52M "$IMG/disk.raw"
sfdisk -q "$IMG/disk.raw" <<<$'label: dos\nstart=2048, size=48MiB, type=83, bootable' >/dev/null
dd if=work/root.fs of="$IMG/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
qemu-img convert -O qcow2 "$IMG/disk.raw" "$IMG/base.qcow2"
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 "$IMG/overlay.qcow2"
qemu-io -f qcow2 -c 'write -P 0x5a 50M 64k' "$IMG/overlay.qcow2" >/dev/null
qemu-img convert -O vpc -o subformat=dynamic "$IMG/disk.raw" "$IMG/dynamic.vhd"
qemu-img convert -O vmdk -o subformat=monolithicSparse "$IMG/disk.raw" "$IMG/sparse.vmdk"
mkdir "$IMG/split" "$IMG/flat"
qemu-img convert -O vmdk -o subformat=twoGbMaxExtentSparse "$IMG/disk.raw" "$IMG/split/split.vmdk"
qemu-img convert -O vmdk -o subformat=monolithicFlat "$IMG/disk.raw" "$IMG/flat/flat.vmdk"
# fixture FILE FORMAT CHECK_EXIT CAT_PATH
fixtures=(
    "disk.raw raw 0 /etc/os-release"
    "overlay.qcow2 qcow2 0 /etc/os-release"
    "dynamic.vhd vhd 0 /etc/os-release"
    "sparse.vmdk vmdk 0 /etc/os-release"
    "split/split.vmdk vmdk 0 /etc/os-release"
    "flat/flat.vmdk vmdk 0 /etc/os-release"
)
if command -v mkfs.xfs >/dev/null; then
    mkdir work/xtree && echo "hello from xfs" >work/xtree/hello.txt
    bash "$SRCDIR/tests/integration/make_protofile.sh" work/xtree >work/xfs.proto
    truncate -s 320M "$IMG/xfs.img"
    mkfs.xfs -q -p work/xfs.proto "$IMG/xfs.img" >/dev/null
    fixtures+=("xfs.img raw 1 /hello.txt")
else
    echo "note: mkfs.xfs not installed: no XFS fixture"
fi
if command -v mkntfs >/dev/null; then
    truncate -s 16M "$IMG/ntfs.img"
    mkntfs -q -F -f "$IMG/ntfs.img" >/dev/null 2>&1
    fixtures+=("ntfs.img raw 1 -")
else
    echo "note: mkntfs not installed: no NTFS fixture"
fi
# split and flat must really have extent files beside their descriptors
[ "$(find "$IMG/split" -type f | wc -l)" -ge 2 ] && [ "$(find "$IMG/flat" -type f | wc -l)" -ge 2 ] ||
    fail "the VMDK descriptors came without extent files: $(ls -R "$IMG")"
find "$IMG" -type f -exec chmod 0444 {} +
find "$IMG" -type d -exec chmod 0555 {} +
chmod 0755 "$T"

# snapshot: sha256, size, inode, mtime and ctime (ns) of every fixture file
snapshot() {
    (cd "$IMG" && find . -type f -print0 | sort -z | xargs -0 sha256sum &&
        find . -type f -print0 | sort -z | xargs -0 stat -c '%n %s %i %y %z')
}
# The snapshot must see a change (else this test could not fail): a scratch copy, touched.
cp "$IMG/disk.raw" work/probe && chmod 0644 work/probe
before_probe=$(cd work && sha256sum probe && stat -c '%n %s %i %y %z' probe)
sleep 0.01
touch work/probe
[ "$before_probe" != "$(cd work && sha256sum probe && stat -c '%n %s %i %y %z' probe)" ] ||
    fail "a touched file's snapshot did not change: the comparison below proves nothing"
before=$(snapshot)

# ---- every command ----
# The commands as `imgprobe --help` and docs/cli.md list them.
"$IMGPROBE" --help >work/help
tested=" check info dump digest measure ls cat "
listed=$(sed -n 's/^  \([a-z][a-z]*\) .*/\1/p' work/help)
[ -n "$listed" ] || fail "no commands found in imgprobe --help"
for c in $listed; do
    [[ $tested == *" $c "* ]] || fail "imgprobe --help lists '$c', which this test does not run"
done
for c in $tested; do
    grep -q "^  $c " work/help || fail "imgprobe --help does not list '$c'"
done
mkdir -m 0777 out

# run_fixture WHO DIR ENTRY [PREFIX...]: every command on one fixture, PREFIX
# (setpriv ...) before each; output and failures ("FAIL: ..." lines) in DIR.
run_fixture() {
    local who=$1 d=$2 entry=$3
    shift 3
    local file fmt check_exit cat_path
    read -r file fmt check_exit cat_path <<<"$entry"
    local img="$IMG/$file"
    ffail() { echo "FAIL: $*" >>"$d/fail"; }
    # NAME EXPECTED_EXIT ARGS...
    local cmds=(
        "info 0 info $img"
        "info--json 0 info --json $img"
        "info-f 0 info -f $fmt $img"
        "digest 0 digest $img"
        "measure 0 measure $img"
        "measure--json 0 measure --json $img"
        "check $check_exit check $img"
        "check--json $check_exit check --json $img"
        "check--no-scan $check_exit check --no-scan -f $fmt $img"
        "ls 0 ls $img /"
        "ls-l 0 ls -l $img /"
        "ls-R 0 ls -R $img /"
    )
    # -p: the whole disk's filesystem, or partition 1
    local part=1
    [ "$fmt" = raw ] && [ "$file" != disk.raw ] && part=disk
    cmds+=("ls-p 0 ls -p $part -l $img /")
    if [ "$cat_path" != - ]; then
        cmds+=("cat 0 cat $img $cat_path" "cat-p 0 cat -p $part -f $fmt $img $cat_path")
    fi
    local spec name want args rc
    for spec in "${cmds[@]}"; do
        read -r name want args <<<"$spec"
        # shellcheck disable=SC2086
        "$@" "$IMGPROBE" $args >"$d/stdout" 2>"$d/stderr" && rc=0 || rc=$?
        if [ "$rc" != "$want" ] || grep -qE 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$d/stderr"; then
            ffail "$who: imgprobe $args: exit $rc (expected $want): $(head -n 3 "$d/stderr")"
        fi
    done
    # dump into a regular file (the sparse path; written by WHO) and into a pipe
    if ! "$@" sh -c '"$0" dump "$1" >"$2"' "$IMGPROBE" "$img" "$d/dump.raw" 2>"$d/stderr"; then
        ffail "$who: imgprobe dump $img > file: $(head -n 3 "$d/stderr")"
    fi
    rm -f "$d/dump.raw"
    if ! "$@" sh -c '"$0" dump -f "$1" "$2" | cat >/dev/null' "$IMGPROBE" "$fmt" "$img" 2>"$d/stderr"; then
        ffail "$who: imgprobe dump -f $fmt $img | cat: $(head -n 3 "$d/stderr")"
    fi
    : >"$d/done"
}

# run_all WHO [PREFIX...]: every fixture, two at a time (two cores; each run is
# mostly sanitizer start-up)
run_all() {
    local who=$1 i d
    shift
    for i in "${!fixtures[@]}"; do
        d=out/$who.$i
        mkdir -m 0777 "$d"
        run_fixture "$who" "$d" "${fixtures[$i]}" "$@" &
        while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
    done
    wait
    for i in "${!fixtures[@]}"; do
        d=out/$who.$i
        [ -f "$d/done" ] || echo "FAIL: $who: the commands on ${fixtures[$i]%% *} did not all run" >>"$d/fail"
        if [ -s "$d/fail" ]; then
            cat "$d/fail"
            failures=$((failures + $(wc -l <"$d/fail")))
        fi
    done
}

ran=0
run_all "$(id -un)"
ran=$((ran + 1))

if [ "$(id -u)" -eq 0 ]; then
    if ! command -v setpriv >/dev/null; then
        fail "running as root without setpriv: cannot run the commands as an unprivileged user"
    else
        AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
        getent group nogroup >/dev/null || AS_NOBODY=(setpriv --reuid=nobody --regid=nobody --clear-groups --)
        "${AS_NOBODY[@]}" test -x "$IMGPROBE" ||
            fail "nobody cannot execute $IMGPROBE (every directory on its path needs o+x)"
        "${AS_NOBODY[@]}" test -r "$IMG/disk.raw" || fail "nobody cannot read the 0444 fixtures"
        # As nobody a write must be refused: else the run below would prove nothing.
        if "${AS_NOBODY[@]}" sh -c ': >>"$0"' "$IMG/disk.raw" 2>/dev/null; then
            fail "nobody could open a 0444 fixture for writing"
        fi
        run_all nobody "${AS_NOBODY[@]}"
        ran=$((ran + 1))
    fi
else
    echo "note: not root: the commands ran as $(id -un) only, who owns the 0444 fixtures"
fi

# ---- strace: every open of a fixture file is read-only ----
if command -v strace >/dev/null; then
    # LeakSanitizer cannot run under ptrace: leaks are looked for everywhere else.
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    for entry in "${fixtures[@]}"; do
        read -r file _ check_exit _ <<<"$entry"
        rc=0
        strace -f -qq -e trace=open,openat,creat,truncate,ftruncate -o out/strace.log \
            "$IMGPROBE" check "$IMG/$file" >/dev/null 2>out/stderr || rc=$?
        [ "$rc" = "$check_exit" ] || fail "strace: check $file: exit $rc (expected $check_exit): $(head -n 3 out/stderr)"
        grep -F "$IMG/" out/strace.log | grep -qE 'O_RDONLY' ||
            fail "strace: check $file opened no fixture file read-only (the trace proves nothing)"
        if grep -F "$IMG/" out/strace.log | grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|creat\(|truncate\('; then
            fail "strace: check $file opened a fixture file for writing (above)"
        fi
    done
    # The backing file and the extent files are opened read-only too.
    strace -f -qq -e trace=open,openat -o out/strace.log "$IMGPROBE" info "$IMG/overlay.qcow2" >/dev/null 2>&1 ||
        fail "strace: info overlay.qcow2 failed"
    strace -f -qq -e trace=open,openat -o out/strace2.log "$IMGPROBE" info "$IMG/split/split.vmdk" >/dev/null 2>&1 ||
        fail "strace: info split/split.vmdk failed"
    grep -F "\"$IMG/base.qcow2\"" out/strace.log | grep -q O_RDONLY ||
        fail "strace: the backing file base.qcow2 was not seen opened read-only"
    grep -F "\"$IMG/split/split-s001.vmdk\"" out/strace2.log | grep -q O_RDONLY ||
        fail "strace: the extent file split-s001.vmdk was not seen opened read-only"
    if grep -hF "$IMG/" out/strace.log out/strace2.log | grep -E 'O_WRONLY|O_RDWR|O_CREAT|O_TRUNC'; then
        fail "strace: info opened a backing or extent file for writing (above)"
    fi
else
    echo "note: strace not installed: opens not traced"
fi

after=$(snapshot)
if [ "$before" != "$after" ]; then
    fail "fixture files changed:"
    diff <(echo "$before") <(echo "$after") || true
fi

echo "${#fixtures[@]} fixtures, $ran user(s), $failures failures"
[ "$failures" -eq 0 ]
