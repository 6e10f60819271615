// PATH arguments of dosctl fs: a path on a local dos mount, or a path inside
// the cluster (relative to its root).
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fstream>
#include <sstream>

#include "daemon/ctl/ctl.h"

namespace dos::ctl {

namespace {

// Whether device dev is a dos FUSE mount, from /proc/self/mountinfo:
// "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SOURCE SUPER".
bool OnDosMount(dev_t dev) {
  std::ifstream in("/proc/self/mountinfo");
  std::string want = std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, majmin, word;
    f >> id >> parent >> majmin;
    if (majmin != want) continue;
    while (f >> word && word != "-") {
    }
    std::string fstype;
    f >> fstype;
    if (fstype == "fuse.dos" || fstype == "fuse.dosfs") return true;
  }
  return false;
}

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(path);
  while (std::getline(in, part, '/'))
    if (!part.empty() && part != ".") out.push_back(part);
  return out;
}

}  // namespace

Result<uint64_t> ResolvePath(Ctl* ctl, const std::string& path) {
  struct stat st;
  if (!path.empty() && stat(path.c_str(), &st) == 0 && OnDosMount(st.st_dev))
    return static_cast<uint64_t>(st.st_ino);
  if (auto m = ctl->Meta(); !m.ok()) return m.status();  // a config error, not a lookup's
  uint64_t ino = proto::kRootIno;
  for (const auto& name : Components(path)) {
    proto::LookupReq req{ino, name};
    proto::EntryRep rep;
    if (Status s = ctl->CallMeta(proto::Op::kLookup, req, &rep); !s.ok())
      return Status::Err(s.err(), "lookup of '" + name + "'" +
                                      (s.message().empty() ? "" : ": " + s.message()));
    ino = rep.attr.ino;
  }
  return ino;
}

}  // namespace dos::ctl
