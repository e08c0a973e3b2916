// Evaluating --where expressions against frames (spec/boat.md §4.2
// "Evaluation" and NeedsDecode; reference TestHeaderFields through
// TestNegativeNumber).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "fake_fields.h"
#include "where/where.h"

namespace lplex::where {
namespace {

bool NeedsDecode(std::string_view expr) {
  Result<Expression> e = Expression::Parse(expr);
  EXPECT_TRUE(e.ok()) << expr;
  return e.ok() && e->NeedsDecode();
}

// 130310 Environmental Parameters, as the decoder would present it.
FakeFields EnvironmentalParameters() {
  FakeFields f;
  f.Number("sid", 1).Number("water_temperature", 280.15).Number("outside_temperature", 293.15);
  f.Number("atmospheric_pressure", 101300);
  return f;
}

// 61184 Victron Battery Register with register 0xFFF = "State of Charge".
FakeFields VictronRegister() {
  FakeFields f;
  f.Number("manufacturer_code", 358).Number("industry_code", 4).Number("register", 0xFFF).Number("payload", 500);
  f.Label("register", "State of Charge").Label("manufacturer_code", "Victron Energy");
  return f;
}

TEST(WhereMatchTest, HeaderFieldsWithEveryOperator) {
  EXPECT_TRUE(Match("pgn == 130310", Subject{.pgn = 130310}));
  EXPECT_FALSE(Match("pgn == 130310", Subject{.pgn = 130311}));
  EXPECT_TRUE(Match("pgn != 130310", Subject{.pgn = 130311}));
  EXPECT_TRUE(Match("src == 42", Subject{.src = 42}));
  EXPECT_FALSE(Match("src == 42", Subject{.src = 43}));
  EXPECT_TRUE(Match("dst == 255", Subject{.dst = 255}));
  EXPECT_TRUE(Match("prio == 3", Subject{.prio = 3}));
  EXPECT_TRUE(Match("prio < 4", Subject{.prio = 3}));
  EXPECT_FALSE(Match("prio > 4", Subject{.prio = 3}));
  EXPECT_TRUE(Match("prio >= 3", Subject{.prio = 3}));
  EXPECT_TRUE(Match("prio <= 3", Subject{.prio = 3}));
  EXPECT_FALSE(Match("prio < 3", Subject{.prio = 3}));
  EXPECT_TRUE(Match("pgn < 130310.5", Subject{.pgn = 130310}));
}

TEST(WhereMatchTest, HeaderFieldsNeedNoDecodedFields) {
  // fields == nullptr: header comparisons still work.
  EXPECT_TRUE(Match("pgn == 1 && src == 2 && dst == 3 && prio == 4",
                    Subject{.pgn = 1, .src = 2, .dst = 3, .prio = 4, .fields = nullptr}));
}

TEST(WhereMatchTest, HeaderFieldAgainstStringLiteralNeverMatches) {
  EXPECT_FALSE(Match("pgn == '130310'", Subject{.pgn = 130310}));
  EXPECT_FALSE(Match("pgn != '1'", Subject{.pgn = 130310}));
}

TEST(WhereMatchTest, HeaderFieldIgnoresASubFieldSuffix) {
  FakeFields f;
  f.Label("src", "Garmin");
  EXPECT_TRUE(Match("src.manufacturer == 42", Subject{.src = 42, .fields = &f}));
  EXPECT_FALSE(Match("src.manufacturer == 'Garmin'", Subject{.src = 42, .fields = &f}));
  EXPECT_FALSE(NeedsDecode("src.manufacturer == 42"));
}

TEST(WhereMatchTest, NeedsDecodeOnlyForNonHeaderFieldsIncludingLookupSubAccess) {
  EXPECT_FALSE(NeedsDecode("pgn == 130310"));
  EXPECT_FALSE(NeedsDecode("src == 1 && dst == 255"));
  EXPECT_TRUE(NeedsDecode("water_temperature < 280"));
  EXPECT_TRUE(NeedsDecode("pgn == 130310 && water_temperature < 280"));
  EXPECT_FALSE(NeedsDecode("pgn == 130310 || src == 1"));
  EXPECT_TRUE(NeedsDecode(R"(register.name == "foo")"));
  EXPECT_TRUE(NeedsDecode("!(pgn == 1 || !(prio == 2 && sid == 3))"));
  // Header names are exact and case-sensitive.
  EXPECT_TRUE(NeedsDecode("PGN == 1"));
  EXPECT_TRUE(NeedsDecode("pgns == 1"));
}

TEST(WhereMatchTest, DecodedNumericFieldsCompareAsDoublesExactly) {
  FakeFields f = EnvironmentalParameters();
  Subject s{.pgn = 130310, .fields = &f};
  EXPECT_TRUE(Match("water_temperature < 290", s));
  EXPECT_FALSE(Match("water_temperature > 290", s));
  EXPECT_TRUE(Match("water_temperature == 280.15", s));
  EXPECT_FALSE(Match("water_temperature != 280.15", s));
  EXPECT_FALSE(Match("water_temperature == 280.150001", s));
  EXPECT_TRUE(Match("sid == 1", s));
  EXPECT_TRUE(Match("sid == 1.0", s));
  EXPECT_FALSE(Match("sid == 2", s));
  EXPECT_TRUE(Match("outside_temperature >= 293.15", s));
  EXPECT_TRUE(Match("atmospheric_pressure > 100000", s));
}

TEST(WhereMatchTest, FieldsNotAvailableNeverMatchWhileAvailableOnesDo) {
  // Only water_temperature is available; the decoder gives nullopt for the
  // others ("not available" raw values), so even != is false for them.
  FakeFields f;
  f.Number("water_temperature", 280.15);
  Subject s{.pgn = 130310, .fields = &f};
  EXPECT_TRUE(Match("water_temperature < 290", s));
  EXPECT_FALSE(Match("outside_temperature != 0", s));
  EXPECT_FALSE(Match("outside_temperature == 0", s));
}

TEST(WhereMatchTest, EnumFieldComparesItsRawNumberNotItsLabel) {
  FakeFields f;
  f.Number("wind_reference", 2).Label("wind_reference", "Apparent").Number("wind_speed", 6.5);
  Subject s{.pgn = 130306, .fields = &f};
  EXPECT_TRUE(Match("wind_reference == 2", s));
  EXPECT_FALSE(Match("wind_reference == 'Apparent'", s));
  EXPECT_TRUE(Match("wind_reference.name == 'Apparent'", s));
  EXPECT_TRUE(Match("pgn == 130306 && wind_speed > 5", s));
}

TEST(WhereMatchTest, LookupRawNumberAndLabelCompare) {
  FakeFields f = VictronRegister();
  Subject s{.pgn = 61184, .fields = &f};
  EXPECT_TRUE(Match("register == 4095", s));
  EXPECT_FALSE(Match("register != 4095", s));
  EXPECT_TRUE(Match(R"(register.name == "State of Charge")", s));
  EXPECT_FALSE(Match(R"(register.name == "Something Else")", s));
  EXPECT_TRUE(Match(R"(register.name != "Something Else")", s));
  EXPECT_TRUE(Match("payload == 500", s));
  // Any sub-name reads the label.
  EXPECT_TRUE(Match(R"(manufacturer_code.label == "Victron Energy")", s));
}

TEST(WhereMatchTest, LabelsCompareByteWiseAndCaseSensitively) {
  FakeFields f = VictronRegister();
  Subject s{.fields = &f};
  EXPECT_FALSE(Match(R"(register.name == "state of charge")", s));
  EXPECT_TRUE(Match(R"(register.name > "Some")", s));
  EXPECT_TRUE(Match(R"(register.name < "Statf")", s));
  EXPECT_TRUE(Match(R"(register.name >= "State of Charge")", s));
  EXPECT_FALSE(Match(R"(register.name < "State of Charge")", s));
}

TEST(WhereMatchTest, NumericLiteralAgainstLabelUsesItsStringForm) {
  FakeFields f;
  f.Label("a", "5").Label("b", "2.5").Label("c", "1e+06").Label("d", "-7");
  Subject s{.fields = &f};
  EXPECT_TRUE(Match("a.x == 5", s));
  EXPECT_TRUE(Match("b.x == 2.50", s));
  EXPECT_TRUE(Match("c.x == 1000000.0", s));  // Go's %g spelling
  EXPECT_TRUE(Match("d.x == -7", s));
  EXPECT_TRUE(Match("a.x == 5.0", s));  // the float 5.0 spells "5", as Go's %g
  EXPECT_FALSE(Match("a.x == 5.5", s));
}

TEST(WhereMatchTest, StringFieldsCompareLexicographically) {
  FakeFields f;
  f.Text("model_id", "GPS 19x").Text("serial", "42");
  Subject s{.fields = &f};
  EXPECT_TRUE(Match("model_id == 'GPS 19x'", s));
  EXPECT_TRUE(Match("model_id < 'GPS 2'", s));
  EXPECT_TRUE(Match("model_id > 'GPS 100'", s));
  EXPECT_TRUE(Match("serial == 42", s));  // the literal's string form
  EXPECT_TRUE(Match("serial < 5", s));    // "42" < "5" as strings
}

TEST(WhereMatchTest, NumericFieldAgainstStringLiteralNeverMatches) {
  FakeFields f = EnvironmentalParameters();
  EXPECT_FALSE(Match("sid == '1'", Subject{.fields = &f}));
  EXPECT_FALSE(Match("sid != '1'", Subject{.fields = &f}));
}

TEST(WhereMatchTest, NoDecodedFieldsNeverMatchDecodedComparison) {
  EXPECT_FALSE(Match("water_temperature < 280", Subject{.pgn = 130310, .fields = nullptr}));
  EXPECT_FALSE(Match("water_temperature != 280", Subject{.pgn = 130310, .fields = nullptr}));
  EXPECT_FALSE(Match("register.name != 'x'", Subject{.fields = nullptr}));
}

TEST(WhereMatchTest, UnknownFieldNeverMatchesEvenNotEqual) {
  FakeFields f;
  f.Number("water_temperature", 280);
  EXPECT_FALSE(Match("nonexistent_field == 1", Subject{.fields = &f}));
  EXPECT_FALSE(Match("nonexistent_field != 1", Subject{.fields = &f}));
  // ...but negating the comparison does match.
  EXPECT_TRUE(Match("!nonexistent_field == 1", Subject{.fields = &f}));
}

TEST(WhereMatchTest, MissingLabelNeverMatches) {
  FakeFields f;
  f.Label("other", "bar").Number("nonexistent", 1);
  EXPECT_FALSE(Match(R"(nonexistent.name == "foo")", Subject{.fields = &f}));
  EXPECT_FALSE(Match(R"(nonexistent.name != "foo")", Subject{.fields = &f}));
}

TEST(WhereMatchTest, AndOrNotAndNegatedGroups) {
  Subject s{.pgn = 1, .src = 2};
  EXPECT_TRUE(Match("pgn == 1 && src == 2", s));
  EXPECT_FALSE(Match("pgn == 1 && src == 3", s));
  EXPECT_TRUE(Match("pgn == 1 || src == 3", s));
  EXPECT_FALSE(Match("pgn == 2 || src == 3", s));
  EXPECT_TRUE(Match("!pgn == 2", s));
  EXPECT_FALSE(Match("!pgn == 1", s));
  EXPECT_TRUE(Match("!(pgn == 2 || src == 3)", s));
  EXPECT_FALSE(Match("!(pgn == 1 || src == 3)", s));
  EXPECT_TRUE(Match("not pgn == 2 and src == 2", s));
  EXPECT_TRUE(Match("!!pgn == 1", s));
}

TEST(WhereMatchTest, AndBindsTighterThanOr) {
  const char* expr = "pgn == 1 || src == 2 && dst == 3";
  EXPECT_TRUE(Match(expr, Subject{.pgn = 0, .src = 2, .dst = 3}));   // false || (true && true)
  EXPECT_FALSE(Match(expr, Subject{.pgn = 0, .src = 2, .dst = 0}));  // false || (true && false)
  EXPECT_TRUE(Match(expr, Subject{.pgn = 1, .src = 0, .dst = 0}));   // true || (false && false)
  // Grouping overrides it: (true || x) && false.
  EXPECT_FALSE(Match("(pgn == 1 || src == 2) && dst == 3", Subject{.pgn = 1, .src = 0, .dst = 0}));
}

TEST(WhereMatchTest, HeaderAndDecodedCombinedIncludingUndecodedFrame) {
  FakeFields f;
  f.Number("water_temperature", 280.15);
  const char* expr = "pgn == 130310 && water_temperature < 290";
  EXPECT_TRUE(Match(expr, Subject{.pgn = 130310, .fields = &f}));
  EXPECT_FALSE(Match(expr, Subject{.pgn = 99999, .fields = &f}));
  EXPECT_FALSE(Match(expr, Subject{.pgn = 130310, .fields = nullptr}));
}

TEST(WhereMatchTest, ToStringIsTheCanonicalParenthesizedForm) {
  Result<Expression> e = Expression::Parse("pgn == 130310 && water_temperature < 280");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->ToString(), "(pgn == 130310 && water_temperature < 280)");
}

TEST(WhereMatchTest, SingleQuotedLiteralMatchesLabel) {
  FakeFields f = VictronRegister();
  EXPECT_TRUE(Match("register.name == 'State of Charge'", Subject{.pgn = 61184, .fields = &f}));
}

TEST(WhereMatchTest, EscapedQuotesInLiteralsMatchTheUnescapedText) {
  FakeFields f;
  f.Text("name", R"(say "hi" it's \ok)");
  Subject s{.fields = &f};
  EXPECT_TRUE(Match(R"(name == "say \"hi\" it's \\ok")", s));
  EXPECT_TRUE(Match(R"(name == 'say "hi" it\'s \\ok')", s));
}

TEST(WhereMatchTest, NegativeLiteralComparesBelowZero) {
  FakeFields f;
  f.Number("sid", 0).Number("heading_offset", -0.25);
  Subject s{.fields = &f};
  EXPECT_TRUE(Match("sid > -1", s));
  EXPECT_TRUE(Match("heading_offset < -0.2", s));
  EXPECT_TRUE(Match("heading_offset > -0.3", s));
  EXPECT_TRUE(Match("sid == -0.0", s));  // -0 equals 0 as doubles
}

TEST(WhereMatchTest, LargeIntegersCompareAfterConversionToDouble) {
  FakeFields f;
  f.Number("name", 9007199254740992.0);  // 2^53
  EXPECT_TRUE(Match("name == 9007199254740993", Subject{.fields = &f}));  // rounds to 2^53
  EXPECT_TRUE(Match("name < 9223372036854775807", Subject{.fields = &f}));
}

TEST(WhereMatchTest, NotANumberFieldOnlySatisfiesNotEqual) {
  FakeFields f;
  f.Number("x", std::numeric_limits<double>::quiet_NaN());
  EXPECT_FALSE(Match("x == 1", Subject{.fields = &f}));
  EXPECT_FALSE(Match("x < 1", Subject{.fields = &f}));
  EXPECT_TRUE(Match("x != 1", Subject{.fields = &f}));
}

}  // namespace
}  // namespace lplex::where
