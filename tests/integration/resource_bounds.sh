#!/bin/bash
# Resource bounds: small crafted inputs that claim huge structures (an L1
# table of 2^31 entries, a grain directory of 2^32 entries, 2^32 GPT entries,
# 2^32 ext4 groups, an LVM metadata area and text of 1 TiB, a directory of
# 10^7 entries, decompression bombs in a qcow2 cluster and an initramfs, ...:
# make_hostile.py writes them) each end with a clear error or a bounded
# result, in bounded time and memory (docs/limits.md lists every limit).
#
# Each input goes through `imgprobe info`, `check --json`, `measure`, and for
# a filesystem `ls -R` (and `cat` of the file whose mapping is hostile), under
# GNU time and `timeout 20`. Asserted for each run:
#   - a clean exit status (0, 1 or 2: no signal, no timeout) and no sanitizer
#     report on stderr;
#   - the output or the error names the structure (a pattern per run);
#   - peak RSS under 256 MiB;
#   - CPU time (user + system) under 1 s.
# CPU time rather than elapsed time: these runs are single-threaded and do
# no blocking I/O worth the name (the files are small or sparse), so on an
# idle machine elapsed equals CPU time; on a loaded one (CI runners, this
# machine's 2 shared cores) elapsed time measures the other processes. The
# elapsed time is printed and bounded by the timeout.
#
# Under ASan+UBSan (detected from the binary: libasan linked, or the
# __asan_init symbol) the CPU bound is 3 s: instrumented code runs 2-5 times
# slower, and the honest worst case here, ls -R listing the 10^6 entries the
# dir_entries limit lets through (0.6 s plain), takes 1.3 s. The memory
# bound stays: ASan's shadow, allocator metadata and quarantine of freed
# blocks bring that same run from 54 MiB to 124 MiB, still under 256 MiB.
# The figures of both builds are in docs/limits.md.
set -uo pipefail
: "${IMGPROBE:?IMGPROBE must name the imgprobe binary}" "${SRCDIR:?}"
skip() { echo "skip: $*"; exit 77; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
command -v "$PY" >/dev/null || skip "python3 is not installed"
[ -x /usr/bin/time ] || skip "GNU time (/usr/bin/time) is not installed"
command -v timeout >/dev/null || skip "timeout is not installed"

T=$(mktemp -d "${TMPDIR:-/tmp}/resource_bounds.XXXXXX")
trap 'rm -rf "$T"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# ---- the build under test, and its bounds ----
MAX_RSS_KIB=$((256 * 1024))
MAX_CPU_CS=100 # centiseconds
build=plain
# (whole outputs, not `| grep -q`: under pipefail grep's early exit makes ldd's SIGPIPE the status)
linked=$(ldd "$IMGPROBE" 2>/dev/null) || true
symbols=$(nm "$IMGPROBE" 2>/dev/null) || true
if [[ $linked == *libasan* || $symbols == *" __asan_init"* ]]; then
    build=asan
    MAX_CPU_CS=300 # what the instrumentation costs (see above), not the input
fi
printf 'build: %s (peak RSS < %d MiB, CPU < %d.%02d s)\n' "$build" $((MAX_RSS_KIB / 1024)) $((MAX_CPU_CS / 100)) \
    $((MAX_CPU_CS % 100))

# ---- the inputs ----
if ! "$PY" "$SRCDIR/tests/integration/make_hostile.py" "$T" >"$T/made" 2>"$T/make.err"; then
    cat "$T/make.err"
    echo "FAIL: make_hostile.py failed"
    exit 1
fi
grep '^skip' "$T/make.err" || true
cd "$T"

# bounded NAME WHAT PATTERN CMD...: run CMD under the bounds; its stdout and
# stderr together must match the extended regular expression PATTERN.
bounded() {
    local name=$1 what=$2 pattern=$3
    shift 3
    local out="$T/out" err="$T/err" tm="$T/time" rc
    /usr/bin/time -f '%e %U %S %M' -o "$tm" timeout 20 "$@" >"$out" 2>"$err"
    rc=$?
    # GNU time notes a non-zero status on its first line; the figures are on the last
    local el us sy rss
    read -r el us sy rss < <(tail -1 "$tm")
    local cpu_cs
    cpu_cs=$(awk -v u="$us" -v s="$sy" 'BEGIN { printf "%d", (u + s) * 100 + 0.5 }')
    printf '%-28s %-8s rc=%d elapsed=%ss cpu=%d.%02ds rss=%dMiB\n' "$name" "$what" "$rc" "$el" \
        $((cpu_cs / 100)) $((cpu_cs % 100)) $((rss / 1024))
    echo "$name $what $el $cpu_cs $rss" >>"$T/figures"
    case $rc in
    0 | 1 | 2) ;;
    124) fail "$name $what: killed after 20 s" ;;
    *) fail "$name $what: exit status $rc (a signal or a crash): $(tail -3 "$err")" ;;
    esac
    if grep -qE 'Sanitizer|runtime error:' "$err"; then
        fail "$name $what: sanitizer report"
        head -30 "$err"
    fi
    if ! grep -qE -- "$pattern" "$out" "$err"; then
        fail "$name $what: no /$pattern/ in the output: $(head -c 300 "$err") $(head -c 300 "$out")"
    fi
    [ "$rss" -lt "$MAX_RSS_KIB" ] || fail "$name $what: peak RSS $rss KiB (bound $MAX_RSS_KIB KiB)"
    [ "$cpu_cs" -lt "$MAX_CPU_CS" ] || fail "$name $what: CPU time $(printf '%d.%02d' $((cpu_cs / 100)) $((cpu_cs % 100))) s"
}

