#include "common/store/db.h"

namespace dos::store {

Status SqliteStatus(int rc, const std::string& context) {
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return Status::Ok();
    case SQLITE_CONSTRAINT:
      return Status::Err(EEXIST, context + ": " + sqlite3_errstr(rc));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Err(EAGAIN, context + ": " + sqlite3_errstr(rc));
    case SQLITE_FULL:
      return Status::Err(ENOSPC, context + ": " + sqlite3_errstr(rc));
    default:  // SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_IOERR and the rest
      return Status::Err(EIO, context + ": " + sqlite3_errstr(rc));
  }
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Db> db(new Db(raw, path));  // closes raw even on failure
  if (rc != SQLITE_OK) return SqliteStatus(rc, "open " + path);
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_extended_result_codes(raw, 1);
  // Exclusive locking before WAL: this connection is the database's only
  // user, so SQLite keeps its WAL index in memory (no shared-memory file, no
  // fcntl locks per transaction) and another process opening the same file
  // gets SQLITE_BUSY instead of a second writer.
  Status s = db->Exec(
      "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
      " PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=4000;");
  if (!s.ok()) return s;
  return db;
}

Db::~Db() {
  for (auto& [sql, stmts] : kept_)
    for (sqlite3_stmt* s : stmts) sqlite3_finalize(s);
  sqlite3_close_v2(db_);
}

sqlite3_stmt* Db::TakeStatement(const std::string& sql, int* rc) {
  auto it = kept_.find(sql);
  if (it != kept_.end() && !it->second.empty()) {
    sqlite3_stmt* s = it->second.back();
    it->second.pop_back();
    *rc = SQLITE_OK;
    return s;
  }
  sqlite3_stmt* s = nullptr;
  *rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr);
  return s;
}

void Db::GiveStatement(const std::string& sql, sqlite3_stmt* stmt) {
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  auto it = kept_.find(sql);
  if (it == kept_.end() && kept_.size() < kMaxSqlKept) it = kept_.emplace(sql, 0).first;
  if (it == kept_.end() || it->second.size() >= kKeptPerSql) {
    sqlite3_finalize(stmt);
    return;
  }
  it->second.push_back(stmt);
}

Status Db::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  std::string context = path_ + ": " + (err ? err : "exec");
  sqlite3_free(err);
  return SqliteStatus(rc, context);
}

}  // namespace dos::store
