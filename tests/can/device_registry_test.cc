// DeviceRegistry: statistics, address claims and product information
// (spec/boat.md §1.8, §8 devices_test).
#include "can/device_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "can/fast_packet.h"
#include "capture_lines.h"
#include "core/endian.h"

namespace lplex::can {
namespace {

using ::testing::ElementsAre;

constexpr int64_t kT0 = 1'700'000'000'000'000;
constexpr uint64_t kGarminName = 0xc0a0a0001cbea005;  // manufacturer 229
constexpr uint64_t kAirmarName = 0xc078820010e3b99f;  // manufacturer 135

std::vector<uint8_t> Claim(uint64_t name) {
  std::vector<uint8_t> d(8);
  le::Store64(d.data(), name);
  return d;
}

void PutString(std::vector<uint8_t>* d, size_t offset, size_t width, const std::string& s, uint8_t pad) {
  for (size_t i = 0; i < width; ++i) (*d)[offset + i] = i < s.size() ? static_cast<uint8_t>(s[i]) : pad;
}

std::vector<uint8_t> ProductInfoPayload(uint16_t code, const std::string& model, const std::string& sw,
                                        const std::string& version, const std::string& serial, uint8_t pad = 0xFF) {
  std::vector<uint8_t> d(134, 0);
  d[0] = 0xba;  // NMEA 2000 database version, not stored
  d[1] = 0x04;
  le::Store16(d.data() + 2, code);
  PutString(&d, 4, 32, model, pad);
  PutString(&d, 36, 40, sw, pad);
  PutString(&d, 76, 24, version, pad);
  PutString(&d, 100, 32, serial, pad);
  d[132] = 1;  // certification level, not stored
  d[133] = 3;  // load equivalency, not stored
  return d;
}

const std::vector<uint8_t> kPosition = {0x30, 0x21, 0x60, 0x1c, 0x58, 0x9a, 0x15, 0xb7};

TEST(DeviceRegistryTest, FirstPacketCreatesStatsOnlyEntry) {
  DeviceRegistry r;
  EXPECT_EQ(r.Observe(kT0, 42, 129025, kPosition), RegistryChange::kNewSource);
  const Device* d = r.Find(42);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->source, 42);
  EXPECT_EQ(d->name, 0u);
  EXPECT_FALSE(d->named());
  EXPECT_TRUE(d->product.empty());
  EXPECT_EQ(d->first_seen_us, kT0);
  EXPECT_EQ(d->last_seen_us, kT0);
  EXPECT_EQ(d->packet_count, 1u);
  EXPECT_EQ(d->byte_count, 8u);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_TRUE(r.NamedDevices().empty());
  EXPECT_EQ(r.Find(43), nullptr);
}

TEST(DeviceRegistryTest, LaterPacketsAddToCountsAndLastSeenOnly) {
  DeviceRegistry r;
  r.Observe(kT0, 42, 129025, kPosition);
  EXPECT_EQ(r.Observe(kT0 + 500, 42, 59904, std::vector<uint8_t>{0x00, 0xEE, 0x00}), RegistryChange::kNone);
  const Device* d = r.Find(42);
  EXPECT_EQ(d->first_seen_us, kT0);
  EXPECT_EQ(d->last_seen_us, kT0 + 500);
  EXPECT_EQ(d->packet_count, 2u);
  EXPECT_EQ(d->byte_count, 11u);
}

TEST(DeviceRegistryTest, ClaimAsFirstFrameNamesTheSource) {
  DeviceRegistry r;
  EXPECT_EQ(r.Observe(kT0, 5, kPgnAddressClaim, Claim(kGarminName)), RegistryChange::kNameChanged);
  const Device* d = r.Find(5);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->name, kGarminName);
  EXPECT_EQ(ManufacturerName(d->iso_name().manufacturer_code), "Garmin");
  EXPECT_EQ(d->packet_count, 1u);
  ASSERT_EQ(r.NamedDevices().size(), 1u);
}

