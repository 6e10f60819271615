// Encoding and decoding of messages.h structs. The only code in dos that
// calls msgpack; every msgpack exception stops here and becomes a Status:
// EPROTO for bytes that do not decode into the wanted struct, EINVAL for
// input over a size limit.
#pragma once

#include <string>

#include "common/proto/messages.h"

namespace dos::proto {

// Limits on every string, bin, array, map and nesting depth of one decode.
msgpack::unpack_limit DecodeLimits(size_t bytes);

template <typename T>
std::string Encode(const T& msg) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, msg);
  return std::string(buf.data(), buf.size());
}

// Decodes bytes into *out. Never throws.
Status DecodeRaw(const char* data, size_t len, size_t max, msgpack::object_handle* oh);

template <typename T>
Status Decode(const char* data, size_t len, T* out, size_t max = kMaxBody) {
  msgpack::object_handle oh;
  if (Status s = DecodeRaw(data, len, max, &oh); !s.ok()) return s;
  try {
    if (oh.get().type != msgpack::type::MAP) return Status::Err(EPROTO, "message is not a map");
    oh.get().convert(*out);
  } catch (const std::exception& e) {
    return Status::Err(EPROTO, std::string("message fields do not decode: ") + e.what());
  }
  return Status::Ok();
}

template <typename T>
Status Decode(const std::string& bytes, T* out, size_t max = kMaxBody) {
  return Decode(bytes.data(), bytes.size(), out, max);
}

}  // namespace dos::proto
