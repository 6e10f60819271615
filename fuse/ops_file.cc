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

// How writes through a handle go: behind the call, or through before the
// reply (O_DIRECT), or also synced (O_SYNC, O_DSYNC).
enum WriteMode { kWriteBehind, kWriteThrough, kWriteSync };

WriteMode WriteModeOf(int flags) {
  if (flags & (O_SYNC | O_DSYNC)) return kWriteSync;
  if (flags & O_DIRECT) return kWriteThrough;
  return kWriteBehind;
}

// One open file description (fuse_file_info::fh), from open to release.
struct FileHandle {
  WriteMode mode;
  uint64_t errors_seen;  // its error cursor (see FileState::ErrorCount)
  bool direct;           // O_DIRECT: reads always go to the nodes (no ReadCache)
};

FileHandle& HandleOf(fuse_file_info* fi) { return *reinterpret_cast<FileHandle*>(fi->fh); }

// Registers a handle meta opened (kOpen or kCreate) with the FileTable and
// in fi (a FileHandle, deleted by CloseHandle).
Status Opened(Fs& fs, proto::OpenRep& rep, fuse_file_info* fi, proto::Attr* attr) {
  auto st = fs.files.Open(rep.attr.ino);
  fi->fh = reinterpret_cast<uint64_t>(new FileHandle{WriteModeOf(fi->flags), st->ErrorCount(),
                                                     (fi->flags & O_DIRECT) != 0});
  st->Opened(rep.attr, rep.chunk_size, rep.setattr_checked);
  for (const proto::ChunkInfo& c : rep.chunks) st->CacheChunk(c);
  st->Merge(&rep.attr);
  *attr = rep.attr;
  return Status::Ok();
}

Status DoOpen(Fs& fs, fuse_ino_t ino, fuse_file_info* fi, proto::Attr* attr) {
  proto::OpenReq req{ino, fs.cluster->client_id(), static_cast<uint32_t>(fi->flags),
                     fs.releases->Take()};
  proto::OpenRep rep;
  const uint64_t xattr_gen = fs.xattr_absence.generation();
  Status s = fs.cluster->Meta(proto::Op::kOpen, req, &rep);
  if (!s.ok()) return s;
  fs.xattr_absence.Note(rep.attr, xattr_gen);  // the kernel asks before each write
  return Opened(fs, rep, fi, attr);
}

// Undoes DoOpen: the FileTable's handle and fi's now, meta's soon (ReleaseQueue).
Status CloseHandle(Fs& fs, fuse_ino_t ino, fuse_file_info* fi) {
  delete &HandleOf(fi);
  fi->fh = 0;
  fs.files.Release(ino);
  if (!fs.files.Get(ino)) fs.read_cache.Forget(ino);  // the next open could not use them
  fs.releases->Add(ino);
  return Status::Ok();
}

Status DoCreate(Fs& fs, fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                fuse_file_info* fi, proto::Attr* attr) {
  const int flags = fi->flags;
  const fuse_ctx* ctx = fuse_req_ctx(req);
  proto::CreateReq c{parent,   name, static_cast<uint32_t>(mode & 07777), ctx->uid, ctx->gid,
                     fs.cluster->client_id(), static_cast<uint32_t>(flags),
                     fs.releases->Take()};
  proto::OpenRep rep;
  const uint64_t xattr_gen = fs.xattr_absence.generation();
  Status s = fs.cluster->Meta(proto::Op::kCreate, c, &rep);
  if (s.ok()) {
    fs.xattr_absence.Note(rep.attr, xattr_gen);  // a new file has no attributes yet
    fs.fresh_attrs.Put(rep.parent);
    fs.fresh_attrs.Put(rep.attr);  // merged with the writes to come when taken
    fs.listings.Added(parent, name, rep.attr);
    return Opened(fs, rep, fi, attr);
  }
  if (s.err() != EEXIST || (flags & O_EXCL)) return s;
  // Another client made it between the kernel's lookup and ours: open that.
  proto::EntryRep found;
  s = fs.cluster->Meta(proto::Op::kLookup, proto::LookupReq{parent, name}, &found);
  if (s.ok() && !S_ISREG(found.attr.mode)) s = Status::Err(EEXIST);
  if (!s.ok()) return s;
  return DoOpen(fs, found.attr.ino, fi, attr);
}