TEST(DeviceRegistryTest, SameNameAgainChangesNothing) {
  DeviceRegistry r;
  r.Observe(kT0, 5, kPgnAddressClaim, Claim(kGarminName));
  EXPECT_EQ(r.Observe(kT0 + 1, 5, kPgnAddressClaim, Claim(kGarminName)), RegistryChange::kNone);
  EXPECT_EQ(r.Find(5)->packet_count, 2u);
}

TEST(DeviceRegistryTest, ClaimAfterTrafficKeepsStats) {
  DeviceRegistry r;
  r.Observe(kT0, 7, 129025, kPosition);
  r.Observe(kT0 + 10, 7, 129025, kPosition);
  EXPECT_EQ(r.Observe(kT0 + 20, 7, kPgnAddressClaim, Claim(kAirmarName)), RegistryChange::kNameChanged);
  const Device* d = r.Find(7);
  EXPECT_EQ(d->name, kAirmarName);
  EXPECT_EQ(d->first_seen_us, kT0);
  EXPECT_EQ(d->last_seen_us, kT0 + 20);
  EXPECT_EQ(d->packet_count, 3u);
  EXPECT_EQ(d->byte_count, 24u);
}

TEST(DeviceRegistryTest, ClaimThenProductInfo) {
  DeviceRegistry r;
  r.Observe(kT0, 10, kPgnAddressClaim, Claim(kGarminName));
  EXPECT_EQ(r.Observe(kT0 + 1, 10, kPgnProductInfo,
                      ProductInfoPayload(4242, "GPS 19X", "3.70", "1.0", "5C1234567")),
            RegistryChange::kProductInfo);
  const Device* d = r.Find(10);
  EXPECT_EQ(d->name, kGarminName);  // the identity stays
  EXPECT_EQ(d->product.product_code, 4242);
  EXPECT_EQ(d->product.model_id, "GPS 19X");
  EXPECT_EQ(d->product.software_version, "3.70");
  EXPECT_EQ(d->product.model_version, "1.0");
  EXPECT_EQ(d->product.model_serial, "5C1234567");
  EXPECT_EQ(d->byte_count, 8u + 134u);
}

TEST(DeviceRegistryTest, IdenticalProductInfoIsNoChange) {
  DeviceRegistry r;
  const auto info = ProductInfoPayload(4242, "GPS 19X", "3.70", "1.0", "5C1234567");
  r.Observe(kT0, 10, kPgnAddressClaim, Claim(kGarminName));
  r.Observe(kT0, 10, kPgnProductInfo, info);
  EXPECT_EQ(r.Observe(kT0, 10, kPgnProductInfo, info), RegistryChange::kNone);
  // Padding with 0x00 instead of 0xFF decodes to the same strings.
  EXPECT_EQ(r.Observe(kT0, 10, kPgnProductInfo, ProductInfoPayload(4242, "GPS 19X", "3.70", "1.0", "5C1234567", 0)),
            RegistryChange::kNone);
}

TEST(DeviceRegistryTest, AnyChangedProductFieldIsReported) {
  DeviceRegistry r;
  r.Observe(kT0, 10, kPgnProductInfo, ProductInfoPayload(4242, "GPS 19X", "3.70", "1.0", "5C1234567"));
  EXPECT_EQ(r.Observe(kT0, 10, kPgnProductInfo, ProductInfoPayload(4242, "GPS 19X", "3.80", "1.0", "5C1234567")),
            RegistryChange::kProductInfo);
  EXPECT_EQ(r.Find(10)->product.software_version, "3.80");
  EXPECT_EQ(r.Observe(kT0, 10, kPgnProductInfo, ProductInfoPayload(4243, "GPS 19X", "3.80", "1.0", "5C1234567")),
            RegistryChange::kProductInfo);
  EXPECT_EQ(r.Find(10)->product.product_code, 4243);
}

