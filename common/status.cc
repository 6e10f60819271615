#include "common/status.h"

#include <cstring>

namespace dos {

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : std::to_string(err);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = ErrnoName(err_) + " (" + strerror(err_) + ")";
  if (!msg_.empty()) s += ": " + msg_;
  return s;
}

}  // namespace dos
