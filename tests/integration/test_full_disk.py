"""Issue 3, a full disk: each node's chunk folder is a small tmpfs
(Cluster(small_disks=...)). A node whose disk is full gets no more chunks
while others have room, and writes go on without an error; only when no node
can take a chunk does a write fail, with ENOSPC. No partial chunk files are
left behind (every data file has its CRC sidecar and the reverse)."""

import errno
import os

import pytest

import conftest
import dosit
from dosit import CHUNK, MiB, rand_bytes, read_file, write_file


@pytest.fixture
def small_cluster(request):
    def make(nodes, small):
        conftest._preconditions()
        c = dosit.Cluster(nodes, name=f"disk{nodes}", small_disks=small)
        request.addfinalizer(c.destroy)
        c.up()
        return c
    return make


def no_garbage(c, node):
    base = c.node_dir(node) / "data" / "chunks"
    data = {p.stem for p in base.rglob("*.chunk")}
    other = [p.name for p in base.rglob("*") if p.is_file() and p.suffix != ".chunk"]
    assert not other, f"{node}: files other than chunks: {sorted(other)[:10]}"
    for p in base.rglob("*.chunk"):   # no chunk file short of its header
        assert p.stat().st_size >= 16, f"{node}: {p} holds no header"
    for p in (c.node_dir(node) / "data" / "spare").glob("*"):  # deleted chunks' files: empty
        assert p.stat().st_size == 0, f"{node}: spare {p.name} holds {p.stat().st_size} bytes"
    return data


def test_full_node_is_skipped(small_cluster):
    # node4 holds at most 3 chunks; the others have room for everything.
    c = small_cluster(4, {"node4": 3 * CHUNK + 256 * 1024})
    files = {}
    for i in range(8):
        p = c.mount / f"f{i}"
        files[p] = rand_bytes(2 * CHUNK, 300 + i)
        write_file(p, files[p])   # never ENOSPC: three nodes have room
    for p, data in files.items():
        assert read_file(p) == data
    m = c.second_mount()
    try:
        for p, data in files.items():
            assert read_file(m / p.name) == data
    finally:
        c.unmount_second(m)
    on4 = no_garbage(c, "node4")
    assert len(on4) <= 3, on4
    for p in files:
        for ch in c.fs_stat(p)["chunks"]:
            assert len(set(ch["replicas"])) >= 2, ch   # placed on nodes with room


def test_enospc_when_no_node_has_room(small_cluster):
    c = small_cluster(3, 5 * CHUNK)  # every node: room for 4 chunks and a bit
    p = c.mount / "big"
    data = rand_bytes(12 * CHUNK, 310)
    with pytest.raises(OSError) as e:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    assert e.value.errno == errno.ENOSPC, e.value
    for node in c.node_names():
        no_garbage(c, node)
    # The cluster still works once there is room again.
    os.unlink(p)
    small = rand_bytes(MiB, 311)
    dosit.poll(lambda: _try_write(c.mount / "after", small), 60, 1)
    assert read_file(c.mount / "after") == small


def _try_write(p, data):
    try:
        write_file(p, data)
        return True
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
        return False


def test_write_error_reaches_fsync_after_another_close(small_cluster):
    """A background write error reaches the next fsync of every open file
    description once, as Linux's errseq does. A close of another descriptor
    of the same description (a dup, or a forked child's close-on-exec while
    the parent writes) reports it without taking it away: before, that close
    took it and the parent's fsync returned 0 for a file that held nothing.
    A descriptor opened after the error does not hear of it."""
    c = small_cluster(3, CHUNK // 2)  # no node has room for one chunk
    p = c.mount / "lost"
    fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        assert os.write(fd, rand_bytes(MiB, 312)) == MiB  # queued; fails behind
        with pytest.raises(OSError) as e:
            os.close(os.dup(fd))  # the same description: flush waits and reports
        assert e.value.errno == errno.ENOSPC, e.value
        later = os.open(p, os.O_RDONLY)
        os.close(later)  # opened after the error: nothing to report
        with pytest.raises(OSError) as e:
            os.write(fd, b"x")  # reported again: fsync has not seen it yet
        assert e.value.errno == errno.ENOSPC, e.value
        with pytest.raises(OSError) as e:
            os.fsync(fd)
        assert e.value.errno == errno.ENOSPC, e.value
        os.fsync(fd)  # told once; nothing written since
    finally:
        os.close(fd)
    assert os.stat(p).st_size == 0
