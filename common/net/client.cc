#include "common/net/client.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "common/net/curve.h"

namespace dos::net {

namespace {
std::atomic<uint64_t> g_client_seq{0};
constexpr int kSealOpenTimeoutMs = 5000;
constexpr auto kSealRetryAfter = std::chrono::seconds(30);  // after a server said no
constexpr int kMonitorEvents = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

// Never blocks, never lingers, reconnects soon; the frame limit of a server.
void SetDealerOptions(zmq::socket_t& sock) {
  sock.set(zmq::sockopt::linger, 0);
  sock.set(zmq::sockopt::sndhwm, 0);
  sock.set(zmq::sockopt::rcvhwm, 0);
  sock.set(zmq::sockopt::reconnect_ivl, 100);
  sock.set(zmq::sockopt::reconnect_ivl_max, 1000);
  sock.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::kMaxData + proto::kMaxBody));
}

// kSealOpen: over CURVE it asks for a session; sealed, it is the probe.
Message SealOpenRequest(uint64_t id) {
  Message req;
  req.env.op = static_cast<uint32_t>(proto::Op::kSealOpen);
  req.env.id = id;
  req.env.timeout_ms = kSealOpenTimeoutMs;
  req.body = proto::Encode(proto::Empty{});
  return req;
}

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
    : ctx_(ctx), endpoint_(std::move(endpoint)) {
  // Socket creation fails when the process runs out of sockets or files:
  // the client is then broken (every call fails) instead of the process.
  try {
    dealer_.emplace(*ctx_, zmq::socket_type::dealer);
    ApplyClientSecurity(*dealer_);
    SetDealerOptions(*dealer_);
    std::string mon = "inproc://dos-client-monitor-" + std::to_string(g_client_seq.fetch_add(1));
    if (zmq_socket_monitor(dealer_->handle(), mon.c_str(), kMonitorEvents) != 0)
      throw zmq::error_t();
    monitor_.emplace(*ctx_, zmq::socket_type::pair);
    monitor_->set(zmq::sockopt::linger, 0);
    monitor_->connect(mon);
    dealer_fd_ = dealer_->get(zmq::sockopt::fd);
    monitor_fd_ = monitor_->get(zmq::sockopt::fd);
  } catch (const zmq::error_t& e) {
    broken_ = e.num() ? e.num() : EMFILE;
    return;
  }
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    broken_ = errno;
    return;
  }
  try {
    dealer_->connect(endpoint_);
  } catch (const zmq::error_t&) {
    // A bad endpoint: every call times out; the caller's message names it.
  }
}

Client::~Client() {
  {
    std::lock_guard<std::mutex> lock(sock_mu_);
    if (dealer_) zmq_socket_monitor(dealer_->handle(), nullptr, 0);
    monitor_.reset();
    dealer_.reset();
    bulk_.reset();
  }
  if (wake_fd_ >= 0) close(wake_fd_);
  FailPending(EIO, "client closed");
}

void Client::FailPending(int err, const std::string& msg) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, p] : pending_) {
    p->reply = Message{};
    p->reply.env.err = err;
    p->reply.env.msg = msg;
    p->done = true;
    p->cv.notify_all();
  }
  pending_.clear();
  if (wake_fd_ >= 0) (void)eventfd_write(wake_fd_, 1);
}

void Client::Deliver(Message m) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(m.env.id);
  if (it == pending_.end()) return;  // caller gave up
  std::shared_ptr<Pending> p = it->second;
  pending_.erase(it);
  p->reply = std::move(m);
  p->resend.reset();  // under sock_mu_, as every Deliver
  p->done = true;
  p->cv.notify_all();
  // The leader may sleep in poll(); when it drains itself, it will look.
  if (p->leading && std::this_thread::get_id() != leader_thread_) (void)eventfd_write(wake_fd_, 1);
}

