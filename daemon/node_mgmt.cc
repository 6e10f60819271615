#include "daemon/node_mgmt.h"

#include <algorithm>
#include <chrono>
#include <future>

#include "common/net/client.h"

namespace dos {

namespace {
constexpr int kEchoTimeoutMs = 1000;
}

int64_t PingPeer(zmq::context_t* ctx, const std::string& endpoint, uint32_t count) {
  net::Client client(ctx, endpoint);
  int64_t best = -1;
  for (uint32_t i = 0; i < count; ++i) {
    auto start = std::chrono::steady_clock::now();
    proto::Empty rep;
    // A peer silent for one echo timeout is reported as such (-1): trying
    // again would cost count timeouts, past meta's wait for this reply.
    if (!client.Call(proto::Op::kNodeEcho, proto::Empty{}, &rep, kEchoTimeoutMs).ok()) break;
    int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
    best = best < 0 ? us : std::min(best, us);
  }
  return best;
}

void RegisterNodeMgmt(net::Server* server, int lane, zmq::context_t* ctx) {
  server->Register(
      proto::Op::kNodeEcho, lane,
      net::Typed<proto::Empty, proto::Empty>(
          [](const auto&, auto*, net::Message&, net::Message*) { return Status::Ok(); }));
  server->Register(
      proto::Op::kPeerPing, lane,
      net::Typed<proto::PeerPingReq, proto::PeerPingRep>([ctx](const proto::PeerPingReq& req,
                                                               proto::PeerPingRep* rep,
                                                               net::Message&, net::Message*) {
        // In parallel: a silent peer costs one echo timeout per try, not one per peer.
        std::vector<std::future<int64_t>> calls;
        for (const std::string& peer : req.peers)
          calls.push_back(std::async(std::launch::async, PingPeer, ctx, peer, req.count));
        for (auto& c : calls) rep->rtt_us.push_back(c.get());
        return Status::Ok();
      }));
}

}  // namespace dos
