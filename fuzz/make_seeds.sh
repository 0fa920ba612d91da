#!/bin/bash
# Make the seed corpora of the fuzz targets: small images written by real
# tools (qemu-img, qemu-io), one directory per target under OUTDIR:
#
#   OUTDIR/qcow2/      qcow2 v2/v3, 512 B to 64 KiB clusters, zlib and zstd
#                      compressed clusters, extended L2, zero clusters, a
#                      backing file name, an internal snapshot, an external
#                      data file, 1-bit and 64-bit refcounts
#   OUTDIR/vhd/        VHD fixed, dynamic empty, dynamic with data
#   OUTDIR/vmdk/       VMDK monolithicSparse (plain, zeroed grains, version 6),
#                      streamOptimized, and the text descriptors of the
#                      descriptor-plus-extents kinds
#   OUTDIR/vmdk_desc/  VMDK descriptor texts (stand-alone and embedded)
#   OUTDIR/volumes/    raw disks with MBR (extended, logical) and GPT tables, one
#                      with an ext2 filesystem in a partition
#   OUTDIR/ext4/       ext2 and ext4 filesystems (inline data, casefold, block
#                      maps) holding a small tree, made by mke2fs -d
#   OUTDIR/xfs/        XFS v5 and v4 (512-byte blocks, with and without ftype,
#                      8 KiB directory blocks) holding a small tree (mkfs.xfs -p):
#                      shortform, block and leaf directories, inline and remote
#                      symlinks; cut after the last block used (about 4.5 MiB)
#   OUTDIR/content/    devices holding those, swap, FAT, the heads of XFS and
#                      NTFS, in fuzz_content.c's whole-device layout
#   OUTDIR/ntfs/       NTFS volumes of 2 MiB (mkntfs; 512-byte and 4 KiB clusters),
#                      populated by tests/integration/ntfs_gen.c when libntfs-3g's
#                      headers are there: resident, sparse, compressed and
#                      fragmented ($ATTRIBUTE_LIST) files, an index with blocks,
#                      POSIX and 8.3 names, links and reparse points
#   OUTDIR/lvm_meta/   LVM2 text metadata (on-disk and backup style: linear,
#                      multi-segment, striped, thin)
#   OUTDIR/regf/       registry hives: empty, and small ones filled by hivexregedit
#   OUTDIR/probe/      the container, volume and filesystem seeds
#
# Each image is small (virtual sizes of 64 KiB to 4 MiB, files mostly under
# 256 KiB; a dynamic VHD with data is ~2 MiB because qemu allocates 2 MiB
# blocks). Nothing is downloaded. A missing tool leaves its seeds out (without
# qemu-img the container targets get an empty directory: their replay test
# then reports itself skipped).
#
# usage: make_seeds.sh OUTDIR
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
targets=(probe qcow2 vhd vmdk vmdk_desc volumes ext4 xfs content lvm_meta ntfs textparse check)
rm -rf "$out"
for t in "${targets[@]}"; do
    mkdir -p "$out/$t"
