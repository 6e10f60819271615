// dosctl config ...: the cluster settings kept by meta.
#include <iostream>

#include "daemon/ctl/ctl.h"

namespace dos::ctl {

namespace {

void Print(Ctl* ctl, const proto::ConfigListRep& rep, const std::string& only) {
  if (ctl->json) {
    nlohmann::json entries = nlohmann::json::object();
    for (const auto& e : rep.entries)
      if (only.empty() || e.key == only)
        entries[e.key] = {{"value", e.value}, {"default", e.def}, {"help", e.help}};
    if (!only.empty()) entries = entries[only];
    std::cout << nlohmann::json{{"version", rep.version}, {"config", entries}}.dump(2) << "\n";
    return;
  }
  if (!only.empty()) {
    for (const auto& e : rep.entries)
      if (e.key == only) std::cout << e.value << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : rep.entries) rows.push_back({e.key, e.value, e.def, e.help});
  PrintTable({"KEY", "VALUE", "DEFAULT", "MEANING"}, rows);
}

Status ConfigLs(Ctl* ctl, const std::string& key) {
  proto::ConfigListRep rep;
  if (Status s = ctl->CallMeta(proto::Op::kConfigList, proto::Empty{}, &rep); !s.ok()) return s;
  if (!key.empty()) {
    bool found = false;
    for (const auto& e : rep.entries) found |= e.key == key;
    if (!found) return Status::Err(ENOENT, "no setting '" + key + "'");
  }
  Print(ctl, rep, key);
  return Status::Ok();
}

Status ConfigSet(Ctl* ctl, const std::string& key, const std::string& value) {
  proto::ConfigListRep rep;
  if (Status s = ctl->CallMeta(proto::Op::kConfigSet, proto::ConfigSetReq{key, value}, &rep);
      !s.ok())
    return s;
  Print(ctl, rep, key);
  return Status::Ok();
}

}  // namespace

void AddConfigCommands(CLI::App* app, Ctl* ctl) {
  CLI::App* config = app->add_subcommand("config", "cluster settings (stored by meta)");
  config->require_subcommand(1);
  CLI::App* ls = config->add_subcommand("ls", "every setting: value, default, meaning");
  ls->callback([ctl] { ctl->Set("config ls", [ctl] { return ConfigLs(ctl, ""); }); });
  auto key = std::make_shared<std::string>();
  CLI::App* get = config->add_subcommand("get", "one setting's value");
  get->add_option("KEY", *key, "replication, chunk_size, heartbeat_timeout, repair_bandwidth")
      ->required();
  get->callback([=] { ctl->Set("config get " + *key, [=] { return ConfigLs(ctl, *key); }); });
  auto skey = std::make_shared<std::string>();
  auto value = std::make_shared<std::string>();
  CLI::App* set = config->add_subcommand(
      "set", "change a setting for the whole cluster (checked; every node sees it at once)");
  set->add_option("KEY", *skey, "replication, chunk_size, heartbeat_timeout, repair_bandwidth")
      ->required();
  set->add_option("VALUE", *value, "a number; sizes take K/M/G, times ms/s/m")->required();
  set->callback(
      [=] { ctl->Set("config set " + *skey, [=] { return ConfigSet(ctl, *skey, *value); }); });
}

}  // namespace dos::ctl
