// The two shapes NMEA 2000 traffic takes in lplex:
//  - RawFrame: one CAN frame as it came off the bus or out of a capture;
//  - Message: one NMEA 2000 message after fast-packet reassembly (a view;
//    the bytes belong to whoever produced it and stay valid until its next call).
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

struct Message {
  int64_t timestamp_us = 0;
  CanHeader header;
  std::span<const uint8_t> data;  // 0..1785 bytes
};

}  // namespace lplex::can
