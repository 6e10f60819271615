// NodeClient: NodeOps over ZeroMQ. One net::Client per node endpoint, made on
// first use. Truncations are synchronous (all nodes at once, within timeout_ms);
// deletions go to a background thread so that the meta thread never waits
// on a dead node for them. That thread sends them in batches, one
// kChunkDeleteMany per node for up to proto::kMaxDeleteBatch chunks, every
// node's sent before any reply is waited for, after lingering a moment for
// more. Failures are logged to
// stderr, never returned.
//
// Thread safety: Truncate/Delete from one thread (meta's); the deleter thread
// shares clients_ under mu_. Lock order: mu_ only.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/net/client.h"
#include "daemon/meta/node_ops.h"

namespace dos::meta {

// Deletes chunks ids (at most proto::kMaxDeleteBatch) from the node behind
// client in one kChunkDeleteMany; a node without that op (EPROTO, "unknown
// op") gets one kChunkDelete per chunk instead. The reply lists the chunks
// still there, with their errno (never ENOENT); an error is the call's own
// (ETIMEDOUT, EIO for a lost peer, EACCES) and says nothing of any chunk.
// Blocks up to timeout_ms per call.
Result<proto::ChunkDeleteManyRep> DeleteChunks(net::Client* client,
                                               const std::vector<uint64_t>& ids,
                                               int timeout_ms);
// DeleteChunks in two halves, so that calls to many nodes can be out at once.
net::Client::Ticket SendDeleteMany(net::Client* client, const std::vector<uint64_t>& ids,
                                   int timeout_ms);
Result<proto::ChunkDeleteManyRep> WaitDeleteMany(net::Client* client,
                                                 const std::vector<uint64_t>& ids,
                                                 net::Client::Ticket& ticket, int timeout_ms);

class NodeClient : public NodeOps {
 public:
  // resolve gives the endpoint of a node name ("" if unknown); called on the
  // caller's thread only.
  using Resolve = std::function<std::string(const std::string& node)>;
  NodeClient(zmq::context_t* ctx, Resolve resolve, int timeout_ms);
  ~NodeClient() override;  // finishes no queued deletes: they are best effort

  void Truncate(uint64_t id, uint64_t version, uint64_t length,
                const std::vector<std::string>& nodes) override;
  void Delete(uint64_t id, const std::vector<std::string>& nodes) override;

 private:
  struct Job {
    uint64_t id;
    std::string node;
    std::string addr;
  };
  net::Client* ClientFor(const std::string& addr);
  void DeleteLoop();
  // Under mu_: takes the queued jobs, at most proto::kMaxDeleteBatch per
  // node, one batch per node; the rest stay queued in order.
  std::vector<std::vector<Job>> TakeBatches();
  // One node's kChunkDeleteMany in flight.
  struct Batch {
    std::string node;
    net::Client* client = nullptr;
    std::vector<uint64_t> ids;
    int timeout_ms = 0;
    net::Client::Ticket ticket;
  };
  // Sends one batch (all for one node) without waiting for the reply.
  Batch SendBatch(std::vector<Job> jobs);
  // Waits for its reply and logs what failed.
  void FinishBatch(Batch& b);

  zmq::context_t* ctx_;
  Resolve resolve_;
  int timeout_ms_;
  std::mutex mu_;  // guards clients_, jobs_, stop_
  std::condition_variable cv_;
  std::map<std::string, std::unique_ptr<net::Client>> clients_;
  std::deque<Job> jobs_;
  bool stop_ = false;
  std::thread deleter_;
};

}  // namespace dos::meta
