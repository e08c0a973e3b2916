// Decoding over HTTP (docs/http.md "Decoded values"): /values/decoded, and
// ?decode=true on /events and /clients/{id}/events, on the boat and per
// instance on the cloud.
#include <map>
#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/http_fixture.h"
#include "http/instance_directory.h"

namespace lplex::http::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::ordered_json;

const std::vector<uint8_t> kPosition = {0x30, 0x21, 0x60, 0x1c, 0x58, 0x9a, 0x15, 0xb7};
const std::vector<uint8_t> kWind = {0x00, 0x26, 0x02, 0x39, 0x30, 0x02, 0x00, 0x00};
constexpr std::string_view kWindFields =
    R"({"sid":0,"wind_speed":5.5,"wind_angle":1.2345000000000002,"wind_reference":"apparent"})";
const std::vector<uint8_t> kGarmin61184 = {0xe5, 0x98, 0xed, 0x04, 0x04, 0x04};
const std::vector<uint8_t> kVictronSoc = {0x66, 0x99, 0xff, 0x0f, 0x4e, 0x25, 0x00, 0x00};

std::string WindFrame(uint64_t seq, uint8_t src) {
  return R"({"seq":)" + std::to_string(seq) + R"(,"ts":"2026-03-02T14:00:00Z","prio":2,"pgn":130306,"src":)" +
         std::to_string(src) + R"(,"dst":255,"data":"0026023930020000")";
}

TEST_F(HttpTest, ValuesDecodedOf130306And129025EqualLplexsJson) {
  Launch();
  Ingest(MakeFrame(129025, 3, kPosition));
  Ingest(MakeFrame(130306, 3, kWind));
  auto r = Get("/values/decoded");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body,
            R"([{"name":"","src":3,"values":[)"
            R"({"pgn":129025,"description":"Position Rapid Update","ts":"2026-03-02T14:00:00Z","seq":1,)"
            R"("fields":{"latitude":47.6062,"longitude":-122.3321}},)"
            R"({"pgn":130306,"description":"Wind Data","ts":"2026-03-02T14:00:00Z","seq":2,"fields":)" +
                std::string(kWindFields) + "}]}]");
}

TEST_F(HttpTest, ValuesDecodedFiltersStillApply) {
  Launch();
  Ingest(MakeFrame(129025, 3, kPosition));
  Ingest(MakeFrame(130306, 3, kWind));
  auto j = json::parse(Get("/values/decoded?pgn=130306").body);
  ASSERT_EQ(j.size(), 1u);
  ASSERT_EQ(j[0]["values"].size(), 1u);
  EXPECT_EQ(j[0]["values"][0]["pgn"], 130306);
  EXPECT_EQ(Get("/values/decoded?manufacturer=Garmin").body, "[]");  // src 3 never claimed
  EXPECT_EQ(Get("/values/decoded?pgn=x").status, 400);
}

TEST_F(HttpTest, ValuesDecodedOf61184FromANonVictronDeviceHaveNullFields) {
  Launch();
  Ingest(ClaimFrame(1, MakeName(229)));
  Ingest(MakeFrame(61184, 1, kGarmin61184));
  auto r = Get("/values/decoded?pgn=61184");
  EXPECT_THAT(r.body, HasSubstr(R"("pgn":61184,"description":"Proprietary Single Frame",)"));
  EXPECT_THAT(r.body, HasSubstr(R"("fields":null})"));
}

TEST_F(HttpTest, EventsWithoutDecodeTrueAreByteForByteUnchanged) {
  Launch();
  Conn absent(port_), off(port_), other(port_);
  OpenStream(absent, "/events");
  OpenStream(off, "/events?decode=false");
  OpenStream(other, "/events?decode=1");  // lplex: only "true" turns it on
  Ingest(MakeFrame(130306, 7, kWind));
  const std::string want = "data: " + WindFrame(1, 7) + "}\n\n";
  for (Conn* c : {&absent, &off, &other}) {
    ASSERT_TRUE(c->ReadBodyUntil("\n\n"));
    EXPECT_EQ(c->body(), want);
  }
}

TEST_F(HttpTest, EventsDecodeTrueAddsDecodedAsTheLastKeyAsLplexHead) {
  Launch();
  Conn c(port_);
  OpenStream(c, "/events?decode=true");
  Ingest(MakeFrame(130306, 7, kWind));
  ASSERT_TRUE(c.ReadBodyUntil("\n\n"));
  EXPECT_EQ(c.body(), "data: " + WindFrame(1, 7) + R"(,"decoded":)" + std::string(kWindFields) + "}\n\n");
}

