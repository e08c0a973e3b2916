#include "sources/source_uri.h"

#include <fmt/format.h>

#include <charconv>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "core/duration.h"
#include "core/strings.h"

namespace lplex::sources {
namespace {

constexpr std::string_view kForms =
    "socketcan:IFACE, replay:PATH[?speed=N&loop=true&delay=PT10S], sim:[?seed=N&fps=N|full&ais=N], "
    "ydraw+tcp://HOST:PORT, ydraw+udp://[HOST]:PORT";

Status Bad(std::string_view uri, std::string_view what) {
  return Status::InvalidArgument(
      fmt::format("--source \"{}\": {} (valid forms: {})", EscapeForDisplay(uri), what, kForms));
}

// Linux interface names: 1..15 bytes (IFNAMSIZ - 1), no '/', ':' or whitespace.
std::string InterfaceNameProblem(std::string_view name) {
  if (name.empty()) return "empty interface name";
  if (name.size() > 15) return fmt::format("interface name \"{}\" is longer than 15 characters", name);
  for (char c : name) {
    if (c == '/' || c == ':' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return fmt::format("interface name \"{}\" contains '{}'", EscapeForDisplay(name),
                         c == '/' || c == ':' ? std::string(1, c) : std::string("a space or control character"));
    }
  }
  return "";
}

bool ParseBool(std::string_view v, bool* out) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return *out = true, true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return *out = false, true;
  return false;
}

bool ParseDouble(std::string_view v, double* out) {
  if (v.empty() || v.size() > 32) return false;
  std::string s(v);
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(d)) return false;
  *out = d;
  return true;
}

template <typename T>
bool ParseUnsigned(std::string_view v, T* out) {
  if (v.empty()) return false;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc() && p == v.data() + v.size();
}

// "k=v&k=v" → calls on(k, v); returns the first error.
template <typename F>
Status ForEachOption(std::string_view uri, std::string_view query, F on) {
  std::vector<std::string_view> seen;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) return Bad(uri, fmt::format("option \"{}\" has no value (write NAME=VALUE)", kv));
    const std::string_view key = kv.substr(0, eq);
    // "?delay=PT5S&delay=PT6S": which one was meant cannot be known.
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return Bad(uri, fmt::format("option \"{}\" is given twice (give each option once)", EscapeForDisplay(key)));
    }
    seen.push_back(key);
    LPLEX_RETURN_IF_ERROR(on(key, kv.substr(eq + 1)));
  }
  return Status::Ok();
}

Status ParseReplay(std::string_view uri, std::string_view rest, SourceSpec* s) {
  const size_t q = rest.find('?');
  s->path = std::string(rest.substr(0, q));
  if (s->path.empty()) return Bad(uri, "replay: needs a path to a capture file or a journal directory");
  if (q == std::string_view::npos) return Status::Ok();
  return ForEachOption(uri, rest.substr(q + 1), [&](std::string_view k, std::string_view v) -> Status {
    if (k == "speed") {
      double d;
      if (!ParseDouble(v, &d) || d < 0 || d > 1000) {
        return Bad(uri, fmt::format("speed \"{}\" out of range (valid: 0..1000; 0 = as fast as possible)", v));
      }
      s->speed = d;
      return Status::Ok();
    }
    if (k == "loop") {
      bool b;
      if (!ParseBool(v, &b)) {
        return Bad(uri, fmt::format("loop \"{}\" is not a boolean (valid: true, false; also 1/0, yes/no, on/off)",
                                    EscapeForDisplay(v)));
      }
      s->loop = b;
      return Status::Ok();
    }
    if (k == "delay") {
      // ISO 8601 like every other duration of lplex; it has no sign, so a
      // negative delay is refused as such rather than as a syntax error.
      constexpr std::string_view kValid = "valid: an ISO 8601 duration PT0S..P1D, e.g. PT10S, PT2M";
      if (!v.empty() && v[0] == '-') {
        return Bad(uri, fmt::format("delay \"{}\" is negative ({})", EscapeForDisplay(v), kValid));
      }
      auto d = ParseIso8601Duration(v);
      if (!d.ok() && d.status().code() != Status::Code::kOutOfRange) {
        return Bad(uri, fmt::format("delay \"{}\" is not a duration ({})", EscapeForDisplay(v), kValid));
      }
      // ParseIso8601Duration bounds the seconds so that µs fit int64.
      if (!d.ok() || d->count() * 1'000'000 > kMaxReplayDelayUs) {
        return Bad(uri, fmt::format("delay \"{}\" out of range ({})", EscapeForDisplay(v), kValid));
      }
      s->delay_us = d->count() * 1'000'000;
      return Status::Ok();
    }
    return Bad(uri, fmt::format("unknown replay option \"{}\" (valid: speed, loop, delay)", k));
  });
}

