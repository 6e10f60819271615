// Scrub: reads every chunk of this node and checks each block's CRC32C, so
// silent corruption of data nobody reads is found (issue 3, integrity).
//
// ScrubAll is one pass, for the kChunkScrub op (dosctl fs scrub). Scrubber
// runs passes forever on its own thread at a low rate (dosd --scrub-rate)
// and hands each bad chunk to a callback (the node tells meta, which drops
// the copy and re-replicates the chunk).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "daemon/chunk/chunk_store.h"

namespace dos::chunk {

struct ScrubResult {
  uint64_t chunks = 0;
  uint64_t bytes = 0;
  std::vector<uint64_t> bad;  // chunks with a bad block or sidecar
};

// Checks every chunk held, at most rate bytes/s (0: unthrottled). Stops early
// (with what it has) when *stop becomes true. on_bad, if set, runs for each
// bad chunk as it is found.
Status ScrubAll(ChunkStore* store, uint64_t rate, const std::atomic<bool>* stop,
                ScrubResult* out, const std::function<void(uint64_t)>& on_bad = {});

class Scrubber {
 public:
  static constexpr int kPauseMs = 60000;  // rest between two passes

  // rate > 0 bytes/s; store must outlive this object.
  Scrubber(ChunkStore* store, uint64_t rate, std::function<void(uint64_t id)> on_bad);
  ~Scrubber();  // stops the thread within about a second
  Scrubber(const Scrubber&) = delete;
  Scrubber& operator=(const Scrubber&) = delete;

 private:
  void Loop();

  ChunkStore* store_;
  uint64_t rate_;
  std::function<void(uint64_t)> on_bad_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;  // for cv_ only
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace dos::chunk
