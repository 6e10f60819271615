#include "daemon/meta/repair.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "common/store/stmt.h"
#include "common/store/txn.h"

namespace dos::meta {

namespace {
struct Split {
  std::vector<std::string> alive, leaving, dead;  // leaving: live, on a draining node
};
Split SplitReplicas(const ChunkReplicas& c, const NodePred& live, const NodePred& draining) {
  Split s;
  for (const std::string& n : c.nodes) {
    if (!live(n))
      s.dead.push_back(n);
    else if (draining && draining(n))
      s.leaving.push_back(n);
    else
      s.alive.push_back(n);
  }
  return s;
}
}  // namespace

std::vector<Copy> PlanCopies(const std::vector<ChunkReplicas>& chunks, const NodePred& live,
                             std::vector<Candidate> cands, size_t max,
                             const std::set<uint64_t>& busy, std::mt19937_64& rng,
                             const NodePred& draining) {
  std::vector<Copy> out;
  for (const ChunkReplicas& c : chunks) {
    if (out.size() >= max) break;
    if (busy.count(c.id)) continue;
    Split s = SplitReplicas(c, live, draining);
    if ((s.alive.empty() && s.leaving.empty()) || s.alive.size() >= c.want) continue;
    std::vector<Candidate> free;
    std::set<std::string> zones;
    for (const Candidate& k : cands) {
      bool holds = std::find(c.nodes.begin(), c.nodes.end(), k.name) != c.nodes.end();
      (holds ? (void)zones.insert(k.zone) : free.push_back(k));
    }
    std::vector<std::string> picked = Place(std::move(free), 1, c.chunk_size, rng, zones);
    if (picked.empty()) continue;
    std::string source = s.alive.empty() ? s.leaving.front() : s.alive.front();
    std::string replaces = !s.dead.empty() ? s.dead[0] : !s.leaving.empty() ? s.leaving[0] : "";
    out.push_back(Copy{c.id, c.version, source, picked[0], replaces, c.chunk_size});
    for (Candidate& k : cands)
      if (k.name == picked[0]) ++k.replicas;
  }
  return out;
}

std::vector<std::pair<uint64_t, std::string>> PlanDrops(const std::vector<ChunkReplicas>& chunks,
                                                        const NodePred& live,
                                                        const NodePred& draining,
                                                        const std::set<uint64_t>& busy) {
  std::vector<std::pair<uint64_t, std::string>> out;
  for (const ChunkReplicas& c : chunks) {
    if (busy.count(c.id)) continue;
    Split s = SplitReplicas(c, live, draining);
    if (s.alive.size() < c.want) continue;
    for (const std::string& n : s.leaving) out.emplace_back(c.id, n);
  }
  return out;
}

bool TokenBucket::Take(uint64_t cost, int64_t now_ms) {
  if (rate_ == 0) return true;
  double cap = static_cast<double>(std::max(rate_, cost));
  if (last_ms_ == 0) tokens_ = cap;
  tokens_ = std::min(cap, tokens_ + static_cast<double>(rate_) * (now_ms - last_ms_) / 1000.0);
  last_ms_ = now_ms;
  if (tokens_ <= 0) return false;
  tokens_ -= static_cast<double>(cost);
  return true;
}

Repairer::Repairer(store::Db* db, Membership* members, zmq::context_t* ctx,
                   uint32_t default_repl, size_t max_copies)
    : db_(db),
      members_(members),
      ctx_(ctx),
      default_repl_(default_repl),
      max_copies_(max_copies ? max_copies : 1),
      rng_(std::random_device()()) {}

Repairer::~Repairer() {
  for (Running& r : running_) r.done.wait();
}

Result<std::vector<ChunkReplicas>> Repairer::Scan() {
  store::Stmt st(db_,
                 "SELECT c.id, c.version, i.repl, i.chunk_size, r.node FROM chunks c"
                 " JOIN inodes i ON i.ino = c.ino LEFT JOIN replicas r ON r.chunk_id = c.id"
                 " ORDER BY c.id, r.pos");
  std::vector<ChunkReplicas> out;
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    uint64_t id = st.U64(0);
    if (out.empty() || out.back().id != id) {
      uint32_t repl = static_cast<uint32_t>(st.U64(2));
      out.push_back(ChunkReplicas{id, st.U64(1), repl ? repl : default_repl_, st.U64(3), {}});
    }
    std::string node = st.Text(4);
    if (!node.empty()) out.back().nodes.push_back(std::move(node));
  }
}

net::Client* Repairer::ClientFor(const std::string& node) {
  std::string addr = members_->AddrOf(node);
  if (addr.empty()) return nullptr;
  auto& client = clients_[addr];
  if (!client) client = std::make_unique<net::Client>(ctx_, addr);
  return client.get();
}

void Repairer::Start(const Copy& c) {
  net::Client* cl = ClientFor(c.target);
  if (!cl) return;
  proto::ChunkReplicateReq req{c.id, c.version, members_->AddrOf(c.source)};
  running_.push_back(Running{c, std::async(std::launch::async, [cl, req] {
                               proto::Empty rep;
                               return cl->Call(proto::Op::kChunkReplicate, req, &rep,
                                               kCopyTimeoutMs);
                             })});
}

