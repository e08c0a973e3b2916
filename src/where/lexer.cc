#include "where/lexer.h"

#include <fmt/format.h>

namespace lplex::where {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentPart(char c) { return IsIdentStart(c) || IsDigit(c); }

// A byte as Go's %q prints a character: '@', or '\xNN' when not printable.
std::string QuoteByte(char c) {
  auto u = static_cast<unsigned char>(c);
  if (c == '\'' || c == '\\') return fmt::format("'\\{}'", c);
  if (u >= 0x20 && u < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("'\\x{:02x}'", u);
}

// Why a byte is not a token, with a hint for the likely typo.
Status UnexpectedCharacter(char c, size_t pos) {
  std::string_view hint;
  if (c == '=') hint = " (use == to compare)";
  if (c == '&') hint = " (use && or and)";
  if (c == '|') hint = " (use || or or)";
  return Status::InvalidArgument(fmt::format("unexpected character {} at position {}{}", QuoteByte(c), pos, hint));
}

}  // namespace

Result<std::vector<Token>> Lex(std::string_view in) {
  std::vector<Token> tokens;
  size_t i = 0;
  // Emits a token of `len` bytes starting at i.
  auto emit = [&](TokenKind kind, size_t len) {
    tokens.push_back(Token{kind, std::string(in.substr(i, len)), i});
    i += len;
  };
  auto next_is = [&](char c) { return i + 1 < in.size() && in[i + 1] == c; };

  while (true) {
    while (i < in.size() && IsSpace(in[i])) i++;
    if (i >= in.size()) break;
    const char c = in[i];
    if (c == '(') {
      emit(TokenKind::kLParen, 1);
    } else if (c == ')') {
      emit(TokenKind::kRParen, 1);
    } else if (c == '.') {
      emit(TokenKind::kDot, 1);
    } else if (c == '!') {
      next_is('=') ? emit(TokenKind::kNe, 2) : emit(TokenKind::kNot, 1);
    } else if (c == '=' && next_is('=')) {
      emit(TokenKind::kEq, 2);
    } else if (c == '<') {
      next_is('=') ? emit(TokenKind::kLe, 2) : emit(TokenKind::kLt, 1);
    } else if (c == '>') {
      next_is('=') ? emit(TokenKind::kGe, 2) : emit(TokenKind::kGt, 1);
    } else if (c == '&' && next_is('&')) {
      emit(TokenKind::kAnd, 2);
    } else if (c == '|' && next_is('|')) {
      emit(TokenKind::kOr, 2);
    } else if (c == '"' || c == '\'') {
      const size_t start = i++;
      std::string text;
      bool closed = false;
      while (i < in.size()) {
        if (in[i] == '\\' && i + 1 < in.size()) {
          text.push_back(in[i + 1]);
          i += 2;
        } else if (in[i] == c) {
          i++;
          closed = true;
          break;
        } else {
          text.push_back(in[i++]);
        }
      }
      if (!closed) {
        return Status::InvalidArgument(fmt::format("unterminated string starting at position {}", start));
      }
      tokens.push_back(Token{TokenKind::kString, std::move(text), start});
    } else if (c == '-' || IsDigit(c)) {
      size_t len = 1;
      bool dot = false;
      while (i + len < in.size() && (IsDigit(in[i + len]) || in[i + len] == '.')) {
        dot |= in[i + len] == '.';
        len++;
      }
      emit(dot ? TokenKind::kFloat : TokenKind::kInt, len);
    } else if (IsIdentStart(c)) {
      size_t len = 1;
      while (i + len < in.size() && IsIdentPart(in[i + len])) len++;
      std::string_view word = in.substr(i, len);
      TokenKind kind = TokenKind::kIdent;
      if (word == "and") kind = TokenKind::kAnd;
      if (word == "or") kind = TokenKind::kOr;
      if (word == "not") kind = TokenKind::kNot;
      emit(kind, len);
    } else {
      return UnexpectedCharacter(c, i);
    }
  }
  tokens.push_back(Token{TokenKind::kEnd, "", in.size()});
  return tokens;
}

}  // namespace lplex::where
