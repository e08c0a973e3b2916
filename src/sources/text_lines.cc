#include "sources/text_lines.h"

#include <array>

#include <fmt/format.h>

namespace lplex::sources::text {
namespace {

constexpr uint32_t kMaxExtendedId = 0x1FFFFFFF;
constexpr uint32_t kMaxStandardId = 0x7FF;

constexpr std::array<int8_t, 256> MakeHexTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<int8_t>(c - 'A' + 10);
  return t;
}
constexpr std::array<int8_t, 256> kHex = MakeHexTable();

inline int HexValue(char c) { return kHex[static_cast<unsigned char>(c)]; }
inline bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Splits a line into whitespace-separated tokens on demand.
class Tokens {
 public:
  explicit Tokens(std::string_view line) : p_(line.data()), end_(line.data() + line.size()) {}

  // The next token, or empty at the end of the line.
  std::string_view Next() {
    while (p_ < end_ && IsSpace(*p_)) ++p_;
    const char* start = p_;
    while (p_ < end_ && !IsSpace(*p_)) ++p_;
    return {start, static_cast<size_t>(p_ - start)};
  }

 private:
  const char* p_;
  const char* end_;
};

// Parses 1..8 hex digits as a CAN identifier. Identifiers written with more
// than three digits, or too large for 11 bits, are extended (candump prints
// standard ids as 3 digits and extended ones as 8).
bool ParseId(std::string_view digits, can::RawFrame* f, std::string* why) {
  if (digits.empty()) {
    *why = "missing CAN id";
    return false;
  }
  if (digits.size() > 8) {
    *why = fmt::format("CAN id {} has more than 8 hex digits", Quote(digits));
    return false;
  }
  uint32_t v = 0;
  for (char c : digits) {
    int h = HexValue(c);
    if (h < 0) {
      *why = fmt::format("CAN id {} is not hexadecimal", Quote(digits));
      return false;
    }
    v = v << 4 | static_cast<uint32_t>(h);
  }
  if (v > kMaxExtendedId) {
    *why = fmt::format("CAN id 0x{:08X} does not fit in 29 bits (at most 0x1FFFFFFF)", v);
    return false;
  }
  f->id = v;
  f->extended = digits.size() > 3 || v > kMaxStandardId;
  return true;
}

inline bool ParseByteToken(std::string_view tok, uint8_t* b) {
  if (tok.size() != 2) return false;
  int hi = HexValue(tok[0]);
  int lo = HexValue(tok[1]);
  if ((hi | lo) < 0) return false;
  *b = static_cast<uint8_t>(hi << 4 | lo);
  return true;
}

void ClearData(can::RawFrame* f, size_t from) {
  for (size_t i = from; i < f->data.size(); ++i) f->data[i] = 0;
}

// "(1502984866.421964)": seconds since the epoch with an optional fraction.
bool ParseParenTime(std::string_view tok, int64_t* us, std::string* why) {
  if (tok.size() < 3 || tok.front() != '(' || tok.back() != ')') {
    *why = fmt::format("expected a timestamp like '(1502984866.421964)', got {}", Quote(tok));
    return false;
  }
  std::string_view t = tok.substr(1, tok.size() - 2);
  size_t i = 0;
  int64_t secs = 0;
  while (i < t.size() && IsDigit(t[i])) {
    // 12 digits of seconds reach the year 33658; more cannot be a real time
    // and would overflow µs.
    if (i == 12) {
      *why = fmt::format("timestamp {} is out of range", Quote(tok));
      return false;
    }
    secs = secs * 10 + (t[i] - '0');
    ++i;
  }
  int64_t frac_us = 0;
  bool ok = i > 0;
  if (ok && i < t.size()) {
    ok = t[i] == '.' && i + 1 < t.size();
    int64_t scale = 100000;
    for (++i; ok && i < t.size(); ++i) {
      if (!IsDigit(t[i])) {
        ok = false;
        break;
      }
      frac_us += (t[i] - '0') * scale;  // digits past µs add 0
      scale /= 10;
    }
  }
  if (!ok) {
    *why = fmt::format("bad timestamp {} (want seconds.fraction)", Quote(tok));
    return false;
  }
  *us = secs * 1'000'000 + frac_us;
  return true;
}

// "[8] 00 FC ..." or "[2] remote request": the declared length and that many
// space-separated bytes; a trailing candump -a "'...'" column is ignored.
LineResult ParseLengthAndBytes(Tokens& toks, can::RawFrame* f, std::string* why) {
  std::string_view len = toks.Next();
  if (len.empty()) {
    *why = "missing length like '[8]' after the CAN id";
    return LineResult::kMalformed;
  }
  if (len.size() < 3 || len.size() > 4 || len.front() != '[' || len.back() != ']' || !IsDigit(len[1]) ||
      (len.size() == 4 && !IsDigit(len[2]))) {
    *why = fmt::format("expected a length like '[8]' after the CAN id, got {}", Quote(len));
    return LineResult::kMalformed;
  }
  int n = len[1] - '0';
  if (len.size() == 4) n = n * 10 + (len[2] - '0');
  if (n > 8) {
    *why = fmt::format("length {} is over 8 (CAN FD frames are not supported)", Quote(len));
    return LineResult::kMalformed;
  }
  std::string_view tok = toks.Next();
  if (tok == "remote") return LineResult::kRemote;
  int count = 0;
  for (; !tok.empty() && tok.front() != '\''; tok = toks.Next()) {
    if (count == n) {
      *why = fmt::format("too many data bytes: length says [{}] but {} follows", n, Quote(tok));
      return LineResult::kMalformed;
    }
    if (!ParseByteToken(tok, &f->data[static_cast<size_t>(count)])) {
      *why = fmt::format("bad data byte {} (want two hex digits)", Quote(tok));
      return LineResult::kMalformed;
    }
    ++count;
  }
  if (count < n) {
    *why = fmt::format("length says [{}] but only {} data bytes follow", n, count);
    return LineResult::kMalformed;
  }
  f->length = static_cast<uint8_t>(n);
  ClearData(f, static_cast<size_t>(n));
  return LineResult::kFrame;
}

LineResult ParseAngle(std::string_view line, can::RawFrame* f, std::string* why) {
  Tokens toks(line);
  std::string_view id = toks.Next();
  if (id.size() < 4 || id[0] != '<' || id[1] != '0' || (id[2] != 'x' && id[2] != 'X') || id.back() != '>') {
    *why = fmt::format("expected a CAN id like '<0x18eeff01>', got {}", Quote(id));
    return LineResult::kMalformed;
  }
  if (!ParseId(id.substr(3, id.size() - 4), f, why)) return LineResult::kMalformed;
  return ParseLengthAndBytes(toks, f, why);
}

// "iface ID [n] bytes" after an optional "(time)" already taken from toks.
LineResult ParseDefaultRest(Tokens& toks, can::RawFrame* f, std::string* why) {
  std::string_view iface = toks.Next();
  if (iface.empty()) {
    *why = "missing interface name and CAN id";
    return LineResult::kMalformed;
  }
  std::string_view id = toks.Next();
  if (id.empty()) {
    *why = "missing CAN id after the interface name";
    return LineResult::kMalformed;
  }
  if (!ParseId(id, f, why)) return LineResult::kMalformed;
  return ParseLengthAndBytes(toks, f, why);
}

LineResult ParseLog(std::string_view line, can::RawFrame* f, std::string* why) {
  Tokens toks(line);
  if (!ParseParenTime(toks.Next(), &f->timestamp_us, why)) return LineResult::kMalformed;
  std::string_view iface = toks.Next();
  std::string_view frame = toks.Next();
  if (frame.empty()) {
    *why = iface.empty() ? "missing interface name and frame after the timestamp"
                         : "missing frame like '09F112CC#FF725A' after the interface name";
    return LineResult::kMalformed;
  }
  size_t hash = frame.find('#');
  if (hash == std::string_view::npos) {
    *why = fmt::format("missing '#' between CAN id and data in {}", Quote(frame));
    return LineResult::kMalformed;
  }
  if (!ParseId(frame.substr(0, hash), f, why)) return LineResult::kMalformed;
  std::string_view data = frame.substr(hash + 1);
  LineResult result = LineResult::kFrame;
  if (!data.empty() && data[0] == '#') {
    *why = fmt::format("CAN FD frame {} is not supported", Quote(frame));
    return LineResult::kMalformed;
  }
  if (!data.empty() && (data[0] == 'R' || data[0] == 'r')) {
    // "123#R" or "123#R3": a remote request, with an optional length digit.
    if (data.size() > 2 || (data.size() == 2 && !IsDigit(data[1]))) {
      *why = fmt::format("bad remote request {}", Quote(frame));
      return LineResult::kMalformed;
    }
    result = LineResult::kRemote;
  } else {
    if (data.size() > 16) {
      *why = fmt::format("too many data bytes in {}: {} hex digits, at most 16", Quote(frame), data.size());
      return LineResult::kMalformed;
    }
    if (data.size() % 2 != 0) {
      *why = fmt::format("odd number of hex digits in data {}", Quote(data));
      return LineResult::kMalformed;
    }
    size_t n = data.size() / 2;
    for (size_t i = 0; i < n; ++i) {
      int hi = HexValue(data[2 * i]);
      int lo = HexValue(data[2 * i + 1]);
      if ((hi | lo) < 0) {
        *why = fmt::format("bad hex digit in data {}", Quote(data));
        return LineResult::kMalformed;
      }
      f->data[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    f->length = static_cast<uint8_t>(n);
    ClearData(f, n);
  }
  // Newer candump versions append the direction (" R" or " T") with -x.
  std::string_view extra = toks.Next();
  if (extra == "R" || extra == "T") extra = toks.Next();
  if (!extra.empty()) {
    *why = fmt::format("unexpected text {} after the frame", Quote(extra));
    return LineResult::kMalformed;
  }
  return result;
}

LineResult ParseTimestampedDefault(std::string_view line, can::RawFrame* f, std::string* why) {
  Tokens toks(line);
  if (!ParseParenTime(toks.Next(), &f->timestamp_us, why)) return LineResult::kMalformed;
  return ParseDefaultRest(toks, f, why);
}

LineResult ParseDefault(std::string_view line, can::RawFrame* f, std::string* why) {
  Tokens toks(line);
  return ParseDefaultRest(toks, f, why);
}

// Two decimal digits at s[0..1], at most `max`.
bool TwoDigits(std::string_view s, int max, int* v) {
  if (s.size() != 2 || !IsDigit(s[0]) || !IsDigit(s[1])) return false;
  *v = (s[0] - '0') * 10 + (s[1] - '0');
  return *v <= max;
}

// "hh:mm:ss.ddd" (1..6 fraction digits) to µs since midnight.
bool ParseTimeOfDay(std::string_view tok, int64_t* us) {
  int h = 0, m = 0, s = 0;
  if (tok.size() < 10 || tok[2] != ':' || tok[5] != ':' || tok[8] != '.' || tok.size() > 15) return false;
  if (!TwoDigits(tok.substr(0, 2), 23, &h) || !TwoDigits(tok.substr(3, 2), 59, &m) ||
      !TwoDigits(tok.substr(6, 2), 59, &s)) {
    return false;
  }
  int64_t frac = 0;
  int64_t scale = 100000;
  for (char c : tok.substr(9)) {
    if (!IsDigit(c)) return false;
    frac += (c - '0') * scale;
    scale /= 10;
  }
  *us = ((h * 60 + m) * 60 + s) * int64_t{1'000'000} + frac;
  return true;
}

}  // namespace

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out = "'";
  for (char c : s.substr(0, kMax)) out += (c >= ' ' && c <= '~') ? c : '?';
  if (s.size() > kMax) out += "...";
  out += '\'';
  return out;
}

std::string_view CandumpStyleName(CandumpStyle style) {
  switch (style) {
    case CandumpStyle::kUnknown: return "candump";
    case CandumpStyle::kAngle: return "candump angle-bracket";
    case CandumpStyle::kDefault: return "candump default";
    case CandumpStyle::kLog: return "candump -l";
    case CandumpStyle::kTimestampedDefault: return "candump -ta";
  }
  return "candump";
}

bool IsIgnorableLine(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && IsSpace(line[i])) ++i;
  if (i == line.size()) return true;
  if (line[i] == '#') return true;
  return line.substr(i).starts_with("interface = ");
}

