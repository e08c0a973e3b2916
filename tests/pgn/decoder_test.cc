#include "pgn/decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/hex.h"
#include "pgn/json_writer.h"

namespace lplex::pgn {
namespace {

std::vector<uint8_t> Bytes(std::string_view hex) {
  auto r = hex::Decode(hex);
  EXPECT_TRUE(r.ok()) << hex;
  return r.ok() ? *r : std::vector<uint8_t>{};
}

std::string DecodeJson(uint32_t pgn, std::string_view hex, std::optional<uint16_t> mfr = std::nullopt,
                       Profile profile = Profile::kLplexFirst, JsonStyle style = {}) {
  DecodedMessage msg;
  const auto data = Bytes(hex);
  if (!Decode(pgn, mfr, data, &msg, profile)) return "<no definition>";
  std::string out;
  AppendFieldsJson(msg, &out, style);
  return out;
}

TEST(Decoder, PositionRapidUpdateEqualsLplexExampleByteForByte) {
  EXPECT_EQ(DecodeJson(129025, "3021601c589a15b7"), R"({"latitude":47.6062,"longitude":-122.3321})");
}

TEST(Decoder, WindDataEqualsLplexExampleByteForByte) {
  EXPECT_EQ(DecodeJson(130306, "0026023930020000"),
            R"({"sid":0,"wind_speed":5.5,"wind_angle":1.2345000000000002,"wind_reference":"apparent"})");
}

TEST(Decoder, NotAvailableRawValueOfAnLplexPgnLeavesTheKeyOutAsLplexHeadDoes) {
  // wind_speed 0xFFFF would be 655.35 m/s in lplex's release; HEAD leaves it out.
  EXPECT_EQ(DecodeJson(130306, "00ffff3930020000"),
            R"({"sid":0,"wind_angle":1.2345000000000002,"wind_reference":"apparent"})");
}

TEST(Decoder, NotAvailableRawValueOfACanboatPgnIsNull) {
  const std::string json = DecodeJson(130306, "00ffff3930020000", std::nullopt, Profile::kCanboat);
  EXPECT_NE(json.find("\"wind_speed\":null"), std::string::npos) << json;
}

TEST(Decoder, CanboatProfileUsesCanboatNamesForTheSamePgn) {
  const std::string json = DecodeJson(130306, "0026023930020000", std::nullopt, Profile::kCanboat);
  EXPECT_NE(json.find("\"wind_speed\":5.5"), std::string::npos) << json;
  EXPECT_NE(json.find("\"reference\":\"Apparent\""), std::string::npos) << json;
}

TEST(Decoder, UnknownPgnHasNoDefinition) {
  DecodedMessage msg;
  const std::vector<uint8_t> data(8, 0);
  EXPECT_FALSE(Decode(1, std::nullopt, data, &msg));
  EXPECT_EQ(msg.definition(), nullptr);
}

TEST(Decoder, ProprietaryVariantIsChosenByTheManufacturerCodeInThePayload) {
  // 130824 from B&G (manufacturer 381, industry 4 = marine): 381 | 3 << 11 | 4 << 13.
  DecodedMessage msg;
  const auto data = Bytes("7d99" "0000000000000000");
  ASSERT_TRUE(Decode(130824, std::nullopt, data, &msg, Profile::kCanboat));
  EXPECT_STREQ(msg.definition()->id, "bGKeyValueData");
}

TEST(Decoder, EmptyPayloadDecodesToNoFieldsWithoutReadingPastIt) {
  DecodedMessage msg;
  ASSERT_TRUE(Decode(130306, std::nullopt, std::span<const uint8_t>(), &msg, Profile::kCanboat));
  std::string out;
  AppendFieldsJson(msg, &out);
  EXPECT_EQ(out, "{}");
}

}  // namespace
}  // namespace lplex::pgn

