// The two shapes NMEA 2000 traffic takes in lplex:
//  - RawFrame: one CAN frame as it came off the bus or out of a capture
//    (at most 8 bytes; the input of fast-packet reassembly);
//  - Frame: one NMEA 2000 message after reassembly. This is the one type that
//    flows from a source through the broker's ring to the journal, SSE
//    clients and replication (DESIGN.md: "one frame type end to end").
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "can/can_id.h"

namespace lplex::can {

struct RawFrame {
  int64_t timestamp_us = 0;  // µs since the Unix epoch
  uint32_t id = 0;           // 29-bit identifier when extended, else 11-bit
  bool extended = true;
  uint8_t length = 0;        // 0..8
  std::array<uint8_t, 8> data{};

  std::span<const uint8_t> payload() const { return {data.data(), length}; }
};

// A view: `data` belongs to whoever produced the frame and stays valid until
// the producer's next call (a source's next frame, a reader's next Next()).
// Copy the bytes to keep them. Cheap to pass by value.
struct Frame {
  int64_t timestamp_us = 0;       // µs since the Unix epoch (UTC)
  CanHeader header;               // priority, PGN, source, destination
  std::span<const uint8_t> data;  // 0..1785 bytes (the fast-packet maximum)
  uint64_t seq = 0;               // 0 until the broker assigns one (replicas keep the sender's)
  uint8_t bus = 0;                // which configured bus it came from (index into the sources)
};

}  // namespace lplex::can
