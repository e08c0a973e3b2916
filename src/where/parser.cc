// Parses the grammar of spec/boat.md §4.2:
//   expr       := or
//   or         := and { ("||" | "or") and }
//   and        := unary { ("&&" | "and") unary }
//   unary      := ("!" | "not") unary | primary
//   primary    := "(" expr ")" | comparison
//   comparison := IDENT [ "." IDENT ] OP value
// with an explicit operator stack (shunting-yard) rather than recursion,
// so no nesting of parentheses can exhaust the C stack; the tree it builds
// is limited to Expression::kMaxDepth levels instead, which bounds the
// recursion of Matches and ToString. Errors are the ones a recursive
// descent parser gives, at the same positions.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <utility>

#include <fmt/format.h>

#include "core/strings.h"
#include "where/lexer.h"
#include "where/where.h"

namespace lplex::where {
namespace {

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  // Parses the whole token list; on success TakeNodes() holds the tree and
  // the returned index is its root.
  Result<int> ParseAll() {
    bool want_operand = true;  // false right after a comparison or a ')'
    while (true) {
      const Token& tok = Peek();
      if (want_operand) {
        if (tok.kind == TokenKind::kLParen || tok.kind == TokenKind::kNot) {
          ops_.push_back(Pending{tok.kind, tok.pos});
          open_parens_ += tok.kind == TokenKind::kLParen;
          Advance();
          continue;
        }
        LPLEX_ASSIGN_OR_RETURN(int comparison, ParseComparison());
        operands_.push_back(comparison);
        LPLEX_RETURN_IF_ERROR(ApplyNots());
        want_operand = false;
        continue;
      }
      if (tok.kind == TokenKind::kAnd || tok.kind == TokenKind::kOr) {
        // Left associative: apply what binds at least as tightly first.
        while (!ops_.empty() && Precedence(ops_.back().kind) >= Precedence(tok.kind)) {
          LPLEX_RETURN_IF_ERROR(ApplyTop());
        }
        ops_.push_back(Pending{tok.kind, tok.pos});
        Advance();
        want_operand = true;
        continue;
      }
      if (tok.kind == TokenKind::kRParen && open_parens_ > 0) {
        while (ops_.back().kind != TokenKind::kLParen) LPLEX_RETURN_IF_ERROR(ApplyTop());
        ops_.pop_back();
        open_parens_--;
        Advance();
        LPLEX_RETURN_IF_ERROR(ApplyNots());
        continue;
      }
      if (open_parens_ > 0) {
        return Error(fmt::format("expected ')' at position {}, got {}", tok.pos, QuoteLikeGo(tok.text)));
      }
      if (tok.kind != TokenKind::kEnd) {
        return Error(fmt::format("unexpected token {} at position {} (expected &&, ||, or the end of the expression)",
                                 QuoteLikeGo(tok.text), tok.pos));
      }
      while (!ops_.empty()) LPLEX_RETURN_IF_ERROR(ApplyTop());
      return operands_.back();
    }
  }

  std::vector<Node> TakeNodes() { return std::move(nodes_); }

 private:
  // An operator (or '(') waiting for its operands.
  struct Pending {
    TokenKind kind;  // kLParen, kNot, kAnd or kOr
    size_t pos;
  };

  static int Precedence(TokenKind kind) {
    switch (kind) {
      case TokenKind::kNot: return 3;
      case TokenKind::kAnd: return 2;
      case TokenKind::kOr: return 1;
      default: return 0;  // '(' is only removed by its ')'
    }
  }

  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Advance() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  static Status Error(std::string msg) { return Status::InvalidArgument(std::move(msg)); }

  int Add(Node node, int depth) {
    nodes_.push_back(std::move(node));
    depth_.push_back(depth);
    return static_cast<int>(nodes_.size() - 1);
  }

  Status CheckDepth(int depth, size_t pos) const {
    if (depth <= Expression::kMaxDepth) return Status::Ok();
    return Error(fmt::format("expression nested too deeply at position {}: more than {} levels of !, && and || "
                             "inside one another",
                             pos, Expression::kMaxDepth));
  }

  // A complete operand just arrived: the '!'s right before it apply now.
  Status ApplyNots() {
    while (!ops_.empty() && ops_.back().kind == TokenKind::kNot) LPLEX_RETURN_IF_ERROR(ApplyTop());
    return Status::Ok();
  }

  // Pops the top operator and combines its operands into one node. A chain
  // "a || b || c" (or "(a || b) || c") becomes one node with three operands:
  // the same meaning and the same ToString, and no depth per operator.
  Status ApplyTop() {
    const Pending op = ops_.back();
    ops_.pop_back();
    if (op.kind == TokenKind::kNot) {
      int operand = operands_.back();
      LPLEX_RETURN_IF_ERROR(CheckDepth(depth_[operand] + 1, op.pos));
      Node node;
      node.kind = Node::Kind::kNot;
      node.operands = {operand};
      operands_.back() = Add(std::move(node), depth_[operand] + 1);
      return Status::Ok();
    }
    const Node::Kind kind = op.kind == TokenKind::kAnd ? Node::Kind::kAnd : Node::Kind::kOr;
    int right = operands_.back();
    operands_.pop_back();
    int left = operands_.back();
    if (nodes_[left].kind == kind) {
      LPLEX_RETURN_IF_ERROR(CheckDepth(depth_[right] + 1, op.pos));
      nodes_[left].operands.push_back(right);
      depth_[left] = std::max(depth_[left], depth_[right] + 1);
      return Status::Ok();
    }
    int depth = std::max(depth_[left], depth_[right]) + 1;
    LPLEX_RETURN_IF_ERROR(CheckDepth(depth, op.pos));
    Node node;
    node.kind = kind;
    node.operands = {left, right};
    operands_.back() = Add(std::move(node), depth);
    return Status::Ok();
  }

