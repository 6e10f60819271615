#include "common/proto/codec.h"

namespace dos::proto {

msgpack::unpack_limit DecodeLimits(size_t bytes) {
  // No container can hold more elements than there are bytes; the caps keep a
  // forged length prefix from reserving gigabytes before the bytes run out.
  const size_t n = std::min<size_t>(bytes, 1 << 20);
  return msgpack::unpack_limit(/*array=*/n, /*map=*/n, /*str=*/bytes, /*bin=*/bytes,
                               /*ext=*/bytes, /*depth=*/16);
}

Status DecodeRaw(const char* data, size_t len, size_t max, msgpack::object_handle* oh) {
  if (len > max) return Status::Err(EINVAL, "message of " + std::to_string(len) + " bytes over limit");
  if (len == 0) return Status::Err(EPROTO, "empty message");
  try {
    size_t off = 0;
    *oh = msgpack::unpack(data, len, off, nullptr, nullptr, DecodeLimits(len));
    if (off != len) return Status::Err(EPROTO, "trailing bytes after message");
  } catch (const msgpack::size_overflow& e) {
    return Status::Err(EINVAL, std::string("message breaks a size limit: ") + e.what());
  } catch (const std::exception& e) {
    return Status::Err(EPROTO, std::string("message does not decode: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace dos::proto
