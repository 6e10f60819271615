// The meta service: namespace, file layout, placement, membership and locks,
// kept in one SQLite database (WAL). Runs on one node of the cluster.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/net/server.h"
#include "common/net/zap.h"

namespace dos::meta {

struct MetaOptions {
  std::string db_path;                 // SQLite file, created if absent
  int heartbeat_timeout_ms = 10000;    // a node silent this long is DOWN
  uint32_t default_repl = 3;           // min(default_repl, nodes UP) replicas
  uint64_t chunk_size = proto::kDefaultChunkSize;
  uint32_t repair_copies = 4;          // re-replication copies in flight at most
  uint64_t max_open_per_client = 16384;  // open handles of one client; 0 = no limit
  // Told the allowed keys (public key -> role) and their version at start
  // and after each key add or revoke; may be empty.
  std::function<void(std::map<std::string, net::Role>, uint64_t)> on_keys;
};

class MetaService {
 public:
  // Opens (or creates) the database. ctx is used for calls to chunk nodes.
  static Result<std::unique_ptr<MetaService>> Open(zmq::context_t* ctx, const MetaOptions& opts);
  virtual ~MetaService() = default;
  // Registers every meta op (kLookup .. kPing) on lane of server. The lane
  // must have exactly one thread: handlers are not reentrant. Ops that wait
  // on other nodes without touching meta's state (net ping) go on slow_lane
  // (any number of threads; < 0: lane), so they do not hold up the rest.
  virtual void Register(net::Server* server, int lane, int slow_lane) = 0;
  void Register(net::Server* server, int lane) { Register(server, lane, lane); }
};

}  // namespace dos::meta
