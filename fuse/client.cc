#include "fuse/client.h"

#include <algorithm>
#include <chrono>
#include <random>

namespace dos::fs {

namespace {

constexpr int64_t kSuspectMs = 10000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t RandomClientId() {
  std::random_device rd;
  uint64_t id = 0;
  while (id == 0) id = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return id;
}

}  // namespace

Cluster::Cluster(const ClientConf& conf)
    : ctx_(1),
      timeout_ms_(conf.timeout_ms),
      chunk_timeout_ms_(std::min(conf.chunk_timeout_ms, conf.timeout_ms)),
      client_id_(RandomClientId()),
      meta_(std::make_unique<net::Client>(&ctx_, conf.meta)) {
  // Metadata goes sealed too: the sealed port is a plain TCP socket, a
  // round trip without ZeroMQ's I/O threads (common/net/stream.h).
  meta_->set_sealed(true);
}

Cluster::~Cluster() {
  // Clients first: their I/O threads own sockets of ctx_.
  nodes_.clear();
  meta_.reset();
}

net::Client& Cluster::Node(const std::string& endpoint) {
  std::lock_guard<std::mutex> lock(nodes_mu_);
  auto& slot = nodes_[endpoint];
  if (!slot) {
    slot = std::make_unique<net::Client>(&ctx_, endpoint);
    slot->set_sealed(true);  // chunk data: AES-GCM instead of CURVE once keyed
  }
  return *slot;
}

void Cluster::NoteResult(const std::string& endpoint, const Status& s) {
  std::lock_guard<std::mutex> lock(nodes_mu_);
  if (s.err() == ETIMEDOUT) {
    suspect_until_ms_[endpoint] = NowMs() + kSuspectMs;
  } else {
    suspect_until_ms_.erase(endpoint);  // it answered
  }
}

bool Cluster::Suspect(const std::string& endpoint) {
  std::lock_guard<std::mutex> lock(nodes_mu_);
  auto it = suspect_until_ms_.find(endpoint);
  if (it == suspect_until_ms_.end()) return false;
  if (it->second > NowMs()) return true;
  suspect_until_ms_.erase(it);
  return false;
}

std::vector<proto::Replica> Cluster::Ordered(const std::vector<proto::Replica>& replicas) {
  std::vector<proto::Replica> out;
  for (const auto& r : replicas)
    if (!Suspect(r.addr)) out.push_back(r);
  for (const auto& r : replicas)
    if (Suspect(r.addr)) out.push_back(r);
  return out;
}

}  // namespace dos::fs
