// The cloud's HTTP API (spec/cloud.md §2.7, §6.1; docs/http.md "Cloud"):
// the fleet endpoints and the boat's API per instance, served by
// Server::CreateCloud over a fake InstanceDirectory holding brokers.
#include <algorithm>
#include <map>
#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "broker/broker.h"
#include "broker/broker_fixture.h"
#include "core/clock.h"
#include "http/http_client.h"
#include "http/instance_directory.h"
#include "http/server.h"

namespace lplex::http::testing {
namespace {

using broker::testing::ClaimFrame;
using broker::testing::kT0;
using broker::testing::MakeFrame;
using broker::testing::MakeName;
using ::testing::HasSubstr;
using ::testing::Not;
using nlohmann::json;

// A fleet in memory. Instances keep the order they were added in (not by
// id), so the server's sorting is what a test sees.
class FakeDirectory : public InstanceDirectory {
 public:
  struct Entry {
    InstanceStatus status;
    std::shared_ptr<broker::Broker> broker;  // null = idle
    std::vector<ReplicationEvent> events;    // newest first
  };

  explicit FakeDirectory(Clock* clock) : clock_(clock) {}

  InstanceStatus& Add(const std::string& id, bool running) {
    std::lock_guard lock(mu_);
    order_.push_back(id);
    Entry& e = entries_[id];
    e.status.id = id;
    if (running) e.broker = NewBroker();
    return e.status;
  }
  std::shared_ptr<broker::Broker> broker(const std::string& id) {
    std::lock_guard lock(mu_);
    return entries_.at(id).broker;
  }
  void SetEvents(const std::string& id, std::vector<ReplicationEvent> ev) {
    std::lock_guard lock(mu_);
    entries_.at(id).events = std::move(ev);
  }
  // Every BrokerFor call as "id:start" / "id:read", and the brokers started.
  std::vector<std::string> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  int starts() {
    std::lock_guard lock(mu_);
    return starts_;
  }
  size_t last_limit() {
    std::lock_guard lock(mu_);
    return last_limit_;
  }

  std::vector<InstanceSummary> List() override {
    std::lock_guard lock(mu_);
    std::vector<InstanceSummary> out;
    for (const std::string& id : order_) {
      const InstanceStatus& s = entries_.at(id).status;
      out.push_back({s.id, s.connected, s.cursor, s.boat_head_seq, s.holes.size(), s.last_seen_us});
    }
    return out;
  }
  std::optional<InstanceStatus> Find(std::string_view id) override {
    std::lock_guard lock(mu_);
    auto it = entries_.find(std::string(id));
    if (it == entries_.end()) return std::nullopt;
    return it->second.status;
  }
  std::shared_ptr<broker::Broker> BrokerFor(std::string_view id, bool start) override {
    std::lock_guard lock(mu_);
    calls_.push_back(std::string(id) + (start ? ":start" : ":read"));
    auto it = entries_.find(std::string(id));
    if (it == entries_.end()) return nullptr;
    if (!it->second.broker && start) {
      it->second.broker = NewBroker();
      ++starts_;
    }
    return it->second.broker;
  }
  std::optional<std::vector<ReplicationEvent>> ReplicationEvents(std::string_view id, size_t limit) override {
    std::lock_guard lock(mu_);
    last_limit_ = limit;
    auto it = entries_.find(std::string(id));
    if (it == entries_.end()) return std::nullopt;
    const auto& ev = it->second.events;
    return std::vector<ReplicationEvent>(ev.begin(), ev.begin() + static_cast<ptrdiff_t>(std::min(limit, ev.size())));
  }

 private:
  std::shared_ptr<broker::Broker> NewBroker() {
    broker::BrokerOptions bo;
    bo.ring_capacity = 1024;
    bo.replica = true;  // the cloud's brokers keep the boat's seqs
    bo.clock = clock_;
    auto b = broker::Broker::Create(std::move(bo));
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? std::move(b).value() : nullptr;
  }

