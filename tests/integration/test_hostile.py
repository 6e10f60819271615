"""Hostile peers: raw ZeroMQ DEALER sockets, speaking the wire format of
common/proto/messages.h by hand, send meta (node1) and a chunk node (node2)
random frames, every op number with broken bodies, wrong protocol versions,
oversized frames and well-formed requests with hostile fields.

DESIGN.md: "A malformed or oversized message gets an error reply
(EPROTO/EINVAL) and never crashes or corrupts a daemon." So every message
here must get a reply whose envelope decodes, with err != 0 where the
message is malformed; afterwards every dosd still runs with the pid it had,
`dosctl node ls` lists every node UP and files written before the barrage
read back byte for byte.

The tests of this file share one cluster and run in file order:
test_survivors checks the cluster after the barrage. The tests at the end
are regressions of daemon bugs this file found (field rules, a chain of
made-up addresses exhausting a node's sockets).
"""

import errno
import os
import random
import time

import pytest

from dosit import CHUNK, MiB, pid_alive, poll, rand_bytes, read_file, write_file

zmq = pytest.importorskip("zmq", reason="python3-zmq is not installed (scripts/install-deps)")
msgpack = pytest.importorskip("msgpack",
                              reason="python3-msgpack is not installed (scripts/install-deps)")

# ---- the wire, as in common/proto/messages.h -------------------------------------

PROTOCOL_VERSION = 1
MAX_NAME = 255
MAX_PATH = 4096
MAX_XATTR_VALUE = 64 * 1024
MAX_ENVELOPE = 64 * 1024
MAX_BODY = 4 * MiB
MAX_DATA = 16 * MiB
MAX_FRAME = MAX_DATA + MAX_BODY  # ZMQ_MAXMSGSIZE of the server's ROUTER
MAX_READDIR = 4096
MAX_CHUNK_LIST = 4096
MAX_REPLICAS = 16
MAX_CHUNK = 256 * MiB  # kMaxChunkSize
U64 = 2**64 - 1
I64 = 2**63 - 1

OP = dict(
    lookup=1, getattr=2, setattr=3, mknod=4, mkdir=5, unlink=6, rmdir=7, symlink=8,
    readlink=9, link=10, rename=11, readdir=12, statfs=13, setxattr=14, getxattr=15,
    listxattr=16, removexattr=17, open=18, release=19, chunk_list=20, chunk_alloc=21,
    commit_write=22, set_repl=23, create=24, release_many=25, chunk_failed=26, getlk=30, setlk=31, release_locks=32,
    heartbeat=40, node_list=41, ping=42, fs_health=44, fsck=45, config_list=50, config_set=51,
    node_label=52, node_admin=53, node_remove=54, node_add=55, join=56, net_ping=57,
    chunk_write=100, chunk_read=101, chunk_truncate=102, chunk_delete=103, chunk_stat=104,
    chunk_sync=105, chunk_inventory=107, chunk_scrub=108, chunk_forward=109,
    chunk_forward_last=110, chunk_delete_many=111, peer_ping=115, node_echo=116,
    seal_open=120)
META_OPS = {v for k, v in OP.items() if v < 100}
CHUNK_OPS = {v for k, v in OP.items() if v >= 100}

S_IFDIR, S_IFLNK, S_IFREG = 0o040000, 0o120000, 0o100000
SET_SIZE = 1 << 3
F_RDLCK, F_WRLCK, F_UNLCK = 0, 1, 2

# Chunk ids the hostile requests use: far above what meta hands out (from 1).
HOSTILE_CHUNK = 0xD05_0000_0000
REPLY_WAIT = 5.0  # seconds one reply may take
RNG_SEED = 0xD05


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def is_one_map(data):
    """True if data is exactly one msgpack map (what Decode accepts)."""
    u = msgpack.Unpacker(raw=True, strict_map_key=False)
    u.feed(data)
    try:
        obj = u.unpack()
    except Exception:  # noqa: BLE001  (any parse failure: not one map)
        return False
    return isinstance(obj, dict) and u.tell() == len(data)


class Peer:
    """One raw DEALER connection to a dosd; one request in flight at a time.
    An authenticated peer: CURVE with the cluster's server key, which may run
    every op, so that every decoder behind the role check is reached."""

    def __init__(self, ctx, addr, cluster):
        self.ctx = ctx
        self.addr = addr
        self.cluster = cluster
        self.next_id = 1
        self.sock = None
        self.reconnect()

    def reconnect(self):
        if self.sock is not None:
            self.sock.close(linger=0)
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.cluster.secure_socket(self.sock)
        self.sock.connect(self.addr)

    def envelope(self, op, v=PROTOCOL_VERSION, timeout_ms=2000, **fields):
        self.next_id += 1
        env = dict(v=v, op=op, id=self.next_id, timeout_ms=timeout_ms, err=0, msg="")
        env.update(fields)
        return self.next_id, pack(env)

    def exchange(self, frames, wait=REPLY_WAIT):
        """Sends frames; returns (envelope dict, rest of the frames) or None if
        no reply came within wait seconds."""
        self.sock.send_multipart(frames, copy=True)
        if not self.sock.poll(int(wait * 1000)):
            return None
        reply = self.sock.recv_multipart()
        assert len(reply) in (2, 3), f"{self.addr}: reply of {len(reply)} frames"
        env = msgpack.unpackb(reply[0], raw=False)
        assert isinstance(env, dict) and env.get("v") == PROTOCOL_VERSION, env
        assert isinstance(env.get("err"), int), env
        return env, reply[1:]

    def must_reply(self, frames, what, wait=REPLY_WAIT):
        r = self.exchange(frames, wait)
        assert r is not None, f"{self.addr}: no reply in {wait}s to {what}"
        return r

    def call(self, op, body, data=None, raw_body=None, **env_fields):
        """A well-formed request; returns (err, msg, decoded body or None, data)."""
        rid, env = self.envelope(op, **env_fields)
        frames = [env, pack(body) if raw_body is None else raw_body]
        if data is not None:
            frames.append(data)
        renv, rest = self.must_reply(frames, f"op {op} {str(body)[:200]}")
        assert renv["id"] == rid and renv["op"] == op, (renv, rid, op)
        decoded = msgpack.unpackb(rest[0], raw=False) if rest[0] else None
        return renv["err"], renv.get("msg", ""), decoded, rest[1] if len(rest) > 1 else None


