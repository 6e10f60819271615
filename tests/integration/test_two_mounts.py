"""Two dosfs mounts of the same cluster (A: the mount of `dos up`, B: a
second dosfs on the same dos.conf): close-to-open consistency, namespace
changes seen across mounts, and flock / fcntl record locks that span both."""

import errno
import fcntl
import os
import subprocess
import sys
import time

import pytest

from dosit import MiB, expect_errno, poll, rand_bytes, read_file, write_file

CACHE_WAIT = 2.5  # what we allow attribute and entry caches on B to lag

HOLDER = r"""
import fcntl, os, sys
path, kind = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDWR)
if kind == "flock":
    fcntl.flock(fd, fcntl.LOCK_EX)
else:
    fcntl.lockf(fd, fcntl.LOCK_EX, int(sys.argv[3]), int(sys.argv[4]))
print("locked", flush=True)
sys.stdin.readline()
"""

WAITER = r"""
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
print("waiting", flush=True)
if sys.argv[2] == "flock":
    fcntl.flock(fd, fcntl.LOCK_EX)
else:
    fcntl.lockf(fd, fcntl.LOCK_EX, 0, 0)
print("got", flush=True)
"""


@pytest.fixture(scope="module")
def mount_b(cluster3):
    return cluster3.second_mount()


@pytest.fixture
def ab(request, cluster3, mount_b):
    """(dir on A, the same dir on B)."""
    name = request.node.name
    a = cluster3.mount / name
    os.mkdir(a)
    b = mount_b / name
    assert poll(lambda: os.path.isdir(b), CACHE_WAIT), f"{b} not visible on mount B"
    return a, b


class Holder:
    """A child process that holds a lock until released or killed."""

    def __init__(self, path, kind, length=0, start=0):
        self.p = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), kind,
                                   str(length), str(start)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        assert line.strip() == "locked", f"lock holder failed (exit {self.p.wait()})"

    def release(self):
        if self.p.poll() is None:
            self.p.stdin.write("\n")
            self.p.stdin.flush()
        assert self.p.wait(timeout=20) == 0

    def kill(self):
        self.p.kill()
        self.p.wait(timeout=20)


def read_or_none(path):
    """The file's bytes, or None while a lookup still fails with ENOENT."""
    try:
        return read_file(path)
    except FileNotFoundError:
        return None


def try_lock(fn):
    try:
        fn()
        return True
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise


# ---- close-to-open -----------------------------------------------------------

def test_file_written_on_a_is_read_in_full_on_b(ab):
    a, b = ab
    data = rand_bytes(9 * MiB + 77, 21)
    write_file(a / "f", data)
    assert read_file(b / "f") == data
    assert os.stat(b / "f").st_size == len(data)


def test_rewrite_on_a_seen_by_reopen_on_b(ab):
    a, b = ab
    first = rand_bytes(MiB, 22)
    write_file(a / "f", first)
    assert read_file(b / "f") == first          # B now has the pages cached
    second = rand_bytes(MiB, 23)
    write_file(a / "f", second)                 # same size, other bytes
    assert read_file(b / "f") == second


def test_growth_on_a_seen_by_reopen_on_b(ab):
    a, b = ab
    write_file(a / "f", b"short")
    assert read_file(b / "f") == b"short"
    more = rand_bytes(5 * MiB, 24)
    with open(a / "f", "ab") as f:
        f.write(more)
    assert read_file(b / "f") == b"short" + more


def test_truncate_on_a_seen_by_reopen_on_b(ab):
    a, b = ab
    write_file(a / "f", rand_bytes(2 * MiB, 25))
    assert len(read_file(b / "f")) == 2 * MiB
    write_file(a / "f", b"tiny")
    assert read_file(b / "f") == b"tiny"


def test_write_on_b_seen_on_a(ab):
    a, b = ab
    data = rand_bytes(3 * MiB, 26)
    write_file(b / "g", data)
    assert read_file(a / "g") == data


# ---- namespace changes ------------------------------------------------------------

def test_rename_on_a_seen_on_b(ab):
    a, b = ab
    write_file(a / "old", b"content")
    assert read_file(b / "old") == b"content"
    os.rename(a / "old", a / "new")
    assert poll(lambda: not os.path.lexists(b / "old"), CACHE_WAIT), "old name still on B"
    assert poll(lambda: os.path.exists(b / "new"), CACHE_WAIT), "new name not on B"
    assert read_file(b / "new") == b"content"
    assert os.listdir(b) == ["new"]


