#include "common/crc32c.h"

#include <isa-l/crc.h>

#include <array>

namespace dos {

namespace {

// ISA-L's crc32_iscsi is the bare CRC register: it takes and returns it
// without the inversions of the standard CRC32C.
uint32_t Register(const void* data, size_t len, uint32_t reg) {
  return crc32_iscsi(static_cast<unsigned char*>(const_cast<void*>(data)), static_cast<int>(len),
                     reg);
}

// GF(2) polynomials mod the CRC32C polynomial, bit-reflected as the register
// holds them (bit 31 is x^0). The multiplication is zlib's multmodp.
constexpr uint32_t kPoly = 0x82F63B78;

constexpr uint32_t MulModP(uint32_t a, uint32_t b) {
  uint32_t p = 0;
  for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
    if (a & m) p ^= b;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;
  }
  return p;
}

// kX8Pow2[k] = x^(8 * 2^k): feeding 2^k zero bytes to the register.
constexpr std::array<uint32_t, 64> kX8Pow2 = [] {
  std::array<uint32_t, 64> t{};
  t[0] = 1u << (31 - 8);  // x^8
  for (size_t k = 1; k < t.size(); ++k) t[k] = MulModP(t[k - 1], t[k - 1]);
  return t;
}();

// The register after n zero bytes from reg: reg * x^(8n), in O(log n).
uint32_t ShiftZeros(uint32_t reg, uint64_t n) {
  for (size_t k = 0; n != 0; ++k, n >>= 1)
    if (n & 1) reg = MulModP(kX8Pow2[k], reg);
  return reg;
}

}  // namespace

uint32_t Crc32c(const void* data, size_t len, uint32_t crc) {
  // Invert on both sides to get the standard CRC32C.
  return ~Register(data, len, ~crc);
}

uint32_t Crc32cPatch(uint32_t crc, uint64_t len, uint64_t off, const void* old_bytes,
                     const void* new_bytes, size_t n) {
  // crc ^ crc(P) ^ crc(zeros) is the bare register of P from 0: the leading
  // zeros of P leave a 0 register at 0, the bytes at off give the register of
  // old ^ new (the register is linear, so the XOR of the two), and the
  // trailing zeros shift it.
  uint32_t delta = Register(old_bytes, n, 0) ^ Register(new_bytes, n, 0);
  return crc ^ ShiftZeros(delta, len - off - n);
}

}  // namespace dos
