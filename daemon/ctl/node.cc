// dosctl node ...: the cluster's nodes as meta sees them, and what an admin
// does to them (labels, cordon, drain, remove, add).
#include <chrono>
#include <cstdio>
#include <iostream>

#include "daemon/ctl/ctl.h"

namespace dos::ctl {

namespace {

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Share of a drain done, 0..100.
int DrainPercent(const proto::NodeInfo& n) {
  if (n.drain_total == 0 || n.replicas >= n.drain_total) return n.replicas ? 0 : 100;
  return static_cast<int>(100 * (n.drain_total - n.replicas) / n.drain_total);
}

nlohmann::json NodeJson(const proto::NodeInfo& n, int64_t now) {
  nlohmann::json j = {{"name", n.name},
                      {"addr", n.addr},
                      {"state", n.state},
                      {"zone", n.zone},
                      {"labels", n.labels},
                      {"capacity", n.capacity},
                      {"used", n.used},
                      {"chunks", n.replicas},
                      {"chunk_files", n.chunks},
                      {"load", n.load_milli / 1000.0},
                      {"last_seen_ms", n.last_seen_ms},
                      {"heartbeat_age_ms", n.last_seen_ms ? now - n.last_seen_ms : -1},
                      {"rtt_us", n.rtt_us},
                      {"config_version", n.config_version}};
  if (n.state == "DRAINING" || n.state == "DRAINED")
    j["drain"] = {{"total", n.drain_total}, {"left", n.replicas}, {"percent", DrainPercent(n)}};
  return j;
}

std::string Age(int64_t last_seen_ms, int64_t now) {
  if (last_seen_ms == 0) return "never";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fs", (now - last_seen_ms) / 1000.0);
  return buf;
}

std::string Rtt(int64_t us) {
  if (us < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), us < 10000 ? "%.2fms" : "%.0fms", us / 1000.0);
  return buf;
}

std::string StateCell(const proto::NodeInfo& n) {
  if (n.state == "DRAINING") return n.state + " " + std::to_string(DrainPercent(n)) + "%";
  return n.state;
}

Result<std::vector<proto::NodeInfo>> ListNodes(Ctl* ctl) {
  proto::NodeListRep rep;
  if (Status s = ctl->CallMeta(proto::Op::kNodeList, proto::Empty{}, &rep); !s.ok()) return s;
  return rep.nodes;
}

Status NodeLs(Ctl* ctl) {
  auto nodes = ListNodes(ctl);
  if (!nodes.ok()) return nodes.status();
  int64_t now = NowMs();
  if (ctl->json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& n : *nodes) out.push_back(NodeJson(n, now));
    std::cout << out.dump(2) << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  char load[16];
  for (const auto& n : *nodes) {
    std::snprintf(load, sizeof(load), "%.2f", n.load_milli / 1000.0);
    rows.push_back({n.name, n.addr, StateCell(n), n.zone.empty() ? "-" : n.zone,
                    HumanSize(n.used) + "/" + HumanSize(n.capacity), std::to_string(n.replicas),
                    load, Age(n.last_seen_ms, now), Rtt(n.rtt_us)});
  }
  PrintTable(
      {"NAME", "ADDRESS", "STATE", "ZONE", "USED/TOTAL", "CHUNKS", "LOAD", "HEARTBEAT", "RTT"},
      rows);
  return Status::Ok();
}

Status NodeShow(Ctl* ctl, const std::string& name) {
  auto nodes = ListNodes(ctl);
  if (!nodes.ok()) return nodes.status();
  int64_t now = NowMs();
  for (const auto& n : *nodes) {
    if (n.name != name) continue;
    if (ctl->json) {
      std::cout << NodeJson(n, now).dump(2) << "\n";
      return Status::Ok();
    }
    std::string labels;
    for (const auto& [k, v] : n.labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
    std::cout << "name:        " << n.name << "\n"
              << "address:     " << n.addr << "\n"
              << "state:       " << StateCell(n) << "\n"
              << "zone:        " << (n.zone.empty() ? "-" : n.zone) << "\n"
              << "labels:      " << (labels.empty() ? "-" : labels) << "\n"
              << "disk:        " << HumanSize(n.used) << " used of " << HumanSize(n.capacity)
              << "\n"
              << "chunks:      " << n.replicas << " (files on disk: " << n.chunks << ")\n"
              << "load:        " << n.load_milli / 1000.0 << "\n"
              << "heartbeat:   " << Age(n.last_seen_ms, now) << " ago\n"
              << "rtt to meta: " << Rtt(n.rtt_us) << "\n"
              << "config:      version " << n.config_version << "\n";
    return Status::Ok();
  }
  return Status::Err(ENOENT, "no node " + name);
}

Status NodeLabel(Ctl* ctl, const std::string& name, const std::vector<std::string>& labels) {
  for (const std::string& l : labels) {
    proto::NodeLabelReq req;
    req.name = name;
    size_t eq = l.find('=');
    if (eq == std::string::npos && !l.empty() && l.back() == '-') {
      req.key = l.substr(0, l.size() - 1);  // key- drops the label, as kubectl does
      req.remove = true;
    } else if (eq == std::string::npos) {
      return Status::Err(EINVAL, "label '" + l + "' is not KEY=VALUE or KEY-");
    } else {
      req.key = l.substr(0, eq);
      req.value = l.substr(eq + 1);
    }
    proto::Empty rep;
    if (Status s = ctl->CallMeta(proto::Op::kNodeLabel, req, &rep); !s.ok()) return s;
  }
  return Status::Ok();
}

Status NodeAdmin(Ctl* ctl, const std::string& name, const std::string& action) {
  proto::Empty rep;
  return ctl->CallMeta(proto::Op::kNodeAdmin, proto::NodeAdminReq{name, action}, &rep);
}

Status NodeRemove(Ctl* ctl, const std::string& name) {
  proto::Empty rep;
  return ctl->CallMeta(proto::Op::kNodeRemove, proto::NodeNameReq{name}, &rep);
}

Status NodeAdd(Ctl* ctl, const std::string& name) {
  proto::NodeAddRep rep;
  if (Status s = ctl->CallMeta(proto::Op::kNodeAdd, proto::NodeNameReq{name}, &rep); !s.ok())
    return s;
  std::string cmd = "dosd --name " + name + " --listen tcp://HOST:PORT --data DIR --join " +
                    ctl->meta_endpoint() + " --token " + rep.token +
                    " --server-key SERVER.key --key NODE.key";
  if (ctl->json) {
    std::cout << nlohmann::json{{"name", name},
                                {"token", rep.token},
                                {"meta", ctl->meta_endpoint()},
                                {"command", cmd}}
                     .dump(2)
              << "\n";
    return Status::Ok();
  }
  std::cout << "join token for " << name << " (use once): " << rep.token << "\n"
            << "on the new machine run:\n  " << cmd << "\n";
  return Status::Ok();
}

// A subcommand taking one NAME that runs fn(ctl, name).
void NameCommand(CLI::App* node, Ctl* ctl, const std::string& cmd, const std::string& help,
                 std::function<Status(Ctl*, const std::string&)> fn) {
  auto name = std::make_shared<std::string>();
  CLI::App* sub = node->add_subcommand(cmd, help);
  sub->add_option("NAME", *name, "node name")->required();
  sub->callback([=] { ctl->Set("node " + cmd + " " + *name, [=] { return fn(ctl, *name); }); });
}

}  // namespace

void AddNodeCommands(CLI::App* app, Ctl* ctl) {
  CLI::App* node = app->add_subcommand("node", "cluster nodes");
  node->require_subcommand(1);
  CLI::App* ls = node->add_subcommand(
      "ls", "list the nodes: name, address, state, zone, disk, chunks, load, heartbeat, RTT");
  ls->callback([ctl] { ctl->Set("node ls", [ctl] { return NodeLs(ctl); }); });
  NameCommand(node, ctl, "show", "one node in full", NodeShow);
  NameCommand(node, ctl, "cordon", "place no new chunks on a node",
              [](Ctl* c, const std::string& n) { return NodeAdmin(c, n, "cordon"); });
  NameCommand(node, ctl, "uncordon", "place chunks on a node again (also ends a drain)",
              [](Ctl* c, const std::string& n) { return NodeAdmin(c, n, "uncordon"); });
  NameCommand(node, ctl, "drain", "move every chunk off a node (no new ones either)",
              [](Ctl* c, const std::string& n) { return NodeAdmin(c, n, "drain"); });
  NameCommand(node, ctl, "remove",
              "forget a node (refused while it holds the only copy of a chunk)", NodeRemove);
  NameCommand(node, ctl, "add", "make a join token and print the command a new node runs", NodeAdd);
  auto name = std::make_shared<std::string>();
  auto labels = std::make_shared<std::vector<std::string>>();
  CLI::App* label = node->add_subcommand("label", "set (KEY=VALUE) or drop (KEY-) node labels");
  label->add_option("NAME", *name, "node name")->required();
  label->add_option("LABELS", *labels, "KEY=VALUE or KEY-; zone=Z sets the failure domain")
      ->required();
  label->callback(
      [=] { ctl->Set("node label " + *name, [=] { return NodeLabel(ctl, *name, *labels); }); });
}

}  // namespace dos::ctl
