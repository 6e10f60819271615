"""POSIX attributes on a dos mount: chmod/chown, timestamps with nanosecond
precision, statfs, extended attributes and permission checks for a user
other than root."""

import errno
import os
import pickle
import stat
import struct
import time

import pytest

from dosit import expect_errno, read_file, write_file

NOBODY = 65534


# ---- chmod / chown ------------------------------------------------------------

def test_chmod(wd):
    p = wd / "f"
    write_file(p, b"x")
    for mode in (0o600, 0o755, 0o4755, 0o2750, 0o1777, 0o000, 0o644):
        os.chmod(p, mode)
        assert stat.S_IMODE(os.stat(p).st_mode) == mode, oct(mode)
        assert stat.S_ISREG(os.stat(p).st_mode)
    fd = os.open(p, os.O_RDONLY)
    try:
        os.fchmod(fd, 0o640)
        assert stat.S_IMODE(os.fstat(fd).st_mode) == 0o640
    finally:
        os.close(fd)
    os.mkdir(wd / "d")
    os.chmod(wd / "d", 0o711)
    st = os.stat(wd / "d")
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o711


def test_chmod_updates_ctime(wd):
    p = wd / "f"
    write_file(p, b"x")
    before = os.stat(p).st_ctime_ns
    time.sleep(0.05)
    os.chmod(p, 0o600)
    assert os.stat(p).st_ctime_ns > before


def test_chown(wd):
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    p = wd / "f"
    write_file(p, b"x")
    os.chown(p, 1234, 5678)
    st = os.stat(p)
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    os.chown(p, -1, 42)
    st = os.stat(p)
    assert (st.st_uid, st.st_gid) == (1234, 42)
    os.chown(p, 99, -1)
    st = os.stat(p)
    assert (st.st_uid, st.st_gid) == (99, 42)
    # lchown changes the link, not its target
    os.symlink("f", wd / "l")
    os.chown(wd / "l", 7, 8, follow_symlinks=False)
    assert (os.lstat(wd / "l").st_uid, os.lstat(wd / "l").st_gid) == (7, 8)
    assert (os.stat(p).st_uid, os.stat(p).st_gid) == (99, 42)


# ---- timestamps ---------------------------------------------------------------

def test_utimens_nanoseconds(wd):
    p = wd / "f"
    write_file(p, b"x")
    atime = 1_234_567_891_123_456_789
    mtime = 1_500_000_000_987_654_321
    os.utime(p, ns=(atime, mtime))
    st = os.stat(p)
    assert st.st_atime_ns == atime
    assert st.st_mtime_ns == mtime
    os.mkdir(wd / "d")
    os.utime(wd / "d", ns=(atime + 1, mtime + 1))
    st = os.stat(wd / "d")
    assert (st.st_atime_ns, st.st_mtime_ns) == (atime + 1, mtime + 1)


def test_futimens_after_write_survives_close(wd):
    """cp -a and tar x write a file, set its times through the open
    descriptor, then close it: the close must not move mtime again."""
    p = wd / "f"
    mtime = 1_100_000_000_987_654_321
    fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"data written before the times are set")
        os.utime(fd, ns=(mtime, mtime))
    finally:
        os.close(fd)
    assert os.stat(p).st_mtime_ns == mtime
    # and by path while the descriptor is still open with written data
    q = wd / "g"
    fd = os.open(q, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"more data")
        os.utime(q, ns=(mtime, mtime))
    finally:
        os.close(fd)
    assert os.stat(q).st_mtime_ns == mtime


def test_utime_now(wd):
    p = wd / "f"
    write_file(p, b"x")
    os.utime(p, ns=(10**18, 10**18))
    os.utime(p)  # both to now
    st = os.stat(p)
    assert abs(st.st_mtime - time.time()) < 10
    assert abs(st.st_atime - time.time()) < 10


def test_write_updates_mtime_and_ctime(wd):
    p = wd / "f"
    write_file(p, b"x")
    old = 1_000_000_000 * 10**9  # 2001
    os.utime(p, ns=(old, old))
    ctime_before = os.stat(p).st_ctime_ns
    time.sleep(0.05)
    with open(p, "ab") as f:
        f.write(b"more")
    st = os.stat(p)
    assert st.st_mtime_ns > old + 10 * 365 * 86400 * 10**9
    assert abs(st.st_mtime - time.time()) < 10
    assert st.st_ctime_ns > ctime_before


def test_create_and_unlink_update_dir_mtime(wd):
    d = wd / "d"
    os.mkdir(d)
    old = 1_000_000_000 * 10**9
    os.utime(d, ns=(old, old))
    write_file(d / "f", b"")
    m1 = os.stat(d).st_mtime_ns
    assert m1 > old
    os.utime(d, ns=(old, old))
    os.unlink(d / "f")
    assert os.stat(d).st_mtime_ns > old


# ---- statfs -------------------------------------------------------------------

