"""Issue 3, a cut link: four nodes in their own network namespaces on one
bridge (dosit.NetnsCluster; the client in a namespace of its own, its FUSE
mount in the test's mount namespace). Setting one node's veth down makes it
behave like a dead node: it goes DOWN, reads and writes go on. Setting the
link up again brings it back UP, and nothing stale is read: data rewritten
during the cut reads back new from every replica meta lists, and the
copies left on the node that was cut are never listed at an older version."""

import os
import shutil

import pytest

import conftest
import dosit
from dosit import CHUNK, chunk_bytes, poll, rand_bytes, read_file, write_file

DOWN_WAIT = 40


@pytest.fixture
def ncluster(request):
    conftest._preconditions()
    if shutil.which("nsenter") is None or shutil.which("ip") is None:
        pytest.skip("nsenter or ip is missing")
    c = dosit.NetnsCluster(4)
    request.addfinalizer(c.destroy)
    c.up()
    return c


def chunk_id(ch):
    v = ch["id"]
    return int(v, 16) if isinstance(v, str) else int(v)


def fresh_read(c, path):
    m = c.mount_fs(c.root / "mnt2", c.root / "dosfs-mnt2.log")
    try:
        return read_file(m / os.path.relpath(path, c.mount))
    finally:
        c.unmount(m)


def replica_bytes(c, node, ch):
    files = [p for p in c.chunk_files(node, chunk_id(ch)) if p.suffix == ".chunk"]
    assert files, f"{node} lists chunk {chunk_id(ch):016x} but has no file of it"
    return chunk_bytes(files[0])


def test_link_cut_and_heal(ncluster):
    c = ncluster
    p = c.mount / "a.bin"
    old = rand_bytes(3 * CHUNK, 500)
    write_file(p, old)
    chunks = c.fs_stat(p)["chunks"]
    victim = next(n for n in chunks[0]["replicas"] if n != "node1")

    c.cut(victim)
    try:
        # Writes go on: the file is rewritten in place (the victim keeps the
        # old bytes), a new file is made.
        new = rand_bytes(3 * CHUNK, 501)
        write_file(p, new)
        q = c.mount / "b.bin"
        other = rand_bytes(2 * CHUNK + 9, 502)
        write_file(q, other)
        assert poll(lambda: c.states().get(victim) == "DOWN", DOWN_WAIT, 0.5), c.states()
        assert fresh_read(c, p) == new
        assert fresh_read(c, q) == other
        for ch in c.fs_stat(p)["chunks"] + c.fs_stat(q)["chunks"]:
            assert victim not in ch["replicas"], ch
    finally:
        c.heal(victim)

    assert poll(lambda: c.states().get(victim) == "UP", DOWN_WAIT, 0.5), c.states()
    # No stale read: through fresh mounts, and from every replica meta lists.
    for _ in range(3):
        assert fresh_read(c, p) == new
    for path, data in ((p, new), (q, other)):
        for ch in c.fs_stat(path)["chunks"]:
            i = ch["index"]
            for node in ch["replicas"]:
                assert replica_bytes(c, node, ch)[:CHUNK] == data[i * CHUNK:(i + 1) * CHUNK], \
                    (path.name, i, node)
    # The node that was cut takes writes again.
    r = c.mount / "c.bin"
    data = rand_bytes(CHUNK + 3, 503)
    write_file(r, data)
    assert fresh_read(c, r) == data
