#include "common/net/seal.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <algorithm>
#include <memory>
#include <optional>

namespace dos::net {

namespace {

constexpr char kHeaderMagic[4] = {'D', 'S', 'L', '1'};
constexpr char kNoticeMagic[4] = {'D', 'S', 'L', 'X'};
constexpr size_t kNonceLen = 12;
// A data key seals one data frame only, so its nonce can be fixed.
constexpr std::array<uint8_t, kNonceLen> kDataNonce = {'D', 'S', 'L', 'D'};
constexpr size_t kDataKeyFrame = 2;  // frame index of the data key

void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

std::array<uint8_t, kNonceLen> Nonce(SealDir dir, size_t index, uint64_t counter) {
  std::array<uint8_t, kNonceLen> n{};
  n[0] = static_cast<uint8_t>(dir);
  n[1] = static_cast<uint8_t>(index);
  n[2] = static_cast<uint8_t>(index >> 8);
  n[3] = static_cast<uint8_t>(index >> 16);
  PutU64(n.data() + 4, counter);
  return n;
}

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

// One cipher context per thread, made once.
EVP_CIPHER_CTX* Ctx() {
  thread_local std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  return ctx.get();
}

// out = AES-256-GCM(in) || tag, with aad.
bool Encrypt(const std::array<uint8_t, kSealKeyLen>& key,
             const std::array<uint8_t, kNonceLen>& nonce, const uint8_t* aad, size_t aad_len,
             const uint8_t* in, size_t len, uint8_t* out) {
  EVP_CIPHER_CTX* c = Ctx();
  int n = 0;
  if (!c || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1)
    return false;
  if (EVP_EncryptUpdate(c, nullptr, &n, aad, static_cast<int>(aad_len)) != 1) return false;
  if (len > 0 && EVP_EncryptUpdate(c, out, &n, in, static_cast<int>(len)) != 1) return false;
  if (EVP_EncryptFinal_ex(c, out + len, &n) != 1) return false;
  return EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, kSealTagLen, out + len) == 1;
}

// out = plaintext of in (len bytes of ciphertext, then the tag); false when
// the tag does not match.
bool Decrypt(const std::array<uint8_t, kSealKeyLen>& key,
             const std::array<uint8_t, kNonceLen>& nonce, const uint8_t* aad, size_t aad_len,
             const uint8_t* in, size_t len, uint8_t* out) {
  EVP_CIPHER_CTX* c = Ctx();
  int n = 0;
  uint8_t tag[kSealTagLen];
  std::memcpy(tag, in + len, kSealTagLen);
  if (!c || EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1)
    return false;
  if (EVP_DecryptUpdate(c, nullptr, &n, aad, static_cast<int>(aad_len)) != 1) return false;
  if (len > 0 && EVP_DecryptUpdate(c, out, &n, in, static_cast<int>(len)) != 1) return false;
  if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, kSealTagLen, tag) != 1) return false;
  return EVP_DecryptFinal_ex(c, out + len, &n) == 1;
}

bool HasMagic(const zmq::message_t& m, const char (&magic)[4], size_t len) {
  return m.size() == len && std::memcmp(m.data(), magic, 4) == 0;
}

// frame, sealed under key (nonce and additional data as given), into *out.
Status Open(const std::array<uint8_t, kSealKeyLen>& key,
            const std::array<uint8_t, kNonceLen>& nonce, const uint8_t* aad, size_t aad_len,
            const zmq::message_t& frame, zmq::message_t* out) {
  if (frame.size() < kSealTagLen) return Status::Err(EBADMSG, "sealed frame shorter than its tag");
  const size_t len = frame.size() - kSealTagLen;
  zmq::message_t p(len);
  if (!Decrypt(key, nonce, aad, aad_len, static_cast<const uint8_t*>(frame.data()), len,
               static_cast<uint8_t*>(p.data())))
    return Status::Err(EBADMSG, "sealed frame failed authentication");
  *out = std::move(p);
  return Status::Ok();
}

