// The messages of a real capture as the decoder sees them: read with
// CaptureReader, reassembled by can::FastPacketAssembler (lplex's 74 PGNs),
// each one tagged with its sender's manufacturer as far as the sender's
// address claim (PGN 60928) seen so far tells it. Shared by the golden and
// B&G key/value tests.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "can/can_id.h"
#include "can/fast_packet.h"
#include "can/iso_name.h"
#include "pgn/stream_decoder.h"
#include "sources/capture_reader.h"

namespace lplex::pgn::captures {

struct CaptureMessage {
  uint32_t pgn = 0;
  uint8_t source = 0;
  std::optional<uint16_t> manufacturer;  // from the source's latest address claim
  std::vector<uint8_t> data;             // as reassembly left it (may be a fragment)
};

inline std::string CapturePath(const std::string& name) {
  return std::string(LPLEX_SHARED_DIR) + "/data/captures/" + name;
}

// Every message of the capture in order; fails the calling test (and returns
// what it has) when the capture cannot be read.
inline std::vector<CaptureMessage> LoadCapture(const std::string& name) {
  std::vector<CaptureMessage> out;
  sources::CaptureOptions options;
  options.base_time_us = 1'600'000'000'000'000;  // YD RAW and untimed candump need a date; any will do
  auto reader = sources::CaptureReader::Open(CapturePath(name), options);
  EXPECT_TRUE(reader.ok()) << name << ": " << reader.status().ToString();
  if (!reader.ok()) return out;
  can::FastPacketAssembler assembler;
  std::array<std::optional<uint16_t>, 256> manufacturer_of{};
  can::RawFrame raw;
  can::Frame frame;
  while ((*reader)->Next(&raw)) {
    if (!raw.extended || !assembler.Process(raw, &frame)) continue;
    CaptureMessage m;
    m.pgn = frame.header.pgn;
    m.source = frame.header.source;
    if (m.pgn == 60928 && frame.data.size() >= 8) {
      uint64_t name_bits = 0;
      for (int i = 7; i >= 0; --i) name_bits = name_bits << 8 | frame.data[i];
      manufacturer_of[m.source] = can::IsoName::Decode(name_bits).manufacturer_code;
    }
    m.manufacturer = manufacturer_of[m.source];
    m.data.assign(frame.data.begin(), frame.data.end());
    out.push_back(std::move(m));
  }
  EXPECT_TRUE((*reader)->status().ok()) << name << ": " << (*reader)->status().ToString();
  return out;
}

// The whole payloads: fragments of the PGNs lplex leaves split (NeedsJoining)
// joined again by a FragmentJoiner, as a StreamDecoder does; fragments that
// complete nothing are left out.
struct JoinedMessage {
  const CaptureMessage* message;   // the message (or the last fragment) it came from
  std::vector<uint8_t> payload;
  bool joined = false;             // true when made of joined fragments
};

inline std::vector<JoinedMessage> JoinFragments(const std::vector<CaptureMessage>& messages) {
  std::vector<JoinedMessage> out;
  FragmentJoiner joiner;
  for (const auto& m : messages) {
    if (m.data.size() == 8 && NeedsJoining(m.pgn)) {
      auto whole = joiner.Add(m.pgn, m.source, m.data);
      if (whole.empty()) continue;
      out.push_back({&m, std::vector<uint8_t>(whole.begin(), whole.end()), true});
    } else {
      out.push_back({&m, m.data, false});
    }
  }
  return out;
}

}  // namespace lplex::pgn::captures
