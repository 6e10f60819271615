// dosctl fs health / scrub / fsck: how the cluster's chunks stand, a CRC
// check of every copy on every node, and the namespace checked against the
// chunks.
#include <future>
#include <iostream>

#include "daemon/ctl/ctl.h"

namespace dos::ctl {

namespace {

constexpr int kScrubTimeoutMs = static_cast<int>(proto::kMaxTimeoutMs);

Status FsHealth(Ctl* ctl) {
  proto::FsHealthRep r;
  if (Status s = ctl->CallMeta(proto::Op::kFsHealth, proto::Empty{}, &r); !s.ok()) return s;
  if (ctl->json) {
    nlohmann::json out = {{"chunks", r.chunks},
                          {"ok", r.ok},
                          {"under_replicated", r.under_replicated},
                          {"missing", r.missing},
                          {"stale", r.stale},
                          {"nodes_up", r.nodes_up},
                          {"nodes_down", r.nodes_down},
                          {"progress",
                           {{"copies_running", r.copies_running},
                            {"copies_done", r.copies_done},
                            {"copies_failed", r.copies_failed},
                            {"copies_dropped", r.copies_dropped}}}};
    std::cout << out.dump(2) << "\n";
    return Status::Ok();
  }
  std::cout << "chunks:           " << r.chunks << "\n"
            << "ok:               " << r.ok << "\n"
            << "under_replicated: " << r.under_replicated << "\n"
            << "missing:          " << r.missing << "\n"
            << "stale:            " << r.stale << "\n"
            << "nodes:            " << r.nodes_up << " up, " << r.nodes_down << " down\n"
            << "copies:           " << r.copies_running << " running, " << r.copies_done
            << " done, " << r.copies_failed << " failed, " << r.copies_dropped << " dropped\n";
  return Status::Ok();
}

struct NodeScrub {
  std::string node;
  Status status;
  proto::ChunkScrubRep rep;
};

// Every UP node scrubs its chunks at once; each bad copy is reported to meta
// (kChunkBad), which drops it and has it copied anew from a good replica.
Status FsScrub(Ctl* ctl) {
  proto::NodeListRep nodes;
  if (Status s = ctl->CallMeta(proto::Op::kNodeList, proto::Empty{}, &nodes); !s.ok()) return s;
  std::vector<std::future<NodeScrub>> jobs;
  for (const auto& n : nodes.nodes) {
    if (n.state != "UP") continue;
    auto client = ctl->Connect(n.addr);
    if (!client.ok()) return client.status();
    jobs.push_back(std::async(std::launch::async, [node = n.name, c = std::move(*client)] {
      NodeScrub out{node, Status::Ok(), {}};
      out.status = c->Call(proto::Op::kChunkScrub, proto::ChunkScrubReq{0}, &out.rep,
                           kScrubTimeoutMs);
      return out;
    }));
  }
  nlohmann::json jnodes = nlohmann::json::array(), jbad = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  uint64_t bad = 0, failed = 0;
  for (auto& j : jobs) {
    NodeScrub r = j.get();
    failed += !r.status.ok();
    for (uint64_t id : r.rep.bad) {
      ++bad;
      proto::Empty rep;
      Status s = ctl->CallMeta(proto::Op::kChunkBad, proto::ChunkBadReq{id, r.node}, &rep);
      jbad.push_back({{"node", r.node}, {"id", ChunkIdHex(id)}, {"reported", s.ok()}});
      rows.push_back({r.node, ChunkIdHex(id), s.ok() ? "reported to meta" : s.ToString()});
    }
    jnodes.push_back({{"node", r.node},
                      {"chunks", r.rep.chunks},
                      {"bytes", r.rep.bytes},
                      {"bad", r.rep.bad.size()},
                      {"error", r.status.ok() ? "" : r.status.ToString()}});
    if (!ctl->json)
      std::cout << r.node << ": " << r.rep.chunks << " chunks, " << HumanSize(r.rep.bytes)
                << " checked, " << r.rep.bad.size() << " bad"
                << (r.status.ok() ? "" : " (" + r.status.ToString() + ")") << "\n";
  }
  if (ctl->json)
    std::cout << nlohmann::json{{"nodes", jnodes}, {"bad", jbad}}.dump(2) << "\n";
  else if (!rows.empty())
    PrintTable({"NODE", "BAD CHUNK", "ACTION"}, rows);
  if (failed) return Status::Err(EIO, std::to_string(failed) + " node(s) could not scrub");
  return Status::Ok();
}

Status FsFsck(Ctl* ctl, bool repair) {
  proto::FsckRep r;
  auto m = ctl->Meta();
  if (!m.ok()) return m.status();
  if (Status s = (*m)->Call(proto::Op::kFsck, proto::FsckReq{repair}, &r,
                            static_cast<int>(proto::kMaxTimeoutMs));
      !s.ok())
    return s;
  uint64_t found = r.orphan_chunks + r.dangling_chunks + r.orphan_replicas + r.unknown_nodes +
                   r.stray_files + r.unreachable_nodes;
  if (ctl->json) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& i : r.items)
      items.push_back(
          {{"kind", i.kind}, {"chunk", ChunkIdHex(i.chunk)}, {"ino", i.ino}, {"node", i.node}});
    std::cout << nlohmann::json{{"orphan_chunks", r.orphan_chunks},
                                {"dangling_chunks", r.dangling_chunks},
                                {"orphan_replicas", r.orphan_replicas},
                                {"unknown_nodes", r.unknown_nodes},
                                {"stray_files", r.stray_files},
                                {"unreachable_nodes", r.unreachable_nodes},
                                {"problems", found},
                                {"repaired", r.repaired},
                                {"items", items}}
                     .dump(2)
              << "\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& i : r.items)
      rows.push_back({i.kind, i.chunk ? ChunkIdHex(i.chunk) : "-",
                      i.ino ? std::to_string(i.ino) : "-", i.node.empty() ? "-" : i.node});
    if (!rows.empty()) PrintTable({"PROBLEM", "CHUNK", "INODE", "NODE"}, rows);
    std::cout << found << " problem(s)" << (found && r.repaired ? ", repaired" : "") << "\n";
  }
  if (found)
    return Status::Err(EUCLEAN, std::to_string(found) + " problem(s) found" +
                                    (r.repaired ? " and repaired" : ""));
  return Status::Ok();
}

}  // namespace

void AddRepairCommands(CLI::App* fs, Ctl* ctl) {
  CLI::App* health = fs->add_subcommand(
      "health", "chunks ok / under-replicated / missing / stale, and re-replication progress");
  health->callback([ctl] { ctl->Set("fs health", [ctl] { return FsHealth(ctl); }); });
  CLI::App* scrub = fs->add_subcommand(
      "scrub", "check the CRC32C of every chunk copy on every UP node; bad copies are re-made");
  scrub->callback([ctl] { ctl->Set("fs scrub", [ctl] { return FsScrub(ctl); }); });
  auto repair = std::make_shared<bool>(false);
  CLI::App* fsck = fs->add_subcommand(
      "fsck", "check the namespace against the chunks; exit 1 when a problem is found");
  fsck->add_flag("--repair", *repair, "fix what is found (orphans, dangling rows, stray files)");
  fsck->callback([ctl, repair] {
    ctl->Set("fs fsck", [ctl, repair] { return FsFsck(ctl, *repair); });
  });
}

}  // namespace dos::ctl
