// XattrAbsence: which inodes are known, for a moment, to have no extended
// attribute at all, or no security.capability.
//
// The kernel asks a FUSE file system for security.capability before every
// write(2) (to drop file capabilities, as a write must), and `ls -l` asks
// for security.selinux and system.posix_acl_access of every entry; FUSE has
// no flag to say that an inode has none, so each would cost a metadata round
// trip. Meta's attributes say whether an inode has any extended attribute
// (Attr::has_xattrs); dosfs remembers "none" from a lookup, readdirplus,
// getattr, open or create answer, and "no capability" from meta's ENODATA,
// for kValidNs, the lifetime the kernel gives attributes (kAttrTimeout),
// and answers from memory until then. A setxattr or removexattr of the inode
// through this process forgets it. An attribute that another client sets
// shows here within kValidNs, as a changed mode or size does.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "common/proto/messages.h"

namespace dos::fs {

inline constexpr std::string_view kCapsXattr = "security.capability";

class XattrAbsence {
 public:
  static constexpr int64_t kValidNs = 1'000'000'000;
  static constexpr size_t kMaxEntries = 65536;

  // True if ino is known to have no attribute name (none at all, or name is
  // security.capability and meta said ENODATA for it) since less than
  // kValidNs ago.
  bool KnownAbsent(uint64_t ino, std::string_view name);
  // True if ino is known to have no attribute at all.
  bool KnownNone(uint64_t ino);
  // The generation to pass to the Note calls: taken before asking meta, so
  // that an answer racing with a Forget is not kept.
  uint64_t generation();
  // Meta's attributes of an inode, asked at generation gen: remembered if
  // it has no attribute at all.
  void Note(const proto::Attr& attr, uint64_t gen);
  // Meta said ENODATA for ino's security.capability, asked at generation gen.
  void NoteNoCaps(uint64_t ino, uint64_t gen);
  void Forget(uint64_t ino);

 private:
  struct Entry {
    int64_t since_ns;  // steady clock of meta's answer
    bool none;         // no attribute at all; else only no capability
  };
  void Put(uint64_t ino, uint64_t gen, bool none);
  // The entry of ino if it is fresh; mu_ held.
  const Entry* Fresh(uint64_t ino, int64_t now_ns);

  std::mutex mu_;  // guards entries_, generation_
  uint64_t generation_ = 0;  // Forget calls so far
  std::unordered_map<uint64_t, Entry> entries_;
};

}  // namespace dos::fs