// Handshake events of the dealer: a refused key fails the calls in flight
// (they would only time out) and makes the next send reconnect, since
// libzmq gives up on a connection whose handshake failed.
void Client::OnMonitorEvent() {
  std::vector<zmq::message_t> frames;
  if (!zmq::recv_multipart(*monitor_, std::back_inserter(frames), zmq::recv_flags::dontwait))
    return;
  if (frames.empty() || frames[0].size() < 6) return;
  uint16_t event;
  uint32_t value;
  std::memcpy(&event, frames[0].data(), 2);
  std::memcpy(&value, static_cast<const char*>(frames[0].data()) + 2, 4);
  if (event == ZMQ_EVENT_CONNECTED) {
    connected_ = true;
  } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
    connected_ = false;
    // A new CURVE connection: the server may have restarted and forgotten
    // the session (and listen on another sealed port). Ask again.
    DropSealLocked();
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

void Client::Reconnect() {
  reconnect_ = false;
  try {
    dealer_->disconnect(endpoint_);
  } catch (const zmq::error_t&) {
    // Already gone: libzmq dropped it after the failed handshake.
  }
  try {
    dealer_->connect(endpoint_);
  } catch (const zmq::error_t&) {
  }
}

bool Client::sealing() {
  std::lock_guard<std::mutex> lock(sock_mu_);
  return seal_ && seal_->ready;
}

bool Client::ReserveSeal(SealKey* key, uint64_t* counter) {
  std::lock_guard<std::mutex> lock(sock_mu_);
  if (!seal_ || !seal_->ready || !bulk_) return false;
  if (seal_->out + 1 >= kSealMaxCounter) {
    DropSealLocked();  // a fresh session, before the nonces could repeat
    return false;
  }
  *key = seal_->key;
  *counter = ++seal_->out;
  return true;
}

// What the socket does not take now waits in the stream; the leader writes
// it when poll(2) says there is room (woken here to look for that).
void Client::SendBulkLocked(std::vector<zmq::message_t>& wire) {
  if (!bulk_->Send(wire)) {
    CloseBulkLocked();  // lost: the caller's deadline reports it
    return;
  }
  if (bulk_->wants_write() && !bulk_write_.exchange(true)) (void)eventfd_write(wake_fd_, 1);
}

void Client::CloseBulkLocked() {
  // A session whose probe never came back: the port does not work from
  // here, so CURVE for a while (as when the probe times out).
  if (seal_ && !seal_->ready)
    seal_retry_after_ = std::chrono::steady_clock::now() + kSealRetryAfter;
  bulk_.reset();
  bulk_fd_ = -1;
  bulk_write_ = false;
  bulk_endpoint_.clear();
  DropSealLocked();
}

void Client::OpenSealLocked() {
  auto now = std::chrono::steady_clock::now();
  if (seal_ && !seal_->ready && now >= seal_->probe_deadline) {
    seal_.reset();  // the sealed port does not answer: CURVE for a while
    seal_retry_after_ = now + kSealRetryAfter;
  }
  if (seal_) return;
  if ((seal_open_id_ != 0 && now < seal_open_deadline_) || now < seal_retry_after_) return;
  Message req = SealOpenRequest(next_id_.fetch_add(1));
  seal_open_id_ = req.env.id;
  seal_open_deadline_ = now + std::chrono::milliseconds(kSealOpenTimeoutMs);
  (void)SendMessage(*dealer_, req, true);
}

// The server's answer to kSealOpen: a session, or no (then CURVE only for a while).
void Client::OnSealOpened(Message& m) {
  seal_open_id_ = 0;
  proto::SealOpenRep r;
  if (m.env.err != 0 || !proto::Decode(m.body, &r).ok() || r.key.size() != kSealKeyLen ||
      r.port == 0 || r.port > 65535) {
    seal_retry_after_ = std::chrono::steady_clock::now() + kSealRetryAfter;
    return;
  }
  const std::string ep = endpoint_.substr(0, endpoint_.rfind(':') + 1) + std::to_string(r.port);
  if (!bulk_ || ep != bulk_endpoint_) {
    // A connection that works stays (replies of the session before may
    // still come on it); another port means another server process.
    std::string host;
    int port = 0;
    Result<int> fd = SplitTcpEndpoint(endpoint_, &host, &port).ok()
                         ? ConnectTcp(host, static_cast<int>(r.port))
                         : Result<int>(Status::Err(EINVAL));
    if (!fd.ok()) {
      seal_retry_after_ = std::chrono::steady_clock::now() + kSealRetryAfter;
      return;
    }
    bulk_ = std::make_unique<FrameStream>(*fd);
    bulk_fd_ = *fd;
    bulk_write_ = false;
    bulk_endpoint_ = ep;
  }
  Seal seal;
  seal.key.session = r.session;
  std::memcpy(seal.key.key.data(), r.key.data(), kSealKeyLen);
  // The probe: kSealOpen sent sealed, which a server answers sealed and empty.
  Message probe = SealOpenRequest(next_id_.fetch_add(1));
  seal.probe_id = probe.env.id;
  seal.probe_deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kSealOpenTimeoutMs);
  auto wire = SealMessage(seal.key, SealDir::kToServer, ++seal.out, probe);
  if (!wire.ok()) return;
  seal_ = std::move(seal);
  SendBulkLocked(*wire);
}

void Client::DropSealLocked() {
  if (seal_ && seal_->ready) prev_seal_ = std::move(seal_);
  seal_.reset();
}

void Client::DropSessionAfterTimeout(uint64_t session) {
  std::lock_guard<std::mutex> lock(sock_mu_);
  if (seal_ && seal_->key.session == session) DropSealLocked();
}

