// Layout and membership: chunk allocation over UP nodes, chunk lists, and the
// chunk work a shrink or a removal hands to the nodes.
#include "daemon/meta/layout.h"

#include <map>
#include <set>

#include "daemon/meta/membership.h"
#include "tests/daemon/meta/meta_fixture.h"

namespace dos::meta {
namespace {

using proto::kRootIno;
constexpr uint64_t kGiB = 1ull << 30;

class LayoutTest : public MetaTest {
 protected:
  void SetUp() override {
    MetaTest::SetUp();
    members_ = std::make_unique<Membership>(db_.get(), 1000, [this] { return now_ms_; });
    layout_ = std::make_unique<Layout>(db_.get(), members_.get(), 3);
  }
  void TearDown() override {
    layout_.reset();
    members_.reset();
    MetaTest::TearDown();
  }
  void Beat(const std::string& name, uint64_t capacity = kGiB, uint64_t used = 0) {
    proto::HeartbeatReq hb;
    hb.name = name;
    hb.addr = "tcp://127.0.0.1:1/" + name;
    hb.capacity = capacity;
    hb.used = used;
    ASSERT_TRUE(members_->Heartbeat(hb).ok());
  }
  proto::ChunkInfo Alloc(uint64_t ino, uint64_t index) {
    proto::ChunkAllocRep rep;
    Status s = layout_->ChunkAlloc({ino, index}, &rep);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return rep.chunk;
  }

