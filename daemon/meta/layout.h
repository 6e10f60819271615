// Layout: which chunks a file has and where their replicas live; new chunks
// are placed here (placement.h) on UP nodes (membership.h).
// Not thread-safe: used from the meta thread only.
#pragma once

#include <random>

#include "common/proto/messages.h"
#include "common/store/db.h"
#include "daemon/meta/membership.h"

namespace dos::meta {

class Layout {
 public:
  Layout(store::Db* db, Membership* members, uint32_t default_repl)
      : db_(db), members_(members), default_repl_(default_repl), rng_(std::random_device()()) {}

  // Chunks of ino in [first, first+count) that exist, with their replicas
  // (UP nodes first). ENOENT.
  Status ChunkList(const proto::ChunkListReq& req, proto::ChunkListRep* out);
  // The chunk at index, placed now if new on min(repl, UP nodes) nodes. An
  // existing chunk with replicas on dead nodes (and a live one) loses them
  // and gets version+1 first: the write that follows leaves them out, and a
  // stale copy coming back must never be read (re-replication makes new
  // copies).
  // ENOSPC if no UP node can take it, EISDIR/EINVAL if ino is not a regular
  // file, EFBIG past the largest offset.
  Status ChunkAlloc(const proto::ChunkAllocReq& req, proto::ChunkAllocRep* out);
  // A chain write missed the replicas on req.nodes (see proto::ChunkFailedReq):
  // those still listed are dropped, UP or not, but never the last replica,
  // and the version goes up by one. out->chunk is the chunk afterwards.
  // ENOENT for an unknown chunk.
  Status ChunkFailed(const proto::ChunkFailedReq& req, proto::ChunkAllocRep* out);
  // The replication of files that have none of their own (the setting).
  void set_default_repl(uint32_t repl) { default_repl_ = repl; }

 private:
  // Fills out->replicas of chunk out->id.
  Status FillReplicas(proto::ChunkInfo* out);
  // Drops out->replicas on dead nodes and bumps the version (see ChunkAlloc).
  Status DropDead(proto::ChunkInfo* out);
  // Drops the replicas of out->id on nodes (out->replicas is the list now)
  // and bumps the version, in one transaction.
  Status DropReplicas(proto::ChunkInfo* out, const std::vector<std::string>& nodes);
  Status Place(uint64_t ino, uint32_t repl, uint64_t chunk_size, proto::ChunkInfo* out);

  store::Db* db_;
  Membership* members_;
  uint32_t default_repl_;
  std::mt19937_64 rng_;
};

}  // namespace dos::meta
