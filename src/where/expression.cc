// Evaluating and printing a parsed expression.
#include <utility>

#include "where/where.h"

namespace lplex::where {
namespace {

template <typename T>
bool Compare(const T& a, CompareOp op, const T& b) {
  switch (op) {
    case CompareOp::kEq: return a == b;
    case CompareOp::kNe: return a != b;
    case CompareOp::kLt: return a < b;
    case CompareOp::kGt: return a > b;
    case CompareOp::kLe: return a <= b;
    case CompareOp::kGe: return a >= b;
  }
  return false;
}

// A number against the literal; a string literal never matches a number.
bool CompareNumber(double value, const Comparison& c) {
  if (c.value.kind == Literal::Kind::kString) return false;
  return Compare(value, c.op, c.value.AsNumber());
}

// A string against the literal, a numeric literal in its string form.
bool CompareString(std::string_view value, const Comparison& c) {
  if (c.value.kind == Literal::Kind::kString) return Compare(value, c.op, std::string_view(c.value.text));
  std::string literal = LiteralAsString(c.value);
  return Compare(value, c.op, std::string_view(literal));
}

double HeaderValue(HeaderField field, const Subject& s) {
  switch (field) {
    case HeaderField::kPgn: return s.pgn;
    case HeaderField::kSrc: return s.src;
    case HeaderField::kDst: return s.dst;
    case HeaderField::kPrio: return s.prio;
    case HeaderField::kNone: break;
  }
  return 0;
}

bool EvalComparison(const Comparison& c, const Subject& s) {
  // Header fields ignore a `.sub` suffix, as the reference does.
  if (c.header != HeaderField::kNone) return CompareNumber(HeaderValue(c.header, s), c);
  if (s.fields == nullptr) return false;
  if (c.has_sub) {
    std::optional<std::string_view> label = s.fields->LookupLabel(c.field);
    return label.has_value() && CompareString(*label, c);
  }
  std::optional<FieldScalar> value = s.fields->Field(c.field);
  if (!value.has_value()) return false;
  if (value->kind == FieldScalar::Kind::kNumber) return CompareNumber(value->number, c);
  return CompareString(value->text, c);
}

}  // namespace

Expression::Expression(std::vector<Node> nodes, int root) : nodes_(std::move(nodes)), root_(root) {
  for (const Node& n : nodes_) {
    if (n.kind == Node::Kind::kCompare && n.compare.header == HeaderField::kNone) needs_decode_ = true;
  }
}

bool Expression::Matches(const Subject& s) const { return Eval(root_, s); }

bool Expression::Eval(int index, const Subject& s) const {
  const Node& n = nodes_[index];
  switch (n.kind) {
    case Node::Kind::kOr:
      for (int operand : n.operands) {
        if (Eval(operand, s)) return true;
      }
      return false;
    case Node::Kind::kAnd:
      for (int operand : n.operands) {
        if (!Eval(operand, s)) return false;
      }
      return true;
    case Node::Kind::kNot:
      return !Eval(n.operands[0], s);
    case Node::Kind::kCompare:
      return EvalComparison(n.compare, s);
  }
  return false;
}

std::string Expression::ToString() const {
  std::string out;
  Format(root_, &out);
  return out;
}

void Expression::Format(int index, std::string* out) const {
  const Node& n = nodes_[index];
  switch (n.kind) {
    case Node::Kind::kOr:
    case Node::Kind::kAnd: {
      // "a op b op c" prints as "((a op b) op c)": one '(' per operator up
      // front, then each operand after the first closes one.
      const char* op = n.kind == Node::Kind::kOr ? " || " : " && ";
      out->append(n.operands.size() - 1, '(');
      Format(n.operands[0], out);
      for (size_t i = 1; i < n.operands.size(); i++) {
        out->append(op);
        Format(n.operands[i], out);
        out->push_back(')');
      }
      return;
    }
    case Node::Kind::kNot:
      out->push_back('!');
      Format(n.operands[0], out);
      return;
    case Node::Kind::kCompare: {
      const Comparison& c = n.compare;
      out->append(c.field);
      if (c.has_sub) out->append(".").append(c.sub);
      out->append(" ").append(CompareOpText(c.op)).append(" ").append(FormatLiteral(c.value));
      return;
    }
  }
}

}  // namespace lplex::where
