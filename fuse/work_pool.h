// WorkPool: a fixed set of threads running queued jobs in FIFO order. dosfs
// sends write-behind data with it (see FileState::BeginWrite).
//
// Thread safety: Submit may be called from any thread. The destructor runs
// every job already queued, then joins the threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dos::fs {

class WorkPool {
 public:
  explicit WorkPool(int threads);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Queues job; it must not throw.
  void Submit(std::function<void()> job);

 private:
  void Run();

  std::mutex mu_;  // guards jobs_, stop_
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace dos::fs
