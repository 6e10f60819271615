"""scripts/dos: up is idempotent, status --json describes every node, down
stops every process and unmounts."""

import os

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
