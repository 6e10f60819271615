// ChunkStore: the chunk files of one node on its local disk. No network here.
//
// Layout under root (the node's data folder):
//   root/chunks/<id & 0xff as %02x>/<id as %016x>.chunk   one file per chunk:
//       CrcHeader, one CRC32C (little-endian u32) per kBlockSize block of the
//       chunk, then from kDataOffset (20 KiB) the bytes, sparse.
//   root/spare/<n>   empty files of deleted chunks that new chunks take
//       instead of creating files (spare_files.h).
// Chunks made by builds before format 2 keep their bytes alone in .chunk and
// header and CRCs in a .crc sidecar; they are still served (chunk_file.h).
// The CRC of a block covers exactly the bytes of that block that exist (the
// last block may be short); holes are zeros and carry the CRC of zeros.
//
// Versions: a chunk keeps the highest version any write or truncate gave it.
// A read asking for a newer version than the replica holds gets ESTALE (the
// replica missed writes; read another one). A write or truncate carrying an
// older version than the replica holds gets ESTALE too and changes nothing
// (the writer's layout is old: a replica was dropped since and the version
// bumped), so a late write can never land on a copy that moved on.
//
// Thread safety: every method may be called from any thread. One chunk is
// guarded by a striped reader/writer lock (readers share it), so concurrent
// writes to one chunk are serialized and a read never sees data whose CRC is
// not written yet. Errors are Status with the syscall's errno (ENOSPC stays
// ENOSPC); EIO names the chunk and block whose CRC does not match.
//
// A full disk: a write reserves its blocks (fallocate) before it writes, so
// ENOSPC comes back with the chunk unchanged, and a new chunk that could not
// be written is removed (no empty or partial chunk files are left).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "daemon/chunk/spare_files.h"

namespace dos::chunk {

struct ChunkFiles;  // chunk_file.h

// Emptied files of deleted chunks kept for new chunks (root/spare/).
inline constexpr size_t kMaxSpares = 16384;

// A piece of a write of at least this many bytes starts its own writeback
// at once (sync_file_range, not waiting for it): bulk data goes to the disk
// while the rest of the file still comes in, instead of piling up dirty in
// the page cache (which the kernel starts writing only past
// dirty_background_ratio, 2.4 GB on a 24 GB machine) until the writer's
// fsync. Smaller pieces (random writes, even joined in one batch) are left
// to the kernel to merge.
inline constexpr size_t kStartWritebackBytes = 256 * 1024;

inline constexpr uint32_t kCrcMagic = 0x43534f44;  // "DOSC"
inline constexpr uint32_t kCrcFormatSidecar = 1;      // header and CRCs in a .crc file
inline constexpr uint32_t kCrcFormat = 2;             // header and CRCs in the .chunk file

// First bytes of a chunk file (of a .crc sidecar in format 1), little-endian
// as the host.
struct CrcHeader {
  uint32_t magic = kCrcMagic;
  uint32_t format = kCrcFormat;
  uint64_t version = 0;
};
static_assert(sizeof(CrcHeader) == 16);

struct ChunkStat {
  uint64_t version = 0;
  uint64_t length = 0;
};

struct HeldChunk {
  uint64_t id = 0;
  uint64_t version = 0;
};

struct StoreUsage {
  uint64_t capacity = 0;
  uint64_t used = 0;
  uint64_t chunks = 0;
};

class ChunkStore {
 public:
  // Creates root/chunks if absent (its subfolders on first use); counts the
  // chunks.
  static Result<std::unique_ptr<ChunkStore>> Open(const std::string& root);
  ChunkStore(const ChunkStore&) = delete;
  ChunkStore& operator=(const ChunkStore&) = delete;

  // Writes data at offset of chunk id, creating the chunk if absent. Bytes
  // between the old end and offset read as zeros afterwards.
  Status Write(uint64_t id, uint64_t version, uint64_t offset, std::string_view data);
  // The same for several pieces, in order, under one lock and one open of
  // the chunk's files. A failure may leave earlier pieces written. Pieces
  // of kStartWritebackBytes or more start their writeback.
  struct Piece {
    uint64_t offset;
    std::string_view data;
  };
  Status Write(uint64_t id, uint64_t version, const std::vector<Piece>& pieces);
  // Reads up to length bytes at offset into *out (shorter past the end).
  // *out starts at a block boundary (every block in it was checked); the
  // wanted bytes are out->substr(*skip).
  Status Read(uint64_t id, uint64_t version, uint64_t offset, uint32_t length, std::string* out,
              size_t* skip);
  // Convenience for tests: the wanted bytes only.
  Result<std::string> Read(uint64_t id, uint64_t offset, uint32_t length, uint64_t version = 0);
  // Cuts or extends (with zeros) chunk id to length; created if absent.
  Status Truncate(uint64_t id, uint64_t version, uint64_t length);
  Status Delete(uint64_t id);  // ENOENT if absent
  Result<ChunkStat> Stat(uint64_t id);
  Status Sync(uint64_t id);  // fdatasync of both files; ENOENT if absent
  StoreUsage Usage();
  // The chunks held with id > after, in id order, at most max of them (a
  // chunk whose sidecar does not read is listed at version 0).
  Result<std::vector<HeldChunk>> List(uint64_t after, size_t max);
  // Reads every block of chunk id and checks its CRC32C: EIO on a mismatch
  // or a bad sidecar, ENOENT if absent. *bytes (if set) grows by the bytes
  // read. Takes the chunk's lock for one piece at a time, so writes go on.
  Status Verify(uint64_t id, uint64_t* bytes = nullptr);

  std::string ChunkPath(uint64_t id) const;
  std::string CrcPath(uint64_t id) const;  // a format 1 chunk's sidecar

 private:
  explicit ChunkStore(std::string root) : root_(std::move(root)) {}
  // CrcPath(id) if the store held format 1 chunks when opened, else "".
  std::string SidecarPath(uint64_t id) const { return sidecars_ ? CrcPath(id) : ""; }
  std::shared_mutex& LockFor(uint64_t id) { return locks_[(id * 0x9E3779B97F4A7C15ull) >> 56]; }
  // Opens chunk id for a change at version (created if absent, its version
  // raised). Caller holds LockFor(id) exclusively.
  Status OpenForUpdate(uint64_t id, uint64_t version, ChunkFiles* f);
  // Removes a chunk this write created and could not fill. Caller holds
  // LockFor(id) exclusively.
  void Discard(uint64_t id);

  std::string root_;
  std::unique_ptr<SpareFiles> spares_;  // files of deleted chunks, for new ones
  std::atomic<uint64_t> chunks_{0};
  bool sidecars_ = false;  // a .crc file was there at Open: probe for them
  std::array<std::shared_mutex, 256> locks_;  // striped by chunk id; leaf locks
};

}  // namespace dos::chunk
