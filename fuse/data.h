// The data path of regular files: reads and writes go straight to the chunk
// nodes; meta is asked only for the layout (kChunkList, kChunkAlloc) and told
// the new size at commit (kCommitWrite).
//
// All functions may run on many FUSE threads at once for the same file; the
// FileState serialises what it needs. Errors are already mapped for the data
// path (DataError: EIO unless ENOSPC and the like).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "fuse/fs.h"

namespace dos::fs {

// Writes data at file offset off: split at chunk boundaries, each piece sent
// to the head of its chunk's replica chain (pieces in parallel). If owner
// holds data, the pieces go to ZeroMQ without a copy.
Status WriteData(Fs& fs, FileState& st, uint64_t off, std::string_view data,
                 const std::shared_ptr<const std::string>& owner = nullptr);

// Reads up to size bytes at off, clipped to the size known (no read past
// EOF). Holes and short chunks read as zeros. *out gets the bytes. With
// cached, a read smaller than a block goes through fs.read_cache.
Status ReadData(Fs& fs, FileState& st, uint64_t off, size_t size, std::string* out,
                bool cached = false);

// kChunkSync to every replica of every chunk written since the last sync.
Status SyncDirty(Fs& fs, FileState& st);

// kCommitWrite of the pending size and mtime, if any.
Status CommitPending(Fs& fs, FileState& st);

// What fsync does through a handle whose error cursor is *seen (see
// FileState::ErrorCount): waits for the writes in flight, reports (once) a
// background write error the handle has not been told of, else SyncDirty
// then CommitPending.
Status SyncAndCommit(Fs& fs, FileState& st, uint64_t* seen);

// Write-behind (see FileState::BeginWrite): copies data, queues it on
// fs.writers and returns; the error of a background write comes back from a
// later QueueWrite, flush or fsync of each handle (seen: its error cursor).
Status QueueWrite(Fs& fs, const std::shared_ptr<FileState>& st, uint64_t off,
                  std::string_view data, const uint64_t* seen);

// If ino is open here: waits for its writes in flight and commits its size,
// so that what was written is visible to other clients (before a lock
// changes hands, before a truncate).
Status Settle(Fs& fs, uint64_t ino);

}  // namespace dos::fs
