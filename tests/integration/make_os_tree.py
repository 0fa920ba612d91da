#!/usr/bin/python3
"""make_os_tree.py DIR PROFILE [--option ...]: write a realistic Linux root
tree for `imgprobe check` fixtures (tests/integration/check_linux.sh).

A profile is a distribution as the import sees it: its release files
(os-release, lsb-release, redhat-release, SuSE-release, debian_version), its
boot loader's configuration in that distribution's style (grub2 with
grubenv, grub2 + BLS, grub legacy, ostree), its kernel (a /boot/vmlinuz-V,
/boot/config-V, /lib/modules/V with modules.dep and modules.builtin) and its
initramfs (real cpio archives made with `cpio -o -H newc`, compressed with the
distribution's compressor, with an early-microcode archive first where the
distribution has one). Binaries carry real ELF headers copied from this
host's /bin/sh (patched to 32-bit i386 for --arch i386).

Options say what to break or vary:
  --virtio=initramfs|builtin|module-only|none   where the virtio drivers are
  --cloud-init=enabled|installed|disabled|none
  --root-spec=SPEC      fstab's and root='s spec for "/"   (default UUID=$ROOT_UUID)
  --boot-spec=SPEC      fstab's spec for a separate /boot (omit: /boot on the root)
  --extra-fstab=LINE    one more fstab line (repeatable)
  --arch=x86_64|i386
  --hostname=NAME
  --default-kernel-missing   the boot entry names a kernel that is not there
  --split-boot=DIR      write /boot's contents to DIR instead (a /boot partition)
Prints nothing; exit 0.
"""
import gzip, io, os, shutil, stat, subprocess, sys

KERNELS = {
    'centos6': '2.6.32-754.35.1.el6.x86_64',
    'centos7': '3.10.0-1160.el7.x86_64',
    'centos8': '4.18.0-348.7.1.el8_5.x86_64',
    'rocky9': '5.14.0-362.8.1.el9_3.x86_64',
    'ubuntu1804': '4.15.0-213-generic',
    'ubuntu2204': '5.15.0-91-generic',
    'debian12': '6.1.0-13-amd64',
    'fcos': '6.5.6-300.fc39.x86_64',
    'leap15': '5.14.21-150500.55.39-default',
    'sles12': '4.12.14-122.183-default',
    'sles15': '5.14.21-150500.55.39-default',
    'sles11': '3.0.101-63-default',
}

OS_RELEASE = {
    'centos7': 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\n'
               'PRETTY_NAME="CentOS Linux 7 (Core)"\n',
    'centos8': 'NAME="CentOS Linux"\nVERSION="8"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="8"\n'
               'PRETTY_NAME="CentOS Linux 8"\n',
    'rocky9': 'NAME="Rocky Linux"\nVERSION="9.3 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\n'
              'VERSION_ID="9.3"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n',
    'ubuntu1804': 'NAME="Ubuntu"\nVERSION="18.04.6 LTS (Bionic Beaver)"\nID=ubuntu\nID_LIKE=debian\n'
                  'PRETTY_NAME="Ubuntu 18.04.6 LTS"\nVERSION_ID="18.04"\n',
    'ubuntu2204': 'PRETTY_NAME="Ubuntu 22.04.3 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n'
                  'VERSION="22.04.3 LTS (Jammy Jellyfish)"\nID=ubuntu\nID_LIKE=debian\n',
    'debian12': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
                'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n',
    'fcos': 'NAME="Fedora Linux"\nVERSION="39.20231119.3.0 (CoreOS)"\nID=fedora\nVERSION_ID=39\n'
            'VARIANT="CoreOS"\nVARIANT_ID=coreos\nPRETTY_NAME="Fedora CoreOS 39.20231119.3.0"\n',
    'leap15': 'NAME="openSUSE Leap"\nVERSION="15.5"\nID="opensuse-leap"\nID_LIKE="suse opensuse"\n'
              'VERSION_ID="15.5"\nPRETTY_NAME="openSUSE Leap 15.5"\n',
    'sles12': 'NAME="SLES"\nVERSION="12-SP5"\nVERSION_ID="12.5"\nPRETTY_NAME="SUSE Linux Enterprise Server 12 SP5"\n'
              'ID="sles"\nID_LIKE="suse"\n',
    'sles15': 'NAME="SLES"\nVERSION="15-SP5"\nVERSION_ID="15.5"\nPRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"\n'
              'ID="sles"\nID_LIKE="suse"\n',
}

