#include "daemon/metrics.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "common/proto/messages.h"

namespace dos {

std::string OpName(uint32_t op) {
  using proto::Op;
  static const std::map<uint32_t, const char*> kNames = {
      {uint32_t(Op::kLookup), "lookup"},
      {uint32_t(Op::kGetattr), "getattr"},
      {uint32_t(Op::kSetattr), "setattr"},
      {uint32_t(Op::kMknod), "mknod"},
      {uint32_t(Op::kMkdir), "mkdir"},
      {uint32_t(Op::kUnlink), "unlink"},
      {uint32_t(Op::kRmdir), "rmdir"},
      {uint32_t(Op::kSymlink), "symlink"},
      {uint32_t(Op::kReadlink), "readlink"},
      {uint32_t(Op::kLink), "link"},
      {uint32_t(Op::kRename), "rename"},
      {uint32_t(Op::kReaddir), "readdir"},
      {uint32_t(Op::kStatfs), "statfs"},
      {uint32_t(Op::kSetxattr), "setxattr"},
      {uint32_t(Op::kGetxattr), "getxattr"},
      {uint32_t(Op::kListxattr), "listxattr"},
      {uint32_t(Op::kRemovexattr), "removexattr"},
      {uint32_t(Op::kOpen), "open"},
      {uint32_t(Op::kRelease), "release"},
      {uint32_t(Op::kChunkList), "chunk_list"},
      {uint32_t(Op::kChunkAlloc), "chunk_alloc"},
      {uint32_t(Op::kCommitWrite), "commit_write"},
      {uint32_t(Op::kSetRepl), "set_repl"},
      {uint32_t(Op::kCreate), "create"},
      {uint32_t(Op::kReleaseMany), "release_many"},
      {uint32_t(Op::kChunkFailed), "chunk_failed"},
      {uint32_t(Op::kGetlk), "getlk"},
      {uint32_t(Op::kSetlk), "setlk"},
      {uint32_t(Op::kReleaseLocks), "release_locks"},
      {uint32_t(Op::kHeartbeat), "heartbeat"},
      {uint32_t(Op::kNodeList), "node_list"},
      {uint32_t(Op::kPing), "ping"},
      {uint32_t(Op::kChunkBad), "chunk_bad"},
      {uint32_t(Op::kFsHealth), "fs_health"},
      {uint32_t(Op::kFsck), "fsck"},
      {uint32_t(Op::kConfigList), "config_list"},
      {uint32_t(Op::kConfigSet), "config_set"},
      {uint32_t(Op::kNodeLabel), "node_label"},
      {uint32_t(Op::kNodeAdmin), "node_admin"},
      {uint32_t(Op::kNodeRemove), "node_remove"},
      {uint32_t(Op::kNodeAdd), "node_add"},
      {uint32_t(Op::kJoin), "join"},
      {uint32_t(Op::kNetPing), "net_ping"},
      {uint32_t(Op::kKeyAdd), "key_add"},
      {uint32_t(Op::kKeyList), "key_list"},
      {uint32_t(Op::kKeyRevoke), "key_revoke"},
      {uint32_t(Op::kKeySync), "key_sync"},
      {uint32_t(Op::kChunkWrite), "chunk_write"},
      {uint32_t(Op::kChunkRead), "chunk_read"},
      {uint32_t(Op::kChunkTruncate), "chunk_truncate"},
      {uint32_t(Op::kChunkDelete), "chunk_delete"},
      {uint32_t(Op::kChunkStat), "chunk_stat"},
      {uint32_t(Op::kChunkSync), "chunk_sync"},
      {uint32_t(Op::kChunkReplicate), "chunk_replicate"},
      {uint32_t(Op::kChunkInventory), "chunk_inventory"},
      {uint32_t(Op::kChunkScrub), "chunk_scrub"},
      {uint32_t(Op::kChunkForward), "chunk_forward"},
      {uint32_t(Op::kChunkForwardLast), "chunk_forward_last"},
      {uint32_t(Op::kChunkDeleteMany), "chunk_delete_many"},
      {uint32_t(Op::kPeerPing), "peer_ping"},
      {uint32_t(Op::kNodeEcho), "node_echo"},
  };
  auto it = kNames.find(op);
  return it == kNames.end() ? "op" + std::to_string(op) : it->second;
}

void Metrics::Observe(uint32_t op, size_t in_bytes, size_t out_bytes, int64_t ns, int err) {
  double s = static_cast<double>(ns) / 1e9;
  std::lock_guard<std::mutex> lock(mu_);
  OpStats& o = ops_[op];
  ++o.count;
  o.errors += err != 0;
  o.bytes_in += in_bytes;
  o.bytes_out += out_bytes;
  o.seconds += s;
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (s <= kBuckets[i]) {
      ++o.le[i];
      break;
    }
}

std::string Metrics::Render() const {
  std::string out;
  char line[256];
  auto add = [&](const char* fmt, const std::string& op, double v) {
    std::snprintf(line, sizeof(line), fmt, op.c_str(), v);
    out += line;
  };
  std::lock_guard<std::mutex> lock(mu_);
  out +=
      "# HELP dos_requests_total Requests this dosd handled, by op.\n"
      "# TYPE dos_requests_total counter\n";
  for (const auto& [op, o] : ops_) add("dos_requests_total{op=\"%s\"} %.0f\n", OpName(op), o.count);
  out +=
      "# HELP dos_request_errors_total Requests answered with an error.\n"
      "# TYPE dos_request_errors_total counter\n";
  for (const auto& [op, o] : ops_)
    add("dos_request_errors_total{op=\"%s\"} %.0f\n", OpName(op), o.errors);
  out +=
      "# HELP dos_io_bytes_total Bytes received (in) and sent (out) in requests and replies.\n"
      "# TYPE dos_io_bytes_total counter\n";
  for (const auto& [op, o] : ops_) {
    add("dos_io_bytes_total{op=\"%s\",dir=\"in\"} %.0f\n", OpName(op), o.bytes_in);
    add("dos_io_bytes_total{op=\"%s\",dir=\"out\"} %.0f\n", OpName(op), o.bytes_out);
  }
  out +=
      "# HELP dos_request_seconds Time a handler took, by op.\n"
      "# TYPE dos_request_seconds histogram\n";
  for (const auto& [op, o] : ops_) {
    uint64_t cum = 0;
    std::string name = OpName(op);
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cum += o.le[i];
      std::snprintf(line, sizeof(line), "dos_request_seconds_bucket{op=\"%s\",le=\"%g\"} %llu\n",
                    name.c_str(), kBuckets[i], static_cast<unsigned long long>(cum));
      out += line;
    }
    add("dos_request_seconds_bucket{op=\"%s\",le=\"+Inf\"} %.0f\n", name, o.count);
    add("dos_request_seconds_sum{op=\"%s\"} %.6f\n", name, o.seconds);
    add("dos_request_seconds_count{op=\"%s\"} %.0f\n", name, o.count);
  }
  return out;
}

