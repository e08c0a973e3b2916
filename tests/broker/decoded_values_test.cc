// Decoding in the broker (docs/http.md "Decoded values"): /values/decoded
// bodies, and the "decoded" key ?decode=true subscribers get, decoded once
// per frame while plain subscribers keep the shared bytes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "broker/broker_fixture.h"
#include "broker/decoded_json.h"
#include "broker/value_store.h"

namespace lplex::broker::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::ordered_json;  // keeps the server's key order

// lplex's own outputs (tests/pgn/lplex_vectors.jsonl, spec/boat.md §6.4).
const std::vector<uint8_t> kPosition = {0x30, 0x21, 0x60, 0x1c, 0x58, 0x9a, 0x15, 0xb7};
constexpr std::string_view kPositionFields = R"({"latitude":47.6062,"longitude":-122.3321})";
const std::vector<uint8_t> kWind = {0x00, 0x26, 0x02, 0x39, 0x30, 0x02, 0x00, 0x00};
constexpr std::string_view kWindFields =
    R"({"sid":0,"wind_speed":5.5,"wind_angle":1.2345000000000002,"wind_reference":"apparent"})";
// 61184 from a Garmin (229): lplex decodes only Victron's (358) variant.
const std::vector<uint8_t> kGarmin61184 = {0xe5, 0x98, 0xed, 0x04, 0x04, 0x04};
const std::vector<uint8_t> kVictronSoc = {0x66, 0x99, 0xff, 0x0f, 0x4e, 0x25, 0x00, 0x00};
// Rudder (127245): lplex names it but has no decoder; canboat's applies.
const std::vector<uint8_t> kRudder = {0x00, 0xf8, 0x64, 0x00, 0x38, 0xff, 0xff, 0xff};

// The fragments of one fast-packet transfer of `payload` (sequence 1).
std::vector<std::vector<uint8_t>> Fragments(const std::vector<uint8_t>& payload) {
  std::vector<std::vector<uint8_t>> out;
  std::vector<uint8_t> f = {0x20, static_cast<uint8_t>(payload.size())};
  size_t i = 0;
  for (; i < 6 && i < payload.size(); ++i) f.push_back(payload[i]);
  while (f.size() < 8) f.push_back(0xff);
  out.push_back(f);
  for (uint8_t n = 1; i < payload.size(); ++n) {
    f = {static_cast<uint8_t>(0x20 | n)};
    for (size_t k = 0; k < 7 && i < payload.size(); ++k, ++i) f.push_back(payload[i]);
    while (f.size() < 8) f.push_back(0xff);
    out.push_back(f);
  }
  return out;
}

// A Man Overboard Notification (127233): fast-packet in canboat, not in
// lplex's reassembly list, so it reaches the broker as fragments.
std::vector<uint8_t> MobPayload() {
  std::vector<uint8_t> p(35, 0xff);
  p[0] = 1;  // sid
  p[1] = 0x78, p[2] = 0x56, p[3] = 0x34, p[4] = 0x12;  // mob_emitter_id 305419896
  return p;
}

TEST_F(BrokerTest, DecodedValuesOf130306And129025EqualLplexsJson) {
  auto b = Make();
  Ingest(*b, MakeFrame(129025, 3, kPosition));
  Ingest(*b, MakeFrame(130306, 3, kWind, kT0 + 1));
  EXPECT_EQ(b->DecodedValuesJson({}),
            std::string(R"([{"name":"","src":3,"values":[)") +
                R"({"pgn":129025,"description":"Position Rapid Update","ts":"2026-03-02T14:00:00Z","seq":1,"fields":)" +
                std::string(kPositionFields) + "}," +
                R"({"pgn":130306,"description":"Wind Data","ts":"2026-03-02T14:00:00.000001Z","seq":2,"fields":)" +
                std::string(kWindFields) + "}]}]");
}

TEST_F(BrokerTest, DecodedValuesOfAnEmptyStoreIsAnEmptyArray) {
  auto b = Make();
  EXPECT_EQ(b->DecodedValuesJson({}), "[]");
}

TEST_F(BrokerTest, DecodedValuesOfACanboatOnlyPgnUseSnakeCaseNames) {
  auto b = Make();
  Ingest(*b, MakeFrame(127245, 4, kRudder));
  auto j = json::parse(b->DecodedValuesJson({}));
  ASSERT_EQ(j.size(), 1u);
  const json& v = j[0]["values"][0];
  EXPECT_EQ(v["pgn"], 127245);
  EXPECT_EQ(v["description"], "Rudder");
  EXPECT_EQ(v["fields"].dump(),
            R"({"instance":0,"direction_order":"No Order","angle_order":0.01,"position":-0.02})");
}

