#include "daemon/chunk/chunk_service.h"

namespace dos::chunk {
// Placeholder until the chunk service lands.
Result<std::unique_ptr<ChunkService>> ChunkService::Open(zmq::context_t*, const std::string&) {
  return Status::Err(ENOSYS, "chunk service not built yet");
}
}  // namespace dos::chunk
