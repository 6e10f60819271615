// Two ChunkService instances on real tcp servers: the replica chain.
#include "daemon/chunk/chunk_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/net/client.h"

namespace dos::chunk {
namespace {

using proto::Op;

struct Node {
  std::string dir;
  std::unique_ptr<ChunkService> service;
  std::unique_ptr<net::Server> server;
  std::unique_ptr<net::Client> client;
};

class ChunkServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto& n : nodes_) {
      char tmpl[] = "/tmp/dos-chunksvc-test-XXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      n.dir = tmpl;
      auto r = ChunkService::Open(&ctx_, n.dir);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      n.service = std::move(r.value());
      n.server = std::make_unique<net::Server>(&ctx_);
      n.server->AddLane(1, 8);
      n.server->AddLane(2, 8);
      n.server->AddLane(3, 8);
      n.service->Register(n.server.get(), chunk::ChunkLanes{1, 2, 3});
      ASSERT_TRUE(n.server->Bind("tcp://127.0.0.1:*").ok());
      n.server->Start();
      n.client = std::make_unique<net::Client>(&ctx_, n.server->endpoint());
    }
  }
  void TearDown() override {
    for (auto& n : nodes_) {
      n.client.reset();
      n.server.reset();
      n.service.reset();
      std::filesystem::remove_all(n.dir);
    }
  }
  Status Write(Node& n, uint64_t id, uint64_t off, const std::string& data,
               std::vector<std::string> chain, int timeout_ms = 5000,
               proto::ChunkWriteRep* out = nullptr, uint64_t version = 1) {
    proto::ChunkWriteReq req;
    req.id = id;
    req.version = version;
    req.offset = off;
    req.chain = std::move(chain);
    proto::ChunkWriteRep rep;
    Status s = n.client->Call(Op::kChunkWrite, req, &rep, timeout_ms, data, nullptr, true);
    if (out) *out = rep;
    return s;
  }
  Result<std::string> Read(Node& n, uint64_t id, uint64_t off, uint32_t len) {
    proto::ChunkReadReq req;
    req.id = id;
    req.offset = off;
    req.length = len;
    proto::Empty rep;
    std::string out;
    Status s = n.client->Call(Op::kChunkRead, req, &rep, 5000, {}, &out);
    if (!s.ok()) return s;
    return out;
  }
  zmq::context_t ctx_;
  Node nodes_[2];
};

TEST_F(ChunkServiceTest, ChainWriteReachesBothReplicas) {
  std::string data(300000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + 7);
  ASSERT_TRUE(Write(nodes_[0], 42, 1000, data, {nodes_[1].server->endpoint()}).ok());
  for (auto& n : nodes_) {
    auto r = Read(n, 42, 1000, 400000);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r.value(), data);
    auto head = Read(n, 42, 0, 1000);
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head.value(), std::string(1000, '\0'));
    EXPECT_EQ(n.service->Usage().chunks, 1u);
  }
}

TEST_F(ChunkServiceTest, StatTruncateSyncDelete) {
  ASSERT_TRUE(Write(nodes_[0], 7, 0, "hello world", {}).ok());
  proto::ChunkIdReq id{7};
  proto::ChunkStatRep st;
  ASSERT_TRUE(nodes_[0].client->Call(Op::kChunkStat, id, &st).ok());
  EXPECT_EQ(st.length, 11u);
  EXPECT_EQ(st.version, 1u);
  proto::ChunkTruncateReq tr;
  tr.id = 7;
  tr.length = 5;
  proto::Empty e;
  ASSERT_TRUE(nodes_[0].client->Call(Op::kChunkTruncate, tr, &e).ok());
  EXPECT_EQ(Read(nodes_[0], 7, 0, 100).value(), "hello");
  EXPECT_TRUE(nodes_[0].client->Call(Op::kChunkSync, id, &e).ok());
  EXPECT_TRUE(nodes_[0].client->Call(Op::kChunkDelete, id, &e).ok());
  EXPECT_EQ(nodes_[0].client->Call(Op::kChunkDelete, id, &e).err(), ENOENT);
  EXPECT_EQ(Read(nodes_[0], 7, 0, 100).err(), ENOENT);
  proto::ChunkIdReq zero{0};
  EXPECT_EQ(nodes_[0].client->Call(Op::kChunkStat, zero, &st).err(), EINVAL);
}

