#include "core/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace lplex {
namespace {

TEST(Crc32c, CheckValueOf123456789) {
  const std::string s = "123456789";
  EXPECT_EQ(crc32c::Value(s.data(), s.size()), 0xE3069283u);
  EXPECT_EQ(crc32c::ExtendPortable(0, s.data(), s.size()), 0xE3069283u);
}

}  // namespace
}  // namespace lplex