// The state of an open file; an invariant of the kernel protocol.
FileState& OpenState(Fs& fs, fuse_ino_t ino) {
  auto st = fs.files.Get(ino);
  if (!st) throw std::logic_error("inode " + std::to_string(ino) + " is not open");
  return *st;  // owned by the table until the release of this handle
}

// close(2) makes the data visible to the next open anywhere (the size goes
// to meta), not durable: as on a local disk, that is fsync's job. The chunks
// written stay marked unsynced (beyond the last close, see FileTable), so a
// later fsync on any descriptor of the file syncs them. A write error is
// reported and left for fsync (see FileState::ErrorCount).
Status DoFlush(Fs& fs, fuse_ino_t ino, fuse_file_info* fi) {
  FileState& st = OpenState(fs, ino);
  Status s = st.WaitWritesError(&HandleOf(fi).errors_seen, false);
  Status c = CommitPending(fs, st);
  if (s.ok()) s = c;
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
  Status s = Guard([&] {
    FileState& st = OpenState(fs, ino);
    st.WaitWrites();  // nobody hears of an error now: flush reported it
    return CommitPending(fs, st);
  });
  if (fi->flock_release) {
    proto::ReleaseLocksReq r{ino, fs.cluster->client_id(), fi->lock_owner, true};
    proto::Empty rep;
    Status ls = fs.cluster->Meta(proto::Op::kReleaseLocks, r, &rep);
    if (s.ok()) s = ls;
  }
  Status c = CloseHandle(fs, ino, fi);
  return s.ok() ? c : s;
}

void ReplyOpen(fuse_req_t req, Fs& fs, fuse_ino_t ino, fuse_file_info* fi) {
  fi->keep_cache = 0;
  fi->direct_io = 0;
  if (fuse_reply_open(req, fi) != 0) (void)Guard([&] { return CloseHandle(fs, ino, fi); });
}

}  // namespace

void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  Fs& fs = Get(req);
  std::call_once(fs.readahead_once, [&fs] { TuneReadahead(fs); });
  proto::Attr attr;
  Status s = Guard([&] { return DoCreate(fs, req, parent, name, mode, fi, &attr); });
  if (!s.ok()) return ReplyStatus(req, "create", parent, s);
  fi->keep_cache = 0;
  fi->direct_io = 0;
  fuse_entry_param e;
  FillEntry(attr, &e);
  if (fuse_reply_create(req, &e, fi) != 0)
    (void)Guard([&] { return CloseHandle(fs, attr.ino, fi); });
}

void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Fs& fs = Get(req);
  std::call_once(fs.readahead_once, [&fs] { TuneReadahead(fs); });
  proto::Attr attr;
  Status s = Guard([&] { return DoOpen(fs, ino, fi, &attr); });
  if (!s.ok()) return ReplyStatus(req, "open", ino, s);
  ReplyOpen(req, fs, ino, fi);
}

void Read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  Fs& fs = Get(req);
  std::string data;
  Status s = Guard([&] {
    FileState& st = OpenState(fs, ino);
    st.WaitWrites();  // read what was written (an error is for flush and fsync)
    return ReadData(fs, st, off, size, &data, !HandleOf(fi).direct);
  });
  if (!s.ok()) return ReplyStatus(req, "read", ino, s);
  fuse_reply_buf(req, data.data(), data.size());
}

void Write(fuse_req_t req, fuse_ino_t ino, const char* buf, size_t size, off_t off,
           fuse_file_info* fi) {
  Fs& fs = Get(req);
  Status s = Guard([&] {
    std::shared_ptr<FileState> st = fs.files.Get(ino);
    if (!st) throw std::logic_error("inode " + std::to_string(ino) + " is not open");
    std::string_view data(buf, size);
    FileHandle& h = HandleOf(fi);
    if (h.mode == kWriteBehind)
      return QueueWrite(fs, st, static_cast<uint64_t>(off), data, &h.errors_seen);
    if (Status w = st->WaitWritesError(&h.errors_seen, false); !w.ok()) return w;
    Status ws = WriteData(fs, *st, static_cast<uint64_t>(off), data);
    st->DataChanged();  // (queued writes: EndWrite)
    if (ws.ok() && h.mode == kWriteSync) ws = SyncAndCommit(fs, *st, &h.errors_seen);
    return ws;
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

void Fsync(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info* fi) {
  Fs& fs = Get(req);
  ReplyStatus(req, "fsync", ino, Guard([&] {
                return SyncAndCommit(fs, OpenState(fs, ino), &HandleOf(fi).errors_seen);
              }));
}

}  // namespace dos::fs
