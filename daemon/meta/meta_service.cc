#include "daemon/meta/meta_service.h"

#include "daemon/meta/meta_impl.h"
#include "daemon/meta/schema.h"

namespace dos::meta {

namespace {
constexpr int kNodeCallTimeoutMs = 3000;
}

MetaServiceImpl::MetaServiceImpl(zmq::context_t* ctx, const MetaOptions& opts,
                                 std::unique_ptr<store::Db> db)
    : ctx_(ctx),
      opts_(opts),
      db_(std::move(db)),
      config_(db_.get(), ConfigDefaults{opts.default_repl, opts.chunk_size,
                                        static_cast<uint64_t>(opts.heartbeat_timeout_ms), 0}),
      members_(db_.get(), opts.heartbeat_timeout_ms),
      nodes_(
          ctx, [this](const std::string& n) { return members_.AddrOf(n); }, kNodeCallTimeoutMs),
      ns_(db_.get(), &nodes_, opts.chunk_size),
      layout_(db_.get(), &members_, opts.default_repl),
      repair_(db_.get(), &members_, ctx, opts.default_repl, opts.repair_copies),
      keys_(db_.get(), opts.on_keys),
      creds_(&ns_) {
  ns_.set_on_delete([this](uint64_t ino) { locks_.DropInode(ino); });
  ns_.set_max_open_per_client(opts.max_open_per_client);
}

void MetaServiceImpl::ApplyConfig() {
  auto repl = static_cast<uint32_t>(config_.Get("replication"));
  layout_.set_default_repl(repl);
  repair_.set_default_repl(repl);
  ns_.set_chunk_size(config_.Get("chunk_size"));
  members_.set_timeout_ms(static_cast<int>(config_.Get("heartbeat_timeout")));
  repair_.set_bandwidth(config_.Get("repair_bandwidth"));
}

Status MetaServiceImpl::Start() {
  if (Status s = Migrate(db_.get(), opts_.chunk_size); !s.ok()) return s;
  if (Status s = members_.Load(); !s.ok()) return s;
  if (Status s = config_.Load(); !s.ok()) return s;
  ApplyConfig();
  if (Status s = keys_.Load(); !s.ok()) return s;
  UpdatePingTargets();
  return ns_.PurgeOrphans();
}

Result<std::unique_ptr<MetaService>> MetaService::Open(zmq::context_t* ctx,
                                                       const MetaOptions& opts) {
  if (opts.chunk_size == 0 || opts.chunk_size % proto::kBlockSize != 0 ||
      opts.chunk_size > proto::kMaxChunkSize)
    return Status::Err(EINVAL, "chunk size must be a multiple of 64 KiB");
  if (opts.default_repl == 0 || opts.default_repl > proto::kMaxReplicas)
    return Status::Err(EINVAL, "default replication out of 1..16");
  Result<std::unique_ptr<store::Db>> db = store::Db::Open(opts.db_path);
  if (!db.ok()) return db.status();
  auto svc = std::make_unique<MetaServiceImpl>(ctx, opts, std::move(*db));
  if (Status s = svc->Start(); !s.ok()) return s;
  return std::unique_ptr<MetaService>(std::move(svc));
}

}  // namespace dos::meta
