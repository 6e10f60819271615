// Keys: the public keys allowed into the cluster, in meta's database (table
// keys, schema version 3; uid/gid since 4). Names are never reused; a revoked
// key stays in the table, marked. Every change bumps settings.keys_version,
// which nodes compare after each heartbeat (KeySync) to refresh their own key
// rings. A user key may be bound to a uid/gid (Binding): meta's handlers then
// act with those credentials for it (daemon/meta/creds.h).
//
// Not thread-safe: meta's one thread.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>

#include "common/net/zap.h"
#include "common/proto/messages.h"
#include "common/store/db.h"

namespace dos::meta {

// The credentials a user key is bound to.
struct Binding {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

class Keys {
 public:
  // on_change gets the allowed keys and the version after Load() and every change.
  using OnChange = std::function<void(std::map<std::string, net::Role>, uint64_t)>;
  Keys(store::Db* db, OnChange on_change) : db_(db), on_change_(std::move(on_change)) {}

  Status Load();  // reports the current list to on_change
  Status Add(const proto::KeyAddReq& req);
  Status Revoke(const std::string& name);
  Status List(proto::KeyListRep* out);
  // Fills out only when version differs from the current one.
  Status Sync(uint64_t version, proto::KeyListRep* out);
  // The binding of an allowed key (Z85), or nullptr if it has none; valid
  // until the next Load/Add/Revoke.
  // Whether key (Z85) is allowed with role node.
  bool IsNodeKey(const std::string& key) const { return node_keys_.count(key) != 0; }
  const Binding* BindingOf(const std::string& key) const {
    auto it = bindings_.find(key);
    return it == bindings_.end() ? nullptr : &it->second;
  }

 private:
  Result<uint64_t> Version();
  Status Bump();
  Status Notify();
  Status Read(bool allowed_only, std::vector<proto::KeyInfo>* out);

  store::Db* db_;
  OnChange on_change_;
  std::map<std::string, Binding> bindings_;  // allowed bound keys, from Notify()
  std::set<std::string> node_keys_;          // allowed node keys, from Notify()
};

}  // namespace dos::meta
