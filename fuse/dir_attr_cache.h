// DirAttrCache: a directory's attributes as meta gave them with the reply to
// a change made through this process (create, mkdir, unlink, ...).
//
// The kernel drops its copy of a directory's attributes at every change it
// makes in it, and with default_permissions it needs them again at the next
// lookup there (search permission): without this cache every create or
// unlink costs a second round trip, a GETATTR of the parent. Meta puts the
// directory's attributes after the change in the same reply; dosfs keeps
// them for the next GETATTR of that directory, once, and for at most
// kValidNs (the lifetime the kernel gives attributes), answering with the
// validity left. Changes through this process that do not bring new
// attributes (setattr, xattrs) forget the directory; rename and rmdir forget
// them all.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "common/proto/messages.h"

namespace dos::fs {

class DirAttrCache {
 public:
  static constexpr int64_t kValidNs = 1'000'000'000;
  static constexpr size_t kMaxEntries = 4096;

  // Attributes meta just gave; ignored if attr.ino is 0 (not given) or older
  // (by ctime) than the ones kept.
  void Put(const proto::Attr& attr);
  // Takes ino's attributes if they are younger than kValidNs; *valid_s is
  // set to the seconds of validity they have left.
  std::optional<proto::Attr> Take(uint64_t ino, double* valid_s);
  void Forget(uint64_t ino);
  // After a rename or rmdir: the directories they touch are not all known by
  // inode number here.
  void Clear();

 private:
  struct Entry {
    proto::Attr attr;
    int64_t since_ns;  // steady clock
  };
  std::mutex mu_;  // guards entries_
  std::unordered_map<uint64_t, Entry> entries_;
};

}  // namespace dos::fs