def test_unlink_on_a_seen_on_b(ab):
    a, b = ab
    write_file(a / "f", b"x")
    assert os.path.exists(b / "f")
    os.unlink(a / "f")
    assert poll(lambda: not os.path.lexists(b / "f"), CACHE_WAIT), "unlinked file still on B"
    expect_errno(errno.ENOENT, os.open, b / "f", os.O_RDONLY)
    assert os.listdir(b) == []


def test_mkdir_chmod_symlink_on_a_seen_on_b(ab):
    a, b = ab
    os.mkdir(a / "d")
    os.symlink("d", a / "l")
    write_file(a / "f", b"")
    assert poll(lambda: sorted(os.listdir(b)) == ["d", "f", "l"], CACHE_WAIT)
    assert os.readlink(b / "l") == "d"
    os.stat(b / "f")
    os.chmod(a / "f", 0o600)
    assert poll(lambda: os.stat(b / "f").st_mode & 0o777 == 0o600, CACHE_WAIT), \
        "chmod on A not seen on B"


def test_attrs_set_while_writing_seen_at_once_on_a_and_after_close_on_b(ab):
    """tar's pattern: write, futimens, fchown, fchmod, close. A sees each
    change at once (dosfs keeps them for the write's commit); after close B
    sees them all, and the data."""
    a, b = ab
    data = rand_bytes(10000, 7)
    fd = os.open(a / "f", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.utime(fd, ns=(1_500_000_000_123_456_789, 1_600_000_000_987_654_321))
        os.fchown(fd, 123, 456)
        os.fchmod(fd, 0o4751)
        st = os.stat(a / "f")
        assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o4751, 123, 456)
        assert (st.st_atime_ns, st.st_mtime_ns) == (1_500_000_000_123_456_789,
                                                     1_600_000_000_987_654_321)
        assert st.st_size == len(data)
        os.write(fd, b"tail")  # a write after the utime sets mtime to now again
        st = os.stat(a / "f")
        assert st.st_mtime_ns > 1_700_000_000 * 10**9 and st.st_size == len(data) + 4
        os.utime(fd, ns=(1_500_000_000_123_456_789, 1_600_000_000_987_654_321))
    finally:
        os.close(fd)
    def on_b():
        st = os.stat(b / "f")
        return (st.st_mode & 0o7777, st.st_uid, st.st_gid, st.st_atime_ns, st.st_mtime_ns,
                st.st_size)
    want = (0o4751, 123, 456, 1_500_000_000_123_456_789, 1_600_000_000_987_654_321,
            len(data) + 4)
    assert poll(lambda: on_b() == want, CACHE_WAIT), f"B sees {on_b()}, not {want}"
    assert read_file(b / "f") == data + b"tail"


def test_replace_by_rename_seen_on_b(ab):
    a, b = ab
    write_file(a / "cfg", b"version 1")
    assert read_file(b / "cfg") == b"version 1"
    write_file(a / "cfg.tmp", b"version 2")
    os.rename(a / "cfg.tmp", a / "cfg")     # the atomic-replace idiom
    got = poll(lambda: read_or_none(b / "cfg") == b"version 2", CACHE_WAIT)
    assert got, f"B still reads {read_or_none(b / 'cfg')!r} after {CACHE_WAIT}s"