// A refused sealed request goes again over CURVE, once.
void Client::ResendLocked(uint64_t id) {
  std::optional<Message> again;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end() || !it->second->resend) return;
    again = std::move(it->second->resend);
    it->second->resend.reset();
  }
  (void)SendMessage(*dealer_, *again, true);
}

void Client::DrainBulkLocked() {
  std::vector<std::vector<zmq::message_t>> msgs;
  const bool ok = bulk_->Receive(&msgs);
  for (auto& frames : msgs) OnBulkMessage(frames);
  if (!ok) CloseBulkLocked();
}

void Client::OnBulkMessage(std::vector<zmq::message_t>& frames) {
  if (IsSealNotice(frames[0])) {
    auto n = ReadSealNotice(frames[0]);
    if (seal_ && n->session == seal_->key.session) DropSealLocked();  // opened again on next send
    ResendLocked(n->req_id);
    return;
  }
  auto h = ReadSealHeader(frames[0]);
  if (!h.ok()) return;
  // The current session, or the one before it: replies to requests sent
  // under it may still come after it was dropped.
  Seal* seal = seal_ && seal_->key.session == h->session            ? &*seal_
               : prev_seal_ && prev_seal_->key.session == h->session ? &*prev_seal_
                                                                     : nullptr;
  if (!seal) return;  // nothing to match
  // Envelope and body here; the data on the caller's thread (Wait), not
  // under sock_mu_ on the leader's, which takes the replies of every caller.
  std::vector<zmq::message_t> plain;
  DataKey data_key{};
  if (!OpenFrames(seal->key, SealDir::kToClient, *h, frames, 0, &plain, &data_key).ok()) return;
  if (!seal->in.Accept(h->counter)) return;
  Message m;
  if (!ParseMessage(plain, 0, &m).ok() || m.env.id != h->req_id) return;
  if (h->frames == 4) m.sealed_data = SealedData{data_key, std::move(frames[4])};
  if (seal == &*seal_ && !seal_->ready && m.env.id == seal_->probe_id) {
    seal_->ready = m.env.err == 0;
    if (!seal_->ready) {
      seal_.reset();
      seal_retry_after_ = std::chrono::steady_clock::now() + kSealRetryAfter;
    }
    return;
  }
  Deliver(std::move(m));
}

// ZMQ_FD is edge-triggered: it signals only that ZMQ_EVENTS must be read
// again, so every message queued is taken now, and after every send.
void Client::DrainLocked(bool bulk_readable) {
  if (bulk_ && bulk_readable) DrainBulkLocked();
  for (;;) {
    bool any = false;
    if (monitor_->get(zmq::sockopt::events) & ZMQ_POLLIN) {
      OnMonitorEvent();
      any = true;
    }
    if (dealer_->get(zmq::sockopt::events) & ZMQ_POLLIN) {
      std::vector<zmq::message_t> frames;
      if (zmq::recv_multipart(*dealer_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
        Message m;
        if (ParseMessage(frames, 0, &m).ok()) {  // else: nothing to match
          if (seal_open_id_ != 0 && m.env.id == seal_open_id_) {
            OnSealOpened(m);
          } else {
            Deliver(std::move(m));
          }
        }
      }
      any = true;
    }
    if (!any) return;
  }
}

void Client::Lead(std::chrono::steady_clock::time_point deadline) {
  constexpr int kLeadSliceMs = 100;  // a lost edge costs at most this
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
  int wait = static_cast<int>(std::clamp<int64_t>(left + 1, 0, kLeadSliceMs));
  const int bulk_fd = bulk_fd_.load();
  const short bulk_events = POLLIN | (bulk_write_ ? POLLOUT : 0);
  pollfd fds[] = {{dealer_fd_, POLLIN, 0},
                  {monitor_fd_, POLLIN, 0},
                  {wake_fd_, POLLIN, 0},
                  {bulk_fd, bulk_events, 0}};
  (void)poll(fds, bulk_fd >= 0 ? 4 : 3, wait);  // EINTR: drain and look again
  if (fds[2].revents & POLLIN) {
    eventfd_t v;
    (void)eventfd_read(wake_fd_, &v);
  }
  std::lock_guard<std::mutex> lock(sock_mu_);
  // The descriptor polled may belong to a connection closed meanwhile.
  const bool same = bulk_ && bulk_->fd() == bulk_fd;
  if (same && (fds[3].revents & POLLOUT)) {
    if (!bulk_->Flush()) {
      CloseBulkLocked();
    } else {
      bulk_write_ = bulk_->wants_write();
    }
  }
  if (dealer_) DrainLocked(same && (fds[3].revents & (POLLIN | POLLHUP | POLLERR)));
}

Client::Ticket Client::Send(proto::Op op, std::string body, std::optional<zmq::message_t> data,
                           int timeout_ms, std::optional<SealedData> presealed) {
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
  if (req.data) req.sealed_data = std::move(presealed);
  auto p = std::make_shared<Pending>();
  t.pending_ = p;
  t.id_ = req.env.id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_[req.env.id] = p;
  }
  const bool sealed = want_sealed_ && GetSecurity().curve;
  // Sealed outside sock_mu_, so that several callers encrypt at once; the
  // counters may then leave out of order, which the server's window allows.
  std::optional<std::vector<zmq::message_t>> wire;
  uint64_t session = 0;
  if (sealed) {
    SealKey key;
    uint64_t counter = 0;
    if (ReserveSeal(&key, &counter)) {
      auto w = SealMessage(key, SealDir::kToServer, counter, req);
      if (w.ok()) {
        wire = std::move(*w);
        session = key.session;
      }
    }
  }
  std::lock_guard<std::mutex> lock(sock_mu_);
  if (reconnect_) Reconnect();
  // A failed send (no peer yet for a bad endpoint) loses the request: the
  // caller's deadline reports it. Never block here: sock_mu_ is held.
  if (wire && bulk_) {
    p->resend = std::move(req);
    p->sealed_session = session;
    SendBulkLocked(*wire);
  } else {
    (void)SendMessage(*dealer_, req, true);
    if (sealed) OpenSealLocked();
  }
  DrainLocked(false);
  return t;
}

