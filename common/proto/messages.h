// Every message dos sends on the wire: the envelope, the protocol version,
// the op numbers, each request/reply pair and the limits a decoder enforces.
//
// Frames of one message: [routing id, added by ROUTER] [Envelope] [body]
// [optional raw data]. Envelope and body are msgpack maps
// (MSGPACK_DEFINE_MAP), so a field can be added or dropped between versions:
// an older reader skips an unknown key, a newer reader leaves a missing key at
// its default. Bulk file data travels only in the raw data frame.
//
// Op numbers are never reused; a retired op stays here as a comment.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/proto/messages_repair.h"
#include "common/proto/msgpack_config.h"
#include "common/status.h"

namespace dos::proto {

inline constexpr uint32_t kProtocolVersion = 1;

// ---- limits a decoder or handler enforces -------------------------------
inline constexpr size_t kMaxName = 255;             // one path component
inline constexpr size_t kMaxPath = 4096;            // symlink target, full path
inline constexpr size_t kMaxXattrName = 255;
inline constexpr size_t kMaxXattrValue = 64 * 1024;
inline constexpr size_t kMaxXattrList = 64 * 1024;  // all names of one inode
inline constexpr size_t kMaxEnvelope = 64 * 1024;
inline constexpr size_t kMaxBody = 4 * 1024 * 1024;  // a msgpack body
inline constexpr size_t kMaxData = 16 * 1024 * 1024;  // a raw data frame
inline constexpr uint32_t kMaxReaddir = 4096;         // entries per reply
inline constexpr uint32_t kMaxChunkList = 4096;       // chunks per reply
inline constexpr uint32_t kMaxReplicas = 16;
inline constexpr uint64_t kDefaultChunkSize = 4ull * 1024 * 1024;
inline constexpr uint32_t kBlockSize = 64 * 1024;  // CRC32C block of a chunk
inline constexpr uint64_t kRootIno = 1;
inline constexpr uint64_t kMaxFileSize = 1ull << 50;       // 1 PiB: EFBIG past it
inline constexpr uint64_t kMaxChunkSize = 256ull << 20;    // largest chunk_size setting
inline constexpr uint32_t kMaxTimeoutMs = 120000;          // a server caps timeout_ms here
inline constexpr size_t kMaxAddr = 256;                    // a node endpoint
inline constexpr size_t kMaxDeleteBatch = 1024;            // chunk ids per kChunkDeleteMany

enum class Op : uint32_t {
  // meta: namespace
  kLookup = 1,
  kGetattr = 2,
  kSetattr = 3,
  kMknod = 4,
  kMkdir = 5,
  kUnlink = 6,
  kRmdir = 7,
  kSymlink = 8,
  kReadlink = 9,
  kLink = 10,
  kRename = 11,
  kReaddir = 12,
  kStatfs = 13,
  kSetxattr = 14,
  kGetxattr = 15,
  kListxattr = 16,
  kRemovexattr = 17,
  kOpen = 18,
  kRelease = 19,
  // meta: file layout
  kChunkList = 20,
  kChunkAlloc = 21,
  kCommitWrite = 22,
  kSetRepl = 23,
  kCreate = 24,
  kReleaseMany = 25,
  // meta: faults
  kChunkFailed = 26,
  // meta: locks
  kGetlk = 30,
  kSetlk = 31,
  kReleaseLocks = 32,
  // meta: membership
  kHeartbeat = 40,
  kNodeList = 41,
  kPing = 42,
  kChunkBad = 43,
  // meta: health, repair (messages_repair.h)
  kFsHealth = 44,
  kFsck = 45,
  // meta: cluster administration (messages_mgmt.h)
  kConfigList = 50,
  kConfigSet = 51,
  kNodeLabel = 52,
  kNodeAdmin = 53,
  kNodeRemove = 54,
  kNodeAdd = 55,
  kJoin = 56,
  kNetPing = 57,
  // meta: keys (messages_keys.h)
  kKeyAdd = 70,
  kKeyList = 71,
  kKeyRevoke = 72,
  kKeySync = 73,
  // node: chunk store
  kChunkWrite = 100,
  kChunkRead = 101,
  kChunkTruncate = 102,
  kChunkDelete = 103,
  kChunkStat = 104,
  kChunkSync = 105,
  kChunkReplicate = 106,
  kChunkInventory = 107,
  kChunkScrub = 108,
  kChunkForward = 109,      // ChunkWriteReq from a node: a chain hop with more after it
  kChunkForwardLast = 110,  // ChunkWriteReq from a node: the last hop of a chain
  kChunkDeleteMany = 111,   // ChunkDeleteManyReq: kChunkDelete of many chunks in one call
  // node: administration (messages_mgmt.h)
  kPeerPing = 115,
  kNodeEcho = 116,
  // any server: the sealed bulk channel (common/net/seal.h), over CURVE only
  kSealOpen = 120,  // Empty -> SealOpenRep
};

// ---- envelope ------------------------------------------------------------
// First frame of every request and reply. A request carries op, id and
// timeout_ms (what is left of the caller's deadline, so that a node forwarding
// along a replica chain can stay inside it); a reply echoes op and id and
// carries err (a positive Linux errno, 0 on success) and an optional message.
struct Envelope {
  uint32_t v = kProtocolVersion;
  uint32_t op = 0;
  uint64_t id = 0;
  uint32_t timeout_ms = 0;
  int32_t err = 0;
  std::string msg;
  MSGPACK_DEFINE_MAP(v, op, id, timeout_ms, err, msg)
};

// Server -> client over CURVE: the key of a new sealed session and the port
// of the server's sealed (plaintext ZeroMQ) listener on the same host.
struct SealOpenRep {
  uint64_t session = 0;
  std::string key;  // 32 raw bytes (AES-256-GCM)
  uint32_t port = 0;
  MSGPACK_DEFINE_MAP(session, key, port)
};

struct Empty {
  template <typename Packer>
  void msgpack_pack(Packer& pk) const {
    pk.pack_map(0);
  }
  void msgpack_unpack(const msgpack::object&) {}
};

// ---- shared structs ------------------------------------------------------
// Times are nanoseconds since the epoch.
struct Attr {
  uint64_t ino = 0;
  uint32_t mode = 0;  // type and permission bits, as st_mode
  uint32_t nlink = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t rdev = 0;
  uint64_t size = 0;
  int64_t atime_ns = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  // The inode has at least one extended attribute. dosfs answers getxattr
  // and listxattr of an inode without any from memory for a moment (ls -l
  // asks two names of every entry).
  bool has_xattrs = false;
  MSGPACK_DEFINE_MAP(ino, mode, nlink, uid, gid, rdev, size, atime_ns, mtime_ns, ctime_ns,
                     has_xattrs)
};

// One replica of a chunk: the node's name and its ZeroMQ endpoint.
struct Replica {
  std::string node;
  std::string addr;
  MSGPACK_DEFINE_MAP(node, addr)
};

struct ChunkInfo {
  uint64_t index = 0;  // position in the file: bytes [index*chunk_size, ...)
  uint64_t id = 0;     // cluster-wide chunk id; the file on a node's disk bears it
  uint64_t version = 1;
  std::vector<Replica> replicas;  // first is the head of the write chain
  MSGPACK_DEFINE_MAP(index, id, version, replicas)
};

// ---- meta: namespace -----------------------------------------------------
// Client -> meta. Every name is checked: non-empty, <= kMaxName, no '/', not
// "." or "..". Replies: EntryRep for ops that return an inode.
// parent: for ops that add a name (mknod, mkdir, symlink, link), the
// directory's attributes after the change (ino 0: not given). The kernel
// asks for them at the next lookup in it; dosfs answers from this
// (FreshAttrCache) instead of a round trip.
struct EntryRep {
  Attr attr;
  Attr parent{};
  MSGPACK_DEFINE_MAP(attr, parent)
};
struct AttrRep {
  Attr attr;
  MSGPACK_DEFINE_MAP(attr)
};

// Client -> meta: find name in directory parent. ENOENT, ENOTDIR.
struct LookupReq {
  uint64_t parent = 0;
  std::string name;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(parent, name)
};

// Client -> meta: attributes of ino (reply AttrRep). Also ReadlinkReq,
// ListxattrReq and the like reuse it: any request naming one inode.
struct InoReq {
  uint64_t ino = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino)
};

