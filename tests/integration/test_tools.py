"""Ordinary tools on a dos mount: cp -a, tar, git, sqlite3, make, find, du and
ls, each checked against what the same tool does on a local disk."""

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from dosit import CHUNK, MiB, rand_bytes, run, write_file


def need(tool):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")


@pytest.fixture
def local():
    d = Path(tempfile.mkdtemp(prefix="dos-it-local-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def make_tree(root):
    """A tree with the shapes that trip file systems: empty files, chunk-edge
    sizes, deep folders, symlinks, a hard link, odd modes and names, old
    times; plus a copy of /usr/include/fuse3 when present."""
    root.mkdir(parents=True, exist_ok=True)
    sizes = [0, 1, 4095, 4096, 65537, CHUNK - 1, CHUNK, CHUNK + 1]
    for i, n in enumerate(sizes):
        write_file(root / f"size_{n}", rand_bytes(n, 100 + i))
    deep = root
    for i in range(12):
        deep = deep / f"level{i}"
    deep.mkdir(parents=True)
    write_file(deep / "bottom.txt", b"deep down\n")
    (root / "empty_dir").mkdir()
    (root / "names").mkdir()
    for n in ["with space", "tab\there", "unicode-\u00e9\u00e8\u4e2d", "-dash", "x" * 200,
              ".hidden", "a'quote", 'dq"uote']:
        write_file(root / "names" / n, n.encode())
    os.symlink("size_1", root / "link_rel")
    os.symlink("/nonexistent/target", root / "link_dangling")
    os.symlink("level0/level1", root / "link_dir")
    os.link(root / "size_4096", root / "hardlink_4096")
    write_file(root / "exec.sh", b"#!/bin/sh\necho hi\n")
    os.chmod(root / "exec.sh", 0o755)
    write_file(root / "private", b"p")
    os.chmod(root / "private", 0o600)
    os.chmod(root / "empty_dir", 0o700)
    os.utime(root / "size_1", ns=(1_000_000_000_123_456_789, 1_100_000_000_987_654_321))
    for i in range(200):
        sub = root / "many" / f"d{i % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        write_file(sub / f"file{i}.txt", f"file number {i}\n".encode() * (i + 1))
    if os.path.isdir("/usr/include/fuse3"):
        shutil.copytree("/usr/include/fuse3", root / "fuse3", symlinks=True)
    return root


def snapshot(root):
    """{relative path: (type, mode, size, mtime_ns, link target or data)}."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                extra = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    extra = f.read()
            else:
                extra = None
            mtime = st.st_mtime_ns if not stat.S_ISDIR(st.st_mode) else None
            out[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode),
                        st.st_size if not stat.S_ISDIR(st.st_mode) else None, mtime, extra)
    return out


def assert_same_tree(a, b):
    sa, sb = snapshot(a), snapshot(b)
    assert sorted(sa) == sorted(sb), (f"only in {a}: {sorted(set(sa) - set(sb))[:10]}, "
                                      f"only in {b}: {sorted(set(sb) - set(sa))[:10]}")
    fields = ("type", "mode", "size", "mtime_ns")
    diffs = []
    for k in sorted(sa):
        va, vb = sa[k], sb[k]
        for i, f in enumerate(fields):
            if va[i] != vb[i]:
                diffs.append(f"{k}: {f} {va[i]} != {vb[i]}")
        if va[4] != vb[4]:
            diffs.append(f"{k}: content differs")
    assert not diffs, f"{len(diffs)} differences:\n" + "\n".join(diffs[:30])
    run(["diff", "-r", "--no-dereference", a, b])


# ---- cp, tar ---------------------------------------------------------------------

def test_cp_a_tree_in_and_out(wd, local):
    src = make_tree(local / "src")
    run(["cp", "-a", src, wd / "copy"], timeout=600)
    assert_same_tree(src, wd / "copy")
    st_a, st_b = os.stat(wd / "copy" / "size_4096"), os.stat(wd / "copy" / "hardlink_4096")
    assert st_a.st_ino == st_b.st_ino and st_a.st_nlink == 2, "cp -a lost the hard link"
    run(["cp", "-a", wd / "copy", local / "back"], timeout=600)
    assert_same_tree(src, local / "back")


def test_tar_round_trip(wd, local):
    src = make_tree(local / "src")
    run(["tar", "--format=posix", "-C", src, "-cf", wd / "a.tar", "."], timeout=600)
    (wd / "x").mkdir()
    run(["tar", "-C", wd / "x", "-xpf", wd / "a.tar"], timeout=600)
    assert_same_tree(src, wd / "x")
    # and a tarball of the mounted tree, unpacked on local disk
    run(["tar", "--format=posix", "-C", wd / "x", "-czf", local / "b.tgz", "."], timeout=600)
    (local / "y").mkdir()
    run(["tar", "-C", local / "y", "-xpzf", local / "b.tgz"], timeout=600)
    assert_same_tree(src, local / "y")
    listing = run(["tar", "-tf", wd / "a.tar"]).stdout.split()
    assert "./fuse3/fuse.h" in listing or not os.path.isdir("/usr/include/fuse3")


# ---- git ------------------------------------------------------------------------

def test_git_init_add_commit_log(wd):
    need("git")
    repo = wd / "repo"
    ident = ["-c", "user.name=dos test", "-c", "user.email=test@dos.invalid",
             "-c", "init.defaultBranch=main", "-c", "gc.auto=0"]

    def git(*args, cwd=repo):
        return run(["git", *ident, *args], cwd=cwd, timeout=300).stdout

    repo.mkdir()
    git("init", "-q")
    for i in range(5):
        write_file(repo / f"file{i}.txt", f"commit {i}\n".encode() * 100)
        (repo / "sub").mkdir(exist_ok=True)
        write_file(repo / "sub" / "data.bin", rand_bytes(100_000 + i, 200 + i))
        git("add", "-A")
        git("commit", "-q", "-m", f"commit number {i}")
    log = git("log", "--format=%s").splitlines()
    assert log == [f"commit number {i}" for i in reversed(range(5))]
    assert git("status", "--porcelain") == ""
    git("mv", "file0.txt", "renamed.txt")
    git("rm", "-q", "file1.txt")
    git("commit", "-q", "-m", "mv and rm")
    git("fsck", "--strict")
    git("gc", "-q")                       # packs, renames, unlinks
    git("fsck", "--strict")
    assert git("rev-list", "--count", "HEAD").strip() == "6"
    git("clone", "-q", str(repo), str(wd / "clone"), cwd=wd)
    assert (wd / "clone" / "renamed.txt").read_bytes() == b"commit 0\n" * 100
    assert git("log", "--format=%s", "-1", cwd=wd / "clone").strip() == "mv and rm"


# ---- sqlite3 --------------------------------------------------------------------

WRITER = """
.timeout 60000
{body}
"""


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_sqlite_concurrent_writers(wd, journal):
    """journal_mode delete relies on fcntl record locks; wal also on a shared
    mmap of the -shm file."""
    need("sqlite3")
    db = wd / "t.db"
    assert run(["sqlite3", db, f"PRAGMA journal_mode={journal};"]).stdout.strip() == journal
    run(["sqlite3", db, """
        CREATE TABLE t(id INTEGER PRIMARY KEY, who TEXT, n INTEGER, pad TEXT);
        BEGIN;
        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000)
          INSERT INTO t(who, n, pad) SELECT 'init', x, hex(randomblob(100)) FROM c;
        COMMIT;
        CREATE INDEX t_who ON t(who, n);
    """])
    assert run(["sqlite3", db, "SELECT count(*) FROM t;"]).stdout.strip() == "5000"

    def script(who, txns=100, rows=10):
        body = []
        for i in range(txns):
            body.append("BEGIN IMMEDIATE;")
            for j in range(rows):
                body.append(f"INSERT INTO t(who, n, pad) VALUES('{who}', {i * rows + j}, "
                            "hex(randomblob(50)));")
            body.append("COMMIT;")
        return WRITER.format(body="\n".join(body))

    procs = [subprocess.Popen(["sqlite3", "-bail", str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in ("a", "b")]
    outs = [p.communicate(script(w), timeout=600) for p, w in zip(procs, ("a", "b"))]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, f"sqlite3 writer failed: {err[-2000:]}"
    q = run(["sqlite3", db, "PRAGMA integrity_check; SELECT who, count(*), count(DISTINCT n) "
                            "FROM t GROUP BY who ORDER BY who;"]).stdout.split()
    assert q == ["ok", "a|1000|1000", "b|1000|1000", "init|5000|5000"]
    assert not (wd / "t.db-journal").exists()
    assert run(["sqlite3", db, "PRAGMA journal_mode;"]).stdout.strip() == journal


# ---- make -----------------------------------------------------------------------

MAKEFILE = """\
CC ?= gcc
hello: main.o greet.o
\t$(CC) -o $@ main.o greet.o
%.o: %.c greet.h
\t$(CC) -O1 -c -o $@ $<
clean:
\trm -f hello *.o
"""


def test_make_small_c_program(wd):
    need("gcc")
    need("make")
    src = wd / "prog"
    src.mkdir()
    write_file(src / "Makefile", MAKEFILE.encode())
    write_file(src / "greet.h", b'#define GREETING "hello from dos"\nvoid greet(void);\n')
    write_file(src / "greet.c", b'#include <stdio.h>\n#include "greet.h"\n'
                                b'void greet(void) { puts(GREETING); }\n')
    write_file(src / "main.c", b'#include "greet.h"\nint main(void) { greet(); return 0; }\n')
    run(["make", "-C", src], timeout=300)
    assert run([src / "hello"]).stdout == "hello from dos\n"
    assert "up to date" in run(["make", "-C", src, "hello"]).stdout
    # a changed header rebuilds (make reads mtimes)
    write_file(src / "greet.h", b'#define GREETING "rebuilt"\nvoid greet(void);\n')
    later = os.stat(src / "hello").st_mtime_ns + 2_000_000_000
    os.utime(src / "greet.h", ns=(later, later))
    out = run(["make", "-C", src], timeout=300).stdout
    assert "gcc" in out or "cc" in out
    assert run([src / "hello"]).stdout == "rebuilt\n"
    run(["make", "-C", src, "clean"])
    assert sorted(os.listdir(src)) == ["Makefile", "greet.c", "greet.h", "main.c"]


# ---- find, du, ls -----------------------------------------------------------------

def test_find_du_ls(wd):
    d = wd / "t"
    for i in range(3):
        (d / f"sub{i}").mkdir(parents=True)
        for j in range(4):
            write_file(d / f"sub{i}" / f"f{j}", rand_bytes(MiB, 300 + i * 10 + j))
    os.symlink("sub0/f0", d / "link")
    found = run(["find", d, "-type", "f"]).stdout.split()
    assert sorted(found) == sorted(str(d / f"sub{i}" / f"f{j}")
                                   for i in range(3) for j in range(4))
    assert run(["find", d, "-type", "l"]).stdout.split() == [str(d / "link")]
    assert len(run(["find", d, "-type", "d"]).stdout.split()) == 4
    assert run(["find", d, "-name", "f3", "-size", "1024k"]).stdout.count("\n") == 3
    du_k = int(run(["du", "-sk", d]).stdout.split()[0])
    assert 12 * 1024 <= du_k < 13 * 1024 + 512, f"du -sk says {du_k} KiB for 12 MiB of data"
    apparent = int(run(["du", "-s", "--apparent-size", "--block-size=1", d / "sub0"])
                   .stdout.split()[0])
    assert apparent >= 4 * MiB
    ls = run(["ls", "-l", d / "sub1"]).stdout.splitlines()
    assert ls[0].startswith("total ")
    rows = [line.split() for line in ls[1:]]
    assert [r[-1] for r in rows] == ["f0", "f1", "f2", "f3"]
    for r in rows:
        assert r[0].startswith("-rw-r--r--"), r
        assert r[1] == "1"
        assert r[4] == str(MiB)
    lsl = run(["ls", "-l", d]).stdout
    assert "link -> sub0/f0" in lsl
