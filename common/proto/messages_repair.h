// Messages of cluster health and repair (issue 3): fs health, scrub, fsck
// and the chunk inventory a node gives meta. Included from messages.h; the
// op numbers live in its Op enum.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/proto/msgpack_config.h"
#include "common/status.h"

namespace dos::proto {

inline constexpr uint32_t kMaxInventory = 65536;  // chunks per inventory reply
inline constexpr uint32_t kMaxScrubBad = 4096;    // bad chunks listed per scrub reply
inline constexpr uint32_t kMaxFsckItems = 1000;   // findings listed per fsck kind

// Anyone -> meta (body Empty): how the chunks of the cluster stand. A chunk is
// ok with at least its file's R live replicas (on UP nodes, at the current
// version), under_replicated with fewer but at least one, missing with none.
// stale counts copies known to be out of date or surplus (on a returning
// node, or above R) that are not yet dropped.
struct FsHealthRep {
  uint64_t chunks = 0;
  uint64_t ok = 0;
  uint64_t under_replicated = 0;
  uint64_t missing = 0;
  uint64_t stale = 0;
  uint64_t copies_running = 0;  // re-replication copies in flight
  uint64_t copies_done = 0;     // since meta started
  uint64_t copies_failed = 0;
  uint64_t copies_dropped = 0;  // stale, surplus or bad copies deleted since meta started
  uint32_t nodes_up = 0;
  uint32_t nodes_down = 0;
  MSGPACK_DEFINE_MAP(chunks, ok, under_replicated, missing, stale, copies_running, copies_done,
                     copies_failed, copies_dropped, nodes_up, nodes_down)
};

// Meta or dosctl -> node: the chunks this node holds with id > after, in id
// order, at most max (<= kMaxInventory). eof when there are no more.
struct ChunkInventoryReq {
  uint64_t after = 0;
  uint32_t max = kMaxInventory;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(after, max)
};
struct ChunkInventoryRep {
  std::vector<uint64_t> ids;
  std::vector<uint64_t> versions;  // versions[i] is the version of ids[i]
  bool eof = false;
  MSGPACK_DEFINE_MAP(ids, versions, eof)
};

// dosctl -> node: check every block CRC32C of every chunk this node holds,
// at most rate bytes per second (0: as fast as the disk goes). Reply
// ChunkScrubRep listing the chunks with a bad block (or a missing sidecar).
struct ChunkScrubReq {
  uint64_t rate = 0;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(rate)
};
struct ChunkScrubRep {
  uint64_t chunks = 0;  // chunks checked
  uint64_t bytes = 0;   // bytes read
  std::vector<uint64_t> bad;
  MSGPACK_DEFINE_MAP(chunks, bytes, bad)
};

// dosctl -> meta: check the namespace against the chunks (and the chunks the
// UP nodes hold); with repair, fix what is found. Reply FsckRep.
struct FsckReq {
  bool repair = false;
  Status Valid() const;
  MSGPACK_DEFINE_MAP(repair)
};
// One finding: what kind, the chunk (or 0), the inode (or 0), the node (or "").
struct FsckItem {
  std::string kind;
  uint64_t chunk = 0;
  uint64_t ino = 0;
  std::string node;
  MSGPACK_DEFINE_MAP(kind, chunk, ino, node)
};
// Counts per kind; items lists at most kMaxFsckItems of each kind.
//   orphan_chunks      chunk rows whose inode does not exist
//   dangling_chunks    chunks of a live file with no replica at all
//   orphan_replicas    replica rows of a chunk that does not exist
//   unknown_nodes      replica rows naming a node meta does not know
//   stray_files        chunk files on a node that meta does not list there
//   unreachable_nodes  UP nodes whose inventory could not be read
struct FsckRep {
  uint64_t orphan_chunks = 0;
  uint64_t dangling_chunks = 0;
  uint64_t orphan_replicas = 0;
  uint64_t unknown_nodes = 0;
  uint64_t stray_files = 0;
  uint64_t unreachable_nodes = 0;
  bool repaired = false;
  std::vector<FsckItem> items;
  MSGPACK_DEFINE_MAP(orphan_chunks, dangling_chunks, orphan_replicas, unknown_nodes, stray_files,
                     unreachable_nodes, repaired, items)
};

}  // namespace dos::proto
