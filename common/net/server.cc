#include "common/net/server.h"

#include "common/net/client.h"
#include "common/net/curve.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <system_error>

namespace dos::net {

namespace {
constexpr int64_t kMaxFrame = static_cast<int64_t>(proto::kMaxData + proto::kMaxBody);

void SendFrames(zmq::socket_t& sock, zmq::message_t& routing, Message& msg) {
  try {
    sock.send(routing, zmq::send_flags::sndmore);
    SendMessage(sock, msg, false);
  } catch (const zmq::error_t&) {
    // Peer gone: the reply has nowhere to go.
  }
}
}  // namespace

Server::Server(zmq::context_t* ctx) : ctx_(ctx), router_(*ctx, zmq::socket_type::router) {
  router_.set(zmq::sockopt::linger, 0);
  router_.set(zmq::sockopt::sndhwm, 0);
  router_.set(zmq::sockopt::rcvhwm, 0);
  router_.set(zmq::sockopt::maxmsgsize, kMaxFrame);
  ApplyServerSecurity(router_);
}

Server::~Server() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void Server::AddLane(int lane, int threads) {
  auto l = std::make_unique<Lane>();
  l->threads = threads;
  lanes_[lane] = std::move(l);
}

void Server::SetIdle(int lane, int after_ms, std::function<void()> fn) {
  Lane* l = lanes_.at(lane).get();
  l->idle = std::move(fn);
  l->idle_after = std::chrono::milliseconds(after_ms);
}

void Server::Register(proto::Op op, int lane, Handler h) {
  routes_[static_cast<uint32_t>(op)] = Route{lane, std::move(h)};
}

Status Server::Bind(const std::string& endpoint) {
  try {
    router_.bind(endpoint);
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::Err(e.num(), "bind " + endpoint + ": " + e.what());
  }
  return Status::Ok();
}

void Server::Start() {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  started_ = true;
  io_ = std::thread([this] { IoLoop(); });
  for (auto& [id, lane] : lanes_)
    for (int i = 0; i < lane->threads; ++i)
      lane->workers.emplace_back([this, l = lane.get()] { Worker(l); });
}

void Server::Stop() {
  if (!started_) return;
  started_ = false;
  for (auto& [id, lane] : lanes_) {
    {
      std::lock_guard<std::mutex> lock(lane->mu);
      lane->stop = true;
    }
    lane->cv.notify_all();
    for (auto& t : lane->workers) t.join();
    lane->workers.clear();
  }
  {
    std::lock_guard<std::mutex> lock(router_mu_);
    stop_ = true;
  }
  (void)eventfd_write(wake_fd_, 1);
  io_.join();
  router_.close();
}

void Server::IoLoop() {
  int router_fd;
  {
    std::lock_guard<std::mutex> lock(router_mu_);
    router_fd = router_.get(zmq::sockopt::fd);
  }
  pollfd fds[] = {{router_fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(router_mu_);
      if (stop_) return;
      DrainLocked();
    }
    if (poll(fds, 2, -1) < 0) continue;  // EINTR: look again
    if (fds[1].revents & POLLIN) {
      eventfd_t v;
      (void)eventfd_read(wake_fd_, &v);
    }
  }
}

void Server::DrainLocked() {
  std::vector<zmq::message_t> frames;
  for (;;) {
    try {
      if (!(router_.get(zmq::sockopt::events) & ZMQ_POLLIN)) return;
      frames.clear();
      if (!zmq::recv_multipart(router_, std::back_inserter(frames), zmq::recv_flags::dontwait))
        return;
    } catch (const zmq::error_t&) {
      return;  // EINTR or a socket in trouble: poll again
    }
    Dispatch(frames);
  }
}

// The ZAP user id (the peer's public key) of a received frame; "" without.
static std::string PeerKey(zmq::message_t& frame) {
  const char* v = zmq_msg_gets(frame.handle(), "User-Id");
  return v ? std::string(v) : std::string();
}

void Server::Dispatch(std::vector<zmq::message_t>& frames) {
  if (frames.empty()) return;
  Job job;
  std::string key = frames.size() > 1 ? PeerKey(frames[1]) : "";
  job.routing = std::move(frames[0]);
  Status s = frames.size() < 2 ? Status::Err(EPROTO, "no envelope")
                               : ParseMessage(frames, 1, &job.msg);
  auto it = routes_.end();
  if (s.ok()) {
    it = routes_.find(job.msg.env.op);
    if (it == routes_.end())
      s = Status::Err(EPROTO, "unknown op " + std::to_string(job.msg.env.op));
  }
  if (s.ok() && authorize_) s = authorize_(key, job.msg.env.op);
  job.msg.peer = std::move(key);
  if (!s.ok()) {
    Message rep;
    rep.env.op = job.msg.env.op;
    rep.env.id = job.msg.env.id;
    rep.env.err = s.err();
    rep.env.msg = s.message();
    SendFrames(router_, job.routing, rep);  // router_mu_ is held
    return;
  }
  // A peer's deadline is a hint, never a licence to hold a worker for days.
  if (job.msg.env.timeout_ms == 0 || job.msg.env.timeout_ms > proto::kMaxTimeoutMs)
    job.msg.env.timeout_ms = std::min<uint32_t>(proto::kMaxTimeoutMs, kDefaultTimeoutMs);
  Lane* lane = lanes_.at(it->second.lane).get();
  job.queued = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(lane->mu);
    lane->jobs.push_back(std::move(job));
  }
  lane->cv.notify_one();
}

