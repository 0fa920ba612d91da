#!/bin/bash
# Decompress the real corpus (../shared/corpus, see its README.md) into
# OUTDIR/<category>/ (qcow2 vhd vmdk raw-partitioned ext xfs broken ...: every
# directory of the corpus) so that the fuzz harnesses can replay it; each
# meson test replays the categories its parser reads.
#
# Files whose content is larger than 32 MiB are left out (a harness gets its
# input whole in memory, several targets run at once, and this stays a few
# hundred MiB); the integration tests read those through files. The corpus
# stays untouched; a missing corpus gives an empty OUTDIR (the replay tests
# then report themselves skipped).
#
# usage: corpus_inputs.sh CORPUS OUTDIR
set -euo pipefail
shopt -s extglob

if [ $# -ne 2 ]; then
    echo "usage: $0 CORPUS OUTDIR" >&2
    exit 2
fi
corpus=$1
out=$2
max_bytes=$((32 << 20))
rm -rf "$out"
mkdir -p "$out"
if [ ! -d "$corpus" ]; then
    echo "corpus_inputs: no corpus at $corpus: nothing to replay"
    exit 0
fi

# decompress FILE: the content on stdout.
decompress() {
    case $1 in
    *.gz) gzip -dc -- "$1" ;;
    *.bz2) bzip2 -dc -- "$1" ;;
    *.xz) xz -dc -- "$1" ;;
    *.zst) zstd -dcq -- "$1" ;;
    *.zip) unzip -p -- "$1" ;;
    *) cat -- "$1" ;;
    esac
}

kept=0 skipped=0
for dir in "$corpus"/*/; do
    category=$(basename "$dir")
    while IFS= read -r -d '' f; do
        rel=${f#"$corpus/$category/"}
        # Flat per category (broken/dfvfs-vhd-pair/image.vhd -> broken/dfvfs-vhd-pair_image.vhd):
        # replay descends one directory level only.
        rel=${rel//\//_}
        dest=$out/$category/${rel%.@(gz|bz2|xz|zst|zip)}
        mkdir -p "$out/$category"
        # Stop reading one byte past the cap; the decompressor may then die of SIGPIPE.
        decompress "$f" 2>/dev/null | head -c $((max_bytes + 1)) >"$dest" || true
        size=$(stat -c %s "$dest")
        if [ "$size" -gt "$max_bytes" ] || [ "$size" -eq 0 ]; then
            echo "corpus_inputs: left out $category/$rel (over 32 MiB, empty, or no decompressor)"
            rm -f "$dest"
            skipped=$((skipped + 1))
        else
            kept=$((kept + 1))
        fi
    done < <(find "$corpus/$category" -type f -print0 | sort -z)
done
echo "corpus_inputs: $kept inputs, $skipped left out"
