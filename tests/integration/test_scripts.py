"""scripts/dos: up is idempotent, status --json describes every node, down
stops every process and unmounts."""

import os
import signal

from dosit import mounted_at, pid_alive, pids_naming, poll, read_file, write_file


def status_nodes(status):
    nodes = status["nodes"] if isinstance(status, dict) and "nodes" in status else status
    assert isinstance(nodes, list), f"status --json: no node list in {status!r}"
    return {n["name"]: n for n in nodes}


def data_folder(node):
    for key in ("data", "data_dir", "datadir", "data_folder", "dir"):
        if key in node:
            return node[key]
    raise AssertionError(f"status --json: no data folder in {node!r}")


def mount_count(path):
    path = os.path.realpath(str(path))
    with open("/proc/self/mountinfo") as f:
        return sum(1 for line in f if line.split()[4] == path)


def test_up_twice_is_harmless(cluster):
    c = cluster(3)
    write_file(c.mount / "f", b"still here")
    pids = c.node_pids()
    assert len(pids) == 3
    c.up()  # the same command again
    assert c.node_pids() == pids, "a second `dos up` restarted the nodes"
    assert all(pid_alive(p) for p in pids.values())
    assert mount_count(c.mount) == 1, "a second `dos up` stacked another mount"
    assert read_file(c.mount / "f") == b"still here"
    write_file(c.mount / "g", b"writable")
    assert read_file(c.mount / "g") == b"writable"


def test_status_json(cluster):
    c = cluster(3)
    nodes = status_nodes(c.status())
    assert sorted(nodes) == ["node1", "node2", "node3"]
    pids = c.node_pids()
    for i, name in enumerate(sorted(nodes), start=1):
        n = nodes[name]
        assert n["running"] is True, n
        assert n["pid"] == pids[name], n
        assert pid_alive(n["pid"])
        assert int(n["port"]) == c.base_port + i, n
        folder = data_folder(n)
        assert os.path.isdir(folder), n
        assert os.path.realpath(folder).startswith(os.path.realpath(c.state)), n


def test_down_stops_every_pid(cluster):
    c = cluster(3)
    pids = set(c.node_pids().values())
    dosfs = [p for p in pids_naming(str(c.mount)) if p not in pids]
    assert dosfs, "no dosfs process found for the mount"
    everything = pids | set(dosfs)
    c.down()
    assert poll(lambda: not any(pid_alive(p) for p in everything), 10), \
        f"still running after `dos down`: {[p for p in everything if pid_alive(p)]}"
    assert not mounted_at(c.mount)
    nodes = status_nodes(c.status())
    assert sorted(nodes) == ["node1", "node2", "node3"]
    assert all(n["running"] is False for n in nodes.values()), nodes
    c.down()  # a second down is harmless
    c.up()
    new = c.node_pids()
    assert len(new) == 3 and all(pid_alive(p) for p in new.values())
    write_file(c.mount / "f", b"ok")
    assert read_file(c.mount / "f") == b"ok"


def test_status_json_marks_meta(cluster):
    c = cluster(3)
    nodes = status_nodes(c.status())
    assert nodes["node1"]["meta"] is True, nodes["node1"]
    assert all(nodes[n]["meta"] is False for n in ("node2", "node3")), nodes


def test_up_restarts_missing_nodes(cluster):
    """Issue 3: `dos up` on a cluster whose nodes are partly down starts the
    missing ones, with the same names and data, and leaves the others."""
    c = cluster(3)
    write_file(c.mount / "kept", b"same data")
    pids = c.node_pids()
    for n in ("node1", "node3"):   # meta's node too
        os.kill(pids[n], signal.SIGKILL)
    assert poll(lambda: not pid_alive(pids["node1"]) and not pid_alive(pids["node3"]), 5)
    c.up()
    new = c.node_pids()
    assert new["node2"] == pids["node2"], "a running node was restarted"
    for n in ("node1", "node3"):
        assert new[n] != pids[n] and pid_alive(new[n]), (n, new)
    nodes = status_nodes(c.status())
    assert all(nodes[n]["running"] for n in nodes), nodes
    assert {n["name"]: n["state"] for n in c.node_ls()} == \
        {"node1": "UP", "node2": "UP", "node3": "UP"}
    assert read_file(c.mount / "kept") == b"same data"
    write_file(c.mount / "new", b"writable")
    assert read_file(c.mount / "new") == b"writable"