  int64_t now_ms_ = 1000000;
  std::unique_ptr<Membership> members_;
  std::unique_ptr<Layout> layout_;
};

TEST_F(LayoutTest, NoNodesIsEnospc) {
  proto::Attr f = Mknod(kRootIno, "f");
  proto::ChunkAllocRep rep;
  EXPECT_EQ(layout_->ChunkAlloc({f.ino, 0}, &rep).err(), ENOSPC);
  Beat("full", kGiB, kGiB);
  EXPECT_EQ(layout_->ChunkAlloc({f.ino, 0}, &rep).err(), ENOSPC);
  EXPECT_EQ(layout_->ChunkAlloc({kRootIno, 0}, &rep).err(), EISDIR);
}

TEST_F(LayoutTest, AllocPlacesOnDistinctUpNodes) {
  for (auto n : {"a", "b", "c", "d"}) Beat(n);
  proto::Attr f = Mknod(kRootIno, "f");
  proto::ChunkInfo c = Alloc(f.ino, 0);
  EXPECT_GT(c.id, 0u);
  EXPECT_EQ(c.version, 1u);
  ASSERT_EQ(c.replicas.size(), 3u);
  std::set<std::string> names;
  for (auto& r : c.replicas) {
    names.insert(r.node);
    EXPECT_EQ(r.addr, "tcp://127.0.0.1:1/" + r.node);
  }
  EXPECT_EQ(names.size(), 3u);
  // The same index again: the same chunk.
  proto::ChunkInfo again = Alloc(f.ino, 0);
  EXPECT_EQ(again.id, c.id);
  EXPECT_EQ(again.replicas.size(), 3u);
  // Ids are new for every chunk.
  EXPECT_NE(Alloc(f.ino, 1).id, c.id);
}

// Issue 3: a replica that missed a chain write is dropped even on an UP
// node, the version goes up; never the last replica; unknown chunk ENOENT.
TEST_F(LayoutTest, ChunkFailedDropsReplicaAndBumpsVersion) {
  for (auto n : {"a", "b", "c"}) Beat(n);
  proto::Attr f = Mknod(kRootIno, "f");
  proto::ChunkInfo c = Alloc(f.ino, 3);
  ASSERT_EQ(c.replicas.size(), 3u);
  const std::string lost = c.replicas[1].node;
  proto::ChunkAllocRep rep;
  ASSERT_TRUE(layout_->ChunkFailed({c.id, c.version, {lost, "nosuchnode"}}, &rep).ok());
  EXPECT_EQ(rep.chunk.id, c.id);
  EXPECT_EQ(rep.chunk.index, 3u);
  EXPECT_EQ(rep.chunk.version, 2u);
  ASSERT_EQ(rep.chunk.replicas.size(), 2u);
  for (auto& r : rep.chunk.replicas) EXPECT_NE(r.node, lost);
  // What a writer or reader asks next says the same.
  proto::ChunkInfo now = Alloc(f.ino, 3);
  EXPECT_EQ(now.version, 2u);
  EXPECT_EQ(now.replicas.size(), 2u);
  // Reported again (a second writer): nothing changes.
  ASSERT_TRUE(layout_->ChunkFailed({c.id, c.version, {lost}}, &rep).ok());
  EXPECT_EQ(rep.chunk.version, 2u);
  // Both that are left: the last one is kept, nothing changes.
  std::vector<std::string> rest{now.replicas[0].node, now.replicas[1].node};
  ASSERT_TRUE(layout_->ChunkFailed({c.id, 2, rest}, &rep).ok());
  EXPECT_EQ(rep.chunk.version, 2u);
  EXPECT_EQ(rep.chunk.replicas.size(), 2u);
  ASSERT_TRUE(layout_->ChunkFailed({c.id, 2, {rest[0]}}, &rep).ok());
  EXPECT_EQ(rep.chunk.version, 3u);
  ASSERT_EQ(rep.chunk.replicas.size(), 1u);
  EXPECT_EQ(rep.chunk.replicas[0].node, rest[1]);
  ASSERT_TRUE(layout_->ChunkFailed({c.id, 3, {rest[1]}}, &rep).ok());
  EXPECT_EQ(rep.chunk.replicas.size(), 1u);
  EXPECT_EQ(layout_->ChunkFailed({c.id + 1000, 1, {"a"}}, &rep).err(), ENOENT);
}

TEST_F(LayoutTest, ReplicationFollowsInodeAndUpNodes) {
  Beat("a");
  Beat("b");
  proto::Attr f = Mknod(kRootIno, "f");
  EXPECT_EQ(Alloc(f.ino, 0).replicas.size(), 2u);  // min(3, 2 UP)
  ASSERT_TRUE(ns_->SetRepl(f.ino, 1).ok());
  EXPECT_EQ(Alloc(f.ino, 1).replicas.size(), 1u);
  now_ms_ += 5000;  // both DOWN now
  proto::ChunkAllocRep rep;
  EXPECT_EQ(layout_->ChunkAlloc({f.ino, 2}, &rep).err(), ENOSPC);
  Beat("b");
  proto::ChunkInfo c = Alloc(f.ino, 2);
  ASSERT_EQ(c.replicas.size(), 1u);
  EXPECT_EQ(c.replicas[0].node, "b");
}

TEST_F(LayoutTest, SpreadsOverFiveNodes) {
  for (auto n : {"n1", "n2", "n3", "n4", "n5"}) Beat(n);
  proto::Attr f = Mknod(kRootIno, "f");
  ASSERT_TRUE(ns_->SetRepl(f.ino, 1).ok());
  std::map<std::string, int> per_node;
  for (uint64_t i = 0; i < 25; ++i) per_node[Alloc(f.ino, i).replicas.at(0).node]++;
  ASSERT_EQ(per_node.size(), 5u);
  for (auto& [n, count] : per_node) EXPECT_EQ(count, 5) << n;
}

TEST_F(LayoutTest, ChunkListShowsHolesAndDownNodesLast) {
  Beat("a");
  Beat("b");
  proto::Attr f = Mknod(kRootIno, "f");
  Alloc(f.ino, 0);
  Alloc(f.ino, 3);
  proto::ChunkListRep rep;
  ASSERT_TRUE(layout_->ChunkList({f.ino, 0, 10}, &rep).ok());
  EXPECT_EQ(rep.chunk_size, kChunk);
  ASSERT_EQ(rep.chunks.size(), 2u);
  EXPECT_EQ(rep.chunks[0].index, 0u);
  EXPECT_EQ(rep.chunks[1].index, 3u);
  now_ms_ += 900;
  Beat("b");
  now_ms_ += 900;  // a DOWN, b UP
  ASSERT_TRUE(layout_->ChunkList({f.ino, 3, 1}, &rep).ok());
  ASSERT_EQ(rep.chunks.size(), 1u);
  ASSERT_EQ(rep.chunks[0].replicas.size(), 2u);
  EXPECT_EQ(rep.chunks[0].replicas[0].node, "b");
  EXPECT_EQ(layout_->ChunkList({999, 0, 1}, &rep).err(), ENOENT);
}

TEST_F(LayoutTest, ShrinkDropsAndCutsChunks) {
  Beat("a");
  proto::Attr f = Mknod(kRootIno, "f");
  uint64_t ids[4];
  for (uint64_t i = 0; i < 4; ++i) ids[i] = Alloc(f.ino, i).id;
  proto::Attr a;
  ASSERT_TRUE(ns_->CommitWrite({f.ino, 4 * kChunk, 0, {}}, &a).ok());
  proto::SetattrReq r;
  r.ino = f.ino;
  r.valid = proto::kSetSize;
  r.size = kChunk + 10;  // keeps chunks 0 and 1, cuts 1 to 10 bytes
  ASSERT_TRUE(ns_->Setattr(r, &a).ok());
  EXPECT_EQ(a.size, kChunk + 10);
  EXPECT_EQ(nodes_.deleted, (std::vector<uint64_t>{ids[2], ids[3]}));
  ASSERT_EQ(nodes_.cuts.size(), 1u);
  EXPECT_EQ(nodes_.cuts[0].id, ids[1]);
  EXPECT_EQ(nodes_.cuts[0].length, 10u);
  EXPECT_EQ(nodes_.cuts[0].nodes, (std::vector<std::string>{"a"}));
  proto::ChunkListRep list;
  ASSERT_TRUE(layout_->ChunkList({f.ino, 0, 10}, &list).ok());
  EXPECT_EQ(list.chunks.size(), 2u);
  r.size = kChunk;  // on a boundary: nothing to cut
  ASSERT_TRUE(ns_->Setattr(r, &a).ok());
  EXPECT_EQ(nodes_.cuts.size(), 1u);
  EXPECT_EQ(nodes_.deleted.size(), 3u);
  r.size = 10 * kChunk;  // grow: only the size
  ASSERT_TRUE(ns_->Setattr(r, &a).ok());
  EXPECT_EQ(a.size, 10 * kChunk);
  EXPECT_EQ(nodes_.deleted.size(), 3u);
}

TEST_F(LayoutTest, UnlinkDeletesChunks) {
  Beat("a");
  Beat("b");
  proto::Attr f = Mknod(kRootIno, "f");
  uint64_t id = Alloc(f.ino, 0).id;
  ASSERT_TRUE(ns_->Setxattr({f.ino, "user.x", {'1'}, 0}).ok());
  proto::OpenRep o;
  ASSERT_TRUE(ns_->Open({f.ino, 3, 0}, &o).ok());
  ASSERT_TRUE(ns_->Unlink(kRootIno, "f").ok());
  EXPECT_TRUE(nodes_.deleted.empty());  // still open
  ASSERT_TRUE(ns_->Release(f.ino, 3).ok());
  EXPECT_EQ(nodes_.deleted, (std::vector<uint64_t>{id}));
  auto count = [&](const char* sql) {
    store::Stmt st(db_.get(), sql);
    EXPECT_TRUE(st.Step().ok());
    return st.Int(0);
  };
  EXPECT_EQ(count("SELECT COUNT(*) FROM chunks"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM replicas"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM xattrs"), 0);
  // A closed file: its chunks go at the reap, with their replica counts.
  proto::Attr g = Mknod(kRootIno, "g");
  uint64_t gid = Alloc(g.ino, 0).id;
  ASSERT_TRUE(ns_->Unlink(kRootIno, "g").ok());
  EXPECT_EQ(nodes_.deleted.size(), 1u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM replicas"), 2);
  ASSERT_TRUE(ns_->ReapOrphans().ok());
  EXPECT_EQ(nodes_.deleted, (std::vector<uint64_t>{id, gid}));
  EXPECT_EQ(count("SELECT COUNT(*) FROM chunks"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM replicas"), 0);
  EXPECT_EQ(count("SELECT COALESCE(SUM(count), 0) FROM node_replicas"), 0);
}

// node_replicas (kept by triggers) must say what counting replicas says,
// after every kind of change, and after a migration from version 4.
TEST_F(LayoutTest, ReplicaCountsFollowTheReplicasTable) {
  for (auto n : {"a", "b", "c"}) Beat(n);
  auto counted = [&](const char* sql) {
    std::map<std::string, int64_t> out;
    store::Stmt st(db_.get(), sql);
    for (;;) {
      Result<bool> row = st.Step();
      EXPECT_TRUE(row.ok());
      if (!row.ok() || !*row) return out;
      if (st.Int(1) != 0) out[st.Text(0)] = st.Int(1);
    }
  };
  auto expect_same = [&] {
    auto truth = counted("SELECT node, COUNT(*) FROM replicas GROUP BY node");
    EXPECT_EQ(counted("SELECT node, count FROM node_replicas"), truth);
    return truth;
  };
  proto::Attr f = Mknod(kRootIno, "f");
  proto::Attr g = Mknod(kRootIno, "g");
  for (uint64_t i = 0; i < 4; ++i) Alloc(f.ino, i);
  proto::ChunkInfo c = Alloc(g.ino, 0);
  EXPECT_EQ(expect_same().size(), 3u);
  auto total = [&] {
    int64_t n = 0;
    for (auto& [node, k] : expect_same()) n += k;
    return n;
  };
  EXPECT_EQ(total(), 15);
  proto::ChunkAllocRep rep;  // a dropped replica
  ASSERT_TRUE(layout_->ChunkFailed({c.id, c.version, {c.replicas[0].node}}, &rep).ok());
  EXPECT_EQ(total(), 14);
  ASSERT_TRUE(db_->Exec("UPDATE replicas SET node = 'd' WHERE chunk_id = " +
                        std::to_string(c.id) + " AND node = '" + rep.chunk.replicas[0].node + "'")
                  .ok());  // a repair's move
  EXPECT_EQ(expect_same().count("d"), 1u);
  ASSERT_TRUE(ns_->Unlink(kRootIno, "g").ok());
  ASSERT_TRUE(ns_->ReapOrphans().ok());
  EXPECT_EQ(total(), 12);
  EXPECT_EQ(expect_same().count("d"), 0u);
  // A version 4 database gets its counts at migration.
  ASSERT_TRUE(db_->Exec("DROP TRIGGER replicas_insert; DROP TRIGGER replicas_delete;"
                        " DROP TRIGGER replicas_move; DROP TABLE node_replicas;"
                        " PRAGMA user_version = 4;")
                  .ok());
  ASSERT_TRUE(Migrate(db_.get(), kChunk).ok());
  EXPECT_EQ(total(), 12);
  Alloc(f.ino, 9);
  EXPECT_EQ(total(), 15);
}

TEST_F(LayoutTest, MembershipPersistsAndTimesOut) {
  Beat("a", 100 * kGiB, 40 * kGiB);
  Beat("b", 100 * kGiB, 10 * kGiB);
  auto nodes = members_->Nodes();
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].state, "UP");
  uint64_t total, free;
  members_->Capacity(&total, &free);
  EXPECT_EQ(total, 200 * kGiB);
  EXPECT_EQ(free, 150 * kGiB);
  now_ms_ += 1001;
  EXPECT_EQ(members_->Nodes()[1].state, "DOWN");
  members_->Capacity(&total, &free);
  EXPECT_EQ(total, 0u);
  Membership reloaded(db_.get(), 1000, [this] { return now_ms_; });
  ASSERT_TRUE(reloaded.Load().ok());
  nodes = reloaded.Nodes();
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].name, "a");
  EXPECT_EQ(nodes[0].state, "DOWN");
  EXPECT_EQ(reloaded.AddrOf("b"), "tcp://127.0.0.1:1/b");
}

}  // namespace
}  // namespace dos::meta
