#include "daemon/meta/inode.h"

#include <ctime>

#include "common/store/stmt.h"

namespace dos::meta {

using store::Stmt;

proto::Attr Inode::ToAttr() const {
  proto::Attr a;
  a.ino = ino;
  a.mode = mode;
  a.nlink = nlink;
  a.uid = uid;
  a.gid = gid;
  a.rdev = rdev;
  a.size = IsReg() || S_ISLNK(mode) ? size : (IsDir() ? 4096 : 0);
  a.atime_ns = atime_ns;
  a.mtime_ns = mtime_ns;
  a.ctime_ns = ctime_ns;
  a.has_xattrs = has_xattrs;
  return a;
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Inode ReadInode(const Stmt& st, int first) {
  Inode in;
  in.ino = st.U64(first);
  in.mode = static_cast<uint32_t>(st.Int(first + 1));
  in.uid = static_cast<uint32_t>(st.Int(first + 2));
  in.gid = static_cast<uint32_t>(st.Int(first + 3));
  in.nlink = static_cast<uint32_t>(st.Int(first + 4));
  in.size = st.U64(first + 5);
  in.rdev = st.U64(first + 6);
  in.atime_ns = st.Int(first + 7);
  in.mtime_ns = st.Int(first + 8);
  in.ctime_ns = st.Int(first + 9);
  in.parent = st.U64(first + 10);
  in.repl = static_cast<uint32_t>(st.Int(first + 11));
  in.chunk_size = st.U64(first + 12);
  in.target = st.Text(first + 13);
  in.has_xattrs = st.Int(first + 14) != 0;
  return in;
}

Result<Inode> LoadInode(store::Db* db, uint64_t ino) {
  std::string sql = std::string("SELECT ") + kInodeCols + " FROM inodes i WHERE i.ino = ?1";
  Stmt st(db, sql.c_str());
  st.Bind(1, ino);
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Err(ENOENT, "inode " + std::to_string(ino));
  return ReadInode(st, 0);
}

Result<Inode> LoadDir(store::Db* db, uint64_t ino) {
  Result<Inode> in = LoadInode(db, ino);
  if (in.ok() && !in->IsDir()) return Status::Err(ENOTDIR, "inode " + std::to_string(ino));
  return in;
}

namespace {
// Binds every column but ino, as ?2..?14.
void BindInode(Stmt& st, const Inode& in) {
  st.Bind(2, in.mode).Bind(3, in.uid).Bind(4, in.gid).Bind(5, in.nlink).Bind(6, in.size);
  st.Bind(7, in.rdev).Bind(8, in.atime_ns).Bind(9, in.mtime_ns).Bind(10, in.ctime_ns);
  st.Bind(11, in.parent).Bind(12, in.repl).Bind(13, in.chunk_size);
  if (in.target.empty()) {
    st.BindNull(14);
  } else {
    st.Bind(14, in.target);
  }
}
}  // namespace

Status SaveInode(store::Db* db, const Inode& in) {
  Stmt st(db,
          "UPDATE inodes SET mode=?2, uid=?3, gid=?4, nlink=?5, size=?6, rdev=?7, atime_ns=?8,"
          " mtime_ns=?9, ctime_ns=?10, parent=?11, repl=?12, chunk_size=?13, target=?14"
          " WHERE ino=?1");
  st.Bind(1, in.ino);
  BindInode(st, in);
  return st.Run();
}

Result<uint64_t> InsertInode(store::Db* db, const Inode& in) {
  Stmt st(db,
          "INSERT INTO inodes(mode, uid, gid, nlink, size, rdev, atime_ns, mtime_ns, ctime_ns,"
          " parent, repl, chunk_size, target) VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
          " ?12, ?13, ?14)");
  BindInode(st, in);
  if (Status s = st.Run(); !s.ok()) return s;
  return static_cast<uint64_t>(db->LastInsertRowid());
}

Result<std::optional<uint64_t>> FindEntry(store::Db* db, uint64_t parent, const std::string& name) {
  Stmt st(db, "SELECT ino FROM dentries WHERE parent = ?1 AND name = ?2");
  st.Bind(1, parent).Bind(2, name);
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<uint64_t>();
  return std::optional<uint64_t>(st.U64(0));
}

Status InsertEntry(store::Db* db, uint64_t parent, const std::string& name, uint64_t ino) {
  Stmt st(db, "INSERT INTO dentries(parent, name, ino) VALUES (?1, ?2, ?3)");
  st.Bind(1, parent).Bind(2, name).Bind(3, ino);
  return st.Run();
}

Status DeleteEntry(store::Db* db, uint64_t parent, const std::string& name) {
  Stmt st(db, "DELETE FROM dentries WHERE parent = ?1 AND name = ?2");
  st.Bind(1, parent).Bind(2, name);
  return st.Run();
}

Result<bool> DirEmpty(store::Db* db, uint64_t ino) {
  Stmt st(db, "SELECT 1 FROM dentries WHERE parent = ?1 LIMIT 1");
  st.Bind(1, ino);
  Result<bool> row = st.Step();
  if (!row.ok()) return row.status();
  return !*row;
}

Status TouchDir(store::Db* db, uint64_t ino, int delta_nlink, int64_t now) {
  Stmt st(db, "UPDATE inodes SET nlink = nlink + ?2, mtime_ns = ?3, ctime_ns = ?3 WHERE ino = ?1");
  st.Bind(1, ino).Bind(2, delta_nlink).Bind(3, now);
  return st.Run();
}

Result<std::vector<std::string>> ChunkNodes(store::Db* db, uint64_t id) {
  Stmt st(db, "SELECT node FROM replicas WHERE chunk_id = ?1 ORDER BY pos");
  st.Bind(1, id);
  std::vector<std::string> nodes;
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) return nodes;
    nodes.push_back(st.Text(0));
  }
}

Status DropChunks(store::Db* db, uint64_t ino, uint64_t first, std::vector<DeadChunk>* dead) {
  Stmt st(db, "DELETE FROM chunks WHERE ino = ?1 AND idx >= ?2 RETURNING id");
  st.Bind(1, ino).Bind(2, first);
  std::vector<uint64_t> ids;
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    ids.push_back(st.U64(0));
  }
  for (uint64_t id : ids) {
    Result<std::vector<std::string>> nodes = ChunkNodes(db, id);
    if (!nodes.ok()) return nodes.status();
    Stmt del(db, "DELETE FROM replicas WHERE chunk_id = ?1");
    if (Status s = del.Bind(1, id).Run(); !s.ok()) return s;
    dead->push_back(DeadChunk{id, std::move(*nodes)});
  }
  return Status::Ok();
}

Status DeleteInodeRows(store::Db* db, uint64_t ino, std::vector<DeadChunk>* dead) {
  if (Status s = DropChunks(db, ino, 0, dead); !s.ok()) return s;
  Stmt x(db, "DELETE FROM xattrs WHERE ino = ?1");
  if (Status s = x.Bind(1, ino).Run(); !s.ok()) return s;
  Stmt i(db, "DELETE FROM inodes WHERE ino = ?1");
  return i.Bind(1, ino).Run();
}

}  // namespace dos::meta