  Clock* const clock_;
  std::mutex mu_;
  std::vector<std::string> order_;
  std::map<std::string, Entry> entries_;
  std::vector<std::string> calls_;
  int starts_ = 0;
  size_t last_limit_ = 0;
};

class CloudHttpTest : public ::testing::Test {
 protected:
  void Launch(ServerOptions o = {}) {
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.clock = &clock_;
    auto s = Server::CreateCloud(std::move(o), dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
  }
  void TearDown() override {
    if (server_) server_->Stop(std::chrono::milliseconds(500));
  }
  HttpResponse Get(std::string_view target, std::string_view extra = {}) { return Fetch(port_, "GET", target, {}, extra); }

  // One replica frame with its boat seq into instance `id`'s broker.
  void Ingest(const std::string& id, uint32_t pgn, uint64_t seq) {
    auto f = MakeFrame(pgn, 1, {1, 2, 3, 4, 5, 6, 7, 8}, kT0, 255, seq);
    dir_->broker(id)->Ingest(f.get());
  }

  FakeClock clock_{kT0, kT0};
  std::shared_ptr<FakeDirectory> dir_ = std::make_shared<FakeDirectory>(&clock_);
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

std::vector<uint64_t> Seqs(const std::string& body) {
  std::vector<uint64_t> out;
  for (const auto& e : Conn::Events(body)) {
    auto j = json::parse(e);
    if (!j.contains("type")) out.push_back(j["seq"].get<uint64_t>());
  }
  return out;
}

void ExpectError(const HttpResponse& r, int status, std::string_view message) {
  EXPECT_EQ(r.status, status);
  EXPECT_EQ(r.body, std::string(message) + "\n");
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
}

// ---- fleet endpoints ---------------------------------------------------------

TEST_F(CloudHttpTest, InstancesListsEverySummaryInIdOrder) {
  auto& z = dir_->Add("zulu", true);
  z.connected = true;
  z.cursor = 90;
  z.boat_head_seq = 100;
  z.holes = {{10, 20}, {30, 31}};
  z.last_seen_us = kT0 + 500'000;
  dir_->Add("alpha", false);  // never seen
  Launch();
  auto r = Get("/instances");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body,
            "{\"instances\":["
            "{\"id\":\"alpha\",\"connected\":false,\"cursor\":0,\"boat_head_seq\":0,\"holes\":0,\"lag_seqs\":0,"
            "\"last_seen\":\"0001-01-01T00:00:00Z\"},"
            "{\"id\":\"zulu\",\"connected\":true,\"cursor\":90,\"boat_head_seq\":100,\"holes\":2,\"lag_seqs\":10,"
            "\"last_seen\":\"2026-03-02T14:00:00.5Z\"}]}\n");
}

TEST_F(CloudHttpTest, InstancesIsNullWhenTheFleetIsEmpty) {
  Launch();
  auto r = Get("/instances");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"instances\":null}\n");
}

TEST_F(CloudHttpTest, InstanceStatusHasTheSpecKeysInOrderAndHolesLeftOutWhenNone) {
  auto& a = dir_->Add("boat-1", false);
  a.cursor = 7;
  a.boat_head_seq = 12;
  a.boat_journal_bytes = 4096;
  a.holes = {{3, 5}};
  a.last_seen_us = kT0;
  auto& b = dir_->Add("boat-2", false);
  b.connected = true;
  b.cursor = 12;
  b.boat_head_seq = 12;
  Launch();
  auto r = Get("/instances/boat-1/status");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body,
            "{\"id\":\"boat-1\",\"connected\":false,\"cursor\":7,\"boat_head_seq\":12,\"boat_journal_bytes\":4096,"
            "\"holes\":[{\"Start\":3,\"End\":5}],\"lag_seqs\":5,\"last_seen\":\"2026-03-02T14:00:00Z\"}\n");
  EXPECT_EQ(Get("/instances/boat-2/status").body,
            "{\"id\":\"boat-2\",\"connected\":true,\"cursor\":12,\"boat_head_seq\":12,\"boat_journal_bytes\":0,"
            "\"lag_seqs\":0,\"last_seen\":\"0001-01-01T00:00:00Z\"}\n");
}

TEST_F(CloudHttpTest, UnknownInstanceIs404InstanceNotFound) {
  dir_->Add("boat-1", true);
  Launch();
  ExpectError(Get("/instances/nope/status"), 404, "instance not found");
  ExpectError(Get("/instances/nope/replication/events"), 404, "instance not found");
  ExpectError(Get("/instances/nope/events"), 404, "instance not found or broker not running");
  ExpectError(Get("/instances/nope/devices"), 404, "instance not found or broker not running");
  ExpectError(Fetch(port_, "PUT", "/instances/nope/clients/x", "{}"), 404, "instance not found or broker not running");
  // A path that is no route stays the mux's 404, even for a known instance.
  ExpectError(Get("/instances/boat-1/nope"), 404, "404 page not found");
}

TEST_F(CloudHttpTest, SendQueryAndHistoryAreNotServedPerInstanceNorTheBoatRoutesAtTheRoot) {
  dir_->Add("boat-1", true);
  Launch();
  // A replica broker has no bus to send on, and the boat's history is its
  // own journal: none of these exist on the cloud.
  ExpectError(Fetch(port_, "POST", "/instances/boat-1/send", R"({"pgn":59904})"), 404, "404 page not found");
  ExpectError(Fetch(port_, "POST", "/instances/boat-1/query", R"({"pgn":126996})"), 404, "404 page not found");
  ExpectError(Get("/instances/boat-1/history"), 404, "404 page not found");
  ExpectError(Get("/events"), 404, "404 page not found");
  ExpectError(Get("/devices"), 404, "404 page not found");
  // The wrong method on a cloud route: 405 with Allow, as on the boat.
  auto r = Fetch(port_, "POST", "/instances", "{}");
  ExpectError(r, 405, "Method Not Allowed");
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
  EXPECT_EQ(Fetch(port_, "POST", "/instances/boat-1/devices", "{}").status, 405);
}

// ---- the boat's API per instance ---------------------------------------------

TEST_F(CloudHttpTest, InstanceEventsStreamsThatInstancesFramesOnly) {
  dir_->Add("alpha", true);
  dir_->Add("bravo", true);
  Launch();
  Conn a(port_), b(port_);
  OpenStream(a, "/instances/alpha/events");
  OpenStream(b, "/instances/bravo/events?pgn=130306");  // the boat's filters work per instance
  Ingest("bravo", 129025, 500);
  Ingest("alpha", 129025, 41);
  Ingest("bravo", 130306, 501);
  Ingest("alpha", 129026, 42);
  ASSERT_TRUE(a.ReadBodyUntil("data: ", 2));
  EXPECT_EQ(Seqs(a.body()), (std::vector<uint64_t>{41, 42}));
  ASSERT_TRUE(b.ReadBodyUntil("data: ", 1));
  EXPECT_EQ(Seqs(b.body()), (std::vector<uint64_t>{501}));
  // The frame JSON is the boat's.
  EXPECT_THAT(a.body(), HasSubstr("data: {\"seq\":41,\"ts\":\"2026-03-02T14:00:00Z\",\"prio\":2,\"pgn\":129025,"
                                  "\"src\":1,\"dst\":255,\"data\":\"0102030405060708\"}\n\n"));
  // A bad filter is the boat's 400.
  EXPECT_EQ(Get("/instances/alpha/events?pgn=x").status, 400);
}

TEST_F(CloudHttpTest, InstanceEventsOfAnIdleInstanceStartsItsBroker) {
  dir_->Add("idle", false);
  Launch();
  Conn c(port_);
  OpenStream(c, "/instances/idle/events");  // a stream may start the instance (P9 allows it)
  EXPECT_EQ(dir_->starts(), 1);
  EXPECT_EQ(dir_->calls(), (std::vector<std::string>{"idle:start"}));
  Ingest("idle", 129025, 7);  // the boat connects: its frames reach the stream
  ASSERT_TRUE(c.ReadBodyUntil("data: ", 1));
  EXPECT_EQ(Seqs(c.body()), (std::vector<uint64_t>{7}));
}

TEST_F(CloudHttpTest, DevicesOfAnIdleInstanceDoNotStartItsBroker) {
  dir_->Add("idle", false);
  Launch();
  for (const char* path : {"/instances/idle/devices", "/instances/idle/values", "/instances/idle/values/decoded"}) {
    ExpectError(Get(path), 404, "instance not found or broker not running");
  }
  EXPECT_EQ(Get("/instances/idle/status").status, 200);
  EXPECT_EQ(Get("/instances").status, 200);
  EXPECT_EQ(Get("/metrics").status, 200);
  EXPECT_EQ(dir_->starts(), 0);
  EXPECT_EQ(dir_->calls(), (std::vector<std::string>{"idle:read", "idle:read", "idle:read"}));
}

TEST_F(CloudHttpTest, DevicesAndValuesOfARunningInstanceAreTheBoatsBodies) {
  dir_->Add("alpha", true);
  dir_->Add("bravo", true);
  Launch();
  auto claim = ClaimFrame(5, MakeName(229));
  claim.frame.seq = 1;
  dir_->broker("alpha")->Ingest(claim.get());
  Ingest("alpha", 129025, 2);
  auto d = Get("/instances/alpha/devices");
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.header("content-type"), "application/json");
  EXPECT_EQ(d.body, dir_->broker("alpha")->DevicesJson());
  EXPECT_THAT(d.body, HasSubstr("\"src\":5"));
  EXPECT_EQ(Get("/instances/bravo/devices").body, "[]");
  auto v = Get("/instances/alpha/values?pgn=129025");
  EXPECT_EQ(v.status, 200);
  broker::FilterSpec only_129025;
  only_129025.pgn = {129025};
  EXPECT_EQ(v.body, dir_->broker("alpha")->ValuesJson(only_129025));
  EXPECT_THAT(v.body, HasSubstr("129025"));
  EXPECT_EQ(Get("/instances/alpha/values/decoded").body, dir_->broker("alpha")->DecodedValuesJson({}));
  EXPECT_EQ(Get("/instances/alpha/values?pgn=x").status, 400);
}

