// Client: a DEALER connection to one server with many requests in flight.
//
// Any thread may Call() at once; each call gets a request id and waits for
// the reply with that id until its timeout. There is no I/O thread of the
// client's own: the caller sends on the socket itself, and one waiting
// caller at a time (the leader) polls the socket's descriptors and hands
// every reply that arrives to its caller; when its own reply is in, it
// passes the lead to another waiting caller. So a lone call costs no thread
// switch beyond ZeroMQ's own I/O thread.
// Errors: ETIMEDOUT when the deadline passes (a dead or unreachable
// peer looks like this: ZeroMQ reconnects by itself, so the next call may
// succeed), EPROTO for a reply that does not decode, and whatever errno the
// server put in the reply envelope. With CURVE on, a server that refuses
// this client's key (or a security mismatch: one side plaintext) fails the
// calls in flight at once with EACCES "authentication failed: ..."; the
// next call connects afresh, so a key registered later starts to work.
//
// With set_sealed(true) and CURVE on, requests travel sealed (AES-256-GCM,
// common/net/seal.h) on a second connection, plain TCP without ZeroMQ
// (common/net/stream.h), to the server's sealed port once the server gave
// this client a session key over CURVE; until then, and whenever the
// server refuses a sealed request, over CURVE as usual. The caller writes
// that connection itself and the leader reads it: no ZeroMQ I/O thread on
// the way.
//
// Lock order: sock_mu_ before mu_.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <optional>
#include <thread>

#include "common/net/message.h"
#include "common/net/seal.h"
#include "common/net/stream.h"

namespace dos::net {

inline constexpr int kDefaultTimeoutMs = 15000;

// Puts the first min(len, its size) bytes of reply's data into dst and
// returns how many: opened straight into dst when still sealed (Wait with
// open_data false), so the bytes are not copied once more. EBADMSG when
// the data fails authentication (dst then holds nothing to use).
Result<size_t> TakeData(const Message& reply, char* dst, size_t len);

class Client {
 public:
  Client(zmq::context_t* ctx, std::string endpoint);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& endpoint() const { return endpoint_; }

  // Requests go sealed when they can (see above). Call before the first
  // request; for clients that carry bulk data.
  void set_sealed(bool on) { want_sealed_ = on; }
  // A session is open and its probe came back: requests now go sealed.
  bool sealing();

  // A request sent and not yet waited for (see Send, Wait).
  class Ticket {
   public:
    Ticket() = default;

   private:
    friend class Client;
    uint64_t id_ = 0;
    int timeout_ms_ = 0;
    std::chrono::steady_clock::time_point deadline_;
    std::shared_ptr<void> pending_;  // the client's Pending
    Status sent_;  // an error before anything went out
  };

  // Sends a request (envelope op set here, id assigned here) without waiting:
  // the caller may do other work, then Wait. Every Ticket must be waited for.
  // presealed: data as it arrived sealed from another peer (Message::
  // sealed_data), sent on as it is when this request goes sealed.
  Ticket Send(proto::Op op, std::string body, std::optional<zmq::message_t> data,
              int timeout_ms = kDefaultTimeoutMs, std::optional<SealedData> presealed = {});
  // Waits for the reply of t until its deadline. A reply whose envelope has
  // err != 0 is returned as that Status. A sealed reply's data is opened
  // here, on the caller's thread (EBADMSG if it fails authentication),
  // unless open_data is false: then it stays in sealed_data for TakeData.
  Result<Message> Wait(Ticket& t, bool open_data = true);

  // Send then Wait.
  Result<Message> Call(proto::Op op, std::string body, std::optional<zmq::message_t> data,
                       int timeout_ms = kDefaultTimeoutMs);

  // Typed call: encodes req, decodes the reply body into *rep. data_in, if
  // set, is sent as the raw data frame; data_out receives the reply's one.
  template <typename Req, typename Rep>
  Status Call(proto::Op op, const Req& req, Rep* rep, int timeout_ms = kDefaultTimeoutMs,
              std::string_view data_in = {}, std::string* data_out = nullptr,
              bool send_data = false) {
    std::optional<zmq::message_t> data;
    if (send_data || !data_in.empty()) data.emplace(data_in.data(), data_in.size());
    auto r = Call(op, proto::Encode(req), std::move(data), timeout_ms);
    if (!r.ok()) return r.status();
    if (data_out) data_out->assign(r->DataView());
    return proto::Decode(r->body, rep);
  }

