// Membership: the nodes of the cluster, from their heartbeats.
//
// A heartbeat upserts the node's row (so meta knows every node after a
// restart) and records when it was seen, in memory. A node is UP if seen
// within timeout_ms, else DOWN; after a restart every node is DOWN until it
// speaks again. Not thread-safe: used from the meta thread only.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/proto/messages.h"
#include "common/store/db.h"
#include "daemon/meta/placement.h"

namespace dos::meta {

class Membership {
 public:
  using Clock = std::function<int64_t()>;  // ms since the epoch
  static int64_t WallMs();

  Membership(store::Db* db, int timeout_ms, Clock clock = WallMs)
      : db_(db), timeout_ms_(timeout_ms), clock_(std::move(clock)), started_ms_(clock_()) {}

  // Reads the known nodes from the database.
  Status Load();
  Status Heartbeat(const proto::HeartbeatReq& req);
  // Every known node, sorted by name.
  std::vector<proto::NodeInfo> Nodes() const;
  bool IsUp(const std::string& name) const;
  // Known to be gone: not UP although meta has run for longer than the
  // timeout (so right after a restart of meta, nodes not heard from yet are
  // not dead). Its replicas may be dropped and copied elsewhere.
  bool IsDead(const std::string& name) const;
  // Meta has run for longer than the timeout: UP and DOWN are trustworthy.
  bool Settled() const { return clock_() - started_ms_ > timeout_ms_; }
  // The endpoint of node name, or "" if unknown.
  std::string AddrOf(const std::string& name) const;
  // UP nodes with their free bytes and replica counts, for Place().
  Result<std::vector<Candidate>> Candidates() const;
  // Capacity and free bytes of the UP nodes.
  void Capacity(uint64_t* total, uint64_t* free) const;

 private:
  store::Db* db_;
  int timeout_ms_;
  Clock clock_;
  int64_t started_ms_;
  std::map<std::string, proto::NodeInfo> nodes_;  // state filled in by Nodes()
};

}  // namespace dos::meta
