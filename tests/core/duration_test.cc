#include "core/duration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace lplex {
namespace {

using std::chrono::milliseconds;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;

struct Valid {
  const char* text;
  seconds want;
};

// spec/boat.md §2.12 and spec/cloud.md §4.4.
TEST(Duration, SpecExamplesParse) {
  const std::vector<Valid> cases = {
      {"PT5M", minutes(5)},
      {"PT1H", hours(1)},
      {"PT1H30M", minutes(90)},
      {"P1DT12H", hours(36)},
      {"P1W", hours(7 * 24)},
      {"PT0S", seconds(0)},
      {"P30D", hours(30 * 24)},
      {"P90D", hours(90 * 24)},
      {"PT30S", seconds(30)},
  };
  for (const auto& c : cases) {
    auto r = ParseIso8601Duration(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().ToString();
    EXPECT_EQ(*r, c.want) << c.text;
  }
}

TEST(Duration, AllComponentsAddUp) {
  auto r = ParseIso8601Duration("P1W2DT3H4M5S");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, seconds(9 * 86400 + 3 * 3600 + 4 * 60 + 5));
}

// M means minutes after T and months before it; only the former is allowed.
TEST(Duration, MAfterTIsMinutes) {
  auto r = ParseIso8601Duration("PT1M");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, seconds(60));
}

TEST(Duration, LargeUnitCountsAreNotNormalised) {
  auto r = ParseIso8601Duration("PT90M");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, minutes(90));
  r = ParseIso8601Duration("PT3600S");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, hours(1));
}

TEST(Duration, LeadingZerosAreDigits) {
  auto r = ParseIso8601Duration("PT05M");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, minutes(5));
}

// Every rejected input from the spec; the message must quote the input so a
// user can find the offending flag or config key.
TEST(Duration, InvalidInputsAreRejectedAndQuoted) {
  const std::vector<std::string> bad = {
      "",        // empty
      "P",       // no component
      "PT",      // no time component
      "PTXM",    // no number
      "P1M",     // months
      "P1Y",     // years
      "PT0.5S",  // fraction
      "PT0,5S",  // fraction, comma form
      "pt5m",    // lowercase
      "PT5m",    // lowercase unit
      "-PT5M",   // sign
      "P-1D",    // sign inside
      "PT+5M",   // sign inside
      "PT5",     // no unit
      "P1DT",    // T with nothing after it
      " PT5M",   // leading space
      "PT5M ",   // trailing space
      "PT 5M",   // space inside
      "P1H",     // time unit before T
      "PT1D",    // date unit after T
      "PT1W",    // date unit after T
      "P1DT1HT1M",  // T twice
      "5M",      // no P
      "PT5X",    // unknown unit
  };
  for (const auto& text : bad) {
    auto r = ParseIso8601Duration(text);
    ASSERT_FALSE(r.ok()) << "\"" << text << "\" was accepted as " << r->count() << " s";
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << text;
    EXPECT_THAT(r.status().message(), HasSubstr("\"" + text + "\"")) << text;
  }
}

TEST(Duration, ErrorTextsNameTheProblem) {
  EXPECT_THAT(ParseIso8601Duration("5M").status().message(), HasSubstr("must start with P"));
  EXPECT_THAT(ParseIso8601Duration("").status().message(), HasSubstr("must start with P"));
  EXPECT_THAT(ParseIso8601Duration("P1M").status().message(), HasSubstr("unknown date unit: M"));
  EXPECT_THAT(ParseIso8601Duration("P1M").status().message(), HasSubstr("months/years not supported"));
  EXPECT_THAT(ParseIso8601Duration("P1Y").status().message(), HasSubstr("unknown date unit: Y"));
  EXPECT_THAT(ParseIso8601Duration("PT5X").status().message(), HasSubstr("unknown time unit: X"));
  EXPECT_THAT(ParseIso8601Duration("PT0.5S").status().message(), HasSubstr("fraction"));
}

TEST(Duration, ErrorShowsValidExamples) {
  EXPECT_THAT(ParseIso8601Duration("P").status().message(), HasSubstr("PT5M"));
}

TEST(Duration, OverflowIsAnErrorNotAWrap) {
  for (const std::string text : {"PT99999999999999999999S", "P9999999999999999W", "PT9223372036854775807H",
                                 "P1DT9223372036854775800S"}) {
    auto r = ParseIso8601Duration(text);
    ASSERT_FALSE(r.ok()) << text << " was accepted as " << r->count() << " s";
    EXPECT_THAT(r.status().message(), HasSubstr("\"" + text + "\""));
  }
}

