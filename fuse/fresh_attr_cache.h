// FreshAttrCache: an inode's attributes as meta gave them with the reply to
// a change made through this process: a directory's after a create, mkdir,
// unlink... in it, a file's after its create, a setattr or the commit of
// its writes (merged with the writes not yet committed when taken).
//
// The kernel drops its copy of an inode's attributes at every change it
// makes, and asks again soon: with default_permissions at the next lookup in
// a directory (search permission), before a chown of a file (to clear its
// set-id bits), at a stat. Without this cache every create or unlink costs a
// second round trip (a GETATTR of the parent), and so does tar's chown after
// each file it writes. dosfs keeps the attributes meta sent with the change
// for the next GETATTR of that inode, once, and for at most kValidNs (the
// lifetime the kernel gives attributes), answering with the validity left.
// Changes through this process that do not bring new attributes (xattrs,
// link, a failed setattr) forget the inode, and so do unlink, rmdir and
// rename (meta names the inodes that lost or changed a name; rename also
// forgets both parents). A failed rmdir or rename forgets them all.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "common/proto/messages.h"

namespace dos::fs {

class FreshAttrCache {
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
  // After a failed rename or rmdir (it may have happened all the same), or a
  // reply that does not name the inodes.
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
