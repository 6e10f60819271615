// Per-inode state of the files this dosfs process has open.
//
// While a file is open here, writes go straight to the chunk nodes and the
// new size and mtime are kept in its FileState until flush/fsync/release
// commits them to meta (kCommitWrite). A setattr of mode, owner or times
// while such a commit is due waits for it and goes with it (KeepSetattr).
// getattr, lookup and readdirplus merge the uncommitted size, mtime and
// setattrs into what meta says, so stat right after a write is right. The
// chunk layout is cached while the file is open and dropped at every open
// (close-to-open consistency) and on truncate.
//
// Thread safety: FileTable and FileState are safe from any thread. Lock order:
// FileTable::mu_ before FileState::mu_; neither is held across a network call.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/proto/messages.h"
#include "common/status.h"

namespace dos::fs {

// What a commit needs: the end of the data written, the time of the last
// write, and the setattrs kept back (KeepSetattr).
struct PendingWrite {
  uint64_t end = 0;
  int64_t mtime_ns = 0;
  uint64_t gen = 0;  // write generation the snapshot covers
  proto::SetattrReq set;  // valid 0: none
  uint64_t set_gen = 0;   // KeepSetattr calls the snapshot covers
};

class FileState {
 public:
  explicit FileState(uint64_t ino);
  uint64_t ino() const { return ino_; }

  // Called at every open: sets the chunk size and attributes meta gave
  // (setattr_checked as OpenRep has it), drops the layout cache.
  void Opened(const proto::Attr& attr, uint64_t chunk_size, bool setattr_checked);
  uint64_t chunk_size() const;

  // Layout cache.
  std::optional<proto::ChunkInfo> CachedChunk(uint64_t index) const;
  void CacheChunk(const proto::ChunkInfo& chunk);
  void ForgetChunk(uint64_t index);
  void DropLayout();

  // A write of [.., end) reached every replica of chunk.
  void Wrote(const proto::ChunkInfo& chunk, uint64_t end, int64_t mtime_ns);
  // Takes the set of chunks written since the last sync; put them back with
  // Redirty if syncing fails.
  std::vector<proto::ChunkInfo> TakeDirty();
  void Redirty(const std::vector<proto::ChunkInfo>& chunks);
  // The uncommitted write or kept setattr, if any.
  std::optional<PendingWrite> Pending() const;
  // The commit of p succeeded; meta now says attr.
  void Committed(const PendingWrite& p, const proto::Attr& attr);
  // A setattr of mode, owner and times (no size) while a write waits for its
  // commit and none is in flight: kept, to go with that commit (tar writes,
  // then sets times, owner and mode of every file: one round trip instead of
  // four), and true; *attr gets the attributes as they now are here, *base
  // meta's newest ones they were merged from (for FreshAttrCache). req's
  // atime_ns and mtime_ns hold the times, *_NOW ones too (kept as explicit
  // times). False, and nothing kept, for any other setattr, or if meta
  // checks this client's setattrs (its key is bound to a uid). A later
  // write's mtime wins over a kept one. The kept setattr is lost with the
  // write if the commit fails (flush and fsync report it).
  bool KeepSetattr(const proto::SetattrReq& req, proto::Attr* attr, proto::Attr* base);
  // A truncate to size went through meta: pending writes are gone, layout dropped.
  void Truncated(uint64_t size);

  // Merges the uncommitted size/mtime and kept setattrs into attr from meta
  // and remembers meta's size (and attr, if no older than the attributes
  // kept: the base KeepSetattr answers from).
  void Merge(proto::Attr* attr);
  // Size for clipping reads: meta's last known size, or the end of the writes.
  uint64_t KnownSize() const;

  // Generation of the file's bytes as this process sees them (see
  // ReadCache): a new value, unique in the process, at every open, at the
  // end of every write (EndWrite, or DataChanged after a write sent
  // straight), at every truncate and commit, and when Merge is given meta
  // attributes with another size or mtime than the last ones it had.
  uint64_t DataGen() const;
  void DataChanged();

  // Errors of background writes are counted here; every open file
  // description keeps the count it was last told of (its error cursor,
  // *seen below, read and written only under this state's lock). An open
  // starts at ErrorCount(), so it is not told of older errors. As Linux's
  // errseq: every description open when a write failed hears of it from its
  // next fsync, once; close (flush) and write report it without moving the
  // cursor. A close must not take the error away from the fsync to come:
  // a forked child's close-on-exec flushes its parent's file description.
  uint64_t ErrorCount() const;

  // Write-behind: a write is registered here before it is queued and ended
  // by the worker that sent it. BeginWrite waits until [off, off+len)
  // overlaps no write in flight (so overlapping writes land in order, and
  // the writes in flight can be sent in any order) and fewer than
  // kMaxWritesInFlight writes and kMaxBytesInFlight bytes are out (one write
  // may always go); it returns the error of a background write past *seen
  // (the cursor stays: a write the kernel splits turns an error of its
  // second part into a short count, which the caller just writes again), or
  // a ticket for EndWrite. The count allows a window of small writes as
  // deep as the byte limit: 4 KiB writes at random offsets spread over
  // every 4 MiB chunk of a file, and only the writes of one chunk go
  // together in a batch (with 64 in flight over 64 chunks a batch held one
  // or two writes, and writers waited here for room).
  static constexpr size_t kMaxWritesInFlight = 4096;
  static constexpr uint64_t kMaxBytesInFlight = 16 << 20;
  Result<uint64_t> BeginWrite(uint64_t off, uint64_t len, const uint64_t* seen);
  void EndWrite(uint64_t ticket, const Status& s);

