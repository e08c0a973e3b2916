// Every endpoint of spec/boat.md §2 (plus /livez, /readyz) through a real
// client over loopback: status codes, headers, exact bodies and messages.
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/http_fixture.h"

namespace lplex::http::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using nlohmann::json;

void ExpectCors(const HttpResponse& r) {
  EXPECT_EQ(r.header("access-control-allow-origin"), "*");
  EXPECT_EQ(r.header("access-control-allow-methods"), "GET, PUT, POST, PATCH, DELETE, OPTIONS");
  EXPECT_EQ(r.header("access-control-allow-headers"), "*");
  EXPECT_EQ(r.header("access-control-expose-headers"), "*");
}

void ExpectError(const HttpResponse& r, int status, std::string_view message) {
  EXPECT_EQ(r.status, status);
  EXPECT_EQ(r.body, std::string(message) + "\n");
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  ExpectCors(r);
}

TEST_F(HttpTest, UnknownPathIs404PageNotFoundWithCors) {
  Launch();
  ExpectError(Get("/nope"), 404, "404 page not found");
  ExpectError(Get("/events/"), 404, "404 page not found");
  ExpectError(Get("/clients//events"), 404, "404 page not found");
}

TEST_F(HttpTest, WrongMethodIs405WithAllowHeader) {
  Launch();
  auto r = Fetch(port_, "POST", "/devices", "{}");
  ExpectError(r, 405, "Method Not Allowed");
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
  r = Fetch(port_, "GET", "/send");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "POST");
  r = Fetch(port_, "GET", "/clients/helm/ack");
  EXPECT_EQ(r.header("allow"), "PUT");
}

TEST_F(HttpTest, OptionsOnAnyPathIs204WithMaxAgeEvenWithApiKey) {
  ServerOptions o;
  o.api_key = "secret";
  Launch(o);
  for (const char* path : {"/devices", "/no/such/path", "/clients/x/ack"}) {
    auto r = Fetch(port_, "OPTIONS", path);
    EXPECT_EQ(r.status, 204) << path;
    EXPECT_EQ(r.header("access-control-max-age"), "86400");
    ExpectCors(r);
  }
}