// Frame number index (0 = envelope) of the message whose header frame is header.
Status OpenFrame(const SealKey& k, SealDir dir, const zmq::message_t& header,
                 const SealHeader& h, size_t index, const zmq::message_t& frame,
                 zmq::message_t* out) {
  return Open(k.key, Nonce(dir, index, h.counter), static_cast<const uint8_t*>(header.data()),
              kSealHeaderLen, frame, out);
}

// The data frame of msg under a fresh key, or as msg.sealed_data has it.
Result<SealedData> SealData(Message& msg) {
  if (msg.sealed_data) return msg.sealed_data->Share();
  SealedData d;
  if (RAND_bytes(d.key.data(), static_cast<int>(d.key.size())) != 1)
    return Status::Err(EIO, "no random bytes for a data key (OpenSSL RAND_bytes failed)");
  d.wire = zmq::message_t(msg.data->size() + kSealTagLen);
  if (!Encrypt(d.key, kDataNonce, nullptr, 0, static_cast<const uint8_t*>(msg.data->data()),
               msg.data->size(), static_cast<uint8_t*>(d.wire.data())))
    return Status::Err(EIO, "AES-256-GCM encryption failed");
  return d;
}

}  // namespace

Result<SealKey> NewSealKey() {
  SealKey k;
  uint8_t id[8];
  if (RAND_bytes(k.key.data(), static_cast<int>(k.key.size())) != 1 || RAND_bytes(id, 8) != 1)
    return Status::Err(EIO, "no random bytes for a session key (OpenSSL RAND_bytes failed)");
  k.session = GetU64(id);
  return k;
}

bool IsSealedHeader(const zmq::message_t& first) {
  return HasMagic(first, kHeaderMagic, kSealHeaderLen);
}
bool IsSealNotice(const zmq::message_t& first) {
  return HasMagic(first, kNoticeMagic, kSealNoticeLen);
}

Result<SealHeader> ReadSealHeader(const zmq::message_t& first) {
  if (!IsSealedHeader(first)) return Status::Err(EPROTO, "not a sealed message header");
  const auto* p = static_cast<const uint8_t*>(first.data());
  SealHeader h;
  h.session = GetU64(p + 4);
  h.counter = GetU64(p + 12);
  h.req_id = GetU64(p + 20);
  h.frames = p[28];
  if (h.frames != 2 && h.frames != kSealMaxFrames)
    return Status::Err(EPROTO, "sealed message of " + std::to_string(h.frames) + " frames");
  return h;
}

Result<std::vector<zmq::message_t>> SealMessage(const SealKey& k, SealDir dir, uint64_t counter,
                                                Message& msg) {
  std::string env = proto::Encode(msg.env);
  std::optional<SealedData> data;
  if (msg.data) {
    auto d = SealData(msg);
    if (!d.ok()) return d.status();
    data = std::move(*d);
  }
  const uint8_t frames = data ? 4 : 2;
  std::vector<zmq::message_t> out;
  out.reserve(frames + 1);
  zmq::message_t header(kSealHeaderLen);
  auto* h = static_cast<uint8_t*>(header.data());
  std::memcpy(h, kHeaderMagic, 4);
  PutU64(h + 4, k.session);
  PutU64(h + 12, counter);
  PutU64(h + 20, msg.env.id);
  h[28] = frames;
  const std::pair<const void*, size_t> plain[3] = {
      {env.data(), env.size()},
      {msg.body.data(), msg.body.size()},
      {data ? data->key.data() : nullptr, data ? data->key.size() : 0}};
  out.push_back(std::move(header));
  for (size_t i = 0; i < std::min<size_t>(frames, 3); ++i) {
    zmq::message_t f(plain[i].second + kSealTagLen);
    if (!Encrypt(k.key, Nonce(dir, i, counter), h, kSealHeaderLen,
                 static_cast<const uint8_t*>(plain[i].first), plain[i].second,
                 static_cast<uint8_t*>(f.data())))
      return Status::Err(EIO, "AES-256-GCM encryption failed");
    out.push_back(std::move(f));
  }
  if (data) out.push_back(std::move(data->wire));
  return out;
}

