/* Unit tests of src/fs: the front doors, and path lookup in views (on an in-memory filesystem). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "support/memfs.h"

typedef struct fixture {
    imgp_ctx *ctx;
    imgp_fs *fs, *boot;
    imgp_view *view;
    imgp_ino etc, fstab, bin, usr, usrbin, sh, bootdir, vmlinuz, kernel;
} fixture;

/*
 *  /etc/fstab            "UUID=..."
 *  /etc/alt -> fstab     (relative)
 *  /etc/abs -> /etc/fstab
 *  /bin -> usr/bin       (merged /usr)
 *  /usr/bin/sh           "#!"
 *  /usr/bin/up -> ../../etc
 *  /escape -> ../../../../etc/fstab   (.. at the root stays at the root)
 *  /loop1 -> loop2, /loop2 -> loop1
 *  /dangling -> nowhere
 *  /empty -> ""
 *  /boot (a mount point; on the boot filesystem: vmlinuz -> kernel-6.1, kernel-6.1)
 */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->ctx = imgp_ctx_new(NULL);
    f->fs = memfs_new(f->ctx);
    f->etc = memfs_add(f->fs, 1, "etc", IMGP_FT_DIR, NULL);
    f->fstab = memfs_add(f->fs, f->etc, "fstab", IMGP_FT_REG, "UUID=1234 / ext4 defaults 0 1\n");
    memfs_add(f->fs, f->etc, "alt", IMGP_FT_SYMLINK, "fstab");
    memfs_add(f->fs, f->etc, "abs", IMGP_FT_SYMLINK, "/etc/fstab");
    f->bin = memfs_add(f->fs, 1, "bin", IMGP_FT_SYMLINK, "usr/bin");
    f->usr = memfs_add(f->fs, 1, "usr", IMGP_FT_DIR, NULL);
    f->usrbin = memfs_add(f->fs, f->usr, "bin", IMGP_FT_DIR, NULL);
    f->sh = memfs_add(f->fs, f->usrbin, "sh", IMGP_FT_REG, "#!");
    memfs_add(f->fs, f->usrbin, "up", IMGP_FT_SYMLINK, "../../etc");
    memfs_add(f->fs, 1, "escape", IMGP_FT_SYMLINK, "../../../../etc/fstab");
    memfs_add(f->fs, 1, "loop1", IMGP_FT_SYMLINK, "loop2");
    memfs_add(f->fs, 1, "loop2", IMGP_FT_SYMLINK, "loop1");
    memfs_add(f->fs, 1, "dangling", IMGP_FT_SYMLINK, "nowhere");
    memfs_add(f->fs, 1, "empty", IMGP_FT_SYMLINK, "");
    f->bootdir = memfs_add(f->fs, 1, "boot", IMGP_FT_DIR, NULL);
    f->boot = memfs_new(f->ctx);
    memfs_add(f->boot, 1, "vmlinuz", IMGP_FT_SYMLINK, "kernel-6.1");
    f->kernel = memfs_add(f->boot, 1, "kernel-6.1", IMGP_FT_REG, "MZ");
    assert_int_equal(imgp_view_new(f->ctx, f->fs, &f->view), IMGP_OK);
    assert_int_equal(imgp_view_mount(f->view, "/boot", f->boot), IMGP_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    imgp_view_free(f->view);
    imgp_fs_unmount(f->boot);
    imgp_fs_unmount(f->fs);
    imgp_ctx_free(f->ctx);
    free(f);
    return 0;
}

static void expect(fixture *f, const char *path, unsigned flags, imgp_fs *fs, imgp_ino ino)
{
    imgp_node n = {0};
    imgp_status st = imgp_view_lookup(f->view, path, flags, &n);
    if (st != IMGP_OK)
        fail_msg("%s: %s", path, imgp_ctx_message(f->ctx));
    if (n.fs != fs || n.ino != ino)
        fail_msg("%s: resolved to inode %llu", path, (unsigned long long)n.ino);
}

static void expect_error(fixture *f, const char *path, unsigned flags, imgp_status want, const char *msg_part)
{
    imgp_node n;
    imgp_status st = imgp_view_lookup(f->view, path, flags, &n);
    if (st != want)
        fail_msg("%s: status %s, want %s (%s)", path, imgp_status_name(st), imgp_status_name(want),
                 imgp_ctx_message(f->ctx));
    if (msg_part && !strstr(imgp_ctx_message(f->ctx), msg_part))
        fail_msg("%s: message '%s' lacks '%s'", path, imgp_ctx_message(f->ctx), msg_part);
}

static void test_plain_paths(void **state)
{
    fixture *f = *state;
    expect(f, "/", 0, f->fs, 1);
    expect(f, "", 0, f->fs, 1);
    expect(f, "/etc/fstab", 0, f->fs, f->fstab);
    expect(f, "etc/fstab", 0, f->fs, f->fstab);
    expect(f, "//etc///./fstab", 0, f->fs, f->fstab);
    expect(f, "/etc/../etc/./fstab", 0, f->fs, f->fstab);
    expect(f, "/../../etc", 0, f->fs, f->etc);
    expect(f, "/etc/", 0, f->fs, f->etc);
}

