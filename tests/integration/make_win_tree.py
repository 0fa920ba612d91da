#!/usr/bin/env python3
r"""make_win_tree.py NAME [KEY=VALUE...]: a Windows-like system volume's tree
as ntfs_gen.c commands (NAME.cmds) and the host files they copy (NAME.host/),
the SOFTWARE and SYSTEM hives made by `hivexregedit --merge` in the real key
layout. Used by tests/integration/check_windows.sh and fuzz/make_seeds.sh.

Keys (defaults below): product, build,
version (CurrentVersion), major/minor (absent: none), edition, type
(InstallationType), machine (0x8664 or 0x14c), arch (PROCESSOR_ARCHITECTURE),
host (ComputerName), dnshost (Tcpip\Parameters\Hostname: default host in
lower case, "-" leaves it out), current (Select\Current), viostor/vioscsi/netkvm (f: file, s<N>:
service with Start N, e.g. "fs0"; a file also registers the driver's virtio
PCI ID in the driver store and the critical device database, unless x is
given, or only in the critical device database with c, only in the driver
store with d; p: registered only, staged without a file), cloudbase (s: service, d: folder, u:
uninstall entry), root (the system root's spelling), hiber (1: hiberfil.sys
says HIBR), mounted (MountedDevices: LETTER=mbr:SIGNATURE:OFFSET or
LETTER=gpt:GUID, comma-separated), bootini (1: a /boot.ini whose default= names
the system root, as NT to 2003 had).
"""
import os, struct, subprocess, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'support'))
import mkhive
if len(sys.argv) < 2:
    sys.exit('usage: make_win_tree.py NAME [KEY=VALUE...]')
name = sys.argv[1]
o = dict(product='Windows Server 2019 Datacenter', build='17763', version='6.3', major='10', minor='0',
         edition='ServerDatacenter', type='Server', machine='0x8664', arch='AMD64', host='WIN-TEST',
         current='1', viostor='fs0', vioscsi='', netkvm='fs3', cloudbase='sdu', root='Windows', hiber='0',
         mounted='', bootini='0', dnshost='')
for kv in sys.argv[2:]:
    k, _, v = kv.partition('=')
    assert k in o, k
    o[k] = v
os.makedirs(name + '.host', exist_ok=True)
cmds, n = [], [0]

def host(data):
    n[0] += 1
    p = '%s.host/%d' % (name, n[0])
    open(p, 'wb').write(data)
    return p

def d(path):
    cmds.append(('dir', path))

def f(path, data):
    cmds.append(('file', path, host(data)))

def pe(machine):
    """An MS-DOS stub, 'PE\\0\\0', a COFF file header and the optional header's magic ([MS-PE])."""
    b = bytearray(1024)
    b[0:2] = b'MZ'
    struct.pack_into('<I', b, 0x3c, 0x80)
    b[0x40:0x40 + 39] = b'This program cannot be run in DOS mode.'
    magic = 0x20b if machine in (0x8664, 0xaa64) else 0x10b
    opt = 240 if magic == 0x20b else 224
    struct.pack_into('<4sHHIIIHH', b, 0x80, b'PE\0\0', machine, 3, 0x5a5a5a5a, 0, 0, opt, 0x22)
    struct.pack_into('<H', b, 0x80 + 24, magic)
    return bytes(b)

def hive(lines):
    path = '%s.host/hive%d' % (name, n[0])
    n[0] += 1
    open(path, 'wb').write(mkhive.empty_hive(5))
    reg = path + '.reg'
    open(reg, 'wb').write(mkhive.finish(['Windows Registry Editor Version 5.00', ''] + lines))
    r = subprocess.run(['hivexregedit', '--merge', path, reg], capture_output=True)
    if r.returncode:
        sys.exit('hivexregedit --merge: %s' % r.stderr.decode())
    return open(path, 'rb').read()

def sz(k, v):
    return '"%s"="%s"' % (k, v)

def dw(k, v):
    return '"%s"=dword:%08x' % (k, int(v))

cv = ['[\\Microsoft\\Windows NT\\CurrentVersion]', sz('ProductName', o['product']), sz('CurrentVersion', o['version']),
      sz('CurrentBuildNumber', o['build']), sz('CurrentBuild', o['build']), sz('EditionID', o['edition']),
      sz('InstallationType', o['type']), sz('SystemRoot', 'C:\\' + o['root'])]
if o['major']:
    cv += [dw('CurrentMajorVersionNumber', o['major']), dw('CurrentMinorVersionNumber', o['minor'])]
cv.append('')
if 'u' in o['cloudbase']:
    cv += ['[\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{7C7B2B8B-0C84-4D7E-9D7F-3C1A1B1C1D1E}]',
           sz('DisplayName', 'Cloudbase-Init 1.1.6'), sz('Publisher', 'Cloudbase Solutions Srl'), '']
cv += ['[\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{11111111-2222-3333-4444-555555555555}]',
       sz('DisplayName', 'Some Other Program'), '']
software = hive(cv)

def registered(drv, where):
    """Whether the driver's device ID is in the driver store ('store') or the critical device database ('cddb')."""
    other = 'c' if where == 'store' else 'd'  # c: CDDB only, d: driver store only
    return ('f' in o[drv] or 'p' in o[drv]) and 'x' not in o[drv] and other not in o[drv]

