// ISO 8601 durations, the subset lplex accepts for every duration flag and
// config key: P[nW][nD][T[nH][nM][nS]] with whole numbers only.
// Years, months, fractions, signs, lowercase letters and spaces are rejected.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lplex {

// The longest duration ParseIso8601Duration accepts: the most whole seconds
// whose microseconds fit int64 (P106751991DT4H54S, about 292,000 years).
inline constexpr int64_t kMaxIso8601DurationSeconds = INT64_MAX / 1'000'000;

// Parses e.g. "PT5M", "P1DT12H", "P1W", "PT0S". The error message quotes the
// input, says what is wrong with it, and shows valid examples
// (InvalidArgument); a duration longer than kMaxIso8601DurationSeconds is
// OutOfRange, "... is too large (max P106751991DT4H54S ...)", so callers may
// convert any result to int64 microseconds without overflow. Callers with a
// tighter range check it themselves and name their flag or key.
Result<std::chrono::seconds> ParseIso8601Duration(std::string_view text);

// FormatIso8601Duration for a whole number of seconds plus `millis`
// (0..999) thousandths; use the template below.
std::string FormatIso8601DurationParts(int64_t seconds, int64_t millis);

// The shortest ISO 8601 form of a non-negative duration: 90 s → "PT1M30S",
// 0 → "PT0S", 36 h → "P1DT12H". A fraction of a second is written with up to
// three decimals on the seconds (300 ms → "PT0.3S", 61.25 s → "PT1M1.25S");
// anything finer than a millisecond is dropped, and a negative duration is
// "PT0S". Whole-second results parse back with ParseIso8601Duration, which
// accepts no fractions. Taking any std::chrono duration keeps calls with
// seconds, minutes or milliseconds unambiguous.
template <typename Rep, typename Period>
std::string FormatIso8601Duration(std::chrono::duration<Rep, Period> d) {
  const auto whole = std::chrono::duration_cast<std::chrono::seconds>(d);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(d - whole);
  return FormatIso8601DurationParts(whole.count(), millis.count());
}

}  // namespace lplex
