// Namespace: files, directories, links, attributes, xattrs and open handles,
// with Linux semantics, kept in the meta database.
//
// Every operation that changes the namespace runs in one SQLite transaction
// and either happens entirely or not at all. Errors are the errno Linux
// gives for the same call (the op comments list the special ones).
// Permission checks are the kernel's (dosfs mounts with default_permissions).
//
// An inode whose last name goes away while a client has it open stays as an
// orphan (nlink 0) until the last Release; then its rows go and its chunks are
// handed to NodeOps::Delete. Open handles live in memory only, so orphans are
// purged when the service starts (PurgeOrphans).
//
// An inode that loses its last name while nobody has it open is removed the
// same way, later: the unlink (or rename over it) only leaves it with nlink
// 0, and ReapOrphans removes such inodes in one transaction when meta is
// quiet (or when reap_batch wait, or they waited kReapOverdue). An unlink
// then writes the pages of its name and of the
// two inodes (about 5), not also those of the chunk and replica rows and
// their indexes (about 6 more); a batch touches most of those pages once for
// many inodes. A crash before the reap leaves orphans, which PurgeOrphans
// removes at the next start.
//
// Not thread-safe: meta runs every operation on one thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/proto/messages.h"
#include "common/store/db.h"
#include "daemon/meta/inode.h"
#include "daemon/meta/node_ops.h"

namespace dos::meta {

class Namespace {
 public:
  // db and nodes must outlive the Namespace. chunk_size is given to new files.
  Namespace(store::Db* db, NodeOps* nodes, uint64_t chunk_size)
      : db_(db), nodes_(nodes), chunk_size_(chunk_size) {}

  // Called with the number of every inode removed (to drop its locks).
  void set_on_delete(std::function<void(uint64_t)> fn) { on_delete_ = std::move(fn); }
  // The chunk size of files created from now on (the chunk_size setting).
  void set_chunk_size(uint64_t chunk_size) { chunk_size_ = chunk_size; }
  // Open handles one client (OpenReq.client) may hold at once; 0 = no limit.
  void set_max_open_per_client(uint64_t n) { max_open_per_client_ = n; }

  // ENOENT, ENOTDIR. "." and ".." are understood.
  Status Lookup(uint64_t parent, const std::string& name, proto::Attr* out);
  Status Getattr(uint64_t ino, proto::Attr* out);
  // Size: EISDIR on a directory, EINVAL on anything not regular; a shrink
  // drops chunks past the end and cuts the boundary one on its nodes.
  Status Setattr(const proto::SetattrReq& req, proto::Attr* out);

  // EEXIST; type bits 0 mean a regular file; gid from a setgid parent.
  Status Mknod(const proto::MknodReq& req, proto::Attr* out);
  // EEXIST, EMLINK; the new directory inherits a setgid parent's gid and bit.
  Status Mkdir(const proto::MkdirReq& req, proto::Attr* out);
  Status Symlink(const proto::SymlinkReq& req, proto::Attr* out);
  // EINVAL if ino is not a symlink.
  Status Readlink(uint64_t ino, std::string* target);
  // EPERM for a directory, EMLINK past kMaxLinks, ENOENT for an orphan.
  Status Link(const proto::LinkReq& req, proto::Attr* out);
  // EISDIR for a directory. *removed (if given) is set to the inode that lost the name.
  Status Unlink(uint64_t parent, const std::string& name, uint64_t* removed = nullptr);
  // ENOTDIR, ENOTEMPTY, EINVAL for ".", ENOTEMPTY for "..". *removed as for Unlink.
  Status Rmdir(uint64_t parent, const std::string& name, uint64_t* removed = nullptr);
  // flags 0, RENAME_NOREPLACE (1) or RENAME_EXCHANGE (2). *out (if given)
  // names the inodes it touched.
  Status Rename(const proto::RenameReq& req, proto::RenameRep* out = nullptr);
  // ENOTDIR.
  Status Readdir(const proto::ReaddirReq& req, proto::ReaddirRep* out);

  // EOPNOTSUPP outside user./trusted./security.; EEXIST (XATTR_CREATE),
  // ENODATA (XATTR_REPLACE); ENOSPC when the name list would pass its limit.
  Status Setxattr(const proto::SetxattrReq& req);
  Status Getxattr(uint64_t ino, const std::string& name, std::vector<char>* value);
  Status Listxattr(uint64_t ino, std::vector<std::string>* names);
  Status Removexattr(uint64_t ino, const std::string& name);

