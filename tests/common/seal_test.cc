// Sealed messages (common/net/seal.h): the cipher's framing, the replay
// window, and a Client and Server with CURVE on over real tcp, where data
// requests move to the sealed port and come back to CURVE when the server
// forgets the session.
#include <gtest/gtest.h>

#include <poll.h>
#include <unistd.h>

#include <thread>
#include <zmq_addon.hpp>

#include "common/net/client.h"
#include "common/net/curve.h"
#include "common/net/seal.h"
#include "common/net/server.h"
#include "common/net/stream.h"
#include "common/net/zap.h"

namespace dos::net {
namespace {

using proto::Op;

Message Sample(size_t data_len) {
  Message m;
  m.env.op = static_cast<uint32_t>(Op::kPing);
  m.env.id = 42;
  m.body = proto::Encode(proto::InoReq{7});
  if (data_len) {
    std::string d(data_len, 'x');
    for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<char>(i * 31);
    m.data.emplace(d.data(), d.size());
  }
  return m;
}

SealKey Key() {
  auto k = NewSealKey();
  EXPECT_TRUE(k.ok());
  return *k;
}

Status OpenWire(const SealKey& k, SealDir dir, std::vector<zmq::message_t>& wire,
                Message* out) {
  auto h = ReadSealHeader(wire[0]);
  if (!h.ok()) return h.status();
  std::vector<zmq::message_t> plain;
  if (Status s = OpenFrames(k, dir, *h, wire, 0, &plain); !s.ok()) return s;
  return ParseMessage(plain, 0, out);
}

TEST(Seal, RoundTripKeepsEveryByte) {
  SealKey k = Key();
  for (size_t len : {size_t{0}, size_t{1}, size_t{65536}, size_t{1} << 20}) {
    Message m = Sample(len);
    auto wire = SealMessage(k, SealDir::kToServer, 5, m);
    ASSERT_TRUE(wire.ok());
    ASSERT_EQ(wire->size(), len ? 5u : 3u);  // header, envelope, body[, data key, data]
    auto h = ReadSealHeader((*wire)[0]);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->session, k.session);
    EXPECT_EQ(h->counter, 5u);
    EXPECT_EQ(h->req_id, 42u);
    Message out;
    ASSERT_TRUE(OpenWire(k, SealDir::kToServer, *wire, &out).ok()) << len;
    EXPECT_EQ(out.env.id, 42u);
    EXPECT_EQ(out.body, m.body);
    EXPECT_EQ(out.DataView(), m.DataView());
  }
}

TEST(Seal, CiphertextDoesNotShowThePlaintext) {
  SealKey k = Key();
  Message m = Sample(4096);
  auto wire = SealMessage(k, SealDir::kToServer, 1, m);
  ASSERT_TRUE(wire.ok());
  std::string_view c(static_cast<const char*>((*wire)[4].data()), 4096);
  EXPECT_NE(c, m.DataView());
  EXPECT_EQ((*wire)[4].size(), 4096 + kSealTagLen);
  EXPECT_EQ((*wire)[3].size(), 32 + kSealTagLen);  // the data key, sealed
  // A fresh data key for every message: the same data seals differently.
  auto again = SealMessage(k, SealDir::kToServer, 2, m);
  ASSERT_TRUE(again.ok());
  EXPECT_NE((*again)[4].to_string_view(), (*wire)[4].to_string_view());
}

TEST(Seal, EveryTamperingIsRefused) {
  SealKey k = Key();
  Message m = Sample(1000);
  auto fresh = [&] { return std::move(*SealMessage(k, SealDir::kToServer, 9, m)); };
  Message out;
  // A bit flipped in any frame, header included.
  for (size_t f = 0; f < 5; ++f) {
    auto wire = fresh();
    static_cast<uint8_t*>(wire[f].data())[f == 0 ? 13 : 0] ^= 1;
    Status s = OpenWire(k, SealDir::kToServer, wire, &out);
    EXPECT_FALSE(s.ok()) << "frame " << f;
    if (f > 0) {
      EXPECT_EQ(s.err(), EBADMSG);
    }
  }
  {  // another key
    auto wire = fresh();
    EXPECT_EQ(OpenWire(Key(), SealDir::kToServer, wire, &out).err(), EBADMSG);
  }
  {  // the other direction (a reply sent back as a request)
    auto wire = fresh();
    EXPECT_EQ(OpenWire(k, SealDir::kToClient, wire, &out).err(), EBADMSG);
  }
  {  // a frame dropped
    auto wire = fresh();
    wire.pop_back();
    EXPECT_EQ(OpenWire(k, SealDir::kToServer, wire, &out).err(), EBADMSG);
  }
  {  // two frames swapped
    auto wire = fresh();
    std::swap(wire[1], wire[2]);
    EXPECT_EQ(OpenWire(k, SealDir::kToServer, wire, &out).err(), EBADMSG);
  }
  // A frame moved from another message of the same session: the body, the
  // data key, the data (under another data key), data key and data together.
  for (auto moved : {std::vector<size_t>{2}, {3}, {4}, {3, 4}}) {
    auto wire = fresh();
    auto other = std::move(*SealMessage(k, SealDir::kToServer, 10, m));
    for (size_t f : moved) wire[f] = std::move(other[f]);
    EXPECT_EQ(OpenWire(k, SealDir::kToServer, wire, &out).err(), EBADMSG) << moved.back();
  }
  for (size_t f : {3, 4}) {  // cut below its tag
    auto wire = fresh();
    wire[f] = zmq::message_t(3);
    EXPECT_EQ(OpenWire(k, SealDir::kToServer, wire, &out).err(), EBADMSG);
  }

}

// A node passing a write down the chain: it opens the data as a server does
// (envelope and body, then data key and data), and sends the same ciphertext
// on with the data key sealed under its own session.
TEST(Seal, DataPassedOnIsNotSealedAgain) {
  SealKey k1 = Key(), k2 = Key();
  Message m = Sample(1 << 20);
  auto wire = SealMessage(k1, SealDir::kToServer, 1, m);
  ASSERT_TRUE(wire.ok());
  auto h = ReadSealHeader((*wire)[0]);
  ASSERT_TRUE(h.ok());
  std::vector<zmq::message_t> plain;
  SealedData sd;
  ASSERT_TRUE(OpenFrames(k1, SealDir::kToServer, *h, *wire, 0, &plain, &sd.key).ok());
  EXPECT_EQ(plain.size(), 2u);  // envelope and body; the data stays sealed
  zmq::message_t data;
  ASSERT_TRUE(OpenData(sd.key, (*wire)[4], &data).ok());
  EXPECT_EQ(data.to_string_view(), m.DataView());
  sd.wire.copy((*wire)[4]);
  SealedData again = sd.Share();  // the same buffer, for the forward
  EXPECT_EQ(again.wire.data(), (*wire)[4].data());
  Message fwd;
  fwd.env = m.env;
  fwd.body = m.body;
  fwd.data.emplace(data.data(), data.size());
  fwd.sealed_data = std::move(sd);
  auto wire2 = SealMessage(k2, SealDir::kToServer, 1, fwd);
  ASSERT_TRUE(wire2.ok());
  ASSERT_EQ(wire2->size(), 5u);
  EXPECT_EQ((*wire2)[4].data(), (*wire)[4].data());  // one buffer, shared: not sealed again
  EXPECT_NE((*wire2)[3].to_string_view(), (*wire)[3].to_string_view());
  Message out;
  ASSERT_TRUE(OpenWire(k2, SealDir::kToServer, *wire2, &out).ok());
  EXPECT_EQ(out.DataView(), m.DataView());
  // The next node's session opens only what was sealed for it.
  EXPECT_EQ(OpenWire(k2, SealDir::kToServer, *wire, &out).err(), EBADMSG);
  // A data key from one message does not open another's data.
  auto other = SealMessage(k1, SealDir::kToServer, 2, m);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(OpenData(fwd.sealed_data->key, (*other)[4], &data).err(), EBADMSG);
}

TEST(Seal, HeaderAndNoticeAreRecognisedOnlyWhole) {
  zmq::message_t junk(kSealHeaderLen);
  std::memset(junk.data(), 'D', junk.size());
  EXPECT_FALSE(IsSealedHeader(junk));
  EXPECT_FALSE(ReadSealHeader(zmq::message_t(3)).ok());
  auto n = SealNotice(77, 88, "why");
  EXPECT_TRUE(IsSealNotice(n[0]));
  EXPECT_FALSE(IsSealedHeader(n[0]));
  auto info = ReadSealNotice(n[0]);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->session, 77u);
  EXPECT_EQ(info->req_id, 88u);
}

