#include "daemon/meta/meta_service.h"

namespace dos::meta {
// Placeholder until the meta service lands.
Result<std::unique_ptr<MetaService>> MetaService::Open(zmq::context_t*, const MetaOptions&) {
  return Status::Err(ENOSYS, "meta service not built yet");
}
}  // namespace dos::meta
