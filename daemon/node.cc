#include "daemon/node.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <filesystem>

#include "common/net/curve.h"
#include "daemon/auth/roles.h"

namespace dos {

namespace {

Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::Err(ec.value(), "cannot create data folder " + path);
  if (!std::filesystem::is_directory(path, ec))
    return Status::Err(ENOTDIR, "data folder " + path + " is not a directory");
  if (access(path.c_str(), R_OK | W_OK | X_OK) != 0)
    return Status::FromErrno("data folder " + path + " is not writable");
  return Status::Ok();
}

}  // namespace

Status Node::OpenServices() {
  if (Status s = MakeDirs(opts_.data); !s.ok()) return s;
  if (opts_.run_meta) {
    if (Status s = MakeDirs(opts_.data + "/meta"); !s.ok()) return s;
    meta::MetaOptions mo;
    mo.db_path = opts_.data + "/meta/meta.db";
    mo.heartbeat_timeout_ms = opts_.heartbeat_timeout_ms;
    mo.default_repl = opts_.repl;
    mo.chunk_size = opts_.chunk_size;
    mo.on_keys = [this](std::map<std::string, net::Role> keys, uint64_t version) {
      ring_.Replace(std::move(keys), version);
    };
    auto m = meta::MetaService::Open(&ctx_, mo);
    if (!m.ok()) return Status::Err(m.err(), "meta service: " + m.status().message());
    meta_ = std::move(m.value());
  }
  auto c = chunk::ChunkService::Open(&ctx_, opts_.data);
  if (!c.ok()) return Status::Err(c.err(), "chunk service: " + c.status().message());
  chunk_ = std::move(c.value());
  return Status::Ok();
}

// With CURVE on: the ZAP handler (before the server binds, or libzmq lets
// every key in) and the per-request role check. The cluster server key may
// do everything; other keys come from meta (directly here when this node
// runs meta, else through SyncKeys).
void Node::StartSecurity() {
  const net::Security& sec = net::GetSecurity();
  if (!sec.curve) return;
  ring_.SetFixed(sec.server.public_z85, net::Role::kCluster);
  zap_ = std::make_unique<net::ZapHandler>(&ctx_, &ring_);
  zap_->Start();
  server_->SetAuthorizer(auth::MakeAuthorizer(&ring_));
}

void Node::SyncKeys(net::Client& meta) {
  if (!net::GetSecurity().curve) return;
  proto::KeyListRep rep;
  Status s = meta.Call(proto::Op::kKeySync, proto::KeySyncReq{ring_.version()}, &rep, 5000);
  if (!s.ok()) {
    spdlog::warn("key sync with meta failed: {}", s.ToString());
    return;
  }
  if (!rep.changed) return;
  std::map<std::string, net::Role> keys;
  for (const auto& k : rep.keys) keys[k.public_key] = net::ParseRole(k.role);
  spdlog::info("key list version {}: {} keys allowed", rep.version, keys.size());
  ring_.Replace(std::move(keys), rep.version);
}

Status Node::Start() {
  if (Status s = OpenServices(); !s.ok()) return s;
  server_ = std::make_unique<net::Server>(&ctx_);
  StartSecurity();
  if (meta_) {
    server_->AddLane(kMetaLane, 1);
    meta_->Register(server_.get(), kMetaLane);
  }
  server_->AddLane(kChunkLane, kChunkThreads);
  chunk_->Register(server_.get(), kChunkLane);
  if (Status s = server_->Bind(opts_.listen); !s.ok()) return s;
  endpoint_ = server_->endpoint();
  server_->Start();
  std::string meta = opts_.meta.empty() ? endpoint_ : opts_.meta;
  heartbeat_ = std::make_unique<Heartbeat>(
      &ctx_, meta, opts_.heartbeat_ms, [this] { return MakeHeartbeat(); },
      [this](net::Client& c) { SyncKeys(c); });
  heartbeat_->Start();
  return Status::Ok();
}

void Node::Stop() {
  heartbeat_.reset();
  if (server_) server_->Stop();
  server_.reset();
  chunk_.reset();
  meta_.reset();
  zap_.reset();
}

proto::HeartbeatReq Node::MakeHeartbeat() {
  proto::HeartbeatReq req;
  req.name = opts_.name;
  req.addr = endpoint_;
  req.data_dir = opts_.data;
  chunk::ChunkUsage u = chunk_->Usage();
  req.capacity = u.capacity;
  req.used = u.used;
  req.chunks = u.chunks;
  req.pid = static_cast<uint32_t>(getpid());
  return req;
}

}  // namespace dos
