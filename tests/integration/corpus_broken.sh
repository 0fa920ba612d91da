#!/bin/bash
# Corrupted real images: every file of ../shared/corpus/broken and every
# e2fsprogs test image of the corpus goes through `info`, `check --json` and
# `ls -R`, every hive (broken/ and regf/) through regdump (the regf reader that
# check uses on Windows guests), and every other file of the corpus through
# `info` and `check --json`, under whatever sanitizers the build has, each
# under `timeout 30`. A crash (a signal, an exit status docs/cli.md does not
# name, a sanitizer report) or a hang fails the test. Each outcome (exit status
# and a one-line summary) is compared with the committed record
# corpus_broken.expected, so a change of behaviour fails too;
# docs/robustness.md explains each one. UPDATE=1 rewrites the record.
#
# Independent oracles: the corpus's MANIFEST.tsv (what qemu-img, blkid and
# e2fsck found) and debugfs (the root directory of every ext image that ls
# lists; f_zero_super through its backup superblock).
#
# Files are decompressed (sparse) into a temporary directory, never in place;
# each command runs in the file's directory on its base name, so messages are
# the same wherever the test runs.
set -euo pipefail
: "${IMGPROBE:?}" "${SRCDIR:?}"
if [ ! -f "${CORPUS:-/nonexistent}/MANIFEST.tsv" ]; then
    echo "skip: no corpus at ${CORPUS:-}"
    exit 77
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for tool in "$PY" timeout zstd; do
    command -v "$tool" >/dev/null || { echo "skip: $tool not installed"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/corpus_broken.XXXXXX")
trap 'rm -rf "$T"' EXIT
exec "$PY" - "$IMGPROBE" "${REGDUMP:-}" "$CORPUS" "$T" "$SRCDIR/tests/integration/corpus_broken.expected" \
    "${UPDATE:-0}" <<'PY'
import json, os, re, shutil, subprocess, sys


imgprobe, regdump, corpus, tmp, expected_path, update = sys.argv[1:7]
sys.path.insert(0, os.path.join(os.environ["SRCDIR"], "tests", "support"))
import corpus_unpack
failures = []

def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)

# ---- running ----
SANITIZER = re.compile(r"ERROR: \w*Sanitizer|runtime error:")

def run(rel, path, cmd, allowed, argv):
    """Run argv in path's directory under timeout 30; fail on a crash or hang. Return (exit, out, err)."""
    try:
        p = subprocess.run(["timeout", "30", *argv], cwd=os.path.dirname(path), capture_output=True)
    except OSError as e:
        fail(f"{rel}: {cmd}: cannot run: {e}")
        return -1, b"", ""
    err = p.stderr.decode(errors="replace")
    rc = p.returncode
    m = SANITIZER.search(err)
    if rc == 124:
        fail(f"{rel}: {cmd}: hung (killed after 30 s)")
    elif rc < 0 or rc > 128:
        fail(f"{rel}: {cmd}: killed by signal {-rc if rc < 0 else rc - 128}")
    elif m:
        fail(f"{rel}: {cmd}: sanitizer report: {err[m.start():].splitlines()[0]}")
    elif rc not in allowed:
        fail(f"{rel}: {cmd}: exit status {rc} is none of the documented ones {allowed}")
    else:
        return rc, p.stdout, err
    print("\n".join("    " + l for l in err.splitlines()[:30]))
    return rc, p.stdout, err

def first_line(err):
    lines = err.splitlines()
    return lines[0].replace("\t", " ").replace(tmp + "/", "") if lines else ""

def summary_info(out, err):
    """The format; the partition table and how many partitions, or the whole disk's content."""
    text = out.decode(errors="replace")
    m = re.search(r"^file format: (.*)$", text, re.M)
    parts = [f"format {m.group(1) if m else '?'}"]
    m = re.search(r"^Disklabel type: (\S+)$", text, re.M)
    if m:
        table = m.group(1)
        rows = re.search(r"^Device .*\n((?:\S.*\n?)*)", text, re.M)
        n = len([l for l in rows.group(1).splitlines() if not l.startswith(("warning:", "info:", "error:"))]) if rows else 0
        whole = re.search(r"^Whole disk: (\S+)", text, re.M)
        parts.append(f"table {table}, {n} partitions" + (f", whole disk {whole.group(1)}" if whole else ""))
    return f"{', '.join(parts)}; {first_line(err)}"