// Which fields of SetattrReq apply (the FUSE_SET_ATTR_* bits).
enum SetattrMask : uint32_t {
  kSetMode = 1 << 0,
  kSetUid = 1 << 1,
  kSetGid = 1 << 2,
  kSetSize = 1 << 3,
  kSetAtime = 1 << 4,
  kSetMtime = 1 << 5,
  kSetAtimeNow = 1 << 7,
  kSetMtimeNow = 1 << 8,
  kSetCtime = 1 << 10,
};
// Client -> meta: change attributes; reply AttrRep with the new ones. A size
// change drops chunks past the end and cuts the last one on its replicas.
struct SetattrReq {
  uint64_t ino = 0;
  uint32_t valid = 0;  // SetattrMask bits
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  int64_t atime_ns = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino, valid, mode, uid, gid, size, atime_ns, mtime_ns, ctime_ns)
};

// Client -> meta: make a non-directory (regular file, fifo, socket, device)
// named name in parent, owned by uid/gid (gid follows a setgid parent).
// EEXIST if the name exists. Reply EntryRep.
struct MknodReq {
  uint64_t parent = 0;
  std::string name;
  uint32_t mode = 0;
  uint64_t rdev = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(parent, name, mode, rdev, uid, gid)
};

// Client -> meta: make a directory. Reply EntryRep.
struct MkdirReq {
  uint64_t parent = 0;
  std::string name;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(parent, name, mode, uid, gid)
};

