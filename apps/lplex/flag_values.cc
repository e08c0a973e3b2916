#include "flag_values.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>

#include "core/duration.h"

namespace lplex::cli {
namespace {

bool InRange(const FlagRange& r, int64_t v) {
  if (v < r.min || v > r.max) return false;
  return !r.power_of_two || (v > 0 && (v & (v - 1)) == 0);
}

Status OutOfRange(const FlagRange& r, std::string_view as_typed) {
  // A value inside min..max failed only the power-of-two rule: say that, not "out of range".
  int64_t v = 0;
  auto [end, ec] = std::from_chars(as_typed.data(), as_typed.data() + as_typed.size(), v);
  if (r.power_of_two && ec == std::errc() && end == as_typed.data() + as_typed.size() && v >= r.min && v <= r.max) {
    return Status::InvalidArgument(
        fmt::format("{} {} is not a power of two (valid: {})", r.flag, as_typed, r.Describe()));
  }
  return Status::InvalidArgument(fmt::format("{} {} out of range (valid: {})", r.flag, as_typed, r.Describe()));
}

}  // namespace

std::string FlagRange::Describe() const {
  std::string s = fmt::format("{}..{}", min, max);
  if (power_of_two) s += ", a power of two";
  return s;
}

Result<int64_t> ParseFlagValue(const FlagRange& range, std::string_view text) {
  int64_t v = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, v);
  // from_chars takes an optional '-' and digits only: no '+', spaces, hex or suffixes.
  if (text.empty() || end != last || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    return Status::InvalidArgument(
        fmt::format("{} \"{}\" is not a whole number (valid: {})", range.flag, text, range.Describe()));
  }
  if (ec == std::errc::result_out_of_range || !InRange(range, v)) return OutOfRange(range, text);
  return v;
}

Status CheckFlagValue(const FlagRange& range, int64_t value) {
  if (!InRange(range, value)) return OutOfRange(range, std::to_string(value));
  return Status::Ok();
}

std::string DurationFlagRange::Describe() const {
  return fmt::format("{}..{}", FormatIso8601Duration(std::chrono::seconds(min_seconds)),
                     FormatIso8601Duration(std::chrono::seconds(max_seconds)));
}

Result<int64_t> ParseDurationFlagValue(const DurationFlagRange& range, std::string_view text) {
  Result<std::chrono::seconds> d = ParseIso8601Duration(text);
  if (!d.ok() && d.status().code() != Status::Code::kOutOfRange) {
    return Status::InvalidArgument(fmt::format("{}: {}", range.flag, d.status().message()));
  }
  if (d.ok() && d->count() == 0 && range.min_seconds > 0) {
    return Status::InvalidArgument(
        fmt::format("{} {}: {} (valid: {})", range.flag, text, range.zero_means, range.Describe()));
  }
  if (!d.ok() || d->count() < range.min_seconds || d->count() > range.max_seconds) {
    return Status::InvalidArgument(fmt::format("{} {} out of range (valid: {})", range.flag, text, range.Describe()));
  }
  return std::chrono::duration_cast<std::chrono::microseconds>(*d).count();
}

Status CheckFlagValue(const FlagRange& range, uint64_t value) {
  if (value > static_cast<uint64_t>(INT64_MAX) || !InRange(range, static_cast<int64_t>(value))) {
    return OutOfRange(range, std::to_string(value));
  }
  return Status::Ok();
}

}  // namespace lplex::cli