  // A write registered with BeginWrite, waiting for a sender.
  struct QueuedWrite {
    uint64_t ticket = 0;
    uint64_t off = 0;
    std::shared_ptr<const std::string> data;
  };
  // Queues w; true if a sender should be started for it (TakeBatch with
  // max_bytes would give a batch now), false if one already out takes it.
  bool Queue(QueuedWrite w, uint64_t max_bytes);
  // For a sender: takes the oldest queued write of a chunk that has no
  // batch out and, unless it crosses a chunk boundary, the other queued
  // writes within its chunk, up to max_bytes in all (the first goes
  // whatever its size). One batch per chunk is out at a time, and at most
  // kMaxSmallSenders batches, unless max_bytes are queued (then the oldest
  // write goes, whatever its chunk, up to kMaxSenders batches): small writes
  // to one chunk queue up and go together, while writes to other chunks go
  // in parallel, a few at a time (each batch costs a round trip of CPU on
  // every replica, so more and smaller batches would cost more than they
  // hide). Empty when
  // nothing may go. A sender that got a batch calls again with *sent (the
  // chunk index of that batch, set by the call) when it is sent and ended,
  // and goes on while it gets one.
  static constexpr int kMaxSenders = 16;
  static constexpr int kMaxSmallSenders = 4;
  std::vector<QueuedWrite> TakeBatch(uint64_t max_bytes, std::optional<uint64_t>* sent);
  // Waits until no write is in flight.
  void WaitWrites();
  // WaitWrites, then the last error of a background write past *seen; with
  // mark_seen (fsync) the cursor moves past it.
  Status WaitWritesError(uint64_t* seen, bool mark_seen);

  // Set once a record lock was taken through this process (flush must drop them).
  void MarkPosixLocked();
  bool posix_locked() const;

 private:
  const uint64_t ino_;
  mutable std::mutex mu_;  // guards everything below
  uint64_t chunk_size_ = proto::kDefaultChunkSize;
  uint64_t meta_size_ = 0;
  std::map<uint64_t, proto::ChunkInfo> layout_;
  std::map<uint64_t, proto::ChunkInfo> dirty_;
  uint64_t pending_end_ = 0;
  int64_t pending_mtime_ns_ = 0;
  uint64_t write_gen_ = 0;      // bumped by every write
  uint64_t committed_gen_ = 0;  // write_gen_ last committed
  proto::Attr attr_{};          // meta's newest attributes (ino 0: none yet)
  uint64_t data_gen_;           // see DataGen
  bool setattr_checked_ = true;  // until an open says otherwise
  proto::SetattrReq kept_;      // kept setattrs (valid 0: none); *_NOW resolved
  uint64_t kept_gen_ = 0;       // KeepSetattr calls so far
  // With mu_ held: the writes and kept setattrs over attr (meta's).
  void OverlayLocked(proto::Attr* attr) const;
  // With mu_ held: a write came after the kept setattr; its mtime wins.
  void WroteAfterKeptLocked();
  bool posix_locked_ = false;
  std::condition_variable writes_cv_;  // signalled by EndWrite
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> in_flight_;  // ticket -> [off, end)
  std::map<uint64_t, uint64_t> in_flight_ends_;  // off -> end, of each nonempty one (disjoint)
  // With mu_ held: [off, end) overlaps a write in flight.
  bool OverlapsInFlightLocked(uint64_t off, uint64_t end) const;
  uint64_t in_flight_bytes_ = 0;
  int64_t issued_ns_ = 0;  // wall clock of the last BeginWrite
  std::deque<QueuedWrite> queued_;  // registered, not yet taken by a sender
  uint64_t queued_bytes_ = 0;
  int senders_ = 0;  // batches out (see TakeBatch)
  std::map<uint64_t, int> chunks_out_;  // chunk index -> batches out
  // With mu_ held: the queued write the next batch starts with, or end().
  std::deque<QueuedWrite>::iterator NextToSend(uint64_t max_bytes);
  uint64_t next_ticket_ = 1;
  uint64_t errors_ = 0;  // background writes that failed, ever
  Status last_error_;    // the last of them

  friend class FileTable;
  int open_count_ = 0;  // guarded by FileTable::mu_
};

class FileTable {
 public:
  // Registers one more open handle of ino and returns its state. A new state
  // gets back the chunks its inode left unsynced at its last release.
  std::shared_ptr<FileState> Open(uint64_t ino);
  // The state of ino if it is open here, else null.
  std::shared_ptr<FileState> Get(uint64_t ino) const;
  // One handle of ino was released; the state goes away with the last one,
  // its unsynced chunks are kept for the next open (at most
  // kMaxUnsyncedFiles inodes; beyond that the oldest are forgotten: their
  // data is on the nodes, only a later fsync would not wait for it).
  void Release(uint64_t ino);
  // Merges pending writes into attr if attr's inode is open here.
  void Merge(proto::Attr* attr) const;

 private:
  static constexpr size_t kMaxUnsyncedFiles = 4096;
  mutable std::mutex mu_;  // guards everything below; before FileState::mu_
  std::map<uint64_t, std::shared_ptr<FileState>> files_;
  struct Unsynced {
    std::vector<proto::ChunkInfo> chunks;  // a closed inode's dirty chunks
    uint64_t seq = 0;                      // its entry in unsynced_order_
  };
  std::map<uint64_t, Unsynced> unsynced_;
  // (ino, seq), oldest first; an entry whose seq is not its inode's in
  // unsynced_ is stale (the inode was reopened meanwhile) and is skipped.
  std::deque<std::pair<uint64_t, uint64_t>> unsynced_order_;
  uint64_t unsynced_seq_ = 0;
};

}  // namespace dos::fs
