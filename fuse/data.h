// The data path of regular files: reads and writes go straight to the chunk
// nodes; meta is asked only for the layout (kChunkList, kChunkAlloc) and told
// the new size at commit (kCommitWrite).
//
// All functions may run on many FUSE threads at once for the same file; the
// FileState serialises what it needs. Errors are already mapped for the data
// path (DataError: EIO unless ENOSPC and the like).
#pragma once

#include <string>
#include <string_view>

#include "fuse/fs.h"

namespace dos::fs {

// Writes data at file offset off: split at chunk boundaries, each piece sent
// to the head of its chunk's replica chain (pieces in parallel).
Status WriteData(Fs& fs, FileState& st, uint64_t off, std::string_view data);

// Reads up to size bytes at off, clipped to the size known (no read past
// EOF). Holes and short chunks read as zeros. *out gets the bytes.
Status ReadData(Fs& fs, FileState& st, uint64_t off, size_t size, std::string* out);

// kChunkSync to every replica of every chunk written since the last sync.
Status SyncDirty(Fs& fs, FileState& st);

// kCommitWrite of the pending size and mtime, if any.
Status CommitPending(Fs& fs, FileState& st);

// SyncDirty then CommitPending: what fsync and flush do.
Status SyncAndCommit(Fs& fs, FileState& st);

}  // namespace dos::fs
