// B&G's key/value PGN 130824 (canboat bGKeyValueData): after the company
// fields, pairs of (12-bit key, 4-bit length in bytes, value) run to the end
// of the payload. The value's type comes from the key (canboat's
// BANDG_KEY_VALUE), its width from the length. canboatjs reads the first
// pair's value as nothing and every later "pair" from the value bytes; we
// must read every pair. Worked examples A-D are from the research notes
// (/work/notes/canboat-semantics.md §2), values computed by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "capture_messages.h"
#include "core/hex.h"
#include "pgn/decoder.h"
#include "pgn/json_writer.h"
#include "pgn/stream_decoder.h"

namespace lplex::pgn {
namespace {

using nlohmann::json;

std::vector<uint8_t> Bytes(std::string_view hex) {
  auto r = hex::Decode(hex);
  EXPECT_TRUE(r.ok()) << hex;
  return r.ok() ? *r : std::vector<uint8_t>{};
}

// The decoded fields of a 130824 payload as JSON (what a user sees).
json DecodeFields(std::span<const uint8_t> payload) {
  DecodedMessage msg;
  EXPECT_TRUE(Decode(130824, std::nullopt, payload, &msg)) << hex::Encode(payload) << ": " << msg.error();
  if (msg.definition() == nullptr) return json();
  EXPECT_STREQ(msg.definition()->id, "bGKeyValueData");
  std::string out;
  AppendFieldsJson(msg, &out);
  return json::parse(out);
}

json DecodeList(std::string_view hex) {
  const auto payload = Bytes(hex);
  const json fields = DecodeFields(payload);
  EXPECT_TRUE(fields.contains("list")) << fields.dump();
  return fields.value("list", json::array());
}

// One expected pair: the key's label (or its number when canboat has no
// label), the length, and the value: a number, null, or hex text.
struct Pair {
  std::variant<std::string, int> key;
  int length;
  std::variant<double, std::nullptr_t, std::string> value;
};

void ExpectPairs(const json& list, const std::vector<Pair>& expected) {
  ASSERT_EQ(list.size(), expected.size()) << list.dump();
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("pair " + std::to_string(i) + ": " + list[i].dump());
    const Pair& e = expected[i];
    if (std::holds_alternative<std::string>(e.key)) {
      EXPECT_EQ(list[i].at("key"), std::get<std::string>(e.key));
    } else {
      EXPECT_EQ(list[i].at("key"), std::get<int>(e.key));
    }
    EXPECT_EQ(list[i].at("length"), e.length);
    if (std::holds_alternative<double>(e.value)) {
      ASSERT_TRUE(list[i].at("value").is_number());
      EXPECT_NEAR(list[i].at("value").get<double>(), std::get<double>(e.value), 1e-9);
    } else if (std::holds_alternative<std::nullptr_t>(e.value)) {
      EXPECT_TRUE(list[i].at("value").is_null());
    } else {
      EXPECT_EQ(list[i].at("value"), std::get<std::string>(e.value));
    }
  }
}

// Worked example A (can0-1, source 27): one pair, key 261, 4 bytes.
constexpr std::string_view kExampleA = "7d99" "0541" "9f940e00";
// Worked example B (can0-1, source 26): three 2-byte wind angles.
constexpr std::string_view kExampleB = "7d99" "5021" "9014" "5121" "16f4" "5221" "16f4";

TEST(BandGKeyValue, ExampleASailingDistanceToWaypointIs9555_51Metres) {
  ExpectPairs(DecodeList(kExampleA), {{"Sailing Distance to Waypoint", 4, 9555.51}});
}

TEST(BandGKeyValue, ExampleAFromItsTwoFastPacketFramesThroughTheStreamDecoder) {
  // 130824 is not among lplex's 74 fast-packet PGNs: its frames reach the
  // decoder as fragments and the StreamDecoder joins them.
  ASSERT_TRUE(NeedsJoining(130824));
  StreamDecoder stream;
  const auto f0 = Bytes("c0087d9905419f94");
  const auto f1 = Bytes("c10e00ffffffffff");
  EXPECT_EQ(stream.Decode(130824, 27, f0, std::nullopt), nullptr);
  const DecodedMessage* msg = stream.Decode(130824, 27, f1, std::nullopt);
  ASSERT_NE(msg, nullptr);
  std::string out;
  AppendFieldsJson(*msg, &out);
  ExpectPairs(json::parse(out).at("list"), {{"Sailing Distance to Waypoint", 4, 9555.51}});
}

TEST(BandGKeyValue, ExampleBWindDirectionPhaseAndLiftAreSignedAngles) {
  ExpectPairs(DecodeList(kExampleB), {{"Average True Wind Direction", 2, 0.5264},
                                      {"Wind Phase", 2, -0.305},
                                      {"Wind Lift", 2, -0.305}});
}

TEST(BandGKeyValue, ExampleCSignedMaximumIsNotAvailableButAllOnesIsMinusOne) {
  // Key 380 is sent in 1 byte though canboat says 16 bits; 381/382/383/385
  // hold 0x7fff (not available); 384 holds 0xffff = -1 raw, a real -0.0001 rad.
  ExpectPairs(DecodeList("7d99" "7c1102" "7d21ff7f" "7e21ff7f" "7f21ff7f" "8021ffff" "8121ff7f" "8221acff"
                         "832175ff"),
              {{"Active Perf Mode", 1, 2.0},
               {"Gust Bear Away", 2, nullptr},
               {"TWS Bear Away", 2, nullptr},
               {"Heel Compensation", 2, nullptr},
               {"Pilot Net Course", 2, -0.0001},
               {"Pilot Target Wind Angle", 2, nullptr},
               {"Pilot Weather Helm", 2, -0.0084},
               {"Pilot Mean Heel", 2, -0.0139}});
}

TEST(BandGKeyValue, ExampleDLengthWinsOverTheKeysBitsAndAnUnknownKeyIsItsBytesInHex) {
  // Keys 60 and 158 are 16-bit types sent in 4 bytes: read as signed 32-bit.
  // Key 68 is not in canboat's table: its 4 bytes as hex, and the next pair
  // (none here) would still start after them.
  ExpectPairs(DecodeList("7d99" "3c40c9f0ffff" "9e4080cbffff" "4440408effff"),
              {{"Roll Rate", 4, -0.3895}, {"Pitch Angle", 4, -1.344}, {68, 4, std::string("408effff")}});
}

TEST(BandGKeyValue, HeaderOnlyPayloadIsAnEmptyList) {
  // Sources 22 and 25 of can0-1 send 2-byte payloads: the company fields only.
  const json fields = DecodeFields(Bytes("7d99"));
  EXPECT_EQ(fields.at("manufacturer_code"), "B & G");
  EXPECT_EQ(fields.at("list"), json::array());
}

// canboatjs looks the key up among the top-level fields, where 130824's key
// is not: it reads no value, so every later "pair" comes from value bytes
// (example A: 3 pairs, keys 1183 and 14 invented; example B: 6 pairs with
// keys 1168 and 1046). We read exactly the pairs that were sent.
TEST(BandGKeyValue, CanboatjsDefectPairsReadFromValueBytesAreNotProduced) {
  const json a = DecodeList(kExampleA);
  ASSERT_EQ(a.size(), 1u) << a.dump();
  EXPECT_TRUE(a[0].contains("value")) << a.dump();
  const json b = DecodeList(kExampleB);
  ASSERT_EQ(b.size(), 3u) << b.dump();
  for (const auto& pair : {a[0], b[0], b[1], b[2]}) {
    EXPECT_TRUE(pair.at("key").is_string()) << "a key invented from value bytes: " << pair.dump();
    EXPECT_TRUE(pair.at("value").is_number()) << pair.dump();
  }
}

// Every reassembled 130824 message of both can0 captures: the pairs a plain
// walk of the bytes finds (u16 little-endian: key = low 12 bits, length =
// high 4 bits, then `length` value bytes) end exactly at the payload end,
// and the decoder lists exactly those pairs, keys and lengths in order.
TEST(BandGKeyValue, EveryPairOfEveryMessageInTheCan0CapturesIsDecoded) {
  uint64_t messages = 0;
  uint64_t pairs = 0;
  uint64_t unknown_key_pairs = 0;
  for (const char* capture : {"can0-1.pcap", "can0-2.pcap"}) {
    const auto loaded = captures::LoadCapture(capture);
    for (const auto& j : captures::JoinFragments(loaded)) {
      if (j.message->pgn != 130824) continue;
      ++messages;
      SCOPED_TRACE(std::string(capture) + " src " + std::to_string(j.message->source) + " " +
                   hex::Encode(j.payload));
      const auto& p = j.payload;
      ASSERT_GE(p.size(), 2u);
      ASSERT_EQ(p[0] | (p[1] & 0x07) << 8, 381) << "not B&G";
      std::vector<std::pair<int, int>> walked;  // (key, length)
      size_t pos = 2;
      while (pos + 2 <= p.size()) {
        const int w = p[pos] | p[pos + 1] << 8;
        walked.emplace_back(w & 0x0FFF, w >> 12);
        pos += 2 + static_cast<size_t>(w >> 12);
      }
      ASSERT_EQ(pos, p.size()) << "the pairs do not end at the payload end";

      const json fields = DecodeFields(p);
      ASSERT_TRUE(fields.contains("list")) << fields.dump();
      const json& list = fields.at("list");
      ASSERT_EQ(list.size(), walked.size()) << fields.dump();
      DecodedMessage msg;
      ASSERT_TRUE(Decode(130824, std::nullopt, p, &msg));
      // Raw keys from the decoded nodes (the JSON shows labels).
      std::vector<int64_t> raw_keys;
      for (const Node& n : msg.nodes()) {
        if (n.key != nullptr && std::string_view(n.key) == "key") raw_keys.push_back(n.number);
      }
      ASSERT_EQ(raw_keys.size(), walked.size());
      for (size_t i = 0; i < walked.size(); ++i) {
        EXPECT_EQ(raw_keys[i], walked[i].first) << "pair " << i;
        EXPECT_EQ(list[i].at("length"), walked[i].second) << "pair " << i;
        ASSERT_TRUE(list[i].contains("value")) << list[i].dump();
        if (list[i].at("key").is_number()) {
          ++unknown_key_pairs;
          // An unknown key's value is its bytes: two hex digits a byte.
          EXPECT_EQ(list[i].at("value").get<std::string>().size(), 2u * walked[i].second) << list[i].dump();
        }
      }
      pairs += walked.size();
    }
  }
  // Counted independently by the research (/work/notes/canboat-semantics.md §2).
  EXPECT_EQ(messages, 2838u);
  EXPECT_EQ(pairs, 16221u);
  EXPECT_GT(unknown_key_pairs, 0u);  // keys 68, 208, 266-269 are not in canboat's table
}

}  // namespace
}  // namespace lplex::pgn
