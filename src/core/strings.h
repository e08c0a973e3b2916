// Small ASCII string helpers shared by the protocols (HTTP headers, Go-style
// JSON keys, ETags). ASCII only on purpose: every caller compares protocol
// tokens, and locale-dependent <cctype> would make "I" and "i" differ in a
// Turkish locale.
#pragma once

#include <string>
#include <string_view>

namespace lplex {

// 'A'..'Z' to 'a'..'z'; every other byte (UTF-8 included) unchanged.
constexpr char AsciiToLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// True when a and b have the same length and equal bytes after AsciiToLower:
// "ETag" equals "etag"; "é" equals only itself.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// True when `s` begins with `prefix`, compared as EqualsIgnoreCase does.
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);

// A copy of `s` with AsciiToLower applied to each byte.
std::string ToLower(std::string_view s);

// `s` made safe to print as one piece of one line (a file name in a result
// line, a log line): '\\' becomes "\\\\", '\n' "\\n", '\r' "\\r", '\t' "\\t",
// every other C0 control and DEL "\\xNN", a C1 control (U+0080..U+009F)
// "\\u00NN", and a byte that is not part of valid UTF-8 "\\xNN"; everything
// else, valid UTF-8 included, is kept. So a crafted name can neither start a
// new output line nor send a terminal escape, and two different names never
// print the same way (the escaping is reversible).
std::string EscapeForDisplay(std::string_view s);

}  // namespace lplex
