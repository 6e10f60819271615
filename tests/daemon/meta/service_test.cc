// MetaService over the wire: a real Server and Client on 127.0.0.1.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/net/client.h"
#include "daemon/meta/meta_service.h"

namespace dos::meta {
namespace {

using proto::Op;

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dos-meta-svc-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Start();
  }
  void Start() {
    MetaOptions opts;
    opts.db_path = dir_ + "/meta.db";
    auto svc = MetaService::Open(&ctx_, opts);
    ASSERT_TRUE(svc.ok()) << svc.status().ToString();
    svc_ = std::move(*svc);
    server_ = std::make_unique<net::Server>(&ctx_);
    server_->AddLane(0, 1);
    svc_->Register(server_.get(), 0);
    ASSERT_TRUE(server_->Bind("tcp://127.0.0.1:*").ok());
    server_->Start();
    client_ = std::make_unique<net::Client>(&ctx_, server_->endpoint());
  }
  void Stop() {
    client_.reset();
    server_.reset();
    svc_.reset();
  }
  void TearDown() override {
    Stop();
    std::filesystem::remove_all(dir_);
  }
  template <typename Req, typename Rep>
  Status Call(Op op, const Req& req, Rep* rep) {
    return client_->Call(op, req, rep, 5000);
  }

  std::string dir_;
  zmq::context_t ctx_;
  std::unique_ptr<MetaService> svc_;
  std::unique_ptr<net::Server> server_;
  std::unique_ptr<net::Client> client_;
};

TEST_F(ServiceTest, NamespaceOverTheWire) {
  proto::EntryRep e;
  proto::AttrRep root;
  ASSERT_TRUE(Call(Op::kGetattr, proto::InoReq{1}, &root).ok());
  ASSERT_TRUE(Call(Op::kMkdir, proto::MkdirReq{1, "d", 0755, 1, 2}, &e).ok());
  // The reply carries the parent as it is after the change.
  EXPECT_EQ(e.parent.ino, 1u);
  EXPECT_EQ(e.parent.nlink, root.attr.nlink + 1);
  EXPECT_GE(e.parent.mtime_ns, root.attr.mtime_ns);
  proto::EntryRep l;
  ASSERT_TRUE(Call(Op::kLookup, proto::LookupReq{1, "d"}, &l).ok());
  EXPECT_EQ(l.attr.ino, e.attr.ino);
  EXPECT_EQ(Call(Op::kLookup, proto::LookupReq{1, "nope"}, &l).err(), ENOENT);
  EXPECT_EQ(l.parent.ino, 0u);  // lookup changes nothing
  EXPECT_EQ(Call(Op::kMkdir, proto::MkdirReq{1, "a/b", 0755, 0, 0}, &e).err(), EINVAL);
  proto::RemoveRep removed;
  EXPECT_EQ(Call(Op::kRmdir, proto::RemoveReq{1, "d"}, &removed).err(), 0);
  EXPECT_EQ(removed.parent.ino, 1u);
  EXPECT_EQ(removed.parent.nlink, root.attr.nlink);
  proto::Empty empty;
  proto::StatfsRep st;
  ASSERT_TRUE(Call(Op::kStatfs, proto::Empty{}, &st).ok());
  EXPECT_EQ(st.files, 1u);
  EXPECT_TRUE(Call(Op::kPing, proto::Empty{}, &empty).ok());
}

// An unlinked closed file's inode goes once meta's lane is quiet (no
// heartbeat here, far fewer than a batch): statfs stops counting it.
TEST_F(ServiceTest, UnlinkedInodeGoesWhenMetaIsQuiet) {
  proto::StatfsRep st;
  ASSERT_TRUE(Call(Op::kStatfs, proto::Empty{}, &st).ok());
  const uint64_t before = st.files;
  proto::EntryRep e;
  ASSERT_TRUE(Call(Op::kMknod, proto::MknodReq{1, "f", S_IFREG | 0644, 0, 0, 0}, &e).ok());
  proto::RemoveRep removed;
  ASSERT_TRUE(Call(Op::kUnlink, proto::RemoveReq{1, "f"}, &removed).ok());
  EXPECT_EQ(removed.ino, e.attr.ino);
  proto::AttrRep a;
  EXPECT_EQ(Call(Op::kGetattr, proto::InoReq{e.attr.ino}, &a).err(), ENOENT);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(Call(Op::kStatfs, proto::Empty{}, &st).ok());
    if (st.files == before) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(st.files, before);
}