TEST(DeviceRegistryTest, NameChangeResetsProductInfoButKeepsStats) {
  DeviceRegistry r;
  r.Observe(kT0, 10, kPgnAddressClaim, Claim(kGarminName));
  r.Observe(kT0 + 1, 10, kPgnProductInfo, ProductInfoPayload(4242, "GPS 19X", "3.70", "1.0", "5C1234567"));
  // Another device took address 10.
  EXPECT_EQ(r.Observe(kT0 + 2, 10, kPgnAddressClaim, Claim(kAirmarName)), RegistryChange::kNameChanged);
  const Device* d = r.Find(10);
  EXPECT_EQ(d->name, kAirmarName);
  EXPECT_TRUE(d->product.empty());
  EXPECT_EQ(d->first_seen_us, kT0);
  EXPECT_EQ(d->packet_count, 3u);
  EXPECT_EQ(d->byte_count, 8u + 134u + 8u);
}

TEST(DeviceRegistryTest, ShortClaimOnlyCountsAsTraffic) {
  DeviceRegistry r;
  std::vector<uint8_t> seven = Claim(kGarminName);
  seven.resize(7);
  EXPECT_EQ(r.Observe(kT0, 3, kPgnAddressClaim, seven), RegistryChange::kNewSource);
  EXPECT_EQ(r.Observe(kT0, 3, kPgnAddressClaim, seven), RegistryChange::kNone);
  EXPECT_EQ(r.Find(3)->name, 0u);
  EXPECT_EQ(r.Find(3)->packet_count, 2u);
}

TEST(DeviceRegistryTest, ShortProductInfoIsIgnored) {
  DeviceRegistry r;
  r.Observe(kT0, 10, kPgnAddressClaim, Claim(kGarminName));
  auto info = ProductInfoPayload(4242, "GPS 19X", "3.70", "1.0", "5C1234567");
  info.resize(133);
  EXPECT_EQ(r.Observe(kT0, 10, kPgnProductInfo, info), RegistryChange::kNone);
  EXPECT_TRUE(r.Find(10)->product.empty());
  EXPECT_EQ(r.Find(10)->byte_count, 8u + 133u);
}

// Decision (as in the reference pipeline, where RecordPacket runs before the
// PGN switch): the product info frame itself makes its source known, so a
// 126996 that is the source's first frame is stored on a stats-only entry.
TEST(DeviceRegistryTest, ProductInfoAsFirstFrameIsStoredOnUnnamedEntry) {
  DeviceRegistry r;
  EXPECT_EQ(r.Observe(kT0, 20, kPgnProductInfo, ProductInfoPayload(7, "DST800", "1.0", "A", "1")),
            RegistryChange::kProductInfo);
  const Device* d = r.Find(20);
  ASSERT_NE(d, nullptr);
  EXPECT_FALSE(d->named());
  EXPECT_EQ(d->product.model_id, "DST800");
  EXPECT_TRUE(r.NamedDevices().empty());  // unnamed entries stay out of the journal tables
  // Its later claim is a new identity: the earlier product info is dropped.
  EXPECT_EQ(r.Observe(kT0 + 1, 20, kPgnAddressClaim, Claim(kAirmarName)), RegistryChange::kNameChanged);
  EXPECT_TRUE(r.Find(20)->product.empty());
}

TEST(DeviceRegistryTest, ClaimOfNameZeroOnStatsOnlyEntryIsNoChange) {
  DeviceRegistry r;
  r.Observe(kT0, 9, 129025, kPosition);
  EXPECT_EQ(r.Observe(kT0, 9, kPgnAddressClaim, Claim(0)), RegistryChange::kNone);
}

