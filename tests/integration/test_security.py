"""Security: CURVE on every socket, keys checked by meta and the nodes,
roles, revocation, and nothing in plaintext on the wire (issue 5).

The module cluster runs with keys (scripts/dos up makes STATE/keys/ and
registers node, admin and user); dos.conf acts with the admin key and the
mount with the user key.
"""

import errno
import os
import shutil
import signal
import subprocess
import time

import pytest

import dosit
from dosit import DOSCTL, DOSFS, expect_errno, poll, run, write_file, read_file

zmq = pytest.importorskip("zmq", reason="python3-zmq is not installed (scripts/install-deps)")
msgpack = pytest.importorskip("msgpack")

REFUSE_S = 10  # a refused client must say so well within this
OP_CHUNK_STAT = 104
MARKER = b"dos-marker-7f3a9c1e-plaintext-must-not-leak"


def write_conf(c, path, security):
    """A dos.conf for c's meta with the given [security] lines."""
    meta = f"tcp://127.0.0.1:{c.base_port + 1}"
    path.write_text(f'[cluster]\nmeta = "{meta}"\ntimeout_ms = 5000\n[security]\n{security}\n')
    return path


def ctl(conf, *args, key=None):
    cmd = [DOSCTL, "--conf", conf] + (["--key", key] if key else []) + list(args)
    t0 = time.monotonic()
    p = run(cmd, check=False, timeout=60)
    return p, time.monotonic() - t0


def assert_refused(p, took, *words):
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert took < REFUSE_S, f"refusal took {took:.1f}s: {p.stderr}"
    for w in words:
        assert w in p.stderr, p.stderr


def new_key(c, name):
    path = c.root / f"{name}.key"
    run([DOSCTL, "key", "gen", path])
    assert (os.stat(path).st_mode & 0o777) == 0o600
    return path


def test_keys_made_and_registered(cluster3):
    keys = {k["name"]: k for k in cluster3.dosctl("key", "ls")["keys"]}
    assert {"node", "admin", "user"} <= set(keys)
    assert keys["admin"]["role"] == "admin" and keys["user"]["role"] == "user"
    assert not any(k["revoked"] for k in keys.values())
    for k in ("server", "node", "admin", "user"):
        assert (os.stat(cluster3.key(k)).st_mode & 0o777) == 0o600


def test_plaintext_client_refused(cluster3):
    conf = write_conf(cluster3, cluster3.root / "plain.conf", "curve = false")
    p, took = ctl(conf, "node", "ls")
    assert_refused(p, took, "authentication failed")


def test_conf_without_key_says_so(cluster3):
    pub = cluster3.key("server").with_suffix(".key.pub")
    conf = write_conf(cluster3, cluster3.root / "nokey.conf", f'server_public_key = "{pub}"')
    p, took = ctl(conf, "node", "ls")
    assert_refused(p, took, "no client key")


def test_unknown_key_refused(cluster3):
    key = new_key(cluster3, "stranger")
    p, took = ctl(cluster3.conf, "node", "ls", key=key)
    assert_refused(p, took, "authentication failed", "not registered")


def test_wrong_server_key_refused(cluster3):
    other = new_key(cluster3, "not-the-server")
    conf = write_conf(cluster3, cluster3.root / "wrongserver.conf",
                      f'server_public_key = "{other}.pub"\nkey = "{cluster3.key("admin")}"')
    p, took = ctl(conf, "node", "ls")
    assert_refused(p, took, "authentication failed")


def test_user_key_refused_on_admin_commands(cluster3):
    user = cluster3.key("user")
    p, _ = ctl(cluster3.conf, "node", "ls", key=user)
    assert p.returncode == 0, p.stderr
    for args in (["key", "ls"], ["key", "revoke", "admin"],
                 ["key", "add", str(user) + ".pub", "--name", "x", "--role", "admin"]):
        p, took = ctl(cluster3.conf, *args, key=user)
        assert_refused(p, took, "EACCES", "needs the admin role", "has the user role")
    assert not cluster3.dosctl("key", "ls")["keys"][0]["revoked"]


def test_dosfs_with_unknown_key_fails_to_mount(cluster3):
    key = new_key(cluster3, "unmounted")
    d = cluster3.root / "mnt-unknown"
    d.mkdir()
    t0 = time.monotonic()
    p = run([DOSFS, "--conf", cluster3.conf, "-o", f"key={key}", "-f", d], check=False, timeout=30)
    assert p.returncode == 1 and time.monotonic() - t0 < REFUSE_S
    assert "authentication failed" in p.stderr, p.stderr


def chunk_stat(sock, rid):
    env = msgpack.packb(dict(v=1, op=OP_CHUNK_STAT, id=rid, timeout_ms=2000, err=0, msg=""))
    try:
        sock.send_multipart([env, msgpack.packb({"id": 123456789})], flags=zmq.NOBLOCK)
    except zmq.Again:
        return "refused"  # the connection is gone: a new handshake was refused
    if not sock.poll(2000):
        return None
    return msgpack.unpackb(sock.recv_multipart()[0], raw=False)["err"]


