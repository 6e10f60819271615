// Txn: one RAII transaction. Begin() takes the write lock at once (BEGIN
// IMMEDIATE), so a busy database fails there and not halfway through; the
// destructor rolls back unless Commit() succeeded.
#pragma once

#include "common/store/db.h"

namespace dos::store {

class Txn {
 public:
  explicit Txn(Db* db) : db_(db) {}
  ~Txn() {
    if (open_) (void)db_->Exec("ROLLBACK");
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  Status Begin() {
    Status s = db_->Exec("BEGIN IMMEDIATE");
    open_ = s.ok();
    return s;
  }
  Status Commit() {
    Status s = db_->Exec("COMMIT");
    if (s.ok()) open_ = false;
    return s;
  }

 private:
  Db* db_;
  bool open_ = false;
};

}  // namespace dos::store
