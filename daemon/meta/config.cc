#include "daemon/meta/config.h"

#include <cstdio>
#include <cstdlib>

#include "common/store/stmt.h"
#include "common/store/txn.h"

namespace dos::meta {

namespace {

struct Key {
  const char* name;
  const char* help;
  uint64_t min;
  uint64_t max;
  uint64_t multiple;  // 1: any
  bool duration;      // suffixes ms/s/m, else K/M/G
};

const Key kKeys[] = {
    {"replication", "replicas of each chunk of files without their own (1..16)", 1,
     proto::kMaxReplicas, 1, false},
    {"chunk_size", "chunk size of new files, bytes (64K..256M, a multiple of 64K)",
     proto::kBlockSize, proto::kMaxChunkSize, proto::kBlockSize, false},
    {"heartbeat_timeout", "ms of silence before a node is DOWN (1s..1h)", 1000, 3600000, 1, true},
    {"repair_bandwidth", "bytes/s re-replication and drains may copy, 0 = no limit", 0,
     uint64_t{1} << 40, 1, false},
};

const Key* Find(const std::string& name) {
  for (const Key& k : kKeys)
    if (name == k.name) return &k;
  return nullptr;
}

// The multiplier of a suffix, 0 if not allowed.
uint64_t Unit(const std::string& suffix, bool duration) {
  if (suffix.empty()) return 1;
  if (duration) {
    if (suffix == "ms") return 1;
    if (suffix == "s") return 1000;
    if (suffix == "m") return 60000;
    return 0;
  }
  if (suffix == "K" || suffix == "k" || suffix == "KiB") return uint64_t{1} << 10;
  if (suffix == "M" || suffix == "MiB") return uint64_t{1} << 20;
  if (suffix == "G" || suffix == "GiB") return uint64_t{1} << 30;
  return 0;
}

}  // namespace

Result<uint64_t> Config::Parse(const std::string& key, const std::string& text) {
  const Key* k = Find(key);
  if (!k) return Status::Err(ENOENT, "no setting '" + key + "'");
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 15)
    return Status::Err(EINVAL, key + ": '" + text + "' is not a number");
  uint64_t unit = Unit(text.substr(digits), k->duration);
  if (unit == 0) return Status::Err(EINVAL, key + ": bad unit in '" + text + "'");
  uint64_t n = std::strtoull(text.substr(0, digits).c_str(), nullptr, 10);
  if (n > (uint64_t{1} << 50) / unit) return Status::Err(EINVAL, key + ": out of range");
  n *= unit;
  if (n < k->min || n > k->max)
    return Status::Err(EINVAL, key + ": " + std::to_string(n) + " is out of " +
                                   std::to_string(k->min) + ".." + std::to_string(k->max));
  if (n % k->multiple != 0)
    return Status::Err(EINVAL, key + ": must be a multiple of " + std::to_string(k->multiple));
  return n;
}

Config::Config(store::Db* db, const ConfigDefaults& d) : db_(db) {
  defaults_ = {{"replication", d.replication},
               {"chunk_size", d.chunk_size},
               {"heartbeat_timeout", d.heartbeat_timeout_ms},
               {"repair_bandwidth", d.repair_bandwidth}};
  values_ = defaults_;
}

Status Config::Load() {
  store::Stmt st(db_, "SELECT key, value FROM config");
  for (;;) {
    Result<bool> row = st.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    Result<uint64_t> v = Parse(st.Text(0), st.Text(1));
    if (v.ok())
      values_[st.Text(0)] = *v;
    else  // a key of a newer build, or a value an older one allowed
      fprintf(stderr, "meta: config: ignoring stored %s\n", v.status().ToString().c_str());
  }
  store::Stmt ver(db_, "SELECT value FROM settings WHERE key = 'config_version'");
  Result<bool> row = ver.Step();
  if (!row.ok()) return row.status();
  version_ = *row ? ver.U64(0) : 0;
  return Status::Ok();
}

Status Config::Set(const std::string& key, const std::string& text) {
  Result<uint64_t> v = Parse(key, text);
  if (!v.ok()) return v.status();
  store::Txn txn(db_);
  if (Status s = txn.Begin(); !s.ok()) return s;
  store::Stmt put(db_,
                  "INSERT INTO config(key, value) VALUES (?1, ?2)"
                  " ON CONFLICT(key) DO UPDATE SET value = ?2");
  if (Status s = put.Bind(1, key).Bind(2, std::to_string(*v)).Run(); !s.ok()) return s;
  store::Stmt bump(db_, "UPDATE settings SET value = value + 1 WHERE key = 'config_version'");
  if (Status s = bump.Run(); !s.ok()) return s;
  if (Status s = txn.Commit(); !s.ok()) return s;
  values_[key] = *v;
  ++version_;
  return Status::Ok();
}

uint64_t Config::Get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    fprintf(stderr, "meta: config: unknown key %s\n", key.c_str());
    abort();
  }
  return it->second;
}

std::vector<proto::ConfigEntry> Config::List() const {
  std::vector<proto::ConfigEntry> out;
  for (const Key& k : kKeys)
    out.push_back(
        {k.name, std::to_string(values_.at(k.name)), std::to_string(defaults_.at(k.name)), k.help});
  return out;
}

std::map<std::string, std::string> Config::Values() const {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : values_) out[k] = std::to_string(v);
  return out;
}

}  // namespace dos::meta
