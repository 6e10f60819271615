#include "daemon/meta/keys.h"

#include <chrono>

#include "common/store/stmt.h"
#include "common/store/txn.h"

namespace dos::meta {

namespace {
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Result<uint64_t> Keys::Version() {
  store::Stmt st(db_, "SELECT value FROM settings WHERE key = 'keys_version'");
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  return *row ? st.U64(0) : uint64_t{0};
}

Status Keys::Bump() {
  store::Stmt st(db_,
                 "INSERT INTO settings(key, value) VALUES ('keys_version', 1)"
                 " ON CONFLICT(key) DO UPDATE SET value = value + 1");
  return st.Run();
}

Status Keys::Read(bool allowed_only, std::vector<proto::KeyInfo>* out) {
  const char* sql = allowed_only ? "SELECT name, public_key, role, revoked, added_ms,"
                                   " ifnull(uid, -1), ifnull(gid, -1) FROM keys"
                                   " WHERE revoked = 0 ORDER BY name"
                                 : "SELECT name, public_key, role, revoked, added_ms,"
                                   " ifnull(uid, -1), ifnull(gid, -1) FROM keys ORDER BY name";
  store::Stmt st(db_, sql);
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    out->push_back(
        {st.Text(0), st.Text(1), st.Text(2), st.Int(3) != 0, st.Int(4), st.Int(5), st.Int(6)});
  }
}

Status Keys::Notify() {
  std::vector<proto::KeyInfo> keys;
  if (Status s = Read(true, &keys); !s.ok()) return s;
  Result<uint64_t> v = Version();
  if (!v.ok()) return v.status();
  std::map<std::string, net::Role> ring;
  bindings_.clear();
  node_keys_.clear();
  for (const auto& k : keys) {
    ring[k.public_key] = net::ParseRole(k.role);
    if (k.role == "node") node_keys_.insert(k.public_key);
    if (k.uid != proto::kNoId)
      bindings_[k.public_key] = {static_cast<uint32_t>(k.uid),
                                 static_cast<uint32_t>(k.gid == proto::kNoId ? k.uid : k.gid)};
  }
  if (on_change_) on_change_(std::move(ring), *v);
  return Status::Ok();
}

Status Keys::Load() { return Notify(); }

Status Keys::Add(const proto::KeyAddReq& req) {
  if (Status s = req.Valid(); !s.ok()) return s;
  {
    store::Stmt st(db_, "SELECT name FROM keys WHERE name = ?1 OR public_key = ?2");
    st.Bind(1, req.name).Bind(2, req.public_key);
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (*row)
      return Status::Err(EEXIST, "a key named " + st.Text(0) + " already has this name or key");
  }
  store::Txn txn(db_);
  if (Status s = txn.Begin(); !s.ok()) return s;
  store::Stmt ins(db_,
                  "INSERT INTO keys(name, public_key, role, revoked, added_ms, uid, gid)"
                  " VALUES (?1, ?2, ?3, 0, ?4, nullif(?5, -1), nullif(?6, -1))");
  // An unset gid of a bound key is its uid (a user private group).
  int64_t gid = req.uid != proto::kNoId && req.gid == proto::kNoId ? req.uid : req.gid;
  ins.Bind(1, req.name).Bind(2, req.public_key).Bind(3, req.role).Bind(4, NowMs());
  ins.Bind(5, req.uid).Bind(6, gid);
  if (Status s = ins.Run(); !s.ok()) return s;
  if (Status s = Bump(); !s.ok()) return s;
  if (Status s = txn.Commit(); !s.ok()) return s;
  return Notify();
}

Status Keys::Revoke(const std::string& name) {
  store::Txn txn(db_);
  if (Status s = txn.Begin(); !s.ok()) return s;
  store::Stmt up(db_, "UPDATE keys SET revoked = 1 WHERE name = ?1 AND revoked = 0");
  up.Bind(1, name);
  if (Status s = up.Run(); !s.ok()) return s;
  if (sqlite3_changes(db_->handle()) == 0)
    return Status::Err(ENOENT, "no key named " + name + " (or it is revoked already)");
  if (Status s = Bump(); !s.ok()) return s;
  if (Status s = txn.Commit(); !s.ok()) return s;
  return Notify();
}

Status Keys::List(proto::KeyListRep* out) {
  Result<uint64_t> v = Version();
  if (!v.ok()) return v.status();
  out->version = *v;
  out->changed = true;
  return Read(false, &out->keys);
}

Status Keys::Sync(uint64_t version, proto::KeyListRep* out) {
  Result<uint64_t> v = Version();
  if (!v.ok()) return v.status();
  out->version = *v;
  out->changed = *v != version;
  if (!out->changed) return Status::Ok();
  return Read(true, &out->keys);
}

}  // namespace dos::meta
