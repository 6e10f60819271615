// Registration glue shared by meta's handler files (handlers*.cc).
#pragma once

#include <cstdio>
#include <string>

#include "common/net/server.h"
#include "common/proto/messages.h"
#include "common/status.h"

namespace dos::meta {

// Registers fn(const Req&, Rep*, const std::string& peer) -> Status for op;
// peer is the sender's public key (net::Message::peer). Errors that point to
// a broken meta (EIO) are logged once here.
template <typename Req, typename Rep, typename Fn>
void OnFrom(net::Server* server, int lane, proto::Op op, Fn fn) {
  auto handler = [op, fn](const Req& req, Rep* rep, net::Message& in, net::Message*) -> Status {
    Status s = fn(req, rep, in.peer);
    if (s.err() == EIO)
      fprintf(stderr, "meta: op %u: %s\n", static_cast<unsigned>(op), s.ToString().c_str());
    return s;
  };
  server->Register(op, lane, net::Typed<Req, Rep>(handler));
}

// Registers fn(const Req&, Rep*) -> Status for op (OnFrom without the peer).
template <typename Req, typename Rep, typename Fn>
void On(net::Server* server, int lane, proto::Op op, Fn fn) {
  OnFrom<Req, Rep>(server, lane, op,
                   [fn](const Req& req, Rep* rep, const std::string&) { return fn(req, rep); });
}

}  // namespace dos::meta
