"""POSIX directory semantics on a dos mount: mkdir/rmdir, rename in all its
forms (renameat2 NOREPLACE and EXCHANGE too), symlinks and a large
readdir."""

import ctypes
import errno
import os
import stat

import pytest

from dosit import expect_errno, read_file, write_file

AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(None, use_errno=True)


def renameat2(old, new, flags):
    if not hasattr(_libc, "renameat2"):
        pytest.skip("glibc has no renameat2 (needs 2.28+)")
    r = _libc.renameat2(AT_FDCWD, os.fsencode(str(old)), AT_FDCWD, os.fsencode(str(new)),
                        ctypes.c_uint(flags))
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), str(old))


# ---- mkdir / rmdir ----------------------------------------------------------

def test_mkdir_rmdir(wd):
    d = wd / "d"
    os.mkdir(d, 0o750)
    st = os.stat(d)
    assert stat.S_ISDIR(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o750
    assert os.listdir(d) == []
    os.makedirs(d / "a" / "b" / "c")
    assert os.path.isdir(d / "a" / "b" / "c")
    os.rmdir(d / "a" / "b" / "c")
    os.rmdir(d / "a" / "b")
    os.rmdir(d / "a")
    os.rmdir(d)
    assert os.listdir(wd) == []
    expect_errno(errno.ENOENT, os.stat, d)


def test_mkdir_errors(wd):
    os.mkdir(wd / "d")
    write_file(wd / "f", b"")
    expect_errno(errno.EEXIST, os.mkdir, wd / "d")
    expect_errno(errno.EEXIST, os.mkdir, wd / "f")
    os.symlink("d", wd / "l")
    expect_errno(errno.EEXIST, os.mkdir, wd / "l")
    expect_errno(errno.ENOENT, os.mkdir, wd / "missing" / "x")
    expect_errno(errno.ENOTDIR, os.mkdir, wd / "f" / "x")


def test_rmdir_errors(wd):
    os.makedirs(wd / "full" / "sub")
    write_file(wd / "full2", b"")
    os.mkdir(wd / "withfile")
    write_file(wd / "withfile" / "x", b"")
    expect_errno(errno.ENOTEMPTY, os.rmdir, wd / "full")
    expect_errno(errno.ENOTEMPTY, os.rmdir, wd / "withfile")
    expect_errno(errno.ENOTDIR, os.rmdir, wd / "full2")
    expect_errno(errno.ENOENT, os.rmdir, wd / "missing")
    assert os.path.isdir(wd / "full" / "sub")
    assert os.path.isfile(wd / "withfile" / "x")


def test_readdir_types(wd):
    os.mkdir(wd / "d")
    os.mkdir(wd / "d" / "s1")
    os.mkdir(wd / "d" / "s2")
    write_file(wd / "d" / "f", b"")
    os.symlink("f", wd / "d" / "l")
    types = {e.name: (e.is_dir(follow_symlinks=False), e.is_file(follow_symlinks=False),
                      e.is_symlink()) for e in os.scandir(wd / "d")}
    assert types == {"s1": (True, False, False), "s2": (True, False, False),
                     "f": (False, True, False), "l": (False, False, True)}


def test_dir_nlink_counts_subdirs(wd):
    os.mkdir(wd / "d")
    assert os.stat(wd / "d").st_nlink == 2
    os.mkdir(wd / "d" / "s1")
    os.mkdir(wd / "d" / "s2")
    write_file(wd / "d" / "f", b"")
    assert os.stat(wd / "d").st_nlink == 4  # its name, ".", s1/.., s2/..
    os.rmdir(wd / "d" / "s1")
    assert os.stat(wd / "d").st_nlink == 3



def test_dir_attrs_right_after_each_change(wd):
    """dosfs answers a directory's GETATTR after a change with the attributes
    meta sent with that change (DirAttrCache); each one must be the latest."""
    d = wd / "d"
    os.mkdir(d)
    before = os.stat(d)
    ops = [
        (lambda: os.mkdir(d / "s1"), 3),
        (lambda: write_file(d / "f", b"x"), 3),
        (lambda: os.mkdir(d / "s2"), 4),
        (lambda: os.symlink("f", d / "l"), 4),
        (lambda: os.link(d / "f", d / "h"), 4),
        (lambda: os.mknod(d / "p", stat.S_IFIFO | 0o600), 4),
        (lambda: os.unlink(d / "h"), 4),
        (lambda: os.rename(d / "s2", wd / "s2"), 3),  # a subdirectory leaves
        (lambda: os.rename(d / "f", d / "g"), 3),
        (lambda: os.rmdir(d / "s1"), 2),
        (lambda: os.unlink(d / "p"), 2),
    ]
    last = before
    for i, (op, nlink) in enumerate(ops):
        op()
        st = os.stat(d)
        assert st.st_nlink == nlink, i
        assert st.st_mtime_ns >= last.st_mtime_ns and st.st_ctime_ns >= last.st_ctime_ns, i
        assert (st.st_mtime_ns, st.st_ctime_ns) != (before.st_mtime_ns, before.st_ctime_ns), i
        last = st
    os.chmod(d, 0o700)
    write_file(d / "n", b"")
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    os.setxattr(d, "user.x", b"1")
    ctime = os.stat(d).st_ctime_ns
    os.unlink(d / "n")
    assert os.stat(d).st_ctime_ns >= ctime
    assert sorted(os.listdir(d)) == ["g", "l"]
    # A directory removed while open: its GETATTR must not come from before.
    os.mkdir(d / "gone")
    write_file(d / "gone" / "x", b"")
    fd = os.open(d / "gone", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.unlink(d / "gone" / "x")
        os.rmdir(d / "gone")
        try:
            assert os.fstat(fd).st_nlink in (0, 1)  # Linux shows 0 on a local disk
        except OSError as e:
            assert e.errno == errno.ENOENT
    finally:
        os.close(fd)


# ---- rename -----------------------------------------------------------------

def test_rename_file_within_dir(wd):
    write_file(wd / "a", b"A")
    os.rename(wd / "a", wd / "b")
    assert os.listdir(wd) == ["b"]
    assert read_file(wd / "b") == b"A"


def test_rename_over_file(wd):
    write_file(wd / "a", b"A")
    write_file(wd / "b", b"BBBB")
    ino = os.stat(wd / "a").st_ino
    os.rename(wd / "a", wd / "b")
    assert os.listdir(wd) == ["b"]
    assert read_file(wd / "b") == b"A"
    assert os.stat(wd / "b").st_ino == ino


def test_rename_over_open_file_keeps_old_data_readable(wd):
    write_file(wd / "a", b"new")
    write_file(wd / "b", b"old")
    fd = os.open(wd / "b", os.O_RDONLY)
    try:
        os.rename(wd / "a", wd / "b")
        assert os.pread(fd, 10, 0) == b"old"
    finally:
        os.close(fd)
    assert read_file(wd / "b") == b"new"


def test_rename_across_dirs(wd):
    os.mkdir(wd / "x")
    os.mkdir(wd / "y")
    write_file(wd / "x" / "f", b"moved")
    os.mkdir(wd / "x" / "sub")
    write_file(wd / "x" / "sub" / "g", b"deep")
    os.rename(wd / "x" / "f", wd / "y" / "f2")
    os.rename(wd / "x" / "sub", wd / "y" / "sub")
    assert os.listdir(wd / "x") == []
    assert sorted(os.listdir(wd / "y")) == ["f2", "sub"]
    assert read_file(wd / "y" / "f2") == b"moved"
    assert read_file(wd / "y" / "sub" / "g") == b"deep"
    expect_errno(errno.ENOENT, os.stat, wd / "x" / "sub" / "g")


def test_rename_dir_over_empty_dir(wd):
    os.mkdir(wd / "src")
    write_file(wd / "src" / "f", b"in src")
    os.mkdir(wd / "dst")
    os.rename(wd / "src", wd / "dst")
    assert os.listdir(wd) == ["dst"]
    assert read_file(wd / "dst" / "f") == b"in src"


def test_rename_dir_onto_nonempty_dir_is_enotempty(wd):
    os.mkdir(wd / "src")
    os.mkdir(wd / "dst")
    write_file(wd / "dst" / "keep", b"k")
    expect_errno(errno.ENOTEMPTY, os.rename, wd / "src", wd / "dst")
    assert sorted(os.listdir(wd)) == ["dst", "src"]
    assert read_file(wd / "dst" / "keep") == b"k"


def test_rename_dir_over_file_is_enotdir(wd):
    os.mkdir(wd / "d")
    write_file(wd / "f", b"f")
    expect_errno(errno.ENOTDIR, os.rename, wd / "d", wd / "f")
    assert os.path.isdir(wd / "d") and read_file(wd / "f") == b"f"


def test_rename_file_over_dir_is_eisdir(wd):
    os.mkdir(wd / "d")
    write_file(wd / "f", b"f")
    expect_errno(errno.EISDIR, os.rename, wd / "f", wd / "d")
    assert os.path.isdir(wd / "d") and read_file(wd / "f") == b"f"


def test_rename_dir_into_own_subdir_is_einval(wd):
    os.makedirs(wd / "a" / "b" / "c")
    expect_errno(errno.EINVAL, os.rename, wd / "a", wd / "a" / "b" / "a")
    expect_errno(errno.EINVAL, os.rename, wd / "a", wd / "a" / "b" / "c" / "x")
    assert os.path.isdir(wd / "a" / "b" / "c")


def test_rename_to_itself_and_to_its_hard_link(wd):
    write_file(wd / "f", b"same")
    os.rename(wd / "f", wd / "f")
    os.link(wd / "f", wd / "g")
    os.rename(wd / "f", wd / "g")  # same inode: POSIX says do nothing
    assert sorted(os.listdir(wd)) == ["f", "g"]
    assert read_file(wd / "g") == b"same"


def test_rename_open_file_descriptor_survives(wd):
    write_file(wd / "f", b"data")
    fd = os.open(wd / "f", os.O_RDWR)
    try:
        os.rename(wd / "f", wd / "g")
        os.pwrite(fd, b"DA", 0)
        assert os.pread(fd, 10, 0) == b"DAta"
    finally:
        os.close(fd)
    assert read_file(wd / "g") == b"DAta"


def test_rename_noreplace(wd):
    write_file(wd / "a", b"A")
    write_file(wd / "b", b"B")
    expect_errno(errno.EEXIST, renameat2, wd / "a", wd / "b", RENAME_NOREPLACE)
    assert read_file(wd / "a") == b"A" and read_file(wd / "b") == b"B"
    renameat2(wd / "a", wd / "c", RENAME_NOREPLACE)
    assert sorted(os.listdir(wd)) == ["b", "c"]
    assert read_file(wd / "c") == b"A"


def test_rename_exchange(wd):
    write_file(wd / "a", b"A")
    write_file(wd / "b", b"BB")
    ia, ib = os.stat(wd / "a").st_ino, os.stat(wd / "b").st_ino
    renameat2(wd / "a", wd / "b", RENAME_EXCHANGE)
    assert read_file(wd / "a") == b"BB" and read_file(wd / "b") == b"A"
    assert os.stat(wd / "a").st_ino == ib and os.stat(wd / "b").st_ino == ia
    # a file with a directory, across folders
    os.mkdir(wd / "d")
    write_file(wd / "d" / "inside", b"i")
    renameat2(wd / "d", wd / "b", RENAME_EXCHANGE)
    assert os.path.isfile(wd / "d") and read_file(wd / "d") == b"A"
    assert read_file(wd / "b" / "inside") == b"i"
    expect_errno(errno.ENOENT, renameat2, wd / "a", wd / "missing", RENAME_EXCHANGE)
    assert read_file(wd / "a") == b"BB"


# ---- symlinks ---------------------------------------------------------------

def test_symlink_and_readlink(wd):
    write_file(wd / "target", b"through the link")
    os.symlink("target", wd / "rel")
    os.symlink(str(wd / "target"), wd / "abs")
    assert os.readlink(wd / "rel") == "target"
    assert os.readlink(wd / "abs") == str(wd / "target")
    st = os.lstat(wd / "rel")
    assert stat.S_ISLNK(st.st_mode)
    assert st.st_size == len("target")
    assert read_file(wd / "rel") == b"through the link"
    assert read_file(wd / "abs") == b"through the link"
    assert os.stat(wd / "rel").st_ino == os.stat(wd / "target").st_ino
    expect_errno(errno.EINVAL, os.readlink, wd / "target")
    os.unlink(wd / "rel")
    assert read_file(wd / "target") == b"through the link"


def test_dangling_symlink(wd):
    os.symlink("nowhere/at/all", wd / "dangling")
    assert os.readlink(wd / "dangling") == "nowhere/at/all"
    assert os.path.lexists(wd / "dangling")
    expect_errno(errno.ENOENT, os.stat, wd / "dangling")
    expect_errno(errno.ENOENT, os.open, wd / "dangling", os.O_RDONLY)


def test_symlink_long_target_and_dir_link(wd):
    target = "/".join(["component%03d" % i for i in range(300)])  # 3.6 KB
    os.symlink(target, wd / "long")
    assert os.readlink(wd / "long") == target
    os.mkdir(wd / "realdir")
    write_file(wd / "realdir" / "f", b"x")
    os.symlink("realdir", wd / "dirlink")
    assert os.listdir(wd / "dirlink") == ["f"]
    assert read_file(wd / "dirlink" / "f") == b"x"


def test_symlink_loop_is_eloop(wd):
    os.symlink("b", wd / "a")
    os.symlink("a", wd / "b")
    expect_errno(errno.ELOOP, os.stat, wd / "a")
    expect_errno(errno.ELOOP, os.open, wd / "a", os.O_RDONLY)


# ---- readdir ------------------------------------------------------------------

def test_readdir_5000_entries(wd):
    d = wd / "many"
    os.mkdir(d)
    names = ["%05d-%s" % (i, "x" * (i % 200)) for i in range(5000)]
    for n in names:
        os.close(os.open(d / n, os.O_WRONLY | os.O_CREAT, 0o644))
    listed = os.listdir(d)
    assert len(listed) == 5000, f"{len(listed)} names listed, {len(set(listed))} distinct"
    assert sorted(listed) == sorted(names)
    with os.scandir(d) as it:
        entries = [(e.name, e.is_file(follow_symlinks=False)) for e in it]
    assert len(entries) == 5000 and all(f for _, f in entries)
    assert sorted(n for n, _ in entries) == sorted(names)
    # delete half while the list is fresh, then list again
    for n in names[::2]:
        os.unlink(d / n)
    assert sorted(os.listdir(d)) == sorted(names[1::2])
