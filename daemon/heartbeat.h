// The heartbeat a node sends meta every interval: who it is, where it
// listens and how full its disk is. A background thread; Stop() (or the
// destructor) ends it within one call timeout.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/net/client.h"
#include "common/proto/messages.h"

namespace dos {

class Heartbeat {
 public:
  // fill() supplies the request each time (name, addr, usage...); on_reply
  // gets meta's reply and the round trip in microseconds; after() runs after
  // each heartbeat meta accepted (the key sync). All are called on the
  // heartbeat thread.
  using OnReply = std::function<void(const proto::HeartbeatRep&, int64_t rtt_us)>;
  Heartbeat(zmq::context_t* ctx, std::string meta, int interval_ms,
            std::function<proto::HeartbeatReq()> fill, OnReply on_reply = {},
            std::function<void(net::Client&)> after = {});
  ~Heartbeat();
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  void Start();
  void Stop();

 private:
  void Loop();
  void SendOne();

  net::Client client_;
  int interval_ms_;
  std::function<proto::HeartbeatReq()> fill_;
  OnReply on_reply_;
  std::function<void(net::Client&)> after_;
  std::mutex mu_;  // guards stop_
  std::condition_variable cv_;
  bool stop_ = false;
  bool failing_ = false;  // last heartbeat failed (log only on a change)
  bool seen_ = false;     // a heartbeat has succeeded once
  std::thread thread_;
};

}  // namespace dos
