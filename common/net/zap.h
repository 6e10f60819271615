// Who may connect: the key ring and the ZAP handler (ZeroMQ's authentication
// protocol, RFC 27) that consults it.
//
// A CURVE server socket asks the ZAP handler of its context about each new
// connection; the handler answers 200 with the client's public key (Z85) as
// the user id when the key is in the ring, 400 otherwise. The server then
// sees that user id on every message of the connection (Server checks it on
// every request against the same ring, so a revoked key stops working on an
// open connection too, not only on the next one).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <zmq.hpp>

namespace dos::net {

// What a key may do (daemon/auth maps ops to the role they need). kCluster
// is the cluster's server key: whoever holds its secret half can serve as
// any node anyway, so it may do everything.
enum class Role : uint8_t { kNone = 0, kUser = 1, kAdmin = 2, kNode = 3, kCluster = 4 };

const char* RoleName(Role r);
// "user", "admin", "node"; kNone for anything else.
Role ParseRole(const std::string& s);

// Allowed public keys. Thread-safe.
class KeyRing {
 public:
  // Keys that stay whatever Replace() brings (the server key, our own).
  void SetFixed(const std::string& key_z85, Role role);
  // The keys synchronised from meta, with the list's version.
  void Replace(std::map<std::string, Role> keys, uint64_t version);
  uint64_t version() const { return version_.load(); }
  Role Lookup(const std::string& key_z85) const;

 private:
  mutable std::mutex mu_;  // guards fixed_, keys_
  std::map<std::string, Role> fixed_;
  std::map<std::string, Role> keys_;
  std::atomic<uint64_t> version_{0};
};

// The ZAP handler of one context: a REP socket on inproc://zeromq.zap.01
// served by its own thread. Start() before the first CURVE server binds.
class ZapHandler {
 public:
  ZapHandler(zmq::context_t* ctx, const KeyRing* ring);
  ~ZapHandler();  // Stop()
  void Start();
  void Stop();

 private:
  void Loop(zmq::socket_t& rep, zmq::socket_t& stop);

  zmq::context_t* ctx_;
  const KeyRing* ring_;
  std::string stop_endpoint_;
  std::thread thread_;
  bool started_ = false;
};

}  // namespace dos::net
