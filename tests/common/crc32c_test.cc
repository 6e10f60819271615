#include "common/crc32c.h"

#include <gtest/gtest.h>

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

}  // namespace dos