TEST_F(CloudHttpTest, SessionApiWorksPerInstance) {
  dir_->Add("alpha", true);
  dir_->Add("bravo", true);
  Launch();
  auto created = Fetch(port_, "PUT", "/instances/alpha/clients/helm", R"({"buffer_timeout":"PT5M"})");
  ASSERT_EQ(created.status, 200);
  EXPECT_THAT(created.body, HasSubstr("{\"client_id\":\"helm\",\"seq\":0,"));
  {
    Conn c(port_);
    OpenStream(c, "/instances/alpha/clients/helm/events");
    for (uint64_t s = 1; s <= 5; ++s) Ingest("alpha", 129025, s);
    ASSERT_TRUE(c.ReadBodyUntil("data: ", 5));
    EXPECT_EQ(Seqs(c.body()), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  }  // the client goes away after reading 5 but acking only 3
  ASSERT_EQ(Fetch(port_, "PUT", "/instances/alpha/clients/helm/ack", R"({"seq":3})").status, 204);
  for (uint64_t s = 6; s <= 7; ++s) Ingest("alpha", 129025, s);
  Conn c(port_);
  OpenStream(c, "/instances/alpha/clients/helm/events");
  ASSERT_TRUE(c.ReadBodyUntil("data: ", 4));
  EXPECT_EQ(Seqs(c.body()), (std::vector<uint64_t>{4, 5, 6, 7}));
  // Sessions belong to their instance's broker.
  ExpectError(Get("/instances/bravo/clients/helm/events"), 404,
              "session not found, create it first with PUT /clients/{id}");
  ExpectError(Fetch(port_, "PUT", "/instances/bravo/clients/helm/ack", R"({"seq":1})"), 404,
              "session not found: helm");
  // The boat's body checks hold per instance.
  EXPECT_EQ(Fetch(port_, "PUT", "/instances/alpha/clients/helm/ack", R"({"seq":99})").status, 400);
}

TEST_F(CloudHttpTest, InstanceStreamEndsWhenItsBrokerShutsDown) {
  dir_->Add("alpha", true);
  Launch();
  Conn c(port_);
  OpenStream(c, "/instances/alpha/events");
  dir_->broker("alpha")->Shutdown();  // the cloud stops an idle instance
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_TRUE(c.saw_last_chunk());
}

// ---- replication events --------------------------------------------------------

TEST_F(CloudHttpTest, ReplicationEventsAreNewestFirstWithDetailLeftOutWhenEmpty) {
  dir_->Add("alpha", false);
  dir_->Add("quiet", false);
  dir_->SetEvents("alpha", {{kT0 + 2'000'000, "live_start", "{\"boat_head_seq\":42}"},
                            {kT0 + 1'000'000, "live_stop", ""},
                            {kT0, "backfill_stop", "{}"}});
  Launch();
  auto r = Get("/instances/alpha/replication/events");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body,
            "[{\"time\":\"2026-03-02T14:00:02Z\",\"type\":\"live_start\",\"detail\":{\"boat_head_seq\":42}},"
            "{\"time\":\"2026-03-02T14:00:01Z\",\"type\":\"live_stop\"},"
            "{\"time\":\"2026-03-02T14:00:00Z\",\"type\":\"backfill_stop\"}]\n");
  EXPECT_EQ(Get("/instances/quiet/replication/events").body, "null\n");
  EXPECT_EQ(dir_->starts(), 0);
}

