// FrameStream's framing over a socketpair: messages of any shape arrive
// whole and in order however the bytes are cut; a malformed header or a
// closed peer ends the stream.
#include "common/net/stream.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace dos::net {
namespace {

struct Pair {
  Pair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    int small = 4096;  // so that large messages must queue
    (void)setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    writer = std::make_unique<FrameStream>(fds[0]);
    reader = std::make_unique<FrameStream>(fds[1]);
  }
  std::unique_ptr<FrameStream> writer, reader;
};

std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 7) >> 3);
  return s;
}

std::vector<zmq::message_t> Frames(const std::vector<std::string>& parts) {
  std::vector<zmq::message_t> f;
  for (const std::string& p : parts) f.emplace_back(p.data(), p.size());
  return f;
}

std::vector<std::string> Strings(const std::vector<zmq::message_t>& frames) {
  std::vector<std::string> out;
  for (const auto& f : frames) out.emplace_back(static_cast<const char*>(f.data()), f.size());
  return out;
}

TEST(FrameStream, MessagesOfEveryShapeArriveWholeAndInOrder) {
  Pair p;
  const std::vector<std::vector<std::string>> sent = {
      {""},
      {"a", "", "bcd"},
      {Pattern(100, 1), Pattern(5 << 20, 2)},  // larger than the socket takes at once
      {Pattern(70000, 3), "x", Pattern(65536, 4), Pattern(65537, 5)},
      {"last"},
  };
  for (const auto& m : sent) {
    auto f = Frames(m);
    ASSERT_TRUE(p.writer->Send(f));
  }
  std::vector<std::vector<zmq::message_t>> got;
  for (int i = 0; i < 100000 && got.size() < sent.size(); ++i) {
    ASSERT_TRUE(p.writer->Flush());
    ASSERT_TRUE(p.reader->Receive(&got));
  }
  EXPECT_FALSE(p.writer->wants_write());
  ASSERT_EQ(got.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(Strings(got[i]), sent[i]) << "message " << i;
}

TEST(FrameStream, BytesCutAnywhereMakeTheSameMessages) {
  Pair p;
  const std::vector<std::string> m1 = {"head", Pattern(3000, 6)};
  const std::vector<std::string> m2 = {"", "z"};
  auto f1 = Frames(m1), f2 = Frames(m2);
  ASSERT_TRUE(p.writer->Send(f1));
  ASSERT_TRUE(p.writer->Send(f2));
  ASSERT_FALSE(p.writer->wants_write());
  // The wire bytes, taken off the socket and fed again one byte at a time.
  std::string wire(8192, '\0');
  ssize_t n = read(p.reader->fd(), wire.data(), wire.size());
  ASSERT_GT(n, 0);
  wire.resize(static_cast<size_t>(n));
  EXPECT_EQ(wire.size(), (4 + 8 + 4 + 3000) + (4 + 8 + 1));
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  FrameStream in(fds[1]);
  std::vector<std::vector<zmq::message_t>> got;
  for (char c : wire) {
    ASSERT_EQ(write(fds[0], &c, 1), 1);
    ASSERT_TRUE(in.Receive(&got));
  }
  close(fds[0]);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(Strings(got[0]), m1);
  EXPECT_EQ(Strings(got[1]), m2);
  EXPECT_FALSE(in.Receive(&got));  // the peer closed
}

TEST(FrameStream, AMalformedHeaderEndsTheStream) {
  const std::vector<std::string> bad = {
      std::string(4, '\0'),                                        // no frames
      std::string("\x09\0\0\0", 4),                                // more than kStreamMaxFrames
      std::string("\x01\0\0\0\xff\xff\xff\xff", 8),                // a frame over the limit
      std::string("\x02\0\0\0\x01\0\0\0\x01\0\0\x7f", 12),         // the second one
  };
  for (const std::string& b : bad) {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    FrameStream in(fds[1]);
    ASSERT_EQ(write(fds[0], b.data(), b.size()), static_cast<ssize_t>(b.size()));
    std::vector<std::vector<zmq::message_t>> got;
    EXPECT_FALSE(in.Receive(&got)) << b.size();
    EXPECT_TRUE(got.empty());
    EXPECT_FALSE(in.Receive(&got));  // and stays ended
    close(fds[0]);
  }
}

TEST(FrameStream, SendingToAClosedPeerFails) {
  Pair p;
  p.reader.reset();
  auto f = Frames({Pattern(1 << 20, 8)});
  bool ok = p.writer->Send(f);
  for (int i = 0; i < 10 && ok; ++i) ok = p.writer->Flush();
  EXPECT_FALSE(ok);
  auto again = Frames({"x"});
  EXPECT_FALSE(p.writer->Send(again));
}

// The wire bytes of msgs, as a FrameStream writes them.
std::string Wire(const std::vector<std::vector<std::string>>& msgs) {
  Pair p;
  std::string wire;
  for (const auto& m : msgs) {
    auto f = Frames(m);
    EXPECT_TRUE(p.writer->Send(f));
    for (;;) {
      char buf[65536];
      ssize_t n = read(p.reader->fd(), buf, sizeof buf);
      if (n > 0) wire.append(buf, static_cast<size_t>(n));
      if (!p.writer->wants_write() && n <= 0) break;
      EXPECT_TRUE(p.writer->Flush());
    }
  }
  return wire;
}

// Random and damaged wire bytes, cut at random places: the reader never
// crashes, never hands out a message of more frames than allowed, and
// hands out exactly what was sent when nothing was damaged.
TEST(FrameStream, DamagedBytesNeverCrashTheReader) {
  std::mt19937_64 rng(0xd05);
  for (int round = 0; round < 3000; ++round) {
    std::vector<std::vector<std::string>> msgs(1 + rng() % 3);
    for (auto& m : msgs) {
      m.resize(1 + rng() % 5);
      for (auto& f : m) f = Pattern(rng() % (rng() % 8 == 0 ? 100000 : 40), static_cast<int>(rng()));
    }
    std::string wire = Wire(msgs);
    const int damage = static_cast<int>(rng() % 4);  // 0: none
    if (damage == 1) {
      for (int i = 0; i < 3; ++i) wire[rng() % wire.size()] = static_cast<char>(rng());
    } else if (damage == 2) {
      wire.resize(rng() % wire.size());
    } else if (damage == 3) {
      for (char& c : wire) c = static_cast<char>(rng());
    }
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    FrameStream in(fds[1]);
    std::vector<std::vector<zmq::message_t>> got;
    bool ok = true;
    for (size_t at = 0; at < wire.size() && ok;) {
      size_t n = std::min<size_t>(wire.size() - at, 1 + rng() % 5000);
      ASSERT_EQ(write(fds[0], wire.data() + at, n), static_cast<ssize_t>(n));
      at += n;
      ok = in.Receive(&got);
    }
    close(fds[0]);
    for (const auto& m : got) EXPECT_LE(m.size(), kStreamMaxFrames);
    if (damage == 0) {
      ASSERT_TRUE(ok);
      ASSERT_EQ(got.size(), msgs.size());
      for (size_t i = 0; i < msgs.size(); ++i) EXPECT_EQ(Strings(got[i]), msgs[i]);
    }
  }
}

}  // namespace
}  // namespace dos::net