TEST_F(BrokerTest, DecodedValuesOf61184FromANonVictronDeviceHaveNullFields) {
  auto b = Make();
  Ingest(*b, ClaimFrame(1, MakeName(229)));
  Ingest(*b, MakeFrame(61184, 1, kGarmin61184));
  Ingest(*b, ClaimFrame(2, MakeName(358)));
  Ingest(*b, MakeFrame(61184, 2, kVictronSoc));
  FilterSpec only;
  only.pgn = {61184};
  auto j = json::parse(b->DecodedValuesJson(only));
  ASSERT_EQ(j.size(), 2u);
  // lplex's registry names the PGN, not the variant, in both cases.
  EXPECT_EQ(j[0]["values"][0]["description"], "Proprietary Single Frame");
  EXPECT_TRUE(j[0]["values"][0]["fields"].is_null());
  EXPECT_EQ(j[1]["values"][0]["description"], "Proprietary Single Frame");
  // The server keeps lookups bare (lplexdump alone wraps them).
  EXPECT_EQ(j[1]["values"][0]["fields"].dump(),
            R"({"manufacturer_code":358,"industry_code":4,"register":4095,"payload":9550})");
}

TEST_F(BrokerTest, DecodedValuesLeaveOutA61184TooShortForLplexsDispatch) {
  auto b = Make();
  Ingest(*b, MakeFrame(61184, 1, {0x66}));  // lplex: decode error, value left out
  EXPECT_EQ(b->DecodedValuesJson({}), "[]");
}

TEST_F(BrokerTest, DecodedValuesFiltersStillApply) {
  auto b = Make();
  Ingest(*b, ClaimFrame(1, MakeName(229)));
  Ingest(*b, MakeFrame(129025, 1, kPosition));
  Ingest(*b, MakeFrame(130306, 1, kWind));
  Ingest(*b, MakeFrame(129025, 2, kPosition));  // unclaimed source
  FilterSpec pgn;
  pgn.pgn = {129025};
  auto j = json::parse(b->DecodedValuesJson(pgn));
  ASSERT_EQ(j.size(), 2u);
  ASSERT_EQ(j[0]["values"].size(), 1u);
  EXPECT_EQ(j[0]["values"][0]["pgn"], 129025);
  FilterSpec garmin;
  garmin.manufacturer = {"Garmin"};
  j = json::parse(b->DecodedValuesJson(garmin));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["src"], 1);
  EXPECT_EQ(j[0]["name"], "0x" + can::NameHex(MakeName(229)));
  EXPECT_EQ(j[0]["manufacturer"], "Garmin");
  ASSERT_EQ(j[0]["values"].size(), 3u);  // lplex decodes the address claim too
  EXPECT_EQ(j[0]["values"][0]["pgn"], 60928);
  FilterSpec exclude;
  exclude.exclude_pgn = {60928, 129025, 130306};
  EXPECT_EQ(b->DecodedValuesJson(exclude), "[]");
}

TEST_F(BrokerTest, DecodedValuesLeaveOutASourceWithNothingDecodable) {
  auto b = Make();
  Ingest(*b, MakeFrame(1, 9, {1, 2, 3, 4, 5, 6, 7, 8}));  // no definition, no catch-all below 59392
  Ingest(*b, MakeFrame(129025, 8, kPosition));
  auto j = json::parse(b->DecodedValuesJson({}));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["src"], 8);
}

TEST_F(BrokerTest, DecodedValuesJoinFragmentsOfFastPacketPgnsLplexLeavesSplit) {
  auto b = Make();
  const auto frags = Fragments(MobPayload());
  ASSERT_EQ(frags.size(), 6u);
  for (size_t i = 0; i + 1 < frags.size(); ++i) Ingest(*b, MakeFrame(127233, 5, frags[i], kT0 + i));
  // /values shows the last fragment (as lplex); no complete payload yet.
  EXPECT_EQ(b->DecodedValuesJson({}), "[]");
  Ingest(*b, MakeFrame(127233, 5, frags.back(), kT0 + 5));
  auto j = json::parse(b->DecodedValuesJson({}));
  ASSERT_EQ(j.size(), 1u);
  const json& v = j[0]["values"][0];
  EXPECT_EQ(v["description"], "Man Overboard Notification");
  EXPECT_EQ(v["seq"], 6);
  EXPECT_EQ(v["ts"], "2026-03-02T14:00:00.000005Z");
  EXPECT_EQ(v["fields"]["sid"], 1);
  EXPECT_EQ(v["fields"]["mob_emitter_id"], 305419896);
  EXPECT_TRUE(v["fields"].contains("mmsi_of_vessel_of_origin"));  // the whole 35 bytes decoded
  // The next transfer's first fragment leaves the last whole payload shown.
  Ingest(*b, MakeFrame(127233, 5, frags[0], kT0 + 6));
  EXPECT_EQ(json::parse(b->DecodedValuesJson({}))[0]["values"][0]["seq"], 6);
  EXPECT_THAT(b->ValuesJson({}), HasSubstr(R"("seq":7})"));
}

TEST_F(BrokerTest, ChargerStatusFragmentsAreJoinedAndDecodedWithLplexsLayout) {
  // 127507 is fast-packet in canboat and on the wire (BEP, can0-1.pcap);
  // lplex decodes each fragment as if it were the message (instance 192).
  auto b = Make();
  Ingest(*b, MakeFrame(127507, 1, {0xc0, 0x08, 0x00, 0x01, 0xf0, 0xfc, 0xff, 0xff}));
  Ingest(*b, MakeFrame(127507, 1, {0xc1, 0x00, 0x8f, 0xff, 0xff, 0xff, 0xff, 0xff}));
  auto j = json::parse(b->DecodedValuesJson({}));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["values"][0]["fields"].dump(),
            R"({"instance":0,"battery_instance":1,"operating_state":0,"charger_enable":0})");
}

