"""Helpers of the dos integration tests: a local cluster started with
scripts/dos, second mounts, log tails, errno assertions and small file
utilities.

A Cluster owns one temporary root folder:

    ROOT/state      --state of scripts/dos (dos.conf, nodeI/, logs)
    ROOT/mnt        --mount of scripts/dos
    ROOT/mnt2 ...   second mounts made by second_mount()

Cluster.destroy() always leaves nothing behind: it unmounts (lazily as a last
resort), runs `scripts/dos down`, kills every process whose command line
names ROOT (by pid) and removes ROOT.
"""

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOS_SCRIPT = REPO / "scripts" / "dos"
BUILD = Path(os.environ.get("DOS_BUILD_DIR", str(REPO / "build"))).resolve()
DOSD = BUILD / "daemon" / "dosd"
DOSCTL = BUILD / "daemon" / "ctl" / "dosctl"
DOSFS = BUILD / "fuse" / "dosfs"

PORT_LO, PORT_HI = 20000, 26999  # the range the integration tests may use
PORT_BLOCK = 100                 # P .. P+99 must be free
CHUNK = 4 * 1024 * 1024
# Where a chunk's bytes start in its file on a node (daemon/chunk/chunk_file.h:
# the header and the CRC table come first).
CHUNK_DATA_OFFSET = 20480
MiB = 1024 * 1024
GiB = 1024 * MiB


def chunk_bytes(path):
    """The bytes of the chunk whose file on a node is path."""
    with open(path, "rb") as f:
        return f.read()[CHUNK_DATA_OFFSET:]


def flip_chunk_byte(path, off):
    """Flips byte off of the chunk whose file on a node is path, behind the node's back."""
    with open(path, "r+b") as f:
        f.seek(CHUNK_DATA_OFFSET + off)
        b = f.read(1)
        f.seek(CHUNK_DATA_OFFSET + off)
        f.write(bytes([b[0] ^ 0xFF]))


LIVE = []  # clusters not yet destroyed, for log dumps and the watchdog


# ---- small utilities -------------------------------------------------------

def expect_errno(expected, fn, *args, **kwargs):
    """Calls fn and asserts it raises OSError with errno in `expected` (an
    int or a tuple of ints). Returns the exception."""
    want = expected if isinstance(expected, tuple) else (expected,)
    try:
        result = fn(*args, **kwargs)
    except OSError as e:
        assert e.errno in want, (
            f"{getattr(fn, '__name__', fn)}{args}: expected "
            f"{'/'.join(errno.errorcode[w] for w in want)}, got "
            f"{errno.errorcode.get(e.errno, e.errno)} ({e})")
        return e
    raise AssertionError(
        f"{getattr(fn, '__name__', fn)}{args}: expected "
        f"{'/'.join(errno.errorcode[w] for w in want)}, but it succeeded "
        f"(returned {result!r})")


