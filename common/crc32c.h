// CRC32C (Castagnoli) of a buffer, from ISA-L.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dos {

// CRC32C of len bytes at data, continuing from crc (0 to start).
uint32_t Crc32c(const void* data, size_t len, uint32_t crc = 0);

// The CRC32C of a len-byte buffer whose CRC32C was crc, after its n bytes at
// off (off + n <= len) change from old_bytes to new_bytes. Reads only those
// 2n bytes, not the rest of the buffer. Exact: CRC32C is affine over GF(2),
// crc(X ^ Y) = crc(X) ^ crc(Y) ^ crc(len zeros) for equal-length X and Y, so
// the result is crc ^ crc(P) ^ crc(len zeros), P being zeros but for
// old_bytes ^ new_bytes at off. If crc was not the CRC32C of the old buffer,
// the result is off by the same amount (never the CRC of the new buffer).
uint32_t Crc32cPatch(uint32_t crc, uint64_t len, uint64_t off, const void* old_bytes,
                     const void* new_bytes, size_t n);

}  // namespace dos
