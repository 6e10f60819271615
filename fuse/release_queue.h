// ReleaseQueue: dosfs closes meta's handles in batches. The kernel's RELEASE
// of a handle queues its inode here and is answered at once; the next open or
// create of this process carries what is queued (OpenReq::released), and a
// thread sends what is still queued kDelayMs later as one kReleaseMany. Meta
// applies releases in order, before the open that carries them, so its count
// of this client's open handles (EMFILE) and the removal of an unlinked,
// closed file lag by kDelayMs at most. A request lost on the way (meta
// unreachable) loses its releases: meta keeps those handles until it
// restarts, as it keeps the handles of a dosfs process that died.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace dos::fs {

class Cluster;

class ReleaseQueue {
 public:
  static constexpr int kDelayMs = 10;
  // cluster must outlive the queue.
  explicit ReleaseQueue(Cluster* cluster);
  // Sends what is queued, then stops.
  ~ReleaseQueue();
  ReleaseQueue(const ReleaseQueue&) = delete;
  ReleaseQueue& operator=(const ReleaseQueue&) = delete;

  void Add(uint64_t ino);
  // Takes up to proto::kMaxReleased queued inodes, for a request that
  // carries them to meta.
  std::vector<uint64_t> Take();

 private:
  void Loop();
  void Send(const std::vector<uint64_t>& inos);

  Cluster* const cluster_;
  std::mutex mu_;  // guards queued_, stop_
  std::condition_variable cv_;
  std::vector<uint64_t> queued_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace dos::fs
