#!/usr/bin/env python3
"""Registry hive fixtures, written from the specification (Maxim Suhanov's
"Windows registry file format specification") and filled by hivexregedit:

  mkhive.py empty MINOR OUT   a hive holding only a root key (what
                              `hivexregedit --merge` needs to start from)
  mkhive.py reg full|small OUT
                              the .reg text to merge into it: every value
                              type, inline/cell/large data, Latin-1 and
                              UTF-16 names, many subkeys, deep nesting
                              (full), or a handful of keys and values (small)

Used by tests/integration/regf.sh (imported) and fuzz/make_seeds.sh.
"""
import struct
import sys


def checksum(base):
    c = 0
    for i in range(0, 508, 4):
        c ^= struct.unpack_from('<I', base, i)[0]
    return {0xffffffff: 0xfffffffe, 0: 1}.get(c, c)

def empty_hive(minor):
    """A hive holding only a root key "ROOT" and its security descriptor, as
    the specification lays one out (regf 1.minor, one 4 KiB hive bin)."""
    bins = bytearray(4096)
    bins[0:32] = b'hbin' + struct.pack('<III', 0, 4096, 0) + bytes(16)
    name = b'ROOT'
    nk_cell = (4 + 76 + len(name) + 7) // 8 * 8
    root, sk = 0x20, 0x20 + nk_cell
    nk = struct.pack('<2sHQIIIIIIIIIIIIIIIHH', b'nk', 0x2c, 0, 0, 0, 0, 0, 0xffffffff, 0xffffffff, 0,
                     0xffffffff, sk, 0xffffffff, 0, 0, 0, 0, 0, len(name), 0) + name
    bins[root:root + 4] = struct.pack('<i', -nk_cell)
    bins[root + 4:root + 4 + len(nk)] = nk
    # self-relative security descriptor: revision 1, SE_SELF_RELATIVE, no owner, group, ACLs
    sd = struct.pack('<BBHIIII', 1, 0, 0x8000, 0, 0, 0, 0)
    skr = struct.pack('<2sHIIII', b'sk', 0, sk, sk, 1, len(sd)) + sd
    bins[sk:sk + 4] = struct.pack('<i', -((4 + len(skr) + 7) // 8 * 8))
    bins[sk + 4:sk + 4 + len(skr)] = skr
    free = sk + (4 + len(skr) + 7) // 8 * 8
    bins[free:free + 4] = struct.pack('<i', 4096 - free)
    base = bytearray(4096)
    struct.pack_into('<4sIIQIIIIIII', base, 0, b'regf', 1, 1, 0, 1, minor, 0, 1, root, 4096, 1)
    struct.pack_into('<I', base, 508, checksum(base))
    return bytes(base + bins)

def hexbytes(b):
    return ','.join('%02x' % x for x in b)

def utf16z(s):
    return (s + '\0').encode('utf-16-le')

def fixture_reg(full=True):
    """The .reg text merged into the fixture hive (UTF-8; hivex encodes names
    as Latin-1 when they fit, else UTF-16)."""
    r = ['Windows Registry Editor Version 5.00', '']
    r += ['[\\Types]', '@="the default value"', '"sz"="hello"',
          '"expand"=hex(2):' + hexbytes(utf16z('%SystemRoot%\\system32')),
          '"binary"=hex:00,01,02,03,04,05,06,07,08',
          '"dword"=dword:0000002a', '"dword-be"=hex(5):00,00,01,02',
          '"link"=hex(6):' + hexbytes('\\Registry\\Machine\\Software'.encode('utf-16-le')),
          '"multi"=hex(7):' + hexbytes(utf16z('one') + utf16z('two') + utf16z('') ),
          '"resource-list"=hex(8):01,00,00,00', '"full-resource"=hex(9):02,00,00,00,00',
          '"requirements"=hex(a):03', '"qword"=hex(b):88,77,66,55,44,33,22,11',
          '"none"=hex(0):', '"unknown-type"=hex(12345678):de,ad,be,ef,01',
          '"empty-sz"=hex(1):', '"one"=hex(3):01', '"two"=hex(3):01,02', '"three"=hex(3):01,02,03',
          '"four"=hex(3):01,02,03,04', '"five"=hex(3):01,02,03,04,05',
          '"sz-unterminated"=hex(1):' + hexbytes('abc'.encode('utf-16-le')),
          '"sz-junk-after-nul"=hex(1):' + hexbytes(utf16z('short') + b'J\0U\0N\0K\0'),
          '"quote\\"and\\\\backslash"="q"', '']
    r += ['[\\Names\\café]', '"ÿ-latin1"=dword:00000001', '',
          '[\\Names\\Привет]', '"значение"=hex(1):' + hexbytes(utf16z('мир')), '',
          '[\\Names\\emoji-\U0001F600]', '"\U0001F600"=dword:00000002', '',
          '[\\Names\\MiXeD CaSe]', '"VaLuE"=dword:00000003', '']
    if not full:
        return finish(r)
    r += ['[\\Big]', '"just-over-a-segment"=hex(3):' + hexbytes(bytes(i % 251 for i in range(16345))),
          '"large"=hex(3):' + hexbytes(bytes((i * 7) % 256 for i in range(70000))),
          '"large-string"=hex(1):' + hexbytes(utf16z('x' * 20000)), '']
    for i in range(1499):
        r += ['[\\Many\\Key%04d]' % i, '']
    r += ['[\\Many\\Key1499]', '"last"=dword:000005dc', '']
    r += ['[\\Deep\\1\\2\\3\\4\\5\\6\\7\\8\\9\\10\\11\\12]', '"leaf"="deep"', '']
    r += ['[\\Software\\Microsoft\\Windows NT\\CurrentVersion]', '"ProductName"="Windows Server 2019 Datacenter"',
          '"CurrentBuildNumber"="17763"', '"CurrentMajorVersionNumber"=dword:0000000a', '']
    return finish(r)

def finish(r):
    """The .reg text of lines @p r; hivexregedit creates a key only under one
    that exists, so every parent is named first."""
    out, seen = [], set()
    for line in r:
        if line.startswith('[\\') and line.endswith(']'):
            parts = line[2:-1].split('\\')
            for i in range(1, len(parts)):
                prefix = '\\'.join(parts[:i])
                if prefix not in seen:
                    seen.add(prefix)
                    out += ['[\\%s]' % prefix, '']
            seen.add('\\'.join(parts))
        out.append(line)
    return '\r\n'.join(out).encode('utf-8') + b'\r\n'


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'empty':
        data = empty_hive(int(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == 'reg' and sys.argv[2] in ('full', 'small'):
        data = fixture_reg(sys.argv[2] == 'full')
    else:
        sys.exit('usage: mkhive.py empty MINOR OUT | mkhive.py reg full|small OUT')
    with open(sys.argv[3], 'wb') as f:
        f.write(data)