def wait_nodes_accept(c, key):
    """Waits (bounded) until every node serves key: nodes learn a new key
    within one heartbeat."""
    ctx = zmq.Context()
    try:
        for n in c.node_ls():
            def accepted(addr=n["addr"]):
                sock = c.secure_socket(ctx.socket(zmq.DEALER), key=key)
                sock.setsockopt(zmq.LINGER, 0)
                sock.connect(addr)
                try:
                    return chunk_stat(sock, 1) == errno.ENOENT
                finally:
                    sock.close()
            assert poll(accepted, timeout=5), "a node never accepted the new key"
    finally:
        ctx.destroy(linger=0)


def test_revoke_takes_effect(cluster3):
    """A registered user key works on every node within a heartbeat and
    through a mount; once revoked, meta refuses it at once and the nodes
    within a heartbeat, on connections that were already open."""
    c = cluster3
    key = new_key(c, "temp")
    c.dosctl_raw("key", "add", f"{key}.pub", "--role", "user", "--name", "temp")
    ctx = zmq.Context()
    ids = iter(range(1, 10**6))
    m = None
    try:
        socks = []
        for n in c.node_ls():
            def accepted(addr=n["addr"]):
                sock = c.secure_socket(ctx.socket(zmq.DEALER), key=key)
                sock.setsockopt(zmq.LINGER, 0)
                sock.connect(addr)
                if chunk_stat(sock, next(ids)) == errno.ENOENT:
                    socks.append(sock)
                    return True
                sock.close()
                return False
            assert poll(accepted, timeout=5), "a node never accepted the new key"
        m = c.second_mount(opts=f"key={key}")
        write_file(m / "by_temp", b"written with the temp key\n")
        assert read_file(m / "by_temp") == b"written with the temp key\n"
        c.dosctl_raw("key", "revoke", "temp")
        t0 = time.monotonic()
        with pytest.raises(OSError) as e:
            write_file(m / "after_revoke", b"x")
        assert e.value.errno in (errno.EACCES, errno.EPERM), e.value
        for sock in socks:
            assert poll(lambda: chunk_stat(sock, next(ids)) in (errno.EACCES, "refused"),
                        timeout=5), \
                "a node still serves the revoked key"
        assert time.monotonic() - t0 < 5
    finally:
        ctx.destroy(linger=0)
        if m is not None:
            c.unmount_second(m)
    p, took = ctl(c.conf, "node", "ls", key=key)
    assert_refused(p, took, "authentication failed")
    keys = {k["name"]: k for k in c.dosctl("key", "ls")["keys"]}
    assert keys["temp"]["revoked"]


def sealed_ports(c):
    """The ports c's dosd processes listen on besides their --listen ports:
    their sealed ports (none with --insecure)."""
    lo, hi = c.base_port, c.base_port + 99
    by_pid = {}
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if '"dosd"' not in line:
            continue
        port = int(line.split()[3].rsplit(":", 1)[1])
        pid = line.split("pid=")[1].split(",")[0]
        by_pid.setdefault(pid, set()).add(port)
    ports = set()
    for owned in by_pid.values():
        if any(lo <= p <= hi for p in owned):
            ports |= {p for p in owned if not lo <= p <= hi}
    return ports


