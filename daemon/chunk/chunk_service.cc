#include "daemon/chunk/chunk_service.h"

#include "daemon/chunk/chunk_store.h"
#include "daemon/chunk/handlers.h"

namespace dos::chunk {

namespace {

class ChunkServiceImpl : public ChunkService {
 public:
  ChunkServiceImpl(zmq::context_t* ctx, std::unique_ptr<ChunkStore> store)
      : store_(std::move(store)), handlers_(ctx, store_.get()) {}

  void Register(net::Server* server, int lane) override { handlers_.Register(server, lane); }

  ChunkUsage Usage() override {
    StoreUsage u = store_->Usage();
    return ChunkUsage{u.capacity, u.used, u.chunks};
  }

 private:
  std::unique_ptr<ChunkStore> store_;
  ChunkHandlers handlers_;  // uses store_: declared after it
};

}  // namespace

Result<std::unique_ptr<ChunkService>> ChunkService::Open(zmq::context_t* ctx,
                                                         const std::string& data_dir) {
  auto store = ChunkStore::Open(data_dir);
  if (!store.ok()) return store.status();
  return std::unique_ptr<ChunkService>(new ChunkServiceImpl(ctx, std::move(store.value())));
}

}  // namespace dos::chunk
