// One dosd: the services this node runs, its server and its heartbeat, in
// start order. Owned by main(); Stop() undoes Start() in reverse.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/net/zap.h"
#include "common/status.h"
#include "daemon/chunk/chunk_service.h"
#include "daemon/heartbeat.h"
#include "daemon/metrics.h"
#include "daemon/meta/meta_service.h"

namespace dos {

struct NodeOptions {
  std::string name;
  std::string listen;  // endpoint to bind, also the one advertised
  std::string data;    // data folder: chunks/, meta/
  std::string meta;    // meta's endpoint (own listen with run_meta)
  bool run_meta = false;
  int heartbeat_ms = 1000;
  int heartbeat_timeout_ms = 10000;
  uint32_t repl = 3;
  uint64_t chunk_size = proto::kDefaultChunkSize;
  uint32_t repair_copies = 4;        // meta: re-replication copies at once
  uint64_t max_open_per_client = 16384;  // meta: open handles of one client; 0 = no limit
  uint64_t scrub_rate = 4ull << 20;  // background scrub, bytes/s; 0 = off
  std::string join;   // meta endpoint to join through (with token), instead of meta
  std::string token;  // join token from `dosctl node add`
  int metrics_port = 0;  // > 0: serve Prometheus metrics on the listen host
};

inline constexpr int kMetaLane = 0;   // exactly one thread: meta is serial
inline constexpr int kChunkLane = 1;  // wide: a write may wait on the next replica
inline constexpr int kMetaSlowLane = 2;  // meta ops that wait on nodes (net ping)
inline constexpr int kChunkThreads = 8;
inline constexpr int kForwardLane = 3;  // chain hops (see chunk::ChunkLanes)
inline constexpr int kLastHopLane = 4;

class Node {
 public:
  explicit Node(NodeOptions opts) : opts_(std::move(opts)) {}
  ~Node() { Stop(); }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Prepares the data folder, opens the services, binds and starts serving
  // and heartbeats. Errors name what failed (EADDRINUSE for a taken port).
  Status Start();
  void Stop();
  const std::string& endpoint() const { return endpoint_; }

 private:
  Status OpenServices();
  Status Join();  // --join: ask meta to admit this node
  Status StartMetrics();
  proto::HeartbeatReq MakeHeartbeat();
  void ReportBad(uint64_t id);  // scrub thread: tells meta a chunk is corrupt here
  void OnHeartbeatReply(const proto::HeartbeatRep& rep, int64_t rtt_us);
  std::string RenderMetrics();
  void SyncKeys(net::Client& meta);  // after each heartbeat
  void StartSecurity();

  NodeOptions opts_;
  std::string endpoint_;
  Metrics metrics_;
  std::mutex cluster_mu_;             // guards cluster_ and rtt_us_
  proto::HeartbeatRep cluster_;       // meta's last heartbeat reply
  int64_t rtt_us_ = -1;
  // Destroyed bottom-up: the heartbeat and server stop before the services
  // they call, and everything with a socket before the context.
  zmq::context_t ctx_;
  net::KeyRing ring_;  // who may connect (CURVE on); synced from meta
  std::unique_ptr<net::ZapHandler> zap_;
  std::unique_ptr<meta::MetaService> meta_;
  std::unique_ptr<net::Client> reporter_;  // to meta, for the scrub thread
  std::unique_ptr<chunk::ChunkService> chunk_;
  std::unique_ptr<net::Server> server_;
  std::unique_ptr<Heartbeat> heartbeat_;
  std::unique_ptr<MetricsServer> metrics_server_;
};

}  // namespace dos
