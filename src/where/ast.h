// The parsed form of a --where expression (internal to src/where).
//
// Nodes live in one vector and refer to each other by index, so an
// Expression moves in O(1) and is destroyed without recursion.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lplex::where {

enum class CompareOp { kEq, kNe, kLt, kGt, kLe, kGe };

// "==", "!=", "<", ">", "<=", ">=".
std::string_view CompareOpText(CompareOp op);

// A literal on the right of a comparison.
struct Literal {
  enum class Kind { kInt, kFloat, kString } kind = Kind::kInt;
  int64_t int_value = 0;
  double float_value = 0;
  std::string text;  // kString: the unescaped contents

  // The value a numeric comparison uses (kInt and kFloat only).
  double AsNumber() const { return kind == Kind::kInt ? static_cast<double>(int_value) : float_value; }
};

// The string a numeric literal stands for when compared with a string (a
// lookup label or a string field), as the reference spells it: integers in
// decimal, floats as Go's strconv.FormatFloat(v, 'g', -1, 64) ("2.5",
// "1e+06", "1e-05").
std::string LiteralAsString(const Literal& lit);

// The literal as ToString prints it, chosen so that it lexes back to the
// same literal: integers in decimal; floats in the shortest fixed notation
// that reads back exactly, always with a '.' ("2.5", "5.0", "1000000.0");
// strings in double quotes with '"' and '\' backslash-escaped.
std::string FormatLiteral(const Literal& lit);

// The header fields: evaluated without decoding.
enum class HeaderField { kNone, kPgn, kSrc, kDst, kPrio };

// kNone unless `name` is exactly "pgn", "src", "dst" or "prio".
HeaderField HeaderFieldNamed(std::string_view name);

struct Comparison {
  std::string field;  // identifier before the (optional) dot
  std::string sub;    // identifier after the dot
  bool has_sub = false;
  HeaderField header = HeaderField::kNone;
  CompareOp op = CompareOp::kEq;
  Literal value;
};

struct Node {
  enum class Kind { kOr, kAnd, kNot, kCompare } kind = Kind::kCompare;
  // kOr, kAnd: two or more operands, combined left to right. A chain
  // "a || b || c", also written "(a || b) || c", is one node, so a long
  // chain costs no recursion; "a || (b || c)" keeps its inner node.
  // kNot: exactly one.
  std::vector<int> operands;
  Comparison compare;  // kCompare only
};

}  // namespace lplex::where
