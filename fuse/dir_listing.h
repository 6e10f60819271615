// DirListings: the entries of busy directories, so that a LOOKUP in them
// needs no round trip to meta.
//
// The kernel keeps a name for 1 s (kEntryTimeout); after that, and for every
// name it has not seen, it sends LOOKUP, one round trip each: a stat, unlink
// or create loop over a directory pays one per file. When lookups in a
// directory miss this cache kFetchAfter times within a second, dosfs fetches
// the directory's entries with their attributes (one kReaddir page of up to
// kMaxEntries) and answers lookups of the names it has for kValidNs, with
// the validity left as the kernel's timeouts: as if a readdirplus had listed
// the directory then, nothing is older than 1 s (another client's change
// shows within 1 s, as with the kernel's own caches). A name missing from the
// listing still goes to meta: a file another client created and closed must
// open here at once (close-to-open), and nobody looked it up before.
//
// Changes through this process keep the listings true: a name added or
// removed is added or removed in its directory's listing, and an inode whose
// attributes this process changes (setattr, a write's commit, xattrs, links)
// is noted, so that no entry older than that change answers for it. An
// operation whose effects are not all known here (a rename or removal that
// failed or whose inodes meta did not name) drops every listing.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/proto/messages.h"

namespace dos::fs {

class DirListings {
 public:
  static constexpr int64_t kValidNs = 1'000'000'000;
  static constexpr uint32_t kMaxEntries = proto::kMaxReaddir;
  static constexpr int kFetchAfter = 4;  // misses in a directory within kValidNs
  static constexpr size_t kMaxDirs = 16;  // up to 4096 entries each: a few MB at most

  // True if the listing of parent has name: fills *attr, and *valid_s with
  // the seconds of validity left.
  bool Find(uint64_t parent, const std::string& name, proto::Attr* attr, double* valid_s);

  // After a miss: true if parent's entries should be fetched now
  // (the caller then calls Fetched, or Abandon on failure).
  bool ShouldFetch(uint64_t parent);
  // Entries of parent as meta sent them, asked at generation gen (see
  // generation()). Dropped if a change through this process happened meanwhile.
  void Fetched(uint64_t parent, std::vector<proto::DirEntry> entries, uint64_t gen);
  void Abandon(uint64_t parent);
  uint64_t generation();

  // Changes made through this process.
  void Added(uint64_t parent, const std::string& name, const proto::Attr& attr);
  // ino: the inode that lost the name, 0 if not known (then no entry older
  // than now answers, as that inode may be listed under another name).
  void Removed(uint64_t parent, const std::string& name, uint64_t ino);
  void Changed(uint64_t ino);
  void Clear();

 private:
  struct Entry {
    proto::Attr attr;
    int64_t since_ns;  // steady clock: when meta gave attr
  };
  struct Listing {
    int64_t since_ns = 0;  // fetched then (0: not fetched, misses are counted)
    bool fetching = false;
    int misses = 0;
    int64_t first_miss_ns = 0;
    std::unordered_map<std::string, Entry> names;
  };
  // Under mu_: the listing of parent if it is fresh, else nullptr.
  Listing* FreshLocked(uint64_t parent, int64_t now);
  void ChangedLocked(uint64_t ino, int64_t now);
  void MakeRoomLocked(int64_t now);

  std::mutex mu_;  // guards everything below
  uint64_t generation_ = 0;  // changes through this process so far
  std::unordered_map<uint64_t, Listing> dirs_;
  std::unordered_map<uint64_t, int64_t> changed_ns_;  // ino -> last change here
  int64_t all_changed_ns_ = 0;  // entries older than this answer for nothing
};

}  // namespace dos::fs
