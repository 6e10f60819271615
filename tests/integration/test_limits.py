"""Limits at the system-call level (issue 5): open handles per client
(dosd --max-open-per-client: EMFILE), path length (ENAMETOOLONG), xattr
name and value sizes (ERANGE, E2BIG, as Linux gives them) and the message
size limits, which a large write, a large xattr list and a large directory
must not trip. Name length (ENAMETOOLONG) is in
test_posix_files.py::test_name_too_long; the same limits fed to meta by a
hostile peer, past the kernel's checks, are in test_hostile.py.

The module cluster is one node started with a low open-handle limit.
"""

import ctypes
import errno
import os

import pytest

import dosit
from dosit import expect_errno, poll, rand_bytes, read_file, write_file

MAX_OPEN = 16
MAX_PATH = 4096      # kMaxPath: a symlink target, with its NUL (PATH_MAX)
MAX_XATTR_VALUE = 64 * 1024
MAX_XATTR_LIST = 64 * 1024
MAX_DATA = 16 * 1024 * 1024  # kMaxData: one raw data frame


@pytest.fixture(scope="module")
def lim(request):
    old = os.environ.get("DOS_DOSD_ARGS")
    os.environ["DOS_DOSD_ARGS"] = f"--max-open-per-client {MAX_OPEN}"
    try:
        c = dosit.Cluster(1, name="limits")
        request.addfinalizer(c.destroy)
        c.up()
    finally:
        if old is None:
            del os.environ["DOS_DOSD_ARGS"]
        else:
            os.environ["DOS_DOSD_ARGS"] = old
    return c


@pytest.fixture
def d(request, lim):
    p = lim.mount / request.node.name
    os.mkdir(p)
    return p


def open_until_emfile(d, start, limit):
    """Opens d/fI (created, written with its own bytes) from I = start until
    EMFILE; returns {fd: (path, data)}; fails past limit opens."""
    fds = {}
    for i in range(start, start + limit + 1):
        p = d / f"f{i}"
        try:
            fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            assert e.errno == errno.EMFILE, e
            assert not p.exists(), "a create refused with EMFILE left its file behind"
            return fds
        data = rand_bytes(1000 + i, i)
        assert os.write(fd, data) == len(data)
        fds[fd] = (p, data)
    raise AssertionError(f"{limit + 1} opens and no EMFILE")


def test_open_handle_limit(d):
    fds = open_until_emfile(d, 0, MAX_OPEN)
    # Nothing else of this mount is open, so the limit is reached exactly.
    assert len(fds) == MAX_OPEN
    some_fd, (some_path, some_data) = next(iter(fds.items()))
    # An existing file counts the same; opendir is not a handle of meta.
    expect_errno(errno.EMFILE, os.open, some_path, os.O_RDONLY)
    assert len(os.listdir(d)) == MAX_OPEN
    # Close one: its handle goes back (the kernel's RELEASE follows close()
    # asynchronously, hence the bounded retry), and an open works again.
    os.close(some_fd)
    del fds[some_fd]
    got = []

    def reopen():
        try:
            got.append(os.open(some_path, os.O_RDONLY))
            return True
        except OSError as e:
            assert e.errno == errno.EMFILE, e
            return False

    assert poll(reopen, timeout=10), "an open still fails with EMFILE after a close"
    assert os.read(got[0], len(some_data) + 1) == some_data
    expect_errno(errno.EMFILE, os.open, d / "one-too-many", os.O_WRONLY | os.O_CREAT, 0o644)
    fds[got[0]] = (some_path, some_data)
    for fd, (p, data) in fds.items():
        assert os.pread(fd, len(data) + 1, 0) == data, p
        os.close(fd)
    # Every byte intact after the refusals, and the limit gone with the handles.
    for fd, (p, data) in fds.items():
        assert read_file(p) == data, p
    assert sorted(os.listdir(d)) == sorted(f"f{i}" for i in range(MAX_OPEN))


