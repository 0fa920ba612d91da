#!/bin/bash
# Build the fuzz targets the way OSS-Fuzz does (https://google.github.io/oss-fuzz/):
# the library with meson (static, no tests) compiled with $CC $CFLAGS, each
# harness linked with $LIB_FUZZING_ENGINE, and into $OUT:
#
#   $OUT/<target>                  the fuzzer: probe qcow2 vhd vmdk (fuzz_image.c) and
#                                  one per other fuzz/fuzz_<target>.c
#   $OUT/<target>.dict             its dictionary (fuzz/dict/)
#   $OUT/<target>_seed_corpus.zip  seeds made by make_seeds.sh + fuzz/regress/<target>/
#
# Environment (OSS-Fuzz sets all of them): CC, CXX, CFLAGS, CXXFLAGS,
# LIB_FUZZING_ENGINE, OUT, SRC, WORK. Outside OSS-Fuzz, for example:
#
#   CC=clang CXX=clang++ CFLAGS="-fsanitize=address,undefined -fsanitize=fuzzer-no-link" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out fuzz/build.sh
#
# Needs meson, ninja, pkg-config, zlib, libzstd, liblzma and liblz4 (static
# archives are used when present, so the fuzzers run without them), zip, and
# for the seeds the tools make_seeds.sh uses (qemu-img/qemu-io, sfdisk,
# mke2fs, mkfs.xfs, mkntfs, cpio and the compressors...; oss-fuzz/Dockerfile
# lists them): a missing tool only leaves its seeds out.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${CC:=clang}" "${CXX:=clang++}" "${CFLAGS:=}" "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${CXXFLAGS:=$CFLAGS}"
: "${OUT:?set OUT to the directory that receives the fuzzers}"
: "${SRC:=$(dirname "$root")}"
: "${WORK:=$(mktemp -d "${TMPDIR:-/tmp}/imgprobe-fuzz-work.XXXXXX")}"
export CC CXX CFLAGS CXXFLAGS
mkdir -p "$OUT" "$WORK"
for tool in meson ninja zip; do
    command -v "$tool" >/dev/null || { echo "build.sh: $tool is required" >&2; exit 1; }
done

# ---- the library: the internal static archive (every format, no CLI, no tests) ----
build=$WORK/imgprobe-build
rm -rf "$build"
meson setup "$build" "$root" --buildtype=plain -Ddefault_library=static -Dtests=disabled \
    -Db_lundef=false >"$WORK/meson-setup.log" || { cat "$WORK/meson-setup.log" >&2; exit 1; }
ninja -C "$build" libimgprobe_internal.a

# The libraries the library links (meson.build's lib_deps), static when their
# archives exist so that the fuzzers run on a machine without them: pkg-config
# name and library name.
deps=()
for dep in zlib:z libzstd:zstd liblzma:lzma liblz4:lz4; do
    pc=${dep%%:*} lib=${dep#*:} archive=
    for dir in $(pkg-config --variable=libdir "$pc" 2>/dev/null) /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do
        if [ -f "$dir/lib$lib.a" ]; then
            archive=$dir/lib$lib.a
            break
        fi
    done
    deps+=("${archive:--l$lib}")
done

# ---- the harnesses ----
# fuzz_image.c serves probe and the forced formats; every other fuzz_<name>.c is target <name>.
targets=(probe qcow2 vhd vmdk)
for f in "$root"/fuzz/fuzz_*.c; do
    name=$(basename "$f" .c)
    name=${name#fuzz_}
    [ "$name" = image ] || targets+=("$name")
done

harness_source() { case $1 in probe | qcow2 | vhd | vmdk) echo fuzz_image.c ;; *) echo "fuzz_$1.c" ;; esac; }
harness_defines() { case $1 in qcow2 | vhd | vmdk) echo "-DFUZZ_FORMAT=\"$1\"" ;; esac; }
harness_dict() { # TARGET: its dictionary, or nothing
    if [ -f "$root/fuzz/dict/$1.dict" ]; then
        echo "$root/fuzz/dict/$1.dict"
    elif [ -f "$root/fuzz/dict/${1%%_*}.dict" ]; then
        echo "$root/fuzz/dict/${1%%_*}.dict" # vmdk_desc: vmdk.dict
    fi
}

# IMGPROBE_FUZZ_SEEDS: seeds make_seeds.sh has already written (.ci/run passes
# the ones its meson test run made); otherwise they are made here.
seeds=${IMGPROBE_FUZZ_SEEDS:-$WORK/seeds}
[ -n "${IMGPROBE_FUZZ_SEEDS:-}" ] || bash "$root/fuzz/make_seeds.sh" "$seeds"

for t in "${targets[@]}"; do
    obj=$WORK/fuzz-$t.o
    # shellcheck disable=SC2046 # harness_defines yields zero or one word
    $CC $CFLAGS -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I"$root/include" -I"$root/src" \
        $(harness_defines "$t") -c "$root/fuzz/$(harness_source "$t")" -o "$obj"
    $CXX $CXXFLAGS "$obj" "$build/libimgprobe_internal.a" $LIB_FUZZING_ENGINE "${deps[@]}" -o "$OUT/$t"
    dict=$(harness_dict "$t")
    if [ -n "$dict" ]; then
        cp "$dict" "$OUT/$t.dict"
    else
        echo "build.sh: warning: $t has no dictionary (fuzz/dict/$t.dict)" >&2
    fi

    # Seed corpus: generated seeds and the committed regression inputs, flat.
    stage=$WORK/stage-$t
    rm -rf "$stage"
    mkdir -p "$stage"
    for f in "$seeds/$t"/* "$root/fuzz/regress/$t"/*; do
        [ -f "$f" ] || continue
        case $f in "$seeds"/*) prefix=seed ;; *) prefix=regress ;; esac
        cp "$f" "$stage/$prefix-$(basename "$f")"
    done
    rm -f "$OUT/${t}_seed_corpus.zip"
    (cd "$stage" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
    echo "build.sh: $OUT/$t ($(find "$stage" -type f | wc -l) seeds)"
done