def errname(e):
    return errno.errorcode.get(e, str(e))


def check_err(peer, op, body, want, data=None, raw_body=None, **env_fields):
    """want: an errno, a tuple of errnos, or 'nonzero'."""
    err, msg, _, _ = peer.call(op, body, data=data, raw_body=raw_body, **env_fields)
    label = f"{peer.addr} op {op} {str(body)[:160]}"
    if want == "nonzero":
        assert err != 0, f"{label}: accepted (err 0)"
    else:
        ws = want if isinstance(want, tuple) else (want,)
        assert err in ws, (f"{label}: err {errname(err)} ({msg!r}), want "
                           f"{'/'.join(errname(w) for w in ws)}")
    return err


# ---- the cluster under attack ----------------------------------------------------

BASELINE_SIZES = [0, 1, 4095, 65536 + 3, CHUNK + 17, 3 * MiB]


class Target:
    """What the tests of this file share: the cluster, its pids before the
    barrage, the baseline files, raw peers and a scratch folder's inodes."""

    def __init__(self, cluster):
        self.c = cluster
        self.ctx = zmq.Context()
        nodes = {n["name"]: n for n in cluster.node_ls()}
        assert sorted(nodes) == cluster.node_names(), nodes
        self.addrs = {name: n["addr"] for name, n in nodes.items()}
        self.pids = cluster.node_pids()
        assert len(self.pids) == cluster.nodes
        self.base = cluster.mount / "hostile_baseline"
        self.base.mkdir()
        self.files = {}
        for i, n in enumerate(BASELINE_SIZES):
            data = rand_bytes(n, 7000 + i)
            write_file(self.base / f"f{i}", data)
            self.files[self.base / f"f{i}"] = data
        self.meta = Peer(self.ctx, self.addrs["node1"], cluster)
        self.chunk = Peer(self.ctx, self.addrs["node2"], cluster)
        # A scratch folder for requests that may change things.
        scratch = cluster.mount / "hostile_scratch"
        scratch.mkdir()
        write_file(scratch / "f", b"scratch file\n")
        (scratch / "d").mkdir()
        self.scratch_path = scratch
        self.scratch = self.lookup(1, "hostile_scratch")
        self.file = self.lookup(self.scratch, "f")
        self.dir = self.lookup(self.scratch, "d")

    def lookup(self, parent, name):
        err, msg, rep, _ = self.meta.call(OP["lookup"], {"parent": parent, "name": name})
        assert err == 0, f"lookup {parent}/{name}: {errname(err)} {msg}"
        return rep["attr"]["ino"]

    def alive(self):
        dead = [n for n, pid in self.pids.items() if not pid_alive(pid)]
        assert not dead, f"dosd died: {dead}\n{self.c.log_tails(30)}"
        assert self.c.node_pids() == self.pids, "a dosd was restarted"

    def close(self):
        self.ctx.destroy(linger=0)


@pytest.fixture(scope="module")
def target(cluster3):
    t = Target(cluster3)
    yield t
    t.close()


@pytest.fixture
def rng():
    return random.Random(RNG_SEED)


# ---- the barrage -----------------------------------------------------------------

def test_random_frames(target, rng):
    """1 to 4 frames of random bytes: never a valid message, always EPROTO or
    EINVAL (a 1-byte map decodes as an envelope of op 0, which is unknown)."""
    for peer in (target.meta, target.chunk):
        for nframes in (1, 2, 3, 4):
            for k in range(40):
                frames = [rng.randbytes(rng.choice((0, 1, 2, 7, 30, 200))) for _ in range(nframes)]
                env, _ = peer.must_reply(frames, f"{nframes} random frames #{k}")
                assert env["err"] in (errno.EPROTO, errno.EINVAL), (frames, env)
    target.alive()


