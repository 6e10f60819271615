#include "fuse/file_state.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <utility>

namespace dos::fs {

namespace {

// Data generations (FileState::DataGen) are unique in the process.
std::atomic<uint64_t> data_gens{0};

uint64_t NewDataGen() { return ++data_gens; }

}  // namespace

FileState::FileState(uint64_t ino) : ino_(ino), data_gen_(NewDataGen()) {}

uint64_t FileState::DataGen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return data_gen_;
}

void FileState::DataChanged() {
  std::lock_guard<std::mutex> lock(mu_);
  data_gen_ = NewDataGen();
}

void FileState::Opened(const proto::Attr& attr, uint64_t chunk_size, bool setattr_checked) {
  std::lock_guard<std::mutex> lock(mu_);
  if (chunk_size > 0) chunk_size_ = chunk_size;
  meta_size_ = attr.size;
  attr_ = attr;
  setattr_checked_ = setattr_checked;
  layout_.clear();
  data_gen_ = NewDataGen();
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
  WroteAfterKeptLocked();
}

void FileState::WroteAfterKeptLocked() {
  kept_.valid &= ~uint32_t{proto::kSetMtime | proto::kSetMtimeNow};
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
  if (write_gen_ == committed_gen_ && kept_.valid == 0) return std::nullopt;
  PendingWrite p{pending_end_, pending_mtime_ns_, write_gen_, kept_, kept_gen_};
  p.set.ctime_ns = 0;  // meta stamps the change
  return p;
}

void FileState::Committed(const PendingWrite& p, const proto::Attr& attr) {
  std::lock_guard<std::mutex> lock(mu_);
  committed_gen_ = std::max(committed_gen_, p.gen);
  if (p.set_gen == kept_gen_) kept_.valid = 0;
  meta_size_ = attr.size;
  attr_ = attr;
  // The reply may carry another client's changes under this commit's size
  // and mtime, which Merge would then never see as a change.
  data_gen_ = NewDataGen();
}

bool FileState::KeepSetattr(const proto::SetattrReq& req, proto::Attr* attr,
                            proto::Attr* base) {
  constexpr uint32_t kKeepable = proto::kSetMode | proto::kSetUid | proto::kSetGid |
                                 proto::kSetAtime | proto::kSetMtime | proto::kSetAtimeNow |
                                 proto::kSetMtimeNow;
  std::lock_guard<std::mutex> lock(mu_);
  if (setattr_checked_ || attr_.ino == 0 || req.valid == 0 || (req.valid & ~kKeepable)) return false;
  if (write_gen_ == committed_gen_ || !in_flight_.empty()) return false;
  kept_.ino = ino_;
  kept_.valid |= req.valid & (proto::kSetMode | proto::kSetUid | proto::kSetGid);
  if (req.valid & proto::kSetMode) kept_.mode = req.mode;
  if (req.valid & proto::kSetUid) kept_.uid = req.uid;
  if (req.valid & proto::kSetGid) kept_.gid = req.gid;
  if (req.valid & (proto::kSetAtime | proto::kSetAtimeNow)) {
    kept_.valid |= proto::kSetAtime;
    kept_.atime_ns = req.atime_ns;
  }
  if (req.valid & (proto::kSetMtime | proto::kSetMtimeNow)) {
    kept_.valid |= proto::kSetMtime;
    kept_.mtime_ns = req.mtime_ns;
  }
  kept_.ctime_ns = std::max(kept_.ctime_ns, req.ctime_ns);
  ++kept_gen_;
  *base = attr_;
  *attr = attr_;
  OverlayLocked(attr);
  return true;
}

void FileState::Truncated(uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  committed_gen_ = write_gen_;
  pending_end_ = size;
  meta_size_ = size;
  layout_.clear();
  data_gen_ = NewDataGen();
}

