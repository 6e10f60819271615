// dosfs / mount.dos: mounts a dos cluster with FUSE.
//
//   dosfs [--conf FILE | -o conf=FILE] [-o key=FILE] [-f] [-d] [-s] [-o opt,...] MOUNTPOINT
//   mount.dos SOURCE MOUNTPOINT [-sfnv] [-o opt,...]   (mount(8) helper form;
//       SOURCE is the conf path, or "dos" for the default conf)
//
// Order: parse, load dos.conf, check that meta answers, make the session and
// mount, daemonize, then connect for good and run the multi-threaded loop. A
// bad conf, a dead meta or a failed mount exit 1 before daemonizing.
#include <fuse_lowlevel.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common/malloc_tune.h"
#include "fuse/fs.h"
#include "fuse/ops.h"

namespace dos::fs {
namespace {

constexpr int kProbeTimeoutMs = 5000;

struct Args {
  bool helper = false;  // called as mount.dos
  bool help = false;
  bool fake = false;  // mount(8)'s -f: do everything but mount
  std::string conf;
  std::string key;                 // -o key=FILE: this client's secret key
  std::string read_cache;          // -o read_cache=MiB, as given
  std::optional<uint64_t> read_cache_mib;  // parsed by ParseArgs
  std::vector<std::string> opts;   // -o options for libfuse, conf= and key= taken out
  std::vector<std::string> flags;  // -f -d -s -V ... for fuse_parse_cmdline
  std::vector<std::string> positional;
};

void Usage(const char* prog) {
  std::printf(
      "usage: %s [--conf FILE | -o conf=FILE] [-f] [-d] [-s] [-o opt,...] MOUNTPOINT\n"
      "       mount.dos SOURCE MOUNTPOINT [-o opt,...]   (SOURCE: conf file or \"dos\")\n"
      "\n"
      "Mounts the dos cluster named by the client configuration (explicit, else\n"
      "$DOS_CONF, else %s). Defaults: -o default_permissions,allow_other,\n"
      "fsname=dos,subtype=dos. Runs in the background unless -f.\n\n"
      "  --conf FILE, -o conf=FILE   client configuration (dos.conf)\n"
      "  -o key=FILE                 act with this secret key (default: security.key)\n"
      "  -o read_cache=MiB           memory for 64 KiB blocks kept after small reads\n"
      "                              of open files (default 256, 0: none)\n"
      "  -f                          stay in the foreground, log errors to stderr\n"
      "  -d                          debug: foreground, libfuse traces every request\n"
      "  -s                          single-threaded\n"
      "  -h, --help                  this text\n\n",
      prog, kDefaultConfPath);
}

// Options mount(8) hands to helpers that mean nothing to FUSE.
bool MountOnlyOption(const std::string& o) {
  static const char* const kDrop[] = {"defaults", "auto",  "noauto", "user",    "users",
                                      "nouser",   "owner", "group",  "_netdev", "nofail"};
  for (const char* d : kDrop)
    if (o == d) return true;
  return o.rfind("x-", 0) == 0 || o.rfind("comment=", 0) == 0;
}

void AddOptions(Args* a, const std::string& list) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    std::string o = list.substr(pos, comma - pos);
    pos = comma + 1;
    if (o.empty()) continue;
    if (o.rfind("conf=", 0) == 0) {
      a->conf = o.substr(5);
    } else if (o.rfind("key=", 0) == 0) {
      a->key = o.substr(4);
    } else if (o.rfind("read_cache=", 0) == 0) {
      a->read_cache = o.substr(11);
    } else if (!(a->helper && MountOnlyOption(o))) {
      a->opts.push_back(o);
    }
  }
}

Status ParseArgs(int argc, char** argv, Args* a) {
  std::string prog = argv[0];
  a->helper = prog.size() >= 9 && prog.compare(prog.size() - 9, 9, "mount.dos") == 0;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto next = [&](const char* what) -> Result<std::string> {
      if (i + 1 >= argc) return Status::Err(EINVAL, std::string(what) + " needs an argument");
      return std::string(argv[++i]);
    };
    if (s == "-h" || s == "--help") {
      a->help = true;
    } else if (s == "--conf" || s == "-o" || (a->helper && s == "-t")) {
      auto v = next(s.c_str());
      if (!v.ok()) return v.status();
      if (s == "--conf") a->conf = *v;
      if (s == "-o") AddOptions(a, *v);
    } else if (s.rfind("--conf=", 0) == 0) {
      a->conf = s.substr(7);
    } else if (s.rfind("-o", 0) == 0) {
      AddOptions(a, s.substr(2));
    } else if (a->helper && (s == "-n" || s == "-s" || s == "-v")) {
      // mount(8): no mtab, sloppy, verbose: nothing to do.
    } else if (a->helper && s == "-f") {
      a->fake = true;
    } else if (s.size() > 1 && s[0] == '-') {
      a->flags.push_back(s);
    } else {
      a->positional.push_back(s);
    }
  }
  if (a->help) return Status::Ok();
  if (!a->read_cache.empty()) {
    char* end = nullptr;
    errno = 0;
    unsigned long long mib = std::strtoull(a->read_cache.c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || a->read_cache[0] == '-' || mib > (1ull << 20))
      return Status::Err(EINVAL, "read_cache=" + a->read_cache +
                                     ": expected MiB, a whole number from 0 to 1048576");
    a->read_cache_mib = mib;
  }
  size_t want = a->helper ? 2 : 1;
  if (a->positional.size() != want)
    return Status::Err(EINVAL,
                       a->helper ? "expected SOURCE and MOUNTPOINT" : "expected MOUNTPOINT");
  if (a->helper) {
    if (a->conf.empty() && a->positional[0] != "dos") a->conf = a->positional[0];
    a->positional.erase(a->positional.begin());
  }
  return Status::Ok();
}