// The data key (frame 2) of a message of 4 frames; wire[first] is its header.
static Status OpenDataKey(const SealKey& k, SealDir dir, const SealHeader& h,
                   const std::vector<zmq::message_t>& wire, size_t first, DataKey* out) {
  if (h.frames != 4 || wire.size() - first != 5)
    return Status::Err(EBADMSG, "sealed message without a data key");
  zmq::message_t key;
  if (Status s = OpenFrame(k, dir, wire[first], h, kDataKeyFrame, wire[first + 1 + kDataKeyFrame],
                           &key);
      !s.ok())
    return s;
  if (key.size() != out->size()) return Status::Err(EBADMSG, "data key of a wrong length");
  std::memcpy(out->data(), key.data(), out->size());
  return Status::Ok();
}

Status OpenData(const DataKey& key, const zmq::message_t& frame, zmq::message_t* out) {
  return Open(key, kDataNonce, nullptr, 0, frame, out);
}

Status OpenDataInto(const DataKey& key, const zmq::message_t& frame, char* dst) {
  if (frame.size() < kSealTagLen) return Status::Err(EBADMSG, "sealed frame shorter than its tag");
  if (!Decrypt(key, kDataNonce, nullptr, 0, static_cast<const uint8_t*>(frame.data()),
               frame.size() - kSealTagLen, reinterpret_cast<uint8_t*>(dst)))
    return Status::Err(EBADMSG, "sealed frame failed authentication");
  return Status::Ok();
}

Status OpenFrames(const SealKey& k, SealDir dir, const SealHeader& h,
                  std::vector<zmq::message_t>& wire, size_t first,
                  std::vector<zmq::message_t>* plain, DataKey* data_key) {
  if (wire.size() - first != static_cast<size_t>(h.frames) + 1)
    return Status::Err(EBADMSG, "sealed message: frame count does not match its header");
  plain->clear();
  for (size_t i = 0; i < 2; ++i) {
    zmq::message_t p;
    if (Status s = OpenFrame(k, dir, wire[first], h, i, wire[first + 1 + i], &p); !s.ok())
      return s;
    plain->push_back(std::move(p));
  }
  if (h.frames == 2) return Status::Ok();
  DataKey key;
  if (Status s = OpenDataKey(k, dir, h, wire, first, data_key ? data_key : &key); !s.ok())
    return s;
  if (data_key) return Status::Ok();
  zmq::message_t data;
  if (Status s = OpenData(key, wire[first + 4], &data); !s.ok()) return s;
  plain->push_back(std::move(data));
  return Status::Ok();
}

std::vector<zmq::message_t> SealNotice(uint64_t session, uint64_t req_id,
                                       const std::string& why) {
  std::vector<zmq::message_t> out;
  zmq::message_t head(kSealNoticeLen);
  auto* p = static_cast<uint8_t*>(head.data());
  std::memcpy(p, kNoticeMagic, 4);
  PutU64(p + 4, session);
  PutU64(p + 12, req_id);
  out.push_back(std::move(head));
  out.emplace_back(why.data(), why.size());
  return out;
}

Result<SealNoticeInfo> ReadSealNotice(const zmq::message_t& first) {
  if (!IsSealNotice(first)) return Status::Err(EPROTO, "not a seal notice");
  const auto* p = static_cast<const uint8_t*>(first.data());
  return SealNoticeInfo{GetU64(p + 4), GetU64(p + 12)};
}

bool ReplayWindow::Accept(uint64_t counter) {
  if (counter == 0) return false;
  if (counter > highest_) {
    const uint64_t step = counter - highest_;
    if (step >= kWidth) {
      seen_.reset();
    } else {
      for (uint64_t c = highest_ + 1; c < counter; ++c) seen_.reset(c % kWidth);
    }
    highest_ = counter;
    seen_.set(counter % kWidth);
    return true;
  }
  if (highest_ - counter >= kWidth) return false;
  if (seen_.test(counter % kWidth)) return false;
  seen_.set(counter % kWidth);
  return true;
}

}  // namespace dos::net
