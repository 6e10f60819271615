// Field rules of every request (Valid()), checked by the server before a
// handler runs. A rule broken is EINVAL (or ENAMETOOLONG for a long name).
#include "common/proto/messages.h"

#include <sys/stat.h>

#include <cstdint>

namespace dos::proto {

namespace {
Status NeedIno(uint64_t ino, const char* what) {
  if (ino == 0) return Status::Err(EINVAL, std::string(what) + " is 0");
  return Status::Ok();
}
Status XattrName(const std::string& name) {
  if (name.empty()) return Status::Err(ERANGE, "empty xattr name");
  if (name.size() > kMaxXattrName) return Status::Err(ERANGE, "xattr name too long");
  if (name.find('\0') != std::string::npos) return Status::Err(EINVAL, "NUL in xattr name");
  return Status::Ok();
}
}  // namespace

Status ValidName(const std::string& name) {
  if (name.empty() || name == "." || name == "..")
    return Status::Err(EINVAL, "bad name '" + name + "'");
  if (name.size() > kMaxName) return Status::Err(ENAMETOOLONG, "name longer than 255 bytes");
  if (name.find('/') != std::string::npos || name.find('\0') != std::string::npos)
    return Status::Err(EINVAL, "name holds '/' or NUL");
  return Status::Ok();
}

Status LookupReq::Valid() const {
  if (auto s = NeedIno(parent, "parent"); !s.ok()) return s;
  if (name.size() > kMaxName) return Status::Err(ENAMETOOLONG, "name longer than 255 bytes");
  if (name.empty() || name.find('/') != std::string::npos)
    return Status::Err(EINVAL, "bad name");
  return Status::Ok();
}
Status InoReq::Valid() const { return NeedIno(ino, "ino"); }
Status SetattrReq::Valid() const {
  if (auto s = NeedIno(ino, "ino"); !s.ok()) return s;
  if ((valid & kSetSize) && size > kMaxFileSize) return Status::Err(EFBIG, "size past 1 PiB");
  if ((valid & kSetMode) && (mode & ~(S_IFMT | 07777)))
    return Status::Err(EINVAL, "unknown mode bits");
  return Status::Ok();
}
Status MknodReq::Valid() const {
  if (auto s = NeedIno(parent, "parent"); !s.ok()) return s;
  switch (mode & S_IFMT) {
    case 0: case S_IFREG: case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK: break;
    default: return Status::Err(EINVAL, "mknod of an unsupported file type");
  }
  if (mode & ~(S_IFMT | 07777)) return Status::Err(EINVAL, "unknown mode bits");
  return ValidName(name);
}
Status MkdirReq::Valid() const {
  if (auto s = NeedIno(parent, "parent"); !s.ok()) return s;
  if ((mode & S_IFMT) != 0 && (mode & S_IFMT) != S_IFDIR) return Status::Err(EINVAL, "mkdir mode");
  if (mode & ~(S_IFMT | 07777)) return Status::Err(EINVAL, "unknown mode bits");
  return ValidName(name);
}
Status RemoveReq::Valid() const {
  if (auto s = NeedIno(parent, "parent"); !s.ok()) return s;
  if (name.size() > kMaxName) return Status::Err(ENAMETOOLONG, "name longer than 255 bytes");
  if (name.empty() || name.find('/') != std::string::npos)
    return Status::Err(EINVAL, "bad name");
  return Status::Ok();
}
Status SymlinkReq::Valid() const {
  if (auto s = NeedIno(parent, "parent"); !s.ok()) return s;
  if (target.empty()) return Status::Err(ENOENT, "empty symlink target");
  if (target.size() >= kMaxPath) return Status::Err(ENAMETOOLONG, "symlink target too long");
  return ValidName(name);
}
Status LinkReq::Valid() const {
  if (auto s = NeedIno(ino, "ino"); !s.ok()) return s;
  if (auto s = NeedIno(newparent, "newparent"); !s.ok()) return s;
  return ValidName(newname);
}
Status RenameReq::Valid() const {
  if (auto s = NeedIno(parent, "parent"); !s.ok()) return s;
  if (auto s = NeedIno(newparent, "newparent"); !s.ok()) return s;
  if (flags & ~3u) return Status::Err(EINVAL, "unknown rename flags");
  if (flags == 3u) return Status::Err(EINVAL, "RENAME_NOREPLACE with RENAME_EXCHANGE");
  if (auto s = ValidName(name); !s.ok()) return s;
  return ValidName(newname);
}
Status ReaddirReq::Valid() const {
  if (auto s = NeedIno(ino, "ino"); !s.ok()) return s;
  if (max == 0 || max > kMaxReaddir) return Status::Err(EINVAL, "readdir max out of range");
  if (after > static_cast<uint64_t>(INT64_MAX)) return Status::Err(EINVAL, "readdir cookie out of range");
  return Status::Ok();
}
Status SetxattrReq::Valid() const {
  if (auto s = NeedIno(ino, "ino"); !s.ok()) return s;
  if (value.size() > kMaxXattrValue) return Status::Err(E2BIG, "xattr value too large");
  if (flags & ~3u) return Status::Err(EINVAL, "unknown xattr flags");
  return XattrName(name);
}
Status XattrNameReq::Valid() const {
  if (auto s = NeedIno(ino, "ino"); !s.ok()) return s;
  return XattrName(name);
}
namespace {
Status ValidReleased(const std::vector<uint64_t>& inos) {
  if (inos.size() > kMaxReleased)
    return Status::Err(EINVAL, std::to_string(inos.size()) + " released handles in one request, "
                                   "more than " + std::to_string(kMaxReleased));
  for (uint64_t ino : inos)
    if (auto s = NeedIno(ino, "released ino"); !s.ok()) return s;
  return Status::Ok();
}
}  // namespace
Status OpenReq::Valid() const {
  if (auto s = NeedIno(ino, "ino"); !s.ok()) return s;
  return ValidReleased(released);
}
Status CreateReq::Valid() const {
  if (auto s = NeedIno(parent, "parent"); !s.ok()) return s;
  if (mode & ~07777u) return Status::Err(EINVAL, "create mode has more than permission bits");
  if (auto s = ValidReleased(released); !s.ok()) return s;
  return ValidName(name);
}
Status ReleaseReq::Valid() const { return NeedIno(ino, "ino"); }
Status ReleaseManyReq::Valid() const { return ValidReleased(inos); }
Status ChunkListReq::Valid() const {
  if (auto s = NeedIno(ino, "ino"); !s.ok()) return s;
  if (count == 0 || count > kMaxChunkList) return Status::Err(EINVAL, "chunk count out of range");
  if (first > kMaxFileSize / kBlockSize) return Status::Err(EINVAL, "chunk index out of range");
  return Status::Ok();
}
Status ChunkAllocReq::Valid() const {
  if (auto s = NeedIno(ino, "ino"); !s.ok()) return s;
  if (index > kMaxFileSize / kBlockSize) return Status::Err(EFBIG, "chunk index out of range");
  return Status::Ok();
}
Status CommitWriteReq::Valid() const {
  if (auto s = NeedIno(ino, "ino"); !s.ok()) return s;
  if (end > kMaxFileSize) return Status::Err(EFBIG, "write end past 1 PiB");
  if (set.valid == 0) return Status::Ok();
  if (set.ino != ino) return Status::Err(EINVAL, "setattr of another inode in a commit");
  if (set.valid & kSetSize) return Status::Err(EINVAL, "a size change never waits for a commit");
  return set.Valid();
}
Status SetReplReq::Valid() const {
  if (auto s = NeedIno(ino, "ino"); !s.ok()) return s;
  if (repl == 0 || repl > kMaxReplicas) return Status::Err(EINVAL, "replication out of 1..16");
  return Status::Ok();
}
Status LockReq::Valid() const {
  if (auto s = NeedIno(ino, "ino"); !s.ok()) return s;
  if (type > 2) return Status::Err(EINVAL, "bad lock type");
  if (start < 0 || end < start) return Status::Err(EINVAL, "bad lock range");
  return Status::Ok();
}
Status ReleaseLocksReq::Valid() const { return NeedIno(ino, "ino"); }
Status HeartbeatReq::Valid() const {
  if (name.empty() || name.size() > kMaxName) return Status::Err(EINVAL, "bad node name");
  if (addr.empty() || addr.size() > kMaxPath) return Status::Err(EINVAL, "bad node address");
  return Status::Ok();
}
Status ChunkWriteReq::Valid() const {
  if (id == 0) return Status::Err(EINVAL, "chunk id is 0");
  if (chain.size() > kMaxReplicas) return Status::Err(EINVAL, "chain too long");
  for (const auto& addr : chain)
    if (addr.rfind("tcp://", 0) != 0 || addr.size() > kMaxAddr)
      return Status::Err(EINVAL, "chain address is not a tcp:// endpoint");
  if (offset > kMaxChunkSize) return Status::Err(EFBIG, "chunk offset past the largest chunk");
  if (extents.size() > kMaxExtents) return Status::Err(EINVAL, "too many extents in one write");
  for (const Extent& e : extents)
    if (e.offset > kMaxChunkSize || e.length > kMaxChunkSize - e.offset)
      return Status::Err(EFBIG, "extent past the largest chunk");
  return Status::Ok();
}
Status ChunkReadReq::Valid() const {
  if (id == 0) return Status::Err(EINVAL, "chunk id is 0");
  if (length > kMaxData) return Status::Err(EINVAL, "read length too large");
  if (offset > kMaxChunkSize) return Status::Err(EINVAL, "chunk offset past the largest chunk");
  return Status::Ok();
}
Status ChunkTruncateReq::Valid() const {
  if (id == 0) return Status::Err(EINVAL, "chunk id is 0");
  if (length > kMaxChunkSize) return Status::Err(EINVAL, "chunk length past the largest chunk");
  return Status::Ok();
}
Status ChunkIdReq::Valid() const {
  if (id == 0) return Status::Err(EINVAL, "chunk id is 0");
  return Status::Ok();
}
Status ChunkDeleteManyReq::Valid() const {
  if (ids.size() > kMaxDeleteBatch)
    return Status::Err(EINVAL, std::to_string(ids.size()) + " chunk ids in one delete, more than " +
                                   std::to_string(kMaxDeleteBatch));
  for (uint64_t id : ids)
    if (id == 0) return Status::Err(EINVAL, "chunk id is 0");
  return Status::Ok();
}
Status ChunkBadReq::Valid() const {
  if (id == 0) return Status::Err(EINVAL, "chunk id is 0");
  if (node.empty() || node.size() > kMaxName) return Status::Err(EINVAL, "bad node name");
  return Status::Ok();
}
Status ChunkFailedReq::Valid() const {
  if (id == 0) return Status::Err(EINVAL, "chunk id is 0");
  if (nodes.empty() || nodes.size() > kMaxReplicas) return Status::Err(EINVAL, "bad node count");
  for (const auto& n : nodes)
    if (n.empty() || n.size() > kMaxName) return Status::Err(EINVAL, "bad node name");
  return Status::Ok();
}
Status ChunkReplicateReq::Valid() const {
  if (id == 0) return Status::Err(EINVAL, "chunk id is 0");
  if (source.rfind("tcp://", 0) != 0 || source.size() > kMaxAddr)
    return Status::Err(EINVAL, "source is not a tcp:// endpoint");
  return Status::Ok();
}
Status ChunkInventoryReq::Valid() const {
  if (max == 0 || max > kMaxInventory) return Status::Err(EINVAL, "inventory max out of range");
  return Status::Ok();
}
Status ChunkScrubReq::Valid() const { return Status::Ok(); }
Status FsckReq::Valid() const { return Status::Ok(); }

bool ValidKeyText(const std::string& key) {
  static const std::string kZ85 =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  return key.size() == kKeyZ85Len && key.find_first_not_of(kZ85) == std::string::npos;
}
static Status KeyName(const std::string& name) {
  static const std::string kOk =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-";
  if (name.empty() || name.size() > kMaxKeyName || name.find_first_not_of(kOk) != std::string::npos)
    return Status::Err(EINVAL, "key name must be 1..64 of [A-Za-z0-9._-]");
  return Status::Ok();
}
Status KeyAddReq::Valid() const {
  if (auto s = KeyName(name); !s.ok()) return s;
  if (!ValidKeyText(public_key)) return Status::Err(EINVAL, "public key is not 40 Z85 characters");
  if (role != "user" && role != "admin" && role != "node")
    return Status::Err(EINVAL, "role must be user, admin or node");
  for (int64_t id : {uid, gid})
    if (id != kNoId && (id < 0 || id > kMaxId))
      return Status::Err(EINVAL, "uid and gid must be 0.." + std::to_string(kMaxId));
  if (gid != kNoId && uid == kNoId) return Status::Err(EINVAL, "a gid binding needs a uid");
  if (uid != kNoId && role != "user")
    return Status::Err(EINVAL, "only a user key can be bound to a uid");
  return Status::Ok();
}
Status KeyRevokeReq::Valid() const { return KeyName(name); }

}  // namespace dos::proto
