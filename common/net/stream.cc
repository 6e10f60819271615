#include "common/net/stream.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dos::net {

namespace {

constexpr size_t kReadPiece = 64 * 1024;  // one read(2) of small messages

uint32_t Le32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return le32toh(v);
}

void PutLe32(char* p, uint32_t v) {
  v = htole32(v);
  std::memcpy(p, &v, 4);
}

void NoDelay(int fd) {
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

FrameStream::FrameStream(int fd) : fd_(fd) {}

FrameStream::~FrameStream() {
  if (fd_ >= 0) close(fd_);
}

void FrameStream::Shutdown() {
  broken_ = true;
  (void)shutdown(fd_, SHUT_RDWR);
}

bool FrameStream::Send(std::vector<zmq::message_t>& frames) {
  if (broken_) return false;
  if (frames.empty() || frames.size() > kStreamMaxFrames) return true;  // nothing to say
  std::string header(4 + 4 * frames.size(), '\0');
  PutLe32(header.data(), static_cast<uint32_t>(frames.size()));
  for (size_t i = 0; i < frames.size(); ++i)
    PutLe32(header.data() + 4 + 4 * i, static_cast<uint32_t>(frames[i].size()));
  iovec iov[kStreamMaxFrames + 1];
  size_t n = 0;
  iov[n++] = {header.data(), header.size()};
  for (zmq::message_t& f : frames)
    if (f.size() > 0) iov[n++] = {f.data(), f.size()};
  size_t first = 0;  // iov[first] is the first not fully written
  if (!wants_write()) {
    while (first < n) {
      msghdr mh{};
      mh.msg_iov = iov + first;
      mh.msg_iovlen = n - first;
      ssize_t w = sendmsg(fd_, &mh, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        broken_ = true;
        return false;
      }
      size_t left = static_cast<size_t>(w);
      while (first < n && left >= iov[first].iov_len) left -= iov[first++].iov_len;
      if (first < n) {
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
        iov[first].iov_len -= left;
      }
    }
    if (first == n) return true;
  }
  // The rest waits for Flush: the socket is full, or bytes queued before.
  if (out_at_ == out_.size()) {
    out_.clear();
    out_at_ = 0;
  }
  for (size_t i = first; i < n; ++i)
    out_.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  if (out_.size() - out_at_ > kStreamMaxQueued) {
    broken_ = true;  // the peer does not read
    return false;
  }
  return Flush();
}

bool FrameStream::Flush() {
  if (broken_) return false;
  while (wants_write()) {
    ssize_t w = send(fd_, out_.data() + out_at_, out_.size() - out_at_, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      broken_ = true;
      return false;
    }
    out_at_ += static_cast<size_t>(w);
  }
  out_.clear();
  out_at_ = 0;
  return true;
}

// Takes complete headers and frame bytes from in_; false on a bad header.
bool FrameStream::ParseBuffered(std::vector<std::vector<zmq::message_t>>* out) {
  for (;;) {
    const size_t avail = in_.size() - in_at_;
    const char* p = in_.data() + in_at_;
    if (lengths_.empty()) {
      if (avail < 4) break;
      const uint32_t count = Le32(p);
      if (count == 0 || count > kStreamMaxFrames) return false;
      if (avail < 4 + 4 * static_cast<size_t>(count)) break;
      for (uint32_t i = 0; i < count; ++i) {
        const uint32_t len = Le32(p + 4 + 4 * i);
        if (len > kStreamMaxFrame) return false;
        lengths_.push_back(len);
      }
      in_at_ += 4 + 4 * static_cast<size_t>(count);
      frames_.clear();
      frames_.emplace_back(lengths_[0]);
      frame_got_ = 0;
      continue;
    }
    zmq::message_t& f = frames_.back();
    const size_t take = std::min(f.size() - frame_got_, avail);
    if (take > 0) std::memcpy(static_cast<char*>(f.data()) + frame_got_, p, take);
    frame_got_ += take;
    in_at_ += take;
    if (frame_got_ < f.size()) break;  // more to come
    if (frames_.size() < lengths_.size()) {
      frames_.emplace_back(lengths_[frames_.size()]);
      frame_got_ = 0;
      continue;
    }
    out->push_back(std::move(frames_));
    frames_.clear();  // moved from: empty again
    lengths_.clear();
    frame_got_ = 0;
  }
  if (in_at_ == in_.size()) {
    in_.clear();
    in_at_ = 0;
  }
  return true;
}

bool FrameStream::Receive(std::vector<std::vector<zmq::message_t>>* out) {
  if (broken_) return false;
  for (;;) {
    ssize_t r;
    const bool buffered = in_at_ < in_.size();
    if (!lengths_.empty() && !buffered && frames_.back().size() - frame_got_ > kReadPiece) {
      // The rest of a large frame: straight into it, no copy.
      zmq::message_t& f = frames_.back();
      r = read(fd_, static_cast<char*>(f.data()) + frame_got_, f.size() - frame_got_);
      if (r > 0) {
        frame_got_ += static_cast<size_t>(r);
        if (!ParseBuffered(out)) break;
        continue;
      }
    } else {
      char buf[kReadPiece];
      r = read(fd_, buf, sizeof buf);
      if (r > 0) {
        in_.append(buf, static_cast<size_t>(r));
        if (!ParseBuffered(out)) break;
        continue;
      }
    }
    if (r == 0) break;  // the peer closed
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    break;
  }
  broken_ = true;
  return false;
}

Status SplitTcpEndpoint(const std::string& endpoint, std::string* host, int* port) {
  if (endpoint.rfind("tcp://", 0) != 0) return Status::Err(EINVAL, "not a tcp endpoint");
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon < 6) return Status::Err(EINVAL, "no port");
  *host = endpoint.substr(6, colon - 6);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  try {
    *port = std::stoi(endpoint.substr(colon + 1));
  } catch (const std::exception&) {
    return Status::Err(EINVAL, "bad port");
  }
  return Status::Ok();
}

namespace {
Result<addrinfo*> Resolve(const std::string& host, int port, bool passive) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = host == "*" ? AF_INET : AF_UNSPEC;  // as ZeroMQ's "*": IPv4
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  int rc = getaddrinfo(host == "*" ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0 || !res) return Status::Err(EADDRNOTAVAIL, host + ": " + gai_strerror(rc));
  return res;
}
}  // namespace

Result<int> ListenTcp(const std::string& host, int* port) {
  auto res = Resolve(host, 0, true);
  if (!res.ok()) return res.status();
  addrinfo* ai = *res;
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int err = errno;
  if (fd >= 0) {
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
      err = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(ai);
  if (fd < 0) return Status::Err(err, "listen on " + host);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    err = errno;
    close(fd);
    return Status::Err(err, "getsockname");
  }
  *port = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return fd;
}

Result<int> ConnectTcp(const std::string& host, int port) {
  auto res = Resolve(host, port, false);
  if (!res.ok()) return res.status();
  addrinfo* ai = *res;
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int err = errno;
  if (fd >= 0) {
    NoDelay(fd);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      err = errno;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(ai);
  if (fd < 0) return Status::Err(err, "connect to " + host + ":" + std::to_string(port));
  return fd;
}

int AcceptTcp(int listen_fd) {
  int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) NoDelay(fd);
  return fd;
}

}  // namespace dos::net
