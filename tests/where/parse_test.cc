// Parsing --where expressions: grammar, precedence, literals, every error
// message, and the limits that keep hostile input harmless (spec/boat.md
// §4.2; reference TestParseValid, TestParseErrors, TestStringFilter).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fake_fields.h"
#include "where/where.h"

namespace lplex::where {
namespace {

TEST(WhereParseTest, RootShowsPrecedenceAndOrBindsLoosest) {
  EXPECT_EQ(Canonical("pgn == 130310"), "pgn == 130310");
  EXPECT_EQ(Canonical("a > 1 && b < 2"), "(a > 1 && b < 2)");
  EXPECT_EQ(Canonical("a == 1 || b == 2"), "(a == 1 || b == 2)");
  EXPECT_EQ(Canonical("!a == 1"), "!a == 1");
  EXPECT_EQ(Canonical("(a == 1)"), "a == 1");
  EXPECT_EQ(Canonical(R"(a.name == "foo")"), R"(a.name == "foo")");
  EXPECT_EQ(Canonical("a == 1 && b == 2 || c == 3"), "((a == 1 && b == 2) || c == 3)");
  EXPECT_EQ(Canonical("a == 1 || b == 2 && c == 3"), "(a == 1 || (b == 2 && c == 3))");
  EXPECT_EQ(Canonical("not a == 1 and b == 2"), "(!a == 1 && b == 2)");
}

TEST(WhereParseTest, BinaryOperatorsAssociateToTheLeft) {
  EXPECT_EQ(Canonical("a == 1 || b == 2 || c == 3"), "((a == 1 || b == 2) || c == 3)");
  EXPECT_EQ(Canonical("a == 1 && b == 2 && c == 3 && d == 4"), "(((a == 1 && b == 2) && c == 3) && d == 4)");
  EXPECT_EQ(Canonical("a == 1 || (b == 2 || c == 3)"), "(a == 1 || (b == 2 || c == 3))");
}

TEST(WhereParseTest, NotAppliesToTheWholeComparisonNotTheFieldName) {
  // `!pgn == 2` is !(pgn == 2): true for pgn 1, false for pgn 2.
  EXPECT_EQ(Canonical("!pgn == 2"), "!pgn == 2");
  EXPECT_TRUE(Match("!pgn == 2", Subject{.pgn = 1}));
  EXPECT_FALSE(Match("!pgn == 2", Subject{.pgn = 2}));
  EXPECT_EQ(Canonical("!!pgn == 2"), "!!pgn == 2");
  EXPECT_EQ(Canonical("not (a == 1 || b == 2)"), "!(a == 1 || b == 2)");
  EXPECT_EQ(Canonical("!a == 1 || b == 2"), "(!a == 1 || b == 2)");
}

TEST(WhereParseTest, UppercaseKeywordsAreFieldNamesNotOperators) {
  EXPECT_EQ(ParseError("a == 1 AND b == 2"),
            R"(unexpected token "AND" at position 7 (expected &&, ||, or the end of the expression))");
  EXPECT_EQ(ParseError("NOT a == 1"), R"(expected comparison operator (==, !=, <, >, <=, >=) at position 4, got "a")");
  EXPECT_EQ(Canonical("OR == 1 or Not != 2"), "(OR == 1 || Not != 2)");
}

TEST(WhereParseTest, LiteralsKeepTheirKindInCanonicalForm) {
  EXPECT_EQ(Canonical("a == -5"), "a == -5");
  EXPECT_EQ(Canonical("a == -0"), "a == 0");
  EXPECT_EQ(Canonical("a == 007"), "a == 7");
  EXPECT_EQ(Canonical("a == 2.50"), "a == 2.5");
  EXPECT_EQ(Canonical("a == 5."), "a == 5.0");
  EXPECT_EQ(Canonical("a == -0.0"), "a == -0.0");
  EXPECT_EQ(Canonical("a == 1000000.0"), "a == 1000000.0");
  EXPECT_EQ(Canonical("a == 0.00001"), "a == 0.00001");
  EXPECT_EQ(Canonical("a == -9223372036854775808"), "a == -9223372036854775808");
  EXPECT_EQ(Canonical("a == 'x'"), R"(a == "x")");
  EXPECT_EQ(Canonical(R"(a == 'say "hi" \\ bye')"), R"(a == "say \"hi\" \\ bye")");
}

TEST(WhereParseTest, FloatTooSmallToRepresentIsZeroTooLargeIsAnError) {
  EXPECT_EQ(Canonical("a == 0." + std::string(400, '0') + "1"), "a == 0.0");
  EXPECT_EQ(ParseError("a == 1" + std::string(400, '0') + ".5"),
            R"(invalid float "1)" + std::string(400, '0') +
                R"(.5" at position 5: out of range (largest: about 1.8e308))");
}

TEST(WhereParseTest, ToStringParsesBackToTheSameToString) {
  for (const std::string& text : std::vector<std::string>{
           "pgn == 130306 && wind_speed > 5",
           "!(pgn == 2 || src == 3) and not dst != 255",
           R"(register.name == 'State of charge' || model == "a\"b\\c")",
           "a == 0.1 || b == 1000000.0 || c == -0.0 || d == 123456789012345.25",
           "x == 0." + std::string(300, '0') + "5",
           "x >= 1797693134862315" + std::string(293, '0') + ".0",  // near the largest double
           "((a == 1 || b == 2) && (c == 3 || d == 4)) || !e.f < 'z'",
       }) {
    Result<Expression> first = Expression::Parse(text);
    ASSERT_TRUE(first.ok()) << text << ": " << first.status().ToString();
    Result<Expression> second = Expression::Parse(first->ToString());
    ASSERT_TRUE(second.ok()) << first->ToString() << ": " << second.status().ToString();
    EXPECT_EQ(second->ToString(), first->ToString()) << text;
  }
}