def test_statfs(cluster3):
    sv = os.statvfs(cluster3.mount)
    assert sv.f_bsize > 0 and sv.f_frsize > 0
    assert sv.f_blocks > 0
    assert sv.f_bfree <= sv.f_blocks
    assert sv.f_bavail <= sv.f_bfree
    assert sv.f_namemax == 255
    total = sv.f_blocks * sv.f_frsize
    assert 1024 * 1024 < total < 2**62


# ---- extended attributes ---------------------------------------------------------

def test_xattr_set_get_list_remove(wd):
    p = wd / "f"
    write_file(p, b"x")
    os.setxattr(p, "user.a", b"1")
    os.setxattr(p, "user.bin", b"\0\1\2\xff" * 100)
    os.setxattr(p, "user.empty", b"")
    assert os.getxattr(p, "user.a") == b"1"
    assert os.getxattr(p, "user.bin") == b"\0\1\2\xff" * 100
    assert os.getxattr(p, "user.empty") == b""
    names = {n for n in os.listxattr(p) if n.startswith("user.")}
    assert names == {"user.a", "user.bin", "user.empty"}
    os.setxattr(p, "user.a", b"22")  # replace without flags
    assert os.getxattr(p, "user.a") == b"22"
    os.removexattr(p, "user.a")
    expect_errno(errno.ENODATA, os.getxattr, p, "user.a")
    assert {n for n in os.listxattr(p) if n.startswith("user.")} == {"user.bin", "user.empty"}
    big = bytes(range(256)) * 16  # 4 KiB
    os.setxattr(p, "user.big", big)
    assert os.getxattr(p, "user.big") == big


def test_xattr_flags_and_errors(wd):
    p = wd / "f"
    write_file(p, b"x")
    os.setxattr(p, "user.k", b"v", os.XATTR_CREATE)
    expect_errno(errno.EEXIST, os.setxattr, p, "user.k", b"w", os.XATTR_CREATE)
    assert os.getxattr(p, "user.k") == b"v"
    expect_errno(errno.ENODATA, os.setxattr, p, "user.missing", b"w", os.XATTR_REPLACE)
    os.setxattr(p, "user.k", b"w", os.XATTR_REPLACE)
    assert os.getxattr(p, "user.k") == b"w"
    expect_errno(errno.ENODATA, os.getxattr, p, "user.missing")
    expect_errno(errno.ENODATA, os.removexattr, p, "user.missing")
    expect_errno(errno.ENOENT, os.getxattr, wd / "missing", "user.k")


def test_xattr_on_directory_and_survives_rename(wd):
    d = wd / "d"
    os.mkdir(d)
    os.setxattr(d, "user.dir", b"yes")
    assert os.getxattr(d, "user.dir") == b"yes"
    write_file(d / "f", b"")
    os.setxattr(d / "f", "user.f", b"1")
    os.rename(d, wd / "e")
    assert os.getxattr(wd / "e", "user.dir") == b"yes"
    assert os.getxattr(wd / "e" / "f", "user.f") == b"1"
    os.link(wd / "e" / "f", wd / "hard")
    assert os.getxattr(wd / "hard", "user.f") == b"1"




def test_attrs_through_an_open_descriptor_like_tar(wd):
    """create, write, futimens, fchown, fchmod, then more: each call sees the
    attributes the last one left (dosfs answers the kernel's GETATTR before a
    chown from the attributes meta sent with the change before)."""
    p = wd / "t"
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, b"x" * 5000)
        os.utime(fd, ns=(1_000_000_000, 2_000_000_123))
        os.fchown(fd, 1, 2)
        os.fchmod(fd, 0o4755)
        st = os.fstat(fd)
        assert (st.st_size, st.st_mtime_ns, st.st_uid, st.st_gid) == (5000, 2_000_000_123, 1, 2)
        assert stat.S_IMODE(st.st_mode) == 0o4755
        os.fchown(fd, 3, 4)  # a chown drops the set-user-ID bit the chmod just set
        st = os.fstat(fd)
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (3, 4, 0o755)
        os.write(fd, b"y")
        st = os.fstat(fd)
        assert st.st_size == 5001 and st.st_mtime_ns > 2_000_000_123
    finally:
        os.close(fd)
    st = os.stat(p)
    assert (st.st_size, st.st_uid, stat.S_IMODE(st.st_mode)) == (5001, 3, 0o755)
    assert read_file(p) == b"x" * 5000 + b"y"

# A file capability goes when the file is written, as on a local disk. The
# kernel asks for security.capability before every write(2); dosfs answers
# "none" from memory for a second after meta (or its own create) said so, and
# must forget that when a capability is set through it.
CAPS = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)  # v2, effective, cap_net_raw


def test_file_capability_dropped_by_write(wd):
    p = wd / "capfile"
    fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o755)
    try:
        os.write(fd, b"a")  # dosfs now knows the file has no capability
        os.setxattr(p, "security.capability", CAPS)
        assert os.getxattr(p, "security.capability") == CAPS
        os.write(fd, b"b")
        expect_errno(errno.ENODATA, os.getxattr, p, "security.capability")
    finally:
        os.close(fd)
    # Set on a closed file, dropped by the first write of the next open.
    os.setxattr(p, "security.capability", CAPS)
    fd = os.open(p, os.O_WRONLY)
    try:
        os.pwrite(fd, b"c", 0)
    finally:
        os.close(fd)
    expect_errno(errno.ENODATA, os.getxattr, p, "security.capability")
    assert read_file(p) == b"cb"
    # Other attributes stay.
    os.setxattr(p, "user.kept", b"1")
    fd = os.open(p, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, b"d")
    finally:
        os.close(fd)
    assert os.getxattr(p, "user.kept") == b"1"
    assert read_file(p) == b"cbd"


