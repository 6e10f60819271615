// The chunk service of a node: chunk files on local disk with per-block
// CRC32C, and the replica chain for writes.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/net/server.h"

namespace dos::chunk {

struct ChunkUsage {
  uint64_t capacity = 0;  // bytes of the file system holding the data folder
  uint64_t used = 0;
  uint64_t chunks = 0;    // chunk files held
};

class ChunkService {
 public:
  // data_dir holds the chunk files (created if absent).
  static Result<std::unique_ptr<ChunkService>> Open(zmq::context_t* ctx,
                                                    const std::string& data_dir);
  virtual ~ChunkService() = default;
  // Registers kChunkWrite .. kChunkStat on lane (any number of threads).
  virtual void Register(net::Server* server, int lane) = 0;
  virtual ChunkUsage Usage() = 0;
  // Starts the background scrub at rate bytes/s (0: none); on_bad runs on
  // the scrub thread for each chunk found with a bad block.
  virtual void StartScrub(uint64_t rate, std::function<void(uint64_t id)> on_bad) = 0;
};

}  // namespace dos::chunk
