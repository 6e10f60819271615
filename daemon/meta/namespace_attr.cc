// Attributes, sizes and open handles.
#include <sys/stat.h>

#include "common/store/stmt.h"
#include "daemon/meta/namespace.h"

namespace dos::meta {

using proto::SetattrMask;

Status Namespace::Setattr(const proto::SetattrReq& req, proto::Attr* out) {
  return InTxn([&]() -> Status {
    Result<Inode> in = LoadInode(db_, req.ino);
    if (!in.ok()) return in.status();
    if (Removed(*in)) return Status::Err(ENOENT, "inode was removed");
    if (Status s = ApplySetattr(req, &*in, NowNs()); !s.ok()) return s;
    if (Status s = SaveInode(db_, *in); !s.ok()) return s;
    *out = in->ToAttr();
    return Status::Ok();
  });
}

Status Namespace::ApplySetattr(const proto::SetattrReq& req, Inode* in, int64_t now) {
  uint32_t v = req.valid;
  if (v & SetattrMask::kSetSize) {
    if (in->IsDir()) return Status::Err(EISDIR);
    if (!in->IsReg()) return Status::Err(EINVAL, "size of a non-regular file");
    if (req.size < in->size) {
      if (Status s = Shrink(*in, req.size); !s.ok()) return s;
    }
    in->size = req.size;
    in->mtime_ns = now;
  }
  if (v & SetattrMask::kSetMode) in->mode = (in->mode & S_IFMT) | (req.mode & 07777);
  if (v & SetattrMask::kSetUid) in->uid = req.uid;
  if (v & SetattrMask::kSetGid) in->gid = req.gid;
  if (v & SetattrMask::kSetAtimeNow) {
    in->atime_ns = now;
  } else if (v & SetattrMask::kSetAtime) {
    in->atime_ns = req.atime_ns;
  }
  if (v & SetattrMask::kSetMtimeNow) {
    in->mtime_ns = now;
  } else if (v & SetattrMask::kSetMtime) {
    in->mtime_ns = req.mtime_ns;
  }
  if (v & SetattrMask::kSetCtime) {
    in->ctime_ns = req.ctime_ns;
  } else if (v != 0) {
    in->ctime_ns = now;
  }
  return Status::Ok();
}

// Drops the chunks wholly past size and queues the cut of the boundary one.
Status Namespace::Shrink(const Inode& in, uint64_t size) {
  uint64_t cs = in.chunk_size;
  uint64_t keep = (size + cs - 1) / cs;  // chunks [0, keep) stay
  if (Status s = DropChunks(db_, in.ino, keep, &dead_); !s.ok()) return s;
  if (size % cs == 0) return Status::Ok();
  store::Stmt st(db_, "SELECT id, version FROM chunks WHERE ino = ?1 AND idx = ?2");
  st.Bind(1, in.ino).Bind(2, size / cs);
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Ok();  // a hole
  Result<std::vector<std::string>> nodes = ChunkNodes(db_, st.U64(0));
  if (!nodes.ok()) return nodes.status();
  truncations_.push_back(Truncation{st.U64(0), st.U64(1), size % cs, std::move(*nodes)});
  return Status::Ok();
}

Status Namespace::CommitWrite(const proto::CommitWriteReq& req, proto::Attr* out) {
  return InTxn([&]() -> Status {
    Result<Inode> in = LoadInode(db_, req.ino);
    if (!in.ok()) return in.status();
    if (in->IsDir()) return Status::Err(EISDIR);
    if (!in->IsReg()) return Status::Err(EINVAL, "write to a non-regular file");
    in->size = std::max(in->size, req.end);
    const int64_t now = NowNs();
    in->mtime_ns = in->ctime_ns = req.mtime_ns ? req.mtime_ns : now;
    if (req.set.valid != 0) {
      if (Status s = ApplySetattr(req.set, &*in, now); !s.ok()) return s;
    }
    if (Status s = SaveInode(db_, *in); !s.ok()) return s;
    *out = in->ToAttr();
    return Status::Ok();
  });
}

Status Namespace::SetRepl(uint64_t ino, uint32_t repl) {
  return InTxn([&]() -> Status {
    Result<Inode> in = LoadInode(db_, ino);
    if (!in.ok()) return in.status();
    in->repl = repl;
    in->ctime_ns = NowNs();
    return SaveInode(db_, *in);
  });
}

Status Namespace::Open(const proto::OpenReq& req, proto::OpenRep* out) {
  Result<Inode> in = LoadInode(db_, req.ino);
  if (!in.ok()) return in.status();
  if (Removed(*in)) return Status::Err(ENOENT, "inode was removed");
  if (Status s = CheckOpenLimit(req.client); !s.ok()) return s;
  client_open_[req.client]++;
  open_[req.ino][req.client]++;
  out->attr = in->ToAttr();
  out->chunk_size = in->chunk_size;
  return Status::Ok();
}

Status Namespace::CheckOpenLimit(uint64_t client) const {
  uint64_t held = OpenHandles(client);
  if (max_open_per_client_ != 0 && held >= max_open_per_client_)
    return Status::Err(EMFILE, "client holds " + std::to_string(held) +
                                   " open handles, the limit (dosd --max-open-per-client)");
  return Status::Ok();
}

Status Namespace::Create(const proto::CreateReq& req, proto::OpenRep* out) {
  // Refused before the mknod: like open(2)'s EMFILE, no file is left behind.
  if (Status s = CheckOpenLimit(req.client); !s.ok()) return s;
  proto::MknodReq m{req.parent, req.name, S_IFREG | (req.mode & 07777), 0, req.uid, req.gid};
  proto::Attr attr;
  if (Status s = Mknod(m, &attr); !s.ok()) return s;
  return Open(proto::OpenReq{attr.ino, req.client, req.flags}, out);
}

Status Namespace::Release(uint64_t ino, uint64_t client) {
  auto it = open_.find(ino);
  if (it == open_.end()) return Status::Ok();
  auto handle = it->second.find(client);
  if (handle == it->second.end()) return Status::Ok();
  if (--handle->second == 0) it->second.erase(handle);
  if (auto c = client_open_.find(client); c != client_open_.end() && --c->second == 0)
    client_open_.erase(c);
  if (!it->second.empty()) return Status::Ok();
  open_.erase(it);
  return InTxn([&]() -> Status {
    Result<Inode> in = LoadInode(db_, ino);
    if (!in.ok()) return in.err() == ENOENT ? Status::Ok() : in.status();
    if (in->nlink != 0) return Status::Ok();
    return RemoveInode(ino);
  });
}

Status Namespace::PurgeOrphans() {
  return InTxn([&]() -> Status {
    std::vector<uint64_t> orphans;
    store::Stmt st(db_, "SELECT ino FROM inodes WHERE nlink = 0");
    for (;;) {
      Result<bool> row = st.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      orphans.push_back(st.U64(0));
    }
    for (uint64_t ino : orphans)
      if (Status s = RemoveInode(ino); !s.ok()) return s;
    return Status::Ok();
  });
}

Result<uint64_t> Namespace::InodeCount() {
  if (inodes_) return *inodes_;
  store::Stmt st(db_, "SELECT COUNT(*) FROM inodes");
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  inodes_ = st.U64(0);
  return *inodes_;
}

}  // namespace dos::meta
