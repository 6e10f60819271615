"""POSIX file semantics on a dos mount: open flags, read/write, holes, large
offsets, truncate, unlink of an open file, fsync, hard links and the errno
of bad paths."""

import errno
import mmap
import os
import stat

from dosit import CHUNK, GiB, MiB, expect_errno, pread_all, rand_bytes, read_file, write_file


# ---- open flags -------------------------------------------------------------

def test_create_with_o_creat(wd):
    p = wd / "new"
    fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o640)
    try:
        st = os.fstat(fd)
        assert stat.S_ISREG(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o640
        assert st.st_size == 0
        assert st.st_nlink == 1
        assert st.st_uid == os.getuid() and st.st_gid == os.getgid()
    finally:
        os.close(fd)
    assert "new" in os.listdir(wd)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o640


def test_open_missing_without_o_creat_is_enoent(wd):
    expect_errno(errno.ENOENT, os.open, wd / "missing", os.O_RDONLY)
    expect_errno(errno.ENOENT, os.open, wd / "missing", os.O_WRONLY)
    assert not (wd / "missing").exists()


def test_o_creat_on_existing_keeps_content(wd):
    p = wd / "f"
    write_file(p, b"keep me")
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        assert os.read(fd, 100) == b"keep me"
    finally:
        os.close(fd)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o644  # mode of O_CREAT ignored


def test_o_excl_on_existing_is_eexist(wd):
    p = wd / "f"
    write_file(p, b"x")
    expect_errno(errno.EEXIST, os.open, p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.mkdir(wd / "d")
    expect_errno(errno.EEXIST, os.open, wd / "d", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.symlink("dangling-target", wd / "l")
    expect_errno(errno.EEXIST, os.open, wd / "l", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    assert read_file(p) == b"x"
    fd = os.open(wd / "g", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.close(fd)
    assert os.stat(wd / "g").st_size == 0


def test_o_trunc(wd):
    p = wd / "f"
    write_file(p, rand_bytes(CHUNK + 1000, 1))
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    try:
        assert os.fstat(fd).st_size == 0
        os.write(fd, b"short")
    finally:
        os.close(fd)
    assert os.stat(p).st_size == 5
    assert read_file(p) == b"short"


def test_o_append(wd):
    p = wd / "f"
    write_file(p, b"abc")
    fd = os.open(p, os.O_WRONLY | os.O_APPEND)
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, b"def")           # appends in spite of the seek
        os.lseek(fd, 1, os.SEEK_SET)
        os.write(fd, b"ghi")
    finally:
        os.close(fd)
    assert read_file(p) == b"abcdefghi"


def test_o_append_two_descriptors_interleave(wd):
    p = wd / "f"
    write_file(p, b"")
    a = os.open(p, os.O_WRONLY | os.O_APPEND)
    b = os.open(p, os.O_WRONLY | os.O_APPEND)
    try:
        for i in range(10):
            os.write(a, b"A%d" % i)
            os.write(b, b"B%d" % i)
    finally:
        os.close(a)
        os.close(b)
    assert read_file(p) == b"".join(b"A%dB%d" % (i, i) for i in range(10))


# ---- read and write -----------------------------------------------------------

def test_write_read_across_chunks(wd):
    p = wd / "f"
    data = rand_bytes(2 * CHUNK + 12345, 2)
    write_file(p, data)
    assert os.stat(p).st_size == len(data)
    assert read_file(p) == data
    fd = os.open(p, os.O_RDONLY)
    try:
        for off, n in ((0, 1), (CHUNK - 10, 20), (2 * CHUNK - 1, 2), (CHUNK, CHUNK),
                       (len(data) - 5, 100), (len(data), 10), (len(data) + 100, 10)):
            assert pread_all(fd, n, off) == data[off:off + n], (off, n)
    finally:
        os.close(fd)


def test_overwrite_middle_across_chunk_boundary(wd):
    p = wd / "f"
    data = bytearray(rand_bytes(2 * CHUNK, 3))
    write_file(p, data)
    patch = rand_bytes(300000, 4)
    off = CHUNK - 100000
    fd = os.open(p, os.O_RDWR)
    try:
        assert os.pwrite(fd, patch, off) == len(patch)
    finally:
        os.close(fd)
    data[off:off + len(patch)] = patch
    assert os.stat(p).st_size == 2 * CHUNK
    assert read_file(p) == bytes(data)


def test_small_writes_and_reads_reopened(wd):
    p = wd / "f"
    fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
    expect = bytearray()
    try:
        for i in range(500):
            piece = b"line %04d\n" % i
            os.write(fd, piece)
            expect += piece
    finally:
        os.close(fd)
    with open(p, "rb") as f:
        assert f.read() == bytes(expect)
    with open(p, "r") as f:
        assert f.readlines()[123] == "line 0123\n"


def test_read_write_same_descriptor(wd):
    p = wd / "f"
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"hello world")
        os.lseek(fd, 0, os.SEEK_SET)
        assert os.read(fd, 5) == b"hello"
        os.write(fd, b"_")
        assert os.pread(fd, 100, 0) == b"hello_world"
        assert os.lseek(fd, 0, os.SEEK_END) == 11
    finally:
        os.close(fd)


# ---- holes and large offsets ---------------------------------------------------

def test_sparse_file_reads_zeros(wd):
    p = wd / "sparse"
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        assert os.pwrite(fd, b"tail", 10 * MiB) == 4
        assert os.fstat(fd).st_size == 10 * MiB + 4
    finally:
        os.close(fd)
    assert os.stat(p).st_size == 10 * MiB + 4
    fd = os.open(p, os.O_RDONLY)
    try:
        head = pread_all(fd, 10 * MiB, 0)
        assert len(head) == 10 * MiB
        assert head == bytes(10 * MiB)
        assert pread_all(fd, 100, 10 * MiB) == b"tail"
    finally:
        os.close(fd)


def test_hole_inside_a_chunk(wd):
    p = wd / "f"
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.pwrite(fd, b"A" * 1000, 0)
        os.pwrite(fd, b"B" * 1000, 3 * MiB)
        os.pwrite(fd, b"C" * 10, CHUNK + 70000)
    finally:
        os.close(fd)
    data = read_file(p)
    assert len(data) == CHUNK + 70010
    assert data[:1000] == b"A" * 1000
    assert data[1000:3 * MiB] == bytes(3 * MiB - 1000)
    assert data[3 * MiB:3 * MiB + 1000] == b"B" * 1000
    assert data[3 * MiB + 1000:CHUNK + 70000] == bytes(CHUNK + 70000 - 3 * MiB - 1000)
    assert data[CHUNK + 70000:] == b"C" * 10


def test_file_past_4gib(wd):
    p = wd / "big"
    off = 5 * GiB
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        assert os.pwrite(fd, b"hello", off) == 5
        assert os.pwrite(fd, b"2^32", 4 * GiB - 2) == 4  # straddles 2^32
    finally:
        os.close(fd)
    st = os.stat(p)
    assert st.st_size == off + 5
    fd = os.open(p, os.O_RDONLY)
    try:
        assert pread_all(fd, 5, off) == b"hello"
        assert pread_all(fd, 65536, off - 65536) == bytes(65536)
        assert pread_all(fd, 10, off + 5) == b""
        assert pread_all(fd, 4, 4 * GiB - 2) == b"2^32"
        assert pread_all(fd, 4096, 4 * GiB - 4098) == bytes(4096)
        assert pread_all(fd, 4096, 4 * GiB + 2) == bytes(4096)
        assert pread_all(fd, 4096, 0) == bytes(4096)
        assert pread_all(fd, 4096, 1 * GiB) == bytes(4096)
        assert os.lseek(fd, 0, os.SEEK_END) == off + 5
    finally:
        os.close(fd)
    # the bytes at 5 GiB must not alias the bytes at 1 GiB (32-bit offsets)
    fd = os.open(p, os.O_RDWR)
    try:
        os.pwrite(fd, b"low", 1 * GiB)
        assert pread_all(fd, 5, off) == b"hello"
    finally:
        os.close(fd)


# ---- truncate ------------------------------------------------------------------

def test_truncate_down_then_up_reads_zeros(wd):
    p = wd / "f"
    data = rand_bytes(MiB, 5)
    write_file(p, data)
    os.truncate(p, 100)
    assert os.stat(p).st_size == 100
    assert read_file(p) == data[:100]
    os.truncate(p, 6 * MiB)
    assert os.stat(p).st_size == 6 * MiB
    got = read_file(p)
    assert got[:100] == data[:100]
    assert got[100:] == bytes(6 * MiB - 100)


def test_truncate_across_chunks(wd):
    p = wd / "f"
    data = rand_bytes(9 * MiB, 6)
    write_file(p, data)
    os.truncate(p, 5 * MiB + 17)   # inside the second chunk
    assert os.stat(p).st_size == 5 * MiB + 17
    os.truncate(p, 9 * MiB)
    got = read_file(p)
    assert len(got) == 9 * MiB
    assert got[:5 * MiB + 17] == data[:5 * MiB + 17]
    assert got[5 * MiB + 17:] == bytes(4 * MiB - 17)


def test_truncate_to_zero_and_regrow(wd):
    p = wd / "f"
    write_file(p, rand_bytes(CHUNK + 5, 7))
    os.truncate(p, 0)
    assert os.stat(p).st_size == 0
    assert read_file(p) == b""
    os.truncate(p, CHUNK + 5)
    assert read_file(p) == bytes(CHUNK + 5)


def test_ftruncate_on_open_descriptor(wd):
    p = wd / "f"
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"0123456789")
        os.ftruncate(fd, 4)
        assert os.fstat(fd).st_size == 4
        assert os.pread(fd, 100, 0) == b"0123"
        os.ftruncate(fd, 8)
        assert os.pread(fd, 100, 0) == b"0123\0\0\0\0"
        os.pwrite(fd, b"X", 20)
        assert os.fstat(fd).st_size == 21
    finally:
        os.close(fd)
    assert read_file(p) == b"0123" + bytes(16) + b"X"


def test_truncate_errors(wd):
    expect_errno(errno.ENOENT, os.truncate, wd / "missing", 10)
    os.mkdir(wd / "d")
    expect_errno(errno.EISDIR, os.truncate, wd / "d", 10)
    write_file(wd / "f", b"x")
    expect_errno(errno.EINVAL, os.truncate, wd / "f", -1)


# ---- unlink of an open file --------------------------------------------------

def test_unlink_open_file_stays_usable(wd):
    p = wd / "f"
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"before")
        os.unlink(p)
        assert "f" not in os.listdir(wd)
        expect_errno(errno.ENOENT, os.stat, p)
        expect_errno(errno.ENOENT, os.open, p, os.O_RDONLY)
        assert os.pread(fd, 100, 0) == b"before"
        os.pwrite(fd, b"+after", 6)
        big = rand_bytes(CHUNK + 100, 8)
        os.pwrite(fd, big, 12)  # allocates a new chunk of an unlinked file
        assert os.pread(fd, 12, 0) == b"before+after"
        assert pread_all(fd, len(big), 12) == big
        assert os.fstat(fd).st_size == 12 + len(big)
        assert os.fstat(fd).st_nlink == 0
        # the name is free for a new, unrelated file
        write_file(p, b"new")
        assert read_file(p) == b"new"
        assert os.pread(fd, 6, 0) == b"before"
    finally:
        os.close(fd)
    assert read_file(p) == b"new"
    assert os.listdir(wd) == ["f"]


def test_unlink_errors(wd):
    expect_errno(errno.ENOENT, os.unlink, wd / "missing")
    os.mkdir(wd / "d")
    expect_errno(errno.EISDIR, os.unlink, wd / "d")
    write_file(wd / "f", b"")
    expect_errno(errno.ENOTDIR, os.unlink, wd / "f" / "x")


# ---- fsync -----------------------------------------------------------------

def test_fsync_and_fdatasync(wd):
    p = wd / "f"
    data = rand_bytes(CHUNK + 4096, 9)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
        os.write(fd, b"more")
        os.fdatasync(fd)
        # visible through a separate descriptor before close
        assert read_file(p) == data + b"more"
    finally:
        os.close(fd)
    dfd = os.open(wd, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    assert read_file(p) == data + b"more"


# ---- mmap and fallocate ----------------------------------------------------------

def test_mmap_shared_write_and_read(wd):
    p = wd / "f"
    size = CHUNK + 8192
    base = rand_bytes(size, 10)
    write_file(p, base)
    fd = os.open(p, os.O_RDWR)
    try:
        with mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) as m:
            assert m[:100] == base[:100]
            assert m[CHUNK - 50:CHUNK + 50] == base[CHUNK - 50:CHUNK + 50]
            m[0:5] = b"HELLO"
            m[CHUNK + 10:CHUNK + 15] = b"WORLD"
            m.flush()
    finally:
        os.close(fd)
    want = bytearray(base)
    want[0:5] = b"HELLO"
    want[CHUNK + 10:CHUNK + 15] = b"WORLD"
    assert read_file(p) == bytes(want)


def test_posix_fallocate(wd):
    p = wd / "f"
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"head")
        os.posix_fallocate(fd, 0, 6 * MiB)
        assert os.fstat(fd).st_size == 6 * MiB
        assert pread_all(fd, 6 * MiB, 0) == b"head" + bytes(6 * MiB - 4)
    finally:
        os.close(fd)


