#include "pgn/json_writer.h"

#include <gtest/gtest.h>

#include <string>

namespace lplex::pgn {
namespace {

std::string Go(double v) {
  std::string s;
  AppendGoFloat(v, &s);
  return s;
}

TEST(GoFloat, ScaledHeadingKeepsItsRoundingArtefactAsGoPrintsIt) {
  EXPECT_EQ(Go(31504 * 0.0001), "3.1504000000000003");
  EXPECT_EQ(Go(12345 * 0.0001), "1.2345000000000002");
}

TEST(GoFloat, ShortestRoundTripDigitsInPlainNotation) {
  EXPECT_EQ(Go(476062000 * 1e-7), "47.6062");
  EXPECT_EQ(Go(-1223321000 * 1e-7), "-122.3321");
  EXPECT_EQ(Go(5.5), "5.5");
  EXPECT_EQ(Go(0.0), "0");
  EXPECT_EQ(Go(-0.0), "-0");
  EXPECT_EQ(Go(655.35), "655.35");
  EXPECT_EQ(Go(1e20), "100000000000000000000");
  EXPECT_EQ(Go(0.000001), "0.000001");
}

TEST(GoFloat, BelowOneMillionthUsesGoExponentWithoutLeadingZero) {
  EXPECT_EQ(Go(1e-7), "1e-7");
  EXPECT_EQ(Go(1.5e-7), "1.5e-7");
  EXPECT_EQ(Go(-2.5e-10), "-2.5e-10");
  EXPECT_EQ(Go(1e-100), "1e-100");
}

TEST(GoFloat, FromOneE21UpUsesExponentWithPlusSign) {
  EXPECT_EQ(Go(1e21), "1e+21");
  EXPECT_EQ(Go(1.25e22), "1.25e+22");
}

TEST(GoFloat, NanAndInfinityAreNullNotInvalidJson) {
  EXPECT_EQ(Go(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(Go(std::numeric_limits<double>::infinity()), "null");
}

}  // namespace
}  // namespace lplex::pgn