LineResult ParseCandumpLine(CandumpStyle style, std::string_view line, can::RawFrame* frame, std::string* why) {
  switch (style) {
    case CandumpStyle::kAngle: return ParseAngle(line, frame, why);
    case CandumpStyle::kDefault: return ParseDefault(line, frame, why);
    case CandumpStyle::kLog: return ParseLog(line, frame, why);
    case CandumpStyle::kTimestampedDefault: return ParseTimestampedDefault(line, frame, why);
    case CandumpStyle::kUnknown: break;
  }
  *why = "no candump style chosen";
  return LineResult::kMalformed;
}

CandumpStyle ClassifyCandumpLine(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && IsSpace(line[i])) ++i;
  if (i == line.size()) return CandumpStyle::kUnknown;
  can::RawFrame f;
  std::string why;
  auto parses = [&](CandumpStyle s) { return ParseCandumpLine(s, line, &f, &why) != LineResult::kMalformed; };
  switch (line[i]) {
    case '<': return parses(CandumpStyle::kAngle) ? CandumpStyle::kAngle : CandumpStyle::kUnknown;
    case '(':
      if (parses(CandumpStyle::kLog)) return CandumpStyle::kLog;
      return parses(CandumpStyle::kTimestampedDefault) ? CandumpStyle::kTimestampedDefault : CandumpStyle::kUnknown;
    default: return parses(CandumpStyle::kDefault) ? CandumpStyle::kDefault : CandumpStyle::kUnknown;
  }
}

