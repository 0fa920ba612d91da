"""The corpus's files as the tests read them (corpus_formats.sh,
corpus_broken.sh, partitions.sh): compressed ones (.bz2, .gz, .xz, .zst, the
first member of a .zip) decompressed, never in place, with runs of zeros left
as holes since many images are mostly zeros; anything else copied."""
import bz2, gzip, lzma, os, shutil, subprocess, zipfile

_OPENERS = {".bz2": bz2.open, ".gz": gzip.open, ".xz": lzma.open}
_CHUNK = 1 << 16


def copy_sparse(fi, path):
    """Copy stream fi to path, leaving 64 KiB runs of zeros as holes."""
    zero = bytes(_CHUNK)
    size = 0
    with open(path, "wb") as fo:
        while True:
            b = fi.read(_CHUNK)
            if not b:
                break
            if b == zero[: len(b)]:
                fo.seek(len(b), 1)
            else:
                fo.write(b)
            size += len(b)
        fo.truncate(size)


def decompress(src, dst):
    """Decompress (or copy) corpus file src to dst, by src's suffix."""
    ext = os.path.splitext(src)[1]
    if ext in _OPENERS:
        with _OPENERS[ext](src) as fi:
            copy_sparse(fi, dst)
    elif ext == ".zst":
        p = subprocess.Popen(["zstd", "-dcq", "--", src], stdout=subprocess.PIPE)
        copy_sparse(p.stdout, dst)
        if p.wait() != 0:
            raise RuntimeError(f"zstd -d {src} failed")
    elif ext == ".zip":
        with zipfile.ZipFile(src) as z, z.open(z.namelist()[0]) as fi:
            copy_sparse(fi, dst)
    else:
        shutil.copyfile(src, dst)


def unpack(corpus, tmp, rel):
    """Corpus file rel (a path under corpus) decompressed into tmp/rel without
    its compression suffix (a .zip: its first member's name); return the path.
    Files of a group (vmdk/image_t1*, broken/dfvfs-vhd-pair/) stay in one
    directory."""
    src = os.path.join(corpus, rel)
    d = os.path.join(tmp, os.path.dirname(rel))
    os.makedirs(d, exist_ok=True)
    name = os.path.basename(rel)
    stem, ext = os.path.splitext(name)
    if ext == ".zip":
        with zipfile.ZipFile(src) as z:
            stem = os.path.basename(z.namelist()[0])
    elif ext not in _OPENERS and ext != ".zst":
        stem = name
    out = os.path.join(d, stem)
    decompress(src, out)
    return out
