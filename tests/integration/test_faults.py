"""Faults DESIGN.md promises to survive: corrupt chunk replicas (CRC32C
checked reads, repair) and a node killed with SIGKILL (reads fail over, the
node is marked DOWN, writes go on, chunks are re-replicated, the node comes
back)."""

import errno
import hashlib
import os
import signal

import pytest

from dosit import (CHUNK, MiB, chunk_bytes, expect_errno, flip_chunk_byte, pid_alive, poll,
                   rand_bytes, read_file, write_file)

DOWN_WAIT = 40       # heartbeat timeout is 10 s by default
REREPL_WAIT = 60     # re-replication of a few chunks


def chunk_id(c):
    v = c["id"]
    return int(v, 16) if isinstance(v, str) else int(v)


def data_file(c, node, cid):
    """The file of chunk cid on node."""
    files = [p for p in c.chunk_files(node, cid) if p.suffix == ".chunk"]
    assert files, f"no data file of chunk {cid:016x} on {node}: {c.chunk_files(node, cid)}"
    return files[0]


def fresh_read(c, path):
    """Reads path through a new dosfs mount, so no page cache can answer."""
    m = c.second_mount()
    try:
        return read_file(m / os.path.relpath(path, c.mount))
    finally:
        c.unmount_second(m)


# ---- corrupt replicas ----------------------------------------------------------

def test_read_skips_corrupt_replicas(wd, cluster3):
    c = cluster3
    p = wd / "f"
    data = rand_bytes(2 * MiB, 40)
    write_file(p, data)
    ch = c.fs_stat(p)["chunks"][0]
    reps = ch["replicas"]
    assert len(reps) == 3
    for node in reps[:2]:           # every replica but the last one
        flip_chunk_byte(data_file(c, node, chunk_id(ch)), MiB + 7)
    assert fresh_read(c, p) == data


def test_corrupt_replica_is_repaired(wd, cluster3):
    c = cluster3
    p = wd / "f"
    data = rand_bytes(2 * MiB, 41)
    write_file(p, data)
    ch = c.fs_stat(p)["chunks"][0]
    cid = chunk_id(ch)
    bad = ch["replicas"][0]   # the head: dosfs tries replicas in meta's order, so it reads this
    flip_chunk_byte(data_file(c, bad, cid), 100)
    assert fresh_read(c, p) == data

    def repaired():
        nodes = c.fs_stat(p)["chunks"][0]["replicas"]
        return len(nodes) == 3 and all(
            chunk_bytes(data_file(c, n, cid))[:2 * MiB] == data for n in nodes)

    assert poll(repaired, 15, 0.5), f"the corrupt copy on {bad} was not repaired"


def test_all_replicas_corrupt_is_eio(wd, cluster3):
    c = cluster3
    p = wd / "f"
    write_file(p, rand_bytes(MiB, 42))
    ch = c.fs_stat(p)["chunks"][0]
    for node in ch["replicas"]:
        flip_chunk_byte(data_file(c, node, chunk_id(ch)), 5000)
    m = c.second_mount()
    try:
        expect_errno(errno.EIO, read_file, m / os.path.relpath(p, c.mount))
    finally:
        c.unmount_second(m)


# ---- a node killed ------------------------------------------------------------------

class Killed:
    pass


@pytest.fixture(scope="module")
def killed(module_cluster):
    """A 4-node cluster with a 12 MiB file, then SIGKILL of one of its
    replica nodes (never node1, which runs meta)."""
    c = module_cluster(4)
    k = Killed()
    k.c = c
    k.path = c.mount / "before.bin"
    k.data = rand_bytes(3 * CHUNK, 43)
    write_file(k.path, k.data)
    k.chunks = c.fs_stat(k.path)["chunks"]
    candidates = [n for n in k.chunks[0]["replicas"] if n != "node1"]
    k.victim = candidates[0]
    k.pid = c.node_pids()[k.victim]
    os.kill(k.pid, signal.SIGKILL)
    assert poll(lambda: not pid_alive(k.pid), 5)
    return k


def states(c):
    return {n["name"]: n["state"] for n in c.node_ls()}


def test_read_with_a_replica_node_killed(killed):
    k = killed
    assert fresh_read(k.c, k.path) == k.data


def test_killed_node_marked_down(killed):
    k = killed
    assert poll(lambda: states(k.c).get(k.victim) == "DOWN", DOWN_WAIT, 0.5), \
        f"{k.victim} not DOWN after {DOWN_WAIT}s: {states(k.c)}"
    s = states(k.c)
    assert all(v == "UP" for n, v in s.items() if n != k.victim), s


def test_write_with_a_node_down(killed):
    k = killed
    assert poll(lambda: states(k.c).get(k.victim) == "DOWN", DOWN_WAIT, 0.5)
    p = k.c.mount / "during.bin"
    data = rand_bytes(2 * CHUNK + 5, 44)
    write_file(p, data)
    assert fresh_read(k.c, p) == data
    for ch in k.c.fs_stat(p)["chunks"]:
        assert k.victim not in ch["replicas"], ch
        assert len(set(ch["replicas"])) == 3, ch   # 3 live nodes are left


def test_chunks_rereplicated_after_node_down(killed):
    k = killed
    c = k.c

    def healthy():
        chunks = c.fs_stat(k.path)["chunks"]
        return all(len(set(ch["replicas"])) == 3 and k.victim not in ch["replicas"]
                   for ch in chunks)

    assert poll(healthy, REREPL_WAIT, 1), (
        f"chunks not back to 3 live replicas after {REREPL_WAIT}s: "
        f"{[ch['replicas'] for ch in c.fs_stat(k.path)['chunks']]}")
    for ch in c.fs_stat(k.path)["chunks"]:
        for node in ch["replicas"]:
            got = chunk_bytes(data_file(c, node, chunk_id(ch)))
            i = ch["index"]
            assert got[:CHUNK] == k.data[i * CHUNK:(i + 1) * CHUNK], (node, i)
    assert hashlib.sha256(fresh_read(c, k.path)).digest() == hashlib.sha256(k.data).digest()


def test_killed_node_comes_back(killed):
    k = killed
    c = k.c
    c.up()   # starts the node that is not running
    assert poll(lambda: states(c).get(k.victim) == "UP", DOWN_WAIT, 0.5), states(c)
    assert fresh_read(c, k.path) == k.data
    p = c.mount / "after.bin"
    data = rand_bytes(CHUNK + 1, 45)
    write_file(p, data)
    assert fresh_read(c, p) == data
