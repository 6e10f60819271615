#include "fuse/fresh_attr_cache.h"

#include "fuse/clock.h"

namespace dos::fs {

void FreshAttrCache::Put(const proto::Attr& attr) {
  if (attr.ino == 0) return;
  const int64_t now = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= kMaxEntries) {
    std::erase_if(entries_, [&](const auto& e) { return now - e.second.since_ns >= kValidNs; });
    if (entries_.size() >= kMaxEntries) entries_.clear();
  }
  auto [it, added] = entries_.try_emplace(attr.ino, Entry{attr, now});
  if (!added && attr.ctime_ns >= it->second.attr.ctime_ns) it->second = Entry{attr, now};
}

std::optional<proto::Attr> FreshAttrCache::Take(uint64_t ino, double* valid_s) {
  const int64_t now = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(ino);
  if (it == entries_.end()) return std::nullopt;
  Entry e = it->second;
  entries_.erase(it);
  const int64_t age = now - e.since_ns;
  if (age < 0 || age >= kValidNs) return std::nullopt;
  *valid_s = static_cast<double>(kValidNs - age) / 1e9;
  return e.attr;
}

void FreshAttrCache::Forget(uint64_t ino) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(ino);
}

void FreshAttrCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
}

}  // namespace dos::fs
