// dosd: the node daemon. Parses options, sets up logging, starts the node
// (daemon/node.h) and runs in the foreground until SIGTERM or SIGINT.
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>
#include <iostream>

#include "common/malloc_tune.h"
#include "common/net/curve.h"
#include "daemon/node.h"

namespace {

struct Args {
  dos::NodeOptions node;
  std::string log;
  std::string server_key;  // the cluster's server secret key file
  std::string key;         // this node's own key (as a client); default server_key
  bool insecure = false;
};

void AddOptions(CLI::App& app, Args* a) {
  auto& n = a->node;
  app.add_option("--name", n.name, "node name, unique in the cluster")->required();
  app.add_option("--listen", n.listen, "endpoint to serve and advertise (tcp://HOST:PORT)")
      ->required();
  app.add_option("--data", n.data, "data folder (chunks/, meta/), created if absent")
      ->required();
  app.add_option("--meta", n.meta, "meta service endpoint (default with --run-meta: --listen)");
  app.add_option("--join", n.join,
                 "join the cluster whose meta listens at ENDPOINT (with --token, or without "
                 "one when --key is registered with role node); then use it as --meta")
      ->type_name("ENDPOINT");
  app.add_option("--token", n.token, "join token printed by `dosctl node add NAME`");
  app.add_option("--metrics-port", n.metrics_port,
                 "serve Prometheus metrics on http://LISTEN-HOST:PORT/metrics (off by default)")
      ->check(CLI::Range(1, 65535));
  app.add_flag("--run-meta", n.run_meta, "also run the meta service (DATA/meta/meta.db)");
  app.add_option("--heartbeat-ms", n.heartbeat_ms, "heartbeat interval")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600000));
  app.add_option("--heartbeat-timeout-ms", n.heartbeat_timeout_ms,
                 "meta: a node silent this long is DOWN")
      ->capture_default_str()
      ->check(CLI::Range(10, 86400000));
  app.add_option("--repl", n.repl, "meta: default replication factor")
      ->capture_default_str()
      ->check(CLI::Range(1u, dos::proto::kMaxReplicas));
  app.add_option("--chunk-size", n.chunk_size, "meta: chunk size of new files, bytes")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{dos::proto::kBlockSize}, uint64_t{1} << 30));
  app.add_option("--repair-copies", n.repair_copies,
                 "meta: re-replication copies in flight at most (about as many 4 MiB chunks a second)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  app.add_option("--max-open-per-client", n.max_open_per_client,
                 "meta: open files one client (a dosfs mount) may hold at once; one more open "
                 "fails with EMFILE (0 = no limit)")
      ->capture_default_str();
  app.add_option("--scrub-rate", n.scrub_rate,
                 "background scrub: bytes per second read to check chunk CRCs (0 = off)")
      ->capture_default_str();
  app.add_option("--server-key", a->server_key,
                 "the cluster's CURVE server secret key FILE (dosctl key gen); required "
                 "unless --insecure")
      ->type_name("FILE");
  app.add_option("--key", a->key,
                 "this node's own secret key FILE, used when it connects to meta and to "
                 "other nodes (register it: dosctl key add FILE.pub --role node); "
                 "default: the server key")
      ->type_name("FILE");
  app.add_flag("--insecure", a->insecure,
               "no CURVE: plaintext, unauthenticated sockets (tests only)");
  app.add_option("--log", a->log, "log to FILE instead of stderr");
  app.set_config("--conf", "", "read these options from a TOML/INI FILE")->type_name("FILE");
  app.allow_config_extras(CLI::config_extras_mode::ignore);
}

dos::Status SetupLog(const std::string& file) {
  try {
    std::shared_ptr<spdlog::logger> logger;
    if (file.empty())
      logger = spdlog::stderr_logger_mt("dosd");
    else
      logger = spdlog::basic_logger_mt("dosd", file);
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l [%n %P] %v");
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
  } catch (const spdlog::spdlog_ex& e) {
    return dos::Status::Err(EIO, "cannot open log " + file + ": " + e.what());
  }
  return dos::Status::Ok();
}

// Blocks the stop signals in every thread (call before any thread starts)
// so that main can sigwait() for them.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

// CURVE settings of this process from --server-key, --key and --insecure.
dos::Status SetupSecurity(const Args& a) {
  dos::net::Security sec;
  if (a.insecure) {
    dos::net::SetSecurity(sec);
    return dos::Status::Ok();
  }
  if (!dos::net::CurveAvailable())
    return dos::Status::Err(ENOTSUP, "libzmq lacks CURVE (libsodium); run with --insecure");
  if (a.server_key.empty())
    return dos::Status::Err(EINVAL, "--server-key FILE is required (or --insecure)");
  auto server = dos::net::LoadKeyPair(a.server_key);
  if (!server.ok()) return server.status();
  auto own = a.key.empty() ? server : dos::net::LoadKeyPair(a.key);
  if (!own.ok()) return own.status();
  sec.curve = true;
  sec.server = *server;
  sec.client = *own;
  dos::net::SetSecurity(sec);
  return dos::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  dos::TuneMallocForBulkData();
  CLI::App app{"dosd: the dos node daemon (chunk store; meta with --run-meta)", "dosd"};
  Args args;
  AddOptions(app, &args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);  // prints help or the error
    return rc == 0 ? 0 : 2;
  }
  if (args.node.meta.empty() && args.node.join.empty() && !args.node.run_meta) {
    std::cerr << "dosd: --meta ENDPOINT (or --join ENDPOINT [--token T]) is required unless "
                 "--run-meta is given\n";
    return 2;
  }
  if (args.node.join.empty() && !args.node.token.empty()) {
    std::cerr << "dosd: --token goes with --join\n";
    return 2;
  }
  std::error_code ec;
  args.node.data = std::filesystem::absolute(args.node.data, ec).lexically_normal().string();
  if (dos::Status s = SetupSecurity(args); !s.ok()) {
    std::cerr << "dosd: " << s.ToString() << "\n";
    return 2;
  }
  if (dos::Status s = SetupLog(args.log); !s.ok()) {
    std::cerr << "dosd: " << s.ToString() << "\n";
    return 1;
  }
  sigset_t stop = BlockStopSignals();
  const auto& o = args.node;
  spdlog::info("dosd {} starting: listen {} data {} meta {}{} ({})", o.name, o.listen, o.data,
               o.meta.empty() ? o.listen : o.meta, o.run_meta ? " (running meta)" : "",
               args.insecure ? "INSECURE: no CURVE" : "CURVE on");
  dos::Node node(args.node);
  if (dos::Status s = node.Start(); !s.ok()) {
    spdlog::error("dosd {} cannot start: {}", o.name, s.ToString());
    if (!args.log.empty()) std::cerr << "dosd: cannot start: " << s.ToString() << "\n";
    return 1;
  }
  spdlog::info("dosd {} serving on {}", o.name, node.endpoint());
  int sig = 0;
  sigwait(&stop, &sig);
  spdlog::info("dosd {} stopping on signal {}", o.name, sig);
  node.Stop();
  spdlog::info("dosd {} stopped", o.name);
  return 0;
}