  Result<int> ParseComparison() {
    Node node;
    Comparison& c = node.compare;
    if (Peek().kind != TokenKind::kIdent) {
      return Error(fmt::format("expected field name at position {}, got {}", Peek().pos, QuoteLikeGo(Peek().text)));
    }
    c.field = Advance().text;
    c.header = HeaderFieldNamed(c.field);
    if (Peek().kind == TokenKind::kDot) {
      Advance();
      if (Peek().kind != TokenKind::kIdent) {
        return Error(fmt::format("expected sub-field name after '.' at position {}, got {}", Peek().pos,
                                 QuoteLikeGo(Peek().text)));
      }
      c.sub = Advance().text;
      c.has_sub = true;
    }
    LPLEX_ASSIGN_OR_RETURN(c.op, ParseOp());
    LPLEX_ASSIGN_OR_RETURN(c.value, ParseValue());
    return Add(std::move(node), 0);
  }

  Result<CompareOp> ParseOp() {
    CompareOp op;
    switch (Peek().kind) {
      case TokenKind::kEq: op = CompareOp::kEq; break;
      case TokenKind::kNe: op = CompareOp::kNe; break;
      case TokenKind::kLt: op = CompareOp::kLt; break;
      case TokenKind::kGt: op = CompareOp::kGt; break;
      case TokenKind::kLe: op = CompareOp::kLe; break;
      case TokenKind::kGe: op = CompareOp::kGe; break;
      default:
        return Error(fmt::format("expected comparison operator (==, !=, <, >, <=, >=) at position {}, got {}",
                                 Peek().pos, QuoteLikeGo(Peek().text)));
    }
    Advance();
    return op;
  }

  Result<Literal> ParseValue() {
    const Token& tok = Peek();
    Literal lit;
    const char* first = tok.text.data();
    const char* last = first + tok.text.size();
    switch (tok.kind) {
      case TokenKind::kString:
        lit.kind = Literal::Kind::kString;
        lit.text = tok.text;
        break;
      case TokenKind::kInt: {
        lit.kind = Literal::Kind::kInt;
        auto [end, ec] = std::from_chars(first, last, lit.int_value);
        if (ec == std::errc::result_out_of_range) {
          return Error(fmt::format("invalid integer {} at position {}: out of range (valid: {}..{})",
                                   QuoteLikeGo(tok.text), tok.pos, INT64_MIN, INT64_MAX));
        }
        if (ec != std::errc() || end != last) {
          return Error(fmt::format("invalid integer {} at position {}: a minus sign needs digits after it",
                                   QuoteLikeGo(tok.text), tok.pos));
        }
        break;
      }
      case TokenKind::kFloat: {
        lit.kind = Literal::Kind::kFloat;
        auto [end, ec] = std::from_chars(first, last, lit.float_value);
        if (ec == std::errc::result_out_of_range && end == last) {
          // Too small rounds to zero (as Go's ParseFloat); too large is an
          // error. Only a value with a zero integer part can be too small.
          bool tiny = tok.text.find_first_not_of("-0") == tok.text.find('.');
          if (!tiny) {
            return Error(fmt::format("invalid float {} at position {}: out of range (largest: about 1.8e308)",
                                     QuoteLikeGo(tok.text), tok.pos));
          }
          lit.float_value = tok.text[0] == '-' ? -0.0 : 0.0;
        } else if (ec != std::errc() || end != last) {
          return Error(fmt::format("invalid float {} at position {}: expected digits with one '.'",
                                   QuoteLikeGo(tok.text), tok.pos));
        }
        break;
      }
      default:
        return Error(fmt::format("expected value (integer, float, or string) at position {}, got {}", tok.pos,
                                 QuoteLikeGo(tok.text)));
    }
    Advance();
    return lit;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::vector<Node> nodes_;
  std::vector<int> depth_;      // depth_[i]: levels of !, &&, || in nodes_[i]'s subtree
  std::vector<Pending> ops_;    // waiting operators, innermost last
  std::vector<int> operands_;   // finished subtrees, as indices into nodes_
  int open_parens_ = 0;
};

}  // namespace

Result<Expression> Expression::Parse(std::string_view text) {
  if (text.size() > kMaxLength) {
    return Status::InvalidArgument(
        fmt::format("expression is {} bytes long (limit: {} bytes)", text.size(), kMaxLength));
  }
  LPLEX_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(text));
  if (tokens.size() == 1) {
    return Status::InvalidArgument("empty expression (expected a comparison such as pgn == 130306)");
  }
  Parser parser(std::move(tokens));
  LPLEX_ASSIGN_OR_RETURN(int root, parser.ParseAll());
  return Expression(parser.TakeNodes(), root);
}

}  // namespace lplex::where
