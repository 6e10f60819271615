#include "fuse/file_state.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace dos::fs {

void FileState::Opened(const proto::Attr& attr, uint64_t chunk_size) {
  std::lock_guard<std::mutex> lock(mu_);
  if (chunk_size > 0) chunk_size_ = chunk_size;
  meta_size_ = attr.size;
  layout_.clear();
}

uint64_t FileState::chunk_size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return chunk_size_;
}

std::optional<proto::ChunkInfo> FileState::CachedChunk(uint64_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = layout_.find(index);
  if (it == layout_.end()) return std::nullopt;
  return it->second;
}

void FileState::CacheChunk(const proto::ChunkInfo& chunk) {
  std::lock_guard<std::mutex> lock(mu_);
  layout_[chunk.index] = chunk;
}

void FileState::ForgetChunk(uint64_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  layout_.erase(index);
}

void FileState::DropLayout() {
  std::lock_guard<std::mutex> lock(mu_);
  layout_.clear();
}

void FileState::Wrote(const proto::ChunkInfo& chunk, uint64_t end, int64_t mtime_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  dirty_[chunk.index] = chunk;
  pending_end_ = std::max(pending_end_, end);
  pending_mtime_ns_ = std::max(pending_mtime_ns_, mtime_ns);
  ++write_gen_;
}

std::vector<proto::ChunkInfo> FileState::TakeDirty() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<proto::ChunkInfo> out;
  out.reserve(dirty_.size());
  for (auto& [index, chunk] : dirty_) out.push_back(chunk);
  dirty_.clear();
  return out;
}

void FileState::Redirty(const std::vector<proto::ChunkInfo>& chunks) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& c : chunks) dirty_.emplace(c.index, c);
}

std::optional<PendingWrite> FileState::Pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (write_gen_ == committed_gen_) return std::nullopt;
  return PendingWrite{pending_end_, pending_mtime_ns_, write_gen_};
}

void FileState::Committed(const PendingWrite& p, const proto::Attr& attr) {
  std::lock_guard<std::mutex> lock(mu_);
  committed_gen_ = std::max(committed_gen_, p.gen);
  meta_size_ = attr.size;
}

void FileState::Truncated(uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  committed_gen_ = write_gen_;
  pending_end_ = size;
  meta_size_ = size;
  layout_.clear();
}

void FileState::Merge(proto::Attr* attr) {
  std::lock_guard<std::mutex> lock(mu_);
  meta_size_ = attr->size;
  if (write_gen_ == committed_gen_) return;
  attr->size = std::max(attr->size, pending_end_);
  attr->mtime_ns = std::max(attr->mtime_ns, pending_mtime_ns_);
  attr->ctime_ns = std::max(attr->ctime_ns, pending_mtime_ns_);
}

uint64_t FileState::KnownSize() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (write_gen_ == committed_gen_) return meta_size_;
  return std::max(meta_size_, pending_end_);
}

void FileState::MarkPosixLocked() {
  std::lock_guard<std::mutex> lock(mu_);
  posix_locked_ = true;
}

bool FileState::posix_locked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return posix_locked_;
}

std::shared_ptr<FileState> FileTable::Open(uint64_t ino) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = files_[ino];
  if (!slot) slot = std::make_shared<FileState>(ino);
  ++slot->open_count_;
  return slot;
}

std::shared_ptr<FileState> FileTable::Get(uint64_t ino) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(ino);
  return it == files_.end() ? nullptr : it->second;
}

void FileTable::Release(uint64_t ino) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(ino);
  if (it == files_.end()) {
    std::fprintf(stderr, "dosfs: release of inode %llu that is not open\n",
                 static_cast<unsigned long long>(ino));
    std::abort();
  }
  if (--it->second->open_count_ == 0) files_.erase(it);
}

void FileTable::Merge(proto::Attr* attr) const {
  if (auto st = Get(attr->ino)) st->Merge(attr);
}

}  // namespace dos::fs
