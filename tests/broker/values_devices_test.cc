// ValueStore (values_test.go numbers in comments) and the device JSON of
// spec/boat.md §1.8.
#include <nlohmann/json.hpp>

#include "broker/json_buffer.h"
#include "broker/value_store.h"
#include "broker_fixture.h"

namespace lplex::broker::testing {
namespace {

using nlohmann::json;

// #1, #8
TEST_F(BrokerTest, ValuesRecordAndSnapshotShape) {
  auto b = Make();
  Ingest(*b, MakeFrame(129025, 10, {0xAB, 0x01}));
  EXPECT_EQ(b->ValuesJson({}),
            "[{\"name\":\"\",\"src\":10,\"values\":[{\"pgn\":129025,\"ts\":\"2026-03-02T14:00:00Z\","
            "\"data\":\"ab01\",\"seq\":1}]}]");
}

// #3, #7
TEST_F(BrokerTest, ValuesSortedBySourceThenPgn) {
  auto b = Make();
  Ingest(*b, MakeFrame(130306, 20));
  Ingest(*b, MakeFrame(129025, 20));
  Ingest(*b, MakeFrame(129025, 3));
  auto v = b->Values({});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].source, 3);
  EXPECT_EQ(v[1].values[0].pgn, 129025u);
  EXPECT_EQ(v[1].values[1].pgn, 130306u);
}

// #4, #5, #9
TEST_F(BrokerTest, ValuesNameHasPrefixOnlyForClaimedDevices) {
  auto b = Make();
  Ingest(*b, ClaimFrame(1, MakeName(229)));
  Ingest(*b, ProductFrame(1, 100, "GPS 19x"));
  Ingest(*b, MakeFrame(129025, 1));
  Ingest(*b, MakeFrame(129025, 2));
  auto j = json::parse(b->ValuesJson({}));
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["name"], "0x" + can::NameHex(MakeName(229)));
  EXPECT_EQ(j[0]["manufacturer"], "Garmin");
  EXPECT_EQ(j[0]["model_id"], "GPS 19x");
  EXPECT_EQ(j[1]["name"], "");
  EXPECT_FALSE(j[1].contains("manufacturer"));
}

// #6
TEST_F(BrokerTest, EmptyValuesAreAnEmptyArray) { EXPECT_EQ(Make()->ValuesJson({}), "[]"); }

// #10, #11, #12, #17
TEST_F(BrokerTest, ValuesFiltersFollowValueRules) {
  auto b = Make();
  Ingest(*b, ClaimFrame(1, MakeName(229)));
  Ingest(*b, MakeFrame(129025, 1));
  Ingest(*b, MakeFrame(130306, 1));
  Ingest(*b, MakeFrame(129025, 2));  // stats-only
  FilterSpec pgn;
  pgn.pgn = {129025};
  auto v = b->Values(pgn);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].values.size(), 1u);
  FilterSpec m;
  m.manufacturer = {"Garmin"};
  v = b->Values(m);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].source, 1);
  FilterSpec zero;
  zero.manufacturer = {"0"};
  EXPECT_TRUE(b->Values(zero).empty()) << "device criteria need a claimed NAME for /values";
  FilterSpec none;
  none.pgn = {1};
  EXPECT_EQ(b->ValuesJson(none), "[]");
}

TEST_F(BrokerTest, DeviceJsonKeyOrderAndOmitEmpty) {
  auto b = Make();
  Ingest(*b, MakeFrame(129025, 7, {1, 2}));
  EXPECT_EQ(b->DevicesJson(),
            "[{\"src\":7,\"name\":\"\",\"manufacturer\":\"\",\"manufacturer_code\":0,\"device_class\":0,"
            "\"device_function\":0,\"device_instance\":0,\"first_seen\":\"2026-03-02T14:00:00Z\","
            "\"last_seen\":\"2026-03-02T14:00:00Z\",\"packet_count\":1,\"byte_count\":2}]");
  Ingest(*b, ClaimFrame(7, MakeName(381, 5, 21, 130, 25), kT0 + 500000));
  Ingest(*b, ProductFrame(7, 1234, "Zeus<3>", kT0 + 500000));
  const std::string name = can::NameHex(MakeName(381, 5, 21, 130, 25));
  EXPECT_EQ(b->DevicesJson(),
            "[{\"src\":7,\"name\":\"" + name +
                "\",\"manufacturer\":\"B\\u0026G\",\"manufacturer_code\":381,\"device_class\":25,"
                "\"device_function\":130,\"device_instance\":21,\"unique_number\":5,"
                "\"model_id\":\"Zeus\\u003c3\\u003e\",\"product_code\":1234,"
                "\"first_seen\":\"2026-03-02T14:00:00Z\",\"last_seen\":\"2026-03-02T14:00:00.5Z\","
                "\"packet_count\":3,\"byte_count\":144}]");
}

TEST_F(BrokerTest, NewNameDropsProductInfo) {
  auto b = Make();
  Ingest(*b, ClaimFrame(7, MakeName(229)));
  Ingest(*b, ProductFrame(7, 1234, "GPS"));
  Ingest(*b, ClaimFrame(7, MakeName(135)));
  auto d = b->Devices();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].device.product.empty());
  EXPECT_EQ(d[0].device.packet_count, 3u);
}

TEST(JsonString, EscapesLikeGo) {
  std::string out;
  AppendJsonString("a\"b\\c\n\x01<>&\xe2\x80\xa8\xff", &out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\\u003c\\u003e\\u0026\\u2028\\ufffd\"");
}

}  // namespace
}  // namespace lplex::broker::testing