// The copy is kept only if the chunk still exists at the version copied (a
// write that left out a dead replica bumps the version: the copy may lack
// it) and the target is still UP.
Status Repairer::Apply(const Copy& c) {
  store::Txn txn(db_);
  if (Status s = txn.Begin(); !s.ok()) return s;
  store::Stmt ver(db_, "SELECT version FROM chunks WHERE id = ?1");
  Result<bool> row = ver.Bind(1, c.id).Step();
  if (!row.ok()) return row.status();
  if (!*row || ver.U64(0) != c.version) return Status::Err(ESTALE, "chunk changed during copy");
  if (!members_->IsUp(c.target)) return Status::Err(EHOSTDOWN, "target went down");
  store::Stmt swap(db_, "UPDATE replicas SET node = ?3 WHERE chunk_id = ?1 AND node = ?2");
  if (Status s = swap.Bind(1, c.id).Bind(2, c.replaces).Bind(3, c.target).Run(); !s.ok())
    return s;
  if (db_->Changes() == 0) {
    store::Stmt add(db_,
                    "INSERT INTO replicas(chunk_id, node, pos) SELECT ?1, ?2,"
                    " COALESCE(MAX(pos), -1) + 1 FROM replicas WHERE chunk_id = ?1");
    if (Status s = add.Bind(1, c.id).Bind(2, c.target).Run(); !s.ok()) return s;
  }
  if (Status s = txn.Commit(); !s.ok()) return s;
  // A moved replica (drain): its node is alive and keeps a copy nobody reads.
  if (!c.replaces.empty() && members_->IsUp(c.replaces)) DeleteCopy(c.id, c.replaces);
  return Status::Ok();
}

void Repairer::DropDrained(const std::vector<ChunkReplicas>& chunks,
                           const std::set<uint64_t>& busy) {
  auto live = [this](const std::string& n) { return members_->IsUp(n); };
  auto draining = [this](const std::string& n) { return members_->IsDraining(n); };
  for (const auto& [id, node] : PlanDrops(chunks, live, draining, busy)) {
    store::Stmt st(db_, "DELETE FROM replicas WHERE chunk_id = ?1 AND node = ?2");
    if (Status s = st.Bind(1, id).Bind(2, node).Run(); !s.ok()) {
      fprintf(stderr, "meta: drop of chunk %llu on %s: %s\n", static_cast<unsigned long long>(id),
              node.c_str(), s.ToString().c_str());
      continue;
    }
    DeleteCopy(id, node);
  }
}

void Repairer::CollectCopies() {
  for (auto it = running_.begin(); it != running_.end();) {
    if (it->done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      ++it;
      continue;
    }
    const Copy& c = it->copy;
    Status s = it->done.get();
    if (s.ok()) s = Apply(c);
    (s.ok() ? copies_done_ : copies_failed_)++;
    if (!s.ok())
      fprintf(stderr, "meta: copy of chunk %llu from %s to %s: %s\n",
              static_cast<unsigned long long>(c.id), c.source.c_str(), c.target.c_str(),
              s.ToString().c_str());
    it = running_.erase(it);
  }
}

void Repairer::Tick(int64_t now_ms) {
  if (now_ms - last_tick_ms_ < kTickMs || !members_->Settled()) return;
  last_tick_ms_ = now_ms;
  CollectCopies();
  CollectDeletes();
  Inventories(now_ms);
  if (running_.size() >= max_copies_) return;
  bool busy_scan = members_->AnyDraining() || dropped_;
  for (const std::string& n : members_->Names()) busy_scan |= members_->IsDead(n);
  if (!busy_scan && now_ms - last_scan_ms_ < kIdleScanMs) return;
  last_scan_ms_ = now_ms;
  dropped_ = false;
  Result<std::vector<ChunkReplicas>> chunks = Scan();
  Result<std::vector<Candidate>> cands = members_->Candidates();
  if (!chunks.ok() || !cands.ok()) {
    fprintf(stderr, "meta: repair scan: %s\n",
            (chunks.ok() ? cands.status() : chunks.status()).ToString().c_str());
    return;
  }
  std::set<uint64_t> busy = Busy();
  DropDrained(*chunks, busy);
  if (Status s = DropSurplus(*chunks, busy); !s.ok())
    fprintf(stderr, "meta: surplus copies: %s\n", s.ToString().c_str());
  // A copy holds one of the target's chunk threads while it reads from the
  // source: too many on one node and none is left to serve the reads.
  std::map<std::string, size_t> per_target;
  for (const Running& r : running_) per_target[r.copy.target]++;
  std::erase_if(*cands, [&](const Candidate& k) { return per_target[k.name] >= kMaxPerTarget; });
  auto live = [this](const std::string& n) { return members_->IsUp(n); };
  auto draining = [this](const std::string& n) { return members_->IsDraining(n); };
  for (const Copy& c : PlanCopies(*chunks, live, std::move(*cands), max_copies_ - running_.size(),
                                  busy, rng_, draining)) {
    // More work than one scan starts: scan again at the next tick, not after
    // kIdleScanMs (a node that came back leaves no dead node to hurry it).
    dropped_ = true;
    if (per_target[c.target] >= kMaxPerTarget) continue;
    if (!bucket_.Take(c.bytes, now_ms)) break;
    per_target[c.target]++;
    Start(c);
  }
}

Status Repairer::DropReplica(uint64_t id, const std::string& node) {
  store::Stmt st(db_,
                 "DELETE FROM replicas WHERE chunk_id = ?1 AND node = ?2 AND"
                 " (SELECT COUNT(*) FROM replicas WHERE chunk_id = ?1) > 1");
  if (Status s = st.Bind(1, id).Bind(2, node).Run(); !s.ok()) return s;
  if (db_->Changes() > 0) DeleteCopy(id, node);
  dropped_ = true;
  last_tick_ms_ = 0;  // repair at the next heartbeat
  return Status::Ok();
}

}  // namespace dos::meta
