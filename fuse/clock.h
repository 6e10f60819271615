// The monotonic clock in nanoseconds, for dosfs's short-lived caches.
#pragma once

#include <chrono>
#include <cstdint>

namespace dos::fs {

inline int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace dos::fs