// Client -> meta: unlink (a non-directory) or rmdir (an empty directory).
// Unlink: EISDIR for a directory. Rmdir: ENOTDIR, ENOTEMPTY. Reply RemoveRep.
struct RemoveReq {
  uint64_t parent = 0;
  std::string name;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(parent, name)
};
// The directory's attributes after the removal, as EntryRep::parent, and
// the inode that lost the name (0 from a meta that does not say).
struct RemoveRep {
  Attr parent{};
  uint64_t ino = 0;
  MSGPACK_DEFINE_MAP(parent, ino)
};

// Client -> meta: make a symlink holding target. Reply EntryRep.
struct SymlinkReq {
  uint64_t parent = 0;
  std::string name;
  std::string target;
  uint32_t uid = 0;
  uint32_t gid = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(parent, name, target, uid, gid)
};

// Meta -> client: the target of a symlink (request InoReq). EINVAL if not one.
struct ReadlinkRep {
  std::string target;
  MSGPACK_DEFINE_MAP(target)
};

// Client -> meta: a new name newparent/newname for ino (not a directory:
// EPERM). Reply EntryRep with the raised nlink.
struct LinkReq {
  uint64_t ino = 0;
  uint64_t newparent = 0;
  std::string newname;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino, newparent, newname)
};

