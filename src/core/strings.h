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

// `s` in double quotes, escaped as Go's strconv.Quote (fmt's %q) does, for
// error messages that echo what a client sent. CR LF "X: 1" prints as
// "\r\nX: 1" (quotes included), a NUL byte as "\x00". '"' and '\' get a
// backslash; BEL BS FF LF CR TAB VT become \a \b \f \n \r \t \v; other C0
// controls, DEL and bytes that are not valid UTF-8 become \xNN; non-printing
// code points \uNNNN or \UNNNNNNNN (lowercase hex, as Go). Non-printing here
// means C1 controls, spaces other than ' ' (U+00A0, U+2028, ...), format
// characters (U+00AD, U+200B..U+200F, U+202A..U+202E, U+2060..U+206F,
// U+FEFF, ...), private use and the noncharacters U+xFFFE/U+xFFFF. Unlike
// Go, unassigned code points are kept (no Unicode tables here). So the
// message never carries a raw line break, NUL or terminal escape.
std::string QuoteLikeGo(std::string_view s);

}  // namespace lplex
