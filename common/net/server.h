// Server: a ROUTER socket, an I/O thread and lanes of worker threads.
//
// Each op is registered on a lane; a lane is a queue served by its own
// threads (meta runs on a one-thread lane so that its operations are
// serial; the chunk store on a wide one so that a write waiting on the next
// replica does not hold up others). The I/O thread only takes requests in:
// it checks the envelope (EPROTO for garbage, a wrong version or an unknown
// op, answered at once) and queues the request; a worker decodes the body,
// calls the handler and sends the reply on the ROUTER itself (under
// router_mu_, so a reply costs no wake-up of the I/O thread). A quick op
// (SetQuick) whose one-thread lane is idle is run by the I/O thread itself. A request that
// waited in its lane's queue past its timeout_ms is answered ETIMEDOUT and
// never run: its sender has given up on it and reported an error, so it
// must not take effect afterwards. A handler's exception becomes EIO;
// nothing a peer sends stops the loop.
// With CURVE on (net::SetSecurity) the ROUTER is a CURVE server and the
// authorizer sees the peer's key on every request. The server then also
// listens on a second port of the same host (any free one), plain TCP
// without ZeroMQ (common/net/stream.h), for sealed messages
// (common/net/seal.h): a peer asks for a session key with kSealOpen over
// CURVE; a sealed request counts as coming from the key that opened its
// session, and gets a sealed reply on the same connection. Anything on that
// port that is not a sealed message under a known session is not run; a
// connection that breaks the framing is closed.
//
// The I/O thread sleeps in poll(2) on the ROUTER's ZMQ_FD, an eventfd and
// the sealed port's sockets without holding router_mu_. ZMQ_FD only says
// "look at ZMQ_EVENTS again", and any operation on the socket may take that
// signal, so a worker that sends a reply and then finds a request waiting
// writes the eventfd; so does one whose reply a sealed connection could not
// take at once (the I/O thread writes the rest when the socket has room).
#pragma once

#include <poll.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/net/message.h"
#include "common/net/seal.h"
#include "common/net/stream.h"

namespace dos::net {

class Server {
 public:
  // Fills *rep (body, data) and returns its status; err goes in the envelope.
  using Handler = std::function<Status(Message& req, Message* rep)>;
  // Decides whether the peer whose CURVE public key (Z85, the ZAP user id;
  // empty without CURVE) may run op; its error goes back as the reply.
  using Authorizer = std::function<Status(const std::string& key, uint32_t op)>;

  explicit Server(zmq::context_t* ctx);
  ~Server();  // Stop()

  // Told of every request a worker handled: op, bytes in and out (body and
  // data), nanoseconds in the handler and the errno (0 for success). Called
  // on worker threads; set before Start() (dosd's metrics).
  using Observer =
      std::function<void(uint32_t op, size_t in_bytes, size_t out_bytes, int64_t ns, int err)>;
  void set_observer(Observer o) { observer_ = std::move(o); }

  void AddLane(int lane, int threads);
  // Runs fn on one of lane's threads once the lane has had no request for
  // after_ms, then not again before another request has run (work that may
  // wait for a quiet moment: meta removes unlinked inodes there). Set after
  // AddLane, before Start().
  void SetIdle(int lane, int after_ms, std::function<void()> fn);
  void Register(proto::Op op, int lane, Handler h);
  // op's handler is quick: it never waits on another server (no network
  // call, no lock held by a peer) and runs in a short, bounded time. When
  // its lane has one thread and nothing queued or running, the I/O thread
  // runs such a request itself instead of handing it to the lane's worker
  // (one thread wake-up less: about 25 us of the 90 us of a round trip
  // here). The lane stays serial: its worker waits while the I/O thread
  // runs one. After Register, before Start().
  void SetQuick(proto::Op op);
  // Checked on every request before it is queued; none: everyone may.
  void SetAuthorizer(Authorizer a) { authorize_ = std::move(a); }
  // Binds endpoint ("tcp://127.0.0.1:7701", or port "*" for any free one).
  Status Bind(const std::string& endpoint);
  const std::string& endpoint() const { return endpoint_; }  // as bound
  // The sealed listener's port; 0 when there is none (CURVE off, or not TCP).
  int seal_port() const { return seal_port_; }
  // Requests taken in sealed so far.
  uint64_t sealed_requests() const { return sealed_requests_.load(); }
  void Start();
  void Stop();

