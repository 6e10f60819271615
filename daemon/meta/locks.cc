#include "daemon/meta/locks.h"

#include <fcntl.h>

#include <algorithm>
#include <limits>

namespace dos::meta {

namespace {
constexpr int64_t kEof = std::numeric_limits<int64_t>::max();

bool Overlap(int64_t s1, int64_t e1, int64_t s2, int64_t e2) { return s1 <= e2 && s2 <= e1; }
}  // namespace

const Locks::Lock* Locks::Conflict(const std::vector<Lock>& locks,
                                   const proto::LockReq& req) const {
  for (const Lock& l : locks) {
    if (l.SameOwner(req)) continue;
    if (l.type != F_WRLCK && req.type != F_WRLCK) continue;
    if (Overlap(l.start, l.end, req.start, req.end)) return &l;
  }
  return nullptr;
}

void Locks::Getlk(const proto::LockReq& req, proto::LockRep* rep) const {
  *rep = proto::LockRep{};
  rep->type = F_UNLCK;
  auto it = table_.find(req.ino);
  if (it == table_.end() || req.type == F_UNLCK) return;
  const Lock* l = Conflict(req.is_flock ? it->second.flock : it->second.posix, req);
  if (!l) return;
  rep->type = l->type;
  rep->start = l->start;
  rep->end = l->end;
  rep->pid = l->pid;
}

Status Locks::Setlk(const proto::LockReq& req) {
  InodeLocks& il = table_[req.ino];
  if (req.type != F_UNLCK) {
    const std::vector<Lock>& locks = req.is_flock ? il.flock : il.posix;
    if (Conflict(locks, req)) {
      Prune(req.ino);
      return Status::Err(EAGAIN);
    }
  }
  if (req.is_flock) {
    SetFlock(&il, req);
  } else {
    SetPosix(&il, req);
  }
  Prune(req.ino);
  return Status::Ok();
}

void Locks::SetFlock(InodeLocks* il, const proto::LockReq& req) {
  std::erase_if(il->flock, [&](const Lock& l) { return l.SameOwner(req); });
  if (req.type == F_UNLCK) return;
  il->flock.push_back(Lock{req.client, req.owner, req.pid, req.type, 0, kEof});
}

// The owner's locks are taken out, cut around [start, end], the new lock put
// in, and neighbours of one type joined: what fs/locks.c posix_lock_inode
// leaves behind.
void Locks::SetPosix(InodeLocks* il, const proto::LockReq& req) {
  std::vector<Lock> mine;
  std::vector<Lock> rest;
  for (const Lock& l : il->posix) (l.SameOwner(req) ? mine : rest).push_back(l);
  std::vector<Lock> cut;
  for (const Lock& l : mine) {
    if (!Overlap(l.start, l.end, req.start, req.end)) {
      cut.push_back(l);
      continue;
    }
    if (l.start < req.start)
      cut.push_back(Lock{l.client, l.owner, l.pid, l.type, l.start, req.start - 1});
    if (l.end > req.end) cut.push_back(Lock{l.client, l.owner, l.pid, l.type, req.end + 1, l.end});
  }
  if (req.type != F_UNLCK)
    cut.push_back(Lock{req.client, req.owner, req.pid, req.type, req.start, req.end});
  std::sort(cut.begin(), cut.end(), [](const Lock& a, const Lock& b) { return a.start < b.start; });
  std::vector<Lock> merged;
  for (const Lock& l : cut) {
    if (!merged.empty()) {
      Lock& last = merged.back();
      bool touches = last.end == kEof || last.end + 1 >= l.start;
      if (touches && last.type == l.type) {
        last.end = std::max(last.end, l.end);
        continue;
      }
    }
    merged.push_back(l);
  }
  rest.insert(rest.end(), merged.begin(), merged.end());
  il->posix = std::move(rest);
}

void Locks::Release(uint64_t ino, uint64_t client, uint64_t owner, bool is_flock) {
  auto it = table_.find(ino);
  if (it == table_.end()) return;
  std::vector<Lock>& locks = is_flock ? it->second.flock : it->second.posix;
  std::erase_if(locks, [&](const Lock& l) { return l.client == client && l.owner == owner; });
  Prune(ino);
}

std::vector<proto::LockRep> Locks::Held(uint64_t ino, uint64_t client, uint64_t owner) const {
  std::vector<proto::LockRep> out;
  auto it = table_.find(ino);
  if (it == table_.end()) return out;
  for (const Lock& l : it->second.posix)
    if (l.client == client && l.owner == owner) out.push_back({l.type, l.start, l.end, l.pid});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  return out;
}

void Locks::Prune(uint64_t ino) {
  auto it = table_.find(ino);
  if (it != table_.end() && it->second.posix.empty() && it->second.flock.empty()) table_.erase(it);
}

}  // namespace dos::meta
