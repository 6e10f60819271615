// Namespace: entries, attributes, orphans, readdir and persistence.
#include "daemon/meta/namespace.h"

#include <set>

#include "common/store/stmt.h"
#include "tests/daemon/meta/meta_fixture.h"

namespace dos::meta {
namespace {

using proto::kRootIno;

TEST_F(MetaTest, RootExists) {
  proto::Attr root = Get(kRootIno);
  EXPECT_EQ(root.mode, 040755u);
  EXPECT_EQ(root.nlink, 2u);
  EXPECT_EQ(root.uid, 0u);
  EXPECT_EQ(Ino(kRootIno, "."), kRootIno);
  EXPECT_EQ(Ino(kRootIno, ".."), kRootIno);
}

TEST_F(MetaTest, CreateAndLookup) {
  proto::Attr f = Mknod(kRootIno, "f", 0644);  // no type bits: a regular file
  EXPECT_EQ(f.mode, 0100644u);
  EXPECT_EQ(f.nlink, 1u);
  EXPECT_EQ(f.uid, 1000u);
  EXPECT_EQ(Ino(kRootIno, "f"), f.ino);
  EXPECT_EQ(LookupErr(kRootIno, "g"), ENOENT);
  EXPECT_EQ(LookupErr(f.ino, "x"), ENOTDIR);
  EXPECT_EQ(LookupErr(999, "x"), ENOENT);
  proto::Attr a;
  EXPECT_EQ(ns_->Mknod({kRootIno, "f", 0100644, 0, 0, 0}, &a).err(), EEXIST);
  EXPECT_EQ(ns_->Mkdir({kRootIno, "f", 0755, 0, 0}, &a).err(), EEXIST);
  EXPECT_EQ(ns_->Mknod({f.ino, "x", 0100644, 0, 0, 0}, &a).err(), ENOTDIR);
  proto::Attr fifo = Mknod(kRootIno, "p", 010600);
  EXPECT_TRUE(S_ISFIFO(fifo.mode));
}

// InodeCount counts once, then follows what commits: creations, removals
// (at unlink, at the last release of an orphan, by a rename over a file),
// and nothing of a transaction that failed.
TEST_F(MetaTest, InodeCountFollowsCommits) {
  auto counted = [&] {
    store::Stmt st(db_.get(), "SELECT COUNT(*) FROM inodes");
    EXPECT_TRUE(st.Step().ok());
    return st.U64(0);
  };
  ASSERT_EQ(ns_->InodeCount().value(), 1u);  // the root
  proto::Attr d = Mkdir(kRootIno, "d");
  proto::Attr f = Mknod(d.ino, "f");
  Mknod(d.ino, "g");
  proto::Attr a;
  EXPECT_EQ(ns_->Mknod({d.ino, "f", 0100644, 0, 0, 0}, &a).err(), EEXIST);  // rolled back
  EXPECT_EQ(ns_->InodeCount().value(), 4u);
  EXPECT_EQ(counted(), 4u);
  proto::OpenRep o;
  ASSERT_TRUE(ns_->Open({f.ino, 7, 0}, &o).ok());
  ASSERT_TRUE(ns_->Unlink(d.ino, "f").ok());
  EXPECT_EQ(ns_->InodeCount().value(), 4u);  // an orphan, still open
  ASSERT_TRUE(ns_->Release(f.ino, 7).ok());
  EXPECT_EQ(ns_->InodeCount().value(), 3u);
  Mknod(d.ino, "h");
  ASSERT_TRUE(ns_->Rename({d.ino, "h", d.ino, "g", 0}).ok());  // g's inode goes...
  EXPECT_EQ(ns_->InodeCount().value(), 4u);  // ...at the next reap
  EXPECT_EQ(counted(), 4u);
  ASSERT_TRUE(ns_->ReapOrphans().ok());
  EXPECT_EQ(ns_->InodeCount().value(), 3u);
  ASSERT_TRUE(ns_->Unlink(d.ino, "g").ok());
  ASSERT_TRUE(ns_->Rmdir(kRootIno, "d").ok());  // a directory goes at once
  EXPECT_EQ(ns_->InodeCount().value(), 2u);
  ASSERT_TRUE(ns_->ReapOrphans().ok());
  EXPECT_EQ(ns_->InodeCount().value(), 1u);
  EXPECT_EQ(counted(), 1u);
}

TEST_F(MetaTest, MkdirLinkCountsAndTimes) {
  int64_t before = Get(kRootIno).mtime_ns;
  proto::Attr d = Mkdir(kRootIno, "d");
  EXPECT_EQ(d.mode, 040755u);
  EXPECT_EQ(d.nlink, 2u);
  EXPECT_EQ(Get(kRootIno).nlink, 3u);
  EXPECT_GE(Get(kRootIno).mtime_ns, before);
  EXPECT_EQ(Ino(d.ino, ".."), kRootIno);
  Mkdir(d.ino, "e");
  EXPECT_EQ(Get(d.ino).nlink, 3u);
  EXPECT_EQ(ns_->Rmdir(kRootIno, "d").err(), ENOTEMPTY);
  EXPECT_TRUE(ns_->Rmdir(d.ino, "e").ok());
  EXPECT_EQ(Get(d.ino).nlink, 2u);
  EXPECT_TRUE(ns_->Rmdir(kRootIno, "d").ok());
  EXPECT_EQ(Get(kRootIno).nlink, 2u);
  proto::Attr a;
  EXPECT_EQ(ns_->Getattr(d.ino, &a).err(), ENOENT);
}

TEST_F(MetaTest, RemoveErrors) {
  proto::Attr f = Mknod(kRootIno, "f");
  Mkdir(kRootIno, "d");
  EXPECT_EQ(ns_->Unlink(kRootIno, "d").err(), EISDIR);
  EXPECT_EQ(ns_->Unlink(kRootIno, "nope").err(), ENOENT);
  EXPECT_EQ(ns_->Rmdir(kRootIno, "f").err(), ENOTDIR);
  EXPECT_EQ(ns_->Rmdir(kRootIno, "nope").err(), ENOENT);
  EXPECT_EQ(ns_->Rmdir(kRootIno, ".").err(), EINVAL);
  EXPECT_EQ(ns_->Rmdir(kRootIno, "..").err(), ENOTEMPTY);
  EXPECT_EQ(ns_->Unlink(f.ino, "x").err(), ENOTDIR);
  EXPECT_TRUE(ns_->Unlink(kRootIno, "f").ok());
  EXPECT_EQ(LookupErr(kRootIno, "f"), ENOENT);
  proto::Attr a;
  EXPECT_EQ(ns_->Getattr(f.ino, &a).err(), ENOENT);
}

TEST_F(MetaTest, SetgidInheritance) {
  proto::Attr d = Mkdir(kRootIno, "sg", 02775, 1000, 50);
  EXPECT_EQ(d.mode, 042775u);
  proto::Attr f = Mknod(d.ino, "f", 0100644, 1001, 1001);
  EXPECT_EQ(f.gid, 50u);
  EXPECT_EQ(f.uid, 1001u);
  proto::Attr sub = Mkdir(d.ino, "sub", 0755, 1001, 1001);
  EXPECT_EQ(sub.gid, 50u);
  EXPECT_TRUE(sub.mode & S_ISGID);
  proto::Attr plain = Mkdir(kRootIno, "plain", 0755, 1001, 1001);
  EXPECT_EQ(plain.gid, 1001u);
  EXPECT_FALSE(plain.mode & S_ISGID);
}

TEST_F(MetaTest, Symlinks) {
  proto::Attr a;
  ASSERT_TRUE(ns_->Symlink({kRootIno, "l", "some/where", 7, 8}, &a).ok());
  EXPECT_TRUE(S_ISLNK(a.mode));
  EXPECT_EQ(a.size, 10u);
  std::string t;
  ASSERT_TRUE(ns_->Readlink(a.ino, &t).ok());
  EXPECT_EQ(t, "some/where");
  EXPECT_EQ(ns_->Readlink(kRootIno, &t).err(), EINVAL);
  EXPECT_EQ(ns_->Symlink({kRootIno, "l", "x", 0, 0}, &a).err(), EEXIST);
}

TEST_F(MetaTest, HardLinks) {
  proto::Attr f = Mknod(kRootIno, "f");
  proto::Attr d = Mkdir(kRootIno, "d");
  proto::Attr a;
  ASSERT_TRUE(ns_->Link({f.ino, d.ino, "g"}, &a).ok());
  EXPECT_EQ(a.nlink, 2u);
  EXPECT_EQ(Ino(d.ino, "g"), f.ino);
  EXPECT_EQ(ns_->Link({d.ino, kRootIno, "dd"}, &a).err(), EPERM);
  EXPECT_EQ(ns_->Link({f.ino, d.ino, "g"}, &a).err(), EEXIST);
  EXPECT_EQ(ns_->Link({f.ino, f.ino, "x"}, &a).err(), ENOTDIR);
  EXPECT_TRUE(ns_->Unlink(kRootIno, "f").ok());
  EXPECT_EQ(Get(f.ino).nlink, 1u);
  EXPECT_TRUE(ns_->Unlink(d.ino, "g").ok());
  EXPECT_EQ(ns_->Getattr(f.ino, &a).err(), ENOENT);
}

TEST_F(MetaTest, LinkLimit) {
  proto::Attr f = Mknod(kRootIno, "f");
  ASSERT_TRUE(
      db_->Exec("UPDATE inodes SET nlink = 65000 WHERE ino = " + std::to_string(f.ino)).ok());
  proto::Attr a;
  EXPECT_EQ(ns_->Link({f.ino, kRootIno, "g"}, &a).err(), EMLINK);
}

TEST_F(MetaTest, OrphanLivesUntilLastRelease) {
  proto::Attr f = Mknod(kRootIno, "f");
  proto::OpenRep o;
  ASSERT_TRUE(ns_->Open({f.ino, 7, 0}, &o).ok());
  EXPECT_EQ(o.chunk_size, kChunk);
  ASSERT_TRUE(ns_->Open({f.ino, 8, 0}, &o).ok());
  ASSERT_TRUE(ns_->Unlink(kRootIno, "f").ok());
  EXPECT_EQ(LookupErr(kRootIno, "f"), ENOENT);
  proto::Attr a;
  ASSERT_TRUE(ns_->Getattr(f.ino, &a).ok());
  EXPECT_EQ(a.nlink, 0u);
  proto::CommitWriteReq w{f.ino, 100, 0, {}};
  EXPECT_TRUE(ns_->CommitWrite(w, &a).ok());
  EXPECT_TRUE(ns_->Release(f.ino, 7).ok());
  EXPECT_TRUE(ns_->Getattr(f.ino, &a).ok());
  EXPECT_EQ(ns_->Link({f.ino, kRootIno, "back"}, &a).err(), ENOENT);
  EXPECT_TRUE(ns_->Release(f.ino, 8).ok());
  EXPECT_EQ(ns_->Getattr(f.ino, &a).err(), ENOENT);
  EXPECT_TRUE(ns_->Release(f.ino, 8).ok());  // unknown handle: ignored
}

TEST_F(MetaTest, OpenHandleLimitPerClient) {
  ns_->set_max_open_per_client(3);
  proto::Attr f = Mknod(kRootIno, "f");
  proto::Attr g = Mknod(kRootIno, "g");
  proto::OpenRep o;
  ASSERT_TRUE(ns_->Open({f.ino, 7, 0}, &o).ok());
  ASSERT_TRUE(ns_->Open({f.ino, 7, 0}, &o).ok());
  ASSERT_TRUE(ns_->Open({g.ino, 7, 0}, &o).ok());
  EXPECT_EQ(ns_->OpenHandles(7), 3u);
  EXPECT_EQ(ns_->Open({g.ino, 7, 0}, &o).err(), EMFILE);
  EXPECT_EQ(ns_->Open({f.ino, 7, 0}, &o).err(), EMFILE);
  EXPECT_EQ(ns_->Open({999, 7, 0}, &o).err(), ENOENT);  // the inode is checked first
  proto::CreateReq c{kRootIno, "h", 0644, 0, 0, 7, 0};
  EXPECT_EQ(ns_->Create(c, &o).err(), EMFILE);
  EXPECT_EQ(LookupErr(kRootIno, "h"), ENOENT);  // a refused create makes nothing
  c.client = 8;
  ASSERT_TRUE(ns_->Create(c, &o).ok());
  ASSERT_TRUE(ns_->Release(o.attr.ino, 8).ok());
  ASSERT_TRUE(ns_->Open({g.ino, 8, 0}, &o).ok());  // another client: its own count
  ASSERT_TRUE(ns_->Release(f.ino, 7).ok());
  EXPECT_TRUE(ns_->Release(f.ino, 9).ok());  // unknown handle: no credit
  EXPECT_EQ(ns_->OpenHandles(7), 2u);
  ASSERT_TRUE(ns_->Open({g.ino, 7, 0}, &o).ok());
  EXPECT_EQ(ns_->Open({g.ino, 7, 0}, &o).err(), EMFILE);
  for (uint64_t ino : {f.ino, g.ino, g.ino}) ASSERT_TRUE(ns_->Release(ino, 7).ok());
  EXPECT_EQ(ns_->OpenHandles(7), 0u);
  ns_->set_max_open_per_client(0);  // no limit
  for (int i = 0; i < 10; i++) ASSERT_TRUE(ns_->Open({f.ino, 7, 0}, &o).ok());
}

TEST_F(MetaTest, OrphansPurgedAtStart) {
  proto::Attr f = Mknod(kRootIno, "f");
  proto::OpenRep o;
  ASSERT_TRUE(ns_->Open({f.ino, 7, 0}, &o).ok());
  ASSERT_TRUE(ns_->Unlink(kRootIno, "f").ok());
  Reopen();
  auto rows = [&] {
    store::Stmt st(db_.get(), "SELECT COUNT(*) FROM inodes WHERE ino = ?1 AND nlink = 0");
    EXPECT_TRUE(st.Bind(1, f.ino).Step().ok());
    return st.Int(0);
  };
  EXPECT_EQ(rows(), 1);
  proto::Attr a;
  EXPECT_EQ(ns_->Getattr(f.ino, &a).err(), ENOENT);  // nobody has it open now
  ASSERT_TRUE(ns_->PurgeOrphans().ok());
  EXPECT_EQ(rows(), 0);
}

// A closed file that loses its last name is gone for every call at once;
// its rows and chunks go at the next reap: by itself once reap_batch such
// inodes wait, or when ReapOrphans is called (meta's heartbeat). One reopened
// in between through a handle that outlived its name stays.
TEST_F(MetaTest, UnlinkedInodesAreRemovedInBatches) {
  ns_->set_reap_batch(3);
  auto rows = [&] {
    store::Stmt st(db_.get(), "SELECT COUNT(*) FROM inodes WHERE nlink = 0");
    EXPECT_TRUE(st.Step().ok());
    return st.Int(0);
  };
  proto::Attr f[4];
  for (int i = 0; i < 4; ++i) f[i] = Mknod(kRootIno, "f" + std::to_string(i));
  proto::OpenRep o;
  ASSERT_TRUE(ns_->Open({f[3].ino, 7, 0}, &o).ok());
  ASSERT_TRUE(ns_->Unlink(kRootIno, "f0").ok());
  ASSERT_TRUE(ns_->Unlink(kRootIno, "f1").ok());
  EXPECT_EQ(rows(), 2);
  proto::Attr a;
  EXPECT_EQ(ns_->Getattr(f[0].ino, &a).err(), ENOENT);
  EXPECT_EQ(ns_->Open({f[1].ino, 7, 0}, &o).err(), ENOENT);
  proto::SetattrReq r;
  r.ino = f[1].ino;
  r.valid = proto::kSetMode;
  r.mode = 0600;
  EXPECT_EQ(ns_->Setattr(r, &a).err(), ENOENT);
  EXPECT_EQ(ns_->Link({f[0].ino, kRootIno, "back"}, &a).err(), ENOENT);
  EXPECT_EQ(ns_->orphans_to_reap(), 2u);
  ASSERT_TRUE(ns_->Unlink(kRootIno, "f3").ok());  // open: an orphan until released
  EXPECT_EQ(ns_->orphans_to_reap(), 2u);
  ASSERT_TRUE(ns_->Rename({kRootIno, "f2", kRootIno, "g", 0}).ok());
  Mknod(kRootIno, "h");
  ASSERT_TRUE(ns_->Rename({kRootIno, "h", kRootIno, "g", 0}).ok());  // the third: reaped
  EXPECT_EQ(ns_->orphans_to_reap(), 0u);
  EXPECT_EQ(rows(), 1);  // f3, open
  EXPECT_TRUE(ns_->Getattr(f[3].ino, &a).ok());
  ASSERT_TRUE(ns_->Release(f[3].ino, 7).ok());
  EXPECT_EQ(rows(), 0);
  // Fewer than a batch: removed when asked.
  Mknod(kRootIno, "x");
  ASSERT_TRUE(ns_->Unlink(kRootIno, "x").ok());
  EXPECT_EQ(rows(), 1);
  ASSERT_TRUE(ns_->ReapOrphans().ok());
  EXPECT_EQ(rows(), 0);
  EXPECT_EQ(ns_->orphans_to_reap(), 0u);
}

TEST_F(MetaTest, SetattrModeOwnerTimes) {
  proto::Attr f = Mknod(kRootIno, "f");
  proto::SetattrReq r;
  r.ino = f.ino;
  r.valid = proto::kSetMode | proto::kSetUid | proto::kSetGid | proto::kSetAtime | proto::kSetMtime;
  r.mode = 0170600;  // type bits are ignored
  r.uid = 5;
  r.gid = 6;
  r.atime_ns = 111;
  r.mtime_ns = 222;
  proto::Attr a;
  ASSERT_TRUE(ns_->Setattr(r, &a).ok());
  EXPECT_EQ(a.mode, 0100600u);
  EXPECT_EQ(a.uid, 5u);
  EXPECT_EQ(a.gid, 6u);
  EXPECT_EQ(a.atime_ns, 111);
  EXPECT_EQ(a.mtime_ns, 222);
  EXPECT_GT(a.ctime_ns, f.ctime_ns - 1);
  r.valid = proto::kSetMtimeNow;
  ASSERT_TRUE(ns_->Setattr(r, &a).ok());
  EXPECT_GT(a.mtime_ns, 222);
}

TEST_F(MetaTest, SetattrSizeRules) {
  proto::Attr d = Mkdir(kRootIno, "d");
  proto::Attr p = Mknod(kRootIno, "p", 010644);
  proto::Attr f = Mknod(kRootIno, "f");
  proto::SetattrReq r;
  r.valid = proto::kSetSize;
  r.size = 10;
  proto::Attr a;
  r.ino = d.ino;
  EXPECT_EQ(ns_->Setattr(r, &a).err(), EISDIR);
  r.ino = p.ino;
  EXPECT_EQ(ns_->Setattr(r, &a).err(), EINVAL);
  r.ino = f.ino;
  ASSERT_TRUE(ns_->Setattr(r, &a).ok());
  EXPECT_EQ(a.size, 10u);
  r.ino = 999;
  EXPECT_EQ(ns_->Setattr(r, &a).err(), ENOENT);
}

TEST_F(MetaTest, CommitWriteGrowsOnly) {
  proto::Attr f = Mknod(kRootIno, "f");
  proto::Attr a;
  ASSERT_TRUE(ns_->CommitWrite({f.ino, 5000, 77, {}}, &a).ok());
  EXPECT_EQ(a.size, 5000u);
  EXPECT_EQ(a.mtime_ns, 77);
  EXPECT_EQ(a.ctime_ns, 77);
  ASSERT_TRUE(ns_->CommitWrite({f.ino, 100, 0, {}}, &a).ok());
  EXPECT_EQ(a.size, 5000u);
  EXPECT_GT(a.mtime_ns, 77);
  EXPECT_EQ(ns_->CommitWrite({kRootIno, 1, 0, {}}, &a).err(), EISDIR);
}

TEST_F(MetaTest, CommitWriteAppliesTheSetattrsItCarriesAfterTheWrite) {
  proto::Attr f = Mknod(kRootIno, "f");
  proto::CommitWriteReq req{f.ino, 4096, 5'000, {}};
  req.set.ino = f.ino;
  req.set.valid = proto::kSetMode | proto::kSetUid | proto::kSetGid | proto::kSetAtime |
                  proto::kSetMtime;
  req.set.mode = 04751;
  req.set.uid = 123;
  req.set.gid = 456;
  req.set.atime_ns = 1'000;
  req.set.mtime_ns = 2'000;  // older than the write: a later futimens wins all the same
  ASSERT_TRUE(req.Valid().ok());
  proto::Attr a;
  ASSERT_TRUE(ns_->CommitWrite(req, &a).ok());
  EXPECT_EQ(a.size, 4096u);
  EXPECT_EQ(a.mode, 0104751u);
  EXPECT_EQ(a.uid, 123u);
  EXPECT_EQ(a.gid, 456u);
  EXPECT_EQ(a.atime_ns, 1'000);
  EXPECT_EQ(a.mtime_ns, 2'000);
  EXPECT_GT(a.ctime_ns, 5'000);  // stamped by meta
  EXPECT_EQ(Get(f.ino).mode, 0104751u);

  // Never a size, never another inode's; unknown mode bits as in kSetattr.
  proto::CommitWriteReq bad = req;
  bad.set.valid |= proto::kSetSize;
  EXPECT_EQ(bad.Valid().err(), EINVAL);
  bad = req;
  bad.set.ino = f.ino + 1;
  EXPECT_EQ(bad.Valid().err(), EINVAL);
  bad = req;
  bad.set.mode = 0170000 << 1;
  EXPECT_EQ(bad.Valid().err(), EINVAL);
  bad = req;
  bad.set = {};  // none: any ino
  EXPECT_TRUE(bad.Valid().ok());
}

TEST_F(MetaTest, ReplInheritance) {
  proto::Attr d = Mkdir(kRootIno, "d");
  ASSERT_TRUE(ns_->SetRepl(d.ino, 2).ok());
  proto::Attr f = Mknod(d.ino, "f");
  auto in = LoadInode(db_.get(), f.ino);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->repl, 2u);
  EXPECT_EQ(in->chunk_size, kChunk);
  ASSERT_TRUE(ns_->SetRepl(f.ino, 5).ok());
  EXPECT_EQ(LoadInode(db_.get(), f.ino)->repl, 5u);
  EXPECT_EQ(ns_->SetRepl(999, 1).err(), ENOENT);
}

TEST_F(MetaTest, ReaddirPages) {
  proto::Attr d = Mkdir(kRootIno, "big");
  const int kFiles = 5000;
  for (int i = 0; i < kFiles; ++i) Mknod(d.ino, "file" + std::to_string(i));
  std::set<std::string> seen;
  uint64_t after = 0;
  int pages = 0;
  for (;;) {
    proto::ReaddirRep rep;
    ASSERT_TRUE(ns_->Readdir({d.ino, after, 777}, &rep).ok());
    ++pages;
    for (const auto& e : rep.entries) {
      EXPECT_GT(e.cookie, after);
      EXPECT_TRUE(seen.insert(e.name).second) << e.name;
      EXPECT_TRUE(S_ISREG(e.attr.mode));
      after = e.cookie;
    }
    if (rep.eof) break;
    ASSERT_EQ(rep.entries.size(), 777u);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kFiles));
  EXPECT_EQ(pages, (kFiles + 776) / 777);
  proto::ReaddirRep rep;
  proto::Attr f = Get(Ino(d.ino, "file0"));
  EXPECT_EQ(ns_->Readdir({f.ino, 0, 10}, &rep).err(), ENOTDIR);
  ASSERT_TRUE(ns_->Readdir({kRootIno, 0, 10}, &rep).ok());
  EXPECT_TRUE(rep.eof);
  ASSERT_EQ(rep.entries.size(), 1u);
  EXPECT_EQ(rep.entries[0].name, "big");
}

TEST_F(MetaTest, ReaddirResumesAfterRemoval) {
  for (int i = 0; i < 10; ++i) Mknod(kRootIno, "f" + std::to_string(i));
  proto::ReaddirRep rep;
  ASSERT_TRUE(ns_->Readdir({kRootIno, 0, 3}, &rep).ok());
  ASSERT_FALSE(rep.eof);
  uint64_t cookie = rep.entries.back().cookie;
  ASSERT_TRUE(ns_->Unlink(kRootIno, "f2").ok());  // the entry the cookie came from
  ASSERT_TRUE(ns_->Readdir({kRootIno, cookie, 100}, &rep).ok());
  EXPECT_TRUE(rep.eof);
  ASSERT_EQ(rep.entries.size(), 7u);
  EXPECT_EQ(rep.entries[0].name, "f3");
}

TEST_F(MetaTest, Xattrs) {
  proto::Attr f = Mknod(kRootIno, "f");
  auto set = [&](const std::string& n, const std::string& v, uint32_t flags) {
    return ns_->Setxattr({f.ino, n, std::vector<char>(v.begin(), v.end()), flags}).err();
  };
  EXPECT_EQ(set("user.a", "1", 0), 0);
  EXPECT_EQ(set("user.a", "2", 1), EEXIST);   // XATTR_CREATE
  EXPECT_EQ(set("user.b", "2", 2), ENODATA);  // XATTR_REPLACE
  EXPECT_EQ(set("user.a", "22", 2), 0);
  EXPECT_EQ(set("system.posix_acl_access", "x", 0), EOPNOTSUPP);
  EXPECT_EQ(set("other", "x", 0), EOPNOTSUPP);
  EXPECT_EQ(set("trusted.t", "", 0), 0);
  EXPECT_EQ(set("security.s", "s", 0), 0);
  std::vector<char> v;
  ASSERT_TRUE(ns_->Getxattr(f.ino, "user.a", &v).ok());
  EXPECT_EQ(std::string(v.begin(), v.end()), "22");
  ASSERT_TRUE(ns_->Getxattr(f.ino, "trusted.t", &v).ok());
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(ns_->Getxattr(f.ino, "user.zz", &v).err(), ENODATA);
  EXPECT_EQ(ns_->Getxattr(999, "user.zz", &v).err(), ENOENT);
  std::vector<std::string> names;
  ASSERT_TRUE(ns_->Listxattr(f.ino, &names).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"security.s", "trusted.t", "user.a"}));
  EXPECT_TRUE(ns_->Removexattr(f.ino, "user.a").ok());
  EXPECT_EQ(ns_->Removexattr(f.ino, "user.a").err(), ENODATA);
}

TEST_F(MetaTest, XattrListLimit) {
  proto::Attr f = Mknod(kRootIno, "f");
  int err = 0;
  for (int i = 0; i < 1000 && err == 0; ++i)
    err = ns_->Setxattr({f.ino, "user." + std::string(200, 'a') + std::to_string(i), {}, 0}).err();
  EXPECT_EQ(err, ENOSPC);
}

TEST_F(MetaTest, PersistsAcrossReopen) {
  proto::Attr d = Mkdir(kRootIno, "d");
  proto::Attr f = Mknod(d.ino, "f");
  ASSERT_TRUE(ns_->Setxattr({f.ino, "user.k", {'v'}, 0}).ok());
  Reopen();
  EXPECT_EQ(Ino(kRootIno, "d"), d.ino);
  EXPECT_EQ(Ino(d.ino, "f"), f.ino);
  EXPECT_EQ(Get(kRootIno).nlink, 3u);
  std::vector<char> v;
  ASSERT_TRUE(ns_->Getxattr(f.ino, "user.k", &v).ok());
  proto::Attr g = Mknod(d.ino, "g");
  EXPECT_GT(g.ino, f.ino);
}

}  // namespace
}  // namespace dos::meta
