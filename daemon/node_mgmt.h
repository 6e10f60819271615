// The node side of cluster administration: kNodeEcho (answers at once, the
// probe of a round-trip measurement) and kPeerPing (meta asks this node to
// measure its round trip to each peer). Registered on the chunk lane.
#pragma once

#include "common/net/server.h"

namespace dos {

void RegisterNodeMgmt(net::Server* server, int lane, zmq::context_t* ctx);

// Best of count round trips to endpoint, microseconds; -1 if none answered.
int64_t PingPeer(zmq::context_t* ctx, const std::string& endpoint, uint32_t count);

}  // namespace dos
