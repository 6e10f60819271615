// The wire glue of meta: each op decoded (net::Typed checks Valid()), handed
// to its part and encoded back. Nothing here decides anything.
#include <cstdio>

#include "daemon/meta/handler_glue.h"
#include "daemon/meta/meta_impl.h"

namespace dos::meta {

namespace {
using proto::Op;

}  // namespace

Status MetaServiceImpl::Statfs(proto::StatfsRep* out) {
  members_.Capacity(&out->total_bytes, &out->free_bytes);
  Result<uint64_t> files = ns_.InodeCount();
  if (!files.ok()) return files.status();
  out->files = *files;
  out->files_free = (1ull << 40) - *files;
  return Status::Ok();
}

void MetaServiceImpl::Register(net::Server* server, int lane) {
  using namespace proto;
  auto* ns = &ns_;
  On<LookupReq, EntryRep>(server, lane, Op::kLookup, [ns](auto& q, auto* r) {
    return ns->Lookup(q.parent, q.name, &r->attr);
  });
  On<InoReq, AttrRep>(server, lane, Op::kGetattr,
                      [ns](auto& q, auto* r) { return ns->Getattr(q.ino, &r->attr); });
  On<SetattrReq, AttrRep>(server, lane, Op::kSetattr,
                          [ns](auto& q, auto* r) { return ns->Setattr(q, &r->attr); });
  On<MknodReq, EntryRep>(server, lane, Op::kMknod,
                         [ns](auto& q, auto* r) { return ns->Mknod(q, &r->attr); });
  On<MkdirReq, EntryRep>(server, lane, Op::kMkdir,
                         [ns](auto& q, auto* r) { return ns->Mkdir(q, &r->attr); });
  On<RemoveReq, Empty>(server, lane, Op::kUnlink,
                       [ns](auto& q, auto*) { return ns->Unlink(q.parent, q.name); });
  On<RemoveReq, Empty>(server, lane, Op::kRmdir,
                       [ns](auto& q, auto*) { return ns->Rmdir(q.parent, q.name); });
  On<SymlinkReq, EntryRep>(server, lane, Op::kSymlink,
                           [ns](auto& q, auto* r) { return ns->Symlink(q, &r->attr); });
  On<InoReq, ReadlinkRep>(server, lane, Op::kReadlink,
                          [ns](auto& q, auto* r) { return ns->Readlink(q.ino, &r->target); });
  On<LinkReq, EntryRep>(server, lane, Op::kLink,
                        [ns](auto& q, auto* r) { return ns->Link(q, &r->attr); });
  On<RenameReq, Empty>(server, lane, Op::kRename, [ns](auto& q, auto*) { return ns->Rename(q); });
  On<ReaddirReq, ReaddirRep>(server, lane, Op::kReaddir,
                             [ns](auto& q, auto* r) { return ns->Readdir(q, r); });
  On<Empty, StatfsRep>(server, lane, Op::kStatfs, [this](auto&, auto* r) { return Statfs(r); });
  On<SetxattrReq, Empty>(server, lane, Op::kSetxattr,
                         [ns](auto& q, auto*) { return ns->Setxattr(q); });
  On<XattrNameReq, XattrRep>(server, lane, Op::kGetxattr, [ns](auto& q, auto* r) {
    return ns->Getxattr(q.ino, q.name, &r->value);
  });
  On<InoReq, ListxattrRep>(server, lane, Op::kListxattr,
                           [ns](auto& q, auto* r) { return ns->Listxattr(q.ino, &r->names); });
  On<XattrNameReq, Empty>(server, lane, Op::kRemovexattr,
                          [ns](auto& q, auto*) { return ns->Removexattr(q.ino, q.name); });
  On<OpenReq, OpenRep>(server, lane, Op::kOpen, [ns](auto& q, auto* r) { return ns->Open(q, r); });
  On<CreateReq, OpenRep>(server, lane, Op::kCreate,
                         [ns](auto& q, auto* r) { return ns->Create(q, r); });
  On<ReleaseReq, Empty>(server, lane, Op::kRelease,
                        [ns](auto& q, auto*) { return ns->Release(q.ino, q.client); });
  RegisterLayout(server, lane);
  RegisterRepair(server, lane);
  RegisterMgmt(server, lane);
  RegisterKeys(server, lane);
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
  auto* layout = &layout_;
  auto* locks = &locks_;
  auto* members = &members_;
  auto* repair = &repair_;
  On<ChunkListReq, ChunkListRep>(server, lane, Op::kChunkList,
                                 [layout](auto& q, auto* r) { return layout->ChunkList(q, r); });
  On<ChunkAllocReq, ChunkAllocRep>(server, lane, Op::kChunkAlloc,
                                   [layout](auto& q, auto* r) { return layout->ChunkAlloc(q, r); });
  // A dropped replica leaves its chunk short: have re-replication look soon.
  On<ChunkFailedReq, ChunkAllocRep>(server, lane, Op::kChunkFailed,
                                    [this, layout](auto& q, auto* r) {
                                      Status s = layout->ChunkFailed(q, r);
                                      if (s.ok()) repair_.Kick();
                                      return s;
                                    });
  On<CommitWriteReq, AttrRep>(server, lane, Op::kCommitWrite,
                              [ns](auto& q, auto* r) { return ns->CommitWrite(q, &r->attr); });
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
  // Heartbeats are meta's clock: they also drive re-replication. The reply
  // carries the settings, so every node has them within one heartbeat.
  On<HeartbeatReq, HeartbeatRep>(server, lane, Op::kHeartbeat, [this](auto& q, auto* r) {
    Status s = members_.Heartbeat(q);
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
