// Rows of the inodes and dentries tables as plain structs, and the small
// queries every namespace operation shares. All of them run inside the
// caller's transaction; none commits.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "common/proto/messages.h"
#include "common/store/db.h"
#include "common/store/stmt.h"

namespace dos::meta {

inline constexpr uint32_t kMaxLinks = 65000;  // EMLINK past this (like ext4)

struct Inode {
  uint64_t ino = 0;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t nlink = 1;
  uint64_t size = 0;
  uint64_t rdev = 0;
  int64_t atime_ns = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t parent = 0;  // directories only
  uint32_t repl = 0;    // 0: the cluster default
  uint64_t chunk_size = proto::kDefaultChunkSize;
  std::string target;  // symlinks only
  bool has_xattrs = false;  // read, never saved: the xattrs table says

  bool IsDir() const { return S_ISDIR(mode); }
  bool IsReg() const { return S_ISREG(mode); }
  proto::Attr ToAttr() const;
};

// A chunk that lost its inode: to be removed from these nodes.
struct DeadChunk {
  uint64_t id = 0;
  std::vector<std::string> nodes;
};

// Wall clock in ns since the epoch.
int64_t NowNs();

// The columns ReadInode() expects, in order, on the inodes table aliased i.
inline constexpr char kInodeCols[] =
    "i.ino, i.mode, i.uid, i.gid, i.nlink, i.size, i.rdev, i.atime_ns, i.mtime_ns, "
    "i.ctime_ns, i.parent, i.repl, i.chunk_size, i.target, "
    "EXISTS(SELECT 1 FROM xattrs x WHERE x.ino = i.ino)";
// Reads kInodeCols starting at column first of the current row.
Inode ReadInode(const store::Stmt& st, int first);

// ENOENT if ino does not exist.
Result<Inode> LoadInode(store::Db* db, uint64_t ino);
// As LoadInode, ENOTDIR if it is not a directory.
Result<Inode> LoadDir(store::Db* db, uint64_t ino);
// Writes every column of in (by in.ino).
Status SaveInode(store::Db* db, const Inode& in);
// Inserts in (in.ino ignored) and returns the new inode number.
Result<uint64_t> InsertInode(store::Db* db, const Inode& in);

// The inode named name in parent, or nullopt.
Result<std::optional<uint64_t>> FindEntry(store::Db* db, uint64_t parent, const std::string& name);
// EEXIST if the name is taken.
Status InsertEntry(store::Db* db, uint64_t parent, const std::string& name, uint64_t ino);
Status DeleteEntry(store::Db* db, uint64_t parent, const std::string& name);
// True if directory ino has no entries.
Result<bool> DirEmpty(store::Db* db, uint64_t ino);
// Adds delta to the nlink of directory ino and sets its mtime and ctime.
Status TouchDir(store::Db* db, uint64_t ino, int delta_nlink, int64_t now);

// Removes the chunks of ino with idx >= first (and their replica rows),
// appending them to *dead.
Status DropChunks(store::Db* db, uint64_t ino, uint64_t first, std::vector<DeadChunk>* dead);
// The nodes holding chunk id, head of the chain first.
Result<std::vector<std::string>> ChunkNodes(store::Db* db, uint64_t id);
// Removes inode ino with its xattrs and chunks (appended to *dead).
Status DeleteInodeRows(store::Db* db, uint64_t ino, std::vector<DeadChunk>* dead);

}  // namespace dos::meta
