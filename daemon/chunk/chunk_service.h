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

// The lanes of the chunk ops. A write from a client (kChunkWrite) waits on
// its forward (kChunkForward), which waits on the last hop
// (kChunkForwardLast), which waits on nothing. On one lane, two nodes that
// forward to each other could fill each other's threads with writes that
// wait, and deadlock until the forwards time out; on a lane of each kind,
// a waiting write never holds a thread that the write it waits on needs
// (for chains of up to 3 replicas; longer chains put forwards after
// forwards on one lane again). Every other chunk op runs on client.
struct ChunkLanes {
  int client;
  int forward;
  int last;
};

class ChunkService {
 public:
  // data_dir holds the chunk files (created if absent).
  static Result<std::unique_ptr<ChunkService>> Open(zmq::context_t* ctx,
                                                    const std::string& data_dir);
  virtual ~ChunkService() = default;
  // Registers the chunk ops on lanes (see ChunkLanes).
  virtual void Register(net::Server* server, const ChunkLanes& lanes) = 0;
  virtual ChunkUsage Usage() = 0;
  // Starts the background scrub at rate bytes/s (0: none); on_bad runs on
  // the scrub thread for each chunk found with a bad block.
  virtual void StartScrub(uint64_t rate, std::function<void(uint64_t id)> on_bad) = 0;
};

}  // namespace dos::chunk
