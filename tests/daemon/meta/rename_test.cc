// Rename: the matrix of rename(2) and renameat2(2) outcomes.
#include "tests/daemon/meta/meta_fixture.h"

namespace dos::meta {
namespace {

using proto::kRootIno;
constexpr uint32_t kNoReplace = 1;
constexpr uint32_t kExchange = 2;

TEST_F(MetaTest, RenameFileSameDir) {
  proto::Attr f = Mknod(kRootIno, "a");
  EXPECT_EQ(Rename(kRootIno, "a", kRootIno, "b"), 0);
  EXPECT_EQ(LookupErr(kRootIno, "a"), ENOENT);
  EXPECT_EQ(Ino(kRootIno, "b"), f.ino);
  EXPECT_EQ(Rename(kRootIno, "b", kRootIno, "b"), 0);  // itself: nothing happens
  EXPECT_EQ(Ino(kRootIno, "b"), f.ino);
  EXPECT_EQ(Rename(kRootIno, "zz", kRootIno, "c"), ENOENT);
}

TEST_F(MetaTest, RenameOverFileUnlinksIt) {
  proto::Attr a = Mknod(kRootIno, "a");
  proto::Attr b = Mknod(kRootIno, "b");
  EXPECT_EQ(Rename(kRootIno, "a", kRootIno, "b"), 0);
  EXPECT_EQ(Ino(kRootIno, "b"), a.ino);
  proto::Attr x;
  EXPECT_EQ(ns_->Getattr(b.ino, &x).err(), ENOENT);
}

TEST_F(MetaTest, RenameNamesTheInodesItTouched) {
  proto::Attr a = Mknod(kRootIno, "a");
  proto::Attr b = Mknod(kRootIno, "b");
  proto::RenameRep rep;
  ASSERT_TRUE(ns_->Rename({kRootIno, "a", kRootIno, "c", 0}, &rep).ok());
  EXPECT_EQ(rep.moved, a.ino);
  EXPECT_EQ(rep.replaced, 0u);  // "c" was free
  ASSERT_TRUE(ns_->Rename({kRootIno, "c", kRootIno, "b", 0}, &rep).ok());
  EXPECT_EQ(rep.moved, a.ino);
  EXPECT_EQ(rep.replaced, b.ino);
  proto::Attr d = Mkdir(kRootIno, "d");
  ASSERT_TRUE(ns_->Rename({kRootIno, "b", kRootIno, "d", kExchange}, &rep).ok());
  EXPECT_EQ(rep.moved, a.ino);
  EXPECT_EQ(rep.replaced, d.ino);
}

TEST_F(MetaTest, RenameOverOpenFileKeepsOrphan) {
  Mknod(kRootIno, "a");
  proto::Attr b = Mknod(kRootIno, "b");
  proto::OpenRep o;
  ASSERT_TRUE(ns_->Open({b.ino, 1, 0}, &o).ok());
  EXPECT_EQ(Rename(kRootIno, "a", kRootIno, "b"), 0);
  EXPECT_EQ(Get(b.ino).nlink, 0u);
  ASSERT_TRUE(ns_->Release(b.ino, 1).ok());
  proto::Attr x;
  EXPECT_EQ(ns_->Getattr(b.ino, &x).err(), ENOENT);
}

TEST_F(MetaTest, RenameHardLinksOfOneInode) {
  proto::Attr a = Mknod(kRootIno, "a");
  proto::Attr x;
  ASSERT_TRUE(ns_->Link({a.ino, kRootIno, "b"}, &x).ok());
  EXPECT_EQ(Rename(kRootIno, "a", kRootIno, "b"), 0);  // same inode: no-op
  EXPECT_EQ(Ino(kRootIno, "a"), a.ino);
  EXPECT_EQ(Ino(kRootIno, "b"), a.ino);
  EXPECT_EQ(Get(a.ino).nlink, 2u);
}

TEST_F(MetaTest, RenameDirAcrossParents) {
  proto::Attr p1 = Mkdir(kRootIno, "p1");
  proto::Attr p2 = Mkdir(kRootIno, "p2");
  proto::Attr d = Mkdir(p1.ino, "d");
  EXPECT_EQ(Get(p1.ino).nlink, 3u);
  EXPECT_EQ(Rename(p1.ino, "d", p2.ino, "e"), 0);
  EXPECT_EQ(Get(p1.ino).nlink, 2u);
  EXPECT_EQ(Get(p2.ino).nlink, 3u);
  EXPECT_EQ(Ino(d.ino, ".."), p2.ino);
  EXPECT_EQ(Ino(p2.ino, "e"), d.ino);
}

TEST_F(MetaTest, RenameDirIntoItself) {
  proto::Attr a = Mkdir(kRootIno, "a");
  proto::Attr b = Mkdir(a.ino, "b");
  proto::Attr c = Mkdir(b.ino, "c");
  EXPECT_EQ(Rename(kRootIno, "a", c.ino, "x"), EINVAL);
  EXPECT_EQ(Rename(kRootIno, "a", a.ino, "x"), EINVAL);
  EXPECT_EQ(Rename(b.ino, "c", kRootIno, "c"), 0);  // upwards is fine
  // Target an ancestor of the source: ENOTEMPTY, EINVAL for an exchange.
  Mkdir(b.ino, "deep");
  EXPECT_EQ(Rename(b.ino, "deep", kRootIno, "a"), ENOTEMPTY);
  EXPECT_EQ(Rename(b.ino, "deep", kRootIno, "a", kExchange), EINVAL);
}

TEST_F(MetaTest, RenameTypeMismatch) {
  Mknod(kRootIno, "f");
  Mkdir(kRootIno, "d");
  proto::Attr full = Mkdir(kRootIno, "full");
  Mknod(full.ino, "x");
  EXPECT_EQ(Rename(kRootIno, "f", kRootIno, "d"), EISDIR);
  EXPECT_EQ(Rename(kRootIno, "d", kRootIno, "f"), ENOTDIR);
  EXPECT_EQ(Rename(kRootIno, "d", kRootIno, "full"), ENOTEMPTY);
}

TEST_F(MetaTest, RenameDirOverEmptyDir) {
  proto::Attr p = Mkdir(kRootIno, "p");
  proto::Attr d = Mkdir(kRootIno, "d");
  proto::Attr e = Mkdir(p.ino, "e");
  EXPECT_EQ(Get(kRootIno).nlink, 4u);
  EXPECT_EQ(Rename(kRootIno, "d", p.ino, "e"), 0);
  EXPECT_EQ(Get(kRootIno).nlink, 3u);
  EXPECT_EQ(Get(p.ino).nlink, 3u);
  proto::Attr x;
  EXPECT_EQ(ns_->Getattr(e.ino, &x).err(), ENOENT);
  EXPECT_EQ(Ino(p.ino, "e"), d.ino);
}

TEST_F(MetaTest, RenameNoReplace) {
  Mknod(kRootIno, "a");
  Mknod(kRootIno, "b");
  EXPECT_EQ(Rename(kRootIno, "a", kRootIno, "b", kNoReplace), EEXIST);
  EXPECT_EQ(Rename(kRootIno, "a", kRootIno, "c", kNoReplace), 0);
}

TEST_F(MetaTest, RenameExchange) {
  proto::Attr p = Mkdir(kRootIno, "p");
  proto::Attr f = Mknod(kRootIno, "f");
  proto::Attr d = Mkdir(p.ino, "d");
  EXPECT_EQ(Rename(kRootIno, "f", p.ino, "missing", kExchange), ENOENT);
  EXPECT_EQ(Rename(kRootIno, "f", p.ino, "d", kExchange), 0);
  EXPECT_EQ(Ino(kRootIno, "f"), d.ino);
  EXPECT_EQ(Ino(p.ino, "d"), f.ino);
  EXPECT_EQ(Ino(d.ino, ".."), kRootIno);
  EXPECT_EQ(Get(p.ino).nlink, 2u);
  EXPECT_EQ(Get(kRootIno).nlink, 4u);  // ., .., p/.., f/..
}

TEST_F(MetaTest, RenameIntoFileParent) {
  proto::Attr f = Mknod(kRootIno, "f");
  Mknod(kRootIno, "g");
  EXPECT_EQ(Rename(kRootIno, "g", f.ino, "x"), ENOTDIR);
  EXPECT_EQ(Rename(999, "g", kRootIno, "x"), ENOENT);
}

}  // namespace
}  // namespace dos::meta
