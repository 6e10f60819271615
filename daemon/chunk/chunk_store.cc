#include "daemon/chunk/chunk_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "daemon/chunk/chunk_file.h"

namespace dos::chunk {

namespace {

std::string Hex16(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string SubDir(uint64_t id) {
  char buf[3];
  std::snprintf(buf, sizeof(buf), "%02x", static_cast<unsigned>(id & 0xff));
  return buf;
}

std::string ChunkName(uint64_t id) { return "chunk " + Hex16(id); }

Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return PosixError("stat " + path, errno);
    if (!S_ISDIR(st.st_mode)) return Status::Err(ENOTDIR, path + " is not a directory");
    return Status::Ok();
  }
  return PosixError("mkdir " + path, errno);
}

// Counts the chunks under dir; *sidecars: whether any format 1 sidecar is there.
uint64_t CountChunks(const std::string& dir, bool* sidecars) {
  uint64_t n = 0;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".chunk") ++n;
    if (it->path().extension() == ".crc") *sidecars = true;
  }
  return n;
}

}  // namespace

Result<std::unique_ptr<ChunkStore>> ChunkStore::Open(const std::string& root) {
  if (Status s = MakeDir(root); !s.ok()) return s;
  std::string chunks = root + "/chunks";
  if (Status s = MakeDir(chunks); !s.ok()) return s;
  if (access(chunks.c_str(), W_OK) != 0) return PosixError(chunks + " is not writable", errno);
  std::unique_ptr<ChunkStore> store(new ChunkStore(root));
  store->chunks_ = CountChunks(chunks, &store->sidecars_);
  Result<std::unique_ptr<SpareFiles>> spares = SpareFiles::Open(root + "/spare", kMaxSpares);
  if (!spares.ok()) return spares.status();
  store->spares_ = std::move(*spares);
  return store;
}

std::string ChunkStore::ChunkPath(uint64_t id) const {
  return root_ + "/chunks/" + SubDir(id) + "/" + Hex16(id) + ".chunk";
}

std::string ChunkStore::CrcPath(uint64_t id) const {
  return root_ + "/chunks/" + SubDir(id) + "/" + Hex16(id) + ".crc";
}

Status ChunkStore::OpenForUpdate(uint64_t id, uint64_t version, ChunkFiles* f) {
  f->name = ChunkName(id);
  Status s = OpenChunk(ChunkPath(id), SidecarPath(id), OpenMode::kCreate, version, f, spares_.get());
  if (!s.ok()) return s;
  if (f->created) chunks_++;
  if (f->header.version > version)
    return Status::Err(ESTALE, f->name + " is at version " + std::to_string(f->header.version) +
                                   ", a change at " + std::to_string(version) + " refused");
  return RaiseVersion(f, version);
}

Status ChunkStore::Write(uint64_t id, uint64_t version, uint64_t offset, std::string_view data) {
  return Write(id, version, {Piece{offset, data}});
}

Status ChunkStore::Write(uint64_t id, uint64_t version, const std::vector<Piece>& pieces) {
  std::unique_lock lock(LockFor(id));
  ChunkFiles f;
  Status s = OpenForUpdate(id, version, &f);
  for (size_t i = 0; s.ok() && i < pieces.size(); ++i)
    s = ApplyWrite(&f, pieces[i].offset, pieces[i].data, 0);
  if (!s.ok() && f.created) Discard(id);  // no empty or partial new chunk left
  if (!s.ok()) return s;
  // Only starts the I/O; an error of it shows again at fsync, which waits.
  for (const Piece& p : pieces)
    if (p.data.size() >= kStartWritebackBytes)
      (void)sync_file_range(f.data.get(), static_cast<off64_t>(f.data_offset() + p.offset),
                            static_cast<off64_t>(p.data.size()), SYNC_FILE_RANGE_WRITE);
  return s;
}

void ChunkStore::Discard(uint64_t id) {
  if (unlink(ChunkPath(id).c_str()) == 0) chunks_--;  // always format 2: no sidecar
}

Status ChunkStore::Read(uint64_t id, uint64_t version, uint64_t offset, uint32_t length,
                        std::string* out, size_t* skip) {
  std::shared_lock lock(LockFor(id));
  ChunkFiles f;
  f.name = ChunkName(id);
  Status s = OpenChunk(ChunkPath(id), SidecarPath(id), OpenMode::kRead, 0, &f);
  if (!s.ok()) return s;
  if (f.header.version < version)
    return Status::Err(ESTALE, f.name + " is at version " + std::to_string(f.header.version) +
                                   ", " + std::to_string(version) + " wanted");
  return ReadBlocks(f, offset, length, out, skip);
}

