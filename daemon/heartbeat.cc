#include "daemon/heartbeat.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace dos {

Heartbeat::Heartbeat(zmq::context_t* ctx, std::string meta, int interval_ms,
                     std::function<proto::HeartbeatReq()> fill, OnReply on_reply,
                     std::function<void(net::Client&)> after)
    : client_(ctx, std::move(meta)),
      interval_ms_(interval_ms),
      fill_(std::move(fill)),
      on_reply_(std::move(on_reply)),
      after_(std::move(after)) {}

Heartbeat::~Heartbeat() { Stop(); }

void Heartbeat::Start() { thread_ = std::thread([this] { Loop(); }); }

void Heartbeat::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Heartbeat::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    SendOne();
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stop_; });
  }
}

// Logs only when the state changes, so a meta that is down does not flood
// the log.
void Heartbeat::SendOne() {
  proto::HeartbeatReq req = fill_();
  proto::HeartbeatRep rep;
  int timeout = std::clamp(interval_ms_, 500, 5000);
  auto start = std::chrono::steady_clock::now();
  Status s = client_.Call(proto::Op::kHeartbeat, req, &rep, timeout);
  auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::steady_clock::now() - start)
                 .count();
  if (s.ok() && on_reply_) on_reply_(rep, rtt);
  if (!s.ok() && !failing_) {
    spdlog::warn("heartbeat to meta {} failed: {}", client_.endpoint(), s.ToString());
  } else if (s.ok() && (failing_ || !seen_)) {
    spdlog::info("heartbeat to meta {} ok", client_.endpoint());
  }
  failing_ = !s.ok();
  seen_ = seen_ || s.ok();
  if (s.ok() && after_) after_(client_);
}

}  // namespace dos
