// dosctl key ...: CURVE key pairs and the list of keys meta allows.
#include <iostream>

#include "common/net/curve.h"
#include "daemon/ctl/ctl.h"

namespace dos::ctl {

namespace {

struct KeyArgs {
  std::string file;
  std::string role = "user";
  std::string name;
  int64_t uid = proto::kNoId;  // --uid: bind a user key to this uid
  int64_t gid = proto::kNoId;
};

std::string Id(int64_t id) { return id == proto::kNoId ? "-" : std::to_string(id); }

Status KeyGen(Ctl* ctl, const std::string& file) {
  auto kp = net::GenerateKeyPair();
  if (!kp.ok()) return kp.status();
  if (Status s = net::WriteKeyPair(file, *kp); !s.ok()) return s;
  if (ctl->json)
    std::cout << nlohmann::json{{"secret", file}, {"public", file + ".pub"},
                                {"public_key", kp->public_z85}}
                     .dump(2)
              << "\n";
  else
    std::cout << "secret key " << file << " (mode 0600), public key " << file
              << ".pub: " << kp->public_z85 << "\n";
  return Status::Ok();
}

Status KeyAdd(Ctl* ctl, const KeyArgs& a) {
  auto pub = net::LoadPublicKey(a.file);
  if (!pub.ok()) return pub.status();
  proto::KeyAddReq req{a.name, *pub, a.role, a.uid, a.gid};
  if (Status s = req.Valid(); !s.ok()) return s;
  proto::Empty rep;
  if (Status s = ctl->CallMeta(proto::Op::kKeyAdd, req, &rep); !s.ok()) return s;
  if (!ctl->json) {
    std::cout << "key " << a.name << " added with role " << a.role;
    if (a.uid != proto::kNoId)
      std::cout << ", bound to uid " << a.uid << " gid " << (a.gid == proto::kNoId ? a.uid : a.gid);
    std::cout << "\n";
  }
  return Status::Ok();
}

Status KeyLs(Ctl* ctl) {
  proto::KeyListRep rep;
  if (Status s = ctl->CallMeta(proto::Op::kKeyList, proto::Empty{}, &rep); !s.ok()) return s;
  if (ctl->json) {
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& k : rep.keys)
      keys.push_back({{"name", k.name},
                      {"public_key", k.public_key},
                      {"role", k.role},
                      {"revoked", k.revoked},
                      {"added_ms", k.added_ms},
                      {"uid", k.uid == proto::kNoId ? nlohmann::json() : nlohmann::json(k.uid)},
                      {"gid", k.gid == proto::kNoId ? nlohmann::json() : nlohmann::json(k.gid)}});
    std::cout << nlohmann::json{{"version", rep.version}, {"keys", keys}}.dump(2) << "\n";
    return Status::Ok();
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : rep.keys)
    rows.push_back(
        {k.name, k.role, k.revoked ? "revoked" : "allowed", Id(k.uid), Id(k.gid), k.public_key});
  PrintTable({"NAME", "ROLE", "STATE", "UID", "GID", "PUBLIC KEY"}, rows);
  return Status::Ok();
}

Status KeyRevoke(Ctl* ctl, const std::string& name) {
  proto::KeyRevokeReq req{name};
  if (Status s = req.Valid(); !s.ok()) return s;
  proto::Empty rep;
  if (Status s = ctl->CallMeta(proto::Op::kKeyRevoke, req, &rep); !s.ok()) return s;
  if (!ctl->json) std::cout << "key " << name << " revoked\n";
  return Status::Ok();
}

}  // namespace

void AddKeyCommands(CLI::App* app, Ctl* ctl) {
  auto a = std::make_shared<KeyArgs>();
  CLI::App* key = app->add_subcommand("key", "CURVE keys and the keys the cluster allows");
  key->require_subcommand(1);
  CLI::App* gen = key->add_subcommand("gen", "make a key pair: secret in FILE, public in FILE.pub");
  gen->add_option("FILE", a->file, "secret key file (must not exist)")->required();
  gen->callback([ctl, a] { ctl->Set("key gen", [ctl, a] { return KeyGen(ctl, a->file); }); });
  CLI::App* add = key->add_subcommand("add", "allow a public key (admin)");
  add->add_option("FILE", a->file, "public key file (FILE.pub) or the Z85 key")->required();
  add->add_option("--role", a->role, "user, admin or node")
      ->check(CLI::IsMember({"user", "admin", "node"}))
      ->capture_default_str();
  add->add_option("--name", a->name, "a unique name for the key")->required();
  add->add_option("--uid", a->uid,
                  "user keys: act only as this uid, whatever the client says (meta checks "
                  "permissions and owns new files to it)")
      ->check(CLI::Range(int64_t{0}, proto::kMaxId));
  add->add_option("--gid", a->gid, "with --uid: the group (default: the uid)")
      ->check(CLI::Range(int64_t{0}, proto::kMaxId));
  add->callback([ctl, a] { ctl->Set("key add", [ctl, a] { return KeyAdd(ctl, *a); }); });
  CLI::App* ls =
      key->add_subcommand("ls", "list the keys: name, role, state, bound uid/gid (admin)");
  ls->callback([ctl] { ctl->Set("key ls", [ctl] { return KeyLs(ctl); }); });
  CLI::App* revoke = key->add_subcommand("revoke", "refuse the key called NAME from now on (admin)");
  revoke->add_option("NAME", a->name, "the key's name")->required();
  revoke->callback(
      [ctl, a] { ctl->Set("key revoke", [ctl, a] { return KeyRevoke(ctl, a->name); }); });
}

}  // namespace dos::ctl
