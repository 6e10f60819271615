#include "common/net/client.h"

#include <chrono>
#include <cstring>

#include "common/net/curve.h"

namespace dos::net {

namespace {
std::atomic<uint64_t> g_client_seq{0};
constexpr int kMonitorEvents = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

// The message of a failed handshake (event, value as the monitor gives them).
std::string HandshakeError(const std::string& endpoint, uint16_t event, uint32_t value) {
  std::string head = "authentication failed: " + endpoint + " ";
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
    return head + "refused this client's key (ZAP status " + std::to_string(value) +
           "): the key is not registered with meta, or it was revoked";
  if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
    return head + "speaks another security mechanism: one side uses CURVE and the other "
                  "plaintext (check [security] curve, key and server_public_key in dos.conf)";
  return head + "did not complete the CURVE handshake (wrong server_public_key, or one side "
                "runs without CURVE: check [security] in dos.conf)";
}
}  // namespace

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
    std::optional<zmq::socket_t> pull, dealer, monitor;
    try {
      pull.emplace(*ctx_, zmq::socket_type::pull);
      pull->set(zmq::sockopt::rcvhwm, 0);
      pull->bind(inproc_);
      dealer.emplace(*ctx_, zmq::socket_type::dealer);
      ApplyClientSecurity(*dealer);
      std::string mon = inproc_ + "-monitor";
      if (zmq_socket_monitor(dealer->handle(), mon.c_str(), kMonitorEvents) != 0)
        throw zmq::error_t();
      monitor.emplace(*ctx_, zmq::socket_type::pair);
      monitor->set(zmq::sockopt::linger, 0);
      monitor->connect(mon);
    } catch (const zmq::error_t& e) {
      broken_ = e.num();
      ready.set_value();
      return;
    }
    pull_ = &*pull;
    ready.set_value();
    Loop(*dealer, *monitor);
    zmq_socket_monitor(dealer->handle(), nullptr, 0);
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
  FailPending(EIO, "client closed");
}

void Client::FailPending(int err, const std::string& msg) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, p] : pending_) {
    Message m;
    m.env.err = err;
    m.env.msg = msg;
    p->promise.set_value(std::move(m));
  }
  pending_.clear();
}

// Handshake events of the dealer: a refused key fails the calls in flight
// (they would only time out) and makes the next send reconnect, since
// libzmq gives up on a connection whose handshake failed.
void Client::OnMonitorEvent(zmq::socket_t& monitor) {
  std::vector<zmq::message_t> frames;
  (void)zmq::recv_multipart(monitor, std::back_inserter(frames));
  if (frames.empty() || frames[0].size() < 6) return;
  uint16_t event;
  uint32_t value;
  std::memcpy(&event, frames[0].data(), 2);
  std::memcpy(&value, static_cast<const char*>(frames[0].data()) + 2, 4);
  if (event == ZMQ_EVENT_CONNECTED) {
    connected_ = true;
  } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
    connected_ = false;
    std::lock_guard<std::mutex> lock(mu_);
    hint_.clear();
  } else if (event == ZMQ_EVENT_DISCONNECTED) {
    if (!connected_) return;
    connected_ = false;  // closed during the handshake: a wrong server key looks so
    std::lock_guard<std::mutex> lock(mu_);
    hint_ = HandshakeError(endpoint_, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, 0);
  } else if (event & (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                      ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)) {
    connected_ = false;
    reconnect_ = true;
    std::string msg = HandshakeError(endpoint_, event, value);
    {
      std::lock_guard<std::mutex> lock(mu_);
      hint_ = msg;
    }
    FailPending(EACCES, msg);
  }
}

void Client::Reconnect(zmq::socket_t& dealer) {
  reconnect_ = false;
  try {
    dealer.disconnect(endpoint_);
  } catch (const zmq::error_t&) {
    // Already gone: libzmq dropped it after the failed handshake.
  }
  try {
    dealer.connect(endpoint_);
  } catch (const zmq::error_t&) {
  }
}

void Client::Loop(zmq::socket_t& dealer, zmq::socket_t& monitor) {
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
                             {static_cast<void*>(dealer), 0, ZMQ_POLLIN, 0},
                             {static_cast<void*>(monitor), 0, ZMQ_POLLIN, 0}};
  std::vector<zmq::message_t> frames;
  for (;;) {
    zmq::poll(items, 3, std::chrono::milliseconds(-1));
    if (items[2].revents & ZMQ_POLLIN) OnMonitorEvent(monitor);
    if (items[0].revents & ZMQ_POLLIN) {
      frames.clear();
      (void)zmq::recv_multipart(*pull_, std::back_inserter(frames));
      if (frames.size() == 1) return;  // stop
      if (reconnect_) Reconnect(dealer);
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

Client::Ticket Client::Send(proto::Op op, std::string body, std::optional<zmq::message_t> data,
                           int timeout_ms) {
  Ticket t;
  t.timeout_ms_ = timeout_ms;
  t.deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  if (broken_ != 0) {
    t.sent_ = Status::Err(EIO, "no connection to " + endpoint_ + ": " + ErrnoName(broken_));
    return t;
  }
  Message req;
  req.env.op = static_cast<uint32_t>(op);
  req.env.id = next_id_.fetch_add(1);
  req.env.timeout_ms = static_cast<uint32_t>(timeout_ms);
  req.body = std::move(body);
  req.data = std::move(data);
  auto p = std::make_shared<Pending>();
  t.reply_ = p->promise.get_future();
  t.id_ = req.env.id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_[req.env.id] = p;
  }
  {
    std::lock_guard<std::mutex> lock(push_mu_);
    SendMessage(push_, req, false);
  }
  return t;
}

Result<Message> Client::Wait(Ticket& t) {
  if (!t.sent_.ok()) return t.sent_;
  if (t.reply_.wait_until(t.deadline_) != std::future_status::ready) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.erase(t.id_) == 1)
      return Status::Err(ETIMEDOUT, "no reply from " + endpoint_ + " in " +
                                        std::to_string(t.timeout_ms_) + " ms" +
                                        (hint_.empty() ? "" : " (" + hint_ + ")"));
    // The reply arrived while the lock was being taken: use it.
  }
  Message rep = t.reply_.get();
  if (rep.env.err != 0) return Status::Err(rep.env.err, rep.env.msg);
  return rep;
}

Result<Message> Client::Call(proto::Op op, std::string body, std::optional<zmq::message_t> data,
                             int timeout_ms) {
  Ticket t = Send(op, std::move(body), std::move(data), timeout_ms);
  return Wait(t);
}

}  // namespace dos::net
