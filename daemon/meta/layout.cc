#include "daemon/meta/layout.h"

#include <algorithm>

#include "common/store/stmt.h"
#include "common/store/txn.h"
#include "daemon/meta/inode.h"
#include "daemon/meta/placement.h"

namespace dos::meta {

namespace {
constexpr uint64_t kMaxFileBytes = proto::kMaxFileSize;

Result<Inode> LoadFile(store::Db* db, uint64_t ino) {
  Result<Inode> in = LoadInode(db, ino);
  if (!in.ok()) return in;
  if (in->IsDir()) return Status::Err(EISDIR);
  if (!in->IsReg()) return Status::Err(EINVAL, "not a regular file");
  return in;
}
}  // namespace

Status Layout::FillReplicas(proto::ChunkInfo* out) {
  Result<std::vector<std::string>> nodes = ChunkNodes(db_, out->id);
  if (!nodes.ok()) return nodes.status();
  std::stable_partition(nodes->begin(), nodes->end(),
                        [this](const std::string& n) { return members_->IsUp(n); });
  out->replicas.clear();
  for (const std::string& n : *nodes) out->replicas.push_back({n, members_->AddrOf(n)});
  return Status::Ok();
}

Status Layout::ChunkList(const proto::ChunkListReq& req, proto::ChunkListRep* out) {
  Result<Inode> in = LoadInode(db_, req.ino);
  if (!in.ok()) return in.status();
  out->chunk_size = in->chunk_size;
  out->chunks.clear();
  store::Stmt st(db_,
                 "SELECT idx, id, version FROM chunks WHERE ino = ?1 AND idx >= ?2 AND idx < ?3"
                 " ORDER BY idx");
  uint32_t count = std::min(req.count, proto::kMaxChunkList);
  st.Bind(1, req.ino).Bind(2, req.first).Bind(3, req.first + count);
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    proto::ChunkInfo c;
    c.index = st.U64(0);
    c.id = st.U64(1);
    c.version = st.U64(2);
    out->chunks.push_back(std::move(c));
  }
  for (proto::ChunkInfo& c : out->chunks)
    if (Status s = FillReplicas(&c); !s.ok()) return s;
  return Status::Ok();
}

Status Layout::ChunkAlloc(const proto::ChunkAllocReq& req, proto::ChunkAllocRep* out) {
  Result<Inode> in = LoadFile(db_, req.ino);
  if (!in.ok()) return in.status();
  if (req.index >= kMaxFileBytes / in->chunk_size) return Status::Err(EFBIG);
  store::Stmt st(db_, "SELECT id, version FROM chunks WHERE ino = ?1 AND idx = ?2");
  st.Bind(1, req.ino).Bind(2, req.index);
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  out->chunk.index = req.index;
  if (*row) {
    out->chunk.id = st.U64(0);
    out->chunk.version = st.U64(1);
    if (Status s = FillReplicas(&out->chunk); !s.ok()) return s;
    return DropDead(&out->chunk);
  }
  uint32_t repl = in->repl ? in->repl : default_repl_;
  return Place(req.ino, repl, in->chunk_size, &out->chunk);
}

Status Layout::DropDead(proto::ChunkInfo* out) {
  std::vector<std::string> dead;
  for (const proto::Replica& r : out->replicas)
    if (members_->IsDead(r.node)) dead.push_back(r.node);
  if (dead.empty() || dead.size() == out->replicas.size()) return Status::Ok();
  return DropReplicas(out, dead);
}

Status Layout::DropReplicas(proto::ChunkInfo* out, const std::vector<std::string>& nodes) {
  auto listed = [&nodes](const proto::Replica& r) {
    return std::find(nodes.begin(), nodes.end(), r.node) != nodes.end();
  };
  store::Txn txn(db_);
  if (Status s = txn.Begin(); !s.ok()) return s;
  store::Stmt bump(db_, "UPDATE chunks SET version = version + 1 WHERE id = ?1 RETURNING version");
  Result<bool> row = bump.Bind(1, out->id).Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Err(EIO, "chunk vanished");
  uint64_t version = bump.U64(0);
  if (Status s = bump.Run(); !s.ok()) return s;
  for (const proto::Replica& r : out->replicas) {
    if (!listed(r)) continue;
    store::Stmt del(db_, "DELETE FROM replicas WHERE chunk_id = ?1 AND node = ?2");
    if (Status s = del.Bind(1, out->id).Bind(2, r.node).Run(); !s.ok()) return s;
  }
  if (Status s = txn.Commit(); !s.ok()) return s;
  out->version = version;
  std::erase_if(out->replicas, listed);
  return Status::Ok();
}

Status Layout::ChunkFailed(const proto::ChunkFailedReq& req, proto::ChunkAllocRep* out) {
  store::Stmt st(db_, "SELECT ino, idx, version FROM chunks WHERE id = ?1");
  Result<bool> row = st.Bind(1, req.id).Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Err(ENOENT, "no chunk " + std::to_string(req.id));
  out->chunk.id = req.id;
  out->chunk.index = st.U64(1);
  out->chunk.version = st.U64(2);
  if (Status s = FillReplicas(&out->chunk); !s.ok()) return s;
  std::vector<std::string> drop;
  for (const proto::Replica& r : out->chunk.replicas)
    if (std::find(req.nodes.begin(), req.nodes.end(), r.node) != req.nodes.end())
      drop.push_back(r.node);
  // Already gone (another writer reported them first), or the last copy.
  if (drop.empty() || drop.size() == out->chunk.replicas.size()) return Status::Ok();
  return DropReplicas(&out->chunk, drop);
}

Status Layout::Place(uint64_t ino, uint32_t repl, uint64_t chunk_size, proto::ChunkInfo* out) {
  Result<std::vector<Candidate>> cands = members_->Candidates();
  if (!cands.ok()) return cands.status();
  std::vector<std::string> picked = meta::Place(std::move(*cands), repl, chunk_size, rng_);
  if (picked.empty()) return Status::Err(ENOSPC, "no UP node has room for a chunk");
  store::Txn txn(db_);
  if (Status s = txn.Begin(); !s.ok()) return s;
  store::Stmt next(db_,
                   "UPDATE settings SET value = value + 1 WHERE key = 'next_chunk_id'"
                   " RETURNING value - 1");
  Result<bool> row = next.Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Err(EIO, "settings.next_chunk_id is missing");
  out->id = next.U64(0);
  out->version = 1;
  if (Status s = next.Run(); !s.ok()) return s;
  store::Stmt chunk(db_, "INSERT INTO chunks(ino, idx, id, version) VALUES (?1, ?2, ?3, 1)");
  if (Status s = chunk.Bind(1, ino).Bind(2, out->index).Bind(3, out->id).Run(); !s.ok()) return s;
  for (size_t i = 0; i < picked.size(); ++i) {
    store::Stmt rep(db_, "INSERT INTO replicas(chunk_id, node, pos) VALUES (?1, ?2, ?3)");
    if (Status s = rep.Bind(1, out->id).Bind(2, picked[i]).Bind(3, i).Run(); !s.ok()) return s;
    out->replicas.push_back({picked[i], members_->AddrOf(picked[i])});
  }
  return txn.Commit();
}

}  // namespace dos::meta
