// Membership: the nodes of the cluster, from their heartbeats.
//
// A heartbeat upserts the node's row (so meta knows every node after a
// restart) and records when it was seen, in memory. A node is UP if seen
// within timeout_ms, else DOWN; after a restart every node is DOWN until it
// speaks again.
//
// Administration (membership_admin.cc): labels ("zone" is the failure
// domain placement spreads over), cordon and drain (no new chunks there;
// a drain also makes the Repairer move its chunks away), remove (refused
// while the node holds the only copy of a chunk; its heartbeats are refused
// until it joins again) and join with a one-use token. Until client and node
// keys exist (issue 5, security), a node that simply heartbeats is admitted
// too; a token is what a removed node needs to come back.
//
// Not thread-safe: used from the meta thread only.
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
  // The heartbeat_timeout setting.
  void set_timeout_ms(int timeout_ms) { timeout_ms_ = timeout_ms; }
  // EPERM for a removed node.
  Status Heartbeat(const proto::HeartbeatReq& req);
  // Every known node, sorted by name.
  std::vector<proto::NodeInfo> Nodes() const;
  bool IsUp(const std::string& name) const;
  std::vector<std::string> Names() const;  // every known node, no database access
  // Known to be gone: not UP although meta has run for longer than the
  // timeout (so right after a restart of meta, nodes not heard from yet are
  // not dead). Its replicas may be dropped and copied elsewhere.
  bool IsDead(const std::string& name) const;
  // Meta has run for longer than the timeout: UP and DOWN are trustworthy.
  bool Settled() const { return clock_() - started_ms_ > timeout_ms_; }
  // Counts the processes a node has been seen as (a heartbeat with another
  // pid than the last one: it restarted); 0 for a node not heard from.
  uint64_t Incarnation(const std::string& name) const {
    auto it = incarnations_.find(name);
    return it == incarnations_.end() ? 0 : it->second.second;
  }
  // The endpoint of node name, or "" if unknown.
  std::string AddrOf(const std::string& name) const;
  // UP nodes with their free bytes and replica counts, for Place().
  Result<std::vector<Candidate>> Candidates() const;
  // Capacity and free bytes of the UP nodes.
  void Capacity(uint64_t* total, uint64_t* free) const;

  // ---- administration (membership_admin.cc); ENOENT for an unknown node.
  // action: "cordon", "uncordon" or "drain".
  Status SetAdmin(const std::string& name, const std::string& action);
  Status SetLabel(const proto::NodeLabelReq& req);
  // EBUSY while name holds the only copy of a chunk; its other replicas are
  // dropped from the chunks' lists (repair copies them anew).
  Status Remove(const std::string& name);
  // A new one-use join token for a node called name.
  Result<std::string> NewToken(const std::string& name);
  // Admits the node: EACCES for a bad token, EEXIST if another node of that
  // name is UP elsewhere.
  // key_is_node: the sender's key is registered with role node (then req.token
  // may be empty).
  Status Join(const proto::JoinReq& req, bool key_is_node);
  bool IsDraining(const std::string& name) const;
  // Nodes UP and known, without touching the database (every heartbeat).
  void Count(uint32_t* up, uint32_t* total) const;
  bool AnyDraining() const;
  std::string ZoneOf(const std::string& name) const;

 private:
  struct Admin {
    std::string state;  // "CORDON", "DRAIN", "REMOVED"
    uint64_t drain_total = 0;
  };
  Result<std::map<std::string, uint64_t>> ReplicaCounts() const;
  Status LoadAdmin();
  Status PutAdmin(const std::string& name, const Admin& a);
  std::string StateOf(const std::string& name, uint64_t replicas) const;

  store::Db* db_;
  int timeout_ms_;
  Clock clock_;
  int64_t started_ms_;
  std::map<std::string, proto::NodeInfo> nodes_;  // state filled in by Nodes()
  std::map<std::string, std::pair<uint32_t, uint64_t>> incarnations_;  // name -> (pid, count)
  std::map<std::string, Admin> admin_;
};

}  // namespace dos::meta
