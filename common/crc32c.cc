#include "common/crc32c.h"

#include <isa-l/crc.h>

namespace dos {

uint32_t Crc32c(const void* data, size_t len, uint32_t crc) {
  // ISA-L's crc32_iscsi takes and returns the register without the final
  // inversion; invert on both sides to get the standard CRC32C.
  return ~crc32_iscsi(static_cast<unsigned char*>(const_cast<void*>(data)),
                      static_cast<int>(len), ~crc);
}

}  // namespace dos
