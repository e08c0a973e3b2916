// SSE (/events, /clients/{id}/events) framing, filters, session resume, slow
// and stalled clients, and Stop() ending streams.
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/http_fixture.h"

namespace lplex::http::testing {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

// Opens an SSE stream and checks all its headers.
void OpenStreamChecked(Conn& c, std::string_view target) {
  const HttpResponse h = OpenStream(c, target);
  EXPECT_EQ(h.header("cache-control"), "no-cache");
  EXPECT_EQ(h.header("x-accel-buffering"), "no");
  EXPECT_EQ(h.header("access-control-allow-origin"), "*");
}

std::vector<uint64_t> Seqs(const std::string& body) {
  std::vector<uint64_t> out;
  for (const auto& e : Conn::Events(body)) {
    auto j = json::parse(e);
    if (!j.contains("type")) out.push_back(j["seq"].get<uint64_t>());
  }
  return out;
}

TEST_F(HttpTest, EventsHeadersArriveBeforeAnyEvent) {
  Launch();
  Conn c(port_);
  OpenStreamChecked(c, "/events?pgn=1");  // a quiet filter: the headers alone must arrive
}

TEST_F(HttpTest, EventsFramesAreDataLinesEndedByABlankLine) {
  Launch();
  Conn c(port_);
  OpenStreamChecked(c, "/events");
  Ingest(MakeFrame(129025, 1, {0x11, 0x22}));
  ASSERT_TRUE(c.ReadBodyUntil("\n\n"));
  EXPECT_EQ(c.body(),
            "data: {\"seq\":1,\"ts\":\"2026-03-02T14:00:00Z\",\"prio\":2,\"pgn\":129025,\"src\":1,\"dst\":255,"
            "\"data\":\"1122\"}\n\n");
}

TEST_F(HttpTest, EventsPgnFilterHoldsBackOtherPgnsRepeatedAndCommaForms) {
  Launch();
  Conn a(port_), b(port_), s(port_);
  OpenStreamChecked(a, "/events?pgn=129025&pgn=130306");
  OpenStreamChecked(b, "/events?pgn=129025,130306&exclude_pgn=130306");
  OpenStreamChecked(s, "/events?src=2");
  Ingest(MakeFrame(129026, 1));
  Ingest(MakeFrame(129025, 1));
  Ingest(MakeFrame(130306, 2));
  Ingest(MakeFrame(129025, 2));  // a marker every stream wants... except b's src
  ASSERT_TRUE(a.ReadBodyUntil("data: ", 3));
  EXPECT_EQ(Seqs(a.body()), (std::vector<uint64_t>{2, 3, 4}));
  ASSERT_TRUE(b.ReadBodyUntil("data: ", 2));
  EXPECT_EQ(Seqs(b.body()), (std::vector<uint64_t>{2, 4}));
  ASSERT_TRUE(s.ReadBodyUntil("data: ", 2));
  EXPECT_EQ(Seqs(s.body()), (std::vector<uint64_t>{3, 4}));
}

TEST_F(HttpTest, EventsBadFilterValueIs400NamingIt) {
  Launch();
  auto r = Get("/events?pgn=x");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "invalid pgn \"x\": not a decimal number (valid: 0..131071)\n");
  r = Get("/events?src=256");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("invalid src \"256\""));
  r = Get("/events?name=0xzz");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.header("access-control-allow-origin"), "*");
}

TEST_F(HttpTest, EventsDeliverDeviceEventsDespiteFilter) {
  Launch();
  Conn c(port_);
  OpenStreamChecked(c, "/events?pgn=1");
  Ingest(ClaimFrame(5, MakeName(229)));
  ASSERT_TRUE(c.ReadBodyUntil("\"type\":\"device\""));
}

TEST_F(HttpTest, HeadOnEventsSendsStreamHeadersAndEnds) {
  Launch();
  Conn c(port_);
  ASSERT_TRUE(c.SendRequest("HEAD", "/events"));
  auto h = c.ReadHeaders();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->header("content-type"), "text/event-stream");
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(c.body(), "");
}

