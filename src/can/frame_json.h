// The one-line JSON form of a frame that lplex prints and streams:
//   {"seq":1,"ts":"2026-03-02T14:00:00.5Z","prio":2,"pgn":129025,"src":10,"dst":255,"data":"0011aabb"}
// Keys in this order; ts is UTC RFC 3339 with trailing fraction zeros cut;
// data is lowercase hex.
//
// Written by hand rather than through nlohmann::json because it runs once per
// frame on hot paths (dump, and later the broker's fan-out) and every value is
// a number, a timestamp or hex: nothing ever needs escaping. Tests parse the
// output with nlohmann::json to keep it honest.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "can/can_id.h"

namespace lplex::can {

// Appends the JSON object (no newline) to *out.
void AppendFrameJson(uint64_t seq, int64_t timestamp_us, const CanHeader& h, std::span<const uint8_t> data,
                     std::string* out);

}  // namespace lplex::can
