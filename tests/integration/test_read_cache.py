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


def test_o_direct_reads_see_another_mounts_write_at_once(cluster3, wd):
    other = cluster3.second_mount()
    try:
        data = bytearray(rand_bytes(MiB, 76))
        write_file(wd / "f", data)
        rd = os.open(wd / "f", os.O_RDONLY | os.O_DIRECT)
        buf = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT wants
        try:
            assert os.preadv(rd, [buf], 0) == 4096 and buf[:] == data[:4096]
            w = os.open(other / wd.name / "f", os.O_WRONLY)
            os.pwrite(w, b"n" * 4096, 4096)
            os.close(w)
            data[4096:8192] = b"n" * 4096
            # No wait: an O_DIRECT read asks the nodes every time.
            assert os.preadv(rd, [buf], 4096) == 4096 and buf[:] == data[4096:8192]
        finally:
            os.close(rd)
    finally:
        cluster3.unmount_second(other)


def test_a_change_by_another_mount_is_seen_once_attributes_expire(cluster3, wd):
    other = cluster3.second_mount()
    try:
        data = bytearray(rand_bytes(MiB, 77))
        write_file(wd / "f", data)
        fd = os.open(wd / "f", os.O_RDONLY)
        try:
            assert os.pread(fd, 4096, 0) == data[:4096]  # block 0 kept here
            new = rand_bytes(4096, 78)
            w = os.open(other / wd.name / "f", os.O_WRONLY)
            os.pwrite(w, new, 8192)
            os.close(w)  # committed: another mtime at meta
            data[8192:12288] = new
            time.sleep(ATTR_WAIT)
            # The kernel asks for attributes again before this read (they
            # expired), sees the new mtime and drops its pages; dosfs drops
            # its blocks.
            assert os.pread(fd, 4096, 8192) == data[8192:12288]
        finally:
            os.close(fd)
    finally:
        cluster3.unmount_second(other)


def test_a_lock_taken_after_another_mount_wrote_reads_its_bytes(cluster3, wd):
    other = cluster3.second_mount()
    try:
        data = bytearray(rand_bytes(MiB, 79))
        write_file(wd / "f", data)
        fd = os.open(wd / "f", os.O_RDWR)
        try:
            assert os.pread(fd, 4096, 0) == data[:4096]
            w = os.open(other / wd.name / "f", os.O_RDWR)
            fcntl.lockf(w, fcntl.LOCK_EX)
            new = rand_bytes(4096, 80)
            os.pwrite(w, new, 16384)
            os.fsync(w)
            fcntl.lockf(w, fcntl.LOCK_UN)
            os.close(w)
            data[16384:20480] = new
            # No wait for attributes: the lock is what orders the two.
            fcntl.lockf(fd, fcntl.LOCK_EX)
            assert os.pread(fd, 4096, 16384) == data[16384:20480]
            fcntl.lockf(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    finally:
        cluster3.unmount_second(other)


def test_a_reopen_reads_what_was_written_meanwhile(cluster3, wd):
    other = cluster3.second_mount()
    try:
        data = bytearray(rand_bytes(MiB, 81))
        write_file(wd / "f", data)
        keep = os.open(wd / "f", os.O_RDONLY)  # keeps the file open here throughout
        try:
            assert os.pread(keep, 4096, 0) == data[:4096]
            new = rand_bytes(4096, 82)
            w = os.open(other / wd.name / "f", os.O_WRONLY)
            os.pwrite(w, new, 4096 * 5)
            os.close(w)
            data[4096 * 5:4096 * 6] = new
            fd = os.open(wd / "f", os.O_RDONLY)  # close-to-open
            try:
                assert os.pread(fd, 4096, 4096 * 5) == data[4096 * 5:4096 * 6]
            finally:
                os.close(fd)
        finally:
            os.close(keep)
    finally:
        cluster3.unmount_second(other)
