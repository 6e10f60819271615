#include "common/net/curve.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace dos::net {

namespace {

Security g_security;

Result<std::string> ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::FromErrno("cannot read key file " + path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (!IsZ85Key(line))
    return Status::Err(EINVAL, "key file " + path + " does not hold a Z85 CURVE key");
  return line;
}

Status WriteText(const std::string& path, const std::string& text, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::FromErrno("cannot create " + path);
  fchmod(fd, mode);
  std::string line = text + "\n";
  ssize_t n = write(fd, line.data(), line.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(line.size())) return Status::Err(err ? err : EIO, "write " + path);
  return Status::Ok();
}

}  // namespace

bool IsZ85Key(const std::string& s) {
  static const std::string kAlphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  return s.size() == kZ85KeyLen && s.find_first_not_of(kAlphabet) == std::string::npos;
}

bool CurveAvailable() { return zmq_has("curve") == 1; }

Result<KeyPair> GenerateKeyPair() {
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0)
    return Status::Err(ENOTSUP, "libzmq has no CURVE support (built without libsodium)");
  return KeyPair{pub, sec};
}

Status WriteKeyPair(const std::string& path, const KeyPair& kp) {
  if (Status s = WriteText(path, kp.secret_z85, 0600); !s.ok()) return s;
  return WriteText(path + ".pub", kp.public_z85, 0644);
}

Result<KeyPair> LoadKeyPair(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return Status::FromErrno("cannot read key file " + path);
  if (st.st_mode & 077)
    return Status::Err(EACCES, "secret key file " + path + " is readable by others (chmod 600)");
  Result<std::string> sec = ReadFirstLine(path);
  if (!sec.ok()) return sec.status();
  char pub[41];
  if (zmq_curve_public(pub, sec->c_str()) != 0)
    return Status::Err(EINVAL, "key file " + path + ": not a CURVE secret key");
  return KeyPair{pub, *sec};
}

Result<std::string> LoadPublicKey(const std::string& text_or_path) {
  if (IsZ85Key(text_or_path)) return text_or_path;
  return ReadFirstLine(text_or_path);
}

void SetSecurity(const Security& s) { g_security = s; }
const Security& GetSecurity() { return g_security; }

void ApplyServerSecurity(zmq::socket_t& sock) {
  if (!g_security.curve) return;
  sock.set(zmq::sockopt::curve_server, true);
  sock.set(zmq::sockopt::curve_secretkey, g_security.server.secret_z85);
  sock.set(zmq::sockopt::zap_domain, "dos");
}

void ApplyClientSecurity(zmq::socket_t& sock) {
  if (!g_security.curve) return;
  sock.set(zmq::sockopt::curve_serverkey, g_security.server.public_z85);
  sock.set(zmq::sockopt::curve_publickey, g_security.client.public_z85);
  sock.set(zmq::sockopt::curve_secretkey, g_security.client.secret_z85);
}

}  // namespace dos::net
