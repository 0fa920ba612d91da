#!/bin/bash
# Partition tables written by real tools, read back by imgprobe and compared
# with the tools' own reading of them:
#  - an MBR with three primaries and an extended partition holding three
#    logicals (sfdisk), oracle `sfdisk --json`;
#  - a GPT with eight partitions of common types, with names and attribute
#    bits (sgdisk), oracle `sfdisk --json` for places, types and GUIDs and
#    `sgdisk -i` for names and attributes;
#  - a GPT with 4096-byte logical sectors (fdisk -b 4096 loading an sfdisk
#    script), oracle the layout `fdisk -b 4096` dumps;
# each as raw and converted by qemu-img to qcow2, vmdk and vhd (a conversion is
# compared only when `imgprobe info` reads it as that format, else skipped);
# then damage (a broken primary GPT, a truncated GPT disk, both GPT headers
# broken, an EBR chain that loops), the partitioned images of $CORPUS against
# MANIFEST.tsv, and the GPT type GUIDs imgprobe names against sfdisk's list.
#
# The disks are written here in bash; one python3 run (check.py) compares
# everything, because starting python is slow on some hosts.
set -euo pipefail
: "${IMGPROBE:?}"
for tool in sfdisk sgdisk fdisk qemu-img python3; do
    command -v "$tool" >/dev/null || { echo "skip: $tool not installed"; exit 77; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

# ---- MBR: three primaries, an extended partition, three logicals ----
truncate -s 64M mbr.img
sfdisk -q mbr.img <<'EOF'
label: dos
label-id: 0x5ca1ab1e
start=2048, size=16384, type=83, bootable
size=8192, type=7
size=8192, type=ef
type=f
size=8192, type=82
size=12288, type=8e
size=4096, type=fd
EOF
sfdisk --json mbr.img >mbr.oracle.json

# ---- GPT: eight partitions of common types, names, attribute bits ----
truncate -s 64M gpt.img
sgdisk -o -U 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 \
    -n 1:2048:+8M -t 1:ef00 -c 1:"EFI system partition" -A 1:set:0 \
    -n 2:0:+1M -t 2:ef02 -c 2:"BIOS boot" \
    -n 3:0:+16M -t 3:8304 -c 3:"racine système" -A 3:set:2 -A 3:set:60 \
    -n 4:0:+8M -t 4:8302 -c 4:"home ☃ 😀" \
    -n 5:0:+4M -t 5:8200 -c 5:"swap" \
    -n 6:0:+8M -t 6:8e00 -c 6:"lvm" \
    -n 7:0:+8M -t 7:0700 -c 7:"Basic data partition" -A 7:set:63 \
    -n 8:0:+4M -t 8:2700 -c 8:"Windows RE" -A 8:set:0 \
    gpt.img >sgdisk.log || { cat sgdisk.log; echo "FAIL: sgdisk could not write the GPT"; exit 1; }
sfdisk --json gpt.img >gpt.oracle.json
for i in 1 2 3 4 5 6 7 8; do sgdisk -i "$i" gpt.img >"gpt.sgdisk.$i"; done

# ---- GPT with 4096-byte logical sectors (fdisk's script loader keeps ASCII names only) ----
cat >gpt4k.sfdisk <<'EOF'
label: gpt
label-id: 89ABCDEF-0123-4567-89AB-CDEF01234567
sector-size: 4096
start=256, size=2048, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="ESP"
size=4096, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root fs", attrs="LegacyBIOSBootable"
size=1024, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, name="swap"
EOF
truncate -s 64M gpt4k.img
printf 'I\ngpt4k.sfdisk\nw\n' | fdisk -b 4096 gpt4k.img >fdisk.log 2>&1 ||
    { cat fdisk.log; echo "FAIL: fdisk -b 4096 could not write the GPT"; exit 1; }
printf 'O\ngpt4k.oracle.sfdisk\nq\n' | fdisk -b 4096 gpt4k.img >/dev/null 2>&1

# ---- the GPT type GUIDs sfdisk knows ----
sfdisk --label gpt -T >sfdisk-gpt-types.txt

cat >check.py <<'PY'
import json, os, re, shutil, struct, subprocess, sys

IMGPROBE = os.environ["IMGPROBE"]
CORPUS = os.environ.get("CORPUS", "")
SRCDIR = os.environ.get("SRCDIR", "")
sys.path.insert(0, os.path.join(SRCDIR, "tests", "support"))
import corpus_unpack
fails = 0

def ok(what):
    print("ok:", what)

def bad(what, details=()):
    global fails
    fails += 1
    print("FAIL:", what)
    for d in details:
        print("   ", d)

def run(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True)

def info(path):
    r = run(IMGPROBE, "info", "--json", path, check=False)
    if r.returncode != 0:
        return None, r.stderr.decode(errors="replace").strip()
    return json.loads(r.stdout), None

# ---- oracles, as what imgprobe info --json should say ----

EXTENDED = {"5", "f", "85"}
ATTR_BITS = {"RequiredPartition": 0, "NoBlockIOProtocol": 1, "LegacyBIOSBootable": 2}

def attr_value(text):
    """sfdisk's attrs ("RequiredPartition LegacyBIOSBootable GUID:60,63") as a number."""
    v = 0
    for name, bit in ATTR_BITS.items():
        if name in text:
            v |= 1 << bit
    for group in re.findall(r"GUID:([0-9,]+)", text):
        v |= sum(1 << int(b) for b in group.split(",") if b)
    return v

def number(node, path):
    assert node.startswith(path), (node, path)
    return node[len(path):]

def from_sfdisk_json(path, oracle):
    t = json.load(open(oracle))["partitiontable"]
    ss = t.get("sectorsize", 512)
    e = {"scheme": "mbr" if t["label"] == "dos" else t["label"], "sector_size": ss, "disk_id": t["id"].lower(),
         "partitions": []}
    for p in t["partitions"]:
        q = {"index": number(p["node"], path), "start": p["start"] * ss, "size": p["size"] * ss}
        if t["label"] == "dos":
            q.update(type="0x%02x" % int(p["type"], 16), bootable=bool(p.get("bootable")),
                     container=p["type"] in EXTENDED)
        else:
            q.update(type=p["type"].lower(), uuid=p["uuid"].lower(), name=p.get("name"),
                     attributes=attr_value(p.get("attrs", "")))
            q["bootable"] = bool(q["attributes"] & 4)
        e["partitions"].append(q)
    return e

def add_sgdisk(e, prefix):
    """Names and attributes as `sgdisk -i` prints them (it garbles characters outside the BMP: sfdisk's then)."""
    for q in e["partitions"]:
        text = open(prefix + q["index"], encoding="utf-8", errors="replace").read()
        first = int(re.search(r"^First sector: (\d+)", text, re.M).group(1))
        assert first * e["sector_size"] == q["start"], ("sgdisk and sfdisk disagree", q)
        name = re.search(r"^Partition name: '(.*)'$", text, re.M).group(1)
        if "\ufffd" not in name:
            q["name"] = name or None
        q["attributes"] = int(re.search(r"^Attribute flags: ([0-9A-Fa-f]+)$", text, re.M).group(1), 16)
        q["bootable"] = bool(q["attributes"] & 4)
    return e

def from_script(path, oracle):
    """The sfdisk script format (sfdisk -d, fdisk's O command)."""
    text = open(oracle, encoding="latin-1").read()
    head = dict(re.findall(r"^([a-z-]+): (.*)$", text, re.M))
    ss = int(head.get("sector-size", 512))
    e = {"scheme": "mbr" if head["label"] == "dos" else head["label"], "sector_size": ss,
         "disk_id": head["label-id"].lower(), "partitions": []}
    for node, rest in re.findall(r"^(\S+) : (.*)$", text, re.M):
        f = {k: v.strip('"') for k, v in re.findall(r'(\w+)=\s*("[^"]*"|[^,]*)', rest)}
        q = {"index": number(node, path), "start": int(f["start"]) * ss, "size": int(f["size"]) * ss,
             "type": f["type"].lower(), "uuid": f["uuid"].lower(), "name": f.get("name") or None,
             "attributes": attr_value(f.get("attrs", ""))}
        q["bootable"] = bool(q["attributes"] & 4)
        e["partitions"].append(q)
    return e

# ---- the comparison ----

def differences(got, want):
    errors = []
    for key, jkey in (("scheme", "partition_table"), ("sector_size", "sector_size"), ("disk_id", "disk_id")):
        if key in want and got.get(jkey) != want[key]:
            errors.append(f"{jkey}: got {got.get(jkey)!r}, want {want[key]!r}")
    parts = {p["index"]: p for p in got.get("partitions", [])}
    if sorted(parts) != sorted(p["index"] for p in want["partitions"]):
        errors.append(f"partitions: got {sorted(parts)}, want {sorted(p['index'] for p in want['partitions'])}")
    for w in want["partitions"]:
        g = parts.get(w["index"])
        for k, v in w.items() if g else ():
            have = g.get(k, 0 if k == "attributes" else False if k in ("bootable", "container") else None)
            if k == "unreadable":
                have = "unreadable" in g
            if have != v:
                errors.append(f"partition {w['index']}: {k}: got {have!r}, want {v!r}")
    notes = [n["message"] for n in got.get("notes", [])]
    for text in want.get("notes", []):
        if not any(text in n for n in notes):
            errors.append(f"no note with {text!r} in {notes}")
    if want.get("no_notes") and notes:
        errors.append(f"unexpected notes: {notes}")
    return errors

def check(what, path, want):
    got, err = info(path)
    if got is None:
        return bad(what, [f"imgprobe info failed: {err}"])
    errors = differences(got, want)
    if errors:
        bad(what, errors)
    else:
        ok(what)

def check_formats(what, raw, want):
    """The raw disk, then its qemu-img conversions that imgprobe reads as what they are."""
    check(f"{what} raw", raw, want)
    for fmt, name, opts in (("qcow2", "qcow2", []), ("vmdk", "vmdk", []),
                            ("vpc", "vhd", ["-o", "subformat=dynamic,force_size=on"])): # exact size: the backup GPT stays last
        out = f"{raw}.{name}"
        run("qemu-img", "convert", "-q", "-f", "raw", "-O", fmt, *opts, raw, out)
        got, _ = info(out)
        seen = "unreadable" if got is None or not got["image"]["readable"] else got["image"]["format"]
        if seen != name:
            print(f"skip: {what} {name}: imgprobe reads it as {seen}")
        else:
            check(f"{what} {name}", out, want)
        os.remove(out)

mbr = from_sfdisk_json("mbr.img", "mbr.oracle.json")
assert [p["index"] for p in mbr["partitions"]] == ["1", "2", "3", "4", "5", "6", "7"], mbr
check_formats("mbr with an extended partition", "mbr.img", dict(mbr, no_notes=True))

gpt = add_sgdisk(from_sfdisk_json("gpt.img", "gpt.oracle.json"), "gpt.sgdisk.")
assert len(gpt["partitions"]) == 8 and gpt["partitions"][2]["attributes"] == 1 << 60 | 4, gpt
assert gpt["partitions"][2]["name"] == "racine syst\u00e8me", gpt["partitions"][2]
assert gpt["partitions"][3]["name"] == "home \u2603 \U0001f600", gpt["partitions"][3]
TYPE_NAMES = {"c12a7328-f81f-11d2-ba4b-00a0c93ec93b": "EFI System", "21686148-6449-6e6f-744e-656564454649": "BIOS boot",
              "4f68bce3-e8cd-4db1-96e7-fbcaf984b709": "Linux root (x86-64)",
              "933ac7e1-2eb4-4f13-b844-0e14e2aef915": "Linux /home", "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f": "Linux swap",
              "e6d6d379-f507-44c2-a23c-238f2a3df928": "Linux LVM",
              "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7": "Microsoft basic data",
              "de94bba4-06d1-4d40-a16a-bfd50179d6ac": "Windows recovery environment"}
for p in gpt["partitions"]:
    p["type_name"] = TYPE_NAMES[p["type"]]
check_formats("gpt with 8 partitions", "gpt.img", dict(gpt, no_notes=True))

gpt4k = from_script("gpt4k.img", "gpt4k.oracle.sfdisk")
assert gpt4k["sector_size"] == 4096 and len(gpt4k["partitions"]) == 3, gpt4k
assert gpt4k["partitions"][1]["attributes"] == 4, gpt4k
with open("gpt4k.img", "rb") as f:
    f.seek(4096)
    assert f.read(8) == b"EFI PART", "the 4K GPT header is not at byte 4096"
check_formats("gpt with 4096-byte sectors", "gpt4k.img", dict(gpt4k, no_notes=True))

# ---- damage ----

def damaged(src, dst, writes, size=None):
    shutil.copy(src, dst)
    with open(dst, "r+b") as f:
        for off, data in writes:
            f.seek(off)
            f.write(data)
        if size is not None:
            f.truncate(size)

last = 64 * 2**20 // 512 - 1
damaged("gpt.img", "gpt-primary.img", [(512, b"XXXXXXXX")])
check("gpt with a broken primary header", "gpt-primary.img",
      dict(gpt, notes=["primary table is unusable", f"using the backup at LBA {last}"]))
damaged("gpt.img", "gpt-cut.img", [], size=60 * 2**20)
check("gpt with its end cut off", "gpt-cut.img",
      dict(gpt, notes=[f"past the disk's last LBA {60 * 2**20 // 512 - 1}: the image was truncated"]))
damaged("gpt.img", "gpt-both.img", [(512, b"XXXXXXXX"), (last * 512, b"XXXXXXXX")])
check("gpt with both headers broken", "gpt-both.img",
      {"scheme": "mbr", "sector_size": 512,
       "partitions": [{"index": "1", "start": 512, "size": last * 512, "type": "0xee", "type_name": "GPT protective"}],
       "notes": ["no usable table"]})

# the last EBR linked back to the first: the loop is noted, the partitions kept
ext = next(p for p in mbr["partitions"] if p["index"] == "4")["start"] // 512
with open("mbr.img", "rb") as f:
    ebr = ext # follow the links (second record of each EBR) to the last EBR
    while True:
        f.seek(ebr * 512 + 446 + 16)
        link_type, link_start = struct.unpack("<4xB3xI4x", f.read(16))
        if link_type == 0:
            break
        ebr = ext + link_start
damaged("mbr.img", "mbr-loop.img", [(ebr * 512 + 446 + 16, struct.pack("<4xB3xII", 0x05, 0, 2048))])
check("mbr with an EBR chain that loops", "mbr-loop.img",
      dict(mbr, notes=["EBR chain of extended partition 4 loops back"]))

# ---- the partitioned images of $CORPUS, against the sfdisk facts of MANIFEST.tsv ----

def corpus_expected(facts):
    m = re.search(r"sfdisk label=(\w+); label-id=([^;]+); partitions\(\d+\): (.*?)(?: ;;|$)", facts)
    k = re.search(r"GPT with 4096-byte logical sectors.*?disk_guid=([0-9A-Fa-f-]+); "
                  r"partitions\(4K sectors\)=(.*?)(?: ;;|$)", facts)
    if m:
        label = m.group(1)
        e = {"scheme": "mbr" if label == "dos" else label, "sector_size": 512, "disk_id": m.group(2).strip().lower(),
             "partitions": []}
        for part in m.group(3).split(" | "):
            f = {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', part)}
            p = {"start": int(f["start"]) * 512, "size": int(f["size"]) * 512}
            if label == "dos":
                p.update(type="0x%02x" % int(f["type"], 16), bootable="bootable" in part.split(),
                         container=f["type"] in EXTENDED)
            else:
                p.update(type=f["type"].lower(), uuid=f["uuid"].lower(), name=f["name"],
                         attributes=attr_value(f.get("attrs", "")))
                p["bootable"] = bool(p["attributes"] & 4)
            e["partitions"].append(p)
        return e
    if k:
        e = {"scheme": "gpt", "sector_size": 4096, "disk_id": k.group(1).lower(), "partitions": []}
        for part in k.group(2).split(" | "):
            f = dict(re.findall(r"(\w+)=([^,]+)", part))
            e["partitions"].append({"start": int(f["start"]) * 4096, "size": int(f["sectors"]) * 4096,
                                    "type_name": f["type"].strip()})
        return e
    return None

manifest = os.path.join(CORPUS, "MANIFEST.tsv")
if not CORPUS or not os.path.isfile(manifest) or not os.path.isdir(os.path.join(CORPUS, "raw-partitioned")):
    print(f"skip: no corpus at {CORPUS!r}")
else:
    os.makedirs("corpus")
    rows = [l.rstrip("\n").split("\t") for l in open(manifest, encoding="utf-8")][1:]
    for row in rows:
        if not row[0].startswith("raw-partitioned/"):
            continue
        name = re.sub(r"\.(bz2|xz|gz)$", "", os.path.basename(row[0]))
        path = os.path.join("corpus", name)
        corpus_unpack.decompress(os.path.join(CORPUS, row[0]), path)
        want = corpus_expected(row[5])
        if want is None:
            bad(f"corpus {name}: no partition facts in MANIFEST.tsv")
            continue
        # MANIFEST lists partitions in table order without numbers: the numbers are
        # checked below where they matter (logical partitions)
        got, err = info(path)
        if got is None:
            bad(f"corpus {name}", [f"imgprobe info failed: {err}"])
            continue
        for p, g in zip(want["partitions"], got.get("partitions", [])):
            p["index"] = g["index"]
        for p in want["partitions"]:
            p.setdefault("index", "missing")
        if name == "grub_mbr.raw": # a 512-byte file whose partitions lie past its end
            want["notes"] = ["partition 1 (524288000 bytes at 1048576) reaches past the end of the disk (512 bytes)",
                             "partition 2 (12359565312 bytes at 525336576) reaches past the end of the disk"]
            for p in want["partitions"]:
                p["unreadable"] = True
        errors = differences(got, want)
        if name == "mbrman-disk2.img" and [p["index"] for p in got["partitions"]] != ["1", "2", "5", "6", "7", "8", "9"]:
            errors.append("logical partitions not numbered 5-9")
        if errors:
            bad(f"corpus {name}", errors)
        else:
            ok(f"corpus {name}")

# ---- every GPT type GUID imgprobe names is one sfdisk (or, for its own codes, sgdisk) knows ----
parttypes = os.path.join(SRCDIR, "src/partition/parttypes.c")
if os.path.isfile(parttypes):
    known = {l.split()[0].lower() for l in open("sfdisk-gpt-types.txt") if re.match(r"[0-9A-Fa-f]{8}-", l)}
    sgdisk_codes = {"ca7d7ccb-63ed-4c53-861c-1742536059cc": "8309", "7ffec5c9-2d00-49b7-8941-3ea10a5586b7": "8308"}
    guids = re.findall(r'"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"', open(parttypes).read())
    unknown = []
    for guid in guids:
        if guid in known:
            continue
        code = sgdisk_codes.get(guid)
        if code:
            with open("types.img", "wb") as f:
                f.truncate(4 << 20)
            run("sgdisk", "-o", "-n", "1:2048:+1M", "-t", f"1:{code}", "types.img")
            said = re.search(r"GUID code: (\S+)", run("sgdisk", "-i", "1", "types.img").stdout.decode())
            if said and said.group(1).lower() == guid:
                continue
        unknown.append(guid)
    if unknown or len(guids) < 20:
        bad("parttypes.c: GPT type GUIDs neither sfdisk nor sgdisk knows", unknown)
    else:
        ok(f"parttypes.c: all {len(guids)} GPT type GUIDs are ones sfdisk or sgdisk knows")

print(f"{fails} failure(s)")
sys.exit(1 if fails else 0)
PY
IMGPROBE="$IMGPROBE" CORPUS="${CORPUS:-}" SRCDIR="${SRCDIR:-}" python3 check.py
