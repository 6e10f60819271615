#include "fuse/reply.h"

#include <chrono>
#include <cstdio>
#include <cstring>

namespace dos::fs {

namespace {

timespec ToTimespec(int64_t ns) {
  timespec ts{};
  ts.tv_sec = ns / 1000000000;
  ts.tv_nsec = ns % 1000000000;
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000;
    ts.tv_sec -= 1;
  }
  return ts;
}

bool Expected(int err) {
  switch (err) {
    case 0:
    case ENOENT:
    case EEXIST:
    case ENOTEMPTY:
    case ENOTDIR:
    case EISDIR:
    case ENODATA:
    case EAGAIN:
    case EACCES:
    case EPERM:
    case ERANGE:
    case EOPNOTSUPP:
    case ENAMETOOLONG:
    case EINTR:
    case EXDEV:
    case EINVAL:
    case ENOSYS:
      return true;
    default:
      return false;
  }
}

}  // namespace

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void LogFailure(const Fs& fs, const char* op, uint64_t ino, const Status& s) {
  if (!fs.verbose || Expected(s.err())) return;
  std::fprintf(stderr, "dosfs: %s inode %llu: %s\n", op, static_cast<unsigned long long>(ino),
               s.ToString().c_str());
}

void FillStat(const proto::Attr& attr, struct stat* st) {
  std::memset(st, 0, sizeof(*st));
  st->st_ino = attr.ino;
  st->st_mode = attr.mode;
  st->st_nlink = attr.nlink;
  st->st_uid = attr.uid;
  st->st_gid = attr.gid;
  st->st_rdev = attr.rdev;
  st->st_size = static_cast<off_t>(attr.size);
  st->st_blksize = 64 * 1024;
  st->st_blocks = static_cast<blkcnt_t>((attr.size + 511) / 512);
  st->st_atim = ToTimespec(attr.atime_ns);
  st->st_mtim = ToTimespec(attr.mtime_ns);
  st->st_ctim = ToTimespec(attr.ctime_ns);
}

void FillEntry(const proto::Attr& attr, fuse_entry_param* e, double valid_s) {
  std::memset(e, 0, sizeof(*e));
  e->ino = attr.ino;
  e->generation = 0;
  FillStat(attr, &e->attr);
  e->attr_timeout = valid_s >= 0 ? valid_s : kAttrTimeout;
  e->entry_timeout = valid_s >= 0 ? valid_s : kEntryTimeout;
}

void ReplyStatus(fuse_req_t req, const char* op, uint64_t ino, const Status& s) {
  LogFailure(Get(req), op, ino, s);
  fuse_reply_err(req, s.err());
}

void ReplyNegativeEntry(fuse_req_t req) {
  fuse_entry_param e;
  std::memset(&e, 0, sizeof(e));
  e.ino = 0;
  e.entry_timeout = kEntryTimeout;
  fuse_reply_entry(req, &e);
}

Status DataError(const Status& s) {
  switch (s.err()) {
    case 0:
    case ENOSPC:
    case EDQUOT:
    case EIO:
    case EFBIG:
    case EINTR:
      return s;
    default:
      return Status::Err(EIO, s.ToString());
  }
}

}  // namespace dos::fs
