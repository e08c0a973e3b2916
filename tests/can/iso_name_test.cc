// ISO NAME decode / encode and the manufacturer table (spec/boat.md §1.8).
#include "can/iso_name.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/endian.h"

namespace lplex::can {
namespace {

// The address claim of source 1 in candumpSample1.txt (a Garmin device):
//   <0x18eeff01> [8] 05 a0 be 1c 00 a0 a0 c0
// Read little-endian: 0xc0a0a000_1cbea005. By hand:
//   low word 0x1cbea005: unique = & 0x1fffff = 0x1ea005 = 2007045,
//                        manufacturer = >> 21 = 0b000_1110_0101 = 229
//   byte 4 0x00: instance lower 0, upper 0
//   byte 5 0xa0: function 160
//   byte 6 0xa0: reserved bit 0, class 0xa0 >> 1 = 80
//   byte 7 0xc0: system instance 0, industry group 4 (marine), arbitrary 1
TEST(IsoNameTest, DecodesRealGarminClaim) {
  const std::array<uint8_t, 8> claim = {0x05, 0xa0, 0xbe, 0x1c, 0x00, 0xa0, 0xa0, 0xc0};
  const uint64_t raw = le::Load64(claim.data());
  ASSERT_EQ(raw, 0xc0a0a0001cbea005u);
  const IsoName n = IsoName::Decode(raw);
  EXPECT_EQ(n.unique_number, 2007045u);
  EXPECT_EQ(n.manufacturer_code, 229);
  EXPECT_EQ(n.device_instance_lower, 0);
  EXPECT_EQ(n.device_instance_upper, 0);
  EXPECT_EQ(n.device_instance(), 0);
  EXPECT_EQ(n.device_function, 160);
  EXPECT_FALSE(n.reserved);
  EXPECT_EQ(n.device_class, 80);
  EXPECT_EQ(n.system_instance, 0);
  EXPECT_EQ(n.industry_group, 4);
  EXPECT_TRUE(n.arbitrary_address_capable);
  EXPECT_EQ(ManufacturerName(n.manufacturer_code), "Garmin");
  EXPECT_EQ(NameHex(raw), "c0a0a0001cbea005");
}

// Source 0x23 of the same capture: 9f b9 e3 10 00 82 78 c0, an Airmar
// transducer (class 60 navigation, function 130).
TEST(IsoNameTest, DecodesRealAirmarClaim) {
  const IsoName n = IsoName::Decode(0xc078820010e3b99fu);
  EXPECT_EQ(n.unique_number, 0x03b99fu);
  EXPECT_EQ(n.manufacturer_code, 135);
  EXPECT_EQ(ManufacturerName(n.manufacturer_code), "Airmar");
  EXPECT_EQ(n.device_function, 130);
  EXPECT_EQ(n.device_class, 60);
}

TEST(IsoNameTest, InstanceCombinesUpperAndLower) {
  IsoName n;
  n.manufacturer_code = 135;
  n.device_instance_upper = 2;
  n.device_instance_lower = 5;
  const IsoName back = IsoName::Decode(n.Encode());
  EXPECT_EQ(back.device_instance(), 21);
  EXPECT_EQ(ManufacturerName(back.manufacturer_code), "Airmar");
}

TEST(IsoNameTest, EveryFieldSurvivesEncodeDecode) {
  IsoName n;
  n.unique_number = 0x1FFFFF;
  n.manufacturer_code = 0x7FF;
  n.device_instance_lower = 7;
  n.device_instance_upper = 31;
  n.device_function = 255;
  n.reserved = true;
  n.device_class = 127;
  n.system_instance = 15;
  n.industry_group = 7;
  n.arbitrary_address_capable = true;
  EXPECT_EQ(n.Encode(), ~uint64_t{0});
  EXPECT_EQ(IsoName::Decode(n.Encode()), n);
  for (uint64_t raw : {uint64_t{0}, uint64_t{0xc0a0a0001cbea005}, uint64_t{0x0001000000000000},
                       uint64_t{0x8000000000000001}, uint64_t{0x123456789abcdef0}}) {
    EXPECT_EQ(IsoName::Decode(raw).Encode(), raw) << std::hex << raw;
  }
}

TEST(IsoNameTest, EncodeMasksOverwideFields) {
  IsoName n;
  n.device_instance_lower = 0xFF;  // only 3 bits belong to this field
  EXPECT_EQ(n.Encode(), uint64_t{7} << 32);
}

TEST(IsoNameTest, NameHexIsSixteenLowercaseDigitsWithoutPrefix) {
  EXPECT_EQ(NameHex(0), "0000000000000000");
  EXPECT_EQ(NameHex(1), "0000000000000001");
  EXPECT_EQ(NameHex(0xABCDEF0123456789u), "abcdef0123456789");
  std::array<char, 16> buf{};
  FormatNameHex(0xc078820010e3b99fu, buf);
  EXPECT_EQ(std::string(buf.data(), buf.size()), "c078820010e3b99f");
}

TEST(ManufacturerTest, SpecExamples) {
  EXPECT_EQ(ManufacturerName(229), "Garmin");
  EXPECT_EQ(ManufacturerName(135), "Airmar");
  EXPECT_EQ(ManufacturerName(137), "Simrad");
  EXPECT_EQ(ManufacturerName(275), "Navico");
  EXPECT_EQ(ManufacturerName(358), "Victron");
  EXPECT_EQ(ManufacturerName(341), "Victron Energy");
  EXPECT_EQ(ManufacturerName(381), "B&G");
  EXPECT_EQ(ManufacturerName(591), "Raymarine");
  EXPECT_EQ(ManufacturerName(600), "Furuno");
  for (uint16_t code = 1850; code <= 1855; ++code) EXPECT_EQ(ManufacturerName(code), "Yamaha") << code;
}

TEST(ManufacturerTest, UnknownCodeNamesTheCode) {
  EXPECT_EQ(ManufacturerName(9999), "Unknown (9999)");
  EXPECT_EQ(ManufacturerName(0), "Unknown (0)");
  EXPECT_EQ(ManufacturerName(1856), "Unknown (1856)");
  EXPECT_FALSE(FindManufacturer(2047).has_value());
}

TEST(ManufacturerTest, TableHas140SortedCodesAndRepeatedNames) {
  const auto table = Manufacturers();
  EXPECT_EQ(table.size(), 140u);
  EXPECT_TRUE(std::is_sorted(table.begin(), table.end(),
                             [](const auto& a, const auto& b) { return a.first < b.first; }));
  EXPECT_EQ(table.front().first, 69);  // Maretron
  EXPECT_EQ(table.back().first, 1855);
  // Some names appear under several codes.
  EXPECT_EQ(std::count_if(table.begin(), table.end(), [](const auto& e) { return e.second == "Mastervolt"; }), 3);
  EXPECT_EQ(ManufacturerName(743), "Simrad");
  for (const auto& [code, name] : table) EXPECT_EQ(FindManufacturer(code), name);
}

}  // namespace
}  // namespace lplex::can