TEST_F(CloudHttpTest, ReplicationEventsLimitRules) {
  dir_->Add("alpha", false);
  std::vector<ReplicationEvent> ev;
  for (int i = 0; i < 2000; ++i) ev.push_back({kT0 - i * 1000LL, "checkpoint", ""});
  dir_->SetEvents("alpha", std::move(ev));
  Launch();
  const std::pair<const char*, size_t> cases[] = {
      {"", 100},      {"?limit=abc", 100},  {"?limit=0", 100},      {"?limit=-5", 100},
      {"?limit=", 100}, {"?limit=1.5", 100}, {"?limit=7", 7},         {"?limit=%2B9", 9},
      {"?limit=1024", 1024}, {"?limit=1025", 1024}, {"?limit=99999999999999999999", 1024},
      {"?limit=%zz", 100}};
  for (const auto& [query, want] : cases) {
    auto r = Get(std::string("/instances/alpha/replication/events") + query);
    EXPECT_EQ(r.status, 200) << query;
    EXPECT_EQ(dir_->last_limit(), want) << query;
    EXPECT_EQ(Conn::Count(r.body, "\"type\":\"checkpoint\""), want) << query;
  }
}

// ---- health, metrics, auth -----------------------------------------------------

TEST_F(CloudHttpTest, HealthzCountsInstancesAndReadyzWaitsForReady) {
  dir_->Add("alpha", true).connected = true;
  dir_->Add("bravo", false);
  Launch();
  auto h = Get("/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.header("content-type"), "application/json");
  EXPECT_EQ(h.body, "{\"status\":\"ok\",\"instances_total\":2,\"instances_connected\":1}\n");
  auto r = Get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "{\"status\":\"starting\",\"instances_total\":2,\"instances_connected\":1}\n");
  server_->SetReady(true);
  EXPECT_EQ(Get("/readyz").body, h.body);
  auto l = Get("/livez");
  EXPECT_EQ(l.status, 200);
  EXPECT_EQ(l.body, "{\"status\":\"ok\"}\n");
}