def _truncated_body():
    """Half of a body that carries every request's fields, all harmless."""
    full = pack({"parent": U64, "ino": U64, "id": HOSTILE_CHUNK, "name": "hostile",
                 "newparent": U64, "newname": "hostile2", "count": 1, "max": 1,
                 "length": 1, "repl": 1, "target": "t", "chain": []})
    return full[: len(full) // 2]


def test_every_op_with_broken_bodies(target, rng):
    """Every op number 0..200 with an empty, a random and a truncated body:
    EPROTO (no decode, or an op this node does not serve)."""
    trunc = _truncated_body()
    for peer, served in ((target.meta, META_OPS | CHUNK_OPS), (target.chunk, CHUNK_OPS)):
        for op in range(201):
            for kind in ("empty", "random", "truncated"):
                body = {"empty": b"", "random": rng.randbytes(rng.randrange(1, 64)),
                        "truncated": trunc}[kind]
                rid, env = peer.envelope(op)
                renv, _ = peer.must_reply([env, body], f"op {op} {kind} body")
                assert renv["id"] == rid and renv["op"] == op, renv
                if op in served and is_one_map(body):
                    continue  # random bytes that happen to be a message
                assert renv["err"] in (errno.EPROTO, errno.EINVAL), (op, kind, body, renv)
    target.alive()


def test_wrong_envelopes(target):
    for peer in (target.meta, target.chunk):
        for v in (0, 2, 255, 2**32 - 1):
            rid, env = peer.envelope(OP["ping"] if peer is target.meta else OP["chunk_stat"], v=v)
            renv, _ = peer.must_reply([env, pack({"id": HOSTILE_CHUNK})], f"version {v}")
            assert renv["err"] == errno.EPROTO and renv["id"] == rid, renv
        bad_envs = [
            pack({"v": "1", "op": OP["ping"], "id": 1}),       # version as a string
            pack({"v": 1, "op": -1, "id": 1}),                 # negative op
            pack({"v": 1, "op": OP["ping"], "id": -5}),        # negative id
            pack({"v": 1, "op": 1.5}),                         # float op
            pack([1, OP["ping"], 1]),                          # not a map
            pack(None),
            pack({"v": 1, "op": OP["ping"]}) + b"\x00",        # trailing byte
            b"\xdf\xff\xff\xff\xff",                           # map of 2^32-1 pairs
            b"\xc1",                                           # never-used byte
            pack({"v": 1, "op": OP["ping"], "msg": "m" * (MAX_ENVELOPE + 1)}),
            pack({b"v": 1, b"op": OP["ping"]}),                # keys as bin
            pack({1: 1, 2: OP["ping"]}),                       # keys as ints
            b"\x91" * 100 + b"\x00",                           # deeper than allowed
        ]
        for env in bad_envs:
            renv, _ = peer.must_reply([env, pack({})], f"envelope {env[:40]!r}")
            assert renv["err"] in (errno.EPROTO, errno.EINVAL), (env[:40], renv)
        # Frame counts other than 2 or 3 after the routing id.
        _, env = peer.envelope(OP["ping"])
        for frames in ([env], [env, pack({}), b"d", b"e"], [env, pack({}), b"", b"", b""]):
            renv, _ = peer.must_reply(frames, f"{len(frames)} frames")
            assert renv["err"] == errno.EPROTO, renv
    target.alive()


def test_oversized(target):
    for peer, op in ((target.meta, OP["ping"]), (target.chunk, OP["chunk_stat"])):
        _, env = peer.envelope(op)
        renv, _ = peer.must_reply([env, b"\x80" + b"\x00" * MAX_BODY], "body of kMaxBody+1")
        assert renv["err"] == errno.EINVAL, renv
        renv, _ = peer.must_reply([env, pack({"id": HOSTILE_CHUNK}), b"\x00" * (MAX_DATA + 1)],
                                  "data frame of kMaxData+1")
        assert renv["err"] == errno.EINVAL, renv
        # A body at the limit that is one map of a million tiny pairs, and
        # one with an array of a million empty strings: decoded, then refused.
        n = 1 << 20
        many_pairs = b"\xdf" + n.to_bytes(4, "big") + b"\xa0\xc0" * n
        renv, _ = peer.must_reply([env, many_pairs], "map of 2^20 pairs")
        assert renv["err"] != 0 or op == OP["ping"], renv
        chain = pack({"id": HOSTILE_CHUNK, "chain": [""] * n})
        _, wenv = peer.envelope(OP["chunk_write"])
        renv, _ = peer.must_reply([wenv, chain, b"x"], "chain of 2^20 strings")
        assert renv["err"] == errno.EINVAL, renv
        # A frame over ZMQ_MAXMSGSIZE: ZeroMQ drops the connection, no reply.
        # The daemon lives on and a new connection is served.
        assert peer.exchange([env, b"\x00" * (MAX_FRAME + 1)], wait=1.0) is None
        peer.reconnect()
        err, msg, _, _ = peer.call(op, {"id": HOSTILE_CHUNK})
        assert err in (0, errno.ENOENT), msg
    target.alive()


def meta_cases(t):
    """(op, body, expected errno(s)) of well-formed requests with hostile
    fields; each is refused by Valid() or by the namespace."""
    f, d, s = t.file, t.dir, t.scratch
    long_name = "n" * 300
    bad_names = [("", errno.EINVAL), ("a/b", errno.EINVAL), (".", errno.EINVAL),
                 ("..", errno.EINVAL), ("a\0b", errno.EINVAL), (long_name, errno.ENAMETOOLONG),
                 ("/", errno.EINVAL)]
    cases = [
        (OP["lookup"], {"parent": 0, "name": "x"}, errno.EINVAL),
        (OP["lookup"], {"parent": s, "name": ""}, errno.EINVAL),
        (OP["lookup"], {"parent": s, "name": "a/b"}, errno.EINVAL),
        (OP["lookup"], {"parent": s, "name": long_name}, errno.ENAMETOOLONG),
        (OP["lookup"], {"parent": U64, "name": "x"}, errno.ENOENT),
        (OP["lookup"], {"parent": 2**63, "name": "x"}, errno.ENOENT),
        (OP["lookup"], {"parent": f, "name": "x"}, errno.ENOTDIR),
        (OP["lookup"], {"parent": "1", "name": "x"}, errno.EPROTO),
        (OP["lookup"], {"parent": -1, "name": "x"}, errno.EPROTO),
        (OP["lookup"], {"parent": 1, "name": 7}, errno.EPROTO),
        (OP["getattr"], {"ino": 0}, errno.EINVAL),
        (OP["getattr"], {"ino": U64}, errno.ENOENT),
        (OP["getattr"], {"ino": 2**63}, errno.ENOENT),
        (OP["setattr"], {"ino": 0, "valid": SET_SIZE}, errno.EINVAL),
        (OP["setattr"], {"ino": U64, "valid": 0xffffffff}, errno.ENOENT),
        (OP["setattr"], {"ino": d, "valid": SET_SIZE, "size": 5}, errno.EISDIR),
        (OP["mknod"], {"parent": 0, "name": "x", "mode": S_IFREG | 0o644}, errno.EINVAL),
        (OP["mknod"], {"parent": s, "name": "x", "mode": S_IFDIR | 0o755},
         (errno.EINVAL, errno.EPERM)),
        (OP["mknod"], {"parent": s, "name": "x", "mode": S_IFLNK | 0o777},
         (errno.EINVAL, errno.EPERM)),
        (OP["mknod"], {"parent": f, "name": "x", "mode": S_IFREG}, errno.ENOTDIR),
        (OP["mknod"], {"parent": U64, "name": "x", "mode": S_IFREG}, errno.ENOENT),
        (OP["mknod"], {"parent": s, "name": "f", "mode": S_IFREG}, errno.EEXIST),
        (OP["mkdir"], {"parent": 0, "name": "x", "mode": 0o755}, errno.EINVAL),
        (OP["mkdir"], {"parent": f, "name": "x", "mode": 0o755}, errno.ENOTDIR),
        (OP["mkdir"], {"parent": s, "name": "d", "mode": 0o755}, errno.EEXIST),
        (OP["unlink"], {"parent": s, "name": "a/b"}, errno.EINVAL),
        (OP["unlink"], {"parent": s, "name": long_name}, errno.ENAMETOOLONG),
        (OP["unlink"], {"parent": s, "name": "d"}, errno.EISDIR),
        (OP["unlink"], {"parent": 1, "name": "."}, "nonzero"),
        (OP["unlink"], {"parent": 0, "name": "x"}, errno.EINVAL),
        (OP["rmdir"], {"parent": 1, "name": ".."}, "nonzero"),
        (OP["rmdir"], {"parent": 1, "name": "."}, "nonzero"),
        (OP["rmdir"], {"parent": s, "name": "f"}, errno.ENOTDIR),
        (OP["rmdir"], {"parent": 1, "name": "hostile_scratch"}, errno.ENOTEMPTY),
        (OP["symlink"], {"parent": s, "name": "l", "target": "t" * 5000}, errno.ENAMETOOLONG),
        (OP["symlink"], {"parent": s, "name": "l", "target": ""}, errno.ENOENT),
        (OP["symlink"], {"parent": 0, "name": "l", "target": "t"}, errno.EINVAL),
        (OP["readlink"], {"ino": 0}, errno.EINVAL),
        (OP["readlink"], {"ino": f}, errno.EINVAL),
        (OP["link"], {"ino": d, "newparent": s, "newname": "dl"}, errno.EPERM),
        (OP["link"], {"ino": 1, "newparent": s, "newname": "rl"}, errno.EPERM),
        (OP["link"], {"ino": 0, "newparent": s, "newname": "x"}, errno.EINVAL),
        (OP["link"], {"ino": f, "newparent": 0, "newname": "x"}, errno.EINVAL),
        (OP["link"], {"ino": U64, "newparent": s, "newname": "x"}, errno.ENOENT),
        (OP["link"], {"ino": f, "newparent": f, "newname": "x"}, errno.ENOTDIR),
        (OP["rename"], {"parent": s, "name": "f", "newparent": s, "newname": "g", "flags": 4},
         errno.EINVAL),
        (OP["rename"], {"parent": s, "name": "f", "newparent": s, "newname": "g", "flags": 3},
         errno.EINVAL),
        (OP["rename"], {"parent": 1, "name": "hostile_scratch", "newparent": d, "newname": "x"},
         errno.EINVAL),
        (OP["rename"], {"parent": s, "name": "d", "newparent": 1, "newname": "hostile_scratch"},
         "nonzero"),
        (OP["rename"], {"parent": 0, "name": "f", "newparent": s, "newname": "g"}, errno.EINVAL),
        (OP["rename"], {"parent": s, "name": "missing", "newparent": s, "newname": "g"},
         errno.ENOENT),
        (OP["readdir"], {"ino": s, "max": 0}, errno.EINVAL),
        (OP["readdir"], {"ino": s, "max": MAX_READDIR + 1}, errno.EINVAL),
        (OP["readdir"], {"ino": s, "max": 2**32 - 1}, errno.EINVAL),
        (OP["readdir"], {"ino": f}, errno.ENOTDIR),
        (OP["readdir"], {"ino": 0}, errno.EINVAL),
        (OP["setxattr"], {"ino": f, "name": "user.a", "value": b"v", "flags": 4}, errno.EINVAL),
        (OP["setxattr"], {"ino": f, "name": "user.a", "value": b"v", "flags": 2**32 - 1},
         errno.EINVAL),
        (OP["setxattr"], {"ino": f, "name": "user.a", "value": b"v" * (MAX_XATTR_VALUE + 1)},
         errno.E2BIG),
        (OP["setxattr"], {"ino": f, "name": "", "value": b"v"}, errno.ERANGE),
        (OP["setxattr"], {"ino": f, "name": "user." + "x" * 300, "value": b"v"}, errno.ERANGE),
        (OP["setxattr"], {"ino": f, "name": "user.\0a", "value": b"v"}, errno.EINVAL),
        (OP["setxattr"], {"ino": f, "name": "foo.a", "value": b"v"}, errno.EOPNOTSUPP),
        (OP["setxattr"], {"ino": 0, "name": "user.a", "value": b"v"}, errno.EINVAL),
        (OP["setxattr"], {"ino": U64, "name": "user.a", "value": b"v"}, errno.ENOENT),
        (OP["setxattr"], {"ino": f, "name": "user.a", "value": b"v", "flags": 2}, errno.ENODATA),
        (OP["setxattr"], {"ino": f, "name": "user.a", "value": 5}, errno.EPROTO),
        (OP["getxattr"], {"ino": f, "name": ""}, errno.ERANGE),
        (OP["getxattr"], {"ino": f, "name": "user.missing"}, errno.ENODATA),
        (OP["removexattr"], {"ino": f, "name": "user.missing"}, errno.ENODATA),
        (OP["listxattr"], {"ino": 0}, errno.EINVAL),
        (OP["open"], {"ino": 0, "client": 1}, errno.EINVAL),
        (OP["open"], {"ino": U64, "client": 1}, errno.ENOENT),
        (OP["release"], {"ino": 0, "client": 1}, errno.EINVAL),
        (OP["release_many"], {"client": 1, "inos": [2, 0]}, errno.EINVAL),
        (OP["release_many"], {"client": 1, "inos": [2] * 1025}, errno.EINVAL),
        (OP["release_many"], {"client": 1, "inos": "x"}, errno.EPROTO),
        (OP["open"], {"ino": f, "client": 1, "released": [0]}, errno.EINVAL),
        (OP["chunk_list"], {"ino": f, "count": 0}, errno.EINVAL),
        (OP["chunk_list"], {"ino": f, "count": MAX_CHUNK_LIST + 1}, errno.EINVAL),
        (OP["chunk_list"], {"ino": 0, "count": 1}, errno.EINVAL),
        (OP["chunk_list"], {"ino": U64, "count": 1}, errno.ENOENT),
        (OP["chunk_alloc"], {"ino": f, "index": U64}, errno.EFBIG),
        (OP["chunk_alloc"], {"ino": f, "index": 2**63}, errno.EFBIG),
        (OP["chunk_alloc"], {"ino": s, "index": 0}, errno.EISDIR),
        (OP["chunk_alloc"], {"ino": 0, "index": 0}, errno.EINVAL),
        (OP["chunk_alloc"], {"ino": U64, "index": 0}, errno.ENOENT),
        (OP["commit_write"], {"ino": 0, "end": 1}, errno.EINVAL),
        (OP["commit_write"], {"ino": s, "end": 1}, errno.EISDIR),
        (OP["set_repl"], {"ino": f, "repl": 0}, errno.EINVAL),
        (OP["set_repl"], {"ino": f, "repl": MAX_REPLICAS + 1}, errno.EINVAL),
        (OP["set_repl"], {"ino": f, "repl": 2**32 - 1}, errno.EINVAL),
        (OP["set_repl"], {"ino": U64, "repl": 1}, errno.ENOENT),
        (OP["heartbeat"], {"name": "", "addr": "tcp://127.0.0.1:1"}, errno.EINVAL),
        (OP["heartbeat"], {"name": "n" * 300, "addr": "tcp://127.0.0.1:1"}, errno.EINVAL),
        (OP["heartbeat"], {"name": "hostile", "addr": ""}, errno.EINVAL),
        (OP["heartbeat"], {"name": "hostile", "addr": "a" * (MAX_PATH + 1)}, errno.EINVAL),
        (OP["heartbeat"], {"name": "hostile", "addr": "x", "capacity": -1}, errno.EPROTO),
    ]
    for name, want in bad_names:
        cases += [
            (OP["mknod"], {"parent": s, "name": name, "mode": S_IFREG | 0o644}, want),
            (OP["mkdir"], {"parent": s, "name": name, "mode": 0o755}, want),
            (OP["symlink"], {"parent": s, "name": name, "target": "t"}, want),
            (OP["link"], {"ino": f, "newparent": s, "newname": name}, want),
            (OP["rename"], {"parent": s, "name": "f", "newparent": s, "newname": name}, want),
            (OP["rename"], {"parent": s, "name": name, "newparent": s, "newname": "g"}, want),
        ]
    for lock_op in (OP["getlk"], OP["setlk"]):
        for is_flock in (False, True):
            base = {"ino": f, "client": 0xBAD, "owner": 1, "pid": 1, "is_flock": is_flock}
            cases += [
                (lock_op, dict(base, type=F_WRLCK, start=10, end=5), errno.EINVAL),
                (lock_op, dict(base, type=F_WRLCK, start=-5, end=5), errno.EINVAL),
                (lock_op, dict(base, type=F_WRLCK, start=-I64 - 1, end=-1), errno.EINVAL),
                (lock_op, dict(base, type=3, start=0, end=5), errno.EINVAL),
                (lock_op, dict(base, type=2**32 - 1, start=0, end=5), errno.EINVAL),
                (lock_op, dict(base, ino=0, type=F_RDLCK, start=0, end=5), errno.EINVAL),
                (lock_op, dict(base, type=F_RDLCK, start=0, end=2**63), errno.EPROTO),
            ]
    cases.append((OP["release_locks"], {"ino": 0, "client": 1}, errno.EINVAL))
    cases += [
        (OP["chunk_failed"], {"id": 0, "nodes": ["node2"]}, errno.EINVAL),
        (OP["chunk_failed"], {"id": 5, "nodes": []}, errno.EINVAL),
        (OP["chunk_failed"], {"id": 5, "nodes": [""]}, errno.EINVAL),
        (OP["chunk_failed"], {"id": 5, "nodes": ["n"] * (MAX_REPLICAS + 1)}, errno.EINVAL),
        (OP["chunk_failed"], {"id": 5, "nodes": ["n" * 256]}, errno.EINVAL),
        (OP["chunk_failed"], {"id": 5, "nodes": "node2"}, errno.EPROTO),
        (OP["chunk_failed"], {"id": HOSTILE_CHUNK, "nodes": ["node2"]}, errno.ENOENT),
    ]
    for body in (pack([1, 2]), pack(None), pack("str"), b"\x80\x80"):
        cases.append((OP["lookup"], body, errno.EPROTO))  # raw bodies
    return cases


def test_hostile_fields_meta(target):
    names_before = sorted(os.listdir(target.scratch_path))
    for op, body, want in meta_cases(target):
        if isinstance(body, bytes):
            check_err(target.meta, op, None, want, raw_body=body)
        else:
            check_err(target.meta, op, body, want)
    # Requests that are legal however odd: answered, and nothing breaks.
    f = target.file
    lock = {"ino": f, "client": 0xBAD, "owner": 1, "pid": 1, "type": F_WRLCK,
            "start": 0, "end": I64}
    for op, body in [
        (OP["setlk"], lock),
        (OP["getlk"], dict(lock, client=0xBAD2)),
        (OP["setlk"], dict(lock, start=I64, end=I64)),
        (OP["setlk"], dict(lock, type=F_UNLCK, start=5, end=I64 - 1)),
        (OP["release_locks"], {"ino": f, "client": 0xBAD, "owner": 1}),
        (OP["release"], {"ino": f, "client": U64}),
        (OP["release_many"], {"client": U64, "inos": [f, f, U64]}),
        (OP["release_locks"], {"ino": U64, "client": U64, "owner": U64, "is_flock": True}),
        (OP["chunk_list"], {"ino": f, "first": 2**30, "count": MAX_CHUNK_LIST}),
        (OP["readdir"], {"ino": target.scratch, "after": 2**62, "max": MAX_READDIR}),
        (OP["statfs"], {"junk": [1, {"a": None}], "more": b"\x00" * 1000}),
        (OP["node_list"], {"x": 1}),
        (OP["ping"], {}),
        (OP["lookup"], {"parent": 1, "name": "hostile_scratch", "extra": [1, 2, 3]}),
    ]:
        err, msg, _, _ = target.meta.call(op, body)
        assert err in (0, errno.ENOENT), f"op {op} {body}: {errname(err)} {msg}"
    assert sorted(os.listdir(target.scratch_path)) == names_before
    target.alive()


def chunk_cases():
    x = HOSTILE_CHUNK
    return [
        (OP["chunk_write"], {"id": 0}, b"x", errno.EINVAL),
        (OP["chunk_write"], {"id": x, "chain": ["tcp://127.0.0.1:1"] * 100}, b"x", errno.EINVAL),
        (OP["chunk_write"], {"id": x, "chain": ["tcp://127.0.0.1:1"] * (MAX_REPLICAS + 1)}, b"x",
         errno.EINVAL),
        (OP["chunk_write"], {"id": x, "chain": [""]}, b"x", errno.EINVAL),
        (OP["chunk_write"], {"id": x, "chain": ["a" * (MAX_PATH + 1)]}, b"x", errno.EINVAL),
        (OP["chunk_write"], {"id": x, "chain": [7]}, b"x", errno.EPROTO),
        (OP["chunk_write"], {"id": x, "chain": "tcp://127.0.0.1:1"}, b"x", errno.EPROTO),
        (OP["chunk_write"], {"id": x, "offset": U64}, b"x", errno.EFBIG),
        (OP["chunk_write"], {"id": x, "offset": 2**40 + 1}, b"x", errno.EFBIG),
        (OP["chunk_write"], {"id": x, "offset": 2**40}, b"x", errno.EFBIG),
        (OP["chunk_write"], {"id": x, "offset": MAX_CHUNK - 1}, b"xy", errno.EFBIG),
        (OP["chunk_write"], {"id": x, "chain": ["bogus"]}, b"x", errno.EINVAL),
        (OP["chunk_write"], {"id": x, "offset": -1}, b"x", errno.EPROTO),
        (OP["chunk_read"], {"id": 0, "length": 1}, None, errno.EINVAL),
        (OP["chunk_read"], {"id": x, "length": 2**32 - 1}, None, errno.EINVAL),
        (OP["chunk_read"], {"id": x, "length": MAX_DATA + 1}, None, errno.EINVAL),
        (OP["chunk_read"], {"id": x, "offset": U64, "length": 1}, None, errno.EINVAL),
        (OP["chunk_read"], {"id": x, "offset": 2**40 + 1, "length": 1}, None, errno.EINVAL),
        (OP["chunk_read"], {"id": x + 99, "length": 1}, None, errno.ENOENT),
        (OP["chunk_truncate"], {"id": 0, "length": 1}, None, errno.EINVAL),
        (OP["chunk_truncate"], {"id": x, "length": U64}, None, errno.EINVAL),
        (OP["chunk_truncate"], {"id": x, "length": 2**40 + 1}, None, errno.EINVAL),
        (OP["chunk_delete"], {"id": 0}, None, errno.EINVAL),
        (OP["chunk_delete"], {"id": x + 99}, None, errno.ENOENT),
        (OP["chunk_delete_many"], {"ids": [x, 0]}, None, errno.EINVAL),
        (OP["chunk_delete_many"], {"ids": [x + 99] * 1025}, None, errno.EINVAL),  # kMaxDeleteBatch
        (OP["chunk_delete_many"], {"ids": x}, None, errno.EPROTO),
        (OP["chunk_delete_many"], {"ids": [-1]}, None, errno.EPROTO),
        (OP["chunk_stat"], {"id": x + 99}, None, errno.ENOENT),
        (OP["chunk_stat"], {"id": U64}, None, errno.ENOENT),
        (OP["chunk_sync"], {"id": x + 99}, None, errno.ENOENT),
        (OP["chunk_sync"], {"id": 0}, None, errno.EINVAL),
    ] + [(op, {"ino": 1}, None, errno.EPROTO) for op in sorted(META_OPS)]  # meta runs on node1


def test_hostile_fields_chunk(target):
    x = HOSTILE_CHUNK
    for op, body, data, want in chunk_cases():
        check_err(target.chunk, op, body, want, data=data)
    # Legal but extreme: a write at the last byte a chunk may hold, a version
    # of 2^64-1, a read of kMaxData, an unreachable chain head. Each answers
    # (the chain with ETIMEDOUT once its deadline passes); the chunks go away.
    p = target.chunk
    err, msg, _, _ = p.call(OP["chunk_write"], {"id": x + 1, "offset": MAX_CHUNK - 1}, data=b"z")
    assert err == 0, msg
    err, msg, _, data = p.call(OP["chunk_read"], {"id": x + 1, "offset": MAX_CHUNK - 4, "length": 64})
    assert err == 0 and data == b"\0\0\0z", (msg, data)
    err, msg, _, _ = p.call(OP["chunk_write"], {"id": x + 2, "version": U64}, data=b"v")
    assert err == 0, msg
    err, msg, _, _ = p.call(OP["chunk_read"], {"id": x + 2, "version": U64, "length": MAX_DATA})
    assert err == 0, msg
    # An older version than the replica holds: refused, nothing written.
    err, _, _, _ = p.call(OP["chunk_write"], {"id": x + 2, "version": 1}, data=b"w")
    assert err == errno.ESTALE, errname(err)
    # The head writes; the dead next replica is reported in the reply.
    err, msg, body, _ = p.call(OP["chunk_write"], {"id": x + 3, "chain": ["tcp://127.0.0.1:1"]},
                               data=b"c", timeout_ms=300)
    assert err == 0, (errname(err), msg)
    assert [f["addr"] for f in body["failed"]] == ["tcp://127.0.0.1:1"], body
    assert body["failed"][0]["err"] == errno.ETIMEDOUT, body
    err, msg, _, _ = p.call(OP["chunk_write"], {"id": x + 4})  # no data frame
    assert err == 0, msg
    for i in range(1, 4):
        err, msg, _, _ = p.call(OP["chunk_delete"], {"id": x + i})
        assert err == 0, (i, msg)
    # A batch of the last one and one never written: both count as gone.
    err, msg, body, _ = p.call(OP["chunk_delete_many"], {"ids": [x + 4, x + 99] * 512})
    assert err == 0 and body["failed"] == [], (errname(err), msg, body)
    err, _, _, _ = p.call(OP["chunk_stat"], {"id": x + 4})
    assert err == errno.ENOENT, errname(err)
    target.alive()


def test_bursts_and_hit_and_run(target, rng):
    """1000 garbage messages without waiting, then all 1000 replies; 50
    sockets that send a request and close before the reply comes."""
    for peer in (target.meta, target.chunk):
        for _ in range(1000):
            peer.sock.send_multipart([rng.randbytes(rng.randrange(0, 40))
                                      for _ in range(rng.randrange(1, 5))])
        got = 0
        while got < 1000 and peer.sock.poll(int(REPLY_WAIT * 1000)):
            peer.sock.recv_multipart()
            got += 1
        assert got == 1000, f"{peer.addr}: {got} replies to 1000 messages"
        for _ in range(50):
            s = target.ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 100)
            target.c.secure_socket(s)
            s.connect(peer.addr)
            _, env = peer.envelope(OP["statfs"] if peer is target.meta else OP["chunk_stat"])
            s.send_multipart([env, pack({"id": HOSTILE_CHUNK})])
            s.close()
    target.alive()


