// Names: lookup, create, link, unlink, rmdir, and the removal of inodes that
// lost their last name.
#include <sys/stat.h>

#include <cstdio>

#include "common/store/txn.h"
#include "daemon/meta/namespace.h"

namespace dos::meta {

Status Namespace::InTxn(const std::function<Status()>& fn) {
  dead_.clear();
  truncations_.clear();
  deleted_.clear();
  unlinked_.clear();
  created_ = 0;
  store::Txn txn(db_);
  Status s = txn.Begin();
  if (s.ok()) s = fn();
  if (s.ok()) s = txn.Commit();
  if (s.ok()) {
    if (inodes_) *inodes_ = *inodes_ + created_ - deleted_.size();
    // After the commit: a crash before this point leaves chunk files that
    // nothing names (harmless garbage), never names without chunks.
    for (const Truncation& t : truncations_) nodes_->Truncate(t.id, t.version, t.length, t.nodes);
    for (const DeadChunk& d : dead_) nodes_->Delete(d.id, d.nodes);
    if (on_delete_)
      for (uint64_t ino : deleted_) on_delete_(ino);
    if (to_reap_.empty() && !unlinked_.empty()) reap_since_ = std::chrono::steady_clock::now();
    to_reap_.insert(to_reap_.end(), unlinked_.begin(), unlinked_.end());
  }
  dead_.clear();
  truncations_.clear();
  deleted_.clear();
  unlinked_.clear();
  if (s.ok() && to_reap_.size() >= reap_batch_) {
    // After the commit, in a transaction of its own. Its failure is not this
    // operation's: the orphans stay for the next start.
    if (Status r = ReapOrphans(); !r.ok())
      fprintf(stderr, "meta: removing unlinked inodes: %s\n", r.ToString().c_str());
  }
  return s;
}

Status Namespace::ReapOrphans() {
  if (to_reap_.empty()) return Status::Ok();
  std::vector<uint64_t> inos;
  inos.swap(to_reap_);
  return InTxn([&]() -> Status {
    for (uint64_t ino : inos) {
      // Opened again (by a handle that outlived its name) or already gone:
      // Release or nobody removes it.
      if (IsOpen(ino)) continue;
      store::Stmt st(db_, "SELECT 1 FROM inodes WHERE ino = ?1 AND nlink = 0");
      Result<bool> row = st.Bind(1, ino).Step();
      if (!row.ok()) return row.status();
      if (!*row) continue;
      if (Status s = RemoveInode(ino); !s.ok()) return s;
    }
    return Status::Ok();
  });
}

Status Namespace::Lookup(uint64_t parent, const std::string& name, proto::Attr* out) {
  Result<Inode> dir = LoadDir(db_, parent);
  if (!dir.ok()) return dir.status();
  uint64_t ino = 0;
  if (name == ".") {
    ino = parent;
  } else if (name == "..") {
    ino = dir->parent;
  } else {
    Result<std::optional<uint64_t>> found = FindEntry(db_, parent, name);
    if (!found.ok()) return found.status();
    if (!*found) return Status::Err(ENOENT);
    ino = **found;
  }
  return Getattr(ino, out);
}

Status Namespace::Getattr(uint64_t ino, proto::Attr* out) {
  Result<Inode> in = LoadInode(db_, ino);
  if (!in.ok()) return in.status();
  if (Removed(*in)) return Status::Err(ENOENT, "inode was removed");
  *out = in->ToAttr();
  return Status::Ok();
}

// Fills the fields every new inode shares from its parent directory, inserts
// it and its name, and touches the parent. Inside a transaction.
Status Namespace::CreateNode(uint64_t parent, const std::string& name, Inode in, proto::Attr* out) {
  Result<Inode> dir = LoadDir(db_, parent);
  if (!dir.ok()) return dir.status();
  if (dir->nlink == 0) return Status::Err(ENOENT, "directory was removed");
  Result<std::optional<uint64_t>> found = FindEntry(db_, parent, name);
  if (!found.ok()) return found.status();
  if (*found) return Status::Err(EEXIST);
  if (in.IsDir() && dir->nlink >= kMaxLinks) return Status::Err(EMLINK);
  int64_t now = NowNs();
  in.atime_ns = in.mtime_ns = in.ctime_ns = now;
  in.chunk_size = chunk_size_;
  in.repl = dir->repl;
  if (dir->mode & S_ISGID) {
    in.gid = dir->gid;
    if (in.IsDir()) in.mode |= S_ISGID;
  }
  if (in.IsDir()) in.parent = parent;
  Result<uint64_t> ino = InsertInode(db_, in);
  if (!ino.ok()) return ino.status();
  ++created_;
  in.ino = *ino;
  if (Status s = InsertEntry(db_, parent, name, in.ino); !s.ok()) return s;
  if (Status s = TouchDir(db_, parent, in.IsDir() ? 1 : 0, now); !s.ok()) return s;
  *out = in.ToAttr();
  return Status::Ok();
}

Status Namespace::Mknod(const proto::MknodReq& req, proto::Attr* out) {
  return InTxn([&] { return MakeNode(req, out); });
}

Status Namespace::MakeNode(const proto::MknodReq& req, proto::Attr* out) {
  Inode in;
  in.mode = req.mode;
  if ((in.mode & S_IFMT) == 0) in.mode |= S_IFREG;
  if (S_ISDIR(in.mode) || S_ISLNK(in.mode)) return Status::Err(EINVAL, "mknod of dir/symlink");
  in.rdev = req.rdev;
  in.uid = req.uid;
  in.gid = req.gid;
  in.nlink = 1;
  return CreateNode(req.parent, req.name, in, out);
}

Status Namespace::Mkdir(const proto::MkdirReq& req, proto::Attr* out) {
  Inode in;
  in.mode = S_IFDIR | (req.mode & 07777);
  in.uid = req.uid;
  in.gid = req.gid;
  in.nlink = 2;
  return InTxn([&] { return CreateNode(req.parent, req.name, in, out); });
}

Status Namespace::Symlink(const proto::SymlinkReq& req, proto::Attr* out) {
  Inode in;
  in.mode = S_IFLNK | 0777;
  in.uid = req.uid;
  in.gid = req.gid;
  in.target = req.target;
  in.size = req.target.size();
  return InTxn([&] { return CreateNode(req.parent, req.name, in, out); });
}

Status Namespace::Readlink(uint64_t ino, std::string* target) {
  Result<Inode> in = LoadInode(db_, ino);
  if (!in.ok()) return in.status();
  if (!S_ISLNK(in->mode)) return Status::Err(EINVAL, "not a symlink");
  *target = in->target;
  return Status::Ok();
}

Status Namespace::Link(const proto::LinkReq& req, proto::Attr* out) {
  return InTxn([&]() -> Status {
    Result<Inode> in = LoadInode(db_, req.ino);
    if (!in.ok()) return in.status();
    if (in->IsDir()) return Status::Err(EPERM, "hard link to a directory");
    if (in->nlink == 0) return Status::Err(ENOENT, "inode was unlinked");
    if (in->nlink >= kMaxLinks) return Status::Err(EMLINK);
    Result<Inode> dir = LoadDir(db_, req.newparent);
    if (!dir.ok()) return dir.status();
    int64_t now = NowNs();
    if (Status s = InsertEntry(db_, req.newparent, req.newname, req.ino); !s.ok()) return s;
    if (Status s = TouchDir(db_, req.newparent, 0, now); !s.ok()) return s;
    in->nlink++;
    in->ctime_ns = now;
    *out = in->ToAttr();
    return SaveInode(db_, *in);
  });
}

Status Namespace::Unlink(uint64_t parent, const std::string& name, uint64_t* removed) {
  return InTxn([&]() -> Status {
    if (Result<Inode> dir = LoadDir(db_, parent); !dir.ok()) return dir.status();
    Result<std::optional<uint64_t>> found = FindEntry(db_, parent, name);
    if (!found.ok()) return found.status();
    if (!*found) return Status::Err(ENOENT);
    Result<Inode> in = LoadInode(db_, **found);
    if (!in.ok()) return in.status();
    if (in->IsDir()) return Status::Err(EISDIR);
    if (removed) *removed = in->ino;
    int64_t now = NowNs();
    if (Status s = DeleteEntry(db_, parent, name); !s.ok()) return s;
    if (Status s = TouchDir(db_, parent, 0, now); !s.ok()) return s;
    return DropLink(in->ino, now);
  });
}

Status Namespace::Rmdir(uint64_t parent, const std::string& name, uint64_t* removed) {
  if (name == ".") return Status::Err(EINVAL);
  if (name == "..") return Status::Err(ENOTEMPTY);
  return InTxn([&]() -> Status {
    if (Result<Inode> dir = LoadDir(db_, parent); !dir.ok()) return dir.status();
    Result<std::optional<uint64_t>> found = FindEntry(db_, parent, name);
    if (!found.ok()) return found.status();
    if (!*found) return Status::Err(ENOENT);
    if (**found == proto::kRootIno) return Status::Err(EBUSY);
    Result<Inode> in = LoadDir(db_, **found);
    if (!in.ok()) return in.status();
    Result<bool> empty = DirEmpty(db_, in->ino);
    if (!empty.ok()) return empty.status();
    if (!*empty) return Status::Err(ENOTEMPTY);
    if (removed) *removed = in->ino;
    if (Status s = DeleteEntry(db_, parent, name); !s.ok()) return s;
    return RemoveDir(parent, in->ino, NowNs());
  });
}

// An empty directory lost its name in parent: parent loses the ".." link.
Status Namespace::RemoveDir(uint64_t parent, uint64_t dir, int64_t now) {
  if (Status s = TouchDir(db_, parent, -1, now); !s.ok()) return s;
  store::Stmt st(db_, "UPDATE inodes SET nlink = 0, ctime_ns = ?2 WHERE ino = ?1");
  if (Status s = st.Bind(1, dir).Bind(2, now).Run(); !s.ok()) return s;
  if (IsOpen(dir)) return Status::Ok();
  return RemoveInode(dir);
}

Status Namespace::DropLink(uint64_t ino, int64_t now) {
  store::Stmt st(db_,
                 "UPDATE inodes SET nlink = nlink - 1, ctime_ns = ?2 WHERE ino = ?1 AND nlink > 0"
                 " RETURNING nlink");
  st.Bind(1, ino).Bind(2, now);
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Err(EIO, "inode " + std::to_string(ino) + " has no link to drop");
  if (st.Int(0) > 0 || IsOpen(ino)) return st.Run();
  unlinked_.push_back(ino);
  return st.Run();
}

Status Namespace::RemoveInode(uint64_t ino) {
  deleted_.push_back(ino);
  return DeleteInodeRows(db_, ino, &dead_);
}

}  // namespace dos::meta
