#include "core/endian.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace lplex {
namespace {

TEST(Endian, LoadsAreLittleEndian) {
  const uint8_t b[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  EXPECT_EQ(le::Load16(b), 0x0201u);
  EXPECT_EQ(le::Load32(b), 0x04030201u);
  EXPECT_EQ(le::Load64(b), 0x0807060504030201ull);
}

TEST(Endian, HighBitsDoNotSignExtend) {
  const uint8_t b[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80};
  EXPECT_EQ(le::Load16(b), 0xFFFFu);
  EXPECT_EQ(le::Load32(b), 0xFFFFFFFFu);
  EXPECT_EQ(le::Load64(b), 0x80FFFFFFFFFFFFFFull);
}

TEST(Endian, StoreThenLoadAtUnalignedOffsets) {
  for (int off = 0; off < 8; ++off) {
    uint8_t buf[24] = {};
    le::Store16(buf + off, 0xBEEF);
    EXPECT_EQ(le::Load16(buf + off), 0xBEEFu);
    EXPECT_EQ(buf[off], 0xEF);
    le::Store32(buf + off, 0xDEADBEEFu);
    EXPECT_EQ(le::Load32(buf + off), 0xDEADBEEFu);
    EXPECT_EQ(buf[off], 0xEF);
    EXPECT_EQ(buf[off + 3], 0xDE);
    le::Store64(buf + off, 0x0123456789ABCDEFull);
    EXPECT_EQ(le::Load64(buf + off), 0x0123456789ABCDEFull);
    EXPECT_EQ(buf[off], 0xEF);
    EXPECT_EQ(buf[off + 7], 0x01);
    EXPECT_EQ(buf[off + 8], 0) << "Store64 wrote a ninth byte";
  }
}

}  // namespace
}  // namespace lplex
