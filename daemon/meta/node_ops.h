// NodeOps: what meta asks of chunk nodes when a file shrinks or goes away.
// An interface so that the namespace logic can be tested without sockets
// (node_client.h is the real one, over ZeroMQ).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dos::meta {

class NodeOps {
 public:
  virtual ~NodeOps() = default;
  // Cuts chunk id to length bytes on each node. Waits (with a deadline) for
  // every node; a node that fails is logged, not reported.
  virtual void Truncate(uint64_t id, uint64_t version, uint64_t length,
                        const std::vector<std::string>& nodes) = 0;
  // Removes chunk id from each node, in the background; returns at once.
  virtual void Delete(uint64_t id, const std::vector<std::string>& nodes) = 0;
};

}  // namespace dos::meta
