// The wire glue of cluster administration (ops 50-57): settings, labels,
// cordon/drain/remove, join tokens and the round-trip matrix.
#include <cstdio>
#include <future>

#include "daemon/meta/handler_glue.h"
#include "daemon/meta/meta_impl.h"

namespace dos::meta {

namespace {
using proto::Op;

constexpr int kPeerPingTimeoutMs = 3000;
}  // namespace

void MetaServiceImpl::FillHeartbeatRep(proto::HeartbeatRep* out) {
  out->config_version = config_.version();
  out->config = config_.Values();
  members_.Count(&out->nodes_up, &out->nodes_total);
  UpdatePingTargets();
}

void MetaServiceImpl::UpdatePingTargets() {
  std::vector<std::pair<std::string, std::string>> targets;
  for (const proto::NodeInfo& n : members_.Nodes())
    if (n.state != "DOWN") targets.emplace_back(n.name, n.addr);
  std::lock_guard<std::mutex> lock(ping_mu_);
  ping_targets_ = std::move(targets);
}

// Each node not DOWN at the last heartbeat pings every such node; the calls
// run in parallel, so a node that does not answer costs one timeout, not one
// per node. Runs on the slow lane, so a hung node holds up only net pings
// (at most kPeerPingTimeoutMs), never meta's thread.
Status MetaServiceImpl::NetPing(proto::NetPingRep* out) {
  std::vector<std::string> addrs;
  {
    std::lock_guard<std::mutex> lock(ping_mu_);
    for (const auto& [name, addr] : ping_targets_) {
      out->nodes.push_back(name);
      addrs.push_back(addr);
    }
  }
  std::vector<std::future<Result<proto::PeerPingRep>>> calls;
  for (const std::string& addr : addrs)
    calls.push_back(
        std::async(std::launch::async, [this, addr, addrs]() -> Result<proto::PeerPingRep> {
          net::Client client(ctx_, addr);
          proto::PeerPingRep rep;
          Status s =
              client.Call(Op::kPeerPing, proto::PeerPingReq{addrs, 3}, &rep, kPeerPingTimeoutMs);
          if (!s.ok()) return s;
          return rep;
        }));
  for (size_t i = 0; i < calls.size(); ++i) {
    Result<proto::PeerPingRep> r = calls[i].get();
    proto::NetPingRow row{out->nodes[i], std::vector<int64_t>(addrs.size(), -1)};
    if (r.ok() && r->rtt_us.size() == addrs.size()) row.rtt_us = r->rtt_us;
    out->rows.push_back(std::move(row));
  }
  return Status::Ok();
}

void MetaServiceImpl::RegisterMgmt(net::Server* server, int lane, int slow_lane) {
  using namespace proto;
  On<Empty, ConfigListRep>(server, lane, Op::kConfigList, [this](auto&, auto* r) {
    r->version = config_.version();
    r->entries = config_.List();
    return Status::Ok();
  });
  On<ConfigSetReq, ConfigListRep>(server, lane, Op::kConfigSet, [this](auto& q, auto* r) {
    if (Status s = config_.Set(q.key, q.value); !s.ok()) return s;
    ApplyConfig();
    r->version = config_.version();
    r->entries = config_.List();
    return Status::Ok();
  });
  On<NodeLabelReq, Empty>(server, lane, Op::kNodeLabel,
                          [this](auto& q, auto*) { return members_.SetLabel(q); });
  On<NodeAdminReq, Empty>(server, lane, Op::kNodeAdmin, [this](auto& q, auto*) {
    Status s = members_.SetAdmin(q.name, q.action);
    if (s.ok()) repair_.Kick();
    return s;
  });
  On<NodeNameReq, Empty>(server, lane, Op::kNodeRemove, [this](auto& q, auto*) {
    Status s = members_.Remove(q.name);
    if (s.ok()) repair_.Kick();
    return s;
  });
  On<NodeNameReq, NodeAddRep>(server, lane, Op::kNodeAdd, [this](auto& q, auto* r) {
    Result<std::string> token = members_.NewToken(q.name);
    if (!token.ok()) return token.status();
    r->token = *token;
    return Status::Ok();
  });
  OnFrom<JoinReq, Empty>(server, lane, Op::kJoin, [this](auto& q, auto*, auto& peer) {
    return members_.Join(q, keys_.IsNodeKey(peer));
  });
  On<Empty, NetPingRep>(server, slow_lane, Op::kNetPing,
                        [this](auto&, auto* r) { return NetPing(r); });
}

}  // namespace dos::meta
