#include "fuse/xattr_absence.h"

#include "fuse/clock.h"

namespace dos::fs {

const XattrAbsence::Entry* XattrAbsence::Fresh(uint64_t ino, int64_t now_ns) {
  auto it = entries_.find(ino);
  if (it == entries_.end()) return nullptr;
  if (now_ns - it->second.since_ns < kValidNs && now_ns >= it->second.since_ns) return &it->second;
  entries_.erase(it);
  return nullptr;
}

bool XattrAbsence::KnownAbsent(uint64_t ino, std::string_view name) {
  const int64_t now_ns = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = Fresh(ino, now_ns);
  return e && (e->none || name == kCapsXattr);
}

bool XattrAbsence::KnownNone(uint64_t ino) {
  const int64_t now_ns = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = Fresh(ino, now_ns);
  return e && e->none;
}

uint64_t XattrAbsence::generation() {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

void XattrAbsence::Note(const proto::Attr& attr, uint64_t gen) {
  if (!attr.has_xattrs) Put(attr.ino, gen, true);
}

void XattrAbsence::NoteNoCaps(uint64_t ino, uint64_t gen) { Put(ino, gen, false); }

void XattrAbsence::Put(uint64_t ino, uint64_t gen, bool none) {
  const int64_t now_ns = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  if (gen != generation_) return;
  if (entries_.size() >= kMaxEntries && !entries_.count(ino)) {
    // Entries live a second: dropping the stale ones is enough, and when a
    // second holds more than kMaxEntries inodes, all.
    std::erase_if(entries_, [&](const auto& e) { return now_ns - e.second.since_ns >= kValidNs; });
    if (entries_.size() >= kMaxEntries) entries_.clear();
  }
  entries_[ino] = Entry{now_ns, none};
}

void XattrAbsence::Forget(uint64_t ino) {
  std::lock_guard<std::mutex> lock(mu_);
  ++generation_;
  entries_.erase(ino);
}

}  // namespace dos::fs
