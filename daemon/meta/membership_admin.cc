// Membership administration: labels, cordon/drain, remove, join tokens.
#include <random>

#include "common/store/stmt.h"
#include "common/store/txn.h"
#include "daemon/meta/membership.h"

namespace dos::meta {

Status Membership::LoadAdmin() {
  store::Stmt st(db_, "SELECT node, state, drain_total FROM node_admin");
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    admin_[st.Text(0)] = Admin{st.Text(1), st.U64(2)};
  }
  store::Stmt lb(db_, "SELECT node, key, value FROM labels");
  for (;;) {
    Result<bool> row = lb.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    auto it = nodes_.find(lb.Text(0));
    if (it != nodes_.end()) it->second.labels[lb.Text(1)] = lb.Text(2);
  }
}

Status Membership::PutAdmin(const std::string& name, const Admin& a) {
  if (a.state.empty()) {
    store::Stmt del(db_, "DELETE FROM node_admin WHERE node = ?1");
    if (Status s = del.Bind(1, name).Run(); !s.ok()) return s;
    admin_.erase(name);
    return Status::Ok();
  }
  store::Stmt put(db_,
                  "INSERT INTO node_admin(node, state, drain_total) VALUES (?1, ?2, ?3)"
                  " ON CONFLICT(node) DO UPDATE SET state = ?2, drain_total = ?3");
  if (Status s = put.Bind(1, name).Bind(2, a.state).Bind(3, a.drain_total).Run(); !s.ok()) return s;
  admin_[name] = a;
  return Status::Ok();
}

Status Membership::SetAdmin(const std::string& name, const std::string& action) {
  if (!nodes_.count(name)) return Status::Err(ENOENT, "no node " + name);
  if (action == "uncordon") return PutAdmin(name, Admin{});
  if (action == "cordon") return PutAdmin(name, Admin{"CORDON", 0});
  if (action != "drain") return Status::Err(EINVAL, "unknown action " + action);
  auto cur = admin_.find(name);
  if (cur != admin_.end() && cur->second.state == "DRAIN") return Status::Ok();
  Result<std::map<std::string, uint64_t>> counts = ReplicaCounts();
  if (!counts.ok()) return counts.status();
  return PutAdmin(name, Admin{"DRAIN", (*counts)[name]});
}

Status Membership::SetLabel(const proto::NodeLabelReq& req) {
  auto it = nodes_.find(req.name);
  if (it == nodes_.end()) return Status::Err(ENOENT, "no node " + req.name);
  if (req.remove) {
    store::Stmt del(db_, "DELETE FROM labels WHERE node = ?1 AND key = ?2");
    if (Status s = del.Bind(1, req.name).Bind(2, req.key).Run(); !s.ok()) return s;
    it->second.labels.erase(req.key);
    return Status::Ok();
  }
  store::Stmt put(db_,
                  "INSERT INTO labels(node, key, value) VALUES (?1, ?2, ?3)"
                  " ON CONFLICT(node, key) DO UPDATE SET value = ?3");
  if (Status s = put.Bind(1, req.name).Bind(2, req.key).Bind(3, req.value).Run(); !s.ok()) return s;
  it->second.labels[req.key] = req.value;
  return Status::Ok();
}

Status Membership::Remove(const std::string& name) {
  if (!nodes_.count(name)) return Status::Err(ENOENT, "no node " + name);
  store::Stmt only(db_,
                   "SELECT COUNT(*) FROM replicas r WHERE r.node = ?1 AND NOT EXISTS"
                   " (SELECT 1 FROM replicas o WHERE o.chunk_id = r.chunk_id AND o.node != ?1)");
  Result<bool> row = only.Bind(1, name).Step();
  if (!row.ok()) return row.status();
  if (only.U64(0) > 0)
    return Status::Err(EBUSY, name + " holds the only copy of " + std::to_string(only.U64(0)) +
                                  " chunks; drain it first (dosctl node drain " + name + ")");
  store::Txn txn(db_);
  if (Status s = txn.Begin(); !s.ok()) return s;
  for (const char* sql :
       {"DELETE FROM replicas WHERE node = ?1", "DELETE FROM nodes WHERE name = ?1",
        "DELETE FROM labels WHERE node = ?1"}) {
    store::Stmt st(db_, sql);
    if (Status s = st.Bind(1, name).Run(); !s.ok()) return s;
  }
  if (Status s = PutAdmin(name, Admin{"REMOVED", 0}); !s.ok()) return s;
  if (Status s = txn.Commit(); !s.ok()) return s;
  nodes_.erase(name);
  return Status::Ok();
}

Result<std::string> Membership::NewToken(const std::string& name) {
  std::random_device rd;
  static const char kHex[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 32; ++i) token += kHex[rd() % 16];
  store::Stmt st(db_, "INSERT INTO join_tokens(token, node, created_ms) VALUES (?1, ?2, ?3)");
  if (Status s = st.Bind(1, token).Bind(2, name).Bind(3, clock_()).Run(); !s.ok()) return s;
  return token;
}

Status Membership::Join(const proto::JoinReq& req, bool key_is_node) {
  if (req.token.empty() && !key_is_node)
    return Status::Err(EACCES,
                       "a join needs a token (dosctl node add NAME) unless the node's key is "
                       "registered with role node");
  if (!req.token.empty()) {
    store::Stmt st(db_, "SELECT node FROM join_tokens WHERE token = ?1");
    Result<bool> row = st.Bind(1, req.token).Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Err(EACCES, "unknown or already used join token");
    if (st.Text(0) != req.name)
      return Status::Err(EACCES, "the token was made for node " + st.Text(0) + ", not " + req.name);
  }
  auto it = nodes_.find(req.name);
  if (it != nodes_.end() && IsUp(req.name) && it->second.addr != req.addr)
    return Status::Err(EEXIST, "node " + req.name + " is UP at " + it->second.addr);
  if (!req.token.empty()) {
    store::Stmt use(db_, "DELETE FROM join_tokens WHERE token = ?1");
    if (Status s = use.Bind(1, req.token).Run(); !s.ok()) return s;
  }
  auto a = admin_.find(req.name);
  if (a != admin_.end() && a->second.state == "REMOVED") {
    if (Status s = PutAdmin(req.name, Admin{}); !s.ok()) return s;
  }
  proto::HeartbeatReq hb;
  hb.name = req.name;
  hb.addr = req.addr;
  return Heartbeat(hb);
}

bool Membership::IsDraining(const std::string& name) const {
  auto a = admin_.find(name);
  return a != admin_.end() && a->second.state == "DRAIN";
}

std::vector<std::string> Membership::Names() const {
  std::vector<std::string> out;
  for (const auto& [name, n] : nodes_) out.push_back(name);
  return out;
}

void Membership::Count(uint32_t* up, uint32_t* total) const {
  *up = *total = 0;
  for (const auto& [name, n] : nodes_) {
    ++*total;
    *up += IsUp(name);
  }
}

bool Membership::AnyDraining() const {
  for (const auto& [name, a] : admin_)
    if (a.state == "DRAIN") return true;
  return false;
}

std::string Membership::ZoneOf(const std::string& name) const {
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return "";
  auto z = it->second.labels.find("zone");
  return z == it->second.labels.end() ? "" : z->second;
}

}  // namespace dos::meta
