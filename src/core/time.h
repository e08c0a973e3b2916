// Timestamps are int64 microseconds since the Unix epoch (UTC), named *_us.
// These helpers format and parse the few textual forms lplex uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lplex::timefmt {

constexpr int64_t kMicrosPerSecond = 1'000'000;

// Civil UTC fields of a timestamp (floor semantics for negative values).
struct CivilTime {
  int year;
  int month;   // 1..12
  int day;     // 1..31
  int hour;
  int minute;
  int second;
  int micros;  // 0..999999
};
CivilTime ToCivil(int64_t us);
// Inverse of ToCivil. Fields are not range checked.
int64_t FromCivil(const CivilTime& c);

// Journal file-name stamp: "YYYYMMDDTHHMMSS.mmmZ" (milliseconds cut, not rounded).
std::string FileStamp(int64_t us);

// Strict inverse of FileStamp: exactly 3 fraction digits and a literal Z.
std::optional<int64_t> ParseFileStamp(std::string_view s);

// The time encoded in a journal file name (after the last '-', before
// ".lpj"), or nullopt when the name does not carry one. Keeper semantics:
// callers treat nullopt as "infinitely old".
std::optional<int64_t> TimeFromJournalName(std::string_view file_name);

// Go's RFC3339Nano in UTC: "2026-03-02T14:00:00.123456Z", trailing fraction
// zeros dropped and no fraction at all when it is zero.
std::string Rfc3339Nano(int64_t us);
// Appends the same text to *out.
void AppendRfc3339Nano(int64_t us, std::string* out);

// RFC 3339 to the second in UTC: "2026-03-02T14:00:00Z".
std::string Rfc3339Seconds(int64_t us);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" into µs. The T may be a
// lowercase t or a space (RFC 3339 §5.6), the Z a lowercase z.
std::optional<int64_t> ParseRfc3339(std::string_view s);

}  // namespace lplex::timefmt
