// Locks: the cluster's file lock table, in memory only (a restart of meta
// drops every lock, as a reboot would).
//
// POSIX record locks (fcntl) belong to an owner (client, owner): a lock over
// [start, end] (inclusive) replaces the owner's locks on that range, splitting
// and merging them as Linux does; only different owners conflict (a write
// lock with anything, a read lock with a write lock). flock locks are
// whole-file, kept apart, and an owner's new flock converts its old one.
// Not thread-safe: used from the meta thread only.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "common/proto/messages.h"

namespace dos::meta {

class Locks {
 public:
  // rep gets the first lock of another owner that conflicts with req, or
  // type F_UNLCK.
  void Getlk(const proto::LockReq& req, proto::LockRep* rep) const;
  // Takes or releases (F_UNLCK) a lock; EAGAIN on conflict.
  Status Setlk(const proto::LockReq& req);
  // Drops every record lock (is_flock false) or flock lock (true) of
  // (client, owner) on ino.
  void Release(uint64_t ino, uint64_t client, uint64_t owner, bool is_flock);
  // Drops every lock on ino (it was deleted).
  void DropInode(uint64_t ino) { table_.erase(ino); }
  // The record locks (client, owner) holds on ino, in start order.
  std::vector<proto::LockRep> Held(uint64_t ino, uint64_t client, uint64_t owner) const;

 private:
  struct Lock {
    uint64_t client = 0;
    uint64_t owner = 0;
    uint32_t pid = 0;
    uint32_t type = 0;
    int64_t start = 0;
    int64_t end = 0;
    bool SameOwner(const proto::LockReq& r) const { return client == r.client && owner == r.owner; }
  };
  struct InodeLocks {
    std::vector<Lock> posix;
    std::vector<Lock> flock;
  };
  const Lock* Conflict(const std::vector<Lock>& locks, const proto::LockReq& req) const;
  void SetPosix(InodeLocks* il, const proto::LockReq& req);
  void SetFlock(InodeLocks* il, const proto::LockReq& req);
  void Prune(uint64_t ino);

  std::map<uint64_t, InodeLocks> table_;
};

}  // namespace dos::meta