TEST_F(HttpTest, HeadOnGetRouteSendsHeadersWithoutBody) {
  Launch();
  Conn c(port_);
  ASSERT_TRUE(c.SendRequest("HEAD", "/devices"));
  auto r = c.ReadResponse(/*head=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-length"), "2");  // what GET would send: []
  // Keep-alive: the next request on the same connection finds no stray body bytes.
  ASSERT_TRUE(c.SendRequest("GET", "/devices"));
  auto g = c.ReadResponse();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->body, "[]");
}

TEST_F(HttpTest, DevicesListsClaimedGarminWithoutTrailingNewline) {
  Launch();
  Ingest(ClaimFrame(5, MakeName(229)));
  auto r = Get("/devices");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  ASSERT_FALSE(r.body.empty());
  EXPECT_NE(r.body.back(), '\n');
  auto j = json::parse(r.body);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["manufacturer"], "Garmin");
  EXPECT_EQ(j[0]["src"], 5);
  ExpectCors(r);
}

TEST_F(HttpTest, ValuesGroupsBySourceAndFiltersByPgn) {
  Launch();
  Ingest(MakeFrame(129025, 1));
  Ingest(MakeFrame(130306, 1));
  Ingest(MakeFrame(129025, 2));
  auto r = Get("/values?pgn=129025");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.back(), '\n');
  auto j = json::parse(r.body);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["src"], 1);
  ASSERT_EQ(j[0]["values"].size(), 1u);
  EXPECT_EQ(j[0]["values"][0]["pgn"], 129025);
  EXPECT_EQ(Get("/values").status, 200);
}

TEST_F(HttpTest, ValuesBadFilterValueIs400NamingIt) {
  Launch();
  ExpectError(Get("/values?pgn=x"), 400, "invalid pgn \"x\": not a decimal number (valid: 0..131071)");
  ExpectError(Get("/values/decoded?name=zz"), 400, "invalid name \"zz\": must be hex (1..16 digits, optional 0x)");
}

// The newcomer's `GET /events?pgn=200000` was told "not a decimal number".
TEST_F(HttpTest, EventsPgnAboveMaxIs400OutOfRange) {
  Launch();
  ExpectError(Get("/events?pgn=200000"), 400, "invalid pgn \"200000\": out of range (valid: 0..131071)");
  ExpectError(Get("/events?src=256"), 400, "invalid src \"256\": out of range (valid: 0..255)");
}

// Decoded CR, LF and NUL come back escaped as Go's %q, never raw in the body.
TEST_F(HttpTest, EventsFilterValueWithCrLfOrNulIsEchoedEscaped) {
  Launch();
  ExpectError(Get("/events?pgn=%0d%0aX-Injected:%201"), 400,
              R"(invalid pgn "\r\nX-Injected: 1": not a decimal number (valid: 0..131071))");
  ExpectError(Get("/events?pgn=%00"), 400, R"(invalid pgn "\x00": not a decimal number (valid: 0..131071))");
  ExpectError(Fetch(port_, "PUT", "/clients/helm", R"({"filter":{"name":["\r\nX: 1"]}})"), 400,
              R"(invalid CAN name "\r\nX: 1": must be hex)");
}

TEST_F(HttpTest, BadPercentEncodingInQueryIs400) {
  Launch();
  auto r = Get("/values?pgn=%zz");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("bad percent-encoding"));
}

// ---- sessions ---------------------------------------------------------------

TEST_F(HttpTest, CreateSessionAnswersClientIdSeqDevicesInOrderWithNewline) {
  Launch();
  Ingest(ClaimFrame(5, MakeName(229)));
  Ingest(MakeFrame(129025, 5));
  auto r = Fetch(port_, "PUT", "/clients/helm", R"({"buffer_timeout":"PT5M"})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_THAT(r.body, StartsWith("{\"client_id\":\"helm\",\"seq\":2,\"devices\":["));
  EXPECT_EQ(r.body.back(), '\n');
  EXPECT_EQ(r.body.find("cursor"), std::string::npos);  // omitted while 0
}

TEST_F(HttpTest, CreateSessionCursorAppearsAfterAck) {
  Launch();
  for (int i = 0; i < 50; ++i) Ingest(MakeFrame(129025, 1));
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm", R"({"buffer_timeout":"PT5M"})").status, 200);
  EXPECT_EQ(Fetch(port_, "PUT", "/clients/helm/ack", R"({"seq":42})").status, 204);
  auto r = Fetch(port_, "PUT", "/clients/helm", R"({"buffer_timeout":"PT5M"})");
  EXPECT_THAT(r.body, HasSubstr("\"cursor\":42,"));
  // PT0S resets the cursor.
  r = Fetch(port_, "PUT", "/clients/helm", R"({"buffer_timeout":"PT0S"})");
  EXPECT_EQ(r.body.find("cursor"), std::string::npos);
}

TEST_F(HttpTest, CreateSessionBadInputsAre400WithTheSpecMessages) {
  Launch();
  ExpectError(Fetch(port_, "PUT", "/clients/bad%20client", "{}"), 400, "invalid client ID (valid: 1 to 64 of A-Z a-z 0-9 _ -)");
  ExpectError(Fetch(port_, "PUT", "/clients/" + std::string(65, 'a'), "{}"), 400, "invalid client ID (valid: 1 to 64 of A-Z a-z 0-9 _ -)");
  auto r = Fetch(port_, "PUT", "/clients/helm", R"({"buffer_timeout":"invalid"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, StartsWith("invalid buffer_timeout: "));
  EXPECT_THAT(r.body, HasSubstr("invalid"));
  ExpectError(Fetch(port_, "PUT", "/clients/helm", R"({"filter":{"name":["zz"]}})"), 400,
              "invalid CAN name \"zz\": must be hex");
  ExpectError(Fetch(port_, "PUT", "/clients/helm", R"({"filter":{"exclude_name":["xyz"]}})"), 400,
              "invalid exclude CAN name \"xyz\": must be hex");
  r = Fetch(port_, "PUT", "/clients/helm", "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, StartsWith("invalid request body"));
  r = Fetch(port_, "PUT", "/clients/helm", "");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, StartsWith("invalid request body"));
  r = Fetch(port_, "PUT", "/clients/helm", R"({"filter":{"pgn":["x"]}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("pgn"));
  r = Fetch(port_, "PUT", "/clients/helm", R"({"filter":{"instance":[300]}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("300"));
}

TEST_F(HttpTest, CreateSessionEmptyObjectIsEnoughAndFiltersAreStored) {
  Launch();
  EXPECT_EQ(Fetch(port_, "PUT", "/clients/helm", "{}").status, 200);
  auto r = Fetch(port_, "PUT", "/clients/nav",
                 R"({"buffer_timeout":"PT1M","filter":{"pgn":[129025],"manufacturer":["Garmin"],)"
                 R"("name":["001c6e4000200000"],"exclude_pgn":[60928,126996],"instance":"AQI="}})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto s = broker_->GetSession("nav");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->filter.pgn, std::vector<uint32_t>{129025});
  EXPECT_EQ(s->filter.name, std::vector<uint64_t>{0x001c6e4000200000});
  EXPECT_EQ(s->filter.exclude_pgn, (std::vector<uint32_t>{60928, 126996}));
  EXPECT_EQ(s->filter.instance, (std::vector<uint8_t>{1, 2}));  // base64, as lplexc sends it
  EXPECT_EQ(s->buffer_timeout_us, 60'000'000);
}

TEST_F(HttpTest, AckUnknownSessionIs404AndBadBodyIs400) {
  Launch();
  ExpectError(Fetch(port_, "PUT", "/clients/ghost/ack", R"({"seq":1})"), 404, "session not found: ghost");
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm", "{}").status, 200);
  auto r = Fetch(port_, "PUT", "/clients/helm/ack", R"({"seq":-1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("seq"));
  r = Fetch(port_, "PUT", "/clients/helm/ack", "nope");
  EXPECT_EQ(r.status, 400);
}

TEST_F(HttpTest, AckIs204WithEmptyBody) {
  Launch();
  for (int i = 0; i < 50; ++i) Ingest(MakeFrame(129025, 1));
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm", "{}").status, 200);
  auto r = Fetch(port_, "PUT", "/clients/helm/ack", R"({"seq":42})");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.body, "");
  ExpectCors(r);
  EXPECT_EQ(broker_->GetSession("helm")->cursor, 42u);
}

TEST_F(HttpTest, ReplicationStatusIs404WithoutReplicationAndTheHooksBodyWithIt) {
  Launch();
  ExpectError(Get("/replication/status"), 404, "replication is not configured");
  server_->SetReplicationStatusHook([] { return std::string("{\"connected\":false}\n"); });
  auto r = Get("/replication/status");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body, "{\"connected\":false}\n");
}

// A seq the server never assigned would leave the session's stream silent
// until the bus reached it: refused, naming the valid range.
TEST_F(HttpTest, AckPastTheNewestFrameIs400NamingTheValidRange) {
  Launch();
  for (int i = 0; i < 10; ++i) Ingest(MakeFrame(129025, 1));
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm", "{}").status, 200);
  ExpectError(Fetch(port_, "PUT", "/clients/helm/ack", R"({"seq":999999999})"), 400,
              "\"seq\" 999999999 is past the newest frame (valid: 0..10)");
  EXPECT_EQ(broker_->GetSession("helm")->cursor, 0u) << "a refused ack leaves the cursor";
  EXPECT_EQ(Fetch(port_, "PUT", "/clients/helm/ack", R"({"seq":10})").status, 204);
  EXPECT_EQ(Fetch(port_, "PUT", "/clients/helm/ack", R"({"seq":4})").status, 204) << "a client may rewind";
  EXPECT_EQ(broker_->GetSession("helm")->cursor, 4u);
}

// The reference took {} as seq 0 and silently cleared the cursor.
TEST_F(HttpTest, AckWithoutSeqIs400AndKeepsTheCursor) {
  Launch();
  for (int i = 0; i < 10; ++i) Ingest(MakeFrame(129025, 1));
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm", "{}").status, 200);
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm/ack", R"({"seq":7})").status, 204);
  auto r = Fetch(port_, "PUT", "/clients/helm/ack", "{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("\"seq\" is required"));
  EXPECT_EQ(broker_->GetSession("helm")->cursor, 7u);
}

TEST_F(HttpTest, SessionEventsForUnknownSessionIs404) {
  Launch();
  ExpectError(Get("/clients/ghost/events"), 404, "session not found, create it first with PUT /clients/{id}");
}

TEST_F(HttpTest, PercentEncodedClientIdIsDecoded) {
  Launch();
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/he%6Cm", "{}").status, 200);
  EXPECT_TRUE(broker_->GetSession("helm"));
}

// ---- send / query ----------------------------------------------------------

TEST_F(HttpTest, SendIsDisabledByDefault) {
  Launch();
  ExpectError(Fetch(port_, "POST", "/send", R"({"pgn":59904,"data":"00ee00"})"), 403, "send is disabled");
  ExpectError(Fetch(port_, "POST", "/query", R"({"pgn":126996})"), 403, "send is disabled");
}

TEST_F(HttpTest, SendEnabledIs202AndTheFrameReachesTheTxQueue) {
  ServerOptions o;
  o.send_enabled = true;
  Launch(o);
  auto r = Fetch(port_, "POST", "/send", R"({"pgn":59904,"src":254,"dst":255,"prio":6,"data":"00ee00"})");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, "");
  broker::TxFrame f;
  ASSERT_TRUE(broker_->tx().TryPop(&f));
  EXPECT_EQ(f.header.pgn, 59904u);
  EXPECT_EQ(f.header.source, 254);
  EXPECT_EQ(f.data, (std::vector<uint8_t>{0x00, 0xee, 0x00}));
}

TEST_F(HttpTest, SendBadInputsAre400NamingWhatWasWrong) {
  ServerOptions o;
  o.send_enabled = true;
  Launch(o);
  auto r = Fetch(port_, "POST", "/send", R"({"pgn":59904,"data":"zz"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, StartsWith("invalid hex data"));
  r = Fetch(port_, "POST", "/send", R"({"pgn":59904,"src":300,"data":"00"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("\"src\" must be an integer 0..255 (got 300)"));
  r = Fetch(port_, "POST", "/send", R"({"pgn":200000,"data":"00"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("invalid pgn 200000"));
  r = Fetch(port_, "POST", "/send", R"({"pgn":59904,"prio":9,"data":"00"})");
  EXPECT_THAT(r.body, HasSubstr("invalid prio 9"));
  r = Fetch(port_, "POST", "/send", R"({"pgn":59904,"bus":1,"data":"00"})");
  EXPECT_THAT(r.body, HasSubstr("invalid bus 1 (valid: 0..0)"));
  r = Fetch(port_, "POST", "/send", "[1,2]");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, StartsWith("invalid request body"));
}

TEST_F(HttpTest, SendTxQueueFullIs503) {
  ServerOptions o;
  o.send_enabled = true;
  broker::BrokerOptions bo;
  bo.tx_queue = 1;
  Launch(o, bo);
  EXPECT_EQ(Fetch(port_, "POST", "/send", R"({"pgn":59904,"data":"00"})").status, 202);
  ExpectError(Fetch(port_, "POST", "/send", R"({"pgn":59904,"data":"00"})"), 503, "tx queue full");
}

TEST_F(HttpTest, ReadOnlyRefusesSendAndQueryNamingTheFlag) {
  ServerOptions o;
  o.send_enabled = true;
  o.read_only = true;
  Launch(o);
  auto r = Fetch(port_, "POST", "/send", R"({"pgn":59904,"data":"00"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.body, HasSubstr("--read-only"));
  r = Fetch(port_, "POST", "/query", R"({"pgn":126996})");
  EXPECT_EQ(r.status, 403);
  EXPECT_THAT(r.body, HasSubstr("--read-only"));
}

TEST_F(HttpTest, SendRulesDecideInOrderWithTheSpecMessages) {
  ServerOptions o;
  o.send_enabled = true;
  o.send_rules = {"!pgn:65280-65535", "pgn:59904", "pgn:129025-129029 name:" + fmt::format("{:x}", MakeName(229))};
  Launch(o);
  Ingest(ClaimFrame(5, MakeName(229)));
  EXPECT_EQ(Fetch(port_, "POST", "/send", R"({"pgn":59904,"data":"00"})").status, 202);
  ExpectError(Fetch(port_, "POST", "/send", R"({"pgn":65300,"dst":7,"data":"00"})"), 403,
              "send denied by rule (pgn=65300, dst=7)");
  ExpectError(Fetch(port_, "POST", "/send", R"({"pgn":126208,"dst":7,"data":"00"})"), 403,
              "no send rule matched (pgn=126208, dst=7)");
  EXPECT_EQ(Fetch(port_, "POST", "/send", R"({"pgn":129026,"dst":5,"data":"00"})").status, 202);
  // A NAME rule never matches a broadcast or an unknown destination.
  EXPECT_EQ(Fetch(port_, "POST", "/send", R"({"pgn":129026,"dst":255,"data":"00"})").status, 403);
  EXPECT_EQ(Fetch(port_, "POST", "/send", R"({"pgn":129026,"dst":9,"data":"00"})").status, 403);
}

TEST_F(HttpTest, BadSendRuleFailsCreateNamingTheRuleNumber) {
  ServerOptions o;
  o.send_rules = {"pgn:1", "pgn:5-2"};
  auto b = broker::Broker::Create({});
  ASSERT_TRUE(b.ok());
  auto s = Server::Create(o, *b);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("rule 2: "));
  EXPECT_THAT(s.status().message(), HasSubstr("5-2"));
}

TEST_F(HttpTest, SendOverTheRateLimitIs429) {
  ServerOptions o;
  o.send_enabled = true;
  o.send_rate_per_second = 1;
  o.send_rate_burst = 2;
  broker::BrokerOptions bo;
  bo.tx_queue = 16;
  Launch(o, bo);
  EXPECT_EQ(Fetch(port_, "POST", "/send", R"({"pgn":59904,"data":"00"})").status, 202);
  EXPECT_EQ(Fetch(port_, "POST", "/send", R"({"pgn":59904,"data":"00"})").status, 202);
  auto r = Fetch(port_, "POST", "/send", R"({"pgn":59904,"data":"00"})");
  EXPECT_EQ(r.status, 429);
  EXPECT_THAT(r.body, HasSubstr("rate limit"));
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Fetch(port_, "POST", "/send", R"({"pgn":59904,"data":"00"})").status, 202);
}

TEST_F(HttpTest, QueryReturnsTheFirstReplyFrameWithoutNewline) {
  ServerOptions o;
  o.send_enabled = true;
  Launch(o);
  Conn c(port_);
  ASSERT_TRUE(c.SendRequest("POST", "/query", R"({"pgn":129025,"dst":1,"timeout":"PT5S"})"));
  // The ISO request reaches the tx queue; the "device" answers.
  broker::TxFrame f;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool sent = false;
  while (!(sent = broker_->tx().TryPop(&f)) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(sent);
  EXPECT_EQ(f.header.pgn, 59904u);
  EXPECT_EQ(f.header.destination, 1);
  EXPECT_EQ(f.data, (std::vector<uint8_t>{0x01, 0xf8, 0x01}));  // 129025 little-endian
  Ingest(MakeFrame(130306, 1));
  Ingest(MakeFrame(129025, 1));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.back(), '\n');
  auto j = json::parse(r->body);
  EXPECT_EQ(j["pgn"], 129025);
  EXPECT_EQ(j["src"], 1);
}

TEST_F(HttpTest, QueryWithoutReplyIs504AfterTimeout) {
  ServerOptions o;
  o.send_enabled = true;
  Launch(o);
  const auto t0 = std::chrono::steady_clock::now();
  ExpectError(Fetch(port_, "POST", "/query", R"({"pgn":129025,"timeout":"PT1S"})"), 504,
              "timeout waiting for response");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
}

TEST_F(HttpTest, QueryBadInputsAre400) {
  ServerOptions o;
  o.send_enabled = true;
  Launch(o);
  ExpectError(Fetch(port_, "POST", "/query", R"({"dst":3})"), 400, "pgn is required");
  auto r = Fetch(port_, "POST", "/query", R"({"pgn":129025,"timeout":"5s"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, StartsWith("invalid timeout: "));
  r = Fetch(port_, "POST", "/query", R"({"pgn":129025,"timeout":"PT1H"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("valid PT1S..PT1M"));
  // PT0S would be a 504 before any device could answer.
  r = Fetch(port_, "POST", "/query", R"({"pgn":129025,"timeout":"PT0S"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("invalid timeout \"PT0S\": valid PT1S..PT1M"));
}

// ---- health and metrics ----------------------------------------------------

TEST_F(HttpTest, HealthzHasTheReferenceShapeAndTrailingNewline) {
  Launch();
  auto r = Get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "{\"status\":\"ok\",\"broker\":{\"status\":\"ok\",\"frames_total\":0,\"head_seq\":1,"
            "\"last_frame_time\":\"0001-01-01T00:00:00Z\",\"device_count\":0,\"ring_entries\":0,"
            "\"ring_capacity\":1024}}\n");
  Ingest(MakeFrame(129025, 1));
  auto j = json::parse(Get("/healthz").body);
  EXPECT_EQ(j["broker"]["frames_total"], 1);
  EXPECT_EQ(j["broker"]["last_frame_time"], "2026-03-02T14:00:00Z");
}

TEST_F(HttpTest, HealthHookComponentMakesStatusDegradedStill200) {
  Launch();
  server_->SetHealthHook([](HealthReport* r) { r->components.push_back({"journal", "behind", "queue full", true}); });
  auto r = Get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, StartsWith("{\"status\":\"degraded\","));
  EXPECT_THAT(r.body, HasSubstr(",\"components\":{\"journal\":{\"status\":\"behind\",\"message\":\"queue full\"}}}\n"));
}

TEST_F(HttpTest, BusSilenceMakesHealthzDegradedWithCanBusComponent) {
  broker::BrokerOptions bo;
  bo.bus_silence_timeout_us = 1'000'000;
  Launch({}, bo);
  Ingest(MakeFrame(129025, 1));
  broker_->Tick(kT0 + 500'000);
  broker_->Tick(kT0 + 3'000'000);
  ASSERT_TRUE(broker_->bus_silent());
  auto r = Get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("\"can_bus\":{\"status\":\"silent\",\"message\":\"no frames received within silence threshold\"}"));
}

TEST_F(HttpTest, ReadyzIs503UntilSetReadyAndLivezAlways200) {
  Launch();
  auto r = Get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, StartsWith("{\"status\":\"starting\""));
  server_->SetReady(true);
  r = Get("/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, StartsWith("{\"status\":\"ok\""));
  r = Get("/livez");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"status\":\"ok\"}\n");
}

TEST_F(HttpTest, MetricsCarryBrokerHttpAndHookLinesAsPrometheusText) {
  Launch();
  server_->SetMetricsHook([](std::string* t) { *t += "lplex_journal_test 1\n"; });
  Ingest(MakeFrame(129025, 1));
  auto r = Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  for (const char* name : {"lplex_frames_total 1", "lplex_ring_buffer_capacity", "lplex_broker_head_seq 2",
                           "# TYPE lplex_http_requests_total counter", "lplex_http_stalled_clients_total 0",
                           "lplex_subscriber_dropped_messages_total", "lplex_journal_test 1\n"}) {
    EXPECT_THAT(r.body, HasSubstr(name));
  }
}

// ---- authentication and limits ----------------------------------------------

TEST_F(HttpTest, ApiKeyIsRequiredOnEveryEndpointButHealthProbes) {
  ServerOptions o;
  o.api_key = "s3cret";
  Launch(o);
  auto r = Get("/devices");
  ExpectError(r, 401, "unauthorized: send \"Authorization: Bearer <api key>\"");
  EXPECT_EQ(r.header("www-authenticate"), "Bearer");
  EXPECT_EQ(Get("/devices", "Authorization: Bearer wrong\r\n").status, 401);
  EXPECT_EQ(Get("/nope").status, 401);  // no route discovery without the key
  EXPECT_EQ(Get("/devices", "Authorization: Bearer s3cret\r\n").status, 200);
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/livez").status, 200);
  EXPECT_EQ(Get("/readyz").status, 503);
  Conn c(port_);
  ASSERT_TRUE(c.SendRequest("GET", "/events"));
  auto h = c.ReadHeaders();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 401);
}

TEST_F(HttpTest, BodyOverTheLimitIs413) {
  ServerOptions o;
  o.max_body_bytes = 100;
  Launch(o);
  auto r = Fetch(port_, "PUT", "/clients/helm", "{\"buffer_timeout\":\"" + std::string(200, 'x') + "\"}");
  ExpectError(r, 413, "request body too large (limit 100 bytes)");
}

TEST_F(HttpTest, MalformedRequestLineIs400AndClosed) {
  Launch();
  Conn c(port_);
  ASSERT_TRUE(c.Send("this is not http\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, StartsWith("malformed HTTP request"));
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(HttpTest, SlowRequestIsClosedAfterReadTimeout) {
  ServerOptions o;
  o.read_timeout = std::chrono::milliseconds(200);
  Launch(o);
  Conn c(port_);
  ASSERT_TRUE(c.Send("GET /devices HTTP/1.1\r\nHost: x\r\n"));  // never finishes the header
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(3)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  // The server still answers others.
  EXPECT_EQ(Get("/devices").status, 200);
}

TEST_F(HttpTest, ConnectionsOverTheLimitGet503) {
  ServerOptions o;
  o.max_connections = 2;
  Launch(o);
  auto a = std::make_unique<Conn>(port_), b = std::make_unique<Conn>(port_);
  ASSERT_TRUE(a->SendRequest("GET", "/events"));
  ASSERT_TRUE(b->SendRequest("GET", "/events"));
  ASSERT_TRUE(a->ReadHeaders());
  ASSERT_TRUE(b->ReadHeaders());
  ExpectError(Get("/devices"), 503, "too many connections");
  a.reset();  // a stream client leaves: its slot is free again
  HttpResponse m;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (m.status != 200 && std::chrono::steady_clock::now() < deadline) m = Get("/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_THAT(m.body, HasSubstr("lplex_http_connections_rejected_total "));
  EXPECT_THAT(m.body, ::testing::Not(HasSubstr("lplex_http_connections_rejected_total 0\n")));
}

TEST_F(HttpTest, StartFailsNamingAddressAndErrnoWhenPortIsTaken) {
  Launch();
  ServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = port_;
  auto s = Server::Create(o, broker_);
  ASSERT_TRUE(s.ok());
  Status st = (*s)->Start();
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("127.0.0.1:" + std::to_string(port_)));
  EXPECT_THAT(st.message(), HasSubstr("in use"));
}

TEST_F(HttpTest, BadBindAddressIsRefusedNamingIt) {
  auto b = broker::Broker::Create({});
  ServerOptions o;
  o.bind_address = "not-an-ip";
  auto s = Server::Create(o, *b);
  ASSERT_TRUE(s.ok());
  Status st = (*s)->Start();
  EXPECT_THAT(st.message(), HasSubstr("\"not-an-ip\""));
}

}  // namespace
}  // namespace lplex::http::testing
