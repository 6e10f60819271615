// Stmt: one RAII prepared statement. Binding never fails loudly: the first
// error (of prepare or a bind) is kept and returned by Step()/Run(), so call
// sites read as a chain of binds and one check.
//
// Parameters and columns are numbered as SQLite does: binds from 1, columns
// from 0. Not thread-safe; lives on the thread of its Db.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <vector>

#include "common/store/db.h"

namespace dos::store {

class Stmt {
 public:
  Stmt(Db* db, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  template <std::integral T>
  Stmt& Bind(int i, T v) {
    return BindInt(i, static_cast<int64_t>(v));
  }
  Stmt& Bind(int i, std::string_view v);
  Stmt& BindBlob(int i, const void* data, size_t len);
  Stmt& BindNull(int i);

  // Advances: true when a row is ready, false when done.
  Result<bool> Step();
  // Steps until done, for statements that return no rows.
  Status Run();
  // Clears bindings and rewinds, to run again.
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  uint64_t U64(int col) const { return static_cast<uint64_t>(Int(col)); }
  std::string Text(int col) const;
  std::vector<char> Blob(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  Stmt& BindInt(int i, int64_t v);
  Stmt& Check(int rc, const char* what);

  Db* db_;
  std::string sql_;  // the key of stmt_ in the Db's kept statements
  sqlite3_stmt* stmt_ = nullptr;
  Status status_;
};

}  // namespace dos::store