TEST_F(HttpTest, SessionStreamCarriesFramesOnlyNeverDeviceEvents) {
  Launch();
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm", R"({"buffer_timeout":"PT5M"})").status, 200);
  Conn c(port_);
  OpenStreamChecked(c, "/clients/helm/events");
  Ingest(ClaimFrame(5, MakeName(229)));
  Ingest(MakeFrame(129025, 5));
  ASSERT_TRUE(c.ReadBodyUntil("data: ", 2));
  for (const auto& e : Conn::Events(c.body())) EXPECT_EQ(e.find("\"type\""), std::string::npos) << e;
}

TEST_F(HttpTest, SessionReconnectResumesAfterTheAckedSeq) {
  Launch();
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm", R"({"buffer_timeout":"PT5M"})").status, 200);
  {
    Conn c(port_);
    OpenStreamChecked(c, "/clients/helm/events");
    for (int i = 0; i < 5; ++i) Ingest(MakeFrame(129025, 1));
    ASSERT_TRUE(c.ReadBodyUntil("data: ", 5));
    EXPECT_EQ(Seqs(c.body()), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  }  // the client goes away after reading 5 but acking only 3
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm/ack", R"({"seq":3})").status, 204);
  for (int i = 0; i < 3; ++i) Ingest(MakeFrame(129025, 1));  // 6..8 arrive while it is away
  Conn c(port_);
  OpenStreamChecked(c, "/clients/helm/events");
  ASSERT_TRUE(c.ReadBodyUntil("data: ", 5));
  EXPECT_EQ(Seqs(c.body()), (std::vector<uint64_t>{4, 5, 6, 7, 8}));
  Ingest(MakeFrame(129025, 1));
  ASSERT_TRUE(c.ReadBodyUntil("data: ", 6));
  EXPECT_EQ(Seqs(c.body()).back(), 9u);
}

// A session stream reads the ring at its own pace; a burst larger than any
// subscriber queue reaches it whole, and nothing is counted as dropped (the
// stream's wake-ups are not messages a client could lose).
TEST_F(HttpTest, SessionStreamBurstLargerThanASubscriberQueueLosesNothingAndCountsNoDrop) {
  broker::BrokerOptions bo;
  bo.ring_capacity = 8192;  // the burst stays in the ring
  Launch({}, bo);
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm", R"({"buffer_timeout":"PT5M"})").status, 200);
  Conn c(port_);
  OpenStreamChecked(c, "/clients/helm/events");
  constexpr int kFrames = 3000;  // ~3 subscriber queues
  for (int i = 0; i < kFrames; ++i) Ingest(MakeFrame(129025, 1));
  ASSERT_TRUE(c.ReadBodyUntil("data: ", kFrames, std::chrono::seconds(20)))
      << "got " << Seqs(c.body()).size() << " of " << kFrames;
  EXPECT_EQ(Seqs(c.body()).back(), static_cast<uint64_t>(kFrames));
  EXPECT_EQ(broker_->Stats().subscriber_drops, 0u);
}

TEST_F(HttpTest, SessionFilterAppliesToTheStream) {
  Launch();
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm", R"({"buffer_timeout":"PT5M","filter":{"pgn":[130306]}})").status,
            200);
  Conn c(port_);
  OpenStreamChecked(c, "/clients/helm/events");
  Ingest(MakeFrame(129025, 1));
  Ingest(MakeFrame(130306, 1));
  ASSERT_TRUE(c.ReadBodyUntil("data: ", 1));
  EXPECT_EQ(Seqs(c.body()), std::vector<uint64_t>{2});
}