// Client -> meta: rename(2)/renameat2(2); flags are RENAME_NOREPLACE (1) or
// RENAME_EXCHANGE (2). EINVAL for a directory into its own subtree,
// ENOTEMPTY, EISDIR, ENOTDIR, EEXIST (noreplace). Reply RenameRep.
struct RenameReq {
  uint64_t parent = 0;
  std::string name;
  uint64_t newparent = 0;
  std::string newname;
  uint32_t flags = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(parent, name, newparent, newname, flags)
};
// The inodes a rename touched: moved, the one that was at name; replaced,
// the one that was at newname (removed, or moved to name by an exchange),
// 0 if newname was free. Both 0 from a meta that does not say. parent and
// newparent: the directories' attributes after it, as EntryRep::parent.
struct RenameRep {
  uint64_t moved = 0;
  uint64_t replaced = 0;
  Attr parent{};
  Attr newparent{};
  MSGPACK_DEFINE_MAP(moved, replaced, parent, newparent)
};

// Client -> meta: up to max entries of directory ino whose cookie is greater
// than after (0 = from the start). "." and ".." are not included; the client
// adds them. Each entry carries its full attributes (for readdirplus).
struct ReaddirReq {
  uint64_t ino = 0;
  uint64_t after = 0;
  uint32_t max = 1024;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino, after, max)
};
struct DirEntry {
  std::string name;
  uint64_t cookie = 0;  // resume point: pass as `after` to continue past it
  Attr attr;
  MSGPACK_DEFINE_MAP(name, cookie, attr)
};
struct ReaddirRep {
  std::vector<DirEntry> entries;
  bool eof = false;
  MSGPACK_DEFINE_MAP(entries, eof)
};

// Client -> meta (body Empty): capacity of the whole cluster, from the UP
// nodes' last heartbeats.
struct StatfsRep {
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;
  uint64_t files = 0;       // inodes in use
  uint64_t files_free = 0;
  uint32_t block_size = 4096;
  uint32_t name_max = kMaxName;
  MSGPACK_DEFINE_MAP(total_bytes, free_bytes, files, files_free, block_size, name_max)
};

// ---- meta: extended attributes --------------------------------------------
// flags: XATTR_CREATE (1) -> EEXIST if present; XATTR_REPLACE (2) -> ENODATA
// if absent. Names outside user./trusted./security. get EOPNOTSUPP.
struct SetxattrReq {
  uint64_t ino = 0;
  std::string name;
  std::vector<char> value;
  uint32_t flags = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino, name, value, flags)
};
// Client -> meta: getxattr (reply XattrRep, ENODATA if absent) or
// removexattr (reply Empty).
struct XattrNameReq {
  uint64_t ino = 0;
  std::string name;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino, name)
};
struct XattrRep {
  std::vector<char> value;
  MSGPACK_DEFINE_MAP(value)
};
// Meta -> client: every xattr name of an inode (request InoReq).
struct ListxattrRep {
  std::vector<std::string> names;
  MSGPACK_DEFINE_MAP(names)
};

// ---- meta: open files ------------------------------------------------------
// Client -> meta: a handle on ino is opened by client (a random id each dosfs
// process picks). Meta keeps an unlinked inode and its chunks until every
// handle is released. released: handles of client released since its last
// request (as ReleaseManyReq), released first. Reply OpenRep.
inline constexpr size_t kMaxReleased = 1024;  // inodes in one ReleaseManyReq or open
struct OpenReq {
  uint64_t ino = 0;
  uint64_t client = 0;
  uint32_t flags = 0;  // open(2) flags, for the record
  std::vector<uint64_t> released{};
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino, client, flags, released)
};
// The reply carries the chunks among the first kOpenChunks of the file that
// exist, as ChunkListRep has them: a small file is read without a kChunkList.
inline constexpr uint32_t kOpenChunks = 16;
// setattr_checked: meta checks this client's setattrs against the uid its
// key is bound to (docs/SECURITY.md), so the client must send each one at
// once, not keep it back for its next kCommitWrite.
struct OpenRep {
  Attr attr;
  uint64_t chunk_size = kDefaultChunkSize;
  std::vector<ChunkInfo> chunks;
  Attr parent{};  // kCreate: as EntryRep::parent
  bool setattr_checked = false;
  MSGPACK_DEFINE_MAP(attr, chunk_size, chunks, parent, setattr_checked)
};
// Client -> meta: mknod of a regular file and an open of it in one call
// (open(2) with O_CREAT of a name the kernel found missing). Errors as
// MknodReq then OpenReq. Reply OpenRep.
struct CreateReq {
  uint64_t parent = 0;
  std::string name;
  uint32_t mode = 0;  // permission bits; the type is S_IFREG
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t client = 0;
  uint32_t flags = 0;  // open(2) flags, for the record
  std::vector<uint64_t> released{};  // as in OpenReq
  Status Valid() const;
  MSGPACK_DEFINE_MAP(parent, name, mode, uid, gid, client, flags, released)
};
// Client -> meta: one handle opened with OpenReq is closed. Reply Empty.
struct ReleaseReq {
  uint64_t ino = 0;
  uint64_t client = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino, client)
};
// Client -> meta: one handle of client on each of inos (an inode may appear
// more than once) is closed, in order; dosfs sends its releases so, in
// batches. Reply Empty.
struct ReleaseManyReq {
  uint64_t client = 0;
  std::vector<uint64_t> inos;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(client, inos)
};