TEST(Duration, DurationWhoseMicrosecondsOverflowInt64IsTooLarge) {
  // Each of these parsed before but wrapped around (or went negative) once a
  // caller turned it into int64 microseconds.
  for (const std::string text : {"P99999999999D", "P106751992D", "P213503982D", "PT9223372036855S",
                                 "P15250285W", "PT2562047789H"}) {
    auto r = ParseIso8601Duration(text);
    ASSERT_FALSE(r.ok()) << text << " was accepted as " << r->count() << " s";
    EXPECT_EQ(r.status().code(), Status::Code::kOutOfRange) << text;
    EXPECT_THAT(r.status().message(), HasSubstr("\"" + text + "\" is too large (max P106751991DT4H54S"));
  }
  // The largest accepted value converts to microseconds exactly.
  auto max = ParseIso8601Duration("PT9223372036854S");
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::microseconds>(*max).count(), 9223372036854000000);
  EXPECT_EQ(max->count(), kMaxIso8601DurationSeconds);
  EXPECT_TRUE(ParseIso8601Duration("P106751991DT4H54S").ok());
  EXPECT_FALSE(ParseIso8601Duration("P106751991DT4H55S").ok());
}

TEST(Duration, FormatShortestForm) {
  EXPECT_EQ(FormatIso8601Duration(seconds(0)), "PT0S");
  EXPECT_EQ(FormatIso8601Duration(seconds(90)), "PT1M30S");
  EXPECT_EQ(FormatIso8601Duration(hours(36)), "P1DT12H");
  EXPECT_EQ(FormatIso8601Duration(minutes(5)), "PT5M");
  EXPECT_EQ(FormatIso8601Duration(hours(1)), "PT1H");
  EXPECT_EQ(FormatIso8601Duration(hours(24)), "P1D");
  EXPECT_EQ(FormatIso8601Duration(hours(24 * 7)), "P7D");
  EXPECT_EQ(FormatIso8601Duration(seconds(86400 + 1)), "P1DT1S");
  EXPECT_EQ(FormatIso8601Duration(seconds(3600 + 1)), "PT1H1S");
}

// A sub-second script timeout must still say how long it was: 300 ms is
// "PT0.3S", not "PT0S".
TEST(Duration, FormatKeepsMillisecondsAsFractionalSeconds) {
  EXPECT_EQ(FormatIso8601Duration(milliseconds(300)), "PT0.3S");
  EXPECT_EQ(FormatIso8601Duration(milliseconds(1500)), "PT1.5S");
  EXPECT_EQ(FormatIso8601Duration(milliseconds(61250)), "PT1M1.25S");
  EXPECT_EQ(FormatIso8601Duration(milliseconds(3600001)), "PT1H0.001S");
  EXPECT_EQ(FormatIso8601Duration(milliseconds(86400000 + 10)), "P1DT0.01S");
  EXPECT_EQ(FormatIso8601Duration(milliseconds(3000)), "PT3S");
  EXPECT_EQ(FormatIso8601Duration(milliseconds(0)), "PT0S");
  EXPECT_EQ(FormatIso8601Duration(milliseconds(-5)), "PT0S");
  EXPECT_EQ(FormatIso8601Duration(std::chrono::microseconds(1999)), "PT0.001S");  // finer parts dropped
  EXPECT_EQ(FormatIso8601Duration(std::chrono::microseconds(999)), "PT0S");
}

TEST(Duration, FormatRoundTripsThroughParse) {
  std::vector<int64_t> values = {0, 1, 59, 60, 61, 3599, 3600, 3601, 86399, 86400, 86401, 129600, 604800, 7776000};
  for (int64_t s = 0; s < 200000; s += 997) values.push_back(s);
  for (int64_t s : values) {
    const std::string text = FormatIso8601Duration(seconds(s));
    auto r = ParseIso8601Duration(text);
    ASSERT_TRUE(r.ok()) << s << " formatted as " << text << ": " << r.status().ToString();
    EXPECT_EQ(r->count(), s) << text;
  }
}

TEST(Duration, ParseThenFormatIsCanonical) {
  for (const char* text : {"PT5M", "PT1H30M", "P1DT12H", "PT0S", "P30D", "PT30S"}) {
    auto r = ParseIso8601Duration(text);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(FormatIso8601Duration(*r), text);
  }
}

}  // namespace
}  // namespace lplex