Result<std::string> ChunkStore::Read(uint64_t id, uint64_t offset, uint32_t length,
                                     uint64_t version) {
  std::string buf;
  size_t skip = 0;
  if (Status s = Read(id, version, offset, length, &buf, &skip); !s.ok()) return s;
  return buf.substr(skip);
}

Status ChunkStore::Truncate(uint64_t id, uint64_t version, uint64_t length) {
  std::unique_lock lock(LockFor(id));
  ChunkFiles f;
  if (Status s = OpenForUpdate(id, version, &f); !s.ok()) return s;
  if (length < f.length) return Shrink(&f, length);
  return ApplyWrite(&f, length, {}, length);
}

Status ChunkStore::Delete(uint64_t id) {
  std::unique_lock lock(LockFor(id));
  // The .chunk file defines existence: remove it first (into the spares),
  // then a sidecar.
  if (Status s = spares_->Retire(ChunkPath(id)); !s.ok()) {
    if (s.err() == ENOENT) return Status::Err(ENOENT, ChunkName(id) + " not on this node");
    return s;
  }
  chunks_--;
  if (sidecars_ && unlink(CrcPath(id).c_str()) != 0 && errno != ENOENT)
    return PosixError("delete " + CrcPath(id), errno);
  return Status::Ok();
}

Result<ChunkStat> ChunkStore::Stat(uint64_t id) {
  std::shared_lock lock(LockFor(id));
  ChunkFiles f;
  f.name = ChunkName(id);
  if (Status s = OpenChunk(ChunkPath(id), SidecarPath(id), OpenMode::kRead, 0, &f); !s.ok()) return s;
  return ChunkStat{f.header.version, f.length};
}

Status ChunkStore::Sync(uint64_t id) {
  std::shared_lock lock(LockFor(id));
  ChunkFiles f;
  f.name = ChunkName(id);
  if (Status s = OpenChunk(ChunkPath(id), SidecarPath(id), OpenMode::kRead, 0, &f); !s.ok()) return s;
  if (fdatasync(f.data.get()) != 0) return PosixError("fdatasync " + f.name, errno);
  if (f.crc.valid() && fdatasync(f.crc.get()) != 0)
    return PosixError("fdatasync " + f.name + " crc", errno);
  return Status::Ok();
}

StoreUsage ChunkStore::Usage() {
  StoreUsage u;
  u.chunks = chunks_.load();
  // The file system of the chunks (it may be a disk of its own).
  struct statvfs vfs;
  if (statvfs((root_ + "/chunks").c_str(), &vfs) == 0) {
    u.capacity = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
    u.used = static_cast<uint64_t>(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
  }
  return u;
}

Result<std::vector<HeldChunk>> ChunkStore::List(uint64_t after, size_t max) {
  std::vector<uint64_t> ids;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(root_ + "/chunks", ec), end;
       !ec && it != end; it.increment(ec)) {
    const std::filesystem::path& p = it->path();
    if (p.extension() != ".chunk" || p.stem().string().size() != 16) continue;
    char* stop = nullptr;
    std::string stem = p.stem().string();
    uint64_t id = std::strtoull(stem.c_str(), &stop, 16);
    if (stop && *stop == '\0' && id > after) ids.push_back(id);
  }
  if (ec) return Status::Err(ec.value(), "list " + root_ + "/chunks: " + ec.message());
  std::sort(ids.begin(), ids.end());
  if (ids.size() > max) ids.resize(max);
  std::vector<HeldChunk> out;
  for (uint64_t id : ids) {
    Result<ChunkStat> st = Stat(id);
    if (!st.ok() && st.err() == ENOENT) continue;  // deleted meanwhile
    out.push_back(HeldChunk{id, st.ok() ? st->version : 0});
  }
  return out;
}

Status ChunkStore::Verify(uint64_t id, uint64_t* bytes) {
  Result<ChunkStat> st = Stat(id);
  if (!st.ok()) return st.status();
  constexpr uint32_t kPiece = 1 << 20;
  for (uint64_t off = 0; off < st->length; off += kPiece) {
    std::string buf;
    size_t skip = 0;
    if (Status s = Read(id, 0, off, kPiece, &buf, &skip); !s.ok()) return s;
    if (bytes) *bytes += buf.size();
    if (buf.size() < kPiece) break;  // cut meanwhile
  }
  return Status::Ok();
}

}  // namespace dos::chunk