void FileState::Merge(proto::Attr* attr) {
  std::lock_guard<std::mutex> lock(mu_);
  meta_size_ = attr->size;
  if (attr->ino == ino_ && attr->ctime_ns >= attr_.ctime_ns) {
    if (attr_.ino != 0 && (attr->size != attr_.size || attr->mtime_ns != attr_.mtime_ns))
      data_gen_ = NewDataGen();  // changed by another client (or a commit not seen here)
    attr_ = *attr;
  }
  OverlayLocked(attr);
}

void FileState::OverlayLocked(proto::Attr* attr) const {
  if (write_gen_ != committed_gen_) {
    attr->size = std::max(attr->size, pending_end_);
    attr->mtime_ns = std::max(attr->mtime_ns, pending_mtime_ns_);
    attr->ctime_ns = std::max(attr->ctime_ns, pending_mtime_ns_);
  }
  // A kept setattr came after the writes above (its mtime is dropped by a
  // later one) and before those in flight.
  const uint32_t v = kept_.valid;
  if (v & proto::kSetMode) attr->mode = (attr->mode & S_IFMT) | (kept_.mode & 07777);
  if (v & proto::kSetUid) attr->uid = kept_.uid;
  if (v & proto::kSetGid) attr->gid = kept_.gid;
  if (v & proto::kSetAtime) attr->atime_ns = kept_.atime_ns;
  if (v & proto::kSetMtime) attr->mtime_ns = kept_.mtime_ns;
  if (v != 0) attr->ctime_ns = std::max(attr->ctime_ns, kept_.ctime_ns);
  if (!in_flight_ends_.empty()) attr->size = std::max(attr->size, in_flight_ends_.rbegin()->second);
  if (!in_flight_.empty()) {  // write(2) returned: its times show at once
    attr->mtime_ns = std::max(attr->mtime_ns, issued_ns_);
    attr->ctime_ns = std::max(attr->ctime_ns, issued_ns_);
  }
}

uint64_t FileState::KnownSize() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (write_gen_ == committed_gen_) return meta_size_;
  return std::max(meta_size_, pending_end_);
}

uint64_t FileState::ErrorCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

Result<uint64_t> FileState::BeginWrite(uint64_t off, uint64_t len, const uint64_t* seen) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t end = off + len;
  writes_cv_.wait(lock, [&] {
    if (errors_ != *seen) return true;
    if (in_flight_.empty()) return true;
    if (in_flight_.size() >= kMaxWritesInFlight) return false;
    if (in_flight_bytes_ + len > kMaxBytesInFlight) return false;
    return !OverlapsInFlightLocked(off, end);
  });
  if (errors_ != *seen) return last_error_;
  uint64_t ticket = next_ticket_++;
  in_flight_[ticket] = {off, end};
  if (end > off) in_flight_ends_[off] = end;
  in_flight_bytes_ += len;
  WroteAfterKeptLocked();
  issued_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  return ticket;
}

bool FileState::OverlapsInFlightLocked(uint64_t off, uint64_t end) const {
  if (end <= off) return false;
  // The writes in flight are disjoint (each waited for the ones it
  // overlapped), so only the last one starting before end can reach past off.
  auto after = in_flight_ends_.lower_bound(end);
  return after != in_flight_ends_.begin() && std::prev(after)->second > off;
}

void FileState::EndWrite(uint64_t ticket, const Status& s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = in_flight_.find(ticket);
    if (it != in_flight_.end()) {
      in_flight_bytes_ -= it->second.second - it->second.first;
      if (it->second.second > it->second.first) in_flight_ends_.erase(it->second.first);
      in_flight_.erase(it);
    }
    if (!s.ok()) {
      ++errors_;
      last_error_ = s;
    }
    data_gen_ = NewDataGen();
  }
  writes_cv_.notify_all();
}

std::deque<FileState::QueuedWrite>::iterator FileState::NextToSend(uint64_t max_bytes) {
  if (queued_.empty() || senders_ >= kMaxSenders) return queued_.end();
  if (queued_bytes_ >= max_bytes) return queued_.begin();
  if (senders_ >= kMaxSmallSenders) return queued_.end();
  for (auto it = queued_.begin(); it != queued_.end(); ++it)
    if (!chunks_out_.count(it->off / chunk_size_)) return it;
  return queued_.end();
}