Status MetricsServer::Start(const std::string& host, int port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Status::FromErrno("metrics socket");
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (host.empty() || host == "*" || host == "0.0.0.0")
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
  else if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    return Status::Err(EINVAL, "metrics: not an IPv4 address: " + host);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return Status::FromErrno("metrics: bind " + host + ":" + std::to_string(port));
  if (listen(listen_fd_, 16) != 0) return Status::FromErrno("metrics: listen");
  if (pipe2(stop_pipe_, O_CLOEXEC) != 0) return Status::FromErrno("metrics: pipe");
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void MetricsServer::Stop() {
  if (thread_.joinable()) {
    (void)!write(stop_pipe_[1], "x", 1);
    thread_.join();
  }
  for (int* fd : {&listen_fd_, &stop_pipe_[0], &stop_pipe_[1]})
    if (*fd >= 0) {
      close(*fd);
      *fd = -1;
    }
}

void MetricsServer::Loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Serve(fd);
    close(fd);
  }
}

// Reads the request head (2 s at most), answers, closes.
void MetricsServer::Serve(int fd) {
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::string req;
  char buf[1024];
  while (req.size() < 8192 && req.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return;
    req.append(buf, static_cast<size_t>(n));
  }
  bool ok = req.rfind("GET /metrics ", 0) == 0 || req.rfind("GET / ", 0) == 0;
  std::string body = ok ? body_() : "not found: try /metrics\n";
  std::string head =
      std::string(ok ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.0 404 Not Found\r\n") +
      "Content-Type: text/plain; version=0.0.4\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n";
  std::string all = head + body;
  for (size_t off = 0; off < all.size();) {
    ssize_t n = write(fd, all.data() + off, all.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace dos