  // EMFILE when req.client already holds max_open_per_client handles.
  Status Open(const proto::OpenReq& req, proto::OpenRep* out);
  // Mknod of a regular file, then Open of it: one round trip for open(O_CREAT).
  // EMFILE (and nothing made) when req.client is at its open-handle limit.
  Status Create(const proto::CreateReq& req, proto::OpenRep* out);
  // Unknown handles are ignored.
  Status Release(uint64_t ino, uint64_t client);
  // size = max(size, end); mtime (and ctime) = mtime_ns, or now if 0; then
  // req.set as Setattr applies it (its ctime is now).
  Status CommitWrite(const proto::CommitWriteReq& req, proto::Attr* out);
  // On a file: its replication; on a directory: that of files made in it.
  Status SetRepl(uint64_t ino, uint32_t repl);

  // Removes every inode with nlink 0 (none can be open after a restart).
  Status PurgeOrphans();
  // Removes, in one transaction, the inodes that lost their last name and
  // are still orphans nobody has open (see the head of this file). Meta
  // calls it when its lane has been quiet for a moment, and on a heartbeat
  // when the first of them has waited longer than kReapOverdue; it runs by
  // itself once reap_batch wait (a bound for a meta that is never quiet).
  Status ReapOrphans();
  size_t orphans_to_reap() const { return to_reap_.size(); }
  bool ReapOverdue() const {
    return !to_reap_.empty() && std::chrono::steady_clock::now() - reap_since_ > kReapOverdue;
  }
  void set_reap_batch(size_t n) { reap_batch_ = n == 0 ? 1 : n; }
  static constexpr size_t kDefaultReapBatch = 4096;
  static constexpr std::chrono::seconds kReapOverdue{5};
  // Inodes in the database: counted at the first call, then kept up to date
  // by every committed transaction (statfs asks it; a count per call would
  // read the whole table).
  Result<uint64_t> InodeCount();
  bool IsOpen(uint64_t ino) const { return open_.count(ino) != 0; }
  // No name and no open handle: its rows wait for ReapOrphans.
  bool Removed(const Inode& in) const { return in.nlink == 0 && !IsOpen(in.ino); }
  // Handles client holds now (over every inode).
  uint64_t OpenHandles(uint64_t client) const {
    auto it = client_open_.find(client);
    return it == client_open_.end() ? 0 : it->second;
  }

 private:
  struct Truncation {
    uint64_t id, version, length;
    std::vector<std::string> nodes;
  };
  // Runs fn in one transaction; on success hands dead chunks and pending
  // truncations to NodeOps and reports deleted inodes; else forgets them.
  Status InTxn(const std::function<Status()>& fn);
  Status CreateNode(uint64_t parent, const std::string& name, Inode in, proto::Attr* out);
  // EMFILE when client holds max_open_per_client_ handles already.
  Status CheckOpenLimit(uint64_t client) const;
  Status MakeNode(const proto::MknodReq& req, proto::Attr* out);
  // One name of ino went away: nlink - 1, and removal at 0 unless open.
  Status DropLink(uint64_t ino, int64_t now);
  Status RemoveInode(uint64_t ino);
  Status RemoveDir(uint64_t parent, uint64_t dir, int64_t now);
  Status RenameIn(const proto::RenameReq& req, int64_t now, proto::RenameRep* out);
  Status MoveTo(const proto::RenameReq& req, const Inode& src, int64_t now);
  Status Replace(const proto::RenameReq& req, const Inode& src, const Inode& dst, int64_t now);
  Status Exchange(const proto::RenameReq& req, const Inode& src, const Inode& dst, int64_t now);
  Result<bool> IsAncestor(uint64_t dir, uint64_t of);
  Status Shrink(const Inode& in, uint64_t size);
  Status ApplySetattr(const proto::SetattrReq& req, Inode* in, int64_t now);

  store::Db* db_;
  NodeOps* nodes_;
  uint64_t chunk_size_;
  std::function<void(uint64_t)> on_delete_;
  std::map<uint64_t, std::map<uint64_t, uint32_t>> open_;  // ino -> client -> handles
  std::map<uint64_t, uint64_t> client_open_;                 // client -> handles, all inodes
  uint64_t max_open_per_client_ = 0;
  // Work of the transaction in progress, done after it commits.
  std::vector<DeadChunk> dead_;
  std::vector<Truncation> truncations_;
  std::vector<uint64_t> deleted_;
  uint64_t created_ = 0;           // inodes the transaction inserted
  std::vector<uint64_t> unlinked_;  // inodes the transaction left as closed orphans
  std::vector<uint64_t> to_reap_;   // committed unlinked_, for ReapOrphans
  std::chrono::steady_clock::time_point reap_since_;  // when to_reap_ last became non-empty
  size_t reap_batch_ = kDefaultReapBatch;
  std::optional<uint64_t> inodes_;  // InodeCount's, once counted
};

}  // namespace dos::meta
