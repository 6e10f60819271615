#include "fuse/release_queue.h"

#include <chrono>
#include <cstdio>

#include "fuse/client.h"

namespace dos::fs {

ReleaseQueue::ReleaseQueue(Cluster* cluster) : cluster_(cluster) {
  thread_ = std::thread([this] { Loop(); });
}

ReleaseQueue::~ReleaseQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ReleaseQueue::Add(uint64_t ino) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued_.push_back(ino);
    wake = queued_.size() == 1 || queued_.size() >= proto::kMaxReleased;
  }
  if (wake) cv_.notify_all();
}

std::vector<uint64_t> ReleaseQueue::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint64_t> out;
  if (queued_.size() <= proto::kMaxReleased) {
    out.swap(queued_);
  } else {
    out.assign(queued_.begin(), queued_.begin() + proto::kMaxReleased);
    queued_.erase(queued_.begin(), queued_.begin() + proto::kMaxReleased);
  }
  return out;
}

void ReleaseQueue::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queued_.empty(); });
    // Give an open or create the chance to carry them, and more the chance
    // to join them.
    cv_.wait_for(lock, std::chrono::milliseconds(kDelayMs),
                 [this] { return stop_ || queued_.size() >= proto::kMaxReleased; });
    const bool stop = stop_;
    lock.unlock();
    for (std::vector<uint64_t> inos = Take(); !inos.empty(); inos = Take()) Send(inos);
    lock.lock();
    if (stop) return;
  }
}

void ReleaseQueue::Send(const std::vector<uint64_t>& inos) {
  proto::Empty rep;
  Status s = cluster_->Meta(proto::Op::kReleaseMany,
                            proto::ReleaseManyReq{cluster_->client_id(), inos}, &rep);
  if (!s.ok())
    std::fprintf(stderr, "dosfs: release of %zu handles: %s\n", inos.size(),
                 s.ToString().c_str());
}

}  // namespace dos::fs