// ---- meta: file layout -----------------------------------------------------
// Client -> meta: the chunks of ino with first <= index < first+count that
// exist (a missing index is a hole). Reply ChunkListRep.
struct ChunkListReq {
  uint64_t ino = 0;
  uint64_t first = 0;
  uint32_t count = 1;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino, first, count)
};
struct ChunkListRep {
  uint64_t chunk_size = kDefaultChunkSize;
  std::vector<ChunkInfo> chunks;
  MSGPACK_DEFINE_MAP(chunk_size, chunks)
};
// Client -> meta: the chunk at index of ino, placed now on R nodes if it does
// not exist yet. ENOSPC when fewer than one node can take it.
struct ChunkAllocReq {
  uint64_t ino = 0;
  uint64_t index = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino, index)
};
struct ChunkAllocRep {
  ChunkInfo chunk;
  MSGPACK_DEFINE_MAP(chunk)
};
// Client -> meta: data was written to ino up to end (size becomes
// max(size, end)) at mtime_ns; then set, the setattrs the client kept back
// meanwhile (mode, owner, times: never a size; set.ino is ino, or valid is 0
// for none), applied as a kSetattr would apply them, in the same
// transaction. Reply AttrRep.
struct CommitWriteReq {
  uint64_t ino = 0;
  uint64_t end = 0;
  int64_t mtime_ns = 0;
  SetattrReq set;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino, end, mtime_ns, set)
};
// Client/dosctl -> meta: replication factor of a file, or of the files later
// created in a directory. EINVAL outside 1..kMaxReplicas. Reply Empty.
struct SetReplReq {
  uint64_t ino = 0;
  uint32_t repl = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino, repl)
};

// Client -> meta: a chain write of chunk id at version did not reach the
// replicas on nodes (a timeout, a dead link, a full or broken disk) while
// another replica has it. Meta drops them from the chunk's replica list
// (never the last one; the node may still be UP) and bumps the version, so
// the missed copies are stale and never read again; re-replication makes new
// ones. Reply ChunkAllocRep: the chunk as it is now (the client writes the
// same bytes again at the new version). ENOENT for an unknown chunk.
struct ChunkFailedReq {
  uint64_t id = 0;
  uint64_t version = 1;
  std::vector<std::string> nodes;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(id, version, nodes)
};

