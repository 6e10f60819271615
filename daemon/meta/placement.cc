#include "daemon/meta/placement.h"

#include <algorithm>

namespace dos::meta {

std::vector<std::string> Place(std::vector<Candidate> nodes, uint32_t r, uint64_t chunk_size,
                               std::mt19937_64& rng, std::set<std::string> used_zones) {
  std::erase_if(nodes, [&](const Candidate& c) { return c.free_bytes < chunk_size; });
  std::shuffle(nodes.begin(), nodes.end(), rng);
  std::stable_sort(nodes.begin(), nodes.end(),
                   [](const Candidate& a, const Candidate& b) { return a.replicas < b.replicas; });
  std::vector<std::string> picked;
  auto take = [&](const Candidate& c) {
    if (picked.size() == r) return;
    if (std::find(picked.begin(), picked.end(), c.name) != picked.end()) return;
    picked.push_back(c.name);
    used_zones.insert(c.zone);
  };
  // First one node per new zone, then whatever is left, in the same order.
  for (const Candidate& c : nodes)
    if (!used_zones.count(c.zone)) take(c);
  for (const Candidate& c : nodes) take(c);
  return picked;
}

}  // namespace dos::meta
