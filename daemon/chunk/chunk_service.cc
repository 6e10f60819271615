#include "daemon/chunk/chunk_service.h"

#include "daemon/chunk/chunk_store.h"
#include "daemon/chunk/handlers.h"
#include "daemon/chunk/scrub.h"

namespace dos::chunk {

namespace {

class ChunkServiceImpl : public ChunkService {
 public:
  ChunkServiceImpl(zmq::context_t* ctx, std::unique_ptr<ChunkStore> store)
      : store_(std::move(store)), handlers_(ctx, store_.get()) {}

  void Register(net::Server* server, const ChunkLanes& lanes) override {
    handlers_.Register(server, lanes);
  }

  void StartScrub(uint64_t rate, std::function<void(uint64_t)> on_bad) override {
    scrubber_.reset();
    if (rate > 0) scrubber_ = std::make_unique<Scrubber>(store_.get(), rate, std::move(on_bad));
  }

  ChunkUsage Usage() override {
    StoreUsage u = store_->Usage();
    return ChunkUsage{u.capacity, u.used, u.chunks};
  }

 private:
  std::unique_ptr<ChunkStore> store_;
  ChunkHandlers handlers_;  // uses store_: declared after it
  std::unique_ptr<Scrubber> scrubber_;  // uses store_; stopped first
};

}  // namespace

Result<std::unique_ptr<ChunkService>> ChunkService::Open(zmq::context_t* ctx,
                                                         const std::string& data_dir) {
  auto store = ChunkStore::Open(data_dir);
  if (!store.ok()) return store.status();
  return std::unique_ptr<ChunkService>(new ChunkServiceImpl(ctx, std::move(store.value())));
}

}  // namespace dos::chunk
