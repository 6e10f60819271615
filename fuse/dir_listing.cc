#include "fuse/dir_listing.h"

#include <algorithm>

#include "fuse/clock.h"

namespace dos::fs {

DirListings::Listing* DirListings::FreshLocked(uint64_t parent, int64_t now) {
  auto it = dirs_.find(parent);
  if (it == dirs_.end() || it->second.since_ns == 0) return nullptr;
  if (now - it->second.since_ns >= kValidNs || now < it->second.since_ns) {
    it->second.since_ns = 0;  // stale: count misses again
    it->second.names.clear();
    return nullptr;
  }
  return &it->second;
}

bool DirListings::Find(uint64_t parent, const std::string& name, proto::Attr* attr,
                       double* valid_s) {
  const int64_t now = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  Listing* l = FreshLocked(parent, now);
  if (!l) return false;
  auto it = l->names.find(name);
  if (it == l->names.end()) return false;
  const Entry& e = it->second;
  if (e.since_ns <= all_changed_ns_) return false;
  if (auto c = changed_ns_.find(e.attr.ino); c != changed_ns_.end() && e.since_ns <= c->second)
    return false;
  const int64_t age = now - e.since_ns;
  if (age < 0 || age >= kValidNs) return false;
  *attr = e.attr;
  *valid_s = static_cast<double>(kValidNs - age) / 1e9;
  return true;
}

void DirListings::MakeRoomLocked(int64_t now) {
  if (dirs_.size() < kMaxDirs) return;
  std::erase_if(dirs_, [&](const auto& d) {
    const Listing& l = d.second;
    return !l.fetching && now - std::max(l.since_ns, l.first_miss_ns) >= kValidNs;
  });
  if (dirs_.size() >= kMaxDirs)
    std::erase_if(dirs_, [](const auto& d) { return !d.second.fetching; });
}

bool DirListings::ShouldFetch(uint64_t parent) {
  const int64_t now = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  if (!dirs_.count(parent)) MakeRoomLocked(now);
  Listing& l = dirs_[parent];
  if (l.fetching || l.since_ns != 0) return false;  // one fetch at a time; fresh: no miss
  if (now - l.first_miss_ns >= kValidNs) {
    l.first_miss_ns = now;
    l.misses = 0;
  }
  if (++l.misses < kFetchAfter) return false;
  l.fetching = true;
  return true;
}

void DirListings::Fetched(uint64_t parent, std::vector<proto::DirEntry> entries, uint64_t gen) {
  const int64_t now = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = dirs_.find(parent);
  if (it == dirs_.end()) return;  // cleared meanwhile
  Listing& l = it->second;
  l.fetching = false;
  l.misses = 0;
  if (gen != generation_) return;  // a change here may be missing from it
  l.names.clear();
  for (proto::DirEntry& e : entries) l.names[std::move(e.name)] = Entry{e.attr, now};
  l.since_ns = now;
}

void DirListings::Abandon(uint64_t parent) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = dirs_.find(parent);
  if (it != dirs_.end()) it->second.fetching = false;
}

uint64_t DirListings::generation() {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

void DirListings::ChangedLocked(uint64_t ino, int64_t now) {
  ++generation_;
  if (changed_ns_.size() >= 65536) {
    std::erase_if(changed_ns_, [&](const auto& c) { return now - c.second >= kValidNs; });
    if (changed_ns_.size() >= 65536) {
      changed_ns_.clear();
      all_changed_ns_ = now;
    }
  }
  changed_ns_[ino] = now;
}

void DirListings::Added(uint64_t parent, const std::string& name, const proto::Attr& attr) {
  const int64_t now = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  ChangedLocked(parent, now);  // its mtime, ctime, maybe nlink, in its own parent's listing
  // Newer than any change noted for attr.ino so far (a link notes one just before).
  if (Listing* l = FreshLocked(parent, now)) l->names[name] = Entry{attr, now + 1};
}

void DirListings::Removed(uint64_t parent, const std::string& name, uint64_t ino) {
  const int64_t now = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  ChangedLocked(parent, now);
  Listing* l = FreshLocked(parent, now);
  auto it = l ? l->names.find(name) : decltype(l->names)::iterator{};
  if (l && it != l->names.end()) {
    if (ino == 0) ino = it->second.attr.ino;
    l->names.erase(it);
  }
  if (ino == 0) {
    all_changed_ns_ = now;  // which inode lost a link is not known: it may be listed elsewhere
    return;
  }
  ChangedLocked(ino, now);  // nlink and ctime, where another name lists it
}

void DirListings::Changed(uint64_t ino) {
  const int64_t now = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  ChangedLocked(ino, now);
}

void DirListings::Clear() {
  const int64_t now = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  ++generation_;
  for (auto& [ino, l] : dirs_) {
    l.since_ns = 0;
    l.names.clear();
  }
  all_changed_ns_ = now;
}

}  // namespace dos::fs
