#include "fuse/read_cache.h"

#include <algorithm>
#include <cstring>

#include <malloc.h>

#include "common/proto/messages.h"

namespace dos::fs {

void ReadCache::set_capacity(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  capacity_ = bytes;
  TrimLocked();
}

bool ReadCache::Get(uint64_t ino, uint64_t gen, uint64_t off, size_t len, char* dst) {
  std::lock_guard<std::mutex> lock(mu_);
  if (capacity_ == 0 || len == 0) return false;
  const uint64_t end = off + len;
  // Check every block first: a miss copies nothing.
  for (uint64_t b = off - off % proto::kBlockSize; b < end; b += proto::kBlockSize) {
    auto it = blocks_.find({ino, b});
    if (it == blocks_.end()) return false;
    if (it->second.gen != gen) {
      if (it->second.gen < gen) EraseLocked(it);  // stale; a newer one is another reader's
      return false;
    }
    if (b + it->second.data.size() < std::min(end, b + proto::kBlockSize)) return false;
  }
  for (uint64_t b = off - off % proto::kBlockSize; b < end; b += proto::kBlockSize) {
    Block& blk = blocks_.find({ino, b})->second;
    const uint64_t from = std::max(off, b), to = std::min(end, b + proto::kBlockSize);
    std::memcpy(dst + (from - off), blk.data.data() + (from - b), to - from);
    lru_.splice(lru_.begin(), lru_, blk.lru);
  }
  return true;
}

void ReadCache::Put(uint64_t ino, uint64_t gen, uint64_t block_off, std::string data) {
  std::lock_guard<std::mutex> lock(mu_);
  if (data.size() > capacity_ || block_off % proto::kBlockSize != 0 ||
      data.size() > proto::kBlockSize)
    return;
  const Key key{ino, block_off};
  if (auto it = blocks_.find(key); it != blocks_.end()) {
    if (it->second.gen > gen) return;  // a read that began later kept it
    EraseLocked(it);
  }
  lru_.push_front(key);
  bytes_ += data.size();
  blocks_.emplace(key, Block{gen, std::move(data), lru_.begin()});
  TrimLocked();
}

void ReadCache::Forget(uint64_t ino) {
  uint64_t freed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t before = bytes_;
    auto it = blocks_.lower_bound({ino, 0});
    while (it != blocks_.end() && it->first.first == ino) EraseLocked(it++);
    freed = before - bytes_;
  }
  // Blocks are below malloc's mmap threshold: without a trim, a file read
  // at random once leaves the process that much bigger for good.
  if (freed >= kTrimBytes) malloc_trim(0);
}

uint64_t ReadCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

size_t ReadCache::blocks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return blocks_.size();
}

void ReadCache::EraseLocked(std::map<Key, Block>::iterator it) {
  bytes_ -= it->second.data.size();
  lru_.erase(it->second.lru);
  blocks_.erase(it);
}

void ReadCache::TrimLocked() {
  while (bytes_ > capacity_ && !lru_.empty()) EraseLocked(blocks_.find(lru_.back()));
}

}  // namespace dos::fs
