// setxattr, getxattr, listxattr, removexattr. Namespaces other than user.,
// trusted. and security. get EOPNOTSUPP from meta, passed through.
#include <string>

#include "fuse/ops.h"
#include "fuse/reply.h"

namespace dos::fs {

namespace {

// The size==0 probe, ERANGE, or the bytes: getxattr and listxattr alike.
void ReplyXattrBytes(fuse_req_t req, size_t size, const char* data, size_t len) {
  if (size == 0) {
    fuse_reply_xattr(req, len);
  } else if (size < len) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, data, len);
  }
}

}  // namespace

void Setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
              int flags) {
  Fs& fs = Get(req);
  fs.xattr_absence.Forget(ino);
  Status s = Guard([&] {
    proto::SetxattrReq r;
    r.ino = ino;
    r.name = name;
    r.value.assign(value, value + size);
    r.flags = static_cast<uint32_t>(flags);
    proto::Empty rep;
    return fs.cluster->Meta(proto::Op::kSetxattr, r, &rep);
  });
  fs.fresh_attrs.Forget(ino);  // ctime
  fs.listings.Changed(ino);
  ReplyStatus(req, "setxattr", ino, s);
}

void Getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  Fs& fs = Get(req);
  // Asked before every write(2) and by ls -l: see XattrAbsence.
  if (fs.xattr_absence.KnownAbsent(ino, name))
    return ReplyStatus(req, "getxattr", ino, Status::Err(ENODATA));
  const uint64_t gen = fs.xattr_absence.generation();
  proto::XattrRep rep;
  Status s = Guard([&] {
    return fs.cluster->Meta(proto::Op::kGetxattr, proto::XattrNameReq{ino, name}, &rep);
  });
  if (s.err() == ENODATA && name == kCapsXattr) fs.xattr_absence.NoteNoCaps(ino, gen);
  if (!s.ok()) return ReplyStatus(req, "getxattr", ino, s);
  ReplyXattrBytes(req, size, rep.value.data(), rep.value.size());
}

void Listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  Fs& fs = Get(req);
  std::string list;
  if (fs.xattr_absence.KnownNone(ino)) return ReplyXattrBytes(req, size, list.data(), 0);
  Status s = Guard([&] {
    proto::ListxattrRep rep;
    Status r = fs.cluster->Meta(proto::Op::kListxattr, proto::InoReq{ino}, &rep);
    for (const auto& n : rep.names) {
      list += n;
      list.push_back('\0');
    }
    return r;
  });
  if (!s.ok()) return ReplyStatus(req, "listxattr", ino, s);
  ReplyXattrBytes(req, size, list.data(), list.size());
}

void Removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  Fs& fs = Get(req);
  fs.xattr_absence.Forget(ino);
  Status s = Guard([&] {
    proto::Empty rep;
    return fs.cluster->Meta(proto::Op::kRemovexattr, proto::XattrNameReq{ino, name}, &rep);
  });
  fs.fresh_attrs.Forget(ino);
  fs.listings.Changed(ino);
  ReplyStatus(req, "removexattr", ino, s);
}

}  // namespace dos::fs
