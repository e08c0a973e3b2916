// Payload builders for the change tests: the two PGNs the reference's tests
// encode (lplex's layouts, src/pgn/lplex_profile.json).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace lplex::changes::testing {

inline void PutU16(std::vector<uint8_t>& p, size_t at, uint16_t v) {
  p[at] = static_cast<uint8_t>(v & 0xFF);
  p[at + 1] = static_cast<uint8_t>(v >> 8);
}

// 127250 Vessel Heading: sid, heading u16 ×0.0001 rad, deviation and
// variation i16 ×0.0001 rad, reference (2 bits, 0 true), 6 reserved bits.
inline std::vector<uint8_t> VesselHeading(double heading_rad, double deviation_rad = 0, double variation_rad = 0,
                                          uint8_t sid = 0) {
  std::vector<uint8_t> p(8, 0);
  p[0] = sid;
  PutU16(p, 1, static_cast<uint16_t>(std::lround(heading_rad / 0.0001)));
  PutU16(p, 3, static_cast<uint16_t>(static_cast<int16_t>(std::lround(deviation_rad / 0.0001))));
  PutU16(p, 5, static_cast<uint16_t>(static_cast<int16_t>(std::lround(variation_rad / 0.0001))));
  p[7] = 0xFC;  // reference true, reserved bits set
  return p;
}

// 130306 Wind Data: sid, speed u16 ×0.01 m/s, angle u16 ×0.0001 rad,
// reference (3 bits), 5 + 16 reserved bits.
constexpr uint8_t kWindTrueNorth = 0;
constexpr uint8_t kWindApparent = 2;
inline std::vector<uint8_t> WindData(double speed_ms, double angle_rad, uint8_t reference, uint8_t sid = 0) {
  std::vector<uint8_t> p(8, 0xFF);
  p[0] = sid;
  PutU16(p, 1, static_cast<uint16_t>(std::lround(speed_ms / 0.01)));
  PutU16(p, 3, static_cast<uint16_t>(std::lround(angle_rad / 0.0001)));
  p[5] = static_cast<uint8_t>(0xF8 | (reference & 0x07));
  return p;
}

}  // namespace lplex::changes::testing
