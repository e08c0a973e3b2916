#include "client/lplex_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "client/live_server.h"
#include "support/temp_dir.h"

namespace lplex::client {
namespace {

using lplex::testing::FakeHttpServer;
using lplex::testing::SseResponse;
using std::chrono::milliseconds;
using std::chrono::seconds;

ServerUrl Url(const std::string& text) {
  Result<ServerUrl> u = ParseServerUrl(text);
  EXPECT_TRUE(u.ok()) << u.status().ToString();
  return u.ok() ? *u : ServerUrl{};
}

TEST(ServerUrl, HttpsIsRefusedWithAHint) {
  Result<ServerUrl> u = ParseServerUrl("https://boat.example");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("https is not supported yet (use http://)"), std::string::npos);
}

TEST(ServerUrl, PortOutOfRangeNamesTheValidRange) {
  Result<ServerUrl> u = ParseServerUrl("http://boat:99999");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("\"99999\" (valid: 1..65535)"), std::string::npos) << u.status().message();
}

TEST(ServerUrl, MissingSchemeSaysWhatAUrlLooksLike) {
  Result<ServerUrl> u = ParseServerUrl("inuc1.local:8089");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("http://HOST[:PORT]"), std::string::npos);
}

TEST(ServerUrl, Ipv6PrefixAndTrailingSlash) {
  ServerUrl u = Url("http://[::1]:8089/instances/boat1/");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 8089);
  EXPECT_EQ(u.base_path, "/instances/boat1");
  EXPECT_EQ(u.text, "http://[::1]:8089/instances/boat1");
  EXPECT_EQ(Url("http://boat").port, 80);
}

TEST(Filter, QueryStringPercentEncodesManufacturer) {
  Filter f;
  f.pgn = {129025, 130306};
  f.manufacturer = {"B&G"};
  f.instance = {0};
  EXPECT_EQ(f.QueryString(), "?pgn=129025&pgn=130306&manufacturer=B%26G&instance=0");
  EXPECT_EQ(f.Json(), R"({"instance":[0],"manufacturer":["B&G"],"pgn":[129025,130306]})");
  EXPECT_EQ(Filter{}.QueryString(), "");
}

TEST(SseStream, DeviceEventsFramesAndMalformedLinesAreToldApart) {
  FakeHttpServer fake(SseResponse({"data: {\"type\":\"device\",\"src\":3,\"manufacturer\":\"Garmin\"}\n\n",
                                   ": comment\nevent: x\ndata: not json\n\ndata: [1,2]\n\n",
                                   // one frame split across two chunks
                                   "data: {\"seq\":7,\"ts\":\"2026-01-01T00:00:00Z\",\"prio\":2,",
                                   "\"pgn\":129025,\"src\":3,\"dst\":255,\"data\":\"00\"}\r\n\r\n"},
                                  /*end=*/true));
  HttpClient http(Url(fake.url()));
  Result<std::unique_ptr<EventStream>> s = http.OpenStream("/events");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto e1 = (*s)->Next(seconds(5));
  ASSERT_TRUE(e1.ok() && e1->has_value()) << e1.status().ToString();
  EXPECT_EQ((**e1).kind, StreamEvent::Kind::kDevice);
  auto e2 = (*s)->Next(seconds(5));
  ASSERT_TRUE(e2.ok() && e2->has_value()) << e2.status().ToString();
  EXPECT_EQ((**e2).kind, StreamEvent::Kind::kFrame);
  Result<Frame> f = ParseFrame((**e2).json);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->seq, 7u);
  EXPECT_EQ(f->pgn, 129025u);
  auto e3 = (*s)->Next(seconds(5));
  ASSERT_FALSE(e3.ok());
  EXPECT_EQ(e3.status().message(), "stream closed by server");
}

TEST(SseStream, LineLongerThan64KiBEndsTheStream) {
  const std::string big = "data: {\"x\":\"" + std::string(EventStream::kMaxLineBytes + 10, 'a') + "\"}\n\n";
  FakeHttpServer fake(SseResponse({big}, /*end=*/false), milliseconds(3000));
  HttpClient http(Url(fake.url()));
  Result<std::unique_ptr<EventStream>> s = http.OpenStream("/events");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto e = (*s)->Next(seconds(5));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Status::Code::kCorruption);
  EXPECT_NE(e.status().message().find("65536"), std::string::npos) << e.status().message();
}

