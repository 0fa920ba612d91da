#!/bin/bash
# Long libFuzzer runs, one target after another, with a record of each.
#
# Each target starts from its seeds (BUILD/fuzz/seeds/<target>), its
# regression inputs (fuzz/regress/<target>) and the real corpus inputs the
# replay tests use (BUILD/fuzz/corpus/<category>, when present), with its
# dictionary. New inputs and any crash go to OUTDIR/<target>/; one line per
# run is appended to OUTDIR/results.tsv:
#
#   target  commit  seconds  execs  cov  ft  corpus  outcome
#
# (seconds: how long it really ran, which a finding cuts short)
#
# so that fuzz/README.md's table can be written from it. A unit is a
# timeout after FUZZ_TIMEOUT seconds (60): the runs are meant to be niced
# beside other work, where a 10 s stall can be the scheduler, not a hang;
# replay a timeout alone before believing it. A run that ends in
# a crash, leak, timeout or out-of-memory keeps its artifact in
# OUTDIR/<target>/ and says so in the outcome column; the campaign goes on
# with the next target.
#
# usage: campaign.sh BUILD OUTDIR SECONDS TARGET...
#   BUILD  a build directory configured with -Dfuzzing=true (clang, ASan+UBSan)
#   e.g.   fuzz/campaign.sh build-fuzz /tmp/campaign 1800 check ntfs xfs
set -uo pipefail

if [ $# -lt 4 ]; then
    echo "usage: $0 BUILD OUTDIR SECONDS TARGET..." >&2
    exit 2
fi
build=$1 out=$2 seconds=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
mkdir -p "$out"

# The corpus categories each target's replay test reads (fuzz/meson.build).
corpus_categories() {
    case $1 in
        probe|qcow2|vhd|vmdk) echo "qcow2 vhd vmdk vdi vhdx" ;;
        volumes|content|check) echo "raw-partitioned" ;;
        ext4) echo "ext broken" ;;
        xfs) echo "xfs" ;;
        ntfs) echo "ntfs" ;;
        regf) echo "regf" ;;
    esac
}

dict_for() {
    local d
    for d in "$here/dict/$1.dict" "$here/dict/${1%%_*}.dict"; do
        [ -f "$d" ] && { echo "-dict=$d"; return; }
    done
}

for t in "$@"; do
    exe=$build/fuzz/fuzz-$t
    if [ ! -x "$exe" ]; then
        echo "campaign: no $exe" >&2
        continue
    fi
    run=$out/$t
    mkdir -p "$run/corpus"
    inputs=("$run/corpus")
    [ -d "$build/fuzz/seeds/$t" ] && inputs+=("$build/fuzz/seeds/$t")
    [ -d "$here/regress/$t" ] && inputs+=("$here/regress/$t")
    for c in $(corpus_categories "$t"); do
        [ -d "$build/fuzz/corpus/$c" ] && inputs+=("$build/fuzz/corpus/$c")
    done
    max_len=262144
    [ "$t" = check ] && max_len=1048576
    echo "campaign: $t for ${seconds}s from ${inputs[*]}"
    # -dict is optional; $(dict_for) is empty when there is none.
    # shellcheck disable=SC2046
    began=$(date +%s)
    "$exe" -max_total_time="$seconds" -max_len="$max_len" -timeout="${FUZZ_TIMEOUT:-60}" \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$run/" \
        $(dict_for "$t") "${inputs[@]}" > "$run/log" 2>&1
    status=$?
    ran=$(($(date +%s) - began))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$run/log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$run/log" | tail -1 | cut -d' ' -f2)
    units=$(find "$run/corpus" -type f | wc -l)
    outcome=clean
    if [ $status -ne 0 ]; then
        outcome="exit $status: $(ls "$run" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | tr '\n' ' ')"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$commit" "$ran" "${execs:-?}" \
        "${cov:-?}" "${ft:-?}" "$units" "$outcome" >> "$out/results.tsv"
    echo "campaign: $t: $outcome"
done