# ---- hard links -------------------------------------------------------------

def test_hard_links(wd):
    a, b = wd / "a", wd / "b"
    write_file(a, b"shared")
    os.link(a, b)
    sa, sb = os.stat(a), os.stat(b)
    assert sa.st_ino == sb.st_ino
    assert sa.st_nlink == 2 and sb.st_nlink == 2
    with open(b, "r+b") as f:
        f.seek(0, os.SEEK_END)
        f.write(b" data")
    assert read_file(a) == b"shared data"
    os.mkdir(wd / "sub")
    os.link(b, wd / "sub" / "c")
    assert os.stat(a).st_nlink == 3
    os.unlink(a)
    assert os.stat(b).st_nlink == 2
    assert read_file(b) == b"shared data"
    assert read_file(wd / "sub" / "c") == b"shared data"
    os.unlink(b)
    assert os.stat(wd / "sub" / "c").st_nlink == 1
    assert read_file(wd / "sub" / "c") == b"shared data"
    assert sorted(os.listdir(wd)) == ["sub"]


def test_hard_link_errors(wd):
    write_file(wd / "f", b"")
    write_file(wd / "g", b"")
    os.mkdir(wd / "d")
    expect_errno(errno.EEXIST, os.link, wd / "f", wd / "g")
    expect_errno(errno.ENOENT, os.link, wd / "missing", wd / "h")
    expect_errno(errno.EPERM, os.link, wd / "d", wd / "d2")
    expect_errno(errno.ENOENT, os.link, wd / "f", wd / "nodir" / "h")
    assert os.stat(wd / "f").st_nlink == 1