TEST_F(CloudHttpTest, MetricsHaveTheFleetGaugesAndOneLinePerInstance) {
  auto& a = dir_->Add("alpha", true);
  a.connected = true;
  a.cursor = 10;
  a.boat_head_seq = 15;
  a.holes = {{2, 4}};
  dir_->Add("bravo", false);
  Launch();
  server_->SetMetricsHook([](std::string* text) { *text += "lplex_cloud_hook_test 1\n"; });
  auto r = Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  for (const char* want : {"# TYPE lplex_cloud_instances_total gauge\nlplex_cloud_instances_total 2\n",
                           "# TYPE lplex_cloud_instances_connected gauge\nlplex_cloud_instances_connected 1\n",
                           "# TYPE lplex_cloud_instance_connected gauge\n"
                           "lplex_cloud_instance_connected{instance=\"alpha\"} 1\n"
                           "lplex_cloud_instance_connected{instance=\"bravo\"} 0\n",
                           "lplex_cloud_instance_lag_seqs{instance=\"alpha\"} 5\n",
                           "lplex_cloud_instance_cursor{instance=\"alpha\"} 10\n",
                           "lplex_cloud_instance_holes{instance=\"alpha\"} 1\n",
                           "lplex_cloud_instance_holes{instance=\"bravo\"} 0\n", "# HELP lplex_cloud_instance_holes ",
                           "lplex_http_requests_total", "lplex_cloud_hook_test 1\n"}) {
    EXPECT_THAT(r.body, HasSubstr(want));
  }
  EXPECT_THAT(r.body, Not(HasSubstr("lplex_frames_total")));  // no broker of its own
}

