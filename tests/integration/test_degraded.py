"""Issue 3, degraded writes: a node that hangs (SIGSTOP) in the middle of a
large write through the mount. The write finishes without an error, the
bytes read back equal, and after SIGCONT the cluster heals: the node is UP
again and every chunk has its three replicas on UP nodes. Also: a version
bump that no writer stamped does not make a chunk unreadable."""

import hashlib
import os
import signal
import threading

import pytest

from dosit import CHUNK, MiB, poll

SIZE = 120 * MiB
STOP_AT = 24 * MiB       # bytes written before the node is stopped
HEAL_WAIT = 150          # DOWN after 10 s, then re-replication (a scan per second while copies are due)


def states(c):
    return {n["name"]: n["state"] for n in c.node_ls()}


def pattern(i):
    """1 MiB block i of the file: cheap to make, distinct per block."""
    return hashlib.sha256(i.to_bytes(8, "little")).digest() * (MiB // 32)


def test_sigstop_during_large_write(cluster):
    c = cluster(4)
    path = c.mount / "big.bin"
    victim = "node3"
    pid = c.node_pids()[victim]
    want = hashlib.sha256()
    written = threading.Event()
    err = []

    def writer():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                for i in range(SIZE // MiB):
                    b = pattern(i)
                    view = memoryview(b)
                    while view:
                        view = view[os.write(fd, view):]
                    want.update(b)
                    if (i + 1) * MiB == STOP_AT:
                        written.set()
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            err.append(e)
        finally:
            written.set()

    t = threading.Thread(target=writer)
    t.start()
    stopped = False
    try:
        assert written.wait(120), "the first bytes were not written in 120 s"
        os.kill(pid, signal.SIGSTOP)
        stopped = True
        t.join(240)
        assert not t.is_alive(), "the write did not finish with a node stopped"
        assert not err, f"the write failed with a node stopped: {err}"
        assert os.stat(path).st_size == SIZE
        m = c.second_mount()
        try:
            got = hashlib.sha256()
            with open(m / "big.bin", "rb") as f:
                for b in iter(lambda: f.read(MiB), b""):
                    got.update(b)
        finally:
            c.unmount_second(m)
        assert got.hexdigest() == want.hexdigest(), "bytes read back differ"
    finally:
        if stopped:
            os.kill(pid, signal.SIGCONT)
        t.join(60)

    # Healed: the node is UP, every chunk has 3 replicas, all on UP nodes.
    assert poll(lambda: states(c).get(victim) == "UP", 60, 0.5), states(c)

    def healed():
        up = {n for n, s in states(c).items() if s == "UP"}
        chunks = c.fs_stat(path)["chunks"]
        return len(chunks) == SIZE // CHUNK and all(
            len(set(ch["replicas"])) == 3 and set(ch["replicas"]) <= up for ch in chunks)

    assert poll(healed, HEAL_WAIT, 2), \
        f"not healed in {HEAL_WAIT}s: {[ch['replicas'] for ch in c.fs_stat(path)['chunks']]}"
    got = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(MiB), b""):
            got.update(b)
    assert got.hexdigest() == want.hexdigest(), "bytes read back after healing differ"


def meta_call(c, op, body, timeout_ms=5000):
    """One raw request to meta (as test_hostile does); returns (err, body)."""
    zmq = pytest.importorskip("zmq")
    msgpack = pytest.importorskip("msgpack")
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    c.secure_socket(s)
    try:
        s.connect(f"tcp://127.0.0.1:{c.base_port + 1}")
        env = dict(v=1, op=op, id=1, timeout_ms=timeout_ms, err=0, msg="")
        s.send_multipart([msgpack.packb(env), msgpack.packb(body)])
        assert s.poll(timeout_ms), "meta did not answer"
        rep = s.recv_multipart()
        return msgpack.unpackb(rep[0])["err"], msgpack.unpackb(rep[1]) if rep[1] else None
    finally:
        s.close()
        ctx.term()


def test_unstamped_version_bump_stays_readable(cluster):
    """A writer reports a failed replica (kChunkFailed: meta drops it and
    bumps the version) and dies before it writes again at the new version:
    the replicas left are all older than meta says. A read stamps them
    (they took every acknowledged write) instead of failing."""
    c = cluster(3)
    p = c.mount / "f"
    data = os.urandom(CHUNK + 5)
    with open(p, "wb") as f:
        f.write(data)
    ch = c.fs_stat(p)["chunks"][0]
    cid = int(ch["id"], 16) if isinstance(ch["id"], str) else int(ch["id"])
    err, rep = meta_call(c, 26, {"id": cid, "version": ch["version"],
                                 "nodes": [ch["replicas"][0]]})
    assert err == 0, err
    assert rep["chunk"]["version"] == ch["version"] + 1
    assert len(rep["chunk"]["replicas"]) == 2
    m = c.second_mount()
    try:
        with open(m / "f", "rb") as f:
            assert f.read() == data
    finally:
        c.unmount_second(m)
    with open(p, "rb") as f:
        assert f.read() == data
