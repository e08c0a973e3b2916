// FilterSpec parsing (spec/boat.md §4.1; server_test.go numbers in comments).
#include "broker/filter.h"

#include <gtest/gtest.h>

namespace lplex::broker {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

TEST(FilterParse, RepeatedAndCommaSeparatedValuesAddUp) {
  auto f = ParseFilterParams({{"pgn", "129025"}, {"pgn", "129026,130306"}, {"src", "1,2"}, {"other", "x"}});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->pgn, (std::vector<uint32_t>{129025, 129026, 130306}));
  EXPECT_EQ(f->src, (std::vector<uint8_t>{1, 2}));
}

TEST(FilterParse, BadPgnNamesTheValueAndTheRange) {
  auto f = ParseFilterParams({{"pgn", "x"}});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "invalid pgn \"x\": not a decimal number (valid: 0..131071)");
}

TEST(FilterParse, EmptyCommaPartIsRefused) {
  auto f = ParseFilterParams({{"exclude_pgn", "60928,"}});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "invalid exclude_pgn \"\": not a decimal number (valid: 0..131071)");
}

TEST(FilterParse, InstanceOutOfRangeIsRefused) {
  auto f = ParseFilterParams({{"instance", "256"}});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "invalid instance \"256\": out of range (valid: 0..255)");
}

// `GET /events?pgn=200000` was told "not a decimal number".
TEST(FilterParse, DecimalPgnAboveMaxIsOutOfRangeNotNotADecimal) {
  auto f = ParseFilterParams({{"pgn", "200000"}});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "invalid pgn \"200000\": out of range (valid: 0..131071)");
  f = ParseFilterParams({{"exclude_pgn", "99999999999999999999999"}});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "invalid exclude_pgn \"99999999999999999999999\": out of range (valid: 0..131071)");
  f = ParseFilterParams({{"src", "-1"}});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "invalid src \"-1\": out of range (valid: 0..255)");
  f = ParseFilterParams({{"src", "1.5"}});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "invalid src \"1.5\": not a decimal number (valid: 0..255)");
  f = ParseFilterParams({{"instance", "-"}});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "invalid instance \"-\": not a decimal number (valid: 0..255)");
}

// `?pgn=%0d%0aX-Injected:%201` and `?pgn=%00` arrive decoded: the message
// shows them as Go's %q would, never as raw CR, LF or NUL.
TEST(FilterParse, BadValuesWithCrLfOrNulAreQuotedLikeGo) {
  auto f = ParseFilterParams({{"pgn", "\r\nX-Injected: 1"}});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), R"(invalid pgn "\r\nX-Injected: 1": not a decimal number (valid: 0..131071))");
  f = ParseFilterParams({{"src", std::string(1, '\0')}});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), R"(invalid src "\x00": not a decimal number (valid: 0..255))");
  f = ParseFilterParams({{"name", "\"\n"}});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), R"(invalid name "\"\n": must be hex (1..16 digits, optional 0x))");
  FilterSpec spec;
  Status s = AddFilterParam("pg\rn", "1", &spec);
  EXPECT_EQ(s.message().substr(0, 25), R"(unknown filter "pg\rn" (v)");
}

// #30 (and #18's NAME value)
TEST(FilterParse, ExcludeNameHexParsesToUint64) {
  auto f = ParseFilterParams({{"exclude_name", "001c6e4000200000"}, {"exclude_name", "0x00000000deadbeef"}});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->exclude_name, (std::vector<uint64_t>{0x001c6e4000200000ULL, 0xdeadbeefULL}));
}

// #19
TEST(FilterParse, NonHexNameIsRefusedNamingIt) {
  auto f = ParseFilterParams({{"name", "zz"}});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(), "invalid name \"zz\": must be hex (1..16 digits, optional 0x)");
  EXPECT_FALSE(ParseFilterParams({{"name", "00112233445566778"}}).ok()) << "17 digits";
}

TEST(FilterParse, ManufacturerKeepsCaseAndSplitsOnComma) {
  auto f = ParseFilterParams({{"manufacturer", "Garmin,229"}});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->manufacturer, (std::vector<std::string>{"Garmin", "229"}));
}

TEST(FilterParse, UnknownKeyIsRefusedByAddFilterParam) {
  FilterSpec f;
  Status s = AddFilterParam("pgns", "1", &f);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unknown filter \"pgns\""), std::string::npos);
}

TEST(FilterMatch, StatsOnlySourceMatchesManufacturerZeroAndInstanceZero) {
  can::Device d;
  d.source = 9;
  FilterSpec f;
  f.manufacturer = {"0"};
  EXPECT_TRUE(MatchesLive(f, 129025, 9, &d));
  f.manufacturer = {"Garmin"};
  EXPECT_FALSE(MatchesLive(f, 129025, 9, &d));
  FilterSpec g;
  g.instance = {0};
  EXPECT_TRUE(MatchesLive(g, 129025, 9, &d));
  EXPECT_FALSE(MatchesLive(g, 129025, 9, nullptr)) << "device criteria need a registry entry";
}

TEST(FilterMatch, EmptyFilterMatchesEverything) {
  EXPECT_TRUE(FilterSpec{}.empty());
  EXPECT_TRUE(MatchesLive(FilterSpec{}, 1, 2, nullptr));
  EXPECT_TRUE(ResolvedFilter{}.Matches(1, 0, 2));
}

}  // namespace
}  // namespace lplex::broker