TEST_F(HttpTest, SessionStreamFallenBehindTheRingEndsAndIsCounted) {
  broker::BrokerOptions bo;
  bo.ring_capacity = 16;
  Launch({}, bo);
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm", R"({"buffer_timeout":"PT5M"})").status, 200);
  Ingest(MakeFrame(129025, 1));
  ASSERT_EQ(Fetch(port_, "PUT", "/clients/helm/ack", R"({"seq":1})").status, 204);
  for (int i = 0; i < 40; ++i) Ingest(MakeFrame(129025, 1));  // seq 2 leaves the ring (no journal)
  Conn c(port_);
  OpenStreamChecked(c, "/clients/helm/events");
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_TRUE(c.saw_last_chunk());
  EXPECT_THAT(Get("/metrics").body, HasSubstr("lplex_http_sse_fallen_behind_total 1"));
}

// A full bus is ~1,800 frames/s: the stream writes them in batches (one
// chunk, one sendmsg, per few ms), not one chunk per frame.
TEST_F(HttpTest, EventStreamCoalescesAFastBusIntoFewWrites) {
  Launch();
  Conn c(port_);
  OpenStreamChecked(c, "/events");
  constexpr int kFrames = 100;
  std::thread reader([&] { EXPECT_TRUE(c.ReadBodyUntil("data: ", kFrames, std::chrono::seconds(10))); });
  for (int i = 0; i < kFrames; ++i) {
    Ingest(MakeFrame(129025, 1));
    std::this_thread::sleep_for(std::chrono::microseconds(300));
  }
  reader.join();
  EXPECT_EQ(Seqs(c.body()).size(), static_cast<size_t>(kFrames)) << "coalescing must not lose frames";
  EXPECT_LE(c.chunks(), static_cast<size_t>(kFrames / 3)) << "about one write per frame";
}

// Half a second of a full bus arriving at once (a source that delivers in
// batches, a replay catching up): the stream's broker queue holds it while
// the stream waits for its next write slot, and the client gets every frame,
// written in full batches one after another rather than one per slot.
TEST_F(HttpTest, EventStreamBurstOfHalfASecondOfFullBusLosesNothing) {
  Launch();
  Conn c(port_);
  OpenStreamChecked(c, "/events");
  constexpr int kFrames = 900;  // 0.5 s at 1,800 frames/s, ~200 kB of SSE
  std::vector<uint8_t> payload(64, 0x5a);
  for (int i = 0; i < kFrames; ++i) Ingest(MakeFrame(129029, 1, payload));
  ASSERT_TRUE(c.ReadBodyUntil("data: ", kFrames, std::chrono::seconds(10)))
      << "got " << Seqs(c.body()).size() << " of " << kFrames;
  const std::vector<uint64_t> seqs = Seqs(c.body());
  ASSERT_EQ(seqs.size(), static_cast<size_t>(kFrames));
  for (size_t i = 1; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], seqs[i - 1] + 1) << "gap after seq " << seqs[i - 1];
  EXPECT_EQ(broker_->Stats().subscriber_drops, 0u);
}

