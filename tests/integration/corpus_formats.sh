#!/bin/bash
# Real images written by other software (../shared/corpus, see its
# MANIFEST.tsv): every container reads without error and agrees with the
# manifest's facts (format, virtual size, sha256 of the guest disk as qemu-img
# convert -O raw gives it); the broken ones fail cleanly (exit 2 and a message,
# never a crash); every raw image is detected as raw. Skips when the corpus is
# absent. Files are decompressed into a temporary directory, never in place.
set -euo pipefail
: "${IMGPROBE:?}" "${SRCDIR:?}"
if [ ! -f "${CORPUS:-/nonexistent}/MANIFEST.tsv" ]; then
    echo "skip: no corpus at ${CORPUS:-}"
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
exec python3 - "$IMGPROBE" "$CORPUS" "$T" <<'PY'
import csv, hashlib, json, os, re, subprocess, sys

imgprobe, corpus, tmp = sys.argv[1:4]
sys.path.insert(0, os.path.join(os.environ["SRCDIR"], "tests", "support"))
import corpus_unpack
QEMU_TO_OURS = {"vpc": "vhd"}
fails = checked = 0

def fail(path, why):
    global fails
    fails += 1
    print(f"FAIL: {path}: {why}")

def unpack(rel):
    return corpus_unpack.unpack(corpus, tmp, rel)

def run(*args):
    p = subprocess.run([imgprobe, *args], capture_output=True)
    err = p.stderr.decode(errors="replace")
    if p.returncode not in (0, 2) or "Sanitizer" in err or "runtime error" in err:
        raise RuntimeError(f"{' '.join(args)}: exit {p.returncode}: {err[-800:]}")
    return p.returncode, p.stdout, err

rows = list(csv.DictReader(open(os.path.join(corpus, "MANIFEST.tsv")), delimiter="\t"))
# files that must sit together: unpack the companions first
for r in rows:
    if "companion file" in r["verified_facts"] or r["path"].startswith("broken/dfvfs-vhd-pair/"):
        unpack(r["path"])

for r in rows:
    rel, facts, what = r["path"], r["verified_facts"], r["format_what"]
    if "companion file" in facts:
        continue
    path = None
    try:
        path = unpack(rel)
        if rel.startswith("broken/dfvfs-vhd-pair/"):
            path = os.path.join(tmp, rel)
        m = re.search(r"qemu-img info: format=(\w+); virtual_size=(\d+)", facts)
        qemu_fails = "qemu-img info FAILS" in facts
        want_sha = re.search(r"guest raw sha256=([0-9a-f]{64})", facts)
        rc, out, err = run("info", "--json", path)
        info = json.loads(out)["image"] if rc == 0 else None

        if qemu_fails:
            # the writer's own tools refuse it: we must refuse cleanly too (or name an unread format)
            if rc == 0 and info["readable"]:
                drc, _, derr = run("dump", path)
                if drc != 2 or not derr.startswith("imgprobe: "):
                    fail(rel, f"qemu-img refuses it but imgprobe read it (dump exit {drc})")
                    continue
            elif rc == 2 and not err.startswith(f"imgprobe: {path}: "):
                fail(rel, f"bad error line: {err!r}")
                continue
            print(f"ok: {rel}: refused cleanly: {(err or info.get('unreadable_reason') or '').strip()[:120]}")
        elif "parent" in what and "NOT included" in what:
            # a differencing disk whose parent is absent cannot be read (qemu ignores the parent: we do not)
            drc, _, derr = run("dump", path)
            if rc == 0 and drc == 2 and re.search(r"parent|backing", derr):
                print(f"ok: {rel}: missing parent reported: {derr.strip()[:120]}")
            else:
                fail(rel, f"missing parent not reported (info {rc}, dump {drc}: {derr.strip()})")
                continue
        elif m:
            fmt = QEMU_TO_OURS.get(m.group(1), m.group(1))
            if rc != 0:
                fail(rel, f"info failed: {err.strip()}")
                continue
            if info["format"] != fmt or info["virtual_size"] != int(m.group(2)):
                fail(rel, f"format/size {info['format']}/{info['virtual_size']}, manifest {fmt}/{m.group(2)}")
                continue
            if want_sha and info["readable"]:
                p = subprocess.Popen([imgprobe, "dump", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                h = hashlib.sha256()
                for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
                    h.update(chunk)
                derr = p.stderr.read().decode(errors="replace")
                if p.wait() != 0 or h.hexdigest() != want_sha.group(1):
                    fail(rel, f"guest sha256 {h.hexdigest()} (exit {p.returncode} {derr.strip()}), manifest {want_sha.group(1)}")
                    continue
            print(f"ok: {rel}: {fmt}, {info['virtual_size']} bytes" + (", guest digest agrees" if want_sha and info["readable"] else ""))
        else:
            # a raw disk or filesystem image: detected as raw, the whole file is the disk
            size = os.path.getsize(path)
            if rc != 0 or info["format"] != "raw" or info["virtual_size"] != size:
                fail(rel, f"expected raw of {size} bytes, got {info and (info['format'], info['virtual_size'])} {err.strip()}")
                continue
            print(f"ok: {rel}: raw")
        checked += 1
    except Exception as e:  # a crash, a sanitizer report, a decompression problem
        fail(rel, str(e))
    finally:
        # keep the disk small: drop each unpacked file once checked (pairs stay together to the end)
        if not rel.startswith("broken/dfvfs-vhd-pair/") and path and os.path.exists(path):
            os.remove(path)

print(f"corpus: {checked} passed, {fails} failed")
sys.exit(1 if fails else 0)
PY