TEST(ReplayWindow, TakesEachCounterOnceAndAllowsSomeReordering) {
  ReplayWindow w;
  EXPECT_FALSE(w.Accept(0));
  EXPECT_TRUE(w.Accept(1));
  EXPECT_FALSE(w.Accept(1));
  EXPECT_TRUE(w.Accept(3));
  EXPECT_TRUE(w.Accept(2));  // late, inside the window
  EXPECT_FALSE(w.Accept(2));
  EXPECT_FALSE(w.Accept(3));
  EXPECT_TRUE(w.Accept(3 + ReplayWindow::kWidth));
  EXPECT_FALSE(w.Accept(3));  // now too old
  EXPECT_TRUE(w.Accept(4 + 1));  // inside: highest - kWidth < 5
  EXPECT_FALSE(w.Accept(5));
  // A long jump forgets everything before.
  EXPECT_TRUE(w.Accept(100 * ReplayWindow::kWidth));
  EXPECT_FALSE(w.Accept(100 * ReplayWindow::kWidth - ReplayWindow::kWidth));
  EXPECT_TRUE(w.Accept(100 * ReplayWindow::kWidth - ReplayWindow::kWidth + 1));
  EXPECT_EQ(w.highest(), 100 * ReplayWindow::kWidth);
}

// A CURVE server (key ring of one client key) with a sealed port; Ping
// echoes the data reversed and counts its runs and the peers it saw.
class SealedTransport : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = GenerateKeyPair();
    auto client = GenerateKeyPair();
    ASSERT_TRUE(server.ok() && client.ok());
    Security sec;
    sec.curve = true;
    sec.server = *server;
    sec.client = *client;
    SetSecurity(sec);
    client_key_ = client->public_z85;
    ring_.SetFixed(client_key_, Role::kUser);
    zap_ = std::make_unique<ZapHandler>(&ctx_, &ring_);
    zap_->Start();
    StartServer("tcp://127.0.0.1:*");
    client_ = std::make_unique<Client>(&ctx_, server_->endpoint());
    client_->set_sealed(true);
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    zap_.reset();
    SetSecurity(Security{});
  }
  void StartServer(const std::string& at) {
    server_ = std::make_unique<Server>(&ctx_);
    server_->AddLane(0, 4);
    server_->Register(Op::kPing, 0,
                      Typed<proto::InoReq, proto::AttrRep>(
                          [this](const proto::InoReq& req, proto::AttrRep* rep, Message& in,
                                 Message* out) {
                            runs_++;
                            if (in.peer != client_key_) wrong_peer_++;
                            if (req.ino >= 1000000)  // sleeps ino - 1000000 ms
                              std::this_thread::sleep_for(
                                  std::chrono::milliseconds(req.ino - 1000000));
                            rep->attr.ino = req.ino;
                            std::string d(in.DataView());
                            std::reverse(d.begin(), d.end());
                            if (in.data) out->data.emplace(d.data(), d.size());
                            return Status::Ok();
                          }));
    server_->SetAuthorizer([this](const std::string& key, uint32_t) {
      return key == client_key_ && !revoked_ ? Status::Ok()
                                             : Status::Err(EACCES, "key not allowed");
    });
    // A port just left by a stopped server is freed by ZeroMQ's I/O thread
    // a moment later.
    Status bound = server_->Bind(at);
    for (int i = 0; i < 100 && !bound.ok(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      bound = server_->Bind(at);
    }
    ASSERT_TRUE(bound.ok()) << bound.message();
    server_->Start();
  }
  // Calls Ping with data until the client has a session (the first calls
  // go over CURVE while it opens one).
  void WaitSealing() {
    for (int i = 0; i < 100 && !client_->sealing(); ++i) {
      Status s = Ping(i + 1, "warm");
      ASSERT_TRUE(s.ok()) << s.err() << " " << s.message();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(client_->sealing());
  }
  Status Ping(uint64_t ino, const std::string& data, std::string* back = nullptr,
              int timeout_ms = 3000) {
    proto::AttrRep rep;
    Status s = client_->Call(Op::kPing, proto::InoReq{ino}, &rep, timeout_ms, data, back);
    if (s.ok() && rep.attr.ino != ino) return Status::Err(EIO, "wrong reply");
    return s;
  }

  zmq::context_t ctx_;
  KeyRing ring_;
  std::string client_key_;
  std::unique_ptr<ZapHandler> zap_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Client> client_;
  std::atomic<int> runs_{0};
  std::atomic<int> wrong_peer_{0};
  std::atomic<bool> revoked_{false};
};

TEST_F(SealedTransport, DataMovesToTheSealedPortAndKeepsEveryByte) {
  ASSERT_NE(server_->seal_port(), 0);
  EXPECT_FALSE(client_->sealing());
  WaitSealing();
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + (i >> 12));
  std::string back;
  const uint64_t sealed = server_->sealed_requests();
  ASSERT_TRUE(Ping(5, big, &back).ok());
  std::reverse(back.begin(), back.end());
  EXPECT_EQ(back, big);
  EXPECT_EQ(server_->sealed_requests(), sealed + 1);
  EXPECT_EQ(wrong_peer_.load(), 0);  // sealed requests carry the CURVE key that opened them
}

