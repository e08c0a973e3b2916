// Splits --where text into tokens (internal to src/where).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lplex::where {

enum class TokenKind {
  kEnd,     // after the last token
  kIdent,   // [A-Za-z_][A-Za-z0-9_]*, not a keyword
  kInt,     // optional '-' then digits
  kFloat,   // optional '-' then digits and dots, with at least one dot
  kString,  // "..." or '...'
  kLParen,
  kRParen,
  kDot,
  kEq,   // ==
  kNe,   // !=
  kLt,   // <
  kGt,   // >
  kLe,   // <=
  kGe,   // >=
  kAnd,  // && or the keyword and
  kOr,   // || or the keyword or
  kNot,  // ! or the keyword not
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  // The token as written; for kString the contents with escapes removed;
  // empty for kEnd.
  std::string text;
  size_t pos = 0;  // byte offset of the token's first character
};

// Tokenizes `input`; the last token is always kEnd at input.size().
// Rules: ASCII whitespace separates tokens; the keywords and/or/not are
// lowercase only ("AND" is an identifier); a number is an optional '-'
// followed by digits and dots (a lone "-" is an integer token the parser
// rejects); inside a string a backslash takes the next byte literally.
// Errors: "unexpected character 'X' at position N" for a byte that starts
// no token (a lone '=', '&' or '|' gets a hint), and "unterminated string
// starting at position N".
Result<std::vector<Token>> Lex(std::string_view input);

}  // namespace lplex::where
