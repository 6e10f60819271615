// Messages of the key list kept by meta (ops kKeyAdd .. kKeySync). Included
// from messages.h; the op numbers live there.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/proto/msgpack_config.h"
#include "common/status.h"

namespace dos::proto {

inline constexpr size_t kMaxKeyName = 64;   // [A-Za-z0-9._-]+
inline constexpr size_t kKeyZ85Len = 40;    // a CURVE public key in Z85
inline constexpr uint32_t kMaxKeys = 4096;  // keys in one list
inline constexpr int64_t kNoId = -1;        // a key with no bound uid/gid
inline constexpr int64_t kMaxId = 4294967294;  // (uid_t)-1 means "unchanged" to chown

struct KeyInfo {
  std::string name;
  std::string public_key;  // Z85
  std::string role;        // "user", "admin" or "node"
  bool revoked = false;
  int64_t added_ms = 0;  // ms since the epoch
  int64_t uid = kNoId;   // a user key bound to this uid/gid, or kNoId
  int64_t gid = kNoId;
  MSGPACK_DEFINE_MAP(name, public_key, role, revoked, added_ms, uid, gid)
};
// Admin -> meta: allow public_key with role under name. EEXIST for a name or
// key already there (revoked ones too: names are never reused). A user key
// may be bound to uid (0..kMaxId) and gid (default: the uid): meta then
// takes these as the caller's credentials, whatever its requests say.
// EINVAL for a gid without uid, or a binding on another role. Reply Empty.
struct KeyAddReq {
  std::string name;
  std::string public_key;
  std::string role;
  int64_t uid = kNoId;
  int64_t gid = kNoId;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(name, public_key, role, uid, gid)
};
// Admin -> meta: revoke the key called name; it is refused from then on.
// ENOENT if unknown. Reply Empty.
struct KeyRevokeReq {
  std::string name;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(name)
};
// Node -> meta, after each heartbeat: the key list if its version differs
// from version (changed = true), else nothing. KeyList (admin, body Empty)
// answers every key, revoked ones too, with changed = true.
struct KeySyncReq {
  uint64_t version = 0;
  Status Valid() const { return Status::Ok(); }
  MSGPACK_DEFINE_MAP(version)
};
struct KeyListRep {
  uint64_t version = 0;
  bool changed = false;
  std::vector<KeyInfo> keys;  // KeySync: the allowed ones only
  MSGPACK_DEFINE_MAP(version, changed, keys)
};

// Z85 text of kKeyZ85Len characters.
bool ValidKeyText(const std::string& key);

}  // namespace dos::proto