TEST(DeviceRegistryTest, StringsStopAtFirstZeroOrFF) {
  DeviceRegistry r;
  auto info = ProductInfoPayload(1, "", "", "", "");
  PutString(&info, 4, 32, std::string("AB\0CD", 5), 0x20);           // cut at 0x00
  PutString(&info, 36, 40, std::string("v1\xff" "2", 4), 0x20);      // cut at 0xFF
  PutString(&info, 76, 24, std::string(24, 'x'), 0x00);             // no terminator: full width
  // model_serial: all padding (0xFF) gives an empty string
  r.Observe(kT0, 1, kPgnProductInfo, info);
  const ProductInfo& p = r.Find(1)->product;
  EXPECT_EQ(p.model_id, "AB");
  EXPECT_EQ(p.software_version, "v1");
  EXPECT_EQ(p.model_version, std::string(24, 'x'));
  EXPECT_EQ(p.model_serial, "");
}

TEST(DeviceRegistryTest, RemoveForgetsTheSourceAndItsNextFrameStartsAFreshEntry) {
  DeviceRegistry r;
  r.Observe(kT0, 10, kPgnAddressClaim, Claim(kGarminName));
  r.Observe(kT0 + 1, 10, kPgnProductInfo, ProductInfoPayload(4242, "GPS 19X", "3.70", "1.0", "5C1234567"));
  r.Observe(kT0 + 2, 11, 129025, kPosition);
  EXPECT_TRUE(r.Remove(10));
  EXPECT_EQ(r.Find(10), nullptr);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_NE(r.Find(11), nullptr);  // other sources untouched
  EXPECT_TRUE(r.NamedDevices().empty());
  // Back on the bus: statistics start over and the identity must be learned again.
  EXPECT_EQ(r.Observe(kT0 + 9, 10, 129025, kPosition), RegistryChange::kNewSource);
  const Device* d = r.Find(10);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->first_seen_us, kT0 + 9);
  EXPECT_EQ(d->packet_count, 1u);
  EXPECT_FALSE(d->named());
  EXPECT_TRUE(d->product.empty());
  EXPECT_EQ(r.size(), 2u);
}

TEST(DeviceRegistryTest, RemoveOfUnknownSourceReturnsFalse) {
  DeviceRegistry r;
  EXPECT_FALSE(r.Remove(7));
  r.Observe(kT0, 7, 129025, kPosition);
  EXPECT_TRUE(r.Remove(7));
  EXPECT_FALSE(r.Remove(7));  // already gone
  EXPECT_EQ(r.size(), 0u);
}

TEST(DeviceRegistryTest, DecodeFixedStringCases) {
  const std::array<uint8_t, 4> plain = {'a', 'b', 'c', 'd'};
  const std::array<uint8_t, 4> nul = {'a', 0x00, 'c', 'd'};
  const std::array<uint8_t, 4> ff = {0xFF, 'b', 'c', 'd'};
  const std::array<uint8_t, 4> spaces = {'a', ' ', ' ', ' '};
  EXPECT_EQ(DecodeFixedString(plain), "abcd");
  EXPECT_EQ(DecodeFixedString(nul), "a");
  EXPECT_EQ(DecodeFixedString(ff), "");
  EXPECT_EQ(DecodeFixedString(spaces), "a   ");  // spaces are not padding
  EXPECT_EQ(DecodeFixedString({}), "");
}

TEST(DeviceRegistryTest, SnapshotsAreSortedBySource) {
  DeviceRegistry r;
  r.Observe(kT0, 200, kPgnAddressClaim, Claim(kAirmarName));
  r.Observe(kT0, 3, 129025, kPosition);
  r.Observe(kT0, 17, kPgnAddressClaim, Claim(kGarminName));
  r.Observe(kT0, 0, kPgnAddressClaim, Claim(kGarminName + 1));
  std::vector<uint8_t> all, named;
  for (const Device& d : r.Snapshot()) all.push_back(d.source);
  for (const Device& d : r.NamedDevices()) named.push_back(d.source);
  EXPECT_THAT(all, ElementsAre(0, 3, 17, 200));
  EXPECT_THAT(named, ElementsAre(0, 17, 200));
  std::vector<uint8_t> visited;
  r.ForEachNamed([&](const Device& d) { visited.push_back(d.source); });
  EXPECT_EQ(visited, named);
  EXPECT_EQ(r.size(), 4u);
}

