#include "fuse/caps_cache.h"

#include "fuse/clock.h"

namespace dos::fs {

bool CapsCache::KnownAbsent(uint64_t ino) {
  const int64_t now_ns = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = absent_since_.find(ino);
  if (it == absent_since_.end()) return false;
  if (now_ns - it->second < kValidNs && now_ns >= it->second) return true;
  absent_since_.erase(it);
  return false;
}

uint64_t CapsCache::generation() {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

void CapsCache::NoteAbsent(uint64_t ino, uint64_t gen) {
  const int64_t now_ns = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  if (gen != generation_) return;
  if (absent_since_.size() >= kMaxEntries) {
    // Entries live a second: dropping the stale ones is enough, and when a
    // second holds more than kMaxEntries writes to distinct files, all.
    std::erase_if(absent_since_, [&](const auto& e) { return now_ns - e.second >= kValidNs; });
    if (absent_since_.size() >= kMaxEntries) absent_since_.clear();
  }
  absent_since_[ino] = now_ns;
}

void CapsCache::Forget(uint64_t ino) {
  std::lock_guard<std::mutex> lock(mu_);
  ++generation_;
  absent_since_.erase(ino);
}

}  // namespace dos::fs
