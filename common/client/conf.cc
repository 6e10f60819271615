#include "common/client/conf.h"

#include <cstdlib>
#include <filesystem>
#include <toml++/toml.h>

#include "common/net/curve.h"

namespace dos {

namespace {

// A key path relative to the conf file's folder.
std::string Relative(const std::string& conf_path, const std::string& p) {
  if (p.empty() || p[0] == '/' || net::IsZ85Key(p)) return p;
  return (std::filesystem::path(conf_path).parent_path() / p).lexically_normal().string();
}

Status LoadSecurity(const toml::table& tbl, ClientConf* conf) {
  auto curve = tbl["security"]["curve"];
  if (curve.is_boolean()) {
    conf->curve = *curve.value<bool>();
  } else if (auto v = curve.value<std::string>()) {
    if (*v != "on" && *v != "off")
      return Status::Err(EINVAL, conf->path + ": security.curve must be on or off");
    conf->curve = *v == "on";
  }
  conf->server_public_key =
      Relative(conf->path, tbl["security"]["server_public_key"].value_or(std::string()));
  conf->key = Relative(conf->path, tbl["security"]["key"].value_or(std::string()));
  return Status::Ok();
}

}  // namespace

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
  if (Status s = LoadSecurity(tbl, &conf); !s.ok()) return s;
  return conf;
}

Status ApplyClientSecurity(const ClientConf& conf, const std::string& key_file) {
  net::Security sec;
  if (!conf.curve) {
    net::SetSecurity(sec);
    return Status::Ok();
  }
  if (conf.server_public_key.empty())
    return Status::Err(EINVAL, conf.path + ": security.server_public_key is not set (or set "
                                           "security.curve = false for a cluster run --insecure)");
  std::string key = key_file.empty() ? conf.key : key_file;
  if (key.empty())
    return Status::Err(EINVAL, "no client key: give --key FILE (dosfs: -o key=FILE) or set "
                               "security.key in " + conf.path + " (make one: dosctl key gen FILE)");
  auto server = net::LoadPublicKey(conf.server_public_key);
  if (!server.ok()) return server.status();
  auto own = net::LoadKeyPair(key);
  if (!own.ok()) return own.status();
  sec.curve = true;
  sec.server.public_z85 = *server;
  sec.client = *own;
  net::SetSecurity(sec);
  return Status::Ok();
}

}  // namespace dos
