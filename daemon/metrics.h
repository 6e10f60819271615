// Metrics: what one dosd counts (every request its server handles: count,
// errors, bytes in and out, latency histogram, per op) and a tiny HTTP
// server that shows them in the Prometheus text format on
// http://HOST:PORT/metrics (dosd --metrics-port). Opt-in: no port, no server.
//
// Thread safety: Observe() from any worker thread, Render() from the HTTP
// thread; both under mu_.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace dos {

class Metrics {
 public:
  static constexpr std::array<double, 9> kBuckets = {0.0001, 0.0005, 0.001, 0.005, 0.01,
                                                     0.05,   0.1,    0.5,   1.0};
  void Observe(uint32_t op, size_t in_bytes, size_t out_bytes, int64_t ns, int err);
  // The request families, in the text format.
  std::string Render() const;

 private:
  struct OpStats {
    uint64_t count = 0;
    uint64_t errors = 0;
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
    double seconds = 0;
    std::array<uint64_t, kBuckets.size()> le{};  // cumulative at render time
  };
  mutable std::mutex mu_;  // guards ops_
  std::map<uint32_t, OpStats> ops_;
};

// Serves GET /metrics with body() on host:port, one connection at a time.
class MetricsServer {
 public:
  explicit MetricsServer(std::function<std::string()> body) : body_(std::move(body)) {}
  ~MetricsServer() { Stop(); }
  // EADDRINUSE and the like from bind().
  Status Start(const std::string& host, int port);
  void Stop();

 private:
  void Loop();
  void Serve(int fd);

  std::function<std::string()> body_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
};

// The name of an op for a metric label ("chunk_write"), or its number.
std::string OpName(uint32_t op);

}  // namespace dos
