// Which role each op needs, and the check a Server runs on every request.
//
//   user  : the filesystem (namespace, layout, locks, chunk reads and
//           writes) and read-only listings (node ls, ping)
//   admin : changes to the cluster (keys; later nodes and config)
//   node  : what dosd processes tell each other (heartbeat, key sync,
//           chunk truncate/delete/replicate ordered by meta)
//
// An admin or node key may also run every user op; the cluster server key
// may run everything. An op missing from the table needs admin or node,
// so a new op is closed until someone decides otherwise.
#pragma once

#include <cstdint>
#include <string>

#include "common/net/server.h"
#include "common/net/zap.h"
#include "common/status.h"

namespace dos::auth {

enum class Need : uint8_t { kUser, kAdmin, kNode, kAdminOrNode };

Need RequiredRole(uint32_t op);
// A short name for messages: "key add", "heartbeat", or "op 57".
std::string OpName(uint32_t op);
// OK, or EACCES naming the op, the role it needs and the role the key has.
Status Authorize(net::Role have, uint32_t op);
// The Server::Authorizer of a key ring: looks the peer's key up each time.
net::Server::Authorizer MakeAuthorizer(const net::KeyRing* ring);

}  // namespace dos::auth
