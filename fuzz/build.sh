#!/bin/bash
# Build the fuzz targets the way OSS-Fuzz does (https://google.github.io/oss-fuzz/):
# the library with meson (static, no tests) compiled with $CC $CFLAGS, each
# harness linked with $LIB_FUZZING_ENGINE, and into $OUT:
#
#   $OUT/<target>                  the fuzzer (probe qcow2 vhd vmdk [vmdk_desc])
#   $OUT/<target>.dict             its dictionary (fuzz/dict/)
#   $OUT/<target>_seed_corpus.zip  seeds made by make_seeds.sh + fuzz/regress/<target>/
#
# Environment (OSS-Fuzz sets all of them): CC, CXX, CFLAGS, CXXFLAGS,
# LIB_FUZZING_ENGINE, OUT, SRC, WORK. Outside OSS-Fuzz, for example:
#
#   CC=clang CXX=clang++ CFLAGS="-fsanitize=address,undefined -fsanitize=fuzzer-no-link" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out fuzz/build.sh
#
# Needs meson, ninja, pkg-config, zlib and libzstd (static archives are used
# when present, so the fuzzers run without them), zip, and qemu-img/qemu-io
# for the seeds (without them the seed corpora hold the raw seed and the
# regression inputs only).
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

# zlib and zstd, static when the archives exist.
deps=()
for lib in z zstd; do
    archive=
    for dir in $(pkg-config --variable=libdir "$([ $lib = z ] && echo zlib || echo libzstd)" 2>/dev/null) \
        /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do
        if [ -f "$dir/lib$lib.a" ]; then
            archive=$dir/lib$lib.a
            break
        fi
    done
    deps+=("${archive:--l$lib}")
done

# ---- the harnesses: [name]=source and the format it forces ----
targets=(probe qcow2 vhd vmdk)
[ -f "$root/fuzz/fuzz_vmdk_desc.c" ] && targets+=(vmdk_desc)

harness_source() { [ "$1" = vmdk_desc ] && echo fuzz_vmdk_desc.c || echo fuzz_image.c; }
harness_defines() { case $1 in qcow2 | vhd | vmdk) echo "-DFUZZ_FORMAT=\"$1\"" ;; esac; }
harness_dict() { [ "$1" = vmdk_desc ] && echo vmdk || echo "$1"; }

seeds=$WORK/seeds
bash "$root/fuzz/make_seeds.sh" "$seeds"

for t in "${targets[@]}"; do
    obj=$WORK/fuzz-$t.o
    # shellcheck disable=SC2046 # harness_defines yields zero or one word
    $CC $CFLAGS -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I"$root/include" -I"$root/src" \
        $(harness_defines "$t") -c "$root/fuzz/$(harness_source "$t")" -o "$obj"
    $CXX $CXXFLAGS "$obj" "$build/libimgprobe_internal.a" $LIB_FUZZING_ENGINE "${deps[@]}" -o "$OUT/$t"
    cp "$root/fuzz/dict/$(harness_dict "$t").dict" "$OUT/$t.dict"

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