# (boot loader style, initramfs name pattern, compression, early microcode archive, family)
STYLE = {
    'centos6': ('grub-legacy', 'initramfs-{v}.img', 'gzip', False, 'rhel'),
    'centos7': ('grub2-saved', 'initramfs-{v}.img', 'gzip', True, 'rhel'),
    'centos8': ('grub2-bls', 'initramfs-{v}.img', 'xz', True, 'rhel'),
    'rocky9': ('grub2-bls', 'initramfs-{v}.img', 'zstd', True, 'rhel'),
    'ubuntu1804': ('grub2', 'initrd.img-{v}', 'lz4', True, 'debian'),
    'ubuntu2204': ('grub2', 'initrd.img-{v}', 'zstd', True, 'debian'),
    'debian12': ('grub2', 'initrd.img-{v}', 'zstd', True, 'debian'),
    'fcos': ('ostree', 'initramfs-{v}.img', 'gzip', True, 'rhel'),
    'leap15': ('grub2', 'initrd-{v}', 'xz', False, 'suse'),
    'sles12': ('grub2', 'initrd-{v}', 'xz', False, 'suse'),
    'sles15': ('grub2', 'initrd-{v}', 'bzip2', True, 'suse'),
    'sles11': ('grub-legacy', 'initrd-{v}', 'lzma', False, 'suse'),
}

VIRTIO = [('virtio_blk', 'block', 'VIRTIO_BLK'), ('virtio_scsi', 'scsi', 'SCSI_VIRTIO'),
          ('virtio_net', 'net', 'VIRTIO_NET'), ('virtio_pci', 'virtio', 'VIRTIO_PCI')]


