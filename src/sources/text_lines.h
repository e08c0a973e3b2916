// Parsers for single lines of the text capture formats (candump styles and
// Yacht Devices RAW). Internal to src/sources; pure functions, no allocation
// unless a line is malformed (then *why gets the reason).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "can/frame.h"

namespace lplex::sources::text {

enum class LineResult {
  kFrame,      // *frame holds a data frame
  kRemote,     // a remote-transmission request: valid, but carries no data
  kMalformed,  // *why says what is wrong
};

enum class CandumpStyle {
  kUnknown,
  kAngle,               // <0x18eeff01> [8] 05 a0 be 1c 00 a0 a0 c0
  kDefault,             //   can0  09F8027F   [8]  00 FC 00 FF FF FF FF FF
  kLog,                 // (1502984866.421964) slcan0 09F112CC#FF725AFF7FFF7FFD
  kTimestampedDefault,  // (1502984866.421964)  can0  09F8027F   [8]  00 FC ...  (candump -ta)
};

// A piece of input quoted for an error message: cut to 40 characters, and
// bytes that are not printable ASCII shown as '?' so binary garbage cannot
// mangle a terminal or a log.
std::string Quote(std::string_view s);

std::string_view CandumpStyleName(CandumpStyle style);
inline bool CandumpStyleHasTimestamps(CandumpStyle s) {
  return s == CandumpStyle::kLog || s == CandumpStyle::kTimestampedDefault;
}

// True for lines that carry no frame and are not an error: blank lines,
// '#' comments and the "interface = can0, family = 29, ..." banner old candump
// versions print first.
bool IsIgnorableLine(std::string_view line);

// Parses one line (without its line terminator; a trailing '\r' is tolerated)
// written in `style` (not kUnknown). Sets id, extended, length, data; sets
// timestamp_us only for timestamped styles.
LineResult ParseCandumpLine(CandumpStyle style, std::string_view line, can::RawFrame* frame, std::string* why);

// The candump style in which `line` parses, or kUnknown.
CandumpStyle ClassifyCandumpLine(std::string_view line);

// Parses "hh:mm:ss.ddd R|T ID [b0 .. b7]". frame->timestamp_us receives the
// time of day in µs (0 .. 86'399'999'999).
LineResult ParseYdRawLine(std::string_view line, can::RawFrame* frame, std::string* why);

}  // namespace lplex::sources::text
