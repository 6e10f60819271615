// getlk, setlk, flock: record (POSIX) and flock locks, held by meta.
//
// A lock owner is (this client's id, the kernel's lock owner). Meta never
// blocks: a lock that may sleep (F_SETLKW, flock without LOCK_NB) is asked
// again with a growing pause until granted or the request is interrupted.
#include <sys/file.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <thread>

#include "fuse/data.h"
#include "fuse/ops.h"
#include "fuse/reply.h"

namespace dos::fs {

namespace {

// struct flock as libfuse gives it: l_len 0 is "to the end of file".
int64_t LockEnd(const struct flock* l) {
  if (l->l_len == 0) return INT64_MAX;
  return static_cast<int64_t>(l->l_start) + static_cast<int64_t>(l->l_len) - 1;
}

proto::LockReq MakeLock(Fs& fs, fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi,
                        const struct flock* l) {
  proto::LockReq r;
  r.ino = ino;
  r.client = fs.cluster->client_id();
  r.owner = fi->lock_owner;
  r.pid = l->l_pid > 0 ? static_cast<uint32_t>(l->l_pid)
                       : static_cast<uint32_t>(fuse_req_ctx(req)->pid);
  r.type = static_cast<uint32_t>(l->l_type);
  r.start = l->l_start;
  r.end = LockEnd(l);
  return r;
}

// kSetlk, retried while it conflicts if sleep is set. A lock taken makes
// the blocks ReadCache kept of the file stale (they may predate what the
// last holder wrote).
Status SetLock(Fs& fs, fuse_req_t req, const proto::LockReq& r, bool sleep) {
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    proto::Empty rep;
    Status s = fs.cluster->Meta(proto::Op::kSetlk, r, &rep);
    if (s.ok() && r.type != F_UNLCK)
      if (auto st = fs.files.Get(r.ino)) st->DataChanged();
    if (s.err() != EAGAIN || !sleep) return s;
    if (fuse_req_interrupted(req)) return Status::Err(EINTR);
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace

void Getlk(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, struct flock* lock) {
  Fs& fs = Get(req);
  proto::LockRep rep;
  Status s = Guard(
      [&] { return fs.cluster->Meta(proto::Op::kGetlk, MakeLock(fs, req, ino, fi, lock), &rep); });
  if (!s.ok()) return ReplyStatus(req, "getlk", ino, s);
  lock->l_type = static_cast<short>(rep.type);
  if (rep.type != F_UNLCK) {
    lock->l_whence = SEEK_SET;
    lock->l_start = rep.start;
    lock->l_len = rep.end == INT64_MAX ? 0 : rep.end - rep.start + 1;
    lock->l_pid = static_cast<pid_t>(rep.pid);
  }
  fuse_reply_lock(req, lock);
}

void Setlk(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, struct flock* lock, int sleep) {
  Fs& fs = Get(req);
  Status s = Guard([&] {
    if (lock->l_type != F_UNLCK) {
      if (auto st = fs.files.Get(ino)) st->MarkPosixLocked();
    }
    if (Status w = Settle(fs, ino); !w.ok()) return w;
    return SetLock(fs, req, MakeLock(fs, req, ino, fi, lock), sleep != 0);
  });
  ReplyStatus(req, "setlk", ino, s);
}

void Flock(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, int op) {
  Fs& fs = Get(req);
  Status s = Guard([&] {
    proto::LockReq r;
    r.ino = ino;
    r.client = fs.cluster->client_id();
    r.owner = fi->lock_owner;
    r.pid = static_cast<uint32_t>(fuse_req_ctx(req)->pid);
    switch (op & ~LOCK_NB) {
      case LOCK_SH:
        r.type = F_RDLCK;
        break;
      case LOCK_EX:
        r.type = F_WRLCK;
        break;
      case LOCK_UN:
        r.type = F_UNLCK;
        break;
      default:
        return Status::Err(EINVAL, "flock op " + std::to_string(op));
    }
    r.start = 0;
    r.end = INT64_MAX;
    r.is_flock = true;
    if (Status w = Settle(fs, ino); !w.ok()) return w;
    return SetLock(fs, req, r, (op & LOCK_NB) == 0);
  });
  ReplyStatus(req, "flock", ino, s);
}

}  // namespace dos::fs
