// Credentials of a bound user key (dosctl key add --uid N): meta checks a
// request from such a key as Linux checks a process with that uid and gid
// (no supplementary groups), because the kernel of the client checked the
// local caller, who may be anyone (root) on that machine.
//
// Checked: search (x) on the directory of a lookup, read on a listed
// directory, write and search on the directory of every create, link,
// remove and rename (with the sticky bit's rule), owner rules of chmod,
// chown, chgrp and utimes, write for truncate and for O_WRONLY/O_RDWR/O_TRUNC
// opens, read for O_RDONLY/O_RDWR opens, and xattrs (user.*: read/write on
// the file; trusted.*: uid 0). New inodes are owned by the bound uid/gid.
// Not checked: chunk reads and writes on nodes (the data path), CommitWrite,
// locks, set replication.
//
// Not thread-safe: meta's one thread (it reads through the Namespace).
#pragma once

#include <string>

#include "common/proto/messages.h"
#include "daemon/meta/keys.h"
#include "daemon/meta/namespace.h"

namespace dos::meta {

// R_OK 4, W_OK 2, X_OK 1 on a's owner/group/other bits; uid 0 may read and
// write everything, and search or run what has any x bit (or is a directory).
bool Permits(const Binding& c, const proto::Attr& a, int mask);

class Creds {
 public:
  explicit Creds(Namespace* ns) : ns_(ns) {}
  // Each returns OK or the errno Linux gives (EACCES, EPERM, ENOENT...).
  Status Access(const Binding& c, uint64_t ino, int mask);
  Status Remove(const Binding& c, uint64_t parent, const std::string& name);
  Status Rename(const Binding& c, const proto::RenameReq& req);
  // May clear S_ISGID from a chmod of a file whose group c is not in.
  Status Setattr(const Binding& c, proto::SetattrReq* req);
  Status Open(const Binding& c, uint64_t ino, uint32_t flags);
  Status Xattr(const Binding& c, uint64_t ino, const std::string& name, bool write);

 private:
  // The sticky bit: only the owner of dir or of the entry may remove it.
  Status Sticky(const Binding& c, const proto::Attr& dir, const std::string& name,
                uint64_t dir_ino);
  Namespace* ns_;
};

}  // namespace dos::meta