TEST_F(ServiceTest, RenameRepliesWithBothParents) {
  proto::EntryRep a, b, f;
  ASSERT_TRUE(Call(Op::kMkdir, proto::MkdirReq{1, "a", 0755, 0, 0}, &a).ok());
  ASSERT_TRUE(Call(Op::kMkdir, proto::MkdirReq{1, "b", 0755, 0, 0}, &b).ok());
  ASSERT_TRUE(Call(Op::kMkdir, proto::MkdirReq{a.attr.ino, "sub", 0755, 0, 0}, &f).ok());
  proto::RenameReq req;
  req.parent = a.attr.ino;
  req.name = "sub";
  req.newparent = b.attr.ino;
  req.newname = "moved";
  proto::RenameRep rep;
  ASSERT_TRUE(Call(Op::kRename, req, &rep).ok());
  EXPECT_EQ(rep.moved, f.attr.ino);
  EXPECT_EQ(rep.replaced, 0u);
  // A directory moved: "a" lost a link, "b" gained one, as getattr says now.
  proto::AttrRep now_a, now_b;
  ASSERT_TRUE(Call(Op::kGetattr, proto::InoReq{a.attr.ino}, &now_a).ok());
  ASSERT_TRUE(Call(Op::kGetattr, proto::InoReq{b.attr.ino}, &now_b).ok());
  EXPECT_EQ(rep.parent.ino, a.attr.ino);
  EXPECT_EQ(rep.parent.nlink, 2u);
  EXPECT_EQ(rep.parent.ctime_ns, now_a.attr.ctime_ns);
  EXPECT_EQ(rep.newparent.ino, b.attr.ino);
  EXPECT_EQ(rep.newparent.nlink, 3u);
  EXPECT_EQ(rep.newparent.mtime_ns, now_b.attr.mtime_ns);
  proto::RenameRep failed;
  EXPECT_EQ(Call(Op::kRename, req, &failed).err(), ENOENT);
}

TEST_F(ServiceTest, HeartbeatAllocUnlink) {
  proto::Empty empty;
  proto::HeartbeatReq hb;
  hb.name = "n1";
  hb.addr = "tcp://127.0.0.1:9";  // nobody listens: deletes fail in the background
  hb.capacity = 1ull << 30;
  ASSERT_TRUE(Call(Op::kHeartbeat, hb, &empty).ok());
  proto::NodeListRep nodes;
  ASSERT_TRUE(Call(Op::kNodeList, proto::Empty{}, &nodes).ok());
  ASSERT_EQ(nodes.nodes.size(), 1u);
  EXPECT_EQ(nodes.nodes[0].state, "UP");
  proto::EntryRep f;
  ASSERT_TRUE(Call(Op::kMknod, proto::MknodReq{1, "f", 0100644, 0, 0, 0}, &f).ok());
  proto::ChunkAllocRep c;
  ASSERT_TRUE(Call(Op::kChunkAlloc, proto::ChunkAllocReq{f.attr.ino, 0}, &c).ok());
  ASSERT_EQ(c.chunk.replicas.size(), 1u);
  EXPECT_EQ(c.chunk.replicas[0].addr, hb.addr);
  proto::AttrRep a;
  ASSERT_TRUE(Call(Op::kCommitWrite, proto::CommitWriteReq{f.attr.ino, 123, 0, {}}, &a).ok());
  EXPECT_EQ(a.attr.size, 123u);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(Call(Op::kUnlink, proto::RemoveReq{1, "f"}, &empty).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  proto::LockReq lk;
  lk.ino = 1;
  lk.client = 1;
  lk.type = 1;  // F_WRLCK
  lk.end = 10;
  ASSERT_TRUE(Call(Op::kSetlk, lk, &empty).ok());
  lk.client = 2;
  EXPECT_EQ(Call(Op::kSetlk, lk, &empty).err(), EAGAIN);
  proto::LockRep got;
  ASSERT_TRUE(Call(Op::kGetlk, lk, &got).ok());
  EXPECT_EQ(got.type, 1u);
}

TEST_F(ServiceTest, RestartKeepsNamespaceAndDropsOrphans) {
  proto::EntryRep f, g;
  ASSERT_TRUE(Call(Op::kMknod, proto::MknodReq{1, "f", 0100644, 0, 0, 0}, &f).ok());
  ASSERT_TRUE(Call(Op::kMknod, proto::MknodReq{1, "g", 0100644, 0, 0, 0}, &g).ok());
  proto::OpenRep o;
  ASSERT_TRUE(Call(Op::kOpen, proto::OpenReq{g.attr.ino, 9, 0}, &o).ok());
  proto::Empty empty;
  ASSERT_TRUE(Call(Op::kUnlink, proto::RemoveReq{1, "g"}, &empty).ok());
  Stop();
  Start();
  proto::AttrRep a;
  EXPECT_TRUE(Call(Op::kGetattr, proto::InoReq{f.attr.ino}, &a).ok());
  EXPECT_EQ(Call(Op::kGetattr, proto::InoReq{g.attr.ino}, &a).err(), ENOENT);
}

}  // namespace
}  // namespace dos::meta
