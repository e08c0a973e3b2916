// ISO 8601 durations, the subset lplex accepts for every duration flag and
// config key: P[nW][nD][T[nH][nM][nS]] with whole numbers only.
// Years, months, fractions, signs, lowercase letters and spaces are rejected.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lplex {

// Parses e.g. "PT5M", "P1DT12H", "P1W", "PT0S". The error message quotes the
// input, says what is wrong with it, and shows valid examples.
Result<std::chrono::seconds> ParseIso8601Duration(std::string_view text);

// The shortest ISO 8601 form of a non-negative duration: 90 s → "PT1M30S",
// 0 → "PT0S", 36 h → "P1DT12H".
std::string FormatIso8601Duration(std::chrono::seconds d);

}  // namespace lplex