def control_set(cs, real):
    host_name = o['host'] if real else 'STALE-NAME'
    r = ['[\\ControlSet%03d\\Control\\ComputerName\\ComputerName]' % cs, sz('ComputerName', host_name), '',
         '[\\ControlSet%03d\\Control\\Session Manager\\Environment]' % cs, sz('PROCESSOR_ARCHITECTURE', o['arch']),
         sz('OS', 'Windows_NT'), '',
         '[\\ControlSet%03d\\Services\\Tcpip]' % cs, dw('Start', 1), '',
         '[\\ControlSet%03d\\Services\\Tcpip\\Parameters]' % cs]
    dns = host_name.lower() if o['dnshost'] == '' or not real else o['dnshost']
    if dns != '-':
        r += [sz('Hostname', dns), sz('NV Hostname', dns)]
    r += ['']
    for drv in ('viostor', 'vioscsi', 'netkvm'):
        spec = o[drv] if real else 'f0'
        if 's' in spec:
            start = spec[spec.index('s') + 1]
            r += ['[\\ControlSet%03d\\Services\\%s]' % (cs, drv), dw('Start', start), dw('Type', 1),
                  sz('ImagePath', 'System32\\drivers\\%s.sys' % drv), '']
    # the critical device database (before Windows 8) names each virtio device's service
    for drv, dev in (('viostor', '1001'), ('vioscsi', '1004'), ('netkvm', '1000')):
        if real and registered(drv, 'cddb'):
            r += ['[\\ControlSet%03d\\Control\\CriticalDeviceDatabase\\pci#ven_1af4&dev_%s&subsys_00021af4]' % (cs, dev),
                  sz('Service', drv), '']
    r += ['[\\ControlSet%03d\\Control\\CriticalDeviceDatabase\\pci#ven_8086&dev_100e]' % cs, sz('Service', 'E1G60'), '']
    if real and 's' in o['cloudbase']:
        r += ['[\\ControlSet%03d\\Services\\cloudbase-init]' % cs, dw('Start', 2), dw('Type', 16),
              sz('ImagePath', '"C:\\Program Files\\Cloudbase Solutions\\Cloudbase-Init\\bin\\OpenStackService.exe"'), '']
    return r

def hexbytes(b):
    return ','.join('%02x' % x for x in b)

# MountedDevices: LETTER=mbr:SIGNATURE:OFFSET or LETTER=gpt:GUID, comma-separated
mounted = ['[\\MountedDevices]',
           '"\\\\??\\\\Volume{0b1c2d3e-0000-0000-0000-100000000000}"=hex:' + hexbytes('\\??\\IDE#CdRom'.encode('utf-16-le'))]
for m in filter(None, o['mounted'].split(',')):
    letter, _, how = m.partition('=')
    kind, _, rest = how.partition(':')
    if kind == 'mbr':
        sig, off = rest.split(':')
        data = struct.pack('<IQ', int(sig, 16), int(off))
    else:
        import uuid
        data = b'DMIO:ID:' + uuid.UUID(rest).bytes_le
    mounted.append('"\\\\DosDevices\\\\%s:"=hex:%s' % (letter, hexbytes(data)))
mounted.append('')

cur = int(o['current'])
sysl = ['[\\Select]', dw('Current', cur), dw('Default', cur), dw('LastKnownGood', 3 - cur), '']
sysl += control_set(cur, True) + control_set(3 - cur, False) + mounted
# the driver store (Windows 8 / 2012 on): DriverDatabase\DeviceIds\<bus>\<hardware id> = the inf files
store = [('8086', '100E', 'net1ic64.inf')]
store += [('1AF4', dev, drv + '.inf') for drv, dev in (('viostor', '1001'), ('vioscsi', '1004'), ('netkvm', '1000'))
          if registered(drv, 'store')]
for ven, dev, inf in store:
    sysl += ['[\\DriverDatabase\\DeviceIds\\PCI\\VEN_%s&DEV_%s&SUBSYS_0002%s&REV_00]' % (ven, dev, ven),
             '"%s"=hex:01,ff,00,00' % inf, '']
system = hive(sysl)

root = '/' + o['root']
s32 = root + '/' + ('system32' if o['root'].isupper() else 'System32')
for p in (root, s32, s32 + '/config', s32 + '/drivers', '/Program Files', '/Users', '/Users/Administrator'):
    d(p)
f(s32 + '/config/SOFTWARE', software)
f(s32 + '/config/SYSTEM', system)
f(s32 + '/cmd.exe', pe(int(o['machine'], 16)))
f(s32 + '/notepad.exe', pe(int(o['machine'], 16)))
f('/pagefile.sys', bytes(4096))
for drv in ('viostor', 'vioscsi', 'netkvm'):
    if 'f' in o[drv]:
        f('%s/drivers/%s.sys' % (s32, drv), pe(int(o['machine'], 16)))
if 'd' in o['cloudbase']:
    cb = '/Program Files/Cloudbase Solutions'
    for p in (cb, cb + '/Cloudbase-Init', cb + '/Cloudbase-Init/conf', cb + '/Cloudbase-Init/bin'):
        d(p)
    f(cb + '/Cloudbase-Init/conf/cloudbase-init.conf', b'[DEFAULT]\r\nusername=Admin\r\n')
if o['bootini'] == '1':
    f('/boot.ini', ('[boot loader]\r\ntimeout=30\r\ndefault=multi(0)disk(0)rdisk(0)partition(2)\\%s\r\n'
                    '[operating systems]\r\nmulti(0)disk(0)rdisk(0)partition(2)\\%s="Windows Server 2003" /fastdetect\r\n'
                    % (o['root'], o['root'])).encode())
if o['hiber'] == '1':
    f('/hiberfil.sys', b'HIBR' + bytes(4092))
open(name + '.cmds', 'w').write(''.join('\t'.join(c) + '\n' for c in cmds))