TEST(DeviceRegistryTest, SynthesizedFramesRebuildTheNamedDevices) {
  DeviceRegistry r;
  r.Observe(kT0, 10, kPgnAddressClaim, Claim(kGarminName));
  r.Observe(kT0, 10, kPgnProductInfo, ProductInfoPayload(4242, "GPS 19X", "3.70", "1.0", "5C1234567"));
  r.Observe(kT0, 35, kPgnAddressClaim, Claim(kAirmarName));
  r.Observe(kT0, 99, 129025, kPosition);  // stats-only: skipped
  const auto frames = r.SynthesizeFrames(kT0 + 5);
  ASSERT_EQ(frames.size(), 3u);
  for (const auto& f : frames) {
    EXPECT_EQ(f.timestamp_us, kT0 + 5);
    EXPECT_EQ(f.header.priority, 6);
    EXPECT_EQ(f.header.destination, 255);
  }
  EXPECT_EQ(frames[1].header.pgn, kPgnProductInfo);
  EXPECT_EQ(frames[1].data.size(), 134u);
  EXPECT_EQ(frames[1].data[4 + 7], 0xFF);  // strings padded with 0xFF

  DeviceRegistry copy;
  for (const auto& f : frames) copy.Observe(f.timestamp_us, f.header.source, f.header.pgn, f.data);
  ASSERT_EQ(copy.size(), 2u);
  for (uint8_t src : {10, 35}) {
    EXPECT_EQ(copy.Find(src)->name, r.Find(src)->name);
    EXPECT_EQ(copy.Find(src)->product, r.Find(src)->product);
  }
  EXPECT_EQ(copy.Find(99), nullptr);
}

TEST(DeviceRegistryTest, EmptyRegistrySynthesizesNothing) {
  DeviceRegistry r;
  EXPECT_TRUE(r.SynthesizeFrames(kT0).empty());
}

TEST(DeviceRegistryCaptureTest, CandumpSample1YieldsThreeIdentifiedDevices) {
  const auto frames = testing::ReadAngleBracketCandump(testing::CapturePath("candumpSample1.txt"), kT0, 1'000);
  FastPacketAssembler assembler;
  DeviceRegistry r;
  for (const RawFrame& f : frames) {
    Frame m;
    if (assembler.Process(f, &m)) r.Observe(m);
  }
  const auto named = r.NamedDevices();
  ASSERT_EQ(named.size(), 3u);
  EXPECT_EQ(named[0].source, 0x00);
  EXPECT_EQ(named[1].source, 0x01);
  EXPECT_EQ(named[2].source, 0x23);
  EXPECT_EQ(named[1].name, kGarminName);
  EXPECT_EQ(named[2].name, kAirmarName);
  EXPECT_EQ(ManufacturerName(named[0].iso_name().manufacturer_code), "Garmin");
  EXPECT_EQ(ManufacturerName(named[2].iso_name().manufacturer_code), "Airmar");

  // Source 0's 126996 (frames "<0x19f01400> [8] 00 86 ba 04 88 42 47 50 ...").
  EXPECT_EQ(named[0].product.product_code, 0x4288);
  EXPECT_EQ(named[0].product.model_id, "GPS17x-NMEA2000");
  EXPECT_EQ(named[0].product.software_version, "2.80");
  EXPECT_EQ(named[0].product.model_serial, "3618530034");
  EXPECT_TRUE(named[1].product.empty());  // source 1 sends no 126996 in this capture
  // The Airmar pads its model id with spaces, which are kept.
  EXPECT_EQ(named[2].product.product_code, 0x381f);
  EXPECT_EQ(named[2].product.model_id, "DST200" + std::string(26, ' '));
  EXPECT_EQ(named[2].product.software_version, "1.004,1.022");
  EXPECT_EQ(named[2].product.model_version, "-03,HW9,OEM0");
  EXPECT_EQ(named[2].product.model_serial, "2482191");
}

}  // namespace
}  // namespace lplex::can
