// Fs: what every FUSE op of dosfs shares, reached with Get(req) from the
// session's userdata. Also the op boundary helpers: Guard() turns an escaping
// exception into EIO (nothing may unwind into libfuse) and LogFailure() logs
// an unexpected error once, in foreground or debug mode only.
#pragma once

#include <fuse_lowlevel.h>

#include <exception>
#include <mutex>
#include <string>
#include <optional>
#include <utility>

#include "fuse/client.h"
#include "fuse/fresh_attr_cache.h"
#include "fuse/dir_listing.h"
#include "fuse/file_state.h"
#include "fuse/read_cache.h"
#include "fuse/release_queue.h"
#include "fuse/work_pool.h"
#include "fuse/xattr_absence.h"

namespace dos::fs {

inline constexpr double kEntryTimeout = 1.0;  // seconds
inline constexpr double kAttrTimeout = 1.0;
inline constexpr int kWriteThreads = 16;

struct Fs {
  // Made after fuse_daemonize(): ZeroMQ's threads would not survive its fork.
  std::optional<Cluster> cluster;
  // Sends write-behind data (kWriteThreads threads); made with cluster, after
  // the fork, and stopped before it.
  std::optional<WorkPool> writers;
  // Batches meta's releases of handles; made with cluster, stopped before it.
  std::optional<ReleaseQueue> releases;
  FileTable files;
  ReadCache read_cache;  // capacity from -o read_cache=MiB
  XattrAbsence xattr_absence;
  FreshAttrCache fresh_attrs;
  DirListings listings;
  bool verbose = false;  // foreground or debug: log unexpected errors
  std::string mountpoint;           // as given on the command line
  std::once_flag readahead_once;    // see TuneReadahead
};

inline Fs& Get(fuse_req_t req) { return *static_cast<Fs*>(fuse_req_userdata(req)); }

// parent/name was removed through this process (unlink, rmdir; rep is
// meta's reply): the caches drop what that changed and keep the parent's
// new attributes for the kernel's next GETATTR.
inline void ForgetRemoved(Fs& fs, uint64_t parent, const std::string& name,
                          const proto::RemoveRep& rep) {
  if (rep.ino != 0)
    fs.fresh_attrs.Forget(rep.ino);
  else
    fs.fresh_attrs.Clear();  // an older meta: the inode that lost the name is not known
  fs.fresh_attrs.Put(rep.parent);
  fs.listings.Removed(parent, name, rep.ino);
}

// Logs "dosfs: op ino: status" to stderr if verbose and the error is not one
// that ordinary use produces (ENOENT, EEXIST, ...).
void LogFailure(const Fs& fs, const char* op, uint64_t ino, const Status& s);

// Runs f (returning Status); an exception becomes EIO.
template <typename F>
Status Guard(F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const std::exception& e) {
    return Status::Err(EIO, std::string("exception: ") + e.what());
  } catch (...) {
    return Status::Err(EIO, "unknown exception");
  }
}

// Errors on the data path (ETIMEDOUT from a dead node, EPROTO, ENOENT of a
// chunk) reach the application as EIO; ENOSPC, EDQUOT, EIO stay.
Status DataError(const Status& s);

// Sets the kernel's readahead of this mount to kReadaheadKb (the kernel
// starts FUSE mounts at 128 KiB, and the INIT reply can only lower it):
// sequential reads then go out as 1 MiB requests, several at once. Done
// once, at the first open (INIT is answered by then); needs root, and a
// failure is only logged.
inline constexpr int kReadaheadKb = 4096;
void TuneReadahead(Fs& fs);

// Nanoseconds since the epoch, now.
int64_t NowNs();

}  // namespace dos::fs