// ---- meta: locks -------------------------------------------------------------
// A lock owner is (client, owner): owner is the kernel's lock owner id.
// type is F_RDLCK, F_WRLCK or F_UNLCK; [start, end] inclusive, end =
// INT64_MAX for "to the end of file". flock locks (is_flock) are whole-file
// and live apart from record locks, as on Linux.
struct LockReq {
  uint64_t ino = 0;
  uint64_t client = 0;
  uint64_t owner = 0;
  uint32_t pid = 0;
  uint32_t type = 0;
  int64_t start = 0;
  int64_t end = 0;
  bool is_flock = false;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino, client, owner, pid, type, start, end, is_flock)
};
// Getlk reply: the first conflicting lock, or type F_UNLCK. Setlk: Empty, or
// EAGAIN on conflict (a client that may sleep asks again).
struct LockRep {
  uint32_t type = 0;
  int64_t start = 0;
  int64_t end = 0;
  uint32_t pid = 0;
  MSGPACK_DEFINE_MAP(type, start, end, pid)
};
// Client -> meta: drop every lock of (client, owner) on ino: record locks on
// flush, flock locks on release.
struct ReleaseLocksReq {
  uint64_t ino = 0;
  uint64_t client = 0;
  uint64_t owner = 0;
  bool is_flock = false;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ino, client, owner, is_flock)
};

// ---- meta: membership ---------------------------------------------------------
// Node -> meta, every heartbeat interval: who it is, where it listens, its
// disk. Reply Empty.
struct HeartbeatReq {
  std::string name;
  std::string addr;
  std::string data_dir;
  uint64_t capacity = 0;  // bytes of the file system of DATA/chunks
  uint64_t used = 0;      // bytes used on it
  uint64_t chunks = 0;    // chunk files held
  uint32_t pid = 0;
  uint32_t load_milli = 0;        // 1-minute load average x 1000
  int64_t rtt_us = -1;            // round trip of the previous heartbeat
  uint64_t config_version = 0;    // the settings version the node has seen
  Status Valid() const;
  MSGPACK_DEFINE_MAP(name, addr, data_dir, capacity, used, chunks, pid, load_milli, rtt_us,
                     config_version)
};
// The reply, HeartbeatRep, is in messages_mgmt.h.
struct NodeInfo {
  std::string name;
  std::string addr;
  // "UP", "DOWN", "CORDONED", "DRAINING" or "DRAINED" (the last three are
  // UP nodes an admin took out of placement).
  std::string state;
  uint64_t capacity = 0;
  uint64_t used = 0;
  uint64_t chunks = 0;        // chunk files on its disk, as it last reported
  int64_t last_seen_ms = 0;   // ms since the epoch, meta's clock
  std::string zone;           // label "zone", "" if unset
  std::map<std::string, std::string> labels;
  uint64_t replicas = 0;      // chunk replicas meta places there
  uint64_t drain_total = 0;   // replicas it held when the drain began
  uint32_t load_milli = 0;
  int64_t rtt_us = -1;        // heartbeat round trip to meta
  uint64_t config_version = 0;
  MSGPACK_DEFINE_MAP(name, addr, state, capacity, used, chunks, last_seen_ms, zone, labels,
                     replicas, drain_total, load_milli, rtt_us, config_version)
};
// Anyone -> meta (body Empty): every node meta knows.
struct NodeListRep {
  std::vector<NodeInfo> nodes;
  MSGPACK_DEFINE_MAP(nodes)
};
// Client -> meta: the replica of chunk id on node failed its CRC check while
// another replica read fine. Meta drops it from the chunk's replicas (if a
// live one is left) and re-replication copies the chunk anew. Reply Empty.
struct ChunkBadReq {
  uint64_t id = 0;
  std::string node;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(id, node)
};

