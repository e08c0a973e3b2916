#include "broker/filter.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "can/iso_name.h"
#include "core/strings.h"

namespace lplex::broker {
namespace {

constexpr uint32_t kMaxPgn = 0x1FFFF;

template <typename T>
bool ParseDecimal(std::string_view s, uint64_t max, T* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) return false;
  *out = static_cast<T>(v);
  return true;
}

// Why `s` is not a value in 0..max: "not a decimal number" or "out of range"
// (a number, negative or too large, however many digits). "" when it is one.
std::string_view DecimalProblem(std::string_view s, uint64_t max) {
  std::string_view digits = s;
  if (!digits.empty() && digits[0] == '-') digits.remove_prefix(1);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return "not a decimal number";
  }
  uint64_t v;
  return ParseDecimal(s, max, &v) ? "" : "out of range";
}

// The InvalidArgument for a bad decimal filter value, e.g.
//   invalid pgn "200000": out of range (valid: 0..131071)
Status BadDecimal(std::string_view key, std::string_view v, uint64_t max) {
  return Status::InvalidArgument(
      fmt::format("invalid {} {}: {} (valid: 0..{})", key, QuoteLikeGo(v), DecimalProblem(v, max), max));
}

bool Contains(const auto& v, const auto& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// Does manufacturer filter value `m` name the device's manufacturer (the
// table name, "Unknown (<code>)" for codes outside it, or the decimal code)?
// Stats-only entries have manufacturer "" and code 0.
bool ManufacturerMatches(std::string_view m, const can::Device& d) {
  const uint16_t code = d.named() ? d.iso_name().manufacturer_code : 0;
  uint16_t as_code;
  if (ParseDecimal(m, 0xFFFF, &as_code) && as_code == code) return true;
  if (!d.named()) return false;
  if (auto name = can::FindManufacturer(code)) return *name == m;
  char buf[32];
  auto r = fmt::format_to_n(buf, sizeof buf, "Unknown ({})", code);
  return std::string_view(buf, r.size) == m;
}

}  // namespace

std::optional<uint64_t> ParseNameHex(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool IsFilterKey(std::string_view key) {
  return key == "pgn" || key == "exclude_pgn" || key == "manufacturer" || key == "instance" || key == "name" ||
         key == "exclude_name" || key == "src";
}

Status AddFilterParam(std::string_view key, std::string_view value, FilterSpec* spec) {
  if (!IsFilterKey(key)) {
    return Status::InvalidArgument(fmt::format(
        "unknown filter {} (valid: pgn, exclude_pgn, manufacturer, instance, name, exclude_name, src)",
        QuoteLikeGo(key)));
  }
  size_t start = 0;
  while (true) {
    const size_t comma = value.find(',', start);
    const std::string_view v = value.substr(start, comma == std::string_view::npos ? value.npos : comma - start);
    if (key == "manufacturer") {
      if (v.empty()) {
        return Status::InvalidArgument("invalid manufacturer \"\": must not be empty (a name such as Garmin, or a code such as 229)");
      }
      spec->manufacturer.emplace_back(v);
    } else if (key == "pgn" || key == "exclude_pgn") {
      uint32_t pgn;
      if (!ParseDecimal(v, kMaxPgn, &pgn)) return BadDecimal(key, v, kMaxPgn);
      (key == "pgn" ? spec->pgn : spec->exclude_pgn).push_back(pgn);
    } else if (key == "instance" || key == "src") {
      uint8_t b;
      if (!ParseDecimal(v, 255, &b)) return BadDecimal(key, v, 255);
      (key == "src" ? spec->src : spec->instance).push_back(b);
    } else {  // name, exclude_name
      auto n = ParseNameHex(v);
      if (!n) {
        return Status::InvalidArgument(
            fmt::format("invalid {} {}: must be hex (1..16 digits, optional 0x)", key, QuoteLikeGo(v)));
      }
      (key == "name" ? spec->name : spec->exclude_name).push_back(*n);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return Status::Ok();
}

Result<FilterSpec> ParseFilterParams(const std::vector<std::pair<std::string, std::string>>& params) {
  FilterSpec spec;
  for (const auto& [k, v] : params) {
    if (!IsFilterKey(k)) continue;
    LPLEX_RETURN_IF_ERROR(AddFilterParam(k, v, &spec));
  }
  return spec;
}

bool MatchesDeviceCriteria(const FilterSpec& f, const can::Device* d) {
  if (!f.has_device_criteria()) return true;
  if (d == nullptr) return false;
  if (!f.manufacturer.empty()) {
    bool any = false;
    for (const auto& m : f.manufacturer) {
      if (ManufacturerMatches(m, *d)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (!f.instance.empty() && !Contains(f.instance, d->iso_name().device_instance())) return false;
  if (!f.name.empty() && !Contains(f.name, d->name)) return false;
  return true;
}

bool MatchesLive(const FilterSpec& f, uint32_t pgn, uint8_t source, const can::Device* d) {
  if (!f.pgn.empty() && !Contains(f.pgn, pgn)) return false;
  if (Contains(f.exclude_pgn, pgn)) return false;
  if (!f.src.empty() && !Contains(f.src, source)) return false;
  if (!f.exclude_name.empty() && d != nullptr && Contains(f.exclude_name, d->name)) return false;
  return MatchesDeviceCriteria(f, d);
}

void ResolvedFilter::Set(std::vector<uint64_t>* bits, uint8_t bus, uint8_t source) {
  const size_t i = size_t{bus} * 256 + source;
  if (bits->size() <= i / 64) bits->resize(i / 64 + 1, 0);
  (*bits)[i / 64] |= uint64_t{1} << (i % 64);
}

bool ResolvedFilter::Test(const std::vector<uint64_t>& bits, uint8_t bus, uint8_t source) {
  const size_t i = size_t{bus} * 256 + source;
  return i / 64 < bits.size() && (bits[i / 64] >> (i % 64) & 1) != 0;
}

bool ResolvedFilter::Matches(uint32_t pgn, uint8_t bus, uint8_t source) const {
  if (all_) return true;
  if (!spec_.pgn.empty() && !Contains(spec_.pgn, pgn)) return false;
  if (Contains(spec_.exclude_pgn, pgn)) return false;
  if (!spec_.src.empty() && !Contains(spec_.src, source)) return false;
  if (Test(excluded_, bus, source)) return false;
  if (need_allow_ && !Test(allowed_, bus, source)) return false;
  return true;
}

}  // namespace lplex::broker