static void test_symlinks(void **state)
{
    fixture *f = *state;
    expect(f, "/etc/alt", 0, f->fs, f->fstab);
    expect(f, "/etc/abs", 0, f->fs, f->fstab);
    expect(f, "/bin/sh", 0, f->fs, f->sh);
    expect(f, "/bin", 0, f->fs, f->usrbin);
    expect(f, "/bin/", IMGP_LOOKUP_NOFOLLOW, f->fs, f->usrbin); /* a trailing slash follows */
    expect(f, "/bin/up/fstab", 0, f->fs, f->fstab);      /* .. after a symlink: from where it led */
}

static void test_symlink_nofollow(void **state)
{
    fixture *f = *state;
    imgp_node n;
    assert_int_equal(imgp_view_lookup(f->view, "/bin", IMGP_LOOKUP_NOFOLLOW, &n), IMGP_OK);
    assert_int_equal(n.ino, f->bin);
    assert_int_equal(imgp_view_lookup(f->view, "/loop1", IMGP_LOOKUP_NOFOLLOW, &n), IMGP_OK);
}

static void test_escape_stays_inside(void **state)
{
    fixture *f = *state;
    expect(f, "/escape", 0, f->fs, f->fstab);
}

static void test_errors(void **state)
{
    fixture *f = *state;
    expect_error(f, "/etc/nope", 0, IMGP_ERR_NOT_FOUND, "'nope' not found");
    expect_error(f, "/etc/fstab/x", 0, IMGP_ERR_INVALID_ARG, "not a directory");
    expect_error(f, "/etc/fstab/", 0, IMGP_ERR_INVALID_ARG, "not a directory");
    /* .. after a symlink is the physical parent, as in Linux: /bin -> usr/bin, so /bin/.. is /usr */
    expect_error(f, "/bin/../etc/fstab", 0, IMGP_ERR_NOT_FOUND, "'etc' not found");
    expect_error(f, "/loop1", 0, IMGP_ERR_LIMIT, "symbolic links");
    expect_error(f, "/dangling", 0, IMGP_ERR_NOT_FOUND, "nowhere");
    expect_error(f, "/empty", 0, IMGP_ERR_NOT_FOUND, "empty");
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    expect_error(f, longname, 0, IMGP_ERR_NOT_FOUND, NULL);
}

static void test_symlink_hop_limit(void **state)
{
    fixture *f = *state;
    /* a chain of 40 links resolves; 41 does not */
    imgp_fs *fs = memfs_new(f->ctx);
    imgp_ino target = memfs_add(fs, 1, "l0", IMGP_FT_REG, "x");
    char name[16], to[16];
    for (int i = 1; i <= 41; i++) {
        snprintf(name, sizeof name, "l%d", i);
        snprintf(to, sizeof to, "l%d", i - 1);
        memfs_add(fs, 1, name, IMGP_FT_SYMLINK, to);
    }
    imgp_view *v;
    imgp_node n;
    assert_int_equal(imgp_view_new(f->ctx, fs, &v), IMGP_OK);
    assert_int_equal(imgp_view_lookup(v, "/l40", 0, &n), IMGP_OK);
    assert_int_equal(n.ino, target);
    assert_int_equal(imgp_view_lookup(v, "/l41", 0, &n), IMGP_ERR_LIMIT);
    imgp_view_free(v);
    imgp_fs_unmount(fs);
}

static void test_mounts(void **state)
{
    fixture *f = *state;
    expect(f, "/boot", 0, f->boot, 1);
    expect(f, "/boot/vmlinuz", 0, f->boot, f->kernel);
    expect(f, "/boot/../etc/fstab", 0, f->fs, f->fstab); /* .. at a mount root crosses back */
    expect(f, "/boot/..", 0, f->fs, 1);
    assert_int_equal(imgp_view_mount(f->view, "/etc/fstab", f->boot), IMGP_ERR_INVALID_ARG);
}

static void test_front_doors(void **state)
{
    fixture *f = *state;
    char buf[64];
    size_t got;
    assert_int_equal(imgp_fs_read(f->fs, f->etc, 0, buf, 10, &got), IMGP_ERR_INVALID_ARG);
    assert_int_equal(imgp_fs_read(f->fs, f->sh, 0, buf, sizeof buf, &got), IMGP_OK);
    assert_int_equal(got, 2);
    assert_int_equal(imgp_fs_read(f->fs, f->sh, 5, buf, sizeof buf, &got), IMGP_OK);
    assert_int_equal(got, 0);
    assert_int_equal(imgp_fs_readlink(f->fs, f->fstab, buf, sizeof buf), IMGP_ERR_INVALID_ARG);
    assert_int_equal(imgp_fs_readlink(f->fs, f->bin, buf, 4), IMGP_ERR_LIMIT); /* "usr/bin" needs 8 */
    assert_int_equal(imgp_fs_readlink(f->fs, f->bin, buf, 8), IMGP_OK);
    assert_string_equal(buf, "usr/bin");
    assert_int_equal(imgp_fs_readdir(f->fs, f->sh, NULL, NULL), IMGP_ERR_INVALID_ARG);
    imgp_ino ino;
    assert_int_equal(imgp_fs_lookup_name(f->fs, f->etc, "fstab", 5, &ino), IMGP_OK);
    assert_int_equal(ino, f->fstab);
    assert_int_equal(imgp_fs_lookup_name(f->fs, f->etc, "fsta", 4, &ino), IMGP_ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_nofollow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escape_stays_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_hop_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mounts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_front_doors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
