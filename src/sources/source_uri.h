// What `--source URI` (repeatable) and lplex's `--interface can0` /
// `--interfaces can0,can1` name: a SourceSpec per bus (docs/sources.md,
// "Live sources").
//
//   socketcan:IFACE                              a CAN interface (can0, vcan0, …)
//   replay:PATH[?speed=N&loop=BOOL&delay=DUR]    a capture file or a journal directory
//   sim:[?seed=N&fps=N|full&ais=N]               the simulated boat
//   ydraw+tcp://HOST:PORT                        a Yacht Devices gateway's RAW TCP server
//   ydraw+udp://[HOST]:PORT                      Yacht Devices RAW datagrams received on PORT
//
// Parsing only checks the text; whether the interface, file or host exists is
// found out when the source starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lplex::sources {

enum class SourceKind { kSocketCan, kReplay, kSim, kYdRawTcp, kYdRawUdp };

// The scheme as written in URIs ("socketcan", "replay", "sim", "ydraw+tcp", "ydraw+udp").
std::string_view SourceKindName(SourceKind kind);

// The valid forms, for error messages and --help.
std::string_view ValidSourceForms();

// The longest replay `delay=`: a day. A longer wait is a typo, not a plan.
inline constexpr int64_t kMaxReplayDelayUs = 86'400'000'000;

// A frames/s value that fills a 250 kbit/s NMEA 2000 bus with 8-byte frames.
inline constexpr double kFullBusFramesPerSecond = 1800;

struct SourceSpec {
  SourceKind kind = SourceKind::kSim;
  std::string uri;          // as given (kept for logs and errors)
  uint8_t bus = 0;          // position among the configured sources (AssignBuses)

  std::string interface;    // socketcan
  std::string path;         // replay
  // replay: speed factor (0 = as fast as possible) and looping; unset means
  // "what --replay-speed / the program's default says".
  std::optional<double> speed;
  std::optional<bool> loop;
  // replay: how long the source waits after it started before the first
  // frame (an ISO 8601 duration, PT0S..kMaxReplayDelay); 0 = at once.
  int64_t delay_us = 0;

  uint64_t seed = 1;        // sim
  double fps = 0;           // sim: 0 = real rates, else total frames/s to aim for
  int ais_targets = 4;      // sim: AIS vessels around the boat

  std::string host;         // ydraw: "" for udp = every local address
  uint16_t port = 0;        // ydraw
};

// Parses one --source value. Errors are InvalidArgument naming the URI, what
// is wrong with it and the valid forms, e.g.
//   --source "can://can0": unknown scheme "can" (valid forms: socketcan:IFACE, …)
Result<SourceSpec> ParseSourceUri(std::string_view text);

// lplex's `--interface can0` and `--interfaces can0,can1`: one socketcan
// source per comma-separated name, in order. Errors name the list and the
// bad entry (an empty name, one longer than 15 characters, or with '/',
// whitespace or ':').
Result<std::vector<SourceSpec>> ParseInterfaceList(std::string_view list);

// Numbers the sources 0, 1, … in order (each frame carries its bus). Errors
// when there are more than 256 sources.
Status AssignBuses(std::vector<SourceSpec>* specs);

}  // namespace lplex::sources