Status ParseSim(std::string_view uri, std::string_view rest, SourceSpec* s) {
  if (!rest.empty() && rest[0] != '?') return Bad(uri, "sim: takes options only, after '?' (sim:?seed=7)");
  if (rest.empty()) return Status::Ok();
  return ForEachOption(uri, rest.substr(1), [&](std::string_view k, std::string_view v) -> Status {
    if (k == "seed") {
      if (!ParseUnsigned(v, &s->seed)) return Bad(uri, fmt::format("seed \"{}\" is not an unsigned integer", v));
      return Status::Ok();
    }
    if (k == "fps") {
      double d;
      if (v == "full") {
        s->fps = kFullBusFramesPerSecond;
      } else if (!ParseDouble(v, &d)) {
        return Bad(uri, fmt::format("fps \"{}\" is not a number (valid: 1..100000, or full = {})",
                                    EscapeForDisplay(v), kFullBusFramesPerSecond));
      } else if (d >= 1 && d <= 100000) {
        s->fps = d;
      } else {
        return Bad(uri, fmt::format("fps \"{}\" out of range (valid: 1..100000, or full = {})", v,
                                    kFullBusFramesPerSecond));
      }
      return Status::Ok();
    }
    if (k == "ais") {
      unsigned n;
      if (!ParseUnsigned(v, &n) || n > 200) return Bad(uri, fmt::format("ais \"{}\" out of range (valid: 0..200)", v));
      s->ais_targets = static_cast<int>(n);
      return Status::Ok();
    }
    return Bad(uri, fmt::format("unknown sim option \"{}\" (valid: seed, fps, ais)", k));
  });
}

// "HOST:PORT", "[v6]:PORT" or (udp) ":PORT".
Status ParseHostPort(std::string_view uri, std::string_view rest, bool host_required, SourceSpec* s) {
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return Bad(uri, "expected only HOST:PORT after \"//\" (no path, query or user)");
  }
  std::string_view host, port;
  if (!rest.empty() && rest[0] == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return Bad(uri, "an IPv6 address is written [ADDR]:PORT");
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return Bad(uri, "missing :PORT");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return Bad(uri, "an IPv6 address is written [ADDR]:PORT");
  }
  unsigned p = 0;
  if (!ParseUnsigned(port, &p) || p == 0 || p > 65535) {
    return Bad(uri, fmt::format("port \"{}\" out of range (valid: 1..65535)", EscapeForDisplay(port)));
  }
  if (host_required && host.empty()) return Bad(uri, "missing HOST (the gateway's address)");
  s->host = std::string(host);
  s->port = static_cast<uint16_t>(p);
  return Status::Ok();
}

}  // namespace

std::string_view SourceKindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kSocketCan: return "socketcan";
    case SourceKind::kReplay: return "replay";
    case SourceKind::kSim: return "sim";
    case SourceKind::kYdRawTcp: return "ydraw+tcp";
    case SourceKind::kYdRawUdp: return "ydraw+udp";
  }
  return "?";
}

std::string_view ValidSourceForms() { return kForms; }

Result<SourceSpec> ParseSourceUri(std::string_view text) {
  SourceSpec s;
  s.uri = std::string(text);
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return Bad(text, "no scheme (a URI starts with SCHEME:)");
  const std::string scheme = ToLower(text.substr(0, colon));
  std::string_view rest = text.substr(colon + 1);
  if (scheme == "socketcan") {
    if (rest.starts_with("//")) rest.remove_prefix(2);
    std::string problem = InterfaceNameProblem(rest);
    if (!problem.empty()) return Bad(text, problem);
    s.kind = SourceKind::kSocketCan;
    s.interface = std::string(rest);
    return s;
  }
  if (scheme == "replay") {
    if (rest.starts_with("//")) rest.remove_prefix(2);
    s.kind = SourceKind::kReplay;
    LPLEX_RETURN_IF_ERROR(ParseReplay(text, rest, &s));
    return s;
  }
  if (scheme == "sim") {
    if (rest.starts_with("//")) rest.remove_prefix(2);
    s.kind = SourceKind::kSim;
    LPLEX_RETURN_IF_ERROR(ParseSim(text, rest, &s));
    return s;
  }
  if (scheme == "ydraw+tcp" || scheme == "ydraw+udp") {
    if (!rest.starts_with("//")) return Bad(text, fmt::format("{} is written {}://HOST:PORT", scheme, scheme));
    rest.remove_prefix(2);
    s.kind = scheme == "ydraw+tcp" ? SourceKind::kYdRawTcp : SourceKind::kYdRawUdp;
    LPLEX_RETURN_IF_ERROR(ParseHostPort(text, rest, s.kind == SourceKind::kYdRawTcp, &s));
    return s;
  }
  return Bad(text, fmt::format("unknown scheme \"{}\"", EscapeForDisplay(text.substr(0, colon))));
}

Result<std::vector<SourceSpec>> ParseInterfaceList(std::string_view list) {
  std::vector<SourceSpec> out;
  size_t pos = 0;
  int index = 1;
  for (;;) {
    const size_t comma = list.find(',', pos);
    std::string_view name = list.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    std::string problem = InterfaceNameProblem(name);
    if (!problem.empty()) {
      return Status::InvalidArgument(fmt::format("--interfaces \"{}\": entry {}: {} (valid: NAME[,NAME…], e.g. can0,can1)",
                                                 EscapeForDisplay(list), index, problem));
    }
    SourceSpec s;
    s.kind = SourceKind::kSocketCan;
    s.interface = std::string(name);
    s.uri = "socketcan:" + s.interface;
    out.push_back(std::move(s));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
    ++index;
  }
  return out;
}

Status AssignBuses(std::vector<SourceSpec>* specs) {
  if (specs->size() > 256) {
    return Status::InvalidArgument(fmt::format("{} sources configured; at most 256 buses are supported", specs->size()));
  }
  for (size_t i = 0; i < specs->size(); ++i) (*specs)[i].bus = static_cast<uint8_t>(i);
  return Status::Ok();
}

}  // namespace lplex::sources
