// dosctl fs ...: a file's layout and replication.
#include <sys/stat.h>

#include <cstdio>
#include <iostream>
#include <set>

#include "daemon/ctl/ctl.h"

namespace dos::ctl {

namespace {

struct FileLayout {
  proto::Attr attr;
  std::set<std::string> up;  // nodes UP now
  uint64_t chunk_size = proto::kDefaultChunkSize;
  std::vector<proto::ChunkInfo> chunks;
};

// Every chunk of a regular file, in pages of kMaxChunkList.
Status ListChunks(Ctl* ctl, FileLayout* f) {
  uint64_t first = 0, count = 1;
  do {
    proto::ChunkListReq req{f->attr.ino, first, proto::kMaxChunkList};
    proto::ChunkListRep rep;
    if (Status s = ctl->CallMeta(proto::Op::kChunkList, req, &rep); !s.ok()) return s;
    f->chunk_size = rep.chunk_size ? rep.chunk_size : f->chunk_size;
    count = (f->attr.size + f->chunk_size - 1) / f->chunk_size;
    for (auto& c : rep.chunks) f->chunks.push_back(std::move(c));
    first += proto::kMaxChunkList;
  } while (first < count);
  return Status::Ok();
}

// "ok" (every replica on an UP node), "degraded" (some) or "missing" (none:
// a read of it fails with EIO).
std::string ChunkState(const FileLayout& f, const proto::ChunkInfo& c) {
  size_t live = 0;
  for (const auto& r : c.replicas) live += f.up.count(r.node);
  if (live == 0) return "missing";
  return live < c.replicas.size() ? "degraded" : "ok";
}

std::string Replicas(const proto::ChunkInfo& c) {
  std::string out;
  for (const auto& r : c.replicas) out += (out.empty() ? "" : ",") + r.node;
  return out;
}

void PrintJson(const std::string& path, const FileLayout& f) {
  nlohmann::json chunks = nlohmann::json::array(), missing = nlohmann::json::array();
  for (const auto& c : f.chunks) {
    nlohmann::json reps = nlohmann::json::array();
    for (const auto& r : c.replicas) reps.push_back(r.node);
    std::string state = ChunkState(f, c);
    if (state == "missing") missing.push_back(c.index);
    chunks.push_back({{"index", c.index},
                      {"id", ChunkIdHex(c.id)},
                      {"version", c.version},
                      {"replicas", reps},
                      {"state", state}});
  }
  const auto& a = f.attr;
  nlohmann::json out = {{"path", path},     {"ino", a.ino},           {"size", a.size},
                        {"mode", a.mode},   {"nlink", a.nlink},       {"uid", a.uid},
                        {"gid", a.gid},     {"mtime_ns", a.mtime_ns}, {"chunk_size", f.chunk_size},
                        {"chunks", chunks}, {"missing", missing}};
  std::cout << out.dump(2) << "\n";
}

void PrintHuman(const std::string& path, const FileLayout& f) {
  const auto& a = f.attr;
  char mode[16];
  std::snprintf(mode, sizeof(mode), "%04o", a.mode & 07777);
  std::cout << "path:       " << path << "\n"
            << "ino:        " << a.ino << "\n"
            << "size:       " << a.size << " (" << HumanSize(a.size) << ")\n"
            << "mode:       " << mode << (S_ISDIR(a.mode) ? " directory" : "") << "\n"
            << "uid/gid:    " << a.uid << "/" << a.gid << "\n"
            << "nlink:      " << a.nlink << "\n";
  if (!S_ISREG(a.mode)) return;
  std::cout << "chunk_size: " << f.chunk_size << "\n"
            << "chunks:     " << f.chunks.size() << "\n";
  std::vector<std::vector<std::string>> rows;
  std::string missing;
  for (const auto& c : f.chunks) {
    std::string state = ChunkState(f, c);
    if (state == "missing") missing += (missing.empty() ? "" : ",") + std::to_string(c.index);
    rows.push_back({std::to_string(c.index), ChunkIdHex(c.id), std::to_string(c.version),
                    Replicas(c), state});
  }
  if (!missing.empty()) std::cout << "missing:    chunks " << missing << " (no live replica)\n";
  if (!rows.empty()) PrintTable({"INDEX", "ID", "VERSION", "REPLICAS", "STATE"}, rows);
}

Status FsStat(Ctl* ctl, const std::string& path) {
  auto ino = ResolvePath(ctl, path);
  if (!ino.ok()) return ino.status();
  proto::AttrRep attr;
  if (Status s = ctl->CallMeta(proto::Op::kGetattr, proto::InoReq{ino.value()}, &attr); !s.ok())
    return s;
  FileLayout f;
  f.attr = attr.attr;
  if (S_ISREG(f.attr.mode)) {
    if (Status s = ListChunks(ctl, &f); !s.ok()) return s;
    proto::NodeListRep nodes;
    if (Status s = ctl->CallMeta(proto::Op::kNodeList, proto::Empty{}, &nodes); !s.ok()) return s;
    for (const auto& n : nodes.nodes)
      if (n.state == "UP") f.up.insert(n.name);
  }
  if (ctl->json)
    PrintJson(path, f);
  else
    PrintHuman(path, f);
  return Status::Ok();
}

Status FsSetRepl(Ctl* ctl, const std::string& path, uint32_t repl) {
  auto ino = ResolvePath(ctl, path);
  if (!ino.ok()) return ino.status();
  proto::Empty rep;
  return ctl->CallMeta(proto::Op::kSetRepl, proto::SetReplReq{ino.value(), repl}, &rep);
}

}  // namespace

void AddFsCommands(CLI::App* app, Ctl* ctl) {
  CLI::App* fs = app->add_subcommand("fs", "files: layout, replication, health, scrub, fsck");
  fs->require_subcommand(1);

  auto path = std::make_shared<std::string>();
  CLI::App* stat = fs->add_subcommand("stat", "a file's attributes and chunks");
  stat->add_option("PATH", *path, "path on a dos mount, or inside the cluster")->required();
  stat->callback([ctl, path] { ctl->Set("fs stat " + *path, [=] { return FsStat(ctl, *path); }); });

  auto rpath = std::make_shared<std::string>();
  auto repl = std::make_shared<uint32_t>(0);
  CLI::App* setrepl = fs->add_subcommand(
      "setrepl", "replication factor of a file's chunks, or of new files in a directory");
  setrepl->add_option("PATH", *rpath, "path on a dos mount, or inside the cluster")->required();
  setrepl->add_option("R", *repl, "replicas")->required()->check(CLI::Range(1u, proto::kMaxReplicas));
  setrepl->callback([ctl, rpath, repl] {
    ctl->Set("fs setrepl " + *rpath, [=] { return FsSetRepl(ctl, *rpath, *repl); });
  });
  AddRepairCommands(fs, ctl);
}

}  // namespace dos::ctl