TEST_F(HttpTest, EventsDecodeTrueFiltersStillApplyAndDeviceEventsStayPlain) {
  Launch();
  Conn c(port_);
  OpenStream(c, "/events?decode=true&pgn=130306");
  Ingest(ClaimFrame(7, MakeName(229)));  // a device event reaches every stream, undecoded
  Ingest(MakeFrame(129025, 7, kPosition));
  Ingest(MakeFrame(130306, 7, kWind));
  ASSERT_TRUE(c.ReadBodyUntil("data: ", 2));
  auto ev = Conn::Events(c.body());
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_THAT(ev[0], HasSubstr(R"({"type":"device")"));
  EXPECT_THAT(ev[0], Not(HasSubstr("decoded")));
  EXPECT_THAT(ev[1], HasSubstr(R"("pgn":130306)"));
  EXPECT_THAT(ev[1], HasSubstr(R"("decoded":{"sid":0,)"));
}

TEST_F(HttpTest, SessionEventsDecodeTrueAddsDecodedWithTheSendersManufacturer) {
  Launch();
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm", R"({"buffer_timeout":"PT5M"})").status, 200);
  Ingest(ClaimFrame(1, MakeName(229)));                          // seq 1
  Ingest(ClaimFrame(2, MakeName(358)));                          // seq 2
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm/ack", R"({"seq":2})").status, 204);
  Ingest(MakeFrame(61184, 1, kGarmin61184));                     // seq 3
  Ingest(MakeFrame(61184, 2, kVictronSoc));                      // seq 4
  Ingest(MakeFrame(130306, 3, kWind));                           // seq 5
  Conn c(port_), plain(port_);
  OpenStream(c, "/clients/helm/events?decode=true");
  ASSERT_TRUE(c.ReadBodyUntil("data: ", 3));
  auto ev = Conn::Events(c.body());
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_THAT(ev[0], HasSubstr(R"("data":"e598ed040404","decoded":null})"));
  EXPECT_THAT(ev[1], HasSubstr(R"("decoded":{"manufacturer_code":358,"industry_code":4,"register":4095,)"));
  EXPECT_EQ(ev[2], WindFrame(5, 3) + R"(,"decoded":)" + std::string(kWindFields) + "}");
  OpenStream(plain, "/clients/helm/events");
  ASSERT_TRUE(plain.ReadBodyUntil("data: ", 3));
  for (const std::string& e : Conn::Events(plain.body())) EXPECT_THAT(e, Not(HasSubstr("decoded")));
}

// ---- the cloud serves the same per instance --------------------------------

class OneInstance : public InstanceDirectory {
 public:
  explicit OneInstance(std::shared_ptr<broker::Broker> b) : broker_(std::move(b)) {}
  std::vector<InstanceSummary> List() override { return {}; }
  std::optional<InstanceStatus> Find(std::string_view id) override {
    if (id != "alpha") return std::nullopt;
    InstanceStatus s;
    s.id = "alpha";
    return s;
  }
  std::shared_ptr<broker::Broker> BrokerFor(std::string_view id, bool) override {
    return id == "alpha" ? broker_ : nullptr;
  }
  std::optional<std::vector<ReplicationEvent>> ReplicationEvents(std::string_view, size_t) override {
    return std::nullopt;
  }

 private:
  std::shared_ptr<broker::Broker> broker_;
};

TEST_F(HttpTest, CloudServesDecodedValuesAndDecodedEventsPerInstance) {
  broker::BrokerOptions bo;
  bo.ring_capacity = 1024;
  bo.replica = true;
  bo.clock = &clock_;
  auto b = broker::Broker::Create(std::move(bo));
  ASSERT_TRUE(b.ok());
  std::shared_ptr<broker::Broker> instance = std::move(b).value();
  ServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  o.clock = &clock_;
  auto s = Server::CreateCloud(std::move(o), std::make_shared<OneInstance>(instance));
  ASSERT_TRUE(s.ok());
  server_ = std::move(s).value();
  ASSERT_TRUE(server_->Start().ok());
  port_ = server_->port();

  Conn c(port_);
  OpenStream(c, "/instances/alpha/events?decode=true");
  auto wind = MakeFrame(130306, 7, kWind);
  wind.frame.seq = 1;
  instance->Ingest(wind.get());
  ASSERT_TRUE(c.ReadBodyUntil("\n\n"));
  EXPECT_EQ(c.body(), "data: " + WindFrame(1, 7) + R"(,"decoded":)" + std::string(kWindFields) + "}\n\n");
  auto r = Get("/instances/alpha/values/decoded");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, instance->DecodedValuesJson({}));
  EXPECT_THAT(r.body, HasSubstr(R"("fields":)" + std::string(kWindFields)));
}

}  // namespace
}  // namespace lplex::http::testing