made() { grep -qx "$1" "$T/made"; }

# image NAME INFO_PATTERN CHECK_PATTERN: info, check --json and measure on an
# image (measure fails as info does, or measures)
image() {
    made "$1" || return 0
    bounded "$1" info "$2" "$IMGPROBE" info "$1"
    bounded "$1" check "$3" "$IMGPROBE" check --json "$1"
    bounded "$1" measure "^required size: |$2" "$IMGPROBE" measure "$1"
}

# filesystem NAME INFO CHECK LS [FILE CAT]: the same, then ls -R / (and cat FILE)
filesystem() {
    made "$1" || return 0
    image "$1" "$2" "$3"
    bounded "$1" ls "$4" "$IMGPROBE" ls -R "$1" /
    [ $# -lt 6 ] || bounded "$1" cat "$6" "$IMGPROBE" cat "$1" "$5"
}

LIMIT_TABLE='exceeds the table limit \(67108864 bytes\)'

# ---- image formats ----
image qcow2_l1_2e31.qcow2 "L1 table of 2147483648 entries .* $LIMIT_TABLE" "L1 table of 2147483648 entries"
# refcounts are not needed to read: the table is never read, whatever it claims
image qcow2_refcount_table_huge.qcow2 'file format: qcow2' '"format": "qcow2"'
image qcow2_snapshots_2e31.qcow2 '2147483648 internal snapshots exceed the limit of 65536' \
    '2147483648 internal snapshots exceed the limit'
# two images of 48 MiB of L1 each: the table limit is the chain's, the backing file gets 16 MiB
image qcow2_chain_l1_48m.qcow2 "backing file 'qcow2_chain_l1_48m.base.qcow2': qcow2: L1 table of 6291456 entries .* exceeds the table limit \(16777216 bytes\)" \
    'L1 table of 6291456 entries'
# a compressed cluster inflates to one cluster and no further, as qemu reads it
for b in zlib zstd; do
    made qcow2_${b}_bomb.qcow2 || continue
    image qcow2_${b}_bomb.qcow2 "compression type: $b" '"format": "qcow2"'
    bounded qcow2_${b}_bomb.qcow2 dump '' "$IMGPROBE" dump qcow2_${b}_bomb.qcow2
    [ "$(stat -c %s "$T/out")" = 1048576 ] && cmp -s -n 65536 "$T/out" /dev/zero ||
        fail "qcow2_${b}_bomb.qcow2: dump is not the 1 MiB disk whose first cluster is zeros"
done
image vmdk_gd_2e32.vmdk "grain directory of 4294967296 entries .* $LIMIT_TABLE" 'grain directory of 4294967296 entries'
image vmdk_desc_2e40.vmdk 'embedded descriptor of 1099511627776 sectors exceeds the descriptor limit' \
    'embedded descriptor of 1099511627776 sectors'
image vmdk_descfile_4g.vmdk 'descriptor of 4294967296 bytes exceeds the descriptor limit' \
    'descriptor of 4294967296 bytes'
image vhd_bat_2e32.vhd "block allocation table of 4278190080 entries .* $LIMIT_TABLE" \
    'block allocation table of 4278190080 entries'

# ---- partitions and volumes ----
image gpt_entries_2e32.img "partition entry array of 4294967295 entries of 128 bytes .* exceeds the table limit" \
    'partition entry array of 4294967295 entries'
image gpt_entry_size_2e31.img 'partition entry size 2147483648' 'partition entry size 2147483648'
# a 1 TiB metadata area holding a short text: only the text is read
image lvm_mda_1t.img 'Whole disk: lvm2_member' '"content": "lvm2_member"'
image lvm_text_1t.img '1099511626752 bytes of text exceed the limit of 16777216 \(lvm_metadata\)' \
    '1099511626752 bytes of text exceed the limit'

# ---- filesystems ----
filesystem ext4_groups_2e32m1.img 'ext4' '4294967295 block groups need 274877906880 bytes of group descriptors' \
    '4294967295 block groups need 274877906880 bytes of group descriptors'
filesystem ext4_groups_2e32.img 'ext4' '4294967296 block groups' '4294967296 block groups'
# 1 TiB of directory with one block mapped: the holes are not walked one by one
filesystem ext4_dir_isize_2e40.img 'ext4' 'ext4' '^inner$'
filesystem ext4_extent_depth_65535.img 'ext4' 'ext4' '^file$' /file 'extent tree depth 65535 exceeds'
# 10^7 entries: the listing stops at the limit, its 10^6 entries printed
filesystem ext4_dir_1e7.img 'ext4' 'ext4' 'directory inode [0-9]+ has more than 1000000 entries'
if made ext4_dir_1e7.img; then
    n=$(grep -c '^0[0-9][0-9][0-9]$' "$T/out")
    [ "$n" = 1000000 ] || fail "ext4_dir_1e7.img: ls -R listed $n entries of the directory before the limit, not 1000000"
fi
filesystem xfs_bmbt_level_200.img 'xfs' 'xfs' '^file$' /file 'B\+tree level 200'
filesystem ntfs_record_2e31.img 'ntfs' 'records of 2147483648 bytes' 'records of 2147483648 bytes'
filesystem ntfs_mft_runs_2e40.img 'ntfs' 'clusters 4\.\.\+268435456 lie outside the volume' \
    'clusters 4\.\.\+268435456 lie outside the volume'

# ---- registry hives and initramfs, through the library's readers ----
if [ -n "${REGDUMP:-}" ] && [ -x "$REGDUMP" ]; then
    made regf_hbin_2g.hive && bounded regf_hbin_2g.hive regdump 'hive bin at 0x1000 has size 0x7ffff000' "$REGDUMP" --info regf_hbin_2g.hive
    made regf_bins_4g.hive && bounded regf_bins_4g.hive regdump 'hive bins data of 0xfffff000 bytes runs past the end' "$REGDUMP" --info regf_bins_4g.hive
fi
if [ -n "${CPIOLIST:-}" ] && [ -x "$CPIOLIST" ] && made initramfs_zstd_1g.img; then
    bounded initramfs_zstd_1g.img cpiolist '\(limit decompressed\)' "$CPIOLIST" initramfs_zstd_1g.img
fi
# the same bomb as the initramfs of a Debian guest (check_linux.sh's hostile fixture)
image linux_initramfs_bomb.qcow2 'file format: qcow2' 'could not be read'

# ---- the limits are the context's: --limit sets them ----
if made ext4_dir_1e7.img; then
    bounded ext4_dir_1e7.img ls-limit 'directory inode [0-9]+ has more than 1000 entries' \
        "$IMGPROBE" --limit dir-entries=1000 ls -R ext4_dir_1e7.img /
    n=$(grep -c '^0[0-9][0-9][0-9]$' "$T/out")
    [ "$n" = 1000 ] || fail "ext4_dir_1e7.img: --limit dir-entries=1000: ls -R listed $n entries, not 1000"
fi
if made qcow2_chain_l1_48m.qcow2; then
    bounded qcow2_chain_l1_48m.qcow2 info-limit 'L1 table of 6291456 entries \(50331648 bytes\) exceeds the table limit \(8388608 bytes\)' \
        "$IMGPROBE" --limit=table_bytes=8M info qcow2_chain_l1_48m.qcow2
fi
made qcow2_l1_2e31.qcow2 &&
    bounded qcow2_l1_2e31.qcow2 bad-limit "unknown limit 'table-size'" "$IMGPROBE" --limit table-size=1M info qcow2_l1_2e31.qcow2

[ -s "$T/figures" ] || fail "no input was made"
if [ "$failures" -gt 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "ok: $(wc -l <"$T/figures") bounded runs"
