#include "daemon/meta/node_client.h"

#include <cstdio>
#include <future>

namespace dos::meta {

namespace {
// Short: a delete is retried by nobody, and a dead node must not hold up
// the deletes queued behind it (or shutdown) for long.
constexpr int kDeleteTimeoutMs = 1000;
}  // namespace

NodeClient::NodeClient(zmq::context_t* ctx, Resolve resolve, int timeout_ms)
    : ctx_(ctx), resolve_(std::move(resolve)), timeout_ms_(timeout_ms) {
  deleter_ = std::thread([this] { DeleteLoop(); });
}

NodeClient::~NodeClient() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  deleter_.join();
}

net::Client* NodeClient::ClientFor(const std::string& addr) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& c = clients_[addr];
  if (!c) c = std::make_unique<net::Client>(ctx_, addr);
  return c.get();
}

void NodeClient::Truncate(uint64_t id, uint64_t version, uint64_t length,
                          const std::vector<std::string>& nodes) {
  // In parallel, so that a dead node costs one deadline, not one per node.
  proto::ChunkTruncateReq req{id, version, length};
  std::vector<std::pair<std::string, std::future<Status>>> calls;
  for (const std::string& node : nodes) {
    std::string addr = resolve_(node);
    if (addr.empty()) continue;
    net::Client* client = ClientFor(addr);
    calls.emplace_back(node, std::async(std::launch::async, [client, req, this] {
                         proto::Empty rep;
                         return client->Call(proto::Op::kChunkTruncate, req, &rep, timeout_ms_);
                       }));
  }
  for (auto& [node, call] : calls) {
    Status s = call.get();
    if (!s.ok())
      fprintf(stderr, "meta: truncate chunk %llu on %s: %s\n", static_cast<unsigned long long>(id),
              node.c_str(), s.ToString().c_str());
  }
}

void NodeClient::Delete(uint64_t id, const std::vector<std::string>& nodes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& node : nodes) {
      std::string addr = resolve_(node);
      if (!addr.empty()) jobs_.push_back(Job{id, node, addr});
    }
  }
  cv_.notify_one();
}

void NodeClient::DeleteLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (stop_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    proto::Empty rep;
    Status s = ClientFor(job.addr)->Call(proto::Op::kChunkDelete, proto::ChunkIdReq{job.id}, &rep,
                                         kDeleteTimeoutMs);
    if (!s.ok() && s.err() != ENOENT)
      fprintf(stderr, "meta: delete chunk %llu on %s: %s\n",
              static_cast<unsigned long long>(job.id), job.node.c_str(), s.ToString().c_str());
    lock.lock();
  }
}

}  // namespace dos::meta
