// Fsck on a real SQLite file: each kind of inconsistency is found, --repair
// fixes it (and asks for the right file deletes), and a second run is clean.
#include "daemon/meta/fsck.h"

#include <algorithm>

#include "tests/daemon/meta/meta_fixture.h"

namespace dos::meta {
namespace {

class FsckTest : public MetaTest {
 protected:
  void Exec(const std::string& sql) { ASSERT_TRUE(db_->Exec(sql).ok()) << sql; }
  // A chunk (id) of ino at idx with replicas on nodes.
  void Chunk(uint64_t ino, uint64_t idx, uint64_t id, const std::vector<std::string>& nodes) {
    Exec("INSERT INTO chunks(ino, idx, id) VALUES (" + std::to_string(ino) + ", " +
         std::to_string(idx) + ", " + std::to_string(id) + ")");
    for (size_t i = 0; i < nodes.size(); ++i)
      Exec("INSERT INTO replicas(chunk_id, node, pos) VALUES (" + std::to_string(id) + ", '" +
           nodes[i] + "', " + std::to_string(i) + ")");
  }
  proto::FsckRep Run(const FsckInput& in, std::vector<std::pair<uint64_t, std::string>>* del) {
    proto::FsckRep rep;
    Status s = Fsck(db_.get(), in, &rep, del);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return rep;
  }
  void SetUp() override {
    MetaTest::SetUp();
    for (const char* n : {"a", "b", "c"})
      Exec(std::string("INSERT INTO nodes(name, addr) VALUES ('") + n + "', 'tcp://x')");
  }
};

TEST_F(FsckTest, CleanNamespaceIsClean) {
  uint64_t f = Mknod(proto::kRootIno, "f").ino;
  Chunk(f, 0, 10, {"a", "b"});
  FsckInput in;
  in.held["a"] = {{10, 1}};
  in.held["b"] = {{10, 1}};
  std::vector<std::pair<uint64_t, std::string>> del;
  proto::FsckRep rep = Run(in, &del);
  EXPECT_FALSE(FsckFound(rep));
  EXPECT_TRUE(rep.items.empty());
}

TEST_F(FsckTest, FindsEveryKindAndRepairs) {
  uint64_t f = Mknod(proto::kRootIno, "f").ino;
  Chunk(f, 0, 10, {"a", "b"});      // good
  Chunk(f, 1, 11, {});              // dangling: no replica
  Chunk(f, 2, 12, {"a", "zz"});     // replica on an unknown node
  Chunk(9999, 0, 13, {"b", "c"});   // orphan: inode 9999 does not exist
  Exec("INSERT INTO replicas(chunk_id, node, pos) VALUES (14, 'c', 0)");  // orphan replica
  FsckInput in;
  in.held["a"] = {{10, 1}, {12, 1}, {77, 1}};  // 77: a stray file
  in.held["b"] = {{10, 1}, {13, 1}};
  in.unreachable = {};
  in.repair = false;
  std::vector<std::pair<uint64_t, std::string>> del;
  proto::FsckRep rep = Run(in, &del);
  EXPECT_TRUE(FsckFound(rep));
  EXPECT_EQ(rep.orphan_chunks, 1u);
  EXPECT_EQ(rep.dangling_chunks, 1u);
  EXPECT_EQ(rep.orphan_replicas, 1u);
  EXPECT_EQ(rep.unknown_nodes, 1u);
  EXPECT_EQ(rep.stray_files, 1u);
  EXPECT_FALSE(rep.repaired);
  EXPECT_TRUE(del.empty());

  // Without repair nothing changed.
  EXPECT_TRUE(FsckFound(Run(in, &del)));

  in.repair = true;
  rep = Run(in, &del);
  EXPECT_TRUE(rep.repaired);
  auto has = [&](uint64_t id, const std::string& n) {
    return std::find(del.begin(), del.end(), std::make_pair(id, n)) != del.end();
  };
  EXPECT_TRUE(has(77, "a"));   // the stray file
  EXPECT_TRUE(has(13, "b"));   // the orphan chunk's copies
  EXPECT_TRUE(has(13, "c"));
  EXPECT_TRUE(has(14, "c"));   // the orphan replica
  EXPECT_FALSE(has(10, "a"));  // never a good copy
  EXPECT_FALSE(has(10, "b"));

  // What the disks hold after the deletes: clean.
  in.repair = false;
  in.held["a"] = {{10, 1}, {12, 1}};
  in.held["b"] = {{10, 1}};
  del.clear();
  rep = Run(in, &del);
  EXPECT_FALSE(FsckFound(rep)) << rep.items.size() << " items, first "
                               << (rep.items.empty() ? "" : rep.items[0].kind);
}

TEST_F(FsckTest, BusyChunksAndUnreachableNodes) {
  uint64_t f = Mknod(proto::kRootIno, "f").ino;
  Chunk(f, 0, 10, {"a"});
  FsckInput in;
  in.held["a"] = {{10, 1}};
  in.held["b"] = {{10, 1}};  // a copy being made right now
  in.busy = {10};
  in.unreachable = {"c"};
  std::vector<std::pair<uint64_t, std::string>> del;
  proto::FsckRep rep = Run(in, &del);
  EXPECT_EQ(rep.stray_files, 0u);
  EXPECT_EQ(rep.unreachable_nodes, 1u);
  EXPECT_TRUE(FsckFound(rep));
}

}  // namespace
}  // namespace dos::meta
