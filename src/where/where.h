// The --where display filter: a small boolean expression language over a
// frame's header (pgn, src, dst, prio) and its decoded fields, e.g.
//   pgn == 130306 && wind_speed > 5
//   register.name == "State of charge"
// docs/where.md is the user's guide; spec/boat.md §4.2 is the reference
// behaviour. The filter knows nothing about PGN definitions: the caller
// adapts a decoded message to FieldSource, so this module needs only core.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "where/ast.h"

namespace lplex::where {

// A decoded top-level field as the filter sees it. `text` is only meaningful
// for kString and must stay valid for the duration of the Matches call.
struct FieldScalar {
  enum class Kind { kNumber, kString } kind = Kind::kNumber;
  double number = 0;
  std::string_view text;
};

// What the decoder offers the filter; implemented by the caller.
class FieldSource {
 public:
  virtual ~FieldSource() = default;
  // Top-level field `name` (its JSON key): a number (enum and lookup fields
  // give their RAW number), a string, or nullopt when the field is absent,
  // null ("not available"), or not comparable (arrays, objects).
  virtual std::optional<FieldScalar> Field(std::string_view name) const = 0;
  // The label of lookup/enum field `name` (what `name.anything` compares),
  // or nullopt when the field is absent or its value has no label.
  virtual std::optional<std::string_view> LookupLabel(std::string_view name) const = 0;
};

// The frame an expression is evaluated against.
struct Subject {
  uint32_t pgn = 0;
  uint8_t src = 0;
  uint8_t dst = 0;
  uint8_t prio = 0;
  const FieldSource* fields = nullptr;  // nullptr = not decoded
};

// A parsed --where expression. Immutable once parsed; Matches may be called
// from several threads at once. Cheap to move; copies duplicate the tree.
class Expression {
 public:
  // Longest expression text Parse accepts, in bytes.
  static constexpr size_t kMaxLength = 64 * 1024;
  // Deepest nesting of !, && and || inside one another Parse accepts. A
  // chain such as a || b || c is one level however long it is (and so is
  // its canonical form ((a || b) || c)); parentheses alone add none. Parse
  // itself never recurses; this bounds the recursion of Matches/ToString.
  static constexpr int kMaxDepth = 256;

  // Parses `text`. Any bytes are safe input. On failure returns
  // InvalidArgument whose message names the offending token and its byte
  // position (0-based) and what was expected, e.g.
  //   expected comparison operator (==, !=, <, >, <=, >=) at position 4, got "1"
  //   unexpected character '=' at position 4 (use == to compare)
  //   unterminated string starting at position 7
  static Result<Expression> Parse(std::string_view text);

  // True when the frame satisfies the expression. Rules (spec §4.2):
  //  - pgn/src/dst/prio compare numerically; a string literal never
  //    matches them, and a `.sub` suffix on them is ignored;
  //  - `name.sub` compares the LookupLabel of `name` as a string (a numeric
  //    literal is turned into its string form first);
  //  - any other name compares Field(name): numbers as doubles, exactly;
  //    strings byte-wise lexicographically; a number against a string
  //    literal never matches;
  //  - a missing field, a missing label, or no decoded fields at all make
  //    the comparison false, even for `!=`.
  bool Matches(const Subject& s) const;

  // True when some comparison names a field other than pgn, src, dst, prio,
  // i.e. when Matches can only succeed with decoded fields.
  bool NeedsDecode() const { return needs_decode_; }

  // The expression in canonical form: every && and || parenthesized as
  // parsed (left-associative), `!` before its operand, strings in double
  // quotes with '"' and '\' escaped, floats always with a '.' and never in
  // exponent form. Parsing the result gives an expression with the same
  // ToString, as long as it is not longer than kMaxLength (the canonical
  // form adds spaces and parentheses, so it can outgrow the text parsed).
  std::string ToString() const;

 private:
  Expression(std::vector<Node> nodes, int root);

  bool Eval(int node, const Subject& s) const;
  void Format(int node, std::string* out) const;

  std::vector<Node> nodes_;  // nodes_[root_] is the whole expression
  int root_ = 0;
  bool needs_decode_ = false;
};

}  // namespace lplex::where
