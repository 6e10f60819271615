// Creds: what meta refuses a user key bound to a uid (daemon/meta/creds.h),
// and Keys keeping the binding (schema version 4).
#include "daemon/meta/creds.h"

#include <fcntl.h>
#include <unistd.h>

#include "daemon/meta/keys.h"
#include "tests/daemon/meta/meta_fixture.h"

namespace dos::meta {
namespace {

using proto::kRootIno;

constexpr Binding kAlice{1000, 1000};
constexpr Binding kBob{2000, 2000};
constexpr Binding kRoot{0, 0};

TEST(Permits, OwnerGroupOtherAndRoot) {
  proto::Attr a;
  a.mode = 0100640;
  a.uid = 1000;
  a.gid = 50;
  EXPECT_TRUE(Permits(kAlice, a, R_OK | W_OK));
  EXPECT_FALSE(Permits(kAlice, a, X_OK));
  EXPECT_TRUE(Permits({3000, 50}, a, R_OK));
  EXPECT_FALSE(Permits({3000, 50}, a, W_OK));
  EXPECT_FALSE(Permits(kBob, a, R_OK));
  EXPECT_TRUE(Permits(kRoot, a, R_OK | W_OK));
  EXPECT_FALSE(Permits(kRoot, a, X_OK));  // no x bit at all
  a.mode = 040700;
  EXPECT_TRUE(Permits(kRoot, a, X_OK));
  a.mode = 0100066;  // owner bits win even when the others' are wider
  EXPECT_FALSE(Permits(kAlice, a, R_OK));
  EXPECT_TRUE(Permits(kBob, a, R_OK | W_OK));
}

class CredsTest : public MetaTest {
 protected:
  void SetUp() override {
    MetaTest::SetUp();
    creds_ = std::make_unique<Creds>(ns_.get());
  }
  std::unique_ptr<Creds> creds_;
};

TEST_F(CredsTest, SetattrOwnerRules) {
  proto::Attr f = Mknod(kRootIno, "f", 0100644, 1000, 1000);
  proto::SetattrReq chmod{f.ino, proto::kSetMode, 0600};
  EXPECT_TRUE(creds_->Setattr(kAlice, &chmod).ok());
  EXPECT_EQ(creds_->Setattr(kBob, &chmod).err(), EPERM);
  EXPECT_TRUE(creds_->Setattr(kRoot, &chmod).ok());
  proto::SetattrReq chown{f.ino, proto::kSetUid, 0, 2000};
  EXPECT_EQ(creds_->Setattr(kAlice, &chown).err(), EPERM);  // giving away: uid 0 only
  EXPECT_TRUE(creds_->Setattr(kRoot, &chown).ok());
  chown.uid = 1000;  // unchanged: fine
  EXPECT_TRUE(creds_->Setattr(kAlice, &chown).ok());
  proto::SetattrReq chgrp{f.ino, proto::kSetGid, 0, 0, 1000};
  EXPECT_TRUE(creds_->Setattr(kAlice, &chgrp).ok());
  chgrp.gid = 7;  // not alice's group
  EXPECT_EQ(creds_->Setattr(kAlice, &chgrp).err(), EPERM);
  proto::SetattrReq setgid{f.ino, proto::kSetMode, 02755};
  ASSERT_TRUE(ns_->Setattr({f.ino, proto::kSetGid, 0, 0, 7}, &f).ok());
  EXPECT_TRUE(creds_->Setattr(kAlice, &setgid).ok());
  EXPECT_EQ(setgid.mode, 0755u);  // not in group 7: the setgid bit goes, as in Linux
  proto::SetattrReq times{f.ino, proto::kSetAtime | proto::kSetMtime};
  EXPECT_EQ(creds_->Setattr(kBob, &times).err(), EPERM);
  proto::SetattrReq touch{f.ino, proto::kSetAtime | proto::kSetMtime | proto::kSetAtimeNow |
                                     proto::kSetMtimeNow};
  EXPECT_EQ(creds_->Setattr(kBob, &touch).err(), EACCES);  // 0644: bob may not write
  ASSERT_TRUE(ns_->Setattr({f.ino, proto::kSetMode, 0666}, &f).ok());
  EXPECT_TRUE(creds_->Setattr(kBob, &touch).ok());
  proto::SetattrReq trunc{f.ino, proto::kSetSize};
  EXPECT_TRUE(creds_->Setattr(kBob, &trunc).ok());
  ASSERT_TRUE(ns_->Setattr({f.ino, proto::kSetMode, 0644}, &f).ok());
  EXPECT_EQ(creds_->Setattr(kBob, &trunc).err(), EACCES);
}

TEST_F(CredsTest, OpenAndDirectories) {
  proto::Attr d = Mkdir(kRootIno, "d", 01777, 0, 0);  // like /tmp
  proto::Attr f = Mknod(d.ino, "f", 0100640, 1000, 1000);
  EXPECT_TRUE(creds_->Open(kAlice, f.ino, O_RDWR).ok());
  EXPECT_EQ(creds_->Open(kBob, f.ino, O_RDONLY).err(), EACCES);
  EXPECT_EQ(creds_->Open({2000, 1000}, f.ino, O_RDONLY).err(), 0);  // group may read
  EXPECT_EQ(creds_->Open({2000, 1000}, f.ino, O_RDONLY | O_TRUNC).err(), EACCES);
  EXPECT_TRUE(creds_->Access(kBob, d.ino, W_OK | X_OK).ok());
  EXPECT_EQ(creds_->Remove(kBob, d.ino, "f").err(), EPERM);  // sticky, not bob's
  EXPECT_TRUE(creds_->Remove(kAlice, d.ino, "f").ok());
  EXPECT_TRUE(creds_->Remove(kRoot, d.ino, "f").ok());
  EXPECT_TRUE(creds_->Remove(kBob, d.ino, "missing").ok());  // the op says ENOENT
  EXPECT_EQ(creds_->Rename(kBob, {d.ino, "f", d.ino, "g"}).err(), EPERM);
  proto::Attr closed = Mkdir(kRootIno, "closed", 0755, 0, 0);
  EXPECT_EQ(creds_->Access(kAlice, closed.ino, W_OK | X_OK).err(), EACCES);
  EXPECT_EQ(creds_->Remove(kAlice, closed.ino, "x").err(), EACCES);
  EXPECT_EQ(creds_->Xattr(kBob, f.ino, "user.x", false).err(), EACCES);
  EXPECT_TRUE(creds_->Xattr(kAlice, f.ino, "user.x", true).ok());
  EXPECT_EQ(creds_->Xattr(kAlice, f.ino, "trusted.x", false).err(), EPERM);
  EXPECT_TRUE(creds_->Xattr(kRoot, f.ino, "trusted.x", true).ok());
}

TEST_F(MetaTest, KeysKeepTheirBinding) {
  Keys keys(db_.get(), nullptr);
  ASSERT_TRUE(keys.Load().ok());
  const std::string k1(40, 'a'), k2(40, 'b'), k3(40, 'c');
  ASSERT_TRUE(keys.Add({"alice", k1, "user", 1000, proto::kNoId}).ok());
  ASSERT_TRUE(keys.Add({"bob", k2, "user", 2000, 20}).ok());
  ASSERT_TRUE(keys.Add({"free", k3, "user"}).ok());
  EXPECT_EQ(keys.Add({"adm", std::string(40, 'd'), "admin", 5}).err(), EINVAL);
  ASSERT_NE(keys.BindingOf(k1), nullptr);
  EXPECT_EQ(keys.BindingOf(k1)->gid, 1000u);  // gid defaults to the uid
  EXPECT_EQ(keys.BindingOf(k2)->gid, 20u);
  EXPECT_EQ(keys.BindingOf(k3), nullptr);
  proto::KeyListRep list;
  ASSERT_TRUE(keys.List(&list).ok());
  ASSERT_EQ(list.keys.size(), 3u);
  EXPECT_EQ(list.keys[0].uid, 1000);
  EXPECT_EQ(list.keys[2].uid, proto::kNoId);
  ASSERT_TRUE(keys.Revoke("bob").ok());
  EXPECT_EQ(keys.BindingOf(k2), nullptr);
  Reopen();  // the binding is in the database
  Keys again(db_.get(), nullptr);
  ASSERT_TRUE(again.Load().ok());
  ASSERT_NE(again.BindingOf(k1), nullptr);
  EXPECT_EQ(again.BindingOf(k1)->uid, 1000u);
}

TEST(Schema, Version3MigratesToVersion4) {
  char tmpl[] = "/tmp/dos-schema-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  {
    auto db = store::Db::Open(dir + "/meta.db");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(db->get(), 1 << 20).ok());
    // Back to what a version 3 database held: no uid/gid in keys.
    ASSERT_TRUE((*db)->Exec("ALTER TABLE keys DROP COLUMN uid; ALTER TABLE keys DROP COLUMN gid;"
                            "INSERT INTO keys(name, public_key, role) VALUES ('old', '" +
                            std::string(40, 'o') + "', 'user'); PRAGMA user_version = 3;")
                    .ok());
  }
  auto db = store::Db::Open(dir + "/meta.db");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Migrate(db->get(), 1 << 20).ok());
  Keys keys(db->get(), nullptr);
  ASSERT_TRUE(keys.Load().ok());
  proto::KeyListRep list;
  ASSERT_TRUE(keys.List(&list).ok());
  ASSERT_EQ(list.keys.size(), 1u);
  EXPECT_EQ(list.keys[0].name, "old");
  EXPECT_EQ(list.keys[0].uid, proto::kNoId);
  db->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dos::meta
