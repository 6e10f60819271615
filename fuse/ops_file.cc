// create, open, read, write, flush, release, fsync.
//
// Open files: every open registers a handle with meta (kOpen, which also
// gives the chunk size) and with the FileTable; release undoes both.
// keep_cache stays 0, so the kernel drops the page cache at open
// (close-to-open consistency).
#include <fcntl.h>

#include <string>

#include "fuse/data.h"
#include "fuse/ops.h"
#include "fuse/reply.h"

namespace dos::fs {

namespace {

Status DoOpen(Fs& fs, fuse_ino_t ino, int flags, proto::Attr* attr) {
  proto::OpenReq req{ino, fs.cluster->client_id(), static_cast<uint32_t>(flags)};
  proto::OpenRep rep;
  Status s = fs.cluster->Meta(proto::Op::kOpen, req, &rep);
  if (!s.ok()) return s;
  auto st = fs.files.Open(ino);
  st->Opened(rep.attr, rep.chunk_size);
  st->Merge(&rep.attr);
  *attr = rep.attr;
  return s;
}

// Undoes DoOpen: meta's handle and the FileTable's.
Status CloseHandle(Fs& fs, fuse_ino_t ino) {
  fs.files.Release(ino);
  proto::Empty rep;
  return fs.cluster->Meta(proto::Op::kRelease, proto::ReleaseReq{ino, fs.cluster->client_id()},
                          &rep);
}

Status DoCreate(Fs& fs, fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, int flags,
                proto::Attr* attr) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  proto::MknodReq m{parent, name,     static_cast<uint32_t>(S_IFREG | (mode & 07777)),
                    0,      ctx->uid, ctx->gid};
  proto::EntryRep rep;
  Status s = fs.cluster->Meta(proto::Op::kMknod, m, &rep);
  bool made = s.ok();
  if (s.err() == EEXIST && !(flags & O_EXCL)) {
    // Another client made it between the kernel's lookup and ours: open that.
    s = fs.cluster->Meta(proto::Op::kLookup, proto::LookupReq{parent, name}, &rep);
    if (s.ok() && !S_ISREG(rep.attr.mode)) s = Status::Err(EEXIST);
  }
  if (!s.ok()) return s;
  s = DoOpen(fs, rep.attr.ino, flags, attr);
  if (s.err() == EMFILE && made) {
    // Past meta's open-handle limit: like Linux's EMFILE, leave no file behind.
    proto::Empty e;
    (void)fs.cluster->Meta(proto::Op::kUnlink, proto::RemoveReq{parent, name}, &e);
  }
  return s;
}

// The state of an open file; an invariant of the kernel protocol.
FileState& OpenState(Fs& fs, fuse_ino_t ino) {
  auto st = fs.files.Get(ino);
  if (!st) throw std::logic_error("inode " + std::to_string(ino) + " is not open");
  return *st;  // owned by the table until the release of this handle
}

Status DoFlush(Fs& fs, fuse_ino_t ino, fuse_file_info* fi) {
  FileState& st = OpenState(fs, ino);
  Status s = SyncAndCommit(fs, st);
  // POSIX: closing any descriptor drops the owner's record locks.
  if (st.posix_locked()) {
    proto::ReleaseLocksReq r{ino, fs.cluster->client_id(), fi->lock_owner, false};
    proto::Empty rep;
    Status ls = fs.cluster->Meta(proto::Op::kReleaseLocks, r, &rep);
    if (s.ok()) s = ls;
  }
  return s;
}

Status DoRelease(Fs& fs, fuse_ino_t ino, fuse_file_info* fi) {
  Status s = Guard([&] { return SyncAndCommit(fs, OpenState(fs, ino)); });
  if (fi->flock_release) {
    proto::ReleaseLocksReq r{ino, fs.cluster->client_id(), fi->lock_owner, true};
    proto::Empty rep;
    Status ls = fs.cluster->Meta(proto::Op::kReleaseLocks, r, &rep);
    if (s.ok()) s = ls;
  }
  Status c = CloseHandle(fs, ino);
  return s.ok() ? c : s;
}

void ReplyOpen(fuse_req_t req, Fs& fs, fuse_ino_t ino, fuse_file_info* fi) {
  fi->keep_cache = 0;
  fi->direct_io = 0;
  if (fuse_reply_open(req, fi) != 0) (void)Guard([&] { return CloseHandle(fs, ino); });
}

}  // namespace

void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  Fs& fs = Get(req);
  proto::Attr attr;
  Status s = Guard([&] { return DoCreate(fs, req, parent, name, mode, fi->flags, &attr); });
  if (!s.ok()) return ReplyStatus(req, "create", parent, s);
  fi->keep_cache = 0;
  fi->direct_io = 0;
  fuse_entry_param e;
  FillEntry(attr, &e);
  if (fuse_reply_create(req, &e, fi) != 0) (void)Guard([&] { return CloseHandle(fs, attr.ino); });
}

void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Fs& fs = Get(req);
  proto::Attr attr;
  Status s = Guard([&] { return DoOpen(fs, ino, fi->flags, &attr); });
  if (!s.ok()) return ReplyStatus(req, "open", ino, s);
  ReplyOpen(req, fs, ino, fi);
}

void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
  Fs& fs = Get(req);
  std::string data;
  Status s = Guard([&] { return ReadData(fs, OpenState(fs, ino), off, size, &data); });
  if (!s.ok()) return ReplyStatus(req, "read", ino, s);
  fuse_reply_buf(req, data.data(), data.size());
}

void Write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
           fuse_file_info*) {
  Fs& fs = Get(req);
  Status s = Guard([&] {
    return WriteData(fs, OpenState(fs, ino), static_cast<uint64_t>(off),
                     std::string_view(buf, size));
  });
  if (!s.ok()) return ReplyStatus(req, "write", ino, s);
  fuse_reply_write(req, size);
}

void Flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Fs& fs = Get(req);
  ReplyStatus(req, "flush", ino, Guard([&] { return DoFlush(fs, ino, fi); }));
}

void Release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Fs& fs = Get(req);
  ReplyStatus(req, "release", ino, Guard([&] { return DoRelease(fs, ino, fi); }));
}

void Fsync(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
  Fs& fs = Get(req);
  ReplyStatus(req, "fsync", ino, Guard([&] { return SyncAndCommit(fs, OpenState(fs, ino)); }));
}

}  // namespace dos::fs
