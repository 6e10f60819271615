// SpareFiles: emptied files of deleted chunks, kept in root/spare/ for new
// chunks to take instead of creating a file.
//
// Why: on ext4 creating and removing files costs far more than renaming
// them once many were removed lately (the inode allocator reads the inode
// table block of every inode freed in the last seconds and skips it; here
// a create then took 300-400 us instead of 15). A delete renames the chunk's
// file into the pool and truncates it to 0 bytes, so its disk space comes
// back at once as with unlink(2); a new chunk renames a spare into place
// (RENAME_NOREPLACE) and writes its header. At most max spares are kept;
// past that a delete unlinks. Every spare is empty: one a crash left with
// bytes (between the rename and the truncate) is emptied at Open.
//
// Thread safety: every method may be called from any thread; the caller
// holds the lock of the chunk whose path it passes.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

namespace dos::chunk {

class SpareFiles {
 public:
  // Creates dir if absent; keeps (emptied) up to max of the files in it and
  // removes the rest.
  static Result<std::unique_ptr<SpareFiles>> Open(std::string dir, size_t max);
  SpareFiles(const SpareFiles&) = delete;
  SpareFiles& operator=(const SpareFiles&) = delete;

  // Removes the file at path: into the pool, emptied, or unlinked when the
  // pool is full. ENOENT if there is no file at path.
  Status Retire(const std::string& path);
  // Moves a spare to path, which must not exist. 0 on success; ENOENT when
  // path's folder does not exist; EAGAIN when no spare is left; else the
  // rename's errno. The file at path is then empty.
  int Take(const std::string& path);

  size_t size();  // spares kept now

 private:
  SpareFiles(std::string dir, size_t max) : dir_(std::move(dir)), max_(max) {}
  std::string PathOf(uint64_t n) const { return dir_ + "/" + std::to_string(n); }

  const std::string dir_;
  const size_t max_;
  std::mutex mu_;  // guards spares_, reserved_, next_
  std::vector<uint64_t> spares_;  // names of the files in dir_
  size_t reserved_ = 0;           // places taken by Retires under way
  uint64_t next_ = 0;             // name of the next file put in
};

}  // namespace dos::chunk
