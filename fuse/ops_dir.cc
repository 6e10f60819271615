// mkdir, rmdir, opendir, readdir, readdirplus, releasedir, fsyncdir.
//
// Directory offsets: 1 is after ".", 2 after "..", and cookie + 2 after an
// entry meta returned with that cookie (so cookies 1 and 2 stay apart from
// the dots). An open directory keeps the last page meta sent, so that
// consecutive readdir calls that each fill one kernel buffer do not refetch.
#include <cstring>
#include <mutex>
#include <vector>

#include "fuse/ops.h"
#include "fuse/reply.h"

namespace dos::fs {

namespace {

constexpr uint32_t kPage = 1024;  // entries asked of meta at once

struct DirHandle {
  std::mutex mu;  // guards the page; one readdir at a time per handle
  bool valid = false;
  uint64_t after = 0;  // the page holds the entries after this cookie
  std::vector<proto::DirEntry> page;
  bool eof = false;
};

DirHandle* Handle(fuse_file_info* fi) { return reinterpret_cast<DirHandle*>(fi->fh); }

Status FetchPage(Fs& fs, fuse_ino_t ino, uint64_t after, DirHandle* d) {
  proto::ReaddirReq req{ino, after, kPage};
  proto::ReaddirRep rep;
  const uint64_t xattr_gen = fs.xattr_absence.generation();
  Status s = fs.cluster->Meta(proto::Op::kReaddir, req, &rep);
  if (!s.ok()) return s;
  for (const proto::DirEntry& e : rep.entries) fs.xattr_absence.Note(e.attr, xattr_gen);  // ls -l
  d->valid = true;
  d->after = after;
  d->page = std::move(rep.entries);
  d->eof = rep.eof || d->page.empty();
  return s;
}

// Index in d->page of the first entry after cookie, or -1 if the page does not tell.
long FindAfter(const DirHandle& d, uint64_t cookie) {
  if (!d.valid) return -1;
  if (d.after == cookie) return 0;
  for (size_t i = 0; i < d.page.size(); ++i)
    if (d.page[i].cookie == cookie) return static_cast<long>(i + 1);
  return -1;
}

// Fills buf with entries from offset off on; stops at the first that does not fit.
class DirFiller {
 public:
  DirFiller(fuse_req_t req, size_t size, bool plus) : req_(req), buf_(size), plus_(plus) {}

  // False when the entry did not fit (and was not added).
  bool Add(const char* name, const proto::Attr& attr, off_t next, bool dot) {
    size_t room = buf_.size() - used_;
    size_t n;
    if (plus_) {
      fuse_entry_param e;
      FillEntry(attr, &e);
      if (dot) e.ino = 0;  // no lookup count for "." and ".."
      n = fuse_add_direntry_plus(req_, buf_.data() + used_, room, name, &e, next);
    } else {
      struct stat st;
      FillStat(attr, &st);
      n = fuse_add_direntry(req_, buf_.data() + used_, room, name, &st, next);
    }
    if (n > room) return false;
    used_ += n;
    return true;
  }
  bool empty() const { return used_ == 0; }
  void Reply() { fuse_reply_buf(req_, buf_.data(), used_); }

 private:
  fuse_req_t req_;
  std::vector<char> buf_;
  size_t used_ = 0;
  bool plus_;
};

Status DoReaddir(Fs& fs, fuse_ino_t ino, off_t off, DirHandle* d, DirFiller* f) {
  std::lock_guard<std::mutex> lock(d->mu);
  proto::Attr dot;
  dot.ino = ino;
  dot.mode = S_IFDIR;
  if (off == 0) {
    d->valid = false;  // rewinddir: see the directory as it is now
    if (!f->Add(".", dot, 1, true)) return Status::Ok();
    off = 1;
  }
  if (off == 1) {
    if (!f->Add("..", dot, 2, true)) return Status::Ok();
    off = 2;
  }
  uint64_t cookie = static_cast<uint64_t>(off) - 2;
  long i = FindAfter(*d, cookie);
  if (i < 0) {
    if (Status s = FetchPage(fs, ino, cookie, d); !s.ok()) return s;
    i = 0;
  }
  for (;;) {
    for (size_t k = static_cast<size_t>(i); k < d->page.size(); ++k) {
      proto::DirEntry& e = d->page[k];
      fs.files.Merge(&e.attr);
      if (!f->Add(e.name.c_str(), e.attr, static_cast<off_t>(e.cookie + 2), false))
        return Status::Ok();
    }
    if (d->eof) return Status::Ok();
    uint64_t last = d->page.back().cookie;
    if (Status s = FetchPage(fs, ino, last, d); !s.ok()) return s;
    i = 0;
  }
}

void ReaddirCommon(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi,
                   bool plus) {
  Fs& fs = Get(req);
  DirFiller filler(req, size, plus);
  Status s = Guard([&] { return DoReaddir(fs, ino, off, Handle(fi), &filler); });
  // As in passthrough_hp: an error after some entries were added is not
  // reported, the entries are (the next call meets the error again).
  if (!s.ok() && filler.empty()) return ReplyStatus(req, plus ? "readdirplus" : "readdir", ino, s);
  filler.Reply();
}

Status DoMkdir(Fs& fs, fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
               proto::Attr* attr) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  proto::MkdirReq m{parent, name, static_cast<uint32_t>(mode & 07777), ctx->uid, ctx->gid};
  proto::EntryRep rep;
  Status s = fs.cluster->Meta(proto::Op::kMkdir, m, &rep);
  if (!s.ok()) return s;
  *attr = rep.attr;
  fs.fresh_attrs.Put(rep.parent);
  fs.listings.Added(parent, name, rep.attr);
  return s;
}

}  // namespace

void Mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  Fs& fs = Get(req);
  proto::Attr attr;
  Status s = Guard([&] { return DoMkdir(fs, req, parent, name, mode, &attr); });
  if (!s.ok()) return ReplyStatus(req, "mkdir", parent, s);
  fuse_entry_param e;
  FillEntry(attr, &e);
  fuse_reply_entry(req, &e);
}

void Rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Fs& fs = Get(req);
  Status s = Guard([&] {
    proto::RemoveRep rep;
    Status r = fs.cluster->Meta(proto::Op::kRmdir, proto::RemoveReq{parent, name}, &rep);
    if (r.ok()) ForgetRemoved(fs, parent, name, rep);
    return r;
  });
  if (!s.ok()) {  // it may have been removed all the same (a lost reply)
    fs.fresh_attrs.Clear();
    fs.listings.Clear();
  }
  ReplyStatus(req, "rmdir", parent, s);
}

void Opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  DirHandle* d = new (std::nothrow) DirHandle;
  if (!d) return ReplyStatus(req, "opendir", ino, Status::Err(ENOMEM));
  fi->fh = reinterpret_cast<uint64_t>(d);
  if (fuse_reply_open(req, fi) != 0) delete d;  // interrupted: no releasedir will come
}

void Readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  ReaddirCommon(req, ino, size, off, fi, false);
}

void Readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  ReaddirCommon(req, ino, size, off, fi, true);
}

void Releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  delete Handle(fi);
  fuse_reply_err(req, 0);
}

// Directories live in meta's SQLite database, which commits each change.
void Fsyncdir(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) { fuse_reply_err(req, 0); }

}  // namespace dos::fs