TEST(WhereParseTest, EmptyOrBlankExpressionIsAnError) {
  EXPECT_EQ(ParseError(""), "empty expression (expected a comparison such as pgn == 130306)");
  EXPECT_EQ(ParseError(" \t\n"), "empty expression (expected a comparison such as pgn == 130306)");
}

TEST(WhereParseTest, MissingFieldNameSaysWhatWasFound) {
  EXPECT_EQ(ParseError("== 1"), R"(expected field name at position 0, got "==")");
  EXPECT_EQ(ParseError("5 == a"), R"(expected field name at position 0, got "5")");
  EXPECT_EQ(ParseError("a == 1 &&"), R"(expected field name at position 9, got "")");
  EXPECT_EQ(ParseError("()"), R"x(expected field name at position 1, got ")")x");
  EXPECT_EQ(ParseError("'pgn' == 1"), R"(expected field name at position 0, got "pgn")");
}

TEST(WhereParseTest, MissingOrInvalidComparisonOperator) {
  EXPECT_EQ(ParseError("pgn"), R"(expected comparison operator (==, !=, <, >, <=, >=) at position 3, got "")");
  EXPECT_EQ(ParseError("a && b == 1"), R"(expected comparison operator (==, !=, <, >, <=, >=) at position 2, got "&&")");
  EXPECT_EQ(ParseError("a + 1"), "unexpected character '+' at position 2");
}

TEST(WhereParseTest, MissingValueSaysWhichKindsAreValid) {
  EXPECT_EQ(ParseError("a =="), R"(expected value (integer, float, or string) at position 4, got "")");
  EXPECT_EQ(ParseError("a == b"), R"(expected value (integer, float, or string) at position 5, got "b")");
  EXPECT_EQ(ParseError("a == (1)"), R"(expected value (integer, float, or string) at position 5, got "(")");
}

TEST(WhereParseTest, UnbalancedParentheses) {
  EXPECT_EQ(ParseError("(a == 1"), R"(expected ')' at position 7, got "")");
  EXPECT_EQ(ParseError("(a == 1 b"), R"(expected ')' at position 8, got "b")");
  EXPECT_EQ(ParseError("a == 1)"),
            R"x(unexpected token ")" at position 6 (expected &&, ||, or the end of the expression))x");
}

TEST(WhereParseTest, DotMustBeFollowedByASubFieldName) {
  EXPECT_EQ(ParseError("a . == 1"), R"(expected sub-field name after '.' at position 4, got "==")");
  EXPECT_EQ(ParseError("a.5 == 1"), R"(expected sub-field name after '.' at position 2, got "5")");
  // One level only: the second dot is where an operator should be.
  EXPECT_EQ(ParseError("a.b.c == 1"), R"(expected comparison operator (==, !=, <, >, <=, >=) at position 3, got ".")");
}

