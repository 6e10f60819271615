// Client and Server over real tcp on 127.0.0.1 with a wildcard port.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "common/net/client.h"
#include "common/net/server.h"

namespace dos::net {
namespace {

using proto::Op;

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<Server>(&ctx_);
    server_->AddLane(0, 1);
    server_->AddLane(1, 4);
    // Ping: echoes the data frame, reversed, and the ino as a node count.
    server_->Register(Op::kPing, 1,
                      Typed<proto::InoReq, proto::AttrRep>(
                          [](const proto::InoReq& req, proto::AttrRep* rep, Message& in,
                             Message* out) {
                            if (req.ino == 13) return Status::Err(ENOTEMPTY, "thirteen");
                            if (req.ino == 99)
                              std::this_thread::sleep_for(std::chrono::milliseconds(300));
                            rep->attr.ino = req.ino;
                            std::string d(in.DataView());
                            std::reverse(d.begin(), d.end());
                            if (in.data) out->data.emplace(d.data(), d.size());
                            return Status::Ok();
                          }));
    // Getattr, on the one-thread lane: counts its runs; ino 99 sleeps 300 ms.
    server_->Register(Op::kGetattr, 0,
                      Typed<proto::InoReq, proto::AttrRep>(
                          [this](const proto::InoReq& req, proto::AttrRep* rep, Message&,
                                 Message*) {
                            if (req.ino == 99)
                              std::this_thread::sleep_for(std::chrono::milliseconds(300));
                            serial_runs_++;
                            rep->attr.ino = req.ino;
                            return Status::Ok();
                          }));
    ASSERT_TRUE(server_->Bind("tcp://127.0.0.1:*").ok());
    server_->Start();
    client_ = std::make_unique<Client>(&ctx_, server_->endpoint());
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
  }
  zmq::context_t ctx_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Client> client_;
  std::atomic<int> serial_runs_{0};
};

TEST_F(TransportTest, RoundTripWithData) {
  proto::InoReq req{5};
  proto::AttrRep rep;
  std::string out;
  ASSERT_TRUE(client_->Call(Op::kPing, req, &rep, 5000, "abc", &out).ok());
  EXPECT_EQ(rep.attr.ino, 5u);
  EXPECT_EQ(out, "cba");
}

TEST_F(TransportTest, ErrnoTravels) {
  proto::InoReq req{13};
  proto::AttrRep rep;
  Status s = client_->Call(Op::kPing, req, &rep);
  EXPECT_EQ(s.err(), ENOTEMPTY);
  EXPECT_EQ(s.message(), "thirteen");
}

TEST_F(TransportTest, ValidRuleIsEinval) {
  proto::InoReq req{0};
  proto::AttrRep rep;
  EXPECT_EQ(client_->Call(Op::kPing, req, &rep).err(), EINVAL);
}

TEST_F(TransportTest, UnknownOpIsEproto) {
  proto::InoReq req{1};
  proto::AttrRep rep;
  EXPECT_EQ(client_->Call(Op::kLookup, req, &rep).err(), EPROTO);
}

TEST_F(TransportTest, GarbageBodyIsEproto) {
  auto r = client_->Call(Op::kPing, std::string("\xc1garbage"), std::nullopt, 5000);
  EXPECT_EQ(r.err(), EPROTO);
}

TEST_F(TransportTest, ManyInFlightFromManyThreads) {
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        proto::InoReq req{static_cast<uint64_t>(1000 * t + i + 1000)};
        proto::AttrRep rep;
        std::string data(1000 + i, static_cast<char>('a' + t)), out;
        if (client_->Call(Op::kPing, req, &rep, 10000, data, &out).ok() &&
            rep.attr.ino == req.ino && out == data)
          ok++;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 1600);
}

TEST_F(TransportTest, TimeoutThenLateReplyIsDropped) {
  proto::InoReq slow{99};
  proto::AttrRep rep;
  EXPECT_EQ(client_->Call(Op::kPing, slow, &rep, 50).err(), ETIMEDOUT);
  proto::InoReq fast{7};
  ASSERT_TRUE(client_->Call(Op::kPing, fast, &rep, 5000).ok());
  EXPECT_EQ(rep.attr.ino, 7u);
}