TEST_F(SealedTransport, ManyThreadsAtOnce) {
  WaitSealing();
  std::vector<std::thread> ts;
  std::atomic<int> bad{0};
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string d(1000 + t * 100 + i, static_cast<char>('a' + t));
        std::string back;
        if (!Ping(t * 1000 + i + 1, d, &back).ok() || back != d) bad++;
      }
    });
  const uint64_t sealed = server_->sealed_requests();
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GE(server_->sealed_requests(), sealed + 300);  // most went sealed
  EXPECT_TRUE(client_->sealing());
}

TEST_F(SealedTransport, RepliesUnderADroppedSessionStillArrive) {
  // A sealed call that times out makes the client open a new session; a
  // slower call sent before, under the old one, must still get its reply.
  WaitSealing();
  Status slow;
  std::thread t([&] { slow = Ping(1000000 + 400, "slow", nullptr, 5000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(Ping(1000000 + 1500, "times out", nullptr, 100).err(), ETIMEDOUT);
  EXPECT_FALSE(client_->sealing());  // dropped after the timeout
  t.join();
  EXPECT_TRUE(slow.ok()) << slow.message();
  WaitSealing();  // and a new session comes
}

TEST_F(SealedTransport, AuthorizationStillAppliesToSealedRequests) {
  WaitSealing();
  revoked_ = true;
  EXPECT_EQ(Ping(1, "x").err(), EACCES);
  revoked_ = false;
  EXPECT_TRUE(Ping(2, "y").ok());
}

TEST_F(SealedTransport, AServerThatForgotTheSessionGetsTheRequestOverCurve) {
  WaitSealing();
  const std::string at = server_->endpoint();
  const int old_port = server_->seal_port();
  server_.reset();  // sessions gone; the new server's sealed port is another
  StartServer(at);
  ASSERT_NE(server_->seal_port(), 0);
  const int before = runs_.load();
  // The first call goes sealed to the old port (nobody) or is refused, so it
  // may time out; the client must come back to a working session either way.
  bool sealed_again = false;
  for (int i = 0; i < 50 && !sealed_again; ++i) {
    (void)Ping(100 + i, "after restart");
    sealed_again = client_->sealing() && Ping(1000 + i, "sealed").ok();
  }
  EXPECT_TRUE(sealed_again);
  EXPECT_GT(runs_.load(), before);
  (void)old_port;
}

// A raw connection to the sealed port (common/net/stream.h framing).
class RawSealedPort {
 public:
  explicit RawSealedPort(int port) {
    auto fd = ConnectTcp("127.0.0.1", port);
    EXPECT_TRUE(fd.ok());
    if (fd.ok()) stream_ = std::make_unique<FrameStream>(*fd);
  }
  void Send(std::vector<zmq::message_t>& frames) {
    ASSERT_TRUE(stream_->Send(frames));
    for (int i = 0; i < 100 && stream_->wants_write(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ASSERT_TRUE(stream_->Flush());
    }
  }
  void SendBytes(const std::string& bytes) {
    ASSERT_EQ(write(stream_->fd(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  // The next message within ms; false if none came. *closed: the server
  // closed the connection.
  bool Receive(std::vector<zmq::message_t>* got, int ms, bool* closed = nullptr) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (pending_.empty() && std::chrono::steady_clock::now() < until) {
      pollfd p{stream_->fd(), POLLIN, 0};
      (void)poll(&p, 1, 20);
      if (!stream_->Receive(&pending_)) {
        if (closed) *closed = true;
        break;
      }
    }
    if (pending_.empty()) return false;
    *got = std::move(pending_.front());
    pending_.erase(pending_.begin());
    return true;
  }

 private:
  std::unique_ptr<FrameStream> stream_;
  std::vector<std::vector<zmq::message_t>> pending_;
};

std::vector<zmq::message_t> PlainFrames(Message& m) {
  std::vector<zmq::message_t> f;
  f.emplace_back(proto::Encode(m.env));
  f.emplace_back(m.body.data(), m.body.size());
  if (m.data) f.emplace_back(m.data->data(), m.data->size());
  return f;
}

TEST_F(SealedTransport, ThePlaintextPortRunsNothingUnsealed) {
  WaitSealing();
  const int before = runs_.load();
  RawSealedPort raw(server_->seal_port());
  // A plain request, as on an insecure cluster: no answer, not run.
  Message m = Sample(10);
  auto plain = PlainFrames(m);
  raw.Send(plain);
  std::vector<zmq::message_t> got;
  EXPECT_FALSE(raw.Receive(&got, 500));
  // Sealed under a made-up session: a notice, not run.
  auto wire = SealMessage(Key(), SealDir::kToServer, 1, m);
  ASSERT_TRUE(wire.ok());
  raw.Send(*wire);
  ASSERT_TRUE(raw.Receive(&got, 3000));
  ASSERT_FALSE(got.empty());
  EXPECT_TRUE(IsSealNotice(got[0]));
  EXPECT_EQ(ReadSealNotice(got[0])->req_id, 42u);
  // Garbage frames: nothing.
  std::vector<zmq::message_t> junk;
  junk.emplace_back("DSL1", 4);
  junk.emplace_back(std::string(100, 'z').data(), 100);
  raw.Send(junk);
  EXPECT_FALSE(raw.Receive(&got, 500));
  EXPECT_EQ(runs_.load(), before);
  EXPECT_TRUE(Ping(3, "still fine").ok());
}

// Bytes that are not the framing at all (a ZeroMQ greeting, a frame count
// of 0, a frame longer than any message): the server closes that
// connection, runs nothing and goes on serving the others.
TEST_F(SealedTransport, BrokenFramingClosesOnlyThatConnection) {
  WaitSealing();
  const int before = runs_.load();
  const std::vector<std::string> bad = {
      std::string("\xff\0\0\0\0\0\0\0\x01\x7f\x03\x01NULL", 17),  // ZMTP's greeting
      std::string(4, '\0'),                                               // no frames
      std::string("\x02\0\0\0\x05\0\0\0\xff\xff\xff\x7f", 12),          // a 2 GiB frame
      std::string("\x09\0\0\0", 4),                                        // 9 frames
  };
  for (const std::string& b : bad) {
    RawSealedPort raw(server_->seal_port());
    raw.SendBytes(b + std::string(64, 'x'));
    std::vector<zmq::message_t> got;
    bool closed = false;
    EXPECT_FALSE(raw.Receive(&got, 3000, &closed));
    EXPECT_TRUE(closed) << "connection kept after " << b.size() << " bad bytes";
    EXPECT_TRUE(Ping(5, "others go on").ok());
  }
  EXPECT_EQ(runs_.load(), before + static_cast<int>(bad.size()));
}

// ZAP answers CURVE keys only: no ROUTER speaks NULL under CURVE any more
// (the sealed port is not ZeroMQ), so a NULL request is refused, and a
// CURVE one with the client's key still passes.
TEST_F(SealedTransport, ZapRefusesEveryMechanismButCurve) {
  zmq::socket_t req(ctx_, zmq::socket_type::req);
  req.set(zmq::sockopt::linger, 0);
  req.set(zmq::sockopt::rcvtimeo, 3000);
  req.connect("inproc://zeromq.zap.01");
  auto ask = [&](const std::string& mechanism, const std::string& cred) {
    std::vector<zmq::message_t> out;
    out.emplace_back(std::string("1.0"));
    out.emplace_back(std::string("7"));
    out.emplace_back(std::string("dos"));
    out.emplace_back(std::string("127.0.0.1"));
    out.emplace_back(std::string());
    out.emplace_back(mechanism);
    if (!cred.empty()) out.emplace_back(cred);
    EXPECT_TRUE(zmq::send_multipart(req, out));
    std::vector<zmq::message_t> got;
    EXPECT_TRUE(zmq::recv_multipart(req, std::back_inserter(got)));
    return got.size() > 2 ? got[2].to_string() : std::string("none");
  };
  EXPECT_EQ(ask("NULL", ""), "400");
  EXPECT_EQ(ask("PLAIN", ""), "400");
  uint8_t raw[32];
  ASSERT_EQ(zmq_z85_decode(raw, client_key_.c_str()), raw);
  EXPECT_EQ(ask("CURVE", std::string(reinterpret_cast<char*>(raw), 32)), "200");
}

// A reply's data left sealed by Wait and opened by TakeData straight into
// the caller's buffer: shorter and longer buffers, and a tampered frame.
TEST_F(SealedTransport, RepliesOpenStraightIntoTheCallersBuffer) {
  WaitSealing();
  std::string sent(300000, '\0');
  for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 7 + 3);
  const std::string want(sent.rbegin(), sent.rend());
  auto call = [&](Message* reply) {
    Client::Ticket t = client_->Send(Op::kPing, proto::Encode(proto::InoReq{5}),
                                     zmq::message_t(sent.data(), sent.size()));
    proto::AttrRep rep;
    return client_->Wait(t, &rep, reply, false);
  };
  Message reply;
  ASSERT_TRUE(call(&reply).ok());
  ASSERT_TRUE(reply.sealed_data.has_value());  // it came sealed, and stays so
  EXPECT_FALSE(reply.data.has_value());
  std::string buf(sent.size() + 100, 'z');
  auto n = TakeData(reply, buf.data(), buf.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, sent.size());
  EXPECT_EQ(buf.substr(0, sent.size()), want);
  EXPECT_EQ(buf.substr(sent.size()), std::string(100, 'z'));  // nothing written past it
  std::string part(1000, 'z');
  n = TakeData(reply, part.data(), part.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1000u);
  EXPECT_EQ(part, want.substr(0, 1000));
  // A bit flipped in the sealed data: refused, whatever the buffer.
  Message bad;
  ASSERT_TRUE(call(&bad).ok());
  ASSERT_TRUE(bad.sealed_data.has_value());
  static_cast<uint8_t*>(bad.sealed_data->wire.data())[100] ^= 1;
  EXPECT_EQ(TakeData(bad, buf.data(), buf.size()).status().err(), EBADMSG);
  EXPECT_EQ(TakeData(bad, part.data(), part.size()).status().err(), EBADMSG);
  // Over CURVE (not sealed) the data is there as it is.
  Message plain;
  plain.data.emplace(sent.data(), sent.size());
  n = TakeData(plain, part.data(), part.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(part, sent.substr(0, 1000));
}

TEST_F(SealedTransport, SealOpenInsideASessionGivesNoKey) {
  // kSealOpen sent sealed is the client's probe: answered, but empty.
  WaitSealing();
  proto::SealOpenRep rep;
  ASSERT_TRUE(client_->Call(Op::kSealOpen, proto::Empty{}, &rep, 3000).ok());
  EXPECT_EQ(rep.session, 0u);
  EXPECT_TRUE(rep.key.empty());
}

// A port nothing listens on (bound, then closed).
int DeadPort() {
  zmq::context_t c;
  zmq::socket_t s(c, zmq::socket_type::router);
  s.bind("tcp://127.0.0.1:*");
  std::string ep = s.get(zmq::sockopt::last_endpoint);
  return std::stoi(ep.substr(ep.rfind(':') + 1));
}

TEST_F(SealedTransport, ASealedPortThatDoesNotAnswerLeavesTheClientOnCurve) {
  // A CURVE server of its own that hands out a key for a sealed port where
  // nothing answers (as behind a firewall that passes only the CURVE port).
  // The client's probe never comes back, so every call stays on CURVE and
  // is answered; none goes into the void.
  zmq::socket_t fake(ctx_, zmq::socket_type::router);
  ApplyServerSecurity(fake);
  fake.set(zmq::sockopt::linger, 0);
  fake.bind("tcp://127.0.0.1:*");
  const std::string ep = fake.get(zmq::sockopt::last_endpoint);
  const int dead = DeadPort();
  std::atomic<bool> stop{false};
  std::atomic<int> opens{0};
  std::thread serve([&] {
    fake.set(zmq::sockopt::rcvtimeo, 50);
    while (!stop) {
      std::vector<zmq::message_t> f;
      if (!zmq::recv_multipart(fake, std::back_inserter(f)) || f.size() < 3) continue;
      Message in;
      if (!ParseMessage(f, 1, &in).ok()) continue;
      Message out;
      out.env.op = in.env.op;
      out.env.id = in.env.id;
      if (in.env.op == static_cast<uint32_t>(Op::kSealOpen)) {
        opens++;
        proto::SealOpenRep r;
        r.session = 1;
        r.key.assign(kSealKeyLen, 'k');
        r.port = static_cast<uint32_t>(dead);
        out.body = proto::Encode(r);
      } else {
        proto::InoReq req;
        (void)proto::Decode(in.body, &req);
        proto::AttrRep r;
        r.attr.ino = req.ino;
        out.body = proto::Encode(r);
      }
      fake.send(f[0], zmq::send_flags::sndmore);
      SendMessage(fake, out, false);
    }
  });
  Client c(&ctx_, ep);
  c.set_sealed(true);
  int ok = 0, bad = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(7);
  while (std::chrono::steady_clock::now() < until) {  // past the probe's 5 s
    proto::AttrRep rep;
    if (c.Call(Op::kPing, proto::InoReq{3}, &rep, 2000).ok() && rep.attr.ino == 3) {
      ok++;
    } else {
      bad++;
    }
    EXPECT_FALSE(c.sealing());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  serve.join();
  EXPECT_EQ(bad, 0);
  EXPECT_GT(ok, 0);
  EXPECT_GE(opens.load(), 1);
}

}  // namespace
}  // namespace dos::net
