#!/usr/bin/python3
"""make_hostile.py OUTDIR [NAME...]: small crafted inputs that claim huge
structures, for resource_bounds.sh. Each file is named for what it claims.

Each input starts from what a real tool writes (qemu-img, mkfs.ext4, sgdisk,
mkntfs, mkfs.xfs/xfs_db) where one exists, and one header field is then
patched to the claim, with every checksum that guards it recomputed, so that
a reader believes the claim and must bound it by a limit rather than reject it
on a checksum. Formats no tool here writes (an LVM2 PV, a registry hive) are
written from their specifications. Where the claim needs a big file, the file
is sparse (truncate): its blocks are a few KiB.

Specifications: qemu docs/interop/qcow2.txt; VMware "Virtual Disk Format
1.1" (sparse extent header, grain directory); Microsoft "Virtual Hard Disk
Image Format Specification" (footer, dynamic disk header, checksum); UEFI 2.9
section 5.3 (GPT header, CRC32); the kernel's Documentation/filesystems/ext4
(super.rst, dynamic.rst "Extent Tree", directory.rst); LVM2 lib/format_text
(label_header, pv_header, mda_header, raw_locn, calc_crc); the NTFS boot
sector and MFT record layout (ntfs-3g layout.h); Microsoft/libyal "Windows
NT Registry File (REGF) format" (base block, hive bin).

Names a tool is missing for are skipped with a line on stderr. Prints the
names it wrote, one per line.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else '.')
ONLY = set(sys.argv[2:])
SRCDIR = os.environ.get('SRCDIR', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
GiB, TiB = 1 << 30, 1 << 40
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'support'))
import mkhive  # noqa: E402  (the hive checksum)


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw).stdout


def path(name):
    return os.path.join(OUT, name)


def patch(name, off, data):
    with open(path(name), 'r+b') as f:
        f.seek(off)
        f.write(data)


def read(name, off, n):
    with open(path(name), 'rb') as f:
        f.seek(off)
        return f.read(n)


def have(*tools):
    return all(shutil.which(t) for t in tools)


# ---- checksums ----

def _table(poly):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_CRC32C = _table(0x82F63B78)


def crc32c_raw(crc, data):
    """The CRC32c register after @data, without the final inversion (ext4's and xfs's ext4_chksum)."""
    for b in data:
        crc = _CRC32C[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc


def lvm_crc(data, initial=0xf597a6cf):
    """LVM2's calc_crc: the reflected CRC32 of zlib started at @initial, with no final inversion."""
    return ~zlib.crc32(data, ~initial & 0xffffffff) & 0xffffffff


def ones_complement_sum(buf, skip):
    """VHD's checksum: the one's complement of the byte sum, the checksum field counted as zero."""
    return ~sum(b for i, b in enumerate(buf) if not skip <= i < skip + 4) & 0xffffffff


# ---- qcow2 (docs/interop/qcow2.txt "Header") ----

def qcow2_base(name, size='1G', opts='cluster_size=65536'):
    run('qemu-img', 'create', '-q', '-f', 'qcow2', '-o', opts, path(name), size)


def qcow2_l1_2e31(name):
    """l1_size = 2^31 (16 GiB of L1) with a virtual size it must map: 2^31 entries of 512 MiB each."""
    qcow2_base(name)
    patch(name, 24, struct.pack('>Q', 1 << 60))  # size
    patch(name, 36, struct.pack('>I', 1 << 31))  # l1_size


def qcow2_refcount_table_huge(name):
    """A plausible L1 and a refcount table of 2^20 clusters (64 GiB), inside a sparse file so that it is
    believed (reading needs no refcounts: it must not be read)."""
    qcow2_base(name)
    patch(name, 56, struct.pack('>I', 1 << 20))  # refcount_table_clusters
    with open(path(name), 'r+b') as f:
        f.truncate((64 << 30) + (1 << 20))


def qcow2_snapshots_2e31(name):
    """nb_snapshots = 2^31 (each header at least 40 bytes: 80 GiB), the table in the last cluster of a
    sparse file of 96 GiB so that it is believed."""
    qcow2_base(name)
    size = os.path.getsize(path(name)) // 65536 * 65536
    patch(name, 60, struct.pack('>IQ', 1 << 31, size - 65536))  # nb_snapshots, snapshots_offset
    with open(path(name), 'r+b') as f:
        f.truncate(96 << 30)


