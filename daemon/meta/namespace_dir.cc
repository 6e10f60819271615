// Directory listing: entries in cookie order, each with its attributes.
#include "common/store/stmt.h"
#include "daemon/meta/namespace.h"

namespace dos::meta {

Status Namespace::Readdir(const proto::ReaddirReq& req, proto::ReaddirRep* out) {
  if (Result<Inode> dir = LoadDir(db_, req.ino); !dir.ok()) return dir.status();
  std::string sql = std::string("SELECT d.cookie, d.name, ") + kInodeCols +
                    " FROM dentries d JOIN inodes i ON i.ino = d.ino"
                    " WHERE d.parent = ?1 AND d.cookie > ?2 ORDER BY d.cookie LIMIT ?3";
  store::Stmt st(db_, sql.c_str());
  uint32_t max = std::min(req.max, proto::kMaxReaddir);
  st.Bind(1, req.ino).Bind(2, req.after).Bind(3, max + 1);
  out->entries.clear();
  out->eof = true;
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (out->entries.size() == max) {
      out->eof = false;
      break;
    }
    proto::DirEntry e;
    e.cookie = st.U64(0);
    e.name = st.Text(1);
    e.attr = ReadInode(st, 2).ToAttr();
    out->entries.push_back(std::move(e));
  }
  return Status::Ok();
}

}  // namespace dos::meta
