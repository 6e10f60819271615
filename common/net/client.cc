#include "common/net/client.h"

#include <chrono>

namespace dos::net {

namespace {
std::atomic<uint64_t> g_client_seq{0};
}

Client::Client(zmq::context_t* ctx, std::string endpoint)
    : ctx_(ctx), endpoint_(std::move(endpoint)), push_(*ctx, zmq::socket_type::push) {
  inproc_ = "inproc://dos-client-" + std::to_string(g_client_seq.fetch_add(1));
  push_.set(zmq::sockopt::linger, 0);
  push_.set(zmq::sockopt::sndhwm, 0);
  std::promise<void> ready;
  auto ready_f = ready.get_future();
  thread_ = std::thread([this, &ready] {
    // Socket creation fails when the process runs out of sockets or files:
    // the client is then broken (every call fails) instead of the process.
    std::optional<zmq::socket_t> pull, dealer;
    try {
      pull.emplace(*ctx_, zmq::socket_type::pull);
      pull->set(zmq::sockopt::rcvhwm, 0);
      pull->bind(inproc_);
      dealer.emplace(*ctx_, zmq::socket_type::dealer);
    } catch (const zmq::error_t& e) {
      broken_ = e.num();
      ready.set_value();
      return;
    }
    pull_ = &*pull;
    ready.set_value();
    Loop(*dealer);
    pull_ = nullptr;
  });
  ready_f.wait();
  if (broken_ == 0) push_.connect(inproc_);
}

Client::~Client() {
  if (broken_ == 0) {
    std::lock_guard<std::mutex> lock(push_mu_);
    push_.send(zmq::str_buffer("stop"), zmq::send_flags::none);
  }
  thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, p] : pending_) {
    Message m;
    m.env.err = EIO;
    m.env.msg = "client closed";
    p->promise.set_value(std::move(m));
  }
}

void Client::Loop(zmq::socket_t& dealer) {
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::sndhwm, 0);
  dealer.set(zmq::sockopt::rcvhwm, 0);
  dealer.set(zmq::sockopt::reconnect_ivl, 100);
  dealer.set(zmq::sockopt::reconnect_ivl_max, 1000);
  dealer.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::kMaxData + proto::kMaxBody));
  try {
    dealer.connect(endpoint_);
  } catch (const zmq::error_t&) {
    // A bad endpoint: every call times out; the caller's message names it.
  }
  zmq::pollitem_t items[] = {{static_cast<void*>(*pull_), 0, ZMQ_POLLIN, 0},
                             {static_cast<void*>(dealer), 0, ZMQ_POLLIN, 0}};
  std::vector<zmq::message_t> frames;
  for (;;) {
    zmq::poll(items, 2, std::chrono::milliseconds(-1));
    if (items[0].revents & ZMQ_POLLIN) {
      frames.clear();
      (void)zmq::recv_multipart(*pull_, std::back_inserter(frames));
      if (frames.size() == 1) return;  // stop
      ForwardFrames(dealer, frames);
    }
    if (items[1].revents & ZMQ_POLLIN) {
      frames.clear();
      (void)zmq::recv_multipart(dealer, std::back_inserter(frames));
      Message m;
      if (!ParseMessage(frames, 0, &m).ok()) continue;  // nothing to match it to
      std::shared_ptr<Pending> p;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = pending_.find(m.env.id);
        if (it == pending_.end()) continue;  // caller gave up
        p = it->second;
        pending_.erase(it);
      }
      p->promise.set_value(std::move(m));
    }
  }
}

Result<Message> Client::Call(proto::Op op, std::string body, std::optional<zmq::message_t> data,
                             int timeout_ms) {
  if (broken_ != 0)
    return Status::Err(EIO, "no connection to " + endpoint_ + ": " + ErrnoName(broken_));
  Message req;
  req.env.op = static_cast<uint32_t>(op);
  req.env.id = next_id_.fetch_add(1);
  req.env.timeout_ms = static_cast<uint32_t>(timeout_ms);
  req.body = std::move(body);
  req.data = std::move(data);
  auto p = std::make_shared<Pending>();
  auto fut = p->promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_[req.env.id] = p;
  }
  {
    std::lock_guard<std::mutex> lock(push_mu_);
    SendMessage(push_, req, false);
  }
  if (fut.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.erase(req.env.id) == 1)
      return Status::Err(ETIMEDOUT, "no reply from " + endpoint_ + " in " +
                                        std::to_string(timeout_ms) + " ms");
    // The reply arrived while the lock was being taken: use it.
  }
  Message rep = fut.get();
  if (rep.env.err != 0) return Status::Err(rep.env.err, rep.env.msg);
  return rep;
}

}  // namespace dos::net
