#include "common/net/server.h"

#include "common/net/client.h"
#include "common/net/curve.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <system_error>

namespace dos::net {

namespace {
constexpr int64_t kMaxFrame = static_cast<int64_t>(proto::kMaxData + proto::kMaxBody);
// Sessions kept at once; the oldest goes first (its client opens another).
constexpr size_t kMaxSealSessions = 4096;
// Sealed connections at once; more are closed as they come.
constexpr size_t kMaxConns = 4096;
// How long the sealed port takes no connection after accept(2) ran out of
// descriptors.
constexpr int kAcceptPauseMs = 100;

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
  if (listen_fd_ >= 0) close(listen_fd_);
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

void Server::SetQuick(proto::Op op) { routes_.at(static_cast<uint32_t>(op)).quick = true; }

Status Server::Bind(const std::string& endpoint) {
  try {
    router_.bind(endpoint);
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::Err(e.num(), "bind " + endpoint + ": " + e.what());
  }
  BindSealed();
  return Status::Ok();
}

// The sealed port: a TCP listener on the ROUTER's host, any free port.
void Server::BindSealed() {
  if (!GetSecurity().curve || seal_port_ != 0) return;
  std::string host;
  int port = 0;
  if (!SplitTcpEndpoint(endpoint_, &host, &port).ok()) return;
  auto fd = ListenTcp(host, &port);
  if (!fd.ok()) return;  // no sealed port: clients stay on CURVE
  listen_fd_ = *fd;
  seal_port_ = port;
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
  std::lock_guard<std::mutex> lock(conns_mu_);
  for (auto& [id, c] : conns_) c->stream.Shutdown();
  conns_.clear();
}

void Server::IoLoop() {
  int router_fd;
  {
    std::lock_guard<std::mutex> lock(router_mu_);
    router_fd = router_.get(zmq::sockopt::fd);
  }
  std::vector<pollfd> fds;
  std::vector<std::shared_ptr<Conn>> polled;
  for (;;) {
    std::vector<QuickJob> quick;
    {
      std::lock_guard<std::mutex> lock(router_mu_);
      if (stop_) return;
      DrainLocked();
      quick.swap(quick_);
    }
    if (!quick.empty()) {
      for (QuickJob& q : quick) {
        Run(q.job);
        {
          std::lock_guard<std::mutex> lock(q.lane->mu);
          q.lane->busy = false;
          q.lane->last_ran = std::chrono::steady_clock::now();
        }
        q.lane->cv.notify_one();  // requests queued meanwhile are the worker's
      }
      continue;  // the replies may have taken ZMQ_FD's signal: look before sleeping
    }
    fds.assign({{router_fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}});
    const bool paused = PollConns(&fds, &polled);
    if (poll(fds.data(), fds.size(), paused ? kAcceptPauseMs : -1) < 0) continue;  // EINTR
    if (fds[1].revents & POLLIN) {
      eventfd_t v;
      (void)eventfd_read(wake_fd_, &v);
    }
    ServeConns(fds, 2, polled);
  }
}

bool Server::PollConns(std::vector<pollfd>* fds, std::vector<std::shared_ptr<Conn>>* polled) {
  polled->clear();
  if (listen_fd_ < 0) return false;
  const bool paused = std::chrono::steady_clock::now() < accept_paused_until_;
  fds->push_back({listen_fd_, static_cast<short>(paused ? 0 : POLLIN), 0});
  std::lock_guard<std::mutex> lock(conns_mu_);
  for (auto& [id, c] : conns_) {
    short events = POLLIN;
    {
      std::lock_guard<std::mutex> w(c->wmu);
      if (c->stream.wants_write()) events |= POLLOUT;
    }
    fds->push_back({c->stream.fd(), events, 0});
    polled->push_back(c);
  }
  return paused;
}

void Server::ServeConns(const std::vector<pollfd>& fds, size_t first,
                        const std::vector<std::shared_ptr<Conn>>& polled) {
  if (listen_fd_ < 0) return;
  if (fds[first].revents & POLLIN) {
    for (;;) {
      const int fd = AcceptTcp(listen_fd_);
      if (fd < 0) {
        // Out of descriptors or memory: the connection stays pending and
        // poll(2) would report it at once, again and again. Look later.
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
          accept_paused_until_ =
              std::chrono::steady_clock::now() + std::chrono::milliseconds(kAcceptPauseMs);
        break;
      }
      auto c = std::make_shared<Conn>(fd, ++next_conn_);
      std::lock_guard<std::mutex> lock(conns_mu_);
      if (conns_.size() >= kMaxConns) continue;  // closed as c goes
      conns_[c->id] = std::move(c);
    }
  }
  std::vector<std::vector<zmq::message_t>> msgs;
  for (size_t i = 0; i < polled.size(); ++i) {
    const short ev = fds[first + 1 + i].revents;
    if (ev == 0) continue;
    Conn& c = *polled[i];
    bool ok = true;
    if (ev & POLLOUT) {
      std::lock_guard<std::mutex> w(c.wmu);
      ok = c.stream.Flush();
    }
    msgs.clear();
    if (ok && (ev & (POLLIN | POLLHUP | POLLERR))) ok = c.stream.Receive(&msgs);
    if (!ok) {
      c.stream.Shutdown();
      std::lock_guard<std::mutex> lock(conns_mu_);
      conns_.erase(c.id);
    }
    // What came before a break is still run: its replies find no connection.
    for (auto& m : msgs) {
      m.insert(m.begin(), zmq::message_t());  // where a ROUTER has the routing frame
      std::lock_guard<std::mutex> lock(router_mu_);
      Dispatch(m, c.id);
    }
  }
}

void Server::SendConn(uint64_t conn, std::vector<zmq::message_t>& wire) {
  std::shared_ptr<Conn> c;
  {
    std::lock_guard<std::mutex> lock(conns_mu_);
    auto it = conns_.find(conn);
    if (it == conns_.end()) return;  // gone: the caller's deadline reports it
    c = it->second;
  }
  bool queued;
  {
    std::lock_guard<std::mutex> w(c->wmu);
    if (!c->stream.Send(wire)) c->stream.Shutdown();  // the I/O thread drops it
    queued = c->stream.wants_write();
  }
  if (queued) (void)eventfd_write(wake_fd_, 1);  // the I/O thread writes the rest
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

bool Server::OpenSealedLocked(std::vector<zmq::message_t>& frames, Job* job, std::string* key,
                              Status* s) {
  auto h = ReadSealHeader(frames[1]);
  if (!h.ok()) return false;  // plaintext that is not sealed: never run, no answer
  auto notice = [&](const std::string& why) {
    auto wire = SealNotice(h->session, h->req_id, why);
    SendConn(job->conn, wire);
    return false;
  };
  auto it = sessions_.find(h->session);
  if (it == sessions_.end()) return notice("unknown session");
  // Envelope and body now; the data frame on the worker (Worker).
  std::vector<zmq::message_t> plain;
  DataKey data_key{};
  if (!OpenFrames(it->second->key, SealDir::kToServer, *h, frames, 1, &plain, &data_key).ok())
    return notice("sealed message failed authentication");
  if (!it->second->in.Accept(h->counter)) return notice("sealed message replayed or too old");
  job->seal = it->second;
  *key = it->second->peer;
  sealed_requests_++;
  *s = ParseMessage(plain, 0, &job->msg);
  if (s->ok() && job->msg.env.id != h->req_id)
    *s = Status::Err(EPROTO, "sealed message: envelope id does not match its header");
  if (s->ok() && h->frames == 4) {
    if (frames[5].size() > proto::kMaxData + kSealTagLen) {
      *s = Status::Err(EINVAL, "data frame over size limit");
    } else {
      job->sealed_data.emplace();
      job->sealed_data->key = data_key;
      job->sealed_data->wire = std::move(frames[5]);
    }
  }
  return true;
}

Status Server::SealOpenLocked(const std::string& key, Message* rep) {
  if (seal_port_ == 0) return Status::Err(ENOTSUP, "this server has no sealed port");
  if (key.empty()) return Status::Err(EACCES, "a sealed session is opened over CURVE only");
  auto k = NewSealKey();
  if (!k.ok()) return k.status();
  if (sessions_.size() >= kMaxSealSessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
      if (it->second->opened < oldest->second->opened) oldest = it;
    sessions_.erase(oldest);
  }
  auto ss = std::make_shared<SealSession>();
  ss->key = *k;
  ss->peer = key;
  ss->opened = ++sessions_opened_;
  sessions_[k->session] = ss;
  proto::SealOpenRep r;
  r.session = k->session;
  r.key.assign(reinterpret_cast<const char*>(k->key.data()), k->key.size());
  r.port = static_cast<uint32_t>(seal_port_);
  rep->body = proto::Encode(r);
  return Status::Ok();
}

void Server::Dispatch(std::vector<zmq::message_t>& frames, uint64_t conn) {
  if (frames.empty()) return;
  Job job;
  std::string key = frames.size() > 1 && conn == 0 ? PeerKey(frames[1]) : "";
  job.routing = std::move(frames[0]);
  job.conn = conn;
  Status s;
  if (frames.size() < 2) {
    s = Status::Err(EPROTO, "no envelope");
  } else if (conn != 0) {
    if (!OpenSealedLocked(frames, &job, &key, &s)) return;  // the sealed port
  } else {
    s = ParseMessage(frames, 1, &job.msg);
  }
  if (s.ok() && job.msg.env.op == static_cast<uint32_t>(proto::Op::kSealOpen)) {
    Message rep;
    rep.env.op = job.msg.env.op;
    rep.env.id = job.msg.env.id;
    proto::Empty none;
    s = proto::Decode(job.msg.body, &none);
    // Sealed, it is the client's probe of the sealed port: answered empty.
    if (s.ok() && job.seal) {
      rep.body = proto::Encode(none);
    } else if (s.ok()) {
      s = SealOpenLocked(key, &rep);
    }
    if (!s.ok()) {
      rep.body.clear();
      rep.env.err = s.err();
      rep.env.msg = s.message();
    }
    Reply(job, rep, true);
    return;
  }
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
    Reply(job, rep, true);  // router_mu_ is held
    return;
  }
  // A peer's deadline is a hint, never a licence to hold a worker for days.
  if (job.msg.env.timeout_ms == 0 || job.msg.env.timeout_ms > proto::kMaxTimeoutMs)
    job.msg.env.timeout_ms = std::min<uint32_t>(proto::kMaxTimeoutMs, kDefaultTimeoutMs);
  Lane* lane = lanes_.at(it->second.lane).get();
  job.queued = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(lane->mu);
    if (it->second.quick && lane->threads == 1 && !lane->busy && lane->jobs.empty()) {
      lane->busy = true;  // run by IoLoop once router_mu_ is free (Run replies under it)
      lane->idle_due = true;
      quick_.push_back(QuickJob{lane, std::move(job)});
      return;
    }
    lane->jobs.push_back(std::move(job));
  }
  lane->cv.notify_one();
}

void Server::Reply(Job& job, Message& rep, bool locked) {
  // A sealed request came on a sealed connection: its reply goes back there,
  // sealed, without the ROUTER or router_mu_. Replies may then leave out of
  // counter order, which the client's ReplayWindow allows.
  if (job.seal) {
    auto w = SealMessage(job.seal->key, SealDir::kToClient, job.seal->out.fetch_add(1) + 1, rep);
    if (w.ok()) SendConn(job.conn, *w);  // else the caller's deadline reports it
    return;
  }
  if (locked) {
    SendFrames(router_, job.routing, rep);
    return;
  }
  bool waiting = false;
  {
    std::lock_guard<std::mutex> lock(router_mu_);
    SendFrames(router_, job.routing, rep);
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
    const bool serial = lane->threads == 1;  // keeps busy (see Lane)
    {
      std::unique_lock<std::mutex> lock(lane->mu);
      auto woken = [&] { return lane->stop || (!lane->jobs.empty() && !lane->busy); };
      // Woken for a job, and also when the I/O thread ran one (SetQuick):
      // the idle work waits idle_after from the last request either way.
      while (!woken()) {
        if (!lane->idle || !lane->idle_due) {
          lane->cv.wait(lock);
        } else if (lane->cv.wait_for(lock, lane->idle_after) == std::cv_status::timeout) {
          if (woken() || lane->busy ||
              std::chrono::steady_clock::now() - lane->last_ran < lane->idle_after)
            continue;
          lane->idle_due = false;  // once per quiet stretch, on one thread
          lane->busy = serial;
          lock.unlock();
          try {
            lane->idle();
          } catch (const std::exception&) {
            // The idle work's own business; the lane goes on.
          }
          lock.lock();
          lane->busy = false;
        }
      }
      if (lane->stop) return;
      job = std::move(lane->jobs.front());
      lane->jobs.pop_front();
      lane->idle_due = true;
      lane->busy = serial;
    }
    Run(job);
    if (serial) {
      std::lock_guard<std::mutex> lock(lane->mu);
      lane->busy = false;
      lane->last_ran = std::chrono::steady_clock::now();
    }
  }
}

void Server::Run(Job& job) {
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
    if (job.sealed_data) {
      zmq::message_t data;
      s = OpenData(job.sealed_data->key, job.sealed_data->wire, &data);
      if (s.ok()) {
        job.msg.data = std::move(data);
        job.msg.sealed_data = std::move(job.sealed_data);  // for a forward
      }
    }
    try {
      if (s.ok()) s = routes_.at(job.msg.env.op).handler(job.msg, &rep);
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
  Reply(job, rep);
}

}  // namespace dos::net
