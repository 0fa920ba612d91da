#!/usr/bin/env python3
"""ntfs_mark_dirty.py FS: set VOLUME_IS_DIRTY (0x0001) in the
$VOLUME_INFORMATION attribute (type 0x70) of $Volume (MFT record 3) of the
NTFS volume in file FS, as Windows leaves it after an unclean shutdown.
Assumes 1 KiB MFT records with their fixups intact (mkntfs's defaults); used
by ntfs_tree.sh and check_windows.sh."""
import struct, sys

f = open(sys.argv[1], 'r+b')
boot = f.read(512)
bps, spc = struct.unpack_from('<HB', boot, 11)
mft = struct.unpack_from('<Q', boot, 0x30)[0] * bps * spc
f.seek(mft + 3 * 1024)
rec = bytearray(f.read(1024))
off = struct.unpack_from('<H', rec, 0x14)[0]
while True:
    t, l = struct.unpack_from('<II', rec, off)
    if t == 0xFFFFFFFF or l == 0:
        sys.exit('ntfs_mark_dirty: no $VOLUME_INFORMATION in $Volume')
    if t == 0x70:
        v = off + struct.unpack_from('<H', rec, off + 0x14)[0]
        rec[v + 0xA] |= 1
        break
    off += l
f.seek(mft + 3 * 1024)
f.write(rec)