# ---- permission checks for another user ----------------------------------------

def run_as(uid, gid, fn):
    """Runs fn() in a forked child with uid/gid and no supplementary groups;
    returns its result (a picklable value) or re-raises what it raised."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            out = ("ok", fn())
        except BaseException as e:  # noqa: BLE001  (sent to the parent)
            out = ("raise", e)
        try:
            os.write(w, pickle.dumps(out))
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        data += b
    os.close(r)
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "raise":
        raise value
    return value


def attempt(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)


@pytest.fixture
def as_root():
    if os.geteuid() != 0:
        pytest.skip("switching to another user needs root")


def test_other_user_permissions(wd, as_root):
    os.chmod(wd, 0o755)
    write_file(wd / "secret", b"root only", mode=0o600)
    os.chmod(wd / "secret", 0o600)
    write_file(wd / "public", b"everyone reads", mode=0o644)
    os.chmod(wd / "public", 0o644)
    write_file(wd / "group", b"group reads", mode=0o640)
    os.chown(wd / "group", 0, NOBODY)
    os.chmod(wd / "group", 0o640)
    os.mkdir(wd / "closed", 0o700)
    os.chmod(wd / "closed", 0o700)
    write_file(wd / "closed" / "f", b"")
    os.mkdir(wd / "open", 0o777)
    os.chmod(wd / "open", 0o777)

    def child():
        r = {}
        r["read 0600"] = attempt(lambda: read_file(wd / "secret"))
        r["read 0644"] = read_file(wd / "public").decode()
        r["read 0640 group"] = read_file(wd / "group").decode()
        r["write 0644"] = attempt(lambda: os.close(os.open(wd / "public", os.O_WRONLY)))
        r["create in 0755"] = attempt(
            lambda: os.close(os.open(wd / "mine", os.O_WRONLY | os.O_CREAT, 0o644)))
        r["mkdir in 0755"] = attempt(lambda: os.mkdir(wd / "mydir"))
        r["unlink in 0755"] = attempt(lambda: os.unlink(wd / "public"))
        r["list 0700"] = attempt(lambda: os.listdir(wd / "closed"))
        r["stat in 0700"] = attempt(lambda: os.stat(wd / "closed" / "f"))
        r["chmod root file"] = attempt(lambda: os.chmod(wd / "public", 0o666))
        r["utime root file"] = attempt(lambda: os.utime(wd / "public", ns=(1, 1)))
        r["create in 0777"] = attempt(lambda: write_file(wd / "open" / "mine", b"nobody"))
        r["chmod own file"] = attempt(lambda: os.chmod(wd / "open" / "mine", 0o600))
        r["chown own file to root"] = attempt(lambda: os.chown(wd / "open" / "mine", 0, -1))
        return r

    r = run_as(NOBODY, NOBODY, child)
    assert r == {
        "read 0600": "EACCES",
        "read 0644": "everyone reads",
        "read 0640 group": "group reads",
        "write 0644": "EACCES",
        "create in 0755": "EACCES",
        "mkdir in 0755": "EACCES",
        "unlink in 0755": "EACCES",
        "list 0700": "EACCES",
        "stat in 0700": "EACCES",
        "chmod root file": "EPERM",
        "utime root file": "EPERM",
        "create in 0777": "ok",
        "chmod own file": "ok",
        "chown own file to root": "EPERM",
    }
    st = os.stat(wd / "open" / "mine")
    assert (st.st_uid, st.st_gid) == (NOBODY, NOBODY)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert read_file(wd / "open" / "mine") == b"nobody"
    assert sorted(os.listdir(wd)) == ["closed", "group", "open", "public", "secret"]


def test_sticky_dir_protects_others_files(wd, as_root):
    os.mkdir(wd / "tmp")
    os.chmod(wd / "tmp", 0o1777)
    write_file(wd / "tmp" / "roots", b"r")
    os.chmod(wd / "tmp" / "roots", 0o666)

    def child():
        return {"unlink": attempt(lambda: os.unlink(wd / "tmp" / "roots")),
                "rename": attempt(lambda: os.rename(wd / "tmp" / "roots", wd / "tmp" / "x")),
                "write": attempt(lambda: write_file(wd / "tmp" / "roots", b"n")),
                "own": attempt(lambda: (write_file(wd / "tmp" / "own", b""),
                                        os.unlink(wd / "tmp" / "own")))}

    assert run_as(NOBODY, NOBODY, child) == {
        "unlink": "EPERM", "rename": "EPERM", "write": "ok", "own": "ok"}
    assert os.listdir(wd / "tmp") == ["roots"]
