// CRC32C (Castagnoli) of a buffer, from ISA-L.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dos {

// CRC32C of len bytes at data, continuing from crc (0 to start).
uint32_t Crc32c(const void* data, size_t len, uint32_t crc = 0);

}  // namespace dos
