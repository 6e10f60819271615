// Sealed messages: the bulk channel beside a CURVE connection.
//
// CURVE (XSalsa20-Poly1305, inside ZeroMQ's I/O thread) costs about 1 GB/s
// of one core per pass; a replicated write crosses it four times. So a
// Client that carries chunk data (Client::set_sealed) asks the server, over
// its CURVE connection, for a session key (kSealOpen: a random 256-bit key
// and session id, known to the two ends only), then sends its requests on a
// second, plaintext ZeroMQ connection (the server's sealed port), each frame
// encrypted and authenticated with AES-256-GCM under that key (AES-NI: about
// four times cheaper). The server answers sealed requests sealed. The server
// takes a sealed request as coming from the CURVE key that opened the
// session, so authorization works as on the CURVE connection.
//
// Wire form (after the ROUTER's routing id):
//   [header][frame 1 sealed]...[frame n sealed]
//   header = "DSL1" | session u64 | counter u64 | request id u64 | n u8
//   (little endian, 29 bytes); n is 2 (envelope, body) or 4 (envelope,
//   body, data key, data). A sealed frame is ciphertext || 16-byte tag;
//   the nonce is direction u8 | frame index u24 | counter u64, the header is
//   the additional data (so frames cannot be dropped, added, reordered or
//   moved between messages). Each direction of a session counts its own
//   messages from 1; a receiver takes each counter once (ReplayWindow).
// The data frame is sealed under a data key of its own: 32 random bytes
// made for that one message (so a fixed nonce), sent sealed as frame 2.
// Only a holder of that frame's session key learns the data key, and a data
// frame moved to another message fails under that message's data key. A
// node that passes a write down the replica chain sends the same data
// ciphertext on with the data key sealed under its own session
// (Message::sealed_data): the data is encrypted once per write, not once
// per hop.
// A server that cannot open a request (unknown session, replay, bad tag)
// answers on the sealed connection with a plaintext notice
//   [ "DSLX" | session u64 | request id u64 ][reason]
// and the client sends that request again over CURVE and opens a new
// session (a notice can be forged, but it only sends traffic back to CURVE).
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/net/message.h"
#include "common/status.h"

namespace dos::net {

inline constexpr size_t kSealKeyLen = 32;
inline constexpr size_t kSealTagLen = 16;
inline constexpr size_t kSealHeaderLen = 29;
inline constexpr size_t kSealNoticeLen = 20;
inline constexpr size_t kSealMaxFrames = 4;  // envelope, body, data key, data
// A session is renewed before its counters come near the nonce's 64 bits.
inline constexpr uint64_t kSealMaxCounter = 1ull << 48;

enum class SealDir : uint8_t { kToServer = 0, kToClient = 1 };

struct SealKey {
  uint64_t session = 0;
  std::array<uint8_t, kSealKeyLen> key{};
};

struct SealHeader {
  uint64_t session = 0;
  uint64_t counter = 0;
  uint64_t req_id = 0;
  uint8_t frames = 0;
};

// A fresh random key and session id (OpenSSL's RAND_bytes). EIO if the
// random source fails.
Result<SealKey> NewSealKey();

// True when first is a sealed header ("DSL1", right length) or a notice ("DSLX").
bool IsSealedHeader(const zmq::message_t& first);
bool IsSealNotice(const zmq::message_t& first);
Result<SealHeader> ReadSealHeader(const zmq::message_t& first);

// msg's frames [envelope][body][data?], sealed: [header][...]. The data goes
// under a fresh data key, or, when msg.sealed_data is set, as that
// ciphertext under its key (which must seal msg.data). EIO if the random
// source or the cipher fails (they do not, short of a broken libcrypto).
Result<std::vector<zmq::message_t>> SealMessage(const SealKey& k, SealDir dir, uint64_t counter,
                                                Message& msg);
// Opens the sealed message wire[first+1 ..] (wire[first] is the header h,
// already read) into *plain: [envelope][body][data?]. With data_key, only
// envelope and body go to *plain, and the data key (if the message has
// data) to *data_key: the data, wire[first+4], stays sealed, for OpenData
// on another thread or for a forward. EBADMSG when a frame fails
// authentication or the number of frames does not match the header; the
// frames are then not to be used.
Status OpenFrames(const SealKey& k, SealDir dir, const SealHeader& h,
                  std::vector<zmq::message_t>& wire, size_t first,
                  std::vector<zmq::message_t>* plain, DataKey* data_key = nullptr);
// Opens a data frame sealed under key into *out. EBADMSG when it fails
// authentication.
Status OpenData(const DataKey& key, const zmq::message_t& frame, zmq::message_t* out);
// The same into dst, which has room for frame.size() - kSealTagLen bytes.
Status OpenDataInto(const DataKey& key, const zmq::message_t& frame, char* dst);

// The notice for a request that could not be opened, and its reading.
std::vector<zmq::message_t> SealNotice(uint64_t session, uint64_t req_id, const std::string& why);
struct SealNoticeInfo {
  uint64_t session = 0;
  uint64_t req_id = 0;
};
Result<SealNoticeInfo> ReadSealNotice(const zmq::message_t& first);

// Accepts each counter at most once, and only within kWidth of the highest
// seen (senders may reorder a little: several threads seal at once).
class ReplayWindow {
 public:
  static constexpr uint64_t kWidth = 1024;
  // True (and remembered) for a counter not seen before and not too old.
  bool Accept(uint64_t counter);
  uint64_t highest() const { return highest_; }

 private:
  uint64_t highest_ = 0;
  std::bitset<kWidth> seen_;  // bit (c % kWidth) for counters in (highest-kWidth, highest]
};

}  // namespace dos::net
