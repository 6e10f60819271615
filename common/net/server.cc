#include "common/net/server.h"

#include "common/net/client.h"
#include "common/net/curve.h"

#include <atomic>
#include <chrono>
#include <future>

namespace dos::net {

namespace {
std::atomic<uint64_t> g_server_seq{0};
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
  inproc_ = "inproc://dos-server-" + std::to_string(g_server_seq.fetch_add(1));
  router_.set(zmq::sockopt::linger, 0);
  router_.set(zmq::sockopt::sndhwm, 0);
  router_.set(zmq::sockopt::rcvhwm, 0);
  router_.set(zmq::sockopt::maxmsgsize, kMaxFrame);
  ApplyServerSecurity(router_);
}

Server::~Server() { Stop(); }

void Server::AddLane(int lane, int threads) {
  auto l = std::make_unique<Lane>();
  l->threads = threads;
  lanes_[lane] = std::move(l);
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
  started_ = true;
  // The reply socket must be bound before workers connect to it.
  std::promise<void> ready;
  auto f = ready.get_future();
  io_ = std::thread([this, &ready] {
    zmq::socket_t replies(*ctx_, zmq::socket_type::pull);
    replies.set(zmq::sockopt::rcvhwm, 0);
    replies.bind(inproc_);
    replies_ = &replies;
    ready.set_value();
    IoLoop();
    replies_ = nullptr;
  });
  f.wait();
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
    zmq::socket_t push(*ctx_, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 1000);
    push.connect(inproc_);
    push.send(zmq::str_buffer("stop"), zmq::send_flags::none);
    io_.join();
  }
  router_.close();
}

void Server::IoLoop() {
  zmq::pollitem_t items[] = {{static_cast<void*>(router_), 0, ZMQ_POLLIN, 0},
                             {static_cast<void*>(*replies_), 0, ZMQ_POLLIN, 0}};
  std::vector<zmq::message_t> frames;
  for (;;) {
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(-1));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      return;
    }
    if (items[1].revents & ZMQ_POLLIN) {
      frames.clear();
      (void)zmq::recv_multipart(*replies_, std::back_inserter(frames));
      if (frames.size() == 1) return;  // stop
      ForwardFrames(router_, frames);
    }
    if (items[0].revents & ZMQ_POLLIN) {
      frames.clear();
      try {
        (void)zmq::recv_multipart(router_, std::back_inserter(frames));
      } catch (const zmq::error_t&) {
        continue;
      }
      Dispatch(frames);
    }
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
    SendFrames(router_, job.routing, rep);
    return;
  }
  // A peer's deadline is a hint, never a licence to hold a worker for days.
  if (job.msg.env.timeout_ms == 0 || job.msg.env.timeout_ms > proto::kMaxTimeoutMs)
    job.msg.env.timeout_ms = std::min<uint32_t>(proto::kMaxTimeoutMs, kDefaultTimeoutMs);
  Lane* lane = lanes_.at(it->second.lane).get();
  {
    std::lock_guard<std::mutex> lock(lane->mu);
    lane->jobs.push_back(std::move(job));
  }
  lane->cv.notify_one();
}

void Server::Worker(Lane* lane) {
  zmq::socket_t push(*ctx_, zmq::socket_type::push);
  push.set(zmq::sockopt::sndhwm, 0);
  push.set(zmq::sockopt::linger, 1000);
  push.connect(inproc_);
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(lane->mu);
      lane->cv.wait(lock, [&] { return lane->stop || !lane->jobs.empty(); });
      if (lane->stop) return;
      job = std::move(lane->jobs.front());
      lane->jobs.pop_front();
    }
    Message rep;
    rep.env.op = job.msg.env.op;
    rep.env.id = job.msg.env.id;
    Status s;
    auto start = std::chrono::steady_clock::now();
    try {
      s = routes_.at(job.msg.env.op).handler(job.msg, &rep);
    } catch (const std::exception& e) {
      s = Status::Err(EIO, std::string("handler failed: ") + e.what());
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
    SendFrames(push, job.routing, rep);
  }
}

}  // namespace dos::net
