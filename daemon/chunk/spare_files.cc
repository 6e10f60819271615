#include "daemon/chunk/spare_files.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

namespace dos::chunk {

Result<std::unique_ptr<SpareFiles>> SpareFiles::Open(std::string dir, size_t max) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Status::Err(errno, "mkdir " + dir);
  std::unique_ptr<SpareFiles> s(new SpareFiles(dir, max));
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    char* stop = nullptr;
    const uint64_t n = std::strtoull(name.c_str(), &stop, 10);
    const std::string path = it->path().string();
    const bool numbered = !name.empty() && stop && *stop == '\0';
    if (!numbered || s->spares_.size() >= max || truncate(path.c_str(), 0) != 0) {
      (void)unlink(path.c_str());
      continue;
    }
    s->spares_.push_back(n);
    s->next_ = std::max(s->next_, n + 1);
  }
  if (ec) return Status::Err(ec.value(), "list " + dir + ": " + ec.message());
  return s;
}

Status SpareFiles::Retire(const std::string& path) {
  // Only a regular file goes in (a directory fails here with EISDIR, as
  // unlink(2) would fail on it).
  const int fd = open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::Err(ENOENT, path + " does not exist");
    if (errno != ELOOP) return Status::Err(errno, "delete " + path);
  }
  uint64_t n = UINT64_MAX;
  if (fd >= 0) {
    std::lock_guard<std::mutex> lock(mu_);
    if (spares_.size() + reserved_ < max_) {
      reserved_++;
      n = next_++;
    }
  }
  const std::string spare = PathOf(n);
  if (n == UINT64_MAX || rename(path.c_str(), spare.c_str()) != 0) {
    const int err = errno;
    if (fd >= 0) close(fd);
    if (n != UINT64_MAX) {
      std::lock_guard<std::mutex> lock(mu_);
      reserved_--;
    }
    if (n != UINT64_MAX && err == ENOENT) return Status::Err(ENOENT, path + " does not exist");
    if (unlink(path.c_str()) != 0) return Status::Err(errno, "delete " + path);
    return Status::Ok();
  }
  // The chunk is gone from here on; the spare only has to give its space back.
  const bool emptied = ftruncate(fd, 0) == 0;
  close(fd);
  std::lock_guard<std::mutex> lock(mu_);
  reserved_--;
  if (emptied)
    spares_.push_back(n);
  else
    (void)unlink(spare.c_str());
  return Status::Ok();
}

int SpareFiles::Take(const std::string& path) {
  uint64_t n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (spares_.empty()) return EAGAIN;
    n = spares_.back();
    spares_.pop_back();
  }
  const std::string spare = PathOf(n);
  if (renameat2(AT_FDCWD, spare.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) return 0;
  const int err = errno;
  // Gone from the pool (removed by hand): forget it; the caller creates.
  if (err == ENOENT && access(spare.c_str(), F_OK) != 0) return EAGAIN;
  std::lock_guard<std::mutex> lock(mu_);
  spares_.push_back(n);  // still a spare: the rename did nothing
  return err;
}

size_t SpareFiles::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return spares_.size();
}

}  // namespace dos::chunk