Result<Message> Client::Wait(Ticket& t, bool open_data) {
  if (!t.sent_.ok()) return t.sent_;
  auto p = std::static_pointer_cast<Pending>(t.pending_);
  std::unique_lock<std::mutex> lock(mu_);
  bool looked = false;  // at the socket once the deadline had passed
  while (!p->done) {
    if (std::chrono::steady_clock::now() >= t.deadline_) {
      // The reply may have come in time and still sit in the socket: no
      // caller led since (this one waited on another client first, or
      // worked). Take what is there before giving up.
      if (!looked) {
        looked = true;
        lock.unlock();
        {
          std::lock_guard<std::mutex> sock(sock_mu_);
          if (dealer_) DrainLocked(true);
        }
        lock.lock();
        continue;
      }
      pending_.erase(t.id_);
      if (p->sealed_session != 0) {
        lock.unlock();
        DropSessionAfterTimeout(p->sealed_session);
        lock.lock();
      }
      return Status::Err(ETIMEDOUT, "no reply from " + endpoint_ + " in " +
                                        std::to_string(t.timeout_ms_) + " ms" +
                                        (hint_.empty() ? "" : " (" + hint_ + ")"));
    }
    if (!leader_) {
      leader_ = true;
      leader_thread_ = std::this_thread::get_id();
      p->leading = true;
      lock.unlock();
      Lead(t.deadline_);
      lock.lock();
      p->leading = false;
      leader_ = false;
      // Pass the lead on to a caller that sleeps (the others look when they come to wait).
      for (auto& [id, q] : pending_)
        if (q->waiting) {
          q->cv.notify_all();
          break;
        }
      continue;
    }
    p->waiting = true;
    p->cv.wait_until(lock, t.deadline_);
    p->waiting = false;
  }
  Message rep = std::move(p->reply);
  lock.unlock();
  if (rep.env.err != 0) return Status::Err(rep.env.err, rep.env.msg);
  if (rep.sealed_data && open_data) {  // see DrainBulkLocked
    zmq::message_t data;
    if (Status s = OpenData(rep.sealed_data->key, rep.sealed_data->wire, &data); !s.ok())
      return Status::Err(EBADMSG, "reply from " + endpoint_ + ": " + s.message());
    rep.data = std::move(data);
    rep.sealed_data.reset();
  }
  return rep;
}

Result<size_t> TakeData(const Message& reply, char* dst, size_t len) {
  if (!reply.sealed_data) {
    std::string_view d = reply.DataView();
    const size_t n = std::min(len, d.size());
    std::memcpy(dst, d.data(), n);
    return n;
  }
  const zmq::message_t& wire = reply.sealed_data->wire;
  const size_t plain = wire.size() >= kSealTagLen ? wire.size() - kSealTagLen : 0;
  if (plain <= len) {
    if (Status s = OpenDataInto(reply.sealed_data->key, wire, dst); !s.ok()) return s;
    return plain;
  }
  zmq::message_t whole;  // more than asked for: open it all, keep the start
  if (Status s = OpenData(reply.sealed_data->key, wire, &whole); !s.ok()) return s;
  std::memcpy(dst, whole.data(), len);
  return len;
}

Result<Message> Client::Call(proto::Op op, std::string body, std::optional<zmq::message_t> data,
                             int timeout_ms) {
  Ticket t = Send(op, std::move(body), std::move(data), timeout_ms);
  return Wait(t);
}

}  // namespace dos::net
