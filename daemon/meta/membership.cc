#include "daemon/meta/membership.h"

#include <chrono>

#include "common/store/stmt.h"

namespace dos::meta {

int64_t Membership::WallMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Status Membership::Load() {
  store::Stmt st(db_, "SELECT name, addr, capacity, used, chunks FROM nodes");
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    proto::NodeInfo n;
    n.name = st.Text(0);
    n.addr = st.Text(1);
    n.capacity = st.U64(2);
    n.used = st.U64(3);
    n.chunks = st.U64(4);
    nodes_[n.name] = n;
  }
  return LoadAdmin();
}

Status Membership::Heartbeat(const proto::HeartbeatReq& req) {
  auto a = admin_.find(req.name);
  if (a != admin_.end() && a->second.state == "REMOVED")
    return Status::Err(EPERM, "node " + req.name +
                                  " was removed; join again with a token from `dosctl node add`");
  auto& inc = incarnations_[req.name];
  if (inc.second == 0 || inc.first != req.pid) {
    inc.first = req.pid;
    inc.second++;
  }
  proto::NodeInfo& n = nodes_[req.name];
  n.load_milli = req.load_milli;
  n.rtt_us = req.rtt_us;
  n.config_version = req.config_version;
  n.name = req.name;
  n.addr = req.addr;
  n.capacity = req.capacity;
  n.used = req.used;
  n.chunks = req.chunks;
  n.last_seen_ms = clock_();
  store::Stmt st(db_,
                 "INSERT INTO nodes(name, addr, data_dir, capacity, used, chunks, pid)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(name) DO UPDATE SET"
                 " addr = ?2, data_dir = ?3, capacity = ?4, used = ?5, chunks = ?6, pid = ?7");
  st.Bind(1, req.name).Bind(2, req.addr).Bind(3, req.data_dir).Bind(4, req.capacity);
  st.Bind(5, req.used).Bind(6, req.chunks).Bind(7, req.pid);
  return st.Run();
}

bool Membership::IsUp(const std::string& name) const {
  auto it = nodes_.find(name);
  if (it == nodes_.end() || it->second.last_seen_ms == 0) return false;
  return clock_() - it->second.last_seen_ms <= timeout_ms_;
}

bool Membership::IsDead(const std::string& name) const {
  return Settled() && !IsUp(name);
}

std::vector<proto::NodeInfo> Membership::Nodes() const {
  Result<std::map<std::string, uint64_t>> counts = ReplicaCounts();
  std::vector<proto::NodeInfo> out;
  for (const auto& [name, n] : nodes_) {
    out.push_back(n);
    proto::NodeInfo& o = out.back();
    o.replicas = counts.ok() ? (*counts)[name] : 0;
    o.state = StateOf(name, o.replicas);
    auto a = admin_.find(name);
    o.drain_total = a == admin_.end() ? 0 : a->second.drain_total;
    auto z = o.labels.find("zone");
    o.zone = z == o.labels.end() ? "" : z->second;
  }
  return out;
}

std::string Membership::StateOf(const std::string& name, uint64_t replicas) const {
  if (!IsUp(name)) return "DOWN";
  auto a = admin_.find(name);
  if (a == admin_.end()) return "UP";
  if (a->second.state == "CORDON") return "CORDONED";
  if (a->second.state == "DRAIN") return replicas ? "DRAINING" : "DRAINED";
  return "UP";
}

Result<std::map<std::string, uint64_t>> Membership::ReplicaCounts() const {
  std::map<std::string, uint64_t> counts;
  store::Stmt st(db_, "SELECT node, count FROM node_replicas");
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) return counts;
    counts[st.Text(0)] = st.U64(1);
  }
}

std::string Membership::AddrOf(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? std::string() : it->second.addr;
}

Result<std::vector<Candidate>> Membership::Candidates() const {
  Result<std::map<std::string, uint64_t>> counts = ReplicaCounts();
  if (!counts.ok()) return counts.status();
  std::vector<Candidate> out;
  for (const auto& [name, n] : nodes_) {
    if (!IsUp(name)) continue;
    auto a = admin_.find(name);
    if (a != admin_.end() && (a->second.state == "CORDON" || a->second.state == "DRAIN")) continue;
    out.push_back(Candidate{name, n.capacity > n.used ? n.capacity - n.used : 0, (*counts)[name],
                            ZoneOf(name)});
  }
  return out;
}

void Membership::Capacity(uint64_t* total, uint64_t* free) const {
  *total = *free = 0;
  for (const auto& [name, n] : nodes_) {
    if (!IsUp(name)) continue;
    *total += n.capacity;
    *free += n.capacity > n.used ? n.capacity - n.used : 0;
  }
}

}  // namespace dos::meta
