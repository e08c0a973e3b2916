#include "core/crc32c.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace lplex {
namespace {

// Bit-at-a-time CRC-32C straight from the definition, independent of both
// production paths, so a shared mistake in the tables would still show.
uint32_t ReferenceCrc(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

TEST(Crc32c, CheckValueOf123456789) {
  const std::string s = "123456789";
  EXPECT_EQ(crc32c::Value(s.data(), s.size()), 0xE3069283u);
  EXPECT_EQ(crc32c::ExtendPortable(0, s.data(), s.size()), 0xE3069283u);
}

// The iSCSI test vectors of RFC 3720 appendix B.4.
TEST(Crc32c, Rfc3720Vectors) {
  std::vector<uint8_t> zeros(32, 0x00);
  std::vector<uint8_t> ones(32, 0xFF);
  std::vector<uint8_t> up(32);
  std::vector<uint8_t> down(32);
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<uint8_t>(i);
    down[i] = static_cast<uint8_t>(31 - i);
  }
  EXPECT_EQ(crc32c::Value(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(crc32c::Value(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c::Value(up.data(), up.size()), 0x46DD794Eu);
  EXPECT_EQ(crc32c::Value(down.data(), down.size()), 0x113FDB5Cu);
  EXPECT_EQ(crc32c::ExtendPortable(0, zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(crc32c::ExtendPortable(0, ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c::ExtendPortable(0, up.data(), up.size()), 0x46DD794Eu);
  EXPECT_EQ(crc32c::ExtendPortable(0, down.data(), down.size()), 0x113FDB5Cu);
}

#if defined(__x86_64__)
// Every x86_64 CPU this runs on in practice has SSE4.2; the fast path must be
// picked when it is there.
TEST(Crc32c, HardwarePathChosenWhenCpuHasSse42) {
  EXPECT_EQ(crc32c::HardwareAccelerated(), static_cast<bool>(__builtin_cpu_supports("sse4.2")));
}
#endif

TEST(Crc32c, EmptyInputIsZeroAndExtendByNothingIsIdentity) {
  EXPECT_EQ(crc32c::Value(nullptr, 0), 0u);
  EXPECT_EQ(crc32c::ExtendPortable(0, nullptr, 0), 0u);
  EXPECT_EQ(crc32c::Extend(0xE3069283u, nullptr, 0), 0xE3069283u);
  EXPECT_EQ(crc32c::ExtendPortable(0xE3069283u, nullptr, 0), 0xE3069283u);
}

// Lengths 0..300 cross the 8-byte main loop and every tail length many
// times; offsets 0..7 make the 8-byte loads unaligned.
TEST(Crc32c, HardwareAndPortableAgreeOnEveryLengthAndAlignment) {
  SCOPED_TRACE(crc32c::HardwareAccelerated() ? "hardware path active" : "hardware path NOT active");
  const std::vector<uint8_t> buf = RandomBytes(300 + 8, 12345);
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 0; len + offset <= buf.size() && len <= 300; ++len) {
      const uint8_t* p = buf.data() + offset;
      const uint32_t want = ReferenceCrc(p, len);
      ASSERT_EQ(crc32c::Value(p, len), want) << "len=" << len << " offset=" << offset;
      ASSERT_EQ(crc32c::ExtendPortable(0, p, len), want) << "len=" << len << " offset=" << offset;
    }
  }
}

TEST(Crc32c, ExtendOfValueEqualsValueOfConcatenationAtEverySplit) {
  const std::vector<uint8_t> buf = RandomBytes(97, 777);
  const uint32_t whole = crc32c::Value(buf.data(), buf.size());
  for (size_t split = 0; split <= buf.size(); ++split) {
    const uint32_t a = crc32c::Value(buf.data(), split);
    EXPECT_EQ(crc32c::Extend(a, buf.data() + split, buf.size() - split), whole) << "split=" << split;
    const uint32_t pa = crc32c::ExtendPortable(0, buf.data(), split);
    EXPECT_EQ(crc32c::ExtendPortable(pa, buf.data() + split, buf.size() - split), whole) << "split=" << split;
  }
}

TEST(Crc32c, ExtendInManySmallPiecesEqualsOneShot) {
  const std::vector<uint8_t> buf = RandomBytes(1000, 4242);
  uint32_t crc = 0;
  size_t at = 0;
  size_t piece = 1;
  while (at < buf.size()) {
    size_t n = std::min(piece, buf.size() - at);
    crc = crc32c::Extend(crc, buf.data() + at, n);
    at += n;
    piece = piece % 13 + 1;
  }
  EXPECT_EQ(crc, crc32c::Value(buf.data(), buf.size()));
}

TEST(Crc32c, SingleBitFlipChangesChecksum) {
  std::vector<uint8_t> buf = RandomBytes(64, 99);
  const uint32_t before = crc32c::Value(buf.data(), buf.size());
  for (size_t bit = 0; bit < buf.size() * 8; ++bit) {
    buf[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_NE(crc32c::Value(buf.data(), buf.size()), before) << "bit " << bit;
    buf[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
}

}  // namespace
}  // namespace lplex