def write_file(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    finally:
        os.close(fd)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def pread_all(fd, size, offset):
    """Reads exactly until size bytes or EOF."""
    out = bytearray()
    while len(out) < size:
        b = os.pread(fd, size - len(out), offset + len(out))
        if not b:
            break
        out += b
    return bytes(out)


def rand_bytes(n, seed):
    return random.Random(seed).randbytes(n)


def sha256_file(path, block=MiB):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(block)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def poll(fn, timeout=2.5, interval=0.05):
    """Calls fn until it returns a true value or timeout passes; returns the
    last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def mounted_at(path):
    """True if a file system is mounted exactly at path (mountinfo, not
    ismount: a dead FUSE mount makes stat fail with ENOTCONN)."""
    path = os.path.realpath(str(path))
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == path:
                return True
    return False


def fusermount_u(path, lazy=False):
    args = ["fusermount3", "-uz" if lazy else "-u", str(path)]
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive for our purposes
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def pids_naming(text):
    """Pids of processes (other than ourselves) whose command line contains
    text."""
    out = []
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd:
            out.append(int(d))
    return out


def tail(path, lines=60):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            data = f.read().decode(errors="replace")
    except OSError as e:
        return f"<{e}>"
    return "\n".join(data.splitlines()[-lines:])


# ---- ports -----------------------------------------------------------------

_used_blocks = set()


def _port_free(port):
    for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "0.0.0.0")):
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def reserve_port_block():
    """Returns (base, lock_fd): a base P in [PORT_LO, PORT_HI - PORT_BLOCK]
    with P..P+99 free, never handed out twice in this process, held against
    other test processes by an flock on /tmp/dos-it-port-P.lock."""
    rng = random.Random(os.getpid() ^ int(time.time() * 1000))
    bases = list(range(PORT_LO, PORT_HI - PORT_BLOCK + 1, PORT_BLOCK))
    rng.shuffle(bases)
    for base in bases:
        if base in _used_blocks:
            continue
        lock_fd = os.open(f"/tmp/dos-it-port-{base}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(lock_fd)
            continue
        if all(_port_free(p) for p in range(base, base + PORT_BLOCK)):
            _used_blocks.add(base)
            return base, lock_fd
        os.close(lock_fd)
    raise RuntimeError(f"no free block of {PORT_BLOCK} ports in {PORT_LO}-{PORT_HI}")


# ---- the cluster -----------------------------------------------------------

class CommandError(AssertionError):
    pass


def run(args, timeout=120, check=True, env=None, **kw):
    """subprocess.run with captured text output; on failure raises with the
    command, exit code and both outputs."""
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env=env, **kw)
    if check and p.returncode != 0:
        raise CommandError(
            f"command failed ({p.returncode}): {' '.join(map(str, args))}\n"
            f"--- stdout\n{p.stdout[-4000:]}\n--- stderr\n{p.stderr[-4000:]}")
    return p


class Cluster:
    """A local dos cluster of `nodes` dosd started by scripts/dos.

    small_disks: {node name: bytes} (or bytes for every node): that node's
    chunk folder (STATE/nodeI/data/chunks) is a tmpfs of that size, mounted
    before the first `up` and unmounted by destroy(); the meta database
    stays on the real disk."""

    def __init__(self, nodes, name="cluster", small_disks=None, insecure=False):
        self.nodes = nodes
        self.insecure = insecure  # scripts/dos up --insecure: no CURVE
        self.name = name
        if isinstance(small_disks, int):
            small_disks = {f"node{i}": small_disks for i in range(1, nodes + 1)}
        self.small_disks = dict(small_disks or {})
        self.disk_mounts = []
        self.root = Path(tempfile.mkdtemp(prefix=f"dos-it-{name}-",
                                          dir=os.environ.get("DOS_IT_TMP", "/tmp")))
        os.chmod(self.root, 0o755)  # the non-root user tests traverse it
        self.state = self.root / "state"
        self.mount = self.root / "mnt"
        self.conf = self.state / "dos.conf"
        self.base_port, self._port_lock = reserve_port_block()
        self.extra = []  # [(dir, Popen, logfile)]
        self.destroyed = False
        LIVE.append(self)

    # -- scripts/dos
    def env(self):
        env = os.environ.copy()
        env["DOS_BIN_DIR"] = str(BUILD)
        return env

    def dos(self, *args, timeout=180, check=True):
        return run([DOS_SCRIPT, *args], timeout=timeout, check=check, env=self.env())

    def up_args(self):
        return ["up", "--no-build", "--nodes", str(self.nodes), "--state", str(self.state),
                "--mount", str(self.mount), "--base-port", str(self.base_port)] + (
                    ["--insecure"] if self.insecure else [])

    def key(self, name):
        """STATE/keys/NAME.key: server, node, admin or user (made by dos up)."""
        return self.state / "keys" / f"{name}.key"

    def dosd_key_args(self):
        """The key options a dosd of this cluster started by hand needs."""
        if self.insecure:
            return []
        return ["--server-key", str(self.key("server")), "--key", str(self.key("node"))]

    def secure_socket(self, sock, key="server"):
        """Makes the pyzmq socket sock a CURVE client of this cluster acting
        with key (a name of STATE/keys, default the server key, which may run
        every op; or a Path to a secret key file); nothing with --insecure.
        Call before connect()."""
        if self.insecure:
            return sock
        import zmq
        path = key if isinstance(key, Path) else self.key(key)
        secret = path.read_text().strip().encode()
        sock.curve_secretkey = secret
        sock.curve_publickey = zmq.curve_public(secret)
        sock.curve_serverkey = self.key("server").with_suffix(".key.pub").read_text().strip().encode()
        return sock

    def mount_small_disks(self):
        for node, size in self.small_disks.items():
            d = self.node_dir(node) / "data" / "chunks"
            if d in self.disk_mounts:
                continue
            d.mkdir(parents=True, exist_ok=True)
            run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", d])
            self.disk_mounts.append(d)

    def unmount_small_disks(self):
        for d in self.disk_mounts:
            if mounted_at(d):
                run(["umount", "-l", d], check=False)
        self.disk_mounts = []

    def up(self, check=True):
        self.mount_small_disks()
        p = self.dos(*self.up_args(), check=check)
        if check:
            assert mounted_at(self.mount), f"`dos up` returned but {self.mount} is not mounted"
            os.statvfs(self.mount)
        return p

    def down(self, check=True):
        return self.dos("down", "--state", str(self.state), check=check, timeout=120)

    def status(self):
        return json.loads(self.dos("status", "--state", str(self.state), "--json").stdout)

    # -- dosctl
    def dosctl_path(self):
        return DOSCTL

    def dosctl_raw(self, *args, check=True, timeout=60):
        return run([DOSCTL, "--conf", self.conf, *args], check=check, timeout=timeout)

    def dosctl(self, *args, timeout=60):
        """Runs dosctl with --json appended and returns the parsed output."""
        p = self.dosctl_raw(*args, "--json", timeout=timeout)
        try:
            return json.loads(p.stdout)
        except json.JSONDecodeError as e:
            raise AssertionError(f"dosctl {' '.join(args)} --json: bad JSON ({e}): "
                                 f"{p.stdout[:2000]!r}") from e

    def cpath(self, path):
        """The cluster path (/a/b) of a path under the main mount."""
        rel = os.path.relpath(str(path), str(self.mount))
        assert not rel.startswith(".."), f"{path} is not under {self.mount}"
        return "/" if rel == "." else "/" + rel

    def fs_stat(self, path):
        return self.dosctl("fs", "stat", self.cpath(path))

    def node_ls(self):
        out = self.dosctl("node", "ls")
        if isinstance(out, dict) and "nodes" in out:
            out = out["nodes"]
        return out

    # -- processes and files
    def node_names(self):
        return [f"node{i}" for i in range(1, self.nodes + 1)]

    def node_dir(self, name):
        return self.state / name

    def node_pids(self):
        """{node name: pid} from STATE/nodeI/dosd.pid (missing files left out)."""
        out = {}
        for n in self.node_names():
            try:
                out[n] = int((self.node_dir(n) / "dosd.pid").read_text().strip())
            except (OSError, ValueError):
                pass
        return out

    def chunk_files(self, node, chunk_id):
        """Files on node's disk named after chunk_id (an int)."""
        base = self.node_dir(node) / "data" / "chunks"
        name = f"{chunk_id:016x}"
        return [p for p in base.rglob(f"{name}*") if p.is_file()]

    def second_mount(self, directory=None, opts=None):
        """Starts another dosfs on the same dos.conf; returns its mount dir."""
        d = Path(directory) if directory else self.root / f"mnt{len(self.extra) + 2}"
        d.mkdir(parents=True, exist_ok=True)
        log = self.root / f"dosfs-{d.name}.log"
        args = [DOSFS, "--conf", self.conf, "-f"]
        if opts:
            args += ["-o", opts]
        args.append(d)
        logf = open(log, "ab")
        proc = subprocess.Popen([str(a) for a in args], stdout=logf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        logf.close()
        self.extra.append((d, proc, log))
        ok = poll(lambda: mounted_at(d) or proc.poll() is not None, timeout=20)
        assert ok and proc.poll() is None, (
            f"second dosfs on {d} did not mount (exit {proc.poll()}):\n{tail(log)}")
        os.statvfs(d)
        return d

    def unmount_second(self, d):
        for i, (dd, proc, _log) in enumerate(self.extra):
            if dd == Path(d):
                fusermount_u(dd)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    fusermount_u(dd, lazy=True)
                    proc.kill()
                    proc.wait()
                del self.extra[i]
                return

    def logs(self):
        files = sorted(self.state.glob("node*/dosd.log")) + [self.state / "dosfs.log"]
        files += [log for _d, _p, log in self.extra]
        return files

    def log_tails(self, lines=60):
        parts = [f"cluster {self.name}: root {self.root}, base port {self.base_port}"]
        for f in self.logs():
            parts.append(f"----- {f} (last {lines} lines)\n{tail(f, lines)}")
        return "\n".join(parts)

    # -- teardown
    def kill_all(self):
        """Kills every process of this cluster and lazily unmounts everything;
        used by destroy() and by the watchdog of a hung test."""
        for d, proc, _log in self.extra:
            if proc.poll() is None:
                proc.kill()
            fusermount_u(d, lazy=True)
        for pid in set(self.node_pids().values()) | set(pids_naming(str(self.root))):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for d in [self.mount] + [d for d, _p, _l in self.extra]:
            if mounted_at(d):
                fusermount_u(d, lazy=True)

    def _forget_etc_conf(self):
        """scripts/dos up, run as root, writes /etc/dos/dos.conf for a cluster
        unless another cluster's is there; remove it when it is ours."""
        f = Path("/etc/dos/dos.conf")
        with contextlib.suppress(OSError):
            if f"for state dir {os.path.realpath(self.state)}\n" in f.read_text().splitlines(True)[0]:
                f.unlink()
                f.parent.rmdir()  # only if empty

    def destroy(self):
        if self.destroyed:
            return
        self.destroyed = True
        errors = []
        try:
            for d, proc, _log in list(self.extra):
                with contextlib.suppress(Exception):
                    self.unmount_second(d)
            if self.state.exists() and DOS_SCRIPT.exists():
                try:
                    self.down(check=False)
                except Exception as e:  # noqa: BLE001  (timeout: kill below)
                    errors.append(f"dos down: {e}")
            leftovers = [p for p in set(self.node_pids().values()) | set(pids_naming(str(self.root)))
                         if pid_alive(p)]
            for pid in leftovers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            if leftovers and not poll(lambda: not any(pid_alive(p) for p in leftovers), 5):
                for pid in leftovers:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            for d in [self.mount] + [d for d, _p, _l in self.extra]:
                if mounted_at(d) and fusermount_u(d).returncode != 0:
                    fusermount_u(d, lazy=True)
            self._forget_etc_conf()
            self.unmount_small_disks()
        finally:
            if self in LIVE:
                LIVE.remove(self)
            with contextlib.suppress(OSError):
                os.unlink(f"/tmp/dos-it-port-{self.base_port}.lock")
            os.close(self._port_lock)
            if os.environ.get("DOS_IT_KEEP") != "1":
                if not any(mounted_at(d) for d in [self.mount] + self.disk_mounts):
                    shutil.rmtree(self.root, ignore_errors=True)
        return errors


# ---- a cluster in network namespaces -------------------------------------------

class NetnsCluster:
    """`nodes` dosd, each in its own network namespace, joined like hosts on
    one switch: namespace dos<T>nI holds node I at 10.213.K.I on its eth0, a
    veth pair whose other end sits on bridge dosbr<T> inside the namespace
    dos<T>sw (T = pid % 1000 and a random digit, K = T % 250). The client
    side (dosfs, dosctl) runs in namespace dos<T>c at 10.213.K.200. Nothing is
    added to the machine's own namespace or interfaces.

    Processes enter their namespace with `nsenter --net` only, so the FUSE
    mount made by dosfs lives in the test's own mount namespace: the test
    reads and writes ROOT/mnt directly (its packets leave from dos<T>c).

    cut(node) sets the switch side of node's veth down (a pulled cable);
    heal(node) sets it up again. destroy() kills every process by pid,
    unmounts and deletes every namespace, also after a failure."""

    PORT = 7701

    def __init__(self, nodes, name="netns"):
        self.nodes = nodes
        self.name = name
        tag = os.getpid() % 1000 * 10 + random.randrange(10)
        self.tag = tag
        self.k = tag % 250
        self.sw = f"dos{tag}sw"
        self.client_ns = f"dos{tag}c"
        self.bridge = f"dosbr{tag}"
        self.root = Path(tempfile.mkdtemp(prefix=f"dos-it-{name}-",
                                          dir=os.environ.get("DOS_IT_TMP", "/tmp")))
        os.chmod(self.root, 0o755)
        self.mount = self.root / "mnt"
        self.conf = self.root / "dos.conf"
        self.namespaces = []
        self.procs = {}  # name -> Popen
        self.extra = []
        self.destroyed = False
        LIVE.append(self)

    def ns(self, i):
        return f"dos{self.tag}n{i}"

    def addr(self, i):
        return f"10.213.{self.k}.{i}"

    def endpoint(self, i):
        return f"tcp://{self.addr(i)}:{self.PORT}"

    def node_names(self):
        return [f"node{i}" for i in range(1, self.nodes + 1)]

    def node_dir(self, name):
        return self.root / name

    # -- network
    def _ip(self, *args):
        return run(["ip", *args], timeout=30)

    def _add_ns(self, name):
        self._ip("netns", "add", name)
        self.namespaces.append(name)
        self._ip("-n", name, "link", "set", "lo", "up")

    def _plug(self, ns, port, address):
        self._add_ns(ns)
        self._ip("-n", self.sw, "link", "add", port, "type", "veth", "peer", "name", "eth0",
                 "netns", ns)
        self._ip("-n", self.sw, "link", "set", port, "master", self.bridge)
        self._ip("-n", self.sw, "link", "set", port, "up")
        self._ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
        self._ip("-n", ns, "link", "set", "eth0", "up")

    def build_network(self):
        self._add_ns(self.sw)
        self._ip("-n", self.sw, "link", "add", self.bridge, "type", "bridge")
        self._ip("-n", self.sw, "link", "set", self.bridge, "up")
        for i in range(1, self.nodes + 1):
            self._plug(self.ns(i), f"v{i}", self.addr(i))
        self._plug(self.client_ns, "vc", self.addr(200))

    def cut(self, node):
        self._ip("-n", self.sw, "link", "set", f"v{node[4:]}", "down")

    def heal(self, node):
        self._ip("-n", self.sw, "link", "set", f"v{node[4:]}", "up")

    # -- processes
    def _spawn(self, ns, name, args, log):
        logf = open(log, "ab")
        p = subprocess.Popen(["nsenter", f"--net=/run/netns/{ns}", *map(str, args)],
                             stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        self.procs[name] = p
        return p

    def start_node(self, i):
        d = self.node_dir(f"node{i}")
        (d / "data").mkdir(parents=True, exist_ok=True)
        args = [DOSD, "--name", f"node{i}", "--listen", self.endpoint(i), "--data", d / "data",
                "--meta", self.endpoint(1), "--insecure"]
        if i == 1:
            args.append("--run-meta")
        self._spawn(self.ns(i), f"node{i}", args, d / "dosd.log")

    def client(self, *args, check=True, timeout=60):
        return run(["nsenter", f"--net=/run/netns/{self.client_ns}", DOSCTL, "--conf",
                    self.conf, *args], check=check, timeout=timeout)

    def dosctl(self, *args, timeout=60):
        return json.loads(self.client(*args, "--json", timeout=timeout).stdout)

    def node_ls(self):
        out = self.dosctl("node", "ls")
        return out["nodes"] if isinstance(out, dict) and "nodes" in out else out

    def states(self):
        try:
            return {n["name"]: n["state"] for n in self.node_ls()}
        except (CommandError, ValueError):
            return {}

    def cpath(self, path):
        return "/" + os.path.relpath(str(path), str(self.mount))

    def fs_stat(self, path):
        return self.dosctl("fs", "stat", self.cpath(path))

    def chunk_files(self, node, chunk_id):
        base = self.node_dir(node) / "data" / "chunks"
        return [p for p in base.rglob(f"{chunk_id:016x}*") if p.is_file()]

    def mount_fs(self, d, log):
        d.mkdir(parents=True, exist_ok=True)
        p = self._spawn(self.client_ns, f"dosfs-{d.name}",
                        [DOSFS, "--conf", self.conf, "-f", d], log)
        self.extra.append((d, p, log))
        ok = poll(lambda: mounted_at(d) or p.poll() is not None, timeout=20)
        assert ok and p.poll() is None, f"dosfs on {d} did not mount:\n{tail(log)}"
        os.statvfs(d)
        return d

    def unmount(self, d):
        for i, (dd, p, _log) in enumerate(self.extra):
            if dd == d:
                if fusermount_u(dd).returncode != 0:
                    fusermount_u(dd, lazy=True)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(timeout=10)
                if p.poll() is None:
                    p.kill()
                    p.wait()
                del self.extra[i]
                return

    def up(self):
        self.build_network()
        # Plaintext: this cluster is about cut links; CURVE is test_security's.
        self.conf.write_text(f"[cluster]\nmeta = \"{self.endpoint(1)}\"\ntimeout_ms = 15000\n"
                             "[security]\ncurve = false\n")
        for i in range(1, self.nodes + 1):
            self.start_node(i)
        ok = poll(lambda: sorted(n for n, s in self.states().items() if s == "UP")
                  == self.node_names(), 30, 0.3)
        assert ok, f"nodes not UP: {self.states()}\n{self.log_tails()}"
        self.mount_fs(self.mount, self.root / "dosfs.log")

    # -- teardown (also used by the conftest watchdog and log dumps)
    def logs(self):
        return sorted(self.root.glob("node*/dosd.log")) + [log for _d, _p, log in self.extra]

    def log_tails(self, lines=60):
        parts = [f"netns cluster {self.name}: root {self.root}, tag {self.tag}"]
        for f in self.logs():
            parts.append(f"----- {f} (last {lines} lines)\n{tail(f, lines)}")
        return "\n".join(parts)

    def kill_all(self):
        for d, p, _log in self.extra:
            if p.poll() is None:
                p.kill()
            fusermount_u(d, lazy=True)
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()

    def destroy(self):
        if self.destroyed:
            return
        self.destroyed = True
        try:
            for d, _p, _log in list(self.extra):
                with contextlib.suppress(Exception):
                    self.unmount(d)
            for p in self.procs.values():
                if p.poll() is None:
                    p.terminate()
            for p in self.procs.values():
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            for d, _p, _log in self.extra:
                if mounted_at(d):
                    fusermount_u(d, lazy=True)
        finally:
            for ns in reversed(self.namespaces):
                run(["ip", "netns", "del", ns], check=False, timeout=30)
            if self in LIVE:
                LIVE.remove(self)
            if os.environ.get("DOS_IT_KEEP") != "1" and not mounted_at(self.mount):
                shutil.rmtree(self.root, ignore_errors=True)