// ---- node: chunk store ---------------------------------------------------------
// Client or previous replica -> node: write the data frame at offset of chunk
// id (created if absent), then forward the same write to chain[0] with
// chain[1:] as its chain; reply once this node and every later one have it
// on disk. Reply ChunkWriteRep: a replica whose write failed (its own disk,
// or a forward that timed out or was refused) is listed there and the write
// still succeeds if this node has it; it fails (with this node's errno) only
// when this node could not write. ESTALE, and nothing written, when this
// node or a later one holds a newer version of the chunk: the caller's
// layout is old.
// A batch: with extents, the data frame holds their bytes back to back, each
// written at its own offset (the extents do not overlap; offset is unused).
struct Extent {
  uint64_t offset = 0;  // within the chunk
  uint32_t length = 0;
  MSGPACK_DEFINE_MAP(offset, length)
};
inline constexpr size_t kMaxExtents = 1024;  // per ChunkWriteReq
struct ChunkWriteReq {
  uint64_t id = 0;
  uint64_t version = 1;
  uint64_t offset = 0;
  std::vector<std::string> chain;  // endpoints still to write, in order
  std::vector<Extent> extents{};   // empty: the whole data frame at offset
  Status Valid() const;
  MSGPACK_DEFINE_MAP(id, version, offset, chain, extents)
};
// One replica of a chain that did not take a write: its endpoint and errno.
struct FailedReplica {
  std::string addr;
  int32_t err = 0;
  MSGPACK_DEFINE_MAP(addr, err)
};
struct ChunkWriteRep {
  std::vector<FailedReplica> failed;  // later replicas of the chain only
  MSGPACK_DEFINE_MAP(failed)
};
// Client -> node: read up to length bytes at offset of chunk id; the reply's
// data frame may be shorter (past the chunk's end); holes read as zeros.
// Blocks are checked against their CRC32C: EIO on mismatch. ENOENT if the
// node does not hold the chunk.
struct ChunkReadReq {
  uint64_t id = 0;
  uint64_t version = 1;
  uint64_t offset = 0;
  uint32_t length = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(id, version, offset, length)
};
// Meta -> node: cut chunk id to length bytes (zeros past it if it grows
// again). ESTALE if the node holds a newer version. Reply Empty.
struct ChunkTruncateReq {
  uint64_t id = 0;
  uint64_t version = 1;
  uint64_t length = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(id, version, length)
};
// Meta -> node: remove chunk id (ENOENT if absent). Also the request of
// ChunkStat, and of ChunkSync (client -> each replica: put what was written
// to chunk id on disk, fdatasync, before fsync(2) or close(2) returns).
struct ChunkIdReq {
  uint64_t id = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(id)
};
// Meta -> node: remove every chunk of ids (at most kMaxDeleteBatch, none 0;
// EINVAL otherwise), each as kChunkDelete would. A chunk already absent counts
// as removed. Reply ChunkDeleteManyRep.
struct ChunkDeleteManyReq {
  std::vector<uint64_t> ids;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(ids)
};
// One chunk of a ChunkDeleteManyReq that is still there: its id and errno.
struct FailedChunk {
  uint64_t id = 0;
  int32_t err = 0;
  MSGPACK_DEFINE_MAP(id, err)
};
// Only the failures (never ENOENT), so the usual reply is an empty list.
struct ChunkDeleteManyRep {
  std::vector<FailedChunk> failed;
  MSGPACK_DEFINE_MAP(failed)
};
struct ChunkStatRep {
  uint64_t version = 0;
  uint64_t length = 0;
  MSGPACK_DEFINE_MAP(version, length)
};
// Meta -> node: make a fresh copy of chunk id at version by reading it from
// the replica at source (kChunkStat, then kChunkRead in pieces), dropping any
// old local copy first; fdatasync before the reply. ESTALE if the source
// holds an older version, EIO on a bad CRC there. Reply Empty.
struct ChunkReplicateReq {
  uint64_t id = 0;
  uint64_t version = 1;
  std::string source;  // endpoint of a live replica
  Status Valid() const;
  MSGPACK_DEFINE_MAP(id, version, source)
};

}  // namespace dos::proto

#include "common/proto/messages_mgmt.h"

namespace dos::proto {

// Checks one path component: EINVAL if empty, "." or ".." or holds '/' or
// NUL; ENAMETOOLONG past kMaxName.
Status ValidName(const std::string& name);

}  // namespace dos::proto

#include "common/proto/messages_keys.h"
