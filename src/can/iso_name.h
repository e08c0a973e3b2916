// The 64-bit ISO 11783 / NMEA 2000 NAME a device announces in its address
// claim (PGN 60928, the first 8 payload bytes read little-endian).
//
//   bits  0-20 unique number          bits 40-47 device function
//   bits 21-31 manufacturer code      bit  48    reserved
//   bits 32-34 device instance lower  bits 49-55 device class
//   bits 35-39 device instance upper  bits 56-59 system instance
//                                     bits 60-62 industry group
//                                     bit  63    arbitrary address capable
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace lplex::can {

struct IsoName {
  uint32_t unique_number = 0;       // 21 bits
  uint16_t manufacturer_code = 0;   // 11 bits
  uint8_t device_instance_lower = 0;  // 3 bits
  uint8_t device_instance_upper = 0;  // 5 bits
  uint8_t device_function = 0;
  bool reserved = false;            // bit 48, kept so Encode(Decode(x)) == x
  uint8_t device_class = 0;         // 7 bits
  uint8_t system_instance = 0;      // 4 bits
  uint8_t industry_group = 0;       // 3 bits (4 = marine)
  bool arbitrary_address_capable = false;

  // (upper << 3) | lower: the single instance number NMEA 2000 tools show.
  uint8_t device_instance() const {
    return static_cast<uint8_t>(device_instance_upper << 3 | device_instance_lower);
  }

  // Splits a NAME into its fields. Every 64-bit value decodes.
  static IsoName Decode(uint64_t name);

  // The inverse of Decode. Fields wider than their bit range are masked.
  uint64_t Encode() const;

  friend bool operator==(const IsoName&, const IsoName&) = default;
};

// The NAME as 16 lowercase hex digits without "0x" (the /devices format).
std::string NameHex(uint64_t name);

// Writes the same 16 digits into `out` without allocating.
void FormatNameHex(uint64_t name, std::span<char, 16> out);

// The manufacturer's name for a NMEA 2000 manufacturer code, or nullopt when
// the code is not in the table (the reference's 140 codes; several names
// appear under more than one code).
std::optional<std::string_view> FindManufacturer(uint16_t code);

// FindManufacturer's name, or "Unknown (<code>)" for codes not in the table.
std::string ManufacturerName(uint16_t code);

// Every (code, name) pair of the table, in ascending code order.
std::span<const std::pair<uint16_t, std::string_view>> Manufacturers();

}  // namespace lplex::can
