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
