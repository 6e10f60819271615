// dosctl node ...: the cluster's nodes as meta sees them.
#include <iostream>

#include "daemon/ctl/ctl.h"

namespace dos::ctl {

namespace {

Status NodeLs(Ctl* ctl) {
  proto::NodeListRep rep;
  if (Status s = ctl->CallMeta(proto::Op::kNodeList, proto::Empty{}, &rep); !s.ok()) return s;
  if (ctl->json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& n : rep.nodes)
      out.push_back({{"name", n.name},
                     {"addr", n.addr},
                     {"state", n.state},
                     {"capacity", n.capacity},
                     {"used", n.used},
                     {"chunks", n.chunks},
                     {"last_seen_ms", n.last_seen_ms}});
    std::cout << out.dump(2) << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& n : rep.nodes)
    rows.push_back({n.name, n.addr, n.state, HumanSize(n.used) + "/" + HumanSize(n.capacity),
                    std::to_string(n.chunks)});
  PrintTable({"NAME", "ADDRESS", "STATE", "USED/TOTAL", "CHUNKS"}, rows);
  return Status::Ok();
}

}  // namespace

void AddNodeCommands(CLI::App* app, Ctl* ctl) {
  CLI::App* node = app->add_subcommand("node", "cluster nodes");
  node->require_subcommand(1);
  CLI::App* ls = node->add_subcommand("ls", "list the nodes: name, address, state, disk, chunks");
  ls->callback([ctl] { ctl->Set("node ls", [ctl] { return NodeLs(ctl); }); });
}

}  // namespace dos::ctl
