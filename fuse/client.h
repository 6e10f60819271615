// Cluster: this dosfs process's connection to a dos cluster.
//
// One net::Client to meta (from dos.conf) and, filled on first use, one
// net::Client per chunk node endpoint. Also the random 64-bit client id that
// names this process to meta (open handles, lock owners).
//
// Thread safety: every method may be called from any FUSE worker thread.
// Node clients are never removed, so a returned reference stays valid for the
// Cluster's lifetime. Lock order: nodes_mu_ is a leaf.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/client/conf.h"
#include "common/net/client.h"
#include "common/proto/messages.h"

namespace dos::fs {

class Cluster {
 public:
  explicit Cluster(const ClientConf& conf);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  uint64_t client_id() const { return client_id_; }
  int timeout_ms() const { return timeout_ms_; }
  // Deadline of one chunk read or write on one replica (shorter, so that a
  // dead replica costs little before the next one is tried).
  int chunk_timeout_ms() const { return chunk_timeout_ms_; }
  const std::string& meta_endpoint() const { return meta_->endpoint(); }

  // A typed call to meta with the configured deadline.
  template <typename Req, typename Rep>
  Status Meta(proto::Op op, const Req& req, Rep* rep) {
    return meta_->Call(op, req, rep, timeout_ms_);
  }
  template <typename Req, typename Rep>
  Status MetaWithTimeout(proto::Op op, const Req& req, Rep* rep, int timeout_ms) {
    return meta_->Call(op, req, rep, timeout_ms);
  }

  // The client of the chunk node at endpoint, created on first use.
  net::Client& Node(const std::string& endpoint);

  // Health of node endpoints as this process saw it: a node that let a
  // request time out is suspect for kSuspectMs, and readers and writers try
  // it last (so a dead replica costs one timeout, not one per request).
  void NoteResult(const std::string& endpoint, const Status& s);
  bool Suspect(const std::string& endpoint);
  // replicas reordered: the ones not suspect first, order kept otherwise.
  std::vector<proto::Replica> Ordered(const std::vector<proto::Replica>& replicas);

 private:
  zmq::context_t ctx_;
  int timeout_ms_;
  int chunk_timeout_ms_;
  uint64_t client_id_;
  std::unique_ptr<net::Client> meta_;
  std::mutex nodes_mu_;  // guards nodes_ and suspect_until_ms_
  std::map<std::string, std::unique_ptr<net::Client>> nodes_;
  std::map<std::string, int64_t> suspect_until_ms_;  // steady clock
};

}  // namespace dos::fs