 private:
  struct SealSession {
    SealKey key;
    std::string peer;   // the CURVE key that opened it (Z85)
    ReplayWindow in;    // under router_mu_
    std::atomic<uint64_t> out{0};  // the last counter of a reply
    uint64_t opened = 0;           // order of opening, for eviction
  };
  struct Job {
    zmq::message_t routing;  // a ROUTER peer's
    uint64_t conn = 0;       // or, when set, the sealed connection it came on
    Message msg;
    std::chrono::steady_clock::time_point queued;  // when the I/O thread took it in
    std::shared_ptr<SealSession> seal;             // a sealed request: reply sealed
    // Its data frame, still sealed, and its key: opened by the worker, off
    // the I/O thread.
    std::optional<SealedData> sealed_data;
  };
  struct Lane {
    int threads = 1;
    std::mutex mu;  // guards jobs, stop
    std::condition_variable cv;
    std::deque<Job> jobs;
    bool stop = false;
    std::function<void()> idle;  // see SetIdle; fixed before Start()
    std::chrono::milliseconds idle_after{0};
    bool idle_due = false;  // a request ran since idle last ran
    // One-thread lanes: a request or the idle work runs (on the worker or,
    // for a quick op, on the I/O thread), so nothing else may start.
    bool busy = false;
    std::chrono::steady_clock::time_point last_ran;  // when a request last ended
    std::vector<std::thread> workers;
  };
  struct Route {
    int lane;
    Handler handler;
    bool quick = false;  // see SetQuick
  };
  struct QuickJob {
    Lane* lane;
    Job job;
  };
  // A connection to the sealed port. The I/O thread alone reads it and
  // drops it; replies are written under wmu by whichever thread has one.
  struct Conn {
    Conn(int fd, uint64_t id) : stream(fd), id(id) {}
    FrameStream stream;
    const uint64_t id;
    std::mutex wmu;
  };
  void IoLoop();
  // Under router_mu_: takes in every request waiting on the ROUTER.
  void DrainLocked();
  void Worker(Lane* lane);
  // Runs job's handler and sends its reply (takes router_mu_).
  void Run(Job& job);
  // frames[0] is the ROUTER's routing frame (empty for a sealed connection,
  // conn). Under router_mu_.
  void Dispatch(std::vector<zmq::message_t>& frames, uint64_t conn = 0);
  // The sealed port's work on the I/O thread: new connections, messages
  // in, queued replies out. Adds the descriptors to poll to fds; true while
  // accepting is paused (poll then wakes again after a while).
  bool PollConns(std::vector<pollfd>* fds, std::vector<std::shared_ptr<Conn>>* polled);
  void ServeConns(const std::vector<pollfd>& fds, size_t first,
                  const std::vector<std::shared_ptr<Conn>>& polled);
  void SendConn(uint64_t conn, std::vector<zmq::message_t>& wire);
  // Under router_mu_: opens a message of the sealed port into job (msg, seal)
  // and *key. False when it is not to be run (a notice went back, or it was
  // not a sealed message at all).
  bool OpenSealedLocked(std::vector<zmq::message_t>& frames, Job* job, std::string* key,
                        Status* s);
  // Under router_mu_: a new session for the CURVE peer key, as rep's body.
  Status SealOpenLocked(const std::string& key, Message* rep);
  // Sends rep to routing: sealed under seal when set. Takes router_mu_
  // unless locked is true.
  void Reply(Job& job, Message& rep, bool locked = false);
  void BindSealed();

  zmq::context_t* ctx_;
  std::mutex router_mu_;  // guards router_ once started, and stop_
  zmq::socket_t router_;
  bool stop_ = false;
  int wake_fd_ = -1;  // eventfd: the I/O thread must look at the ROUTER (or stop)
  std::string endpoint_;
  int seal_port_ = 0;
  int listen_fd_ = -1;  // the sealed port
  std::mutex conns_mu_;  // guards conns_ (after router_mu_, before a Conn's wmu)
  std::map<uint64_t, std::shared_ptr<Conn>> conns_;
  uint64_t next_conn_ = 0;  // I/O thread only
  std::chrono::steady_clock::time_point accept_paused_until_;  // I/O thread only
  std::atomic<uint64_t> sealed_requests_{0};
  std::map<uint64_t, std::shared_ptr<SealSession>> sessions_;  // under router_mu_
  uint64_t sessions_opened_ = 0;                               // under router_mu_
  std::map<int, std::unique_ptr<Lane>> lanes_;
  std::map<uint32_t, Route> routes_;  // fixed before Start()
  std::vector<QuickJob> quick_;       // under router_mu_: for the I/O thread to run
  Observer observer_;                 // fixed before Start()
  Authorizer authorize_;              // fixed before Start()
  std::thread io_;
  bool started_ = false;
};

// Wraps a typed handler fn(const Req&, Rep*, Message& req, Message* rep):
// decodes the body (EPROTO/EINVAL on failure), checks req.Valid() and
// encodes *rep on success.
template <typename Req, typename Rep, typename Fn>
Server::Handler Typed(Fn fn) {
  return [fn](Message& in, Message* out) -> Status {
    Req req;
    if (Status s = proto::Decode(in.body, &req); !s.ok()) return s;
    if constexpr (requires { req.Valid(); }) {
      if (Status s = req.Valid(); !s.ok()) return s;
    }
    Rep rep;
    Status s = fn(req, &rep, in, out);
    if (s.ok()) out->body = proto::Encode(rep);
    return s;
  };
}

}  // namespace dos::net
