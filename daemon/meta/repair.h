// Repair: chunks with fewer live replicas than their file wants (a replica on
// a dead node, or one dropped as corrupt or stale) get a new copy on another
// UP node. The node is told to pull the chunk from a live replica
// (kChunkReplicate); when it reports success, meta puts it in the chunk's
// replica list in place of the dead one.
//
// PlanCopies is the pure choice of what to copy where. Repairer runs it: its
// Tick() is called on the meta thread (from heartbeats), so SQLite is only
// touched there; the copies themselves run on their own threads and are
// collected by a later Tick(). At most max_copies run at once (dosd
// --repair-copies), so user I/O goes on; as a finished copy is seen only at
// the next Tick, that is also about max_copies chunks a second.
//
// Copies started are also paced by the repair_bandwidth setting (a token
// bucket charged one chunk size per copy).
//
// Drain: a replica on a draining node can be the source of a copy but does
// not count toward the file's replication; its copy elsewhere takes its
// place in the chunk's list (and the node is told to delete it). A chunk that
// has enough replicas besides one on a draining node just loses that one.
//
// Returning nodes (reconcile.cc): each node that comes UP (and every node
// every kInventoryMs) is asked for its chunk inventory (kChunkInventory);
// a copy it holds that meta does not list there (replaced while it was
// down, or surplus) or that is older than the chunk's version (stale) is
// deleted from its disk. Deletes run as jobs like copies; a chunk with a job
// running is never copied, dropped or deleted by another one. Surplus rows
// (more live replicas than R) are dropped by the scan.
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
#include "common/proto/messages.h"
#include "common/store/db.h"
#include "daemon/meta/membership.h"
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

// A chunk copy a node holds, from its inventory.
struct HeldCopy {
  uint64_t id = 0;
  uint64_t version = 0;
};

class Repairer {
 public:
  static constexpr size_t kDefaultMaxCopies = 4;
  // Copies to one target at once: half of a node's chunk threads (node.h),
  // so the rest still serve reads (also the copies' own reads).
  static constexpr size_t kMaxPerTarget = 4;
  static constexpr int kInventoryMs = 300000;  // re-inventory of every UP node
  // A node that came back (DOWN, then UP; or restarted, seen by its pid) is
  // inventoried at once and again this long after: requests its peers
  // queued while it was away (ZeroMQ delivers them once it reconnects) may
  // make copies after the first look.
  static constexpr int kRecheckMs = 15000;
  static constexpr int kTickMs = 1000;   // scan period while a node is dead or copies are due
  static constexpr int kIdleScanMs = 30000;  // scan period otherwise
  static constexpr int kCopyTimeoutMs = 20000;

  Repairer(store::Db* db, Membership* members, zmq::context_t* ctx, uint32_t default_repl,
           size_t max_copies = kDefaultMaxCopies);
  ~Repairer();  // waits for the copies still running

  // Meta thread: records finished copies, starts new ones. Cheap when called
  // more often than every kTickMs. Failures are logged, then retried later.
  void Tick(int64_t now_ms);
  // Meta thread: the replica of chunk id on node is bad; dropped from the
  // list if another replica remains. ENOENT for an unknown chunk.
  // Also deletes that copy from the node's disk.
  Status DropReplica(uint64_t id, const std::string& node);
  // Meta thread: counts of ok / under-replicated / missing / stale chunks
  // and the copies' progress.
  Status Health(proto::FsHealthRep* out);
  // Meta thread, blocking (up to the call timeout per page): what node holds.
  Result<std::vector<HeldCopy>> Inventory(const std::string& node);
  // Meta thread: chunks with a copy or delete running (left alone by fsck).
  std::set<uint64_t> Busy() const;
  // Meta thread: deletes chunk id from node's disk in the background.
  void DeleteCopy(uint64_t id, const std::string& node) { DeleteCopies({id}, node); }
  // Meta thread: the same for many chunks of one node, in kChunkDeleteMany
  // calls of up to proto::kMaxDeleteBatch chunks.
  void DeleteCopies(const std::vector<uint64_t>& ids, const std::string& node);
  // Settings, applied at once.
  void set_default_repl(uint32_t repl) { default_repl_ = repl; }
  void set_bandwidth(uint64_t bytes_per_s) { bucket_.set_rate(bytes_per_s); }
  // Meta thread: a client reported node as having missed a write of a chunk
  // and meta dropped (or had dropped) that replica while node is UP: its
  // copy, if the write or an older one landed after all, is no longer
  // listed. node is inventoried again kRecheckMs after now_ms (once, however
  // many drops come meanwhile), so the copy goes then, not at the next
  // kInventoryMs pass. Unknown or DOWN nodes are left alone (a node that
  // comes back is inventoried anyway).
  void Recheck(const std::string& node, int64_t now_ms);
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
  struct Deleting {
    std::vector<uint64_t> ids;
    std::string node;
    std::future<Result<proto::ChunkDeleteManyRep>> done;
  };
  net::Client* ClientFor(const std::string& node);  // nullptr if unknown
  void CollectCopies();
  void CollectDeletes();
  // Starts inventories of nodes newly UP; reconciles finished ones.
  void Inventories(int64_t now_ms);
  Status Reconcile(const std::string& node, const std::vector<HeldCopy>& held);
  // Reconcile's database half: drops rows, lists the copies to delete.
  Status ReconcileRows(const std::string& node, const std::vector<HeldCopy>& held,
                       std::vector<uint64_t>* doomed);
  // Drops replica rows above R on live nodes (not while a job runs on the chunk).
  Status DropSurplus(const std::vector<ChunkReplicas>& chunks, const std::set<uint64_t>& busy);
  // DropSurplus's database half: drops rows, lists the copies to delete by node.
  Status SurplusRows(const std::vector<ChunkReplicas>& chunks, const std::set<uint64_t>& busy,
                     std::map<std::string, std::vector<uint64_t>>* doomed);
  // Drops replicas on draining nodes that are no longer needed (PlanDrops).
  void DropDrained(const std::vector<ChunkReplicas>& chunks, const std::set<uint64_t>& busy);
  Result<std::vector<ChunkReplicas>> Scan();
  Status Apply(const Copy& c);
  void Start(const Copy& c);

  store::Db* db_;
  Membership* members_;
  zmq::context_t* ctx_;
  uint32_t default_repl_;
  size_t max_copies_;
  TokenBucket bucket_;
  std::mt19937_64 rng_;
  int64_t last_tick_ms_ = 0;
  int64_t last_scan_ms_ = 0;
  bool dropped_ = false;  // DropReplica ran since the last scan
  std::vector<Running> running_;
  std::vector<Deleting> deleting_;
  std::map<std::string, std::future<Result<std::vector<HeldCopy>>>> inventories_;
  std::set<std::string> inventoried_;  // UP nodes inventoried since they came UP
  std::map<std::string, uint64_t> incarnation_;  // node -> Membership::Incarnation last seen
  std::set<std::string> returned_;     // came back; the next inventory schedules a recheck
  std::map<std::string, int64_t> recheck_ms_;  // node -> when to inventory it again
  int64_t last_inventory_ms_ = 0;
  uint64_t copies_done_ = 0, copies_failed_ = 0, copies_dropped_ = 0;
  std::map<std::string, std::unique_ptr<net::Client>> clients_;  // by endpoint; meta thread
};

}  // namespace dos::meta
