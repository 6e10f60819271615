#include "daemon/auth/roles.h"

#include <map>

namespace dos::auth {

namespace {

using proto::Op;

struct Entry {
  Need need;
  const char* name;
};

const std::map<uint32_t, Entry>& Table() {
  static const std::map<uint32_t, Entry> kTable = [] {
    std::map<uint32_t, Entry> t;
    auto put = [&t](Op op, Need n, const char* name) { t[static_cast<uint32_t>(op)] = {n, name}; };
    const std::pair<Op, const char*> user_ops[] = {
        {Op::kLookup, "lookup"},       {Op::kGetattr, "getattr"},
        {Op::kSetattr, "setattr"},     {Op::kMknod, "mknod"},
        {Op::kMkdir, "mkdir"},         {Op::kUnlink, "unlink"},
        {Op::kRmdir, "rmdir"},         {Op::kSymlink, "symlink"},
        {Op::kReadlink, "readlink"},   {Op::kLink, "link"},
        {Op::kRename, "rename"},       {Op::kReaddir, "readdir"},
        {Op::kStatfs, "statfs"},       {Op::kSetxattr, "setxattr"},
        {Op::kGetxattr, "getxattr"},   {Op::kListxattr, "listxattr"},
        {Op::kRemovexattr, "removexattr"}, {Op::kOpen, "open"}, {Op::kCreate, "create"},
        {Op::kRelease, "release"},     {Op::kReleaseMany, "release many"},
        {Op::kChunkList, "chunk list"},
        {Op::kChunkAlloc, "chunk alloc"}, {Op::kCommitWrite, "commit write"},
        {Op::kSetRepl, "set replication"}, {Op::kGetlk, "getlk"},
        {Op::kSetlk, "setlk"},         {Op::kReleaseLocks, "release locks"},
        {Op::kNodeList, "node ls"},    {Op::kPing, "ping"},
        {Op::kChunkBad, "chunk bad"},  {Op::kChunkWrite, "chunk write"},
        {Op::kChunkRead, "chunk read"}, {Op::kChunkStat, "chunk stat"},
        {Op::kChunkSync, "chunk sync"}, {Op::kChunkFailed, "chunk failed"},
        {Op::kFsHealth, "fs health"},  {Op::kConfigList, "config ls"},
        {Op::kNetPing, "net ping"}};
    for (const auto& [op, name] : user_ops) put(op, Need::kUser, name);
    put(Op::kKeyAdd, Need::kAdmin, "key add");
    put(Op::kKeyList, Need::kAdmin, "key ls");
    put(Op::kKeyRevoke, Need::kAdmin, "key revoke");
    put(Op::kFsck, Need::kAdmin, "fs fsck");
    put(Op::kConfigSet, Need::kAdmin, "config set");
    put(Op::kNodeLabel, Need::kAdmin, "node label");
    put(Op::kNodeAdmin, Need::kAdmin, "node cordon/uncordon/drain");
    put(Op::kNodeRemove, Need::kAdmin, "node remove");
    put(Op::kNodeAdd, Need::kAdmin, "node add");
    put(Op::kChunkScrub, Need::kAdminOrNode, "fs scrub");
    put(Op::kJoin, Need::kNode, "join");
    put(Op::kChunkInventory, Need::kNode, "chunk inventory");
    put(Op::kPeerPing, Need::kNode, "peer ping");
    put(Op::kNodeEcho, Need::kNode, "node echo");
    put(Op::kHeartbeat, Need::kNode, "heartbeat");
    put(Op::kKeySync, Need::kNode, "key sync");
    put(Op::kChunkTruncate, Need::kNode, "chunk truncate");
    put(Op::kChunkDelete, Need::kNode, "chunk delete");
    put(Op::kChunkDeleteMany, Need::kNode, "chunk delete");
    put(Op::kChunkReplicate, Need::kNode, "chunk replicate");
    put(Op::kChunkForward, Need::kNode, "chunk forward");
    put(Op::kChunkForwardLast, Need::kNode, "chunk forward");
    return t;
  }();
  return kTable;
}

bool Allows(net::Role have, Need need) {
  using net::Role;
  if (have == Role::kCluster) return true;
  switch (need) {
    case Need::kUser:
      return have != Role::kNone;
    case Need::kAdmin:
      return have == Role::kAdmin;
    case Need::kNode:
      return have == Role::kNode;
    case Need::kAdminOrNode:
      return have == Role::kAdmin || have == Role::kNode;
  }
  return false;
}

const char* NeedName(Need n) {
  switch (n) {
    case Need::kUser:
      return "a user";
    case Need::kAdmin:
      return "the admin";
    case Need::kNode:
      return "the node";
    case Need::kAdminOrNode:
      return "the admin";
  }
  return "the admin";
}

}  // namespace

Need RequiredRole(uint32_t op) {
  auto it = Table().find(op);
  return it == Table().end() ? Need::kAdminOrNode : it->second.need;
}

std::string OpName(uint32_t op) {
  auto it = Table().find(op);
  return it == Table().end() ? "op " + std::to_string(op) : it->second.name;
}

Status Authorize(net::Role have, uint32_t op) {
  Need need = RequiredRole(op);
  if (Allows(have, need)) return Status::Ok();
  if (have == net::Role::kNone)
    return Status::Err(EACCES, "permission denied: this key is not allowed (revoked?)");
  return Status::Err(EACCES, "permission denied: " + OpName(op) + " needs " + NeedName(need) +
                                 " role; this key has the " + net::RoleName(have) + " role");
}

net::Server::Authorizer MakeAuthorizer(const net::KeyRing* ring) {
  return [ring](const std::string& key, uint32_t op) { return Authorize(ring->Lookup(key), op); };
}

}  // namespace dos::auth
