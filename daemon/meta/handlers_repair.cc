// Wire glue of meta's health and repair ops: fs health and fsck.
#include <cstdio>
#include <map>

#include "daemon/meta/fsck.h"
#include "daemon/meta/meta_impl.h"

namespace dos::meta {

// Reads the inventory of every UP node (blocking the meta thread for as long
// as that takes: fsck is an admin's command), then checks and maybe fixes.
Status MetaServiceImpl::Fsck(const proto::FsckReq& req, proto::FsckRep* out) {
  FsckInput in;
  in.repair = req.repair;
  for (const proto::NodeInfo& n : members_.Nodes()) {
    if (!members_.IsUp(n.name)) continue;
    Result<std::vector<HeldCopy>> held = repair_.Inventory(n.name);
    if (held.ok())
      in.held[n.name] = std::move(*held);
    else
      in.unreachable.push_back(n.name);
  }
  in.busy = repair_.Busy();
  std::vector<std::pair<uint64_t, std::string>> deletes;
  if (Status s = meta::Fsck(db_.get(), in, out, &deletes); !s.ok()) return s;
  std::map<std::string, std::vector<uint64_t>> by_node;
  for (const auto& [id, node] : deletes) by_node[node].push_back(id);
  for (const auto& [node, ids] : by_node) repair_.DeleteCopies(ids, node);
  if (FsckFound(*out))
    fprintf(stderr, "meta: fsck found %zu problem(s)%s\n", out->items.size(),
            out->repaired ? ", repaired" : "");
  return Status::Ok();
}

void MetaServiceImpl::RegisterRepair(net::Server* server, int lane) {
  using namespace proto;
  auto* repair = &repair_;
  server->Register(Op::kFsHealth, lane,
                   net::Typed<Empty, FsHealthRep>(
                       [repair](const Empty&, FsHealthRep* rep, net::Message&, net::Message*) {
                         return repair->Health(rep);
                       }));
  server->Register(
      Op::kFsck, lane,
      net::Typed<FsckReq, FsckRep>([this](const FsckReq& req, FsckRep* rep, net::Message&,
                                          net::Message*) { return Fsck(req, rep); }));
}

}  // namespace dos::meta
