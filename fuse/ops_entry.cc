// lookup, forget, getattr, setattr.
#include <cstring>

#include "fuse/data.h"
#include "fuse/ops.h"
#include "fuse/reply.h"

namespace dos::fs {

namespace {

static_assert(proto::kSetMode == FUSE_SET_ATTR_MODE && proto::kSetUid == FUSE_SET_ATTR_UID &&
              proto::kSetGid == FUSE_SET_ATTR_GID && proto::kSetSize == FUSE_SET_ATTR_SIZE &&
              proto::kSetAtime == FUSE_SET_ATTR_ATIME && proto::kSetMtime == FUSE_SET_ATTR_MTIME &&
              proto::kSetAtimeNow == FUSE_SET_ATTR_ATIME_NOW &&
              proto::kSetMtimeNow == FUSE_SET_ATTR_MTIME_NOW &&
              proto::kSetCtime == FUSE_SET_ATTR_CTIME);

// Fetches parent's entries for DirListings when lookups there keep missing.
void MaybeFetchListing(Fs& fs, fuse_ino_t parent) {
  if (!fs.listings.ShouldFetch(parent)) return;
  const uint64_t gen = fs.listings.generation();
  const uint64_t xattr_gen = fs.xattr_absence.generation();
  proto::ReaddirRep rep;
  Status s = Guard([&] {
    return fs.cluster->Meta(proto::Op::kReaddir,
                            proto::ReaddirReq{parent, 0, DirListings::kMaxEntries}, &rep);
  });
  if (!s.ok()) return fs.listings.Abandon(parent);
  for (const proto::DirEntry& e : rep.entries) fs.xattr_absence.Note(e.attr, xattr_gen);
  fs.listings.Fetched(parent, std::move(rep.entries), gen);
}

Status DoLookup(Fs& fs, fuse_ino_t parent, const char* name, proto::Attr* attr) {
  proto::EntryRep rep;
  const uint64_t xattr_gen = fs.xattr_absence.generation();
  Status s = fs.cluster->Meta(proto::Op::kLookup, proto::LookupReq{parent, name}, &rep);
  if (!s.ok()) return s;
  fs.xattr_absence.Note(rep.attr, xattr_gen);
  fs.files.Merge(&rep.attr);
  *attr = rep.attr;
  return s;
}

Status DoGetattr(Fs& fs, fuse_ino_t ino, proto::Attr* attr) {
  proto::AttrRep rep;
  const uint64_t xattr_gen = fs.xattr_absence.generation();
  Status s = fs.cluster->Meta(proto::Op::kGetattr, proto::InoReq{ino}, &rep);
  if (!s.ok()) return s;
  fs.xattr_absence.Note(rep.attr, xattr_gen);
  fs.files.Merge(&rep.attr);
  *attr = rep.attr;
  return s;
}

int64_t TimespecNs(const timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

proto::SetattrReq MakeSetattr(fuse_ino_t ino, const struct stat* in, int to_set) {
  proto::SetattrReq req;
  req.ino = ino;
  const uint32_t known = proto::kSetMode | proto::kSetUid | proto::kSetGid | proto::kSetSize |
                         proto::kSetAtime | proto::kSetMtime | proto::kSetAtimeNow |
                         proto::kSetMtimeNow | proto::kSetCtime;
  req.valid = static_cast<uint32_t>(to_set) & known;  // FUSE_SET_ATTR_* has the same bits
  req.mode = in->st_mode & 07777;
  req.uid = in->st_uid;
  req.gid = in->st_gid;
  req.size = static_cast<uint64_t>(in->st_size);
  const int64_t now = NowNs();
  req.atime_ns = (to_set & FUSE_SET_ATTR_ATIME_NOW) ? now : TimespecNs(in->st_atim);
  req.mtime_ns = (to_set & FUSE_SET_ATTR_MTIME_NOW) ? now : TimespecNs(in->st_mtim);
  req.ctime_ns = (to_set & FUSE_SET_ATTR_CTIME) ? TimespecNs(in->st_ctim) : now;
  return req;
}

Status DoSetattr(Fs& fs, fuse_ino_t ino, const struct stat* in, int to_set, proto::Attr* attr) {
  auto st = fs.files.Get(ino);
  const bool size = (to_set & FUSE_SET_ATTR_SIZE) != 0;
  const proto::SetattrReq req = MakeSetattr(ino, in, to_set);
  // Writes of this client come first: a later commit must not undo a
  // truncate or an explicit mtime (cp -a, touch -d). A change of mode,
  // owner or times may go with their commit instead.
  if (st) {
    st->WaitWrites();  // an error of theirs is for flush and fsync
    proto::Attr base;
    if (st->KeepSetattr(req, attr, &base)) {
      fs.listings.Changed(ino);
      fs.fresh_attrs.Put(base);  // merged with what is kept when taken
      return Status::Ok();
    }
    if (Status s = CommitPending(fs, *st); !s.ok()) return s;
  }
  proto::AttrRep rep;
  Status s = fs.cluster->Meta(proto::Op::kSetattr, req, &rep);
  fs.listings.Changed(ino);  // also on failure: part of it may have been done
  if (!s.ok()) return s;
  if (size && st) st->Truncated(rep.attr.size);
  fs.fresh_attrs.Put(rep.attr);  // the kernel asks again before a chown (tar: utimens, chown)
  fs.files.Merge(&rep.attr);
  *attr = rep.attr;
  return s;
}

}  // namespace

void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Fs& fs = Get(req);
  proto::Attr attr;
  for (int round = 0; round < 2; ++round) {
    double valid_s;
    if (fs.listings.Find(parent, name, &attr, &valid_s)) {
      fs.files.Merge(&attr);
      fuse_entry_param e;
      FillEntry(attr, &e, valid_s);
      fuse_reply_entry(req, &e);
      return;
    }
    if (round == 0) MaybeFetchListing(fs, parent);
  }
  Status s = Guard([&] { return DoLookup(fs, parent, name, &attr); });
  if (s.err() == ENOENT) return ReplyNegativeEntry(req);
  if (!s.ok()) return ReplyStatus(req, "lookup", parent, s);
  fuse_entry_param e;
  FillEntry(attr, &e);
  fuse_reply_entry(req, &e);
}

// Inode numbers are cluster inode numbers, so there is no table to shrink.
void Forget(fuse_req_t req, fuse_ino_t, uint64_t) { fuse_reply_none(req); }

void ForgetMulti(fuse_req_t req, size_t, fuse_forget_data*) { fuse_reply_none(req); }

void Getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  Fs& fs = Get(req);
  double valid_s;
  if (std::optional<proto::Attr> a = fs.fresh_attrs.Take(ino, &valid_s)) {
    fs.files.Merge(&*a);  // writes not yet committed
    struct stat st;
    FillStat(*a, &st);
    fuse_reply_attr(req, &st, valid_s);
    return;
  }
  proto::Attr attr;
  Status s = Guard([&] { return DoGetattr(fs, ino, &attr); });
  if (!s.ok()) return ReplyStatus(req, "getattr", ino, s);
  struct stat st;
  FillStat(attr, &st);
  fuse_reply_attr(req, &st, kAttrTimeout);
}

void Setattr(fuse_req_t req, fuse_ino_t ino, struct stat* in, int to_set, fuse_file_info*) {
  Fs& fs = Get(req);
  proto::Attr attr;
  Status s = Guard([&] { return DoSetattr(fs, ino, in, to_set, &attr); });
  if (!s.ok()) fs.fresh_attrs.Forget(ino);  // DoSetattr's commit may have put some
  if (!s.ok()) return ReplyStatus(req, "setattr", ino, s);
  struct stat st;
  FillStat(attr, &st);
  fuse_reply_attr(req, &st, kAttrTimeout);
}

}  // namespace dos::fs