def qcow2_chain_l1_48m(name):
    """A qcow2 over a backing qcow2, each with an L1 table of 48 MiB (in sparse files of 48 MiB): the
    table limit bounds the chain, so the backing file has 16 MiB left. (qemu-img opens a backing file
    to create an overlay, so both are made first and patched after.)"""
    base = name.replace('.qcow2', '.base.qcow2')
    qcow2_base(base)
    run('qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', path(name), '1G')
    entries = (48 << 20) // 8
    for n in (base, name):
        l1_off = struct.unpack('>Q', read(n, 40, 8))[0]
        patch(n, 24, struct.pack('>Q', entries << 29))  # size: what an L1 of that many entries maps
        patch(n, 36, struct.pack('>I', entries))
        with open(path(n), 'r+b') as f:
            f.truncate(l1_off + (48 << 20) + 65536)


def qcow2_compressed_bomb(name, ctype):
    """Guest cluster 0 compressed, its descriptor then pointed at a stream that
    inflates to 100 MiB of zeros, in the 128 KiB the descriptor can span."""
    raw = path(name + '.raw')
    with open(raw, 'wb') as f:
        f.write(b'imgprobe' * 8192 * 16)  # 1 MiB that compresses
    opts = 'cluster_size=65536' + (',compression_type=zstd' if ctype == 'zstd' else '')
    run('qemu-img', 'convert', '-c', '-O', 'qcow2', '-o', opts, raw, path(name))
    os.unlink(raw)
    cluster_bits = struct.unpack('>I', read(name, 20, 4))[0]
    l1_off = struct.unpack('>Q', read(name, 40, 8))[0]
    l2_off = struct.unpack('>Q', read(name, l1_off, 8))[0] & 0x00fffffffffffe00
    entry = struct.unpack('>Q', read(name, l2_off, 8))[0]
    assert entry >> 62 & 1, 'guest cluster 0 is not compressed'
    if ctype == 'zstd':
        bomb = subprocess.run(['zstd', '-q', '-19', '-c'], input=bytes(100 << 20), check=True,
                              stdout=subprocess.PIPE).stdout
    else:
        z = zlib.compressobj(9, zlib.DEFLATED, -12)  # raw deflate, qemu's window
        bomb = z.compress(bytes(100 << 20)) + z.flush()
    x = 62 - (cluster_bits - 8)  # "Compressed Clusters Descriptor"
    max_sectors = 1 << (cluster_bits - 8)
    sectors = min((len(bomb) + 511) // 512, max_sectors)
    at = (os.path.getsize(path(name)) + 511) // 512 * 512
    patch(name, at, bomb[:sectors * 512].ljust(sectors * 512, b'\0'))
    patch(name, l2_off, struct.pack('>Q', 1 << 62 | (sectors - 1) << x | at))


# ---- VMDK (Virtual Disk Format 1.1, "Hosted Sparse Extent Header") ----

def vmdk_base(name):
    run('qemu-img', 'create', '-q', '-f', 'vmdk', path(name), '1G')


def vmdk_set_capacity(name, sectors):
    patch(name, 12, struct.pack('<Q', sectors))
    desc_off, desc_size = struct.unpack('<QQ', read(name, 28, 16))
    text = read(name, desc_off * 512, desc_size * 512)
    text = re.sub(rb'RW \d+ SPARSE', b'RW %d SPARSE' % sectors, text.rstrip(b'\0'))
    patch(name, desc_off * 512, text.ljust(desc_size * 512, b'\0'))


def vmdk_gd_2e32(name):
    """A capacity of 2^32 grain tables (64 KiB grains, 512 entries each): a 32 GiB grain directory."""
    vmdk_base(name)
    grain, gtes = struct.unpack('<Q', read(name, 20, 8))[0], struct.unpack('<I', read(name, 44, 4))[0]
    vmdk_set_capacity(name, (1 << 32) * grain * gtes)


def vmdk_desc_2e40(name):
    """An embedded descriptor of 2^40 sectors."""
    vmdk_base(name)
    patch(name, 36, struct.pack('<Q', 1 << 40))


def vmdk_descfile_4g(name):
    """A descriptor file of 4 GiB: its text, then a sparse tail."""
    with open(path(name), 'wb') as f:
        f.write(b'# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
                b'createType="monolithicFlat"\n\n# Extent description\nRW 2048 FLAT "flat.img" 0\n')
        f.truncate(4 * GiB)


# ---- VHD (Virtual Hard Disk Image Format Specification) ----

def vhd_bat_2e32(name):
    """Max Table Entries 2^32-1 and 512-byte blocks under a 2040 GiB disk (4.28e9 blocks): a 16 GiB BAT,
    inside a sparse file so that it is believed."""
    run('qemu-img', 'create', '-q', '-f', 'vpc', '-o', 'subformat=dynamic,force_size=on', path(name), '1G')
    footer = bytearray(read(name, 0, 512))
    size = 2040 * GiB
    struct.pack_into('>QQ', footer, 40, size, size)  # original size, current size
    struct.pack_into('>HBB', footer, 56, 65535, 16, 255)  # geometry: the CHS maximum
    struct.pack_into('>I', footer, 64, ones_complement_sum(footer, 64))
    dyn = bytearray(read(name, 512, 1024))
    struct.pack_into('>II', dyn, 28, 0xffffffff, 512)  # max table entries, block size
    struct.pack_into('>I', dyn, 36, ones_complement_sum(dyn, 36))
    table_off = struct.unpack('>Q', dyn[16:24])[0]
    end = (table_off + 0xffffffff * 4 + 511) // 512 * 512
    with open(path(name), 'r+b') as f:
        f.truncate(end)
        f.seek(0)
        f.write(footer)
        f.write(dyn)
        f.seek(end)
        f.write(footer)


# ---- GPT (UEFI 2.9 section 5.3.2) ----

def gpt_disk(name):
    with open(path(name), 'wb') as f:
        f.truncate(16 << 20)
    run('sgdisk', '-o', '-n', '1:2048:+8M', '-t', '1:8300', path(name))


def gpt_patch_headers(name, num_entries, entry_size):
    size = os.path.getsize(path(name))
    for lba in (1, size // 512 - 1):
        h = bytearray(read(name, lba * 512, 512))
        assert h[:8] == b'EFI PART'
        hsize = struct.unpack_from('<I', h, 12)[0]
        struct.pack_into('<II', h, 80, num_entries, entry_size)
        struct.pack_into('<I', h, 16, 0)
        struct.pack_into('<I', h, 16, zlib.crc32(bytes(h[:hsize])))
        patch(name, lba * 512, h)


def gpt_entries_2e32(name):
    """2^32-1 entries of 128 bytes (512 GiB of entries), header CRCs valid."""
    gpt_disk(name)
    gpt_patch_headers(name, 0xffffffff, 128)


def gpt_entry_size_2e31(name):
    """128 entries of 2^31 bytes each, header CRCs valid."""
    gpt_disk(name)
    gpt_patch_headers(name, 128, 1 << 31)


# ---- ext4 (Documentation/filesystems/ext4) ----

def small_tree(d):
    os.makedirs(os.path.join(d, 'dir'), exist_ok=True)
    with open(os.path.join(d, 'file'), 'wb') as f:
        f.write(b'hostile\n' * 2048)
    with open(os.path.join(d, 'dir', 'inner'), 'w') as f:
        f.write('inner\n')


def mkfs_ext4(name, features=None, size='32M'):
    tree = path(name + '.tree')
    small_tree(tree)
    cmd = ['mkfs.ext4', '-q', '-F', '-b', '4096', '-O', features or '64bit,metadata_csum', '-d', tree,
           path(name), size]
    run(*cmd)
    shutil.rmtree(tree)


def ext4_sb_rewrite(name, fn):
    sb = bytearray(read(name, 1024, 1024))
    fn(sb)
    if struct.unpack_from('<I', sb, 0x64)[0] & 0x400:  # RO_COMPAT_METADATA_CSUM: s_checksum, crc32c
        struct.pack_into('<I', sb, 0x3fc, crc32c_raw(0xffffffff, bytes(sb[:0x3fc])))
    patch(name, 1024, sb)


def ext4_groups(name, groups):
    mkfs_ext4(name)

    def claim(sb):
        first = struct.unpack_from('<I', sb, 0x14)[0]
        per_group = struct.unpack_from('<I', sb, 0x20)[0]
        blocks = first + (groups - 1) * per_group + 1
        struct.pack_into('<I', sb, 0x04, blocks & 0xffffffff)  # s_blocks_count_lo
        struct.pack_into('<I', sb, 0x150, blocks >> 32)  # s_blocks_count_hi
    ext4_sb_rewrite(name, claim)


def ext4_groups_2e32m1(name):
    """2^32-1 block groups (64-byte descriptors: 256 GiB of them), superblock checksum valid."""
    ext4_groups(name, (1 << 32) - 1)


def ext4_groups_2e32(name):
    """2^32 block groups, one more than a 32-bit group number holds."""
    ext4_groups(name, 1 << 32)


def ext4_inode_offset(name, p):
    """The byte offset of the inode of path @p (debugfs imap) and the inode number."""
    ino = int(re.search(rb'Inode: (\d+)', run('debugfs', '-R', 'stat ' + p, path(name))).group(1))
    m = re.search(rb'located at block (\d+), offset 0x([0-9a-f]+)', run('debugfs', '-R', 'imap ' + p, path(name)))
    return int(m.group(1)) * 4096 + int(m.group(2), 16), ino


def ext4_dir_isize_2e40(name):
    """A directory whose i_size says 1 TiB, with one block mapped: 2^28 blocks of holes to walk."""
    mkfs_ext4(name, '64bit,^metadata_csum')
    off, _ = ext4_inode_offset(name, '/dir')
    size = TiB
    patch(name, off + 0x04, struct.pack('<I', size & 0xffffffff))  # i_size_lo
    patch(name, off + 0x6c, struct.pack('<I', size >> 32))  # i_size_high


def ext4_extent_depth_65535(name):
    """A file whose extent tree root claims depth 65535."""
    mkfs_ext4(name, '64bit,^metadata_csum')
    off, _ = ext4_inode_offset(name, '/file')
    assert read(name, off + 0x28, 2) == b'\x0a\xf3'
    patch(name, off + 0x28 + 6, struct.pack('<H', 65535))  # eh_depth


def ext4_dir_1e7(name):
    """A directory of 10^7 entries in 120 MB of blocks, every one of its 29,326 blocks the same
    physical block of 341 entries (an extent per block, depth 2): a 32 MiB filesystem."""
    mkfs_ext4(name, '64bit,^metadata_csum')
    off, _ = ext4_inode_offset(name, '/dir')
    _, file_ino = ext4_inode_offset(name, '/file')
    per_block = 341  # 4096 / 12: entries of 4-character names
    nblocks = (10 ** 7 + per_block - 1) // per_block
    per_node = (4096 - 12) // 12
    leaves = (nblocks + per_node - 1) // per_node
    free = [int(b) for b in re.findall(rb'\d+', run('debugfs', '-R', 'ffb %d 4096' % (leaves + 2),
                                                     path(name)).split(b':', 1)[1])]
    data, index, leaf_blocks = free[0], free[1], free[2:2 + leaves]
    # the directory block: 341 entries "0000".."0340", the last one taking the rest of the block
    blk = bytearray()
    for i in range(per_block):
        rec = 12 if i < per_block - 1 else 4096 - len(blk)
        blk += struct.pack('<IHBB', file_ino, rec, 4, 1) + b'%04d' % i + bytes(rec - 12)
    patch(name, data * 4096, blk)
    # leaves: one extent per logical block, all mapping the same physical block
    for n, lb in enumerate(leaf_blocks):
        first = n * per_node
        count = min(per_node, nblocks - first)
        node = struct.pack('<HHHHI', 0xf30a, count, per_node, 0, 0)
        for i in range(count):
            node += struct.pack('<IHHI', first + i, 1, data >> 32, data & 0xffffffff)
        patch(name, lb * 4096, node.ljust(4096, b'\0'))
    node = struct.pack('<HHHHI', 0xf30a, leaves, per_node, 1, 0)
    for n, lb in enumerate(leaf_blocks):
        node += struct.pack('<IIHH', n * per_node, lb & 0xffffffff, lb >> 32, 0)
    patch(name, index * 4096, node.ljust(4096, b'\0'))
    root = struct.pack('<HHHHI', 0xf30a, 1, 4, 2, 0) + struct.pack('<IIHH', 0, index, 0, 0)
    patch(name, off + 0x28, root.ljust(60, b'\0'))  # i_block
    size = nblocks * 4096
    patch(name, off + 0x04, struct.pack('<I', size & 0xffffffff))
    patch(name, off + 0x6c, struct.pack('<I', size >> 32))
    flags = struct.unpack('<I', read(name, off + 0x20, 4))[0]
    patch(name, off + 0x20, struct.pack('<I', (flags | 0x80000) & ~0x1000))  # EXTENTS, not INDEX (htree)


# ---- XFS (xfs_db writes the claim and recomputes the inode CRC) ----

def xfs_bmbt_level_200(name):
    """A file whose data fork is turned into a B+tree root of level 200."""
    tree = path(name + '.tree')
    small_tree(tree)
    proto = run('bash', os.path.join(SRCDIR, 'tests/integration/make_protofile.sh'), tree)
    with open(path(name + '.proto'), 'wb') as f:
        f.write(proto)
    with open(path(name), 'wb') as f:
        f.truncate(300 << 20)
    run('mkfs.xfs', '-q', '-f', '-p', path(name + '.proto'), path(name))
    os.unlink(path(name + '.proto'))
    shutil.rmtree(tree)
    run('xfs_db', '-x', '-c', 'path /file', '-c', 'write core.format 3', '-c', 'write u3.bmbt.level 200',
        '-c', 'write u3.bmbt.numrecs 1', path(name))


# ---- LVM2 (lib/format_text/layout.h, lib/label/label.h) ----

def lvm_pv(name, mda_size, text_size):
    """A PV on a whole disk: label in sector 1, one metadata area at 4 KiB whose header says
    @mda_size and whose text location says @text_size bytes (0: the text's own length). The disk is
    sparse and big enough for the area, so that the claim is believed."""
    pv_uuid = b'Hostile0PV0uuid0000000000000000a'
    text = (b'vg0 {\nid = "Hostil-e0VG-uuid-0000-0000-0000-000000"\nseqno = 1\nformat = "lvm2"\n'
            b'status = ["RESIZEABLE", "READ", "WRITE"]\nextent_size = 8192\nmax_lv = 0\nmax_pv = 0\n'
            b'physical_volumes {\npv0 {\nid = "Hostil-e0PV-0uui-d000-0000-0000-00000a"\n'
            b'device = "/dev/vda"\nstatus = ["ALLOCATABLE"]\ndev_size = 8192\npe_start = 2048\n'
            b'pe_count = 0\n}\n}\n}\n')
    disk = bytearray(64 << 10)
    mda_start, text_off = 4096, 512
    # pv_header: uuid, device size, data areas {offset, size}..{0,0}, metadata areas ..{0,0}
    disk_size = max(len(disk), mda_start + mda_size + (1 << 20))
    pvh = pv_uuid + struct.pack('<Q', disk_size)
    pvh += struct.pack('<QQQQ', 1 << 20, 0, 0, 0)
    pvh += struct.pack('<QQQQ', mda_start, mda_size, 0, 0)
    label = b'LABELONE' + struct.pack('<QII', 1, 0, 32) + b'LVM2 001' + pvh
    label = bytearray(label.ljust(512, b'\0'))
    struct.pack_into('<I', label, 16, lvm_crc(bytes(label[20:])))
    disk[512:1024] = label
    mdah = bytearray(512)
    mdah[4:20] = b' LVM2 x[5A%r0N*>'
    struct.pack_into('<IQQ', mdah, 20, 1, mda_start, mda_size)
    struct.pack_into('<QQII', mdah, 40, text_off, text_size or len(text), lvm_crc(text), 0)
    struct.pack_into('<I', mdah, 0, lvm_crc(bytes(mdah[4:])))
    disk[mda_start:mda_start + 512] = mdah
    disk[mda_start + text_off:mda_start + text_off + len(text)] = text
    with open(path(name), 'wb') as f:
        f.write(disk)
        f.truncate(disk_size)


def lvm_mda_1t(name):
    """A metadata area of 1 TiB (a sparse disk of 1 TiB + 1 MiB) holding a short text."""
    lvm_pv(name, TiB, 0)


def lvm_text_1t(name):
    """A metadata area of 1 TiB whose text is said to be 1 TiB - 1 KiB long."""
    lvm_pv(name, TiB, TiB - 1024)


# ---- NTFS (boot sector, $MFT record 0) ----

def mkntfs(name):
    with open(path(name), 'wb') as f:
        f.truncate(16 << 20)
    run('mkntfs', '-q', '-F', '-Q', '-s', '512', '-c', '4096', path(name))


def ntfs_record_2e31(name):
    """clusters_per_mft_record -31: MFT records of 2^31 bytes (both boot sectors)."""
    mkntfs(name)
    size = os.path.getsize(path(name))
    for at in (0, size - 512):
        if read(name, at + 3, 4) == b'NTFS':
            patch(name, at + 0x40, b'\xe1')


def ntfs_mft_runs_2e40(name):
    """$MFT's $DATA claims 2^40 bytes, in one run of 2^28 clusters."""
    mkntfs(name)
    bps = struct.unpack('<H', read(name, 0x0b, 2))[0]
    cluster = bps * read(name, 0x0d, 1)[0]
    mft = struct.unpack('<Q', read(name, 0x30, 8))[0] * cluster
    rec = bytearray(read(name, mft, 1024))
    a = struct.unpack_from('<H', rec, 0x14)[0]
    while struct.unpack_from('<I', rec, a)[0] != 0x80:
        a += struct.unpack_from('<I', rec, a + 4)[0]
    assert rec[a + 8] == 1, '$MFT $DATA is resident'
    alen = struct.unpack_from('<I', rec, a + 4)[0]
    mp = a + struct.unpack_from('<H', rec, a + 0x20)[0]
    clusters = 1 << 28
    lcn = mft // cluster
    lcn_bytes = (lcn.bit_length() + 8) // 8
    run_list = bytes([lcn_bytes << 4 | 4]) + struct.pack('<I', clusters) + lcn.to_bytes(lcn_bytes, 'little') + b'\0'
    assert len(run_list) <= a + alen - mp, 'no room for the run list'
    rec[mp:mp + len(run_list)] = run_list
    struct.pack_into('<Q', rec, a + 0x18, clusters - 1)  # highest VCN
    struct.pack_into('<QQQ', rec, a + 0x28, clusters * cluster, clusters * cluster,
                     clusters * cluster)  # allocated, data, initialized sizes
    patch(name, mft, rec[:510])  # the sector's last two bytes carry the update sequence
    patch(name, mft + 512, rec[512:1022])


# ---- registry hive (REGF: base block, hive bin) ----

def regf(name, bins_size, hbin_size):
    nk = bytearray(0x50 + 4)
    nk[0:2] = b'nk'
    struct.pack_into('<H', nk, 2, 0x2c)  # KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME
    struct.pack_into('<IIIIIIII', nk, 0x10, 0, 0, 0xffffffff, 0xffffffff, 0, 0xffffffff, 0xffffffff,
                     0xffffffff)
    struct.pack_into('<HH', nk, 0x48, 4, 0)
    nk[0x4c:0x50] = b'ROOT'
    cell = struct.pack('<i', -((len(nk) + 4 + 7) // 8 * 8)) + bytes(nk)
    cell = cell.ljust((len(cell) + 7) // 8 * 8, b'\0')
    hbin = bytearray(4096)
    hbin[0:4] = b'hbin'
    struct.pack_into('<III', hbin, 4, 0, hbin_size, 0)
    hbin[0x20:0x20 + len(cell)] = cell
    struct.pack_into('<i', hbin, 0x20 + len(cell), 4096 - 0x20 - len(cell))  # the rest: one free cell
    base = bytearray(4096)
    base[0:4] = b'regf'
    struct.pack_into('<IIQIIIIIII', base, 4, 1, 1, 0, 1, 5, 0, 1, 0x20, bins_size, 1)
    struct.pack_into('<I', base, 508, mkhive.checksum(base))
    with open(path(name), 'wb') as f:
        f.write(base + hbin)


def regf_hbin_2g(name):
    """A hive bin whose size says 2 GiB - 4 KiB (0x7ffff000), in the 4 KiB of hive bins data of an 8 KiB hive."""
    regf(name, 4096, 0x7ffff000)


def regf_bins_4g(name):
    """A base block whose hive bins data size is 4 GiB - 4 KiB, over one 4 KiB bin."""
    regf(name, 0xfffff000, 4096)


# ---- initramfs decompression bombs ----

def initramfs_zstd_1g(name):
    """An initramfs of 1 GiB of zeros in one zstd frame (32 KiB): it must stop at the decompressed limit."""
    with open(path(name), 'wb') as f:
        subprocess.run('head -c 1G /dev/zero | zstd -q -1 -c', shell=True, check=True, stdout=f)


def linux_initramfs_bomb(name):
    """A Debian 12 guest (make_os_tree.py) whose initramfs is the 1 GiB zstd bomb, as
    check_linux.sh's hostile fixture makes it: one ext4 partition on MBR, qcow2."""
    tree = path(name + '.tree')
    run('/usr/bin/python3', os.path.join(SRCDIR, 'tests/integration/make_os_tree.py'), tree, 'debian12')
    boot = os.path.join(tree, 'boot')
    initrd = [f for f in os.listdir(boot) if f.startswith('initrd.img-')][0]
    with open(os.path.join(boot, initrd), 'wb') as f:
        subprocess.run('head -c 1G /dev/zero | zstd -q -1 -c', shell=True, check=True, stdout=f)
    fs, raw = path(name + '.fs'), path(name + '.raw')
    run('mkfs.ext4', '-q', '-F', '-d', tree, fs, '64M')
    shutil.rmtree(tree)
    with open(raw, 'wb') as f:
        f.truncate(66 << 20)
    run('sfdisk', '-q', raw, input=b'label: dos\nstart=2048, type=83\n')
    with open(fs, 'rb') as src, open(raw, 'r+b') as dst:
        dst.seek(1 << 20)
        shutil.copyfileobj(src, dst)
    os.unlink(fs)
    run('qemu-img', 'convert', '-O', 'qcow2', raw, path(name))
    os.unlink(raw)


CASES = [
    ('qcow2_l1_2e31.qcow2', qcow2_l1_2e31, ['qemu-img']),
    ('qcow2_refcount_table_huge.qcow2', qcow2_refcount_table_huge, ['qemu-img']),
    ('qcow2_snapshots_2e31.qcow2', qcow2_snapshots_2e31, ['qemu-img']),
    ('qcow2_chain_l1_48m.qcow2', qcow2_chain_l1_48m, ['qemu-img']),
    ('qcow2_zlib_bomb.qcow2', lambda n: qcow2_compressed_bomb(n, 'zlib'), ['qemu-img']),
    ('qcow2_zstd_bomb.qcow2', lambda n: qcow2_compressed_bomb(n, 'zstd'), ['qemu-img', 'zstd']),
    ('vmdk_gd_2e32.vmdk', vmdk_gd_2e32, ['qemu-img']),
    ('vmdk_desc_2e40.vmdk', vmdk_desc_2e40, ['qemu-img']),
    ('vmdk_descfile_4g.vmdk', vmdk_descfile_4g, []),
    ('vhd_bat_2e32.vhd', vhd_bat_2e32, ['qemu-img']),
    ('gpt_entries_2e32.img', gpt_entries_2e32, ['sgdisk']),
    ('gpt_entry_size_2e31.img', gpt_entry_size_2e31, ['sgdisk']),
    ('ext4_groups_2e32m1.img', ext4_groups_2e32m1, ['mkfs.ext4']),
    ('ext4_groups_2e32.img', ext4_groups_2e32, ['mkfs.ext4']),
    ('ext4_dir_isize_2e40.img', ext4_dir_isize_2e40, ['mkfs.ext4', 'debugfs']),
    ('ext4_extent_depth_65535.img', ext4_extent_depth_65535, ['mkfs.ext4', 'debugfs']),
    ('ext4_dir_1e7.img', ext4_dir_1e7, ['mkfs.ext4', 'debugfs']),
    ('xfs_bmbt_level_200.img', xfs_bmbt_level_200, ['mkfs.xfs', 'xfs_db']),
    ('lvm_mda_1t.img', lvm_mda_1t, []),
    ('lvm_text_1t.img', lvm_text_1t, []),
    ('ntfs_record_2e31.img', ntfs_record_2e31, ['mkntfs']),
    ('ntfs_mft_runs_2e40.img', ntfs_mft_runs_2e40, ['mkntfs']),
    ('regf_hbin_2g.hive', regf_hbin_2g, []),
    ('regf_bins_4g.hive', regf_bins_4g, []),
    ('initramfs_zstd_1g.img', initramfs_zstd_1g, ['zstd']),
    ('linux_initramfs_bomb.qcow2', linux_initramfs_bomb, ['zstd', 'mkfs.ext4', 'sfdisk', 'qemu-img']),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, make, tools in CASES:
        if ONLY and name not in ONLY:
            continue
        if not have(*tools):
            print('skip %s: needs %s' % (name, ' '.join(tools)), file=sys.stderr)
            continue
        make(name)
        print(name)


if __name__ == '__main__':
    main()
