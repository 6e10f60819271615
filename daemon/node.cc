#include "daemon/node.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/net/curve.h"
#include "daemon/auth/roles.h"
#include "daemon/node_mgmt.h"

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
    mo.repair_copies = opts_.repair_copies;
    mo.max_open_per_client = opts_.max_open_per_client;
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
    server_->AddLane(kMetaSlowLane, 1);
    meta_->Register(server_.get(), kMetaLane, kMetaSlowLane);
  }
  server_->AddLane(kChunkLane, kChunkThreads);
  server_->AddLane(kForwardLane, kChunkThreads);
  server_->AddLane(kLastHopLane, kChunkThreads);
  chunk_->Register(server_.get(), chunk::ChunkLanes{kChunkLane, kForwardLane, kLastHopLane});
  RegisterNodeMgmt(server_.get(), kChunkLane, &ctx_);
  server_->set_observer([this](uint32_t op, size_t in, size_t out, int64_t ns, int err) {
    metrics_.Observe(op, in, out, ns, err);
  });
  if (Status s = server_->Bind(opts_.listen); !s.ok()) return s;
  endpoint_ = server_->endpoint();
  server_->Start();
  if (Status s = StartMetrics(); !s.ok()) return s;
  if (Status s = Join(); !s.ok()) return s;
  std::string meta = !opts_.join.empty() ? opts_.join : opts_.meta.empty() ? endpoint_ : opts_.meta;
  heartbeat_ = std::make_unique<Heartbeat>(
      &ctx_, meta, opts_.heartbeat_ms, [this] { return MakeHeartbeat(); },
      [this](const proto::HeartbeatRep& rep, int64_t rtt) { OnHeartbeatReply(rep, rtt); },
      [this](net::Client& c) { SyncKeys(c); });
  heartbeat_->Start();
  reporter_ = std::make_unique<net::Client>(&ctx_, meta);
  chunk_->StartScrub(opts_.scrub_rate, [this](uint64_t id) { ReportBad(id); });
  return Status::Ok();
}

Status Node::Join() {
  if (opts_.join.empty()) return Status::Ok();
  net::Client client(&ctx_, opts_.join);
  proto::Empty rep;
  Status s =
      client.Call(proto::Op::kJoin, proto::JoinReq{opts_.name, endpoint_, opts_.token}, &rep, 5000);
  if (!s.ok()) return Status::Err(s.err(), "join through " + opts_.join + ": " + s.message());
  return Status::Ok();
}

Status Node::StartMetrics() {
  if (opts_.metrics_port <= 0) return Status::Ok();
  // The host of the listen endpoint: tcp://HOST:PORT.
  std::string host = opts_.listen.substr(opts_.listen.rfind('/') + 1);
  host = host.substr(0, host.rfind(':'));
  metrics_server_ = std::make_unique<MetricsServer>([this] { return RenderMetrics(); });
  return metrics_server_->Start(host, opts_.metrics_port);
}

void Node::OnHeartbeatReply(const proto::HeartbeatRep& rep, int64_t rtt_us) {
  std::lock_guard<std::mutex> lock(cluster_mu_);
  cluster_ = rep;
  rtt_us_ = rtt_us;
}

std::string Node::RenderMetrics() {
  std::string out = metrics_.Render();
  chunk::ChunkUsage u = chunk_->Usage();
  proto::HeartbeatRep c;
  int64_t rtt;
  {
    std::lock_guard<std::mutex> lock(cluster_mu_);
    c = cluster_;
    rtt = rtt_us_;
  }
  char buf[256];
  auto gauge = [&](const char* name, const char* help, double v) {
    std::snprintf(buf, sizeof(buf), "# HELP %s %s\n# TYPE %s gauge\n%s %.6g\n", name, help, name,
                  name, v);
    out += buf;
  };
  gauge("dos_chunks", "Chunk files on this node's disk.", double(u.chunks));
  gauge("dos_disk_used_bytes", "Bytes used on the data folder's file system.", double(u.used));
  gauge("dos_disk_capacity_bytes", "Size of the data folder's file system.", double(u.capacity));
  gauge("dos_cluster_nodes", "Nodes meta knows (last heartbeat reply).", c.nodes_total);
  gauge("dos_cluster_nodes_up", "Nodes meta sees UP (last heartbeat reply).", c.nodes_up);
  gauge("dos_config_version", "Version of the cluster settings this node has.",
        double(c.config_version));
  gauge("dos_heartbeat_rtt_seconds", "Round trip of the last heartbeat to meta.",
        rtt < 0 ? -1.0 : rtt / 1e6);
  gauge("dos_meta", "1 if this node runs the meta service.", meta_ ? 1 : 0);
  out +=
      "# HELP dos_config_value A cluster setting (dosctl config).\n# TYPE dos_config_value gauge\n";
  for (const auto& [k, v] : c.config) out += "dos_config_value{key=\"" + k + "\"} " + v + "\n";
  return out;
}

void Node::Stop() {
  metrics_server_.reset();
  heartbeat_.reset();
  if (server_) server_->Stop();
  server_.reset();
  if (chunk_) chunk_->StartScrub(0, {});  // the scrub thread ends before reporter_
  reporter_.reset();
  chunk_.reset();
  meta_.reset();
  zap_.reset();
}

void Node::ReportBad(uint64_t id) {
  spdlog::warn("dosd {}: scrub: chunk {:016x} has a bad block; telling meta", opts_.name, id);
  proto::Empty rep;
  Status s = reporter_->Call(proto::Op::kChunkBad, proto::ChunkBadReq{id, opts_.name}, &rep);
  if (!s.ok()) spdlog::warn("dosd {}: report of chunk {:016x}: {}", opts_.name, id, s.ToString());
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
  double load[1];
  if (getloadavg(load, 1) == 1) req.load_milli = static_cast<uint32_t>(load[0] * 1000);
  std::lock_guard<std::mutex> lock(cluster_mu_);
  req.rtt_us = rtt_us_;
  req.config_version = cluster_.config_version;
  return req;
}

}  // namespace dos
