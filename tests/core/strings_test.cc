#include "core/strings.h"

#include <gtest/gtest.h>

#include <clocale>
#include <string>

namespace lplex {
namespace {

TEST(Strings, EqualsIgnoreCaseMatchesAsciiLetters) {
  EXPECT_TRUE(EqualsIgnoreCase("ETag", "etag"));
  EXPECT_TRUE(EqualsIgnoreCase("STATUS", "status"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_TRUE(EqualsIgnoreCase("a1-_", "A1-_"));
}

TEST(Strings, EqualsIgnoreCaseNeedsTheSameLength) {
  EXPECT_FALSE(EqualsIgnoreCase("etag", "etag:"));
  EXPECT_FALSE(EqualsIgnoreCase("", "a"));
}

// Only ASCII letters fold: '@' (0x40) and '`' (0x60) differ by 0x20 like
// 'A' and 'a' but are not letters; UTF-8 bytes compare exactly.
TEST(Strings, EqualsIgnoreCaseFoldsOnlyAsciiLetters) {
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));
  EXPECT_FALSE(EqualsIgnoreCase("\xc3\xa9", "\xc3\x89"));  // é, É
  EXPECT_TRUE(EqualsIgnoreCase("\xc3\xa9", "\xc3\xa9"));
}

// The answer must not depend on the process locale (Turkish dotted I).
TEST(Strings, EqualsIgnoreCaseIgnoresTheLocale) {
  const char* old = std::setlocale(LC_CTYPE, nullptr);
  std::string saved = old != nullptr ? old : "C";
  if (std::setlocale(LC_CTYPE, "tr_TR.UTF-8") == nullptr) std::setlocale(LC_CTYPE, "C.UTF-8");
  EXPECT_TRUE(EqualsIgnoreCase("I", "i"));
  EXPECT_EQ(ToLower("TITLE"), "title");
  std::setlocale(LC_CTYPE, saved.c_str());
}

TEST(Strings, StartsWithIgnoreCase) {
  EXPECT_TRUE(StartsWithIgnoreCase("ETag: \"abc\"", "etag:"));
  EXPECT_TRUE(StartsWithIgnoreCase("x", ""));
  EXPECT_FALSE(StartsWithIgnoreCase("ETa", "etag"));
  EXPECT_FALSE(StartsWithIgnoreCase("Etags: x", "etag:"));
}

TEST(Strings, ToLowerChangesOnlyAsciiUppercase) {
  EXPECT_EQ(ToLower("Content-MD5: AbC \xc3\x89"), "content-md5: abc \xc3\x89");
  EXPECT_EQ(ToLower(""), "");
  EXPECT_EQ(AsciiToLower('Z'), 'z');
  EXPECT_EQ(AsciiToLower('['), '[');
}

// A journal named "new\nline-….lpj" must not print as two lines: a crafted
// name could forge a result line ("archived …") otherwise.
TEST(Strings, EscapeForDisplayKeepsANameWithNewlineOnOneLine) {
  const std::string shown = EscapeForDisplay("/j/new\nline-20200101T000000.000Z.lpj");
  EXPECT_EQ(shown, "/j/new\\nline-20200101T000000.000Z.lpj");
  EXPECT_EQ(shown.find('\n'), std::string::npos);
}

TEST(Strings, EscapeForDisplayEscapesControlsAndBackslash) {
  EXPECT_EQ(EscapeForDisplay("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeForDisplay("\r\t"), "\\r\\t");
  EXPECT_EQ(EscapeForDisplay(std::string("\x1b[31m\x7f\x01", 7)), "\\x1b[31m\\x7f\\x01");
  EXPECT_EQ(EscapeForDisplay(std::string("a\0b", 3)), "a\\x00b");
  // C1 controls (U+009B is a one-character CSI for some terminals).
  EXPECT_EQ(EscapeForDisplay("\xc2\x9b" "2J"), "\\u009b2J");
}

TEST(Strings, EscapeForDisplayKeepsValidUtf8AndEscapesInvalidBytes) {
  EXPECT_EQ(EscapeForDisplay("b\xc3\xa5t-\xe2\x82\xac"), "b\xc3\xa5t-\xe2\x82\xac");  // båt-€
  EXPECT_EQ(EscapeForDisplay("plain/path-1.lpj"), "plain/path-1.lpj");
  EXPECT_EQ(EscapeForDisplay("\xff\xc3"), "\\xff\\xc3");
  EXPECT_EQ(EscapeForDisplay("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate is not valid UTF-8
}

// Different names never look the same once escaped.
TEST(Strings, EscapeForDisplayIsReversible) {
  EXPECT_NE(EscapeForDisplay("a\nb"), EscapeForDisplay("a\\nb"));
  EXPECT_NE(EscapeForDisplay("\x1b"), EscapeForDisplay("\\x1b"));
}

// The newcomer's `?pgn=%0d%0aX-Injected:%201` and `?pgn=%00`: what Go's %q prints.
TEST(Strings, QuoteLikeGoEscapesCrLfAndNulAsGoPercentQ) {
  EXPECT_EQ(QuoteLikeGo("\r\nX-Injected: 1"), R"("\r\nX-Injected: 1")");
  EXPECT_EQ(QuoteLikeGo(std::string(1, '\0')), R"("\x00")");
  EXPECT_EQ(QuoteLikeGo(""), R"("")");
  EXPECT_EQ(QuoteLikeGo("200000"), R"("200000")");
}

TEST(Strings, QuoteLikeGoEscapesQuotesBackslashAndControlsLikeGo) {
  // Expected values are Go's fmt.Sprintf("%q", ...) of the same bytes.
  EXPECT_EQ(QuoteLikeGo("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(QuoteLikeGo("\a\b\f\t\v"), R"("\a\b\f\t\v")");
  EXPECT_EQ(QuoteLikeGo("\x1b[31m\x7f"), R"("\x1b[31m\x7f")");
  EXPECT_EQ(QuoteLikeGo("it's"), R"("it's")") << "Go leaves the single quote alone";
}

TEST(Strings, QuoteLikeGoKeepsPrintableUtf8AndEscapesTheRest) {
  EXPECT_EQ(QuoteLikeGo("Kj\xc3\xb8ge \xe2\x82\xac \xf0\x9f\x9a\xa4"), "\"Kj\xc3\xb8ge \xe2\x82\xac \xf0\x9f\x9a\xa4\"");
  EXPECT_EQ(QuoteLikeGo("\xff\xc3"), R"("\xff\xc3")") << "invalid UTF-8, byte by byte";
  EXPECT_EQ(QuoteLikeGo("\xc2\x85"), R"("\u0085")") << "C1 NEL";
  EXPECT_EQ(QuoteLikeGo("\xc2\xa0"), R"("\u00a0")") << "no-break space";
  EXPECT_EQ(QuoteLikeGo("\xe2\x80\xa8"), R"("\u2028")") << "line separator";
  EXPECT_EQ(QuoteLikeGo("\xef\xbb\xbf"), R"("\ufeff")") << "byte order mark";
  EXPECT_EQ(QuoteLikeGo("\xf3\xb0\x80\x80"), R"("\U000f0000")") << "plane 15 private use";
}

}  // namespace
}  // namespace lplex
