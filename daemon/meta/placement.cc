#include "daemon/meta/placement.h"

#include <algorithm>

namespace dos::meta {

std::vector<std::string> Place(std::vector<Candidate> nodes, uint32_t r, uint64_t chunk_size,
                               std::mt19937_64& rng) {
  std::erase_if(nodes, [&](const Candidate& c) { return c.free_bytes < chunk_size; });
  std::shuffle(nodes.begin(), nodes.end(), rng);
  std::stable_sort(nodes.begin(), nodes.end(),
                   [](const Candidate& a, const Candidate& b) { return a.replicas < b.replicas; });
  std::vector<std::string> picked;
  for (const Candidate& c : nodes) {
    if (picked.size() == r) break;
    if (std::find(picked.begin(), picked.end(), c.name) == picked.end()) picked.push_back(c.name);
  }
  return picked;
}

}  // namespace dos::meta
