// unlink, rename, link, symlink, readlink, mknod.
#include "fuse/ops.h"
#include "fuse/reply.h"

namespace dos::fs {

namespace {

void ReplyEntryOr(fuse_req_t req, const char* op, uint64_t ino, const Status& s,
                  const proto::Attr& attr) {
  if (!s.ok()) return ReplyStatus(req, op, ino, s);
  fuse_entry_param e;
  FillEntry(attr, &e);
  fuse_reply_entry(req, &e);
}

}  // namespace

void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Fs& fs = Get(req);
  Status s = Guard([&] {
    proto::RemoveRep rep;
    Status r = fs.cluster->Meta(proto::Op::kUnlink, proto::RemoveReq{parent, name}, &rep);
    if (!r.ok()) return r;
    ForgetRemoved(fs, parent, name, rep);
    return r;
  });
  ReplyStatus(req, "unlink", parent, s);
}

void Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
            const char* newname, unsigned int flags) {
  Fs& fs = Get(req);
  proto::RenameRep rep;
  Status s = Guard([&] {
    proto::RenameReq r{parent, name, newparent, newname, flags};
    return fs.cluster->Meta(proto::Op::kRename, r, &rep);
  });
  if (s.ok() && rep.moved != 0) {
    // Both names changed (a moved directory's ctime and "..", the nlink of
    // a replaced inode, both parents' times): only those inodes are
    // forgotten, and the parents' new attributes kept for the kernel's
    // next GETATTR.
    for (uint64_t ino : {rep.moved, rep.replaced, uint64_t{parent}, uint64_t{newparent}})
      if (ino != 0) fs.fresh_attrs.Forget(ino);
    fs.fresh_attrs.Put(rep.parent);
    fs.fresh_attrs.Put(rep.newparent);
    fs.listings.Removed(parent, name, rep.moved);
    fs.listings.Removed(newparent, newname, rep.replaced != 0 ? rep.replaced : rep.moved);
  } else {  // a failure may have renamed all the same (a lost reply); or an older meta
    fs.fresh_attrs.Clear();
    fs.listings.Clear();
  }
  ReplyStatus(req, "rename", parent, s);
}

void Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  Fs& fs = Get(req);
  proto::EntryRep rep;
  Status s = Guard([&] {
    return fs.cluster->Meta(proto::Op::kLink, proto::LinkReq{ino, newparent, newname}, &rep);
  });
  fs.listings.Changed(ino);  // nlink and ctime
  fs.fresh_attrs.Forget(ino);
  if (s.ok()) {
    fs.files.Merge(&rep.attr);
    fs.fresh_attrs.Put(rep.parent);
    fs.listings.Added(newparent, newname, rep.attr);
  }
  ReplyEntryOr(req, "link", ino, s, rep.attr);
}

void Symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  Fs& fs = Get(req);
  const fuse_ctx* ctx = fuse_req_ctx(req);
  proto::EntryRep rep;
  Status s = Guard([&] {
    proto::SymlinkReq r{parent, name, link, ctx->uid, ctx->gid};
    return fs.cluster->Meta(proto::Op::kSymlink, r, &rep);
  });
  if (s.ok()) {
    fs.fresh_attrs.Put(rep.parent);
    fs.listings.Added(parent, name, rep.attr);
  }
  ReplyEntryOr(req, "symlink", parent, s, rep.attr);
}

void Readlink(fuse_req_t req, fuse_ino_t ino) {
  Fs& fs = Get(req);
  proto::ReadlinkRep rep;
  Status s =
      Guard([&] { return fs.cluster->Meta(proto::Op::kReadlink, proto::InoReq{ino}, &rep); });
  if (!s.ok()) return ReplyStatus(req, "readlink", ino, s);
  fuse_reply_readlink(req, rep.target.c_str());
}

void Mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  Fs& fs = Get(req);
  const fuse_ctx* ctx = fuse_req_ctx(req);
  proto::EntryRep rep;
  Status s = Guard([&] {
    proto::MknodReq r{parent, name, static_cast<uint32_t>(mode), rdev, ctx->uid, ctx->gid};
    return fs.cluster->Meta(proto::Op::kMknod, r, &rep);
  });
  if (s.ok()) {
    fs.fresh_attrs.Put(rep.parent);
    fs.listings.Added(parent, name, rep.attr);
  }
  ReplyEntryOr(req, "mknod", parent, s, rep.attr);
}

}  // namespace dos::fs
