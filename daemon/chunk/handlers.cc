// Each handler checks sizes and fields before it touches the store; Valid()
// has already run in net::Typed.
#include "daemon/chunk/handlers.h"

#include <algorithm>
#include <optional>

#include "daemon/chunk/scrub.h"

namespace dos::chunk {

namespace {

constexpr uint64_t kMaxChunkBytes = proto::kMaxChunkSize;
constexpr size_t kMaxPeers = 64;
constexpr uint32_t kCopyPiece = 1 << 20;  // bytes per kChunkRead of a replicate

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
  c->set_sealed(true);  // chain hops and copies carry chunk data
  peers_[addr] = c;
  return c;
}

Status ChunkHandlers::Write(const proto::ChunkWriteReq& req, net::Message& in,
                            proto::ChunkWriteRep* rep) {
  std::string_view data = in.DataView();
  if (data.size() > proto::kMaxData) return Status::Err(EINVAL, "write data too large");
  std::vector<ChunkStore::Piece> pieces;
  if (req.extents.empty()) {
    if (req.offset + data.size() > kMaxChunkBytes)
      return Status::Err(EFBIG, "write past the largest chunk");
    pieces.push_back({req.offset, data});
  } else {
    // Valid() bounded each extent; they must cover the data frame exactly.
    size_t at = 0;
    for (const proto::Extent& e : req.extents) {
      if (e.length > data.size() - at)
        return Status::Err(EINVAL, "extents longer than the data frame");
      pieces.push_back({e.offset, data.substr(at, e.length)});
      at += e.length;
    }
    if (at != data.size()) return Status::Err(EINVAL, "extents shorter than the data frame");
  }
  for (const auto& addr : req.chain)
    if (addr.empty() || addr.size() > proto::kMaxPath)
      return Status::Err(EINVAL, "bad replica address in chain");
  // The next replica gets the write first (the same data frame, shared, not
  // copied; sealed as it came, not sealed again) and works on it while this
  // node writes its own copy.
  std::optional<net::Client::Ticket> fwd;
  std::shared_ptr<net::Client> next_node;
  if (!req.chain.empty()) {
    proto::ChunkWriteReq next = req;
    next.chain.assign(req.chain.begin() + 1, req.chain.end());
    zmq::message_t shared;
    if (in.data) shared.copy(*in.data);
    std::optional<net::SealedData> sealed;
    if (in.sealed_data) sealed = in.sealed_data->Share();
    next_node = Peer(req.chain[0]);
    const proto::Op op =
        next.chain.empty() ? proto::Op::kChunkForwardLast : proto::Op::kChunkForward;
    fwd = next_node->Send(op, proto::Encode(next), std::move(shared),
                          ForwardTimeout(in.env.timeout_ms), std::move(sealed));
  }
  Status local = store_->Write(req.id, req.version, pieces);
  if (!fwd) return local;
  proto::ChunkWriteRep next_rep;
  Status remote = next_node->Wait(*fwd, &next_rep);
  if (!remote.ok())
    remote = Status::Err(remote.err(), "replica " + req.chain[0] + ": " + remote.message());
  // A newer version anywhere: the writer's layout is old, it must ask meta.
  if (local.err() == ESTALE) return local;
  if (remote.err() == ESTALE) return remote;
  if (!local.ok()) return local;
  // The next replica (and, unseen, the rest of the chain) missed it: the
  // caller has meta drop it; with it answering, its own report stands.
  if (!remote.ok())
    rep->failed.push_back({req.chain[0], remote.err()});
  else
    rep->failed = std::move(next_rep.failed);
  return Status::Ok();
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

// Pulls the whole chunk from req.source. An old local copy (a stale replica
// from before this node went down, or a corrupt one) goes first, so the new
// copy holds exactly the source's bytes, every CRC computed afresh.
Status ChunkHandlers::Replicate(const proto::ChunkReplicateReq& req, uint32_t timeout_ms) {
  int t = ForwardTimeout(timeout_ms);
  std::shared_ptr<net::Client> src = Peer(req.source);
  proto::ChunkStatRep st;
  if (Status s = src->Call(proto::Op::kChunkStat, proto::ChunkIdReq{req.id}, &st, t); !s.ok())
    return Status::Err(s.err(), "stat at " + req.source + ": " + s.message());
  if (st.length > kMaxChunkBytes) return Status::Err(EINVAL, "source chunk too long");
  if (Status s = store_->Delete(req.id); !s.ok() && s.err() != ENOENT) return s;
  if (Status s = store_->Truncate(req.id, req.version, 0); !s.ok()) return s;
  for (uint64_t off = 0; off < st.length; off += kCopyPiece) {
    uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(kCopyPiece, st.length - off));
    proto::ChunkReadReq rd{req.id, req.version, off, len};
    proto::Empty rep;
    std::string data;
    Status s = src->Call(proto::Op::kChunkRead, rd, &rep, t, {}, &data);
    if (s.ok()) s = store_->Write(req.id, req.version, off, data);
    if (!s.ok()) {
      (void)store_->Delete(req.id);  // no half copy left behind
      return Status::Err(s.err(), "copy from " + req.source + ": " + s.message());
    }
  }
  return store_->Sync(req.id);
}

Status ChunkHandlers::DeleteMany(const proto::ChunkDeleteManyReq& req,
                                 proto::ChunkDeleteManyRep* rep) {
  for (uint64_t id : req.ids) {
    Status s = store_->Delete(id);
    if (!s.ok() && s.err() != ENOENT) rep->failed.push_back({id, s.err()});
  }
  return Status::Ok();
}

Status ChunkHandlers::Inventory(const proto::ChunkInventoryReq& req,
                                proto::ChunkInventoryRep* rep) {
  Result<std::vector<HeldChunk>> held = store_->List(req.after, req.max);
  if (!held.ok()) return held.status();
  for (const HeldChunk& c : *held) {
    rep->ids.push_back(c.id);
    rep->versions.push_back(c.version);
  }
  rep->eof = held->size() < req.max;
  return Status::Ok();
}

Status ChunkHandlers::Scrub(const proto::ChunkScrubReq& req, proto::ChunkScrubRep* rep) {
  ScrubResult r;
  if (Status s = ScrubAll(store_, req.rate, nullptr, &r); !s.ok()) return s;
  rep->chunks = r.chunks;
  rep->bytes = r.bytes;
  rep->bad = std::move(r.bad);
  if (rep->bad.size() > proto::kMaxScrubBad) rep->bad.resize(proto::kMaxScrubBad);
  return Status::Ok();
}

void ChunkHandlers::Register(net::Server* server, const ChunkLanes& lanes) {
  using net::Message;
  using net::Typed;
  using proto::Empty;
  using proto::Op;
  const int lane = lanes.client;
  auto write = Typed<proto::ChunkWriteReq, proto::ChunkWriteRep>(
      [this](const proto::ChunkWriteReq& req, proto::ChunkWriteRep* rep, Message& in, Message*) {
        return Write(req, in, rep);
      });
  server->Register(Op::kChunkWrite, lane, write);
  server->Register(Op::kChunkForward, lanes.forward, write);
  server->Register(Op::kChunkForwardLast, lanes.last, write);
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
  server->Register(
      Op::kChunkDeleteMany, lane,
      Typed<proto::ChunkDeleteManyReq, proto::ChunkDeleteManyRep>(
          [this](const proto::ChunkDeleteManyReq& req, proto::ChunkDeleteManyRep* rep, Message&,
                 Message*) { return DeleteMany(req, rep); }));
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
  server->Register(Op::kChunkReplicate, lane,
                   Typed<proto::ChunkReplicateReq, Empty>(
                       [this](const proto::ChunkReplicateReq& req, Empty*, Message& in, Message*) {
                         return Replicate(req, in.env.timeout_ms);
                       }));
  server->Register(
      Op::kChunkInventory, lane,
      Typed<proto::ChunkInventoryReq, proto::ChunkInventoryRep>(
          [this](const proto::ChunkInventoryReq& req, proto::ChunkInventoryRep* rep, Message&,
                 Message*) { return Inventory(req, rep); }));
  server->Register(Op::kChunkScrub, lane,
                   Typed<proto::ChunkScrubReq, proto::ChunkScrubRep>(
                       [this](const proto::ChunkScrubReq& req, proto::ChunkScrubRep* rep,
                              Message&, Message*) { return Scrub(req, rep); }));
}

}  // namespace dos::chunk