// A client that never reads: the broker never blocks, the healthy client
// gets every frame, and the stalled one's losses are counted.
TEST_F(HttpTest, StalledClientDoesNotBlockTheBrokerOrOtherClients) {
  ServerOptions o;
  o.write_timeout = std::chrono::seconds(30);
  Launch(o);
  Conn stalled(port_, /*rcvbuf=*/4096);
  OpenStreamChecked(stalled, "/events");
  Conn healthy(port_);
  OpenStreamChecked(healthy, "/events");
  constexpr int kFrames = 4000;
  // ~2.1 kB of SSE per frame, 8.5 MB in all: more than loopback socket
  // buffers absorb, so the stalled client's queue must overflow.
  std::vector<uint8_t> big(1000, 0xab);
  // Rounds of 64 frames (half a subscriber queue): the healthy client reads
  // each round before the next, as a client that keeps up does, so what it
  // must get does not depend on how busy the machine running the test is.
  // The stalled client reads nothing, and every Ingest must still return at
  // once: the broker never waits for a client.
  constexpr int kRound = 64;
  std::chrono::steady_clock::duration slowest_ingest{0};
  for (int i = 0; i < kFrames; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    Ingest(MakeFrame(129029, 1, big));
    slowest_ingest = std::max(slowest_ingest, std::chrono::steady_clock::now() - t0);
    if (i % kRound == kRound - 1 || i == kFrames - 1) {
      ASSERT_TRUE(healthy.ReadBodyUntil("data: ", static_cast<size_t>(i + 1), std::chrono::seconds(20)))
          << "the healthy client stopped receiving after " << Seqs(healthy.body()).size() << " frames";
    }
  }
  EXPECT_LT(slowest_ingest, std::chrono::seconds(1)) << "an Ingest waited for a client";
  EXPECT_EQ(Seqs(healthy.body()).size(), static_cast<size_t>(kFrames));
  EXPECT_GT(broker_->Stats().subscriber_drops, 0u);  // the stalled client's queue overflowed
  auto m = Get("/metrics").body;
  EXPECT_THAT(m, ::testing::Not(HasSubstr("lplex_subscriber_dropped_messages_total 0\n")));
}

TEST_F(HttpTest, StalledClientIsClosedAfterTheWriteTimeoutAndCounted) {
  ServerOptions o;
  o.write_timeout = std::chrono::milliseconds(300);
  Launch(o);
  Conn stalled(port_, /*rcvbuf=*/4096);
  OpenStreamChecked(stalled, "/events");
  std::vector<uint8_t> big(1000, 0xab);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string m;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 50; ++i) Ingest(MakeFrame(129029, 1, big));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    m = Get("/metrics").body;
    if (m.find("lplex_http_stalled_clients_total 1") != std::string::npos) break;
  }
  EXPECT_THAT(m, HasSubstr("lplex_http_stalled_clients_total 1"));
  EXPECT_THAT(m, HasSubstr("lplex_http_streams 0"));
}

TEST_F(HttpTest, ClientThatDisconnectsFromAQuietStreamIsReleased) {
  Launch();
  {
    Conn c(port_);
    OpenStreamChecked(c, "/events?pgn=1");
    EXPECT_EQ(broker_->Stats().active_subscribers, 1u);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (broker_->Stats().active_subscribers != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(broker_->Stats().active_subscribers, 0u);
}

TEST_F(HttpTest, StopEndsOpenStreamsWithTheLastChunk) {
  Launch();
  Conn c(port_);
  OpenStreamChecked(c, "/events");
  Ingest(MakeFrame(129025, 1));
  ASSERT_TRUE(c.ReadBodyUntil("data: "));
  const auto t0 = std::chrono::steady_clock::now();
  server_->Stop(std::chrono::milliseconds(500));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_TRUE(c.saw_last_chunk());
  EXPECT_EQ(broker_->Stats().active_subscribers, 0u);
}

TEST_F(HttpTest, BrokerShutdownEndsStreams) {
  Launch();
  Conn c(port_);
  OpenStreamChecked(c, "/events");
  broker_->Shutdown();
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_TRUE(c.saw_last_chunk());
}

TEST_F(HttpTest, ManyIoThreadsServeManyStreams) {
  ServerOptions o;
  o.io_threads = 4;
  Launch(o);
  std::vector<std::unique_ptr<Conn>> cs;
  for (int i = 0; i < 20; ++i) {
    cs.push_back(std::make_unique<Conn>(port_));
    OpenStreamChecked(*cs.back(), "/events");
  }
  for (int i = 0; i < 100; ++i) Ingest(MakeFrame(129025, 1));
  for (auto& c : cs) {
    ASSERT_TRUE(c->ReadBodyUntil("data: ", 100));
    EXPECT_EQ(Seqs(c->body()).back(), 100u);
  }
}

}  // namespace
}  // namespace lplex::http::testing
