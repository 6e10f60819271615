// MetaServiceImpl: owns the database and the parts of meta; meta_service.cc
// opens it, handlers.cc puts its operations on the wire. Private to
// daemon/meta.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/store/db.h"
#include "daemon/meta/config.h"
#include "daemon/meta/creds.h"
#include "daemon/meta/keys.h"
#include "daemon/meta/layout.h"
#include "daemon/meta/locks.h"
#include "daemon/meta/membership.h"
#include "daemon/meta/meta_service.h"
#include "daemon/meta/namespace.h"
#include "daemon/meta/node_client.h"
#include "daemon/meta/repair.h"

namespace dos::meta {

class MetaServiceImpl : public MetaService {
 public:
  MetaServiceImpl(zmq::context_t* ctx, const MetaOptions& opts, std::unique_ptr<store::Db> db);
  Status Start();  // schema, known nodes, orphan purge
  using MetaService::Register;
  void Register(net::Server* server, int lane, int slow_lane) override;

 private:
  void RegisterLayout(net::Server* server, int lane);  // layout, locks, membership
  void RegisterRepair(net::Server* server, int lane);  // handlers_repair.cc
  void RegisterKeys(net::Server* server, int lane);
  void RegisterEntries(net::Server* server, int lane);  // creates, removes, renames
  Status Statfs(proto::StatfsRep* out);
  Status Fsck(const proto::FsckReq& req, proto::FsckRep* out);
  void RegisterMgmt(net::Server* server, int lane, int slow_lane);  // handlers_mgmt.cc
  // Hands every part the settings of config_ (at start and after a change).
  void ApplyConfig();
  void FillHeartbeatRep(proto::HeartbeatRep* out);
  // Copies the nodes that are not DOWN for NetPing (meta's thread).
  void UpdatePingTargets();
  // Runs on the slow lane: reads only ping_targets_.
  Status NetPing(proto::NetPingRep* out);

  zmq::context_t* ctx_;
  MetaOptions opts_;
  std::unique_ptr<store::Db> db_;
  Config config_;
  Membership members_;
  NodeClient nodes_;
  Namespace ns_;
  Layout layout_;
  Locks locks_;
  Repairer repair_;
  Keys keys_;
  Creds creds_;  // checks requests of bound user keys (creds.h)
  std::mutex ping_mu_;  // guards ping_targets_
  std::vector<std::pair<std::string, std::string>> ping_targets_;  // name, addr
};

}  // namespace dos::meta