def payload_by_port(pcap):
    """TCP payload bytes per port (source or destination) of a pcap of lo."""
    counts = {}
    off = 24  # global header; lo captures as Ethernet (14-byte header)
    while off + 16 <= len(pcap):
        incl = int.from_bytes(pcap[off + 8:off + 12], "little")
        pkt = pcap[off + 16:off + 16 + incl]
        off += 16 + incl
        ip = pkt[14:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = int.from_bytes(ip[2:4], "big")
        tcp = ip[ihl:]
        if len(tcp) < 20:
            continue
        data = total - ihl - (tcp[12] >> 4) * 4
        for port in (int.from_bytes(tcp[0:2], "big"), int.from_bytes(tcp[2:4], "big")):
            counts[port] = counts.get(port, 0) + max(data, 0)
    return counts


def capture(c, action):
    """Runs action() while tcpdump records loopback traffic on c's ports
    (the --listen ones and the sealed ones); returns the captured bytes."""
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump is not installed (scripts/install-deps)")
    pcap = c.root / f"capture-{time.monotonic_ns()}.pcap"
    lo, hi = c.base_port, c.base_port + 99
    ports = "".join(f" or tcp port {p}" for p in sorted(sealed_ports(c)))
    proc = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-s", "0", "-w", str(pcap),
                             f"tcp portrange {lo}-{hi}{ports}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert poll(lambda: pcap.exists() and pcap.stat().st_size > 0, timeout=10), \
            "tcpdump did not start"
        time.sleep(0.5)
        action()
        time.sleep(1)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    return pcap.read_bytes()


def write_marker(c):
    def action():
        data = (MARKER + b"\n") * 20000  # ~900 KiB: several chunk writes
        write_file(c.mount / "marker.txt", data)
        os.sync()
        assert read_file(c.mount / "marker.txt") == data
        (c.mount / MARKER.decode()).mkdir()  # the marker as a name, too
    return capture(c, action)


def test_no_plaintext_on_the_wire(cluster3):
    # Sessions first: a client's first requests to a node go over CURVE
    # while it asks for a key (writes and reads touch every node).
    for i in range(12):
        write_file(cluster3.mount / f"warm{i}", os.urandom(64 * 1024))
        read_file(cluster3.mount / f"warm{i}")
    captured = write_marker(cluster3)
    assert len(captured) > 100000, f"only {len(captured)} bytes captured"
    assert MARKER not in captured
    # The file's bytes went over the sealed ports (AES-256-GCM), not CURVE.
    sealed = sealed_ports(cluster3)
    assert len(sealed) == 3, sealed
    by_port = payload_by_port(captured)
    assert sum(by_port.get(p, 0) for p in sealed) > 900000, (sealed, by_port)
    # The marker's write went along a chain (one extent of 900 KB): the
    # node that forwarded it has a session with the next one by now.
    def node_to_node():
        out = subprocess.run(["ss", "-tnpH", "state", "established"], capture_output=True,
                             text=True, check=True).stdout
        return [l for l in out.splitlines()
                if '"dosd"' in l and int(l.split()[3].rsplit(":", 1)[1]) in sealed]
    assert poll(node_to_node, timeout=10), "no dosd holds a sealed connection to another"


def test_marker_visible_without_curve(cluster):
    """The control: with --insecure the same capture finds the marker, so the
    capture above would have seen plaintext."""
    c = cluster(nodes=2, insecure=True)
    assert sealed_ports(c) == set()
    captured = write_marker(c)
    assert MARKER in captured


def test_key_bound_to_uid(cluster3):
    """A user key bound to a uid (key add --uid) acts as that uid whatever
    the client machine's caller is: files it makes are owned by it, and meta
    refuses what Linux refuses that uid, even to root on the client."""
    c = cluster3
    key = new_key(c, "bound")
    for bad in (["--gid", "5"], ["--uid", "5", "--role", "admin"]):
        p, _ = ctl(c.conf, "key", "add", f"{key}.pub", "--name", "bad", *bad)
        assert p.returncode != 0 and "EINVAL" in p.stderr, (bad, p.stderr)
    c.dosctl_raw("key", "add", f"{key}.pub", "--role", "user", "--name", "bound",
                 "--uid", "1000")
    wait_nodes_accept(c, key)
    keys = {k["name"]: k for k in c.dosctl("key", "ls")["keys"]}
    assert (keys["bound"]["uid"], keys["bound"]["gid"]) == (1000, 1000)
    assert (keys["user"]["uid"], keys["user"]["gid"]) == (None, None)  # unbound: as before
    assert "1000" in c.dosctl_raw("key", "ls").stdout
    d = c.mount / "uid_binding"
    os.mkdir(d)
    os.chmod(d, 0o777)
    write_file(d / "roots", b"root's file\n", mode=0o600)  # unbound key: root stays root
    os.mkdir(d / "closed", 0o755)
    assert os.stat(d / "roots").st_uid == 0
    m = c.second_mount(opts=f"key={key}")
    try:
        b = m / "uid_binding"
        write_file(b / "mine", b"made by root through the bound mount\n")
        os.mkdir(b / "mydir")
        os.symlink("mine", b / "link")
        for name in ("mine", "mydir", "link"):
            st = os.lstat(d / name)  # as the other mount sees it
            assert (st.st_uid, st.st_gid) == (1000, 1000), (name, st)
        assert os.stat(b / "mine").st_uid == 1000
        # The owner's rights work; root's do not.
        os.chmod(b / "mine", 0o640)
        expect_errno(errno.EPERM, os.chmod, b / "roots", 0o666)
        expect_errno(errno.EPERM, os.chown, b / "mine", 0, 0)
        expect_errno(errno.EPERM, os.chown, b / "roots", 1000, 1000)
        expect_errno(errno.EACCES, os.open, b / "roots", os.O_RDONLY)
        expect_errno(errno.EACCES, os.open, b / "closed" / "x", os.O_WRONLY | os.O_CREAT, 0o644)
        expect_errno(errno.EACCES, os.truncate, b / "roots", 0)
        # A file being written: meta's refusal comes at once, not at close.
        fd = os.open(b / "writing", os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.write(fd, b"not committed yet\n")
            expect_errno(errno.EPERM, os.fchown, fd, 0, 0)
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
        assert os.stat(d / "writing").st_mode & 0o777 == 0o600
        assert os.stat(d / "writing").st_uid == 1000
        assert not os.path.exists(d / "closed" / "x")
        assert os.stat(d / "roots").st_mode & 0o777 == 0o600
        assert read_file(d / "roots") == b"root's file\n"
        assert read_file(b / "mine") == b"made by root through the bound mount\n"
    finally:
        c.unmount_second(m)
