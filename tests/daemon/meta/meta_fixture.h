// A Namespace on a real SQLite file in a fresh temporary folder, with a
// NodeOps that records what would have been sent to chunk nodes.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/store/db.h"
#include "daemon/meta/namespace.h"
#include "daemon/meta/schema.h"

namespace dos::meta {

struct FakeNodeOps : NodeOps {
  struct Cut {
    uint64_t id, length;
    std::vector<std::string> nodes;
  };
  void Truncate(uint64_t id, uint64_t, uint64_t length,
                const std::vector<std::string>& nodes) override {
    cuts.push_back({id, length, nodes});
  }
  void Delete(uint64_t id, const std::vector<std::string>&) override { deleted.push_back(id); }
  std::vector<Cut> cuts;
  std::vector<uint64_t> deleted;
};

class MetaTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kChunk = 1 << 20;

  void SetUp() override {
    char tmpl[] = "/tmp/dos-meta-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Reopen();
  }
  void TearDown() override {
    ns_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    ns_.reset();
    db_.reset();
    auto db = store::Db::Open(dir_ + "/meta.db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(Migrate(db_.get(), kChunk).ok());
    ns_ = std::make_unique<Namespace>(db_.get(), &nodes_, kChunk);
  }

  proto::Attr Mknod(uint64_t parent, const std::string& name, uint32_t mode = 0100644,
                    uint32_t uid = 1000, uint32_t gid = 1000) {
    proto::Attr a;
    Status s = ns_->Mknod({parent, name, mode, 0, uid, gid}, &a);
    EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
    return a;
  }
  proto::Attr Mkdir(uint64_t parent, const std::string& name, uint32_t mode = 0755,
                    uint32_t uid = 1000, uint32_t gid = 1000) {
    proto::Attr a;
    Status s = ns_->Mkdir({parent, name, mode, uid, gid}, &a);
    EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
    return a;
  }
  proto::Attr Get(uint64_t ino) {
    proto::Attr a;
    EXPECT_TRUE(ns_->Getattr(ino, &a).ok());
    return a;
  }
  int LookupErr(uint64_t parent, const std::string& name) {
    proto::Attr a;
    return ns_->Lookup(parent, name, &a).err();
  }
  uint64_t Ino(uint64_t parent, const std::string& name) {
    proto::Attr a;
    Status s = ns_->Lookup(parent, name, &a);
    EXPECT_TRUE(s.ok()) << name << ": " << s.ToString();
    return a.ino;
  }
  int Rename(uint64_t p, const std::string& n, uint64_t np, const std::string& nn,
             uint32_t flags = 0) {
    return ns_->Rename({p, n, np, nn, flags}).err();
  }

  std::string dir_;
  FakeNodeOps nodes_;
  std::unique_ptr<store::Db> db_;
  std::unique_ptr<Namespace> ns_;
};

}  // namespace dos::meta
