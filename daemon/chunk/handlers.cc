// Each handler checks sizes and fields before it touches the store; Valid()
// has already run in net::Typed.
#include "daemon/chunk/handlers.h"

#include <algorithm>
#include <future>

namespace dos::chunk {

namespace {

constexpr uint64_t kMaxChunkBytes = proto::kMaxChunkSize;
constexpr size_t kMaxPeers = 64;

// What a forward may wait: a little less than what our caller waits, so that
// our reply (carrying the next node's error) still reaches it in time.
int ForwardTimeout(uint32_t timeout_ms) {
  int t = timeout_ms ? static_cast<int>(timeout_ms) : net::kDefaultTimeoutMs;
  int margin = std::clamp(t / 10, 20, 1000);
  return t > margin ? t - margin : 1;
}

}  // namespace

std::shared_ptr<net::Client> ChunkHandlers::Peer(const std::string& addr) {
  std::lock_guard<std::mutex> lock(peers_mu_);
  auto it = peers_.find(addr);
  if (it != peers_.end()) return it->second;
  // Chain addresses come from the peer: a bound keeps a stream of made-up ones
  // from costing a thread and sockets each. A call in flight keeps its client.
  if (peers_.size() >= kMaxPeers) peers_.erase(peers_.begin());
  auto c = std::make_shared<net::Client>(ctx_, addr);
  peers_[addr] = c;
  return c;
}

Status ChunkHandlers::Forward(const proto::ChunkWriteReq& req, std::string_view data,
                              uint32_t timeout_ms) {
  proto::ChunkWriteReq next = req;
  next.chain.assign(req.chain.begin() + 1, req.chain.end());
  proto::Empty rep;
  Status s = Peer(req.chain[0])->Call(proto::Op::kChunkWrite, next, &rep,
                                      ForwardTimeout(timeout_ms), data, nullptr, true);
  if (!s.ok()) return Status::Err(s.err(), "replica " + req.chain[0] + ": " + s.message());
  return s;
}

Status ChunkHandlers::Write(const proto::ChunkWriteReq& req, net::Message& in) {
  std::string_view data = in.DataView();
  if (data.size() > proto::kMaxData) return Status::Err(EINVAL, "write data too large");
  if (req.offset + data.size() > kMaxChunkBytes)
    return Status::Err(EFBIG, "write past the largest chunk");
  for (const auto& addr : req.chain)
    if (addr.empty() || addr.size() > proto::kMaxPath)
      return Status::Err(EINVAL, "bad replica address in chain");
  std::future<Status> fwd;
  if (!req.chain.empty())
    fwd = std::async(std::launch::async,
                     [this, &req, data, t = in.env.timeout_ms] { return Forward(req, data, t); });
  Status local = store_->Write(req.id, req.version, req.offset, data);
  Status remote = fwd.valid() ? fwd.get() : Status::Ok();
  return local.ok() ? remote : local;
}

Status ChunkHandlers::Read(const proto::ChunkReadReq& req, net::Message* out) {
  auto buf = std::make_unique<std::string>();
  size_t skip = 0;
  Status s = store_->Read(req.id, req.version, req.offset, req.length, buf.get(), &skip);
  if (!s.ok()) return s;
  // Hand the buffer to ZeroMQ as it is: no copy of the data.
  std::string* raw = buf.release();
  out->data.emplace(
      raw->data() + skip, raw->size() - skip,
      [](void*, void* hint) { delete static_cast<std::string*>(hint); }, raw);
  return Status::Ok();
}

void ChunkHandlers::Register(net::Server* server, int lane) {
  using net::Message;
  using net::Typed;
  using proto::Empty;
  using proto::Op;
  server->Register(Op::kChunkWrite, lane,
                   Typed<proto::ChunkWriteReq, Empty>(
                       [this](const proto::ChunkWriteReq& req, Empty*, Message& in, Message*) {
                         return Write(req, in);
                       }));
  server->Register(Op::kChunkRead, lane,
                   Typed<proto::ChunkReadReq, Empty>(
                       [this](const proto::ChunkReadReq& req, Empty*, Message&, Message* out) {
                         return Read(req, out);
                       }));
  server->Register(Op::kChunkTruncate, lane,
                   Typed<proto::ChunkTruncateReq, Empty>(
                       [this](const proto::ChunkTruncateReq& req, Empty*, Message&, Message*) {
                         return store_->Truncate(req.id, req.version, req.length);
                       }));
  server->Register(Op::kChunkDelete, lane,
                   Typed<proto::ChunkIdReq, Empty>(
                       [this](const proto::ChunkIdReq& req, Empty*, Message&, Message*) {
                         return store_->Delete(req.id);
                       }));
  server->Register(Op::kChunkStat, lane,
                   Typed<proto::ChunkIdReq, proto::ChunkStatRep>(
                       [this](const proto::ChunkIdReq& req, proto::ChunkStatRep* rep, Message&,
                              Message*) {
                         auto st = store_->Stat(req.id);
                         if (!st.ok()) return st.status();
                         rep->version = st->version;
                         rep->length = st->length;
                         return Status::Ok();
                       }));
  server->Register(Op::kChunkSync, lane,
                   Typed<proto::ChunkIdReq, Empty>(
                       [this](const proto::ChunkIdReq& req, Empty*, Message&, Message*) {
                         return store_->Sync(req.id);
                       }));
}

}  // namespace dos::chunk
