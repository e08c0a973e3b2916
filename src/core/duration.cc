#include "core/duration.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace lplex {
namespace {

Status Bad(std::string_view text, std::string_view why) {
  return Status::InvalidArgument(fmt::format(
      "invalid ISO 8601 duration {}: {} (valid examples: PT30S, PT5M, PT1H30M, P1DT12H, P1W)", QuoteLikeGo(text), why));
}

// Every caller turns the result into int64 microseconds; a longer duration
// would wrap around there (P99999999999D came out as ~80 million days), so it
// is refused here, once, for all of them.
Status TooLarge(std::string_view text) {
  return Status::OutOfRange(fmt::format("ISO 8601 duration \"{}\" is too large (max {}, the most int64 "
                                        "microseconds hold)",
                                        text, FormatIso8601DurationParts(kMaxIso8601DurationSeconds, 0)));
}

}  // namespace

Result<std::chrono::seconds> ParseIso8601Duration(std::string_view text) {
  if (text.empty() || text[0] != 'P') return Bad(text, "must start with P");
  if (text.size() < 2) return Bad(text, "needs at least one component after P");
  bool in_time = false;
  bool any = false;
  int64_t total = 0;
  size_t i = 1;
  while (i < text.size()) {
    char c = text[i];
    if (c == 'T') {
      if (in_time) return Bad(text, "T appears twice");
      in_time = true;
      ++i;
      if (i == text.size()) return Bad(text, "T must be followed by hours, minutes or seconds");
      continue;
    }
    if (c < '0' || c > '9') {
      return Bad(text, fmt::format("expected a whole number at position {}, found '{}'", i, c));
    }
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (n > kMaxIso8601DurationSeconds) return TooLarge(text);  // any unit makes it larger still
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (i == text.size()) return Bad(text, fmt::format("number {} has no unit letter", n));
    char unit = text[i++];
    int64_t scale = 0;
    if (!in_time) {
      switch (unit) {
        case 'D': scale = 86400; break;
        case 'W': scale = 7 * 86400; break;
        case 'Y':
        case 'M':
          return Bad(text, fmt::format("unknown date unit: {} (months/years not supported; use D or W)", unit));
        case '.':
        case ',':
          return Bad(text, "fractions are not supported; use whole numbers");
        default:
          return Bad(text, fmt::format("unknown date unit: {} (valid before T: D, W)", unit));
      }
    } else {
      switch (unit) {
        case 'H': scale = 3600; break;
        case 'M': scale = 60; break;
        case 'S': scale = 1; break;
        case '.':
        case ',':
          return Bad(text, "fractions are not supported; use whole numbers");
        default:
          return Bad(text, fmt::format("unknown time unit: {} (valid after T: H, M, S)", unit));
      }
    }
    if (n > (kMaxIso8601DurationSeconds - total) / scale) return TooLarge(text);
    total += n * scale;
    any = true;
  }
  if (!any) return Bad(text, "needs at least one component such as 5M or 1D");
  return std::chrono::seconds(total);
}

std::string FormatIso8601DurationParts(int64_t seconds, int64_t millis) {
  int64_t s = seconds;
  if (s < 0 || (s == 0 && millis <= 0)) return "PT0S";
  if (millis < 0 || millis > 999) millis = 0;
  std::string out = "P";
  int64_t days = s / 86400;
  s %= 86400;
  if (days) out += fmt::format("{}D", days);
  if (s || millis) {
    out += 'T';
    if (s / 3600) out += fmt::format("{}H", s / 3600);
    if (s / 60 % 60) out += fmt::format("{}M", s / 60 % 60);
    if (millis) {
      std::string frac = fmt::format("{:03}", millis);
      while (frac.back() == '0') frac.pop_back();
      out += fmt::format("{}.{}S", s % 60, frac);
    } else if (s % 60) {
      out += fmt::format("{}S", s % 60);
    }
  }
  return out;
}

}  // namespace lplex
