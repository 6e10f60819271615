"""Issue 3, crash safety: SIGKILL of a daemon under a loop of writers that
create, write, fsync and rename files on the mount.

- meta's dosd (node1) is killed at a random moment and restarted with
  `scripts/dos up --no-build` (which starts the nodes that are not running,
  same names and data); the mount that was there all along goes on working
  by itself (ZeroMQ reconnects; requests lost in the crash time out once);
- a storage node is killed the same way.

Every file whose fsync returned (and every name whose rename returned after
that) must read back byte for byte afterwards."""

import errno
import hashlib
import os
import random
import signal
import threading
import time

from dosit import MiB, pid_alive, poll, run

WRITERS = 3


def fsck_clean(c, wait=90):
    """`dosctl fs fsck` finds nothing: namespace and chunks agree. A crash may
    leave a chunk file whose delete meta had not sent yet (a stray file);
    meta collects those itself once it has read each node's inventory after
    its restart, so this waits (bounded) for a clean report."""
    deadline = time.monotonic() + wait
    while True:
        p = run([c.dosctl_path(), "--conf", c.conf, "fs", "fsck"], check=False, timeout=300)
        if p.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert p.returncode == 0, f"fsck found problems:\n{p.stdout[-4000:]}\n{p.stderr[-2000:]}"


class Writers:
    """WRITERS threads, each: write a file of random size under a .tmp name,
    fsync, close, rename to its final name; errors (while a daemon is
    down) are counted and the loop goes on. durable maps a name to the
    sha256 of what it must hold."""

    def __init__(self, root, seed):
        self.root = root
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.durable = {}
        self.done = [0] * WRITERS      # files completed, per writer
        self.errors = []
        self.threads = [threading.Thread(target=self.loop, args=(k, seed + k), daemon=True)
                        for k in range(WRITERS)]

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self, timeout=120):
        self.stop.set()
        for t in self.threads:
            t.join(timeout)
        return not any(t.is_alive() for t in self.threads)

    def one(self, k, i, rng):
        data = rng.randbytes(rng.choice((1, 4096, 100_000, MiB + 17, 5 * MiB + 3)))
        digest = hashlib.sha256(data).hexdigest()
        tmp = self.root / f"w{k}-{i}.tmp"
        final = self.root / f"w{k}-{i}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
            with self.lock:
                self.durable[tmp.name] = digest
        finally:
            os.close(fd)
        os.rename(tmp, final)
        with self.lock:
            self.durable.pop(tmp.name, None)
            self.durable[final.name] = digest
        self.done[k] += 1

    def loop(self, k, seed):
        rng = random.Random(seed)
        i = 0
        while not self.stop.is_set():
            try:
                self.one(k, i, rng)
            except OSError as e:
                with self.lock:
                    self.errors.append((k, i, errno.errorcode.get(e.errno, e.errno)))
                time.sleep(0.2)
            i += 1

    def check(self, where):
        bad = []
        for name, digest in sorted(self.durable.items()):
            with open(where / name, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != digest:
                    bad.append(name)
        assert not bad, f"{len(bad)} of {len(self.durable)} fsynced files differ: {bad[:10]}"


def kill_and_restart(c, node, writers, rng):
    time.sleep(rng.uniform(1.0, 4.0))  # a random moment in the loop
    pid = c.node_pids()[node]
    os.kill(pid, signal.SIGKILL)
    assert poll(lambda: not pid_alive(pid), 5)
    time.sleep(rng.uniform(0.5, 2.0))
    c.up()  # starts the node that is not running; the mount is left alone
    new = c.node_pids()[node]
    assert new != pid and pid_alive(new)
    # The mount reconnects by itself: every writer completes files again.
    before = list(writers.done)
    assert poll(lambda: all(d >= b + 2 for d, b in zip(writers.done, before)), 90, 0.5), (
        f"writers stuck after {node} came back: {before} -> {writers.done}, "
        f"errors {writers.errors[-10:]}")


def crash_run(c, node, seed):
    d = c.mount / f"crash-{node}"
    d.mkdir()
    rng = random.Random(seed)
    w = Writers(d, seed)
    w.start()
    try:
        kill_and_restart(c, node, w, rng)
    finally:
        assert w.finish(), "writers did not stop"
    assert len(w.durable) >= WRITERS * 2, w.durable
    w.check(d)
    m = c.second_mount()
    try:
        w.check(m / d.name)  # from a mount that has no cache at all
    finally:
        c.unmount_second(m)
    return w


def test_meta_sigkill_under_writers(cluster):
    c = cluster(3)
    w = crash_run(c, "node1", 0xC0DE)
    print(f"meta crash: {len(w.durable)} files durable, {len(w.errors)} errors {w.errors[:5]}")
    fsck_clean(c)


def test_storage_node_sigkill_under_writers(cluster):
    c = cluster(4)
    w = crash_run(c, "node3", 0xC0DF)
    # A dead storage node costs no writer an error: writes go on on the others.
    assert not w.errors, w.errors
    fsck_clean(c)
