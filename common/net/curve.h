// CURVE keys and the process-wide security settings every socket follows.
//
// A key file holds one Z85 key (40 characters) on its first line: FILE the
// secret key (mode 0600), FILE.pub the public one. `dosctl key gen FILE`
// writes both; LoadKeyPair derives the public key from the secret one, so
// only FILE is needed to act with a key.
//
// SetSecurity() is called once by main() before any socket is made. With
// curve off (the --insecure / `curve = off` mode for tests) sockets speak
// plaintext ZMTP and nothing is authenticated. With curve on, a Server's
// ROUTER is a CURVE server with the cluster's server key and a Client's
// DEALER a CURVE client with this process's key and the server's public key.
#pragma once

#include <string>
#include <zmq.hpp>

#include "common/status.h"

namespace dos::net {

inline constexpr size_t kZ85KeyLen = 40;

struct KeyPair {
  std::string public_z85;
  std::string secret_z85;
};

struct Security {
  bool curve = false;
  KeyPair server;  // servers: both halves; clients: public_z85 only
  KeyPair client;  // this process's own key, used when it connects
};

// True when libzmq was built with CURVE (libsodium).
bool CurveAvailable();
// A fresh key pair. ENOTSUP without CURVE support.
Result<KeyPair> GenerateKeyPair();
// Writes secret to path (0600, refused if it exists) and public to path.pub.
Status WriteKeyPair(const std::string& path, const KeyPair& kp);
// Reads a secret key file; fills both halves. EINVAL for a file that does
// not hold a Z85 key, EACCES for one others may read.
Result<KeyPair> LoadKeyPair(const std::string& path);
// A public key: the Z85 text itself, or a file holding it (FILE.pub).
Result<std::string> LoadPublicKey(const std::string& text_or_path);
bool IsZ85Key(const std::string& s);

void SetSecurity(const Security& s);
const Security& GetSecurity();
// Socket options of the current settings (no-ops with curve off).
void ApplyServerSecurity(zmq::socket_t& sock);
void ApplyClientSecurity(zmq::socket_t& sock);

}  // namespace dos::net