TEST_F(CloudHttpTest, LagIsClampedAtZero) {
  auto& a = dir_->Add("ahead", false);  // the cursor passed the last reported head
  a.cursor = 50;
  a.boat_head_seq = 40;
  Launch();
  EXPECT_THAT(Get("/instances").body, HasSubstr("\"lag_seqs\":0,"));
  EXPECT_THAT(Get("/instances/ahead/status").body, HasSubstr("\"lag_seqs\":0,"));
  EXPECT_THAT(Get("/metrics").body, HasSubstr("lplex_cloud_instance_lag_seqs{instance=\"ahead\"} 0\n"));
}

TEST_F(CloudHttpTest, ApiKeyGuardsInstanceEndpointsButNotHealthProbes) {
  dir_->Add("alpha", true);
  ServerOptions o;
  o.api_key = "s3cret";
  Launch(o);
  server_->SetReady(true);
  for (const char* path : {"/instances", "/instances/alpha/status", "/instances/alpha/replication/events",
                           "/instances/alpha/devices", "/instances/alpha/events", "/metrics", "/instances/nope/status",
                           "/nope"}) {
    auto r = Get(path);
    ExpectError(r, 401, "unauthorized: send \"Authorization: Bearer <api key>\"");
    EXPECT_EQ(r.header("www-authenticate"), "Bearer") << path;
  }
  EXPECT_EQ(Fetch(port_, "PUT", "/instances/alpha/clients/x", "{}").status, 401);
  EXPECT_EQ(Get("/instances", "Authorization: Bearer wrong\r\n").status, 401);
  EXPECT_EQ(Get("/instances", "Authorization: Bearer s3cret\r\n").status, 200);
  EXPECT_EQ(Get("/instances/alpha/devices", "Authorization: Bearer s3cret\r\n").status, 200);
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/readyz").status, 200);
  EXPECT_EQ(Get("/livez").status, 200);
  EXPECT_EQ(dir_->calls(), (std::vector<std::string>{"alpha:read"}));  // nothing reached a broker unauthenticated
}

TEST_F(CloudHttpTest, CreateCloudRefusesANullDirectoryAndBadOptions) {
  auto s = Server::CreateCloud({}, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "http server needs an instance directory");
  ServerOptions o;
  o.io_threads = 0;
  s = Server::CreateCloud(o, dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "io_threads 0 out of range (valid: 1..64)");
}

// The boat mode shares the router with the cloud: its HEAD /history (which
// used to lose the HEAD flag and send the body) answers headers only, so a
// keep-alive connection's next response is not corrupted by stray bytes.
TEST(BoatHttpTest, HeadOfHistorySendsNoBody) {
  FakeClock clock{kT0, kT0};
  broker::BrokerOptions bo;
  bo.ring_capacity = 1024;
  bo.clock = &clock;
  auto b = broker::Broker::Create(std::move(bo));
  ASSERT_TRUE(b.ok());
  ServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  o.clock = &clock;
  auto s = Server::Create(std::move(o), std::move(b).value());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Start().ok());
  Conn c((*s)->port());
  ASSERT_TRUE(c.SendRequest("HEAD", "/history"));  // no journal: a 404 reply
  auto h = c.ReadResponse(/*head=*/true);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 404);
  EXPECT_EQ(h->header("content-length"), "22");  // what GET would send
  ASSERT_TRUE(c.SendRequest("GET", "/livez"));
  auto next = c.ReadResponse();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, "{\"status\":\"ok\"}\n");
  (*s)->Stop(std::chrono::milliseconds(500));
}

}  // namespace
}  // namespace lplex::http::testing