TEST(WhereParseTest, InvalidNumbersNameTheTokenAndWhatIsValid) {
  EXPECT_EQ(ParseError("a == -"), R"(invalid integer "-" at position 5: a minus sign needs digits after it)");
  EXPECT_EQ(ParseError("a == 9223372036854775808"),
            R"(invalid integer "9223372036854775808" at position 5: out of range )"
            "(valid: -9223372036854775808..9223372036854775807)");
  EXPECT_EQ(ParseError("a == 1.2.3"), R"(invalid float "1.2.3" at position 5: expected digits with one '.')");
  EXPECT_EQ(ParseError("a == -."), R"(invalid float "-." at position 5: expected digits with one '.')");
  // An exponent is not part of a number: "e5" is a stray identifier.
  EXPECT_EQ(ParseError("a == 1e5"),
            R"(unexpected token "e5" at position 6 (expected &&, ||, or the end of the expression))");
}

TEST(WhereParseTest, LexerErrorsWinOverParseErrorsLaterInTheText) {
  EXPECT_EQ(ParseError("== 1 && 'open"), "unterminated string starting at position 8");
}

std::string TooDeepAt(size_t pos) {
  return "expression nested too deeply at position " + std::to_string(pos) +
         ": more than 256 levels of !, && and || inside one another";
}

TEST(WhereParseTest, NotNestedDeeperThanTheLimitIsRefusedNotAStackOverflow) {
  const int limit = Expression::kMaxDepth;
  EXPECT_EQ(Canonical(std::string(limit, '!') + "a == 1"), std::string(limit, '!') + "a == 1");
  // Levels count from the comparison outwards: the '!' at position 0 is the 257th.
  EXPECT_EQ(ParseError(std::string(limit + 1, '!') + "a == 1"), TooDeepAt(0));
  EXPECT_EQ(ParseError(std::string(60000, '!') + "a == 1"), TooDeepAt(60000 - 257));
  std::string nots;
  for (int i = 0; i < 10000; i++) nots += "not ";
  EXPECT_EQ(ParseError(nots + "a == 1"), TooDeepAt((10000 - 257) * 4));
}

TEST(WhereParseTest, RightNestedGroupsDeeperThanTheLimitAreRefused) {
  std::string text;
  for (int i = 0; i < 300; i++) text += "a == 1 || (";
  text += "a == 1" + std::string(300, ')');
  // The innermost || is at position 299 * 11 + 7; the 257th level out is 256 groups before it.
  EXPECT_EQ(ParseError(text), TooDeepAt((299 - 256) * 11 + 7));
  std::string mixed;
  for (int i = 0; i < 300; i++) mixed += "!(a == 1 && ";
  mixed += "a == 1" + std::string(300, ')');
  EXPECT_NE(ParseError(mixed).find("expression nested too deeply at position"), std::string::npos);
}

TEST(WhereParseTest, ParenthesesAloneAddNoDepthHoweverMany) {
  EXPECT_EQ(Canonical(std::string(30000, '(') + "a == 1" + std::string(30000, ')')), "a == 1");
  EXPECT_EQ(ParseError(std::string(60000, '(')), R"(expected field name at position 60000, got "")");
  EXPECT_EQ(ParseError(std::string(60000, '(') + "a == 1"), R"(expected ')' at position 60006, got "")");
}

TEST(WhereParseTest, CanonicalFormOfAChainLongerThanTheDepthLimitParsesBack) {
  // ((((a || b) || c) ...) opens one '(' per operator before its first operand.
  std::string text = "a == 0";
  for (int i = 1; i < 1000; i++) text += " || a == " + std::to_string(i);
  Result<Expression> e = Expression::Parse(text);
  ASSERT_TRUE(e.ok());
  std::string printed = e->ToString();
  EXPECT_EQ(printed.substr(0, 1000), std::string(999, '(') + "a");
  EXPECT_EQ(Canonical(printed), printed);
  FakeFields f;
  f.Number("a", 999);
  EXPECT_TRUE(Expression::Parse(printed)->Matches(Subject{.fields = &f}));
}