def test_busy_dir_on_b_follows_changes_on_a(ab):
    """B answers lookups in a busy directory from a listing (DirListings);
    changes on A still show on B within the cache lag, and B's own changes
    at once."""
    a, b = ab
    for i in range(40):
        write_file(a / f"f{i}", b"x" * i)
    time.sleep(1.1)  # B's kernel forgets the names; B's lookups now miss
    for i in range(40):
        assert os.stat(b / f"f{i}").st_size == i
    expect_errno(errno.ENOENT, os.stat, b / "new")
    # Close-to-open holds for a name B never looked up, listing or not.
    write_file(a / "late", b"closed on A")
    assert read_file(b / "late") == b"closed on A"
    write_file(a / "new", b"fresh")
    os.unlink(a / "f1")
    os.chmod(a / "f2", 0o600)
    write_file(a / "f3", b"grown" * 100)
    assert poll(lambda: os.path.exists(b / "new"), CACHE_WAIT), "created on A, not seen on B"
    assert poll(lambda: not os.path.lexists(b / "f1"), CACHE_WAIT), "unlinked on A, still on B"
    assert poll(lambda: os.stat(b / "f2").st_mode & 0o777 == 0o600, CACHE_WAIT)
    assert poll(lambda: os.stat(b / "f3").st_size == 500, CACHE_WAIT)
    assert read_file(b / "new") == b"fresh"
    # B's own changes in the same busy directory show on B at once.
    time.sleep(1.1)
    for i in range(4, 40):
        os.stat(b / f"f{i}")
    # The kernel drops its dentries (as under memory pressure): each stat
    # below is a LOOKUP that the listing answers, so it must know the change.
    def fresh_stat(p):
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("2\n")
        return os.stat(p)
    os.chmod(b / "f4", 0o640)
    assert fresh_stat(b / "f4").st_mode & 0o777 == 0o640
    with open(b / "f5", "ab") as f:
        f.write(b"more")
    assert fresh_stat(b / "f5").st_size == 9
    os.unlink(b / "f6")
    expect_errno(errno.ENOENT, fresh_stat, b / "f6")
    write_file(b / "f6", b"again")
    assert fresh_stat(b / "f6").st_size == 5
    os.link(b / "f7", b / "f7-link")
    assert fresh_stat(b / "f7").st_nlink == 2
    os.unlink(b / "f7-link")
    assert fresh_stat(b / "f7").st_nlink == 1
    os.setxattr(b / "f9", "user.k", b"v")
    assert fresh_stat(b / "f9").st_ctime_ns >= os.stat(b / "f10").st_ctime_ns
    os.rename(b / "f8", b / "f8-renamed")
    expect_errno(errno.ENOENT, fresh_stat, b / "f8")
    assert fresh_stat(b / "f8-renamed").st_size == 8
    os.mkdir(b / "sub")
    assert fresh_stat(b).st_nlink == 3
    os.rmdir(b / "sub")
    expect_errno(errno.ENOENT, fresh_stat, b / "sub")


def test_xattrs_of_listed_files_follow_changes(ab):
    """A mount answers getxattr and listxattr of an inode meta said has no
    extended attribute from memory for a moment (ls -l asks two names of
    every entry: XattrAbsence). Its own setxattr and removexattr show at
    once; another mount's within the cache lag; a file that has one is
    never answered "none" from a listing."""
    a, b = ab
    for i in range(6):
        write_file(a / f"f{i}", b"x")
    os.setxattr(a / "f0", "user.k", b"v0")
    time.sleep(1.1)  # what B knew of these names has expired
    assert sorted(os.listdir(b)) == [f"f{i}" for i in range(6)]  # readdirplus
    for i in range(6):
        os.lstat(b / f"f{i}")
    # ls -l's questions, answered for the files without attributes.
    assert os.getxattr(b / "f0", "user.k") == b"v0"
    assert os.listxattr(b / "f0") == ["user.k"]
    for i in range(1, 6):
        expect_errno(errno.ENODATA, os.getxattr, b / f"f{i}", "security.selinux")
        expect_errno(errno.ENODATA, os.getxattr, b / f"f{i}", "system.posix_acl_access")
        assert os.listxattr(b / f"f{i}") == []
    # B's own changes: at once.
    os.setxattr(b / "f1", "user.k", b"v1")
    assert os.getxattr(b / "f1", "user.k") == b"v1"
    assert os.listxattr(b / "f1") == ["user.k"]
    os.removexattr(b / "f0", "user.k")
    expect_errno(errno.ENODATA, os.getxattr, b / "f0", "user.k")
    # A's changes: within the lag, also on B's open descriptor (the kernel
    # asks for security.capability before each write).
    os.listdir(b)
    fd = os.open(b / "f2", os.O_WRONLY)
    try:
        os.setxattr(a / "f2", "user.k", b"v2")
        os.setxattr(a / "f3", "user.k", b"v3")
        assert poll(lambda: read_xattr_or_none(b / "f3", "user.k") == b"v3", CACHE_WAIT), \
            "setxattr on A not seen on B"
        assert poll(lambda: os.listxattr(b / "f2") == ["user.k"], CACHE_WAIT)
        os.write(fd, b"y")
    finally:
        os.close(fd)
    assert os.getxattr(a / "f2", "user.k") == b"v2"
    os.removexattr(a / "f3", "user.k")
    assert poll(lambda: read_xattr_or_none(b / "f3", "user.k") is None, CACHE_WAIT), \
        "removexattr on A not seen on B"


