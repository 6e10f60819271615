// init, statfs.
#include <sys/statvfs.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "fuse/ops.h"
#include "fuse/reply.h"

namespace dos::fs {

namespace {

constexpr unsigned kMaxWrite = 1024 * 1024;

void Want(fuse_conn_info* conn, unsigned cap) {
  if (conn->capable & cap) conn->want |= cap;
}

}  // namespace

// Capabilities as passthrough_hp.cc at fuse-3.14.0: check capable, set want.
void Init(void* userdata, fuse_conn_info* conn) {
  (void)userdata;
  conn->max_write = kMaxWrite;  // libfuse 3.14 derives max_pages from it
  conn->time_gran = 1;
  Want(conn, FUSE_CAP_ASYNC_READ);
  Want(conn, FUSE_CAP_POSIX_LOCKS);
  Want(conn, FUSE_CAP_FLOCK_LOCKS);
  Want(conn, FUSE_CAP_READDIRPLUS);
  // Always readdirplus: meta sends the attributes with every entry anyway,
  // and ls -l then needs no lookup per file (readdirplus_auto would switch
  // to plain readdir after the first buffer).
  // O_TRUNC arrives as setattr(size=0); no writeback cache and no splice in
  // this version. libfuse turns some of these on by default.
  conn->want &= ~(FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_ATOMIC_O_TRUNC | FUSE_CAP_WRITEBACK_CACHE |
                  FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
}

void TuneReadahead(Fs& fs) {
  // The mount's device (major:minor) names its backing device info in sysfs;
  // mountinfo gives it without a request to this very process.
  char real[PATH_MAX];
  if (!realpath(fs.mountpoint.c_str(), real)) return;
  std::ifstream info("/proc/self/mountinfo");
  std::string line, dev;
  while (std::getline(info, line)) {
    std::istringstream f(line);
    std::string id, parent, majmin, root, point;
    if (f >> id >> parent >> majmin >> root >> point && point == real) dev = majmin;  // last wins
  }
  if (dev.empty()) return;
  std::ofstream ra("/sys/class/bdi/" + dev + "/read_ahead_kb");
  ra << kReadaheadKb << "\n";
  ra.flush();
  if (!ra && fs.verbose)
    std::fprintf(stderr, "dosfs: could not set the readahead of %s (bdi %s) to %d KiB\n",
                 fs.mountpoint.c_str(), dev.c_str(), kReadaheadKb);
}

void Statfs(fuse_req_t req, fuse_ino_t ino) {
  Fs& fs = Get(req);
  proto::StatfsRep rep;
  Status s = Guard([&] { return fs.cluster->Meta(proto::Op::kStatfs, proto::Empty{}, &rep); });
  if (!s.ok()) return ReplyStatus(req, "statfs", ino, s);
  struct statvfs v;
  std::memset(&v, 0, sizeof(v));
  const uint64_t bs = rep.block_size ? rep.block_size : 4096;
  v.f_bsize = bs;
  v.f_frsize = bs;
  v.f_blocks = rep.total_bytes / bs;
  v.f_bfree = rep.free_bytes / bs;
  v.f_bavail = rep.free_bytes / bs;
  v.f_files = rep.files + rep.files_free;
  v.f_ffree = rep.files_free;
  v.f_favail = rep.files_free;
  v.f_namemax = rep.name_max;
  fuse_reply_statfs(req, &v);
}

}  // namespace dos::fs
