#include "where/ast.h"

#include <charconv>
#include <cstdlib>

namespace lplex::where {
namespace {

// Shortest round-trip digits of `v` in the given notation.
std::string ShortestDouble(double v, std::chars_format format) {
  char buf[400];  // fixed notation of DBL_MAX is 309 digits; 5e-324 is 327 chars
  auto r = std::to_chars(buf, buf + sizeof(buf), v, format);
  return std::string(buf, r.ptr);
}

}  // namespace

std::string_view CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return "==";
    case CompareOp::kNe: return "!=";
    case CompareOp::kLt: return "<";
    case CompareOp::kGt: return ">";
    case CompareOp::kLe: return "<=";
    case CompareOp::kGe: return ">=";
  }
  return "?";
}

HeaderField HeaderFieldNamed(std::string_view name) {
  if (name == "pgn") return HeaderField::kPgn;
  if (name == "src") return HeaderField::kSrc;
  if (name == "dst") return HeaderField::kDst;
  if (name == "prio") return HeaderField::kPrio;
  return HeaderField::kNone;
}

std::string LiteralAsString(const Literal& lit) {
  switch (lit.kind) {
    case Literal::Kind::kString: return lit.text;
    case Literal::Kind::kInt: return std::to_string(lit.int_value);
    case Literal::Kind::kFloat: {
      // Go's 'g' with shortest precision switches to exponent notation when
      // the decimal exponent is below -4 or at least 6 (not at 21 as JSON).
      std::string sci = ShortestDouble(lit.float_value, std::chars_format::scientific);
      int exp = std::atoi(sci.c_str() + sci.find('e') + 1);
      if (exp < -4 || exp >= 6) return sci;
      return ShortestDouble(lit.float_value, std::chars_format::fixed);
    }
  }
  return "";
}

std::string FormatLiteral(const Literal& lit) {
  switch (lit.kind) {
    case Literal::Kind::kInt: return std::to_string(lit.int_value);
    case Literal::Kind::kFloat: {
      // The lexer reads only digits and dots, so no exponent; the '.' keeps
      // a float a float when read back (an integer might not fit int64).
      std::string s = ShortestDouble(lit.float_value, std::chars_format::fixed);
      if (s.find('.') == std::string::npos) s += ".0";
      return s;
    }
    case Literal::Kind::kString: {
      std::string s = "\"";
      for (char c : lit.text) {
        if (c == '"' || c == '\\') s.push_back('\\');
        s.push_back(c);
      }
      s.push_back('"');
      return s;
    }
  }
  return "";
}

}  // namespace lplex::where
