"""Fixtures of the dos integration tests.

- cluster3 / cluster5: a module-scoped cluster of 3 / 5 nodes, shared by the
  tests of one file.
- module_cluster: a factory, module_cluster(nodes), for a module-scoped
  cluster of another size.
- cluster: a factory, cluster(nodes=3), for tests that need their own
  cluster (down/up, scripts); every cluster it makes is destroyed after the
  test.
- wd: a fresh folder on the module's 3-node mount, named after the test.

Binaries come from DOS_BUILD_DIR (default <repo>/build), handed to
scripts/dos as DOS_BIN_DIR. When a test fails, the tails of the dosd and
dosfs logs of every live cluster are attached to its report. A test that
runs past DOS_TEST_TIMEOUT seconds (default 300) gets its clusters killed,
so a hung FUSE call returns an error instead of hanging the run.

Other knobs: DOS_IT_TMP (where cluster folders go, default /tmp) and
DOS_IT_KEEP=1 (keep a destroyed cluster's folder, logs and data, for a look).

    DOS_BUILD_DIR=build /usr/bin/python3 -m pytest -q tests/integration
    meson test -C build --suite integration
"""

import faulthandler
import os
import re
import shutil
import sys
import threading

import pytest

import dosit

os.umask(0o022)

TEST_TIMEOUT = int(os.environ.get("DOS_TEST_TIMEOUT", "300"))


def _preconditions():
    if not os.path.exists("/dev/fuse"):
        pytest.skip("no /dev/fuse: FUSE is not available here")
    if shutil.which("fusermount3") is None:
        pytest.skip("fusermount3 is not installed")
    missing = [str(p) for p in (dosit.DOS_SCRIPT, dosit.DOSD, dosit.DOSCTL, dosit.DOSFS)
               if not p.exists()]
    if missing:
        pytest.fail("dos is not built (set DOS_BUILD_DIR to the meson build dir); missing: "
                    + ", ".join(missing), pytrace=False)


def _start(request, nodes, name, insecure=False):
    _preconditions()
    c = dosit.Cluster(nodes, name=name, insecure=insecure)
    request.addfinalizer(c.destroy)
    c.up()
    return c


@pytest.fixture(scope="module")
def cluster3(request):
    return _start(request, 3, "c3")


@pytest.fixture(scope="module")
def cluster5(request):
    return _start(request, 5, "c5")


@pytest.fixture(scope="module")
def module_cluster(request):
    """Factory: module_cluster(nodes) -> a Cluster kept for the whole module."""
    def make(nodes):
        return _start(request, nodes, f"m{nodes}")
    return make


@pytest.fixture
def cluster(request):
    """Factory: cluster(nodes=3, insecure=False) -> a started Cluster,
    destroyed after the test (insecure: scripts/dos up --insecure)."""
    def make(nodes=3, insecure=False):
        return _start(request, nodes, f"n{nodes}", insecure)
    return make


@pytest.fixture
def wd(request, cluster3):
    """A fresh folder on the module cluster's mount."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:120]
    d = cluster3.mount / name
    os.mkdir(d)
    return d


@pytest.fixture(autouse=True)
def _watchdog(request):
    fired = threading.Event()

    def on_timeout():
        fired.set()
        sys.stderr.write(f"\n*** {request.node.nodeid}: no progress after {TEST_TIMEOUT}s; "
                         "stacks, logs, then killing the clusters\n")
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        for c in list(dosit.LIVE):
            sys.stderr.write(c.log_tails(40) + "\n")
            c.kill_all()

    t = threading.Timer(TEST_TIMEOUT, on_timeout)
    t.daemon = True
    t.start()
    yield
    t.cancel()
    if fired.is_set():
        pytest.fail(f"timed out after {TEST_TIMEOUT}s (clusters were killed)", pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for c in list(dosit.LIVE):
            rep.sections.append((f"dos logs ({c.name})", c.log_tails()))
