// Decoded payloads in the server's JSON: `fields` of /values/decoded and the
// `decoded` key that ?decode=true adds to SSE frames (docs/http.md).
//
// The server shows what lplex HEAD shows for the PGNs lplex decodes (its
// description, its fields, `null` where lplex's dispatch finds no variant:
// 61184 from a maker other than Victron) and canboat's decoding for every
// other PGN (src/pgn). Where neither decodes a payload, nothing is shown
// (the value is left out; the frame keeps its plain JSON).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "can/can_id.h"
#include "pgn/decoded_message.h"
#include "pgn/decoder.h"
#include "pgn/stream_decoder.h"

namespace lplex::broker {

struct ServerDecode {
  // False: no definition decodes the payload (or it is too short for the
  // one that applies); the server shows nothing for it.
  bool shown = false;
  // True: lplex decodes the PGN but none of its variants matches the
  // payload; `fields` / `decoded` is null (lplex's quirk, kept).
  bool null_fields = false;
  // lplex's registry description for PGNs lplex decodes (one per PGN, as
  // lplex: 61184 is "Proprietary Single Frame" whichever variant decoded),
  // canboat's description of the variant otherwise. Static storage.
  const char* description = "";
};

// Decodes one whole payload as the server shows it. `manufacturer` is the
// sender's code from its address claim (proprietary PGNs), when known.
ServerDecode DecodeForServer(uint32_t pgn, std::optional<uint16_t> manufacturer, std::span<const uint8_t> payload,
                             pgn::DecodedMessage* msg);

// Appends `fields` of a shown decode: the decoded object, or null.
void AppendServerFields(const ServerDecode& d, const pgn::DecodedMessage& msg, std::string* out);

// Appends `frame_json` (a frame object, `{...}`) with `,"decoded":<fields>`
// added as its last key, where lplex HEAD puts it; `frame_json` unchanged
// when the decode is not shown.
void AppendDecodedFrame(std::string_view frame_json, const ServerDecode& d, const pgn::DecodedMessage& msg,
                        std::string* out);

// The payload of a frame JSON (its trailing "data" hex) into *out; false
// when the text has none (a device event) or it is not hex.
bool FramePayload(std::string_view frame_json, std::vector<uint8_t>* out);

// Decodes a stream of frames for ?decode=true, as a bus delivers them:
// fragments of fast-packet PGNs lplex leaves split (pgn::NeedsJoining) are
// joined per bus, and only the fragment that completes a transfer carries
// the decoded whole; the others keep their plain JSON. One per stream (or
// one in the broker for every ephemeral subscriber); not thread-safe.
class FrameDecoder {
 public:
  FrameDecoder() = default;
  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  // Appends the frame's JSON with its `decoded` key (or unchanged) to *out.
  // Returns true when a `decoded` key was added.
  bool Append(std::string_view frame_json, uint8_t bus, const can::CanHeader& h, std::span<const uint8_t> data,
              std::optional<uint16_t> manufacturer, std::string* out);

 private:
  std::vector<std::unique_ptr<pgn::FragmentJoiner>> joiners_;  // by bus, created on first use
  pgn::DecodedMessage msg_;
};

}  // namespace lplex::broker
