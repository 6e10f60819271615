// Wire glue of the chunk service: decodes a request, calls ChunkStore,
// forwards writes along the replica chain and encodes the reply.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/net/client.h"
#include "common/net/server.h"
#include "daemon/chunk/chunk_service.h"
#include "daemon/chunk/chunk_store.h"

namespace dos::chunk {

class ChunkHandlers {
 public:
  // store is not owned and must outlive this object.
  ChunkHandlers(zmq::context_t* ctx, ChunkStore* store) : ctx_(ctx), store_(store) {}

  // Registers the chunk ops on their lanes of server (see ChunkLanes).
  void Register(net::Server* server, const ChunkLanes& lanes);

  // Writes here and along the chain; rep->failed lists later replicas that
  // missed the write (see proto::ChunkWriteRep).
  Status Write(const proto::ChunkWriteReq& req, net::Message& in, proto::ChunkWriteRep* rep);
  Status Read(const proto::ChunkReadReq& req, net::Message* out);
  // A fresh local copy of chunk req.id, read from the replica req.source.
  Status Replicate(const proto::ChunkReplicateReq& req, uint32_t timeout_ms);
  // Deletes every chunk of req; the ones still there (an errno other than
  // ENOENT) go to rep->failed. Always OK: Valid() has checked the request.
  Status DeleteMany(const proto::ChunkDeleteManyReq& req, proto::ChunkDeleteManyRep* rep);
  Status Inventory(const proto::ChunkInventoryReq& req, proto::ChunkInventoryRep* rep);
  Status Scrub(const proto::ChunkScrubReq& req, proto::ChunkScrubRep* rep);

 private:
  // The cached client of the replica at addr (created on first use).
  std::shared_ptr<net::Client> Peer(const std::string& addr);

  zmq::context_t* ctx_;
  ChunkStore* store_;
  std::mutex peers_mu_;  // guards peers_; a leaf lock
  std::map<std::string, std::shared_ptr<net::Client>> peers_;  // at most kMaxPeers
};

}  // namespace dos::chunk