bool HasOption(const Args& a, const std::string& key) {
  return std::any_of(a.opts.begin(), a.opts.end(),
                     [&](const std::string& o) { return o == key || o.rfind(key + "=", 0) == 0; });
}

// The argv fuse_parse_cmdline and fuse_session_new see.
std::vector<std::string> FuseArgv(const char* prog, const Args& a) {
  std::vector<std::string> v{prog};
  std::string opts;
  for (const char* d : {"default_permissions", "allow_other", "fsname=dos", "subtype=dos"}) {
    std::string key(d);
    key = key.substr(0, key.find('='));
    if (!HasOption(a, key)) opts += std::string(opts.empty() ? "" : ",") + d;
  }
  for (const auto& o : a.opts) opts += (opts.empty() ? "" : ",") + o;
  if (!opts.empty()) {
    v.push_back("-o");
    v.push_back(opts);
  }
  v.insert(v.end(), a.flags.begin(), a.flags.end());
  v.insert(v.end(), a.positional.begin(), a.positional.end());
  return v;
}

// Connects once, asks meta for the root's attributes, and disconnects.
Status ProbeMeta(const ClientConf& conf) {
  Cluster probe(conf);
  proto::AttrRep rep;
  Status s = probe.MetaWithTimeout(proto::Op::kGetattr, proto::InoReq{proto::kRootIno}, &rep,
                                   std::min(conf.timeout_ms, kProbeTimeoutMs));
  if (!s.ok())
    return Status::Err(s.err(), "meta at " + conf.meta + " does not answer: " + s.ToString());
  return s;
}

int RunSession(fuse_args* args, const fuse_cmdline_opts& opts, const ClientConf& conf,
               const Args& a) {
  Fs fs;
  if (a.read_cache_mib) fs.read_cache.set_capacity(*a.read_cache_mib << 20);
  fs.verbose = opts.foreground || opts.debug;
  fs.mountpoint = opts.mountpoint;
  fuse_session* se = fuse_session_new(args, &Ops(), sizeof(fuse_lowlevel_ops), &fs);
  if (!se) return 1;
  int ret = 1;
  if (fuse_set_signal_handlers(se) == 0) {
    if (fuse_session_mount(se, opts.mountpoint) == 0) {
      fuse_daemonize(opts.foreground);
      fs.cluster.emplace(conf);
      fs.writers.emplace(kWriteThreads);
      fs.releases.emplace(&*fs.cluster);
      if (opts.singlethread) {
        ret = fuse_session_loop(se);
      } else {
        fuse_loop_config* cfg = fuse_loop_cfg_create();
        fuse_loop_cfg_set_clone_fd(cfg, static_cast<unsigned>(opts.clone_fd));
        // UINT_MAX (or 0) means "not given on the command line".
        auto given = [](unsigned v) { return v != 0 && v != UINT_MAX; };
        fuse_loop_cfg_set_idle_threads(cfg,
                                       given(opts.max_idle_threads) ? opts.max_idle_threads : 16);
        fuse_loop_cfg_set_max_threads(cfg, given(opts.max_threads) ? opts.max_threads : 64);
        ret = fuse_session_loop_mt(se, cfg);
        fuse_loop_cfg_destroy(cfg);
      }
      fuse_session_unmount(se);
    }
    fuse_remove_signal_handlers(se);
  }
  fuse_session_destroy(se);
  fs.writers.reset();
  fs.releases.reset();
  fs.cluster.reset();
  return ret == 0 ? 0 : 1;
}

int Main(int argc, char** argv) {
  TuneMallocForBulkData();
  Args a;
  if (Status s = ParseArgs(argc, argv, &a); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], s.message().c_str());
    Usage(argv[0]);
    return 1;
  }
  std::vector<std::string> fargv = FuseArgv(argv[0], a);
  if (a.help) fargv = {argv[0], "--help"};
  std::vector<char*> ptrs;
  for (auto& s : fargv) ptrs.push_back(s.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(ptrs.size()), ptrs.data());
  fuse_cmdline_opts opts;
  std::memset(&opts, 0, sizeof(opts));
  if (fuse_parse_cmdline(&args, &opts) != 0) return 1;
  int ret = 1;
  if (opts.show_help) {
    Usage(argv[0]);
    fuse_cmdline_help();
    fuse_lowlevel_help();
    ret = 0;
  } else if (opts.show_version) {
    std::printf("dosfs %s, libfuse %s\n", "0.1.0", fuse_pkgversion());
    fuse_lowlevel_version();
    ret = 0;
  } else if (!opts.mountpoint) {
    std::fprintf(stderr, "%s: no mount point given\n", argv[0]);
    Usage(argv[0]);
  } else if (auto conf = LoadClientConf(a.conf); !conf.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], conf.status().message().c_str());
  } else if (Status k = ApplyClientSecurity(*conf, a.key); !k.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], k.message().c_str());
  } else if (Status p = ProbeMeta(*conf); !p.ok()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], p.message().c_str());
  } else if (a.fake) {
    ret = 0;
  } else {
    ret = RunSession(&args, opts, *conf, a);
  }
  free(opts.mountpoint);
  fuse_opt_free_args(&args);
  return ret;
}

}  // namespace
}  // namespace dos::fs

int main(int argc, char** argv) { return dos::fs::Main(argc, argv); }
