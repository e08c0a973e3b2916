// The 29-bit NMEA 2000 / J1939 CAN identifier and its fields.
//
//   bits 26-28 priority | 25 reserved (ignored) | 24 data page |
//   bits 16-23 PF | 8-15 PS | 0-7 source address
//
// PF >= 240 (PDU2): PGN = DP<<16 | PF<<8 | PS, destination = 0xFF (broadcast).
// PF <  240 (PDU1): PGN = DP<<16 | PF<<8, PS is the destination address.
#pragma once

#include <cstdint>

namespace lplex::can {

constexpr uint8_t kBroadcast = 0xFF;

struct CanHeader {
  uint8_t priority = 0;      // 0..7
  uint32_t pgn = 0;          // 0..0x1FFFF
  uint8_t source = 0;
  uint8_t destination = kBroadcast;

  friend bool operator==(const CanHeader&, const CanHeader&) = default;
};

// Splits an identifier into its fields. Bits above 28 are ignored.
CanHeader ParseCanId(uint32_t id);

// Builds the identifier. For PDU1 PGNs the destination goes into PS (and the
// PGN's low byte is dropped); for PDU2 the destination is ignored.
uint32_t BuildCanId(const CanHeader& h);

// True when the PGN is destination-addressed (PDU1, PF < 240).
inline bool IsPdu1(uint32_t pgn) { return ((pgn >> 8) & 0xFF) < 240; }

}  // namespace lplex::can
