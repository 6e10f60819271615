// Extended attributes: user., trusted. and security. names only (system.
// names such as POSIX ACLs are not kept: EOPNOTSUPP, so tools fall back).
#include "common/store/stmt.h"
#include "daemon/meta/namespace.h"

namespace dos::meta {

namespace {
constexpr uint32_t kXattrCreate = 1;
constexpr uint32_t kXattrReplace = 2;

Status CheckName(const std::string& name) {
  for (const char* ns : {"user.", "trusted.", "security."}) {
    std::string_view p(ns);
    if (name.size() > p.size() && name.compare(0, p.size(), p) == 0) return Status::Ok();
  }
  return Status::Err(EOPNOTSUPP, "xattr namespace of '" + name + "'");
}

// Bytes the name list of ino takes in listxattr(2): each name and a NUL.
Result<size_t> ListBytes(store::Db* db, uint64_t ino) {
  store::Stmt st(db,
                 "SELECT COALESCE(SUM(LENGTH(CAST(name AS BLOB)) + 1), 0) FROM xattrs"
                 " WHERE ino = ?1");
  st.Bind(1, ino);
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  return static_cast<size_t>(st.Int(0));
}

Status TouchCtime(store::Db* db, uint64_t ino) {
  store::Stmt st(db, "UPDATE inodes SET ctime_ns = ?2 WHERE ino = ?1");
  return st.Bind(1, ino).Bind(2, NowNs()).Run();
}
}  // namespace

Status Namespace::Setxattr(const proto::SetxattrReq& req) {
  if (Status s = CheckName(req.name); !s.ok()) return s;
  if (req.value.size() > proto::kMaxXattrValue) return Status::Err(E2BIG);
  return InTxn([&]() -> Status {
    if (Result<Inode> in = LoadInode(db_, req.ino); !in.ok()) return in.status();
    std::vector<char> old;
    Status got = Getxattr(req.ino, req.name, &old);
    if (!got.ok() && got.err() != ENODATA) return got;
    bool exists = got.ok();
    if (exists && (req.flags & kXattrCreate)) return Status::Err(EEXIST);
    if (!exists && (req.flags & kXattrReplace)) return Status::Err(ENODATA);
    if (!exists) {
      Result<size_t> used = ListBytes(db_, req.ino);
      if (!used.ok()) return used.status();
      if (*used + req.name.size() + 1 > proto::kMaxXattrList) return Status::Err(ENOSPC);
    }
    store::Stmt st(db_, "INSERT OR REPLACE INTO xattrs(ino, name, value) VALUES (?1, ?2, ?3)");
    st.Bind(1, req.ino).Bind(2, req.name).BindBlob(3, req.value.data(), req.value.size());
    if (Status s = st.Run(); !s.ok()) return s;
    return TouchCtime(db_, req.ino);
  });
}

Status Namespace::Getxattr(uint64_t ino, const std::string& name, std::vector<char>* value) {
  if (Status s = CheckName(name); !s.ok()) return s;
  store::Stmt st(db_, "SELECT value FROM xattrs WHERE ino = ?1 AND name = ?2");
  st.Bind(1, ino).Bind(2, name);
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    if (Result<Inode> in = LoadInode(db_, ino); !in.ok()) return in.status();
    return Status::Err(ENODATA);
  }
  *value = st.Blob(0);
  return Status::Ok();
}

Status Namespace::Listxattr(uint64_t ino, std::vector<std::string>* names) {
  if (Result<Inode> in = LoadInode(db_, ino); !in.ok()) return in.status();
  store::Stmt st(db_, "SELECT name FROM xattrs WHERE ino = ?1 ORDER BY name");
  st.Bind(1, ino);
  names->clear();
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    names->push_back(st.Text(0));
  }
}

Status Namespace::Removexattr(uint64_t ino, const std::string& name) {
  if (Status s = CheckName(name); !s.ok()) return s;
  return InTxn([&]() -> Status {
    if (Result<Inode> in = LoadInode(db_, ino); !in.ok()) return in.status();
    store::Stmt st(db_, "DELETE FROM xattrs WHERE ino = ?1 AND name = ?2");
    if (Status s = st.Bind(1, ino).Bind(2, name).Run(); !s.ok()) return s;
    if (db_->Changes() == 0) return Status::Err(ENODATA);
    return TouchCtime(db_, ino);
  });
}

}  // namespace dos::meta
