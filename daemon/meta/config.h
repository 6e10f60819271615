// Config: the cluster settings an admin changes at run time (dosctl config),
// kept in meta's `config` table. A setting never set has its default, which
// comes from dosd's options (--repl, --chunk-size, --heartbeat-timeout-ms).
// Every change bumps settings.config_version; heartbeat replies carry the
// version and the values, so every node sees a change within one heartbeat.
//
// Settings (values are integers; Parse accepts the suffixes shown):
//   replication        replicas of a chunk of a file without its own, 1..16
//   chunk_size         bytes per chunk of new files, 64K..256M, a multiple of
//                      64K (K, M, G suffixes)
//   heartbeat_timeout  ms of silence before a node is DOWN, 1000..3600000
//                      (ms, s, m suffixes)
//   repair_bandwidth   bytes/s re-replication and drains may copy, 0 for no
//                      limit (K, M, G suffixes)
//
// Not thread-safe: used from the meta thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/proto/messages.h"
#include "common/store/db.h"

namespace dos::meta {

struct ConfigDefaults {
  uint32_t replication = 3;
  uint64_t chunk_size = proto::kDefaultChunkSize;
  uint64_t heartbeat_timeout_ms = 10000;
  uint64_t repair_bandwidth = 0;
};

class Config {
 public:
  Config(store::Db* db, const ConfigDefaults& defaults);

  // The value of key as text, checked: ENOENT for an unknown key, EINVAL for
  // text that is not a number (with an allowed suffix) or is out of range.
  static Result<uint64_t> Parse(const std::string& key, const std::string& text);

  // Reads the stored values and the version (after Migrate).
  Status Load();
  // Checks and stores one value; bumps the version. ENOENT, EINVAL.
  Status Set(const std::string& key, const std::string& text);
  uint64_t Get(const std::string& key) const;  // aborts on an unknown key
  uint64_t version() const { return version_; }
  std::vector<proto::ConfigEntry> List() const;
  std::map<std::string, std::string> Values() const;

 private:
  store::Db* db_;
  std::map<std::string, uint64_t> defaults_;
  std::map<std::string, uint64_t> values_;  // every key, stored or default
  uint64_t version_ = 0;
};

}  // namespace dos::meta
