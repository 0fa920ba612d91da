#!/bin/bash
# Content identification against blkid: images made here by the real tools
# (mkfs.*, mkswap, cryptsetup, pvcreate, mdadm, mksquashfs, xorriso), and the
# raw filesystem images of the corpus, each given whole to `imgprobe info
# --json`. Its disk.content / content_version / label / fs_uuid must be what
# `blkid -p -o export` says as TYPE / VERSION / LABEL / UUID.
#
# Where imgprobe deliberately differs (src/partition/content.c): it sees only
# the first 68 KiB and last 128 KiB of a device, so a label kept outside them
# (the root directory of an exFAT or FAT32 volume) is the boot sector's or
# none; xfs gets version "v5" when blkid prints none; LDM is ours alone; an
# LVM2 physical volume is "lvm2_member", as docs/cli.md names it.
#
# Needs (Debian 12): util-linux (blkid, losetup), fdisk (sfdisk), e2fsprogs,
# xfsprogs, dosfstools, ntfs-3g, btrfs-progs, cryptsetup-bin, squashfs-tools,
# lvm2, mdadm, python3; exfatprogs and xorriso when present. Cases
# whose tool is missing, or that need loop devices or the md driver where
# they are not to be had, are skipped with a message. Also checked: the same
# probes over the partitions of a GPT disk.
set -uo pipefail
: "${IMGPROBE:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/content.XXXXXX")
LOOPS=()
cleanup() {
    local l
    for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1
fails=0 checked=0
ok() { echo "ok: $*"; checked=$((checked + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
skip() { echo "skip: $*"; }
have() { command -v "$1" >/dev/null 2>&1; }

for tool in blkid python3; do
    have "$tool" || { echo "skip: $tool is not installed"; exit 77; }
done

# json_get PATH... < JSON: the values at the dotted paths ("disk.content"), joined by US (0x1f),
# "" where absent; "partitions" prints one line per partition: index, content, label, fs_uuid.
json_get() {
    python3 -c '
import json, sys
d = json.load(sys.stdin)
def at(path):
    v = d
    for k in path.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    return "" if v is None else str(v)
if sys.argv[1:] == ["partitions"]:
    for p in d.get("partitions", []):
        print("\x1f".join(str(p.get(k, "")) for k in ("index", "content", "label", "fs_uuid")))
else:
    print("\x1f".join(at(p) for p in sys.argv[1:]))
' "$@"
}

# blkid_read FILE: blkid -p's answer into the array B (TYPE, VERSION, LABEL, UUID...), export
# escapes undone. (Plain bash: starting processes is the slow part here.)
declare -A B
blkid_read() {
    B=()
    local line key value i c
    while IFS= read -r line; do
        key=${line%%=*} value=${line#*=}
        local plain=""
        for ((i = 0; i < ${#value}; i++)); do
            c=${value:i:1}
            [ "$c" = '\' ] && { i=$((i + 1)); c=${value:i:1}; }
            plain+=$c
        done
        B[$key]=$plain
    done < <(blkid -p -o export "$1" 2>/dev/null)
}

# check FILE [WHAT] [-- IMGPROBE OPTIONS]: imgprobe's whole-disk content agrees with blkid.
#   LABEL_RULE (env) = exact | fatboot (vfat: the boot-sector label when blkid's LABEL comes from a
#   root directory we cannot see) | absent-ok (our label may be missing where blkid reads it far away)
check() {
    local f=$1 what=${2:-$1}
    shift 2 2>/dev/null || shift $#
    [ "${1:-}" = "--" ] && shift
    local rule=${LABEL_RULE:-exact}
    blkid_read "$f"
    local want_type=${B[TYPE]:-} want_version=${B[VERSION]:-} want_label=${B[LABEL]:-} want_uuid=${B[UUID]:-}
    # the one name the project spells otherwise (docs/cli.md): blkid's LVM2_member is lvm2_member
    [ "$want_type" = LVM2_member ] && want_type=lvm2_member
    [ -n "$want_type" ] || { bad "$what: blkid names nothing (test setup?)"; return; }
    local out pt got_type got_version got_label got_uuid
    out=$("$IMGPROBE" info --json "$@" "$f") || { bad "$what: imgprobe info failed"; return; }
    # fields split by US (0x1f): a separator that is not white space keeps empty fields
    IFS=$'\x1f' read -r pt got_type got_version got_label got_uuid < <(json_get partition_table disk.content \
        disk.content_version disk.label disk.fs_uuid <<<"$out")
    if [ "$pt" != "none" ]; then
        bad "$what: taken for a partition table ($pt), so its content is not probed; blkid says $want_type" \
            "(the $pt probe should refuse a filesystem's boot sector)"
        return
    fi
    local err=""
    [ "$got_type" = "$want_type" ] || err+=" type '$got_type' (blkid '$want_type')"
    if [ -n "$want_version" ] && [ "$got_version" != "$want_version" ]; then
        err+=" version '$got_version' (blkid '$want_version')"
    fi
    if [ -z "$want_version" ] && [ -n "$got_version" ] && ! { [ "$want_type" = xfs ] && [ "$got_version" = v5 ]; }; then
        err+=" version '$got_version' where blkid prints none"
    fi
    case $rule in
    exact) [ "$got_label" = "$want_label" ] || err+=" label '$got_label' (blkid '$want_label')" ;;
    fatboot)
        local boot=${B[LABEL_FATBOOT]:-}
        [ "$got_label" = "$boot" ] || err+=" label '$got_label' (blkid LABEL_FATBOOT '$boot')" ;;
    absent-ok)
        [ -z "$got_label" ] || [ "$got_label" = "$want_label" ] || err+=" label '$got_label' (blkid '$want_label')" ;;
    esac
    [ "$got_uuid" = "$want_uuid" ] || err+=" uuid '$got_uuid' (blkid '$want_uuid')"
    if [ -n "$err" ]; then
        bad "$what:$err"
    else
        ok "$what: $got_type${got_version:+ $got_version}${got_label:+ label=$got_label}${got_uuid:+ uuid=$got_uuid}"
    fi
}

# expect_type FILE TYPE WHAT: imgprobe names FILE's content TYPE.
expect_type() {
    local got
    got=$("$IMGPROBE" info --json "$1" | json_get disk.content) || { bad "$3: imgprobe info failed"; return; }
    [ "$got" = "$2" ] && ok "$3: $got" || bad "$3: content '$got', want '$2'"
}

# ---- ext ----
if have mkfs.ext4; then
    truncate -s 32M e2.img e3.img e4.img e4s.img e4dev.img
    mkfs.ext2 -q -F -L lbl2 e2.img && check e2.img "mkfs.ext2"
    mkfs.ext3 -q -F -L lbl3 e3.img && check e3.img "mkfs.ext3"
    mkfs.ext4 -q -F -L lbl4 e4.img && check e4.img "mkfs.ext4"
    # ext4 features without a journal are still ext4; ext2 features with one are ext3
    mkfs.ext4 -q -F -O ^has_journal,extent e4s.img && check e4s.img "mkfs.ext4 -O ^has_journal"
    mkfs.ext4 -q -F -E test_fs -L dev e4dev.img 2>/dev/null && check e4dev.img "mkfs.ext4 -E test_fs (ext4dev)"
    truncate -s 16M jbd.img
    mkfs.ext4 -q -F -O journal_dev -L jl jbd.img && check jbd.img "mkfs.ext4 -O journal_dev (jbd)"
else
    skip "e2fsprogs not installed"
fi

# ---- xfs ----
if have mkfs.xfs; then
    truncate -s 300M x5.img x4.img
    mkfs.xfs -q -f -L xlbl x5.img && check x5.img "mkfs.xfs (v5)"
    [ "$("$IMGPROBE" info --json x5.img | json_get disk.content_version)" = v5 ] || bad "mkfs.xfs: no v5 version"
    mkfs.xfs -q -f -m crc=0 -L x4 x4.img >/dev/null 2>&1 && check x4.img "mkfs.xfs -m crc=0 (v4)"
    [ -z "$("$IMGPROBE" info --json x4.img | json_get disk.content_version)" ] ||
        bad "mkfs.xfs -m crc=0: a version for a v4 filesystem"
    truncate -s 300M xd.img && truncate -s 64M xl.img
    if mkfs.xfs -q -f -l logdev=xl.img,size=64m xd.img 2>/dev/null; then
        check xl.img "mkfs.xfs -l logdev (xfs_external_log)"
        check xd.img "mkfs.xfs with an external log"
    fi
else
    skip "xfsprogs not installed"
fi

# ---- FAT, exFAT, NTFS ----
if have mkfs.vfat; then
    truncate -s 4M f12.img && truncate -s 32M f16.img && truncate -s 64M f32.img f32n.img
    mkfs.vfat -F 12 -n LBL12 f12.img >/dev/null && check f12.img "mkfs.vfat -F 12"
    mkfs.vfat -F 16 -n LBL16 f16.img >/dev/null && check f16.img "mkfs.vfat -F 16"
    # FAT32's root directory is beyond the head: the boot sector's label is used
    mkfs.vfat -F 32 -n LBL32 f32.img >/dev/null && LABEL_RULE=fatboot check f32.img "mkfs.vfat -F 32"
    mkfs.vfat -F 32 f32n.img >/dev/null && check f32n.img "mkfs.vfat -F 32, no label"
else
    skip "dosfstools not installed"
fi
if have mkfs.exfat; then
    truncate -s 32M ex.img
    mkfs.exfat -L EXLBL ex.img >/dev/null && LABEL_RULE=absent-ok check ex.img "mkfs.exfat"
else
    skip "exfatprogs not installed"
fi
if have mkntfs; then
    truncate -s 16M nt.img
    mkntfs -F -Q -L ntlbl nt.img >/dev/null 2>&1 && check nt.img "mkntfs"
else
    skip "ntfs-3g not installed"
fi

# ---- swap ----
if have mkswap; then
    truncate -s 16M sw.img sw64.img
    mkswap -L swlbl sw.img >/dev/null 2>&1 && check sw.img "mkswap"
    mkswap -p 65536 -L big sw64.img >/dev/null 2>&1 && check sw64.img "mkswap -p 65536"
else
    skip "mkswap not installed"
fi

# ---- btrfs ----
if have mkfs.btrfs; then
    truncate -s 128M bt.img
    mkfs.btrfs -q -f -L btlbl bt.img >/dev/null && check bt.img "mkfs.btrfs"
else
    skip "btrfs-progs not installed"
fi

# ---- squashfs ----
if have mksquashfs; then
    mkdir -p sqdir/sub && echo hello > sqdir/sub/f
    mksquashfs sqdir sq.img -noappend -quiet >/dev/null && check sq.img "mksquashfs"
else
    skip "squashfs-tools not installed"
fi

# ---- LUKS ----
if have cryptsetup; then
    head -c 32 /dev/urandom > key
    truncate -s 20M l1.img l2.img
    fast=(--batch-mode --key-file key --pbkdf-force-iterations 1000)
    if cryptsetup luksFormat --type luks1 "${fast[@]}" l1.img 2>/dev/null; then
        check l1.img "cryptsetup luksFormat --type luks1"
    else
        skip "cryptsetup cannot format LUKS1 here"
    fi
    if cryptsetup luksFormat --type luks2 --pbkdf pbkdf2 --label cryptlbl "${fast[@]}" l2.img 2>/dev/null; then
        check l2.img "cryptsetup luksFormat --type luks2"
        # with the primary header gone the secondary copy still names it
        cp l2.img l2b.img && dd if=/dev/zero of=l2b.img bs=4096 count=1 conv=notrunc status=none
        check l2b.img "LUKS2 with its primary header wiped"
    else
        skip "cryptsetup cannot format LUKS2 here"
    fi
else
    skip "cryptsetup not installed"
fi

# ---- ISO 9660 (a raw image of it: forced, as the format layer names .iso files itself) ----
if have xorriso; then
    mkdir -p isodir && echo x > isodir/readme.txt
    xorriso -as mkisofs -quiet -V ISOLBL -o plain.iso isodir 2>/dev/null && check plain.iso "xorriso" -- -f raw
    xorriso -as mkisofs -quiet -J -V MyDisc -o joliet.iso isodir 2>/dev/null && check joliet.iso "xorriso -J" -- -f raw
else
    skip "xorriso not installed"
fi

# ---- loop devices: LVM2 and MD RAID ----
loop_attach() { # FILE VAR: attach FILE, its loop device into VAR (and detached on exit)
    local dev
    dev=$(losetup -f --show "$1" 2>/dev/null) || return 1
    LOOPS+=("$dev")
    printf -v "$2" '%s' "$dev"
}
truncate -s 1M probe-loop.img
if [ "$(id -u)" = 0 ] && have losetup && loop_attach probe-loop.img probe_loop; then
    losetup -d "$probe_loop"
    loops=yes
else
    loops=no
    skip "no loop devices here (root and losetup needed): LVM2 and mdadm cases"
fi
if [ $loops = yes ] && have pvcreate; then
    truncate -s 16M pv.img
    if loop_attach pv.img l && pvcreate -y -ff --config 'devices { use_devicesfile=0 }' "$l" >/dev/null 2>&1; then
        losetup -d "$l"
        check pv.img "pvcreate"
    else
        skip "pvcreate failed on a loop device"
    fi
fi
md_done=no
[ -e /proc/mdstat ] || skip "no md driver here (/proc/mdstat absent): synthetic md superblocks instead of mdadm"
if [ $loops = yes ] && have mdadm && [ -e /proc/mdstat ]; then
    for meta in 0.90 1.0 1.1 1.2; do
        truncate -s 24M "md$meta-a.img" "md$meta-b.img"
        loop_attach "md$meta-a.img" a && loop_attach "md$meta-b.img" b || break
        if mdadm --create "/dev/md/imgprobe-test" --run --quiet --level=1 --raid-devices=2 --metadata=$meta \
            "$a" "$b" </dev/null >/dev/null 2>&1; then
            mdadm --stop "/dev/md/imgprobe-test" >/dev/null 2>&1
            losetup -d "$a" "$b"
            check "md$meta-a.img" "mdadm --create --metadata=$meta"
            md_done=yes
        else
            losetup -d "$a" "$b"
            skip "mdadm cannot create an array here: synthetic superblocks instead"
            break
        fi
    done
fi
if [ $md_done = no ] && have python3; then
    # md superblocks laid out from md_p.h, so that blkid still judges them independently
    python3 - <<'EOF'
import struct, uuid
MAGIC = 0xA92B4EFC
def sb1(path, off, name):
    sb = bytearray(256)
    struct.pack_into('<III', sb, 0, MAGIC, 1, 0)
    sb[16:32] = uuid.UUID('8a3c2f1e-5b6d-4e7f-9a0b-1c2d3e4f5a6b').bytes
    sb[32:32 + len(name)] = name
    struct.pack_into('<Q', sb, 144, off >> 9)
    with open(path, 'r+b') as f:
        f.seek(off); f.write(sb)
def sb0(path, size):
    sb = bytearray(4096)
    struct.pack_into('<IIIII', sb, 0, MAGIC, 0, 90, 0, 0)
    struct.pack_into('<I', sb, 20, 0x11223344)
    struct.pack_into('<I', sb, 32, (size - 0x10000) >> 10)
    struct.pack_into('<III', sb, 52, 0x55667788, 0x99AABBCC, 0xDDEEFF00)
    with open(path, 'r+b') as f:
        f.seek((size & ~0xFFFF) - 0x10000); f.write(sb)
size = 24 << 20
for n in ('s0.img', 's10.img', 's11.img', 's12.img', 's10fs.img'):
    open(n, 'ab').truncate(size)
sb0('s0.img', size)
sb1('s10.img', (size & ~0xFFF) - 0x2000, b'host:ten')
sb1('s11.img', 0, b'host:eleven')
sb1('s12.img', 0x1000, b'host:twelve')
EOF
    check s0.img "md 0.90 superblock (synthetic)"
    check s10.img "md 1.0 superblock (synthetic)"
    check s11.img "md 1.1 superblock (synthetic)"
    check s12.img "md 1.2 superblock (synthetic)"
    # a RAID1 member with metadata at the end shows its filesystem at 0: it is still a member
    if have mkfs.ext4; then
        mkfs.ext4 -q -F -L inside s10fs.img && python3 - <<'EOF'
import struct, uuid
size = 24 << 20; off = (size & ~0xFFF) - 0x2000
sb = bytearray(256)
struct.pack_into('<III', sb, 0, 0xA92B4EFC, 1, 0)
sb[16:32] = uuid.UUID('00112233-4455-6677-8899-aabbccddeeff').bytes
struct.pack_into('<Q', sb, 144, off >> 9)
with open('s10fs.img', 'r+b') as f:
    f.seek(off); f.write(sb)
EOF
        check s10fs.img "md 1.0 member holding ext4"
    fi
fi

# ---- the same probes over partitions: a GPT disk whose partitions are the images above ----
if have sfdisk && [ -f e4.img ] && [ -f sw.img ] && [ -f f16.img ]; then
    truncate -s 100M gpt.img
    printf 'label: gpt\nstart=2048, size=32M\nsize=16M\nsize=32M\n' | sfdisk -q gpt.img >/dev/null
    dd if=e4.img of=gpt.img bs=1M seek=1 conv=notrunc,sparse status=none
    dd if=sw.img of=gpt.img bs=1M seek=33 conv=notrunc,sparse status=none
    dd if=f16.img of=gpt.img bs=1M seek=49 conv=notrunc,sparse status=none
    parts=$("$IMGPROBE" info --json gpt.img | json_get partitions)
    n=0
    for img in e4.img sw.img f16.img; do
        n=$((n + 1))
        blkid_read "$img"
        want="$n"$'\x1f'"${B[TYPE]}"$'\x1f'"${B[LABEL]:-}"$'\x1f'"${B[UUID]:-}"
        if grep -qxF "$want" <<<"$parts"; then
            ok "GPT partition $n holding $img: ${B[TYPE]}"
        else
            bad "GPT partition $n holding $img: imgprobe says '$(sed -n "${n}p" <<<"$parts" | tr '\037' ' ')'," \
                "blkid of the image '${want//$'\x1f'/ }'"
        fi
    done
else
    skip "sfdisk missing (or an image it needs was not made): partitions"
fi

# ---- the corpus: raw filesystem images from other writers ----
if [ -d "${CORPUS:-/nonexistent}" ] && [ -f "$CORPUS/MANIFEST.tsv" ]; then
    mkdir -p corpus
    decompress() { # SRC: its bytes on stdout
        case $1 in
        *.gz) gzip -dc "$1" ;;
        *.bz2) bzip2 -dc "$1" ;;
        *.xz) xz -dc "$1" ;;
        *.zst) zstd -q -dc "$1" ;;
        *) cat "$1" ;;
        esac
    }
    while IFS=$'\t' read -r path _ _ _ _ facts _; do
        case $path in
        ext/*.splitraw.001) continue ;;
        ext/* | xfs/* | ntfs/* | broken/util-linux-xfs-log.img.xz | broken/util-linux-ext4-truncated.img.xz) ;;
        *) continue ;;
        esac
        want=$(grep -o 'blkid TYPE=[A-Za-z0-9_]*' <<<"$facts" | head -1 | cut -d= -f2)
        [ -n "$want" ] || continue
        src="$CORPUS/$path" dst="corpus/$(basename "$path").raw"
        # A disk with one partition ("[partition @START] blkid TYPE=..."), 1 GiB each: its
        # first MiB in a sparse file of its size is all imgprobe reads. blkid would want the
        # $MFT 340 MiB in, so the MANIFEST's TYPE is the only oracle here.
        part=$(grep -o '\[partition @[0-9]*\] blkid TYPE' <<<"$facts" | head -1 | tr -dc 0-9)
        if [ -n "$part" ]; then
            sectors=$(grep -o "start=$part size=[0-9]*" <<<"$facts" | head -1 | sed 's/.*size=//')
            [ -n "$sectors" ] || { skip "$path: partition size not in MANIFEST"; continue; }
            { decompress "$src" 2>/dev/null || true; } | head -c $((part * 512 + 1048576)) |
                tail -c +$((part * 512 + 1)) > "$dst"
            truncate -s $((sectors * 512)) "$dst"
            expect_type "$dst" "$want" "corpus $path, its partition at sector $part (MANIFEST TYPE)"
            rm -f "$dst"
            continue
        else
            case $path in
            *.splitraw.000) cat "$src" "${src%.000}.001" > "$dst" ;;
            *) decompress "$src" > "$dst" 2>/dev/null || { skip "$path: cannot decompress"; continue; } ;;
            esac
        fi
        expect_type "$dst" "$want" "corpus $path (MANIFEST TYPE)"
        check "$dst" "corpus $path (blkid)"
        rm -f "$dst"
    done < "$CORPUS/MANIFEST.tsv"
else
    skip "corpus absent"
fi

# ---- nothing to name ----
truncate -s 8M zero.img
[ "$("$IMGPROBE" info --json zero.img | json_get disk.content)" = unknown ] && ok "zeros: unknown" ||
    bad "zeros: not unknown"
head -c 1024 /dev/urandom > tiny.img
[ "$("$IMGPROBE" info --json tiny.img | json_get disk.content)" = unknown ] && ok "1 KiB: unknown" ||
    bad "1 KiB: not unknown"

echo "content: $checked checks, $fails failures"
[ $checked -gt 0 ] || exit 77
[ $fails -eq 0 ]
