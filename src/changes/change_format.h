// How change events are printed by `lplex tail --changes` and `lplex dump
// --changes`: the JSON keys of spec/boat.md §5.4 and the terminal tags of
// §5.3. The rest of each line (decoded fields, device labels) is the
// command's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "changes/change_tracker.h"

namespace lplex::changes {

// The frame a Snapshot or Delta was made from, as the command prints it.
struct FrameText {
  uint64_t seq = 0;
  std::string_view ts;    // RFC 3339 text, passed through (live: as the server sent it)
  uint8_t prio = 0;
  uint32_t pgn = 0;
  uint8_t src = 0;
  uint8_t dst = 0;
  std::string_view data;  // the FULL payload in lowercase hex (not the diff)
};

// Appends the start of a JSON line for a Snapshot or Delta, with no closing
// brace so the caller can add "decoded"/"decode_error":
//   {"change":"snapshot","seq":N,"ts":"…","prio":N,"pgn":N,"src":N,"dst":N,"data":"…"
//   {"change":"delta","diff_bytes":D,"full_bytes":F,"seq":N,…,"data":"…"
// D is event.data.size(), F event.full_bytes; either is left out when 0.
// `change` is left out for an Idle event (use IdleJsonLine for those).
void AppendChangeFrameJson(const ChangeEvent& event, const FrameText& frame, std::string* out);

// {"change":"idle","ts":"<UTC RFC3339Nano of event.time_us>","pgn":N,"src":N} and '\n'.
std::string IdleJsonLine(const ChangeEvent& event);

// The terminal tag in front of the #seq column, each ending in one space:
//   Snapshot "[snapshot] " in green, Delta "[delta D/FB] " in yellow
//   (D = diff bytes, F = full bytes), Idle "[idle]     " dimmed.
// With colour false, the same text without ANSI escapes.
std::string ChangeTag(const ChangeEvent& event, bool colour = true);

}  // namespace lplex::changes