TEST(SseStream, StopEndsABlockedNextPromptly) {
  FakeHttpServer fake(SseResponse({}, /*end=*/false), milliseconds(10000));
  HttpClient http(Url(fake.url()));
  Result<std::unique_ptr<EventStream>> s = http.OpenStream("/events");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EventStream* stream = s->get();
  std::thread stopper([stream] {
    std::this_thread::sleep_for(milliseconds(200));
    stream->Stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto e = stream->Next(seconds(10));
  const auto took = std::chrono::steady_clock::now() - t0;
  stopper.join();
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(IsCancelled(e.status())) << e.status().ToString();
  EXPECT_LT(took, milliseconds(1500));
}

TEST(SseStream, CancelFlagEndsABlockedNextPromptly) {
  FakeHttpServer fake(SseResponse({}, /*end=*/false), milliseconds(10000));
  std::atomic<bool> cancel{false};
  ClientOptions opt;
  opt.cancel = &cancel;
  HttpClient http(Url(fake.url()), opt);
  Result<std::unique_ptr<EventStream>> s = http.OpenStream("/events");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::thread setter([&cancel] {
    std::this_thread::sleep_for(milliseconds(200));
    cancel = true;
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto e = (*s)->Next(seconds(10));
  setter.join();
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(IsCancelled(e.status()));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(1500));
}

TEST(SseStream, QuietStreamReturnsNothingWhenTheWaitPasses) {
  FakeHttpServer fake(SseResponse({}, /*end=*/false), milliseconds(5000));
  HttpClient http(Url(fake.url()));
  Result<std::unique_ptr<EventStream>> s = http.OpenStream("/events");
  ASSERT_TRUE(s.ok());
  auto e = (*s)->Next(milliseconds(150));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_FALSE(e->has_value());
}

TEST(HttpClient, UnreachableServerIsAnErrorNamingTheRequest) {
  const int port = lplex::testing::FreePort();
  HttpClient http(Url("http://127.0.0.1:" + std::to_string(port)));
  Result<Response> r = http.Get("/devices");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("GET http://127.0.0.1:" + std::to_string(port) + "/devices"), std::string::npos)
      << r.status().message();
}

TEST(HttpClient, ServerThatNeverAnswersTimesOut) {
  FakeHttpServer fake("", milliseconds(5000));  // reads the request, says nothing
  ClientOptions opt;
  opt.request_timeout = milliseconds(300);
  HttpClient http(Url(fake.url()), opt);
  const auto t0 = std::chrono::steady_clock::now();
  Result<Response> r = http.Get("/devices");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no complete answer within 300 ms"), std::string::npos) << r.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(2000));
}

// Against the real lplex-server.
class LiveClient : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<lplex::testing::LiveServer>(dir_.path(), lplex::testing::FreePort());
    ASSERT_TRUE(server_->Start()) << server_->Log();
    client_ = std::make_unique<LplexClient>(Url(server_->url()));
  }
  lplex::testing::TempDir dir_;
  std::unique_ptr<lplex::testing::LiveServer> server_;
  std::unique_ptr<LplexClient> client_;
};

TEST_F(LiveClient, UnknownSessionStreamIsNotFoundWithTheServersMessage) {
  Result<std::unique_ptr<EventStream>> s = client_->SessionEvents("nobody");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kNotFound);
  EXPECT_NE(s.status().message().find("HTTP 404: session not found"), std::string::npos) << s.status().message();
}

TEST_F(LiveClient, AckMovesTheSessionCursor) {
  Result<SessionInfo> a = client_->CreateSession("t1", "PT1M", Filter{});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->cursor, 0u);
  // Wait for a frame so there is a seq to ack.
  uint64_t head = a->seq;
  for (int i = 0; i < 100 && head == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(20));
    Result<SessionInfo> again = client_->CreateSession("t1", "PT1M", Filter{});
    ASSERT_TRUE(again.ok());
    head = again->seq;
  }
  ASSERT_GT(head, 0u);
  ASSERT_TRUE(client_->Ack("t1", head).ok());
  Result<SessionInfo> b = client_->CreateSession("t1", "PT1M", Filter{});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->cursor, head);
  // And the session stream starts right after it.
  Result<std::unique_ptr<EventStream>> s = client_->SessionEvents("t1");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto e = (*s)->Next(seconds(5));
  ASSERT_TRUE(e.ok() && e->has_value()) << e.status().ToString();
  Result<Frame> f = ParseFrame((**e).json);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->seq, head + 1);
}

TEST_F(LiveClient, AckOfAGoneSessionIsNotFound) {
  Status s = client_->Ack("never-made", 1);
  EXPECT_EQ(s.code(), Status::Code::kNotFound) << s.ToString();
}

TEST_F(LiveClient, EphemeralSubscribeWithPgnFilterGetsOnlyThatPgn) {
  Filter f;
  f.pgn = {129025};
  Result<std::unique_ptr<EventStream>> s = client_->Subscribe(f);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  int frames = 0;
  const auto end = std::chrono::steady_clock::now() + seconds(5);
  while (frames < 3 && std::chrono::steady_clock::now() < end) {
    auto e = (*s)->Next(milliseconds(200));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    if (!e->has_value() || (**e).kind != StreamEvent::Kind::kFrame) continue;
    Result<Frame> fr = ParseFrame((**e).json);
    ASSERT_TRUE(fr.ok());
    EXPECT_EQ(fr->pgn, 129025u);
    ++frames;
  }
  EXPECT_EQ(frames, 3);
}

TEST_F(LiveClient, DevicesParse) {
  std::this_thread::sleep_for(milliseconds(300));
  Result<std::string> body = client_->DevicesJson();
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  Result<std::vector<Device>> list = ParseDevices(*body);
  ASSERT_TRUE(list.ok()) << list.status().ToString() << " " << *body;
  EXPECT_FALSE(list->empty());
}

}  // namespace
}  // namespace lplex::client
