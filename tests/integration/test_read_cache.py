"""dosfs's read cache: a read smaller than 64 KiB fetches the whole 64 KiB
blocks it touches and keeps them for later small reads of the open file.
What these tests check is that it never serves bytes older than a read
through the same mount would have got without it: after writes and
truncates through any descriptor, after a reopen, after another mount's
change once attributes are asked again, after a lock, with O_DIRECT; and
that small reads at random places return the file's bytes."""

import fcntl
import mmap
import os
import random
import time

import pytest

from dosit import MiB, rand_bytes, write_file

BLOCK = 64 * 1024
ATTR_WAIT = 1.5  # past the kernel's attribute timeout (1 s)


def test_small_reads_at_random_places_return_the_files_bytes(wd):
    data = rand_bytes(3 * MiB + 4321, 71)  # ends inside a block
    write_file(wd / "f", data)
    rng = random.Random(72)
    fd = os.open(wd / "f", os.O_RDONLY)
    try:
        for _ in range(3000):
            off = rng.randrange(0, len(data) + 10)
            size = rng.choice([1, 100, 4096, 5000, BLOCK - 1, 2 * BLOCK])
            assert os.pread(fd, size, off) == data[off:off + size], (off, size)
    finally:
        os.close(fd)


def test_a_partial_page_write_is_read_back_through_another_descriptor(wd):
    data = bytearray(rand_bytes(MiB, 73))
    write_file(wd / "f", data)
    rd = os.open(wd / "f", os.O_RDONLY)
    wr = os.open(wd / "f", os.O_WRONLY)
    try:
        assert os.pread(rd, 4096, 0) == data[:4096]  # block 0 now kept
        # 100 bytes inside page 2 of block 0: the kernel sends them as they
        # are and does not keep page 2, so the next read of it reaches dosfs.
        os.pwrite(wr, b"w" * 100, 8192 + 10)
        data[8192 + 10:8192 + 110] = b"w" * 100
        assert os.pread(rd, 4096, 8192) == data[8192:12288]
        assert os.pread(rd, 4096, 12288) == data[12288:16384]
    finally:
        os.close(wr)
        os.close(rd)


def test_a_truncate_down_then_up_reads_zeros_where_cut(wd):
    data = rand_bytes(MiB, 74)
    write_file(wd / "f", data)
    fd = os.open(wd / "f", os.O_RDWR)
    try:
        assert os.pread(fd, 4096, 0) == data[:4096]  # block 0 kept, 64 KiB of data
        os.ftruncate(fd, 20000)
        assert os.pread(fd, 4096, 16384) == data[16384:20000]
        os.ftruncate(fd, BLOCK)
        assert os.pread(fd, 4096, 20480) == bytes(4096)
        assert os.pread(fd, 8192, 16384) == data[16384:20000] + bytes(8192 - 3616)
    finally:
        os.close(fd)


def test_a_write_through_o_direct_is_seen_by_a_cached_reader(wd):
    data = bytearray(rand_bytes(MiB, 75))
    write_file(wd / "f", data)
    rd = os.open(wd / "f", os.O_RDONLY)
    wr = os.open(wd / "f", os.O_WRONLY | os.O_DIRECT)
    try:
        assert os.pread(rd, 4096, BLOCK) == data[BLOCK:BLOCK + 4096]
        buf = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT wants
        buf.write(b"d" * 4096)
        assert os.pwritev(wr, [buf], BLOCK + 8192) == 4096
        data[BLOCK + 8192:BLOCK + 12288] = b"d" * 4096
        # Page BLOCK+8192 was written around the page cache: read it and
        # the page beside it, neither of which the kernel keeps.
        assert os.pread(rd, 8192, BLOCK + 8192) == data[BLOCK + 8192:BLOCK + 16384]
    finally:
        os.close(wr)
        os.close(rd)


@pytest.fixture(scope="module")
def other(cluster3):
    """A second dosfs on the same cluster."""
    m = cluster3.second_mount()
    yield m
    cluster3.unmount_second(m)


def rewrite(path, data, off, seed, lock=False):
    """Writes 4 KiB of new bytes at off of path (on another mount), under an
    exclusive lockf if lock, and closes; the same into data."""
    new = rand_bytes(4096, seed)
    fd = os.open(path, os.O_RDWR)
    try:
        if lock:
            fcntl.lockf(fd, fcntl.LOCK_EX)
        os.pwrite(fd, new, off)
        if lock:
            os.fsync(fd)
            fcntl.lockf(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)  # committed: another mtime at meta
    data[off:off + 4096] = new


def test_o_direct_reads_see_another_mounts_write_at_once(wd, other):
    data = bytearray(rand_bytes(MiB, 76))
    write_file(wd / "f", data)
    rd = os.open(wd / "f", os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT wants
    try:
        assert os.preadv(rd, [buf], 0) == 4096 and buf[:] == data[:4096]
        rewrite(other / wd.name / "f", data, 4096, 77)
        # No wait: an O_DIRECT read asks the nodes every time.
        assert os.preadv(rd, [buf], 4096) == 4096 and buf[:] == data[4096:8192]
    finally:
        os.close(rd)


def test_a_change_by_another_mount_is_seen_once_attributes_expire(wd, other):
    data = bytearray(rand_bytes(MiB, 78))
    write_file(wd / "f", data)
    with open(wd / "f", "rb", buffering=0) as f:
        assert os.pread(f.fileno(), 4096, 0) == data[:4096]  # block 0 kept here
        rewrite(other / wd.name / "f", data, 8192, 79)
        time.sleep(ATTR_WAIT)
        # The kernel asks for attributes again before this read (they
        # expired), sees the new mtime and drops its pages; dosfs drops its
        # blocks.
        assert os.pread(f.fileno(), 4096, 8192) == data[8192:12288]


def test_a_lock_taken_after_another_mount_wrote_reads_its_bytes(wd, other):
    data = bytearray(rand_bytes(MiB, 80))
    write_file(wd / "f", data)
    with open(wd / "f", "r+b", buffering=0) as f:
        assert os.pread(f.fileno(), 4096, 0) == data[:4096]
        rewrite(other / wd.name / "f", data, 16384, 81, lock=True)
        # No wait for attributes: the lock is what orders the two.
        fcntl.lockf(f.fileno(), fcntl.LOCK_EX)
        assert os.pread(f.fileno(), 4096, 16384) == data[16384:20480]
        fcntl.lockf(f.fileno(), fcntl.LOCK_UN)


def test_a_reopen_reads_what_was_written_meanwhile(wd, other):
    data = bytearray(rand_bytes(MiB, 82))
    write_file(wd / "f", data)
    with open(wd / "f", "rb", buffering=0) as keep:  # the file stays open here throughout
        assert os.pread(keep.fileno(), 4096, 0) == data[:4096]
        rewrite(other / wd.name / "f", data, 4096 * 5, 83)
        with open(wd / "f", "rb", buffering=0) as f:  # close-to-open
            assert os.pread(f.fileno(), 4096, 4096 * 5) == data[4096 * 5:4096 * 6]