  // Typed Wait: decodes the reply body into *rep; *reply (if set) keeps the
  // whole reply, so its data frame can be read without a copy.
  template <typename Rep>
  Status Wait(Ticket& t, Rep* rep, Message* reply = nullptr, bool open_data = true) {
    auto r = Wait(t, open_data);
    if (!r.ok()) return r.status();
    Status s = proto::Decode(r->body, rep);
    if (reply) *reply = std::move(*r);
    return s;
  }

 private:
  struct Pending {
    std::condition_variable cv;  // done, or the lead is free
    bool done = false;
    bool waiting = false;  // its caller sleeps on cv
    bool leading = false;  // its caller is the leader
    Message reply;
    // A request sent sealed: what to send over CURVE if the server refuses
    // it (under sock_mu_).
    std::optional<Message> resend;
    uint64_t sealed_session = 0;  // sent sealed under this session
  };
  struct Seal {
    SealKey key;
    uint64_t out = 0;  // the last counter sent
    ReplayWindow in;
    // Requests go sealed only once a sealed probe came back sealed: a
    // firewall may let the CURVE port through and not the sealed one.
    bool ready = false;
    uint64_t probe_id = 0;
    std::chrono::steady_clock::time_point probe_deadline;
  };
  // Polls the sockets' descriptors until one is readable, the wake fd is
  // written, or deadline (at most kLeadSliceMs), then drains them.
  void Lead(std::chrono::steady_clock::time_point deadline);
  // Under sock_mu_: every reply and monitor event queued now, handed out;
  // the sealed connection is read too when bulk_readable.
  void DrainLocked(bool bulk_readable);
  void OnMonitorEvent();
  void Reconnect();
  void Deliver(Message m);
  // Under sock_mu_: the sealed side (see set_sealed).
  // Takes sock_mu_: the session's key and the next counter, if it is ready.
  bool ReserveSeal(SealKey* key, uint64_t* counter);
  void OpenSealLocked();
  void SendBulkLocked(std::vector<zmq::message_t>& wire);
  void OnSealOpened(Message& m);
  void DrainBulkLocked();
  void OnBulkMessage(std::vector<zmq::message_t>& frames);
  // The sealed connection broke: gone, with its session (CURVE until the
  // next one is open).
  void CloseBulkLocked();
  void ResendLocked(uint64_t id);
  // Ends the session (a new one opens on the next send); it stays as
  // prev_seal_ to open replies already on their way.
  void DropSealLocked();
  // A sealed request timed out: the session may be gone with its server
  // (a restarted server has another sealed port); open another.
  void DropSessionAfterTimeout(uint64_t session);
  void FailPending(int err, const std::string& msg);

  zmq::context_t* ctx_;
  std::string endpoint_;
  std::mutex sock_mu_;  // guards dealer_, monitor_, reconnect_, connected_
  std::optional<zmq::socket_t> dealer_;
  std::optional<zmq::socket_t> monitor_;
  int dealer_fd_ = -1;
  int monitor_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: a reply for the leader came in through another thread
  bool reconnect_ = false;  // the last handshake failed
  bool connected_ = false;  // TCP up, handshake not yet done
  std::mutex mu_;  // guards pending_, hint_, leader_
  std::map<uint64_t, std::shared_ptr<Pending>> pending_;
  std::string hint_;  // why no reply may come (handshake trouble)
  bool leader_ = false;
  std::thread::id leader_thread_;  // valid while leader_
  std::atomic<uint64_t> next_id_{1};
  bool want_sealed_ = false;
  // Under sock_mu_:
  std::unique_ptr<FrameStream> bulk_;  // to the sealed port
  std::atomic<int> bulk_fd_{-1};
  std::atomic<bool> bulk_write_{false};  // bytes queued on bulk_: poll for POLLOUT
  std::string bulk_endpoint_;
  std::optional<Seal> seal_;
  std::optional<Seal> prev_seal_;  // the session before seal_, for late replies
  uint64_t seal_open_id_ = 0;  // the kSealOpen in flight
  std::chrono::steady_clock::time_point seal_open_deadline_;
  std::chrono::steady_clock::time_point seal_retry_after_;  // the server said no
  int broken_ = 0;  // errno when the sockets could not be made
};

}  // namespace dos::net