def summary_check(out, err):
    try:
        o = json.loads(out)
        codes = " ".join(sorted({f["severity"] + ":" + f["code"] for f in o.get("findings", [])})) or "no findings"
    except (ValueError, KeyError, TypeError) as e:
        codes = f"unparsable json ({type(e).__name__})"
    return f"{codes}; {first_line(err)}"

def summary_lines(out, err):
    return f"{len(out.splitlines())} lines; {first_line(err)}"

def is_hive(path):
    with open(path, "rb") as f:
        return f.read(4) == b"regf"

def root_of_listing(out):
    """The root directory's names from ls -R output: its first block."""
    lines = out.decode(errors="replace").split("\n")
    if lines and lines[0].endswith(":"):
        lines = lines[1:]
    names = []
    for l in lines:
        if l == "":
            break
        names.append(l)
    return names

# ---- the corpus ----
rels = []
for dirpath, dirnames, filenames in os.walk(corpus):
    for f in filenames:
        rel = os.path.relpath(os.path.join(dirpath, f), corpus)
        if os.sep in rel:
            rels.append(rel)
rels.sort()
paths = {}
for rel in rels:
    try:
        paths[rel] = corpus_unpack.unpack(corpus, tmp, rel)
    except Exception as e:
        fail(f"{rel}: cannot unpack: {e}")

def commands_on(rel):
    """Run the commands on one file: its records, and its ls -R (exit, output) or None."""
    path = paths[rel]
    name = os.path.basename(path)
    deep = rel.startswith("broken/") or "/e2fsprogs-" in rel
    hive_like = rel.startswith("regf/") or re.match(r"broken/(yarp|regipy|dfwinreg)-", rel)
    recs, listing = [], None
    if regdump and (hive_like or (deep and is_hive(path))):
        for cmd, argv in (("regdump", [regdump, name]), ("regdump --info", [regdump, "--info", name])):
            rc, out, err = run(rel, path, cmd, (0, 2), argv)
            recs.append((rel, cmd, rc, summary_lines(out, err)))
    rc, out, err = run(rel, path, "info", (0, 2), [imgprobe, "info", name])
    recs.append((rel, "info", rc, summary_info(out, err)))
    rc, out, err = run(rel, path, "check", (0, 1, 2), [imgprobe, "check", "--json", name])
    recs.append((rel, "check", rc, summary_check(out, err)))
    if deep:
        rc, out, err = run(rel, path, "ls -R", (0, 2), [imgprobe, "ls", "-R", name, "/"])
        recs.append((rel, "ls -R", rc, summary_lines(out, err)))
        listing = (rc, out)
    return recs, listing

# Two at a time (the machine has two cores; each run is mostly sanitizer start-up).
from concurrent.futures import ThreadPoolExecutor
records = []
listings = {}
todo = [rel for rel in rels if rel in paths]
with ThreadPoolExecutor(max_workers=2) as pool:
    for rel, (recs, listing) in zip(todo, pool.map(commands_on, todo)):
        records.extend(recs)
        if listing:
            listings[rel] = listing

outcome = {(r[0], r[1]): (r[2], r[3]) for r in records}

# ---- what independent tools say ----
def expect(rel, cmd, want_exit, want_text, why):
    got = outcome.get((rel, cmd))
    if got is None:
        fail(f"{rel}: {cmd}: not run ({why})")
    elif (want_exit is not None and got[0] != want_exit) or (want_text and want_text not in got[1]):
        fail(f"{rel}: {cmd}: exit {got[0]}, '{got[1]}': expected exit {want_exit} and '{want_text}' ({why})")