// ---- ?decode=true subscribers ----------------------------------------------

TEST_F(BrokerTest, DecodingSubscriberGetsDecodedKeyLastAsLplexHead) {
  auto b = Make();
  auto plain = b->Subscribe({});
  auto dec = b->Subscribe({}, {}, /*decoded=*/true);
  Ingest(*b, MakeFrame(130306, 7, kWind));
  const std::string base =
      R"({"seq":1,"ts":"2026-03-02T14:00:00Z","prio":2,"pgn":130306,"src":7,"dst":255,"data":"0026023930020000")";
  EXPECT_EQ(DrainSubscriber(*plain), std::vector<std::string>{base + "}"});
  EXPECT_EQ(DrainSubscriber(*dec), std::vector<std::string>{base + R"(,"decoded":)" + std::string(kWindFields) + "}"});
}

TEST_F(BrokerTest, DecodingSubscriberGetsNullDecodedFor61184FromANonVictronDevice) {
  auto b = Make();
  Ingest(*b, ClaimFrame(1, MakeName(229)));
  auto dec = b->Subscribe({}, {}, true);
  Ingest(*b, MakeFrame(61184, 1, kGarmin61184));
  auto got = DrainSubscriber(*dec);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], HasSubstr(R"("data":"e598ed040404","decoded":null})"));
}

TEST_F(BrokerTest, DecodingSubscriberGetsNoDecodedKeyWhereNothingDecodes) {
  auto b = Make();
  auto dec = b->Subscribe({}, {}, true);
  Ingest(*b, MakeFrame(1, 9));              // no definition, no catch-all below 59392
  Ingest(*b, MakeFrame(61184, 1, {0x66}));  // lplex: decode error
  const auto got = DrainSubscriber(*dec);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[0], HasSubstr(R"("data":"0102030405060708"})"));
  EXPECT_THAT(got[1], HasSubstr(R"("data":"66"})"));
}

TEST_F(BrokerTest, DecodingSubscriberDecodesTheFragmentThatCompletesATransfer) {
  auto b = Make();
  auto dec = b->Subscribe({}, {}, true);
  for (const auto& f : Fragments(MobPayload())) Ingest(*b, MakeFrame(127233, 5, f));
  auto got = DrainSubscriber(*dec);
  ASSERT_EQ(got.size(), 6u);
  for (size_t i = 0; i + 1 < got.size(); ++i) EXPECT_THAT(got[i], Not(HasSubstr("decoded"))) << got[i];
  auto last = json::parse(got.back());
  EXPECT_EQ(last["decoded"]["mob_emitter_id"], 305419896);
}

TEST_F(BrokerTest, PlainSubscribersShareTheRingsBufferWhileADecodingOneListens) {
  auto b = Make();
  auto c = b->NewConsumer(1, {});
  auto plain = b->Subscribe({});
  auto dec = b->Subscribe({}, {}, true);
  Ingest(*b, MakeFrame(129025, 3, kPosition));
  JsonRef p, d;
  ASSERT_TRUE(plain->TryPop(&p));
  ASSERT_TRUE(dec->TryPop(&d));
  ConsumerItem item;
  ASSERT_EQ(c->Next(&item, std::chrono::milliseconds(0)), NextResult::kFrame);
  EXPECT_EQ(p.view().data(), item.json.view().data());  // the same bytes, not a copy
  EXPECT_NE(d.view().data(), p.view().data());
  EXPECT_THAT(std::string(d.view()), HasSubstr(R"(,"decoded":{"latitude":47.6062,"longitude":-122.3321}})"));
}

TEST_F(BrokerTest, DecodingSubscriberFiltersStillApply) {
  auto b = Make();
  FilterSpec f;
  f.pgn = {130306};
  auto dec = b->Subscribe(f, {}, true);
  Ingest(*b, MakeFrame(129025, 3, kPosition));
  Ingest(*b, MakeFrame(130306, 3, kWind));
  auto got = DrainSubscriber(*dec);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], HasSubstr(R"("pgn":130306)"));
  EXPECT_THAT(got[0], HasSubstr(R"("decoded":{"sid":0)"));
}

// ---- helpers ----------------------------------------------------------------

TEST(FramePayload, ReadsTheTrailingDataHexAndRefusesADeviceEvent) {
  std::vector<uint8_t> out;
  EXPECT_TRUE(FramePayload(R"({"seq":1,"ts":"x","prio":2,"pgn":1,"src":1,"dst":255,"data":"0aFF"})", &out));
  EXPECT_EQ(out, (std::vector<uint8_t>{0x0a, 0xff}));
  EXPECT_FALSE(FramePayload(R"({"type":"device","src":1})", &out));
  EXPECT_FALSE(FramePayload(R"({"data":"0g"})", &out));
}

}  // namespace
}  // namespace lplex::broker::testing
