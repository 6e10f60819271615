// dosctl net ...: the network between the nodes.
#include <cstdio>
#include <iostream>

#include "daemon/ctl/ctl.h"

namespace dos::ctl {

namespace {

Status NetPing(Ctl* ctl) {
  proto::NetPingRep rep;
  if (Status s = ctl->CallMeta(proto::Op::kNetPing, proto::Empty{}, &rep); !s.ok()) return s;
  if (ctl->json) {
    nlohmann::json matrix = nlohmann::json::object();
    for (const auto& row : rep.rows) {
      nlohmann::json to = nlohmann::json::object();
      for (size_t i = 0; i < rep.nodes.size() && i < row.rtt_us.size(); ++i)
        to[rep.nodes[i]] =
            row.rtt_us[i] < 0 ? nlohmann::json(nullptr) : nlohmann::json(row.rtt_us[i]);
      matrix[row.node] = to;
    }
    std::cout << nlohmann::json{{"nodes", rep.nodes}, {"unit", "us"}, {"rtt", matrix}}.dump(2)
              << "\n";
    return Status::Ok();
  }
  std::vector<std::string> header{"FROM \\ TO"};
  for (const auto& n : rep.nodes) header.push_back(n);
  std::vector<std::vector<std::string>> rows;
  char buf[32];
  for (const auto& row : rep.rows) {
    std::vector<std::string> cells{row.node};
    for (int64_t us : row.rtt_us) {
      std::snprintf(buf, sizeof(buf), "%.2fms", us / 1000.0);
      cells.push_back(us < 0 ? "-" : buf);
    }
    rows.push_back(cells);
  }
  PrintTable(header, rows);
  return Status::Ok();
}

}  // namespace

void AddNetCommands(CLI::App* app, Ctl* ctl) {
  CLI::App* net = app->add_subcommand("net", "the network between the nodes");
  net->require_subcommand(1);
  CLI::App* ping = net->add_subcommand(
      "ping", "round-trip times between every pair of UP nodes, measured by the nodes");
  ping->callback([ctl] { ctl->Set("net ping", [ctl] { return NetPing(ctl); }); });
}

}  // namespace dos::ctl
