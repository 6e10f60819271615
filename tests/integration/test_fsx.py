"""fsx-style random exerciser: one file on the mount and a model of it in
memory, the same random operations applied to both (pwrite past the end,
pread past the end, ftruncate up and down, reopen, fsync, mmap reads and
writes, copy_file_range within the file, posix_fallocate), the size checked
after every operation and every read compared byte for byte; at the end
the whole file is read again through a new descriptor after the kernel's
page cache is dropped. Files span several chunks (4 MiB each) or stay
inside one, so holes, chunk edges and the write-behind queue all get hit."""

import mmap
import os
import random

import pytest

from dosit import CHUNK


def _grow(model, end):
    if end > len(model):
        model.extend(b"\0" * (end - len(model)))


def _first_diff(a, b):
    return next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))


def _exercise(path, seed, nops, maxsize):
    rng = random.Random(seed)
    model = bytearray()
    log = []
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for i in range(nops):
            op = rng.choice(["write", "write", "read", "read", "trunc", "reopen", "fsync",
                             "mmap_read", "mmap_write", "copy", "fallocate"])
            if op == "write":
                off = rng.randrange(0, maxsize)
                data = rng.randbytes(rng.randrange(1, min(2 << 20, maxsize - off) + 1))
                log.append((op, off, len(data)))
                assert os.pwrite(fd, data, off) == len(data)
                _grow(model, off)
                model[off:off + len(data)] = data
            elif op == "read":
                off = rng.randrange(0, len(model) + 100)
                n = rng.randrange(1, 3 << 20)
                log.append((op, off, n))
                got, want = os.pread(fd, n, off), bytes(model[off:off + n])
                assert got == want, (f"op {i}: pread({n}, {off}) returned {len(got)} bytes, "
                                     f"want {len(want)}, first difference at "
                                     f"{_first_diff(got, want)}; last ops {log[-8:]}")
            elif op == "trunc":
                n = rng.randrange(0, maxsize)
                log.append((op, n))
                os.ftruncate(fd, n)
                del model[n:]
                _grow(model, n)
            elif op == "reopen":
                log.append((op,))
                os.close(fd)
                fd = os.open(path, os.O_RDWR)
            elif op == "fsync":
                log.append((op,))
                os.fsync(fd)
            elif op in ("mmap_read", "mmap_write"):
                if len(model) < 4096:
                    continue
                off = rng.randrange(0, len(model) // 4096) * 4096
                n = rng.randrange(1, min(1 << 20, len(model) - off) + 1)
                log.append((op, off, n))
                with mmap.mmap(fd, n, offset=off) as m:
                    if op == "mmap_read":
                        assert m[:] == bytes(model[off:off + n]), f"op {i}: {log[-8:]}"
                    else:
                        data = rng.randbytes(n)
                        m[:] = data
                        model[off:off + n] = data
                        if rng.random() < 0.5:
                            m.flush()
            elif op == "copy":
                if not model:
                    continue
                src = rng.randrange(0, len(model))
                n = rng.randrange(1, min(1 << 20, len(model) - src) + 1)
                dst = rng.randrange(0, maxsize)
                if abs(dst - src) < n:
                    continue  # overlapping ranges of one file: EINVAL by definition
                log.append((op, src, dst, n))
                data = bytes(model[src:src + n])
                w = os.copy_file_range(fd, fd, n, src, dst)
                _grow(model, dst)
                model[dst:dst + w] = data[:w]
            elif op == "fallocate":
                off = rng.randrange(0, maxsize)
                n = rng.randrange(1, 1 << 20)
                log.append((op, off, n))
                try:
                    os.posix_fallocate(fd, off, n)
                    _grow(model, off + n)
                except OSError as e:
                    log.append(("fallocate failed", e.errno))
            size = os.fstat(fd).st_size
            assert size == len(model), f"op {i} {op}: size {size}, want {len(model)}; {log[-8:]}"
    finally:
        os.close(fd)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")
    with open(path, "rb") as f:
        got = f.read()
    assert got == bytes(model), (f"whole file: {len(got)} bytes, want {len(model)}, first "
                                 f"difference at {_first_diff(got, bytes(model))}")


@pytest.mark.parametrize("seed,maxsize", [(1, 3 * CHUNK), (2, 300_000), (3, 2 * CHUNK + 5),
                                          (4, 60_000), (5, 3 * CHUNK), (6, CHUNK)])
def test_random_operations_match_a_model(wd, seed, maxsize):
    _exercise(wd / "f", seed, 250, maxsize)
