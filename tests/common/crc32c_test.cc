#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace dos {

TEST(Crc32c, KnownVectors) {
  // RFC 3720 B.4 check value and the all-zero vector.
  std::string digits = "123456789";
  EXPECT_EQ(Crc32c(digits.data(), digits.size()), 0xE3069283u);
  std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
}

TEST(Crc32c, Continues) {
  std::string s = "hello, distributed world";
  uint32_t whole = Crc32c(s.data(), s.size());
  uint32_t part = Crc32c(s.data(), 5);
  EXPECT_EQ(Crc32c(s.data() + 5, s.size() - 5, part), whole);
}

std::string Random(std::mt19937* rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>((*rng)());
  return s;
}

// The identity Crc32cPatch rests on, with Crc32c's own init and final XOR:
// crc(X ^ Y) = crc(X) ^ crc(Y) ^ crc(zeros) for equal-length X and Y.
TEST(Crc32c, IsAffine) {
  std::mt19937 rng(1);
  for (size_t len : {1, 3, 4, 5, 63, 4096, 4097, 65535, 65536}) {
    std::string x = Random(&rng, len), y = Random(&rng, len), xy(len, '\0'), zeros(len, '\0');
    for (size_t i = 0; i < len; ++i) xy[i] = static_cast<char>(x[i] ^ y[i]);
    EXPECT_EQ(Crc32c(xy.data(), len),
              Crc32c(x.data(), len) ^ Crc32c(y.data(), len) ^ Crc32c(zeros.data(), len))
        << len;
  }
}

// A patched CRC equals the CRC of the changed buffer, summed anew: whole
// 64 KiB blocks and short last blocks, any offset, lengths not a multiple of
// 4, a change at either end or of the whole buffer.
TEST(Crc32c, PatchMatchesTheWholeSum) {
  std::mt19937 rng(2);
  for (int i = 0; i < 1000; ++i) {
    size_t len = i % 3 == 0 ? 65536 : 1 + rng() % 65536;
    size_t off = 0, n = len;
    switch (i % 5) {
      case 0: off = rng() % len; n = 1 + rng() % (len - off); break;
      case 1: off = rng() % len; n = std::min<size_t>(1 + rng() % 13, len - off); break;
      case 2: off = 0; n = 1 + rng() % len; break;
      case 3: n = 1 + rng() % len; off = len - n; break;
      default: break;  // the whole buffer
    }
    std::string buf = Random(&rng, len);
    uint32_t crc = Crc32c(buf.data(), len);
    std::string old = buf.substr(off, n), fresh = Random(&rng, n);
    buf.replace(off, n, fresh);
    ASSERT_EQ(Crc32cPatch(crc, len, off, old.data(), fresh.data(), n), Crc32c(buf.data(), len))
        << "len " << len << " off " << off << " n " << n;
  }
}

TEST(Crc32c, PatchOfNothingOrTheSameBytesKeepsTheCrc) {
  std::string s = "some bytes";
  uint32_t crc = Crc32c(s.data(), s.size());
  EXPECT_EQ(Crc32cPatch(crc, s.size(), 3, s.data(), s.data(), 0), crc);
  EXPECT_EQ(Crc32cPatch(crc, s.size(), 2, s.data() + 2, s.data() + 2, 5), crc);
}

// A buffer far past 64 KiB: the trailing zeros shift the change by ~2 MiB.
TEST(Crc32c, PatchOfALongBuffer) {
  std::mt19937 rng(3);
  std::string buf = Random(&rng, 3 << 20);
  uint32_t crc = Crc32c(buf.data(), buf.size());
  std::string old = buf.substr(1000001, 77), fresh = Random(&rng, 77);
  buf.replace(1000001, 77, fresh);
  EXPECT_EQ(Crc32cPatch(crc, buf.size(), 1000001, old.data(), fresh.data(), 77),
            Crc32c(buf.data(), buf.size()));
}

// A stored CRC that did not match the old bytes stays wrong by the same
// amount after the patch: a corruption is never blessed.
TEST(Crc32c, PatchKeepsAMismatch) {
  std::mt19937 rng(4);
  for (int i = 0; i < 200; ++i) {
    size_t len = 1 + rng() % 65536, off = rng() % len, n = 1 + rng() % (len - off);
    std::string good = Random(&rng, len);
    uint32_t crc = Crc32c(good.data(), len);
    std::string bad = good;
    bad[rng() % len] ^= static_cast<char>(1 + rng() % 255);  // on disk, bad under crc
    std::string old = bad.substr(off, n), fresh = Random(&rng, n);
    bad.replace(off, n, fresh);
    uint32_t patched = Crc32cPatch(crc, len, off, old.data(), fresh.data(), n);
    EXPECT_NE(patched, Crc32c(bad.data(), len)) << "len " << len << " off " << off << " n " << n;
  }
}

}  // namespace dos