def test_survivors(target):
    """After the barrage: same pids, every node UP, every byte where it was,
    and the file system still takes new files."""
    c = target.c
    target.alive()
    nodes = c.node_ls()
    assert sorted(n["name"] for n in nodes) == c.node_names(), nodes
    assert all(n["state"] == "UP" for n in nodes), nodes
    for path, data in target.files.items():
        got = read_file(path)
        assert len(got) == len(data) and got == data, f"{path}: content changed"
    # A fresh mount reads the same bytes, from the chunk servers rather than
    # the page cache.
    m = c.second_mount()
    try:
        for path, data in target.files.items():
            assert read_file(m / os.path.relpath(path, c.mount)) == data, path
    finally:
        c.unmount_second(m)
    after = c.mount / "hostile_after"
    data = rand_bytes(CHUNK + 5, 7100)
    write_file(after, data)
    assert read_file(after) == data
    assert read_file(target.scratch_path / "f") == b"scratch file\n"
    assert poll(lambda: all(n["state"] == "UP" for n in c.node_ls()), timeout=5)


# ---- regressions ----------------------------------------------------------------

@pytest.mark.parametrize("case", ["setattr_size", "commit_end", "mknod_mode", "chunk_list_wrap",
                                  "readdir_after_wrap"])
def test_field_rules_enforced(target, case):
    m, f, s = target.meta, target.file, target.scratch
    try:
        if case == "setattr_size":    # st_size would be -1 in the kernel
            check_err(m, OP["setattr"], {"ino": f, "valid": SET_SIZE, "size": U64},
                      (errno.EFBIG, errno.EINVAL))
        elif case == "commit_end":
            check_err(m, OP["commit_write"], {"ino": f, "end": U64}, (errno.EFBIG, errno.EINVAL))
        elif case == "mknod_mode":    # S_IFMT 0170000: an inode dosfs cannot stat (EIO)
            check_err(m, OP["mknod"], {"parent": s, "name": "bad_mode", "mode": 0xFFFFFFFF},
                      errno.EINVAL)
        elif case == "chunk_list_wrap":  # first + count wraps: chunks before first come back
            big = target.lookup(target.lookup(1, "hostile_baseline"), "f5")
            err, _, rep, _ = m.call(OP["chunk_list"],
                                    {"ino": big, "first": U64, "count": MAX_CHUNK_LIST})
            assert err != 0 or not rep["chunks"], rep["chunks"][:1]
        elif case == "readdir_after_wrap":  # after bound as int64 -1: listing starts over
            err, _, rep, _ = m.call(OP["readdir"], {"ino": s, "after": U64, "max": 10})
            assert err != 0 or not rep["entries"], [e["name"] for e in rep["entries"]]
    finally:
        # Undo what an accepted request did.
        m.call(OP["setattr"], {"ino": f, "valid": SET_SIZE, "size": len(b"scratch file\n")})
        m.call(OP["unlink"], {"parent": s, "name": "bad_mode"})
        target.alive()


def test_chain_addresses_do_not_exhaust_the_node(target):
    """ChunkWrite requests, each naming another (bogus) first address in its
    chain: the node must stay up, answer, and keep its threads bounded. Runs
    last: today it kills node2."""
    p = target.chunk
    pid = target.pids["node2"]
    deadline = time.monotonic() + 30
    sent = 0
    for i in range(600):
        _, env = p.envelope(OP["chunk_write"], timeout_ms=30)
        p.sock.send_multipart([env, pack({"id": HOSTILE_CHUNK + 10,
                                                    "chain": [f"tcp://127.0.0.1:{40000 + i}"]}),
                               b"x"])
        sent += 1
        if not p.sock.poll(2000) or time.monotonic() > deadline:
            break
        p.sock.recv_multipart()
    assert pid_alive(pid), f"node2 died after {sent} chain addresses:\n{target.c.log_tails(5)}"
    threads = len(os.listdir(f"/proc/{pid}/task"))
    err, msg, _, _ = p.call(OP["chunk_delete"], {"id": HOSTILE_CHUNK + 10})
    assert err == 0, msg
    assert threads < 200, f"node2 runs {threads} threads after {sent} chain addresses"
