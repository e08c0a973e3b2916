#include "core/varint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace lplex {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

struct Vector {
  uint64_t value;
  std::vector<uint8_t> bytes;  // what Go's binary.PutUvarint writes
};

const std::vector<Vector>& GoVectors() {
  static const std::vector<Vector> v = {
      {0, {0x00}},
      {1, {0x01}},
      {127, {0x7F}},
      {128, {0x80, 0x01}},
      {300, {0xAC, 0x02}},
      {16383, {0xFF, 0x7F}},
      {16384, {0x80, 0x80, 0x01}},
      {uint64_t{1} << 63, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}},
      {kMax, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}},
  };
  return v;
}

TEST(Varint, PutWritesGoBytes) {
  for (const auto& v : GoVectors()) {
    uint8_t buf[varint::kMaxLen64 + 1] = {};
    size_t n = varint::Put(buf, v.value);
    EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), v.bytes) << v.value;
    EXPECT_EQ(buf[n], 0) << "Put wrote past its reported length for " << v.value;
  }
}

TEST(Varint, GetReadsGoBytes) {
  for (const auto& v : GoVectors()) {
    uint64_t out = 12345;
    size_t n = varint::Get(v.bytes.data(), v.bytes.data() + v.bytes.size(), &out);
    EXPECT_EQ(n, v.bytes.size()) << v.value;
    EXPECT_EQ(out, v.value);
  }
}

TEST(Varint, MaxUint64TakesTenBytes) {
  EXPECT_EQ(varint::Length(kMax), 10u);
  EXPECT_EQ(varint::Length(kMax), varint::kMaxLen64);
}

// Around every 7-bit group boundary: 2^(7k)-1 fits in k bytes, 2^(7k) needs k+1.
TEST(Varint, LengthMatchesPutAtEveryGroupBoundary) {
  std::vector<uint64_t> values = {0, 1, kMax, kMax - 1};
  for (int k = 1; k <= 9; ++k) {
    uint64_t edge = uint64_t{1} << (7 * k);
    values.push_back(edge - 1);
    values.push_back(edge);
    values.push_back(edge + 1);
  }
  for (int bit = 0; bit < 64; ++bit) values.push_back(uint64_t{1} << bit);
  for (uint64_t v : values) {
    uint8_t buf[varint::kMaxLen64];
    size_t n = varint::Put(buf, v);
    EXPECT_EQ(varint::Length(v), n) << v;
    uint64_t out = 0;
    EXPECT_EQ(varint::Get(buf, buf + n, &out), n) << v;
    EXPECT_EQ(out, v);
  }
  for (int k = 1; k <= 9; ++k) {
    uint64_t edge = uint64_t{1} << (7 * k);
    EXPECT_EQ(varint::Length(edge - 1), static_cast<size_t>(k)) << "2^" << 7 * k << "-1";
    EXPECT_EQ(varint::Length(edge), static_cast<size_t>(k + 1)) << "2^" << 7 * k;
  }
}

TEST(Varint, EmptyInputReturnsZero) {
  uint8_t byte = 0;
  uint64_t out = 0;
  EXPECT_EQ(varint::Get(&byte, &byte, &out), 0u);
}

TEST(Varint, TruncatedInputReturnsZeroAtEveryCut) {
  for (const auto& v : GoVectors()) {
    for (size_t cut = 0; cut < v.bytes.size(); ++cut) {
      uint64_t out = 0;
      EXPECT_EQ(varint::Get(v.bytes.data(), v.bytes.data() + cut, &out), 0u)
          << "value " << v.value << " cut to " << cut << " bytes";
    }
  }
}

TEST(Varint, TenthByteAboveOneIsOverflow) {
  std::vector<uint8_t> b(9, 0xFF);
  b.push_back(0x02);
  uint64_t out = 0;
  EXPECT_EQ(varint::Get(b.data(), b.data() + b.size(), &out), 0u);
  b.back() = 0x7F;
  EXPECT_EQ(varint::Get(b.data(), b.data() + b.size(), &out), 0u);
  // 0x01 is the largest legal tenth byte (bit 63).
  b.back() = 0x01;
  EXPECT_EQ(varint::Get(b.data(), b.data() + b.size(), &out), 10u);
  EXPECT_EQ(out, kMax);
}

TEST(Varint, ElevenContinuationBytesIsOverflow) {
  std::vector<uint8_t> b(11, 0x80);
  b.push_back(0x00);
  uint64_t out = 0;
  EXPECT_EQ(varint::Get(b.data(), b.data() + b.size(), &out), 0u);
  // Ten continuation bytes then a terminator: 11 bytes in all, still too long.
  std::vector<uint8_t> c(10, 0x80);
  c.push_back(0x00);
  EXPECT_EQ(varint::Get(c.data(), c.data() + c.size(), &out), 0u);
}

// Go accepts a padded encoding (continuation bytes carrying zeros) and so do we.
TEST(Varint, NonMinimalEncodingIsAccepted) {
  const uint8_t b[] = {0x81, 0x80, 0x00};
  uint64_t out = 0;
  EXPECT_EQ(varint::Get(b, b + sizeof b, &out), 3u);
  EXPECT_EQ(out, 1u);
}

TEST(Varint, GetStopsAtTerminatorAndIgnoresTrailingBytes) {
  const uint8_t b[] = {0xAC, 0x02, 0xFF, 0xFF};
  uint64_t out = 0;
  EXPECT_EQ(varint::Get(b, b + sizeof b, &out), 2u);
  EXPECT_EQ(out, 300u);
}

TEST(Varint, SequenceOfVarintsDecodesBackInOrder) {
  const std::vector<uint64_t> values = {0, 5, 127, 128, 99999, kMax, 1, uint64_t{1} << 35};
  std::vector<uint8_t> buf(values.size() * varint::kMaxLen64);
  size_t at = 0;
  for (uint64_t v : values) at += varint::Put(buf.data() + at, v);
  buf.resize(at);
  const uint8_t* p = buf.data();
  const uint8_t* limit = buf.data() + buf.size();
  for (uint64_t v : values) {
    uint64_t out = 0;
    size_t n = varint::Get(p, limit, &out);
    ASSERT_GT(n, 0u);
    EXPECT_EQ(out, v);
    p += n;
  }
  EXPECT_EQ(p, limit);
}

}  // namespace
}  // namespace lplex
