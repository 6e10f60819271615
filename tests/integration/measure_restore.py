#!/usr/bin/python3
"""Measures the time to restore R=3 copies of 1 GiB after one node of 4 is
killed (issue 3). Not part of the test suite: run it by hand,

    DOS_BUILD_DIR=build /usr/bin/python3 tests/integration/measure_restore.py [GiB]

It prints the time to detect the loss (DOWN), the time from DOWN until
`dosctl fs health` shows no under-replicated chunk, and the copy rate."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dosit import GiB, MiB, Cluster, poll  # noqa: E402


def main():
    size = int(float(sys.argv[1] if len(sys.argv) > 1 else 1) * GiB)
    c = Cluster(4, "restore")
    try:
        c.up()
        block = os.urandom(4 * MiB)
        t = time.monotonic()
        with open(c.mount / "big.bin", "wb") as f:
            for _ in range(size // len(block)):
                f.write(block)
        print(f"write {size / GiB:.2f} GiB at R=3: {time.monotonic() - t:.1f} s")
        victim = "node2"
        pid = c.node_pids()[victim]
        h0 = c.dosctl("fs", "health")
        t0 = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        poll(lambda: {n["name"]: n["state"] for n in c.node_ls()}[victim] == "DOWN", 60, 0.2)
        t_down = time.monotonic()
        under = 0
        while True:
            h = c.dosctl("fs", "health")
            under = max(under, h["under_replicated"])
            if h["under_replicated"] == 0 and h["missing"] == 0 and t_down - t0 > 0:
                break
            time.sleep(0.5)
        t_done = time.monotonic()
        copies = h["progress"]["copies_done"] - h0["progress"]["copies_done"]
        copy_s = t_done - t_down
        print(f"chunks {h['chunks']}, under-replicated at most {under}, copies {copies}")
        print(f"detect (SIGKILL -> DOWN): {t_down - t0:.1f} s")
        print(f"restore (DOWN -> 0 under-replicated): {copy_s:.1f} s, "
              f"{copies * 4 / max(copy_s, 1e-9):.1f} MiB/s of copies")
        print(f"total: {t_done - t0:.1f} s")
    finally:
        c.destroy()


if __name__ == "__main__":
    main()
