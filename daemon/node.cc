#include "daemon/node.h"

#include <unistd.h>

#include <filesystem>

#include <spdlog/spdlog.h>

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
    auto m = meta::MetaService::Open(&ctx_, mo);
    if (!m.ok()) return Status::Err(m.err(), "meta service: " + m.status().message());
    meta_ = std::move(m.value());
  }
  auto c = chunk::ChunkService::Open(&ctx_, opts_.data);
  if (!c.ok()) return Status::Err(c.err(), "chunk service: " + c.status().message());
  chunk_ = std::move(c.value());
  return Status::Ok();
}

Status Node::Start() {
  if (Status s = OpenServices(); !s.ok()) return s;
  server_ = std::make_unique<net::Server>(&ctx_);
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
  heartbeat_ = std::make_unique<Heartbeat>(&ctx_, meta, opts_.heartbeat_ms,
                                           [this] { return MakeHeartbeat(); });
  heartbeat_->Start();
  reporter_ = std::make_unique<net::Client>(&ctx_, meta);
  chunk_->StartScrub(opts_.scrub_rate, [this](uint64_t id) { ReportBad(id); });
  return Status::Ok();
}

void Node::Stop() {
  heartbeat_.reset();
  if (server_) server_->Stop();
  server_.reset();
  if (chunk_) chunk_->StartScrub(0, {});  // the scrub thread ends before reporter_
  reporter_.reset();
  chunk_.reset();
  meta_.reset();
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
  return req;
}

}  // namespace dos
