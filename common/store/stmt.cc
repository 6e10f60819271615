#include "common/store/stmt.h"

namespace dos::store {

Stmt::Stmt(Db* db, const char* sql) : db_(db), sql_(sql) {
  int rc;
  stmt_ = db->TakeStatement(sql_, &rc);
  if (rc != SQLITE_OK) {
    status_ = SqliteStatus(rc, std::string("prepare: ") + sqlite3_errmsg(db->handle()));
    sqlite3_finalize(stmt_);  // NULL-safe
    stmt_ = nullptr;
  }
}

Stmt::~Stmt() {
  if (stmt_) db_->GiveStatement(sql_, stmt_);
}

Stmt& Stmt::Check(int rc, const char* what) {
  if (rc != SQLITE_OK && status_.ok()) status_ = SqliteStatus(rc, what);
  return *this;
}

Stmt& Stmt::BindInt(int i, int64_t v) {
  if (!stmt_) return *this;
  return Check(sqlite3_bind_int64(stmt_, i, v), "bind int");
}

Stmt& Stmt::Bind(int i, std::string_view v) {
  if (!stmt_) return *this;
  return Check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT),
               "bind text");
}

Stmt& Stmt::BindBlob(int i, const void* data, size_t len) {
  if (!stmt_) return *this;
  // A zero-length blob must not bind as NULL.
  static const char kEmpty = 0;
  if (len == 0) data = &kEmpty;
  return Check(sqlite3_bind_blob(stmt_, i, data, static_cast<int>(len), SQLITE_TRANSIENT),
               "bind blob");
}

Stmt& Stmt::BindNull(int i) {
  if (!stmt_) return *this;
  return Check(sqlite3_bind_null(stmt_, i), "bind null");
}

Result<bool> Stmt::Step() {
  if (!status_.ok()) return status_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(rc, std::string("step: ") + sqlite3_errmsg(db_->handle()));
}

Status Stmt::Run() {
  for (;;) {
    Result<bool> r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return Status::Ok();
  }
}

void Stmt::Reset() {
  if (!stmt_) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Stmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::vector<char> Stmt::Blob(int col) const {
  const char* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  if (!p) return {};
  return std::vector<char>(p, p + sqlite3_column_bytes(stmt_, col));
}

}  // namespace dos::store
