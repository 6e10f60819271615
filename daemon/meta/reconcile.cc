// Repairer, second half: what nodes hold against what meta lists (returning
// nodes, stale and surplus copies), the delete jobs, and health counts.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "common/store/stmt.h"
#include "daemon/meta/node_client.h"
#include "daemon/meta/repair.h"

namespace dos::meta {

namespace {
constexpr int kInventoryCallMs = 10000;

bool Ready(const auto& fut) {
  return fut.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

Result<std::vector<HeldCopy>> FetchInventory(net::Client* cl) {
  std::vector<HeldCopy> out;
  proto::ChunkInventoryReq req;
  for (;;) {
    proto::ChunkInventoryRep rep;
    if (Status s = cl->Call(proto::Op::kChunkInventory, req, &rep, kInventoryCallMs); !s.ok())
      return s;
    if (rep.ids.size() != rep.versions.size()) return Status::Err(EPROTO, "inventory lengths");
    for (size_t i = 0; i < rep.ids.size(); ++i) out.push_back({rep.ids[i], rep.versions[i]});
    if (rep.eof || rep.ids.empty()) return out;
    req.after = rep.ids.back();
  }
}
}  // namespace

std::set<uint64_t> Repairer::Busy() const {
  std::set<uint64_t> busy;
  for (const Running& r : running_) busy.insert(r.copy.id);
  for (const Deleting& d : deleting_) busy.insert(d.ids.begin(), d.ids.end());
  return busy;
}

void Repairer::DeleteCopies(const std::vector<uint64_t>& ids, const std::string& node) {
  net::Client* cl = ClientFor(node);
  if (!cl) return;
  for (size_t at = 0; at < ids.size(); at += proto::kMaxDeleteBatch) {
    std::vector<uint64_t> part(ids.begin() + at,
                               ids.begin() + std::min(ids.size(), at + proto::kMaxDeleteBatch));
    auto done = std::async(std::launch::async,
                           [cl, part] { return DeleteChunks(cl, part, kCopyTimeoutMs); });
    deleting_.push_back(Deleting{std::move(part), node, std::move(done)});
  }
}

void Repairer::CollectDeletes() {
  for (auto it = deleting_.begin(); it != deleting_.end();) {
    if (!Ready(it->done)) {
      ++it;
      continue;
    }
    Result<proto::ChunkDeleteManyRep> rep = it->done.get();
    if (!rep.ok()) {
      fprintf(stderr, "meta: delete of %zu chunks (first %llu) on %s: %s\n", it->ids.size(),
              static_cast<unsigned long long>(it->ids.front()), it->node.c_str(),
              rep.status().ToString().c_str());
      inventoried_.erase(it->node);  // look again later
    } else {
      copies_dropped_ += it->ids.size() - std::min(it->ids.size(), rep->failed.size());
      for (const proto::FailedChunk& f : rep->failed)
        fprintf(stderr, "meta: delete of chunk %llu on %s: %s\n",
                static_cast<unsigned long long>(f.id), it->node.c_str(),
                Status::Err(f.err).ToString().c_str());
      if (!rep->failed.empty()) inventoried_.erase(it->node);
    }
    it = deleting_.erase(it);
  }
}

Result<std::vector<HeldCopy>> Repairer::Inventory(const std::string& node) {
  net::Client* cl = ClientFor(node);
  if (!cl) return Status::Err(ENOENT, "unknown node " + node);
  return FetchInventory(cl);
}

void Repairer::Inventories(int64_t now_ms) {
  if (now_ms - last_inventory_ms_ > kInventoryMs) {
    last_inventory_ms_ = now_ms;
    inventoried_.clear();
  }
  for (auto it = inventories_.begin(); it != inventories_.end();) {
    if (!Ready(it->second)) {
      ++it;
      continue;
    }
    Result<std::vector<HeldCopy>> held = it->second.get();
    Status s = held.ok() ? Reconcile(it->first, *held) : held.status();
    if (!s.ok()) {
      fprintf(stderr, "meta: inventory of %s: %s\n", it->first.c_str(), s.ToString().c_str());
      inventoried_.erase(it->first);
    }
    it = inventories_.erase(it);
  }
  for (auto it = recheck_ms_.begin(); it != recheck_ms_.end();) {
    if (it->second > now_ms || inventories_.count(it->first)) {  // not due, or one is running
      ++it;
      continue;
    }
    inventoried_.erase(it->first);  // the second look, below
    it = recheck_ms_.erase(it);
  }
  for (const proto::NodeInfo& n : members_->Nodes()) {
    if (!members_->IsUp(n.name)) {
      if (inventoried_.erase(n.name)) returned_.insert(n.name);
      recheck_ms_.erase(n.name);
      continue;
    }
    const uint64_t inc = members_->Incarnation(n.name);
    uint64_t& seen = incarnation_[n.name];
    if (seen != inc) {
      if (seen != 0) {  // restarted since meta last looked
        inventoried_.erase(n.name);
        returned_.insert(n.name);
      }
      seen = inc;
    }
    if (inventoried_.count(n.name) || inventories_.count(n.name)) continue;
    net::Client* cl = ClientFor(n.name);
    if (!cl) continue;
    inventoried_.insert(n.name);
    if (returned_.erase(n.name)) recheck_ms_[n.name] = now_ms + kRecheckMs;
    inventories_[n.name] = std::async(std::launch::async, [cl] { return FetchInventory(cl); });
  }
}

void Repairer::Recheck(const std::string& node, int64_t now_ms) {
  if (members_->IsUp(node)) recheck_ms_.emplace(node, now_ms + kRecheckMs);
}

// A held copy is deleted when meta does not list it on that node, or lists
// it at a newer version (a stale copy; its row goes too, if another
// replica is left, and re-replication makes a fresh copy).
Status Repairer::Reconcile(const std::string& node, const std::vector<HeldCopy>& held) {
  std::vector<uint64_t> doomed;  // sent in batches at the end, even after an error
  Status s = ReconcileRows(node, held, &doomed);
  DeleteCopies(doomed, node);
  return s;
}

Status Repairer::ReconcileRows(const std::string& node, const std::vector<HeldCopy>& held,
                               std::vector<uint64_t>* doomed) {
  std::set<uint64_t> busy = Busy();
  for (const HeldCopy& h : held) {
    if (busy.count(h.id)) {
      inventoried_.erase(node);  // look at it again once the job is over
      continue;
    }
    store::Stmt st(db_,
                   "SELECT c.version, EXISTS(SELECT 1 FROM replicas r WHERE r.chunk_id = c.id"
                   " AND r.node = ?2), (SELECT COUNT(*) FROM replicas r WHERE r.chunk_id = c.id)"
                   " FROM chunks c WHERE c.id = ?1");
    Result<bool> row = st.Bind(1, h.id).Bind(2, node).Step();
    if (!row.ok()) return row.status();
    bool listed = *row && st.U64(1) != 0;
    if (listed && h.version >= st.U64(0)) continue;  // a good copy
    if (listed && st.U64(2) < 2) continue;  // the only copy left, stale or not: keep it
    if (listed) {
      store::Stmt del(db_, "DELETE FROM replicas WHERE chunk_id = ?1 AND node = ?2");
      if (Status s = del.Bind(1, h.id).Bind(2, node).Run(); !s.ok()) return s;
      dropped_ = true;
    }
    fprintf(stderr, "meta: %s holds %s chunk %llu (version %llu); deleting it\n", node.c_str(),
            listed ? "a stale copy of" : "an unlisted copy of",
            static_cast<unsigned long long>(h.id), static_cast<unsigned long long>(h.version));
    doomed->push_back(h.id);
    busy.insert(h.id);
  }
  return Status::Ok();
}

Status Repairer::DropSurplus(const std::vector<ChunkReplicas>& chunks,
                             const std::set<uint64_t>& busy) {
  std::map<std::string, std::vector<uint64_t>> doomed;  // by node, sent at the end
  Status s = SurplusRows(chunks, busy, &doomed);
  for (const auto& [node, ids] : doomed) DeleteCopies(ids, node);
  return s;
}

Status Repairer::SurplusRows(const std::vector<ChunkReplicas>& chunks,
                             const std::set<uint64_t>& busy,
                             std::map<std::string, std::vector<uint64_t>>* doomed) {
  for (const ChunkReplicas& c : chunks) {
    if (busy.count(c.id) || c.nodes.size() <= c.want) continue;
    std::vector<std::string> alive;
    for (const std::string& n : c.nodes)
      if (members_->IsUp(n)) alive.push_back(n);
    if (alive.size() != c.nodes.size()) continue;  // wait until every holder is UP
    // Copies on draining nodes are DropDrained's (this scan's list is from before it).
    if (std::any_of(alive.begin(), alive.end(), [this](const std::string& n) {
          return members_->IsDraining(n);
        }))
      continue;
    for (size_t i = c.want; i < alive.size(); ++i) {
      store::Stmt del(db_, "DELETE FROM replicas WHERE chunk_id = ?1 AND node = ?2");
      if (Status s = del.Bind(1, c.id).Bind(2, alive[i]).Run(); !s.ok()) return s;
      (*doomed)[alive[i]].push_back(c.id);
    }
  }
  return Status::Ok();
}

Status Repairer::Health(proto::FsHealthRep* out) {
  Result<std::vector<ChunkReplicas>> chunks = Scan();
  if (!chunks.ok()) return chunks.status();
  for (const ChunkReplicas& c : *chunks) {
    size_t live = 0;
    for (const std::string& n : c.nodes) live += members_->IsUp(n);
    out->chunks++;
    if (live == 0)
      out->missing++;
    else if (live < c.want)
      out->under_replicated++;
    else
      out->ok++;
  }
  for (const Deleting& d : deleting_) out->stale += d.ids.size();
  out->copies_running = running_.size();
  out->copies_done = copies_done_;
  out->copies_failed = copies_failed_;
  out->copies_dropped = copies_dropped_;
  for (const proto::NodeInfo& n : members_->Nodes()) (members_->IsUp(n.name) ? out->nodes_up : out->nodes_down)++;
  return Status::Ok();
}

}  // namespace dos::meta
