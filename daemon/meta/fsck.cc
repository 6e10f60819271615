#include "daemon/meta/fsck.h"

#include "common/store/stmt.h"
#include "common/store/txn.h"

namespace dos::meta {

namespace {

struct Finding {
  uint64_t chunk = 0;
  uint64_t ino = 0;
  std::string node;
};

// Rows of sql as findings: columns chunk, ino, node (as many as sql has).
Result<std::vector<Finding>> Query(store::Db* db, const char* sql) {
  store::Stmt st(db, sql);
  std::vector<Finding> out;
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(Finding{st.U64(0), st.U64(1), st.Text(2)});
  }
}

void Report(const char* kind, const std::vector<Finding>& found, uint64_t* count,
            proto::FsckRep* out) {
  *count += found.size();
  for (size_t i = 0; i < found.size() && i < proto::kMaxFsckItems; ++i)
    out->items.push_back(proto::FsckItem{kind, found[i].chunk, found[i].ino, found[i].node});
}

Status Run(store::Db* db, const char* sql, uint64_t a, const std::string& b = "") {
  store::Stmt st(db, sql);
  st.Bind(1, a);
  if (!b.empty()) st.Bind(2, b);
  return st.Run();
}

const char* const kOrphanChunks =
    "SELECT c.id, c.ino, '' FROM chunks c WHERE NOT EXISTS"
    " (SELECT 1 FROM inodes i WHERE i.ino = c.ino) ORDER BY c.id";
const char* const kDanglingChunks =
    "SELECT c.id, c.ino, '' FROM chunks c WHERE EXISTS (SELECT 1 FROM inodes i WHERE i.ino ="
    " c.ino) AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.chunk_id = c.id) ORDER BY c.id";
const char* const kOrphanReplicas =
    "SELECT r.chunk_id, 0, r.node FROM replicas r WHERE NOT EXISTS"
    " (SELECT 1 FROM chunks c WHERE c.id = r.chunk_id) ORDER BY r.chunk_id";
const char* const kUnknownNodes =
    "SELECT r.chunk_id, 0, r.node FROM replicas r WHERE NOT EXISTS"
    " (SELECT 1 FROM nodes n WHERE n.name = r.node) ORDER BY r.chunk_id";

// Copies on a node's disk that meta does not list there.
Result<std::vector<Finding>> StrayFiles(store::Db* db, const FsckInput& in) {
  std::vector<Finding> out;
  for (const auto& [node, held] : in.held) {
    for (const HeldCopy& h : held) {
      if (in.busy.count(h.id)) continue;
      store::Stmt st(db, "SELECT 1 FROM replicas WHERE chunk_id = ?1 AND node = ?2");
      Result<bool> row = st.Bind(1, h.id).Bind(2, node).Step();
      if (!row.ok()) return row.status();
      if (!*row) out.push_back(Finding{h.id, 0, node});
    }
  }
  return out;
}

Status Fix(store::Db* db, const std::vector<Finding>& orphans,
           const std::vector<Finding>& dangling, const std::vector<Finding>& orphan_reps,
           const std::vector<Finding>& unknown,
           std::vector<std::pair<uint64_t, std::string>>* deletes) {
  for (const Finding& f : orphans) {
    Result<std::vector<Finding>> reps = Query(
        db, ("SELECT chunk_id, 0, node FROM replicas WHERE chunk_id = " + std::to_string(f.chunk))
                .c_str());
    if (!reps.ok()) return reps.status();
    for (const Finding& r : *reps) deletes->push_back({r.chunk, r.node});
    if (Status s = Run(db, "DELETE FROM replicas WHERE chunk_id = ?1", f.chunk); !s.ok()) return s;
    if (Status s = Run(db, "DELETE FROM chunks WHERE id = ?1", f.chunk); !s.ok()) return s;
  }
  for (const Finding& f : dangling)
    if (Status s = Run(db, "DELETE FROM chunks WHERE id = ?1", f.chunk); !s.ok()) return s;
  for (const Finding& f : orphan_reps) {
    deletes->push_back({f.chunk, f.node});
    if (Status s = Run(db, "DELETE FROM replicas WHERE chunk_id = ?1", f.chunk); !s.ok()) return s;
  }
  for (const Finding& f : unknown)
    if (Status s = Run(db, "DELETE FROM replicas WHERE chunk_id = ?1 AND node = ?2", f.chunk,
                       f.node);
        !s.ok())
      return s;
  return Status::Ok();
}

}  // namespace

Status Fsck(store::Db* db, const FsckInput& in, proto::FsckRep* out,
            std::vector<std::pair<uint64_t, std::string>>* deletes) {
  store::Txn txn(db);
  if (Status s = txn.Begin(); !s.ok()) return s;
  auto orphans = Query(db, kOrphanChunks);
  auto dangling = Query(db, kDanglingChunks);
  auto orphan_reps = Query(db, kOrphanReplicas);
  auto unknown = Query(db, kUnknownNodes);
  auto stray = StrayFiles(db, in);
  for (auto* r : {&orphans, &dangling, &orphan_reps, &unknown, &stray})
    if (!r->ok()) return r->status();
  Report("orphan_chunks", *orphans, &out->orphan_chunks, out);
  Report("dangling_chunks", *dangling, &out->dangling_chunks, out);
  Report("orphan_replicas", *orphan_reps, &out->orphan_replicas, out);
  Report("unknown_nodes", *unknown, &out->unknown_nodes, out);
  Report("stray_files", *stray, &out->stray_files, out);
  std::vector<Finding> unreachable;
  for (const std::string& n : in.unreachable) unreachable.push_back(Finding{0, 0, n});
  Report("unreachable_nodes", unreachable, &out->unreachable_nodes, out);
  if (!in.repair) return Status::Ok();
  if (Status s = Fix(db, *orphans, *dangling, *orphan_reps, *unknown, deletes); !s.ok()) return s;
  for (const Finding& f : *stray) deletes->push_back({f.chunk, f.node});
  if (Status s = txn.Commit(); !s.ok()) return s;
  out->repaired = true;
  return Status::Ok();
}

bool FsckFound(const proto::FsckRep& r) {
  return r.orphan_chunks || r.dangling_chunks || r.orphan_replicas || r.unknown_nodes ||
         r.stray_files || r.unreachable_nodes;
}

}  // namespace dos::meta
