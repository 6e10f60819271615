// The client configuration dos.conf (TOML), read by dosfs and dosctl:
//
//   [cluster]
//   meta = "tcp://127.0.0.1:7701"   # the meta service's endpoint
//   timeout_ms = 15000              # deadline of one request
//   chunk_timeout_ms = 3000         # deadline of one chunk read or write on
//                                   # one replica, before the next is tried
//
// Which file: an explicit path, else $DOS_CONF, else /etc/dos/dos.conf.
#pragma once

#include <string>

#include "common/status.h"

namespace dos {

inline constexpr const char* kDefaultConfPath = "/etc/dos/dos.conf";

struct ClientConf {
  std::string path;  // the file it came from
  std::string meta;
  int timeout_ms = 15000;
  int chunk_timeout_ms = 3000;
  bool curve = true;
  std::string server_public_key;  // Z85 text or a file
  std::string key;                // secret key file
};

// explicit_path may be empty. ENOENT names the file that was tried;
// EINVAL for a file that is not valid TOML or lacks cluster.meta.
Result<ClientConf> LoadClientConf(const std::string& explicit_path);

// Sets this process's CURVE settings (net::SetSecurity) from conf; key_file,
// if not empty, replaces conf.key (dosctl --key, dosfs -o key=). Call before
// any socket is made. EINVAL when CURVE is on and a key is not set.
Status ApplyClientSecurity(const ClientConf& conf, const std::string& key_file);

}  // namespace dos
