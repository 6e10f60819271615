// The file of one chunk and the block arithmetic on it. Internal to
// ChunkStore: the caller holds the chunk's lock.
//
// Format 2 (every chunk made now): one file, the CrcHeader at offset 0, the
// CRC table right after it, the chunk's bytes from kDataOffset on; the
// chunk's length is the file's size minus kDataOffset. Format 1 (chunks of
// older builds, still read, written and deleted): the bytes alone in the
// .chunk file, header and CRC table in a .crc sidecar at the same offsets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/proto/messages.h"
#include "common/status.h"
#include "daemon/chunk/chunk_store.h"

namespace dos::chunk {

// The one place a syscall's errno becomes a Status: "what: strerror" keeps
// the errno (ENOSPC stays ENOSPC).
Status PosixError(const std::string& context, int err);

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

enum class OpenMode { kRead, kWrite, kCreate };

// Where a format 2 chunk's bytes start: past the header and a CRC table
// for the largest chunk, on a page boundary.
inline constexpr uint64_t kDataOffset =
    (sizeof(CrcHeader) + proto::kMaxChunkSize / proto::kBlockSize * sizeof(uint32_t) + 4095) /
    4096 * 4096;

// An open chunk. name is "chunk <id as %016x>" for messages.
struct ChunkFiles {
  std::string name;
  Fd data;  // the .chunk file
  Fd crc;   // format 1 only: the .crc sidecar
  CrcHeader header;
  uint64_t length = 0;  // bytes of the chunk
  bool created = false;

  // The file that holds the header and the CRC table.
  int crc_fd() const { return crc.valid() ? crc.get() : data.get(); }
  // Where byte 0 of the chunk lies in data.
  uint64_t data_offset() const { return crc.valid() ? 0 : kDataOffset; }
};

// Opens (kCreate: creates if absent, in format 2, with version) the chunk
// at data_path. crc_path: where a format 1 sidecar would be, or "" when the
// store holds none (no probe). A new chunk takes a spare file if spares
// (may be null) has one. A creation that fails (a full disk) leaves no file
// behind. ENOENT if absent and not kCreate; EIO for a bad header.
Status OpenChunk(const std::string& data_path, const std::string& crc_path, OpenMode mode,
                 uint64_t version, ChunkFiles* f, SpareFiles* spares = nullptr);

// Writes data at off (data may be empty) and makes the chunk at least
// min_len bytes long; updates the CRC of every block whose bytes changed
// and of no other (a block the write neither touches nor grows is not read).
// A block it partly overwrites and whose length stays the same gets its
// stored CRC patched with the change of the overwritten bytes, which are
// the only old bytes read: its other bytes are not checked now, and a
// corruption anywhere in it (outside or inside the range) leaves a CRC that
// mismatches the block, so the next read or scrub gets EIO (a bad block is
// never blessed, and the write itself succeeds). Any other partly rewritten
// block (its length changes) is read whole and its old CRC checked first
// (EIO). The disk space is reserved first (fallocate): ENOSPC leaves the
// chunk unchanged.
Status ApplyWrite(ChunkFiles* f, uint64_t off, std::string_view data, uint64_t min_len);

// Cuts the chunk to len < f->length, fixing the CRC of the new last block.
Status Shrink(ChunkFiles* f, uint64_t len);

// Reads the whole blocks holding [off, off+len) (clipped to the chunk's end)
// into *out, each checked against its CRC (EIO naming the block on mismatch).
// *skip is where off lies in *out.
Status ReadBlocks(const ChunkFiles& f, uint64_t off, uint64_t len, std::string* out,
                  size_t* skip);

// Raises the stored version to version if it is higher.
Status RaiseVersion(ChunkFiles* f, uint64_t version);

}  // namespace dos::chunk
