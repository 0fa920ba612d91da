# Shared by check_linux.sh and check_windows.sh: the assertion on one
# `imgprobe check --json` run. Source it after defining IMGPROBE, PY (a
# python3), failures (a counter) and fail() (print FAIL and count).

# check NAME IMAGE EXIT CODES [key=value...]: `check --json` exits EXIT, its
# error and warning codes are exactly CODES (comma-separated, "" for none),
# and each key (os.distro, os.version, os.arch, os.bits, os.hostname,
# os.root, kernel, cloud_init.installed...) has the value given
check() {
    local name=$1 img=$2 want_rc=$3 codes=$4
    shift 4
    local rc=0
    "$IMGPROBE" check --json ${CHECK_ARGS:-} "$img" >"$name.json" 2>"$name.err" || rc=$?
    if [ "$rc" != "$want_rc" ]; then
        fail "$name: exit $rc, expected $want_rc: $(head -c 600 "$name.err") $(grep -A2 '"code"' "$name.json" | head -30)"
        return
    fi
    if grep -qE 'Sanitizer|runtime error' "$name.err"; then
        fail "$name: $(cat "$name.err")"
        return
    fi
    "$PY" - "$name" "$name.json" "$codes" "$@" <<'EOF' || failures=$((failures + 1))
import json, sys
name, path, codes = sys.argv[1:4]
j = json.load(open(path))
got = sorted(f['code'] for f in j['findings'] if f['severity'] in ('error', 'warning'))
want = sorted(c for c in codes.split(',') if c)
bad = []
if got != want:
    bad.append('codes %s, expected %s: %s' % (got, want, [f['message'] for f in j['findings']]))
for kv in sys.argv[4:]:
    key, _, value = kv.partition('=')
    if key == 'kernel':
        v = [k['version'] for k in j['kernels'] if k['default']]
        v = v[0] if v else None
    else:
        v = j
        for part in key.split('.'):
            if isinstance(v, list) and part.isdigit() and int(part) < len(v):
                v = v[int(part)]
            else:
                v = v.get(part) if isinstance(v, dict) else None
    if str(v).lower() != value.lower():
        bad.append('%s = %r, expected %r' % (key, v, value))
if j['importable'] != (not any(f['severity'] == 'error' for f in j['findings'])):
    bad.append('importable disagrees with the findings')
if bad:
    print('FAIL: %s: %s' % (name, '; '.join(bad)))
    sys.exit(1)
print('ok: %s' % name)
EOF
}

# virt_inspector NAME IMAGE: libguestfs's virt-inspector XML into NAME.vi.xml,
# when it is installed and IMGPROBE_SKIP_VIRT_INSPECTOR is not 1 (it boots an
# appliance: half a minute or more per image without KVM); false, with a
# note, when it is absent or fails on the image
virt_inspector() {
    command -v virt-inspector >/dev/null && [ "${IMGPROBE_SKIP_VIRT_INSPECTOR:-}" != 1 ] || return 1
    timeout 600 virt-inspector --no-applications --no-icon -a "$2" >"$1.vi.xml" 2>"$1.vi.err" && return 0
    echo "note: virt-inspector failed on $1: $(tail -1 "$1.vi.err")"
    return 1
}