def read_xattr_or_none(p, name):
    try:
        return os.getxattr(p, name)
    except OSError as e:
        if e.errno != errno.ENODATA:
            raise
        return None


# ---- flock -----------------------------------------------------------------------

def test_flock_on_a_blocks_b(ab):
    a, b = ab
    write_file(a / "lock", b"")
    assert poll(lambda: os.path.exists(b / "lock"), CACHE_WAIT)
    fa = os.open(a / "lock", os.O_RDWR)
    fb = os.open(b / "lock", os.O_RDWR)
    try:
        fcntl.flock(fa, fcntl.LOCK_EX)
        expect_errno(errno.EWOULDBLOCK, fcntl.flock, fb, fcntl.LOCK_EX | fcntl.LOCK_NB)
        expect_errno(errno.EWOULDBLOCK, fcntl.flock, fb, fcntl.LOCK_SH | fcntl.LOCK_NB)
        os.close(fa)   # close releases the flock
        fa = -1
        assert poll(lambda: try_lock(lambda: fcntl.flock(fb, fcntl.LOCK_EX | fcntl.LOCK_NB)),
                    CACHE_WAIT), "flock not released by close on A"
        fa = os.open(a / "lock", os.O_RDWR)
        expect_errno(errno.EWOULDBLOCK, fcntl.flock, fa, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fb, fcntl.LOCK_UN)
        fcntl.flock(fa, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        if fa >= 0:
            os.close(fa)
        os.close(fb)


def test_flock_shared_on_both(ab):
    a, b = ab
    write_file(a / "lock", b"")
    assert poll(lambda: os.path.exists(b / "lock"), CACHE_WAIT)
    fa = os.open(a / "lock", os.O_RDWR)
    fb = os.open(b / "lock", os.O_RDWR)
    try:
        fcntl.flock(fa, fcntl.LOCK_SH)
        fcntl.flock(fb, fcntl.LOCK_SH | fcntl.LOCK_NB)
        expect_errno(errno.EWOULDBLOCK, fcntl.flock, fa, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fb, fcntl.LOCK_UN)
        fcntl.flock(fa, fcntl.LOCK_EX | fcntl.LOCK_NB)  # upgrade once alone
    finally:
        os.close(fa)
        os.close(fb)


def test_flock_holder_killed_releases(ab):
    a, b = ab
    write_file(a / "lock", b"")
    h = Holder(a / "lock", "flock")
    fb = os.open(b / "lock", os.O_RDWR)
    try:
        expect_errno(errno.EWOULDBLOCK, fcntl.flock, fb, fcntl.LOCK_EX | fcntl.LOCK_NB)
        h.kill()
        assert poll(lambda: try_lock(lambda: fcntl.flock(fb, fcntl.LOCK_EX | fcntl.LOCK_NB)),
                    5), "flock of a killed process not released"
    finally:
        os.close(fb)


def waiter_on_b_wakes(ab, name, content, kind, *holder_args):
    """A lock of `kind` held through mount A blocks a waiter on mount B until
    released; then the waiter gets it."""
    a, b = ab
    write_file(a / name, content)
    h = Holder(a / name, kind, *holder_args)
    w = subprocess.Popen([sys.executable, "-c", WAITER, str(b / name), kind],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert w.stdout.readline().strip() == "waiting"
        time.sleep(1)
        assert w.poll() is None, f"waiter got a {kind} lock held on the other mount"
        h.release()
        out, _ = w.communicate(timeout=10)
        assert out.strip() == "got" and w.returncode == 0
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
        h.kill()


def test_flock_blocking_waiter_on_b_wakes(ab):
    waiter_on_b_wakes(ab, "lock", b"", "flock")


# ---- fcntl record locks ------------------------------------------------------------

def test_lockf_on_a_blocks_b(ab):
    a, b = ab
    write_file(a / "db", bytes(1000))
    h = Holder(a / "db", "lockf", 100, 0)      # bytes 0..99
    fb = os.open(b / "db", os.O_RDWR)
    try:
        expect_errno((errno.EACCES, errno.EAGAIN),
                     fcntl.lockf, fb, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 50)
        expect_errno((errno.EACCES, errno.EAGAIN),
                     fcntl.lockf, fb, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 99)
        expect_errno((errno.EACCES, errno.EAGAIN),
                     fcntl.lockf, fb, fcntl.LOCK_EX | fcntl.LOCK_NB, 0, 0)   # whole file
        fcntl.lockf(fb, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 100)  # 100..199: free
        fcntl.lockf(fb, fcntl.LOCK_UN, 100, 100)
        # the same file from another process on A conflicts as well
        fa = os.open(a / "db", os.O_RDWR)
        try:
            expect_errno((errno.EACCES, errno.EAGAIN),
                         fcntl.lockf, fa, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
        finally:
            os.close(fa)
        h.release()   # the holder closes and exits
        assert poll(lambda: try_lock(lambda: fcntl.lockf(fb, fcntl.LOCK_EX | fcntl.LOCK_NB,
                                                         10, 50)), CACHE_WAIT), \
            "record lock not released when its holder closed the file"
    finally:
        os.close(fb)


def test_lockf_shared_locks_coexist(ab):
    a, b = ab
    write_file(a / "db", bytes(100))
    fa = os.open(a / "db", os.O_RDWR)
    fb = os.open(b / "db", os.O_RDWR)
    try:
        # a shared lock in this process on B; a child on A takes a shared one too
        fcntl.lockf(fb, fcntl.LOCK_SH | fcntl.LOCK_NB, 0, 0)
        code = ("import fcntl,os,sys; fd=os.open(sys.argv[1], os.O_RDWR);"
                "fcntl.lockf(fd, fcntl.LOCK_SH|fcntl.LOCK_NB, 0, 0);"
                "import errno\n"
                "try:\n fcntl.lockf(fd, fcntl.LOCK_EX|fcntl.LOCK_NB, 0, 0); print('ex-granted')\n"
                "except OSError as e: print(errno.errorcode[e.errno])")
        out = subprocess.run([sys.executable, "-c", code, str(a / "db")], capture_output=True,
                             text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() in ("EACCES", "EAGAIN")
    finally:
        os.close(fa)
        os.close(fb)


def test_lockf_holder_killed_releases(ab):
    a, b = ab
    write_file(a / "db", bytes(100))
    h = Holder(a / "db", "lockf", 0, 0)
    fb = os.open(b / "db", os.O_RDWR)
    try:
        expect_errno((errno.EACCES, errno.EAGAIN),
                     fcntl.lockf, fb, fcntl.LOCK_EX | fcntl.LOCK_NB, 0, 0)
        h.kill()
        assert poll(lambda: try_lock(lambda: fcntl.lockf(fb, fcntl.LOCK_EX | fcntl.LOCK_NB,
                                                         0, 0)), 5), \
            "record lock of a killed process not released"
    finally:
        os.close(fb)


def test_lockf_blocking_waiter_on_b_wakes(ab):
    waiter_on_b_wakes(ab, "db", bytes(100), "lockf", 0, 0)


# ---- concurrent writers on both mounts ----------------------------------------------

BLOCK_WRITER = r"""
import os, sys
path, parity, letter, n = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), int(sys.argv[4])
fd = os.open(path, os.O_WRONLY)
for i in range(parity, n, 2):
    os.pwrite(fd, letter * 4096, i * 4096)
os.close(fd)
"""


def test_disjoint_block_writes_from_both_mounts(ab, cluster3):
    """A writes the even 4 KiB blocks, B the odd ones, at the same time: no
    write may be lost (each block goes to the servers as written)."""
    a, b = ab
    n = 256  # 1 MiB: one chunk, many blocks of it
    write_file(a / "shared", bytes(n * 4096))
    assert poll(lambda: os.path.exists(b / "shared"), CACHE_WAIT)
    procs = [subprocess.Popen([sys.executable, "-c", BLOCK_WRITER, str(d / "shared"), str(par),
                               letter, str(n)])
             for d, par, letter in ((a, 0, "A"), (b, 1, "B"))]
    for p in procs:
        assert p.wait(timeout=120) == 0
    want = b"".join((b"A" if i % 2 == 0 else b"B") * 4096 for i in range(n))
    m = cluster3.second_mount()
    try:
        got = read_file(m / a.name / "shared")
    finally:
        cluster3.unmount_second(m)
    bad = [i for i in range(n) if got[i * 4096:(i + 1) * 4096] != want[i * 4096:(i + 1) * 4096]]
    assert not bad, f"{len(bad)} blocks lost, first {bad[:10]}"
    assert read_file(a / "shared") == want, "A reads stale blocks after reopen"
    assert read_file(b / "shared") == want, "B reads stale blocks after reopen"
