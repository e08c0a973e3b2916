// The numeric flags of the lplex subcommands and their valid ranges, in one
// place: the command line parser reads every numeric flag as text and turns
// it into a number here, and the commands check values given in-process with
// the same ranges, so the two can never disagree.
//
// CLI11 converts "-1" into an unsigned option as 2^64 - 1 and silently
// accepts values that make no sense (a 2 GiB block, an interval of 292,000
// years); reading text ourselves keeps "as typed" in the error messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "journal/format.h"

namespace lplex::cli {

// The values a numeric flag accepts: min..max, and optionally only powers of two.
struct FlagRange {
  std::string_view flag;  // as the user types it: "--block-size"
  int64_t min = 0;
  int64_t max = 0;
  bool power_of_two = false;

  // "4096..16777216, a power of two"
  std::string Describe() const;
};

// lplex import. The block size bounds are the journal format's: the reader
// refuses larger blocks too, so no file can make it allocate gigabytes.
inline constexpr FlagRange kBlockSizeFlag{"--block-size", journal::kMinBlockSize, journal::kMaxBlockSize, true};
inline constexpr FlagRange kZstdLevelFlag{"--zstd-level", 1, 19};
// 0 = no limit. 4 EiB is far beyond any disk and leaves room for sums.
inline constexpr FlagRange kRotateSizeFlag{"--rotate-size", 0, int64_t{1} << 62};
// Frames of untimed captures are spaced by this; an hour between frames is
// already absurd, and larger spacings push timestamps past year 9999.
inline constexpr FlagRange kFrameIntervalFlag{"--frame-interval-us", 0, int64_t{3'600'000'000}};

// lplex retention. 0 = no limit. The soft zone is max_size * soft_pct / 100,
// which must fit 64 bits: 64 PiB * 99 does.
inline constexpr FlagRange kMaxSizeFlag{"--max-size", 0, int64_t{1} << 56};
inline constexpr FlagRange kSoftPctFlag{"--soft-pct", 0, 99};

// A duration flag (ISO 8601, whole seconds) and its valid range.
struct DurationFlagRange {
  std::string_view flag;
  int64_t min_seconds = 0;
  int64_t max_seconds = 0;
  // Why zero is refused when min_seconds > 0, and what to do instead.
  std::string_view zero_means;

  // "PT1S..P3650D"
  std::string Describe() const;
};

// lplex import. Ten years is far longer than any capture; the bound keeps the
// value well inside int64 microseconds when added to a timestamp. Zero is
// refused rather than read as "no rotation": leaving the flag out says that
// (as retention refuses --max-age P0D).
inline constexpr DurationFlagRange kRotateDurationFlag{
    "--rotate-duration", 1, int64_t{3650} * 86400,
    "zero is no rotation period; leave --rotate-duration out for no time-based rotation"};

// Parses an ISO 8601 duration flag into microseconds inside `range`. Errors
// (InvalidArgument) name the flag, the text as typed and the range:
//   "--rotate-duration P99999999999D out of range (valid: PT1S..P3650D)"
//   "--rotate-duration: invalid ISO 8601 duration \"1h\": must start with P (...)"
Result<int64_t> ParseDurationFlagValue(const DurationFlagRange& range, std::string_view text);

// Parses `text` as a decimal integer inside `range`. Errors (InvalidArgument)
// name the flag, the text as typed and the range:
//   "--block-size 2147483648 out of range (valid: 4096..16777216, a power of two)"
//   "--rotate-size \"10M\" is not a whole number (valid: 0..4611686018427387904)"
// A number too large for 64 bits is "out of range", like any other; one
// inside min..max that is not a power of two where one is required is
//   "--block-size 4097 is not a power of two (valid: 4096..16777216, a power of two)".
Result<int64_t> ParseFlagValue(const FlagRange& range, std::string_view text);

// Checks a value that arrived already as a number (in-process callers of the
// Run* functions); the error reads like ParseFlagValue's.
Status CheckFlagValue(const FlagRange& range, int64_t value);
// For unsigned fields: values above INT64_MAX are out of every range.
Status CheckFlagValue(const FlagRange& range, uint64_t value);
inline Status CheckFlagValue(const FlagRange& range, int value) {
  return CheckFlagValue(range, static_cast<int64_t>(value));
}
inline Status CheckFlagValue(const FlagRange& range, uint32_t value) {
  return CheckFlagValue(range, static_cast<int64_t>(value));
}

}  // namespace lplex::cli
