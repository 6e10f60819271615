// Status and Result<T>: an errno (0 is OK) and an optional message.
// Every layer of dos reports errors this way, from a syscall in a daemon to
// the reply a FUSE op sends to the kernel, so ENOTEMPTY stays ENOTEMPTY.
#pragma once

#include <cerrno>
#include <optional>
#include <string>
#include <utility>

namespace dos {

class Status {
 public:
  Status() = default;  // OK
  Status(int err, std::string msg) : err_(err), msg_(std::move(msg)) {}

  static Status Ok() { return Status(); }
  static Status Err(int err, std::string msg = {}) { return Status(err, std::move(msg)); }
  // From errno after a failed syscall, with what was being done.
  static Status FromErrno(const std::string& context) { return Status(errno, context); }

  bool ok() const { return err_ == 0; }
  int err() const { return err_; }
  const std::string& message() const { return msg_; }
  // "ENOENT (No such file or directory): context"
  std::string ToString() const;

 private:
  int err_ = 0;
  std::string msg_;
};

// Holds a T or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit on purpose
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  int err() const { return status_.err(); }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

// Name of an errno ("ENOENT"), or its number as text when unknown.
std::string ErrnoName(int err);

}  // namespace dos
