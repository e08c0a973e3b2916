// How the live commands print: the terminal line of a frame (spec/boat.md
// §5.3), the JSON line (§5.4) and the device table.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "client/lplex_client.h"

namespace lplex::cli {

// {"seq":N,"ts":"…","prio":N,"pgn":N,"src":N,"dst":N,"data":"…"} and '\n';
// `ts` and `data` as the server sent them.
std::string FrameJsonLine(const client::Frame& frame);

// One terminal line and '\n': local time, #seq, the source (coloured by
// src mod 10; "Manufacturer(code)[src]" when `devices` knows it), >dst in
// hex, pgn, `description` (blank when ""), p<prio>, and `payload`.
// `tag` (change mode: "[snapshot] ", "[delta D/FB] ") goes after the time.
std::string FrameTerminalLine(const client::Frame& frame, const std::map<uint8_t, client::Device>& devices,
                              std::string_view description, std::string_view payload, std::string_view tag = "");

// An idle line of change mode: time, `tag` ("[idle]     "), the source
// label, the PGN and its description.
std::string IdleTerminalLine(std::string_view rfc3339, uint8_t src, uint32_t pgn,
                             const std::map<uint8_t, client::Device>& devices, std::string_view description,
                             std::string_view tag);

// The device table (box drawing, one row per device, ascending by src);
// "(no devices)\n" when empty.
std::string DeviceTable(const std::vector<client::Device>& devices);

// "HH:MM:SS" or "HH:MM:SS.mmm" in local time of an RFC 3339 text; the text
// itself when it does not parse.
std::string LocalClock(std::string_view rfc3339, bool millis);

}  // namespace lplex::cli
