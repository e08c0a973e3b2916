#include "core/hex.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace lplex {
namespace {

using ::testing::HasSubstr;

TEST(Hex, EncodeIsLowercase) {
  const std::vector<uint8_t> b = {0x0A, 0xFF, 0x00, 0xBC, 0xDE, 0x12};
  EXPECT_EQ(hex::Encode(b), "0aff00bcde12");
}

TEST(Hex, EncodeEmptyIsEmpty) { EXPECT_EQ(hex::Encode({}), ""); }

TEST(Hex, EncodeEveryByteValue) {
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  const std::string s = hex::Encode(all);
  ASSERT_EQ(s.size(), 512u);
  for (int i = 0; i < 256; ++i) {
    char want[3];
    std::snprintf(want, sizeof want, "%02x", i);
    EXPECT_EQ(s.substr(2 * i, 2), want);
  }
}

TEST(Hex, AppendEncodedKeepsExistingText) {
  std::string out = "data=";
  const std::vector<uint8_t> b = {0x5A, 0x1F};
  hex::AppendEncoded(b, &out);
  EXPECT_EQ(out, "data=5a1f");
  hex::AppendEncoded({}, &out);
  EXPECT_EQ(out, "data=5a1f");
}

TEST(Hex, EncodeUppercaseOnRequest) {
  const std::vector<uint8_t> b = {0x0A, 0xFF, 0x00, 0xBC};
  EXPECT_EQ(hex::Encode(b, hex::Case::kUpper), "0AFF00BC");
  std::string out = "x=";
  hex::AppendEncoded(b, &out, hex::Case::kUpper);
  EXPECT_EQ(out, "x=0AFF00BC");
}

// The one-byte form used by URI escapes ("%2F") and JSON escapes ("\u001f").
TEST(Hex, AppendByteInBothCases) {
  std::string out = "%";
  hex::AppendByte(0x2f, &out, hex::Case::kUpper);
  hex::AppendByte(0xab, &out);
  hex::AppendByte(0x00, &out);
  EXPECT_EQ(out, "%2Fab00");
}

// A NAME is 16 zero-padded digits, most significant first, no allocation.
TEST(Hex, FormatUintIsZeroPaddedBigEndian) {
  char buf[16];
  hex::FormatUint(0xDEADBEEFull, buf);
  EXPECT_EQ(std::string(buf, 16), "00000000deadbeef");
  hex::FormatUint(0xFEDCBA9876543210ull, buf, hex::Case::kUpper);
  EXPECT_EQ(std::string(buf, 16), "FEDCBA9876543210");
}

// A span shorter than the number keeps only the low digits.
TEST(Hex, FormatUintShortSpanKeepsLowDigits) {
  char buf[4];
  hex::FormatUint(0x12345, buf);
  EXPECT_EQ(std::string(buf, 4), "2345");
  hex::FormatUint(0, std::span<char>());  // nothing to write, no crash
}

TEST(Hex, DecodeAcceptsBothCases) {
  auto lower = hex::Decode("0aff");
  auto upper = hex::Decode("0AFF");
  auto mixed = hex::Decode("0aFf");
  ASSERT_TRUE(lower.ok()) << lower.status().ToString();
  ASSERT_TRUE(upper.ok()) << upper.status().ToString();
  ASSERT_TRUE(mixed.ok()) << mixed.status().ToString();
  const std::vector<uint8_t> want = {0x0A, 0xFF};
  EXPECT_EQ(*lower, want);
  EXPECT_EQ(*upper, want);
  EXPECT_EQ(*mixed, want);
}

TEST(Hex, DecodeEmptyIsEmpty) {
  auto r = hex::Decode("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(Hex, RoundTripEveryByteValue) {
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(255 - i);
  auto r = hex::Decode(hex::Encode(all));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, all);
  auto upper = hex::Decode(hex::Encode(all, hex::Case::kUpper));
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, all);
}

TEST(Hex, OddLengthErrorNamesValueAndLength) {
  auto r = hex::Decode("abc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("\"abc\""));
  EXPECT_THAT(r.status().message(), HasSubstr("odd length 3"));
}

TEST(Hex, BadDigitErrorNamesCharacterAndPosition) {
  auto r = hex::Decode("00zz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("\"00zz\""));
  EXPECT_THAT(r.status().message(), HasSubstr("'z'"));
  EXPECT_THAT(r.status().message(), HasSubstr("position 2"));
}

// The low digit of a pair is checked too, and its own position is reported.
TEST(Hex, BadLowDigitReportsItsOwnPosition) {
  auto r = hex::Decode("0a0g");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("'g'"));
  EXPECT_THAT(r.status().message(), HasSubstr("position 3"));
}

TEST(Hex, PrefixAndSeparatorsAreRejected) {
  EXPECT_FALSE(hex::Decode("0x0a").ok());
  EXPECT_FALSE(hex::Decode("0a 0b").ok());
  EXPECT_FALSE(hex::Decode("0a:b").ok());
  EXPECT_FALSE(hex::Decode("-1").ok());
}

}  // namespace
}  // namespace lplex
