// Placement: which nodes get the replicas of a new chunk. A pure function,
// so its spreading can be tested alone.
#pragma once

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace dos::meta {

struct Candidate {
  std::string name;
  uint64_t free_bytes = 0;
  uint64_t replicas = 0;  // chunk replicas the node holds now
  std::string zone;       // failure domain (label "zone"); "" is one zone of its own
};

// Picks up to r distinct nodes: fewest replicas first, ties broken at random
// with rng, skipping nodes with less than chunk_size bytes free. Replicas
// spread over distinct zones when they can: a node of a zone not yet used
// (nor in used_zones, the zones of replicas that exist already) goes before
// any node of a used zone. Fewer than r (maybe none) when not enough nodes
// qualify.
std::vector<std::string> Place(std::vector<Candidate> nodes, uint32_t r, uint64_t chunk_size,
                               std::mt19937_64& rng, std::set<std::string> used_zones = {});

}  // namespace dos::meta
