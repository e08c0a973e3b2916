#include "live_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "core/json_string.h"
#include "core/time.h"
#include "pgn/decoder.h"

namespace lplex::cli {
namespace {

// Ten distinct foreground colours, picked by src mod 10.
constexpr const char* kColours[10] = {"\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[34m", "\x1b[35m",
                                      "\x1b[36m", "\x1b[91m", "\x1b[92m", "\x1b[94m", "\x1b[95m"};
constexpr const char* kReset = "\x1b[0m";

// Display width of UTF-8 text (code points; the table holds no wide glyphs).
size_t Width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Pad(std::string_view s, size_t width) {
  std::string out(s);
  const size_t w = Width(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string Traffic(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KB", bytes / 1024.0);
  if (bytes < 1024ull * 1024 * 1024) return fmt::format("{:.1f} MB", bytes / (1024.0 * 1024));
  return fmt::format("{:.1f} GB", bytes / (1024.0 * 1024 * 1024));
}

std::string Line(const std::vector<size_t>& widths, const char* left, const char* mid, const char* right) {
  std::string s = left;
  for (size_t i = 0; i < widths.size(); ++i) {
    for (size_t k = 0; k < widths[i] + 2; ++k) s += "─";
    s += i + 1 < widths.size() ? mid : right;
  }
  return s + "\n";
}

}  // namespace

std::string LocalClock(std::string_view rfc3339, bool millis) {
  const std::optional<int64_t> us = timefmt::ParseRfc3339(rfc3339);
  if (!us) return std::string(rfc3339);
  const std::time_t secs = static_cast<std::time_t>(*us >= 0 ? *us / 1'000'000 : (*us - 999'999) / 1'000'000);
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  if (!millis) return fmt::format("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
  const int64_t ms = ((*us % 1'000'000) + 1'000'000) % 1'000'000 / 1000;
  return fmt::format("{:02}:{:02}:{:02}.{:03}", tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

std::string FrameJsonLine(const client::Frame& f) {
  std::string s = fmt::format("{{\"seq\":{},\"ts\":", f.seq);
  AppendJsonString(f.ts, &s);
  s += fmt::format(",\"prio\":{},\"pgn\":{},\"src\":{},\"dst\":{},\"data\":", f.prio, f.pgn, f.src, f.dst);
  AppendJsonString(f.data, &s);
  s += "}\n";
  return s;
}

namespace {

// "Manufacturer(code)[src]" when the device is known, else "[src]".
std::string SourceLabel(uint8_t src, const std::map<uint8_t, client::Device>& devices) {
  if (auto it = devices.find(src); it != devices.end() && !it->second.manufacturer.empty()) {
    return fmt::format("{}({})[{}]", it->second.manufacturer, it->second.manufacturer_code, src);
  }
  return fmt::format("[{}]", src);
}

}  // namespace

std::string FrameTerminalLine(const client::Frame& f, const std::map<uint8_t, client::Device>& devices,
                              std::string_view description, std::string_view payload, std::string_view tag) {
  std::string desc = description.empty() ? std::string(23, ' ') : Pad(description, 22);
  if (!description.empty()) desc.push_back(' ');
  return fmt::format("{} {}#{:<7} {}{}{} >{:02x}  {:<6} {}p{}  {}\n", LocalClock(f.ts, true), tag, f.seq,
                     kColours[f.src % 10], Pad(SourceLabel(f.src, devices), 20), kReset, f.dst, f.pgn, desc, f.prio,
                     payload);
}

std::string IdleTerminalLine(std::string_view rfc3339, uint8_t src, uint32_t pgn,
                             const std::map<uint8_t, client::Device>& devices, std::string_view description,
                             std::string_view tag) {
  return fmt::format("{} {}{}{}{}  {:<6}{}{}\n", LocalClock(rfc3339, true), tag, kColours[src % 10],
                     Pad(SourceLabel(src, devices), 20), kReset, pgn, description.empty() ? "" : " ", description);
}

std::string DeviceTable(const std::vector<client::Device>& unsorted) {
  if (unsorted.empty()) return "(no devices)\n";
  std::vector<client::Device> devices = unsorted;
  std::sort(devices.begin(), devices.end(), [](const auto& a, const auto& b) { return a.src < b.src; });
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"SRC", "NAME", "MANUFACTURER", "MODEL", "CLASS", "FUNCTION", "INST", "TRAFFIC", "FIRST", "LAST"});
  for (const client::Device& d : devices) {
    std::string model = d.model_id;
    if (d.product_code != 0) model += fmt::format("{}({})", model.empty() ? "" : " ", d.product_code);
    const bool claimed = !d.name.empty();
    // "Name (n)" from canboat's DEVICE_CLASS and DEVICE_FUNCTION tables.
    auto named = [](std::string_view name, unsigned n) {
      return name.empty() ? std::to_string(n) : fmt::format("{} ({})", name, n);
    };
    const std::string cls = named(pgn::LookupLabel("DEVICE_CLASS", d.device_class), d.device_class);
    const std::string fn =
        named(pgn::IndirectLookupLabel("DEVICE_FUNCTION", d.device_class, d.device_function), d.device_function);
    rows.push_back({std::to_string(d.src), d.name, d.manufacturer, model, claimed ? cls : "", claimed ? fn : "",
                    claimed ? std::to_string(d.device_instance) : "", Traffic(d.byte_count),
                    LocalClock(d.first_seen, false), LocalClock(d.last_seen, false)});
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], Width(r[i]));
  }
  std::string out = Line(widths, "┌", "┬", "┐");
  for (size_t n = 0; n < rows.size(); ++n) {
    out += "│";
    for (size_t i = 0; i < rows[n].size(); ++i) {
      out += ' ';
      out += Pad(rows[n][i], widths[i]);
      out += " │";
    }
    out += "\n";
    if (n == 0) out += Line(widths, "├", "┼", "┤");
  }
  out += Line(widths, "└", "┴", "┘");
  return out;
}

}  // namespace lplex::cli
