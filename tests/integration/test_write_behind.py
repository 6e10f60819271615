"""Write-behind in dosfs: write(2) returns once the data is queued (at most
4096 writes or 16 MiB in flight per file; small ones go out batched), so what these
tests check is that nothing is lost or reordered: overlapping writes land in order, a read or stat through
the same file sees every write before it, close makes everything visible to
another mount, fsync after a close and a reopen still succeeds, and the
write-through modes (O_DIRECT, O_SYNC) give the same bytes."""

import os
import random

import pytest

from dosit import CHUNK, MiB, chunk_bytes, rand_bytes, read_file


def _pwrite(fd, model, data, off):
    """pwrite data at off, and the same into the local model."""
    assert os.pwrite(fd, data, off) == len(data)
    end = off + len(data)
    if end > len(model):
        model.extend(b"\0" * (end - len(model)))
    model[off:end] = data


def _random_writes(fd, model, seed, count, span):
    rng = random.Random(seed)
    for _ in range(count):
        size = rng.choice([1, 17, 4096, 4097, 65536, 300000, MiB])
        _pwrite(fd, model, rng.randbytes(size), rng.randrange(0, span))


def test_overlapping_writes_land_in_order(wd, cluster3):
    """The same 4 KiB written 200 times, then random overlapping writes
    across a chunk boundary: every byte as a local model says, read through
    the writing descriptor before close, and through a second mount after."""
    p = wd / "overlap"
    model = bytearray()
    fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for i in range(200):
            block = bytes([i % 251]) * 4096
            os.pwrite(fd, block, 8192)
        model.extend(b"\0" * 8192 + bytes([199 % 251]) * 4096)
        # 64 MiB chunks by default: straddle the first boundary.
        _random_writes(fd, model, 41, 300, 3 * MiB)
        _random_writes(fd, model, 42, 40, 64 * MiB + 2 * MiB)
        assert os.fstat(fd).st_size == len(model)     # stat sees writes in flight
        got = os.pread(fd, len(model), 0)
        assert got == bytes(model), "read through the writer differs"
    finally:
        os.close(fd)
    assert read_file(p) == bytes(model)
    d = cluster3.second_mount()
    try:
        assert read_file(d / os.path.relpath(p, cluster3.mount)) == bytes(model)
    finally:
        cluster3.unmount_second(d)


def test_fsync_after_close_and_reopen(wd):
    """Close does not fsync: the chunks written stay marked unsynced, and an
    fsync through a later descriptor of the file syncs them (no error)."""
    p = wd / "later-fsync"
    data = rand_bytes(3 * MiB + 5, 7)
    with open(p, "wb") as f:
        f.write(data)
    fd = os.open(p, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    assert read_file(p) == data


@pytest.mark.parametrize("flag", ["O_DIRECT", "O_SYNC", "O_DSYNC"])
def test_write_through_modes(wd, flag):
    """O_DIRECT, O_SYNC and O_DSYNC handles write before the reply: the
    same bytes as write-behind, and each write visible at once to a
    plain descriptor of the same file."""
    p = wd / ("through-" + flag)
    data = rand_bytes(2 * MiB, 9)
    # O_DIRECT wants aligned buffers: an anonymous mmap is page-aligned.
    import mmap
    buf = mmap.mmap(-1, len(data))
    buf.write(data)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, flag), 0o644)
    reader = os.open(p, os.O_RDONLY)
    try:
        for off in range(0, len(data), 256 * 1024):
            assert os.pwrite(fd, memoryview(buf)[off:off + 256 * 1024], off) == 256 * 1024
            assert os.pread(reader, 256 * 1024, off) == data[off:off + 256 * 1024]
    finally:
        os.close(reader)
        os.close(fd)
    assert read_file(p) == data


def test_many_files_written_at_once(wd):
    """Forty files open together, written in turns (several queues at once),
    closed, then every byte checked."""
    datas = {wd / ("f%02d" % i): rand_bytes(300000 + i, 100 + i) for i in range(40)}
    fds = {p: os.open(p, os.O_WRONLY | os.O_CREAT, 0o644) for p in datas}
    try:
        for off in range(0, 300040, 65536):
            for p, d in datas.items():
                os.pwrite(fds[p], d[off:off + 65536], off)
    finally:
        for fd in fds.values():
            os.close(fd)
    for p, d in datas.items():
        assert read_file(p) == d, p


def test_cross_traffic_keeps_every_replica(wd, cluster3):
    """Eight files written at once, 1 MiB at a time (up to 16 writes of each
    in flight), their chains headed by different nodes: nodes forward to
    each other at full load. No forward may time out for want of a thread
    (that would drop a replica and bump the chunk's version): afterwards
    every chunk keeps all its replicas at its first version, and every byte
    is there."""
    import threading
    size = 12 * MiB
    datas = {wd / ("x%d" % i): rand_bytes(size, 200 + i) for i in range(8)}
    errors = []

    def writer(p, d):
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                for off in range(0, size, MiB):
                    os.pwrite(fd, d[off:off + MiB], off)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=item) for item in datas.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    heads, widths = set(), set()
    for p, d in datas.items():
        for ch in cluster3.fs_stat(p)["chunks"]:
            assert ch["version"] == 1, ("a replica was dropped during the writes", p, ch)
            assert ch["state"] == "ok", (p, ch)
            widths.add(len(set(ch["replicas"])))
            heads.add(ch["replicas"][0])
        assert read_file(p) == d, p
    assert len(widths) == 1 and widths.pop() >= 2   # every chunk as wide as placed
    assert len(heads) >= 2, heads   # the chains really crossed


def test_small_writes_batched_reach_every_replica(wd, cluster3):
    """Thousands of small writes (1 byte to 8 KiB, some overlapping, some
    across a chunk boundary) go out as batches of extents in one
    chunk write. Every byte as a local model says through the writer, through
    a second mount, and in the chunk file of every replica on disk (the
    chain forwarded each batch whole); no replica was dropped."""
    p = wd / "batched"
    model = bytearray()
    rng = random.Random(7)
    fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for i in range(3000):
            size = rng.choice([1, 13, 512, 4096, 4096, 4096, 5000, 8192])
            if i % 10 == 0:
                off = CHUNK - 6000 + rng.randrange(0, 12000)   # near the boundary
            else:
                off = rng.randrange(0, 2 * MiB)
            _pwrite(fd, model, rng.randbytes(size), off)
        assert os.fstat(fd).st_size == len(model)
        assert os.pread(fd, len(model), 0) == bytes(model), "read through the writer differs"
        os.fsync(fd)
    finally:
        os.close(fd)
    d = cluster3.second_mount()
    try:
        assert read_file(d / os.path.relpath(p, cluster3.mount)) == bytes(model)
    finally:
        cluster3.unmount_second(d)
    chunks = cluster3.fs_stat(p)["chunks"]
    assert sorted(ch["index"] for ch in chunks) == [0, 1]
    for ch in chunks:
        assert ch["version"] == 1 and ch["state"] == "ok", ch
        want = bytes(model[ch["index"] * CHUNK:(ch["index"] + 1) * CHUNK])
        for node in ch["replicas"]:
            cid = int(ch["id"], 16) if isinstance(ch["id"], str) else int(ch["id"])
            files = [f for f in cluster3.chunk_files(node, cid) if f.suffix == ".chunk"]
            assert len(files) == 1, (node, ch)
            got = chunk_bytes(files[0])
            assert got == want[:len(got)] and not any(want[len(got):]), (node, ch["id"])
