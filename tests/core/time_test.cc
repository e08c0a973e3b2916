#include "core/time.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>

namespace lplex {
namespace {

using timefmt::kMicrosPerSecond;

constexpr int64_t kS = kMicrosPerSecond;
// 2026-03-02T14:00:00Z (date -u -d ... +%s).
constexpr int64_t k20260302T14 = 1772460000 * kS;
// 2025-01-15T08:30:22Z.
constexpr int64_t k20250115T083022 = int64_t{1736929822} * kS;
// 1900-01-01T00:00:00Z.
constexpr int64_t k1900 = int64_t{-2208988800} * kS;
// 0001-01-01T00:00:00Z: Go's zero time, which the keeper prints for unparseable names.
constexpr int64_t kYear1 = int64_t{-62135596800} * kS;

// ---------------------------------------------------------------------------
// ToCivil / FromCivil

TEST(TimeCivil, EpochIsJanuaryFirst1970) {
  timefmt::CivilTime c = timefmt::ToCivil(0);
  EXPECT_EQ(c.year, 1970);
  EXPECT_EQ(c.month, 1);
  EXPECT_EQ(c.day, 1);
  EXPECT_EQ(c.hour, 0);
  EXPECT_EQ(c.minute, 0);
  EXPECT_EQ(c.second, 0);
  EXPECT_EQ(c.micros, 0);
}

TEST(TimeCivil, OneMicroBeforeEpochFloorsIntoPreviousDay) {
  timefmt::CivilTime c = timefmt::ToCivil(-1);
  EXPECT_EQ(c.year, 1969);
  EXPECT_EQ(c.month, 12);
  EXPECT_EQ(c.day, 31);
  EXPECT_EQ(c.hour, 23);
  EXPECT_EQ(c.minute, 59);
  EXPECT_EQ(c.second, 59);
  EXPECT_EQ(c.micros, 999999);
}

TEST(TimeCivil, KnownInstants) {
  EXPECT_EQ(timefmt::FromCivil({2026, 3, 2, 14, 0, 0, 0}), k20260302T14);
  EXPECT_EQ(timefmt::FromCivil({1900, 1, 1, 0, 0, 0, 0}), k1900);
  EXPECT_EQ(timefmt::FromCivil({1, 1, 1, 0, 0, 0, 0}), kYear1);
  EXPECT_EQ(timefmt::FromCivil({2000, 2, 29, 23, 59, 59, 0}), int64_t{951868799} * kS);
}

TEST(TimeCivil, RoundTripAcrossYears1To9999) {
  std::mt19937_64 rng(2026);
  const int64_t lo = kYear1;
  const int64_t hi = timefmt::FromCivil({9999, 12, 31, 23, 59, 59, 999999});
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  for (int i = 0; i < 20000; ++i) {
    int64_t us = dist(rng);
    ASSERT_EQ(timefmt::FromCivil(timefmt::ToCivil(us)), us) << us;
  }
}

// ---------------------------------------------------------------------------
// FileStamp / ParseFileStamp

TEST(TimeFileStamp, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(timefmt::FileStamp(k20260302T14), "20260302T140000.000Z");
  EXPECT_EQ(timefmt::FileStamp(k20250115T083022 + 500000), "20250115T083022.500Z");
}

TEST(TimeFileStamp, CutsMillisecondsInsteadOfRounding) {
  // 999.999 ms must not round up into the next second (or the next file name).
  EXPECT_EQ(timefmt::FileStamp(k20260302T14 + 999999), "20260302T140000.999Z");
  EXPECT_EQ(timefmt::FileStamp(k20260302T14 + 1999), "20260302T140000.001Z");
  EXPECT_EQ(timefmt::FileStamp(k20260302T14 + 999), "20260302T140000.000Z");
  // 23:59:59.9999 on New Year's Eve stays in the old year.
  const int64_t nye = timefmt::FromCivil({2025, 12, 31, 23, 59, 59, 999900});
  EXPECT_EQ(timefmt::FileStamp(nye), "20251231T235959.999Z");
}

TEST(TimeFileStamp, PreEpochCutsTowardThePast) {
  EXPECT_EQ(timefmt::FileStamp(-1), "19691231T235959.999Z");
  EXPECT_EQ(timefmt::FileStamp(k1900), "19000101T000000.000Z");
}

TEST(TimeFileStamp, ParseIsInverseToTheMillisecond) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> dist(k1900, timefmt::FromCivil({2200, 1, 1, 0, 0, 0, 0}));
  for (int i = 0; i < 5000; ++i) {
    int64_t us = dist(rng);
    int64_t ms_floor = us - (((us % 1000) + 1000) % 1000);
    auto parsed = timefmt::ParseFileStamp(timefmt::FileStamp(us));
    ASSERT_TRUE(parsed.has_value()) << timefmt::FileStamp(us);
    ASSERT_EQ(*parsed, ms_floor) << timefmt::FileStamp(us);
  }
}

TEST(TimeFileStamp, ParseRejectsAnythingButExactlyThreeDigitsAndZ) {
  EXPECT_TRUE(timefmt::ParseFileStamp("20260302T140000.000Z").has_value());
  EXPECT_FALSE(timefmt::ParseFileStamp("20260302T140000Z").has_value());
  EXPECT_FALSE(timefmt::ParseFileStamp("20260302T140000.00Z").has_value());
  EXPECT_FALSE(timefmt::ParseFileStamp("20260302T140000.0000Z").has_value());
  EXPECT_FALSE(timefmt::ParseFileStamp("20260302T140000.000z").has_value());
  EXPECT_FALSE(timefmt::ParseFileStamp("20260302T140000.000").has_value());
  EXPECT_FALSE(timefmt::ParseFileStamp("20260302t140000.000Z").has_value());
  EXPECT_FALSE(timefmt::ParseFileStamp("20260302T140000,000Z").has_value());
  EXPECT_FALSE(timefmt::ParseFileStamp("2026030xT140000.000Z").has_value());
  EXPECT_FALSE(timefmt::ParseFileStamp("20260302T14000+.000Z").has_value());
  EXPECT_FALSE(timefmt::ParseFileStamp("").has_value());
}

TEST(TimeFileStamp, ParseRejectsImpossibleDates) {
  EXPECT_FALSE(timefmt::ParseFileStamp("20260230T140000.000Z").has_value()) << "Feb 30";
  EXPECT_FALSE(timefmt::ParseFileStamp("20261302T140000.000Z").has_value()) << "month 13";
  EXPECT_FALSE(timefmt::ParseFileStamp("20260002T140000.000Z").has_value()) << "month 0";
  EXPECT_FALSE(timefmt::ParseFileStamp("20260300T140000.000Z").has_value()) << "day 0";
  EXPECT_FALSE(timefmt::ParseFileStamp("20260431T140000.000Z").has_value()) << "Apr 31";
  EXPECT_FALSE(timefmt::ParseFileStamp("20260302T240000.000Z").has_value()) << "hour 24";
  EXPECT_FALSE(timefmt::ParseFileStamp("20260302T146000.000Z").has_value()) << "minute 60";
  EXPECT_FALSE(timefmt::ParseFileStamp("20260302T140060.000Z").has_value()) << "second 60";
}

TEST(TimeFileStamp, LeapDayFollowsGregorianRules) {
  EXPECT_TRUE(timefmt::ParseFileStamp("20240229T000000.000Z").has_value());
  EXPECT_TRUE(timefmt::ParseFileStamp("20000229T000000.000Z").has_value()) << "2000 is a leap year";
  EXPECT_FALSE(timefmt::ParseFileStamp("20250229T000000.000Z").has_value());
  EXPECT_FALSE(timefmt::ParseFileStamp("19000229T000000.000Z").has_value()) << "1900 is not a leap year";
  EXPECT_FALSE(timefmt::ParseFileStamp("21000229T000000.000Z").has_value()) << "2100 is not a leap year";
}

// ---------------------------------------------------------------------------
// TimeFromJournalName (spec/journal.md §1.11)

TEST(TimeJournalName, SpecVectors) {
  EXPECT_EQ(timefmt::TimeFromJournalName("nmea2k-20260302T140000.000Z.lpj"), std::optional<int64_t>(k20260302T14));
  EXPECT_EQ(timefmt::TimeFromJournalName("backfill-20250115T083022.500Z.lpj"),
            std::optional<int64_t>(k20250115T083022 + 500000));
  EXPECT_EQ(timefmt::TimeFromJournalName("garbage.lpj"), std::nullopt);
  EXPECT_EQ(timefmt::TimeFromJournalName("no-extension"), std::nullopt);
}

// The website's examples leave out the milliseconds; the keeper cannot parse them.
TEST(TimeJournalName, NameWithoutMillisecondsDoesNotParse) {
  EXPECT_EQ(timefmt::TimeFromJournalName("nmea2k-20260306T101500Z.lpj"), std::nullopt);
}

TEST(TimeJournalName, PrefixMayContainHyphens) {
  EXPECT_EQ(timefmt::TimeFromJournalName("my-boat-20260302T140000.000Z.lpj"),
            std::optional<int64_t>(k20260302T14));
  EXPECT_EQ(timefmt::TimeFromJournalName("a-b-c-d-20250115T083022.500Z.lpj"),
            std::optional<int64_t>(k20250115T083022 + 500000));
}

TEST(TimeJournalName, NothingAfterLastHyphen) {
  EXPECT_EQ(timefmt::TimeFromJournalName("nmea2k-.lpj"), std::nullopt);
  EXPECT_EQ(timefmt::TimeFromJournalName("nmea2k-"), std::nullopt);
  EXPECT_EQ(timefmt::TimeFromJournalName(""), std::nullopt);
  EXPECT_EQ(timefmt::TimeFromJournalName(".lpj"), std::nullopt);
}

// A hyphen inside the stamp part (e.g. an RFC 3339-ish name) moves the "last
// hyphen" into the stamp, so the name does not parse.
TEST(TimeJournalName, HyphenatedDateDoesNotParse) {
  EXPECT_EQ(timefmt::TimeFromJournalName("nmea2k-2026-03-02T140000.000Z.lpj"), std::nullopt);
}

TEST(TimeJournalName, InvalidDatesAreNotParsed) {
  EXPECT_EQ(timefmt::TimeFromJournalName("nmea2k-20260230T140000.000Z.lpj"), std::nullopt) << "Feb 30";
  EXPECT_EQ(timefmt::TimeFromJournalName("nmea2k-20261302T140000.000Z.lpj"), std::nullopt) << "month 13";
  EXPECT_EQ(timefmt::TimeFromJournalName("nmea2k-20260302T250000.000Z.lpj"), std::nullopt) << "hour 25";
}

TEST(TimeJournalName, OtherSuffixesAreNotStripped) {
  EXPECT_EQ(timefmt::TimeFromJournalName("nmea2k-20260302T140000.000Z.lpj.archived"), std::nullopt);
  EXPECT_EQ(timefmt::TimeFromJournalName("nmea2k-20260302T140000.000Z.LPJ"), std::nullopt);
  EXPECT_EQ(timefmt::TimeFromJournalName("nmea2k-20260302T140000.000Z.lpj.tmp"), std::nullopt);
}

TEST(TimeJournalName, FileStampRoundTripsThroughAName) {
  const int64_t us = k20250115T083022 + 123456;
  const std::string name = "my-boat-" + timefmt::FileStamp(us) + ".lpj";
  EXPECT_EQ(timefmt::TimeFromJournalName(name), std::optional<int64_t>(k20250115T083022 + 123000));
}

// ---------------------------------------------------------------------------
// Rfc3339Nano / Rfc3339Seconds

TEST(TimeRfc3339Nano, WholeSecondHasNoFraction) {
  EXPECT_EQ(timefmt::Rfc3339Nano(k20260302T14), "2026-03-02T14:00:00Z");
  EXPECT_EQ(timefmt::Rfc3339Nano(0), "1970-01-01T00:00:00Z");
}

TEST(TimeRfc3339Nano, TrailingFractionZerosAreTrimmed) {
  EXPECT_EQ(timefmt::Rfc3339Nano(k20260302T14 + 500000), "2026-03-02T14:00:00.5Z");
  EXPECT_EQ(timefmt::Rfc3339Nano(k20260302T14 + 120000), "2026-03-02T14:00:00.12Z");
  EXPECT_EQ(timefmt::Rfc3339Nano(k20260302T14 + 123456), "2026-03-02T14:00:00.123456Z");
  EXPECT_EQ(timefmt::Rfc3339Nano(k20260302T14 + 100), "2026-03-02T14:00:00.0001Z");
  EXPECT_EQ(timefmt::Rfc3339Nano(k20260302T14 + 1), "2026-03-02T14:00:00.000001Z");
  EXPECT_EQ(timefmt::Rfc3339Nano(k20260302T14 + 100000), "2026-03-02T14:00:00.1Z");
}

TEST(TimeRfc3339Nano, PreEpoch) {
  EXPECT_EQ(timefmt::Rfc3339Nano(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(timefmt::Rfc3339Nano(-500000), "1969-12-31T23:59:59.5Z");
  EXPECT_EQ(timefmt::Rfc3339Nano(-kS), "1969-12-31T23:59:59Z");
  EXPECT_EQ(timefmt::Rfc3339Nano(k1900), "1900-01-01T00:00:00Z");
}

TEST(TimeRfc3339Nano, AppendKeepsExistingText) {
  std::string out = "ts=";
  timefmt::AppendRfc3339Nano(k20260302T14 + 250000, &out);
  EXPECT_EQ(out, "ts=2026-03-02T14:00:00.25Z");
}

TEST(TimeRfc3339Seconds, DropsFractionEntirely) {
  EXPECT_EQ(timefmt::Rfc3339Seconds(k20260302T14 + 999999), "2026-03-02T14:00:00Z");
  EXPECT_EQ(timefmt::Rfc3339Seconds(-1), "1969-12-31T23:59:59Z");
}

// spec/journal.md §6.4: an unparseable name is reported as created 0001-01-01T00:00:00Z.
TEST(TimeRfc3339Seconds, ZeroTimeOfYearOne) {
  EXPECT_EQ(timefmt::Rfc3339Seconds(kYear1), "0001-01-01T00:00:00Z");
}

// ---------------------------------------------------------------------------
// ParseRfc3339

TEST(TimeParseRfc3339, UtcWithZ) {
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00Z"), std::optional<int64_t>(k20260302T14));
  EXPECT_EQ(timefmt::ParseRfc3339("1970-01-01T00:00:00Z"), std::optional<int64_t>(0));
}

TEST(TimeParseRfc3339, LowercaseTAndZAreAccepted) {
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02t14:00:00z"), std::optional<int64_t>(k20260302T14));
}

TEST(TimeParseRfc3339, SpaceBetweenDateAndTimeIsAccepted) {
  // RFC 3339 §5.6: "applications ... may choose ... to use a space character".
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02 14:00:00Z"), std::optional<int64_t>(k20260302T14));
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02 16:00:00+02:00"), std::optional<int64_t>(k20260302T14));
  // Any other separator is still refused.
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02_14:00:00Z"), std::nullopt);
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02  14:00:00Z"), std::nullopt);
}

TEST(TimeParseRfc3339, Fractions) {
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00.5Z"), std::optional<int64_t>(k20260302T14 + 500000));
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00.000001Z"), std::optional<int64_t>(k20260302T14 + 1));
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00.123456Z"), std::optional<int64_t>(k20260302T14 + 123456));
}

// Nanosecond digits below a microsecond are cut, not rounded (boat.md shows
// 7-digit fractions such as "10:15:32.1234567Z").
TEST(TimeParseRfc3339, DigitsBeyondMicrosecondsAreCut) {
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00.1234567Z"), std::optional<int64_t>(k20260302T14 + 123456));
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00.999999999Z"), std::optional<int64_t>(k20260302T14 + 999999));
}

TEST(TimeParseRfc3339, NumericOffsets) {
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T16:00:00+02:00"), std::optional<int64_t>(k20260302T14));
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T09:00:00-05:00"), std::optional<int64_t>(k20260302T14));
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00+00:00"), std::optional<int64_t>(k20260302T14));
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T19:30:00.25+05:30"), std::optional<int64_t>(k20260302T14 + 250000));
  // An offset can move the instant into another day.
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-03T00:00:00+10:00"), std::optional<int64_t>(k20260302T14));
}

TEST(TimeParseRfc3339, PreEpoch) {
  EXPECT_EQ(timefmt::ParseRfc3339("1969-12-31T23:59:59.5Z"), std::optional<int64_t>(-500000));
  EXPECT_EQ(timefmt::ParseRfc3339("1900-01-01T00:00:00Z"), std::optional<int64_t>(k1900));
  EXPECT_EQ(timefmt::ParseRfc3339("0001-01-01T00:00:00Z"), std::optional<int64_t>(kYear1));
}

TEST(TimeParseRfc3339, RejectsMalformed) {
  EXPECT_EQ(timefmt::ParseRfc3339(""), std::nullopt);
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00"), std::nullopt) << "no zone";
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00.Z"), std::nullopt) << "dot without digits";
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00Zjunk"), std::nullopt) << "trailing text";
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00+0200"), std::nullopt) << "offset without colon";
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00+2:00"), std::nullopt) << "one-digit offset hour";
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00+24:00"), std::nullopt) << "offset hour 24";
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00+02:60"), std::nullopt) << "offset minute 60";
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T14:00:00+02:00Z"), std::nullopt) << "offset and Z";
  EXPECT_EQ(timefmt::ParseRfc3339("2026-3-02T14:00:00Z"), std::nullopt) << "one-digit month";
  EXPECT_EQ(timefmt::ParseRfc3339("20260302T140000.000Z"), std::nullopt) << "file stamp is not RFC 3339";
}

TEST(TimeParseRfc3339, RejectsImpossibleDates) {
  EXPECT_EQ(timefmt::ParseRfc3339("2026-02-30T14:00:00Z"), std::nullopt);
  EXPECT_EQ(timefmt::ParseRfc3339("2026-13-02T14:00:00Z"), std::nullopt);
  EXPECT_EQ(timefmt::ParseRfc3339("2026-03-02T24:00:00Z"), std::nullopt);
  EXPECT_EQ(timefmt::ParseRfc3339("2025-02-29T00:00:00Z"), std::nullopt);
  EXPECT_TRUE(timefmt::ParseRfc3339("2024-02-29T00:00:00Z").has_value());
}

TEST(TimeParseRfc3339, RoundTripsRfc3339Nano) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int64_t> dist(kYear1, timefmt::FromCivil({9999, 12, 31, 23, 59, 59, 999999}));
  for (int i = 0; i < 20000; ++i) {
    int64_t us = dist(rng);
    std::string s = timefmt::Rfc3339Nano(us);
    ASSERT_EQ(timefmt::ParseRfc3339(s), std::optional<int64_t>(us)) << s;
  }
  for (int64_t us : {int64_t{0}, int64_t{-1}, int64_t{1}, k1900, kYear1, k20260302T14 + 500000}) {
    EXPECT_EQ(timefmt::ParseRfc3339(timefmt::Rfc3339Nano(us)), std::optional<int64_t>(us));
  }
}

TEST(TimeParseRfc3339, RoundTripsRfc3339Seconds) {
  const int64_t us = k20250115T083022 + 987654;
  EXPECT_EQ(timefmt::ParseRfc3339(timefmt::Rfc3339Seconds(us)), std::optional<int64_t>(k20250115T083022));
}

// The hand-written digits against the printf rendering they replaced, over
// many random instants (years 0..9999 take the fast path; the rest printf).
std::string PrintfRfc3339Nano(int64_t us) {
  timefmt::CivilTime c = timefmt::ToCivil(us);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute,
                        c.second);
  std::string out(buf, static_cast<size_t>(n));
  if (c.micros != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06d", c.micros);
    size_t len = 7;
    while (frac[len - 1] == '0') --len;
    out.append(frac, len);
  }
  return out + "Z";
}

TEST(TimeRfc3339Nano, FastPathMatchesPrintfOverRandomTimestamps) {
  std::mt19937_64 rng(7);
  const int64_t span = 200000LL * 365 * 86400 * kS;  // years about -98,000..102,000
  for (int i = 0; i < 300000; ++i) {
    int64_t us = static_cast<int64_t>(rng() % static_cast<uint64_t>(span)) - span / 2;
    if (i % 2 == 0) us %= 10000LL * 365 * 86400 * kS;  // mostly the four-digit years
    if (i % 3 == 0) us -= us % kS;
    if (i % 5 == 0) us -= us % 1000;
    ASSERT_EQ(timefmt::Rfc3339Nano(us), PrintfRfc3339Nano(us)) << us;
  }
}

TEST(TimeRfc3339Nano, YearsOutsideFourDigitsKeepPrintfForm) {
  EXPECT_EQ(timefmt::Rfc3339Nano(253402300800000000LL), "10000-01-01T00:00:00Z");
  EXPECT_EQ(timefmt::Rfc3339Nano(-62167219200000001LL), "-001-12-31T23:59:59.999999Z");
  EXPECT_EQ(timefmt::Rfc3339Nano(-62167219200000000LL), "0000-01-01T00:00:00Z");
}

}  // namespace
}  // namespace lplex
