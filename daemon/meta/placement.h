// Placement: which nodes get the replicas of a new chunk. A pure function,
// so its spreading can be tested alone.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace dos::meta {

struct Candidate {
  std::string name;
  uint64_t free_bytes = 0;
  uint64_t replicas = 0;  // chunk replicas the node holds now
};

// Picks up to r distinct nodes: fewest replicas first, ties broken at random
// with rng, skipping nodes with less than chunk_size bytes free. Fewer than r
// (maybe none) when not enough nodes qualify.
std::vector<std::string> Place(std::vector<Candidate> nodes, uint32_t r, uint64_t chunk_size,
                               std::mt19937_64& rng);

}  // namespace dos::meta