void Server::Reply(zmq::message_t& routing, Message& rep) {
  bool waiting = false;
  {
    std::lock_guard<std::mutex> lock(router_mu_);
    SendFrames(router_, routing, rep);
    try {
      waiting = router_.get(zmq::sockopt::events) & ZMQ_POLLIN;
    } catch (const zmq::error_t&) {
      waiting = true;  // let the I/O thread find out
    }
  }
  if (waiting) (void)eventfd_write(wake_fd_, 1);
}

void Server::Worker(Lane* lane) {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(lane->mu);
      auto woken = [&] { return lane->stop || !lane->jobs.empty(); };
      while (!woken()) {
        if (!lane->idle || !lane->idle_due) {
          lane->cv.wait(lock, woken);
        } else if (!lane->cv.wait_for(lock, lane->idle_after, woken)) {
          lane->idle_due = false;  // once per quiet stretch, on one thread
          lock.unlock();
          try {
            lane->idle();
          } catch (const std::exception&) {
            // The idle work's own business; the lane goes on.
          }
          lock.lock();
        }
      }
      if (lane->stop) return;
      job = std::move(lane->jobs.front());
      lane->jobs.pop_front();
      lane->idle_due = true;
    }
    Message rep;
    rep.env.op = job.msg.env.op;
    rep.env.id = job.msg.env.id;
    Status s;
    auto start = std::chrono::steady_clock::now();
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(start - job.queued).count();
    if (waited >= static_cast<int64_t>(job.msg.env.timeout_ms)) {
      s = Status::Err(ETIMEDOUT, "request waited " + std::to_string(waited) +
                                     " ms in the queue, past its timeout of " +
                                     std::to_string(job.msg.env.timeout_ms) + " ms; not run");
    } else {
      try {
        s = routes_.at(job.msg.env.op).handler(job.msg, &rep);
      } catch (const std::exception& e) {
        s = Status::Err(EIO, std::string("handler failed: ") + e.what());
      }
    }
    if (!s.ok()) {
      rep.body.clear();
      rep.data.reset();
      rep.env.err = s.err();
      rep.env.msg = s.message();
    }
    if (observer_)
      observer_(job.msg.env.op, job.msg.body.size() + job.msg.DataView().size(),
                rep.body.size() + rep.DataView().size(),
                std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count(),
                s.err());
    Reply(job.routing, rep);
  }
}

}  // namespace dos::net
