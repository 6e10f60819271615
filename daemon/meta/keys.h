// Keys: the public keys allowed into the cluster, in meta's database (table
// keys, schema version 3). Names are never reused; a revoked key stays in the
// table, marked. Every change bumps settings.keys_version, which nodes
// compare after each heartbeat (KeySync) to refresh their own key rings.
//
// Not thread-safe: meta's one thread.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "common/net/zap.h"
#include "common/proto/messages.h"
#include "common/store/db.h"

namespace dos::meta {

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

 private:
  Result<uint64_t> Version();
  Status Bump();
  Status Notify();
  Status Read(bool allowed_only, std::vector<proto::KeyInfo>* out);

  store::Db* db_;
  OnChange on_change_;
};

}  // namespace dos::meta