# What MANIFEST.tsv's tools found, as (file, command, exit, text the summary holds, the fact).
MANIFEST_FACTS = [
    # qemu-img refuses these; so do we, cleanly, naming the reason
    ("broken/afl5.img.bz2", "info", 2, "vhd: ", "qemu-img: Max Table Entries too large"),
    ("broken/afl9.vmdk.bz2", "info", 2, "vmdk: ", "qemu-img: L1 size too big"),
    ("broken/image_t2.vmdk", "info", 2, "image_t2-flat.vmdk", "its extent is missing"),
    ("broken/image_t4.vmdk", "info", 2, "image_t4-flat.vmdk", "its extent is missing"),
    ("broken/dfvfs-vhd-pair/image.vhd", "info", 2, "checksum", "qemu-img: Incorrect header checksum"),
    # negative samples: named and not read; no import
    ("broken/qemu-parallels-v2.bz2", "info", 0, "format parallels (recognised, not read)", "a Parallels image"),
    ("broken/qemu-empty.bochs.bz2", "info", 0, "format bochs (recognised, not read)", "a Bochs image"),
    ("broken/qemu-parallels-v2.bz2", "check", 1, "error:InvalidFormatSize", "not an importable format"),
    # blkid: an XFS external log, which holds no filesystem
    ("broken/util-linux-xfs-log.img.xz", "ls -R", 2, "", "an external log is no filesystem"),
    # the primary superblock zeroed, the backups intact: read through a backup, with a warning
    ("broken/e2fsprogs-f_zero_super.img.gz", "ls -R", 0, "backup", "e2fsck repairs it from the backup"),
    # a 64 MiB ext4 truncated to 8 MiB: readable, with a warning
    ("broken/util-linux-ext4-truncated.img.xz", "ls -R", 0, "truncated", "fls lists its root"),
    # e2fsprogs (and the kernel) refuse s_desc_size 0 with 64bit
    ("broken/e2fsprogs-f_desc_size_zero.img.gz", "ls -R", 2, "s_desc_size 0", "dumpe2fs: descriptor size incorrect"),
    # blkid: ext2 on the whole disk, so not an empty disk, though e2fsck gives up on it (exit 8)
    ("broken/e2fsprogs-f_illitable.img.gz", "check", 1, "error:RootPartitionNotFound warning:FilesystemUnreadable;",
     "blkid: ext2"),
    # blkid: vfat, a FAT boot sector and not a partition table (no partitions to name, no LDM)
    ("broken/e2fsprogs-f_crashdisk.img.gz", "info", 0, "table none, 0 partitions, whole disk vfat", "blkid: vfat"),
]
for fact in MANIFEST_FACTS:
    expect(*fact)
# debugfs: the root directory of each ext image that ls lists.
debugfs = shutil.which("debugfs") or ("/usr/sbin/debugfs" if os.access("/usr/sbin/debugfs", os.X_OK) else None)
if debugfs:
    for rel, (rc, out) in sorted(listings.items()):
        if rc != 0 or "/e2fsprogs-" not in rel and "util-linux-ext4" not in rel:
            continue
        extra = ["-s", "8193", "-b", "1024"] if "f_zero_super" in rel else []
        p = subprocess.run([debugfs, "-c", *extra, "-R", "ls -p /", paths[rel]], capture_output=True)
        want = sorted(l.split("/")[5] for l in p.stdout.decode(errors="replace").splitlines()
                      if l.count("/") >= 6 and l.split("/")[5] not in (".", ".."))
        got = sorted(root_of_listing(out))
        if p.returncode != 0 or not want:
            fail(f"{rel}: debugfs cannot list the root: {p.stderr.decode(errors='replace').strip()}")
        elif got != want:
            fail(f"{rel}: ls -R root {got}, debugfs says {want}")
else:
    print("note: debugfs not installed: roots not compared")

# ---- the record ----
lines = ["file\tcommand\texit\tsummary"] + [f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}" for r in records]
text = "\n".join(lines) + "\n"
if update == "1":
    with open(expected_path, "w") as f:
        f.write(text)
    print(f"rewrote {expected_path} ({len(records)} outcomes)")
elif not os.path.exists(expected_path):
    fail(f"no record {expected_path} (run with UPDATE=1)")
else:
    with open(expected_path) as f:
        old = f.read()
    if old != text:
        import difflib
        fail("outcomes differ from the record (UPDATE=1 rewrites it once the change is understood):")
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                                   "corpus_broken.expected", "this run"))
print(f"{len(records)} outcomes, {len(failures)} failures")
sys.exit(1 if failures else 0)
PY
