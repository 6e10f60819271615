#include "common/net/zap.h"

#include <future>
#include <vector>
#include <zmq_addon.hpp>

namespace dos::net {

namespace {
std::atomic<uint64_t> g_zap_seq{0};
constexpr size_t kZapRequestFrames = 7;  // version..mechanism, + credentials
}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kUser:
      return "user";
    case Role::kAdmin:
      return "admin";
    case Role::kNode:
      return "node";
    case Role::kCluster:
      return "cluster";
    case Role::kNone:
      break;
  }
  return "none";
}

Role ParseRole(const std::string& s) {
  if (s == "user") return Role::kUser;
  if (s == "admin") return Role::kAdmin;
  if (s == "node") return Role::kNode;
  return Role::kNone;
}

void KeyRing::SetFixed(const std::string& key_z85, Role role) {
  std::lock_guard<std::mutex> lock(mu_);
  fixed_[key_z85] = role;
}

void KeyRing::Replace(std::map<std::string, Role> keys, uint64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  keys_ = std::move(keys);
  version_.store(version);
}

Role KeyRing::Lookup(const std::string& key_z85) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = fixed_.find(key_z85); it != fixed_.end()) return it->second;
  if (auto it = keys_.find(key_z85); it != keys_.end()) return it->second;
  return Role::kNone;
}

ZapHandler::ZapHandler(zmq::context_t* ctx, const KeyRing* ring) : ctx_(ctx), ring_(ring) {
  stop_endpoint_ = "inproc://dos-zap-stop-" + std::to_string(g_zap_seq.fetch_add(1));
}

ZapHandler::~ZapHandler() { Stop(); }

void ZapHandler::Start() {
  std::promise<void> ready;
  auto f = ready.get_future();
  thread_ = std::thread([this, &ready] {
    zmq::socket_t rep(*ctx_, zmq::socket_type::rep);
    zmq::socket_t stop(*ctx_, zmq::socket_type::pull);
    rep.set(zmq::sockopt::linger, 0);
    rep.bind("inproc://zeromq.zap.01");
    stop.bind(stop_endpoint_);
    ready.set_value();
    Loop(rep, stop);
  });
  f.wait();
  started_ = true;
}

void ZapHandler::Stop() {
  if (!started_) return;
  started_ = false;
  zmq::socket_t push(*ctx_, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 1000);
  push.connect(stop_endpoint_);
  push.send(zmq::str_buffer("stop"), zmq::send_flags::none);
  thread_.join();
}

// Request: version, request id, domain, address, identity, mechanism,
// credentials (the client's 32-byte public key for CURVE). Reply: version,
// request id, status code, status text, user id, metadata.
void ZapHandler::Loop(zmq::socket_t& rep, zmq::socket_t& stop) {
  zmq::pollitem_t items[] = {{static_cast<void*>(rep), 0, ZMQ_POLLIN, 0},
                             {static_cast<void*>(stop), 0, ZMQ_POLLIN, 0}};
  std::vector<zmq::message_t> req;
  for (;;) {
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(-1));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      return;
    }
    if (items[1].revents & ZMQ_POLLIN) return;
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    req.clear();
    (void)zmq::recv_multipart(rep, std::back_inserter(req));
    std::string user, code = "400", text = "key not allowed";
    // CURVE only: every ROUTER that asks ZAP is a CURVE server (the sealed
    // port is not ZeroMQ, see net/stream.h), so any other mechanism is refused.
    if (req.size() >= kZapRequestFrames && req[5].to_string() == "CURVE" &&
        req[6].size() == 32) {
      char z85[41];
      zmq_z85_encode(z85, static_cast<const uint8_t*>(req[6].data()), 32);
      if (ring_->Lookup(z85) != Role::kNone) {
        user = z85;
        code = "200";
        text = "OK";
      }
    }
    std::string version = req.empty() ? "1.0" : req[0].to_string();
    std::string id = req.size() > 1 ? req[1].to_string() : "";
    std::vector<zmq::const_buffer> out{zmq::buffer(version), zmq::buffer(id), zmq::buffer(code),
                                       zmq::buffer(text),    zmq::buffer(user), zmq::buffer(user, 0)};
    (void)zmq::send_multipart(rep, out);
  }
}

}  // namespace dos::net