namespace lplex::pgn {
namespace {

TEST(Decoder, BinaryFieldEndingMidByteMasksTheNextFieldsBits) {
  // 129039's 19-bit communication_state: canboat's "060006", not "060026"
  // (the next field's bits in the last byte).
  const std::string json =
      DecodeJson(129039, "12f14c8b0eec403e0300b94f1f73ffff000006002665990074ffa0", std::nullopt, Profile::kCanboat);
  EXPECT_NE(json.find("\"communication_state\":\"060006\""), std::string::npos) << json;
}

TEST(Decoder, BinaryFieldCutByThePayloadEndShowsTheBytesThatAreThere) {
  // A Garmin 126720 that canboat knows no variant of: the range's catch-all
  // with its payload bytes.
  const std::string json = DecodeJson(126720, "e598ee04040482000000", std::nullopt, Profile::kCanboat);
  EXPECT_NE(json.find("\"data\":\"ee04040482000000\""), std::string::npos) << json;
}

TEST(Decoder, PgnWithoutADefinitionFallsToTheCatchAllOfItsRange) {
  DecodedMessage msg;
  const auto data = Bytes("419fff3664ffffff");  // 65323 from Simrad: not in canboat's database
  ASSERT_TRUE(Decode(65323, std::nullopt, data, &msg));
  EXPECT_TRUE(msg.definition()->fallback);
  EXPECT_EQ(msg.definition()->pgn, 65280u);
  std::string out;
  AppendFieldsJson(msg, &out);
  EXPECT_EQ(out, R"({"manufacturer_code":"Simrad","industry_code":"Marine Industry","data":"ff3664ffffff"})");
}

}  // namespace
}  // namespace lplex::pgn

namespace lplex::pgn {
namespace {

TEST(Decoder, UnsignedSixtyFourBitValuePastInt64IsNotNegative) {
  // The first canboat field of 64 unsigned bits at a fixed position (130833's
  // memory sizes and the like); raw 0xff..fd is neither "not available" (max)
  // nor "error" (max-1), so it must print as a large positive number.
  const Definition* def = nullptr;
  const Field* field = nullptr;
  size_t offset = 0;
  for (const Definition& d : CanboatDefinitions()) {
    size_t bits = 0;
    for (const Field& f : d.Fields()) {
      if (f.bit_length == 0 || (d.sets[0].start >= 0 && &f - d.fields >= d.sets[0].start)) break;
      if (f.bit_length == 64 && f.type == FieldType::kNumber && !(f.flags & kSigned) && f.raw_offset == 0) {
        def = &d;
        field = &f;
        offset = bits;
        break;
      }
      bits += f.bit_length;
    }
    if (def != nullptr) break;
  }
  ASSERT_NE(def, nullptr);
  std::vector<uint8_t> payload((offset + 64) / 8 + 8, 0);
  for (const MatchRule& r : def->Matches()) {
    for (unsigned i = 0; i < r.bit_length; ++i) {
      if ((static_cast<uint64_t>(r.value) >> i) & 1) payload[(r.bit_offset + i) / 8] |= 1u << ((r.bit_offset + i) % 8);
    }
  }
  for (int i = 0; i < 8; ++i) payload[offset / 8 + static_cast<size_t>(i)] = i == 0 ? 0xfd : 0xff;
  DecodedMessage msg;
  DecodeWith(*def, payload, &msg);
  const Node* n = msg.TopLevel(field->key);
  ASSERT_NE(n, nullptr) << def->id << " " << field->key;
  ASSERT_EQ(n->kind, NodeKind::kDouble) << def->id << " " << field->key;
  EXPECT_GT(n->real * (1 / field->resolution), 1.8e19);
}

TEST(Decoder, GroupFunctionValueOfAPgnFieldDoesNotRetargetTheFollowingPairs) {
  // 126208 command (function 1) for PGN 126208 itself, field 2 (its PGN field) = 130306,
  // then field 1 (function code) = 0: the second pair must still be read as 126208's field 1.
  // fc=01, pgn=126208 (0x1ed00: 00 ed 01), prio/reserved=0x08, 2 pairs: (2, 130306 as 3 bytes), (1, 0).
  const std::string json =
      DecodeJson(126208, "0100ed0108" "02" "02" "02fd01" "01" "00", std::nullopt, Profile::kCanboat);
  EXPECT_NE(json.find("\"value\":130306"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"parameter\":1,\"value\":\"Request\"}"), std::string::npos) << json;
}

}  // namespace
}  // namespace lplex::pgn

namespace lplex::pgn {
namespace {

TEST(Decoder, DeviceFunctionIsNamedByTheDeviceClassThatFollowsIt) {
  // 60928: device function (byte 5) is named by the pair (device class, function); the class
  // is in byte 6, after it. Class 90, function 130: "HVAC" (a Lowrance claim in can0-1.pcap).
  const std::string json = DecodeJson(60928, "2f1e80110382b4c0", std::nullopt, Profile::kCanboat);
  EXPECT_NE(json.find("\"device_function\":\"HVAC\""), std::string::npos) << json;
}

}  // namespace
}  // namespace lplex::pgn