// One kChunkDeleteMany removes several chunks; an absent one counts as
// removed, one that cannot go (a directory where its file would be) is named
// with its errno, and the rest still go.
TEST_F(ChunkServiceTest, DeleteMany) {
  for (uint64_t id : {11, 12, 13}) ASSERT_TRUE(Write(nodes_[0], id, 0, "x", {}).ok());
  proto::ChunkDeleteManyRep rep;
  ASSERT_TRUE(nodes_[0].client->Call(Op::kChunkDeleteMany, proto::ChunkDeleteManyReq{{11, 99, 12}},
                                     &rep).ok());
  EXPECT_TRUE(rep.failed.empty());
  EXPECT_EQ(Read(nodes_[0], 11, 0, 1).err(), ENOENT);
  EXPECT_EQ(Read(nodes_[0], 12, 0, 1).err(), ENOENT);
  EXPECT_EQ(Read(nodes_[0], 13, 0, 1).value(), "x");
  EXPECT_EQ(nodes_[0].service->Usage().chunks, 1u);
  // Chunk 14's data file is a directory: unlink(2) gives EISDIR.
  ASSERT_TRUE(Write(nodes_[0], 14, 0, "y", {}).ok());
  const std::string path = nodes_[0].dir + "/chunks/0e/000000000000000e.chunk";
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  std::filesystem::remove(path);
  std::filesystem::create_directory(path);
  rep = {};
  ASSERT_TRUE(nodes_[0].client->Call(Op::kChunkDeleteMany, proto::ChunkDeleteManyReq{{14, 13}},
                                     &rep).ok());
  ASSERT_EQ(rep.failed.size(), 1u);
  EXPECT_EQ(rep.failed[0].id, 14u);
  EXPECT_EQ(rep.failed[0].err, EISDIR);
  EXPECT_EQ(Read(nodes_[0], 13, 0, 1).err(), ENOENT);
  // Past the cap: refused whole, nothing touched.
  proto::ChunkDeleteManyReq big;
  big.ids.assign(proto::kMaxDeleteBatch + 1, 14);
  EXPECT_EQ(nodes_[0].client->Call(Op::kChunkDeleteMany, big, &rep).err(), EINVAL);
}

// Issue 3: a forward that fails does not fail the write on the head; the
// reply names the replica that missed it (the client has meta drop it).
TEST_F(ChunkServiceTest, FailingForwardIsReported) {
  proto::ChunkWriteRep rep;
  Status s = Write(nodes_[0], 9, 0, "abc", {"tcp://127.0.0.1:1"}, 500, &rep);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(rep.failed.size(), 1u);
  EXPECT_EQ(rep.failed[0].addr, "tcp://127.0.0.1:1");
  EXPECT_EQ(rep.failed[0].err, ETIMEDOUT);
  EXPECT_EQ(Read(nodes_[0], 9, 0, 10).value(), "abc");
}

TEST_F(ChunkServiceTest, FailureOfTheLastReplicaTravelsBack) {
  // Chain head -> node 1 -> bad endpoint: node 1's report comes back.
  proto::ChunkWriteRep rep;
  Status s = Write(nodes_[0], 10, 0, "abc", {nodes_[1].server->endpoint(), "tcp://127.0.0.1:1"},
                   800, &rep);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(rep.failed.size(), 1u);
  EXPECT_EQ(rep.failed[0].addr, "tcp://127.0.0.1:1");
  EXPECT_EQ(Read(nodes_[1], 10, 0, 10).value(), "abc");
}

// Issue 3: a replica holding a newer version refuses an old write, and the
// chain answers ESTALE: the writer's layout is old.
TEST_F(ChunkServiceTest, OlderVersionIsRefusedAlongTheChain) {
  ASSERT_TRUE(Write(nodes_[1], 12, 0, "new", {}, 5000, nullptr, 3).ok());
  Status s = Write(nodes_[0], 12, 0, "old", {nodes_[1].server->endpoint()}, 5000, nullptr, 2);
  EXPECT_EQ(s.err(), ESTALE) << s.ToString();
  EXPECT_EQ(Read(nodes_[1], 12, 0, 10).value(), "new");
}

// Issue 3: node 1 pulls a whole chunk (bigger than one copy piece) from node
// 0, replacing a stale copy it had.
TEST_F(ChunkServiceTest, ReplicateCopiesTheWholeChunk) {
  std::string data(2500000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 13 + 5);
  ASSERT_TRUE(Write(nodes_[0], 11, 0, data, {}).ok());
  ASSERT_TRUE(Write(nodes_[1], 11, 0, "stale stale stale", {}).ok());
  proto::ChunkReplicateReq req{11, 1, nodes_[0].server->endpoint()};
  proto::Empty e;
  Status s = nodes_[1].client->Call(Op::kChunkReplicate, req, &e, 5000);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto r = Read(nodes_[1], 11, 0, 3000000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value(), data);
  // A source without the version asked for: ESTALE, no copy left behind.
  req.version = 5;
  EXPECT_EQ(nodes_[1].client->Call(Op::kChunkReplicate, req, &e, 5000).err(), ESTALE);
  EXPECT_EQ(Read(nodes_[1], 11, 0, 10).err(), ENOENT);
}

}  // namespace
}  // namespace dos::chunk
