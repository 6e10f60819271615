// dosctl: shared state of one invocation and helpers every command group
// uses. A command group adds its subcommands with Add*Commands(); a command's
// CLI11 callback only records what to run (Ctl::Set), and main() runs it
// after parsing so that errors are printed and mapped to an exit code in one
// place.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/client/conf.h"
#include "common/net/client.h"

namespace dos::ctl {

class Ctl {
 public:
  std::string conf_path;  // --conf
  bool json = false;      // --json
  std::string key_path;   // --key: act with this secret key instead of the conf's

  // Records the command to run; what names it in an error ("fs stat /a").
  void Set(std::string what, std::function<Status()> run);
  // Runs the recorded command: 0, or 1 after printing "dosctl: what: error".
  int Run();

  // The meta client (loads the config on first use).
  Result<net::Client*> Meta();
  int timeout_ms() const { return conf_.timeout_ms; }
  // A client of a node's endpoint (loads the config on first use).
  Result<std::unique_ptr<net::Client>> Connect(const std::string& endpoint);
  // Meta's endpoint from the config (after Meta()).
  const std::string& meta_endpoint() const { return conf_.meta; }

  // A typed call to meta with the configured timeout.
  template <typename Req, typename Rep>
  Status CallMeta(proto::Op op, const Req& req, Rep* rep) {
    auto m = Meta();
    if (!m.ok()) return m.status();
    return m.value()->Call(op, req, rep, conf_.timeout_ms);
  }

 private:
  std::string what_;
  std::function<Status()> run_;
  ClientConf conf_;
  std::unique_ptr<zmq::context_t> ctx_;
  std::unique_ptr<net::Client> meta_;
};

// "1.5G", "320K", "12B".
std::string HumanSize(uint64_t bytes);
// Prints rows under header, columns padded to their widest cell.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);
// A chunk id as on disk: 16 lower-case hex digits.
std::string ChunkIdHex(uint64_t id);

// The cluster inode of path: its st_ino if it lies on a local dos FUSE mount
// (dosfs reports cluster inode numbers), else the path inside the cluster,
// looked up from the root one component at a time.
Result<uint64_t> ResolvePath(Ctl* ctl, const std::string& path);

void AddNodeCommands(CLI::App* app, Ctl* ctl);
void AddFsCommands(CLI::App* app, Ctl* ctl);
// fs health, fs scrub, fs fsck (repair.cc), under the fs subcommand.
void AddRepairCommands(CLI::App* fs, Ctl* ctl);
void AddConfigCommands(CLI::App* app, Ctl* ctl);
void AddNetCommands(CLI::App* app, Ctl* ctl);
void AddKeyCommands(CLI::App* app, Ctl* ctl);

}  // namespace dos::ctl