done
work=$(mktemp -d "${TMPDIR:-/tmp}/imgprobe-seeds.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- raw: an MBR with two partitions and a few data sectors (no tool needed) ----
# Partition entries (MBR, 16 bytes each at 0x1be): status, CHS first, type,
# CHS last, LBA first (LE32), sector count (LE32).
raw=$out/volumes/raw-mbr.img
truncate -s 64K "$raw"
printf '\x80\x00\x02\x00\x83\x00\x20\x00\x01\x00\x00\x00\x3f\x00\x00\x00' |
    dd of="$raw" bs=1 seek=446 conv=notrunc status=none
printf '\x00\x00\x01\x01\x8e\x00\x3f\x00\x40\x00\x00\x00\x40\x00\x00\x00' |
    dd of="$raw" bs=1 seek=462 conv=notrunc status=none
printf '\x55\xaa' | dd of="$raw" bs=1 seek=510 conv=notrunc status=none
printf 'EFI PART' | dd of="$raw" bs=1 seek=512 conv=notrunc status=none

# ---- volumes: raw disks with partition tables (sfdisk), one with an ext2 inside ----
v=$out/volumes
if command -v sfdisk >/dev/null; then
    truncate -s 256K "$v/mbr-extended.img"
    # Two primaries, an extended partition holding three logical ones (an EBR chain).
    printf '%s\n' 'label: dos' 'label-id: 0x1badcafe' 'start=1, size=63, type=83' \
        'start=64, size=400, type=5' 'start=66, size=100, type=8e' 'start=170, size=100, type=7' \
        'start=272, size=150, type=83' 'start=464, size=48, type=82' | sfdisk -q "$v/mbr-extended.img"
    truncate -s 256K "$v/gpt.img"
    printf '%s\n' 'label: gpt' 'label-id: 01234567-89AB-CDEF-0123-456789ABCDEF' 'first-lba: 34' \
        'start=34, size=100, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=11111111-2222-3333-4444-555555555555, name="EFI"' \
        'start=134, size=200, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=21111111-2222-3333-4444-555555555555, name="root"' \
        'start=334, size=100, type=E6D6D379-F507-44C2-A23C-238F2A3DF928, uuid=31111111-2222-3333-4444-555555555555' |
        sfdisk -q "$v/gpt.img"
    if command -v mke2fs >/dev/null; then
        mke2fs -q -t ext2 -b 1024 -N 16 -m 0 -U 01234567-89ab-cdef-0123-456789abcdef -F "$work/ext2.img" 100k \
            >/dev/null 2>&1
        cp "$v/gpt.img" "$v/gpt-ext2.img"
        dd if="$work/ext2.img" of="$v/gpt-ext2.img" bs=512 seek=134 conv=notrunc status=none
    fi
else
    echo "make_seeds: sfdisk not found: no partitioned seeds" >&2
fi
cp "$v"/* "$out/probe/"

# ---- ext4: small ext2/ext4 filesystems holding a tree (mke2fs -d) ----
# Fixed UUIDs, hash seeds and times, so the seeds are the same on every run.
e=$out/ext4
tree=$work/tree
mkdir -p "$tree/dir/sub"
printf 'hello\n' >"$tree/a.txt"
: >"$tree/empty"
head -c 20000 /dev/zero | tr '\0' 'x' >"$tree/dir/blocks.txt"
printf 'deep\n' >"$tree/dir/sub/file"
ln -s a.txt "$tree/fast-link"
ln -s dir/sub/file/../../../a-name-long-enough-not-to-fit-in-the-inode-itself-at-sixty-bytes "$tree/slow-link"
for i in $(seq 1 40); do : >"$tree/dir/entry-with-a-longish-name-$i"; done
find "$tree" -exec touch -h -d @1700000000 {} +
mkext() { # NAME SIZE MKE2FS-OPTIONS...
    local name=$1 size=$2
    shift 2
    rm -f "$e/$name"
    E2FSPROGS_FAKE_TIME=1700000000 mke2fs -q -F -U 01234567-89ab-cdef-0123-456789abcdef \
        -E hash_seed=01234567-89ab-cdef-0123-456789abcdef -d "$tree" "$@" "$e/$name" "$size" >/dev/null 2>&1 ||
        { echo "make_seeds: mke2fs $name failed" >&2; rm -f "$e/$name"; }
}
if command -v mke2fs >/dev/null; then
    mkext ext2-1k.img 256k -t ext2 -b 1024 -N 64
    mkext ext4-1k.img 256k -t ext4 -O ^has_journal -b 1024 -N 64
    mkext ext4-2k-inline.img 512k -t ext4 -O ^has_journal,inline_data -b 2048 -I 256 -N 64
    mkext ext4-1k-casefold.img 256k -t ext4 -O ^has_journal,casefold -E encoding=utf8 -b 1024 -N 64
    mkext ext4-1k-no-extents-32bit.img 256k -t ext4 -O ^has_journal,^extent,^64bit,^metadata_csum -b 1024 -N 64
    cp "$e"/* "$out/probe/"
else
    echo "make_seeds: mke2fs not found: no ext seeds" >&2
fi

# ---- xfs: small XFS filesystems holding a tree (mkfs.xfs -p) ----
# mkfs.xfs 6.1 refuses filesystems under 300 MB unless it runs under fstests
# (TEST_DIR, TEST_DEV, QA_CHECK_FS); with one 16 MiB AG the log comes first
# and the inodes and data after it, within the first 4.5 MiB.
x=$out/xfs
if command -v mkfs.xfs >/dev/null && command -v python3 >/dev/null; then
    xt=$work/xfs-tree
    mkdir -p "$xt/dir" "$xt/leaf"
    printf 'hello\n' >"$xt/a.txt"
    head -c 5000 /dev/zero | tr '\0' 'x' >"$xt/dir/blocks.txt"
    ln -s a.txt "$xt/fast-link"
    ln -s "$(printf 'a-remote-symlink-target-%.0s' $(seq 1 12))" "$xt/slow-link"
    for i in $(seq 1 60); do : >"$xt/leaf/entry-with-a-longish-name-$i"; done
    mkfifo "$xt/fifo"
    bash "$(dirname "$0")/../tests/integration/make_protofile.sh" "$xt" >"$work/xfs.proto"
    mkxfs() { # NAME MKFS-OPTIONS...
        local name=$1
        shift
        truncate -s 16M "$x/$name"
        TEST_DIR=$work TEST_DEV=/dev/null QA_CHECK_FS=1 mkfs.xfs -q -f "$@" \
            -m uuid=01234567-89ab-cdef-0123-456789abcdef -p "$work/xfs.proto" "$x/$name" >/dev/null 2>&1 &&
            truncate -s 4608K "$x/$name" || { echo "make_seeds: mkfs.xfs $name failed" >&2; rm -f "$x/$name"; }
    }
    mkxfs xfs-v5-1k.img -b size=1024
    mkxfs xfs-v5-1k-dir8k.img -b size=1024 -n size=8192
    mkxfs xfs-v4-512.img -m crc=0 -b size=512
    mkxfs xfs-v4-512-noftype.img -m crc=0 -n ftype=0 -b size=512
    # The same with the log on another device: the inodes and data then come
    # first and the whole tree lies in the first 64 KiB, which a fuzzer's
    # -max_len keeps whole (it cuts the seeds above before their root inode).
    mkxfs_extlog() { # NAME MKFS-OPTIONS...
        local name=$1
        shift
        truncate -s 16M "$x/$name" "$work/xfs-log"
        TEST_DIR=$work TEST_DEV=/dev/null QA_CHECK_FS=1 mkfs.xfs -q -f "$@" -l logdev="$work/xfs-log",size=4m \
            -m uuid=01234567-89ab-cdef-0123-456789abcdef -p "$work/xfs.proto" "$x/$name" >/dev/null 2>&1 &&
            truncate -s 64K "$x/$name" || { echo "make_seeds: mkfs.xfs $name failed" >&2; rm -f "$x/$name"; }
    }
    mkxfs_extlog xfs-v5-1k-extlog.img -b size=1024
    mkxfs_extlog xfs-v5-1k-dir8k-extlog.img -b size=1024 -n size=8192
    mkxfs_extlog xfs-v4-512-extlog.img -m crc=0 -b size=512
else
    echo "make_seeds: mkfs.xfs not found: no xfs seeds" >&2
fi

# ---- content: devices holding filesystems, swap, partition tables ----
# fuzz_content.c reads an input whose first byte is even as "the rest is a
# whole device": each seed is a 0x00 byte and then the device.
c=$out/content
asdevice() { # NAME FILE: the seed of a whole device holding FILE
    { printf '\0'; cat "$2"; } >"$c/$1"
}
for f in "$out/ext4"/* "$v"/*; do
    [ -f "$f" ] && asdevice "$(basename "$f")" "$f"
done
if command -v mkswap >/dev/null; then
    truncate -s 64k "$work/swap.img"
    mkswap -U 01234567-89ab-cdef-0123-456789abcdef -L seed "$work/swap.img" >/dev/null 2>&1 &&
        asdevice swap.img "$work/swap.img"
fi
if command -v mkfs.vfat >/dev/null; then
    truncate -s 256k "$work/fat.img"
    mkfs.vfat -i 12345678 -n SEED "$work/fat.img" >/dev/null 2>&1 && asdevice fat12.img "$work/fat.img"
fi
# XFS and NTFS refuse small devices: their first 64 KiB (the superblock, the boot sector and more).
if command -v mkfs.xfs >/dev/null; then
    truncate -s 300M "$work/xfs.img"
    mkfs.xfs -q -m uuid=01234567-89ab-cdef-0123-456789abcdef -L seed "$work/xfs.img" >/dev/null 2>&1 &&
        head -c 64k "$work/xfs.img" >"$work/xfs-head.img" && asdevice xfs-head.img "$work/xfs-head.img"
    rm -f "$work/xfs.img"
fi
if command -v mkntfs >/dev/null; then
    truncate -s 2M "$work/ntfs.img"
    mkntfs -q -F -f -H 16 -S 63 -p 0 -L seed "$work/ntfs.img" >/dev/null 2>&1 &&
        head -c 64k "$work/ntfs.img" >"$work/ntfs-head.img" && asdevice ntfs-head.img "$work/ntfs-head.img"
fi

# ---- ntfs: small NTFS volumes (mkntfs), populated through libntfs-3g ----
# mkntfs -T fixes the times it writes and the serial number is set after it;
# the generator's files carry the time they were made.
n=$out/ntfs
if command -v mkntfs >/dev/null; then
    gen=
    if command -v cc >/dev/null && pkg-config --exists libntfs-3g 2>/dev/null; then
        # shellcheck disable=SC2046
        cc -O1 -o "$work/ntfs_gen" "$(dirname "$0")/../tests/integration/ntfs_gen.c" \
            $(pkg-config --cflags --libs libntfs-3g) 2>/dev/null && gen=$work/ntfs_gen
    fi
    printf 'hello\n' >"$work/ntfs-small"
    head -c 70000 /dev/zero | tr '\0' 'x' >"$work/ntfs-text"
    { head -c 4096 /dev/zero | tr '\0' 'a'; head -c 8192 /dev/zero; head -c 4096 /dev/zero | tr '\0' 'b'; } >"$work/ntfs-holes"
    for i in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19; do
        head -c 4096 /dev/zero | tr '\0' "$(printf "\\$(printf '%03o' $((65 + i)))")"
        head -c 4096 /dev/zero
    done >"$work/ntfs-alt"
    {
        printf 'dir\t/dir\nfile\t/dir/small\t%s\nfile\t/text\t%s\nfile\t/holes\t%s\n' \
            "$work/ntfs-small" "$work/ntfs-text" "$work/ntfs-holes"
        printf 'cdir\t/c\nfile\t/c/text\t%s\nfrag\t/frag\t%s\n' "$work/ntfs-text" "$work/ntfs-alt"
        printf 'file\t/Case\t%s\nfile\t/case\t%s\n' "$work/ntfs-small" "$work/ntfs-small"
        printf 'file\t/Long name.txt\t%s\ndosname\t/Long name.txt\tLONGNA~1.TXT\n' "$work/ntfs-small"
        # 130 UTF-16 units that are 260 bytes of UTF-8: a name past 255 bytes that paths must still reach
        printf 'file\t/%s\t%s\n' "$(printf '\303\251%.0s' $(seq 1 130))" "$work/ntfs-small"
        printf 'link\t/dir/small\t/hard\nsymlink\t/sl\t\\??\\C:\\dir\\small\t0\nsymlink\t/rel\tdir\\small\t1\n'
        printf 'junction\t/j\t\\??\\C:\\dir\nintx\t/ix\tdir/small\nwof\t/w\t100\n'
        printf 'stream\t/text\tads\t%s\ndir\t/many\nmany\t/many\t60\n' "$work/ntfs-small"
    } >"$work/ntfs-cmds"
    for c in 512 4096; do
        img=$n/ntfs-2m-c$c.img
        truncate -s 2M "$img"
        if mkntfs -q -F -f -T -c "$c" -L seed "$img" >/dev/null 2>&1; then
            [ -n "$gen" ] && "$gen" "$img" <"$work/ntfs-cmds" >/dev/null 2>&1
            # a fixed serial number, in the boot sector and its backup (the last sector)
            for off in 72 $((2 * 1024 * 1024 - 512 + 72)); do
                printf '\x88\x77\x66\x55\x44\x33\x22\x11' | dd of="$img" bs=1 seek=$off conv=notrunc status=none
            done
        else
            echo "make_seeds: mkntfs -c $c failed" >&2
            rm -f "$img"
        fi
    done
    [ -n "$gen" ] || echo "make_seeds: no libntfs-3g headers: empty NTFS seeds only" >&2
else
    echo "make_seeds: mkntfs not found: no ntfs seeds" >&2
fi

# ---- lvm_meta: LVM2 text metadata, as lvm2 writes it on disk and in backups ----
l=$out/lvm_meta
cat >"$l/linear-ondisk.txt" <<'EOF_LVM'
vg0 {
id = "Vq3sSb-1x0A-Kn2g-Xc7d-Lm4p-Qr8s-Tu9vWx"
seqno = 3
format = "lvm2"
status = ["RESIZEABLE", "READ", "WRITE"]
flags = []
extent_size = 8192
max_lv = 0
max_pv = 0
metadata_copies = 0

physical_volumes {

pv0 {
id = "AbCdEf-GhIj-KlMn-OpQr-StUv-WxYz-012345"
device = "/dev/sda2"

status = ["ALLOCATABLE"]
flags = []
dev_size = 41940992
pe_start = 2048
pe_count = 5119
}
}

logical_volumes {

root {
id = "Zz0Yy1-Xx2W-w3Vv-4Uu5-Tt6S-s7Rr-8Qq9Pp"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
creation_time = 1700000000
creation_host = "seed"
segment_count = 1

segment1 {
start_extent = 0
extent_count = 4000

type = "striped"
stripe_count = 1

stripes = [
"pv0", 0
]
}
}

swap {
id = "Aa1Bb2-Cc3D-d4Ee-5Ff6-Gg7H-h8Ii-9Jj0Kk"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
creation_time = 1700000000
creation_host = "seed"
segment_count = 2

segment1 {
start_extent = 0
extent_count = 100

type = "striped"
stripe_count = 1

stripes = [
"pv0", 4000
]
}
segment2 {
start_extent = 100
extent_count = 50

type = "striped"
stripe_count = 1

stripes = [
"pv0", 4500
]
}
}
}

}
# Generated by LVM2 version 2.03.16(2) (2022-05-18): Tue Nov 14 22:13:20 2023

contents = "Text Format Volume Group"
version = 1

description = ""

creation_host = "seed"	# Linux seed 6.1.0-13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 x86_64
creation_time = 1700000000	# Tue Nov 14 22:13:20 2023

EOF_LVM
cat >"$l/striped-thin-backup.txt" <<'EOF_LVM'
# Generated by LVM2 version 2.03.16(2) (2022-05-18): Tue Nov 14 22:13:20 2023

contents = "Text Format Volume Group"
version = 1

description = "Created *after* executing 'lvcreate --type thin-pool -L 8M -n pool data'"

creation_host = "seed"	# Linux seed 6.1.0-13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 x86_64
creation_time = 1700000000	# Tue Nov 14 22:13:20 2023

data {
	id = "Vq3sSb-1x0A-Kn2g-Xc7d-Lm4p-Qr8s-Tu9vWy"
	seqno = 7
	format = "lvm2"
	status = ["RESIZEABLE", "READ", "WRITE"]
	flags = []
	extent_size = 8
	max_lv = 0
	max_pv = 0
	metadata_copies = 0

	physical_volumes {

		pv0 {
			id = "AbCdEf-GhIj-KlMn-OpQr-StUv-WxYz-012346"
			device = "/dev/loop0"
			status = ["ALLOCATABLE"]
			flags = []
			dev_size = 65536
			pe_start = 2048
			pe_count = 7936
		}

		pv1 {
			id = "AbCdEf-GhIj-KlMn-OpQr-StUv-WxYz-012347"
			device = "/dev/loop1"
			status = ["ALLOCATABLE"]
			flags = []
			dev_size = 65536
			pe_start = 2048
			pe_count = 7936
		}
	}

	logical_volumes {

		stripes {
			id = "Zz0Yy1-Xx2W-w3Vv-4Uu5-Tt6S-s7Rr-8Qq9Pq"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			tags = ["seed", "striped"]
			segment_count = 1

			segment1 {
				start_extent = 0
				extent_count = 64
				type = "striped"
				stripe_count = 2
				stripe_size = 128
				stripes = [
					"pv0", 0,
					"pv1", 0
				]
			}
		}

		pool {
			id = "Zz0Yy1-Xx2W-w3Vv-4Uu5-Tt6S-s7Rr-8Qq9Pr"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 1

			segment1 {
				start_extent = 0
				extent_count = 1024
				type = "thin-pool"
				metadata = "pool_tmeta"
				pool = "pool_tdata"
				transaction_id = 1
				chunk_size = 128
				discards = "passdown"
				zero_new_blocks = 1
			}
		}

		thin1 {
			id = "Zz0Yy1-Xx2W-w3Vv-4Uu5-Tt6S-s7Rr-8Qq9Ps"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = 1

			segment1 {
				start_extent = 0
				extent_count = 2048
				type = "thin"
				thin_pool = "pool"
				transaction_id = 0
				device_id = 1
			}
		}

		pool_tmeta {
			id = "Zz0Yy1-Xx2W-w3Vv-4Uu5-Tt6S-s7Rr-8Qq9Pt"
			status = ["READ", "WRITE"]
			flags = []
			segment_count = 1

			segment1 {
				start_extent = 0
				extent_count = 1
				type = "striped"
				stripe_count = 1
				stripes = [
					"pv1", 64
				]
			}
		}

		pool_tdata {
			id = "Zz0Yy1-Xx2W-w3Vv-4Uu5-Tt6S-s7Rr-8Qq9Pu"
			status = ["READ", "WRITE"]
			flags = []
			segment_count = 1

			segment1 {
				start_extent = 0
				extent_count = 1024
				type = "striped"
				stripe_count = 1
				stripes = [
					"pv0", 64
				]
			}
		}
	}
}
EOF_LVM
printf 'vg{extent_size=8 physical_volumes{pv0{id="AbCdEf-GhIj-KlMn-OpQr-StUv-WxYz-012345" pe_start=1 pe_count=4}}logical_volumes{lv{segment1{start_extent=0 extent_count=4 type="striped" stripes=["pv0",0]}}}}' \
    >"$l/compact-one-line.txt"

# ---- regf: registry hives (tests/support/mkhive.py), filled by hivexregedit ----
# An empty 1.5 hive, and the small fixture merged into a 1.3 and a 1.5 hive
# (the full fixture of regf.sh grows to 11 MiB under hivex: the corpus replay
# covers big data, index roots and real hives instead).
mkdir -p "$out/regf"
mkhive=$(dirname "${BASH_SOURCE[0]}")/../tests/support/mkhive.py
if command -v python3 >/dev/null; then
    python3 -B "$mkhive" empty 5 "$out/regf/empty-1.5.hive"
    if command -v hivexregedit >/dev/null; then
        python3 -B "$mkhive" reg small "$work/small.reg"
        for minor in 3 5; do
            python3 -B "$mkhive" empty $minor "$out/regf/small-1.$minor.hive"
            hivexregedit --merge "$out/regf/small-1.$minor.hive" "$work/small.reg" ||
                { echo "make_seeds: hivexregedit failed" >&2; rm -f "$out/regf/small-1.$minor.hive"; }
        done
    else
        echo "make_seeds: hivexregedit not found: only the empty hive" >&2
    fi
else
    echo "make_seeds: python3 not found: no regf seeds" >&2
fi
echo "make_seeds: regf: $(find "$out/regf" -type f | wc -l) seeds"

# ---- initramfs and bzip2: small cpio archives (cpio -H newc, odc) compressed ----
# with each compressor the kernel knows, an early-microcode archive first,
# concatenations, and bzip2 streams of short inputs (runs, all byte values).
mkdir -p "$out/initramfs" "$out/bzip2"
if command -v cpio >/dev/null; then
    ir=$work/initramfs
    mkdir -p "$ir/tree/usr/lib/modules/6.1/kernel/drivers/block" "$ir/tree/etc" \
        "$ir/early/kernel/x86/microcode"
    echo virtio >"$ir/tree/usr/lib/modules/6.1/kernel/drivers/block/virtio_blk.ko"
    echo "127.0.0.1 localhost" >"$ir/tree/etc/hosts"
    ln -s usr/lib "$ir/tree/lib"
    printf 'microcode\n' >"$ir/early/kernel/x86/microcode/GenuineIntel.bin"
    (cd "$ir/tree" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$ir/main.cpio"
    (cd "$ir/tree" && find . | LC_ALL=C sort | cpio -o -H crc --quiet) >"$out/initramfs/crc.cpio"
    (cd "$ir/tree" && find . | LC_ALL=C sort | cpio -o -H odc --quiet) >"$out/initramfs/odc.cpio"
    (cd "$ir/early" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$ir/early.cpio"
    cp "$ir/main.cpio" "$out/initramfs/none.cpio"
    cat "$ir/early.cpio" "$ir/main.cpio" >"$out/initramfs/early-none.cpio"
    for c in "gzip -c" "xz -c --check=crc32 --lzma2=dict=64KiB" "lzma -c --lzma1=dict=64KiB" "zstd -q -c" \
        "lz4 -l -c" "lz4 -c" "bzip2 -c"; do
        tool=${c%% *}
        command -v "$tool" >/dev/null || continue
        name=$tool
        [ "$c" = "lz4 -c" ] && name=lz4-frame
        $c <"$ir/main.cpio" >"$out/initramfs/$name.img"
        { cat "$ir/early.cpio"; $c <"$ir/main.cpio"; } >"$out/initramfs/early-$name.img"
        { $c <"$ir/main.cpio"; printf '\0\0\0\0'; $c <"$ir/main.cpio"; } >"$out/initramfs/twice-$name.img"
    done
fi
if command -v bzip2 >/dev/null; then
    printf '' | bzip2 -c >"$out/bzip2/empty.bz2"
    printf 'aaaaabbbbbbbbcd\n' | bzip2 -1 -c >"$out/bzip2/runs.bz2"
    if command -v python3 >/dev/null; then
        python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 3 + b"x" * 300)' | bzip2 -9 -c \
            >"$out/bzip2/all-bytes.bz2"
    fi
    head -c 3000 /dev/zero | tr '\0' 'q' | bzip2 -c >"$out/bzip2/one-long-run.bz2"
fi

if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
    echo "make_seeds: qemu-img/qemu-io not found: only the raw seeds were made" >&2
    exit 0
fi

qio() { qemu-io -f "$1" "$2" "${@:3}" >/dev/null; }

# The guest content most seeds carry: patterned data in a few places of a
# 1 MiB disk, the rest zero, so that data, holes and boundaries all occur.
content=$work/content.raw
truncate -s 1M "$content"
qio raw "$content" -c 'write -P 0x11 0 4k' -c 'write -P 0x22 60k 8k' -c 'write -P 0x33 513k 1k' \
    -c 'write -P 0x44 1020k 4k'

# ---- qcow2 ----
q=$out/qcow2
mkqcow2() { # NAME CREATE-OPTIONS [QEMU-IO COMMANDS...]
    local name=$1 opts=$2
    shift 2
    qemu-img create -q -f qcow2 -o "$opts" "$q/$name.qcow2" 1M
    local cmds=()
    for c in "$@"; do cmds+=(-c "$c"); done
    [ ${#cmds[@]} -eq 0 ] || qio qcow2 "$q/$name.qcow2" "${cmds[@]}"
}
mkqcow2 v2-c512 compat=0.10,cluster_size=512 'write -P 0x11 0 4k' 'write -P 0x22 700k 1536'
mkqcow2 v2-c4k-empty compat=0.10,cluster_size=4k
mkqcow2 v3-c64k compat=1.1,cluster_size=64k 'write -P 0x11 0 4k' 'write -z 128k 64k'
mkqcow2 v3-c4k-zero compat=1.1,cluster_size=4k 'write -P 0x55 8k 8k' 'write -z 8k 4k' 'write -z -u 64k 4k'
mkqcow2 v3-c2k-refcount1-lazy compat=1.1,cluster_size=2k,refcount_bits=1,lazy_refcounts=on \
    'write -P 0x66 2k 6k'
mkqcow2 v3-c4k-refcount64 compat=1.1,cluster_size=4k,refcount_bits=64 'write -P 0x77 12k 4k'
mkqcow2 v3-c16k-extl2 compat=1.1,cluster_size=16k,extended_l2=on \
    'write -P 0x11 0 512' 'write -P 0x22 5k 1k' 'write -z 16k 2k' 'write -P 0x33 40k 16k'
mkqcow2 v3-c32k-extl2-zstd compat=1.1,cluster_size=32k,extended_l2=on,compression_type=zstd \
    'write -c -P 0x44 0 32k' 'write -P 0x55 33k 1k'
qemu-img convert -q -c -O qcow2 -o compat=1.1,cluster_size=4k,compression_type=zlib "$content" \
    "$q/v3-c4k-zlib.qcow2"
qemu-img convert -q -c -O qcow2 -o compat=1.1,cluster_size=8k,compression_type=zstd "$content" \
    "$q/v3-c8k-zstd.qcow2"
qemu-img convert -q -c -O qcow2 -o compat=0.10,cluster_size=1k "$content" "$q/v2-c1k-zlib.qcow2"
qemu-img create -q -f qcow2 -o compat=1.1,cluster_size=4k,preallocation=metadata \
    "$q/v3-c4k-prealloc-metadata.qcow2" 64k
qio qcow2 "$q/v3-c4k-prealloc-metadata.qcow2" -c 'write -P 0x12 16k 4k'
# A backing file: the seed keeps its name (and format) in the header.
qemu-img create -q -f raw "$work/base.raw" 1M
qemu-img create -q -f qcow2 -o compat=1.1,cluster_size=4k -b base.raw -F raw "$work/overlay.qcow2"
qio qcow2 "$work/overlay.qcow2" -c 'write -P 0x88 4k 4k'
cp "$work/overlay.qcow2" "$q/v3-c4k-backing.qcow2"
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4k -b base.raw -F raw "$work/overlay-v2.qcow2"
cp "$work/overlay-v2.qcow2" "$q/v2-c4k-backing.qcow2"
# An internal snapshot, taken between two writes.
mkqcow2 v3-c4k-snapshot compat=1.1,cluster_size=4k 'write -P 0x99 0 8k'
qemu-img snapshot -q -c before-write "$q/v3-c4k-snapshot.qcow2"
qio qcow2 "$q/v3-c4k-snapshot.qcow2" -c 'write -P 0xaa 4k 8k'
# An external data file: the seed carries its name.
# (qemu resolves a relative data_file name against its working directory.)
(cd "$work" && qemu-img create -q -f qcow2 -o compat=1.1,cluster_size=4k,data_file=data.raw datafile.qcow2 1M &&
    qio qcow2 datafile.qcow2 -c 'write -P 0xbb 0 4k')
cp "$work/datafile.qcow2" "$q/v3-c4k-datafile.qcow2"

# ---- vhd (qemu calls it vpc) ----
v=$out/vhd
qemu-img create -q -f vpc -o subformat=fixed,force_size=on "$work/fixed.vhd" 128k
qio vpc "$work/fixed.vhd" -c 'write -P 0x11 0 4k' -c 'write -P 0x22 120k 8k'
cp "$work/fixed.vhd" "$v/fixed-128k.vhd"
qemu-img create -q -f vpc -o subformat=dynamic "$v/dynamic-empty-4m.vhd" 4M
qemu-img create -q -f vpc -o subformat=dynamic,force_size=on "$v/dynamic-empty-forcesize.vhd" 3M
qemu-img convert -q -O vpc -o subformat=dynamic "$content" "$v/dynamic-data-1m.vhd"

# ---- vmdk ----
k=$out/vmdk
qemu-img convert -q -O vmdk -o subformat=monolithicSparse "$content" "$k/monolithicSparse.vmdk"
qemu-img create -q -f vmdk -o subformat=monolithicSparse,zeroed_grain=on,adapter_type=lsilogic \
    "$k/monolithicSparse-zeroed-grain.vmdk" 2M
qio vmdk "$k/monolithicSparse-zeroed-grain.vmdk" -c 'write -P 0x33 64k 64k' -c 'write -z 0 64k'
qemu-img convert -q -O vmdk -o subformat=monolithicSparse,compat6=on "$content" "$k/monolithicSparse-v6.vmdk"
qemu-img convert -q -O vmdk -o subformat=streamOptimized "$content" "$k/streamOptimized.vmdk"
qemu-img create -q -f vmdk -o subformat=streamOptimized "$k/streamOptimized-empty.vmdk" 4M
# Descriptor-plus-extents kinds: the seed is the descriptor (its extents cannot follow a memory input).
for sub in monolithicFlat twoGbMaxExtentSparse twoGbMaxExtentFlat; do
    qemu-img create -q -f vmdk -o subformat=$sub "$work/$sub.vmdk" 1M
    cp "$work/$sub.vmdk" "$k/$sub-descriptor.vmdk"
    cp "$work/$sub.vmdk" "$out/vmdk_desc/$sub.txt"
done
cp "$k/monolithicSparse.vmdk" "$work/parent.vmdk"
qemu-img create -q -f vmdk -o subformat=monolithicSparse -b parent.vmdk -F vmdk "$work/child.vmdk" 1M
qio vmdk "$work/child.vmdk" -c 'write -P 0xcc 128k 64k'
cp "$work/child.vmdk" "$k/monolithicSparse-child.vmdk"
# Embedded descriptors: the text qemu puts in sector 1 of a sparse extent.
for f in monolithicSparse monolithicSparse-child streamOptimized; do
    dd if="$k/$f.vmdk" bs=512 skip=1 count=20 status=none | tr -d '\000' >"$out/vmdk_desc/embedded-$f.txt"
done

# ---- textparse and check: a generated Linux root (make_os_tree.py) ----
# textparse gets its text files (os-release, fstab, grub.cfg, grubenv, BLS
# entries, kernel config, module lists, dpkg status) and an ELF header; check
# gets small disks holding such roots (ext4 on MBR; raw and qcow2).
mkdir -p "$out/textparse" "$out/check"
gen=$(dirname "${BASH_SOURCE[0]}")/../tests/integration/make_os_tree.py
py=/usr/bin/python3
[ -x "$py" ] || py=python3
if command -v "$py" >/dev/null && command -v cpio >/dev/null && command -v mkfs.ext4 >/dev/null; then
    for profile in debian12 centos7 centos8 centos6 sles11 fcos; do
        t=$work/os-$profile
        if ROOT_UUID=6a1f0c3e-4b1d-4c55-9d2e-0123456789ab "$py" "$gen" "$t" "$profile" 2>/dev/null; then
            find "$t" -type f \( -name '*release*' -o -name fstab -o -name 'grub.c*' -o -name grubenv \
                -o -name '*.conf' -o -name 'config*' -o -name 'modules.*' -o -name status -o -name menu.lst \
                -o -name network -o -name grub \) -size -64k | while read -r f; do
                cp "$f" "$out/textparse/$profile-$(basename "$f")"
            done
            head -c 64 /bin/sh >"$out/textparse/elf-sh"
            # the kernel images are random bytes: make them small so the seeds stay small
            find "$t" -name 'vmlinuz-*' -exec truncate -s 4k {} \;
            if mkfs.ext4 -q -F -b 1024 -N 256 -d "$t" "$work/$profile.fs" 6M 2>/dev/null; then
                { echo 'label: dos'; echo 'start=2048, type=83'; } >"$work/sfd"
                truncate -s 8M "$work/$profile.raw"
                sfdisk -q "$work/$profile.raw" <"$work/sfd" 2>/dev/null &&
                    dd if="$work/$profile.fs" of="$work/$profile.raw" bs=512 seek=2048 conv=notrunc status=none &&
                    cp "$work/$profile.raw" "$out/check/$profile-mbr.raw"
                [ "$profile" = debian12 ] && command -v qemu-img >/dev/null &&
                    qemu-img convert -O qcow2 "$work/$profile.raw" "$out/check/$profile-mbr.qcow2"
                # and in 4 KiB clusters, about 160 KiB: whole within a fuzzer's -max_len, where
                # the 8 MiB raw disks are cut before their filesystem
                command -v qemu-img >/dev/null &&
                    qemu-img convert -O qcow2 -o cluster_size=4096 "$work/$profile.raw" "$out/check/$profile-mbr-c4k.qcow2"
                [ "$profile" = centos6 ] && cp "$work/$profile.fs" "$out/check/$profile-whole.raw"
            fi
        fi
    done
fi

# ---- check: a Windows system volume (make_win_tree.py: hives, cmd.exe, drivers) ----
# on NTFS in partition 1 of an MBR disk (raw and qcow2), when libntfs-3g and hivex are there
wgen=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/integration" && pwd)
if command -v "$py" >/dev/null && command -v mkntfs >/dev/null && command -v hivexregedit >/dev/null &&
    command -v cc >/dev/null && pkg-config --exists libntfs-3g 2>/dev/null; then
    w=$work/win
    mkdir -p "$w"
    # shellcheck disable=SC2046
    if cc -O1 -o "$w/gen" "$wgen/ntfs_gen.c" $(pkg-config --cflags --libs libntfs-3g) 2>/dev/null &&
        (cd "$w" && "$py" "$wgen/make_win_tree.py" ws2019 mounted=C=mbr:0x1badcafe:1048576) &&
        truncate -s 4M "$w/fs" && mkntfs -q -F -f "$w/fs" >/dev/null 2>&1 && (cd "$w" && ./gen fs <ws2019.cmds); then
        truncate -s 6M "$w/disk.raw"
        printf 'label: dos\nlabel-id: 0x1badcafe\nstart=2048, size=8192, type=7\n' | sfdisk -q "$w/disk.raw" 2>/dev/null &&
            dd if="$w/fs" of="$w/disk.raw" bs=512 seek=2048 conv=notrunc status=none &&
            cp "$w/disk.raw" "$out/check/windows-mbr.raw"
        command -v qemu-img >/dev/null && [ -f "$out/check/windows-mbr.raw" ] &&
            qemu-img convert -O qcow2 "$w/disk.raw" "$out/check/windows-mbr.qcow2"
    fi
fi

# ---- probe: every seed, since detection comes first there ----
for t in qcow2 vhd vmdk vmdk_desc; do
    cp "$out/$t"/* "$out/probe/"
done

for t in "${targets[@]}"; do
    n=$(find "$out/$t" -type f | wc -l)
    echo "make_seeds: $t: $n seeds"
done