bool FileState::Queue(QueuedWrite w, uint64_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  queued_bytes_ += w.data->size();
  queued_.push_back(std::move(w));
  return NextToSend(max_bytes) != queued_.end();
}

std::vector<FileState::QueuedWrite> FileState::TakeBatch(uint64_t max_bytes,
                                                         std::optional<uint64_t>* sent) {
  std::lock_guard<std::mutex> lock(mu_);
  if (sent->has_value()) {
    --senders_;
    if (auto c = chunks_out_.find(**sent); c != chunks_out_.end() && --c->second == 0)
      chunks_out_.erase(c);
    sent->reset();
  }
  std::vector<QueuedWrite> out;
  auto first = NextToSend(max_bytes);
  if (first == queued_.end()) return out;
  ++senders_;
  out.push_back(std::move(*first));
  queued_.erase(first);
  queued_bytes_ -= out[0].data->size();
  const uint64_t cs = chunk_size_;
  auto chunk_of = [cs](const QueuedWrite& w, uint64_t* index) {
    uint64_t len = w.data->size();
    *index = w.off / cs;
    return len > 0 && (w.off + len - 1) / cs == *index;  // within one chunk
  };
  uint64_t index = 0;
  const bool within = chunk_of(out[0], &index);
  ++chunks_out_[index];
  *sent = index;
  if (!within) return out;
  uint64_t bytes = out[0].data->size();
  for (auto it = queued_.begin(); it != queued_.end();) {
    uint64_t other = 0;
    if (chunk_of(*it, &other) && other == index && bytes + it->data->size() <= max_bytes) {
      bytes += it->data->size();
      queued_bytes_ -= it->data->size();
      out.push_back(std::move(*it));
      it = queued_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

void FileState::WaitWrites() {
  std::unique_lock<std::mutex> lock(mu_);
  writes_cv_.wait(lock, [&] { return in_flight_.empty(); });
}

Status FileState::WaitWritesError(uint64_t* seen, bool mark_seen) {
  std::unique_lock<std::mutex> lock(mu_);
  writes_cv_.wait(lock, [&] { return in_flight_.empty(); });
  if (errors_ == *seen) return Status::Ok();
  if (mark_seen) *seen = errors_;
  return last_error_;
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
  if (!slot) {
    slot = std::make_shared<FileState>(ino);
    if (auto it = unsynced_.find(ino); it != unsynced_.end()) {
      slot->Redirty(it->second.chunks);
      unsynced_.erase(it);
    }
  }
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
  if (--it->second->open_count_ != 0) return;
  std::vector<proto::ChunkInfo> dirty = it->second->TakeDirty();
  files_.erase(it);
  if (dirty.empty()) return;
  Unsynced& kept = unsynced_[ino];
  if (kept.chunks.empty()) {
    kept.seq = ++unsynced_seq_;
    unsynced_order_.emplace_back(ino, kept.seq);
  }
  kept.chunks.insert(kept.chunks.end(), dirty.begin(), dirty.end());
  auto live = [this](const std::pair<uint64_t, uint64_t>& e) {
    auto u = unsynced_.find(e.first);
    return u != unsynced_.end() && u->second.seq == e.second;
  };
  while (unsynced_.size() > kMaxUnsyncedFiles && !unsynced_order_.empty()) {
    if (live(unsynced_order_.front())) unsynced_.erase(unsynced_order_.front().first);
    unsynced_order_.pop_front();
  }
  if (unsynced_order_.size() > 2 * kMaxUnsyncedFiles)  // drop entries of reopened inodes
    std::erase_if(unsynced_order_, [&](const auto& e) { return !live(e); });
}

void FileTable::Merge(proto::Attr* attr) const {
  if (auto st = Get(attr->ino)) st->Merge(attr);
}

}  // namespace dos::fs
