#include "daemon/meta/creds.h"

#include <fcntl.h>
#include <sys/stat.h>

namespace dos::meta {

bool Permits(const Binding& c, const proto::Attr& a, int mask) {
  if (c.uid == 0) {
    if (!(mask & 1)) return true;
    return S_ISDIR(a.mode) || (a.mode & 0111) != 0;
  }
  uint32_t bits = a.mode & 07;
  if (c.uid == a.uid)
    bits = (a.mode >> 6) & 07;
  else if (c.gid == a.gid)
    bits = (a.mode >> 3) & 07;
  return (bits & static_cast<uint32_t>(mask)) == static_cast<uint32_t>(mask);
}

Status Creds::Access(const Binding& c, uint64_t ino, int mask) {
  proto::Attr a;
  if (Status s = ns_->Getattr(ino, &a); !s.ok()) return s;
  if (!Permits(c, a, mask)) return Status::Err(EACCES, "permission denied for uid " +
                                                           std::to_string(c.uid) + " (bound key)");
  return Status::Ok();
}

Status Creds::Sticky(const Binding& c, const proto::Attr& dir, const std::string& name,
                     uint64_t dir_ino) {
  if (!(dir.mode & S_ISVTX) || c.uid == 0 || c.uid == dir.uid) return Status::Ok();
  proto::Attr e;
  Status s = ns_->Lookup(dir_ino, name, &e);
  if (s.err() == ENOENT) return Status::Ok();  // the operation answers that
  if (!s.ok()) return s;
  if (e.uid != c.uid) return Status::Err(EPERM, "sticky directory: not the owner");
  return Status::Ok();
}

Status Creds::Remove(const Binding& c, uint64_t parent, const std::string& name) {
  proto::Attr dir;
  if (Status s = ns_->Getattr(parent, &dir); !s.ok()) return s;
  if (!Permits(c, dir, 3)) return Status::Err(EACCES, "permission denied (bound key)");
  return Sticky(c, dir, name, parent);
}

Status Creds::Rename(const Binding& c, const proto::RenameReq& req) {
  if (Status s = Remove(c, req.parent, req.name); !s.ok()) return s;
  return Remove(c, req.newparent, req.newname);  // the target, if any, goes too
}

Status Creds::Setattr(const Binding& c, proto::SetattrReq* req) {
  proto::Attr a;
  if (Status s = ns_->Getattr(req->ino, &a); !s.ok()) return s;
  if (c.uid == 0) return Status::Ok();
  bool owner = c.uid == a.uid;
  uint32_t v = req->valid;
  if ((v & proto::kSetUid) && req->uid != a.uid)
    return Status::Err(EPERM, "only uid 0 changes a file's owner");
  if ((v & proto::kSetGid) && req->gid != a.gid && (!owner || req->gid != c.gid))
    return Status::Err(EPERM, "chgrp: not the owner, or not a group of uid " +
                                  std::to_string(c.uid));
  if ((v & (proto::kSetMode | proto::kSetUid | proto::kSetGid)) && !owner)
    return Status::Err(EPERM, "not the owner");
  if ((v & proto::kSetMode) && (req->mode & S_ISGID)) {
    uint32_t gid = (v & proto::kSetGid) ? req->gid : a.gid;
    if (gid != c.gid && !S_ISDIR(a.mode)) req->mode &= ~uint32_t{S_ISGID};
  }
  bool explicit_time = ((v & proto::kSetAtime) && !(v & proto::kSetAtimeNow)) ||
                       ((v & proto::kSetMtime) && !(v & proto::kSetMtimeNow));
  if (explicit_time && !owner) return Status::Err(EPERM, "not the owner");
  bool now_time = (v & (proto::kSetAtimeNow | proto::kSetMtimeNow)) != 0;
  if (((v & proto::kSetSize) || (now_time && !owner)) && !Permits(c, a, 2))
    return Status::Err(EACCES, "permission denied (bound key)");
  return Status::Ok();
}

Status Creds::Open(const Binding& c, uint64_t ino, uint32_t flags) {
  int mask = 0;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      mask = 4;
      break;
    case O_WRONLY:
      mask = 2;
      break;
    default:
      mask = 6;
  }
  if (flags & O_TRUNC) mask |= 2;
  return Access(c, ino, mask);
}

Status Creds::Xattr(const Binding& c, uint64_t ino, const std::string& name, bool write) {
  if (name.rfind("trusted.", 0) == 0 && c.uid != 0)
    return Status::Err(EPERM, "trusted.* xattrs need uid 0");
  if (name.rfind("user.", 0) != 0) return Status::Ok();
  return Access(c, ino, write ? 2 : 4);
}

}  // namespace dos::meta
