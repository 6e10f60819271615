// FrameStream: messages of frames over a plain TCP connection, the
// transport of the sealed port (common/net/seal.h says what the frames
// hold; they are sealed before they get here).
//
// ZeroMQ hands every message through an I/O thread of its own on each side,
// two thread wake-ups per hop more than a socket the caller reads and
// writes itself: a round trip between two processes here took 132 us over
// a DEALER/ROUTER pair against 31 us over a TCP socket. Sealed messages
// need nothing from ZeroMQ but framing, so the sealed port is a TCP
// listener and the frames are laid out as
//
//   u32 frame count (1..kStreamMaxFrames), u32 length of each frame,
//   then the frames' bytes back to back    (integers little-endian)
//
// A malformed header (no frames, too many, a frame over kStreamMaxFrame)
// breaks the stream: its owner closes the connection.
//
// Not thread-safe: one thread reads (Receive) and, under its owner's lock,
// any thread writes (Send, Flush); the two sides share only the socket.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/proto/messages.h"
#include "common/status.h"

namespace dos::net {

inline constexpr uint32_t kStreamMaxFrames = 8;
// A frame's limit: a data frame and its tag, or a body, with room to spare.
inline constexpr uint32_t kStreamMaxFrame = proto::kMaxData + proto::kMaxBody;
// Bytes a peer may leave unread before the stream is given up.
inline constexpr size_t kStreamMaxQueued = 256u << 20;

class FrameStream {
 public:
  explicit FrameStream(int fd);  // a non-blocking socket, connected or connecting; owned
  ~FrameStream();
  FrameStream(const FrameStream&) = delete;
  FrameStream& operator=(const FrameStream&) = delete;

  int fd() const { return fd_; }
  // Writes frames as one message, or what the socket takes now and queues
  // the rest (Flush writes it). False once the stream is broken.
  bool Send(std::vector<zmq::message_t>& frames);
  bool Flush();
  bool wants_write() const { return out_at_ < out_.size(); }
  // Reads what the socket holds and appends every complete message to *out.
  // False when the peer closed, the socket failed, or a header is malformed.
  bool Receive(std::vector<std::vector<zmq::message_t>>* out);
  // Stops both directions at once (the fd stays open until destruction).
  void Shutdown();

 private:
  bool ParseBuffered(std::vector<std::vector<zmq::message_t>>* out);

  int fd_;
  std::atomic<bool> broken_{false};  // set by either side
  std::string out_;  // queued bytes, from out_at_ on
  size_t out_at_ = 0;
  // Reading: in_ holds bytes read and not yet taken, from in_at_ on.
  std::string in_;
  size_t in_at_ = 0;
  std::vector<uint32_t> lengths_;  // of the message being read (header done)
  std::vector<zmq::message_t> frames_;  // its frames so far
  size_t frame_got_ = 0;  // bytes of frames_.back() filled
};

// "tcp://host:port" split; host without brackets ("*" for any address).
Status SplitTcpEndpoint(const std::string& endpoint, std::string* host, int* port);
// A non-blocking listening socket on host, any free port (*port set).
Result<int> ListenTcp(const std::string& host, int* port);
// A non-blocking socket connecting to host:port (the connect may still be in
// progress: a FrameStream queues until it is done).
Result<int> ConnectTcp(const std::string& host, int port);
// accept4 of a connection, non-blocking, Nagle off; -1 (errno) when none.
int AcceptTcp(int listen_fd);

}  // namespace dos::net
