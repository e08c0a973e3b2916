// The --where tokenizer (spec/boat.md §4.2 "Lexer"; reference TestLex and
// TestLexErrors).
#include "where/lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lplex::where {
namespace {

using K = TokenKind;

std::vector<TokenKind> Kinds(std::string_view input) {
  Result<std::vector<Token>> tokens = Lex(input);
  EXPECT_TRUE(tokens.ok()) << input << ": " << tokens.status().ToString();
  std::vector<TokenKind> kinds;
  if (tokens.ok()) {
    for (const Token& t : *tokens) kinds.push_back(t.kind);
  }
  return kinds;
}

std::string LexError(std::string_view input) {
  Result<std::vector<Token>> tokens = Lex(input);
  return tokens.ok() ? "<lexed>" : tokens.status().message();
}

TEST(WhereLexerTest, TokenSequencesForOperatorsKeywordsDottedFieldsAndNegativeNumbers) {
  EXPECT_EQ(Kinds("pgn == 130310"), (std::vector{K::kIdent, K::kEq, K::kInt, K::kEnd}));
  EXPECT_EQ(Kinds("a < 1.5"), (std::vector{K::kIdent, K::kLt, K::kFloat, K::kEnd}));
  EXPECT_EQ(Kinds(R"(name == "foo")"), (std::vector{K::kIdent, K::kEq, K::kString, K::kEnd}));
  EXPECT_EQ(Kinds("a && b > 1"), (std::vector{K::kIdent, K::kAnd, K::kIdent, K::kGt, K::kInt, K::kEnd}));
  EXPECT_EQ(Kinds("a || b != 2"), (std::vector{K::kIdent, K::kOr, K::kIdent, K::kNe, K::kInt, K::kEnd}));
  EXPECT_EQ(Kinds("!a >= 3"), (std::vector{K::kNot, K::kIdent, K::kGe, K::kInt, K::kEnd}));
  EXPECT_EQ(Kinds("(a <= 1)"), (std::vector{K::kLParen, K::kIdent, K::kLe, K::kInt, K::kRParen, K::kEnd}));
  EXPECT_EQ(Kinds(R"(a.name == "x")"), (std::vector{K::kIdent, K::kDot, K::kIdent, K::kEq, K::kString, K::kEnd}));
  EXPECT_EQ(Kinds("a > -5"), (std::vector{K::kIdent, K::kGt, K::kInt, K::kEnd}));
  EXPECT_EQ(Kinds("x == 1 and y == 2 or z == 3"),
            (std::vector{K::kIdent, K::kEq, K::kInt, K::kAnd, K::kIdent, K::kEq, K::kInt, K::kOr, K::kIdent, K::kEq,
                         K::kInt, K::kEnd}));
  EXPECT_EQ(Kinds("not a == 1"), (std::vector{K::kNot, K::kIdent, K::kEq, K::kInt, K::kEnd}));
}

TEST(WhereLexerTest, KeywordsAreLowercaseOnly) {
  EXPECT_EQ(Kinds("AND Or NOT and_x notx"), (std::vector{K::kIdent, K::kIdent, K::kIdent, K::kIdent, K::kIdent, K::kEnd}));
}

TEST(WhereLexerTest, OperatorsNeedNoSpaces) {
  EXPECT_EQ(Kinds("a<=1&&!(b!=2)||c>-3"),
            (std::vector{K::kIdent, K::kLe, K::kInt, K::kAnd, K::kNot, K::kLParen, K::kIdent, K::kNe, K::kInt,
                         K::kRParen, K::kOr, K::kIdent, K::kGt, K::kInt, K::kEnd}));
}

TEST(WhereLexerTest, AnyDotMakesANumberAFloatAndMoreDotsStayOneToken) {
  Result<std::vector<Token>> t = Lex("-2.5 7 1.2.3 5.");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 5u);
  EXPECT_EQ((*t)[0].kind, K::kFloat);
  EXPECT_EQ((*t)[0].text, "-2.5");
  EXPECT_EQ((*t)[1].kind, K::kInt);
  EXPECT_EQ((*t)[2].kind, K::kFloat);
  EXPECT_EQ((*t)[2].text, "1.2.3");  // the parser refuses it
  EXPECT_EQ((*t)[3].kind, K::kFloat);
}

TEST(WhereLexerTest, LoneMinusIsAnIntegerTokenForTheParserToRefuse) {
  Result<std::vector<Token>> t = Lex("a == -");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[2].kind, K::kInt);
  EXPECT_EQ((*t)[2].text, "-");
}

TEST(WhereLexerTest, StringsTakeEitherQuoteAndBackslashEscapesTheNextByte) {
  Result<std::vector<Token>> t = Lex(R"("say \"hi\"" 'it\'s' "a\\b" "x'y" 'x"y' "\n")");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->size(), 7u);
  EXPECT_EQ((*t)[0].text, R"(say "hi")");
  EXPECT_EQ((*t)[1].text, "it's");
  EXPECT_EQ((*t)[2].text, R"(a\b)");
  EXPECT_EQ((*t)[3].text, "x'y");
  EXPECT_EQ((*t)[4].text, "x\"y");
  EXPECT_EQ((*t)[5].text, "n");  // no escape sequences: the next byte, literally
  EXPECT_EQ((*t)[0].kind, K::kString);
}

TEST(WhereLexerTest, TokenPositionsAreByteOffsets) {
  Result<std::vector<Token>> t = Lex("  src\t>=  'x'");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[0].pos, 2u);
  EXPECT_EQ((*t)[1].pos, 6u);
  EXPECT_EQ((*t)[2].pos, 10u);
  EXPECT_EQ((*t)[3].pos, 13u);  // the end token sits at the input's length
}

TEST(WhereLexerTest, UnterminatedStringsAndStrayCharactersAreErrors) {
  EXPECT_EQ(LexError(R"("unterminated)"), "unterminated string starting at position 0");
  EXPECT_EQ(LexError("a == 'also unterminated"), "unterminated string starting at position 5");
  // A trailing backslash escapes nothing and leaves the string open.
  EXPECT_EQ(LexError(R"(a == "x\)"), "unterminated string starting at position 5");
  EXPECT_EQ(LexError("@invalid"), "unexpected character '@' at position 0");
  EXPECT_EQ(LexError("a + 1"), "unexpected character '+' at position 2");
}

TEST(WhereLexerTest, LoneEqualsAmpersandAndBarNameTheOperatorMeant) {
  EXPECT_EQ(LexError("pgn = 1"), "unexpected character '=' at position 4 (use == to compare)");
  EXPECT_EQ(LexError("a == 1 & b == 2"), "unexpected character '&' at position 7 (use && or and)");
  EXPECT_EQ(LexError("a == 1 | b == 2"), "unexpected character '|' at position 7 (use || or or)");
}

TEST(WhereLexerTest, NonPrintableBytesAreShownAsHex) {
  EXPECT_EQ(LexError(std::string_view("a\0", 2)), "unexpected character '\\x00' at position 1");
  EXPECT_EQ(LexError("\xc3\xa9t\xc3\xa9 == 1"), "unexpected character '\\xc3' at position 0");
  EXPECT_EQ(LexError("\x1b[31m"), "unexpected character '\\x1b' at position 0");
}

}  // namespace
}  // namespace lplex::where