def main():
    root, profile = sys.argv[1], sys.argv[2]
    opts = {'virtio': 'initramfs', 'cloud-init': 'enabled', 'arch': 'x86_64', 'hostname': profile + '-host',
            'root-spec': 'UUID=' + os.environ.get('ROOT_UUID', '11111111-2222-3333-4444-555555555555'),
            'boot-spec': None, 'extra-fstab': [], 'split-boot': None, 'default-kernel-missing': False}
    for a in sys.argv[3:]:
        k, _, v = a[2:].partition('=')
        if k == 'extra-fstab':
            opts[k].append(v)
        elif k == 'default-kernel-missing':
            opts[k] = True
        else:
            opts[k] = v
    kver = KERNELS[profile]
    loader, initrd_pat, comp, microcode, family = STYLE[profile]
    ostree = loader == 'ostree'
    sysroot = root
    if ostree:
        deploy = 'ostree/deploy/fedora-coreos/deploy/4f1c0e2a9d.0'
        root = os.path.join(sysroot, deploy)
        for d in ('ostree/repo/objects', 'boot', 'sysroot'):
            os.makedirs(os.path.join(sysroot, d), exist_ok=True)
        write(sysroot, '.coreos-aleph-version.json', '{"build": "39.20231119.3.0"}\n')
    bootdir = opts['split-boot'] or os.path.join(sysroot, 'boot')
    os.makedirs(bootdir, exist_ok=True)
    os.makedirs(os.path.join(sysroot, 'boot'), exist_ok=True)

    # --- filesystem hierarchy, merged /usr where the distribution has it
    merged = profile not in ('centos6', 'sles11', 'sles12', 'ubuntu1804')
    for d in ('etc', 'usr/bin', 'usr/sbin', 'usr/lib', 'var/lib', 'tmp', 'root', 'home', 'dev', 'proc', 'sys'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    if merged:
        for d in ('bin', 'sbin', 'lib'):
            os.symlink('usr/' + d, os.path.join(root, d))
    else:
        for d in ('bin', 'sbin', 'lib'):
            os.makedirs(os.path.join(root, d), exist_ok=True)
    elf = open('/bin/sh', 'rb').read(4096)
    if opts['arch'] == 'i386':
        elf = bytearray(elf)
        elf[4] = 1            # ELFCLASS32
        elf[18:20] = b'\x03\x00'  # EM_386
        elf = bytes(elf)
    write(root, 'usr/bin/dash', elf, 0o755)
    write(root, 'usr/bin/bash', elf, 0o755)
    os.symlink('dash' if family == 'debian' else 'bash', os.path.join(root, 'usr/bin/sh'))
    if not merged:
        write(root, 'bin/bash', elf, 0o755)
        os.symlink('bash', os.path.join(root, 'bin/sh'))

    # --- identity
    if profile in OS_RELEASE:
        write(root, 'usr/lib/os-release' if family != 'debian' else 'etc/os-release', OS_RELEASE[profile])
        if family != 'debian':
            os.symlink('../usr/lib/os-release', os.path.join(root, 'etc/os-release'))
    if profile == 'centos6':
        write(root, 'etc/centos-release', 'CentOS release 6.10 (Final)\n')
        os.symlink('centos-release', os.path.join(root, 'etc/redhat-release'))
        write(root, 'etc/sysconfig/network', 'NETWORKING=yes\nHOSTNAME=%s\n' % opts['hostname'])
    elif profile == 'sles11':
        write(root, 'etc/SuSE-release', 'SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n')
    if profile.startswith('centos7'):
        write(root, 'etc/centos-release', 'CentOS Linux release 7.9.2009 (Core)\n')
    if profile.startswith('ubuntu'):
        ver = {'ubuntu1804': '18.04', 'ubuntu2204': '22.04'}[profile]
        write(root, 'etc/lsb-release', 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=%s\n' % ver)
    if family == 'debian':
        write(root, 'etc/debian_version', {'debian12': '12.4', 'ubuntu1804': 'buster/sid',
                                            'ubuntu2204': 'bookworm/sid'}[profile] + '\n')
    if profile not in ('centos6',):
        write(root, 'etc/HOSTNAME' if family == 'suse' else 'etc/hostname', opts['hostname'] + '\n')
    write(root, 'etc/hosts', '127.0.0.1 localhost\n')
    if family == 'rhel' or family == 'suse':
        write(root, 'usr/bin/dracut', b'#!/bin/bash\n', 0o755)
    else:
        write(root, 'usr/sbin/update-initramfs', b'#!/bin/sh\n', 0o755)
    fstab = ['# /etc/fstab: static file system information.', '%s / ext4 defaults 0 1' % opts['root-spec']]
    if opts['boot-spec']:
        fstab.append('%s /boot ext4 defaults 0 2' % opts['boot-spec'])
    fstab += ['proc /proc proc defaults 0 0', 'tmpfs /tmp tmpfs defaults 0 0'] + opts['extra-fstab']
    write(root, 'etc/fstab', '\n'.join(fstab) + '\n' if not ostree else '# ostree: mounts made by systemd\n')

    # --- kernel, modules, config
    moddir = os.path.join(root, 'usr/lib/modules' if merged else 'lib/modules', kver)
    os.makedirs(os.path.join(moddir, 'kernel'), exist_ok=True)
    suffix = '.ko.zst' if profile in ('rocky9',) else '.ko' if family == 'debian' else '.ko.xz'
    v = opts['virtio']
    deps, builtin, config = [], [], ['# Linux kernel config', 'CONFIG_VIRTIO=y']
    for mod, sub, cfg in VIRTIO:
        path = 'kernel/drivers/%s/%s%s' % (sub, mod, suffix)
        if v == 'builtin':
            builtin.append('kernel/drivers/%s/%s.ko' % (sub, mod))
            config.append('CONFIG_%s=y' % cfg)
        elif v in ('initramfs', 'module-only'):
            write(moddir, path, b'\x7fELF module ' + mod.encode())
            deps.append(path + ':')
            config.append('CONFIG_%s=m' % cfg)
        else:
            config.append('# CONFIG_%s is not set' % cfg)
    write(moddir, 'kernel/drivers/net/e1000/e1000' + suffix, b'\x7fELF module e1000')
    deps.append('kernel/drivers/net/e1000/e1000%s:' % suffix)
    write(moddir, 'modules.dep', '\n'.join(deps) + '\n')
    write(moddir, 'modules.builtin', '\n'.join(builtin + ['kernel/fs/ext4/ext4.ko']) + '\n')
    kdir = bootdir
    if ostree:
        kdir = os.path.join(bootdir, 'ostree', 'fedora-coreos-4f1c0e2a9d')
        os.makedirs(kdir, exist_ok=True)
    write(kdir, 'vmlinuz-' + kver, os.urandom(65536))
    if ostree:  # ostree keeps the config in the modules tree, beside the kernel's modules
        write(moddir, 'config', '\n'.join(config) + '\n')
    else:
        write(bootdir, 'config-' + kver, '\n'.join(config) + '\n')
        write(bootdir, 'System.map-' + kver, '0000000000000000 T _text\n')

    # --- initramfs
    initrd = initrd_pat.format(v=kver)
    mods = [] if v in ('builtin', 'none', 'module-only') else [
        'usr/lib/modules/%s/kernel/drivers/%s/%s%s' % (kver, sub, mod, suffix) for mod, sub, _ in VIRTIO]
    make_initramfs(os.path.join(kdir, initrd), comp, microcode, mods, kver)

    # --- boot loader
    title = {'debian': 'Debian GNU/Linux' if profile == 'debian12' else 'Ubuntu', 'rhel': 'CentOS Linux',
             'suse': 'SLES'}[family]
    booted = 'vmlinuz-' + ('9.9.9-missing' if opts['default-kernel-missing'] else kver)
    kpath = '/' + booted if opts['split-boot'] or opts['boot-spec'] else '/boot/' + booted
    ipath = kpath.replace(booted, initrd)
    cmd = 'root=%s ro quiet' % opts['root-spec']
    if opts['cloud-init'] == 'disabled':
        cmd += ' cloud-init=disabled'
    if loader == 'grub2':
        gdir = os.path.join(bootdir, 'grub')
        write(gdir, 'grub.cfg',
              '#\n# DO NOT EDIT THIS FILE\n#\nif [ -s $prefix/grubenv ]; then\n  load_env\nfi\n'
              'if [ "${next_entry}" ] ; then\n   set default="${next_entry}"\n   set next_entry=\n'
              'else\n   set default="0"\nfi\n'
              'function load_video {\n  insmod all_video\n}\n'
              "menuentry '%s' --class gnu-linux --class os $menuentry_id_option 'gnulinux-simple-x' {\n"
              "\tload_video\n\tinsmod ext2\n\techo 'Loading Linux %s ...'\n\tlinux\t%s %s\n\tinitrd\t%s\n}\n"
              "submenu 'Advanced options' $menuentry_id_option 'gnulinux-advanced-x' {\n"
              "\tmenuentry '%s, with Linux %s (recovery mode)' {\n\t\tlinux\t%s root=%s ro single\n\t}\n}\n"
              % (title, kver, kpath, cmd, ipath, title, kver, kpath, opts['root-spec']))
        write(root, 'etc/default/grub', 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=""\n')
    elif loader == 'grub2-saved':
        gdir = os.path.join(bootdir, 'grub2')
        entry = 'CentOS Linux (%s) 7 (Core)' % kver
        write(gdir, 'grub.cfg',
              '### BEGIN /etc/grub.d/00_header ###\nif [ -s $prefix/grubenv ]; then\n  load_env\nfi\n'
              'if [ "${next_entry}" ] ; then\n   set default="${next_entry}"\nelse\n   set default="${saved_entry}"\nfi\n'
              "menuentry 'CentOS Linux (0-rescue-abc) 7 (Core)' --class centos {\n\tlinux16 /vmlinuz-0-rescue-abc root=%s ro\n}\n"
              "menuentry '%s' --class centos --class gnu-linux --class gnu --class os --unrestricted "
              "$menuentry_id_option 'gnulinux-%s-advanced-x' {\n\tlinux16 %s %s\n\tinitrd16 %s\n}\n"
              % (opts['root-spec'], entry, kver, kpath, cmd, ipath))
        write(gdir, 'grubenv', '# GRUB Environment Block\nsaved_entry=%s\n' % entry + '#' * 900)
        write(root, 'etc/default/grub', 'GRUB_DEFAULT=saved\n')
    elif loader in ('grub2-bls', 'ostree'):
        gdir = os.path.join(bootdir, 'grub2')
        write(gdir, 'grub.cfg',
              'set pager=1\nif [ -f ${config_directory}/grubenv ]; then\n  load_env -f ${config_directory}/grubenv\n'
              'elif [ -s $prefix/grubenv ]; then\n  load_env\nfi\nif [ "${next_entry}" ] ; then\n'
              '   set default="${next_entry}"\nelse\n   set default="${saved_entry}"\nfi\n'
              'insmod blscfg\nblscfg\n')
        mid = '4f1c0e2a9dcafe'
        if ostree:
            write(bootdir, 'loader/entries/ostree-1-fedora-coreos.conf',
                  'title Fedora CoreOS 39 (ostree:0)\nversion 1\noptions root=UUID=%s rw ostree=/ostree/boot.1/x\n'
                  'linux /ostree/fedora-coreos-4f1c0e2a9d/%s\ninitrd /ostree/fedora-coreos-4f1c0e2a9d/%s\n'
                  % (os.environ.get('ROOT_UUID', ''), booted, initrd))
        else:
            write(bootdir, 'loader/entries/%s-%s.conf' % (mid, kver),
                  'title CentOS Linux (%s)\nversion %s\nlinux %s\ninitrd %s\noptions %s\n'
                  % (kver, kver, kpath, ipath, cmd))
            write(bootdir, 'loader/entries/%s-0-rescue.conf' % mid,
                  'title CentOS Linux (0-rescue)\nversion 0-rescue\nlinux /vmlinuz-0-rescue\noptions %s\n'
                  % cmd)
            write(gdir, 'grubenv', '# GRUB Environment Block\nsaved_entry=%s-%s\n' % (mid, kver) + '#' * 900)
    elif loader == 'grub-legacy':
        gdir = os.path.join(bootdir, 'grub')
        write(gdir, 'grub.conf' if family == 'rhel' else 'menu.lst',
              'default=0\ntimeout=5\ntitle %s (%s)\n\troot (hd0,0)\n\tkernel %s %s\n\tinitrd %s\n'
              % (title, kver, kpath, cmd, ipath))
        if family == 'rhel':
            os.symlink('grub.conf', os.path.join(gdir, 'menu.lst'))

    # --- cloud-init
    ci = opts['cloud-init']
    if ci != 'none':
        write(root, 'usr/bin/cloud-init', b'#!/usr/bin/python3\n', 0o755)
        write(root, 'etc/cloud/cloud.cfg', 'users:\n - default\n')
        if family == 'debian':
            write(root, 'var/lib/dpkg/status',
                  'Package: bash\nStatus: install ok installed\nVersion: 5.2\n\n'
                  'Package: cloud-init\nStatus: install ok installed\nPriority: optional\nVersion: 23.1.1-1\n\n')
        units = os.path.join(root, 'usr/lib/systemd/system' if merged else 'lib/systemd/system')
        for u in ('cloud-init-local.service', 'cloud-init.service', 'cloud-config.service', 'cloud-final.service'):
            write(units, u, '[Unit]\n')
        if ci in ('enabled', 'disabled'):
            wants = os.path.join(root, 'etc/systemd/system/cloud-init.target.wants')
            os.makedirs(wants, exist_ok=True)
            for u in ('cloud-init-local.service', 'cloud-init.service'):
                os.symlink(os.path.join('/usr/lib/systemd/system', u), os.path.join(wants, u))
        if ci == 'disabled':
            write(root, 'etc/cloud/cloud-init.disabled', '')
    elif family == 'debian':
        write(root, 'var/lib/dpkg/status', 'Package: bash\nStatus: install ok installed\nVersion: 5.2\n\n')


def write(base, rel, data, mode=0o644):
    p = os.path.join(base, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'wb') as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(p, mode)


def cpio(entries_dir):
    names = []
    for d, dirs, files in os.walk(entries_dir):
        for n in sorted(dirs) + sorted(files):
            names.append(os.path.relpath(os.path.join(d, n), entries_dir))
    r = subprocess.run(['cpio', '-o', '-H', 'newc', '--quiet'], input='\n'.join(names).encode(),
                       cwd=entries_dir, capture_output=True, check=True)
    return r.stdout


COMPRESSORS = {'gzip': ['gzip', '-9n'], 'xz': ['xz', '--check=crc32', '-6'], 'zstd': ['zstd', '-q', '-19'],
               'lz4': ['lz4', '-l', '-q'], 'bzip2': ['bzip2', '-9'], 'lzma': ['lzma', '-6'], 'none': None}


def make_initramfs(path, comp, microcode, modules, kver):
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        main_dir = os.path.join(t, 'main')
        for d in ('bin', 'etc', 'usr/lib/modules/' + kver, 'dev', 'proc'):
            os.makedirs(os.path.join(main_dir, d), exist_ok=True)
        write(main_dir, 'init', b'#!/bin/sh\nexec /sbin/init\n', 0o755)
        write(main_dir, 'usr/lib/modules/%s/kernel/fs/ext4/ext4.ko' % kver, b'\x7fELF ext4')
        for m in modules:
            write(main_dir, m, b'\x7fELF virtio module')
        data = cpio(main_dir)
        if COMPRESSORS[comp]:
            data = subprocess.run(COMPRESSORS[comp], input=data, capture_output=True, check=True).stdout
        out = b''
        if microcode:
            mc = os.path.join(t, 'early')
            write(mc, 'kernel/x86/microcode/GenuineIntel.bin', os.urandom(4096))
            out = cpio(mc)
        with open(path, 'wb') as f:
            f.write(out + data)


if __name__ == '__main__':
    main()
