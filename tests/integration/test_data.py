"""Data integrity and placement: a 1 GiB file byte for byte, data kept over
`dos down` + `dos up`, chunk placement and replication on 5 nodes, setrepl
and node listing."""

import hashlib
import os
import random
import stat

from dosit import (CHUNK, GiB, MiB, mounted_at, pid_alive, poll, rand_bytes, read_file,
                   sha256_file, write_file)


def write_random(path, size, seed, block=MiB):
    """Writes size pseudo-random bytes in block-sized writes; returns sha256."""
    rng = random.Random(seed)
    h = hashlib.sha256()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        left = size
        while left:
            b = rng.randbytes(min(block, left))
            h.update(b)
            view = memoryview(b)
            while view:
                view = view[os.write(fd, view):]
            left -= len(b)
    finally:
        os.close(fd)
    return h.hexdigest()


def chunk_id(c):
    v = c["id"]
    return int(v, 16) if isinstance(v, str) else int(v)


# ---- 1 GiB ----------------------------------------------------------------------

def test_1gib_file_byte_for_byte(cluster3):
    p = cluster3.mount / "one_gib.bin"
    digest = write_random(p, GiB, 1)
    assert os.stat(p).st_size == GiB
    # read through a fresh mount: nothing can come from this mount's page cache
    b = cluster3.second_mount()
    try:
        assert os.stat(b / "one_gib.bin").st_size == GiB
        assert sha256_file(b / "one_gib.bin", block=4 * MiB) == digest
    finally:
        cluster3.unmount_second(b)
    assert sha256_file(p) == digest
    st = cluster3.fs_stat(p)
    assert len(st["chunks"]) == GiB // CHUNK
    os.unlink(p)


def test_parallel_writers_and_readers(cluster3):
    """Four threads each write their own 24 MiB file at once, then four read
    them back at once."""
    import concurrent.futures as cf
    d = cluster3.mount / "parallel"
    d.mkdir()
    with cf.ThreadPoolExecutor(4) as ex:
        digests = list(ex.map(lambda i: write_random(d / f"f{i}", 24 * MiB + i, 50 + i),
                              range(4)))
        got = list(ex.map(lambda i: sha256_file(d / f"f{i}"), range(4)))
    assert got == digests


# ---- down and up ------------------------------------------------------------------

def test_data_survives_down_and_up(cluster):
    c = cluster(3)
    m = c.mount
    files = {
        "empty": b"",
        "one": b"1",
        "chunk": rand_bytes(CHUNK, 2),
        "chunk_plus_one": rand_bytes(CHUNK + 1, 3),
        "dir/sub/thirteen": rand_bytes(13 * MiB + 5, 4),
        "dir/small.txt": b"hello\n" * 1000,
    }
    (m / "dir" / "sub").mkdir(parents=True)
    for name, data in files.items():
        write_file(m / name, data)
    hashes = {name: hashlib.sha256(d).hexdigest() for name, d in files.items()}
    with open(m / "sparse", "wb") as f:
        f.seek(20 * MiB)
        f.write(b"end")
    os.symlink("dir/small.txt", m / "link")
    os.chmod(m / "dir" / "small.txt", 0o600)
    os.utime(m / "one", ns=(1_600_000_000_111_111_111, 1_600_000_000_222_222_222))
    os.setxattr(m / "chunk", "user.kept", b"yes")
    os.link(m / "chunk", m / "dir" / "chunk_link")
    big = write_random(m / "forty", 40 * MiB, 5)
    pids = c.node_pids()
    assert len(pids) == 3

    c.down()
    assert not mounted_at(m), "mount still there after `dos down`"
    assert poll(lambda: not any(pid_alive(p) for p in pids.values()), 10), \
        f"dosd still running after `dos down`: {pids}"

    c.up()
    for name, h in hashes.items():
        assert sha256_file(m / name) == h, name
    assert sha256_file(m / "forty") == big
    assert os.stat(m / "sparse").st_size == 20 * MiB + 3
    assert read_file(m / "sparse") == bytes(20 * MiB) + b"end"
    assert os.readlink(m / "link") == "dir/small.txt"
    assert stat.S_IMODE(os.stat(m / "dir" / "small.txt").st_mode) == 0o600
    assert os.stat(m / "one").st_mtime_ns == 1_600_000_000_222_222_222
    assert os.getxattr(m / "chunk", "user.kept") == b"yes"
    assert os.stat(m / "chunk").st_nlink == 2
    assert os.stat(m / "chunk").st_ino == os.stat(m / "dir" / "chunk_link").st_ino
    assert sorted(os.listdir(m)) == ["chunk", "chunk_plus_one", "dir", "empty", "forty",
                                     "link", "one", "sparse"]
    # still writable after the restart
    write_file(m / "dir" / "after", b"after up")
    assert read_file(m / "dir" / "after") == b"after up"
    new_pids = c.node_pids()
    assert set(new_pids) == set(pids)
    assert all(pid_alive(p) for p in new_pids.values())


# ---- 5 nodes: placement -------------------------------------------------------------

