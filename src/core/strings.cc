#include "core/strings.h"

#include <algorithm>

#include "core/hex.h"

namespace lplex {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return AsciiToLower(x) == AsciiToLower(y); });
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiToLower(c);
  return out;
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i] (no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 when there is none.
size_t Utf8Length(std::string_view s, size_t i) {
  auto at = [&](size_t k) -> unsigned { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0x100u; };
  auto cont = [](unsigned b, unsigned lo = 0x80, unsigned hi = 0xBF) { return b >= lo && b <= hi; };
  const unsigned b0 = at(0);
  if (b0 < 0x80) return 1;
  if (b0 < 0xC2) return 0;
  if (b0 < 0xE0) return cont(at(1)) ? 2 : 0;
  if (b0 < 0xF0) {
    const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
    return cont(at(1), lo, hi) && cont(at(2)) ? 3 : 0;
  }
  if (b0 < 0xF5) {
    const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return cont(at(1), lo, hi) && cont(at(2)) && cont(at(3)) ? 4 : 0;
  }
  return 0;
}

// The code point of the valid n-byte UTF-8 sequence at s[i].
char32_t DecodeUtf8(std::string_view s, size_t i, size_t n) {
  const auto b = [&](size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k])); };
  switch (n) {
    case 1: return b(0);
    case 2: return (b(0) & 0x1F) << 6 | (b(1) & 0x3F);
    case 3: return (b(0) & 0x0F) << 12 | (b(1) & 0x3F) << 6 | (b(2) & 0x3F);
    default: return (b(0) & 0x07) << 18 | (b(1) & 0x3F) << 12 | (b(2) & 0x3F) << 6 | (b(3) & 0x3F);
  }
}

// Code points above U+007F that Go's strconv.Quote escapes (see QuoteLikeGo).
bool NonPrinting(char32_t c) {
  struct Range { char32_t lo, hi; };
  static constexpr Range kRanges[] = {
      {0x0080, 0x00A0}, {0x00AD, 0x00AD}, {0x0600, 0x0605}, {0x061C, 0x061C}, {0x06DD, 0x06DD},
      {0x070F, 0x070F}, {0x1680, 0x1680}, {0x180E, 0x180E}, {0x2000, 0x200F}, {0x2028, 0x202F},
      {0x205F, 0x2064}, {0x2066, 0x206F}, {0x3000, 0x3000}, {0xE000, 0xF8FF}, {0xFEFF, 0xFEFF},
      {0xFFF9, 0xFFFB}, {0x110BD, 0x110BD}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F},
      {0xF0000, 0x10FFFF},
  };
  if ((c & 0xFFFE) == 0xFFFE) return true;  // U+xFFFE, U+xFFFF
  for (const Range& r : kRanges) {
    if (c >= r.lo && c <= r.hi) return true;
  }
  return false;
}

void AppendHex(uint32_t v, int digits, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out->push_back(kDigits[(v >> shift) & 0xF]);
}

}  // namespace

std::string QuoteLikeGo(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    const char* letter = nullptr;
    switch (b) {
      case '"': letter = "\\\""; break;
      case '\\': letter = "\\\\"; break;
      case '\a': letter = "\\a"; break;
      case '\b': letter = "\\b"; break;
      case '\f': letter = "\\f"; break;
      case '\n': letter = "\\n"; break;
      case '\r': letter = "\\r"; break;
      case '\t': letter = "\\t"; break;
      case '\v': letter = "\\v"; break;
      default: break;
    }
    if (letter != nullptr) {
      out += letter;
      ++i;
      continue;
    }
    const size_t n = b < 0x20 || b == 0x7F ? 0 : Utf8Length(s, i);
    if (n == 0) {
      out += "\\x";
      AppendHex(b, 2, &out);
      ++i;
      continue;
    }
    const char32_t c = DecodeUtf8(s, i, n);
    if (c >= 0x80 && NonPrinting(c)) {
      out += c > 0xFFFF ? "\\U" : "\\u";
      AppendHex(static_cast<uint32_t>(c), c > 0xFFFF ? 8 : 4, &out);
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  out.push_back('"');
  return out;
}

std::string EscapeForDisplay(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    switch (b) {
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      default: break;
    }
    if (b < 0x20 || b == 0x7f) {
      out += "\\x";
      hex::AppendByte(b, &out);
      ++i;
      continue;
    }
    const size_t n = Utf8Length(s, i);
    if (n == 0) {
      out += "\\x";
      hex::AppendByte(b, &out);
      ++i;
    } else if (n == 2 && b == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {  // U+0080..U+009F
      out += "\\u00";
      hex::AppendByte(static_cast<unsigned char>(s[i + 1]), &out);
      i += 2;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace lplex