# ---- errno of bad names and paths ---------------------------------------------

def test_name_too_long(wd):
    long = "n" * 256
    ok = "m" * 255
    write_file(wd / ok, b"255 is fine")
    assert read_file(wd / ok) == b"255 is fine"
    assert ok in os.listdir(wd)
    expect_errno(errno.ENAMETOOLONG, os.open, wd / long, os.O_WRONLY | os.O_CREAT, 0o644)
    expect_errno(errno.ENAMETOOLONG, os.mkdir, wd / long)
    expect_errno(errno.ENAMETOOLONG, os.stat, wd / long)
    expect_errno(errno.ENAMETOOLONG, os.symlink, "x", wd / long)
    expect_errno(errno.ENAMETOOLONG, os.rename, wd / ok, wd / long)
    expect_errno(errno.ENAMETOOLONG, os.link, wd / ok, wd / long)
    assert os.listdir(wd) == [ok]


def test_enoent(wd):
    expect_errno(errno.ENOENT, os.stat, wd / "missing")
    expect_errno(errno.ENOENT, os.lstat, wd / "missing")
    expect_errno(errno.ENOENT, os.open, wd / "nodir" / "f", os.O_WRONLY | os.O_CREAT, 0o644)
    expect_errno(errno.ENOENT, os.rename, wd / "missing", wd / "x")
    expect_errno(errno.ENOENT, os.chmod, wd / "missing", 0o600)
    expect_errno(errno.ENOENT, os.listdir, wd / "missing")


def test_enotdir_path_through_a_file(wd):
    f = wd / "file"
    write_file(f, b"x")
    expect_errno(errno.ENOTDIR, os.stat, f / "x")
    expect_errno(errno.ENOTDIR, os.open, f / "x", os.O_WRONLY | os.O_CREAT, 0o644)
    expect_errno(errno.ENOTDIR, os.mkdir, f / "x")
    expect_errno(errno.ENOTDIR, os.listdir, f)
    expect_errno(errno.ENOTDIR, os.rmdir, f)
    expect_errno(errno.ENOTDIR, os.open, f, os.O_RDONLY | os.O_DIRECTORY)


def test_eisdir_open_dir_for_write(wd):
    d = wd / "d"
    os.mkdir(d)
    expect_errno(errno.EISDIR, os.open, d, os.O_WRONLY)
    expect_errno(errno.EISDIR, os.open, d, os.O_RDWR)
    expect_errno(errno.EISDIR, os.open, d, os.O_WRONLY | os.O_CREAT, 0o644)
    fd = os.open(d, os.O_RDONLY)
    try:
        expect_errno(errno.EISDIR, os.read, fd, 10)
    finally:
        os.close(fd)
