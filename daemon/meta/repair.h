// Repair: chunks with fewer live replicas than their file wants (a replica on
// a dead node, or one dropped as corrupt or stale) get a new copy on another
// UP node. The node is told to pull the chunk from a live replica
// (kChunkReplicate); when it reports success, meta puts it in the chunk's
// replica list in place of the dead one.
//
// PlanCopies is the pure choice of what to copy where. Repairer runs it: its
// Tick() is called on the meta thread (from heartbeats), so SQLite is only
// touched there; the copies themselves run on their own threads and are
// collected by a later Tick(). At most kMaxCopies run at once, so user I/O
// goes on, and the copies started are paced by the repair_bandwidth setting
// (a token bucket charged one chunk size per copy).
//
// Drain: a replica on a draining node can be the source of a copy but does
// not count toward the file's replication; its copy elsewhere takes its
// place in the chunk's list (and the node is told to delete it). A chunk that
// has enough replicas besides one on a draining node just loses that one.
//
// Known gap: a write that reaches the live replicas while a copy is running,
// without a version bump (the chunk had no dead replica), is missed by the
// new copy.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/net/client.h"
#include "common/store/db.h"
#include "daemon/meta/membership.h"
#include "daemon/meta/node_ops.h"
#include "daemon/meta/placement.h"

namespace dos::meta {

struct ChunkReplicas {
  uint64_t id = 0;
  uint64_t version = 1;
  uint32_t want = 3;               // the file's replication
  uint64_t chunk_size = 0;         // room a target needs
  std::vector<std::string> nodes;  // in chain order, dead ones included
};

struct Copy {
  uint64_t id = 0;
  uint64_t version = 1;
  std::string source;    // a live replica's node
  std::string target;    // the node that gets the new copy
  std::string replaces;  // a dead replica it takes the place of, or ""
  uint64_t bytes = 0;    // at most this much to copy (the file's chunk size)
};

using NodePred = std::function<bool(const std::string&)>;

// Up to max copies for chunks with fewer than want live replicas not on a
// draining node, skipping chunks in busy and chunks with no live replica. A
// target is a candidate not holding the chunk, chosen by Place() in a zone
// the chunk is not in yet if it can (cands are updated as copies are
// planned, so they spread). A copy replaces a dead replica first, else one
// on a draining node.
std::vector<Copy> PlanCopies(const std::vector<ChunkReplicas>& chunks, const NodePred& live,
                             std::vector<Candidate> cands, size_t max,
                             const std::set<uint64_t>& busy, std::mt19937_64& rng,
                             const NodePred& draining = {});

// (chunk id, node) pairs to drop: replicas on draining nodes of chunks that
// have want live replicas elsewhere, skipping chunks in busy.
std::vector<std::pair<uint64_t, std::string>> PlanDrops(const std::vector<ChunkReplicas>& chunks,
                                                        const NodePred& live,
                                                        const NodePred& draining,
                                                        const std::set<uint64_t>& busy);

// Pacing of copies: refills rate bytes per second up to one second's worth
// (at least one chunk); rate 0 means no limit.
class TokenBucket {
 public:
  void set_rate(uint64_t bytes_per_s) { rate_ = bytes_per_s; }
  // Takes cost bytes if the bucket is not empty (it may go below zero).
  bool Take(uint64_t cost, int64_t now_ms);

 private:
  uint64_t rate_ = 0;
  double tokens_ = 0;
  int64_t last_ms_ = 0;
};

class Repairer {
 public:
  static constexpr size_t kMaxCopies = 4;
  static constexpr int kTickMs = 1000;   // scan period while a node is dead
  static constexpr int kIdleScanMs = 30000;  // scan period otherwise
  static constexpr int kCopyTimeoutMs = 20000;

  Repairer(store::Db* db, Membership* members, zmq::context_t* ctx, uint32_t default_repl);
  ~Repairer();  // waits for the copies still running

  // Meta thread: records finished copies, starts new ones. Cheap when called
  // more often than every kTickMs. Failures are logged, then retried later.
  void Tick(int64_t now_ms);
  // Meta thread: the replica of chunk id on node is bad; dropped from the
  // list if another replica remains. ENOENT for an unknown chunk.
  Status DropReplica(uint64_t id, const std::string& node);
  // Settings, applied at once.
  void set_default_repl(uint32_t repl) { default_repl_ = repl; }
  void set_bandwidth(uint64_t bytes_per_s) { bucket_.set_rate(bytes_per_s); }
  // Where deletions of moved replicas go (meta's NodeClient); may be null.
  void set_node_ops(NodeOps* ops) { node_ops_ = ops; }
  // Scan at the next Tick (a node was drained or removed).
  void Kick() {
    dropped_ = true;
    last_tick_ms_ = 0;
  }

 private:
  struct Running {
    Copy copy;
    std::future<Status> done;
  };
  Result<std::vector<ChunkReplicas>> Scan();
  Status Apply(const Copy& c);
  void Start(const Copy& c);
  void Collect();
  void Drop(const std::vector<ChunkReplicas>& chunks, const std::set<uint64_t>& busy);

  store::Db* db_;
  Membership* members_;
  zmq::context_t* ctx_;
  uint32_t default_repl_;
  std::mt19937_64 rng_;
  TokenBucket bucket_;
  NodeOps* node_ops_ = nullptr;
  int64_t last_tick_ms_ = 0;
  int64_t last_scan_ms_ = 0;
  bool dropped_ = false;  // DropReplica ran since the last scan
  std::vector<Running> running_;
  std::map<std::string, std::unique_ptr<net::Client>> clients_;  // by endpoint; meta thread
};

}  // namespace dos::meta
