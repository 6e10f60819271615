#include "daemon/chunk/scrub.h"

#include <chrono>

namespace dos::chunk {

namespace {

using Clock = std::chrono::steady_clock;

// Sleeps (in short steps, so stop is seen) until bytes at rate would have
// taken since start.
void Throttle(Clock::time_point start, uint64_t bytes, uint64_t rate,
              const std::atomic<bool>* stop) {
  if (rate == 0) return;
  auto due = start + std::chrono::milliseconds(bytes * 1000 / rate);
  while (!(stop && stop->load()) && Clock::now() < due)
    std::this_thread::sleep_for(
        std::min<Clock::duration>(due - Clock::now(), std::chrono::milliseconds(200)));
}

}  // namespace

Status ScrubAll(ChunkStore* store, uint64_t rate, const std::atomic<bool>* stop,
                ScrubResult* out, const std::function<void(uint64_t)>& on_bad) {
  const Clock::time_point start = Clock::now();
  uint64_t after = 0;
  for (;;) {
    Result<std::vector<HeldChunk>> page = store->List(after, 4096);
    if (!page.ok()) return page.status();
    if (page->empty()) return Status::Ok();
    for (const HeldChunk& c : *page) {
      if (stop && stop->load()) return Status::Ok();
      after = c.id;
      Status s = store->Verify(c.id, &out->bytes);
      if (s.err() == ENOENT) continue;  // deleted meanwhile
      out->chunks++;
      if (s.err() == EIO) {
        out->bad.push_back(c.id);
        if (on_bad) on_bad(c.id);
      } else if (!s.ok()) {
        return s;
      }
      Throttle(start, out->bytes, rate, stop);
    }
  }
}

Scrubber::Scrubber(ChunkStore* store, uint64_t rate, std::function<void(uint64_t)> on_bad)
    : store_(store), rate_(rate), on_bad_(std::move(on_bad)) {
  thread_ = std::thread([this] { Loop(); });
}

Scrubber::~Scrubber() {
  {
    std::lock_guard lock(mu_);  // so the wait in Loop() cannot miss it
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scrubber::Loop() {
  while (!stop_) {
    ScrubResult r;
    (void)ScrubAll(store_, rate_, &stop_, &r, on_bad_);  // errors: try again next pass
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(kPauseMs), [this] { return stop_.load(); });
  }
}

}  // namespace dos::chunk
