// The wire glue of meta: each op decoded (net::Typed checks Valid()), handed
// to its part and encoded back. Nothing here decides anything.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "daemon/meta/handler_glue.h"
#include "daemon/meta/meta_impl.h"

namespace dos::meta {

namespace {
using proto::Op;

// How long meta's lane must be without a request before unlinked inodes go.
constexpr int kReapQuietMs = 20;
}  // namespace

Status MetaServiceImpl::Statfs(proto::StatfsRep* out) {
  members_.Capacity(&out->total_bytes, &out->free_bytes);
  Result<uint64_t> files = ns_.InodeCount();
  if (!files.ok()) return files.status();
  out->files = *files;
  out->files_free = (1ull << 40) - *files;
  return Status::Ok();
}

void MetaServiceImpl::Register(net::Server* server, int lane, int slow_lane) {
  using namespace proto;
  auto* ns = &ns_;
  auto* cr = &creds_;
  auto* keys = &keys_;
  auto* layout = &layout_;
  // A bound user key (creds.h) is checked before the operation runs.
  OnFrom<LookupReq, EntryRep>(server, lane, Op::kLookup, [=](auto& q, auto* r, auto& peer) {
    if (const Binding* b = keys->BindingOf(peer))
      if (Status s = cr->Access(*b, q.parent, X_OK); !s.ok()) return s;
    return ns->Lookup(q.parent, q.name, &r->attr);
  });
  On<InoReq, AttrRep>(server, lane, Op::kGetattr,
                      [ns](auto& q, auto* r) { return ns->Getattr(q.ino, &r->attr); });
  OnFrom<SetattrReq, AttrRep>(server, lane, Op::kSetattr, [=](auto& q, auto* r, auto& peer) {
    SetattrReq req = q;
    if (const Binding* b = keys->BindingOf(peer))
      if (Status s = cr->Setattr(*b, &req); !s.ok()) return s;
    return ns->Setattr(req, &r->attr);
  });
  OnFrom<ReaddirReq, ReaddirRep>(server, lane, Op::kReaddir, [=](auto& q, auto* r, auto& peer) {
    if (const Binding* b = keys->BindingOf(peer))
      if (Status s = cr->Access(*b, q.ino, R_OK); !s.ok()) return s;
    return ns->Readdir(q, r);
  });
  On<InoReq, ReadlinkRep>(server, lane, Op::kReadlink,
                          [ns](auto& q, auto* r) { return ns->Readlink(q.ino, &r->target); });
  On<Empty, StatfsRep>(server, lane, Op::kStatfs, [this](auto&, auto* r) { return Statfs(r); });
  OnFrom<SetxattrReq, Empty>(server, lane, Op::kSetxattr, [=](auto& q, auto*, auto& peer) {
    if (const Binding* b = keys->BindingOf(peer))
      if (Status s = cr->Xattr(*b, q.ino, q.name, true); !s.ok()) return s;
    return ns->Setxattr(q);
  });
  OnFrom<XattrNameReq, XattrRep>(server, lane, Op::kGetxattr, [=](auto& q, auto* r, auto& peer) {
    if (const Binding* b = keys->BindingOf(peer))
      if (Status s = cr->Xattr(*b, q.ino, q.name, false); !s.ok()) return s;
    return ns->Getxattr(q.ino, q.name, &r->value);
  });
  On<InoReq, ListxattrRep>(server, lane, Op::kListxattr,
                           [ns](auto& q, auto* r) { return ns->Listxattr(q.ino, &r->names); });
  OnFrom<XattrNameReq, Empty>(server, lane, Op::kRemovexattr, [=](auto& q, auto*, auto& peer) {
    if (const Binding* b = keys->BindingOf(peer))
      if (Status s = cr->Xattr(*b, q.ino, q.name, true); !s.ok()) return s;
    return ns->Removexattr(q.ino, q.name);
  });
  // Releases that come with an open or create go first, whatever the open's
  // fate (they happened before it).
  auto release = [ns](uint64_t client, const std::vector<uint64_t>& inos) {
    for (uint64_t ino : inos)
      if (Status s = ns->Release(ino, client); !s.ok())
        std::fprintf(stderr, "meta: release of inode %llu: %s\n",
                     static_cast<unsigned long long>(ino), s.ToString().c_str());
  };
  OnFrom<OpenReq, OpenRep>(server, lane, Op::kOpen, [=](auto& q, auto* r, auto& peer) {
    release(q.client, q.released);
    const Binding* b = keys->BindingOf(peer);
    if (b)
      if (Status s = cr->Open(*b, q.ino, q.flags); !s.ok()) return s;
    if (Status s = ns->Open(q, r); !s.ok()) return s;
    r->setattr_checked = b && b->uid != 0;
    if (!S_ISREG(r->attr.mode)) return Status::Ok();
    ChunkListRep list;
    if (Status s = layout->ChunkList(ChunkListReq{q.ino, 0, kOpenChunks}, &list); s.ok())
      r->chunks = std::move(list.chunks);  // else dosfs asks with kChunkList
    return Status::Ok();
  });
  OnFrom<CreateReq, OpenRep>(server, lane, Op::kCreate, [=](auto& q, auto* r, auto& peer) {
    release(q.client, q.released);
    CreateReq req = q;
    const Binding* b = keys->BindingOf(peer);
    if (b) {
      if (Status s = cr->Access(*b, q.parent, W_OK | X_OK); !s.ok()) return s;
      req.uid = b->uid;
      req.gid = b->gid;
    }
    Status s = ns->Create(req, r);
    r->setattr_checked = b && b->uid != 0;
    if (s.ok() && !ns->Getattr(q.parent, &r->parent).ok()) r->parent = Attr{};
    return s;
  });
  On<ReleaseReq, Empty>(server, lane, Op::kRelease,
                        [ns](auto& q, auto*) { return ns->Release(q.ino, q.client); });
  On<ReleaseManyReq, Empty>(server, lane, Op::kReleaseMany, [=](auto& q, auto*) {
    release(q.client, q.inos);
    return Status::Ok();
  });
  RegisterEntries(server, lane);
  RegisterLayout(server, lane);
  RegisterRepair(server, lane);
  RegisterMgmt(server, lane, slow_lane < 0 ? lane : slow_lane);
  RegisterKeys(server, lane);
  // The namespace and layout ops a file system call waits for never wait on
  // a node themselves (chunk deletions go to NodeClient's own thread; a
  // truncation, which waits, comes only from kSetattr, left out): the I/O
  // thread runs them when the lane is idle (net::Server::SetQuick).
  for (Op op : {Op::kLookup, Op::kGetattr, Op::kReaddir, Op::kReadlink, Op::kStatfs,
                Op::kGetxattr, Op::kListxattr, Op::kSetxattr, Op::kRemovexattr, Op::kOpen,
                Op::kCreate, Op::kRelease, Op::kReleaseMany, Op::kMknod, Op::kMkdir,
                Op::kSymlink, Op::kLink, Op::kUnlink, Op::kRmdir, Op::kRename, Op::kChunkList,
                Op::kChunkAlloc, Op::kCommitWrite, Op::kPing})
    server->SetQuick(op);
}

// Ops that add or remove names. A bound user key needs write and search on
// each directory involved and creates inodes with its own uid/gid.
void MetaServiceImpl::RegisterEntries(net::Server* server, int lane) {
  using namespace proto;
  auto* ns = &ns_;
  auto* cr = &creds_;
  auto* keys = &keys_;
  // The directory's attributes after a change, for the client (EntryRep::parent).
  auto parent_attr = [ns](uint64_t dir, Status s, Attr* out) {
    if (s.ok() && !ns->Getattr(dir, out).ok()) *out = Attr{};
    return s;
  };
  OnFrom<MknodReq, EntryRep>(server, lane, Op::kMknod, [=](auto& q, auto* r, auto& peer) {
    MknodReq req = q;
    if (const Binding* b = keys->BindingOf(peer)) {
      if (Status s = cr->Access(*b, q.parent, W_OK | X_OK); !s.ok()) return s;
      req.uid = b->uid;
      req.gid = b->gid;
    }
    return parent_attr(q.parent, ns->Mknod(req, &r->attr), &r->parent);
  });
  OnFrom<MkdirReq, EntryRep>(server, lane, Op::kMkdir, [=](auto& q, auto* r, auto& peer) {
    MkdirReq req = q;
    if (const Binding* b = keys->BindingOf(peer)) {
      if (Status s = cr->Access(*b, q.parent, W_OK | X_OK); !s.ok()) return s;
      req.uid = b->uid;
      req.gid = b->gid;
    }
    return parent_attr(q.parent, ns->Mkdir(req, &r->attr), &r->parent);
  });
  OnFrom<SymlinkReq, EntryRep>(server, lane, Op::kSymlink, [=](auto& q, auto* r, auto& peer) {
    SymlinkReq req = q;
    if (const Binding* b = keys->BindingOf(peer)) {
      if (Status s = cr->Access(*b, q.parent, W_OK | X_OK); !s.ok()) return s;
      req.uid = b->uid;
      req.gid = b->gid;
    }
    return parent_attr(q.parent, ns->Symlink(req, &r->attr), &r->parent);
  });
  OnFrom<LinkReq, EntryRep>(server, lane, Op::kLink, [=](auto& q, auto* r, auto& peer) {
    if (const Binding* b = keys->BindingOf(peer))
      if (Status s = cr->Access(*b, q.newparent, W_OK | X_OK); !s.ok()) return s;
    return parent_attr(q.newparent, ns->Link(q, &r->attr), &r->parent);
  });
  OnFrom<RemoveReq, RemoveRep>(server, lane, Op::kUnlink, [=](auto& q, auto* r, auto& peer) {
    if (const Binding* b = keys->BindingOf(peer))
      if (Status s = cr->Remove(*b, q.parent, q.name); !s.ok()) return s;
    return parent_attr(q.parent, ns->Unlink(q.parent, q.name, &r->ino), &r->parent);
  });
  OnFrom<RemoveReq, RemoveRep>(server, lane, Op::kRmdir, [=](auto& q, auto* r, auto& peer) {
    if (const Binding* b = keys->BindingOf(peer))
      if (Status s = cr->Remove(*b, q.parent, q.name); !s.ok()) return s;
    return parent_attr(q.parent, ns->Rmdir(q.parent, q.name, &r->ino), &r->parent);
  });
  OnFrom<RenameReq, RenameRep>(server, lane, Op::kRename, [=](auto& q, auto* r, auto& peer) {
    if (const Binding* b = keys->BindingOf(peer))
      if (Status s = cr->Rename(*b, q); !s.ok()) return s;
    Status s = parent_attr(q.parent, ns->Rename(q, r), &r->parent);
    return parent_attr(q.newparent, s, &r->newparent);
  });
}

void MetaServiceImpl::RegisterKeys(net::Server* server, int lane) {
  using namespace proto;
  auto* keys = &keys_;
  On<KeyAddReq, Empty>(server, lane, Op::kKeyAdd, [keys](auto& q, auto*) { return keys->Add(q); });
  On<Empty, KeyListRep>(server, lane, Op::kKeyList, [keys](auto&, auto* r) { return keys->List(r); });
  On<KeyRevokeReq, Empty>(server, lane, Op::kKeyRevoke,
                          [keys](auto& q, auto*) { return keys->Revoke(q.name); });
  On<KeySyncReq, KeyListRep>(server, lane, Op::kKeySync,
                             [keys](auto& q, auto* r) { return keys->Sync(q.version, r); });
}

void MetaServiceImpl::RegisterLayout(net::Server* server, int lane) {
  using namespace proto;
  auto* ns = &ns_;
  auto* cr = &creds_;
  auto* keys = &keys_;
  auto* layout = &layout_;
  auto* locks = &locks_;
  auto* members = &members_;
  auto* repair = &repair_;
  On<ChunkListReq, ChunkListRep>(server, lane, Op::kChunkList,
                                 [layout](auto& q, auto* r) { return layout->ChunkList(q, r); });
  On<ChunkAllocReq, ChunkAllocRep>(server, lane, Op::kChunkAlloc,
                                   [layout](auto& q, auto* r) { return layout->ChunkAlloc(q, r); });
  // A dropped replica leaves its chunk short: have re-replication look
  // soon; and its node, if UP, may hold a copy no longer listed.
  On<ChunkFailedReq, ChunkAllocRep>(server, lane, Op::kChunkFailed,
                                    [this, layout](auto& q, auto* r) {
                                      Status s = layout->ChunkFailed(q, r);
                                      if (!s.ok()) return s;
                                      repair_.Kick();
                                      for (const std::string& node : q.nodes)
                                        repair_.Recheck(node, Membership::WallMs());
                                      return s;
                                    });
  // The setattrs a commit carries are checked as kSetattr's are.
  OnFrom<CommitWriteReq, AttrRep>(server, lane, Op::kCommitWrite, [=](auto& q, auto* r, auto& peer) {
    CommitWriteReq req = q;
    if (const Binding* b = keys->BindingOf(peer); b && req.set.valid != 0)
      if (Status s = cr->Setattr(*b, &req.set); !s.ok()) return s;
    return ns->CommitWrite(req, &r->attr);
  });
  On<SetReplReq, Empty>(server, lane, Op::kSetRepl,
                        [ns](auto& q, auto*) { return ns->SetRepl(q.ino, q.repl); });
  On<LockReq, LockRep>(server, lane, Op::kGetlk, [locks](auto& q, auto* r) {
    locks->Getlk(q, r);
    return Status::Ok();
  });
  On<LockReq, Empty>(server, lane, Op::kSetlk, [locks](auto& q, auto*) { return locks->Setlk(q); });
  On<ReleaseLocksReq, Empty>(server, lane, Op::kReleaseLocks, [locks](auto& q, auto*) {
    locks->Release(q.ino, q.client, q.owner, q.is_flock);
    return Status::Ok();
  });
  // Unlinked inodes go when the lane is quiet: a burst of unlinks does not
  // pay for their removal, which waits for the burst's end.
  server->SetIdle(lane, kReapQuietMs, [this] {
    if (Status reaped = ns_.ReapOrphans(); !reaped.ok())
      fprintf(stderr, "meta: removing unlinked inodes: %s\n", reaped.ToString().c_str());
  });
  // Heartbeats are meta's clock: they also drive re-replication and remove
  // unlinked inodes that waited too long for a quiet lane. The reply carries
  // the settings, so every node has them within one heartbeat.
  On<HeartbeatReq, HeartbeatRep>(server, lane, Op::kHeartbeat, [this](auto& q, auto* r) {
    Status s = members_.Heartbeat(q);
    if (ns_.ReapOverdue())
      if (Status reaped = ns_.ReapOrphans(); !reaped.ok())
        fprintf(stderr, "meta: removing unlinked inodes: %s\n", reaped.ToString().c_str());
    repair_.Tick(Membership::WallMs());
    FillHeartbeatRep(r);
    return s;
  });
  On<ChunkBadReq, Empty>(server, lane, Op::kChunkBad,
                         [repair](auto& q, auto*) { return repair->DropReplica(q.id, q.node); });
  On<Empty, NodeListRep>(server, lane, Op::kNodeList, [members](auto&, auto* r) {
    r->nodes = members->Nodes();
    return Status::Ok();
  });
  On<Empty, Empty>(server, lane, Op::kPing, [](auto&, auto*) { return Status::Ok(); });
}

}  // namespace dos::meta
