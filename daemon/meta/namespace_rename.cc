// rename(2) and renameat2(2), with the checks in the order Linux makes them
// (fs/namei.c do_renameat2 then vfs_rename).
#include "common/store/stmt.h"
#include "daemon/meta/namespace.h"

namespace dos::meta {

namespace {
constexpr uint32_t kNoReplace = 1;
constexpr uint32_t kExchange = 2;

Status SetEntryIno(store::Db* db, uint64_t parent, const std::string& name, uint64_t ino) {
  store::Stmt st(db, "UPDATE dentries SET ino = ?3 WHERE parent = ?1 AND name = ?2");
  return st.Bind(1, parent).Bind(2, name).Bind(3, ino).Run();
}

Status MoveEntry(store::Db* db, const proto::RenameReq& req) {
  store::Stmt st(db, "UPDATE dentries SET parent = ?3, name = ?4 WHERE parent = ?1 AND name = ?2");
  return st.Bind(1, req.parent).Bind(2, req.name).Bind(3, req.newparent).Bind(4, req.newname).Run();
}

// Sets ctime of ino and, for a directory that changed parent, its parent.
Status Reparent(store::Db* db, uint64_t ino, uint64_t parent, int64_t now) {
  store::Stmt st(db,
                 "UPDATE inodes SET ctime_ns = ?3, parent = CASE WHEN mode & 61440 = 16384"
                 " THEN ?2 ELSE parent END WHERE ino = ?1");
  return st.Bind(1, ino).Bind(2, parent).Bind(3, now).Run();
}
}  // namespace

Status Namespace::Rename(const proto::RenameReq& req, proto::RenameRep* out) {
  return InTxn([&] { return RenameIn(req, NowNs(), out); });
}

// True if dir is of or one of its ancestors.
Result<bool> Namespace::IsAncestor(uint64_t dir, uint64_t of) {
  for (int depth = 0; depth < 100000; ++depth) {
    if (of == dir) return true;
    if (of == proto::kRootIno) return false;
    Result<Inode> in = LoadInode(db_, of);
    if (!in.ok()) return in.status();
    of = in->parent;
  }
  return Status::Err(ELOOP, "directory tree too deep or looped");
}

Status Namespace::RenameIn(const proto::RenameReq& req, int64_t now, proto::RenameRep* out) {
  if (Result<Inode> d = LoadDir(db_, req.parent); !d.ok()) return d.status();
  if (Result<Inode> d = LoadDir(db_, req.newparent); !d.ok()) return d.status();
  auto src_ino = FindEntry(db_, req.parent, req.name);
  if (!src_ino.ok()) return src_ino.status();
  if (!*src_ino) return Status::Err(ENOENT);
  auto dst_ino = FindEntry(db_, req.newparent, req.newname);
  if (!dst_ino.ok()) return dst_ino.status();
  bool exchange = req.flags & kExchange;
  if (exchange && !*dst_ino) return Status::Err(ENOENT);
  if ((req.flags & kNoReplace) && *dst_ino) return Status::Err(EEXIST);
  if (out) *out = proto::RenameRep{**src_ino, *dst_ino ? **dst_ino : 0};
  Result<Inode> src = LoadInode(db_, **src_ino);
  if (!src.ok()) return src.status();
  if (src->IsDir()) {
    Result<bool> loop = IsAncestor(src->ino, req.newparent);
    if (!loop.ok()) return loop.status();
    if (*loop) return Status::Err(EINVAL, "directory into its own subtree");
  }
  if (!*dst_ino) return MoveTo(req, *src, now);
  Result<Inode> dst = LoadInode(db_, **dst_ino);
  if (!dst.ok()) return dst.status();
  return Replace(req, *src, *dst, now);
}

// The target name is free: move the entry; a directory changes parent.
Status Namespace::MoveTo(const proto::RenameReq& req, const Inode& src, int64_t now) {
  int delta = src.IsDir() && req.parent != req.newparent ? 1 : 0;
  if (Status s = TouchDir(db_, req.parent, -delta, now); !s.ok()) return s;
  if (Status s = TouchDir(db_, req.newparent, delta, now); !s.ok()) return s;
  if (Status s = MoveEntry(db_, req); !s.ok()) return s;
  return Reparent(db_, src.ino, req.newparent, now);
}

// The target name exists: exchange, or remove the target and move.
Status Namespace::Replace(const proto::RenameReq& req, const Inode& src, const Inode& dst,
                          int64_t now) {
  bool exchange = req.flags & kExchange;
  if (dst.IsDir()) {
    Result<bool> loop = IsAncestor(dst.ino, req.parent);
    if (!loop.ok()) return loop.status();
    if (*loop) return Status::Err(exchange ? EINVAL : ENOTEMPTY, "target is an ancestor");
  }
  if (src.ino == dst.ino) return Status::Ok();
  if (exchange) return Exchange(req, src, dst, now);
  if (src.IsDir() && !dst.IsDir()) return Status::Err(ENOTDIR);
  if (!src.IsDir() && dst.IsDir()) return Status::Err(EISDIR);
  if (dst.IsDir()) {
    Result<bool> empty = DirEmpty(db_, dst.ino);
    if (!empty.ok()) return empty.status();
    if (!*empty) return Status::Err(ENOTEMPTY);
  }
  // Take the target away as unlink or rmdir would, then move as above.
  if (Status s = DeleteEntry(db_, req.newparent, req.newname); !s.ok()) return s;
  Status s = dst.IsDir() ? RemoveDir(req.newparent, dst.ino, now) : DropLink(dst.ino, now);
  if (!s.ok()) return s;
  return MoveTo(req, src, now);
}

Status Namespace::Exchange(const proto::RenameReq& req, const Inode& src, const Inode& dst,
                           int64_t now) {
  if (Status s = SetEntryIno(db_, req.parent, req.name, dst.ino); !s.ok()) return s;
  if (Status s = SetEntryIno(db_, req.newparent, req.newname, src.ino); !s.ok()) return s;
  int delta = 0;  // change of newparent's link count; parent gets -delta
  if (req.parent != req.newparent) delta = (src.IsDir() ? 1 : 0) - (dst.IsDir() ? 1 : 0);
  if (Status s = TouchDir(db_, req.parent, -delta, now); !s.ok()) return s;
  if (Status s = TouchDir(db_, req.newparent, delta, now); !s.ok()) return s;
  if (Status s = Reparent(db_, src.ino, req.newparent, now); !s.ok()) return s;
  return Reparent(db_, dst.ino, req.parent, now);
}

}  // namespace dos::meta