// A reply that came in time is taken even when the caller only waits for
// it after its deadline (it waited on another client first, or worked):
// nobody read the socket meanwhile.
TEST_F(TransportTest, AReplyInTimeIsTakenByAWaitAfterTheDeadline) {
  proto::AttrRep rep;
  ASSERT_TRUE(client_->Call(Op::kPing, proto::InoReq{6}, &rep, 5000).ok());  // connected
  Client::Ticket t = client_->Send(Op::kPing, proto::Encode(proto::InoReq{7}), {}, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // answered long ago
  ASSERT_TRUE(client_->Wait(t, &rep).ok());
  EXPECT_EQ(rep.attr.ino, 7u);
  // Still a timeout when no reply came (the slow ping takes 300 ms).
  t = client_->Send(Op::kPing, proto::Encode(proto::InoReq{99}), {}, 50);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(client_->Wait(t, &rep).err(), ETIMEDOUT);
}

// A request that waits in the queue past its deadline never runs: its caller
// got ETIMEDOUT, and a late run would change what that caller was told.
TEST_F(TransportTest, RequestExpiredInQueueIsNotRun) {
  Client other(&ctx_, server_->endpoint());
  std::thread slow([&] {
    proto::AttrRep rep;
    EXPECT_TRUE(other.Call(Op::kGetattr, proto::InoReq{99}, &rep, 5000).ok());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the slow one runs
  proto::AttrRep rep;
  EXPECT_EQ(client_->Call(Op::kGetattr, proto::InoReq{7}, &rep, 100).err(), ETIMEDOUT);
  slow.join();
  EXPECT_EQ(serial_runs_.load(), 1);  // the slow one only
  ASSERT_TRUE(client_->Call(Op::kGetattr, proto::InoReq{8}, &rep, 5000).ok());
  EXPECT_EQ(rep.attr.ino, 8u);
  EXPECT_EQ(serial_runs_.load(), 2);
}

TEST_F(TransportTest, RawGarbageFramesLeaveServerUp) {
  zmq::socket_t raw(ctx_, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(server_->endpoint());
  raw.send(zmq::str_buffer("\xff\xfe"), zmq::send_flags::none);  // one frame
  raw.send(zmq::str_buffer("x"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("y"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("z"), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("w"), zmq::send_flags::none);  // four frames
  proto::Envelope env;
  env.v = 999;
  env.op = static_cast<uint32_t>(Op::kPing);
  std::string e = proto::Encode(env);
  raw.send(zmq::buffer(e), zmq::send_flags::sndmore);
  raw.send(zmq::str_buffer("\x80"), zmq::send_flags::none);  // wrong version
  for (int i = 0; i < 3; ++i) {
    std::vector<zmq::message_t> frames;
    ASSERT_TRUE(zmq::recv_multipart(raw, std::back_inserter(frames)));
    proto::Envelope rep;
    ASSERT_TRUE(proto::Decode(static_cast<const char*>(frames[0].data()), frames[0].size(), &rep).ok());
    EXPECT_EQ(rep.err, EPROTO);
  }
  proto::InoReq req{3};
  proto::AttrRep rep;
  EXPECT_TRUE(client_->Call(Op::kPing, req, &rep).ok());
}

// A lane's idle work runs on the lane's thread once it has been quiet,
// then not again until another request has run; never beside a request.
TEST(TransportIdle, RunsOncePerQuietStretchOnTheLane) {
  zmq::context_t ctx;
  Server server(&ctx);
  server.AddLane(0, 1);
  std::atomic<int> idles{0}, busy{0}, overlaps{0};
  std::thread::id lane_thread, idle_thread;
  server.Register(Op::kGetattr, 0,
                  Typed<proto::InoReq, proto::AttrRep>(
                      [&](const proto::InoReq& req, proto::AttrRep* rep, Message&, Message*) {
                        if (busy++) overlaps++;
                        lane_thread = std::this_thread::get_id();
                        rep->attr.ino = req.ino;
                        busy--;
                        return Status::Ok();
                      }));
  server.SetIdle(0, 30, [&] {
    if (busy++) overlaps++;
    idle_thread = std::this_thread::get_id();
    idles++;
    busy--;
  });
  ASSERT_TRUE(server.Bind("tcp://127.0.0.1:*").ok());
  server.Start();
  Client client(&ctx, server.endpoint());
  auto wait_for = [&](int n) {
    for (int i = 0; i < 1000 && idles.load() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return idles.load();
  };
  // Nothing ran yet: a lane never asked is not "quiet after a request".
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(idles.load(), 0);
  proto::AttrRep rep;
  ASSERT_TRUE(client.Call(Op::kGetattr, proto::InoReq{1}, &rep).ok());
  ASSERT_EQ(wait_for(1), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(idles.load(), 1);  // once per quiet stretch
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.Call(Op::kGetattr, proto::InoReq{2}, &rep).ok());
  EXPECT_EQ(wait_for(2), 2);
  EXPECT_EQ(idle_thread, lane_thread);
  EXPECT_EQ(overlaps.load(), 0);
}

// Quick ops (SetQuick) on a one-thread lane: the I/O thread runs them when
// the lane is idle, yet the lane stays serial (never two of its requests, or
// a request and its idle work, at once), every call is answered, and the
// idle work still follows a quiet stretch after quick ops only.
TEST(TransportQuick, RunOnTheIoThreadAndTheLaneStaysSerial) {
  zmq::context_t ctx;
  Server server(&ctx);
  server.AddLane(0, 1);
  std::atomic<int> idles{0}, busy{0}, overlaps{0}, quick_runs{0}, slow_runs{0};
  std::mutex ids_mu;
  std::set<std::thread::id> quick_threads, worker_threads;
  auto enter = [&] {
    if (busy++) overlaps++;
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // widen any overlap
  };
  server.Register(Op::kGetattr, 0,
                  Typed<proto::InoReq, proto::AttrRep>(
                      [&](const proto::InoReq& req, proto::AttrRep* rep, Message&, Message*) {
                        enter();
                        {
                          std::lock_guard<std::mutex> lock(ids_mu);
                          quick_threads.insert(std::this_thread::get_id());
                        }
                        quick_runs++;
                        rep->attr.ino = req.ino;
                        busy--;
                        return Status::Ok();
                      }));
  server.Register(Op::kSetattr, 0,
                  Typed<proto::SetattrReq, proto::AttrRep>(
                      [&](const proto::SetattrReq& req, proto::AttrRep* rep, Message&, Message*) {
                        enter();
                        std::this_thread::sleep_for(std::chrono::milliseconds(2));
                        {
                          std::lock_guard<std::mutex> lock(ids_mu);
                          worker_threads.insert(std::this_thread::get_id());
                        }
                        slow_runs++;
                        rep->attr.ino = req.ino;
                        busy--;
                        return Status::Ok();
                      }));
  server.SetQuick(Op::kGetattr);
  server.SetIdle(0, 30, [&] {
    enter();
    idles++;
    busy--;
  });
  ASSERT_TRUE(server.Bind("tcp://127.0.0.1:*").ok());
  server.Start();
  // Alone, one at a time: the lane is idle at each call.
  Client client(&ctx, server.endpoint());
  proto::AttrRep rep;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(client.Call(Op::kGetattr, proto::InoReq{uint64_t(i + 1)}, &rep).ok());
    EXPECT_EQ(rep.attr.ino, uint64_t(i + 1));
  }
  // Quick ops only, then quiet: the idle work still comes.
  for (int i = 0; i < 200 && idles.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(idles.load(), 1);
  // Mixed, from several threads: quick ones meet a busy lane and queue.
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      Client c(&ctx, server.endpoint());
      for (int i = 0; i < 40; ++i) {
        proto::AttrRep r;
        Status st = (t % 3 == 0) ? c.Call(Op::kSetattr, proto::SetattrReq{uint64_t(i + 1)}, &r)
                                 : c.Call(Op::kGetattr, proto::InoReq{uint64_t(i + 1)}, &r);
        if (!st.ok() || r.attr.ino != uint64_t(i + 1)) failed++;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(quick_runs.load(), 50 + 4 * 40);
  EXPECT_EQ(slow_runs.load(), 2 * 40);
  EXPECT_EQ(overlaps.load(), 0);
  // The I/O thread ran quick ones: a thread that never ran the other op.
  std::lock_guard<std::mutex> lock(ids_mu);
  ASSERT_EQ(worker_threads.size(), 1u);
  EXPECT_GE(quick_threads.size(), 2u);  // the I/O thread, and the worker when the lane was busy
  EXPECT_TRUE(quick_threads.count(*worker_threads.begin()));
}

TEST(TransportNoServer, DeadPeerTimesOut) {
  zmq::context_t ctx;
  Client c(&ctx, "tcp://127.0.0.1:1");
  proto::InoReq req{1};
  proto::AttrRep rep;
  EXPECT_EQ(c.Call(Op::kPing, req, &rep, 100).err(), ETIMEDOUT);
}

}  // namespace
}  // namespace dos::net