def check_replicas(c, stat_json, want_r, nodes):
    chunks = stat_json["chunks"]
    for ch in chunks:
        reps = ch["replicas"]
        assert len(reps) == want_r, f"chunk {ch['index']}: replicas {reps}, want {want_r}"
        assert len(set(reps)) == want_r, f"chunk {ch['index']}: repeated node in {reps}"
        assert set(reps) <= set(nodes), f"chunk {ch['index']}: unknown node in {reps}"
        for node in reps:
            assert c.chunk_files(node, chunk_id(ch)), (
                f"chunk {ch['index']} id {chunk_id(ch):016x}: no file on {node}'s disk "
                f"({c.node_dir(node) / 'data' / 'chunks'})")


def test_5_nodes_100mib_spread_and_replicated(cluster5):
    c = cluster5
    p = c.mount / "hundred.bin"
    digest = write_random(p, 100 * MiB, 6)
    st = c.fs_stat(p)
    chunks = st["chunks"]
    assert sorted(ch["index"] for ch in chunks) == list(range(25))
    assert len({chunk_id(ch) for ch in chunks}) == 25, "chunk ids are not unique"
    check_replicas(c, st, 3, c.node_names())
    used = set()
    for ch in chunks:
        used.update(ch["replicas"])
    assert used == set(c.node_names()), f"chunks only on {sorted(used)}"
    assert sha256_file(p) == digest


def test_5_nodes_node_ls(cluster5):
    nodes = cluster5.node_ls()
    assert sorted(n["name"] for n in nodes) == cluster5.node_names()
    for n in nodes:
        assert n["state"] == "UP", n
        assert n["capacity"] > 0 and 0 <= n["used"] <= n["capacity"], n
        assert n["addr"], n


def test_5_nodes_setrepl_on_dir(cluster5):
    c = cluster5
    for r in (1, 2, 5):
        d = c.mount / f"r{r}"
        d.mkdir()
        c.dosctl_raw("fs", "setrepl", c.cpath(d), str(r))
        write_random(d / "f", 3 * CHUNK + 100, 10 + r)
        st = c.fs_stat(d / "f")
        assert len(st["chunks"]) == 4
        check_replicas(c, st, r, c.node_names())
    # a folder without a setting keeps the default of min(3, nodes)
    (c.mount / "default").mkdir()
    write_random(c.mount / "default" / "f", CHUNK + 1, 20)
    check_replicas(c, c.fs_stat(c.mount / "default" / "f"), 3, c.node_names())
    # new subfolders inherit the setting
    (c.mount / "r2" / "child").mkdir()
    write_random(c.mount / "r2" / "child" / "g", 100, 21)
    check_replicas(c, c.fs_stat(c.mount / "r2" / "child" / "g"), 2, c.node_names())


def test_3_nodes_node_ls_and_default_replication(cluster):
    c = cluster(3)
    nodes = c.node_ls()
    assert sorted(n["name"] for n in nodes) == ["node1", "node2", "node3"]
    assert all(n["state"] == "UP" for n in nodes), nodes
    write_random(c.mount / "f", 2 * CHUNK, 30)
    st = c.fs_stat(c.mount / "f")
    check_replicas(c, st, 3, c.node_names())   # default min(3, 3)
    assert poll(lambda: sum(n["chunks"] for n in c.node_ls()) >= 2 * 3, 10), c.node_ls()


# ---- unlink: chunk files go from every node ---------------------------------------

def all_chunk_files(c):
    return {p for n in c.node_names()
            for p in (c.node_dir(n) / "data" / "chunks").rglob("*") if p.is_file()}


def test_unlink_many_removes_chunk_files(cluster3):
    """200 small files at R=2 unlinked at once: meta's batched deletes
    (kChunkDeleteMany) take every chunk file of them off every node within a
    bounded wait, and a file that stays keeps its bytes."""
    c = cluster3
    d = c.mount / "unlink_many"
    d.mkdir()
    c.dosctl_raw("fs", "setrepl", c.cpath(d), "2")
    before = all_chunk_files(c)
    keep = rand_bytes(3 * CHUNK // 2, 61)
    write_file(d / "keep", keep)
    for i in range(200):
        write_file(d / f"f{i}", rand_bytes(1000 + i, 62 + i))
    kept = {p for ch in c.fs_stat(d / "keep")["chunks"] for n in ch["replicas"]
            for p in c.chunk_files(n, chunk_id(ch))}
    assert len(kept) == 2 * 2, kept  # 2 chunks x R=2, one file each
    made = all_chunk_files(c) - before
    assert len(made) >= 201 * 2, f"{len(made)} new chunk files"
    for i in range(200):
        os.unlink(d / f"f{i}")
    doomed = made - kept
    gone = poll(lambda: not (all_chunk_files(c) & doomed), timeout=20)
    assert gone, ("chunk files of unlinked files still there after 20 s: "
                  f"{sorted(str(p) for p in all_chunk_files(c) & doomed)[:10]}")
    assert kept <= all_chunk_files(c)
    assert sorted(os.listdir(d)) == ["keep"]
    b = c.second_mount()  # a fresh mount: the bytes come from the nodes
    try:
        assert read_file(b / "unlink_many" / "keep") == keep
    finally:
        c.unmount_second(b)
