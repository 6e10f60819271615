#include "daemon/ctl/ctl.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace dos::ctl {

void Ctl::Set(std::string what, std::function<Status()> run) {
  what_ = std::move(what);
  run_ = std::move(run);
}

int Ctl::Run() {
  if (!run_) return 0;
  Status s = run_();
  if (s.ok()) return 0;
  std::cerr << "dosctl: " << what_ << ": " << s.ToString() << "\n";
  return 1;
}

Result<net::Client*> Ctl::Meta() {
  if (meta_) return meta_.get();
  auto conf = LoadClientConf(conf_path);
  if (!conf.ok()) return conf.status();
  conf_ = conf.value();
  if (Status s = ApplyClientSecurity(conf_, key_path); !s.ok()) return s;
  ctx_ = std::make_unique<zmq::context_t>();
  meta_ = std::make_unique<net::Client>(ctx_.get(), conf_.meta);
  return meta_.get();
}

Result<std::unique_ptr<net::Client>> Ctl::Connect(const std::string& endpoint) {
  if (auto m = Meta(); !m.ok()) return m.status();
  return std::make_unique<net::Client>(ctx_.get(), endpoint);
}

std::string HumanSize(uint64_t bytes) {
  static const char kUnits[] = "BKMGTPE";
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof(buf), "%lluB", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof(buf), v < 10 ? "%.1f%c" : "%.0f%c", v, kUnits[u]);
  return buf;
}

void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size() && i < width.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

std::string ChunkIdHex(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace dos::ctl
