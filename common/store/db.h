// Db: one RAII SQLite connection, opened with the pragmas every dos database
// uses (exclusive locking, WAL, synchronous=NORMAL, foreign_keys, a 64 MiB
// page cache, a checkpoint every 4000 pages, a busy timeout).
//
// One connection per thread: a Db is not safe for concurrent use (it is
// opened with SQLITE_OPEN_NOMUTEX). SqliteStatus() is the one place where a
// SQLite result code becomes an errno.
//
// A Db keeps the statements its Stmts prepared, by SQL text, once they are
// done (reset, bindings cleared), and hands them to the next Stmt of the
// same text: parsing and planning a statement costs more here than running
// it (an unlink runs about ten).
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace dos::store {

// SQLite result code -> Status: constraint EEXIST, busy/locked EAGAIN, full
// ENOSPC, corrupt/notadb EIO, everything else EIO. SQLITE_OK, _ROW and _DONE
// are OK.
Status SqliteStatus(int rc, const std::string& context);

class Db {
 public:
  // Opens path, creating the file if absent, and applies the pragmas.
  static Result<std::unique_ptr<Db>> Open(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  // Runs one or more statements that return no rows.
  Status Exec(const std::string& sql);
  int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }

  // For Stmt: a prepared statement of sql (kept or new; *rc the prepare's
  // result, nullptr on failure), and its return when done.
  sqlite3_stmt* TakeStatement(const std::string& sql, int* rc);
  void GiveStatement(const std::string& sql, sqlite3_stmt* stmt);

 private:
  static constexpr size_t kKeptPerSql = 4;  // a statement nested in a loop of itself
  static constexpr size_t kMaxSqlKept = 512;
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> kept_;  // idle, by SQL text
};

}  // namespace dos::store
