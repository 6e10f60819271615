#include "common/client/conf.h"

#include <cstdlib>
#include <filesystem>
#include <toml++/toml.h>

namespace dos {

Result<ClientConf> LoadClientConf(const std::string& explicit_path) {
  ClientConf conf;
  if (!explicit_path.empty()) {
    conf.path = explicit_path;
  } else if (const char* env = std::getenv("DOS_CONF"); env && *env) {
    conf.path = env;
  } else {
    conf.path = kDefaultConfPath;
  }
  std::error_code ec;
  if (!std::filesystem::exists(conf.path, ec))
    return Status::Err(ENOENT, "config file " + conf.path +
                                   " not found (give --conf FILE or set DOS_CONF)");
  toml::table tbl;
  try {
    tbl = toml::parse_file(conf.path);
  } catch (const toml::parse_error& e) {
    return Status::Err(EINVAL, conf.path + ": " + std::string(e.description()));
  }
  auto meta = tbl["cluster"]["meta"].value<std::string>();
  if (!meta || meta->empty()) return Status::Err(EINVAL, conf.path + ": cluster.meta is missing");
  conf.meta = *meta;
  conf.timeout_ms = tbl["cluster"]["timeout_ms"].value_or(conf.timeout_ms);
  if (conf.timeout_ms <= 0) return Status::Err(EINVAL, conf.path + ": cluster.timeout_ms must be > 0");
  conf.chunk_timeout_ms = tbl["cluster"]["chunk_timeout_ms"].value_or(conf.chunk_timeout_ms);
  if (conf.chunk_timeout_ms <= 0)
    return Status::Err(EINVAL, conf.path + ": cluster.chunk_timeout_ms must be > 0");
  return conf;
}

}  // namespace dos