def test_limit_is_per_client(lim, d):
    """A second mount (another client id) has its own count."""
    fds = open_until_emfile(d, 0, MAX_OPEN)
    expect_errno(errno.EMFILE, os.open, d / "f0", os.O_RDONLY)
    try:
        m2 = lim.second_mount()
        try:
            f0 = [data for p, data in fds.values() if p.name == "f0"][0]
            assert read_file(m2 / d.name / "f0") == f0
            write_file(m2 / d.name / "other", b"from the second client")
        finally:
            lim.unmount_second(m2)
    finally:
        for fd in fds:
            os.close(fd)
    assert read_file(d / "other") == b"from the second client"


def test_path_length(d):
    ok = "t" * (MAX_PATH - 1)
    os.symlink(ok, d / "ok")
    assert os.readlink(d / "ok") == ok
    expect_errno(errno.ENAMETOOLONG, os.symlink, "t" * MAX_PATH, d / "long")
    assert not os.path.lexists(d / "long")
    # A path of more than PATH_MAX bytes in a call, though every name is short.
    deep = str(d / "/".join(["c" * 200] * 21))  # 4220 bytes and more
    expect_errno(errno.ENAMETOOLONG, os.mkdir, deep)
    expect_errno(errno.ENAMETOOLONG, os.stat, deep)
    expect_errno(errno.ENAMETOOLONG, os.open, deep, os.O_WRONLY | os.O_CREAT, 0o644)


def test_xattr_sizes(d):
    p = d / "f"
    write_file(p, b"x")
    big = bytes(range(256)) * (MAX_XATTR_VALUE // 256)  # exactly the limit
    os.setxattr(p, "user.big", big)
    assert os.getxattr(p, "user.big") == big
    # Linux: a value past XATTR_SIZE_MAX is E2BIG, a name past 255 ERANGE.
    expect_errno(errno.E2BIG, os.setxattr, p, "user.big", big + b"!")
    expect_errno(errno.ERANGE, os.setxattr, p, "user." + "n" * 251, b"v")
    name = "user." + "n" * 250  # 255 bytes: fine
    os.setxattr(p, name, b"v")
    assert os.getxattr(p, name) == b"v"
    assert os.getxattr(p, "user.big") == big  # the refused set changed nothing
    # A buffer too small for the value or the name list is ERANGE (size 0
    # asks for the size).
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(16)
    assert libc.getxattr(bytes(p), b"user.big", None, 0) == len(big)
    assert libc.getxattr(bytes(p), b"user.big", buf, 16) == -1
    assert ctypes.get_errno() == errno.ERANGE
    assert libc.listxattr(bytes(p), buf, 16) == -1
    assert ctypes.get_errno() == errno.ERANGE


def test_xattr_name_list_limit(d):
    """All names of one inode fit in kMaxXattrList bytes; past it ENOSPC (as
    ext4 when an inode's xattr space is full), and listxattr still works."""
    p = d / "f"
    write_file(p, b"x")
    names = []
    used = 0
    i = 0
    while True:
        n = "user.%05d-" % i + "x" * 240  # 251 bytes + NUL
        try:
            os.setxattr(p, n, b"")
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
            break
        names.append(n)
        used += len(n) + 1
        i += 1
        assert used <= MAX_XATTR_LIST, "the name list grew past its limit"
    assert used > MAX_XATTR_LIST - 300
    assert sorted(x for x in os.listxattr(p) if x.startswith("user.")) == sorted(names)


def test_messages_bigger_than_one_frame(d):
    """One write() and one read() larger than a data frame (kMaxData) are
    split by the kernel and dosfs, never refused (a directory larger than
    one readdir reply: test_posix_dirs.py::test_readdir_5000_entries)."""
    data = rand_bytes(MAX_DATA + 3 * 1024 * 1024 + 7, 5)
    fd = os.open(d / "big", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        done = 0
        view = memoryview(data)
        while done < len(data):
            done += os.write(fd, view[done:])
    finally:
        os.close(fd)
    assert read_file(d / "big") == data
    fd = os.open(d / "big", os.O_RDONLY)
    try:
        got = bytearray()
        while len(got) < len(data):
            b = os.read(fd, len(data) - len(got))
            assert b, "short file"
            got += b
    finally:
        os.close(fd)
    assert bytes(got) == data