TEST(WhereParseTest, SiblingGroupsDoNotAddUpTowardsTheDepthLimit) {
  std::string group(1, '(');  // "(!!!...!a == 1)": 200 levels each
  group.append(200, '!').append("a == 1)");
  std::string text = group;
  for (int i = 0; i < 10; i++) text += " && " + group;
  EXPECT_EQ(ParseError(text), "<parsed>");
}

TEST(WhereParseTest, ExpressionLongerThan64KiBIsRefused) {
  std::string padded = "a == 1" + std::string(Expression::kMaxLength - 6, ' ');
  EXPECT_EQ(ParseError(padded), "<parsed>");
  EXPECT_EQ(ParseError(padded + " "), "expression is 65537 bytes long (limit: 65536 bytes)");
  EXPECT_EQ(ParseError(std::string(100000, '(')), "expression is 100000 bytes long (limit: 65536 bytes)");
}

TEST(WhereParseTest, LongFlatChainsParseEvaluateAndPrintWithoutDeepRecursion) {
  std::string text = "src == 0";
  for (int i = 1; i < 4000; i++) text += " || src == " + std::to_string(i % 250);
  text += " && pgn == 7";
  Result<Expression> e = Expression::Parse(text);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->Matches(Subject{.src = 249}));
  EXPECT_FALSE(e->Matches(Subject{.src = 250}));
  std::string printed = e->ToString();
  EXPECT_EQ(printed.substr(0, 4000), std::string(3999, '(') + "s");
  EXPECT_TRUE(printed.ends_with(" || (src == 249 && pgn == 7))")) << printed.substr(printed.size() - 40);
}

TEST(WhereParseTest, EveryByteValueIsSafeInput) {
  for (int a = 0; a < 256; a++) {
    for (int b = 0; b < 256; b += 7) {
      std::string text = "pgn == 1 && ";
      text.push_back(static_cast<char>(a));
      text.push_back(static_cast<char>(b));
      text += " == 'x'";
      Result<Expression> e = Expression::Parse(text);
      if (e.ok()) {
        (void)e->Matches(Subject{});
        EXPECT_EQ(Canonical(e->ToString()), e->ToString());
      }
    }
  }
}

TEST(WhereParseTest, StringsMayHoldAnyBytesAndPrintBackExactly) {
  std::string raw;
  for (int c = 0; c < 256; c++) raw.push_back(static_cast<char>(c));
  std::string text = "name == \"";
  for (char c : raw) {
    if (c == '"' || c == '\\') text.push_back('\\');
    text.push_back(c);
  }
  text += "\"";
  FakeFields fields;
  fields.Text("name", raw);
  EXPECT_TRUE(Match(text, Subject{.fields = &fields}));
  Result<Expression> e = Expression::Parse(text);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->ToString(), text);
}

TEST(WhereParseTest, MovedExpressionStillMatches) {
  Result<Expression> e = Expression::Parse("pgn == 1 || pgn == 2");
  ASSERT_TRUE(e.ok());
  Expression moved = std::move(e).value();
  Expression copy = moved;
  EXPECT_TRUE(moved.Matches(Subject{.pgn = 2}));
  EXPECT_TRUE(copy.Matches(Subject{.pgn = 1}));
  EXPECT_EQ(copy.ToString(), "(pgn == 1 || pgn == 2)");
}

TEST(WhereParseTest, ErrorsDocumentedInDocsWhereMdAreTheOnesGiven) {
  EXPECT_EQ(ParseError("pgn 1"), R"(expected comparison operator (==, !=, <, >, <=, >=) at position 4, got "1")");
  EXPECT_EQ(ParseError("a & b"), "unexpected character '&' at position 2 (use && or and)");
  EXPECT_EQ(ParseError("a | b"), "unexpected character '|' at position 2 (use || or or)");
  EXPECT_EQ(ParseError("@x == 1"), "unexpected character '@' at position 0");
  EXPECT_EQ(ParseError(R"(name == "abc)"), "unterminated string starting at position 8");
  EXPECT_EQ(Canonical("pgn == 130306 and wind_speed > 5 or src == 1"),
            "((pgn == 130306 && wind_speed > 5) || src == 1)");
  EXPECT_EQ(Canonical("pgn==130306&&wind_speed>5"), "(pgn == 130306 && wind_speed > 5)");
}

}  // namespace
}  // namespace lplex::where
