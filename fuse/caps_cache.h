// CapsCache: which inodes are known, for a moment, to have no
// security.capability attribute.
//
// The kernel asks a FUSE file system for security.capability before every
// write(2) (to drop file capabilities, as a write must), and FUSE has no flag
// to say that an inode has none: without this cache every write costs a
// metadata round trip. dosfs remembers meta's ENODATA for kValidNs, the
// lifetime the kernel gives attributes (kAttrTimeout), and answers from
// memory until then; a setxattr or removexattr of the inode through this
// process forgets it. A capability that another client sets shows here
// within kValidNs, as a changed mode or size does.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string_view>
#include <unordered_map>

namespace dos::fs {

inline constexpr std::string_view kCapsXattr = "security.capability";

class CapsCache {
 public:
  static constexpr int64_t kValidNs = 1'000'000'000;
  static constexpr size_t kMaxEntries = 65536;

  // True if meta said ENODATA for ino's security.capability (or created
  // ino) less than kValidNs ago.
  bool KnownAbsent(uint64_t ino);
  // The generation to pass to NoteAbsent: taken before asking meta, so that
  // an answer racing with a Forget is not kept.
  uint64_t generation();
  // Meta said ENODATA (or created ino) just now, asked at generation gen.
  void NoteAbsent(uint64_t ino, uint64_t gen);
  void Forget(uint64_t ino);

 private:
  std::mutex mu_;  // guards absent_since_, generation_
  uint64_t generation_ = 0;  // Forget calls so far
  std::unordered_map<uint64_t, int64_t> absent_since_;  // ino -> steady ns of meta's answer
};

}  // namespace dos::fs