LineResult ParseYdRawLine(std::string_view line, can::RawFrame* f, std::string* why) {
  Tokens toks(line);
  std::string_view time = toks.Next();
  if (!ParseTimeOfDay(time, &f->timestamp_us)) {
    *why = fmt::format("expected a time of day like '00:29:58.617', got {}", Quote(time));
    return LineResult::kMalformed;
  }
  std::string_view dir = toks.Next();
  if (dir != "R" && dir != "T") {
    *why = fmt::format("expected direction 'R' or 'T' after the time, got {}", Quote(dir));
    return LineResult::kMalformed;
  }
  if (!ParseId(toks.Next(), f, why)) return LineResult::kMalformed;
  size_t n = 0;
  for (std::string_view tok = toks.Next(); !tok.empty(); tok = toks.Next()) {
    if (n == f->data.size()) {
      *why = fmt::format("too many data bytes: {} after 8", Quote(tok));
      return LineResult::kMalformed;
    }
    if (!ParseByteToken(tok, &f->data[n])) {
      *why = fmt::format("bad data byte {} (want two hex digits)", Quote(tok));
      return LineResult::kMalformed;
    }
    ++n;
  }
  f->length = static_cast<uint8_t>(n);
  ClearData(f, n);
  return LineResult::kFrame;
}

}  // namespace lplex::sources::text
