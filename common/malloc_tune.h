// glibc malloc settings for the processes that move bulk data (dosd, dosfs).
//
// By default glibc serves an allocation of 128 KiB or more with its own
// mmap(2) and gives it back with munmap(2) when freed, and returns free
// memory at the top of a heap to the kernel past 128 KiB. A 1 MiB write
// then costs every buffer it passes through (the FUSE copy, the sealed
// frame, the receive buffer on each node) 256 fresh pages: a page fault and
// a zeroed page each. `perf record -a` of a 1 GiB `dd` at R=2 put 11.9% of
// all samples under page faults, mostly in the nodes' socket reads into new
// receive buffers and dosfs's copies. With buffers up to kMmapThreshold
// taken from the heap and up to kTrimThreshold of free heap kept, freed
// buffers are reused warm; the processes keep 10-15 MiB more resident
// (measured after a 1 GiB write; docs/PERFORMANCE.md).
#pragma once

#include <cstddef>

namespace dos {

inline constexpr size_t kMmapThreshold = 8 << 20;   // above a 1 MiB write and its sealed copy
inline constexpr size_t kTrimThreshold = 64 << 20;  // free heap kept per arena

// Call once at the start of main, before any thread starts.
void TuneMallocForBulkData();

}  // namespace dos
